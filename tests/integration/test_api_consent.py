"""The consent list over HTTP (PROTOCOL.md "Consent over HTTP")."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error


async def current(client: httpx.AsyncClient, plan: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"/api/plans/{plan['id']}/consent")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def visible_keys(client: httpx.AsyncClient, plan: dict[str, Any]) -> set[str]:
    response = await client.get(f"/api/plans/{plan['id']}")
    assert response.status_code == 200, response.text
    return {s["key"] for s in response.json()["sections"]}


def without(consent: dict[str, Any], participant: str, section: str) -> list[dict[str, str]]:
    return [
        g
        for g in consent["grants"]
        if not (g["participant"] == participant and g["section"] == section)
    ]


async def test_the_owner_reads_the_whole_consent_list_a_service_only_its_own_grants(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    async with live.http(demo.token(plan, "charlotte")) as owner:
        whole = await current(owner, plan)
    assert set(whole) >= {
        "version",
        "signed_by",
        "signed_at",
        "purpose",
        "valid_from",
        "valid_to",
        "grants",
    }
    assert whole["version"] == 2 and whole["signed_by"] == demo.person(plan, "charlotte")["id"]
    assert whole["valid_to"] is None
    assert {g["participant"] for g in whole["grants"]} == {
        demo.person(plan, k)["id"] for k in ("hilde", "lege", "berit", "team", "skole")
    }
    assert {g["level"] for g in whole["grants"]} <= {"own", "read", "edit"}
    school = demo.person(plan, "skole")["id"]
    async with live.http(demo.token(plan, "skole")) as client:
        own = await current(client, plan)
    assert own["version"] == 2 and {g["participant"] for g in own["grants"]} == {school}
    assert {g["section"] for g in own["grants"]} == {
        demo.section(plan, k)["id"] for k in ("skolen", "mal", "om-meg")
    }
    # Nothing about the therapy section reaches the school, not even in the purpose.
    # (Whole words: a random id such as "6epbdqnsdpst" may hold the letters "dps".)
    words = set(re.findall(r"\w+", str(own).lower()))
    assert not any("behandling" in w for w in words) and "dps" not in words
    async with live.http(demo.token(demo.per, "siw")) as stranger:
        assert_error(await stranger.get(f"/api/plans/{plan['id']}/consent"), 404, "not-found")


async def test_narrowing_takes_effect_on_the_next_request(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    school = demo.person(plan, "skole")["id"]
    about = demo.section(plan, "om-meg")["id"]
    async with (
        live.http(demo.token(plan, "skole")) as client,
        live.http(demo.token(plan, "charlotte")) as owner,
    ):
        assert "om-meg" in await visible_keys(client, plan)
        before = await current(owner, plan)
        response = await owner.post(
            f"/api/plans/{plan['id']}/consent",
            json={
                "purpose": "Skolen trenger ikke Om meg",
                "grants": without(before, school, about),
            },
        )
        assert response.status_code == 201, response.text
        signed = response.json()
        assert signed["version"] == 3 and signed["purpose"] == "Skolen trenger ikke Om meg"
        assert signed["signed_by"] == demo.person(plan, "charlotte")["id"]
        assert await visible_keys(client, plan) == {"mal", "skolen"}
        assert_error(
            await client.patch(f"/api/plans/{plan['id']}/sections/{about}", json={"title": "x"}),
            404,
            "not-found",
        )
        assert (await current(owner, plan))["version"] == 3


async def test_widening_needs_a_new_version_and_then_takes_effect(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    ali = demo.person(plan, "ali")["id"]
    housing = demo.section(plan, "bolig")["id"]
    async with (
        live.http(demo.token(plan, "ali")) as client,
        live.http(demo.token(plan, "per")) as owner,
    ):
        assert "bolig" not in await visible_keys(client, plan)
        before = await current(owner, plan)
        grants = [*before["grants"], {"participant": ali, "section": housing, "level": "read"}]
        response = await owner.post(
            f"/api/plans/{plan['id']}/consent",
            json={"purpose": "Ali ser boligdelen", "grants": grants},
        )
        assert response.status_code == 201, response.text
        assert "bolig" in await visible_keys(client, plan)
        measures = (await client.get(f"/api/plans/{plan['id']}/measures")).json()["measures"]
        assert "Følge Per til bussen" in {m["title"] for m in measures}


async def test_the_coordinator_records_the_owners_signature_but_never_signs_as_herself(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    hilde, owner = demo.person(plan, "hilde")["id"], demo.person(plan, "charlotte")["id"]
    path = f"/api/plans/{plan['id']}/consent"
    async with live.http(demo.token(plan, "hilde")) as coordinator:
        grants = (await current(coordinator, plan))["grants"]
        refused = await coordinator.post(
            path, json={"purpose": "x", "grants": grants, "signed_by": hilde}
        )
        assert_error(refused, 403, "forbidden")
        service = demo.person(plan, "berit")["id"]
        assert_error(
            await coordinator.post(
                path, json={"purpose": "x", "grants": grants, "signed_by": service}
            ),
            403,
            "forbidden",
        )
        assert (await current(coordinator, plan))["version"] == 2
        # Recording the owner's signature needs the signed form attached.
        assert_error(
            await coordinator.post(path, json={"purpose": "Samtale 3. mars", "grants": grants}),
            400,
            "malformed",
        )
        forms = []
        for _ in range(2):
            uploaded = await coordinator.post(
                f"{path}/forms",
                content=b"%PDF-1.7\n...",
                headers={"content-type": "application/pdf"},
            )
            assert uploaded.status_code == 201, uploaded.text
            forms.append(uploaded.json()["id"])
        recorded = await coordinator.post(
            path, json={"purpose": "Samtale 3. mars", "grants": grants, "form": forms[0]}
        )
        assert recorded.status_code == 201, recorded.text
        assert (recorded.json()["signed_by"], recorded.json()["recorded_by"]) == (owner, hilde)
        assert recorded.json()["method"] == "paper"
        explicit = await coordinator.post(
            path, json={"purpose": "Igjen", "grants": grants, "signed_by": owner, "form": forms[1]}
        )
        assert explicit.status_code == 201 and explicit.json()["version"] == 4


async def test_services_and_the_owner_in_someone_elses_name_may_not_sign(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    path = f"/api/plans/{plan['id']}/consent"
    async with live.http(demo.token(plan, "berit")) as berit:
        assert_error(
            await berit.post(path, json={"purpose": "Mer innsyn", "grants": []}), 403, "forbidden"
        )
    async with live.http(demo.token(plan, "charlotte")) as owner:
        hilde = demo.person(plan, "hilde")["id"]
        assert_error(
            await owner.post(path, json={"purpose": "x", "grants": [], "signed_by": hilde}),
            403,
            "forbidden",
        )
        assert_error(
            await owner.post(path, json={"purpose": "x", "grants": [], "signed_by": "zzzz9999"}),
            403,
            "forbidden",
        )
        assert (await current(owner, plan))["version"] == 2
    async with live.http(demo.token(demo.per, "per")) as stranger:
        assert_error(
            await stranger.post(path, json={"purpose": "x", "grants": []}), 404, "not-found"
        )


async def test_a_consent_version_with_bad_grants_is_refused_with_a_reason(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    path = f"/api/plans/{plan['id']}/consent"
    school, owner = demo.person(plan, "skole")["id"], demo.person(plan, "charlotte")["id"]
    therapy = demo.section(plan, "terapi")["id"]
    foreign_section = demo.section(demo.per, "bolig")["id"]
    now = live.clock()
    bad: list[tuple[dict[str, Any], str]] = [
        (
            {"grants": [{"participant": "zzzz9999", "section": therapy, "level": "read"}]},
            "zzzz9999",
        ),
        (
            {"grants": [{"participant": owner, "section": therapy, "level": "read"}]},
            "Charlotte Berg",
        ),
        (
            {"grants": [{"participant": school, "section": foreign_section, "level": "read"}]},
            foreign_section,
        ),
        (
            {
                "grants": [
                    {"participant": school, "section": therapy, "level": "read"},
                    {"participant": school, "section": therapy, "level": "none"},
                ]
            },
            "Dobbel",
        ),
        ({"grants": [], "purpose": "   "}, "purpose"),
        (
            {
                "grants": [],
                "valid_from": now.isoformat(),
                "valid_to": (now - timedelta(days=1)).isoformat(),
            },
            "valid_to",
        ),
        ({"grants": [], "valid_from": "2026-03-01T10:00:00"}, "valid_from"),
        ({"grants": [], "valid_to": "snart"}, "valid_to"),
    ]
    async with live.http(demo.token(plan, "charlotte")) as client:
        for body, mention in bad:
            response = await client.post(path, json={"purpose": "Samarbeid"} | body)
            error = assert_error(response, 400, "malformed")
            # The field is named in the message, or (a message about one field) beside it.
            assert mention in error["message"] or error.get("field") == mention, (body, error)
        assert (await current(client, plan))["version"] == 2


async def test_consent_grants_nothing_before_it_starts_or_after_it_ends(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    path = f"/api/plans/{plan['id']}/consent"
    now = live.clock()
    async with (
        live.http(demo.token(plan, "per")) as owner,
        live.http(demo.token(plan, "siw")) as siw,
        live.http(demo.token(plan, "maria")) as maria,
    ):
        grants = (await current(owner, plan))["grants"]
        later = await owner.post(
            path,
            json={
                "purpose": "Fra i morgen",
                "grants": grants,
                "valid_from": (now + timedelta(hours=1)).isoformat(),
                "valid_to": (now + timedelta(hours=3)).isoformat(),
            },
        )
        assert later.status_code == 201, later.text
        # The new version replaces the old one at once, and is not valid yet.
        assert await visible_keys(siw, plan) == set()
        assert await visible_keys(maria, plan) == set()
        assert len(await visible_keys(owner, plan)) == 12
        live.clock.advance(2 * 3600)
        assert await visible_keys(siw, plan) == {"mal", "okonomi", "arbeid"}
        live.clock.advance(2 * 3600)
        assert await visible_keys(siw, plan) == set()
        assert_error(
            await maria.get(f"/api/plans/{plan['id']}/measures/{plan['measures'][0]['id']}"),
            404,
            "not-found",
        )
        assert len(await visible_keys(owner, plan)) == 12


async def test_withdrawing_one_participant_takes_effect_at_once(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    school = demo.person(plan, "skole")["id"]
    path = f"/api/plans/{plan['id']}/consent/withdraw"
    async with (
        live.http(demo.token(plan, "skole")) as client,
        live.http(demo.token(plan, "charlotte")) as owner,
        live.http(demo.token(plan, "berit")) as berit,
    ):
        assert await visible_keys(client, plan) == {"om-meg", "mal", "skolen"}
        response = await owner.post(path, json={"participant": school})
        assert response.status_code == 200, response.text
        withdrawn = response.json()
        assert withdrawn["version"] == 3 and withdrawn["kind"] == "withdrawal"
        assert school not in {g["participant"] for g in withdrawn["grants"]}
        assert await visible_keys(client, plan) == set()
        assert (await current(client, plan))["grants"] == []
        assert (await client.get(f"/api/plans/{plan['id']}/measures")).json()["measures"] == []
        # Everyone else keeps their grants.
        assert "terapi" in await visible_keys(berit, plan)


async def test_withdrawing_everyone_leaves_only_the_owner(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    async with live.http(demo.token(plan, "charlotte")) as owner:
        response = await owner.post(f"/api/plans/{plan['id']}/consent/withdraw", json={})
        assert response.status_code == 200 and response.json()["grants"] == []
        assert len(await visible_keys(owner, plan)) == 14
    for key in ("hilde", "berit", "skole", "lege", "team"):
        async with live.http(demo.token(plan, key)) as client:
            assert await visible_keys(client, plan) == set(), key


async def test_only_the_owner_withdraws_consent(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    path = f"/api/plans/{plan['id']}/consent/withdraw"
    for key in ("hilde", "berit"):
        async with live.http(demo.token(plan, key)) as client:
            assert_error(await client.post(path, json={}), 403, "forbidden")
    async with live.http(demo.token(demo.per, "per")) as stranger:
        assert_error(await stranger.post(path, json={}), 404, "not-found")
    async with live.http(demo.token(plan, "charlotte")) as owner:
        assert_error(await owner.post(path, json={"participant": "zzzz9999"}), 404, "not-found")
        assert (await current(owner, plan))["version"] == 2
        created = (await owner.post("/api/plans", json={"title": "Ny", "as": "owner"})).json()
        assert_error(
            await owner.post(f"/api/plans/{created['id']}/consent/withdraw", json={}),
            404,
            "not-found",
        )
