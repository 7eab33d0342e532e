"""A section archived while someone has it open becomes read-only on their page at once
(``doc:access``), and writable again when it is brought back, without a reload."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import TABLET, Browsers


@pytest.mark.timeout(120)
async def test_an_archived_section_turns_read_only_on_an_open_page(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    demo = demo_sqlite
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")
    berit = await browsers.new(TABLET)
    await berit.sign_in(demo.token(plan, "berit"))
    await berit.go(f"/plan/{plan['id']}")
    area = berit.page.locator(f"section[data-section='{therapy['id']}'] textarea").first
    await expect(area).to_have_value("Samtaler hos DPS annenhver uke.")
    await expect(area).to_be_editable()

    url = f"/api/plans/{plan['id']}/sections/{therapy['id']}"
    async with live_sqlite.http(demo.token(plan, "charlotte")) as charlotte:
        assert (await charlotte.patch(url, json={"archived": True})).status_code == 200
        await expect(area).not_to_be_editable(timeout=2000)
        await expect(area).to_have_value("Samtaler hos DPS annenhver uke.")  # still shown
        await expect(berit.page.locator("#announcer")).to_contain_text("bare leses")
        assert (await charlotte.patch(url, json={"archived": False})).status_code == 200
        await expect(area).to_be_editable(timeout=2000)
    await area.press("End")
    await area.type(" Ny time i januar.")
    await expect(berit.page.locator("#save-status")).to_have_text("Lagret")
    assert not berit.csp_errors(), berit.csp_errors()
