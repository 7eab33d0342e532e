"""Access is decided again for connections already joined (issue 9, item 5).

Archiving a section, closing the plan, removing a participant and approving or
finalising a meeting reach every open document before the HTTP answer: a write sent
after the answer is refused, and the connection is told (``doc:access`` read-only, or
``doc:revoked``). Servers here poll for access changes only once an hour, so what the
tests see comes from the route itself, not from the poll; the last test covers the poll
(a change made by another process).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text
from sqlalchemy import update

from collab.yproto import SyncStep, encode_sync
from server.db.models import SectionRow
from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings
from tests.integration.test_meetings import Person, notes_edit, schedule
from tests.yclient import YClient


@pytest.fixture
async def quiet(db_url: str) -> AsyncIterator[LiveServer]:
    """A server whose access poll practically never runs."""
    server = await start_server(test_settings(db_url, consent_poll_seconds=3600.0))
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def quiet_demo(quiet: LiveServer) -> Demo:
    return await load_demo_into(quiet)


async def connected(live: LiveServer, token: str) -> YClient:
    client = YClient(live.url, token)
    await client.connect()
    return client


async def joined(client: YClient, doc: str, access: str) -> None:
    ack = await client.join(doc)
    assert ack == {"ok": True, "access": access}, ack
    await client.wait_synced(doc)


async def still_reads(client: YClient, doc: str) -> None:
    """The connection is still joined: a sync step 1 is answered with the document."""
    client.synced[doc] = asyncio.Event()
    ack = await client.send(doc, encode_sync(SyncStep.STEP1, client.doc(doc).get_state()))
    assert ack["ok"], ack
    await client.wait_synced(doc)


async def attempt(client: YClient, name: str, text: str, field: str = "situation") -> Any:
    """A write built on a copy of the local document, so that a refused one does not
    stay in the client's own copy (later writes would depend on it)."""
    local = client.docs.get(name) or Doc(client_id=client.client_id)  # revoked: dropped
    copy = Doc(client_id=local.client_id)
    copy.apply_update(local.get_update())
    before = copy.get_state()
    copy.get(field, type=Text).insert(0, text)
    return await client.send(name, encode_sync(SyncStep.UPDATE, copy.get_update(before)))


def refused(ack: dict[str, Any], code: str) -> None:
    assert ack["ok"] is False and ack["error"]["code"] == code, ack


async def test_archiving_a_section_makes_open_sessions_read_only_before_the_answer(
    quiet: LiveServer, quiet_demo: Demo
) -> None:
    demo, plan = quiet_demo, quiet_demo.per
    section = demo.section(plan, "okonomi")
    doc = section["doc"]
    siw = await connected(quiet, demo.token(plan, "siw"))
    maria = await connected(quiet, demo.token(plan, "maria"))
    try:
        await joined(siw, doc, "write")
        await joined(maria, doc, "write")
        assert (await siw.insert(doc, 0, "Før arkivering. "))["ok"]
        async with quiet.http(demo.token(plan, "per")) as per:
            url = f"/api/plans/{plan['id']}/sections/{section['id']}"
            assert (await per.patch(url, json={"archived": True})).status_code == 200
            # Sent after the answer: refused, whatever the poll does.
            refused(await attempt(siw, doc, "ETTER-ARKIVERING "), "forbidden")
            refused(await attempt(maria, doc, "OGSÅ-ETTER "), "forbidden")
            await siw.wait_for(lambda: siw.access_changes.get(doc) == ["read"])
            await maria.wait_for(lambda: maria.access_changes.get(doc) == ["read"])
            # Still joined and still reading.
            await still_reads(siw, doc)
            assert "Før arkivering." in siw.text(doc)
            assert doc not in siw.revoked
            # Back in use: writable again, told so, and the next write arrives. It is also
            # the barrier: the refused writes would have reached Maria before it.
            assert (await per.patch(url, json={"archived": False})).status_code == 200
            await siw.wait_for(lambda: siw.access_changes.get(doc) == ["read", "write"])
            assert (await siw.insert(doc, 0, "Tilbake. "))["ok"]
            await maria.wait_for(lambda: "Tilbake." in maria.text(doc))
            assert "ETTER" not in maria.text(doc) and "ETTER" not in siw.text(doc)
            log = (await per.get(f"/api/plans/{plan['id']}/access-log")).json()["entries"]
            downgrades = {
                e["person"]
                for e in log
                if e["action"] == "read-only" and e["target"] == f"doc:{doc}"
            }
            assert downgrades == {
                demo.person(plan, "siw")["person"],
                demo.person(plan, "maria")["person"],
            }
    finally:
        await siw.close()
        await maria.close()


