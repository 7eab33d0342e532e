"""Every screen at tablet and phone size: no serious or critical axe-core violations,
a screenshot each (tests/artifacts/screenshots/), keyboard focus visible, the three
languages, and the first-load figures (tests/artifacts/perf.json)."""

from __future__ import annotations

import gzip
import json
import statistics
from datetime import timedelta

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import DIST, PHONE, ROOT, TABLET, Browsers, dump


@pytest.mark.timeout(150)
@pytest.mark.parametrize("size", ["tablet", "phone"])
async def test_each_screen_is_accessible_and_photographed(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo, size: str
) -> None:
    demo = demo_sqlite
    viewport = TABLET if size == "tablet" else PHONE
    plan = demo.per
    problems: dict[str, object] = {}

    owner = await browsers.new(viewport, touch=size == "phone")
    await owner.page.goto(live_sqlite.url + "/")
    await expect(owner.page.locator("h1")).to_have_text("Logg inn i Planrom")
    assert owner.page.url.endswith("/logg-inn")
    await owner.shot(f"signin-{size}")
    problems["signin"] = await owner.axe("signin")

    await owner.sign_in(demo.token(plan, "per"))
    await expect(owner.page.locator("h1")).to_have_text("Mine planer")
    await expect(owner.page.locator(".plan-card")).to_contain_text("Maria Olsen")
    await owner.shot(f"home-owner-{size}")
    problems["home"] = await owner.axe("home")

    screens = {
        "plan": (f"/plan/{plan['id']}", "section.plan-section textarea"),
        "meetings": (f"/plan/{plan['id']}/moter", "form.schedule-form"),
        # The grid on a tablet, one card per person on a phone (both in the form).
        "consent": (f"/plan/{plan['id']}/samtykke", "form.consent-form"),
        "access-log": (f"/plan/{plan['id']}/innsyn", "ol.log-lines li"),
    }
    for name, (path, ready) in screens.items():
        # Navigate inside the app (History API), as a person would.
        await owner.page.evaluate(
            "(p) => { history.pushState({}, '', p); dispatchEvent(new PopStateEvent('popstate')) }",
            path,
        )
        await owner.page.wait_for_selector(ready)
        if name == "plan":
            await expect(owner.page.locator("#save-status")).to_have_text("Lagret")
        await owner.shot(f"{name}-{size}")
        problems[name] = await owner.axe(name)

    # An overdue evaluation is flagged first on the coordinator's page.
    bus = next(m for m in plan["measures"] if m["title"].startswith("Følge Per"))
    yesterday = (live_sqlite.clock() - timedelta(days=1)).date().isoformat()
    async with live_sqlite.http(demo.token(plan, "maria")) as maria:
        patched = await maria.patch(
            f"/api/plans/{plan['id']}/measures/{bus['id']}", json={"evaluate_by": yesterday}
        )
        assert patched.status_code == 200, patched.text
    coordinator = await browsers.new(viewport)
    await coordinator.sign_in(demo.token(plan, "maria"))
    await expect(coordinator.page.locator(".plan-card")).to_have_count(1)
    await expect(coordinator.page.locator(".plan-card.urgent .overdue-list")).to_contain_text(
        "Følge Per til bussen"
    )
    await coordinator.shot(f"home-coordinator-{size}")
    problems["home-coordinator"] = await coordinator.axe("home-coordinator")

    bad = {k: v for k, v in problems.items() if v}
    assert not bad, dump(bad)
    assert not owner.csp_errors(), owner.csp_errors()


async def test_keyboard_languages_and_links(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    demo = demo_sqlite
    plan = demo.per
    me = await browsers.new(TABLET)
    await me.sign_in(demo.token(plan, "per"))
    # The first Tab reaches the skip link, which is visible when focused.
    await me.page.keyboard.press("Tab")
    skip = me.page.get_by_role("link", name="Hopp til innholdet")
    await expect(skip).to_be_focused()
    assert (await skip.bounding_box() or {}).get("y", -1) >= 0
    outline = await skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    # Links route inside the app.
    await me.page.get_by_role("link", name="Åpne planen").click()
    await expect(me.page.locator("h1")).to_have_text("Pers plan")
    await me.page.go_back()
    await expect(me.page.locator("h1")).to_have_text("Mine planer")
    # Nynorsk and English.
    await me.page.get_by_label("Språk").select_option("nn")
    await expect(me.page.locator("h1")).to_have_text("Planane mine")
    assert await me.page.evaluate("document.documentElement.lang") == "nn"
    await me.page.get_by_label("Språk").select_option("en")
    await expect(me.page.locator("h1")).to_have_text("My plans")
    await me.page.reload()
    await expect(me.page.locator("h1")).to_have_text("My plans")
    await me.page.get_by_label("Language").select_option("nb")
    await expect(me.page.locator("h1")).to_have_text("Mine planer")
    # Touch targets: every button and link in the top bar and the plan nav is ≥ 44 px.
    await me.go(f"/plan/{plan['id']}")
    small = await me.page.evaluate("""() => [...document.querySelectorAll(
        'header a, header button, header select, .subnav a, main button, main select, main input')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.textContent.trim() || e.name || e.type, e.getBoundingClientRect().height])
        .filter(([, h]) => h < 44)""")
    assert not small, small


async def test_bundle_size_and_first_load(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    demo = demo_sqlite
    plan = demo.per
    loads = []
    for _ in range(5):
        fresh = await browsers.new(TABLET)  # a new context: cold cache every time
        await fresh.sign_in(demo.token(plan, "per"))
        await fresh.page.goto(f"{live_sqlite.url}/plan/{plan['id']}")
        await fresh.page.wait_for_selector("section.plan-section textarea")
        await expect(fresh.page.locator("#save-status")).to_have_text("Lagret")
        timing = await fresh.page.evaluate("""() => {
            const n = performance.getEntriesByType('navigation')[0];
            return {dom_content_loaded_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd,
                    plan_ready_ms: performance.now()};
        }""")
        loads.append(timing)
        await fresh.context.close()
        browsers.opened.remove(fresh)
    app = (DIST / "app.js").read_bytes()
    css = (DIST / "app.css").read_bytes()
    figures = {
        "app_js_bytes": len(app),
        "app_js_gzip_bytes": len(gzip.compress(app, 9)),
        "app_css_bytes": len(css),
        "app_css_gzip_bytes": len(gzip.compress(css, 9)),
        "median_dom_content_loaded_ms": round(
            statistics.median(x["dom_content_loaded_ms"] for x in loads), 1
        ),
        "median_load_ms": round(statistics.median(x["load_ms"] for x in loads), 1),
        "median_plan_synced_ms": round(statistics.median(x["plan_ready_ms"] for x in loads), 1),
        "loads": loads,
    }
    out = ROOT / "tests" / "artifacts" / "perf.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=1))
    print(json.dumps({k: v for k, v in figures.items() if k != "loads"}))
    assert figures["app_js_gzip_bytes"] < 150_000
    assert figures["median_load_ms"] < 3000
