"""The owner's verdict (collab/survey.py): after a meeting with finalised minutes the
owner (or a guardian) answers four plain questions; the coordinator reads an answer only
when the owner shared it; the coordinating unit sees counts only, never for fewer than
five answers."""

from __future__ import annotations

from typing import Any

from collab import meeting as sm
from collab.policy import Principal
from server import meeting_service
from server.db import survey as survey_db
from tests.conftest import Demo, LiveServer

ANSWERS = {"useful": "yes", "decide": "partly", "who_does_what": "yes", "goals_followed": "no"}


async def hold_meeting(
    live: LiveServer, demo: Demo, plan: dict[str, Any], owner: str, coordinator: str
) -> str:
    """The plan's meeting, held and finalised (through the meeting service)."""
    meeting_id = plan["meetings"][0]["id"]
    chair = Principal(demo.person(plan, owner)["person"])
    coord = Principal(demo.person(plan, coordinator)["person"])
    async with live.services.sessionmaker() as db, db.begin():
        loaded = await meeting_service.load(db, meeting_id, live.clock(), lock=True)
        assert loaded is not None
        for who, command in (
            (chair, sm.Start()),
            (chair, sm.End()),
            (chair, sm.Approve()),
            (coord, sm.Finalize()),
        ):
            await meeting_service.command(db, loaded, who, command, live.clock())
    return meeting_id


async def test_the_owner_answers_once_and_shares_with_the_coordinator(
    live: LiveServer, demo: Demo
) -> None:
    per = demo.per
    plan = per["id"]
    async with live.http(demo.token(per, "per")) as owner:
        before = (await owner.get(f"/api/plans/{plan}/survey")).json()
        assert before["can_answer"] is True and before["open"] == []
        meeting = await hold_meeting(live, demo, per, "per", "maria")
        survey = (await owner.get(f"/api/plans/{plan}/survey")).json()
        assert [o["occasion"] for o in survey["open"]] == [f"meeting:{meeting}"]
        missing = await owner.post(
            f"/api/plans/{plan}/survey",
            json={"occasion": f"meeting:{meeting}", "answers": {"useful": "yes"}},
        )
        assert missing.status_code == 400 and missing.json()["error"]["field"] == "decide"
        assert "Svar på alle" in missing.json()["error"]["message"]
        wrong = await owner.post(
            f"/api/plans/{plan}/survey", json={"occasion": "meeting:zzzzzzzz", "answers": ANSWERS}
        )
        assert wrong.status_code == 404
        body = {"occasion": f"meeting:{meeting}", "answers": ANSWERS, "share": True}
        assert (await owner.post(f"/api/plans/{plan}/survey", json=body)).status_code == 201
        again = await owner.post(f"/api/plans/{plan}/survey", json=body)
        assert again.status_code == 409
        assert (await owner.get(f"/api/plans/{plan}/survey")).json()["open"] == []
    async with live.http(demo.token(per, "maria")) as coordinator:
        seen = (await coordinator.get(f"/api/plans/{plan}/survey")).json()
        assert seen["can_answer"] is False
        assert [s["answers"] for s in seen["shared"]] == [ANSWERS]
        refused = await coordinator.post(f"/api/plans/{plan}/survey", json=body)
        assert refused.status_code == 403
    async with live.http(demo.token(per, "siw")) as service:
        assert (await service.get(f"/api/plans/{plan}/survey")).json()["shared"] == []


async def test_the_coordinator_reads_nothing_the_owner_did_not_share(
    live: LiveServer, demo: Demo
) -> None:
    charlotte = demo.charlotte
    plan = charlotte["id"]
    meeting = await hold_meeting(live, demo, charlotte, "charlotte", "hilde")
    async with live.http(demo.token(charlotte, "charlotte")) as owner:
        body = {"occasion": f"meeting:{meeting}", "answers": ANSWERS}
        assert (await owner.post(f"/api/plans/{plan}/survey", json=body)).status_code == 201
        assert len((await owner.get(f"/api/plans/{plan}/survey")).json()["shared"]) == 1
    async with live.http(demo.token(charlotte, "hilde")) as coordinator:
        assert (await coordinator.get(f"/api/plans/{plan}/survey")).json()["shared"] == []


async def test_the_unit_sees_counts_of_five_or_more_only(live: LiveServer, demo: Demo) -> None:
    unit = demo.data["unit"]["token"]
    plan = demo.per["id"]
    async with live.http(unit) as http:
        empty = (await http.get("/api/unit/survey")).json()
        assert empty == {"answers": 0, "hidden": True, "questions": None}
        for n in range(4):
            async with live.services.sessionmaker() as db, db.begin():
                await survey_db.add(
                    db,
                    plan=plan,
                    person=f"person{n:04d}",
                    occasion="meeting:abcd1234",
                    answers=ANSWERS | {"useful": "no" if n == 0 else "yes"},
                    shared=False,
                    now=live.clock(),
                )
        four = (await http.get("/api/unit/survey")).json()
        assert four["hidden"] is True and four["questions"] is None and four["answers"] == 4
        async with live.services.sessionmaker() as db, db.begin():
            await survey_db.add(
                db,
                plan=plan,
                person="person0004",
                occasion="meeting:abcd1234",
                answers=ANSWERS,
                shared=False,
                now=live.clock(),
            )
        five = (await http.get("/api/unit/survey")).json()
        assert five["hidden"] is False and five["answers"] == 5
        assert five["questions"]["useful"] == {"yes": 4, "partly": 0, "no": 1, "unsure": 0}
    async with live.http(demo.token(demo.per, "maria")) as coordinator:
        assert (await coordinator.get("/api/unit/survey")).status_code == 403


async def test_relatives_answer_when_the_owner_lets_them(live: LiveServer, demo: Demo) -> None:
    from tests.integration.test_continuity import sign_in_as

    per = demo.per
    plan = per["id"]
    async with live.http(demo.token(per, "per")) as owner:
        added = await owner.post(
            f"/api/plans/{plan}/participants", json={"role": "relative", "name": "Bror Hansen"}
        )
        assert added.status_code == 201, added.text
    brother = await sign_in_as(live, added.json()["id"], "Bror Hansen")
    meeting = await hold_meeting(live, demo, per, "per", "maria")
    body = {"occasion": f"meeting:{meeting}", "answers": ANSWERS}
    async with live.http(brother) as http:
        assert (await http.post(f"/api/plans/{plan}/survey", json=body)).status_code == 403
        assert (
            await http.put(f"/api/plans/{plan}/survey/relatives", json={"relatives": True})
        ).status_code == 403
    async with live.http(demo.token(per, "per")) as owner:
        chosen = await owner.put(f"/api/plans/{plan}/survey/relatives", json={"relatives": True})
        assert chosen.status_code == 200
        assert (await owner.get(f"/api/plans/{plan}/survey")).json()["relatives"] is True
    async with live.http(brother) as http:
        survey = (await http.get(f"/api/plans/{plan}/survey")).json()
        assert survey["can_answer"] is True
        assert (await http.post(f"/api/plans/{plan}/survey", json=body)).status_code == 201