async def test_closing_the_plan_makes_open_sessions_read_only_before_the_answer(
    quiet: LiveServer, quiet_demo: Demo
) -> None:
    demo, plan = quiet_demo, quiet_demo.per
    doc = demo.section(plan, "okonomi")["doc"]
    measure = next(
        m for m in plan["measures"] if m["section"] == demo.section(plan, "okonomi")["id"]
    )
    siw = await connected(quiet, demo.token(plan, "siw"))
    per = await connected(quiet, demo.token(plan, "per"))
    try:
        await joined(siw, doc, "write")
        await joined(per, doc, "write")
        await joined(per, measure["doc"], "write")
        async with quiet.http(demo.token(plan, "maria")) as maria:
            url = f"/api/plans/{plan['id']}"
            assert (await maria.patch(url, json={"status": "closed"})).status_code == 200
            refused(await attempt(siw, doc, "STENGT "), "forbidden")
            refused(await attempt(per, doc, "EIEREN-OGSÅ "), "forbidden")
            refused(
                await attempt(per, measure["doc"], "STENGT-TILTAK ", "description"), "forbidden"
            )
            await siw.wait_for(lambda: siw.access_changes.get(doc) == ["read"])
            await per.wait_for(lambda: per.access_changes.get(measure["doc"]) == ["read"])
            await still_reads(siw, doc)
            # A new join agrees: read-only, not hidden.
            again = await connected(quiet, demo.token(plan, "siw"))
            try:
                assert (await again.join(doc))["access"] == "read"
            finally:
                await again.close()
            assert (await maria.patch(url, json={"status": "active"})).status_code == 200
            await siw.wait_for(lambda: siw.access_changes.get(doc) == ["read", "write"])
            assert (await siw.insert(doc, 0, "Åpen igjen. "))["ok"]
            await per.wait_for(lambda: "Åpen igjen." in per.text(doc))
            assert "STENGT" not in per.text(doc)
    finally:
        await siw.close()
        await per.close()


async def test_removing_a_participant_revokes_their_open_documents_before_the_answer(
    quiet: LiveServer, quiet_demo: Demo
) -> None:
    demo, plan = quiet_demo, quiet_demo.per
    doc = demo.section(plan, "okonomi")["doc"]
    siw = await connected(quiet, demo.token(plan, "siw"))
    per = await connected(quiet, demo.token(plan, "per"))
    try:
        await joined(siw, doc, "write")
        await joined(per, doc, "write")
        async with quiet.http(demo.token(plan, "maria")) as maria:
            url = f"/api/plans/{plan['id']}/participants/{demo.person(plan, 'siw')['id']}"
            assert (await maria.patch(url, json={"active": False})).status_code == 200
            refused(await attempt(siw, doc, "FJERNET "), "not-joined")
            await siw.wait_for(lambda: doc in siw.revoked)
            assert doc not in siw.docs  # the client dropped its copy
            heard = len([m for m in siw.received if m[0] == doc])
            refused(await siw.join(doc), "not-found")
            # Barrier: Per's later write reaches Per's peers, never Siw.
            maria_y = await connected(quiet, demo.token(plan, "maria"))
            try:
                await joined(maria_y, doc, "write")
                assert (await per.insert(doc, 0, "Etter fjerning. "))["ok"]
                await maria_y.wait_for(lambda: "Etter fjerning." in maria_y.text(doc))
            finally:
                await maria_y.close()
            assert len([m for m in siw.received if m[0] == doc]) == heard
            assert "FJERNET" not in per.text(doc)
    finally:
        await siw.close()
        await per.close()


