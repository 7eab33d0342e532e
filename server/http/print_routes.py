"""The plan on paper (server/planprint.py): GET /api/plans/{p}/print, a PDF of the parts
of the plan the reader may see, in their language, rendered in a worker process."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import Response

from collab import policy
from collab.model import SectionKind
from server import planprint
from server.dates import local
from server.db import repo
from server.http import ratelimit
from server.http.common import AfterCommit, Call, Endpoints, retry_later
from server.http.messages import reader_language
from server.http.render import OTHER_SERVICE
from server.workers import Unavailable

api = Endpoints()  # this module's routes; server.app composes them
log = logging.getLogger("planrom.print")


@api(
    "GET",
    "/api/plans/{plan}/print",
    summary="The plan as a PDF: the parts I may see, in my language (lang=nb|nn|en)",
    tag="plans",
    costly=True,
)
async def print_plan(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    me = call.principal
    call.require(policy.check_see_plan(ctx, me), plan_id, "plan")
    asked = call.query("lang")
    lang = (
        asked
        if asked in planprint.WORDS
        else reader_language(call.request.headers.get("accept-language"))
    )
    known = policy.knows_of(ctx, me)
    owner = next(
        (p for p in ctx.plan.participants if p.id in known and policy.in_every_meeting(p)), None
    )
    measures = [repo.to_measure(r) for r in await repo.measures_of_plan(call.db, plan_id)]
    sections = []
    docs: list[str] = []
    for section in sorted(ctx.sections.values(), key=lambda s: s.position):
        if section.archived or not policy.check_read_section(ctx, me, section.id):
            continue
        doc = f"plan:{plan_id}:section:{section.id}"
        readable_doc = bool(policy.check_read_section_doc(ctx, me, section.id))
        if readable_doc:
            docs.append(doc)
        items = []
        for m in measures:
            if m.section != section.id or not policy.check_read_measure(ctx, me, m):
                continue
            mdoc = f"plan:{plan_id}:measure:{m.id}"
            has_doc = bool(policy.check_read_measure_doc(ctx, me, m))
            if has_doc:
                docs.append(mdoc)
            items.append(
                {
                    "title": m.title,
                    "responsible": policy.name_for(ctx, me, m.responsible)
                    or (OTHER_SERVICE if m.responsible else ""),
                    "frequency": m.frequency,
                    "starts": m.starts.isoformat() if m.starts else None,
                    "ends": m.ends.isoformat() if m.ends else None,
                    "evaluate_by": m.evaluate_by.isoformat() if m.evaluate_by else None,
                    "status": m.status.value,
                    "doc": mdoc if has_doc else None,
                }
            )
        sections.append(
            {
                "title": section.title,
                "doc": doc if readable_doc else None,
                "goals": section.kind is SectionKind.GOALS,
                "measures": items,
            }
        )
    plan = ctx.plan
    skeleton = {
        "plan": {
            "title": plan.title,
            "owner": owner.name if owner else "",
            "period_from": plan.period_from.isoformat(),
            "period_to": plan.period_to.isoformat() if plan.period_to else None,
            "next_evaluation": plan.next_evaluation.isoformat(),
        },
        "sections": sections,
        "made_at": call.now.isoformat(),
    }
    services = call.services
    wait = ratelimit.render_wait(call.request, me.person, services.settings.rate_render)
    if wait:
        raise retry_later(
            "rate-limited", f"For mange utskrifter; prøv igjen om {wait} sekunder.", wait
        )
    call.log(plan_id, "open", "plan", "printed the plan")
    realtime, pool = services.realtime, services.workers
    stamp = local(call.now).date().isoformat()
    headers = {"content-disposition": f'attachment; filename="plan-{stamp}.pdf"'}

    async def make() -> Response:
        if pool is None or realtime is None:
            raise retry_later("unavailable", "Utskrift er ikke tilgjengelig akkurat nå.", 5)
        states = {name: await realtime.document_state(name) for name in docs}
        try:
            data = await pool.call(planprint.render_job, json.dumps(skeleton), states, lang)
        except Unavailable as exc:
            log.warning("printing plan %s: %s", plan_id, exc.reason)
            raise retry_later(
                "unavailable",
                "Planen kan ikke skrives ut akkurat nå. Prøv igjen om litt.",
                exc.retry_after,
            ) from None
        return Response(data, media_type="application/pdf", headers=headers)

    return AfterCommit(make)
