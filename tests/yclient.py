"""A Python Yjs client over Socket.IO for tests: python-socketio + pycrdt, speaking
PROTOCOL.md exactly as a browser would (join, sync handshake, updates, awareness)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import socketio
from pycrdt import Doc, Text

from collab.yproto import (
    AwarenessMessage,
    AwarenessState,
    SyncMessage,
    SyncStep,
    decode,
    encode_awareness,
    encode_sync,
)


class YClient:
    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        client_id: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.headers = headers or {}
        self.sio = socketio.AsyncClient(reconnection=False)
        self.docs: dict[str, Doc] = {}
        self.client_id = client_id
        self.revoked: dict[str, str] = {}
        self.access_changes: dict[str, list[str]] = {}  # doc → every doc:access received
        self.awareness: dict[str, dict[int, Any]] = {}
        self.synced: dict[str, asyncio.Event] = {}
        self.received: list[tuple[str, bytes]] = []
        self._changed = asyncio.Event()
        self.sio.on("doc:msg", self._on_msg)
        self.sio.on("doc:revoked", self._on_revoked)
        self.sio.on("doc:access", self._on_access)

    async def connect(self) -> None:
        auth = {"token": self.token} if self.token else None
        await self.sio.connect(
            self.url, auth=auth, headers=self.headers, transports=["websocket"], wait_timeout=20
        )

    async def close(self) -> None:
        await self.sio.disconnect()

    async def reconnect(self, attempts: int = 100) -> None:
        """As a browser would after a lost connection: connect again, re-join every
        document with the same clientID and run the sync handshake (which also delivers
        anything typed while away)."""
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("doc:msg", self._on_msg)
        self.sio.on("doc:revoked", self._on_revoked)
        self.sio.on("doc:access", self._on_access)
        for attempt in range(attempts):
            try:
                await self.connect()
                break
            except socketio.exceptions.ConnectionError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.1)
        for name in list(self.docs):
            self.synced[name] = asyncio.Event()
            ack = await self.join(name)
            if not ack.get("ok"):
                raise RuntimeError(f"re-join of {name} refused: {ack}")

    def doc(self, name: str) -> Doc:
        if name not in self.docs:
            self.docs[name] = Doc(client_id=self.client_id) if self.client_id else Doc()
            self.synced[name] = asyncio.Event()
        return self.docs[name]

    async def join(
        self, name: str, *, client_id: int | None = None, sync: bool = True
    ) -> dict[str, Any]:
        doc = self.doc(name)
        ack = await self.sio.call(
            "doc:join", {"doc": name, "client_id": client_id or doc.client_id}, timeout=30
        )
        if ack.get("ok") and sync:
            await self.send(name, encode_sync(SyncStep.STEP1, doc.get_state()))
        return dict(ack)

    async def send(self, name: str, message: bytes) -> dict[str, Any]:
        return dict(await self.sio.call("doc:msg", (name, message), timeout=30))

    async def wait_synced(self, name: str, timeout: float = 20) -> None:
        await asyncio.wait_for(self.synced[name].wait(), timeout)

    def text(self, name: str, field: str = "situation") -> str:
        return str(self.doc(name).get(field, type=Text))

    async def edit(self, name: str, change: Callable[[Doc], None]) -> dict[str, Any]:
        doc = self.doc(name)
        before = doc.get_state()
        with doc.transaction():
            change(doc)
        update = doc.get_update(before)
        return await self.send(name, encode_sync(SyncStep.UPDATE, update))

    async def insert(
        self, name: str, index: int, content: str, field: str = "situation"
    ) -> dict[str, Any]:
        def change(doc: Doc) -> None:
            text = doc.get(field, type=Text)
            text.insert(min(index, len(text)), content)  # index in UTF-8 bytes (pycrdt)

        return await self.edit(name, change)

    async def set_awareness(
        self, name: str, state: dict[str, Any], clock: int = 1
    ) -> dict[str, Any]:
        message = encode_awareness((AwarenessState(self.doc(name).client_id, clock, state),))
        return await self.send(name, message)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        async def loop() -> None:
            while not predicate():
                self._changed.clear()
                if predicate():
                    return
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    async def _on_msg(self, name: str, data: bytes) -> None:
        self.received.append((name, data))
        doc = self.docs.get(name)
        if doc is None:
            return
        message = decode(data)
        if isinstance(message, SyncMessage):
            if message.step is SyncStep.STEP1:
                await self.sio.emit(
                    "doc:msg", (name, encode_sync(SyncStep.STEP2, doc.get_update(message.payload)))
                )
            else:
                doc.apply_update(message.payload)
                if message.step is SyncStep.STEP2:
                    self.synced[name].set()
        elif isinstance(message, AwarenessMessage):
            known = self.awareness.setdefault(name, {})
            for state in message.states:
                known[state.client] = state.state
        self._changed.set()

    async def _on_access(self, data: dict[str, Any]) -> None:
        self.access_changes.setdefault(data["doc"], []).append(data["access"])
        self._changed.set()

    async def _on_revoked(self, data: dict[str, Any]) -> None:
        name = data["doc"]
        self.revoked[name] = data.get("reason", "")
        self.docs.pop(name, None)
        self._changed.set()
