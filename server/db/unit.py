"""The SQL of the coordinating unit: its members, and the facts of every plan it sees
(dates and counts only; server/unit.py decides what becomes a row)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import MeetingRow, PlanRow, UnitMember

__all__ = ["add_member", "is_member", "meetings_held", "plans"]

HELD = ("ended", "approved", "final")


async def is_member(session: AsyncSession, person: str) -> bool:
    return await session.get(UnitMember, person) is not None


async def add_member(session: AsyncSession, person: str, by: str, now: datetime) -> bool:
    """Make ``person`` a member; False when they already are."""
    if await is_member(session, person):
        return False
    session.add(UnitMember(person_id=person, added_at=now, added_by=by))
    return True


async def plans(session: AsyncSession) -> list[PlanRow]:
    return list(await session.scalars(select(PlanRow).order_by(PlanRow.created_at, PlanRow.id)))


async def meetings_held(session: AsyncSession) -> list[tuple[str, datetime]]:
    """(plan, start) of every meeting that was held."""
    rows = await session.execute(
        select(MeetingRow.plan_id, MeetingRow.starts_at).where(MeetingRow.status.in_(HELD))
    )
    return [(plan, at) for plan, at in rows]
