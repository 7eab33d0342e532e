"""GET /api/worklist: what needs doing across every plan I take part in (server.worklist)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from collab import policy
from server import worklist
from server.db import continuity as continuity_db
from server.db import repo
from server.db import worklist as worklist_db
from server.db.meeting_repo import state_of
from server.http.common import Call, Endpoints

api = Endpoints()  # this module's routes; server.app composes them


@api(
    "GET",
    "/api/worklist",
    summary="What needs doing across my plans, most urgent first",
    tag="plans",
    costly=True,
)
async def get_worklist(call: Call) -> Any:
    plan_ids = await repo.plans_of_person(call.db, call.principal.person)
    # Plans the reader may not know of (a guardian whose access has ended) are not counted.
    contexts = [
        ctx
        for plan_id in plan_ids
        if (ctx := await call.plan(plan_id)) is not None
        and policy.check_see_plan(ctx, call.principal)
    ]
    plan_ids = [ctx.plan.id for ctx in contexts]
    measures: dict[str, list[Any]] = defaultdict(list)
    for row in await worklist_db.measures(call.db, plan_ids):
        measures[row.plan_id].append(repo.to_measure(row))
    meetings: dict[str, list[worklist.WorkItem]] = defaultdict(list)
    for meeting in await worklist_db.meetings(call.db, plan_ids):
        meetings[meeting.plan_id].append(
            worklist.WorkItem(
                meeting.id,
                meeting.plan_id,
                meeting.title,
                meeting.starts_at,
                status=meeting.status,
                state=state_of(meeting),
            )
        )
    invitations: dict[str, list[worklist.WorkItem]] = defaultdict(list)
    for invitation in await worklist_db.open_invitations(call.db, plan_ids, call.now):
        invitations[invitation.plan_id].append(
            worklist.WorkItem(
                invitation.id,
                invitation.plan_id,
                "",
                invitation.created_at,
                participant=invitation.participant_id,
            )
        )
    activity = await worklist_db.last_activity(call.db, plan_ids)
    pending = await continuity_db.unreviewed_transitions(call.db, plan_ids)
    transitions = {p: [(t.kind, t.day) for t in rows] for p, rows in pending.items()}
    rows = worklist.rows_for(
        call.principal,
        contexts,
        measures,
        meetings,
        invitations,
        activity,
        transitions=transitions,
    )
    return {"rows": [row.json() for row in rows], "plans": len(contexts)}
