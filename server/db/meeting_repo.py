"""SQL for meetings, their decisions and their minutes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from collab.meeting import MeetingState, from_dict, to_dict
from server.db import repo
from server.db.models import DecisionRow, MeetingRow, MinutesRow, RecordVersion, RenderedMinutes


async def get(session: AsyncSession, meeting_id: str, *, lock: bool = False) -> MeetingRow | None:
    query = select(MeetingRow).where(MeetingRow.id == meeting_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def state_of(row: MeetingRow) -> MeetingState:
    return from_dict(row.state)


async def save_state(
    session: AsyncSession, row: MeetingRow, state: MeetingState, *, by: str, at: datetime
) -> None:
    row.state = dict(to_dict(state))
    row.status = state.status.value
    await repo.record(session, row, plan_id=row.plan_id, change="update", by=by, at=at)


async def of_plan(session: AsyncSession, plan_id: str) -> Sequence[MeetingRow]:
    rows = await session.execute(
        select(MeetingRow).where(MeetingRow.plan_id == plan_id).order_by(MeetingRow.starts_at)
    )
    return rows.scalars().all()


async def decisions(session: AsyncSession, meeting_id: str) -> Sequence[DecisionRow]:
    rows = await session.execute(
        select(DecisionRow)
        .where(DecisionRow.meeting_id == meeting_id, DecisionRow.removed_at.is_(None))
        .order_by(DecisionRow.created_at, DecisionRow.id)
    )
    return rows.scalars().all()


async def minutes(session: AsyncSession, meeting_id: str) -> Sequence[MinutesRow]:
    rows = await session.execute(
        select(MinutesRow).where(MinutesRow.meeting_id == meeting_id).order_by(MinutesRow.version)
    )
    return rows.scalars().all()


async def minutes_versions(session: AsyncSession, meeting_id: str) -> list[tuple[int, int]]:
    """(row id, version) of every minutes version, oldest first, without their content."""
    rows = await session.execute(
        select(MinutesRow.id, MinutesRow.version)
        .where(MinutesRow.meeting_id == meeting_id)
        .order_by(MinutesRow.version)
    )
    return [(int(i), int(v)) for i, v in rows.all()]


async def next_minutes_version(session: AsyncSession, meeting_id: str) -> int:
    value = await session.scalar(
        select(func.max(MinutesRow.version)).where(MinutesRow.meeting_id == meeting_id)
    )
    return int(value or 0) + 1


async def last_final(session: AsyncSession, plan_id: str) -> MeetingRow | None:
    rows = await session.execute(
        select(MeetingRow)
        .where(MeetingRow.plan_id == plan_id, MeetingRow.status == "final")
        .order_by(MeetingRow.updated_at.desc())
        .limit(1)
    )
    return rows.scalar_one_or_none()


async def measures_changed_since(
    session: AsyncSession, plan_id: str, since: datetime | None
) -> frozenset[str]:
    if since is None:
        return frozenset()
    rows = await session.execute(
        select(RecordVersion.entity_id).where(
            RecordVersion.plan_id == plan_id,
            RecordVersion.entity == "measures",
            RecordVersion.changed_at > since,
        )
    )
    return frozenset(rows.scalars())


async def changes_since(
    session: AsyncSession, plan_id: str, since: datetime | None, limit: int = 500
) -> Sequence[RecordVersion]:
    query = select(RecordVersion).where(RecordVersion.plan_id == plan_id)
    if since is not None:
        query = query.where(RecordVersion.changed_at > since)
    rows = await session.execute(query.order_by(RecordVersion.id.desc()).limit(limit))
    return rows.scalars().all()


async def rendered(session: AsyncSession, key: str) -> bytes | None:
    """Stored rendered minutes by key (see server.rendered_minutes)."""
    data = await session.scalar(select(RenderedMinutes.data).where(RenderedMinutes.key == key))
    return bytes(data) if data is not None else None


async def store_rendered(
    session: AsyncSession,
    *,
    key: str,
    minutes_id: int,
    kind: str,
    lang: str,
    data: bytes,
    at: datetime,
) -> None:
    """Keep rendered minutes; a row with the same key (the same bytes) may exist already."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(RenderedMinutes)
        .values(key=key, minutes_id=minutes_id, kind=kind, lang=lang, data=data, created_at=at)
        .on_conflict_do_nothing(index_elements=["key"])
    )
