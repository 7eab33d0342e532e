"""A newcomer on a phone (375×667): demo sign-in by picking a person, every screen without
sideways scrolling and without serious axe-core findings, consent one person at a time;
the HTML minutes styled under the CSP; the calendar link opens the meeting. Outside demo
mode there is no demo sign-in, on the page or at the server."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer, start_server, test_settings
from tests.e2e.conftest import Browsers, dump
from tests.integration.test_minutes_texts import every_decision

SMALL_PHONE = {"width": 375, "height": 667}

NO_SIDEWAYS = """() => {
  const el = document.scrollingElement
  // The elements that stick out on the right, to say what to fix when one does.
  const out = [...document.body.querySelectorAll('*')]
    .filter((e) => e.getBoundingClientRect().right > el.clientWidth + 0.5)
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`)
  return {scroll: el.scrollWidth, client: el.clientWidth, out}
}"""


async def no_sideways_scroll(page: Any, name: str) -> None:
    size = await page.evaluate(NO_SIDEWAYS)
    assert size["scroll"] <= size["client"], (name, size)


async def visit(page: Any, path: str, ready: str) -> None:
    # Inside the app (History API), as a person moves between screens.
    await page.evaluate(
        "(p) => { history.pushState({}, '', p); dispatchEvent(new PopStateEvent('popstate')) }",
        path,
    )
    await page.wait_for_selector(ready)


@pytest.mark.timeout(150)
async def test_a_newcomer_picks_a_demo_person_and_every_screen_fits_a_phone(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    plan = demo_sqlite.per
    per = demo_sqlite.person(plan, "per")
    phone = await browsers.new(SMALL_PHONE, touch=True)
    page = phone.page
    problems: dict[str, object] = {}

    await page.goto(live_sqlite.url + "/")
    await expect(page.locator("h1")).to_have_text("Logg inn i Planrom")
    demo = page.locator("section.demo-signin")
    await expect(demo.locator("h2")).to_have_text("Prøv Planrom som en av personene")
    # Everyone in the two stories, and the coordinating unit's member.
    await expect(demo.locator("button.demo-person")).to_have_count(
        sum(len(p["participants"]) for p in (demo_sqlite.per, demo_sqlite.charlotte)) + 1
    )
    # No provider is set up in the tests: no button that would lead nowhere.
    await expect(page.locator("a[href^='/auth/login/']")).to_have_count(0)
    await no_sideways_scroll(page, "signin")
    await phone.shot("signin-demo-phone")
    problems["signin"] = await phone.axe("signin")

    await demo.locator(f"button[data-person='{per['person']}']").click()
    await expect(page.locator("h1")).to_have_text("Mine planer")
    await expect(page.locator("#save-status")).to_be_visible()
    await no_sideways_scroll(page, "home")
    await phone.shot("home-compact-header-phone")
    problems["home"] = await phone.axe("home")
    header = await page.locator("header.topbar").bounding_box()
    assert header is not None and header["height"] <= 667 * 0.1, header  # one row

    meeting = plan["meetings"][0]["id"]
    screens = {
        "plan": (f"/plan/{plan['id']}", "section.plan-section textarea"),
        "meetings": (f"/plan/{plan['id']}/moter", "form.schedule-form"),
        "consent": (f"/plan/{plan['id']}/samtykke", ".consent-card:not([hidden])"),
        "access-log": (f"/plan/{plan['id']}/innsyn", "ol.log-lines li"),
        "meeting": (f"/mote/{meeting}", ".meeting-head h1"),
    }
    for name, (path, ready) in screens.items():
        await visit(page, path, ready)
        await no_sideways_scroll(page, name)
        problems[name] = await phone.axe(name)
        if name == "consent":
            # One person at a time: the grid is not shown, one card is.
            await expect(page.locator("table.consent-grid")).to_be_hidden()
            await expect(page.locator(".consent-card:not([hidden])")).to_have_count(1)
            await phone.shot("consent-cards-phone")
            shown = page.locator(".consent-card:not([hidden])")
            first = await shown.get_attribute("data-participant")
            await page.get_by_role("button", name="Neste person").click()
            await expect(shown).not_to_have_attribute("data-participant", first or "")
            await expect(page.locator(".consent-pager")).to_have_text(re.compile(r"^2 av \d+$"))
            # A choice on a card is the grid's choice (the one that is signed).
            second = await shown.get_attribute("data-participant")
            await shown.locator("select").first.select_option("read")
            grid = page.locator(f"table.consent-grid select[data-participant='{second}']").first
            await expect(grid).to_have_value("read")

    # The calendar invitations' older link, /meetings/<id>, opens the meeting too.
    await page.goto(f"{live_sqlite.url}/meetings/{meeting}")
    await page.wait_for_selector(".meeting-head h1")
    await expect(page.locator("main h1")).not_to_have_text("Fant ikke siden")

    bad = {k: v for k, v in problems.items() if v}
    assert not bad, dump(bad)
    assert not phone.csp_errors(), phone.csp_errors()


@pytest.mark.timeout(120)
async def test_the_html_minutes_are_styled_on_a_phone(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    mid, per, maria = await every_decision(live_sqlite, demo_sqlite)
    await per.close()
    await maria.close()
    phone = await browsers.new(SMALL_PHONE, touch=True)
    await phone.sign_in(demo_sqlite.token(demo_sqlite.per, "per"))
    # The minutes screen of the web client fits the phone too, labels once.
    await phone.go(f"/mote/{mid}/referat")
    await expect(phone.page.locator(".minutes-item").first).to_contain_text(
        "Nytt tiltak: «Handle mat sammen»."
    )
    await no_sideways_scroll(phone.page, "minutes")
    bad_screen = await phone.axe("minutes")
    assert not bad_screen, dump(bad_screen)
    await phone.page.goto(f"{live_sqlite.url}/api/meetings/{mid}/minutes?format=html&lang=nb")
    await expect(phone.page.locator("h1")).to_contain_text("Referat")
    style = await phone.page.evaluate(
        """() => {
          const s = getComputedStyle(document.body)
          const dl = getComputedStyle(document.querySelector('dl.meta'))
          return {font: s.fontFamily, height: s.lineHeight, display: dl.display,
                  sheets: document.styleSheets.length}
        }"""
    )
    assert style["sheets"] == 1 and style["display"] == "grid", style
    assert "system-ui" in style["font"], style
    await no_sideways_scroll(phone.page, "minutes-html")
    await phone.shot("minutes-html-styled")
    assert not phone.csp_errors(), phone.csp_errors()
    bad = await phone.axe("minutes-html")
    assert not bad, dump(bad)


async def test_outside_demo_mode_there_is_no_demo_sign_in(
    browsers: Browsers, sqlite_url: str, live_sqlite: LiveServer
) -> None:
    server = await start_server(test_settings(sqlite_url, demo=False))
    try:
        async with server.http() as client:
            listed = await client.get("/api/demo/people")
            assert listed.status_code == 403 and listed.json()["error"]["code"] == "forbidden"
            signed = await client.post("/api/demo/sign-in", json={"person": "abcd1234"})
            assert signed.status_code == 403 and "set-cookie" not in signed.headers
        browser = await browsers.new(SMALL_PHONE)
        await browser.page.goto(server.url + "/")
        await expect(browser.page.locator("h1")).to_have_text("Logg inn i Planrom")
        await expect(browser.page.locator("a[href='/auth/login/citizen']")).to_be_visible()
        await expect(browser.page.locator("section.demo-signin")).to_have_count(0)
        await expect(browser.page.locator("button.demo-person")).to_have_count(0)
    finally:
        await server.stop()
