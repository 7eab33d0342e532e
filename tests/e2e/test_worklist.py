"""The worklist on a tablet: a coordinator with 40 plans sees what needs doing, most
urgent first, narrows it to one plan, and reaches the overdue measure in one tap.
Screenshots: tests/artifacts/screenshots/worklist-tablet.png, worklist-phone.png,
worklist-measure-tablet.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import expect

from server.auth.identity import issue_token
from server.db import repo
from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import PHONE, TABLET, Browsers, dump

DAY = 24 * 3600


@pytest.mark.timeout(180)
async def test_the_worklist_with_40_plans_on_a_tablet(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    per = demo.per
    maria = demo.person(per, "maria")["person"]
    # 39 more plans Maria has started (waiting for their owners' consent).
    async with live.services.sessionmaker() as s, s.begin():
        for n in range(1, 40):
            await repo.create_plan(
                s,
                title=f"Plan nr. {n:02d}",
                owner_name=f"Person {n:02d}",
                owner_person=None,
                coordinator={"name": "Maria Olsen"},
                coordinator_person=maria,
                period_from=live.clock().date(),
                evaluation_months=6,
                by=maria,
                at=live.clock(),
            )
    # Seven months on, Per's measures are past their evaluation date.
    live.clock.advance(200 * DAY)
    async with live.services.sessionmaker() as s, s.begin():
        token = await issue_token(s, maria, kind="demo", ttl=timedelta(days=2), now=live.clock())

    tablet = await browsers.new(TABLET, touch=True)
    await tablet.sign_in(token)
    await tablet.go("/arbeidsliste")
    lead = tablet.page.locator("main .lead")
    await expect(lead).to_contain_text("av dine 40 planer")
    rows = tablet.page.locator(".worklist-row")
    assert await rows.count() >= 40
    # One card per plan; Per's (with overdue measures) among the urgent ones.
    cards = tablet.page.locator("section.worklist-plan")
    await expect(cards).to_have_count(40)
    per_card = cards.filter(has=tablet.page.locator("h2", has_text="Pers plan"))
    measure_row = per_card.locator(".worklist-row.urgency-2", has_text="ansvarlig:").first
    await expect(measure_row).to_contain_text("skulle vært evaluert")
    await expect(measure_row).to_contain_text("Haster")
    # Reminders: the inbox and the choice of channel, saved.
    await expect(tablet.page.locator(".inbox h2")).to_contain_text("Påminnelser")
    await tablet.page.get_by_label("Bare her i Planrom").check()
    await expect(tablet.page.locator(".inbox [role=status]")).to_have_text("Valget ditt er lagret.")
    async with live.http(token) as http:
        assert (await http.get("/api/inbox")).json()["channel"] == "in-app"
    assert await tablet.axe("worklist") == []
    await tablet.shot("worklist-tablet")

    # Narrow to Per's plan, then one tap to the measure.
    await tablet.page.locator("#worklist-urgent").check()
    await expect(rows.filter(has_text="Snart")).to_have_count(0)
    await tablet.page.select_option("#worklist-plan", label="Pers plan")
    await expect(cards).to_have_count(1)
    title = (await measure_row.locator(".worklist-what").inner_text()).split("»")[0].lstrip("«")
    await measure_row.locator("a").tap()
    await tablet.page.wait_for_url("**/plan/*?tiltak=*")
    asked = tablet.page.locator("article.measure.asked")
    await expect(asked).to_be_visible()
    await expect(asked.locator(".measure-title")).to_have_text(title)
    await expect(asked).to_be_focused()
    await tablet.shot("worklist-measure-tablet")

    phone = await browsers.new(PHONE, touch=True)
    async with live.services.sessionmaker() as s, s.begin():
        token = await issue_token(s, maria, kind="demo", ttl=timedelta(days=2), now=live.clock())
    await phone.sign_in(token)
    await phone.go("/")
    # On a phone the header's links are folded away: the home screen leads there.
    await phone.page.get_by_role("link", name="Se alt du skal følge opp").tap()
    await phone.page.wait_for_url("**/arbeidsliste")
    await expect(phone.page.locator(".worklist-row").first).to_be_visible()
    assert await phone.page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert await phone.axe("worklist-phone") == []
    await phone.shot("worklist-phone")
    assert tablet.csp_errors() == [] and phone.csp_errors() == [], dump(tablet.errors)
