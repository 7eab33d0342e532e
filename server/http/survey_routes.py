"""The owner's verdict (collab/survey.py): what is open to answer, answering, the
answers the owner shared with the coordinator, and the coordinating unit's aggregates."""

from __future__ import annotations

from typing import Any

from collab import policy, survey
from server.db import survey as survey_db
from server.db import unit as unit_db
from server.http.common import ApiError, Call, Endpoints
from server.http.messages import Said

api = Endpoints()  # this module's routes; server.app composes them

ANSWER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["occasion", "answers"],
    "properties": {
        "occasion": {"type": "string", "pattern": "^meeting:[a-z0-9]{4,32}$"},
        "answers": {
            "type": "object",
            "additionalProperties": False,
            "properties": {q: {"enum": list(survey.ANSWERS)} for q in survey.QUESTIONS},
        },
        "share": {"type": "boolean"},
    },
}


@api("GET", "/api/plans/{plan}/survey", summary="The usefulness survey: open, mine, shared")
async def get_survey(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    me = call.principal
    call.require(policy.check_see_plan(ctx, me), plan_id, "survey")
    answering = bool(policy.check_answer_survey(ctx, me))
    reading = bool(policy.check_read_shared_survey(ctx, me))
    rows = await survey_db.of_plan(call.db, plan_id) if answering or reading else []
    done = {r.occasion for r in rows if r.person_id == me.person}
    meetings = await survey_db.final_meetings(call.db, plan_id) if answering else []
    return {
        "questions": list(survey.QUESTIONS),
        "answers": list(survey.ANSWERS),
        "relatives": ctx.plan.survey_relatives,
        "can_set_relatives": bool(policy.check_set_survey_relatives(ctx, me)),
        "can_answer": answering,
        "open": [
            {"occasion": f"meeting:{m.id}", "title": m.title, "date": m.starts_at.isoformat()}
            for m in meetings
            if f"meeting:{m.id}" not in done
        ][:3],
        # The owner and guardians see every answer of their plan; the coordinator only
        # what the owner shared.
        "shared": [
            {"occasion": r.occasion, "answers": r.answers, "at": r.created_at.isoformat()}
            for r in rows
            if reading and (answering or r.shared)
        ],
    }


@api(
    "POST",
    "/api/plans/{plan}/survey",
    summary="Answer the usefulness survey for one meeting",
    body=ANSWER,
    status=201,
)
async def answer_survey(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    me = call.principal
    call.require(policy.check_answer_survey(ctx, me), plan_id, "survey")
    occasion = call.body["occasion"]
    meeting_id = occasion.split(":", 1)[1]
    if meeting_id not in {m.id for m in await survey_db.final_meetings(call.db, plan_id)}:
        raise ApiError.about("not-found", Said("survey-occasion", "occasion"))
    try:
        answers = survey.checked(call.body["answers"])
    except survey.SurveyError as exc:
        raise ApiError.about("malformed", Said("survey-answer", exc.question)) from None
    stored = await survey_db.add(
        call.db,
        plan=plan_id,
        person=me.person,
        occasion=occasion,
        answers=answers,
        shared=bool(call.body.get("share", False)),
        now=call.now,
    )
    if not stored:
        raise ApiError.about("conflict", Said("survey-answered", "occasion"))
    call.log(plan_id, "change", "survey", f"answered for {occasion}")
    return {"occasion": occasion, "answers": answers, "shared": bool(call.body.get("share"))}


@api(
    "GET",
    "/api/unit/survey",
    summary="What plan owners say, counted (never fewer than five answers in a group)",
    tag="plans",
)
async def unit_survey(call: Call) -> Any:
    member = await unit_db.is_member(call.db, call.principal.person)
    if not policy.check_unit_overview(member):
        raise ApiError("forbidden", "Bare koordinerende enhet ser svarene samlet.")
    return survey.aggregate(await survey_db.all_answers(call.db))


@api(
    "PUT",
    "/api/plans/{plan}/survey/relatives",
    summary="Whether relatives may answer the survey too (the owner's choice)",
    body={
        "type": "object",
        "additionalProperties": False,
        "required": ["relatives"],
        "properties": {"relatives": {"type": "boolean"}},
    },
)
async def set_survey_relatives(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_set_survey_relatives(ctx, call.principal), plan_id, "survey")
    await survey_db.set_relatives(call.db, plan_id, bool(call.body["relatives"]))
    call.log(plan_id, "change", "survey", f"relatives answer: {call.body['relatives']}")
    return {"relatives": bool(call.body["relatives"])}
