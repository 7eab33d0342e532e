"""The SQL of continuity: deputies standing in, handover notes, transitions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from collab.model import new_id
from server.db.models import HandoverRow, StandInRow, TransitionRow

__all__ = [
    "HandoverRow",
    "StandInRow",
    "add_stand_in",
    "add_transition",
    "hand_over",
    "latest_handover",
    "open_handover",
    "stand_ins",
    "transitions",
]


async def stand_ins(session: AsyncSession, plan: str) -> list[StandInRow]:
    rows = await session.scalars(
        select(StandInRow).where(StandInRow.plan_id == plan).order_by(StandInRow.starts)
    )
    return list(rows)


async def add_stand_in(
    session: AsyncSession,
    *,
    plan: str,
    deputy: str,
    coordinator: str,
    starts: date,
    ends: date,
    by: str,
    now: datetime,
) -> StandInRow:
    row = StandInRow(
        id=new_id(),
        plan_id=plan,
        participant_id=deputy,
        for_participant_id=coordinator,
        starts=starts,
        ends=ends,
        set_by=by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def open_handover(session: AsyncSession, plan: str, author: str) -> HandoverRow | None:
    """The note ``author`` (a coordinator) is writing, not yet handed to anyone."""
    return await session.scalar(
        select(HandoverRow).where(
            HandoverRow.plan_id == plan,
            HandoverRow.from_participant_id == author,
            HandoverRow.to_participant_id.is_(None),
        )
    )


async def latest_handover(session: AsyncSession, plan: str) -> HandoverRow | None:
    return await session.scalar(
        select(HandoverRow)
        .where(HandoverRow.plan_id == plan)
        .order_by(HandoverRow.written_at.desc(), HandoverRow.id)
        .limit(1)
    )


async def hand_over(
    session: AsyncSession,
    *,
    plan: str,
    old: str,
    old_name: str,
    new: str,
    new_name: str,
    now: datetime,
) -> HandoverRow:
    """The role passes from ``old`` to ``new``: the outgoing coordinator's note (or an
    empty one) now waits for the incoming one to accept it."""
    row = await open_handover(session, plan, old)
    if row is None:
        row = HandoverRow(
            id=new_id(),
            plan_id=plan,
            from_participant_id=old,
            from_name=old_name,
            note="",
            written_at=now,
        )
        session.add(row)
    row.to_participant_id, row.to_name, row.handed_at = new, new_name, now
    await session.flush()
    return row


async def transitions(session: AsyncSession, plan: str) -> list[TransitionRow]:
    rows = await session.scalars(
        select(TransitionRow)
        .where(TransitionRow.plan_id == plan)
        .order_by(TransitionRow.day.desc(), TransitionRow.id)
    )
    return list(rows)


async def unreviewed_transitions(
    session: AsyncSession, plans: list[str]
) -> dict[str, list[TransitionRow]]:
    rows = await session.scalars(
        select(TransitionRow)
        .where(TransitionRow.plan_id.in_(plans), TransitionRow.reviewed_at.is_(None))
        .order_by(TransitionRow.day)
    )
    out: dict[str, list[TransitionRow]] = {}
    for row in rows:
        out.setdefault(row.plan_id, []).append(row)
    return out


async def add_transition(
    session: AsyncSession, *, plan: str, kind: str, day: date, by: str, now: datetime
) -> TransitionRow:
    row = TransitionRow(
        id=new_id(), plan_id=plan, kind=kind, day=day, recorded_by=by, recorded_at=now
    )
    session.add(row)
    await session.flush()
    return row


async def get_stand_in(session: AsyncSession, plan: str, stand_in: str) -> StandInRow | None:
    row = await session.get(StandInRow, stand_in)
    return row if row is not None and row.plan_id == plan else None


async def write_note(
    session: AsyncSession, *, plan: str, author: str, name: str, note: str, now: datetime
) -> HandoverRow:
    """The coordinator's handover note, written or rewritten until it is handed over."""
    row = await open_handover(session, plan, author)
    if row is None:
        row = HandoverRow(
            id=new_id(), plan_id=plan, from_participant_id=author, from_name=name, note=""
        )
        session.add(row)
    row.note, row.written_at = note, now
    await session.flush()
    return row
