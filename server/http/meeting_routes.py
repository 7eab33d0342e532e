"""Meetings over HTTP: schedule, agenda, chair and minute-taker, decisions, approval,
finalisation, minutes (HTML/PDF), invitations (.ics), and the between-meetings views."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from starlette.responses import Response

from collab import decisions, policy
from collab import meeting as sm
from collab.agenda import draft_agenda
from collab.model import MeasureStatus, Role, new_id
from collab.policy import PlanContext
from collab.refusal import Refused
from server import ics, meeting_service, minutes, rendered_minutes
from server.db import meeting_repo, repo
from server.db.models import DecisionRow, MeetingRow, MinutesRow
from server.effects import Effects
from server.http import ratelimit
from server.http.common import (
    NOT_FOUND_MESSAGE,
    AfterCommit,
    ApiError,
    Call,
    Endpoints,
    Reply,
    retry_later,
)
from server.http.messages import Said, reader_language
from server.http.render import (
    DATE_SCHEMA,
    DATETIME_SCHEMA,
    ID_SCHEMA,
    parse_date,
    parse_datetime,
    text,
)

api = Endpoints()  # this module's routes; server.app composes them

log = logging.getLogger("planrom.meetings")

MEETING_FIELDS = {
    "title": text(200, 1),
    "kind": {"enum": ["group", "one-to-one"]},
    "starts_at": DATETIME_SCHEMA,
    "ends_at": DATETIME_SCHEMA,
    "place": text(300),
    "video_url": {"type": "string", "maxLength": 500, "pattern": "^(https://.*)?$"},
    "invited": {"type": "array", "maxItems": 50, "items": ID_SCHEMA, "uniqueItems": True},
}
SCHEDULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["starts_at", "invited"],
    "properties": MEETING_FIELDS
    | {
        "chair": ID_SCHEMA,
        "minute_taker": ID_SCHEMA,
        "agenda": {"enum": ["draft", "empty"]},
        # The owner's (or a guardian's) explicit yes to inviting people hidden from each other.
        "confirm_hidden": {"type": "boolean"},
        "items": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "section"],
                "properties": {"title": text(200, 1), "section": ID_SCHEMA},
            },
        },
    },
}


def _send_invitations(call: Call, meeting_id: str) -> None:
    """After commit: calendar invitations (or cancellations) to every invitee by e-mail."""

    async def send() -> None:
        try:
            await meeting_service.send_invitations(call.services, meeting_id)
        except Exception:  # mail trouble must not undo a saved meeting; the app has the .ics
            log.exception("sending invitations for %s failed", meeting_id)

    call.after_commit(send)


def _meeting_json(row: MeetingRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "plan": row.plan_id,
        "title": row.title,
        "kind": row.kind,
        "status": row.status,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "place": row.place,
        "video_url": row.video_url,
    }


def _named(call: Call, ctx: PlanContext, participant: str, other: str) -> str:
    """A participant's name in a message, or ``other`` if the caller may not know of them."""
    return policy.name_for(ctx, call.principal, participant) or other


def _check_invitees(
    call: Call,
    ctx: PlanContext,
    invited: Iterable[str],
    confirmed: bool = False,
    *,
    unseen: frozenset[str] = frozenset(),
    already: frozenset[str] = frozenset(),
) -> None:
    """``unseen``: invitees the caller may not know of, who stay invited (they are in the
    meeting-together check, not in the caller's list); ``already``: the invited before."""
    wanted = set(invited)
    for pid in sorted(wanted):
        who = ctx.plan.participant(pid)
        if who is None or pid not in policy.knows_of(ctx, call.principal):
            raise ApiError("not-found", NOT_FOUND_MESSAGE)
        decision = policy.check_invitee(ctx, who)
        if not decision:
            raise ApiError("conflict", f"{who.name} kan ikke inviteres: {decision.reason}.")
    owner = next((p.id for p in ctx.plan.participants if p.role is Role.OWNER), None)
    together = policy.check_meet_together(
        ctx,
        call.principal,
        wanted | unseen | ({owner} if owner else set()),
        confirmed,
        already | ({owner} if owner and already else set()),
    )
    if not together:
        call.log(ctx.plan.id, "denied", "meetings", together.reason, keep=True)
        if together.code == "conflict":
            raise ApiError(
                "conflict",
                "Noen av de inviterte skal ikke vite om hverandre. Planeieren må selv bekrefte "
                "at de kan møtes (confirm_hidden).",
            )
        raise ApiError("forbidden", "Bare planeieren eller verge kan bekrefte at disse kan møtes.")


def _times(body: dict[str, Any], row: MeetingRow | None = None) -> tuple[datetime, datetime]:
    starts = parse_datetime(body.get("starts_at"), "starts_at") or (row.starts_at if row else None)
    assert starts is not None
    ends = parse_datetime(body.get("ends_at"), "ends_at") or (
        row.ends_at if row and "starts_at" not in body else starts + timedelta(hours=1)
    )
    if ends <= starts:
        raise ApiError.about("malformed", Said("ends-before-start", "ends_at"))
    return starts, ends


