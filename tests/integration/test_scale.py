"""Several processes sharing rooms through Redis, and many clients at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from server.db.engine import make_engine, make_sessionmaker
from server.db.models import DocUpdate
from tests.conftest import free_port
from tests.procs import ServerProcess
from tests.yclient import YClient


@pytest.fixture
async def two_servers(
    db_url: str, redis_url: str
) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    first = ServerProcess(db_url, free_port(), {"PLANROM_REDIS_URL": redis_url})
    second = ServerProcess(db_url, free_port(), {"PLANROM_REDIS_URL": redis_url})
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


async def count_updates(db_url: str, doc: str) -> int:
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as session:
        n = await session.scalar(
            select(func.count()).select_from(DocUpdate).where(DocUpdate.doc == doc)
        )
    await engine.dispose()
    return int(n or 0)


async def test_edits_cross_between_two_processes_through_redis_and_converge(
    two_servers: tuple[ServerProcess, ServerProcess], db_url: str
) -> None:
    first, second = two_servers
    demo = json.loads(first.cli("demo", "--json"))
    await first.start()
    await second.start()
    plan = next(p for p in demo["plans"] if p["title"].startswith("Per"))
    tokens = {p["key"]: p["token"] for p in plan["participants"]}
    doc = next(s for s in plan["sections"] if s["key"] == "om-meg")["doc"]
    seeded = await count_updates(db_url, doc)
    a = YClient(first.url, tokens["per"])
    b = YClient(second.url, tokens["maria"])
    late = YClient(second.url, tokens["per"])
    try:
        for client in (a, b):
            await client.connect()
            await client.join(doc)
            await client.wait_synced(doc)
        # b's process has the document loaded before a writes: it must learn of a's edits.
        for i in range(10):
            assert (await a.insert(doc, 0, f"<a{i}>"))["ok"]
            assert (await b.insert(doc, len(b.text(doc)), f"<b{i}>"))["ok"]
        await b.wait_for(lambda: all(f"<a{i}>" in b.text(doc) for i in range(10)))
        await a.wait_for(lambda: all(f"<b{i}>" in a.text(doc) for i in range(10)))
        await a.wait_for(lambda: a.text(doc) == b.text(doc))
        # A newcomer on the second process gets everything from that process' memory.
        await late.connect()
        await late.join(doc)
        await late.wait_synced(doc)
        assert late.text(doc) == a.text(doc)
        assert await count_updates(db_url, doc) == seeded + 20
    finally:
        for client in (a, b, late):
            await client.close()


async def test_four_hundred_clients_joining_fifty_new_documents_are_all_synced(
    db_url: str,
) -> None:
    # 400 clients played by two people: lift the per-person connection cap for them.
    server = ServerProcess(
        db_url, free_port(), extra_env={"PLANROM_MAX_CONNECTIONS_PER_PERSON": "200"}
    )
    demo = json.loads(server.cli("demo", "--json"))
    await server.start()
    try:
        plan = next(p for p in demo["plans"] if p["title"].startswith("Per"))
        tokens = [p["token"] for p in plan["participants"] if p["key"] in ("per", "maria")]
        docs = []
        async with httpx.AsyncClient(
            base_url=server.url, headers={"authorization": f"Bearer {tokens[0]}"}
        ) as http:
            for i in range(50):
                response = await http.post(
                    f"/api/plans/{plan['id']}/sections", json={"title": f"Område {i}"}
                )
                assert response.status_code == 201, response.text
                docs.append(response.json()["doc"])
            # The owner signs consent so the coordinator may edit the new sections too.
            consent = (await http.get(f"/api/plans/{plan['id']}/consent")).json()
            maria = next(p["id"] for p in plan["participants"] if p["key"] == "maria")
            new_ids = [d.rsplit(":", 1)[1] for d in docs]
            grants = consent["grants"] + [
                {"participant": maria, "section": s, "level": "edit"} for s in new_ids
            ]
            signed = await http.post(
                f"/api/plans/{plan['id']}/consent",
                json={"purpose": consent["purpose"], "grants": grants},
            )
            assert signed.status_code == 201, signed.text
        clients = [YClient(server.url, tokens[i % 2]) for i in range(400)]
        await asyncio.gather(*(c.connect() for c in clients))
        try:
            # All at the same moment, 8 per document, each document new to the server.
            acks = await asyncio.gather(*(c.join(docs[i % 50]) for i, c in enumerate(clients)))
            assert [a for a in acks if a != {"ok": True, "access": "write"}] == []
            await asyncio.gather(
                *(c.wait_synced(docs[i % 50], timeout=60) for i, c in enumerate(clients))
            )
            # And each document is live for its eight clients.
            writers = clients[:50]
            for i, w in enumerate(writers):
                assert (await w.insert(docs[i], 0, f"doc {i}"))["ok"]
            for i, c in enumerate(clients):
                await c.wait_for(
                    lambda c=c, i=i: c.text(docs[i % 50]) == f"doc {i % 50}", timeout=60
                )
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    finally:
        server.stop()
