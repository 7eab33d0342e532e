"""Shared in-memory documents: load once, apply checked updates, compact, unload when idle.

One :class:`DocRoom` per document name per process, shared by every connection. An update
is validated on a scratch document, stored durably, and only then applied and returned
to the caller for broadcasting, so nothing unstored is ever visible to anyone. Updates
commute (CRDT), so concurrent appends need no lock; snapshots are built from storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from pycrdt import Doc

from collab.editing import YDoc
from collab.store import DocStore
from collab.yproto import EMPTY_UPDATE, Malformed
from collab.yupdate import update_clients

log = logging.getLogger("planrom.rooms")


class StoreUnavailable(RuntimeError):
    """Storage refused or failed a write; the change was not applied."""


def clients_in_update(update: bytes) -> set[int]:
    """The clientIDs whose items (structs) an update carries; raises Malformed."""
    return update_clients(update)


def check_update(update: bytes) -> None:
    """Apply to a scratch document: proves the bytes decode fully."""
    try:
        Doc().apply_update(update)
    except Exception:
        raise Malformed("not a Yjs update") from None
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
            raise
        raise Malformed("not a Yjs update") from None


@dataclass
class DocRoom:
    name: str
    doc: YDoc
    last_seq: int
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
            stored = await self.store.load(name)
            doc: YDoc = Doc()
            if stored.snapshot:
                doc.apply_update(stored.snapshot)
            for _, update in stored.updates:
                doc.apply_update(update)
            room = DocRoom(name, doc, stored.last_seq, since_compaction=len(stored.updates))
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

    async def apply(self, room: DocRoom, update: bytes, *, person: str | None, origin: str) -> int:
        """Validate, store durably, then apply. Returns the update's sequence number.

        Raises Malformed (nothing stored) or StoreUnavailable (nothing applied).
        """
        check_update(update)
        try:
            seq = await self.store.append(room.name, update, person=person, origin=origin)
        except Exception as exc:
            room.failing = True
            log.error("storing an update of %s failed: %s", room.name, exc)
            raise StoreUnavailable(str(exc)) from exc
        room.failing = False
        room.doc.apply_update(update)
        room.last_seq = max(room.last_seq, seq)
        room.since_compaction += 1
        if room.since_compaction >= self.settings.compact_after_updates:
            self._schedule_compaction(room)
        return seq

    def apply_remote(self, name: str, update: bytes, seq: int) -> None:
        """An update another process stored: apply it if we hold the document."""
        room = self._rooms.get(name)
        if room is not None and update != EMPTY_UPDATE:
            room.doc.apply_update(update)
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
        except Exception as exc:
            log.warning("compacting %s failed: %s", name, exc)
            room = self._rooms.get(name)
            if room is not None:
                room.since_compaction = self.settings.compact_after_updates // 2
        finally:
            self._compacting.discard(name)

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