@api(
    "POST",
    "/api/plans/{plan}/meetings",
    summary="Schedule a meeting",
    body=SCHEDULE,
    status=201,
    tag="meetings",
)
async def schedule_meeting(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_schedule_meeting(ctx, call.principal), plan_id, "meetings")
    body = call.body
    kind = body.get("kind", "group")
    invited = list(body["invited"])
    _check_invitees(call, ctx, invited, bool(body.get("confirm_hidden")))
    if kind == "one-to-one":
        people = [ctx.plan.participant(p) for p in invited]
        if len(people) != len(invited) or not policy.is_one_to_one([p for p in people if p]):
            raise ApiError(
                "malformed", "invited: a one-to-one meeting is the owner and the coordinator."
            )
    starts, ends = _times(body)
    chair = ctx.plan.participant(body["chair"]) if "chair" in body else None
    if chair is not None:
        chairing = policy.check_chair_choice(ctx, call.principal, chair)
        call.require(chairing, plan_id, "meetings")
    for key in ("chair", "minute_taker"):
        chosen = ctx.plan.participant(body[key]) if key in body else None
        if chosen is not None and chosen.id not in invited and not policy.in_every_meeting(chosen):
            raise ApiError("malformed", f"{key}: must be invited.")
    agenda: list[sm.AgendaItem] = []
    if body.get("agenda", "draft") == "draft":
        last = await meeting_repo.last_final(call.db, plan_id)
        agenda += draft_agenda(
            meeting_day=starts.date(),
            sections=ctx.sections,
            measures=[repo.to_measure(m) for m in await repo.measures_of_plan(call.db, plan_id)],
            goals=await meeting_service.plan_goals(call.services, ctx),
            changed_measures=await meeting_repo.measures_changed_since(
                call.db, plan_id, last.updated_at if last else None
            ),
            next_evaluation=ctx.plan.next_evaluation,
            new_id=new_id,
        )
    for extra in body.get("items", []):
        if extra["section"] not in ctx.sections:
            raise ApiError("not-found", "items: unknown section.")
        agenda.append(sm.AgendaItem(new_id(), extra["title"], extra["section"], sm.ItemKind.FREE))
    try:
        row = await meeting_service.schedule(
            call.db,
            ctx,
            title=body.get("title", "Ansvarsgruppemøte"),
            kind=kind,
            starts_at=starts,
            ends_at=ends,
            place=body.get("place", ""),
            video_url=body.get("video_url", ""),
            invited=invited,
            chair=body.get("chair"),
            agenda=agenda,
            by=call.principal.person,
            now=call.now,
        )
        if body.get("minute_taker"):
            loaded = await meeting_service.load(call.db, row.id, call.now)
            assert loaded is not None
            await meeting_service.command(
                call.db, loaded, call.principal, sm.SetMinuteTaker(body["minute_taker"]), call.now
            )
    except Refused as exc:
        raise ApiError.of(exc) from None
    call.log(plan_id, "change", f"meeting:{row.id}", "scheduled")
    _send_invitations(call, row.id)
    loaded = await meeting_service.load(call.db, row.id, call.now)
    assert loaded is not None
    return _meeting_json(row) | {"state": meeting_service.wire_state(loaded, call.principal)}


@api("GET", "/api/plans/{plan}/meetings", summary="Meetings I may see", tag="meetings")
async def list_meetings(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "meetings")
    out = []
    for row in await meeting_repo.of_plan(call.db, plan_id):
        if policy.check_see_meeting(ctx, call.principal, meeting_repo.state_of(row)):
            out.append(_meeting_json(row))
    return {"meetings": out}


async def _loaded(call: Call, *, lock: bool = False) -> meeting_service.Loaded:
    meeting_id = call.param_id("meeting")
    loaded = await meeting_service.load(call.db, meeting_id, call.now, lock=lock)
    if loaded is None:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    call.require(
        policy.check_see_meeting(loaded.ctx, call.principal, loaded.state),
        loaded.row.plan_id,
        f"meeting:{meeting_id}",
    )
    return loaded


