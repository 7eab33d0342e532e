"""Starting a plan and its group, in browsers, through the real sign-in: a coordinator on
a desktop starts a plan for a new person, invites NAV and the school (the invitation
e-mails land in the outbox; each link is opened in its own browser and signed in through
the test OpenID provider), sees them as signed in, and the owner signs consent on a phone.
Revoking an invitation, removing someone and handing the coordinator role over work; every
new screen passes axe-core at phone and tablet size and is photographed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer, load_demo_into
from tests.e2e.conftest import CHROMIUM, PHONE, TABLET, Browser, Browsers, dump
from tests.oidc.harness import Providers, planrom_with, providers_running

pytestmark = pytest.mark.node

DESKTOP = {"width": 1366, "height": 900}
TARGETS = (
    "main button, main a.button, main select, "
    "main input:not([type=checkbox]):not([type=radio]):not([type=hidden])"
)
LINK = re.compile(r"http://127\.0\.0\.1:\d+/invite/inv_[A-Za-z0-9_-]+")


@pytest.fixture(scope="module")
def oidc_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    with providers_running(tmp_path_factory.mktemp("oidc")) as providers:
        yield providers


@pytest.fixture
async def server(
    sqlite_url: str, oidc_providers: Providers, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    async with planrom_with(sqlite_url, oidc_providers, tmp_path) as live:
        yield live


@pytest.fixture
async def pool(web_dist: Path, server: LiveServer) -> AsyncIterator[Browsers]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        browsers = Browsers(server, chromium)
        try:
            yield browsers
        finally:
            await browsers.close()
            await chromium.close()


def letters_to(server: LiveServer, address: str) -> list[str]:
    """The invitation links in the outbox's letters to ``address``, oldest first."""
    links = []
    for path in sorted(server.settings.outbox_dir.glob("*.eml")):
        letter = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        if letter["To"] == address:
            body = letter.get_body()
            assert body is not None
            links += LINK.findall(body.get_content())  # type: ignore[attr-defined]
    return links


async def accept(
    browser: Browser, link: str, *, login: str, name: str, org: str = "", pid: str = ""
) -> None:
    """Open an invitation link, sign in at the provider, land in Planrom."""
    await browser.page.goto(link)
    await expect(browser.page.locator("h1")).to_have_text("Invitasjon til Planrom")
    await browser.page.locator("a", has_text="Logg inn med").first.click()
    await browser.page.locator("input[name=login]").fill(login)
    await browser.page.locator("input[name=name]").fill(name)
    if org:
        await browser.page.locator("input[name=org]").fill(org)
    if pid:
        await browser.page.locator("input[name=pid]").fill(pid)
    await browser.page.get_by_role("button", name="Sign in").click()
    await browser.page.wait_for_selector("#save-status")


async def check_screen(browser: Browser, name: str) -> None:
    """axe-core at phone and tablet size (zero serious or critical), no sideways scroll on
    the phone, and a screenshot at each size."""
    page = browser.page
    for size, label in ((PHONE, "phone"), (TABLET, "tablet")):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(50)  # a layout pass after the resize
        bad = await browser.axe(f"{name}-{label}")
        assert not bad, f"{name} at {label}: {dump(bad)}"
        wide = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0, f"{name} scrolls sideways by {wide}px at {label}"
        small = await page.evaluate(
            """() => [...document.querySelectorAll(TARGETS)]
               .filter(e => e.offsetParent !== null)
               .filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 })
               .map(e => e.outerHTML.slice(0, 80))""".replace("TARGETS", repr(TARGETS))
        )
        assert not small, f"{name} at {label}: targets under 44px: {small}"
        await browser.shot(f"{name}-{label}")


