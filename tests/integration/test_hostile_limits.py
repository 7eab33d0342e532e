"""What a hostile participant found (hardening2): a full document cannot leave a finalised
meeting half-applied; measures, joined documents and connections are capped; join/leave
loops do not flood the owner's access log; one reader cannot take every awareness slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pycrdt import Array, Doc, Text
from sqlalchemy import func, select

from collab.yproto import AwarenessState, encode_awareness
from server.db.models import AccessLogRow
from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings
from tests.integration.test_meetings import Person, schedule
from tests.integration.test_socket_bounds import assert_refused, attempt
from tests.yclient import YClient

SMALL_DOC = 120_000  # bytes a document may hold in these tests
PIECE = 50_000  # characters per server-side edit (well below one update's limit)


@pytest.fixture
async def small_docs(db_url: str) -> AsyncIterator[LiveServer]:
    server = await start_server(test_settings(db_url, max_doc_bytes=SMALL_DOC))
    try:
        yield server
    finally:
        await server.stop()


async def fill(live: LiveServer, person: str, name: str, root: str, size: int) -> None:
    """Fill ``root`` of document ``name`` to within 200 bytes of ``size``."""
    hub = live.app.state.hub
    room = await hub.docs.rooms.get(name)
    while room.size + 200 < size:
        piece = min(PIECE, size - room.size - 100)

        def edit(d: Doc, piece: int = piece) -> None:
            d.get(root, type=Text).insert(0, "x" * piece)

        await hub.edit_as(person, name, edit)
        room = await hub.docs.rooms.get(name)


async def state_of(live: LiveServer, name: str) -> Doc:
    doc: Doc = Doc()
    doc.apply_update(await live.app.state.hub.document_state(name))
    return doc


async def finalise_continue_and_new_measure(
    live: LiveServer, measure_bytes: int, section_bytes: int
) -> tuple[int, int, list[object], str]:
    """Fill a measure's document and its section's, then finalise a meeting that keeps
    the measure and adds a new one to the section: (status, measure progress, section
    measures, new measure id), the progress as the number of notes added."""
    demo = await load_demo_into(live)
    plan = demo.per
    measure = plan["measures"][0]
    section_doc = next(s["doc"] for s in plan["sections"] if s["id"] == measure["section"])
    per_id = demo.person(plan, "per")["person"]
    await fill(live, per_id, measure["doc"], "description", measure_bytes)
    await fill(live, per_id, section_doc, "situation", section_bytes)
    before = len((await state_of(live, measure["doc"])).get("progress", type=Array))
    per = await Person(live, demo, plan, "per").start()
    maria = Person(live, demo, plan, "maria")
    try:
        meeting = await schedule(
            maria, plan, live, [maria.id], [{"title": "Tiltak", "section": measure["section"]}]
        )
        mid = meeting["id"]
        await per.call("meeting:join", {"meeting": mid})
        item = (await per.call("meeting:start", {"meeting": mid}))["state"]["agenda"][0]["id"]
        base = f"/api/meetings/{mid}/decisions"
        kept = await maria.http.post(
            base, json={"item": item, "kind": "continue", "measure": measure["id"]}
        )
        assert kept.status_code == 201, kept.text
        added = await maria.http.post(
            base,
            json={
                "item": item,
                "kind": "new_measure",
                "section": measure["section"],
                "title": "Nytt tiltak",
                "responsible": maria.id,
            },
        )
        assert added.status_code == 201, added.text
        await per.call("meeting:end", {"meeting": mid})
        assert (await per.http.post(f"/api/meetings/{mid}/approve", json={})).status_code == 200
        final = await maria.http.post(f"/api/meetings/{mid}/finalize", json={})
        measures = (await per.http.get(f"/api/plans/{plan['id']}/measures")).json()["measures"]
        new = next(m["id"] for m in measures if m["title"] == "Nytt tiltak")
    finally:
        await per.close()
        await maria.close()
    after = len((await state_of(live, measure["doc"])).get("progress", type=Array))
    in_section = (await state_of(live, section_doc)).get("measures", type=Array).to_py()
    return final.status_code, after - before, list(in_section or []), new


async def test_finalise_lands_every_decision_in_documents_at_their_limit(
    small_docs: LiveServer,
) -> None:
    status, progress, in_section, new = await finalise_continue_and_new_measure(
        small_docs, SMALL_DOC, SMALL_DOC
    )
    assert status == 200
    assert progress == 1
    assert new in in_section, in_section


async def test_one_failing_after_commit_step_answers_the_committed_result_and_runs_the_rest(
    small_docs: LiveServer,
) -> None:
    # Past even the server's headroom: the progress note cannot land (logged), but the
    # finalisation is committed, answered 200, and the new measure still reaches its section.
    status, progress, in_section, new = await finalise_continue_and_new_measure(
        small_docs, 2 * SMALL_DOC, SMALL_DOC
    )
    assert status == 200
    assert progress == 0
    assert new in in_section, in_section


@pytest.fixture
async def capped(db_url: str) -> AsyncIterator[LiveServer]:
    server = await start_server(
        test_settings(
            db_url, max_measures_per_plan=5, max_docs_per_connection=3, max_connections_per_person=3
        )
    )
    try:
        yield server
    finally:
        await server.stop()


async def test_measures_per_plan_are_capped(capped: LiveServer) -> None:
    demo = await load_demo_into(capped)
    plan = demo.charlotte
    section = demo.section(plan, "skolen")["id"]
    async with capped.http(demo.token(plan, "skole")) as school:
        outcomes = []
        for i in range(5 - len(plan["measures"]) + 2):
            made = await school.post(
                f"/api/plans/{plan['id']}/measures", json={"section": section, "title": f"m{i}"}
            )
            outcomes.append(made.status_code)
        allowed = 5 - len(plan["measures"])
        assert outcomes == [201] * allowed + [409, 409], outcomes
        assert "tiltak" in made.json()["error"]["message"]
        measures = (await school.get(f"/api/plans/{plan['id']}/measures")).json()["measures"]
    assert len(measures) <= 5


async def test_a_meeting_cannot_add_measures_past_the_cap(db_url: str) -> None:
    live = await start_server(test_settings(db_url, max_measures_per_plan=1))
    try:
        demo = await load_demo_into(live)
        plan = demo.per
        measure = plan["measures"][0]
        per = await Person(live, demo, plan, "per").start()
        maria = Person(live, demo, plan, "maria")
        try:
            meeting = await schedule(
                maria, plan, live, [maria.id], [{"title": "Tiltak", "section": measure["section"]}]
            )
            mid = meeting["id"]
            await per.call("meeting:join", {"meeting": mid})
            state = (await per.call("meeting:start", {"meeting": mid}))["state"]
            added = await maria.http.post(
                f"/api/meetings/{mid}/decisions",
                json={
                    "item": state["agenda"][0]["id"],
                    "kind": "new_measure",
                    "section": measure["section"],
                    "title": "Nytt tiltak",
                    "responsible": maria.id,
                },
            )
            assert added.status_code == 409, added.text
            assert "tiltak" in added.json()["error"]["message"]
        finally:
            await per.close()
            await maria.close()
    finally:
        await live.stop()


async def test_documents_per_connection_are_capped(capped: LiveServer) -> None:
    demo = await load_demo_into(capped)
    plan = demo.charlotte
    keys = ["om-meg", "mal", "bolig", "arbeid"]
    docs = [demo.section(plan, k)["doc"] for k in keys]
    owner = YClient(capped.url, demo.token(plan, "charlotte"))
    await owner.connect()
    try:
        acks = await asyncio.gather(*(owner.join(d, sync=False) for d in docs))
        codes = sorted("ok" if a.get("ok") else a["error"]["code"] for a in acks)
        assert codes == ["ok", "ok", "ok", "rate-limited"], acks
        # Joining a document already joined is fine; leaving one makes room for another.
        joined = [d for d, a in zip(docs, acks, strict=True) if a.get("ok")]
        left = next(d for d in docs if d not in joined)
        assert (await owner.sio.call("doc:leave", {"doc": joined[0]}, timeout=10))["ok"]
        assert (await owner.join(left, sync=False))["ok"]
    finally:
        await owner.close()


async def test_connections_per_person_are_capped(capped: LiveServer) -> None:
    demo = await load_demo_into(capped)
    plan = demo.charlotte
    token = demo.token(plan, "team")
    clients = []
    try:
        for _ in range(3):
            client, error = await attempt(capped.url, token=token)
            assert client is not None, error
            clients.append(client)
        assert_refused(await attempt(capped.url, token=token), "rate-limited")
        # Someone else still connects; closing one connection makes room again.
        other, error = await attempt(capped.url, token=demo.token(plan, "charlotte"))
        assert other is not None, error
        clients.append(other)
        await clients.pop(0).disconnect()
        again: tuple[Any, Any] = (None, None)
        for _ in range(50):  # the server notices the disconnect shortly
            again = await attempt(capped.url, token=token)
            if again[0] is not None:
                break
            await asyncio.sleep(0.1)
        assert again[0] is not None, again[1]
        clients.append(again[0])
    finally:
        for client in clients:
            await client.disconnect()


async def open_rows(live: LiveServer, plan: str, target: str) -> int:
    async with live.services.sessionmaker() as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(AccessLogRow)
                .where(
                    AccessLogRow.plan_id == plan,
                    AccessLogRow.action == "open",
                    AccessLogRow.target == target,
                )
            )
            or 0
        )


async def test_join_leave_loops_log_one_open_per_window(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    doc = demo.section(plan, "mal")["doc"]
    reader = YClient(live.url, demo.token(plan, "team"), client_id=424242)
    await reader.connect()
    try:
        for _ in range(50):
            assert (await reader.join(doc, sync=False))["access"] == "read"
            assert (await reader.sio.call("doc:leave", {"doc": doc}, timeout=10))["ok"]
    finally:
        await reader.close()
    assert await open_rows(live, plan["id"], f"doc:{doc}") == 1


async def test_one_reader_cannot_take_every_awareness_slot(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    doc = demo.section(plan, "mal")["doc"]
    per_person = live.services.settings.max_awareness_states_per_person_doc
    squatters: list[YClient] = []
    acks = []
    try:
        for i in range(16):
            c = YClient(live.url, demo.token(plan, "team"))
            await c.connect()
            squatters.append(c)
            states = []
            for k in range(4):
                cid = 10_000 + 4 * i + k
                assert (await c.join(doc, client_id=cid, sync=False))["ok"]
                states.append(AwarenessState(cid, 1, {"cursor": None}))
            acks.append(await c.send(doc, encode_awareness(tuple(states))))
        codes = ["ok" if a.get("ok") else a["error"]["code"] for a in acks]
        assert codes == ["ok"] * (per_person // 4) + ["rate-limited"] * (16 - per_person // 4)
        held = live.app.state.hub.docs.awareness[doc]
        assert len(held) == per_person
        owner = YClient(live.url, demo.token(plan, "charlotte"), client_id=777_777)
        await owner.connect()
        squatters.append(owner)
        assert (await owner.join(doc))["ok"]
        assert (await owner.set_awareness(doc, {"cursor": None}))["ok"]
        assert 777_777 in held
    finally:
        for c in squatters:
            await c.close()
