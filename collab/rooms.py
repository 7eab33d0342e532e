"""Shared in-memory documents: load once, apply checked updates, compact, unload when idle.

One :class:`DocRoom` per document name per process, shared by every connection. An update
is validated from its bytes (``collab.yupdate.validate``: structure, nesting depth across
the document's history, sizes, root names; nothing is applied, not even to a scratch
document, because applying is where Yrs overflows its stack), checked against the
document's size limit, stored durably, and only then applied and returned to the caller
for broadcasting, so nothing unstored is ever visible to anyone. Updates commute (CRDT),
so concurrent appends need no lock; snapshots are built from storage.

Loading validates every stored row the same way before applying it: a row that fails is
quarantined in storage and left out, so a poisoned row cannot take the process down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from pycrdt import Doc

from collab.docs import parse_doc_name, root_names
from collab.editing import YDoc
from collab.store import DocStore, StoredDoc
from collab.yproto import EMPTY_UPDATE, Malformed
from collab.yupdate import CLIENT, STORED, DepthIndex, Limits, update_clients, validate

log = logging.getLogger("planrom.rooms")


class StoreUnavailable(RuntimeError):
    """Storage refused or failed a write; the change was not applied."""


def clients_in_update(update: bytes, limits: Limits = CLIENT) -> set[int]:
    """The clientIDs whose items (structs) an update carries; raises Malformed, at the
    first of ``limits`` passed (the whole check comes with :meth:`Rooms.apply`)."""
    return update_clients(update, limits)


MAX_LOAD_ATTEMPTS = 20
SERVER_HEADROOM = 2  # server-made edits may grow a document to this many times its limit


def _applies(doc: YDoc, update: bytes) -> bool:
    """Apply a validated update; False if Yrs refuses it (pycrdt raises, or Yrs panics,
    which surfaces as a BaseException)."""
    try:
        doc.apply_update(update)
    except Exception:
        return False
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
            raise
        return False
    return True


class TooLarge(Malformed):
    """The document would grow past its size limit; nothing was stored."""


def roots_of(name: str) -> frozenset[str] | None:
    """The root names document ``name`` may have (None for a name that is no document)."""
    ref = parse_doc_name(name)
    return None if ref is None else root_names(ref)


@dataclass
class Screened:
    """Stored rows sorted into those that may be applied and those that may not."""

    index: DepthIndex
    size: int  # bytes of what may be applied
    snapshot_error: str | None
    good: list[tuple[int, bytes]]
    bad: list[tuple[int, str]]  # (seq, reason)


def screen(name: str, stored: StoredDoc) -> Screened:
    """Validate a stored snapshot and updates in order, as loading does, applying nothing."""
    roots = roots_of(name)
    index = DepthIndex()
    size = 0
    snapshot_error = None
    if stored.snapshot:
        try:
            validate(stored.snapshot, index, roots=roots, limits=STORED).record(index)
            size += len(stored.snapshot)
        except Malformed as exc:
            snapshot_error = str(exc)
    good: list[tuple[int, bytes]] = []
    bad: list[tuple[int, str]] = []
    for seq, update in stored.updates:
        try:
            validate(update, index, roots=roots, limits=STORED).record(index)
        except Malformed as exc:
            bad.append((seq, str(exc)))
            continue
        good.append((seq, update))
        size += len(update)
    return Screened(index, size, snapshot_error, good, bad)


@dataclass
class DocRoom:
    name: str
    doc: YDoc
    last_seq: int
    index: DepthIndex = field(default_factory=DepthIndex)
    size: int = 0  # running estimate of the stored bytes (snapshot + updates since)
    roots: frozenset[str] | None = None
    members: set[str] = field(default_factory=set)
    since_compaction: int = 0
    failing: bool = False
    idle_since: float = field(default_factory=time.monotonic)

    def state_vector(self) -> bytes:
        return bytes(self.doc.get_state())

    def diff(self, state_vector: bytes) -> bytes:
        try:
            return bytes(self.doc.get_update(state_vector))
        except Exception:
            raise Malformed("not a state vector") from None
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            raise Malformed("not a state vector") from None


@dataclass(frozen=True)
class RoomSettings:
    idle_unload_seconds: float = 30.0
    compact_after_updates: int = 500
    sweep_seconds: float = 1.0
    max_doc_bytes: int = 1024 * 1024
    limits: Limits = CLIENT


class Rooms:
    """Every loaded document of this process."""

    def __init__(self, store: DocStore, settings: RoomSettings) -> None:
        self.store = store
        self.settings = settings
        self._rooms: dict[str, DocRoom] = {}
        self._loading: dict[str, asyncio.Future[DocRoom]] = {}
        self._compacting: set[str] = set()
        self._tasks: asyncio.TaskGroup | None = None
        self.on_unload: Callable[[str], None] | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Rooms]:
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            sweeper = tasks.create_task(self._sweep())
            try:
                yield self
            finally:
                sweeper.cancel()
                self._tasks = None

    def loaded(self, name: str) -> DocRoom | None:
        return self._rooms.get(name)

    def names(self) -> list[str]:
        return list(self._rooms)

    async def get(self, name: str) -> DocRoom:
        """The room for ``name``, loading it once however many ask at the same moment."""
        room = self._rooms.get(name)
        if room is not None:
            return room
        pending = self._loading.get(name)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[DocRoom] = asyncio.get_running_loop().create_future()
        self._loading[name] = future
        try:
            room = await self._load(name)
            self._rooms[name] = room
            future.set_result(room)
            return room
        except BaseException as exc:
            future.set_exception(exc)
            # Mark retrieved so that a failure nobody else awaited is not reported twice.
            future.exception()
            raise
        finally:
            del self._loading[name]

    async def _load(self, name: str) -> DocRoom:
        """Validate every stored row, set aside what fails, apply the rest.

        Validation is what keeps Yrs from overflowing its stack; a Yrs panic on a row that
        passed it (a bug of Yrs') is caught too: the row is quarantined and the document
        built again without it.
        """
        for _ in range(MAX_LOAD_ATTEMPTS):
            stored = await self.store.load(name)
            screened = screen(name, stored)
            if screened.snapshot_error is not None:
                # A snapshot is derived data (the updates are kept): drop it and rebuild
                # from the updates, where the poisoned row will be found and quarantined.
                log.error("snapshot of %s refused (%s); dropped", name, screened.snapshot_error)
                await self.store.drop_snapshot(name)
                continue
            for seq, reason in screened.bad:
                log.error("update %d of %s quarantined: %s", seq, name, reason)
                await self.store.quarantine(name, seq, reason)
            doc: YDoc = Doc()
            if stored.snapshot and not _applies(doc, stored.snapshot):
                log.error("snapshot of %s could not be applied; dropped", name)
                await self.store.drop_snapshot(name)
                continue
            failed = next((seq for seq, u in screened.good if not _applies(doc, u)), None)
            if failed is not None:
                log.error("update %d of %s could not be applied; quarantined", failed, name)
                await self.store.quarantine(name, failed, "the update could not be applied")
                continue
            return DocRoom(
                name,
                doc,
                stored.last_seq,
                index=screened.index,
                size=screened.size,
                roots=roots_of(name),
                since_compaction=len(stored.updates),
            )
        raise StoreUnavailable(f"{name} could not be loaded")

    def limit_for(self, origin: str) -> int:
        """The size a document may reach through an update of ``origin``. Edits the server
        makes (a finalised meeting's decisions: progress notes, new measure ids) are
        authorised and bounded by HTTP limits, and must land even when people have filled
        the document to its limit, so they get headroom up to twice the limit."""
        limit = self.settings.max_doc_bytes
        return limit * SERVER_HEADROOM if origin == "server" else limit

    async def apply(self, room: DocRoom, update: bytes, *, person: str | None, origin: str) -> int:
        """Validate, store durably, then apply. Returns the update's sequence number.

        Raises Malformed (nothing stored), TooLarge (nothing stored) or StoreUnavailable
        (nothing applied).
        """
        checked = validate(update, room.index, roots=room.roots, limits=self.settings.limits)
        if room.size + len(update) > self.limit_for(origin):
            raise TooLarge("the document has reached its size limit")
        # Recorded before the write, with no await in between: a concurrent update that
        # builds on this one is judged with it. The index only ever overstates depths, so
        # keeping the entries of a write that then fails is safe.
        checked.record(room.index)
        room.size += len(update)
        try:
            seq = await self.store.append(room.name, update, person=person, origin=origin)
        except Exception as exc:
            room.size -= len(update)
            room.failing = True
            log.error("storing an update of %s failed: %s", room.name, exc)
            raise StoreUnavailable(str(exc)) from exc
        room.failing = False
        if not _applies(room.doc, update):
            # Validated, stored, and still refused by Yrs (a panic, not a crash): set the
            # row aside and rebuild the document from storage on its next use.
            log.error("update %d of %s could not be applied; quarantined", seq, room.name)
            self._rooms.pop(room.name, None)
            await self.store.quarantine(room.name, seq, "the update could not be applied")
            raise Malformed("the change could not be applied")
        room.last_seq = max(room.last_seq, seq)
        room.since_compaction += 1
        if room.since_compaction >= self.settings.compact_after_updates:
            self._schedule_compaction(room)
        return seq

    def apply_remote(self, name: str, update: bytes, seq: int) -> None:
        """An update another process stored: apply it if we hold the document."""
        room = self._rooms.get(name)
        if room is not None and update != EMPTY_UPDATE:
            try:
                validate(update, room.index, roots=room.roots, limits=STORED).record(room.index)
            except Malformed as exc:
                log.error("update %d of %s from another process refused: %s", seq, name, exc)
                return
            if not _applies(room.doc, update):
                log.error("update %d of %s from another process could not be applied", seq, name)
                self._rooms.pop(name, None)  # rebuilt from storage on next use
                return
            room.size += len(update)
            room.last_seq = max(room.last_seq, seq)

    def join(self, room: DocRoom, member: str) -> None:
        room.members.add(member)

    def leave(self, name: str, member: str) -> None:
        room = self._rooms.get(name)
        if room is not None:
            room.members.discard(member)
            if not room.members:
                room.idle_since = time.monotonic()

    def _schedule_compaction(self, room: DocRoom) -> None:
        if room.name in self._compacting or self._tasks is None:
            return
        self._compacting.add(room.name)
        room.since_compaction = 0
        self._tasks.create_task(self._compact(room.name))

    async def _compact(self, name: str) -> None:
        try:
            folded = await self.store.compact(name)
            log.debug("compacted %s (%d updates)", name, folded)
            room = self._rooms.get(name)
            if room is not None and folded:
                # Loading will read the snapshot: re-measure the estimate by its size.
                room.size = len(room.doc.get_update())
        except Exception as exc:
            log.warning("compacting %s failed: %s", name, exc)
            room = self._rooms.get(name)
            if room is not None:
                room.since_compaction = self.settings.compact_after_updates // 2
        finally:
            self._compacting.discard(name)
        # Updates that arrived while this compaction ran may already be over the mark:
        # fold them now rather than waiting for the next update, which may never come.
        room = self._rooms.get(name)
        if room is not None and room.since_compaction >= self.settings.compact_after_updates:
            self._schedule_compaction(room)

    def unload_idle(self, now: float) -> list[str]:
        gone = [
            name
            for name, room in self._rooms.items()
            if not room.members
            and not room.failing
            and name not in self._compacting
            and now - room.idle_since >= self.settings.idle_unload_seconds
        ]
        for name in gone:
            del self._rooms[name]
            if self.on_unload is not None:
                self.on_unload(name)
        return gone

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_seconds)
            self.unload_idle(time.monotonic())