async def test_approving_and_finalising_a_meeting_reach_open_item_documents(
    quiet: LiveServer, quiet_demo: Demo
) -> None:
    live, demo, plan = quiet, quiet_demo, quiet_demo.per
    saving = next(m for m in plan["measures"] if m["title"].startswith("Automatisk sparing"))
    per, maria, siw = [await Person(live, demo, plan, k).start() for k in ("per", "maria", "siw")]
    try:
        meeting = await schedule(
            maria,
            plan,
            live,
            [maria.id, siw.id],
            [{"title": "Sparing", "section": saving["section"], "measure": saving["id"]}],
        )
        mid = meeting["id"]
        for person in (per, maria, siw):
            assert (await person.call("meeting:join", {"meeting": mid}))["ok"]
        state = (await per.call("meeting:start", {"meeting": mid}))["state"]
        item = state["agenda"][0]
        pen = await per.call(
            "meeting:pen", {"meeting": mid, "item": item["id"], "participant": siw.id}
        )
        assert pen["ok"], pen
        await joined(siw.y, item["doc"], "write")
        await joined(per.y, item["doc"], "write")
        await joined(siw.y, saving["doc"], "write")
        await joined(per.y, saving["doc"], "write")
        assert (await siw.y.edit(item["doc"], notes_edit("Under møtet. ")))["ok"]
        # Ending the meeting takes the pen back: Siw reads on, the chair still writes.
        assert (await per.call("meeting:end", {"meeting": mid}))["ok"]
        refused(await attempt(siw.y, item["doc"], "PENNEN-BORTE ", "notes"), "forbidden")
        await siw.y.wait_for(lambda: siw.y.access_changes.get(item["doc"]) == ["read"])
        assert (await per.y.edit(item["doc"], notes_edit("Etter slutt. ")))["ok"]

        assert (await per.http.post(f"/api/meetings/{mid}/approve", json={})).status_code == 200
        refused(await attempt(siw.y, item["doc"], "GODKJENT ", "notes"), "forbidden")
        refused(await attempt(per.y, item["doc"], "EIER ", "notes"), "forbidden")
        await per.y.wait_for(lambda: per.y.access_changes.get(item["doc"]) == ["read"])
        assert siw.y.access_changes[item["doc"]] == ["read"]
        await still_reads(per.y, item["doc"])

        # Barrier: a later write on another document reaches Per; the refused notes did not.
        def progress(d: Doc) -> None:
            d.get("progress", type=Array).append(Map({"at": "2026-12-01", "text": Text("Ok.")}))

        assert (await siw.y.edit(saving["doc"], progress))["ok"]
        await per.y.wait_for(
            lambda: "Ok." in str(per.y.doc(saving["doc"]).get("progress", type=Array).to_py())
        )
        notes = per.y.text(item["doc"], "notes")
        assert "Under møtet." in notes and "Etter slutt." in notes
        assert not [word for word in ("PENNEN", "GODKJENT", "EIER") if word in notes]

        final = await maria.http.post(f"/api/meetings/{mid}/finalize", json={})
        assert final.status_code == 200, final.text
        refused(await attempt(siw.y, item["doc"], "FERDIG ", "notes"), "not-joined")
        await siw.y.wait_for(lambda: item["doc"] in siw.y.revoked)
        await per.y.wait_for(lambda: item["doc"] in per.y.revoked)
    finally:
        for person in (per, maria, siw):
            await person.close()


async def test_a_section_archived_by_another_process_reaches_open_sessions_by_the_poll(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    section = demo.section(plan, "okonomi")
    doc = section["doc"]
    siw = await connected(live, demo.token(plan, "siw"))
    try:
        await joined(siw, doc, "write")
        # Barrier: the poll has seen the plan as it is (so only a change makes it act).
        hub = live.app.state.hub
        for _ in range(500):
            if plan["id"] in hub.revocation._fingerprints:
                break
            await asyncio.sleep(0.02)
        assert plan["id"] in hub.revocation._fingerprints
        async with live.services.sessionmaker() as session, session.begin():
            await session.execute(
                update(SectionRow)
                .where(SectionRow.id == section["id"])
                .values(archived=True, version=SectionRow.version + 1)
            )
        await siw.wait_for(lambda: siw.access_changes.get(doc) == ["read"], timeout=5)
        refused(await attempt(siw, doc, "ANNEN PROSESS "), "forbidden")
        await still_reads(siw, doc)
    finally:
        await siw.close()


async def test_a_write_already_past_the_join_check_when_access_ends_is_refused(
    live: LiveServer, demo: Demo
) -> None:
    """A change that was read before its document was revoked (the handler was waiting
    for the room) is judged by the connection's access now, not by what it held."""
    plan = demo.per
    doc = demo.section(plan, "okonomi")["doc"]
    siw = await connected(live, demo.token(plan, "siw"))
    try:
        await joined(siw, doc, "write")
        hub = live.app.state.hub
        conn = hub.connections.conns[siw.sio.get_sid()]
        held = conn.docs[doc]
        room = await hub.docs.rooms.get(doc)
        local = siw.doc(doc)
        before = local.get_state()
        local.get("situation", type=Text).insert(0, "I FLUKT ")
        update = local.get_update(before)
        await hub.docs.revoke(conn, doc, "access ended while a change was on its way")
        ack = await hub.docs._update(conn, held, room, update)
        refused(ack, "forbidden")
        assert "I FLUKT" not in str(room.doc.get("situation", type=Text))
    finally:
        await siw.close()
