"""Repositories: the only place that reads and writes plan records with SQL.

Writes are attributed and versioned: each changes ``version``/``updated_*`` on the row
and appends the full new state to ``record_versions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from collab import guardians
from collab.consent import ConsentKind, ConsentVersion, Grant, SignMethod
from collab.model import (
    DEFAULT_EVALUATION_MONTHS,
    DEFAULT_SECTIONS,
    Level,
    Measure,
    MeasureStatus,
    Participant,
    Plan,
    PlanStatus,
    Role,
    Section,
    SectionKind,
    StandIn,
    new_id,
    next_evaluation,
)
from collab.policy import PlanContext
from server.db.auth_models import Invitation
from server.db.models import (
    Attributed,
    ConsentForm,
    ConsentRow,
    MeasureRow,
    MeetingRow,
    ParticipantRow,
    Person,
    PlanRow,
    RecordVersion,
    SectionRow,
    StandInRow,
)

# --- rows to domain ------------------------------------------------------------------


def to_participant(row: ParticipantRow, owner_born: date | None = None) -> Participant:
    return Participant(
        id=row.id,
        plan=row.plan_id,
        role=Role(row.role),
        name=row.name,
        person=row.person_id,
        organisation=row.organisation,
        service=row.service,
        title=row.title,
        phone=row.phone,
        email=row.email,
        active=row.active,
        access_until=guardians.access_until(Role(row.role), row.access_until, owner_born),
        access_answered=row.access_answered,
        hidden=bool(row.hidden),
    )


def to_section(row: SectionRow) -> Section:
    return Section(
        id=row.id,
        plan=row.plan_id,
        key=row.key,
        kind=SectionKind(row.kind),
        title=row.title,
        position=row.position,
        archived=row.archived,
    )


def to_measure(row: MeasureRow) -> Measure:
    return Measure(
        id=row.id,
        plan=row.plan_id,
        section=row.section_id,
        title=row.title,
        responsible=row.responsible_id,
        goal_ids=tuple(row.goal_ids or ()),
        frequency=row.frequency,
        starts=row.starts,
        ends=row.ends,
        status=MeasureStatus(row.status),
        evaluate_by=row.evaluate_by,
    )


def to_consent(row: ConsentRow) -> ConsentVersion:
    return ConsentVersion(
        plan=row.plan_id,
        version=row.version,
        signed_by=row.signed_by,
        recorded_by=row.recorded_by,
        signed_at=row.signed_at,
        purpose=row.purpose,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        grants=tuple(Grant(g["participant"], g["section"], Level(g["level"])) for g in row.grants),
        kind=ConsentKind(row.kind),
        method=SignMethod(row.method),
        sign_in=row.sign_in,
        form=row.form_id,
    )


def to_plan(row: PlanRow, participants: Sequence[ParticipantRow]) -> Plan:
    return Plan(
        id=row.id,
        title=row.title,
        status=PlanStatus(row.status),
        period_from=row.period_from,
        period_to=row.period_to,
        evaluation_months=row.evaluation_months,
        next_evaluation=row.next_evaluation,
        participants=tuple(to_participant(p, row.owner_born) for p in participants),
        survey_relatives=bool(row.survey_relatives),
    )


# --- versioned writes -----------------------------------------------------------------


def _snapshot(row: Attributed) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column in row.__table__.columns:  # type: ignore[attr-defined]
        value = getattr(row, column.key)
        if isinstance(value, date | datetime):
            value = value.isoformat()
        data[column.key] = value
    return data


async def record(
    session: AsyncSession,
    row: PlanRow | SectionRow | ParticipantRow | MeasureRow | MeetingRow,
    *,
    plan_id: str,
    change: str,
    by: str,
    at: datetime,
) -> None:
    """Stamp the row as changed by ``by`` and keep its new state as a version."""
    if change != "create":
        row.version = (row.version or 0) + 1
    else:
        row.version = 1
    row.updated_at = at
    row.updated_by = by
    session.add(row)
    await session.flush()
    session.add(
        RecordVersion(
            plan_id=plan_id,
            entity=row.__tablename__,
            entity_id=row.id,
            version=row.version,
            change=change,
            data=_snapshot(row),
            changed_by=by,
            changed_at=at,
        )
    )


async def history(session: AsyncSession, plan_id: str, limit: int = 200) -> list[RecordVersion]:
    rows = await session.execute(
        select(RecordVersion)
        .where(RecordVersion.plan_id == plan_id)
        .order_by(RecordVersion.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


# --- persons --------------------------------------------------------------------------


async def create_person(
    session: AsyncSession, name: str, at: datetime, email: str | None = None
) -> Person:
    person = Person(id=new_id(), name=name, email=email, created_at=at)
    session.add(person)
    await session.flush()
    return person


async def get_person(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


# --- plans ----------------------------------------------------------------------------


async def load_context(session: AsyncSession, plan_id: str, now: datetime) -> PlanContext | None:
    """Everything policy needs for one plan, or None when there is no such plan."""
    plan_row = await session.get(PlanRow, plan_id)
    if plan_row is None:
        return None
    participants = (
        (
            await session.execute(
                select(ParticipantRow)
                .where(ParticipantRow.plan_id == plan_id)
                .order_by(ParticipantRow.updated_at, ParticipantRow.id)
            )
        )
        .scalars()
        .all()
    )
    sections = (
        (
            await session.execute(
                select(SectionRow)
                .where(SectionRow.plan_id == plan_id)
                .order_by(SectionRow.position)
            )
        )
        .scalars()
        .all()
    )
    stand_ins = await session.scalars(
        select(StandInRow).where(StandInRow.plan_id == plan_id).order_by(StandInRow.starts)
    )
    return PlanContext(
        plan=to_plan(plan_row, participants),
        consent=await current_consent(session, plan_id),
        sections={s.id: to_section(s) for s in sections},
        now=now,
        stand_ins=tuple(
            StandIn(r.id, r.participant_id, r.for_participant_id, r.starts, r.ends)
            for r in stand_ins
        ),
    )


async def plans_of_person(session: AsyncSession, person_id: str) -> list[str]:
    rows = await session.execute(
        select(ParticipantRow.plan_id)
        .where(ParticipantRow.person_id == person_id, ParticipantRow.active.is_(True))
        .distinct()
    )
    return sorted(rows.scalars())


async def create_plan(
    session: AsyncSession,
    *,
    title: str,
    owner_name: str,
    owner_person: str | None,
    coordinator: dict[str, str] | None,
    coordinator_person: str | None,
    period_from: date,
    evaluation_months: int,
    by: str,
    at: datetime,
    sections: Sequence[tuple[str, SectionKind, str]] | None = None,
    period_to: date | None = None,
    owner_contact: dict[str, str] | None = None,
    guardians: Sequence[dict[str, str]] = (),
) -> PlanRow:
    """A new plan with the default sections, its owner and (optionally) its coordinator.

    No consent is recorded: nothing is shared, the coordinator included, until the owner
    or a guardian signs the first version (in-app, or on paper recorded with the form).
    """
    plan = PlanRow(
        id=new_id(),
        title=title,
        status=PlanStatus.ACTIVE.value,
        period_from=period_from,
        period_to=period_to,
        evaluation_months=evaluation_months or DEFAULT_EVALUATION_MONTHS,
        next_evaluation=next_evaluation(period_from, at.date(), evaluation_months),
        created_at=at,
    )
    await record(session, plan, plan_id=plan.id, change="create", by=by, at=at)
    templates = sections or [(t.key, t.kind, t.title) for t in DEFAULT_SECTIONS]
    for position, (key, kind, section_title) in enumerate(templates):
        row = SectionRow(
            id=new_id(),
            plan_id=plan.id,
            key=key,
            kind=kind.value,
            title=section_title,
            position=position,
            archived=False,
        )
        await record(session, row, plan_id=plan.id, change="create", by=by, at=at)
    owner = ParticipantRow(
        id=new_id(),
        plan_id=plan.id,
        person_id=owner_person,
        role=Role.OWNER.value,
        name=owner_name,
        active=True,
        **(owner_contact or {}),
    )
    await record(session, owner, plan_id=plan.id, change="create", by=by, at=at)
    for guardian in guardians:
        named = ParticipantRow(
            id=new_id(), plan_id=plan.id, person_id=None, role=Role.GUARDIAN.value, active=True
        )
        for key, value in guardian.items():
            setattr(named, key, value)
        await record(session, named, plan_id=plan.id, change="create", by=by, at=at)
    if coordinator is not None:
        coord = ParticipantRow(
            id=new_id(),
            plan_id=plan.id,
            person_id=coordinator_person,
            role=Role.COORDINATOR.value,
            active=True,
            **coordinator,
        )
        await record(session, coord, plan_id=plan.id, change="create", by=by, at=at)
    return plan


# --- consent --------------------------------------------------------------------------


async def current_consent(session: AsyncSession, plan_id: str) -> ConsentVersion | None:
    row = (
        await session.execute(
            select(ConsentRow)
            .where(ConsentRow.plan_id == plan_id)
            .order_by(ConsentRow.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return to_consent(row) if row is not None else None


async def lock_plan(session: AsyncSession, plan_id: str) -> None:
    """Hold the plan row until the transaction ends, so writers of one plan go one by one.

    PostgreSQL takes a row lock for the no-op update; SQLite writers are already
    serialised by ``BEGIN IMMEDIATE``. A consent version is numbered after the newest
    one, so two signings or withdrawals that read the same newest version would both
    take max+1 and collide on the key: they lock first and read after.
    """
    await session.execute(update(PlanRow).where(PlanRow.id == plan_id).values(id=PlanRow.id))


async def next_consent_version(session: AsyncSession, plan_id: str) -> int:
    value = await session.scalar(
        select(func.max(ConsentRow.version)).where(ConsentRow.plan_id == plan_id)
    )
    return int(value or 0) + 1


async def add_consent(
    session: AsyncSession, consent: ConsentVersion, *, recorded_by_person: str
) -> None:
    session.add(
        ConsentRow(
            plan_id=consent.plan,
            version=consent.version,
            kind=consent.kind.value,
            signed_by=consent.signed_by,
            recorded_by=consent.recorded_by,
            signed_at=consent.signed_at,
            purpose=consent.purpose,
            valid_from=consent.valid_from,
            valid_to=consent.valid_to,
            grants=[
                {"participant": g.participant, "section": g.section, "level": g.level.value}
                for g in consent.grants
            ],
            recorded_by_person=recorded_by_person,
            method=consent.method.value,
            sign_in=consent.sign_in,
            form_id=consent.form,
        )
    )
    await session.flush()


async def consent_version(
    session: AsyncSession, plan_id: str, version: int
) -> ConsentVersion | None:
    row = await session.get(ConsentRow, (plan_id, version))
    return to_consent(row) if row is not None else None


async def consent_form(session: AsyncSession, plan_id: str, form_id: str) -> ConsentForm | None:
    row = await session.get(ConsentForm, form_id)
    return row if row is not None and row.plan_id == plan_id else None


# --- measures -------------------------------------------------------------------------


async def get_measure(session: AsyncSession, measure_id: str) -> Measure | None:
    row = await session.get(MeasureRow, measure_id)
    return to_measure(row) if row is not None else None


async def measures_of_plan(session: AsyncSession, plan_id: str) -> list[MeasureRow]:
    rows = await session.execute(
        select(MeasureRow).where(MeasureRow.plan_id == plan_id).order_by(MeasureRow.updated_at)
    )
    return list(rows.scalars())


async def latest_invitations(session: AsyncSession, plan_id: str) -> dict[str, Invitation]:
    """Each participant's newest invitation in a plan (the group screen's state)."""
    rows = await session.scalars(
        select(Invitation)
        .where(Invitation.plan_id == plan_id)
        .order_by(Invitation.created_at.desc())
        .limit(500)
    )
    latest: dict[str, Invitation] = {}
    for row in rows:
        latest.setdefault(row.participant_id, row)
    return latest
