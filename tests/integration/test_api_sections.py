"""Sections over HTTP: list, add, rename, move, archive; scoped by consent."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error


async def sections_of(client: httpx.AsyncClient, plan: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/api/plans/{plan['id']}/sections")
    assert response.status_code == 200, response.text
    return list(response.json()["sections"])


async def test_the_section_list_holds_only_what_consent_grants(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    async with live.http(demo.token(plan, "charlotte")) as owner:
        everything = await sections_of(owner, plan)
    assert [s["position"] for s in everything] == list(range(14))
    assert {s["key"] for s in everything} >= {"terapi", "skolen", "kriseplan", "koordinering"}
    assert all(s["doc"] == f"plan:{plan['id']}:section:{s['id']}" for s in everything)
    async with live.http(demo.token(plan, "skole")) as school:
        visible = await sections_of(school, plan)
    assert {s["key"]: s["access"] for s in visible} == {
        "om-meg": "read",
        "mal": "read",
        "skolen": "edit",
    }
    async with live.http(demo.token(plan, "berit")) as berit:
        visible = await sections_of(berit, plan)
    assert "skolen" not in {s["key"] for s in visible}
    assert {"terapi", "psykisk-helse"} <= {s["key"] for s in visible}
    async with live.http(demo.token(demo.per, "per")) as stranger:
        assert_error(await stranger.get(f"/api/plans/{plan['id']}/sections"), 404, "not-found")


async def test_the_owner_adds_a_section_that_nobody_else_sees_until_consent(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    async with (
        live.http(demo.token(plan, "per")) as per,
        live.http(demo.token(plan, "maria")) as maria,
    ):
        response = await per.post(
            f"/api/plans/{plan['id']}/sections", json={"title": "Fritid", "kind": "life_area"}
        )
        assert response.status_code == 201, response.text
        added = response.json()
        assert (added["title"], added["kind"], added["access"]) == ("Fritid", "life_area", "edit")
        assert added["position"] == 12 and added["key"].startswith("egen-")
        assert added["id"] in {s["id"] for s in await sections_of(per, plan)}
        # The coordinator too needs consent for a new section.
        assert added["id"] not in {s["id"] for s in await sections_of(maria, plan)}
        by_maria = await maria.post(f"/api/plans/{plan['id']}/sections", json={"title": "Reise"})
        assert by_maria.status_code == 201 and by_maria.json()["access"] == "none"
        assert by_maria.json()["doc"] is None
        assert by_maria.json()["id"] not in {s["id"] for s in await sections_of(maria, plan)}


async def test_services_may_not_add_sections(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "siw")) as siw:
        assert_error(
            await siw.post(f"/api/plans/{plan['id']}/sections", json={"title": "NAV"}),
            403,
            "forbidden",
        )
    async with live.http(demo.token(demo.charlotte, "berit")) as stranger:
        assert_error(
            await stranger.post(f"/api/plans/{plan['id']}/sections", json={"title": "x"}),
            404,
            "not-found",
        )
    async with live.http(demo.token(plan, "per")) as per:
        assert len(await sections_of(per, plan)) == 12


async def test_the_owner_renames_and_moves_a_section(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    crisis = demo.section(plan, "kriseplan")["id"]
    async with live.http(demo.token(plan, "per")) as per:
        response = await per.patch(
            f"/api/plans/{plan['id']}/sections/{crisis}",
            json={"title": "Når det butter", "position": 0},
        )
        assert response.status_code == 200, response.text
        assert response.json()["title"] == "Når det butter"
        ordered = await sections_of(per, plan)
    assert ordered[0]["id"] == crisis and ordered[0]["title"] == "Når det butter"
    assert [s["position"] for s in ordered] == list(range(12))
    assert [s["key"] for s in ordered[1:3]] == ["om-meg", "mal"]
    async with live.http(demo.token(plan, "per")) as per:
        far = await per.patch(f"/api/plans/{plan['id']}/sections/{crisis}", json={"position": 1000})
        assert far.json()["position"] == 11
        assert (await sections_of(per, plan))[-1]["id"] == crisis


async def test_an_archived_section_is_read_only_until_the_owner_restores_it(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    bolig = demo.section(plan, "bolig")["id"]
    path = f"/api/plans/{plan['id']}/sections/{bolig}"
    async with (
        live.http(demo.token(plan, "per")) as per,
        live.http(demo.token(plan, "maria")) as maria,
    ):
        assert_error(await maria.patch(path, json={"archived": True}), 403, "forbidden")
        archived = await per.patch(path, json={"archived": True})
        assert archived.status_code == 200 and archived.json()["archived"] is True
        assert_error(await per.patch(path, json={"title": "Hjem"}), 409, "conflict")
        assert_error(
            await maria.post(
                f"/api/plans/{plan['id']}/measures", json={"section": bolig, "title": "Nytt"}
            ),
            409,
            "conflict",
        )
        buss = next(m for m in plan["measures"] if m["section"] == bolig)
        assert_error(
            await maria.patch(
                f"/api/plans/{plan['id']}/measures/{buss['id']}", json={"status": "done"}
            ),
            409,
            "conflict",
        )
        restored = await per.patch(path, json={"archived": False})
        assert restored.json()["archived"] is False
        assert (await per.patch(path, json={"title": "Hjem"})).json()["title"] == "Hjem"


async def test_renaming_needs_edit_on_the_section_and_the_right_to_manage_the_plan(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    economy = demo.section(plan, "okonomi")["id"]
    async with live.http(demo.token(plan, "siw")) as siw:
        # Siw may edit the economy section's text, but not rename it.
        assert_error(
            await siw.patch(
                f"/api/plans/{plan['id']}/sections/{economy}", json={"title": "Penger"}
            ),
            403,
            "forbidden",
        )
    async with live.http(demo.token(plan, "maria")) as maria:
        renamed = await maria.patch(
            f"/api/plans/{plan['id']}/sections/{economy}", json={"title": "Penger"}
        )
        assert renamed.status_code == 200 and renamed.json()["title"] == "Penger"


async def test_the_school_cannot_touch_the_therapy_section_or_learn_it_exists(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")["id"]
    async with live.http(demo.token(plan, "skole")) as school:
        for body in ({"title": "Innsyn"}, {"position": 0}, {"archived": True}):
            response = await school.patch(f"/api/plans/{plan['id']}/sections/{therapy}", json=body)
            refused = assert_error(response, 404, "not-found")
            unknown = assert_error(
                await school.patch(f"/api/plans/{plan['id']}/sections/zzzz9999", json=body),
                404,
                "not-found",
            )
            # Word for word the answer for a section that does not exist.
            assert refused == unknown
    async with live.http(demo.token(plan, "charlotte")) as owner:
        titles = {s["id"]: s["title"] for s in await sections_of(owner, plan)}
    assert titles[therapy] == "Behandling hos DPS"
