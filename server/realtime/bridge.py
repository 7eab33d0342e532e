"""Between server processes: every stored document update is published on Redis so
that other processes holding the same document apply it to their in-memory copy.

(Delivery to clients on other processes is python-socketio's Redis manager's job.)

Redis pub/sub delivers at most once: a message is lost when a subscriber reconnects or
falls behind. Each process numbers the messages it publishes (1, 2, 3, …); a receiver
that sees a sender's number jump knows it missed something, and brings every document
it holds up to date from storage (the stored log is the truth; applying what is already
there changes nothing). A loss is noticed with the sender's next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis
from pycrdt import Doc

from collab.editing import YDoc
from collab.rooms import Rooms
from collab.yproto import EMPTY_UPDATE

log = logging.getLogger("planrom.bridge")

CHANNEL = "planrom:doc-updates"
MEETINGS = "planrom:meetings"
_HEADER = struct.Struct(">16sQQH")  # sender, its message number, update seq, name length


def pack(process_id: str, number: int, doc: str, seq: int, update: bytes) -> bytes:
    name = doc.encode()
    header = _HEADER.pack(process_id.encode()[:16].ljust(16), number, seq, len(name))
    return header + name + update


def unpack(data: bytes) -> tuple[str, int, str, int, bytes]:
    process, number, seq, length = _HEADER.unpack_from(data)
    start = _HEADER.size
    doc = data[start : start + length].decode()
    return process.decode().strip(), number, doc, seq, data[start + length :]


Emit = Callable[[str, bytes], Awaitable[object]]


async def resync(rooms: Rooms, emit: Emit) -> list[str]:
    """Bring every loaded document up to date from storage; ``emit`` sends what was
    missing to the document's members. Returns the documents that had missed something."""
    behind = []
    for name in rooms.names():
        room = rooms.loaded(name)
        if room is None:
            continue
        stored = await rooms.store.load(name)
        truth: YDoc = Doc()
        if stored.snapshot:
            truth.apply_update(stored.snapshot)
        for _, update in stored.updates:
            truth.apply_update(update)
        missing = bytes(truth.get_update(room.doc.get_state()))
        if missing == EMPTY_UPDATE:
            continue
        rooms.apply_remote(name, missing, stored.last_seq)
        behind.append(name)
        await emit(name, missing)
    if behind:
        log.warning("resynced %d document(s) from storage after a lost message", len(behind))
    return behind


def _ignore_update(doc: str, seq: int, update: bytes) -> None:
    """Nothing is received outside ``RedisBridge.running``."""


async def _ignore_meeting(meeting: str) -> None:
    """Nothing is received outside ``RedisBridge.running``."""


class RedisBridge:
    def __init__(self, url: str, process_id: str) -> None:
        self.url = url
        self.process_id = process_id
        self.on_update: Callable[[str, int, bytes], None] = _ignore_update
        self.on_meeting: Callable[[str], Awaitable[None]] = _ignore_meeting
        self.client: aioredis.Redis | None = None
        self.sent = 0  # the number of this process's last published message
        self.heard: dict[str, int] = {}  # sender → the highest number received
        self.gaps = 0  # how many losses were noticed
        self._gap = False
        self._tasks: asyncio.TaskGroup | None = None
        self._resync_with: tuple[Rooms, Emit] | None = None

    @contextlib.asynccontextmanager
    async def running(
        self,
        on_update: Callable[[str, int, bytes], None],
        on_meeting: Callable[[str], Awaitable[None]],
    ) -> AsyncIterator[RedisBridge]:
        """Publish and listen until the block ends: another process's stored update goes
        to ``on_update``, its meeting change to ``on_meeting``."""
        self.on_update, self.on_meeting = on_update, on_meeting
        self.client = aioredis.from_url(self.url)
        pubsub = self.client.pubsub()
        await pubsub.subscribe(CHANNEL, MEETINGS)
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            listener = tasks.create_task(self._listen_always(pubsub))
            try:
                yield self
            finally:
                self._tasks = None
                listener.cancel()
                await self.client.aclose()
                self.client = None

    async def _listen_always(self, pubsub: aioredis.client.PubSub) -> None:
        """Listen, and when Redis goes away, subscribe again (with backoff) instead of
        ending: an outage must not take the server down. Whatever was published while
        away is lost, so every document held is resynced from storage on return."""
        current: aioredis.client.PubSub | None = pubsub
        delay = 0.1
        while True:
            try:
                if current is None:
                    assert self.client is not None
                    current = self.client.pubsub()
                    await current.subscribe(CHANNEL, MEETINGS)
                    log.warning("Redis subscription restored")
                    self.gaps += 1
                    self._gap = True
                    if self._resync_with is not None:
                        self.resync_after_gap(*self._resync_with)
                delay = 0.1
                await self._listen(current)
            except Exception as exc:
                log.warning("Redis subscription lost (%s); retrying in %.1f s", exc, delay)
                if current is not None:
                    with contextlib.suppress(Exception):
                        await current.aclose()  # type: ignore[no-untyped-call]
                current = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except BaseException:
                if current is not None:
                    with contextlib.suppress(Exception):
                        await current.aclose()  # type: ignore[no-untyped-call]
                raise

    async def _listen(self, pubsub: aioredis.client.PubSub) -> None:
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            if message.get("channel") in (MEETINGS, MEETINGS.encode()):
                sender, _, meeting = bytes(message["data"]).decode(errors="replace").partition(":")
                if sender != self.process_id and meeting:
                    try:
                        await self.on_meeting(meeting)
                    except Exception:
                        log.exception("a remote meeting change of %s failed", meeting)
                continue
            try:
                process, number, doc, seq, update = unpack(message["data"])
            except (struct.error, UnicodeDecodeError):
                log.warning("ignoring a malformed bridge message")
                continue
            if process != self.process_id:
                self._count(process, number)
                try:
                    self.on_update(doc, seq, update)
                except Exception:
                    log.exception("applying a remote update of %s failed", doc)

    def _count(self, process: str, number: int) -> None:
        last = self.heard.get(process)
        if last is not None and number > last + 1:
            self.gaps += 1
            self._gap = True
            log.warning("missed %d message(s) from process %s", number - last - 1, process)
        self.heard[process] = max(number, last or 0)

    def resync_after_gap(self, rooms: Rooms, emit: Emit) -> None:
        """Called after each remote update: if a message was lost, resync from storage
        (in the background, once per loss)."""
        self._resync_with = (rooms, emit)
        if not self._gap or self._tasks is None:
            return
        self._gap = False
        self._tasks.create_task(self._resync(rooms, emit))

    async def _resync(self, rooms: Rooms, emit: Emit) -> None:
        try:
            await resync(rooms, emit)
        except Exception:
            log.exception("resync after a lost message failed")
            self._gap = True  # try again with the next message

    async def publish_meeting(self, meeting: str) -> None:
        if self.client is not None:
            await self.client.publish(MEETINGS, f"{self.process_id}:{meeting}")

    async def publish(self, doc: str, seq: int, update: bytes) -> None:
        if self.client is not None:
            self.sent += 1
            await self.client.publish(CHANNEL, pack(self.process_id, self.sent, doc, seq, update))
