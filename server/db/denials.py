"""Refused attempts in the access log, bounded per plan, person and day.

A refusal is worth telling the owner about, but one row per refusal lets anyone who
knows a plan id bury the owner's view (and fill the database). So, per (plan, person,
UTC day):

- the first refusals are chained access-log rows as before (``action = "denied"``): one
  for a person with no role in the plan (an outsider), up to
  :data:`PARTICIPANT_ROWS_PER_DAY` for a participant;
- every refusal, those included, is counted in ``access_denials`` (outside the hash
  chain), whose row points at the first chained entry (``first_seq``); the owner's view
  shows that entry with the count;
- once a window has all its rows, further refusals are counted in this process's memory
  and stored at most once per :data:`FLUSH_SECONDS` (and when the access log is read, and
  at shutdown): a flood of refusals costs no write each.

ADR 0009 explains why the count is kept outside the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import audit
from server.db.models import AccessDenialRow, ParticipantRow, PlanRow

log = logging.getLogger("planrom.denials")

OUTSIDER_ROWS_PER_DAY = 1
PARTICIPANT_ROWS_PER_DAY = 25
FLUSH_SECONDS = 1.0
MAX_KEYS = 20_000  # windows remembered per process (least recently used forgotten)

Key = tuple[str, str, date]


@dataclass(frozen=True)
class Denial:
    """One refused attempt, as the access log would record it."""

    plan_id: str
    at: datetime
    person_id: str | None
    actor: str
    target: str
    detail: str = ""

    @property
    def key(self) -> Key:
        return (self.plan_id, self.person_id or "", self.at.astimezone(UTC).date())


@dataclass
class _Pending:
    count: int
    last: Denial


class Denials:
    """One process's view: which windows are full, and counts not stored yet."""

    def __init__(self, *, max_keys: int = MAX_KEYS) -> None:
        self._max_keys = max_keys
        self._full: OrderedDict[Key, None] = OrderedDict()
        self._pending: dict[Key, _Pending] = {}

    @property
    def pending(self) -> int:
        """Refusals counted in memory, not stored yet."""
        return sum(p.count for p in self._pending.values())

    def absorb(self, denial: Denial) -> bool:
        """Count ``denial`` in memory when its window has all its rows already.

        Returns False when it must be stored now (with :meth:`record`).
        """
        key = denial.key
        if key not in self._full:
            return False
        self._full.move_to_end(key)
        pending = self._pending.get(key)
        if pending is not None:
            pending.count += 1
            pending.last = denial
            return True
        if len(self._pending) >= self._max_keys:
            return False
        self._pending[key] = _Pending(1, denial)
        return True

    async def record(self, session: AsyncSession, denial: Denial) -> None:
        """Store one refusal in the caller's transaction: a chained row while its window
        has room, otherwise one more in the window's count."""
        # The plan row lock (as audit.append takes) orders writers of one plan's windows.
        await session.execute(
            update(PlanRow).where(PlanRow.id == denial.plan_id).values(id=PlanRow.id)
        )
        plan_id, person_id, day = denial.key
        row = await session.scalar(
            select(AccessDenialRow).where(
                AccessDenialRow.plan_id == plan_id,
                AccessDenialRow.person_id == person_id,
                AccessDenialRow.day == day,
            )
        )
        outsider = row.outsider if row is not None else await _is_outsider(session, denial)
        room = OUTSIDER_ROWS_PER_DAY if outsider else PARTICIPANT_ROWS_PER_DAY
        chained = None
        if row is None or row.logged < room:
            chained = await audit.append(
                session,
                plan_id=plan_id,
                at=denial.at,
                person_id=denial.person_id,
                actor=denial.actor,
                action="denied",
                target=denial.target,
                detail=denial.detail,
            )
        if row is None:
            assert chained is not None
            row = AccessDenialRow(
                plan_id=plan_id,
                person_id=person_id,
                day=day,
                actor=denial.actor[:200],
                outsider=outsider,
                count=1,
                logged=1,
                first_seq=chained.seq,
                first_at=denial.at,
                last_at=denial.at,
                last_target=denial.target[:200],
                last_detail=denial.detail,
            )
            session.add(row)
        else:
            row.count += 1
            row.logged += 1 if chained is not None else 0
            row.last_at = max(row.last_at, denial.at)
            row.last_target = denial.target[:200]
            row.last_detail = denial.detail
        await session.flush()
        if row.logged >= room:
            self._mark_full(denial.key)

    async def flush(self, session: AsyncSession, plan_id: str | None = None) -> int:
        """Store the counts held in memory (all, or one plan's) in the caller's
        transaction. Returns how many refusals were stored."""
        taken = self._take(plan_id)
        await _store(session, taken)
        return sum(p.count for p in taken.values())

    @contextlib.asynccontextmanager
    async def running(
        self, sessionmaker: async_sessionmaker[AsyncSession], every: float = FLUSH_SECONDS
    ) -> AsyncIterator[Denials]:
        """Store the counts in memory every ``every`` seconds, and once more at the end."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(every)
                await self._flush_now(sessionmaker)

        task = asyncio.create_task(loop())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._flush_now(sessionmaker)

    async def _flush_now(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        taken = self._take(None)
        if not taken:
            return
        try:
            async with sessionmaker() as session, session.begin():
                await _store(session, taken)
        except Exception:
            log.exception("could not store refusal counts; keeping them for the next attempt")
            for key, pending in taken.items():
                now = self._pending.get(key)
                if now is None:
                    self._pending[key] = pending
                else:
                    now.count += pending.count

    def _take(self, plan_id: str | None) -> dict[Key, _Pending]:
        keys = [k for k in self._pending if plan_id is None or k[0] == plan_id]
        return {k: self._pending.pop(k) for k in keys}

    def _mark_full(self, key: Key) -> None:
        # A forgotten window's next refusal goes to the database again, which still knows;
        # counts already in memory stay in ``_pending`` until stored.
        self._full[key] = None
        self._full.move_to_end(key)
        while len(self._full) > self._max_keys:
            self._full.popitem(last=False)


async def _store(session: AsyncSession, taken: dict[Key, _Pending]) -> None:
    for (plan_id, person_id, day), pending in taken.items():
        last = pending.last
        await session.execute(
            update(AccessDenialRow)
            .where(
                AccessDenialRow.plan_id == plan_id,
                AccessDenialRow.person_id == person_id,
                AccessDenialRow.day == day,
            )
            .values(
                count=AccessDenialRow.count + pending.count,
                last_at=last.at,
                last_target=last.target[:200],
                last_detail=last.detail,
            )
        )


async def _is_outsider(session: AsyncSession, denial: Denial) -> bool:
    """No active participant of the plan is this person."""
    if denial.person_id is None:
        return True
    found = await session.scalar(
        select(ParticipantRow.id).where(
            ParticipantRow.plan_id == denial.plan_id,
            ParticipantRow.person_id == denial.person_id,
            ParticipantRow.active.is_(True),
        )
    )
    return found is None


async def summaries(
    session: AsyncSession, plan_id: str, seqs: list[int]
) -> dict[int, AccessDenialRow]:
    """The refusal counts that hang on these access-log entries (by ``first_seq``)."""
    if not seqs:
        return {}
    rows = await session.scalars(
        select(AccessDenialRow).where(
            AccessDenialRow.plan_id == plan_id, AccessDenialRow.first_seq.in_(seqs)
        )
    )
    return {r.first_seq: r for r in rows}
