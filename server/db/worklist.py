"""The SQL of the worklist: for many plans at once, their measures, meetings, open
invitations and when anything last changed (a handful of grouped queries, not a query
per plan per kind)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.auth_models import Invitation
from server.db.models import (
    AccessLogRow,
    DocSnapshot,
    DocUpdate,
    MeasureRow,
    MeetingRow,
    RecordVersion,
)

__all__ = ["chunks", "last_activity", "measures", "meetings", "open_invitations"]

# PostgreSQL's driver takes at most 32767 parameters a query; the reminder pass and the
# unit's page ask about every active plan at once, so long lists go in slices.
CHUNK = 10_000
T = TypeVar("T")


def chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


async def measures(session: AsyncSession, plans: Sequence[str]) -> list[MeasureRow]:
    out: list[MeasureRow] = []
    for part in chunks(plans):
        out += await session.scalars(
            select(MeasureRow).where(MeasureRow.plan_id.in_(part)).order_by(MeasureRow.id)
        )
    return sorted(out, key=lambda m: m.id)


async def meetings(session: AsyncSession, plans: Sequence[str]) -> list[MeetingRow]:
    out: list[MeetingRow] = []
    for part in chunks(plans):
        out += await session.scalars(
            select(MeetingRow).where(MeetingRow.plan_id.in_(part)).order_by(MeetingRow.starts_at)
        )
    return sorted(out, key=lambda m: m.starts_at)


async def open_invitations(
    session: AsyncSession, plans: Sequence[str], now: datetime
) -> list[Invitation]:
    """Invitations sent and neither used, revoked nor expired."""
    out: list[Invitation] = []
    for part in chunks(plans):
        out += await session.scalars(
            select(Invitation)
            .where(
                Invitation.plan_id.in_(part),
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at)
        )
    return sorted(out, key=lambda i: i.created_at)


async def last_activity(session: AsyncSession, plans: Sequence[str]) -> dict[str, datetime]:
    """When something in each plan last changed: a record, a document, a meeting, consent
    (opening a plan is not activity). Plans with no change at all are left out."""
    latest: dict[str, datetime] = {}

    def seen(plan: str, at: datetime | None) -> None:
        if at is not None and (plan not in latest or at > latest[plan]):
            latest[plan] = at

    grouped = [
        query
        for part in chunks(plans)
        for query in (
            select(RecordVersion.plan_id, func.max(RecordVersion.changed_at))
            .where(RecordVersion.plan_id.in_(part))
            .group_by(RecordVersion.plan_id),
            select(AccessLogRow.plan_id, func.max(AccessLogRow.at))
            .where(AccessLogRow.plan_id.in_(part), AccessLogRow.action.in_(("change", "sign")))
            .group_by(AccessLogRow.plan_id),
        )
    ]
    for query in grouped:
        for plan, at in await session.execute(query):
            seen(plan, at)
    # Documents are named "plan:<id>:…" (meeting items "meeting:<id>:…" are covered by
    # the meeting's own log rows): a range over the name index per plan.
    for plan in plans:
        low, high = f"plan:{plan}:", f"plan:{plan};"
        seen(
            plan,
            await session.scalar(
                select(func.max(DocUpdate.at)).where(DocUpdate.doc >= low, DocUpdate.doc < high)
            ),
        )
        seen(
            plan,
            await session.scalar(
                select(func.max(DocSnapshot.at)).where(
                    DocSnapshot.doc >= low, DocSnapshot.doc < high
                )
            ),
        )
    return latest
