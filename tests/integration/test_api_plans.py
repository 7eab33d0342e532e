"""Plans over HTTP: list, create, open, change, close and reopen, and their history."""

from __future__ import annotations

from datetime import date

from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error


async def test_each_person_lists_the_plans_they_take_part_in_with_their_role(
    live: LiveServer, demo: Demo
) -> None:
    per, charlotte = demo.per, demo.charlotte
    async with live.http(demo.token(per, "siw")) as siw:
        plans = (await siw.get("/api/plans")).json()["plans"]
    assert [(p["id"], p["role"], p["participant"]) for p in plans] == [
        (per["id"], "service", demo.person(per, "siw")["id"])
    ]
    async with live.http(demo.token(charlotte, "charlotte")) as owner:
        plans = (await owner.get("/api/plans")).json()["plans"]
    assert [(p["id"], p["role"], p["title"]) for p in plans] == [
        (charlotte["id"], "owner", "Charlottes plan")
    ]


async def test_an_owner_starts_a_plan_with_the_default_sections_and_no_consent(
    live: LiveServer, demo: Demo
) -> None:
    async with live.http(demo.token(demo.per, "per")) as per:
        response = await per.post(
            "/api/plans",
            json={
                "title": "Min nye plan",
                "as": "owner",
                "period_from": "2026-01-15",
                "evaluation_months": 3,
            },
        )
        assert response.status_code == 201, response.text
        plan = response.json()
        assert plan["title"] == "Min nye plan" and plan["status"] == "active"
        assert plan["me"]["role"] == "owner" and plan["me"]["name"] == "Per Hansen"
        assert [s["key"] for s in plan["sections"]][:2] == ["om-meg", "mal"]
        assert len(plan["sections"]) == 12
        assert {s["access"] for s in plan["sections"]} == {"edit"}
        assert plan["evaluation_months"] == 3
        # The next evaluation is always set: a cadence step after the start, in the future.
        assert date.fromisoformat(plan["next_evaluation"]) > date.fromisoformat("2026-01-15")
        assert date.fromisoformat(plan["next_evaluation"]).day == 15
        assert_error(await per.get(f"/api/plans/{plan['id']}/consent"), 404, "not-found")
        listed = {p["id"] for p in (await per.get("/api/plans")).json()["plans"]}
        assert listed == {demo.per["id"], plan["id"]}


async def test_a_coordinator_starts_a_plan_for_someone_with_no_consent_until_the_owner_signs(
    live: LiveServer, demo: Demo
) -> None:
    async with live.http(demo.token(demo.per, "maria")) as maria:
        assert_error(
            await maria.post("/api/plans", json={"title": "Ny", "as": "coordinator"}),
            400,
            "malformed",
        )
        response = await maria.post(
            "/api/plans",
            json={
                "title": "Kari sin plan",
                "as": "coordinator",
                "owner_name": "Kari Nordmann",
                "coordinator": {"name": "Maria O.", "phone": "400 00 001"},
            },
        )
        assert response.status_code == 201, response.text
        plan = response.json()
        assert plan["me"]["role"] == "coordinator" and plan["me"]["name"] == "Maria O."
        owner = next(p for p in plan["participants"] if p["role"] == "owner")
        assert owner["name"] == "Kari Nordmann"
        # No consent is in force until Kari signs: Maria sees the set-up, no content.
        assert_error(await maria.get(f"/api/plans/{plan['id']}/consent"), 404, "not-found")
        assert len(plan["sections"]) == 12
        assert {(s["access"], s["doc"]) for s in plan["sections"]} == {("none", None)}
        assert plan["measures"] == []


async def test_each_participant_opens_only_their_part_of_the_plan(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "per")) as per:
        whole = (await per.get(f"/api/plans/{plan['id']}")).json()
    assert len(whole["sections"]) == 12 and len(whole["measures"]) == 4
    assert {p["name"] for p in whole["participants"]} == {
        "Per Hansen",
        "Maria Olsen",
        "Siw Nilsen",
        "Ali Karim",
    }
    async with live.http(demo.token(plan, "ali")) as ali:
        part = (await ali.get(f"/api/plans/{plan['id']}")).json()
    assert {s["key"]: s["access"] for s in part["sections"]} == {
        "om-meg": "read",
        "mal": "read",
        "arbeid": "own",
    }
    arbeid = next(s for s in part["sections"] if s["key"] == "arbeid")
    assert arbeid["doc"] is None  # 'own' never gets the section text
    assert {m["title"] for m in part["measures"]} == {
        "Dagsenter faste dager i liten gruppe",
        "Leder på dagsenteret sender SMS om morgenen",
    }
    # Without the coordination section: the owner, the coordinator and oneself.
    assert {p["name"] for p in part["participants"]} == {"Per Hansen", "Maria Olsen", "Ali Karim"}
    assert "400 00 002" not in str(part)  # Siw's phone number


