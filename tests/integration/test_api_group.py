"""Starting a plan with everything its start form asks for, and the group as its screen
reads it: who is signed in or invited (only for those who manage the plan), each
participant's capabilities from policy, only the people the reader may know of; an
invitation shown as a link instead of e-mailed; the coordinator role handed over by the
owner, never by the coordinator. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.db.models import ParticipantRow
from tests.conftest import Demo, LiveServer, load_demo_into
from tests.integration.test_api_inputs import assert_error
from tests.oidc.harness import Providers, planrom_with, providers_running


@pytest.fixture(scope="module")
def oidc_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    with providers_running(tmp_path_factory.mktemp("oidc")) as providers:
        yield providers


@pytest.fixture
async def signing_in(
    db_url: str, oidc_providers: Providers, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, Demo]]:
    """A server whose sign-in services are set up (invitations need them), with the demo."""
    async with planrom_with(db_url, oidc_providers, tmp_path) as server:
        yield server, await load_demo_into(server)


KARI = {
    "title": "Individuell plan for Kari Nordmann",
    "as": "coordinator",
    "owner_name": "Kari Nordmann",
    "owner": {"email": "kari@example.org", "phone": "400 00 100"},
    "guardians": [
        {"name": "Anne Nordmann", "email": "anne@example.org"},
        {"name": "Ola Nordmann"},
    ],
    "coordinator": {"name": "Maria Olsen", "organisation": "Bydel Nord"},
    "period_from": "2026-12-01",
    "period_to": "2027-11-30",
    "evaluation_months": 3,
    "sections": ["om-meg", "mal", "arbeid", "koordinering"],
}


async def start_kari(live: LiveServer, demo: Demo, **changes: Any) -> dict[str, Any]:
    async with live.http(demo.token(demo.per, "maria")) as maria:
        response = await maria.post("/api/plans", json=KARI | changes)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_coordinator_starts_a_plan_with_contact_guardians_period_and_sections(
    live: LiveServer, demo: Demo
) -> None:
    plan = await start_kari(live, demo)
    assert (plan["period_from"], plan["period_to"]) == ("2026-12-01", "2027-11-30")
    assert plan["evaluation_months"] == 3
    assert [s["key"] for s in plan["sections"]] == ["om-meg", "mal", "arbeid", "koordinering"]
    assert [s["position"] for s in plan["sections"]] == [0, 1, 2, 3]
    people = {p["name"]: p for p in plan["participants"]}
    assert {n: p["role"] for n, p in people.items()} == {
        "Kari Nordmann": "owner",
        "Anne Nordmann": "guardian",
        "Ola Nordmann": "guardian",
        "Maria Olsen": "coordinator",
    }
    assert people["Kari Nordmann"]["email"] == "kari@example.org"
    assert people["Kari Nordmann"]["phone"] == "400 00 100"
    assert people["Anne Nordmann"]["email"] == "anne@example.org"
    assert people["Maria Olsen"]["organisation"] == "Bydel Nord"
    async with live.services.sessionmaker() as db:
        stored = (
            (await db.execute(select(ParticipantRow).where(ParticipantRow.plan_id == plan["id"])))
            .scalars()
            .all()
        )
    # Nobody but the coordinator who started it is signed in yet.
    assert [(r.name, r.person_id is not None) for r in stored if r.person_id] == [
        ("Maria Olsen", True)
    ]


async def test_the_start_form_is_refused_field_by_field_in_the_readers_language(
    live: LiveServer, demo: Demo
) -> None:
    cases: list[tuple[dict[str, Any], str, dict[str, str]]] = [
        (
            {"owner_name": "  "},
            "owner_name",
            {
                "nb": "Skriv navnet på den planen er for.",
                "en": "Enter the name of the person the plan is for.",
            },
        ),
        (
            {"period_to": "2026-11-30"},
            "period_to",
            {
                "nb": "Planperioden kan ikke slutte før den begynner.",
                "nn": "Planperioden kan ikkje slutte før han byrjar.",
            },
        ),
        (
            {"guardians": [{"name": "Anne", "email": "anne at example.org"}]},
            "guardians.0.email",
            {"nb": "Skriv en gyldig e-postadresse, for eksempel navn@eksempel.no."},
        ),
        ({"owner": {"email": "kari@"}}, "owner.email", {"en": "Enter a valid e-mail address"}),
        ({"sections": []}, "sections", {"nn": "Vel minst éin del av planen."}),
    ]
    async with live.http(demo.token(demo.per, "maria")) as maria:
        before = (await maria.get("/api/plans")).json()["plans"]
        for change, field, texts in cases:
            for lang, text in texts.items():
                response = await maria.post(
                    "/api/plans", json=KARI | change, headers={"accept-language": lang}
                )
                error = assert_error(response, 400, "malformed")
                assert error["field"] == field, error
                assert error["message"].startswith(text), (lang, error)
        assert (await maria.get("/api/plans")).json()["plans"] == before


def by_name(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in group["participants"]}


async def test_the_group_shows_states_and_capabilities_to_the_coordinator_only(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "maria")) as maria:
        group = (await maria.get(f"/api/plans/{plan['id']}/group")).json()
        listed = (await maria.get(f"/api/plans/{plan['id']}/participants")).json()
    assert group["setup"] is False and group["can"]["manage_plan"] is True
    # A coordinator adds services and relatives; guardians and coordinators are the owner's.
    assert group["add_roles"] == ["service", "relative"]
    people = by_name(group)
    assert set(people) == {p["name"] for p in listed["participants"]}
    assert people["Siw Nilsen"]["can"] == {
        "invite": False,  # signed in already (demo tokens bind a person)
        "remove": True,
        "edit": True,
        "replace": False,
        "ask_to_replace": False,
        "stand_in": False,  # the owner's choice, not the coordinator's
    }
    assert people["Maria Olsen"]["can"]["ask_to_replace"] is True
    assert people["Maria Olsen"]["can"]["remove"] is False
    assert people["Per Hansen"]["can"]["remove"] is False
    assert people["Per Hansen"]["needs_identity"] is True
    assert people["Siw Nilsen"]["needs_identity"] is False
    assert all(p["signed_in"] is True for p in people.values())

    # Ali (a service without the coordination section) knows of the owner, the
    # coordinator and himself, and sees neither sign-in states nor invitations.
    async with live.http(demo.token(plan, "ali")) as ali:
        seen = (await ali.get(f"/api/plans/{plan['id']}/group")).json()
        known = (await ali.get(f"/api/plans/{plan['id']}/participants")).json()
    assert set(by_name(seen)) == {p["name"] for p in known["participants"]}
    assert "Siw Nilsen" not in by_name(seen)
    assert seen["add_roles"] == [] and seen["can"]["manage_plan"] is False
    for p in seen["participants"]:
        assert "signed_in" not in p and "invitation" not in p
        assert not any(p["can"].values()), p


@pytest.mark.node
async def test_a_new_participant_is_invited_by_a_link_shown_not_mailed_then_revoked(
    signing_in: tuple[LiveServer, Demo],
) -> None:
    live, demo = signing_in
    plan = demo.per
    async with live.http(demo.token(plan, "maria")) as maria:
        added = await maria.post(
            f"/api/plans/{plan['id']}/participants",
            json={"role": "service", "name": "Tom Vikar", "email": "tom@example.org"},
        )
        tom = added.json()["id"]
        group = by_name((await maria.get(f"/api/plans/{plan['id']}/group")).json())
        assert group["Tom Vikar"]["signed_in"] is False
        assert group["Tom Vikar"]["invitation"] is None
        assert group["Tom Vikar"]["can"]["invite"] is True
        bad = await maria.post(
            f"/api/plans/{plan['id']}/participants/{tom}/invite",
            json={"email": "not an address"},
            headers={"accept-language": "en"},
        )
        error = assert_error(bad, 400, "malformed")
        assert error["field"] == "email" and error["message"].startswith("Enter a valid")
        sent = await maria.post(
            f"/api/plans/{plan['id']}/participants/{tom}/invite", json={"by": "link"}
        )
        assert sent.status_code == 201, sent.text
        reply = sent.json()
        assert reply["delivery"] == "link" and reply["url"].startswith(f"{live.url}/invite/inv_")
        assert reply["email"] == ""
        assert not list(live.settings.outbox_dir.glob("*.eml"))  # nothing was sent
        group = by_name((await maria.get(f"/api/plans/{plan['id']}/group")).json())
        assert group["Tom Vikar"]["invitation"]["status"] == "open"
        revoked = await maria.delete(f"/api/plans/{plan['id']}/invitations/{reply['id']}")
        assert revoked.status_code == 200, revoked.text
        group = by_name((await maria.get(f"/api/plans/{plan['id']}/group")).json())
        assert group["Tom Vikar"]["invitation"]["status"] == "revoked"
    async with live.http() as stranger:
        page = await stranger.get(reply["url"])
    assert page.status_code == 410


@pytest.mark.node
async def test_while_the_plan_is_set_up_the_coordinator_invites_a_guardian_not_after(
    signing_in: tuple[LiveServer, Demo],
) -> None:
    live, demo = signing_in
    plan = await start_kari(live, demo)
    anne = next(p["id"] for p in plan["participants"] if p["name"] == "Anne Nordmann")
    async with live.http(demo.token(demo.per, "maria")) as maria:
        group = (await maria.get(f"/api/plans/{plan['id']}/group")).json()
        assert group["setup"] is True
        assert by_name(group)["Anne Nordmann"]["can"]["invite"] is True
        needs = await maria.post(f"/api/plans/{plan['id']}/participants/{anne}/invite", json={})
        error = assert_error(needs, 400, "malformed")
        assert error["field"] == "national_id"
        sent = await maria.post(
            f"/api/plans/{plan['id']}/participants/{anne}/invite",
            json={"national_id": "01017012345"},
        )
        assert sent.status_code == 201, sent.text
    # Once someone has signed consent, guardians are the owner's business again.
    ctx_plan = demo.per
    async with live.http(demo.token(ctx_plan, "per")) as per:
        added = await per.post(
            f"/api/plans/{ctx_plan['id']}/participants", json={"role": "guardian", "name": "G"}
        )
        guardian = added.json()["id"]
    async with live.http(demo.token(ctx_plan, "maria")) as maria:
        group = by_name((await maria.get(f"/api/plans/{ctx_plan['id']}/group")).json())
        assert group["G"]["can"]["invite"] is False
        refused = await maria.post(
            f"/api/plans/{ctx_plan['id']}/participants/{guardian}/invite",
            json={"national_id": "01017012345"},
        )
        assert_error(refused, 403, "forbidden")


async def test_the_owner_hands_the_coordinator_role_over_and_the_coordinator_cannot(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria_id = demo.person(plan, "maria")["id"]
    siw_id = demo.person(plan, "siw")["id"]
    path = f"/api/plans/{plan['id']}/participants/{maria_id}/replace"
    async with live.http(demo.token(plan, "maria")) as maria:
        refused = await maria.post(path, json={"name": "Tor Ny"})
        error = assert_error(refused, 403, "forbidden")
        assert "planeieren" in error["message"]
    async with live.http(demo.token(plan, "per")) as per:
        not_coordinator = await per.post(
            f"/api/plans/{plan['id']}/participants/{siw_id}/replace", json={"name": "X"}
        )
        assert "koordinatorrollen" in assert_error(not_coordinator, 409, "conflict")["message"]
        bad_email = await per.post(path, json={"name": "Tor Ny", "email": "tor@"})
        assert assert_error(bad_email, 400, "malformed")["field"] == "email"
        handed = await per.post(
            path, json={"name": "Tor Ny", "organisation": "Bydel Nord", "email": "tor@example.org"}
        )
        assert handed.status_code == 201, handed.text
        assert handed.json()["role"] == "coordinator"
        group = by_name((await per.get(f"/api/plans/{plan['id']}/group")).json())
    assert "Maria Olsen" not in group
    assert group["Tor Ny"]["role"] == "coordinator"
    assert group["Tor Ny"]["signed_in"] is False and group["Tor Ny"]["invitation"] is None
    # Maria no longer takes part in the plan.
    async with live.http(demo.token(plan, "maria")) as maria:
        assert_error(await maria.get(f"/api/plans/{plan['id']}"), 404, "not-found")