def _visible_decisions(
    call: Call, loaded: meeting_service.Loaded, rows: Iterable[DecisionRow]
) -> list[dict[str, Any]]:
    visible = {i.id for i in loaded.state.agenda if loaded.can_read(call.principal, i)}
    scrub = meeting_service.scrubber(loaded.ctx, call.principal)
    known = policy.knows_of(loaded.ctx, call.principal)

    def data(d: DecisionRow) -> dict[str, Any]:
        """The decision's fields; a responsible participant the reader may not know of is
        ``null`` (the summary says "en annen tjeneste"), here and in ``changes``."""
        out = {k: v for k, v in d.data.items() if k != "summary"}
        if out.get("responsible") not in (None, *known):
            out["responsible"] = None
        changes = out.get("changes")
        if isinstance(changes, dict) and changes.get("responsible") not in (None, *known):
            out["changes"] = changes | {"responsible": None}
        return out

    return [
        {
            "id": d.id,
            "item": d.item_id,
            "kind": d.kind,
            "measure": d.measure_id,
            "section": d.section_id,
            "summary": scrub(str(d.data.get("summary", ""))),
            "data": data(d),
            "applied": d.applied_at is not None,
        }
        for d in rows
        if d.item_id in visible  # a decision is visible exactly as its item
    ]


@api("GET", "/api/meetings/{meeting}", summary="A meeting as I may see it", tag="meetings")
async def get_meeting(call: Call) -> Any:
    loaded = await _loaded(call)
    call.log(loaded.row.plan_id, "open", f"meeting:{loaded.row.id}")
    decisions = await meeting_repo.decisions(call.db, loaded.row.id)
    return _meeting_json(loaded.row) | {
        "state": meeting_service.wire_state(loaded, call.principal),
        "decisions": _visible_decisions(call, loaded, decisions),
    }


UPDATE_MEETING = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {k: v for k, v in MEETING_FIELDS.items() if k != "kind"}
    | {"confirm_hidden": {"type": "boolean"}},
}


@api(
    "PATCH",
    "/api/meetings/{meeting}",
    summary="Reschedule or re-invite (sends updates)",
    body=UPDATE_MEETING,
    tag="meetings",
)
async def update_meeting(call: Call) -> Any:
    loaded = await _loaded(call, lock=True)
    ctx, row = loaded.ctx, loaded.row
    call.require(
        policy.check_schedule_meeting(ctx, call.principal), row.plan_id, f"meeting:{row.id}"
    )
    if loaded.state.status is not sm.MeetingStatus.SCHEDULED:
        raise ApiError("conflict", "Bare et planlagt møte kan endres.")
    body = call.body
    if "invited" in body:
        state = loaded.state
        # Invitees the caller may not know of (hidden from them) stay invited: nobody
        # uninvites someone they cannot see.
        unseen = state.invited - set(policy.knows_of(ctx, call.principal))
        _check_invitees(
            call,
            ctx,
            body["invited"],
            bool(body.get("confirm_hidden")),
            unseen=frozenset(unseen),
            already=frozenset(state.invited),
        )
        wanted = frozenset(body["invited"]) | {state.owner} | unseen
        try:
            for gone in sorted(state.invited - wanted):
                if state.chair == gone or state.minute_taker == gone:
                    raise ApiError("conflict", "Ordstyrer eller referent kan ikke fjernes.")
            new_state = sm.new_meeting(
                row.id, state.owner, sorted(wanted - {state.owner}), state.agenda, state.chair
            )
        except Refused as exc:
            raise ApiError.of(exc) from None
        loaded.state = (
            new_state
            if state.minute_taker is None
            else sm.apply(
                new_state,
                sm.SetMinuteTaker(state.minute_taker),
                sm.Actor(state.owner, Role.OWNER.value),
                call.now,
            )[0]
        )
    row.starts_at, row.ends_at = _times(body, row)
    for key in ("title", "place", "video_url"):
        if key in body:
            setattr(row, key, body[key])
    row.ics_sequence += 1
    await meeting_repo.save_state(call.db, row, loaded.state, by=call.principal.person, at=call.now)
    call.log(row.plan_id, "change", f"meeting:{row.id}", ", ".join(sorted(body)))
    call.after_commit(lambda: call.services.meeting_changed(row.id))
    _send_invitations(call, row.id)
    return _meeting_json(row) | {"state": meeting_service.wire_state(loaded, call.principal)}


async def _run(call: Call, command: sm.Command, what: str) -> Any:
    loaded = await _loaded(call, lock=True)
    try:
        await meeting_service.command(call.db, loaded, call.principal, command, call.now)
    except Refused as exc:
        if exc.code == "forbidden":
            call.log(
                loaded.row.plan_id, "denied", f"meeting:{loaded.row.id}", exc.reason, keep=True
            )
        raise ApiError.of(exc) from None
    if isinstance(command, sm.Cancel):
        loaded.row.ics_sequence += 1
        _send_invitations(call, loaded.row.id)
    call.log(loaded.row.plan_id, "change", f"meeting:{loaded.row.id}", what)
    call.after_commit(lambda: call.services.meeting_changed(loaded.row.id))
    return _meeting_json(loaded.row) | {"state": meeting_service.wire_state(loaded, call.principal)}


EMPTY = {"type": "object", "maxProperties": 0}


