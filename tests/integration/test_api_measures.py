"""Measures (tiltak) over HTTP: list, add, open, update; 'own' and 'edit' in practice."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error


def measure(plan: dict[str, Any], title_start: str) -> dict[str, Any]:
    return next(m for m in plan["measures"] if m["title"].startswith(title_start))


async def titles(client: httpx.AsyncClient, plan: dict[str, Any]) -> dict[str, str]:
    response = await client.get(f"/api/plans/{plan['id']}/measures")
    assert response.status_code == 200, response.text
    return {m["title"]: m["access"] for m in response.json()["measures"]}


async def test_each_participant_lists_only_the_measures_their_consent_allows(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "per")) as per:
        assert set((await titles(per, plan)).values()) == {"write"}
        assert len(await titles(per, plan)) == 4
    async with live.http(demo.token(plan, "ali")) as ali:
        # 'own' on the work section: only his two measures there, both writable by him.
        assert await titles(ali, plan) == {
            "Dagsenter faste dager i liten gruppe": "write",
            "Leder på dagsenteret sender SMS om morgenen": "write",
        }
    async with live.http(demo.token(plan, "siw")) as siw:
        assert await titles(siw, plan) == {
            "Dagsenter faste dager i liten gruppe": "read",
            "Leder på dagsenteret sender SMS om morgenen": "read",
            "Automatisk sparing 500 kr i måneden": "write",
        }
    async with live.http(demo.token(demo.charlotte, "skole")) as stranger:
        assert_error(await stranger.get(f"/api/plans/{plan['id']}/measures"), 404, "not-found")


async def test_one_measure_opens_with_its_fields_or_is_not_found(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    sparing, buss = measure(plan, "Automatisk sparing"), measure(plan, "Følge Per")
    async with live.http(demo.token(plan, "siw")) as siw:
        response = await siw.get(f"/api/plans/{plan['id']}/measures/{sparing['id']}")
        assert response.status_code == 200, response.text
        opened = response.json()
        assert opened["doc"] == sparing["doc"] and opened["section"] == sparing["section"]
        assert (opened["frequency"], opened["status"], opened["access"]) == (
            "Hver måned",
            "active",
            "write",
        )
        assert len(opened["goal_ids"]) == 1 and opened["starts"] is not None
        hidden = assert_error(
            await siw.get(f"/api/plans/{plan['id']}/measures/{buss['id']}"), 404, "not-found"
        )
        missing = assert_error(
            await siw.get(f"/api/plans/{plan['id']}/measures/zzzz9999"), 404, "not-found"
        )
        assert hidden == missing  # a hidden measure looks exactly like a missing one


async def test_a_section_editor_adds_a_measure_with_a_consented_responsible(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    economy = demo.section(plan, "okonomi")["id"]
    siw = demo.person(plan, "siw")["id"]
    async with live.http(demo.token(plan, "siw")) as client:
        response = await client.post(
            f"/api/plans/{plan['id']}/measures",
            json={
                "section": economy,
                "title": "Budsjettveiledning",
                "responsible": siw,
                "frequency": "Hver fjerde uke",
                "starts": "2026-01-01",
                "ends": "2026-06-30",
                "evaluate_by": "2026-04-01",
                "goal_ids": ["gspare"],
                "status": "planned",
            },
        )
        assert response.status_code == 201, response.text
        added = response.json()
        assert (added["title"], added["responsible"], added["ends"], added["access"]) == (
            "Budsjettveiledning",
            siw,
            "2026-06-30",
            "write",
        )
        assert added["doc"] == f"plan:{plan['id']}:measure:{added['id']}"
        assert "Budsjettveiledning" in await titles(client, plan)
    async with live.http(demo.token(plan, "per")) as per:
        history = (await per.get(f"/api/plans/{plan['id']}/history")).json()["history"]
    assert {
        "entity": "measures",
        "id": added["id"],
        "version": 1,
        "by": demo.person(plan, "siw")["person"],
    }.items() <= history[0].items()


async def test_adding_a_measure_needs_edit_on_its_section(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    work, housing = demo.section(plan, "arbeid")["id"], demo.section(plan, "bolig")["id"]
    path = f"/api/plans/{plan['id']}/measures"
    async with live.http(demo.token(plan, "siw")) as siw:
        assert_error(
            await siw.post(path, json={"section": work, "title": "x"}), 403, "forbidden"
        )  # read on the section
        assert_error(
            await siw.post(path, json={"section": housing, "title": "x"}), 404, "not-found"
        )  # no grant on the section
    async with live.http(demo.token(plan, "ali")) as ali:
        assert_error(
            await ali.post(path, json={"section": work, "title": "x"}), 403, "forbidden"
        )  # 'own' adds nothing
    async with live.http(demo.token(plan, "per")) as per:
        assert len(await titles(per, plan)) == 4


async def test_a_responsible_needs_consent_for_the_section_and_must_be_in_the_plan(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    housing = demo.section(plan, "bolig")["id"]
    path = f"/api/plans/{plan['id']}/measures"
    async with live.http(demo.token(plan, "per")) as per:
        ali = demo.person(plan, "ali")["id"]
        assert_error(
            await per.post(path, json={"section": housing, "title": "x", "responsible": ali}),
            409,
            "conflict",
        )
        assert_error(
            await per.post(
                path, json={"section": housing, "title": "x", "responsible": "zzzz9999"}
            ),
            404,
            "not-found",
        )
        foreign = demo.person(demo.charlotte, "hilde")["id"]
        assert_error(
            await per.post(path, json={"section": housing, "title": "x", "responsible": foreign}),
            404,
            "not-found",
        )
        assert_error(
            await per.post(
                path,
                json={
                    "section": housing,
                    "title": "x",
                    "starts": "2026-05-01",
                    "ends": "2026-04-30",
                },
            ),
            400,
            "malformed",
        )
        owner = demo.person(plan, "per")["id"]
        mine = await per.post(
            path, json={"section": housing, "title": "Rydde", "responsible": owner}
        )
        assert mine.status_code == 201 and mine.json()["responsible"] == owner


async def test_the_responsible_service_reports_status_but_shapes_nothing_with_own(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    day_centre = measure(plan, "Dagsenter")
    path = f"/api/plans/{plan['id']}/measures/{day_centre['id']}"
    async with live.http(demo.token(plan, "ali")) as ali:
        response = await ali.patch(path, json={"status": "paused"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "paused"
        assert_error(await ali.patch(path, json={"title": "Nytt navn"}), 403, "forbidden")
        assert_error(
            await ali.patch(path, json={"status": "active", "frequency": "Daglig"}),
            403,
            "forbidden",
        )
    async with live.http(demo.token(plan, "siw")) as siw:
        # Siw reads the work section but is not responsible for this measure.
        assert_error(await siw.patch(path, json={"status": "done"}), 403, "forbidden")
    async with live.http(demo.token(plan, "per")) as per:
        opened = (await per.get(path)).json()
        history = (await per.get(f"/api/plans/{plan['id']}/history")).json()["history"]
    assert (opened["status"], opened["title"]) == ("paused", day_centre["title"])
    newest = history[0]
    assert (newest["entity"], newest["id"], newest["version"], newest["change"]) == (
        "measures",
        day_centre["id"],
        2,
        "update",
    )
    assert newest["by"] == demo.person(plan, "ali")["person"]


async def test_moving_a_measure_needs_edit_on_both_sections_and_a_consented_responsible(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    sparing = measure(plan, "Automatisk sparing")
    path = f"/api/plans/{plan['id']}/measures/{sparing['id']}"
    housing, goals = demo.section(plan, "bolig")["id"], demo.section(plan, "mal")["id"]
    async with live.http(demo.token(plan, "siw")) as siw:
        assert_error(await siw.patch(path, json={"section": housing}), 404, "not-found")
        assert_error(await siw.patch(path, json={"section": goals}), 403, "forbidden")
        renamed = await siw.patch(path, json={"title": "Sparing til ferie", "frequency": "Den 20."})
        assert renamed.status_code == 200 and renamed.json()["title"] == "Sparing til ferie"
    async with live.http(demo.token(plan, "per")) as per:
        # Siw has no consent for the housing section, so she cannot stay responsible there.
        assert_error(await per.patch(path, json={"section": housing}), 409, "conflict")
        moved = await per.patch(path, json={"section": housing, "responsible": None})
        assert moved.status_code == 200
        assert (moved.json()["section"], moved.json()["responsible"]) == (housing, None)
    async with live.http(demo.token(plan, "siw")) as siw:
        assert "Sparing til ferie" not in await titles(siw, plan)
        assert_error(await siw.get(path), 404, "not-found")


async def test_the_school_cannot_read_or_change_the_therapy_measure(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")["id"]
    talks = next(m for m in plan["measures"] if m["section"] == therapy)
    path = f"/api/plans/{plan['id']}/measures/{talks['id']}"
    async with live.http(demo.token(plan, "skole")) as school:
        for response in (
            await school.get(path),
            await school.patch(path, json={"status": "stopped"}),
            await school.patch(path, json={"title": "Innsyn"}),
            await school.post(
                f"/api/plans/{plan['id']}/measures", json={"section": therapy, "title": "Innsyn"}
            ),
        ):
            assert_error(response, 404, "not-found")
        assert "Samtaler hos DPS" not in await titles(school, plan)
    async with live.http(demo.token(plan, "berit")) as berit:
        assert (await berit.get(path)).json()["status"] == "active"


async def test_text_no_database_can_store_is_refused_and_nothing_is_added(
    live: LiveServer, demo: Demo
) -> None:
    """A lone surrogate (a JSON escape) cannot be encoded and PostgreSQL refuses NUL: both
    were 500s. They are refused as malformed, in bokmål, and nothing is stored."""
    plan = demo.per
    economy = demo.section(plan, "okonomi")["id"]
    async with live.http(demo.token(plan, "siw")) as client:
        before = await titles(client, plan)
        for raw in (
            b'{"section": "%s", "title": "Bud\\ud800sjett"}',
            b'{"section": "%s", "title": "Bud\\u0000sjett"}',
            b'{"section": "%s", "title": "ok", "frequency": "\\udfff"}',
        ):
            response = await client.post(
                f"/api/plans/{plan['id']}/measures",
                content=raw % economy.encode(),
                headers={"content-type": "application/json"},
            )
            assert_error(response, 400, "malformed")
            assert "tegn" in response.json()["error"]["message"]
        assert await titles(client, plan) == before
