"""Invitation edges (issue 15): the participant removed after the invitation, the wrong
provider, someone already in the plan, revoking a used link, and a guardian's invitation
bound to one national identity. Against the real OpenID providers (tests/oidc)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from server.db.auth_models import Invitation
from server.db.models import Identity, ParticipantRow
from tests.conftest import Demo, LiveServer, load_demo_into
from tests.integration.test_invitations import add_participant, invite, page_code
from tests.oidc.harness import Providers, authorize, planrom_with, providers_running, sign_in
from tests.oidc.harness import start_login as begin

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def oidc_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    with providers_running(tmp_path_factory.mktemp("oidc")) as providers:
        yield providers


@pytest.fixture
async def oidc_live(
    sqlite_url: str, oidc_providers: Providers, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    async with planrom_with(sqlite_url, oidc_providers, tmp_path) as server:
        yield server


@pytest.fixture
async def demo(oidc_live: LiveServer) -> Demo:
    return await load_demo_into(oidc_live)


async def participant(live: LiveServer, participant_id: str) -> ParticipantRow:
    async with live.services.sessionmaker() as db:
        row = await db.get(ParticipantRow, participant_id)
    assert row is not None
    return row


async def test_a_participant_removed_after_the_invitation_binds_nobody(
    oidc_live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    newcomer = await add_participant(oidc_live, maria, plan["id"], "service", "Fjernet Etterpå")
    sent = (await invite(oidc_live, maria, plan["id"], newcomer)).json()
    token = sent["url"].rsplit("/", 1)[1]
    async with oidc_live.http() as browser:
        callback = await authorize(await begin(browser, "staff", token), login="fjernet", org="1")
        async with oidc_live.http(maria) as api:
            removed = await api.patch(
                f"/api/plans/{plan['id']}/participants/{newcomer}", json={"active": False}
            )
            assert removed.status_code == 200, removed.text
        refused = await browser.get(callback)
        assert refused.status_code == 410 and page_code(refused) == "invitation-removed"
        assert (await browser.get("/api/plans")).status_code == 401
        page = await browser.get(sent["url"])
        assert page.status_code == 410 and page_code(page) == "invitation-removed"
    assert (await participant(oidc_live, newcomer)).person_id is None


async def test_a_service_invitation_with_the_citizen_provider_is_refused(
    oidc_live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    newcomer = await add_participant(oidc_live, maria, plan["id"], "service", "Feil Tjeneste")
    token = (await invite(oidc_live, maria, plan["id"], newcomer)).json()["url"].rsplit("/")[-1]
    async with oidc_live.http() as browser:
        wrong = await browser.get("/auth/login/citizen", params={"invite": token})
        assert wrong.status_code == 400 and page_code(wrong) == "invitation-wrong-provider"
        assert (await browser.get("/api/plans")).status_code == 401
    # The link still works with the right provider.
    async with oidc_live.http() as browser:
        right = await sign_in(browser, "staff", login="riktig", org="1", invite=token)
        assert right.status_code == 303
    assert (await participant(oidc_live, newcomer)).person_id is not None


async def test_someone_already_in_the_plan_cannot_take_a_second_place(
    oidc_live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    first = await add_participant(oidc_live, maria, plan["id"], "service", "Første Plass")
    second = await add_participant(oidc_live, maria, plan["id"], "service", "Andre Plass")
    one = (await invite(oidc_live, maria, plan["id"], first)).json()["url"].rsplit("/")[-1]
    two = (await invite(oidc_live, maria, plan["id"], second)).json()["url"].rsplit("/")[-1]
    async with oidc_live.http() as browser:
        joined = await sign_in(browser, "staff", login="dobbel", org="1", invite=one)
        assert joined.status_code == 303
    async with oidc_live.http() as browser:
        again = await sign_in(browser, "staff", login="dobbel", org="1", invite=two)
        assert again.status_code == 409 and page_code(again) == "invitation-already-participant"
    bound = await participant(oidc_live, first)
    assert bound.person_id is not None
    assert (await participant(oidc_live, second)).person_id is None
    async with oidc_live.services.sessionmaker() as db:
        link = (
            await db.execute(select(Invitation).where(Invitation.participant_id == second))
        ).scalar_one()
    assert link.used_at is None  # still open for the right person


async def test_a_used_link_cannot_be_revoked(oidc_live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    newcomer = await add_participant(oidc_live, maria, plan["id"], "service", "Brukt Lenke")
    sent = (await invite(oidc_live, maria, plan["id"], newcomer)).json()
    token = sent["url"].rsplit("/", 1)[1]
    async with oidc_live.http() as browser:
        assert (
            await sign_in(browser, "staff", login="brukt", org="1", invite=token)
        ).status_code == 303
    async with oidc_live.http(maria) as api:
        refused = await api.delete(f"/api/plans/{plan['id']}/invitations/{sent['id']}")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
        listed = (await api.get(f"/api/plans/{plan['id']}/invitations")).json()["invitations"]
    assert [i["status"] for i in listed if i["id"] == sent["id"]] == ["used"]
    async with oidc_live.services.sessionmaker() as db:
        row = await db.get(Invitation, sent["id"])
    assert row is not None and row.revoked_at is None and row.used_at is not None
    assert (await participant(oidc_live, newcomer)).person_id == row.used_by


async def test_a_guardians_invitation_binds_only_the_named_identity(
    oidc_live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    async with oidc_live.http(demo.token(plan, "charlotte")) as owner:
        added = await owner.post(
            f"/api/plans/{plan['id']}/participants", json={"role": "guardian", "name": "Mor Berg"}
        )
        assert added.status_code == 201, added.text
        guardian = added.json()["id"]
        unnamed = await owner.post(
            f"/api/plans/{plan['id']}/participants/{guardian}/invite",
            json={"email": "mor@example.org"},
        )
        assert unnamed.status_code == 400, unnamed.text
        made = await owner.post(
            f"/api/plans/{plan['id']}/participants/{guardian}/invite",
            json={"email": "mor@example.org", "national_id": "12127012345"},
        )
        assert made.status_code == 201, made.text
    token = made.json()["url"].rsplit("/")[-1]
    # A guardian signs in with the citizen provider, not the staff one.
    async with oidc_live.http() as browser:
        staff = await browser.get("/auth/login/staff", params={"invite": token})
        assert page_code(staff) == "invitation-wrong-provider"
    async with oidc_live.http() as browser:
        wrong = await sign_in(browser, "citizen", login="far", pid="13137012345", invite=token)
        assert page_code(wrong) == "invitation-wrong-person"
        assert (await browser.get("/api/session")).status_code == 401
    assert (await participant(oidc_live, guardian)).person_id is None
    async with oidc_live.http() as browser:
        right = await sign_in(browser, "citizen", login="mor", pid="12127012345", invite=token)
        assert right.status_code == 303
        person = (await browser.get("/api/session")).json()["person"]
    async with oidc_live.services.sessionmaker() as db:
        identity = (
            await db.execute(select(Identity).where(Identity.subject == "pid:12127012345"))
        ).scalar_one()
    assert identity.person_id == person
    assert (await participant(oidc_live, guardian)).person_id == person
