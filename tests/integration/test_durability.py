"""A server killed with SIGKILL loses no acknowledged change; clients converge after."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from pycrdt import Doc, Text
from sqlalchemy import select

from server.db.engine import make_engine, make_sessionmaker
from server.db.models import DocUpdate
from tests.conftest import free_port
from tests.procs import ServerProcess
from tests.yclient import YClient


@pytest.fixture
async def server(db_url: str) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(db_url, free_port())
    try:
        yield process
    finally:
        process.stop()


async def test_sigkill_loses_no_acknowledged_edit_and_clients_converge(
    server: ServerProcess, db_url: str
) -> None:
    demo = json.loads(server.cli("demo", "--json"))
    await server.start()
    per_plan = next(p for p in demo["plans"] if p["title"].startswith("Per"))
    tokens = {p["key"]: p["token"] for p in per_plan["participants"]}
    doc = next(s for s in per_plan["sections"] if s["key"] == "om-meg")["doc"]
    writers = [YClient(server.url, tokens[k]) for k in ("per", "maria")]
    for client in writers:
        await client.connect()
        await client.join(doc)
        await client.wait_synced(doc)

    acked: list[str] = []

    async def write(client: YClient, name: str, count: int) -> None:
        for i in range(count):
            marker = f"[{name}-{i}]"
            ack = await client.insert(doc, 0, marker)
            assert ack["ok"] is True, ack
            acked.append(marker)

    await asyncio.gather(write(writers[0], "per", 25), write(writers[1], "maria", 25))
    # One more edit is sent but the server dies before anyone waits for its ack.
    unacked = writers[0].doc(doc)
    before = unacked.get_state()
    unacked.get("situation", type=Text).insert(0, "[per-after-kill]")
    pending_update = unacked.get_update(before)
    server.kill()
    assert len(acked) == 50

    # Everything acknowledged is in storage.
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as session:
        rows = (
            (await session.execute(select(DocUpdate.data).where(DocUpdate.doc == doc)))
            .scalars()
            .all()
        )
    await engine.dispose()
    stored = Doc()
    for data in rows:
        stored.apply_update(data)
    stored_text = str(stored.get("situation", type=Text))
    assert all(marker in stored_text for marker in acked)
    assert pending_update  # it exists only in the client's document

    await server.start()
    for client in writers:
        await client.reconnect()
        await client.wait_synced(doc)
    reader = YClient(server.url, tokens["maria"])
    await reader.connect()
    await reader.join(doc)
    await reader.wait_synced(doc)
    try:
        final = writers[0].text(doc)
        await writers[1].wait_for(lambda: writers[1].text(doc) == writers[0].text(doc))
        await reader.wait_for(lambda: "[per-after-kill]" in reader.text(doc))
        final = writers[0].text(doc)
        assert writers[1].text(doc) == final
        assert all(marker in final for marker in acked)
        assert "[per-after-kill]" in final
        await reader.wait_for(lambda: reader.text(doc) == final)
    finally:
        for client in (*writers, reader):
            await client.close()
