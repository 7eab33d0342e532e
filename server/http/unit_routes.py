"""The coordinating unit's overview (server/unit.py): GET /api/unit, and as CSV."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from starlette.responses import Response

from collab import policy
from collab.model import Measure
from server import notify, unit
from server.dates import local
from server.db import repo
from server.db import unit as unit_db
from server.db import worklist as worklist_db
from server.http import continuity_routes
from server.http.common import ApiError, Call, Endpoints
from server.http.messages import Said
from server.http.render import text, valid_email

api = Endpoints()  # this module's routes; server.app composes them

FORBIDDEN = "Bare koordinerende enhet ser oversikten over alle planer."
UNIT_NAME = "Koordinerende enhet"


async def _page(call: Call) -> dict[str, Any]:
    member = await unit_db.is_member(call.db, call.principal.person)
    decision = policy.check_unit_overview(member)
    if not decision:
        raise ApiError("forbidden", FORBIDDEN)
    rows = await unit_db.plans(call.db)
    ids = [row.id for row in rows]
    contexts = [
        ctx for plan_id in ids if (ctx := await repo.load_context(call.db, plan_id, call.now))
    ]
    measures: dict[str, list[Measure]] = defaultdict(list)
    for row in await worklist_db.measures(call.db, ids):
        measures[row.plan_id].append(repo.to_measure(row))
    return unit.overview(
        contexts,
        {row.id: row.created_at for row in rows},
        measures,
        await unit_db.meetings_held(call.db),
        await worklist_db.last_activity(call.db, ids),
        call.now,
    )


@api(
    "GET",
    "/api/unit",
    summary="The coordinating unit: every plan's status, caseloads, counts and trends",
    tag="plans",
    costly=True,
)
async def unit_overview(call: Call) -> Any:
    return await _page(call)


@api(
    "GET",
    "/api/unit/export",
    summary="The coordinating unit's overview as CSV (for internal control)",
    tag="plans",
    costly=True,
)
async def unit_export(call: Call) -> Any:
    page = await _page(call)
    stamp = local(call.now).date().isoformat()
    return Response(
        unit.render_csv(page),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="planoversikt-{stamp}.csv"'},
    )


APPOINT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "owner_wish"],
    "properties": {
        "name": text(200, 1),
        "organisation": text(200),
        "service": text(200),
        "phone": text(50),
        "email": text(320),
        "owner_wish": text(1000),
    },
}


@api(
    "POST",
    "/api/unit/plans/{plan}/coordinator",
    summary="The coordinating unit appoints a plan's coordinator, recording the owner's wish",
    body=APPOINT,
    status=201,
    tag="plans",
)
async def appoint_coordinator(call: Call) -> Any:
    plan_id = call.param_id("plan")
    member = await unit_db.is_member(call.db, call.principal.person)
    if not member:
        raise ApiError("forbidden", FORBIDDEN)
    ctx = await call.plan(plan_id)
    decision = policy.check_unit_appoint(member, ctx)
    if not decision:
        raise ApiError(decision.code or "forbidden", decision.message or decision.reason)
    body = dict(call.body)
    wish = body.pop("owner_wish").strip()
    email = body.get("email", "").strip()
    if email and not valid_email(email):
        raise ApiError.about("malformed", Said("not-an-email", "email"))
    current = policy.coordinators_of(ctx)
    old = current[0] if current else None
    row = await unit_db.appoint(
        call.db,
        plan=plan_id,
        contact={k: v.strip() for k, v in body.items()},
        replacing=old.id if old else None,
        wish=wish,
        by=call.principal.person,
        now=call.now,
    )
    if old is not None:
        await continuity_routes.hand_over_to(call, ctx, old, row.id, row.name, unit=True)
    else:
        await notify.tell_owner(
            call.db, ctx, None, "coordinator-changed", call.now, actor_name=UNIT_NAME
        )
    call.log(plan_id, "change", f"participant:{row.id}", "coordinator appointed by the unit")
    call.after_commit(lambda: call.services.access_changed(plan_id, call.principal.person))
    return {"plan": plan_id, "ref": unit.plan_ref(plan_id), "coordinator": row.name}