@api(
    "POST",
    "/api/meetings/{meeting}/cancel",
    summary="Cancel a scheduled meeting",
    body=EMPTY,
    tag="meetings",
)
async def cancel_meeting(call: Call) -> Any:
    return await _run(call, sm.Cancel(), "cancelled")


ADD_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "section"],
    "properties": {"title": text(200, 1), "section": ID_SCHEMA, "measure": ID_SCHEMA},
}


@api(
    "POST",
    "/api/meetings/{meeting}/agenda",
    summary="Add an agenda item (chair)",
    body=ADD_ITEM,
    status=201,
    tag="meetings",
)
async def add_item(call: Call) -> Any:
    loaded = await _loaded(call)
    body = call.body
    # A section or measure the caller may not see is refused as one that does not exist.
    if body["section"] not in loaded.ctx.sections or not policy.check_see_section(
        loaded.ctx, call.principal, body["section"]
    ):
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    measure = body.get("measure")
    if measure is not None and (
        measure not in loaded.measures
        or loaded.measures[measure].section != body["section"]
        or not policy.check_read_measure(loaded.ctx, call.principal, loaded.measures[measure])
    ):
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    kind = sm.ItemKind.MEASURE if measure else sm.ItemKind.FREE
    return await _run(
        call,
        sm.AddItem(sm.AgendaItem(new_id(), body["title"], body["section"], kind, measure)),
        "agenda item added",
    )


MOVE_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["index"],
    "properties": {"index": {"type": "integer", "minimum": 0, "maximum": 100}},
}


@api(
    "PATCH",
    "/api/meetings/{meeting}/agenda/{item}",
    summary="Move an agenda item (chair)",
    body=MOVE_ITEM,
    tag="meetings",
)
async def move_item(call: Call) -> Any:
    return await _run(
        call, sm.MoveItem(call.param_id("item"), call.body["index"]), "agenda item moved"
    )


@api(
    "DELETE",
    "/api/meetings/{meeting}/agenda/{item}",
    summary="Remove an agenda item (chair)",
    tag="meetings",
)
async def remove_item(call: Call) -> Any:
    return await _run(call, sm.RemoveItem(call.param_id("item")), "agenda item removed")


WHO = {
    "type": "object",
    "additionalProperties": False,
    "required": ["participant"],
    "properties": {"participant": {"anyOf": [ID_SCHEMA, {"type": "null"}]}},
}


@api(
    "POST",
    "/api/meetings/{meeting}/chair",
    summary="Hand the chair to someone (owner or guardian)",
    body=WHO,
    tag="meetings",
)
async def delegate_chair(call: Call) -> Any:
    if call.body["participant"] is None:
        raise ApiError("malformed", "participant: who takes the chair?")
    loaded = await _loaded(call)
    call.require(
        policy.check_delegate_chair(loaded.ctx, call.principal),
        loaded.row.plan_id,
        f"meeting:{loaded.row.id}",
    )
    return await _run(call, sm.DelegateChair(call.body["participant"]), "chair handed over")


@api(
    "POST",
    "/api/meetings/{meeting}/minute-taker",
    summary="Name the minute-taker (chair)",
    body=WHO,
    tag="meetings",
)
async def set_minute_taker(call: Call) -> Any:
    return await _run(call, sm.SetMinuteTaker(call.body["participant"]), "minute-taker named")


# --- decisions ------------------------------------------------------------------------

_DATE_OR_NULL = {"anyOf": [DATE_SCHEMA, {"type": "null"}]}
DECISION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["item", "kind"],
    "properties": {
        "item": ID_SCHEMA,
        "kind": {"enum": list(decisions.KINDS)},
        "measure": ID_SCHEMA,
        "reason": text(2000),
        "note": text(2000),
        "changes": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "title": text(300, 1),
                "frequency": text(300),
                "responsible": ID_SCHEMA,
                "starts": _DATE_OR_NULL,
                "ends": _DATE_OR_NULL,
                "evaluate_by": _DATE_OR_NULL,
            },
        },
        "section": ID_SCHEMA,
        "title": text(300, 1),
        "description": text(5000),
        "responsible": ID_SCHEMA,
        "frequency": text(300),
        "starts": DATE_SCHEMA,
        "ends": DATE_SCHEMA,
        "evaluate_by": DATE_SCHEMA,
        "goal_ids": {"type": "array", "maxItems": 20, "items": text(64, 1)},
        "target": {"enum": ["measure", "goal"]},
        "goal": text(64, 1),
        "works": text(2000),
        "does_not_work": text(2000),
        "why": text(2000),
        "outcome": {"enum": ["continue", "adjust", "stop", "new"]},
        "starts_at": DATETIME_SCHEMA,
        "ends_at": DATETIME_SCHEMA,
        "place": text(300),
        "video_url": {"type": "string", "maxLength": 500, "pattern": "^(https://.*)?$"},
        "date": DATE_SCHEMA,
    },
}


