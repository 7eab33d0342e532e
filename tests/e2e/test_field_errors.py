"""A refusal from the server is shown beside the field it is about, in the error colour
and the page's language, and tied to the field for screen readers."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import TABLET, Browsers
from tests.integration.test_meetings import Person


@pytest.mark.timeout(120)
async def test_a_past_next_meeting_is_refused_beside_the_date_field(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    plan = demo_sqlite.per
    mid = plan["meetings"][0]["id"]
    per = await Person(live_sqlite, demo_sqlite, plan, "per").start()
    try:
        await per.call("meeting:join", {"meeting": mid})
        started = await per.call("meeting:start", {"meeting": mid})
        assert started["ok"], started
        first = started["state"]["agenda"][0]["id"]
        moved = await per.call("meeting:goto", {"meeting": mid, "item": first})
        assert moved["ok"], moved
    finally:
        await per.close()
    maria = await browsers.new(TABLET)
    await maria.sign_in(demo_sqlite.token(plan, "maria"))
    for lang, expected in (
        ("nb", "Neste møte må være fram i tid."),
        ("nn", "Neste møte må vere fram i tid."),
    ):
        await maria.go(f"/mote/{mid}")
        await maria.page.select_option("#lang", lang)
        await maria.page.locator(".decision-buttons button", has_text="Neste møte").click()
        field = maria.page.locator(".decision-form input[name='starts_at']")
        await field.fill("2020-01-01T10:00")
        await maria.page.locator(".decision-form button[type='submit']").click()
        error = maria.page.locator(".decision-form .field-error")
        await expect(error).to_have_text(expected)
        await expect(field).to_have_attribute("aria-invalid", "true")
        described = await field.get_attribute("aria-describedby") or ""
        assert await error.get_attribute("id") in described.split()
        # Right under the field, in the error colour (--danger), not far away in green.
        color = await error.evaluate("(e) => getComputedStyle(e).color")
        assert color == "rgb(163, 22, 26)", color
        follows = await field.evaluate("(f) => f.nextElementSibling?.className")
        assert follows == "field-error"
        if lang == "nb":
            await maria.shot("field-error-tablet")
    await maria.page.select_option("#lang", "nb")
