"""The access log screen at phone size: a one-hour meeting reads as grouped changes, the
owner's own views are folded away (a toggle shows them), the person filter and "Vis
flere" work, the export links carry the same filters, no sideways scroll, axe-clean.
Screenshot: tests/artifacts/screenshots/access-log-grouped-phone.png."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from server.auth.identity import issue_token
from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import PHONE, Browsers, dump
from tests.integration.test_access_log_view import one_hour_meeting
from tests.integration.test_guardian_until import add_guardian, born_days_before_adult

HOUR = 3600


async def fresh_token(live: LiveServer, person: str) -> str:
    from datetime import timedelta

    async with live.services.sessionmaker() as s, s.begin():
        return await issue_token(s, person, kind="demo", ttl=timedelta(days=30), now=live.clock())


@pytest.mark.timeout(150)
async def test_the_access_log_on_a_phone(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    plan = await one_hour_meeting(live, demo)
    # Earlier days: Maria opened the plan once an hour for a day and a half, so the log
    # has more lines than one page.
    maria = await fresh_token(live, demo.person(plan, "maria")["person"])
    for _ in range(36):
        live.clock.advance(-HOUR)
        async with live.http(maria) as client:
            assert (await client.get(f"/api/plans/{plan['id']}")).status_code == 200
    live.clock.advance(36 * HOUR)

    owner = await browsers.new(PHONE, touch=True)
    await owner.sign_in(await fresh_token(live, demo.person(plan, "per")["person"]))
    await owner.go(f"/plan/{plan['id']}/innsyn")
    lines = owner.page.locator("ol.log-lines > li")
    await expect(lines.first).to_be_visible()
    text = owner.page.locator("ol.log-lines")
    await expect(text).to_contain_text("Maria Olsen endret «Arbeid og aktivitet» 14 ganger")
    await expect(text).to_contain_text("Siw Nilsen endret «Økonomi» 9 ganger")
    await expect(text).to_contain_text("ifølge samtykke versjon")
    await expect(text).not_to_contain_text("Per Hansen åpnet")
    await expect(owner.page.locator(".log-folded")).to_contain_text(
        "av dine egne visninger er skjult"
    )
    assert await lines.count() == 30
    # No sideways scroll on a phone.
    assert await owner.page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
    )
    await owner.shot("access-log-grouped-phone")
    problems = {"access-log-phone": await owner.axe("access-log-phone")}

    more = owner.page.get_by_role("button", name="Vis flere")
    await more.click()
    await expect(lines.nth(30)).to_be_visible()
    assert 30 < await lines.count() <= 60

    # The toggle shows the owner's own views.
    await owner.page.get_by_label("Vis mine egne visninger").check()
    await expect(text).to_contain_text(re.compile(r"Per Hansen åpnet planen \d+ ganger"))
    await expect(owner.page.locator(".log-folded")).to_have_text("")

    # Filter by person: only Siw's lines; the export links carry the filter.
    siw = demo.person(plan, "siw")["id"]
    await owner.page.get_by_label("Person").select_option(siw)
    await expect(text).not_to_contain_text("Maria Olsen")
    await expect(text).to_contain_text("Siw Nilsen endret «Økonomi»")
    csv_link = owner.page.get_by_role("link", name="Last ned som regneark (CSV)")
    assert f"person={siw}" in (await csv_link.get_attribute("href") or "")
    pdf_link = owner.page.get_by_role("link", name="Last ned som PDF")
    assert "format=pdf" in (await pdf_link.get_attribute("href") or "")
    problems["access-log-filtered"] = await owner.axe("access-log-filtered")
    assert await owner.page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
    )
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, dump(bad)
    assert not owner.csp_errors(), owner.csp_errors()


@pytest.mark.timeout(120)
async def test_the_owner_is_asked_what_a_guardian_keeps_on_the_home_screen(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    plan = demo.per
    guardian, _ = await add_guardian(live, demo, plan)
    ends = await born_days_before_adult(live, demo, plan, 12)
    owner = await browsers.new(PHONE, touch=True)
    await owner.sign_in(demo.token(plan, "per"))
    notice = owner.page.locator("section.guardian-notice")
    await expect(notice).to_contain_text("Hva skal Mor Hansen beholde?")
    await expect(notice).to_contain_text("12 dager igjen")
    await expect(owner.page.locator(".plan-card")).to_have_count(1)
    await owner.shot("home-guardian-notice-phone")
    problems = await owner.axe("home-guardian-notice")
    assert not problems, dump(problems)
    await notice.get_by_role("button", name="Full tilgang ett år til").click()
    await expect(notice.get_by_role("status")).to_have_text("Takk, svaret ditt er lagret.")
    async with live.http(demo.token(plan, "per")) as per:
        asked = (await per.get("/api/guardian-notices")).json()["notices"]
        people = (await per.get(f"/api/plans/{plan['id']}/participants")).json()
    assert asked == []
    assert any(p["id"] == guardian for p in people["participants"])
    assert ends  # the date the question was about
