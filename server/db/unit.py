"""The SQL of the coordinating unit: its members, and the facts of every plan it sees
(dates and counts only; server/unit.py decides what becomes a row)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from collab.model import Role, new_id
from server.db import repo
from server.db.models import Appointment, MeetingRow, ParticipantRow, PlanRow, UnitMember

__all__ = ["add_member", "appoint", "is_member", "meetings_held", "plans"]

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


async def appoint(
    session: AsyncSession,
    *,
    plan: str,
    contact: dict[str, str],
    replacing: str | None,
    wish: str,
    by: str,
    now: datetime,
) -> ParticipantRow:
    """A new coordinator for ``plan`` (the one ``replacing`` leaves the group in the same
    step), with the owner's wish as the unit recorded it."""
    row = ParticipantRow(
        id=new_id(),
        plan_id=plan,
        person_id=None,
        active=True,
        role=Role.COORDINATOR.value,
        **contact,
    )
    await repo.record(session, row, plan_id=plan, change="create", by=by, at=now)
    if replacing is not None:
        old = await session.get(ParticipantRow, replacing)
        if old is not None and old.active:
            old.active = False
            await repo.record(session, old, plan_id=plan, change="remove", by=by, at=now)
    session.add(
        Appointment(
            id=new_id(),
            plan_id=plan,
            participant_id=row.id,
            owner_wish=wish,
            appointed_by=by,
            appointed_at=now,
        )
    )
    await session.flush()
    return row
