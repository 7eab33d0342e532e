"""What the access of a plan's live sessions depends on, read in one pass per poll.

A fingerprint per plan (latest consent version and whether it is in force, participants,
measures, meetings, status, archived sections, guardians whose full access has ended):
when it differs from the last poll, the plan's live sessions are re-decided
(``server.realtime.revocation``). Read-only; the caller gives the session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from collab import guardians
from collab.model import Role
from server.db.models import (
    ConsentRow,
    MeasureRow,
    MeetingRow,
    ParticipantRow,
    PlanRow,
    SectionRow,
    StandInRow,
)


async def access_fingerprints(
    session: AsyncSession, plans: set[str], now: datetime
) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {p: () for p in plans}
    consent = await session.execute(
        select(ConsentRow.plan_id, func.max(ConsentRow.version))
        .where(ConsentRow.plan_id.in_(plans))
        .group_by(ConsentRow.plan_id)
    )
    latest = {p: v for p, v in consent.all()}
    periods = await session.execute(
        select(
            ConsentRow.plan_id,
            ConsentRow.version,
            ConsentRow.valid_from,
            ConsentRow.valid_to,
        ).where(ConsentRow.plan_id.in_(plans))
    )
    in_force = {
        p: (vf <= now and (vt is None or now < vt))
        for p, v, vf, vt in periods.all()
        if latest.get(p) == v
    }
    people = await session.execute(
        select(ParticipantRow.plan_id, func.sum(ParticipantRow.version), func.count())
        .where(ParticipantRow.plan_id.in_(plans))
        .group_by(ParticipantRow.plan_id)
    )
    people_fp = {p: (int(s or 0), int(c)) for p, s, c in people.all()}
    measures = await session.execute(
        select(MeasureRow.plan_id, func.sum(MeasureRow.version), func.count())
        .where(MeasureRow.plan_id.in_(plans))
        .group_by(MeasureRow.plan_id)
    )
    measure_fp = {p: (int(s or 0), int(c)) for p, s, c in measures.all()}
    meetings = await session.execute(
        select(MeetingRow.plan_id, func.sum(MeetingRow.version), func.count())
        .where(MeetingRow.plan_id.in_(plans))
        .group_by(MeetingRow.plan_id)
    )
    meeting_fp = {p: (int(s or 0), int(c)) for p, s, c in meetings.all()}
    # Closing or reopening a plan, archiving a section: read-only or writable again.
    statuses = await session.execute(
        select(PlanRow.id, PlanRow.status).where(PlanRow.id.in_(plans))
    )
    status_fp = {p: st for p, st in statuses.all()}
    archived = await session.execute(
        select(SectionRow.plan_id, SectionRow.id)
        .where(SectionRow.plan_id.in_(plans), SectionRow.archived.is_(True))
        .order_by(SectionRow.id)
    )
    # A guardian's full access ends when a date passes (collab.guardians): the
    # poll notices the day change, and nothing else need happen for it.
    guardian_rows = await session.execute(
        select(
            ParticipantRow.plan_id,
            ParticipantRow.id,
            ParticipantRow.access_until,
            PlanRow.owner_born,
        )
        .join(PlanRow, PlanRow.id == ParticipantRow.plan_id)
        .where(
            ParticipantRow.plan_id.in_(plans),
            ParticipantRow.role == Role.GUARDIAN.value,
        )
        .order_by(ParticipantRow.id)
    )
    # A deputy stands in from one day to another: the poll notices the day a period
    # starts or ends (live sessions are re-decided then).
    stand_ins = await session.execute(
        select(StandInRow.plan_id, StandInRow.id, StandInRow.starts, StandInRow.ends)
        .where(StandInRow.plan_id.in_(plans))
        .order_by(StandInRow.id)
    )
    today = guardians.oslo_day(now)
    standing: dict[str, tuple[tuple[str, bool], ...]] = {}
    for p, sid, first, stop in stand_ins.all():
        standing[p] = (*standing.get(p, ()), (sid, first <= today < stop))
    ended_fp: dict[str, tuple[tuple[str, bool], ...]] = {}
    for p, pid, until, born in guardian_rows.all():
        ends = guardians.access_until(Role.GUARDIAN, until, born)
        ended_fp[p] = (*ended_fp.get(p, ()), (pid, ends is not None and today >= ends))
    archived_fp: dict[str, tuple[str, ...]] = {}
    for p, section in archived.all():
        archived_fp[p] = (*archived_fp.get(p, ()), section)
    for p in plans:
        out[p] = (
            latest.get(p),
            in_force.get(p),
            people_fp.get(p),
            measure_fp.get(p),
            meeting_fp.get(p),
            status_fp.get(p),
            archived_fp.get(p, ()),
            ended_fp.get(p, ()),
            standing.get(p, ()),
        )
    return out
