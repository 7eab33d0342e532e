"""The responsibility group over HTTP: list, add, change contact details, remove."""

from __future__ import annotations

from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error


async def test_the_owner_and_coordinator_see_the_whole_group_with_contact_details(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    for key in ("per", "maria"):
        async with live.http(demo.token(plan, key)) as client:
            group = (await client.get(f"/api/plans/{plan['id']}/participants")).json()
        by_name = {p["name"]: p for p in group["participants"]}
        assert set(by_name) == {"Per Hansen", "Maria Olsen", "Siw Nilsen", "Ali Karim"}
        assert by_name["Siw Nilsen"]["phone"] == "400 00 002"
        assert by_name["Siw Nilsen"]["role"] == "service"
        assert by_name["Ali Karim"]["organisation"] == "Bydel Nord"


async def test_a_service_without_the_coordination_section_sees_only_whom_it_works_with(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    async with live.http(demo.token(plan, "skole")) as school:
        group = (await school.get(f"/api/plans/{plan['id']}/participants")).json()
    names = {p["name"] for p in group["participants"]}
    assert names == {"Charlotte Berg", "Hilde Dahl", "Ola Strand"}
    assert "Berit" not in str(group) and "DPS" not in str(group)
    owner = next(p for p in group["participants"] if p["role"] == "owner")
    assert "phone" not in owner  # only the coordinator's contact details
    async with live.http(demo.token(demo.per, "siw")) as stranger:
        assert_error(await stranger.get(f"/api/plans/{plan['id']}/participants"), 404, "not-found")


async def test_the_owner_adds_a_relative_who_gets_no_access_without_consent(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "per")) as per:
        response = await per.post(
            f"/api/plans/{plan['id']}/participants",
            json={
                "role": "relative",
                "name": "Kari Hansen",
                "phone": "900 00 000",
                "email": "kari@example.org",
            },
        )
        assert response.status_code == 201, response.text
        added = response.json()
        assert (added["role"], added["name"], added["phone"], added["active"]) == (
            "relative",
            "Kari Hansen",
            "900 00 000",
            True,
        )
        group = (await per.get(f"/api/plans/{plan['id']}/participants")).json()["participants"]
        assert added["id"] in {p["id"] for p in group}
        consent = (await per.get(f"/api/plans/{plan['id']}/consent")).json()
        assert added["id"] not in {g["participant"] for g in consent["grants"]}
        history = (await per.get(f"/api/plans/{plan['id']}/history")).json()["history"]
    assert {
        "entity": "participants",
        "id": added["id"],
        "version": 1,
        "change": "create",
        "by": demo.person(plan, "per")["person"],
    }.items() <= history[0].items()


async def test_only_the_owner_or_a_guardian_adds_a_guardian(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    path = f"/api/plans/{plan['id']}/participants"
    async with live.http(demo.token(plan, "maria")) as maria:
        assert_error(
            await maria.post(path, json={"role": "guardian", "name": "Verge"}), 403, "forbidden"
        )
        added = await maria.post(
            path, json={"role": "service", "name": "Fastlege", "service": "Fastlege"}
        )
        assert added.status_code == 201
    async with live.http(demo.token(plan, "siw")) as siw:
        assert_error(
            await siw.post(path, json={"role": "relative", "name": "Venn"}), 403, "forbidden"
        )
    async with live.http(demo.token(demo.charlotte, "hilde")) as stranger:
        assert_error(
            await stranger.post(path, json={"role": "relative", "name": "Venn"}), 404, "not-found"
        )
    async with live.http(demo.token(plan, "per")) as per:
        guardian = await per.post(path, json={"role": "guardian", "name": "Verge"})
        assert guardian.status_code == 201 and guardian.json()["role"] == "guardian"
        names = {p["name"] for p in (await per.get(path)).json()["participants"]}
    assert names >= {"Verge", "Fastlege"} and "Venn" not in names


async def test_the_coordinator_updates_contact_details_and_the_change_is_versioned(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    siw = demo.person(plan, "siw")["id"]
    async with live.http(demo.token(plan, "maria")) as maria:
        response = await maria.patch(
            f"/api/plans/{plan['id']}/participants/{siw}",
            json={"phone": "400 99 999", "title": "Seniorveileder"},
        )
        assert response.status_code == 200, response.text
        assert (response.json()["phone"], response.json()["title"]) == (
            "400 99 999",
            "Seniorveileder",
        )
        history = (await maria.get(f"/api/plans/{plan['id']}/history")).json()["history"]
    newest = history[0]
    assert (newest["entity"], newest["id"], newest["version"], newest["change"]) == (
        "participants",
        siw,
        2,
        "update",
    )
    assert newest["by"] == demo.person(plan, "maria")["person"]
    async with live.http(demo.token(plan, "siw")) as siw_client:
        assert_error(
            await siw_client.patch(
                f"/api/plans/{plan['id']}/participants/{siw}", json={"phone": "1"}
            ),
            403,
            "forbidden",
        )


async def test_a_removed_participant_loses_everything_on_the_next_request(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    siw = demo.person(plan, "siw")["id"]
    sparing = next(m for m in plan["measures"] if m["responsible"] == siw)
    async with live.http(demo.token(plan, "siw")) as siw_client:
        assert (await siw_client.get(f"/api/plans/{plan['id']}")).status_code == 200
        async with live.http(demo.token(plan, "per")) as per:
            removed = await per.patch(
                f"/api/plans/{plan['id']}/participants/{siw}", json={"active": False}
            )
            assert removed.status_code == 200 and removed.json()["active"] is False
            group = (await per.get(f"/api/plans/{plan['id']}/participants")).json()
            assert siw not in {p["id"] for p in group["participants"]}
            # Removing twice: the participant is gone.
            assert_error(
                await per.patch(
                    f"/api/plans/{plan['id']}/participants/{siw}", json={"active": False}
                ),
                404,
                "not-found",
            )
        assert_error(await siw_client.get(f"/api/plans/{plan['id']}"), 404, "not-found")
        assert_error(
            await siw_client.get(f"/api/plans/{plan['id']}/measures/{sparing['id']}"),
            404,
            "not-found",
        )
        assert_error(
            await siw_client.patch(
                f"/api/plans/{plan['id']}/measures/{sparing['id']}", json={"status": "done"}
            ),
            404,
            "not-found",
        )
        assert (await siw_client.get("/api/plans")).json()["plans"] == []


async def test_the_owner_cannot_be_removed_from_their_own_plan(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    owner = demo.person(plan, "per")["id"]
    for key in ("per", "maria"):
        async with live.http(demo.token(plan, key)) as client:
            assert_error(
                await client.patch(
                    f"/api/plans/{plan['id']}/participants/{owner}", json={"active": False}
                ),
                409,
                "conflict",
            )
    async with live.http(demo.token(plan, "per")) as per:
        assert (await per.get(f"/api/plans/{plan['id']}")).status_code == 200


async def test_only_the_owner_or_a_guardian_removes_a_guardian(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    path = f"/api/plans/{plan['id']}/participants"
    async with (
        live.http(demo.token(plan, "per")) as per,
        live.http(demo.token(plan, "maria")) as maria,
    ):
        guardian = (await per.post(path, json={"role": "guardian", "name": "Verge"})).json()
        assert_error(
            await maria.patch(f"{path}/{guardian['id']}", json={"active": False}), 403, "forbidden"
        )
        assert guardian["id"] in {p["id"] for p in (await per.get(path)).json()["participants"]}
        removed = await per.patch(f"{path}/{guardian['id']}", json={"active": False})
        assert removed.status_code == 200 and removed.json()["active"] is False
