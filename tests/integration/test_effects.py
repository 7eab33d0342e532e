"""After-commit document edits are durable (server/effects.py, ADR 0018): recorded in the
transaction that needs them, made once, retried after a failure, and made by the next
process when the one that committed died before making them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from pycrdt import Array, Doc
from sqlalchemy import select, update

from collab.editing import YDoc, edit_of
from server.db import effects as effects_db
from server.db.engine import make_engine, make_sessionmaker
from server.db.models import DocUpdate, PendingEffect
from server.effects import Effects
from tests.conftest import LiveServer, free_port, load_demo_into
from tests.procs import ServerProcess


def entries_with(doc: Doc, key: str) -> list[dict[str, object]]:
    return [e for e in doc.get("progress", type=Array).to_py() if e.get("key") == key]


async def stored_doc(db_url: str, name: str) -> Doc:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (
                await session.scalars(select(DocUpdate.data).where(DocUpdate.doc == name))
            ).all()
    finally:
        await engine.dispose()
    doc = Doc()
    for data in rows:
        doc.apply_update(data)
    return doc


def test_an_edit_described_as_data_is_made_once_however_often_it_runs() -> None:
    doc = Doc()
    edit = edit_of("measure-fill", {"progress": [["2026-12-01", "Vedtatt."]], "key": "decision:a"})
    for _ in range(3):
        edit(doc)
    assert len(entries_with(doc, "decision:a")) == 1
    edit_of("measure-fill", {"progress": [["2026-12-01", "Annet."]], "key": "decision:b"})(doc)
    assert len(doc.get("progress", type=Array)) == 2
    with pytest.raises(ValueError):
        edit_of("measure-fill", {"progress": [["2026-12-01"]], "key": "x"})
    with pytest.raises(ValueError):
        edit_of("drop-table", {})


async def test_a_failed_edit_is_kept_and_retried_later(live: LiveServer) -> None:
    demo = await load_demo_into(live)
    measure = demo.per["measures"][0]
    now = datetime.now(UTC)
    clock = [now]
    effects = Effects(clock=lambda: clock[0])
    maker = live.services.sessionmaker
    async with maker() as db, db.begin():
        effects.record(
            db,
            doc=measure["doc"],
            kind="measure-fill",
            data={"progress": [["2026-12-01", "Prøvd på nytt."]], "key": "retry:1"},
            person=demo.person(demo.per, "per")["person"],
            now=now,
        )
    calls: list[str] = []

    async def broken(person: str, name: str, edit: Callable[[YDoc], None]) -> None:
        calls.append(name)
        raise ConnectionError("the store is away")

    assert await effects.run_due(maker, broken) == 0
    async with maker() as db:
        (row,) = await effects_db.pending(db)
    assert row.attempts == 1 and "the store is away" in row.error
    assert row.not_before > now  # not again at once
    assert await effects.run_due(maker, broken) == 0 and calls == [measure["doc"]]

    hub = live.app.state.hub
    clock[0] = now + timedelta(minutes=10)
    assert await effects.run_due(maker, hub.edit_as) == 1
    async with maker() as db:
        assert await effects_db.pending(db) == []
    state = Doc()
    state.apply_update(await hub.document_state(measure["doc"]))
    assert [e["text"] for e in entries_with(state, "retry:1")] == ["Prøvd på nytt."]


@pytest.fixture
async def server(db_url: str) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(db_url, free_port())
    try:
        yield process
    finally:
        process.stop()


async def wait_done(db_url: str, effect_id: int) -> PendingEffect:
    engine = make_engine(db_url)
    try:
        for _ in range(300):
            async with make_sessionmaker(engine)() as session:
                row = await session.get(PendingEffect, effect_id)
                assert row is not None
                if row.done_at is not None:
                    return row
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
    raise AssertionError(f"effect {effect_id} was not made")


async def test_a_process_killed_between_commit_and_edit_loses_no_edit(
    server: ServerProcess, db_url: str
) -> None:
    demo = json.loads(server.cli("demo", "--json"))
    per = next(p for p in demo["plans"] if p["title"].startswith("Per"))
    measure = per["measures"][0]
    await server.start()
    # What a finalisation leaves when its process dies right after the commit: the
    # records changed, the document edit recorded and not yet made.
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as db, db.begin():
        row = effects_db.add(
            db,
            kind="measure-fill",
            doc=measure["doc"],
            data={"progress": [["2026-12-01", "Vedtatt før krasjet."]], "key": "decision:crash"},
            person=next(p["person"] for p in per["participants"] if p["key"] == "per"),
            now=datetime.now(UTC) + timedelta(days=1),  # the dying process had not made it
        )
    effect_id = row.id
    await engine.dispose()
    server.kill()

    # The next process makes it (a pass runs at start-up); when the first one made the
    # edit but died before marking it done, the edit is not made twice.
    await _due_now(db_url, effect_id)
    await server.start()
    made = await wait_done(db_url, effect_id)
    assert made.attempts == 1 and made.error == ""
    assert len(entries_with(await stored_doc(db_url, measure["doc"]), "decision:crash")) == 1

    server.kill()
    await _due_now(db_url, effect_id, undo_done=True)
    await server.start()
    again = await wait_done(db_url, effect_id)
    assert again.attempts == 2
    doc = await stored_doc(db_url, measure["doc"])
    assert [e["text"] for e in entries_with(doc, "decision:crash")] == ["Vedtatt før krasjet."]


async def _due_now(db_url: str, effect_id: int, *, undo_done: bool = False) -> None:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            values: dict[str, object] = {"not_before": datetime.now(UTC) - timedelta(seconds=1)}
            if undo_done:
                values["done_at"] = None
            await db.execute(
                update(PendingEffect).where(PendingEffect.id == effect_id).values(**values)
            )
    finally:
        await engine.dispose()