def _check_responsible(call: Call, ctx: PlanContext, participant: str, section: str) -> None:
    who = ctx.plan.participant(participant)
    if who is None:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    if participant not in policy.knows_of(ctx, call.principal):
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    decision = policy.check_responsible(ctx, who, section)
    if not decision:
        name = _named(call, ctx, participant, "Deltakeren")
        raise ApiError("conflict", f"{name} kan ikke få ansvaret: {decision.reason}.")


@api(
    "POST",
    "/api/meetings/{meeting}/decisions",
    summary="Record a structured decision",
    body=DECISION,
    status=201,
    tag="meetings",
)
async def record_decision(call: Call) -> Any:
    loaded = await _loaded(call, lock=True)
    body = dict(call.body)
    ctx = loaded.ctx
    item = loaded.state.item(body["item"])
    if item is None or not loaded.can_read(call.principal, item):
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    call.require(
        policy.check_record_decision(ctx, call.principal, loaded.state, item),
        ctx.plan.id,
        f"meeting:{loaded.row.id}",
    )
    kind = body.pop("kind")
    needed = decisions.missing(kind, body)
    if needed is not None:
        raise ApiError.about("malformed", Said("decision-needs", needed))
    measure = None
    section = item.section
    if "measure" in body:
        measure = loaded.measures.get(body["measure"])
        if measure is None or not policy.check_read_measure(ctx, call.principal, measure):
            raise ApiError("not-found", NOT_FOUND_MESSAGE)
        if measure.section != item.section:
            # A decision is seen exactly as its item: it may only be about what the item's
            # readers may read (a measure moved since the item was made needs a new item).
            raise ApiError(
                "conflict", "Tiltaket hører til en annen del av planen enn saken på dagsorden."
            )
        section = measure.section
    if kind == "evaluation" and measure is None and body.get("target") == "measure":
        raise ApiError.about("malformed", Said("which-measure", "measure"))
    if kind == "new_measure":
        section = body["section"]
        if section not in ctx.sections:
            raise ApiError("not-found", NOT_FOUND_MESSAGE)
        call.require(
            policy.check_read_section(ctx, call.principal, section),
            ctx.plan.id,
            f"section:{section}",
        )
        if section != item.section:
            raise ApiError("conflict", "Et nytt tiltak vedtas under en sak i samme del av planen.")
        _check_responsible(call, ctx, body["responsible"], section)
        for key in ("starts", "ends", "evaluate_by"):
            parse_date(body.get(key), key)
        limit = call.services.settings.max_measures_per_plan
        if len(loaded.measures) >= limit:
            raise ApiError(
                "conflict", f"Planen har allerede {limit} tiltak, som er det meste den kan ha."
            )
    if kind == "adjust":
        changes = body["changes"]
        if "responsible" in changes:
            _check_responsible(call, ctx, changes["responsible"], section)
        for key in ("starts", "ends", "evaluate_by"):
            parse_date(changes.get(key), key)
    if kind == "next_meeting":
        starts = parse_datetime(body["starts_at"], "starts_at")
        assert starts is not None
        if starts <= call.now:
            raise ApiError.about("malformed", Said("next-meeting-past", "starts_at"))
        parse_datetime(body.get("ends_at"), "ends_at")
    if kind == "next_evaluation":
        when = parse_date(body["date"], "date")
        assert when is not None
        if when <= call.now.date():
            raise ApiError.about("malformed", Said("next-evaluation-past", "date"))
    body.pop("item")
    if measure is not None:
        body.pop("measure")
    body["summary"] = meeting_service.summarise(kind, body, ctx, measure)
    row = DecisionRow(
        id=new_id(),
        meeting_id=loaded.row.id,
        plan_id=ctx.plan.id,
        item_id=item.id,
        section_id=section,
        kind=kind,
        measure_id=measure.id if measure else None,
        data=body,
        created_by=call.principal.person,
        created_at=call.now,
    )
    call.db.add(row)
    await call.db.flush()
    call.log(ctx.plan.id, "change", f"meeting:{loaded.row.id}", f"decision {kind}")
    return _visible_decisions(call, loaded, [row])[0]


@api("GET", "/api/meetings/{meeting}/decisions", summary="Decisions I may see", tag="meetings")
async def list_decisions(call: Call) -> Any:
    loaded = await _loaded(call)
    rows = await meeting_repo.decisions(call.db, loaded.row.id)
    return {"decisions": _visible_decisions(call, loaded, rows)}


