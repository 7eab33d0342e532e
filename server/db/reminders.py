"""The SQL of reminders: the per-person inbox, each thing once, the e-mail digest's
reminders, each person's choice of channel, and the lease that lets one process at a
time run a scheduled job."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import JobLease, ParticipantRow, PlanRow, Reminder, ReminderChoice
from server.db.worklist import chunks

__all__ = [
    "active_plans",
    "add_new",
    "channel",
    "emails_of",
    "inbox",
    "mark_emailed",
    "mark_read",
    "set_channel",
    "take_lease",
    "to_email",
]

CHANNELS = ("email", "in-app")


async def take_lease(
    session: AsyncSession, name: str, holder: str, now: datetime, until: datetime
) -> bool:
    """Hold job ``name`` until ``until`` if nobody else holds it now (or it is ours)."""
    taken = await session.execute(
        update(JobLease)
        .where(JobLease.name == name, (JobLease.until <= now) | (JobLease.holder == holder))
        .values(holder=holder, until=until)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    if await session.get(JobLease, name) is not None:
        return False  # held by another process
    try:
        async with session.begin_nested():
            session.add(JobLease(name=name, holder=holder, until=until))
    except IntegrityError:
        return False  # another process created it first
    return True


async def active_plans(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(PlanRow.id).where(PlanRow.status == "active"))
    return sorted(rows)


async def add_new(
    session: AsyncSession,
    wanted: Iterable[tuple[str, str, str, str, str]],
    now: datetime,
) -> list[Reminder]:
    """Store the reminders not stored before: (person, plan, kind, thing, href) each.
    Returns the new ones; a thing a person was reminded of once is never added again."""
    wanted = list(dict.fromkeys(wanted))
    people = {w[0] for w in wanted}
    known: set[tuple[str, str]] = set()
    for part in chunks(sorted(people)):
        rows = await session.execute(
            select(Reminder.person_id, Reminder.thing).where(Reminder.person_id.in_(part))
        )
        known |= {(person, thing) for person, thing in rows}
    added = []
    for person, plan, kind, thing, href in wanted:
        if (person, thing) in known:
            continue
        row = Reminder(
            person_id=person, plan_id=plan, kind=kind, thing=thing, href=href, created_at=now
        )
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # stored meanwhile by another pass: still once
        added.append(row)
    return added


async def to_email(session: AsyncSession, since: datetime) -> list[Reminder]:
    """Reminders not e-mailed yet, made since ``since``, of people who did not choose
    in-app only."""
    in_app = select(ReminderChoice.person_id).where(ReminderChoice.channel == "in-app")
    rows = await session.scalars(
        select(Reminder)
        .where(
            Reminder.emailed_at.is_(None),
            Reminder.read_at.is_(None),
            Reminder.created_at >= since,
            Reminder.person_id.not_in(in_app),
        )
        .order_by(Reminder.person_id, Reminder.id)
    )
    return list(rows)


async def mark_emailed(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    for part in chunks(list(ids)):
        await session.execute(
            update(Reminder)
            .where(Reminder.id.in_(part))
            .values(emailed_at=now)
            .execution_options(synchronize_session=False)
        )


async def emails_of(
    session: AsyncSession, people: Iterable[str]
) -> dict[tuple[str, str], tuple[str, str]]:
    """Each person's (name, e-mail address) in each plan, from their participant record
    there, where it has an address. A reminder goes to the address of its own plan: an
    address someone entered in one plan never receives what waits in another."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for part in chunks(sorted(set(people))):
        rows = await session.execute(
            select(
                ParticipantRow.person_id,
                ParticipantRow.plan_id,
                ParticipantRow.name,
                ParticipantRow.email,
            )
            .where(
                ParticipantRow.person_id.in_(part),
                ParticipantRow.active.is_(True),
                ParticipantRow.email != "",
            )
            .order_by(ParticipantRow.person_id, ParticipantRow.id)
        )
        for person, plan, name, email in rows:
            if person is not None:
                out.setdefault((person, plan), (name, email))
    return out


async def inbox(session: AsyncSession, person: str, limit: int = 100) -> list[Reminder]:
    rows = await session.scalars(
        select(Reminder)
        .where(Reminder.person_id == person)
        .order_by(Reminder.read_at.is_not(None), Reminder.created_at.desc(), Reminder.id.desc())
        .limit(limit)
    )
    return list(rows)


async def mark_read(session: AsyncSession, person: str, reminder: int, now: datetime) -> bool:
    done = await session.execute(
        update(Reminder)
        .where(Reminder.id == reminder, Reminder.person_id == person, Reminder.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def channel(session: AsyncSession, person: str) -> str:
    row = await session.get(ReminderChoice, person)
    return row.channel if row is not None else "email"


async def set_channel(session: AsyncSession, person: str, value: str, now: datetime) -> None:
    assert value in CHANNELS
    row = await session.get(ReminderChoice, person)
    if row is None:
        session.add(ReminderChoice(person_id=person, channel=value, updated_at=now))
    else:
        row.channel, row.updated_at = value, now
