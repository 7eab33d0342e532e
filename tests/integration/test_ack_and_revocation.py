"""The real-time server's two promises, each proven by a test that fails without its
guard (issue 15, mutation testing of the revocation and ack paths):

- an update is acknowledged only once it is stored: while PostgreSQL holds back the
  write, no ack arrives (a later message on the same connection is answered first);
- a connection whose access is revoked neither writes nor receives any more, and one
  made read-only no longer writes.

Both use one server on PostgreSQL whose access poll practically never runs, so what the
tests see comes from the HTTP route that changed access, not from the poll. Negative
checks wait on a positive barrier on the same connection (Socket.IO delivers a
connection's packets in order), never on a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pycrdt import Doc, Text
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from collab.yproto import SyncStep, encode_sync
from server.db.models import DocUpdate
from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings
from tests.yclient import YClient

pytestmark = pytest.mark.pg


@pytest.fixture
async def server(pg_url: str) -> AsyncIterator[LiveServer]:
    live = await start_server(test_settings(pg_url, consent_poll_seconds=3600.0))
    try:
        yield live
    finally:
        await live.stop()


@pytest.fixture
async def demo(server: LiveServer) -> Demo:
    return await load_demo_into(server)


async def connected(live: LiveServer, token: str, doc: str, access: str) -> YClient:
    client = YClient(live.url, token)
    await client.connect()
    ack = await client.join(doc)
    assert ack == {"ok": True, "access": access}, ack
    await client.wait_synced(doc)
    return client


def update_of(client: YClient, doc: str, words: str) -> bytes:
    """An update on a copy of the client's document (a refused one stays out of it)."""
    local = client.docs.get(doc) or Doc(client_id=client.client_id)
    copy = Doc(client_id=local.client_id)
    copy.apply_update(local.get_update())
    before = copy.get_state()
    copy.get("situation", type=Text).insert(0, words)
    return copy.get_update(before)


async def round_trip(client: YClient) -> dict[str, Any]:
    """A message answered without touching storage: once its answer is here, everything
    the server sent this connection before it is here too."""
    return dict(await client.sio.call("doc:leave", {"doc": "section:none:none"}, timeout=30))


async def wait_for_blocked_insert(live: LiveServer) -> None:
    """Until the server's INSERT into doc_updates waits for the lock the test holds."""
    async with live.services.sessionmaker() as db:
        for _ in range(2000):
            waiting = await db.scalar(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'doc_updates' AND NOT l.granted"
                )
            )
            if waiting:
                return
            await db.rollback()
            await asyncio.sleep(0.01)
    raise AssertionError("the update never reached storage")


async def test_an_update_is_acknowledged_only_after_it_is_stored(
    server: LiveServer, demo: Demo, pg_url: str
) -> None:
    plan = demo.per
    doc = demo.section(plan, "okonomi")["doc"]
    siw = await connected(server, demo.token(plan, "siw"), doc, "write")
    locker = create_async_engine(pg_url)
    order: list[str] = []
    acked: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def on_ack(answer: dict[str, Any]) -> None:
        order.append("update")
        acked.set_result(answer)

    try:
        update = update_of(siw, doc, "Lagret før svar. ")
        async with locker.connect() as lock:
            await lock.execute(text("LOCK TABLE doc_updates IN EXCLUSIVE MODE"))
            await siw.sio.emit(
                "doc:msg", (doc, encode_sync(SyncStep.UPDATE, update)), callback=on_ack
            )
            await wait_for_blocked_insert(server)
            # The write waits; a later message on the same connection is answered first.
            assert (await round_trip(siw))["error"]["code"] == "not-joined"
            order.append("barrier")
            assert order == ["barrier"], "acknowledged before it was stored"
            await lock.rollback()  # lets the write through
        answer = await asyncio.wait_for(acked, 30)
        assert answer["ok"] is True and isinstance(answer["seq"], int), answer
        assert order == ["barrier", "update"]
        async with server.services.sessionmaker() as db:
            stored = await db.get(DocUpdate, answer["seq"])
            assert stored is not None and stored.doc == doc and bytes(stored.data) == update
    finally:
        await locker.dispose()
        await siw.close()


async def test_revoked_and_read_only_connections_neither_write_nor_receive(
    server: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    section = demo.section(plan, "okonomi")
    doc = section["doc"]
    siw = await connected(server, demo.token(plan, "siw"), doc, "write")
    per = await connected(server, demo.token(plan, "per"), doc, "write")
    maria = await connected(server, demo.token(plan, "maria"), doc, "write")
    clients = (siw, per, maria)
    try:
        async with server.http(demo.token(plan, "per")) as http:
            # Read-only: archiving the section answers after every open session is told.
            url = f"/api/plans/{plan['id']}/sections/{section['id']}"
            assert (await http.patch(url, json={"archived": True})).status_code == 200
            ack = await siw.send(doc, encode_sync(SyncStep.UPDATE, update_of(siw, doc, "LESE ")))
            assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
            assert (await http.patch(url, json={"archived": False})).status_code == 200
            ack = await siw.send(doc, encode_sync(SyncStep.UPDATE, update_of(siw, doc, "Igjen. ")))
            assert ack["ok"] is True, ack
            await maria.wait_for(lambda: "Igjen." in maria.text(doc))

        async with server.http(demo.token(plan, "maria")) as http:
            # Revoked: Siw is removed from the group; the answer comes after the revocation.
            siw_id = demo.person(plan, "siw")["id"]
            url = f"/api/plans/{plan['id']}/participants/{siw_id}"
            assert (await http.patch(url, json={"active": False})).status_code == 200
        assert await _revoked(siw, doc)
        ack = await siw.send(doc, encode_sync(SyncStep.UPDATE, update_of(siw, doc, "FJERNET ")))
        assert ack["ok"] is False and ack["error"]["code"] == "not-joined", ack
        heard = [m for m in siw.received if m[0] == doc]
        # Per writes; Maria receives it; then Siw's own connection answers a round trip,
        # so anything sent to Siw before Per's write was acknowledged has arrived.
        assert (await per.insert(doc, 0, "Etter fjerning. "))["ok"]
        await maria.wait_for(lambda: "Etter fjerning." in maria.text(doc))
        await round_trip(siw)
        assert [m for m in siw.received if m[0] == doc] == heard
        for client in (per, maria):
            assert "FJERNET" not in client.text(doc) and "LESE" not in client.text(doc)
        async with server.services.sessionmaker() as db:
            rows = await db.execute(select(DocUpdate.data).where(DocUpdate.doc == doc))
            stored = Doc()
            for (data,) in rows.all():
                stored.apply_update(bytes(data))
        assert "Etter fjerning." in str(stored.get("situation", type=Text))
        assert "FJERNET" not in str(stored.get("situation", type=Text))
    finally:
        for client in clients:
            await client.close()


async def _revoked(client: YClient, doc: str) -> bool:
    await client.wait_for(lambda: doc in client.revoked)
    return doc not in client.docs
