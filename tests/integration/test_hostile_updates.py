"""Hostile Yjs updates against a real server process: it refuses them and stays alive;
a database already holding a poisoned row loads, quarantines it, and `planrom doctor`
finds it; a document stops growing at its size limit (issue 9, ADR 0012).

The hostile bytes are built by tests/yhostile.py: pycrdt in this process would overflow
its stack on them exactly as the server used to.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from collab.yproto import SyncMessage, SyncStep, decode, encode_sync
from server.db.engine import make_engine, make_sessionmaker
from server.db.models import AccessLogRow, DocUpdate
from server.runtime import utcnow
from tests import yhostile as h
from tests.conftest import free_port
from tests.procs import PLANROM, ServerProcess
from tests.yclient import YClient

SCHOOL_CLIENT = 5  # a one-byte clientID keeps the 40,000-deep chain under 512 KiB


@pytest.fixture
async def procs() -> AsyncIterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    try:
        yield started
    finally:
        for p in started:
            p.stop()


def new_server(procs: list[ServerProcess], db_url: str, **env: str) -> ServerProcess:
    server = ServerProcess(db_url, free_port(), env)
    procs.append(server)
    return server


class Story:
    """Charlotte's plan from the demo: the school edits only its own section."""

    def __init__(self, demo: dict[str, Any]) -> None:
        plan = next(p for p in demo["plans"] if any(x["key"] == "skole" for x in p["participants"]))
        self.plan = plan["id"]
        self.tokens = {p["key"]: p["token"] for p in plan["participants"]}
        by_role = {p["role"]: p["key"] for p in plan["participants"]}
        self.owner, self.coordinator = by_role["owner"], by_role["coordinator"]
        sections = {s["key"]: s["doc"] for s in plan["sections"]}
        self.school_doc = sections["skolen"]
        self.other_doc = sections["om-meg"]


