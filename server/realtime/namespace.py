"""Real time: one Socket.IO namespace made of parts that ``server.app.create_app``
constructs and passes in, in dependency order (connections → documents → meetings →
revocation). The parts do not know the namespace; it registers their events, sends a
closed connection to each part that held state for it, starts and stops them, and is
what HTTP routes reach as ``Services.realtime`` (the ``server.runtime.Realtime``
protocol).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from collab.editing import YDoc
from server.realtime.bridge import RedisBridge
from server.realtime.connections import Connections
from server.realtime.hub import Documents
from server.realtime.meeting import MeetingEvents
from server.realtime.revocation import Revocation


class Namespace:
    def __init__(
        self,
        connections: Connections,
        docs: Documents,
        meetings: MeetingEvents,
        revocation: Revocation,
        bridge: RedisBridge | None,
    ) -> None:
        self.connections = connections
        self.docs = docs
        self.meetings = meetings
        self.revocation = revocation
        self.bridge = bridge

    def register(self) -> None:
        """Answer the parts' events on the Socket.IO server (each event through the
        connections' guard: authenticated, rate-limited, failures as refusals)."""
        sio = self.connections.sio
        guard = self.connections.guard
        sio.on("connect", self.connections.on_connect)
        sio.on("disconnect", self.on_disconnect)
        sio.on("doc:join", guard(self.docs.on_doc_join))
        sio.on("doc:msg", guard(self.docs.on_doc_msg))
        sio.on("doc:leave", guard(self.docs.on_doc_leave))
        for event, handler in self.meetings.events().items():
            sio.on(event, guard(handler))
        sio.on("*", self.connections.on_unknown)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Namespace]:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.docs.running())
            if self.bridge is not None:
                await stack.enter_async_context(
                    self.bridge.running(self.docs.remote_update, self._remote_meeting)
                )
            await stack.enter_async_context(self.revocation.polling())
            yield self

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        conn = self.connections.drop(sid)
        if conn is None:
            return
        await self.meetings.disconnected(conn)
        await self.docs.left_all(conn)

    async def _remote_meeting(self, meeting_id: str) -> None:
        """Another process changed a meeting: tell our members, re-decide item documents."""
        await self.meetings.broadcast(meeting_id)
        await self.docs.recheck_prefix(f"meeting:{meeting_id}:")

    # --- server.runtime.Realtime: what HTTP routes may ask of the live side -------------

    async def recheck_plan(self, plan_id: str) -> None:
        await self.revocation.recheck_plan(plan_id)

    async def recheck_prefix(self, prefix: str) -> None:
        await self.docs.recheck_prefix(prefix)

    async def meeting_changed(self, meeting_id: str) -> None:
        """A meeting changed over HTTP: tell members here and on the other processes."""
        await self.meetings.after_change(meeting_id)

    async def edit_as(self, person: str, name: str, edit: Callable[[YDoc], None]) -> int:
        return await self.docs.edit_as(person, name, edit)

    async def document_state(self, name: str) -> bytes:
        return await self.docs.document_state(name)

    async def close_documents(self, prefix: str, reason: str) -> None:
        await self.docs.close_documents(prefix, reason)