@pytest.mark.timeout(240)
async def test_a_coordinator_starts_a_plan_invites_the_group_and_the_owner_consents(
    pool: Browsers, server: LiveServer
) -> None:
    demo: Demo = await load_demo_into(server)
    maria = await pool.new(DESKTOP)
    await maria.sign_in(demo.token(demo.per, "maria"))
    page = maria.page

    # "Mine planer" → start a plan.
    await page.get_by_role("link", name="Start en ny plan").click()
    await expect(page.locator("h1")).to_have_text("Start en ny plan")
    await check_screen(maria, "new-plan")
    await page.set_viewport_size(DESKTOP)
    await page.get_by_label("Navnet til den planen er for").fill("Kari Nordmann")
    await page.get_by_label("E-post (valgfritt)").fill("kari@example.org")
    await page.get_by_label("Arbeidssted (valgfritt)").fill("Bydel Nord, koordinerende enhet")
    await page.get_by_role("button", name="Legg til verge eller foresatt").click()
    await page.locator("input[name='guardians.0.name']").fill("Anne Nordmann")
    await page.get_by_label("Planen gjelder fra").fill("2026-12-01")
    await page.get_by_label("Planen gjelder til (valgfritt)").fill("2026-01-01")
    await page.get_by_label("Hvor ofte skal planen evalueres?").select_option("3")
    await page.get_by_label("Rus").uncheck()
    # The server refuses an end before the start, beside the field, in bokmål.
    await page.get_by_role("button", name="Opprett planen").click()
    to_field = page.locator("input[name='period_to']")
    await expect(to_field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".field-error")).to_have_text(
        "Planperioden kan ikke slutte før den begynner."
    )
    await maria.shot("new-plan-field-error-desktop")
    await to_field.fill("2027-12-31")
    await page.get_by_role("button", name="Opprett planen").click()

    # The group, with the consent step first.
    await expect(page.locator("h1")).to_have_text("Ansvarsgruppen")
    plan_id = page.url.rstrip("/").split("/")[-2]
    await expect(page.locator(".consent-step")).to_contain_text("Samtykke mangler")
    members = page.locator(".group-list > li")
    await expect(members).to_have_count(3)  # Kari, Anne (guardian) and Maria
    detail = await page.evaluate("async (id) => (await fetch(`/api/plans/${id}`)).json()", plan_id)
    assert detail["period_to"] == "2027-12-31" and detail["evaluation_months"] == 3
    assert "Rus" not in [s["title"] for s in detail["sections"]]
    assert len(detail["sections"]) == 11

    async def add(name: str, org: str, service: str, email: str) -> Any:
        form = page.locator("form.add-member")
        await form.get_by_label("Navn", exact=True).fill(name)
        await form.get_by_label("Arbeidssted").fill(org)
        await form.get_by_label("Tjeneste").fill(service)
        await form.get_by_label("E-post").fill(email)
        await form.get_by_role("button", name="Legg til").click()
        card = page.locator("article.member", has_text=name)
        await expect(card).to_be_visible()
        await expect(card.locator(".member-state")).to_contain_text("Ikke invitert ennå")
        return card

    async def invite_by_email(card: Any, email: str) -> None:
        await card.get_by_role("button", name="Inviter").click()
        await expect(card.get_by_label("E-postadresse")).to_have_value(email)
        await card.get_by_role("button", name="Lag invitasjonen").click()
        await expect(page.locator("#announcer")).to_contain_text(f"sendt til {email}")

    nav = await add("Nina Nav", "NAV Nord", "Oppfølging", "nina@example.org")
    await invite_by_email(nav, "nina@example.org")
    nav = page.locator("article.member", has_text="Nina Nav")
    await expect(nav.locator(".member-state")).to_contain_text("Invitert – venter")
    school = await add("Sara Skole", "Solbakken skole", "Kontaktlærer", "sara@example.org")
    await school.get_by_role("button", name="Inviter").click()
    await check_screen(maria, "group-invite-form")
    await page.set_viewport_size(DESKTOP)
    await school.get_by_role("button", name="Lag invitasjonen").click()
    await expect(page.locator("#announcer")).to_contain_text("sendt til sara@example.org")

    # The letters are in the outbox; each link opens in its own browser and signs in.
    [nina_link] = letters_to(server, "nina@example.org")
    [sara_link] = letters_to(server, "sara@example.org")
    nina = await pool.new(TABLET)
    await accept(nina, nina_link, login="nina-1", name="Nina Nav", org="889640782")
    sara = await pool.new(TABLET)
    await accept(sara, sara_link, login="sara-1", name="Sara Skole", org="974590123")
    # Signed in, they see the plan exists and nothing of it (nobody has consented yet).
    plans = await nina.page.evaluate("async () => (await fetch('/api/plans')).json()")
    assert [p["id"] for p in plans["plans"]] == [plan_id]

    await page.reload()
    await expect(page.locator("h1")).to_have_text("Ansvarsgruppen")
    for name in ("Nina Nav", "Sara Skole"):
        state = page.locator("article.member", has_text=name).locator(".member-state")
        await expect(state).to_have_text("Har logget inn")
    await check_screen(maria, "group-coordinator")

    # The owner is invited by e-mail, bound to her fødselsnummer, and signs on a phone.
    await page.set_viewport_size(DESKTOP)
    kari_card = page.locator("article.member", has_text="Kari Nordmann")
    await kari_card.get_by_role("button", name="Inviter").click()
    await kari_card.get_by_role("button", name="Lag invitasjonen").click()
    await expect(kari_card.locator(".field-error")).to_have_text("Fødselsnummeret må ha 11 siffer.")
    await kari_card.get_by_label("Fødselsnummer (11 siffer)").fill("010203 12345")
    await kari_card.get_by_role("button", name="Lag invitasjonen").click()
    await expect(page.locator("#announcer")).to_contain_text("sendt til kari@example.org")
    [kari_link] = letters_to(server, "kari@example.org")
    kari = await pool.new(PHONE, touch=True)
    await accept(kari, kari_link, login="kari-1", name="Kari Nordmann", pid="01020312345")
    await kari.go(f"/plan/{plan_id}/gruppe")
    await expect(kari.page.locator(".consent-step")).to_contain_text("Samtykke mangler")
    await kari.page.get_by_role("link", name="Bestem hvem som får se hva, og signer").click()
    await expect(kari.page.locator("h1")).to_have_text("Samtykke")
    await kari.page.get_by_label("Vis valgene for").select_option(label="Nina Nav (Oppfølging)")
    card = kari.page.locator("fieldset.consent-card:visible")
    await card.get_by_label("Arbeid og aktivitet").select_option("read")
    purpose = kari.page.get_by_label("Formål – hva skal opplysningene brukes til")
    await purpose.fill("Samarbeid om arbeid og skole")
    await kari.page.get_by_label("Jeg har lest hva hver person vil se").check()
    await kari.page.get_by_role("button", name="Signer samtykket").click()
    await expect(kari.page.locator("#announcer")).to_contain_text("signert")
    # Nina now reads what Kari granted, and only that.
    await nina.go(f"/plan/{plan_id}")
    await expect(nina.page.locator("section.plan-section")).to_have_count(1)
    await expect(nina.page.locator("section.plan-section h2")).to_have_text("Arbeid og aktivitet")

    # Revoke an invitation (the link stops working), then remove the person.
    await page.reload()
    await expect(page.locator(".consent-step")).to_have_count(0)
    temp = await add("Tom Vikar", "Helsestasjonen", "Vikar", "tom@example.org")
    await temp.get_by_role("button", name="Inviter").click()
    await temp.get_by_label("Vis lenken, så gir jeg den videre selv").check()
    await temp.get_by_role("button", name="Lag invitasjonen").click()
    shown = temp.locator("input.invite-link")
    await expect(shown).to_have_value(LINK)
    tom_link = await shown.input_value()
    assert letters_to(server, "tom@example.org") == []  # shown, not mailed
    await check_screen(maria, "group-invite-link")
    await page.set_viewport_size(DESKTOP)
    await temp.get_by_role("button", name="Ferdig").click()
    temp = page.locator("article.member", has_text="Tom Vikar")
    await temp.get_by_role("button", name="Trekk tilbake invitasjonen").click()
    await expect(page.locator("#announcer")).to_contain_text("trukket tilbake")
    temp = page.locator("article.member", has_text="Tom Vikar")
    await expect(temp.locator(".member-state")).to_have_text("Invitasjonen er trukket tilbake")
    stranger = await pool.new(TABLET)
    await stranger.page.goto(tom_link)
    await expect(stranger.page.locator("h1")).to_have_text("Invitasjonen er trukket tilbake")
    # Sent again: a new link, the old one stays dead.
    await temp.get_by_role("button", name="Send ny invitasjon").click()
    await temp.get_by_label("Vis lenken, så gir jeg den videre selv").check()
    await temp.get_by_role("button", name="Lag invitasjonen").click()
    await expect(temp.locator(".member-state")).to_contain_text("Invitert – venter")
    second_link = await temp.locator("input.invite-link").input_value()
    assert LINK.fullmatch(second_link) and second_link != tom_link
    await temp.get_by_role("button", name="Ferdig").click()
    temp = page.locator("article.member", has_text="Tom Vikar")
    await temp.get_by_role("button", name="Fjern fra gruppen").click()
    await expect(temp.locator(".confirm-text")).to_have_text("Vil du fjerne Tom Vikar fra gruppen?")
    await check_screen(maria, "group-remove-confirm")
    await page.set_viewport_size(DESKTOP)
    await temp.get_by_role("button", name="Avbryt").click()
    await expect(temp.locator(".confirm")).to_have_count(0)
    await expect(temp).to_be_visible()
    await temp.get_by_role("button", name="Fjern fra gruppen").click()
    await temp.get_by_role("button", name="Ja, fjern Tom Vikar").click()
    await expect(page.locator("#announcer")).to_contain_text("Tom Vikar er fjernet")
    await expect(page.locator("article.member", has_text="Tom Vikar")).to_have_count(0)
    # A removed person's link grants nothing.
    await stranger.page.goto(second_link)
    await expect(stranger.page.locator("h1")).to_have_text("Invitasjonen gjelder ikke lenger")

    # Kari keeps Sara from the rest of the group: Kari's screen says so, Maria's never
    # shows Sara (a screen shows only whom its reader may know of).
    sara_id = await page.locator("article.member", has_text="Sara Skole").get_attribute(
        "data-participant"
    )
    hidden = await kari.page.evaluate(
        """async ([plan, who]) => {
            const { csrf } = await (await fetch('/api/session')).json()
            const r = await fetch(`/api/plans/${plan}/participants/${who}`, {
              method: 'PATCH', body: JSON.stringify({ hidden: true }),
              headers: { 'content-type': 'application/json', 'x-csrf-token': csrf } })
            return r.status
        }""",
        [plan_id, sara_id],
    )
    assert hidden == 200
    await kari.go(f"/plan/{plan_id}/gruppe")
    await expect(kari.page.locator("article.member", has_text="Sara Skole")).to_contain_text(
        "Vises ikke for resten av gruppen."
    )
    await page.reload()
    await expect(page.locator("h1")).to_have_text("Ansvarsgruppen")
    await expect(page.locator("article.member", has_text="Nina Nav")).to_be_visible()
    await expect(page.locator("article.member", has_text="Sara Skole")).to_have_count(0)
    assert "Sara Skole" not in await page.content()

    # Handing the coordinator role over is the owner's: Maria is told to ask; Kari does it.
    mine = page.locator("article.member", has_text="Maria Olsen")
    await expect(mine).to_contain_text("Det bestemmer planeieren")
    await expect(mine.get_by_role("button", name="Bytt koordinator")).to_have_count(0)
    await kari.go(f"/plan/{plan_id}/gruppe")
    coordinator = kari.page.locator("article.member", has_text="Maria Olsen")
    await coordinator.get_by_role("button", name="Bytt koordinator").click()
    await coordinator.get_by_label("Navnet til den nye koordinatoren").fill("Tor Ny")
    await check_screen(kari, "group-owner-replace-coordinator")
    await kari.page.set_viewport_size(PHONE)
    await coordinator.get_by_role("button", name="Gi koordinatorrollen videre").click()
    await expect(kari.page.locator("#announcer")).to_contain_text("Tor Ny er ny koordinator")
    await expect(kari.page.locator("article.member", has_text="Maria Olsen")).to_have_count(0)
    await expect(kari.page.locator("article.member", has_text="Tor Ny")).to_contain_text(
        "Koordinator"
    )
    # An owner starts a plan for herself: the consent step is hers to sign.
    await kari.go("/")
    await kari.page.get_by_role("link", name="Start en ny plan").click()
    await kari.page.get_by_label("Meg selv").check()
    await expect(kari.page.get_by_label("Navnet til den planen er for")).to_be_hidden()
    await kari.page.get_by_role("button", name="Opprett planen").click()
    await expect(kari.page.locator("h1")).to_have_text("Ansvarsgruppen")
    await expect(kari.page.locator(".group-list > li")).to_have_count(1)
    await expect(kari.page.locator(".member-name")).to_have_text("Kari Nordmann (deg) Planeier")
    await expect(
        kari.page.get_by_role("link", name="Bestem hvem som får se hva, og signer")
    ).to_be_visible()
    await expect(kari.page.locator(".add-member select[name=role] option")).to_have_count(4)
    await check_screen(kari, "group-owner-own-plan")
    # The same screen in nynorsk and English.
    for lang, heading in (("nn", "Ansvarsgruppa"), ("en", "The responsibility group")):
        await kari.page.select_option("#lang", lang)
        await expect(kari.page.locator("h1")).to_have_text(heading)
    await kari.page.select_option("#lang", "nb")
    for browser in (maria, nina, sara, kari):
        assert not browser.csp_errors(), browser.csp_errors()
