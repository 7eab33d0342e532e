"""Plans, sections, participants and measures over HTTP: parse → policy → repo → render."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from collab import policy
from collab.model import (
    DEFAULT_EVALUATION_MONTHS,
    DEFAULT_SECTIONS,
    MeasureStatus,
    PlanStatus,
    Role,
    SectionKind,
    new_id,
    next_evaluation,
)
from collab.policy import PlanContext
from server.auth import oidc
from server.db import repo
from server.db.models import MeasureRow, ParticipantRow, PlanRow, SectionRow
from server.http import continuity_routes, ratelimit
from server.http.common import NOT_FOUND_MESSAGE, ApiError, Call, Endpoints
from server.http.invite_routes import invitation_json
from server.http.messages import Said
from server.http.render import (
    DATE_SCHEMA,
    ID_SCHEMA,
    measure_json,
    parse_date,
    participant_json,
    plan_summary,
    section_json,
    text,
    valid_email,
)

api = Endpoints()  # this module's routes; server.app composes them

CONTACT = {
    "name": text(200, 1),
    "organisation": text(200),
    "service": text(200),
    "title": text(200),
    "phone": text(40),
    "email": text(320),
}

# --- plans ----------------------------------------------------------------------------


@api("GET", "/api/plans", summary="The plans I take part in, with my role in each")
async def list_plans(call: Call) -> Any:
    out = []
    for plan_id in await repo.plans_of_person(call.db, call.principal.person):
        ctx = await call.plan(plan_id)
        me = ctx.actor(call.principal)
        if me is None or not policy.check_see_plan(ctx, call.principal):
            continue  # e.g. a guardian whose full access has ended, with nothing granted
        can = policy.plan_capabilities(ctx, call.principal)
        out.append(
            plan_summary(ctx.plan) | {"role": me.role.value, "participant": me.id, "can": can}
        )
    return {"plans": out}


PERSON = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": text(200, 1), "phone": text(40), "email": text(320)},
}
DEFAULT_SECTION_KEYS = [t.key for t in DEFAULT_SECTIONS]
CREATE_PLAN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "as"],
    "properties": {
        "title": text(200, 1),
        "as": {"enum": ["owner", "coordinator"]},
        "owner_name": text(200, 1),
        # The owner's contact (for the invitation to sign consent in Planrom).
        "owner": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"phone": text(40), "email": text(320)},
        },
        "guardians": {"type": "array", "maxItems": 4, "items": PERSON},
        "coordinator": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": CONTACT,
        },
        "period_from": DATE_SCHEMA,
        "period_to": {"anyOf": [DATE_SCHEMA, {"type": "null"}]},
        "evaluation_months": {"type": "integer", "minimum": 1, "maximum": 24},
        # Which of the default sections the plan starts with (all when not given).
        "sections": {
            "type": "array",
            "maxItems": len(DEFAULT_SECTION_KEYS),
            "uniqueItems": True,
            "items": {"enum": DEFAULT_SECTION_KEYS},
        },
    },
}


def _check_email(value: str, field: str) -> None:
    if value and not valid_email(value):
        raise ApiError.about("malformed", Said("not-an-email", field))


@api("POST", "/api/plans", summary="Start a new plan", body=CREATE_PLAN, status=201)
async def create_plan(call: Call) -> Any:
    body = call.body
    me = call.principal
    if not ratelimit.allow_start_plan(
        call.request, me.person, call.services.settings.rate_start_plan
    ):
        raise ApiError("rate-limited", "For mange nye planer; vent litt (rate limited).")
    if body["as"] == "owner":
        owner_name, owner_person = me.name, me.person
        coordinator = body.get("coordinator")
        coordinator_person = None
    else:
        if not body.get("owner_name", "").strip():
            raise ApiError.about("malformed", Said("owner-name-needed", "owner_name"))
        owner_name, owner_person = body["owner_name"].strip(), None
        coordinator = {"name": me.name} | body.get("coordinator", {})
        coordinator_person = me.person
    owner_contact = body.get("owner", {})
    _check_email(owner_contact.get("email", "").strip(), "owner.email")
    for n, guardian in enumerate(body.get("guardians", [])):
        _check_email(guardian.get("email", "").strip(), f"guardians.{n}.email")
    if "sections" in body and not body["sections"]:
        raise ApiError.about("malformed", Said("sections-needed", "sections"))
    period_from = parse_date(body.get("period_from"), "period_from") or call.now.date()
    period_to = parse_date(body.get("period_to"), "period_to")
    if period_to is not None and period_to < period_from:
        raise ApiError.about("malformed", Said("period-ends-before-start", "period_to"))
    chosen = set(body.get("sections", DEFAULT_SECTION_KEYS))
    plan = await repo.create_plan(
        call.db,
        title=body["title"].strip() or body["title"],
        owner_name=owner_name,
        owner_person=owner_person,
        owner_contact={k: v.strip() for k, v in owner_contact.items()},
        guardians=[{k: v.strip() for k, v in g.items()} for g in body.get("guardians", [])],
        coordinator=coordinator,
        coordinator_person=coordinator_person,
        period_from=period_from,
        period_to=period_to,
        evaluation_months=body.get("evaluation_months", DEFAULT_EVALUATION_MONTHS),
        by=me.person,
        at=call.now,
        sections=[(t.key, t.kind, t.title) for t in DEFAULT_SECTIONS if t.key in chosen],
    )
    call.log(plan.id, "change", "plan", "created the plan")
    return await _plan_detail(call, await call.plan(plan.id))


async def _plan_detail(call: Call, ctx: PlanContext) -> dict[str, Any]:
    me = ctx.actor(call.principal)
    assert me is not None
    sections = []
    for section in ctx.sections.values():
        # Titles of sections one may see; while the plan is set up the coordinator's
        # come with level "none" (no content until the owner signs).
        if policy.check_see_section(ctx, call.principal, section.id):
            level, _ = policy.section_level(ctx, call.principal, section.id)
            sections.append(section_json(section, level))
    return plan_summary(ctx.plan) | {
        "me": {"participant": me.id, "role": me.role.value, "name": me.name},
        "sections": sections,
        "measures": await _visible_measures(call, ctx),
        "participants": _visible_participants(call, ctx),
        "can": policy.plan_capabilities(ctx, call.principal),
    }


def _visible_participants(call: Call, ctx: PlanContext) -> list[dict[str, Any]]:
    return [
        participant_json(p, contact=contact, facts=policy.participant_facts(ctx, p))
        for p, contact in policy.visible_participants(ctx, call.principal)
    ]


async def _visible_measures(call: Call, ctx: PlanContext) -> list[dict[str, Any]]:
    known = policy.knows_of(ctx, call.principal)
    out = []
    for row in await repo.measures_of_plan(call.db, ctx.plan.id):
        measure = repo.to_measure(row)
        if policy.check_read_measure(ctx, call.principal, measure):
            writable = bool(policy.check_update_measure(ctx, call.principal, measure))
            out.append(measure_json(measure, writable=writable, known=known))
    return out


@api("GET", "/api/plans/{plan}", summary="A plan: the sections, measures and people I may see")
async def get_plan(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "plan")
    call.log(plan_id, "open", "plan")
    return await _plan_detail(call, ctx)


UPDATE_PLAN = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "title": text(200, 1),
        "status": {"enum": [s.value for s in PlanStatus]},
        "period_from": DATE_SCHEMA,
        "period_to": {"anyOf": [DATE_SCHEMA, {"type": "null"}]},
        "evaluation_months": {"type": "integer", "minimum": 1, "maximum": 24},
        "next_evaluation": DATE_SCHEMA,
    },
}


@api(
    "PATCH",
    "/api/plans/{plan}",
    summary="Change the plan's title, period or cadence",
    body=UPDATE_PLAN,
)
async def update_plan(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    body = call.body
    if body.get("status") == PlanStatus.ACTIVE.value and ctx.plan.status is PlanStatus.CLOSED:
        call.require(policy.check_reopen_plan(ctx, call.principal), plan_id, "plan")
    else:
        call.require(policy.check_manage_plan(ctx, call.principal), plan_id, "plan")
    row = await call.db.get(PlanRow, plan_id)
    assert row is not None
    if "title" in body:
        row.title = body["title"]
    if "status" in body:
        row.status = body["status"]
    if "period_from" in body:
        row.period_from = parse_date(body["period_from"], "period_from") or row.period_from
    if "period_to" in body:
        row.period_to = parse_date(body["period_to"], "period_to")
    if row.period_to is not None and row.period_to < row.period_from:
        raise ApiError("malformed", "period_to: the plan period cannot end before it starts.")
    if "evaluation_months" in body:
        row.evaluation_months = body["evaluation_months"]
    if "next_evaluation" in body:
        chosen = parse_date(body["next_evaluation"], "next_evaluation")
        assert chosen is not None
        row.next_evaluation = chosen
    elif {"period_from", "evaluation_months"} & body.keys():
        row.next_evaluation = next_evaluation(
            row.period_from, call.now.date(), row.evaluation_months
        )
    await repo.record(
        call.db, row, plan_id=plan_id, change="update", by=call.principal.person, at=call.now
    )
    call.log(plan_id, "change", "plan", ", ".join(sorted(body)))
    if "status" in body:
        # A closed plan is read-only: open documents follow before the answer.
        call.after_commit(lambda: call.services.access_changed(plan_id))
    return await _plan_detail(call, await call.plan(plan_id))


# --- sections -------------------------------------------------------------------------


@api("GET", "/api/plans/{plan}/sections", summary="The sections I may see, in order")
async def list_sections(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "sections")
    return {"sections": (await _plan_detail(call, ctx))["sections"]}


CREATE_SECTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title"],
    "properties": {"title": text(200, 1), "kind": {"enum": ["life_area", "custom"]}},
}


@api(
    "POST",
    "/api/plans/{plan}/sections",
    summary="Add a section (e.g. a life area)",
    body=CREATE_SECTION,
    status=201,
)
async def create_section(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, "sections")
    position = max((s.position for s in ctx.sections.values()), default=-1) + 1
    row = SectionRow(
        id=new_id(),
        plan_id=plan_id,
        key=f"egen-{new_id(6)}",
        kind=call.body.get("kind", SectionKind.CUSTOM.value),
        title=call.body["title"],
        position=position,
        archived=False,
    )
    await repo.record(
        call.db, row, plan_id=plan_id, change="create", by=call.principal.person, at=call.now
    )
    call.log(plan_id, "change", f"section:{row.id}", "added")
    # The new section has no grants yet: only the owner and guardians see it until the
    # owner signs a consent version that includes it.
    level, _ = policy.section_level(await call.plan(plan_id), call.principal, row.id)
    return section_json(repo.to_section(row), level)


UPDATE_SECTION = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "title": text(200, 1),
        "position": {"type": "integer", "minimum": 0, "maximum": 1000},
        "archived": {"type": "boolean"},
    },
}


@api(
    "PATCH",
    "/api/plans/{plan}/sections/{section}",
    summary="Rename, move or archive a section",
    body=UPDATE_SECTION,
)
async def update_section(call: Call) -> Any:
    plan_id, section_id = call.param_id("plan"), call.param_id("section")
    ctx = await call.plan(plan_id)
    target = f"section:{section_id}"
    call.require(policy.check_see_section(ctx, call.principal, section_id), plan_id, target)
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, target)
    if "archived" in call.body:
        call.require(policy.check_archive_section(ctx, call.principal), plan_id, target)
    if "title" in call.body:
        call.require(policy.check_rename_section(ctx, call.principal, section_id), plan_id, target)
    rows = (
        (
            await call.db.execute(
                select(SectionRow)
                .where(SectionRow.plan_id == plan_id)
                .order_by(SectionRow.position)
            )
        )
        .scalars()
        .all()
    )
    row = next(r for r in rows if r.id == section_id)
    if "title" in call.body:
        row.title = call.body["title"]
    if "archived" in call.body:
        row.archived = call.body["archived"]
    if "position" in call.body:
        ordered = [r for r in rows if r.id != section_id]
        ordered.insert(min(call.body["position"], len(ordered)), row)
        for index, other in enumerate(ordered):
            if other.position != index and other is not row:
                other.position = index
                await repo.record(
                    call.db,
                    other,
                    plan_id=plan_id,
                    change="update",
                    by=call.principal.person,
                    at=call.now,
                )
        row.position = ordered.index(row)
    await repo.record(
        call.db, row, plan_id=plan_id, change="update", by=call.principal.person, at=call.now
    )
    call.log(plan_id, "change", target, ", ".join(sorted(call.body)))
    if "archived" in call.body:
        # An archived section is read-only: open documents follow before the answer.
        call.after_commit(lambda: call.services.access_changed(plan_id))
    level, _ = policy.section_level(ctx, call.principal, section_id)
    return section_json(repo.to_section(row), level)


# --- participants ---------------------------------------------------------------------


@api("GET", "/api/plans/{plan}/participants", summary="The responsibility group")
async def list_participants(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "participants")
    return {"participants": _visible_participants(call, ctx)}


ADD_PARTICIPANT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["role", "name"],
    "properties": {"role": {"enum": ["guardian", "relative", "coordinator", "service"]}} | CONTACT,
}


@api(
    "POST",
    "/api/plans/{plan}/participants",
    summary="Add someone to the group",
    body=ADD_PARTICIPANT,
    status=201,
)
async def add_participant(call: Call) -> Any:
    plan_id = call.param_id("plan")
    # Lock before reading the group: the one-coordinator rule holds for concurrent adds.
    await repo.lock_plan(call.db, plan_id)
    ctx = await call.plan(plan_id)
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, "participants")
    body = call.body
    adding = policy.check_add_participant(ctx, call.principal, Role(body["role"]))
    call.require(adding, plan_id, "participants")
    _check_email(body.get("email", "").strip(), "email")  # a line break would be a header
    row = ParticipantRow(id=new_id(), plan_id=plan_id, person_id=None, active=True, **body)
    await repo.record(
        call.db, row, plan_id=plan_id, change="create", by=call.principal.person, at=call.now
    )
    call.log(plan_id, "change", f"participant:{row.id}", f"added {row.name} ({row.role})")
    # Consent is not implied: the new participant sees nothing until the owner signs.
    added = repo.to_participant(row)
    return participant_json(added, contact=True, facts=policy.participant_facts(ctx, added))


UPDATE_PARTICIPANT = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": CONTACT | {"active": {"const": False}, "hidden": {"type": "boolean"}},
}


@api(
    "PATCH",
    "/api/plans/{plan}/participants/{participant}",
    summary="Change contact details, or remove someone (active: false)",
    body=UPDATE_PARTICIPANT,
)
async def update_participant(call: Call) -> Any:
    plan_id, pid = call.param_id("plan"), call.param_id("participant")
    await repo.lock_plan(call.db, plan_id)  # the last coordinator stays, whatever the timing
    ctx = await call.plan(plan_id)
    target = f"participant:{pid}"
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, target)
    row = await call.db.get(ParticipantRow, pid)
    if (
        row is None
        or row.plan_id != plan_id
        or not row.active
        or row.id not in policy.knows_of(ctx, call.principal)
    ):
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    participant = repo.to_participant(row)
    changing = policy.check_change_participant(
        ctx,
        call.principal,
        participant,
        removing="active" in call.body,
        renaming="name" in call.body,
        hiding=bool(call.body.get("hidden")),
        showing="hidden" in call.body,
    )
    if changing.code == "conflict":
        raise ApiError("conflict", changing.message or changing.reason)
    call.require(changing, plan_id, target)
    _check_email(call.body.get("email", "").strip(), "email")  # a line break would be a header
    for key, value in call.body.items():
        setattr(row, key, value)
    removed = call.body.get("active") is False
    await repo.record(
        call.db,
        row,
        plan_id=plan_id,
        change="remove" if removed else "update",
        by=call.principal.person,
        at=call.now,
    )
    call.log(plan_id, "change", target, "removed" if removed else ", ".join(sorted(call.body)))
    if removed or "hidden" in call.body:
        by = call.principal.person
        call.after_commit(lambda: call.services.access_changed(plan_id, by))
    changed = repo.to_participant(row)
    return participant_json(changed, contact=True, facts=policy.participant_facts(ctx, changed))


# --- measures -------------------------------------------------------------------------

MEASURE_FIELDS = {
    "section": ID_SCHEMA,
    "title": text(300, 1),
    "responsible": {"anyOf": [ID_SCHEMA, {"type": "null"}]},
    "goal_ids": {"type": "array", "maxItems": 20, "items": text(64, 1)},
    "frequency": text(300),
    "starts": {"anyOf": [DATE_SCHEMA, {"type": "null"}]},
    "ends": {"anyOf": [DATE_SCHEMA, {"type": "null"}]},
    "evaluate_by": {"anyOf": [DATE_SCHEMA, {"type": "null"}]},
    "status": {"enum": [s.value for s in MeasureStatus]},
}
CREATE_MEASURE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["section", "title"],
    "properties": MEASURE_FIELDS,
}
UPDATE_MEASURE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": MEASURE_FIELDS,
}
# Fields the responsible service may change on its own measure; the rest shape the
# measure and need 'edit' on the section.
PROGRESS_FIELDS = {"status"}


def _apply_measure_fields(call: Call, ctx: PlanContext, row: MeasureRow, body: Any) -> None:
    if "section" in body:
        if body["section"] not in ctx.sections:
            raise ApiError("not-found", "Fant ikke den delen av planen.")
        row.section_id = body["section"]
    for key in ("title", "frequency", "status"):
        if key in body:
            setattr(row, key, body[key])
    if "goal_ids" in body:
        row.goal_ids = list(body["goal_ids"])
    for key in ("starts", "ends", "evaluate_by"):
        if key in body:
            setattr(row, key, parse_date(body[key], key))
    if row.starts and row.ends and row.ends < row.starts:
        raise ApiError("malformed", "ends: a measure cannot end before it starts.")
    if "responsible" in body:
        row.responsible_id = body["responsible"]
    if "responsible" in body and body["responsible"] is not None:
        if body["responsible"] not in policy.knows_of(ctx, call.principal):
            raise ApiError("not-found", NOT_FOUND_MESSAGE)
    if row.responsible_id is not None:
        who = ctx.plan.participant(row.responsible_id)
        if who is None:
            raise ApiError("not-found", NOT_FOUND_MESSAGE)
        call.require(
            policy.check_responsible(ctx, who, row.section_id), ctx.plan.id, f"measure:{row.id}"
        )


@api("GET", "/api/plans/{plan}/measures", summary="The measures I may see")
async def list_measures(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "measures")
    return {"measures": await _visible_measures(call, ctx)}


@api(
    "POST",
    "/api/plans/{plan}/measures",
    summary="Add a measure (tiltak)",
    body=CREATE_MEASURE,
    status=201,
)
async def create_measure(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    section = call.body["section"]
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "measures")
    call.require(
        policy.check_shape_measure(ctx, call.principal, section), plan_id, f"section:{section}"
    )
    # Each measure has its own document: the cap bounds what one plan can pin in memory.
    limit = call.services.settings.max_measures_per_plan
    count = await call.db.scalar(
        select(func.count()).select_from(MeasureRow).where(MeasureRow.plan_id == plan_id)
    )
    if (count or 0) >= limit:
        raise ApiError(
            "conflict", f"Planen har allerede {limit} tiltak, som er det meste den kan ha."
        )
    row = MeasureRow(
        id=new_id(),
        plan_id=plan_id,
        section_id=section,
        title="",
        goal_ids=[],
        frequency="",
        status=MeasureStatus.PLANNED.value,
        responsible_id=None,
    )
    _apply_measure_fields(call, ctx, row, call.body)
    await repo.record(
        call.db, row, plan_id=plan_id, change="create", by=call.principal.person, at=call.now
    )
    call.log(plan_id, "change", f"measure:{row.id}", "added")
    return measure_json(
        repo.to_measure(row), writable=True, known=policy.knows_of(ctx, call.principal)
    )


async def _measure(call: Call, ctx: PlanContext) -> MeasureRow:
    row = await call.db.get(MeasureRow, call.param_id("measure"))
    if row is None or row.plan_id != ctx.plan.id:
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    call.require(
        policy.check_read_measure(ctx, call.principal, repo.to_measure(row)),
        ctx.plan.id,
        f"measure:{row.id}",
    )
    return row


@api("GET", "/api/plans/{plan}/measures/{measure}", summary="One measure")
async def get_measure(call: Call) -> Any:
    ctx = await call.plan(call.param_id("plan"))
    row = await _measure(call, ctx)
    measure = repo.to_measure(row)
    call.log(ctx.plan.id, "open", f"measure:{row.id}")
    return measure_json(
        measure,
        writable=bool(policy.check_update_measure(ctx, call.principal, measure)),
        known=policy.knows_of(ctx, call.principal),
    )


@api(
    "PATCH",
    "/api/plans/{plan}/measures/{measure}",
    summary="Update a measure: status by its responsible service, the rest with edit",
    body=UPDATE_MEASURE,
)
async def update_measure(call: Call) -> Any:
    ctx = await call.plan(call.param_id("plan"))
    row = await _measure(call, ctx)
    target = f"measure:{row.id}"
    before = repo.to_measure(row)
    if set(call.body) - PROGRESS_FIELDS:
        call.require(
            policy.check_shape_measure(ctx, call.principal, before.section), ctx.plan.id, target
        )
        if "section" in call.body:
            call.require(
                policy.check_shape_measure(ctx, call.principal, call.body["section"]),
                ctx.plan.id,
                target,
            )
    else:
        call.require(policy.check_update_measure(ctx, call.principal, before), ctx.plan.id, target)
    _apply_measure_fields(call, ctx, row, call.body)
    await repo.record(
        call.db, row, plan_id=ctx.plan.id, change="update", by=call.principal.person, at=call.now
    )
    call.log(ctx.plan.id, "change", target, ", ".join(sorted(call.body)))
    if {"section", "responsible"} & call.body.keys():
        call.after_commit(lambda: call.services.access_changed(ctx.plan.id))
    return measure_json(
        repo.to_measure(row), writable=True, known=policy.knows_of(ctx, call.principal)
    )


@api("GET", "/api/plans/{plan}/history", summary="Who changed which record, when", costly=True)
async def plan_history(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_read_access_log(ctx, call.principal), plan_id, "history")
    known = policy.knows_of(ctx, call.principal)

    def _named(person: str | None) -> bool:
        """A change by someone this reader may not know of is shown as by nobody."""
        theirs = [p for p in ctx.plan.participants if p.person == person]
        return not theirs or any(policy.named_in_records(ctx, call.principal, p) for p in theirs)

    out = []
    for v in await repo.history(call.db, plan_id):
        if v.entity == "participants" and v.entity_id not in known:
            continue  # someone this reader may not know of
        if v.entity == "sections" and not policy.check_see_section(
            ctx, call.principal, v.entity_id
        ):
            continue
        if v.entity == "measures":
            section = str(v.data.get("section_id", ""))
            if not policy.check_read_section(ctx, call.principal, section):
                continue
        out.append(
            {
                "entity": v.entity,
                "id": v.entity_id,
                "version": v.version,
                "change": v.change,
                "by": v.changed_by if _named(v.changed_by) else None,
                "at": v.changed_at.isoformat(),
            }
        )
    return {"history": out}


# --- the group screen -------------------------------------------------------------------


@api(
    "GET",
    "/api/plans/{plan}/group",
    summary="The group as its screen shows it: who, signed in or invited, and what I may do",
    tag="invitations",
)
async def get_group(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    me = call.principal
    call.require(policy.check_see_plan(ctx, me), plan_id, "participants")
    manages = bool(policy.check_manage_plan(ctx, me))
    latest = await repo.latest_invitations(call.db, plan_id) if manages else {}
    actor = ctx.actor(me)
    assert actor is not None
    settings = call.services.settings
    people = []
    # The person the plan is about first, then guardians, the coordinator and the rest.
    order = {"owner": 0, "guardian": 1, "coordinator": 2}
    visible = sorted(
        policy.visible_participants(ctx, me),
        key=lambda seen: (order.get(seen[0].role.value, 3), seen[0].name.casefold()),
    )
    for p, contact in visible:
        can = policy.participant_capabilities(ctx, me, p)
        # An invitation needs a sign-in service for the person's role to be set up.
        can["invite"] = can["invite"] and bool(oidc.provider_for_role(settings, p.role))
        entry = participant_json(p, contact=contact, facts=policy.participant_facts(ctx, p)) | {
            "can": can,
            "needs_identity": policy.invitation_needs_identity(p.role),
        }
        if manages:
            entry["signed_in"] = p.person is not None
            invitation = latest.get(p.id)
            entry["invitation"] = (
                invitation_json(invitation, call.now) if invitation is not None else None
            )
        people.append(entry)
    return {
        "plan": plan_summary(ctx.plan),
        "me": actor.id,
        "setup": policy.in_setup(ctx),
        "can": policy.plan_capabilities(ctx, me),
        "add_roles": policy.roles_one_may_add(ctx, me) if manages else [],
        "participants": people,
    }


REPLACE_COORDINATOR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": CONTACT,
}


@api(
    "POST",
    "/api/plans/{plan}/participants/{participant}/replace",
    summary="Hand the coordinator role to someone new (the owner's or a guardian's choice)",
    body=REPLACE_COORDINATOR,
    status=201,
)
async def replace_coordinator(call: Call) -> Any:
    plan_id, pid = call.param_id("plan"), call.param_id("participant")
    await repo.lock_plan(call.db, plan_id)  # one hand-over at a time: one coordinator
    ctx = await call.plan(plan_id)
    target = f"participant:{pid}"
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, target)
    old = await call.db.get(ParticipantRow, pid)
    if (
        old is None
        or old.plan_id != plan_id
        or not old.active
        or old.id not in policy.knows_of(ctx, call.principal)
    ):
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    replacing = policy.check_replace_coordinator(ctx, call.principal, repo.to_participant(old))
    if replacing.code == "conflict":
        raise ApiError("conflict", replacing.message or replacing.reason)
    call.require(replacing, plan_id, target)
    _check_email(call.body.get("email", "").strip(), "email")
    new = ParticipantRow(
        id=new_id(),
        plan_id=plan_id,
        person_id=None,
        active=True,
        role=old.role,
        **{k: v.strip() for k, v in call.body.items()},
    )
    by, now = call.principal.person, call.now
    await repo.record(call.db, new, plan_id=plan_id, change="create", by=by, at=now)
    old.active = False
    await repo.record(call.db, old, plan_id=plan_id, change="remove", by=by, at=now)
    # The outgoing coordinator's handover note waits for the new one; the owner is told.
    await continuity_routes.after_replace(call, ctx, old.id, old.name, new.id, new.name)
    call.log(plan_id, "change", target, f"handed the coordinator role to {new.name}")
    call.after_commit(lambda: call.services.access_changed(plan_id, by))
    handed = repo.to_participant(new)
    return participant_json(handed, contact=True, facts=policy.participant_facts(ctx, handed))
