"""Snapshots and compaction of the document store, on SQLite and PostgreSQL (issue 15).

A snapshot folds the update log into one state; updates are kept (they say who wrote
what), loading starts from the snapshot. The sequence number of a document is the last
stored update, also when a snapshot has absorbed every update. There is no path that
restores a document to a finalised version (minutes are copied out of the documents at
finalisation), so the round trip checked here is: loading after compaction equals
loading before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pycrdt import Doc, Text
from sqlalchemy import func, select

from collab.rooms import Rooms, RoomSettings
from server.db.docstore import SqlDocStore
from server.db.engine import make_engine, make_sessionmaker
from server.db.models import DocSnapshot, DocUpdate

DOC = "plan:aaaaaaaaaaaa:section:bbbbbbbbbbbb"


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlDocStore]:
    engine = make_engine(db_url)
    try:
        async with SqlDocStore(make_sessionmaker(engine)).running() as running:
            yield running
    finally:
        await engine.dispose()


class Writer:
    """A pycrdt client whose every edit becomes one update."""

    def __init__(self, client_id: int) -> None:
        self.doc = Doc(client_id=client_id)

    def edit(self, words: str) -> bytes:
        before = self.doc.get_state()
        with self.doc.transaction():
            text = self.doc.get("situation", type=Text)
            text.insert(len(text), words)
            # A second root of a section document (only PROTOCOL's roots are accepted).
            resources = self.doc.get("resources", type=Text)
            resources.insert(len(resources), f"{words}={len(words)};")
        return bytes(self.doc.get_update(before))


def loaded(snapshot: bytes | None, updates: list[tuple[int, bytes]]) -> Doc:
    doc = Doc()
    if snapshot:
        doc.apply_update(snapshot)
    for _, update in updates:
        doc.apply_update(update)
    return doc


def content(doc: Doc) -> tuple[str, str, bytes]:
    return (
        str(doc.get("situation", type=Text)),
        str(doc.get("resources", type=Text)),
        bytes(doc.get_state()),
    )


async def append_all(store: SqlDocStore, updates: list[bytes]) -> list[int]:
    return [await store.append(DOC, u, person=None, origin="client") for u in updates]


async def test_a_snapshot_folds_every_update_and_keeps_the_sequence_number(
    store: SqlDocStore,
) -> None:
    writer = Writer(7001)
    seqs = await append_all(store, [writer.edit(f"ord{i} ") for i in range(12)])
    before = await store.load(DOC)
    assert before.snapshot is None and [s for s, _ in before.updates] == seqs
    assert before.last_seq == seqs[-1]

    assert await store.compact(DOC) == 12
    after = await store.load(DOC)
    assert after.snapshot is not None and after.updates == []
    # The bug: with every update absorbed, the sequence number read 0.
    assert after.last_seq == seqs[-1]
    assert content(loaded(after.snapshot, after.updates)) == content(writer.doc)
    assert content(loaded(before.snapshot, before.updates)) == content(writer.doc)

    # Nothing new: compaction folds nothing and changes nothing.
    assert await store.compact(DOC) == 0
    assert (await store.load(DOC)).snapshot == after.snapshot

    # The updates are kept (who wrote what), only loading starts from the snapshot.
    async with store.sessionmaker() as db:
        kept = await db.scalar(select(func.count()).where(DocUpdate.doc == DOC))
        snap = await db.get(DocSnapshot, DOC)
    assert kept == 12 and snap is not None and snap.upto == seqs[-1]


async def test_updates_after_a_snapshot_load_on_top_of_it_and_fold_into_the_next(
    store: SqlDocStore,
) -> None:
    writer = Writer(7002)
    first = await append_all(store, [writer.edit(f"a{i} ") for i in range(5)])
    assert await store.compact(DOC) == 5
    later = await append_all(store, [writer.edit(f"b{i} ") for i in range(3)])
    assert later[0] > first[-1]

    stored = await store.load(DOC)
    assert stored.snapshot is not None
    assert [s for s, _ in stored.updates] == later and stored.last_seq == later[-1]
    assert content(loaded(stored.snapshot, stored.updates)) == content(writer.doc)

    assert await store.compact(DOC) == 3
    again = await store.load(DOC)
    assert again.updates == [] and again.last_seq == later[-1]
    assert content(loaded(again.snapshot, again.updates)) == content(writer.doc)


async def test_compaction_while_two_processes_append_loses_none(
    store: SqlDocStore, db_url: str
) -> None:
    """Two stores (as two server processes) append while a third compacts: a snapshot
    must never jump over an update that was still being committed (on PostgreSQL the
    appends hold a shared advisory lock, compaction an exclusive one)."""
    other_engine = make_engine(db_url)
    writers = [Writer(7100 + i) for i in range(4)]
    updates = [w.edit(f"{i}-{n} ") for n in range(25) for i, w in enumerate(writers)]
    try:
        async with SqlDocStore(make_sessionmaker(other_engine)).running() as other:
            compactor = SqlDocStore(store.sessionmaker)
            appended = asyncio.gather(
                *(
                    (store if i % 2 else other).append(DOC, u, person=None, origin="client")
                    for i, u in enumerate(updates)
                )
            )

            async def compact_until_done() -> int:
                folded = 0
                while not appended.done():
                    folded += await compactor.compact(DOC)
                    await asyncio.sleep(0)
                return folded

            folded = await compact_until_done()
            seqs = await appended
    finally:
        await other_engine.dispose()
    folded += await store.compact(DOC)
    assert folded == len(updates)
    stored = await store.load(DOC)
    assert stored.updates == [] and stored.last_seq == max(seqs)
    whole = Doc()
    for u in updates:
        whole.apply_update(u)
    assert content(loaded(stored.snapshot, stored.updates)) == content(whole)


async def test_compaction_waits_for_an_append_still_being_committed(pg_url: str) -> None:
    """PostgreSQL hands out ids before commit: an append that took id N but commits after
    N+1 must not be skipped by a snapshot taken in between (it would be lost to every
    later load). An append in flight is held open here, as another process would."""
    from sqlalchemy import text

    from server.db.docstore import _lock_key
    from server.runtime import utcnow

    engine = make_engine(pg_url)
    maker = make_sessionmaker(engine)
    store = SqlDocStore(maker)
    writer = Writer(7300)
    early, late = writer.edit("tidlig "), writer.edit("sen ")
    try:
        async with maker() as in_flight:
            await in_flight.begin()
            await in_flight.execute(
                text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _lock_key(DOC)}
            )
            row = DocUpdate(doc=DOC, data=early, person_id=None, origin="client", at=utcnow())
            in_flight.add(row)
            await in_flight.flush()
            later_seq = await store.append(DOC, late, person=None, origin="client")
            assert later_seq > row.id
            compaction = asyncio.ensure_future(store.compact(DOC))
            # Give a compaction that does not wait time to finish wrongly.
            await asyncio.wait({compaction}, timeout=1.0)
            await in_flight.commit()
        await compaction
        stored = await store.load(DOC)
        assert stored.last_seq == later_seq
        assert content(loaded(stored.snapshot, stored.updates)) == content(writer.doc)
    finally:
        await engine.dispose()


async def test_rooms_compact_after_enough_updates_and_a_fresh_process_loads_the_same(
    store: SqlDocStore,
) -> None:
    rooms = Rooms(store, RoomSettings(compact_after_updates=4, sweep_seconds=3600))
    writer = Writer(7200)
    async with rooms.running():
        room = await rooms.get(DOC)
        assert room.last_seq == 0
        seqs = [
            await rooms.apply(room, writer.edit(f"r{i} "), person=None, origin="client")
            for i in range(9)
        ]
        assert room.last_seq == seqs[-1]

        # Compaction runs in the background after the 4th and 8th update: wait for a
        # snapshot that covers the 8th (a positive barrier, not a sleep).
        async def snapshot_upto() -> int:
            async with store.sessionmaker() as db:
                snap = await db.get(DocSnapshot, DOC)
                return snap.upto if snap is not None else 0

        async def covered() -> None:
            while await snapshot_upto() < seqs[7]:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(covered(), 20)
        # The 9th update is counted, or folded too when the first compaction was still
        # running at the 8th (one at a time: the next is scheduled at the 9th instead).
        assert room.since_compaction in (0, 1)
        before = content(room.doc)

    fresh = Rooms(store, RoomSettings())
    reloaded = await fresh.get(DOC)
    assert content(reloaded.doc) == before == content(writer.doc)
    assert reloaded.last_seq == seqs[-1]
    # With the last update folded too, the sequence number survives a reload.
    await store.compact(DOC)
    again = await Rooms(store, RoomSettings()).get(DOC)
    assert again.last_seq == seqs[-1] and content(again.doc) == before