@api(
    "DELETE",
    "/api/meetings/{meeting}/decisions/{decision}",
    summary="Withdraw a decision before approval",
    tag="meetings",
)
async def remove_decision(call: Call) -> Any:
    loaded = await _loaded(call, lock=True)
    row = await call.db.get(DecisionRow, call.param_id("decision"))
    if row is None or row.meeting_id != loaded.row.id or row.removed_at is not None:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    item = loaded.state.item(row.item_id)
    if item is None:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    call.require(
        policy.check_record_decision(loaded.ctx, call.principal, loaded.state, item),
        loaded.row.plan_id,
        f"meeting:{loaded.row.id}",
    )
    row.removed_at = call.now
    call.log(loaded.row.plan_id, "change", f"meeting:{loaded.row.id}", "removed decision")
    return {"ok": True}


# --- approval and finalisation --------------------------------------------------------


@api(
    "POST",
    "/api/meetings/{meeting}/approve",
    summary="The owner (or guardian) approves the minutes",
    body=EMPTY,
    tag="meetings",
)
async def approve(call: Call) -> Any:
    reply = await _run(call, sm.Approve(), "minutes approved")
    meeting_id = call.param_id("meeting")
    # Approved minutes are frozen: item documents become read-only for everyone.
    call.after_commit(lambda: _recheck_items(call, meeting_id))
    return reply


async def _recheck_items(call: Call, meeting_id: str) -> None:
    if call.services.realtime is not None:
        await call.services.realtime.recheck_prefix(f"meeting:{meeting_id}:")


@api(
    "POST",
    "/api/meetings/{meeting}/finalize",
    summary="The coordinator finalises: minutes freeze, decisions apply to the plan",
    body=EMPTY,
    tag="meetings",
)
async def finalize(call: Call) -> Any:
    loaded = await _loaded(call, lock=True)
    try:
        await meeting_service.command(call.db, loaded, call.principal, sm.Finalize(), call.now)
    except Refused as exc:
        if exc.code == "forbidden":
            call.log(
                loaded.row.plan_id, "denied", f"meeting:{loaded.row.id}", exc.reason, keep=True
            )
        raise ApiError.of(exc) from None
    by = call.principal.person
    await meeting_service.apply_decisions(call.db, call.services, loaded, by, call.now)
    notes = await meeting_service.notes_of(call.services, loaded.row.id, loaded.state.agenda)
    decisions = await meeting_repo.decisions(call.db, loaded.row.id)
    fresh = await meeting_service.load(call.db, loaded.row.id, call.now)
    assert fresh is not None
    fresh.state = loaded.state
    content = meeting_service.minutes_content(
        fresh, fresh.ctx.plan.title, decisions, notes, 1, None, ""
    )
    stored = await meeting_service.store_minutes(call.db, fresh, content, by=by, now=call.now)
    call.log(
        loaded.row.plan_id,
        "change",
        f"meeting:{loaded.row.id}",
        f"finalised; minutes v1 {stored.hash[:12]}",
    )
    meeting_id = loaded.row.id
    plan_id = loaded.row.plan_id

    realtime = call.services.realtime
    if realtime is not None:
        # Separate steps: one that fails (logged by the endpoint) does not keep the
        # others from running.
        call.after_commit(
            lambda: realtime.close_documents(f"meeting:{meeting_id}:", "meeting finalised")
        )
    call.after_commit(_make_effects(call.services.effects))  # the decisions' document edits
    call.after_commit(lambda: call.services.meeting_changed(meeting_id))
    call.after_commit(lambda: call.services.access_changed(plan_id))
    for decision in decisions:
        follow_up = (decision.outcome or {}).get("meeting")
        if decision.kind == "next_meeting" and follow_up:
            _send_invitations(call, follow_up)
    return _meeting_json(loaded.row) | {
        "state": meeting_service.wire_state(loaded, call.principal),
        "minutes": {"version": 1, "hash": stored.hash},
    }


def _make_effects(effects: Effects) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await effects.run_now()

    return run


CORRECTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["item", "notes", "reason"],
    "properties": {"item": ID_SCHEMA, "notes": text(20000), "reason": text(1000, 1)},
}


@api(
    "POST",
    "/api/meetings/{meeting}/corrections",
    summary="Correct finalised minutes: a new, linked version",
    body=CORRECTION,
    status=201,
    tag="meetings",
)
async def correct(call: Call) -> Any:
    loaded = await _loaded(call, lock=True)
    if loaded.state.status is not sm.MeetingStatus.FINAL:
        raise ApiError("conflict", "Bare ferdige referater rettes; skriv i møtet til da.")
    call.require(
        policy.check_correct_minutes(loaded.ctx, call.principal),
        loaded.row.plan_id,
        f"meeting:{loaded.row.id}",
    )
    item = loaded.state.item(call.body["item"])
    if item is None or not loaded.can_read(call.principal, item):
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    versions = await meeting_repo.minutes(call.db, loaded.row.id)
    latest = versions[-1]
    content = dict(latest.content)
    content.pop("hash", None)
    content["items"] = [
        i | {"notes": call.body["notes"]} if i["id"] == item.id else i for i in content["items"]
    ]
    content["version"] = latest.version + 1
    content["supersedes"] = latest.version
    content["reason"] = call.body["reason"]
    stored = await meeting_service.store_minutes(
        call.db,
        loaded,
        content,
        by=call.principal.person,
        now=call.now,
        supersedes=latest.id,
        reason=call.body["reason"],
    )
    call.log(
        loaded.row.plan_id,
        "change",
        f"meeting:{loaded.row.id}",
        f"minutes corrected: v{stored.version}",
    )
    return {"version": stored.version, "supersedes": latest.version, "hash": stored.hash}