async def test_a_person_outside_the_plan_gets_not_found(live: LiveServer, demo: Demo) -> None:
    async with live.http(demo.token(demo.charlotte, "skole")) as school:
        assert_error(await school.get(f"/api/plans/{demo.per['id']}"), 404, "not-found")
        assert_error(
            await school.patch(f"/api/plans/{demo.per['id']}", json={"title": "x"}),
            404,
            "not-found",
        )
        assert_error(await school.get(f"/api/plans/{demo.per['id']}/history"), 404, "not-found")


async def test_the_owner_changes_the_plan_and_the_change_is_attributed(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "per")) as per:
        response = await per.patch(
            f"/api/plans/{plan['id']}",
            json={"title": "Pers plan 2026", "period_to": "2027-12-31", "evaluation_months": 3},
        )
        assert response.status_code == 200, response.text
        changed = response.json()
        assert changed["title"] == "Pers plan 2026" and changed["period_to"] == "2027-12-31"
        assert changed["evaluation_months"] == 3
        history = (await per.get(f"/api/plans/{plan['id']}/history")).json()["history"]
    plan_versions = [h for h in history if h["entity"] == "plans"]
    newest = plan_versions[0]
    assert newest["id"] == plan["id"] and newest["change"] == "update"
    assert newest["version"] == 2 and [h["version"] for h in plan_versions] == [2, 1]
    assert newest["by"] == demo.person(plan, "per")["person"]
    assert plan_versions[1]["by"] == demo.person(plan, "maria")["person"]


async def test_a_plan_period_cannot_end_before_it_starts(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "per")) as per:
        response = await per.patch(
            f"/api/plans/{plan['id']}",
            json={"period_from": "2026-06-01", "period_to": "2026-05-31"},
        )
        assert_error(response, 400, "malformed")
        title = (await per.get(f"/api/plans/{plan['id']}")).json()["title"]
    assert title == "Pers plan"


async def test_services_and_relatives_may_not_change_the_plan(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "siw")) as siw:
        assert_error(
            await siw.patch(f"/api/plans/{plan['id']}", json={"title": "NAV"}), 403, "forbidden"
        )
        assert_error(await siw.get(f"/api/plans/{plan['id']}/history"), 403, "forbidden")
    async with live.http(demo.token(plan, "maria")) as maria:
        response = await maria.patch(f"/api/plans/{plan['id']}", json={"evaluation_months": 4})
        assert response.status_code == 200 and response.json()["evaluation_months"] == 4


async def test_a_closed_plan_cannot_be_changed_until_it_is_reopened(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    base = f"/api/plans/{plan['id']}"
    bolig = demo.section(plan, "bolig")["id"]
    async with live.http(demo.token(plan, "per")) as per, live.http(demo.token(plan, "siw")) as siw:
        closed = await per.patch(base, json={"status": "closed"})
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        assert_error(await per.patch(base, json={"title": "Endret"}), 409, "conflict")
        assert_error(await per.post(f"{base}/sections", json={"title": "Ny"}), 409, "conflict")
        assert_error(
            await per.patch(f"{base}/sections/{bolig}", json={"title": "Hjem"}), 409, "conflict"
        )
        assert_error(
            await per.post(f"{base}/measures", json={"section": bolig, "title": "T"}),
            409,
            "conflict",
        )
        sparing = next(
            m for m in plan["measures"] if m["responsible"] == demo.person(plan, "siw")["id"]
        )
        assert_error(
            await siw.patch(f"{base}/measures/{sparing['id']}", json={"status": "done"}),
            409,
            "conflict",
        )
        # Reading goes on: the plan is still there for everyone in it.
        assert (await siw.get(base)).json()["status"] == "closed"
        assert_error(await siw.patch(base, json={"status": "active"}), 403, "forbidden")
        reopened = await per.patch(base, json={"status": "active"})
        assert reopened.status_code == 200 and reopened.json()["status"] == "active"
        assert (await per.patch(base, json={"title": "Endret"})).json()["title"] == "Endret"


async def test_history_hides_records_of_sections_the_reader_may_not_see(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")["id"]
    hilde = demo.person(plan, "hilde")["id"]
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        consent = (await charlotte.get(f"/api/plans/{plan['id']}/consent")).json()
        grants = [
            g
            for g in consent["grants"]
            if not (g["participant"] == hilde and g["section"] == therapy)
        ]
        signed = await charlotte.post(
            f"/api/plans/{plan['id']}/consent", json={"purpose": "Smalere", "grants": grants}
        )
        assert signed.status_code == 201, signed.text
        full = (await charlotte.get(f"/api/plans/{plan['id']}/history")).json()["history"]
    async with live.http(demo.token(plan, "hilde")) as coordinator:
        seen = (await coordinator.get(f"/api/plans/{plan['id']}/history")).json()["history"]
    therapy_measure = next(m["id"] for m in plan["measures"] if m["section"] == therapy)
    assert {h["id"] for h in full} >= {therapy, therapy_measure}
    assert therapy not in {h["id"] for h in seen}
    assert therapy_measure not in {h["id"] for h in seen}
    assert len(seen) == len(full) - 2
