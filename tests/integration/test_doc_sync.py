"""Consent-scoped live co-editing over Socket.IO (PROTOCOL.md "Documents")."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import socketio
from pycrdt import Doc, Text
from sqlalchemy import func, select

from collab.yproto import SyncStep, encode_sync
from server.db.models import AccessLogRow, DocUpdate
from tests.conftest import Demo, LiveServer
from tests.yclient import YClient


async def connected(live: LiveServer, token: str, **kwargs: object) -> YClient:
    client = YClient(live.url, token, **kwargs)  # type: ignore[arg-type]
    await client.connect()
    return client


async def test_an_unauthenticated_connection_is_refused_with_the_contract_code(
    live: LiveServer,
) -> None:
    client = socketio.AsyncClient(reconnection=False)
    refused: list[object] = []
    client.on("connect_error", lambda data: refused.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(live.url, auth={"token": "prt_nonsense"}, transports=["websocket"])
    assert refused, "no connect_error"
    error = refused[0]
    assert isinstance(error, dict)
    assert error["code"] == "unauthenticated" and error["data"]["code"] == "unauthenticated"


async def test_two_participants_edit_one_section_and_converge(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    maria = await connected(live, demo.token(plan, "maria"))
    try:
        assert (await per.join(doc)) == {"ok": True, "access": "write"}
        assert (await maria.join(doc)) == {"ok": True, "access": "write"}
        await per.wait_synced(doc)
        await maria.wait_synced(doc)
        seeded = per.text(doc)
        assert seeded.startswith("Jeg er 47 år")
        ack = await per.insert(doc, 0, "Per skriver. ")
        assert ack["ok"] is True and isinstance(ack["seq"], int)
        ack2 = await maria.insert(doc, len(maria.text(doc)), " Maria la til.")
        assert ack2["ok"] is True and ack2["seq"] > ack["seq"]
        await per.wait_for(lambda: per.text(doc) == maria.text(doc) and "Maria" in per.text(doc))
        assert per.text(doc) == maria.text(doc)
        assert per.text(doc).startswith("Per skriver. Jeg er 47 år")
    finally:
        await per.close()
        await maria.close()


async def test_an_acknowledged_change_is_already_in_the_database(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    try:
        await per.join(doc)
        await per.wait_synced(doc)
        ack = await per.insert(doc, 0, "Lagret før kvittering. ")
        async with live.services.sessionmaker() as session:
            row = await session.get(DocUpdate, ack["seq"])
        assert (
            row is not None
            and row.doc == doc
            and row.person_id == demo.person(plan, "per")["person"]
        )
    finally:
        await per.close()


async def test_the_school_cannot_join_or_read_charlottes_therapy_section(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")["doc"]
    school = await connected(live, demo.token(plan, "skole"))
    try:
        ack = await school.join(therapy)
        assert ack["ok"] is False and ack["error"]["code"] == "not-found"
        # Without a join, messages for the document are refused and nothing is sent back.
        refused = await school.send(therapy, encode_sync(SyncStep.STEP1, b"\x00"))
        assert refused["error"]["code"] == "not-joined"
        # A barrier: the school's own section syncs after the refusal; anything sent for
        # the therapy section would have reached this connection before it.
        own = demo.section(plan, "skolen")["doc"]
        assert (await school.join(own))["ok"]
        await school.wait_synced(own)
        assert any(name == own for name, _ in school.received)
        assert all(name != therapy for name, _ in school.received)
    finally:
        await school.close()
    async with live.services.sessionmaker() as session:
        denied = await session.scalar(
            select(func.count())
            .select_from(AccessLogRow)
            .where(
                AccessLogRow.plan_id == plan["id"],
                AccessLogRow.action == "denied",
                AccessLogRow.target == f"doc:{therapy}",
            )
        )
    assert denied == 1


async def test_berit_cannot_join_the_school_section(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    berit = await connected(live, demo.token(plan, "berit"))
    try:
        ack = await berit.join(demo.section(plan, "skolen")["doc"])
        assert ack["error"]["code"] == "not-found"
    finally:
        await berit.close()


async def test_a_read_only_participants_update_is_refused_and_never_seen(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    goals = demo.section(plan, "mal")["doc"]
    siw = await connected(live, demo.token(plan, "siw"))  # NAV: may read Mål
    per = await connected(live, demo.token(plan, "per"))
    maria = await connected(live, demo.token(plan, "maria"))
    try:
        assert (await siw.join(goals))["access"] == "read"
        await per.join(goals)
        assert (await maria.join(goals))["access"] == "write"
        await siw.wait_synced(goals)
        await per.wait_synced(goals)
        await maria.wait_synced(goals)
        per_before = len(per.received)
        ack = await siw.insert(goals, 0, "NAV skriver i målene", field="situation")
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
        # A barrier: a later edit by someone who may write must reach Per; the refused
        # one would have reached him first.
        assert (await maria.insert(goals, 0, "Maria skriver. ", field="situation"))["ok"]
        await per.wait_for(lambda: "Maria skriver. " in per.text(goals))
        assert "NAV skriver" not in per.text(goals)
        assert len(per.received) == per_before + 1
        async with live.services.sessionmaker() as session:
            stored = (
                (await session.execute(select(DocUpdate.data).where(DocUpdate.doc == goals)))
                .scalars()
                .all()
            )
        check = Doc()
        for data in stored:
            check.apply_update(data)
        assert "NAV skriver" not in str(check.get("situation", type=Text))
    finally:
        await siw.close()
        await per.close()
        await maria.close()


async def test_a_client_id_bound_to_someone_else_is_refused(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    maria = await connected(live, demo.token(plan, "maria"))
    try:
        await per.join(doc)
        pers_id = per.doc(doc).client_id
        ack = await maria.join(doc, client_id=pers_id)
        assert ack["ok"] is False and ack["error"]["code"] == "foreign-client"
    finally:
        await per.close()
        await maria.close()


async def test_an_update_carrying_another_clients_items_is_refused(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    maria = await connected(live, demo.token(plan, "maria"))
    per = await connected(live, demo.token(plan, "per"))
    try:
        await maria.join(doc)
        await maria.wait_synced(doc)
        await per.join(doc)
        await per.wait_synced(doc)
        # Maria crafts text with an unbound clientID and with Per's clientID.
        for forged_id in (123456789, per.doc(doc).client_id):
            forged = Doc(client_id=forged_id)
            forged.apply_update(maria.doc(doc).get_update())
            before = forged.get_state()
            forged.get("situation", type=Text).insert(0, "Forfalsket ")
            ack = await maria.send(doc, encode_sync(SyncStep.UPDATE, forged.get_update(before)))
            assert ack["ok"] is False and ack["error"]["code"] == "foreign-client"
        # A barrier: Maria's own later edit reaches Per; a forged one would have come first.
        assert (await maria.insert(doc, 0, "Ekte. "))["ok"]
        await per.wait_for(lambda: per.text(doc).startswith("Ekte. "))
        assert "Forfalsket" not in per.text(doc)
    finally:
        await maria.close()
        await per.close()


async def test_undecodable_bytes_are_refused_as_malformed(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    try:
        await per.join(doc)
        for junk in (b"", b"\x07", b"\x00\x02\xff\xff\xff", b"\x00\x02\x05\x01\x02\x03\x04\x05"):
            ack = await per.send(doc, junk)
            assert ack["ok"] is False and ack["error"]["code"] == "malformed", junk
        ack = await per.send(doc, "not bytes")  # type: ignore[arg-type]
        assert ack["error"]["code"] == "malformed"
    finally:
        await per.close()


async def test_awareness_carries_the_verified_identity(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    maria = await connected(live, demo.token(plan, "maria"))
    try:
        await per.join(doc)
        await maria.join(doc)
        await maria.wait_synced(doc)
        ack = await per.set_awareness(doc, {"user": {"name": "Kongen"}, "cursor": 3})
        assert ack["ok"] is True
        client = per.doc(doc).client_id
        await maria.wait_for(lambda: client in maria.awareness.get(doc, {}))
        state = maria.awareness[doc][client]
        assert state["user"]["name"] == "Per Hansen" and state["cursor"] == 3
        assert state["user"]["id"] == demo.person(plan, "per")["person"]
    finally:
        await per.close()
        await maria.close()


async def test_withdrawing_berits_consent_revokes_her_live_session_within_a_second(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")["doc"]
    berit = await connected(live, demo.token(plan, "berit"))
    try:
        assert (await berit.join(therapy))["access"] == "write"
        await berit.wait_synced(therapy)
        berit_id = demo.person(plan, "berit")["id"]
        started = time.monotonic()
        async with live.http(demo.token(plan, "charlotte")) as http:
            response = await http.post(
                f"/api/plans/{plan['id']}/consent/withdraw", json={"participant": berit_id}
            )
            assert response.status_code == 200
        await berit.wait_for(lambda: therapy in berit.revoked, timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert therapy not in berit.docs
        ack = await berit.insert(therapy, 0, "etter tilbaketrekking")
        assert ack["error"]["code"] == "not-joined"
        assert (await berit.join(therapy))["error"]["code"] == "not-found"
    finally:
        await berit.close()


async def test_consent_expiry_revokes_live_sessions(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    school_doc = demo.section(plan, "skolen")["doc"]
    ola = await connected(live, demo.token(plan, "skole"))
    try:
        assert (await ola.join(school_doc))["ok"]
        async with live.http(demo.token(plan, "charlotte")) as http:
            consent = (await http.get(f"/api/plans/{plan['id']}/consent")).json()
            soon = live.clock().timestamp() + 3600
            from datetime import UTC, datetime

            body = {
                "purpose": consent["purpose"],
                "valid_from": consent["valid_from"],
                "valid_to": datetime.fromtimestamp(soon, UTC).isoformat(),
                "grants": consent["grants"],
            }
            assert (
                await http.post(f"/api/plans/{plan['id']}/consent", json=body)
            ).status_code == 201
        assert school_doc not in ola.revoked
        live.clock.advance(3601)
        await ola.wait_for(lambda: school_doc in ola.revoked, timeout=2.0)
    finally:
        await ola.close()


async def test_the_server_side_editing_api_is_attributed_and_broadcast(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    doc = demo.measures_doc = plan["measures"][0]["doc"]
    maria = await connected(live, demo.token(plan, "maria"))
    try:
        await maria.join(doc)
        await maria.wait_synced(doc)
        hub = live.app.state.hub
        per_person = demo.person(plan, "per")["person"]

        def edit(d: Doc) -> None:
            d.get("description", type=Text).insert(0, "Vedtatt i møtet: ")

        seq = await hub.edit_as(per_person, doc, edit)
        await maria.wait_for(lambda: maria.text(doc, "description").startswith("Vedtatt"))
        async with live.services.sessionmaker() as session:
            row = await session.get(DocUpdate, seq)
        assert row is not None and row.person_id == per_person and row.origin == "server"
    finally:
        await maria.close()


async def test_metrics_count_document_updates(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    try:
        await per.join(doc)
        await per.wait_synced(doc)
        await per.insert(doc, 0, "x")
    finally:
        await per.close()
    async with httpx.AsyncClient(base_url=live.url) as http:
        text = (await http.get("/metrics")).text
    assert 'planrom_realtime_events_total{event="doc:update"} 1' in text


async def test_an_oversized_message_is_refused_and_stored_nowhere(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    try:
        await per.join(doc)
        await per.wait_synced(doc)
        big = "x" * (live.settings.max_doc_message_bytes + 10)
        ydoc = per.doc(doc)
        before = ydoc.get_state()
        ydoc.get("situation", type=Text).insert(0, big)
        ack = await per.send(doc, encode_sync(SyncStep.UPDATE, ydoc.get_update(before)))
        assert ack["ok"] is False and ack["error"]["code"] == "malformed"
        async with live.services.sessionmaker() as session:
            sizes = (
                (
                    await session.execute(
                        select(func.length(DocUpdate.data)).where(DocUpdate.doc == doc)
                    )
                )
                .scalars()
                .all()
            )
        assert max(sizes) < live.settings.max_doc_message_bytes
    finally:
        await per.close()


async def test_a_flood_is_rate_limited_while_others_keep_working(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    flooder = await connected(live, demo.token(plan, "maria"))
    per = await connected(live, demo.token(plan, "per"))
    try:
        await flooder.join(doc)
        await per.join(doc)
        await per.wait_synced(doc)
        junk = encode_sync(SyncStep.STEP1, b"\x00")
        acks = await asyncio.gather(*(flooder.send(doc, junk) for _ in range(900)))
        codes = {a["error"]["code"] for a in acks if not a["ok"]}
        assert codes == {"rate-limited"}
        assert sum(1 for a in acks if not a["ok"]) > 100
        ack = await per.insert(doc, 0, "Per skriver fortsatt. ")
        assert ack["ok"] is True
    finally:
        await flooder.close()
        await per.close()


async def test_a_forged_continuation_of_someone_elses_edits_is_refused(
    live: LiveServer, demo: Demo
) -> None:
    """An update whose items continue another client's clock (not starting at 0)."""
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    maria = await connected(live, demo.token(plan, "maria"))
    try:
        for client in (per, maria):
            await client.join(doc)
            await client.wait_synced(doc)
        assert (await per.insert(doc, 0, "Per: "))["ok"]
        await maria.wait_for(lambda: maria.text(doc).startswith("Per: "))
        # Maria builds Per's next edit under Per's clientID, continuing his clock.
        forged = Doc(client_id=per.doc(doc).client_id)
        forged.apply_update(per.doc(doc).get_update())
        before = forged.get_state()
        forged.get("situation", type=Text).insert(0, "Per sier ja til alt. ")
        ack = await maria.send(doc, encode_sync(SyncStep.UPDATE, forged.get_update(before)))
        assert ack["ok"] is False and ack["error"]["code"] == "foreign-client"
        # A barrier: Maria's own later edit reaches Per; the forged one would have come first.
        assert (await maria.insert(doc, 0, "Maria: "))["ok"]
        await per.wait_for(lambda: per.text(doc).startswith("Maria: "))
        assert "sier ja" not in per.text(doc)
    finally:
        await per.close()
        await maria.close()
