"""The coordinating unit's overview (server/unit.py): GET /api/unit, and as CSV."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from starlette.responses import Response

from collab import policy
from collab.model import Measure
from server import unit
from server.dates import local
from server.db import repo
from server.db import unit as unit_db
from server.db import worklist as worklist_db
from server.http.common import ApiError, Call, Endpoints

api = Endpoints()  # this module's routes; server.app composes them

FORBIDDEN = "Bare koordinerende enhet ser oversikten over alle planer."


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
