"""The SQL of pending effects (``PendingEffect``): add one in the caller's transaction,
find those due, claim one for a while, mark it done or failed.

A claim is an UPDATE that succeeds only if the row is still as it was read (same
``attempts``, not done), so two processes never carry out the same effect at once; a
process that dies holding a claim loses it when ``not_before`` (the lease) passes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import PendingEffect

__all__ = ["add", "claim", "done", "due", "failed", "pending"]


def add(
    session: AsyncSession,
    *,
    kind: str,
    doc: str,
    data: dict[str, object],
    person: str,
    now: datetime,
) -> PendingEffect:
    row = PendingEffect(
        kind=kind,
        doc=doc,
        data=data,
        person_id=person,
        created_at=now,
        not_before=now,
        attempts=0,
        error="",
    )
    session.add(row)
    return row


async def due(session: AsyncSession, now: datetime, limit: int = 50) -> list[PendingEffect]:
    """Effects not done whose time has come, oldest first."""
    rows = await session.scalars(
        select(PendingEffect)
        .where(PendingEffect.done_at.is_(None), PendingEffect.not_before <= now)
        .order_by(PendingEffect.id)
        .limit(limit)
    )
    return list(rows)


async def pending(session: AsyncSession) -> list[PendingEffect]:
    """Every effect not done yet (for `planrom doctor` and tests)."""
    rows = await session.scalars(
        select(PendingEffect).where(PendingEffect.done_at.is_(None)).order_by(PendingEffect.id)
    )
    return list(rows)


async def claim(session: AsyncSession, row: PendingEffect, until: datetime) -> bool:
    """Take ``row`` until ``until``; False when another process took or finished it."""
    result = await session.execute(
        update(PendingEffect)
        .where(
            PendingEffect.id == row.id,
            PendingEffect.attempts == row.attempts,
            PendingEffect.done_at.is_(None),
        )
        .values(attempts=row.attempts + 1, not_before=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def done(session: AsyncSession, effect_id: int, now: datetime) -> None:
    await session.execute(
        update(PendingEffect)
        .where(PendingEffect.id == effect_id)
        .values(done_at=now, error="")
        .execution_options(synchronize_session=False)
    )


async def failed(session: AsyncSession, effect_id: int, error: str, retry_at: datetime) -> None:
    await session.execute(
        update(PendingEffect)
        .where(PendingEffect.id == effect_id)
        .values(error=error[:2000], not_before=retry_at)
        .execution_options(synchronize_session=False)
    )
