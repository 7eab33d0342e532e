"""Rooms over a DocStore kept in memory: load once, validate, store then apply, size limit,
quarantine of poisoned rows, remote updates, compaction and unloading.

``MemoryStore`` is a real implementation of the ``DocStore`` Protocol (the same contract as
``server/db/docstore.py``, kept in a dict), so these tests run in milliseconds; the SQL
store is exercised by the integration tests.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import pytest
from pycrdt import Doc, Map, Text

from collab.rooms import (
    DocRoom,
    Rooms,
    RoomSettings,
    StoreUnavailable,
    TooLarge,
    roots_of,
    screen,
)
from collab.store import StoredDoc
from collab.yproto import EMPTY_UPDATE, Malformed
from collab.yupdate import Limits

DOC = "plan:plan0001:section:sterapi1"


@dataclass
class _Kept:
    rows: list[tuple[int, bytes]] = field(default_factory=list)
    snapshot: bytes | None = None
    upto: int = 0
    quarantined: dict[int, str] = field(default_factory=dict)


class MemoryStore:
    """The DocStore Protocol in memory: rows get gap-free sequence numbers per store."""

    def __init__(self) -> None:
        self.docs: dict[str, _Kept] = {}
        self.seq = 0
        self.loads = 0
        self.fail_appends = False
        self.fail_compaction = False
        self.compact_gate: asyncio.Event | None = None
        self.writers: list[tuple[str | None, str]] = []
        self.bound: dict[int, str] = {}

    def kept(self, doc: str) -> _Kept:
        return self.docs.setdefault(doc, _Kept())

    async def load(self, doc: str) -> StoredDoc:
        self.loads += 1
        await asyncio.sleep(0)  # a real store awaits I/O: let concurrent callers interleave
        k = self.kept(doc)
        updates = [(s, u) for s, u in k.rows if s > k.upto and s not in k.quarantined]
        return StoredDoc(k.snapshot, updates, k.upto)

    async def append(self, doc: str, update: bytes, *, person: str | None, origin: str) -> int:
        await asyncio.sleep(0)
        if self.fail_appends:
            raise OSError("disk full")
        self.seq += 1
        self.kept(doc).rows.append((self.seq, update))
        self.writers.append((person, origin))
        return self.seq

    async def compact(self, doc: str) -> int:
        await asyncio.sleep(0)
        if self.compact_gate is not None:
            await self.compact_gate.wait()
        if self.fail_compaction:
            raise OSError("compaction failed")
        k = self.kept(doc)
        fresh = [(s, u) for s, u in k.rows if s > k.upto and s not in k.quarantined]
        if not fresh:
            return 0
        ydoc: Doc = Doc()
        if k.snapshot:
            ydoc.apply_update(k.snapshot)
        for _, u in fresh:
            ydoc.apply_update(u)
        k.snapshot = bytes(ydoc.get_update())
        k.upto = fresh[-1][0]
        return len(fresh)

    async def quarantine(self, doc: str, seq: int, reason: str) -> None:
        self.kept(doc).quarantined[seq] = reason

    async def drop_snapshot(self, doc: str) -> None:
        k = self.kept(doc)
        k.snapshot, k.upto = None, 0

    async def bind_client(self, client_id: int, person: str) -> str:
        return self.bound.setdefault(client_id, person)

    async def owners_of(self, client_ids: set[int]) -> dict[int, str]:
        return {c: p for c, p in self.bound.items() if c in client_ids}


def edit(text: str, *, root: str = "situation", base: bytes | list[bytes] | None = None) -> bytes:
    """An update that appends ``text`` to root ``root`` of the document ``base`` makes."""
    doc: Doc = Doc()
    for update in [base] if isinstance(base, bytes) else base or []:
        doc.apply_update(update)
    before = doc.get_state()
    t = doc.get(root, type=Text)
    t += text
    return bytes(doc.get_update(before))


def text_of(room: DocRoom, root: str = "situation") -> str:
    return str(room.doc.get(root, type=Text))


def nested(depth: int) -> bytes:
    """An update whose maps nest ``depth`` levels under the root ``situation``."""
    doc: Doc = Doc()
    top = doc.get("situation", type=Map)
    for _ in range(depth):
        inner: Map = Map()
        top["m"] = inner
        top = inner
    return bytes(doc.get_update())


async def test_a_document_is_loaded_once_however_many_ask_at_once() -> None:
    store = MemoryStore()
    stored = edit("Hei")
    await store.append(DOC, stored, person="ola", origin="test")
    rooms = Rooms(store, RoomSettings())
    first, second, third = await asyncio.gather(rooms.get(DOC), rooms.get(DOC), rooms.get(DOC))
    assert first is second is third
    assert store.loads == 1
    assert text_of(first) == "Hei"
    assert first.last_seq == 1
    assert first.roots == frozenset({"situation", "resources", "goals", "measures"})
    assert first.size == len(stored)
    assert rooms.loaded(DOC) is first
    assert rooms.names() == [DOC]
    assert await rooms.get(DOC) is first
    assert store.loads == 1


async def test_a_failed_load_is_reported_to_every_caller_and_retried_later() -> None:
    class Broken(MemoryStore):
        async def load(self, doc: str) -> StoredDoc:
            await asyncio.sleep(0)
            raise OSError("database down")

    store = Broken()
    rooms = Rooms(store, RoomSettings())
    results = await asyncio.gather(rooms.get(DOC), rooms.get(DOC), return_exceptions=True)
    assert [type(r) for r in results] == [OSError, OSError]
    assert rooms.loaded(DOC) is None
    with pytest.raises(OSError):
        await rooms.get(DOC)  # not cached: asked again, fails again


async def test_an_update_is_stored_then_applied_and_numbered() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings())
    room = await rooms.get(DOC)
    first = edit("Hei")
    second = edit(" du", base=first)
    assert await rooms.apply(room, first, person="ola", origin="sock1") == 1
    assert await rooms.apply(room, second, person=None, origin="api") == 2
    assert text_of(room) == "Hei du"
    assert room.last_seq == 2
    assert room.since_compaction == 2
    assert room.size == len(first) + len(second)
    assert store.writers == [("ola", "sock1"), (None, "api")]
    assert [s for s, _ in store.kept(DOC).rows] == [1, 2]


async def test_a_malformed_update_is_refused_and_nothing_is_stored() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings())
    room = await rooms.get(DOC)
    for bad in (b"\x01\x02\x03", b"", edit("x", root="nope")):
        with pytest.raises(Malformed):
            await rooms.apply(room, bad, person="ola", origin="t")
    assert store.kept(DOC).rows == []
    assert text_of(room) == ""
    assert room.size == 0
    assert room.since_compaction == 0


async def test_nesting_past_the_limit_is_refused_before_it_is_stored() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings())
    room = await rooms.get(DOC)
    with pytest.raises(Malformed):
        await rooms.apply(room, nested(40), person="ola", origin="t")
    assert store.kept(DOC).rows == []
    await rooms.apply(room, nested(3), person="ola", origin="t")
    assert len(store.kept(DOC).rows) == 1


async def test_the_size_limit_refuses_the_update_that_would_pass_it() -> None:
    store = MemoryStore()
    first = edit("a" * 100)
    second = edit("b" * 100, base=first)
    limit = len(first) + len(second)
    rooms = Rooms(store, RoomSettings(max_doc_bytes=limit))
    room = await rooms.get(DOC)
    await rooms.apply(room, first, person="ola", origin="t")
    await rooms.apply(room, second, person="ola", origin="t")  # exactly at the limit: allowed
    assert room.size == limit
    with pytest.raises(TooLarge, match="size limit"):
        await rooms.apply(room, edit("c", base=[first, second]), person="ola", origin="t")
    assert len(store.kept(DOC).rows) == 2
    assert room.size == limit


async def test_a_failed_write_applies_nothing_and_marks_the_room_failing() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings(idle_unload_seconds=0))
    room = await rooms.get(DOC)
    store.fail_appends = True
    with pytest.raises(StoreUnavailable, match="disk full"):
        await rooms.apply(room, edit("Hei"), person="ola", origin="t")
    assert text_of(room) == ""
    assert room.size == 0
    assert room.failing
    assert rooms.unload_idle(room.idle_since + 1) == []  # a failing room is kept
    store.fail_appends = False
    await rooms.apply(room, edit("Hei"), person="ola", origin="t")
    assert not room.failing
    assert text_of(room) == "Hei"


async def test_poisoned_rows_are_quarantined_and_the_rest_loads() -> None:
    store = MemoryStore()
    good = edit("Hei")
    store.kept(DOC).rows = [(1, good), (2, b"\xff\xff\xff"), (3, nested(40))]
    store.seq = 3
    rooms = Rooms(store, RoomSettings())
    room = await rooms.get(DOC)
    assert text_of(room) == "Hei"
    assert set(store.kept(DOC).quarantined) == {2, 3}
    assert room.size == len(good)


async def test_a_poisoned_snapshot_is_dropped_and_the_document_rebuilt_from_updates() -> None:
    store = MemoryStore()
    first = edit("Hei")
    store.kept(DOC).rows = [(1, first)]
    store.kept(DOC).snapshot, store.kept(DOC).upto = b"\xff\xff", 1
    store.seq = 1
    room = await Rooms(store, RoomSettings()).get(DOC)
    assert store.kept(DOC).snapshot is None
    assert text_of(room) == "Hei"
    assert room.last_seq == 1


def test_screen_sorts_stored_rows_without_applying_them() -> None:
    first = edit("Hei")
    third = edit("!", base=first)
    stored = StoredDoc(None, [(1, first), (2, b"\x00\x09"), (3, third)])
    screened = screen(DOC, stored)
    assert [s for s, _ in screened.good] == [1, 3]
    assert [s for s, _ in screened.bad] == [2]
    assert screened.snapshot_error is None
    assert screened.size == len(first) + len(third)
    bad_snapshot = screen(DOC, StoredDoc(b"\xff", [], 1))
    assert bad_snapshot.snapshot_error is not None
    assert bad_snapshot.size == 0


def test_document_names_decide_the_roots() -> None:
    assert roots_of("plan:plan0001:measure:meas0001") == frozenset({"description", "progress"})
    assert roots_of("meeting:meet0001:item:item0001") == frozenset({"notes"})
    assert roots_of("not a document") is None


async def test_loading_gives_up_when_the_store_keeps_serving_a_bad_snapshot() -> None:
    class Stubborn(MemoryStore):
        async def drop_snapshot(self, doc: str) -> None:
            pass  # storage that never forgets it

    store = Stubborn()
    store.kept(DOC).snapshot, store.kept(DOC).upto = b"\xff\xff", 0
    with pytest.raises(StoreUnavailable):
        await Rooms(store, RoomSettings()).get(DOC)
    assert store.loads == 20


async def test_remote_updates_apply_only_to_a_loaded_room_and_only_when_valid() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings())
    rooms.apply_remote(DOC, edit("ignored"), 5)  # not loaded here: nothing to do
    assert rooms.loaded(DOC) is None
    room = await rooms.get(DOC)
    rooms.apply_remote(DOC, EMPTY_UPDATE, 9)
    assert room.last_seq == 0
    remote = edit("Hei")
    rooms.apply_remote(DOC, remote, 7)
    assert text_of(room) == "Hei"
    assert room.last_seq == 7
    assert room.size == len(remote)
    older = edit("x", base=remote)
    rooms.apply_remote(DOC, older, 3)  # an older number never goes back
    assert room.last_seq == 7
    rooms.apply_remote(DOC, b"\xff\xff", 8)
    assert room.last_seq == 7
    rooms.apply_remote(DOC, edit("x", root="nope"), 8)  # a root this document never has
    assert room.last_seq == 7
    assert rooms.loaded(DOC) is room
    # Another process stored it, so it is judged as stored rows are (STORED), not as a
    # participant's update: a 300 kB paste another process accepted is applied here too.
    long = edit("y" * 300_000)
    rooms.apply_remote(DOC, long, 8)
    assert room.last_seq == 8
    assert room.size == len(remote) + len(older) + len(long)


async def test_the_rooms_limits_judge_a_participants_update() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings(limits=Limits(max_string_bytes=10)))
    room = await rooms.get(DOC)
    with pytest.raises(Malformed):
        await rooms.apply(room, edit("x" * 11), person="ola", origin="t")
    await rooms.apply(room, edit("x" * 10), person="ola", origin="t")
    assert text_of(room) == "x" * 10


async def test_members_keep_a_room_loaded_and_idle_rooms_unload() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings(idle_unload_seconds=30))
    gone: list[str] = []
    rooms.on_unload = gone.append
    room = await rooms.get(DOC)
    rooms.join(room, "sid1")
    rooms.join(room, "sid2")
    loaded_at = room.idle_since
    assert rooms.unload_idle(room.idle_since + 3600) == []
    rooms.leave(DOC, "sid1")
    assert room.idle_since == loaded_at  # still in use: not idle
    assert rooms.unload_idle(room.idle_since + 3600) == []
    before_last_leave = time.monotonic()
    rooms.leave(DOC, "sid2")
    left_at = room.idle_since
    assert left_at >= before_last_leave
    assert rooms.unload_idle(left_at + 29) == []
    assert rooms.unload_idle(left_at + 30) == [DOC]
    assert gone == [DOC]
    assert rooms.loaded(DOC) is None
    rooms.leave(DOC, "sid3")  # leaving an unloaded room is harmless


async def test_compaction_runs_after_enough_updates_and_loading_reads_the_snapshot() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings(compact_after_updates=3, sweep_seconds=3600))
    async with rooms.running():
        room = await rooms.get(DOC)
        base: list[bytes] = []
        for word in ("en", "to", "tre"):
            base.append(edit(word, base=base))
            await rooms.apply(room, base[-1], person="ola", origin="t")
        assert room.since_compaction == 0  # counted from zero again when scheduled
        while store.kept(DOC).snapshot is None:
            await asyncio.sleep(0)
        for _ in range(5):
            await asyncio.sleep(0)
        assert store.kept(DOC).upto == 3
        assert room.size == len(room.doc.get_update())
    fresh = await Rooms(store, RoomSettings()).get(DOC)
    assert text_of(fresh) == "entotre"
    assert fresh.last_seq == 3
    assert fresh.since_compaction == 0


async def test_a_failed_compaction_is_retried_after_half_the_updates() -> None:
    store = MemoryStore()
    store.fail_compaction = True
    rooms = Rooms(store, RoomSettings(compact_after_updates=5, sweep_seconds=3600))
    async with rooms.running():
        room = await rooms.get(DOC)
        base: list[bytes] = []
        for word in ("a", "b", "c", "d", "e"):
            base.append(edit(word, base=base))
            await rooms.apply(room, base[-1], person="ola", origin="t")
        for _ in range(10):
            await asyncio.sleep(0)
        assert room.since_compaction == 2  # half of 5, a whole number of updates
        assert store.kept(DOC).snapshot is None


async def test_a_room_being_compacted_stays_loaded_and_is_compacted_once() -> None:
    store = MemoryStore()
    store.compact_gate = asyncio.Event()
    calls = 0
    compact = store.compact

    async def counted(doc: str) -> int:
        nonlocal calls
        calls += 1
        return await compact(doc)

    store.compact = counted  # type: ignore[method-assign]
    rooms = Rooms(
        store, RoomSettings(compact_after_updates=1, idle_unload_seconds=0, sweep_seconds=3600)
    )
    async with rooms.running():
        room = await rooms.get(DOC)
        first = edit("a")
        await rooms.apply(room, first, person="ola", origin="t")
        await rooms.apply(room, edit("b", base=first), person="ola", origin="t")
        for _ in range(5):
            await asyncio.sleep(0)
        assert calls == 1  # the second update found a compaction under way
        assert rooms.unload_idle(time.monotonic() + 60) == []  # not while compacting
        store.compact_gate.set()
        # The update that arrived during the first compaction is folded by a second one
        # at once, not left waiting for an update that may never come.
        while store.kept(DOC).upto < 2:
            await asyncio.sleep(0)
        for _ in range(5):
            await asyncio.sleep(0)
        assert calls == 2
        assert room.since_compaction == 0
        assert rooms.unload_idle(time.monotonic() + 60) == [DOC]  # and after it, as usual


async def test_without_a_running_task_group_no_compaction_is_scheduled() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings(compact_after_updates=1))
    room = await rooms.get(DOC)
    await rooms.apply(room, edit("Hei"), person="ola", origin="t")
    await asyncio.sleep(0)
    assert store.kept(DOC).snapshot is None
    assert room.since_compaction == 1


async def test_the_sweeper_unloads_idle_rooms_while_running() -> None:
    store = MemoryStore()
    rooms = Rooms(store, RoomSettings(idle_unload_seconds=0, sweep_seconds=0.01))
    unloaded = asyncio.Event()
    rooms.on_unload = lambda name: unloaded.set()
    async with rooms.running():
        await rooms.get(DOC)
        await asyncio.wait_for(unloaded.wait(), 10)
    assert rooms.loaded(DOC) is None
