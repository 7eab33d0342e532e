"""Between server processes: every stored document update is published on Redis so
that other processes holding the same document apply it to their in-memory copy.

(Delivery to clients on other processes is python-socketio's Redis manager's job.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis

log = logging.getLogger("planrom.bridge")

CHANNEL = "planrom:doc-updates"
MEETINGS = "planrom:meetings"
_HEADER = struct.Struct(">16sQH")


def pack(process_id: str, doc: str, seq: int, update: bytes) -> bytes:
    name = doc.encode()
    return _HEADER.pack(process_id.encode()[:16].ljust(16), seq, len(name)) + name + update


def unpack(data: bytes) -> tuple[str, str, int, bytes]:
    process, seq, length = _HEADER.unpack_from(data)
    start = _HEADER.size
    doc = data[start : start + length].decode()
    return process.decode().strip(), doc, seq, data[start + length :]


class RedisBridge:
    def __init__(
        self,
        url: str,
        process_id: str,
        on_update: Callable[[str, int, bytes], None],
        on_meeting: Callable[[str], Awaitable[None]],
    ) -> None:
        self.url = url
        self.process_id = process_id
        self.on_update = on_update
        self.on_meeting = on_meeting
        self.client: aioredis.Redis | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RedisBridge]:
        self.client = aioredis.from_url(self.url)
        pubsub = self.client.pubsub()
        await pubsub.subscribe(CHANNEL, MEETINGS)
        async with asyncio.TaskGroup() as tasks:
            listener = tasks.create_task(self._listen(pubsub))
            try:
                yield self
            finally:
                listener.cancel()
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await self.client.aclose()
                self.client = None

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
                process, doc, seq, update = unpack(message["data"])
            except (struct.error, UnicodeDecodeError):
                log.warning("ignoring a malformed bridge message")
                continue
            if process != self.process_id:
                try:
                    self.on_update(doc, seq, update)
                except Exception:
                    log.exception("applying a remote update of %s failed", doc)

    async def publish_meeting(self, meeting: str) -> None:
        if self.client is not None:
            await self.client.publish(MEETINGS, f"{self.process_id}:{meeting}")

    async def publish(self, doc: str, seq: int, update: bytes) -> None:
        if self.client is not None:
            await self.client.publish(CHANNEL, pack(self.process_id, doc, seq, update))
