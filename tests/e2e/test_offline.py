"""Going offline in one browser, typing, coming back: the text arrives everywhere."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import PHONE, TABLET, Browsers

OFFLINE = "Ikke på nett – endringene sendes når du er tilkoblet"


@pytest.mark.timeout(120)
async def test_text_typed_offline_arrives_after_reconnecting(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    demo = demo_sqlite
    plan = demo.per
    about = demo.section(plan, "om-meg")
    per = await browsers.new(PHONE, touch=True)
    maria = await browsers.new(TABLET)
    await per.sign_in(demo.token(plan, "per"))
    await maria.sign_in(demo.token(plan, "maria"))
    await per.go(f"/plan/{plan['id']}")
    await maria.go(f"/plan/{plan['id']}")
    field = f"section[data-section='{about['id']}'] textarea[data-field='situation']"
    per_field = per.page.locator(field)
    maria_field = maria.page.locator(field)
    await expect(per_field).to_be_editable()
    await expect(maria_field).to_be_editable()
    original = await per_field.input_value()
    assert original.startswith("Jeg er 47 år")
    # Both see each other.
    await expect(per.page.locator(".presence")).to_contain_text("Maria Olsen")

    await per.context.set_offline(True)
    await expect(per.page.locator("#save-status")).to_have_text(OFFLINE)
    await per.shot("plan-phone-offline")
    await per_field.click()
    await per_field.press("End")
    await per_field.press_sequentially(" Jeg vil på ferie til Kreta.")
    # Meanwhile Maria types at the start; both changes must survive.
    await maria_field.click()
    await maria_field.press("Control+Home")
    await maria_field.press_sequentially("Om Per: ")
    await expect(maria.page.locator("#save-status")).to_have_text("Lagret")
    await expect(per.page.locator("#save-status")).to_have_text(OFFLINE)
    assert "Kreta" not in await maria_field.input_value()

    await per.context.set_offline(False)
    expected = "Om Per: " + original + " Jeg vil på ferie til Kreta."
    await expect(per.page.locator("#save-status")).to_have_text("Lagret", timeout=15000)
    await expect(maria_field).to_have_value(expected, timeout=10000)
    await expect(per_field).to_have_value(expected)

    # A browser that opens the plan afterwards gets the same text from the server.
    ali = await browsers.new(TABLET)
    await ali.sign_in(demo.token(plan, "ali"))
    await ali.go(f"/plan/{plan['id']}")
    await expect(ali.page.locator(field)).to_have_value(expected)
    await expect(ali.page.locator(field)).not_to_be_editable()
    for browser in (per, maria, ali):
        assert not browser.csp_errors(), browser.csp_errors()
