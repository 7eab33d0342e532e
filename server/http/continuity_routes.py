"""Continuity (issue 13): a deputy standing in for the coordinator, the handover from one
coordinator to the next, and transitions in the plan's life that call for a review of
consent and the group. Every decision is collab.policy's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from collab import policy
from collab.guardians import oslo_day
from collab.model import Participant
from server import notify
from server.db import continuity as continuity_db
from server.db.continuity import HandoverRow, StandInRow
from server.http.common import NOT_FOUND_MESSAGE, ApiError, Call, Endpoints
from server.http.render import DATE_SCHEMA, ID_SCHEMA, parse_date, text

api = Endpoints()  # this module's routes; server.app composes them

MAX_STAND_IN_DAYS = 366
MAX_STAND_INS = 50
TRANSITION_KINDS = (
    "new-school",
    "turning-18",
    "leaving-hospital",
    "leaving-prison",
    "moving",
    "new-coordinator",
    "other",
)

STAND_IN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["participant", "starts", "ends"],
    "properties": {"participant": ID_SCHEMA, "starts": DATE_SCHEMA, "ends": DATE_SCHEMA},
}
HANDOVER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["note"],
    "properties": {"note": text(5000)},
}
TRANSITION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "day"],
    "properties": {"kind": {"enum": list(TRANSITION_KINDS)}, "day": DATE_SCHEMA},
}


def _stand_in_json(call: Call, ctx: policy.PlanContext, row: StandInRow) -> dict[str, Any]:
    today = oslo_day(call.now)
    return {
        "id": row.id,
        "participant": row.participant_id,
        "name": policy.name_for(ctx, call.principal, row.participant_id),
        "for": row.for_participant_id,
        "starts": row.starts.isoformat(),
        "ends": row.ends.isoformat(),
        "active": row.starts <= today < row.ends,
    }


@api("GET", "/api/plans/{plan}/stand-ins", summary="Deputies for the coordinator", tag="plans")
async def list_stand_ins(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_participants(ctx, call.principal), plan_id, "participants")
    rows = await continuity_db.stand_ins(call.db, plan_id)
    known = policy.knows_of(ctx, call.principal)
    return {
        "stand_ins": [_stand_in_json(call, ctx, r) for r in rows if r.participant_id in known],
        "can_set": bool(policy.check_change_coordinator(ctx, call.principal)),
    }


@api(
    "POST",
    "/api/plans/{plan}/stand-ins",
    summary="A deputy stands in for the coordinator for a period (the owner's choice)",
    body=STAND_IN,
    status=201,
    tag="plans",
)
async def add_stand_in(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    deputy = ctx.plan.participant(call.body["participant"])
    decision = policy.check_set_stand_in(ctx, call.principal, deputy)
    if decision.code == "conflict":
        raise ApiError("conflict", decision.message or decision.reason)
    if decision.code == "not-found":
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    call.require(decision, plan_id, "participants")
    assert deputy is not None
    starts = parse_date(call.body["starts"], "starts")
    ends = parse_date(call.body["ends"], "ends")
    assert starts is not None and ends is not None
    if ends <= starts:
        raise ApiError("malformed", "Sluttdatoen må være etter startdatoen.")
    if ends - starts > timedelta(days=MAX_STAND_IN_DAYS):
        raise ApiError("malformed", "En stedfortreder kan stå inn i høyst ett år om gangen.")
    if ends <= oslo_day(call.now):
        raise ApiError("malformed", "Perioden er allerede over.")
    if len(await continuity_db.stand_ins(call.db, plan_id)) >= MAX_STAND_INS:
        raise ApiError("conflict", "Planen har for mange stedfortrederperioder.")
    coordinator = policy.coordinators_of(ctx)[0]
    row = await continuity_db.add_stand_in(
        call.db,
        plan=plan_id,
        deputy=deputy.id,
        coordinator=coordinator.id,
        starts=starts,
        ends=ends,
        by=call.principal.person,
        now=call.now,
    )
    call.log(
        plan_id,
        "change",
        f"participant:{deputy.id}",
        f"stands in for the coordinator {starts.isoformat()}–{ends.isoformat()}",
    )
    call.after_commit(lambda: call.services.access_changed(plan_id, call.principal.person))
    fresh = await call.plan(plan_id)
    return _stand_in_json(call, fresh, row)


@api(
    "DELETE",
    "/api/plans/{plan}/stand-ins/{stand_in}",
    summary="End a deputy's stand-in today (the owner's choice)",
    tag="plans",
)
async def end_stand_in(call: Call) -> Any:
    plan_id, sid = call.param_id("plan"), call.param_id("stand_in")
    ctx = await call.plan(plan_id)
    call.require(policy.check_change_coordinator(ctx, call.principal), plan_id, "participants")
    row = await continuity_db.get_stand_in(call.db, plan_id, sid)
    if row is None:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    today = oslo_day(call.now)
    row.ends = max(row.starts, min(row.ends, today))
    call.log(plan_id, "change", f"participant:{row.participant_id}", "stand-in ended")
    call.after_commit(lambda: call.services.access_changed(plan_id, call.principal.person))
    return _stand_in_json(call, ctx, row)


def _handover_json(row: HandoverRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row.id,
        "from": row.from_name,
        "note": row.note,
        "written_at": row.written_at.isoformat(),
        "to": row.to_name,
        "handed_at": row.handed_at.isoformat() if row.handed_at else None,
        "accepted_at": row.accepted_at.isoformat() if row.accepted_at else None,
    }


@api(
    "GET",
    "/api/plans/{plan}/handover",
    summary="The handover note between coordinators, as I may read it",
    tag="plans",
)
async def get_handover(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "handover")
    row = await continuity_db.latest_handover(call.db, plan_id)
    if row is None or not policy.check_read_handover(ctx, call.principal, row.to_participant_id):
        return {
            "handover": None,
            "can_write": bool(policy.check_write_handover(ctx, call.principal)),
        }
    me = ctx.actor(call.principal)
    return {
        "handover": _handover_json(row),
        "can_write": bool(policy.check_write_handover(ctx, call.principal)),
        "can_accept": me is not None and row.to_participant_id == me.id and row.accepted_at is None,
    }


@api(
    "PUT",
    "/api/plans/{plan}/handover",
    summary="The coordinator writes the handover note for whoever takes over",
    body=HANDOVER,
    tag="plans",
)
async def write_handover(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_write_handover(ctx, call.principal), plan_id, "handover")
    me = ctx.plan.participant_for_person(call.principal.person)
    assert me is not None
    row = await continuity_db.write_note(
        call.db, plan=plan_id, author=me.id, name=me.name, note=call.body["note"], now=call.now
    )
    call.log(plan_id, "change", "handover", "wrote the handover note")
    return {"handover": _handover_json(row)}


@api(
    "POST",
    "/api/plans/{plan}/handover/accept",
    summary="The incoming coordinator accepts the handover (the owner is told)",
    tag="plans",
)
async def accept_handover(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    me = ctx.actor(call.principal)
    row = await continuity_db.latest_handover(call.db, plan_id)
    if me is None or row is None or row.to_participant_id != me.id:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    if row.accepted_at is not None:
        raise ApiError("conflict", "Du har allerede tatt imot overleveringen.")
    row.accepted_at = call.now
    await notify.tell_owner(call.db, ctx, me, "handover-accepted", call.now)
    call.log(plan_id, "change", "handover", f"{me.name} took over as coordinator")
    return {"handover": _handover_json(row)}


@api(
    "GET",
    "/api/plans/{plan}/transitions",
    summary="Transitions in the plan's life (new school, turning 18, …)",
    tag="plans",
)
async def list_transitions(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_participants(ctx, call.principal), plan_id, "transitions")
    rows = await continuity_db.transitions(call.db, plan_id)
    return {
        "kinds": list(TRANSITION_KINDS),
        "transitions": [
            {
                "id": r.id,
                "kind": r.kind,
                "day": r.day.isoformat(),
                "reviewed": r.reviewed_at is not None,
            }
            for r in rows
        ],
        "can_record": bool(policy.check_manage_plan(ctx, call.principal)),
    }


@api(
    "POST",
    "/api/plans/{plan}/transitions",
    summary="Record a transition; consent and the group are then to be reviewed",
    body=TRANSITION,
    status=201,
    tag="plans",
)
async def add_transition(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, "transitions")
    if len(await continuity_db.transitions(call.db, plan_id)) >= 200:
        raise ApiError("conflict", "Planen har for mange registrerte overganger.")
    day = parse_date(call.body["day"], "day")
    assert day is not None
    row = await continuity_db.add_transition(
        call.db,
        plan=plan_id,
        kind=call.body["kind"],
        day=day,
        by=call.principal.person,
        now=call.now,
    )
    call.log(plan_id, "change", "plan", f"transition {row.kind} {day.isoformat()}")
    return {"id": row.id, "kind": row.kind, "day": day.isoformat(), "reviewed": False}


@api(
    "POST",
    "/api/plans/{plan}/transitions/{transition}/reviewed",
    summary="Consent and the group have been reviewed after a transition",
    tag="plans",
)
async def review_transition(call: Call) -> Any:
    plan_id, tid = call.param_id("plan"), call.param_id("transition")
    ctx = await call.plan(plan_id)
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, "transitions")
    rows = {r.id: r for r in await continuity_db.transitions(call.db, plan_id)}
    row = rows.get(tid)
    if row is None:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    if row.reviewed_at is None:
        row.reviewed_at = call.now
        call.log(plan_id, "change", "plan", f"reviewed after transition {row.kind}")
    return {"id": row.id, "kind": row.kind, "day": row.day.isoformat(), "reviewed": True}


async def after_replace(
    call: Call, ctx: policy.PlanContext, old_id: str, old_name: str, new_id_: str, new_name: str
) -> None:
    """The coordinator role passed from one participant to another (by the owner or a
    guardian): the outgoing coordinator's note waits for the incoming one, and the owner
    and guardians other than whoever did it are told."""
    await continuity_db.hand_over(
        call.db,
        plan=ctx.plan.id,
        old=old_id,
        old_name=old_name,
        new=new_id_,
        new_name=new_name,
        now=call.now,
    )
    await notify.tell_owner(
        call.db, ctx, ctx.actor(call.principal), "coordinator-changed", call.now
    )


async def hand_over_to(
    call: Call,
    ctx: policy.PlanContext,
    old: Participant,
    new_id_: str,
    new_name: str,
    *,
    unit: bool,
) -> None:
    """The coordinating unit appointed a new coordinator: the handover as above, and the
    owner and every guardian are told (the unit is outside the group)."""
    await continuity_db.hand_over(
        call.db,
        plan=ctx.plan.id,
        old=old.id,
        old_name=old.name,
        new=new_id_,
        new_name=new_name,
        now=call.now,
    )
    await notify.tell_owner(
        call.db, ctx, None, "coordinator-changed", call.now, actor_name="Koordinerende enhet"
    )