async def _minutes(
    call: Call, loaded: meeting_service.Loaded
) -> tuple[MinutesRow, list[int], dict[str, Any]]:
    """The wanted (default: newest) minutes version, filtered to the caller's consent.
    Only that version's content is read (each may hold a mebibyte of notes)."""
    versions = await meeting_repo.minutes_versions(call.db, loaded.row.id)
    if not versions:
        raise ApiError("not-found", "Møtet har ikke ferdige referater ennå.")
    wanted = call.query("version")
    row_id = (
        versions[-1][0]
        if wanted is None
        else next((i for i, version in versions if str(version) == wanted), None)
    )
    row = await call.db.get(MinutesRow, row_id) if row_id is not None else None
    if row is None:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    content = meeting_service.filter_content(dict(row.content), loaded, call.principal)
    return row, [version for _, version in versions], content


async def _rendered(
    call: Call, row: MinutesRow, job: rendered_minutes.Job, headers: dict[str, str] | None = None
) -> Reply:
    """Stored rendered minutes, or (after commit: rendering must not hold the transaction)
    rendered in a worker process and stored."""
    key = rendered_minutes.key_of(row.id, job)
    media_type = rendered_minutes.MEDIA_TYPES[job.kind]
    services = call.services
    found = await meeting_repo.rendered(call.db, key)
    if found is not None:
        services.metrics.count_render("stored")
        return Response(found, media_type=media_type, headers=headers)
    wait = ratelimit.render_wait(call.request, call.principal.person, services.settings.rate_render)
    if wait:
        raise retry_later(
            "rate-limited",
            f"For mange nye utskrifter av referater; prøv igjen om {wait} sekunder.",
            wait,
        )
    minutes_id = row.id

    async def make() -> Response:
        try:
            data = await rendered_minutes.render_and_store(services, key, minutes_id, job)
        except rendered_minutes.Unavailable as exc:
            log.warning("rendering %s of minutes %s: %s", job.kind, minutes_id, exc.reason)
            raise retry_later(
                "unavailable",
                "Referatet kan ikke lages akkurat nå (det tok for lang tid, eller serveren er "
                "opptatt). Prøv igjen senere.",
                exc.retry_after,
            ) from None
        return Response(data, media_type=media_type, headers=headers)

    return AfterCommit(make)


@api(
    "GET",
    "/api/meetings/{meeting}/minutes",
    summary="The minutes as I may see them (format=json|html|pdf, version=N)",
    tag="meetings",
    costly=True,
)
async def get_minutes(call: Call) -> Reply:
    loaded = await _loaded(call)
    row, versions, content = await _minutes(call, loaded)
    call.log(loaded.row.plan_id, "open", f"minutes:{loaded.row.id}", f"v{row.version}")
    fmt = call.query("format", "json")
    lang = _reader_lang(call)
    if fmt == "html":
        return await _rendered(call, row, rendered_minutes.job_of("minutes-html", content, lang))
    if fmt == "pdf":
        return await _rendered(
            call,
            row,
            rendered_minutes.job_of("minutes-pdf", content, lang),
            {"content-disposition": f'attachment; filename="referat-{loaded.row.id}.pdf"'},
        )
    if fmt != "json":
        raise ApiError("malformed", "format: json, html or pdf.")
    # Each decision's sentence written for the reader (the stored summary is bokmål).
    written = minutes.with_texts(cast(minutes.MinutesContent, content), lang)
    return dict(written) | {"versions": versions}


@api(
    "GET",
    "/api/meetings/{meeting}/draft-minutes",
    summary="The minutes as they stand, before approval (what the owner approves)",
    tag="meetings",
    costly=True,
)
async def draft_minutes(call: Call) -> Any:
    loaded = await _loaded(call)
    if loaded.state.status not in (sm.MeetingStatus.ENDED, sm.MeetingStatus.APPROVED):
        raise ApiError("conflict", "Referatet kan leses her når møtet er slutt.")
    notes = await meeting_service.notes_of(call.services, loaded.row.id, loaded.state.agenda)
    rows = await meeting_repo.decisions(call.db, loaded.row.id)
    draft = meeting_service.minutes_content(loaded, loaded.ctx.plan.title, rows, notes, 0, None, "")
    content = meeting_service.filter_content(dict(draft), loaded, call.principal)
    call.log(loaded.row.plan_id, "open", f"minutes:{loaded.row.id}", "draft")
    return minutes.with_texts(cast(minutes.MinutesContent, content), _reader_lang(call))


