"""Effects that must happen after a transaction commits, made durable (an outbox).

A workflow that changes records and documents together (finalising a meeting applies
its decisions to measures, whose documents get a progress entry) records each document
edit *as data* in the same transaction (``record``). After the commit the runner claims
each due effect, makes the edit through the real-time hub (stored, attributed,
broadcast) and marks it done: at once, in the request that committed (``run_now``), else
in a background pass. An edit that fails is retried with growing delays; a process that
dies between the commit and the edit leaves the effect in the table, and the next pass of
any process (one runs at start-up) makes it. Edits are idempotent
(``collab.editing.edit_of``), so an effect made but not yet marked done when a process
died is not made twice. ADR 0018.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collab.editing import EDIT_KINDS, YDoc, edit_of
from server.db import effects as effects_db

log = logging.getLogger("planrom.effects")

__all__ = ["EditAs", "Effects"]

# Makes an edit of a document on a person's behalf (the hub's ``edit_as``).
EditAs = Callable[[str, str, Callable[[YDoc], None]], Awaitable[object]]


class Effects:
    def __init__(
        self,
        *,
        interval_seconds: float = 5.0,
        lease_seconds: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.interval = interval_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self._wake: asyncio.Event | None = None
        self._runner: tuple[async_sessionmaker[AsyncSession], EditAs] | None = None

    @staticmethod
    def record(
        session: AsyncSession,
        *,
        doc: str,
        kind: str,
        data: dict[str, object],
        person: str,
        now: datetime,
    ) -> None:
        """Store a document edit to make after ``session`` commits (in its transaction)."""
        edit_of(kind, data)  # refuse a description that could never be made, now
        assert kind in EDIT_KINDS
        effects_db.add(session, kind=kind, doc=doc, data=data, person=person, now=now)

    def kick(self) -> None:
        """Something was recorded and committed: wake the background pass now."""
        if self._wake is not None:
            self._wake.set()

    async def run_now(self) -> int:
        """After a commit, in the request that committed: make what is due before the
        answer goes out (as an edit made in the request would be). Effects another pass
        has already claimed are left to it. A failure is kept for a retry, not raised."""
        if self._runner is None:
            return 0
        return await self.run_due(*self._runner)

    async def run_due(self, sessionmaker: async_sessionmaker[AsyncSession], edit_as: EditAs) -> int:
        """One pass: make every due effect this process can claim. Returns how many."""
        made = 0
        async with sessionmaker() as db:
            rows = await effects_db.due(db, self.clock())
        for row in rows:
            async with sessionmaker() as db, db.begin():
                if not await effects_db.claim(db, row, self.clock() + self.lease):
                    continue  # another process has it
            try:
                await edit_as(row.person_id, row.doc, edit_of(row.kind, row.data))
            except Exception as exc:
                delay = timedelta(seconds=min(300, 2 ** min(row.attempts + 1, 9)))
                log.warning("effect %d (%s on %s) failed: %s", row.id, row.kind, row.doc, exc)
                async with sessionmaker() as db, db.begin():
                    await effects_db.failed(db, row.id, repr(exc), self.clock() + delay)
                continue
            async with sessionmaker() as db, db.begin():
                await effects_db.done(db, row.id, self.clock())
            made += 1
        return made

    @contextlib.asynccontextmanager
    async def running(
        self, sessionmaker: async_sessionmaker[AsyncSession], edit_as: EditAs
    ) -> AsyncIterator[None]:
        """Run passes in the background: one at once (what a crashed process left), then
        whenever kicked and every ``interval`` seconds (retries, other processes' work)."""
        self._wake = asyncio.Event()
        self._runner = (sessionmaker, edit_as)
        wake = self._wake

        async def loop() -> None:
            while True:
                wake.clear()
                try:
                    await self.run_due(sessionmaker, edit_as)
                except Exception:  # the database may be away for a moment
                    log.exception("a pass over pending effects failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.interval)

        task = asyncio.create_task(loop(), name="planrom-effects")
        try:
            yield
        finally:
            self._wake = self._runner = None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
