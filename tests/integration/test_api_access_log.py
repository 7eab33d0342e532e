"""The access log (innsynslogg) over HTTP: opens, changes and denials, for the owner."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error


async def entries(
    client: httpx.AsyncClient, plan: dict[str, Any], limit: int | None = None
) -> list[dict[str, Any]]:
    query = f"?limit={limit}" if limit is not None else ""
    response = await client.get(f"/api/plans/{plan['id']}/access-log{query}")
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


async def test_the_log_records_opens_changes_and_denials_with_who_and_what(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")["id"]
    talks = next(m for m in plan["measures"] if m["section"] == therapy)
    school = demo.person(plan, "skole")
    async with live.http(demo.token(plan, "skole")) as client:
        assert (await client.get(f"/api/plans/{plan['id']}")).status_code == 200
        assert_error(
            await client.get(f"/api/plans/{plan['id']}/measures/{talks['id']}"), 404, "not-found"
        )
    async with live.http(demo.token(plan, "charlotte")) as owner:
        assert (
            await owner.patch(f"/api/plans/{plan['id']}", json={"title": "Planen min"})
        ).status_code == 200
        log = await entries(owner, plan)
    # Newest first; each entry says who, when, what and how.
    assert [e["seq"] for e in log] == sorted((e["seq"] for e in log), reverse=True)
    change, denied, opened = log[:3]
    assert (change["action"], change["target"], change["actor"], change["detail"]) == (
        "change",
        "plan",
        "Charlotte Berg",
        "title",
    )
    assert change["person"] == demo.person(plan, "charlotte")["person"]
    assert (denied["action"], denied["target"], denied["actor"]) == (
        "denied",
        f"measure:{talks['id']}",
        "Ola Strand",
    )
    assert denied["person"] == school["person"] and denied["detail"]
    assert (opened["action"], opened["target"], opened["person"]) == (
        "open",
        "plan",
        school["person"],
    )
    assert all(e["at"].endswith("+00:00") for e in log)


async def test_signing_and_withdrawing_consent_are_logged(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    siw = demo.person(plan, "siw")["id"]
    async with live.http(demo.token(plan, "per")) as owner:
        grants = (await owner.get(f"/api/plans/{plan['id']}/consent")).json()["grants"]
        narrower = [g for g in grants if g["participant"] != siw or g["level"] != "edit"]
        assert (
            await owner.post(
                f"/api/plans/{plan['id']}/consent",
                json={"purpose": "Mindre for NAV", "grants": narrower},
            )
        ).status_code == 201
        assert (
            await owner.post(f"/api/plans/{plan['id']}/consent/withdraw", json={"participant": siw})
        ).status_code == 200
        log = await entries(owner, plan, limit=10)
    signs = [e for e in log if e["action"] == "sign"]
    assert [e["detail"] for e in signs[:2]] == [
        f"version 4: withdrew {siw}",
        "version 3 (in-app); narrowed 1 grant(s)",
    ]


async def test_a_stranger_and_a_service_are_logged_when_refused(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    stranger = demo.person(demo.charlotte, "berit")
    async with live.http(demo.token(demo.charlotte, "berit")) as client:
        assert_error(await client.get(f"/api/plans/{plan['id']}"), 404, "not-found")
    async with live.http(demo.token(plan, "siw")) as siw:
        assert_error(await siw.get(f"/api/plans/{plan['id']}/access-log"), 403, "forbidden")
    async with live.http(demo.token(plan, "per")) as owner:
        log = await entries(owner, plan, limit=3)
        again = await entries(owner, plan, limit=1)
    assert [(e["action"], e["target"], e["actor"]) for e in log] == [
        ("denied", "access-log", "Siw Nilsen"),
        ("denied", "plan", "Berit Lund"),
    ]
    assert log[1]["person"] == stranger["person"]
    # Reading the log is itself an entry (written once the reading succeeded).
    assert [(e["action"], e["target"], e["actor"]) for e in again] == [
        ("open", "access-log", "Per Hansen")
    ]


async def test_only_the_owner_and_the_coordinator_read_the_log(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    path = f"/api/plans/{plan['id']}/access-log"
    async with live.http(demo.token(plan, "hilde")) as coordinator:
        assert (await coordinator.get(path)).status_code == 200
    for key in ("berit", "skole", "lege", "team"):
        async with live.http(demo.token(plan, key)) as client:
            assert_error(await client.get(path), 403, "forbidden")
    async with live.http(demo.token(demo.per, "maria")) as stranger:
        assert_error(await stranger.get(path), 404, "not-found")


async def test_the_log_is_paged_by_a_bounded_limit(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    path = f"/api/plans/{plan['id']}/access-log"
    async with live.http(demo.token(plan, "per")) as owner:
        for _ in range(3):
            await owner.get(f"/api/plans/{plan['id']}")
        assert len(await entries(owner, plan, limit=2)) == 2
        # Three opens of the plan and the reading of the log just before.
        assert len(await entries(owner, plan)) == 4
        for bad in ("0", "5001", "abc", "-1", "1.5", "9" * 300):
            assert_error(await owner.get(f"{path}?limit={bad}"), 400, "malformed")