async def assert_alive(server: ServerProcess) -> None:
    assert server.proc is not None
    assert server.proc.poll() is None, f"server exited with {server.proc.returncode}"
    async with httpx.AsyncClient(timeout=1.0) as http:
        answer = await http.get(server.url + "/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


async def rows_of(db_url: str, doc: str) -> list[DocUpdate]:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            found = await session.execute(
                select(DocUpdate).where(DocUpdate.doc == doc).order_by(DocUpdate.id)
            )
            return list(found.scalars())
    finally:
        await engine.dispose()


def updates_received(client: YClient, doc: str) -> list[bytes]:
    out = []
    for name, data in client.received:
        message = decode(data)
        if name == doc and isinstance(message, SyncMessage) and message.step is SyncStep.UPDATE:
            out.append(message.payload)
    return out


async def joined(server: ServerProcess, token: str, *docs: str, **kw: Any) -> YClient:
    client = YClient(server.url, token, **kw)
    await client.connect()
    for doc in docs:
        ack = await client.join(doc)
        assert ack["ok"] is True, ack
        await client.wait_synced(doc)
    return client


async def test_the_deep_chain_and_its_delete_are_refused_and_the_server_lives(
    procs: list[ServerProcess], db_url: str
) -> None:
    server = new_server(procs, db_url)
    story = Story(json.loads(server.cli("demo", "--json")))
    await server.start()
    doc = story.school_doc
    school = await joined(server, story.tokens["skole"], doc, client_id=SCHOOL_CLIENT)
    owner = await joined(server, story.tokens[story.owner], doc)
    stored_before = len(await rows_of(db_url, doc))
    try:
        # Far above the clocks the school's own typing uses (its clientID is 5 too).
        deep = h.chain(40_000, SCHOOL_CLIENT, clock=50_000)
        assert len(deep) < 512 * 1024  # it reaches the validator, not the message limit
        # As two messages: the chain, then the delete of its outermost map.
        ack = await school.send(doc, encode_sync(SyncStep.UPDATE, deep))
        assert ack["ok"] is False and ack["error"]["code"] == "malformed", ack
        await school.send(doc, encode_sync(SyncStep.UPDATE, h.delete(SCHOOL_CLIENT, 50_000)))
        await assert_alive(server)
        # As one merged message.
        merged = h.chain_and_delete(40_000, SCHOOL_CLIENT, clock=100_000)
        ack = await school.send(doc, encode_sync(SyncStep.UPDATE, merged))
        assert ack["ok"] is False and ack["error"]["code"] == "malformed", ack
        await assert_alive(server)
        # In pieces under the struct limit: the depth refuses the first already.
        for start in range(200_000, 240_000, 9_000):
            piece = h.update(
                [
                    (
                        SCHOOL_CLIENT,
                        start,
                        h.chain_items(9_000, SCHOOL_CLIENT, clock=start)
                        if start == 200_000
                        else h.chain_items(
                            9_000, SCHOOL_CLIENT, clock=start, parent=(5, start - 1)
                        ),
                    )
                ]
            )
            ack = await school.send(doc, encode_sync(SyncStep.UPDATE, piece))
            assert ack["ok"] is False and ack["error"]["code"] == "malformed", ack
        await assert_alive(server)
        # The school still writes; the owner sees that and nothing of the above.
        ack = await school.insert(doc, 0, "[skolen skriver]")
        assert ack["ok"] is True, ack
        await owner.wait_for(lambda: "[skolen skriver]" in owner.text(doc))
        received = updates_received(owner, doc)
        assert len(received) <= 2 and all(len(u) < 1000 for u in received)
        rows = await rows_of(db_url, doc)
        assert len(rows) - stored_before <= 2  # the harmless delete, and the text
        assert all(len(r.data) < 1000 for r in rows[stored_before:])
        await assert_alive(server)
    finally:
        await school.close()
        await owner.close()


def doctor(server: ServerProcess, *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [PLANROM, "doctor", *args], env=server.env, capture_output=True, timeout=120
    )
    return done.returncode, done.stdout.decode()


async def insert_rows(db_url: str, doc: str, *updates: bytes) -> list[int]:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            rows = [
                DocUpdate(doc=doc, data=u, person_id=None, origin="client", at=utcnow())
                for u in updates
            ]
            session.add_all(rows)
            await session.flush()
            return [r.id for r in rows]
    finally:
        await engine.dispose()


async def test_a_stored_poisoned_row_is_quarantined_on_load_and_by_the_doctor(
    procs: list[ServerProcess], db_url: str
) -> None:
    server = new_server(procs, db_url)
    story = Story(json.loads(server.cli("demo", "--json")))
    # Written as the server before this fix would have stored them.
    chain_row, delete_row = await insert_rows(
        db_url, story.school_doc, h.chain(40_000, SCHOOL_CLIENT), h.delete(SCHOOL_CLIENT)
    )
    (merged_row,) = await insert_rows(
        db_url, story.other_doc, h.chain_and_delete(40_000, SCHOOL_CLIENT)
    )
    code, out = doctor(server)
    assert code == 1, out
    assert f"{story.school_doc} update {chain_row}" in out
    assert f"{story.other_doc} update {merged_row}" in out
    assert f"update {delete_row}:" not in out
    assert all(r.quarantined_at is None for r in await rows_of(db_url, story.school_doc))

    await server.start()
    school = await joined(server, story.tokens["skole"], story.school_doc)
    try:
        assert "Plan for å ta opp igjen fag." in school.text(story.school_doc)
        await assert_alive(server)
        ack = await school.insert(story.school_doc, 0, "[etter karantene]")
        assert ack["ok"] is True, ack
    finally:
        await school.close()
    rows = {r.id: r for r in await rows_of(db_url, story.school_doc)}
    assert rows[chain_row].quarantined_at is not None
    assert "deeper than 16" in (rows[chain_row].quarantine_reason or "")
    assert rows[delete_row].quarantined_at is None
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            logged = (
                await session.execute(
                    select(AccessLogRow).where(
                        AccessLogRow.plan_id == story.plan, AccessLogRow.action == "quarantine"
                    )
                )
            ).scalars()
            assert [e.target for e in logged] == [f"doc:{story.school_doc}"]
    finally:
        await engine.dispose()
    server.stop()

    code, out = doctor(server, "--quarantine")
    assert code == 0, out
    assert f"{story.other_doc} update {merged_row}" in out and "(quarantined)" in out
    assert f"update {chain_row}:" not in out  # already set aside on load
    rows = {r.id: r for r in await rows_of(db_url, story.other_doc)}
    assert rows[merged_row].quarantined_at is not None
    code, out = doctor(server)
    assert code == 0 and "0 poisoned rows" in out, out
    # The healed database serves the other document too.
    await server.start()
    reader = await joined(server, story.tokens["skole"], story.other_doc)
    try:
        assert "Jeg er 19 år." in reader.text(story.other_doc)
        await assert_alive(server)
    finally:
        await reader.close()


async def test_a_section_stops_growing_at_the_document_limit(
    procs: list[ServerProcess], db_url: str
) -> None:
    server = new_server(procs, db_url, PLANROM_MAX_DOC_BYTES="8000")
    story = Story(json.loads(server.cli("demo", "--json")))
    await server.start()
    doc, other = story.school_doc, story.other_doc
    school = await joined(server, story.tokens["skole"], doc)
    owner = await joined(server, story.tokens[story.owner], doc, other)
    coordinator = await joined(server, story.tokens[story.coordinator], doc, other)
    try:
        accepted = []
        refusal = None
        for i in range(20):
            marker = f"<{i:02d}>" + "x" * 1000
            ack = await school.insert(doc, 0, marker)
            if not ack["ok"]:
                refusal = (i, ack["error"])
                break
            accepted.append(marker)
        assert refusal is not None, "the section never reached its limit"
        assert refusal[1]["code"] == "too-large", refusal
        assert 3 <= len(accepted) < 8
        # Once there, the school's next write and another editor's are refused too.
        ack = await school.insert(doc, 0, "<again>" + "y" * 1000)
        assert ack["error"]["code"] == "too-large", ack
        ack = await coordinator.insert(doc, 0, "<coordinator>" + "z" * 1000)
        assert ack["error"]["code"] == "too-large", ack
        # A positive barrier: a later, allowed edit in another document reaches the owner;
        # whatever the server had sent about the refused ones would have come first.
        ack = await coordinator.insert(other, 0, "[barrier]")
        assert ack["ok"] is True, ack
        await owner.wait_for(lambda: "[barrier]" in owner.text(other))
        seen = owner.text(doc)
        assert all(m in seen for m in accepted)
        assert f"<{refusal[0]:02d}>" not in seen and "<again>" not in seen
        assert "<coordinator>" not in seen
        assert len(updates_received(owner, doc)) == len(accepted)
        stored = b"".join(r.data for r in await rows_of(db_url, doc))
        assert f"<{refusal[0]:02d}>".encode() not in stored and b"<again>" not in stored
        await assert_alive(server)
    finally:
        for c in (school, owner, coordinator):
            await c.close()