def _reader_lang(call: Call) -> str:
    """The language to write for: ?lang=, else the browser's Accept-Language."""
    asked = call.query("lang")
    return minutes.language(asked or reader_language(call.request.headers.get("accept-language")))


@api(
    "GET",
    "/api/meetings/{meeting}/summary",
    summary="A one-page, plain-language summary for the owner",
    tag="meetings",
    costly=True,
)
async def owner_summary(call: Call) -> Reply:
    loaded = await _loaded(call)
    owner = next(p for p in loaded.ctx.plan.participants if p.role is Role.OWNER)
    row, _, content = await _minutes(call, loaded)
    job = rendered_minutes.job_of("summary-html", content, _reader_lang(call), owner.name)
    return await _rendered(call, row, job)


@api("GET", "/api/meetings/{meeting}/invite.ics", summary="My calendar invitation", tag="meetings")
async def invitation(call: Call) -> Any:
    loaded = await _loaded(call)
    me = loaded.ctx.actor(call.principal)
    assert me is not None
    row = loaded.row
    chair = loaded.ctx.plan.participant(loaded.state.chair)
    cancelled = loaded.state.status is sm.MeetingStatus.CANCELLED or (
        me.id not in loaded.state.invited and not policy.in_every_meeting(me)
    )
    body = ics.invitation(
        {
            "id": row.id,
            "title": row.title,
            "starts_at": row.starts_at,
            "ends_at": row.ends_at,
            "place": row.place,
            "video_url": row.video_url,
        },
        attendee_name=me.name,
        attendee_email=me.email or None,
        organizer_name=(policy.name_for(loaded.ctx, call.principal, chair.id) or "")
        if chair
        else "",
        base_url=call.services.settings.base_url,
        sequence=row.ics_sequence,
        method="CANCEL" if cancelled else "REQUEST",
        now=call.now,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="mote-{row.id}.ics"'},
    )


# --- between meetings -----------------------------------------------------------------


@api(
    "GET",
    "/api/plans/{plan}/changes",
    summary="What changed since the last finalised meeting, as I may see it",
    tag="meetings",
    costly=True,
)
async def changes(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "changes")
    last = await meeting_repo.last_final(call.db, plan_id)
    since = last.updated_at if last else None
    measures = {m.id: repo.to_measure(m) for m in await repo.measures_of_plan(call.db, plan_id)}
    out = []
    for v in await meeting_repo.changes_since(call.db, plan_id, since):
        if v.entity == "measures":
            measure = measures.get(v.entity_id)
            if measure is None or not policy.check_read_measure(ctx, call.principal, measure):
                continue
            label = measure.title
        elif v.entity == "sections":
            if not policy.check_see_section(ctx, call.principal, v.entity_id):
                continue
            label = ctx.sections[v.entity_id].title
        elif v.entity == "plans":
            label = ctx.plan.title
        else:
            continue
        out.append(
            {
                "entity": v.entity,
                "id": v.entity_id,
                "title": label,
                "change": v.change,
                "version": v.version,
                "at": v.changed_at.isoformat(),
            }
        )
    return {
        "since": since.isoformat() if since else None,
        "last_meeting": last.id if last else None,
        "changes": out,
    }


@api(
    "GET",
    "/api/plans/{plan}/overdue",
    summary="Overdue measures and evaluations I am responsible for or coordinate",
    tag="meetings",
    costly=True,
)
async def overdue(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "overdue")
    me = ctx.actor(call.principal)
    assert me is not None
    today = call.now.date()
    everyone = bool(policy.check_see_everyones_measures(ctx, call.principal))
    flagged = []
    for row in await repo.measures_of_plan(call.db, plan_id):
        measure = repo.to_measure(row)
        if measure.status in (MeasureStatus.DONE, MeasureStatus.STOPPED):
            continue
        if not policy.check_read_measure(ctx, call.principal, measure):
            continue
        if not everyone and measure.responsible != me.id:
            continue
        reasons = []
        if measure.evaluate_by is not None and measure.evaluate_by < today:
            reasons.append("evaluation")
        if measure.ends is not None and measure.ends < today:
            reasons.append("ended")
        if reasons:
            flagged.append(
                {
                    "measure": measure.id,
                    "title": measure.title,
                    "responsible": measure.responsible,
                    "section": measure.section,
                    "overdue": reasons,
                    "evaluate_by": measure.evaluate_by.isoformat() if measure.evaluate_by else None,
                }
            )
    plan_overdue = ctx.plan.next_evaluation < today
    return {
        "measures": flagged,
        "plan_evaluation_overdue": plan_overdue if everyone else False,
        "next_evaluation": ctx.plan.next_evaluation.isoformat(),
    }
