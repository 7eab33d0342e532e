"""Invitations: a single-use, expiring link that binds a sign-in (through the real
OpenID providers) to a participant; everything they then see passes consent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import select

from server.db.auth_models import Invitation
from server.db.models import AccessLogRow, ParticipantRow
from server.settings import SMTP
from tests.conftest import Demo, LiveServer, load_demo_into
from tests.oidc.harness import (
    Providers,
    authorize,
    planrom_with,
    providers_running,
    sign_in,
    start_login,
)
from tests.yclient import YClient

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def oidc_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    with providers_running(tmp_path_factory.mktemp("oidc")) as providers:
        yield providers


@pytest.fixture
async def oidc_live(
    db_url: str, oidc_providers: Providers, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    async with planrom_with(db_url, oidc_providers, tmp_path) as server:
        yield server


@pytest.fixture
async def demo(oidc_live: LiveServer) -> Demo:
    return await load_demo_into(oidc_live)


def page_code(response: httpx.Response) -> str:
    marker = '<code id="code">'
    assert marker in response.text, response.text[:500]
    return response.text.split(marker, 1)[1].split("<", 1)[0]


async def add_participant(
    live: LiveServer, token: str, plan: str, role: str, name: str, email: str = ""
) -> str:
    async with live.http(token) as api:
        body = {"role": role, "name": name, "email": email, "organisation": "NAV Nord"}
        answer = await api.post(f"/api/plans/{plan}/participants", json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


async def grant(
    live: LiveServer, token: str, plan: str, participant: str, levels: dict[str, str]
) -> None:
    """A new consent version: the current grants plus ``levels`` for ``participant``."""
    async with live.http(token) as api:
        current = (await api.get(f"/api/plans/{plan}/consent")).json()
        grants = [g for g in current["grants"] if g["participant"] != participant]
        grants += [
            {"participant": participant, "section": s, "level": lv} for s, lv in levels.items()
        ]
        answer = await api.post(
            f"/api/plans/{plan}/consent", json={"purpose": current["purpose"], "grants": grants}
        )
        assert answer.status_code == 201, answer.text


async def invite(
    live: LiveServer, token: str, plan: str, participant: str, **body: Any
) -> httpx.Response:
    async with live.http(token) as api:
        return await api.post(f"/api/plans/{plan}/participants/{participant}/invite", json=body)


async def test_an_invited_service_signs_in_and_sees_only_what_consent_allows(
    oidc_live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    okonomi, bolig = demo.section(plan, "okonomi"), demo.section(plan, "bolig")
    newcomer = await add_participant(
        oidc_live, maria, plan["id"], "service", "Nina Nav", "nina.nav@example.org"
    )
    # Per signs the new grant himself (the coordinator could only record a paper form).
    await grant(oidc_live, demo.token(plan, "per"), plan["id"], newcomer, {okonomi["id"]: "read"})

    answer = await invite(oidc_live, maria, plan["id"], newcomer)
    assert answer.status_code == 201, answer.text
    sent = answer.json()
    assert sent["status"] == "open" and sent["delivery"] == "outbox"
    link = sent["url"]
    assert link.startswith(f"{oidc_live.url}/invite/inv_")
    # Written to the outbox (no SMTP configured), without the plan's title.
    outbox = list((oidc_live.settings.outbox_dir).glob("*.eml"))
    assert len(outbox) == 1 and outbox[0].stat().st_mode & 0o077 == 0
    letter = message_from_bytes(outbox[0].read_bytes(), policy=policy.default)
    assert letter["To"] == "nina.nav@example.org"
    content = letter.get_body().get_content()  # type: ignore[union-attr]
    assert link in content and plan["title"] not in content

    async with oidc_live.http() as browser:
        page = await browser.get(link)
        assert page.status_code == 200 and "Nina Nav" in page.text
        assert plan["title"] not in page.text
        token = link.rsplit("/", 1)[1]
        assert f'href="/auth/login/staff?invite={token}"' in page.text
        done = await sign_in(
            browser, "staff", login="nina-17", name="Nina Nav", org="889640782", invite=token
        )
        assert done.status_code == 303, done.text
        plans = (await browser.get("/api/plans")).json()["plans"]
        assert [(p["id"], p["role"], p["participant"]) for p in plans] == [
            (plan["id"], "service", newcomer)
        ]
        detail = (await browser.get(f"/api/plans/{plan['id']}")).json()
        assert [s["id"] for s in detail["sections"]] == [okonomi["id"]]
        assert [m["title"] for m in detail["measures"]] == ["Automatisk sparing 500 kr i måneden"]
        assert "Dagsenter" not in str(detail) and "bussen" not in str(detail)
        cookie = browser.cookies.get("planrom_session")
        assert cookie
    # Over Socket.IO with the same session: the granted section reads, no more.
    client = YClient(
        oidc_live.url,
        None,
        headers={"Cookie": f"planrom_session={cookie}", "Origin": oidc_live.url},
    )
    await client.connect()
    try:
        assert await client.join(okonomi["doc"], sync=False) == {"ok": True, "access": "read"}
        refused = await client.join(bolig["doc"], sync=False)
        assert refused["ok"] is False and refused["error"]["code"] == "not-found"
    finally:
        await client.close()
    async with oidc_live.services.sessionmaker() as db:
        row = await db.get(ParticipantRow, newcomer)
        log = (
            (
                await db.execute(
                    select(AccessLogRow).where(
                        AccessLogRow.plan_id == plan["id"],
                        AccessLogRow.target == f"participant:{newcomer}",
                    )
                )
            )
            .scalars()
            .all()
        )
    assert row is not None and row.person_id is not None
    assert any("signed in with invitation" in e.detail for e in log)


async def test_a_used_invitation_is_refused(oidc_live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    newcomer = await add_participant(oidc_live, maria, plan["id"], "service", "Ola Once")
    link = (await invite(oidc_live, maria, plan["id"], newcomer)).json()["url"]
    token = link.rsplit("/", 1)[1]
    async with oidc_live.http() as first:
        assert (
            await sign_in(first, "staff", login="ola", org="1", invite=token)
        ).status_code == 303
    async with oidc_live.http() as second:
        page = await second.get(link)
        assert page.status_code == 410 and page_code(page) == "invitation-used"
        again = await second.get("/auth/login/staff", params={"invite": token})
        assert again.status_code == 410 and page_code(again) == "invitation-used"
        assert (await second.get("/api/plans")).status_code == 401


async def test_the_same_link_used_twice_at_once_binds_one_person(
    oidc_live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    newcomer = await add_participant(oidc_live, maria, plan["id"], "service", "To Samtidig")
    token = (await invite(oidc_live, maria, plan["id"], newcomer)).json()["url"].rsplit("/")[-1]
    async with oidc_live.http() as a, oidc_live.http() as b:
        callbacks = [
            await authorize(await start_login(a, "staff", token), login="a", org="1"),
            await authorize(await start_login(b, "staff", token), login="b", org="1"),
        ]
        answers = await asyncio.gather(a.get(callbacks[0]), b.get(callbacks[1]))
        assert sorted(r.status_code for r in answers) == [303, 410]
        winner, loser = (a, b) if answers[0].status_code == 303 else (b, a)
        me = await winner.get("/api/session")
        assert me.status_code == 200, me.text
        person = me.json()["person"]
        plans = (await winner.get("/api/plans")).json()["plans"]
        assert [(p["id"], p["participant"]) for p in plans] == [(plan["id"], newcomer)]
        # The other browser signed in with nothing: no session, or one without the plan.
        other = await loser.get("/api/plans")
        assert other.status_code == 401 or plan["id"] not in str(other.json())
    # In the database: the participant is bound to exactly the winner, and the link was
    # used once, by the winner.
    async with oidc_live.services.sessionmaker() as db:
        row = await db.get(ParticipantRow, newcomer)
        links = (
            (await db.execute(select(Invitation).where(Invitation.participant_id == newcomer)))
            .scalars()
            .all()
        )
        bound = (
            (await db.execute(select(ParticipantRow).where(ParticipantRow.person_id == person)))
            .scalars()
            .all()
        )
    assert row is not None and row.person_id == person
    assert [link.used_by for link in links] == [person] and links[0].used_at is not None
    assert [r.id for r in bound] == [newcomer]


async def test_an_expired_invitation_is_refused(oidc_live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    newcomer = await add_participant(oidc_live, maria, plan["id"], "service", "Kari Sen")
    link = (await invite(oidc_live, maria, plan["id"], newcomer, valid_days=1)).json()["url"]
    oidc_live.clock.advance(24 * 3600 + 1)
    async with oidc_live.http() as browser:
        page = await browser.get(link)
        assert page.status_code == 410 and page_code(page) == "invitation-expired"
        token = link.rsplit("/", 1)[1]
        refused = await browser.get("/auth/login/staff", params={"invite": token})
        assert refused.status_code == 410


async def test_a_revoked_invitation_is_refused_even_mid_sign_in(
    oidc_live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    newcomer = await add_participant(oidc_live, maria, plan["id"], "service", "Rune Tilbake")
    sent = (await invite(oidc_live, maria, plan["id"], newcomer)).json()
    token = sent["url"].rsplit("/", 1)[1]
    async with oidc_live.http() as browser:
        callback = await authorize(
            await start_login(browser, "staff", token), login="rune", org="1"
        )
        async with oidc_live.http(maria) as api:
            revoked = await api.delete(f"/api/plans/{plan['id']}/invitations/{sent['id']}")
            assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
            listed = (await api.get(f"/api/plans/{plan['id']}/invitations")).json()
            assert [i["status"] for i in listed["invitations"]] == ["revoked"]
        refused = await browser.get(callback)
        assert refused.status_code == 410 and page_code(refused) == "invitation-revoked"
        assert (await browser.get("/api/plans")).status_code == 401
        page = await browser.get(sent["url"])
        assert page.status_code == 410 and page_code(page) == "invitation-revoked"
    async with oidc_live.services.sessionmaker() as db:
        row = await db.get(ParticipantRow, newcomer)
    assert row is not None and row.person_id is None


async def test_a_new_invitation_replaces_the_open_one(oidc_live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    newcomer = await add_participant(oidc_live, maria, plan["id"], "service", "Dobbel")
    old = (await invite(oidc_live, maria, plan["id"], newcomer)).json()["url"]
    new = (await invite(oidc_live, maria, plan["id"], newcomer)).json()["url"]
    async with oidc_live.http() as browser:
        assert page_code(await browser.get(old)) == "invitation-revoked"
        assert (await browser.get(new)).status_code == 200


async def test_a_citizen_invitation_needs_the_citizen_provider(
    oidc_live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria = demo.token(plan, "maria")
    relative = await add_participant(oidc_live, maria, plan["id"], "relative", "Mor Hansen")
    token = (await invite(oidc_live, maria, plan["id"], relative)).json()["url"].rsplit("/")[-1]
    async with oidc_live.http() as browser:
        page = await browser.get(f"/invite/{token}")
        assert (
            f"/auth/login/citizen?invite={token}" in page.text
            and "/auth/login/staff" not in page.text
        )
        wrong = await browser.get("/auth/login/staff", params={"invite": token})
        assert page_code(wrong) == "invitation-wrong-provider"
        done = await sign_in(browser, "citizen", login="mor", pid="12127012345", invite=token)
        assert done.status_code == 303
        me = (await browser.get("/api/session")).json()
    # The provider sent no name: the person is named as the participant was.
    assert me["name"] == "Mor Hansen"


async def test_only_those_who_manage_the_plan_invite(oidc_live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    newcomer = await add_participant(
        oidc_live, demo.token(plan, "maria"), plan["id"], "service", "Ny"
    )
    refused = await invite(oidc_live, demo.token(plan, "siw"), plan["id"], newcomer)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    stranger = await invite(oidc_live, demo.token(demo.charlotte, "hilde"), plan["id"], newcomer)
    assert stranger.status_code == 404
    owner = await invite(oidc_live, demo.token(plan, "per"), plan["id"], newcomer)
    assert owner.status_code == 201
    bound = await invite(
        oidc_live, demo.token(plan, "per"), plan["id"], demo.person(plan, "siw")["id"]
    )
    assert bound.status_code == 409
    async with oidc_live.http(demo.token(plan, "siw")) as api:
        listed = await api.get(f"/api/plans/{plan['id']}/invitations")
        assert listed.status_code == 403
        invitation = owner.json()["id"]
        revoke = await api.delete(f"/api/plans/{plan['id']}/invitations/{invitation}")
        assert revoke.status_code == 403


async def test_an_unknown_invitation_gives_a_clear_page(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as browser:
        for token in ("inv_" + "x" * 43, "nonsense", "inv_" + "y" * 300):
            page = await browser.get(f"/invite/{token}")
            assert page.status_code == 404 and page_code(page) == "invitation-unknown"
            assert "<script" not in page.text


async def test_invitations_are_rate_limited(
    db_url: str, oidc_providers: Providers, tmp_path: Path
) -> None:
    async with planrom_with(db_url, oidc_providers, tmp_path, rate_invite=(2, 3600.0)) as server:
        demo = await load_demo_into(server)
        plan = demo.per
        maria = demo.token(plan, "maria")
        newcomer = await add_participant(server, maria, plan["id"], "service", "Mange")
        codes = [(await invite(server, maria, plan["id"], newcomer)).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.arrived = asyncio.Event()

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        self.messages.append((list(envelope.rcpt_tos), content))
        self.arrived.set()
        return "250 OK"


async def test_an_invitation_is_mailed_through_smtp(
    db_url: str, oidc_providers: Providers, tmp_path: Path
) -> None:
    inbox = _Inbox()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTPServer(inbox, hostname="localhost"), "127.0.0.1", 0)
    port = smtp.sockets[0].getsockname()[1]
    config = SMTP(host="127.0.0.1", port=port, sender="planrom@kommune.example", security="none")
    try:
        async with planrom_with(db_url, oidc_providers, tmp_path, smtp=config) as server:
            demo = await load_demo_into(server)
            plan = demo.per
            maria = demo.token(plan, "maria")
            newcomer = await add_participant(
                server, maria, plan["id"], "service", "Epost", "epost@example.org"
            )
            sent = (await invite(server, maria, plan["id"], newcomer)).json()
            assert sent["delivery"] == "smtp" and sent["status"] == "open"
            assert "url" not in sent  # the link goes only to the invitee
            assert inbox.messages and inbox.messages[0][0] == ["epost@example.org"]
            letter = message_from_bytes(inbox.messages[0][1], policy=policy.default)
            content = letter.get_body().get_content()  # type: ignore[union-attr]
            link = next(w for w in content.split() if "/invite/inv_" in w)
            async with server.http() as browser:
                token = link.rsplit("/", 1)[1]
                done = await sign_in(browser, "staff", login="epost", org="1", invite=token)
                assert done.status_code == 303
            assert not list(tmp_path.glob("outbox/*.eml"))
    finally:
        smtp.close()
        await smtp.wait_closed()


async def test_an_invitation_that_cannot_be_mailed_is_withdrawn(
    db_url: str, oidc_providers: Providers, tmp_path: Path
) -> None:
    from tests.conftest import free_port

    closed = SMTP(host="127.0.0.1", port=free_port(), security="none")
    async with planrom_with(db_url, oidc_providers, tmp_path, smtp=closed) as server:
        demo = await load_demo_into(server)
        plan = demo.per
        maria = demo.token(plan, "maria")
        newcomer = await add_participant(
            server, maria, plan["id"], "service", "Feil", "feil@example.org"
        )
        sent = (await invite(server, maria, plan["id"], newcomer)).json()
        assert sent["delivery"] == "failed" and sent["status"] == "revoked"
        assert sent.get("url") is None
        async with server.services.sessionmaker() as db:
            row = await db.get(Invitation, sent["id"])
        assert row is not None and row.revoked_at is not None


async def test_the_coordinator_cannot_invite_a_guardian(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    async with live.http(demo.token(plan, "charlotte")) as owner:
        added = await owner.post(
            f"/api/plans/{plan['id']}/participants", json={"role": "guardian", "name": "Mor Berg"}
        )
        assert added.status_code == 201
        guardian = added.json()["id"]
    async with live.http(demo.token(plan, "hilde")) as coordinator:
        response = await coordinator.post(
            f"/api/plans/{plan['id']}/participants/{guardian}/invite", json={}
        )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_only_the_named_person_can_use_an_owner_invitation(
    oidc_live: LiveServer, demo: Demo
) -> None:
    maria = demo.token(demo.per, "maria")
    async with oidc_live.http(maria) as api:
        created = await api.post(
            "/api/plans", json={"title": "Olas plan", "as": "coordinator", "owner_name": "Ola"}
        )
        assert created.status_code == 201
        plan = created.json()
    owner = next(p for p in plan["participants"] if p["role"] == "owner")
    unnamed = await invite(oidc_live, maria, plan["id"], owner["id"])
    assert unnamed.status_code == 400 and unnamed.json()["error"]["field"] == "national_id"
    assert "fødselsnummeret" in unnamed.json()["error"]["message"]
    made = await invite(oidc_live, maria, plan["id"], owner["id"], national_id="01017012345")
    assert made.status_code == 201, made.text
    token = made.json()["url"].rsplit("/")[-1]
    # Someone else with a citizen identity (the coordinator's own, say) is turned away.
    async with oidc_live.http() as browser:
        wrong = await sign_in(browser, "citizen", login="annen", pid="02028012345", invite=token)
        assert page_code(wrong) == "invitation-wrong-person"
        assert (await browser.get("/api/session")).status_code == 401
    async with oidc_live.http() as browser:
        right = await sign_in(browser, "citizen", login="ola", pid="01017012345", invite=token)
        assert right.status_code == 303
        me = (await browser.get("/api/session")).json()
        assert plan["id"] in me["plans"]
