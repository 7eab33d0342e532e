"""Revocation: live sessions follow access as it changes.

Re-decides a plan's live documents and meeting rooms when a request here says its access
may have changed (``recheck_plan``), and polls for what no request here told us: consent
expiring, a guardian's access ending on a date, changes made by other processes, and
browser sessions that ended. Documents and meetings do the re-deciding of their own
sessions; this part only says when, for which plan, and in what order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from server.auth.identity import is_session_live
from server.db.engine import read_only
from server.db.fingerprints import access_fingerprints
from server.realtime.connections import Connections
from server.realtime.hub import Documents
from server.realtime.meeting import MeetingEvents
from server.realtime.visibility import KnownPersons

log = logging.getLogger("planrom.realtime")


class Revocation:
    """The revocation part of the realtime namespace."""

    def __init__(
        self,
        connections: Connections,
        docs: Documents,
        meetings: MeetingEvents,
        known: KnownPersons,
    ) -> None:
        self.connections = connections
        self.services = connections.services
        self.sio = connections.sio
        self.docs = docs
        self.meetings = meetings
        self.known = known
        self._fingerprints: dict[str, tuple[Any, ...]] = {}

    async def recheck_plan(self, plan_id: str) -> None:
        """Re-decide every live document and meeting room of a plan (and who awareness
        names are shown to); revoke what may no longer be read."""
        await self.docs.recheck_plan(plan_id)
        self.known.forget(plan_id)
        await self.meetings.recheck_plan(plan_id)

    @contextlib.asynccontextmanager
    async def polling(self) -> AsyncIterator[None]:
        async with asyncio.TaskGroup() as tasks:
            poller = tasks.create_task(self._poll())
            try:
                yield
            finally:
                poller.cancel()

    async def _poll(self) -> None:
        """Catch what no request here told us: expiry, and changes made by other processes."""
        interval = self.services.settings.consent_poll_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.poll_once()
            except Exception:
                log.exception("access poll failed")

    async def poll_once(self) -> None:
        plans = {j.plan for c in self.connections.conns.values() for j in c.docs.values() if j.plan}
        if plans:
            async with self.services.sessionmaker() as session:
                await read_only(session)
                current = await access_fingerprints(session, plans, self.services.clock())
            for plan, fp in current.items():
                # A plan seen for the first time is re-checked too: its access may have
                # changed between a join and this poll.
                if self._fingerprints.get(plan) != fp:
                    self._fingerprints[plan] = fp
                    await self.recheck_plan(plan)
            for plan in set(self._fingerprints) - plans:
                del self._fingerprints[plan]
        await self._check_sessions()

    async def _check_sessions(self) -> None:
        now = self.services.clock()
        cookie_conns = [c for c in self.connections.conns.values() if c.session_hash is not None]
        if not cookie_conns:
            return
        async with self.services.sessionmaker() as session:
            await read_only(session)
            for conn in cookie_conns:
                assert conn.session_hash is not None
                if not await is_session_live(
                    session, conn.session_hash, now=now, settings=self.services.settings
                ):
                    await self.sio.disconnect(conn.sid)
