"""The coordinating unit's page on a desktop and a phone: counts, every plan by a neutral
reference, caseload and trends, the CSV link; no plan content anywhere on the page or on
the wire; axe-clean; no sideways scroll on a phone. Screenshots:
tests/artifacts/screenshots/unit-desktop.png, unit-phone.png."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import PHONE, Browsers

DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.timeout(120)
async def test_the_unit_page(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    demo = demo_sqlite
    token = demo.data["unit"]["token"]
    desk = await browsers.new(DESKTOP)
    await desk.sign_in(token)
    await desk.go("/enhet")
    await expect(desk.page.locator("main h1")).to_have_text("Oversikt for koordinerende enhet")
    await expect(desk.page.locator(".unit-counts li").first).to_contain_text("aktive planer")
    plans = desk.page.locator("table.unit-table").first.locator("tbody tr")
    await expect(plans).to_have_count(2)
    await expect(plans.first.locator("th")).to_contain_text("IP-")
    await expect(
        desk.page.get_by_role("link", name="Last ned som regneark (CSV)")
    ).to_have_attribute("href", "/api/unit/export")
    # Appoint a coordinator for the first plan, recording the owner's wish.
    await desk.page.get_by_label("Navn på koordinatoren").fill("Eva Ny")
    await desk.page.get_by_label("Planeierens ønske").fill("Ønsker en som kjenner boligen.")
    await desk.page.get_by_role("button", name="Oppnevn", exact=True).click()
    await expect(desk.page.locator(".appoint-form [role=status]")).to_contain_text(
        "Eva Ny er koordinator for IP-"
    )
    assert await desk.axe("unit") == []
    await desk.shot("unit-desktop")
    page_text = await desk.page.evaluate("() => document.body.innerText")
    for secret in (
        "Pers plan",
        "Charlotte",
        "Per Hansen",
        "Siw Nilsen",
        "Berit",
        "DPS",
        "Samtaler",
    ):
        assert secret not in page_text
        assert not desk.wire.contains(secret), secret

    phone = await browsers.new(PHONE, touch=True)
    await phone.sign_in(token)
    await phone.go("/")
    await phone.page.get_by_role("link", name="Koordinerende enhet").tap()
    await phone.page.wait_for_url("**/enhet")
    await expect(phone.page.locator("table.unit-table").first.locator("tbody tr")).to_have_count(2)
    assert await phone.page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert await phone.axe("unit-phone") == []
    await phone.shot("unit-phone")
