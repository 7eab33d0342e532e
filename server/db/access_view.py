"""The access log as a person reads it: grouped lines, from two SQL aggregates.

A line is what one person did to one thing in one clock hour, with how many times:
- document edits come from the update log of the documents (``doc_updates``: person,
  document, time), grouped in SQL per person, document and hour, never read update by
  update;
- the access log's own entries (open, denied, revoked, read-only, change, sign) are
  grouped the same way per person, action, target and grounds.

Both are one ``UNION ALL`` ordered newest hour first and paged with a bounded
limit/offset. The viewer's own views (``open``) are left out unless asked for, and
counted, so the screen can say how many are folded away. Oslo's offset from UTC is a
whole number of hours, so a UTC hour is an hour in Norway too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AccessLogRow, DocUpdate, MeetingRow

MAX_PAGE = 200
MAX_OFFSET = 10_000


@dataclass(frozen=True)
class Filters:
    persons: tuple[str, ...] | None = None  # person ids; None: everyone
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    fold: str | None = None  # this person's own views are left out


@dataclass(frozen=True)
class Line:
    kind: str  # "edit" | "log"
    hour: str  # "YYYY-MM-DD HH" in UTC
    person_id: str | None
    actor: str  # the name stored in the log ("" for edits)
    action: str  # "edit", or the log entry's action
    target: str  # the document name (edits) or the log entry's target
    grounds: str
    count: int
    first_at: datetime
    last_at: datetime
    first_seq: int  # the log's first entry in the group (0 for edits)


def _hour(session: AsyncSession, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    # SQLite keeps UTCDateTime as "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC).
    return func.substr(column, 1, 13)


def _prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    # A range rather than LIKE, so the (doc, id) index serves it on both databases.
    return and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


async def _documents_of(session: AsyncSession, plan_id: str) -> ColumnElement[bool]:
    meetings = (
        (await session.execute(select(MeetingRow.id).where(MeetingRow.plan_id == plan_id)))
        .scalars()
        .all()
    )
    return or_(
        _prefix(DocUpdate.doc, f"plan:{plan_id}:"),
        *(_prefix(DocUpdate.doc, f"meeting:{m}:item:") for m in meetings),
    )


async def page(
    session: AsyncSession, plan_id: str, filters: Filters, *, offset: int, limit: int
) -> tuple[list[Line], bool]:
    """One page of lines, newest first, and whether there are more."""
    limit = max(1, min(limit, MAX_PAGE * 25))
    offset = max(0, min(offset, MAX_OFFSET))
    edit_hour = _hour(session, DocUpdate.at)
    edit_where: list[ColumnElement[bool]] = [await _documents_of(session, plan_id)]
    log_hour = _hour(session, AccessLogRow.at)
    log_where: list[ColumnElement[bool]] = [AccessLogRow.plan_id == plan_id]
    if filters.persons is not None:
        edit_where.append(DocUpdate.person_id.in_(filters.persons) if filters.persons else false())
        log_where.append(
            AccessLogRow.person_id.in_(filters.persons) if filters.persons else false()
        )
    if filters.since is not None:
        edit_where.append(DocUpdate.at >= filters.since)
        log_where.append(AccessLogRow.at >= filters.since)
    if filters.until is not None:
        edit_where.append(DocUpdate.at < filters.until)
        log_where.append(AccessLogRow.at < filters.until)
    if filters.fold is not None:
        log_where.append(
            or_(
                AccessLogRow.action != "open",
                AccessLogRow.person_id.is_(None),
                AccessLogRow.person_id != filters.fold,
            )
        )
    edits = (
        select(
            literal("edit").label("kind"),
            edit_hour.label("hour"),
            DocUpdate.person_id.label("person_id"),
            literal("").label("actor"),
            literal("edit").label("action"),
            DocUpdate.doc.label("target"),
            literal("").label("grounds"),
            func.count().label("n"),
            func.min(DocUpdate.at).label("first_at"),
            func.max(DocUpdate.at).label("last_at"),
            literal(0).label("first_seq"),
        )
        .where(*edit_where)
        .group_by(edit_hour, DocUpdate.person_id, DocUpdate.doc)
    )
    logged = (
        select(
            literal("log").label("kind"),
            log_hour.label("hour"),
            AccessLogRow.person_id.label("person_id"),
            func.max(AccessLogRow.actor).label("actor"),
            AccessLogRow.action.label("action"),
            AccessLogRow.target.label("target"),
            AccessLogRow.grounds.label("grounds"),
            func.count().label("n"),
            func.min(AccessLogRow.at).label("first_at"),
            func.max(AccessLogRow.at).label("last_at"),
            func.min(AccessLogRow.seq).label("first_seq"),
        )
        .where(*log_where)
        .group_by(
            log_hour,
            AccessLogRow.person_id,
            AccessLogRow.action,
            AccessLogRow.target,
            AccessLogRow.grounds,
        )
    )
    both = union_all(edits, logged).subquery()
    rows = (
        await session.execute(
            select(both)
            .order_by(
                both.c.hour.desc(),
                both.c.last_at.desc(),
                both.c.kind,
                both.c.target,
                both.c.person_id,
                both.c.action,
            )
            .offset(offset)
            .limit(limit + 1)
        )
    ).all()
    lines = [
        Line(
            kind=r.kind,
            hour=r.hour,
            person_id=r.person_id,
            actor=r.actor or "",
            action=r.action,
            target=r.target,
            grounds=r.grounds or "",
            count=int(r.n),
            first_at=_aware(r.first_at),
            last_at=_aware(r.last_at),
            first_seq=int(r.first_seq or 0),
        )
        for r in rows[:limit]
    ]
    return lines, len(rows) > limit


def _aware(value: Any) -> datetime:
    """Aggregates lose the column type on SQLite: parse and mark UTC again."""
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def folded(session: AsyncSession, plan_id: str, filters: Filters) -> int:
    """How many of the viewer's own views the default view leaves out."""
    if filters.fold is None:
        return 0
    where: list[ColumnElement[bool]] = [
        AccessLogRow.plan_id == plan_id,
        AccessLogRow.action == "open",
        AccessLogRow.person_id == filters.fold,
    ]
    if filters.persons is not None:
        where.append(AccessLogRow.person_id.in_(filters.persons) if filters.persons else false())
    if filters.since is not None:
        where.append(AccessLogRow.at >= filters.since)
    if filters.until is not None:
        where.append(AccessLogRow.at < filters.until)
    return int((await session.execute(select(func.count()).where(*where))).scalar_one())


async def edit_grounds(
    session: AsyncSession, plan_id: str, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """For edited documents: the grounds of the person's latest opening of the document
    (the join that let them edit), keyed by (person id, document name)."""
    if not pairs:
        return {}
    persons = {p for p, _ in pairs}
    targets = {f"doc:{d}" for _, d in pairs}
    latest = (
        select(AccessLogRow.person_id, AccessLogRow.target, func.max(AccessLogRow.seq).label("s"))
        .where(
            AccessLogRow.plan_id == plan_id,
            AccessLogRow.action == "open",
            AccessLogRow.person_id.in_(persons),
            AccessLogRow.target.in_(targets),
        )
        .group_by(AccessLogRow.person_id, AccessLogRow.target)
        .subquery()
    )
    rows = await session.execute(
        select(AccessLogRow.person_id, AccessLogRow.target, AccessLogRow.grounds).join(
            latest,
            and_(AccessLogRow.plan_id == plan_id, AccessLogRow.seq == latest.c.s),
        )
    )
    return {(p, t.removeprefix("doc:")): g for p, t, g in rows.all() if p is not None}
