"""The readable access log (grouped lines, exports) and guardians until a date, over HTTP.

``GET /api/plans/{plan}/access-log`` (consent_routes) stays the raw, chained entries.
Here: ``/access-log/lines`` (grouped, paged, filtered; the viewer's own views folded
unless ``own=1``), ``/access-log/export?format=csv|pdf`` (the same lines, at most
``EXPORT_CAP``), the owner's birth date, and the owner's answer to "what does the
guardian keep?" (``collab.guardians``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.responses import Response

from collab import policy
from collab.guardians import (
    OSLO,
    birth_date_from_national_id,
    eighteenth_birthday,
    oslo_day,
)
from collab.model import add_months
from server import accesslog
from server.db import access_view, denials, meeting_repo, repo
from server.db.models import ParticipantRow, PlanRow
from server.http.common import ApiError, Call, Endpoints
from server.http.render import DATE_SCHEMA, parse_date

api = Endpoints()  # this module's routes; server.app composes them

PAGE_SIZE = 50


def _int(call: Call, name: str, default: int, low: int, high: int) -> int:
    raw = call.query(name, str(default)) or str(default)
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ApiError("malformed", f"{name}: a whole number from {low} to {high}.")
    return int(raw)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), OSLO)


async def _filters(call: Call, ctx: policy.PlanContext) -> access_view.Filters:
    persons: tuple[str, ...] | None = None
    wanted = call.query("person")
    if wanted:
        known = {p.id for p, _ in policy.visible_participants(ctx, call.principal)}
        found = ctx.plan.participant(wanted) if wanted in known else None
        if found is None:
            raise ApiError("not-found", "Fant ikke personen.")
        persons = (found.person,) if found.person is not None else ()
    since = parse_date(call.query("from"), "from")
    until = parse_date(call.query("to"), "to")
    if since is not None and until is not None and until < since:
        raise ApiError("malformed", "to: the period ends before it starts.")
    own = call.query("own", "0") == "1"
    return access_view.Filters(
        persons=persons,
        since=_day_start(since) if since is not None else None,
        until=_day_start(until + timedelta(days=1)) if until is not None else None,
        fold=None if own else call.principal.person,
    )


async def lookup(call: Call, ctx: policy.PlanContext, targets: Iterable[str]) -> accesslog.Lookup:
    """What the reader may know of the things a page of the log names (titles, via policy)."""
    measures = {m.id: repo.to_measure(m) for m in await repo.measures_of_plan(call.db, ctx.plan.id)}
    meetings: dict[str, tuple[str, Any]] = {}
    for meeting_id in sorted(accesslog.meetings_named(targets)):
        row = await meeting_repo.get(call.db, meeting_id)
        if row is not None and row.plan_id == ctx.plan.id:
            meetings[meeting_id] = (row.title, meeting_repo.state_of(row))
    return accesslog.Lookup(ctx, call.principal, measures, meetings)


async def _lines(
    call: Call, ctx: policy.PlanContext, filters: access_view.Filters, offset: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    lines, more = await access_view.page(call.db, ctx.plan.id, filters, offset=offset, limit=limit)
    look = await lookup(call, ctx, (line.target for line in lines))
    edited = await access_view.edit_grounds(
        call.db,
        ctx.plan.id,
        {(ln.person_id, ln.target) for ln in lines if ln.kind == "edit" and ln.person_id},
    )
    counted = await denials.summaries(
        call.db, ctx.plan.id, [ln.first_seq for ln in lines if ln.action == "denied"]
    )
    w = accesslog.words(call.query("lang"))
    return [
        accesslog.line_json(
            ln,
            look,
            w,
            grounds=(
                edited.get((ln.person_id or "", ln.target), "") if ln.kind == "edit" else ln.grounds
            ),
            refusals=counted.get(ln.first_seq),
        )
        for ln in lines
    ], more


async def _readable(call: Call) -> policy.PlanContext:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_read_access_log(ctx, call.principal), plan_id, "access-log")
    # Refusals this process has only counted so far: stored now, so the counts are current.
    await call.services.denials.flush(call.db, plan_id)
    return ctx


@api(
    "GET",
    "/api/plans/{plan}/access-log/lines",
    summary="The access log in words: grouped per person, thing and hour, paged",
    tag="consent",
)
async def access_log_lines(call: Call) -> Any:
    ctx = await _readable(call)
    page = _int(call, "page", 1, 1, access_view.MAX_OFFSET // PAGE_SIZE)
    size = _int(call, "size", PAGE_SIZE, 1, access_view.MAX_PAGE)
    if (page - 1) * size > access_view.MAX_OFFSET:
        raise ApiError("malformed", "page: too far back; choose a shorter period.")
    filters = await _filters(call, ctx)
    lines, more = await _lines(call, ctx, filters, (page - 1) * size, size)
    folded = await access_view.folded(call.db, ctx.plan.id, filters)
    call.log(ctx.plan.id, "open", "access-log")
    return {
        "lines": lines,
        "page": page,
        "size": size,
        "more": more,
        "folded": folded,
        "people": accesslog.people_json(ctx, call.principal),
    }


@api(
    "GET",
    "/api/plans/{plan}/access-log/export",
    summary="The access log in words as CSV or PDF (format=csv|pdf; at most 5,000 lines)",
    tag="consent",
)
async def access_log_export(call: Call) -> Any:
    ctx = await _readable(call)
    fmt = call.query("format", "csv")
    if fmt not in ("csv", "pdf"):
        raise ApiError("malformed", "format: csv or pdf.")
    filters = await _filters(call, ctx)
    lines, capped = await _lines(call, ctx, filters, 0, accesslog.EXPORT_CAP)
    w = accesslog.words(call.query("lang"))
    call.log(ctx.plan.id, "open", "access-log", f"export {fmt}")
    stamp = oslo_day(call.now).isoformat()
    headers = {"x-planrom-capped": "1" if capped else "0"}
    if fmt == "csv":
        body = accesslog.render_csv(lines, w)
        headers["content-disposition"] = f'attachment; filename="innsynslogg-{stamp}.csv"'
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    pdf = await asyncio.to_thread(
        accesslog.render_pdf,
        lines,
        w,
        plan_title=ctx.plan.title,
        made_at=call.now,
        capped=capped,
    )
    headers["content-disposition"] = f'attachment; filename="innsynslogg-{stamp}.pdf"'
    return Response(pdf, media_type="application/pdf", headers=headers)


# --- guardians until a date ------------------------------------------------------------

OWNER_BORN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "born": {"anyOf": [DATE_SCHEMA, {"type": "null"}]},
        "national_id": {"type": "string", "pattern": "^[0-9]{11}$"},
    },
}


@api(
    "PUT",
    "/api/plans/{plan}/owner-born",
    summary="The owner's birth date (or derived from a national identity number, not kept)",
    body=OWNER_BORN,
    tag="plans",
)
async def set_owner_born(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_set_owner_born(ctx, call.principal), plan_id, "plan")
    born: date | None
    if "national_id" in call.body:
        born = birth_date_from_national_id(call.body["national_id"])
        if born is None:
            raise ApiError("malformed", "national_id: ikke et gyldig fødselsnummer.")
    else:
        born = parse_date(call.body.get("born"), "born")
    if born is not None and born > oslo_day(call.now):
        raise ApiError("malformed", "born: a date in the past.")
    row = await call.db.get(PlanRow, plan_id)
    assert row is not None
    row.owner_born = born
    await repo.record(
        call.db, row, plan_id=plan_id, change="update", by=call.principal.person, at=call.now
    )
    call.log(plan_id, "change", "plan", "owner's birth date")
    call.after_commit(lambda: call.services.access_changed(plan_id))
    return {
        "owner_born": born.isoformat() if born else None,
        "adult_from": eighteenth_birthday(born).isoformat() if born else None,
    }


@api("GET", "/api/guardian-notices", summary="What the owner is asked about guardians' end dates")
async def guardian_notices(call: Call) -> Any:
    out: list[dict[str, Any]] = []
    for plan_id in await repo.plans_of_person(call.db, call.principal.person):
        ctx = await repo.load_context(call.db, plan_id, call.now)
        if ctx is None:
            continue
        for notice in policy.guardian_notices(ctx, call.principal):
            out.append(
                {
                    "plan": plan_id,
                    "plan_title": ctx.plan.title,
                    "participant": notice.participant,
                    "name": notice.name,
                    "ends": notice.ends.isoformat(),
                    "days_left": notice.days_left,
                }
            )
    return {"notices": out}


ANSWER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["keep"],
    "properties": {
        # full: full access for another period; consent: from the end date on, what the
        # owner grants in a consent version (then signed as usual); none: nothing.
        "keep": {"enum": ["full", "consent", "none"]},
        "months": {"type": "integer", "minimum": 1, "maximum": 24},
    },
}


@api(
    "POST",
    "/api/plans/{plan}/guardians/{participant}/answer",
    summary="The owner answers what a guardian keeps after their end date",
    body=ANSWER,
    tag="plans",
)
async def answer_guardian(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_answer_guardian(ctx, call.principal), plan_id, "plan")
    guardian = ctx.plan.participant(call.param_id("participant"))
    if guardian is None or not policy.is_guardian(guardian) or not guardian.active:
        raise ApiError("not-found", "Fant ikke den foresatte.")
    if guardian.access_until is None:
        raise ApiError("conflict", "Den foresatte har ingen sluttdato.")
    row = await call.db.get(ParticipantRow, guardian.id)
    assert row is not None
    keep = call.body["keep"]
    today = oslo_day(call.now)
    ends = guardian.access_until
    if keep == "full":
        ends = add_months(max(ends, today), int(call.body.get("months", 12)))
    elif keep == "none":
        ends = min(ends, today)  # from today, at once
    row.access_until, row.access_answered = ends, ends
    await repo.record(
        call.db, row, plan_id=plan_id, change="update", by=call.principal.person, at=call.now
    )
    call.log(plan_id, "change", f"participant:{guardian.id}", f"guardian keeps {keep}")
    call.after_commit(lambda: call.services.access_changed(plan_id))
    return {"participant": guardian.id, "keep": keep, "access_until": ends.isoformat()}
