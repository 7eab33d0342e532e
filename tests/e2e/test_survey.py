"""The owner's verdict on a phone: after a meeting with finalised minutes the owner
answers four questions (a missing answer is pointed out beside its question), shares
them, and the coordinator reads them. axe-clean. Screenshots:
tests/artifacts/screenshots/survey-phone.png, survey-coordinator-tablet.png."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import PHONE, TABLET, Browsers
from tests.integration.test_survey import hold_meeting


@pytest.mark.timeout(120)
async def test_the_owner_answers_the_survey_on_a_phone(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    per = demo.per
    await hold_meeting(live, demo, per, "per", "maria")
    phone = await browsers.new(PHONE, touch=True)
    await phone.sign_in(demo.token(per, "per"))
    await phone.go(f"/plan/{per['id']}/moter")
    card = phone.page.locator("section.survey")
    await expect(card.locator("h2")).to_have_text("Hvordan fungerer planen for deg?")
    await card.get_by_label("Ja").first.check()
    await card.get_by_role("button", name="Send svarene").tap()
    # The first unanswered question says so, beside it.
    await expect(card.locator('fieldset[data-question="decide"] .field-error')).to_have_text(
        "Svar på alle spørsmålene."
    )
    for question, answer in (
        ("decide", "Delvis"),
        ("who_does_what", "Ja"),
        ("goals_followed", "Nei"),
    ):
        await card.locator(f'fieldset[data-question="{question}"]').get_by_label(answer).check()
    await card.get_by_label("Koordinatoren min kan se svarene mine").check()
    assert await phone.axe("survey-phone") == []
    await phone.shot("survey-phone")
    await card.get_by_role("button", name="Send svarene").tap()
    await expect(card.locator("p[role=status]")).to_have_text("Takk for svarene!")
    assert await phone.page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
    )

    tablet = await browsers.new(TABLET)
    await tablet.sign_in(demo.token(per, "maria"))
    await tablet.go(f"/plan/{per['id']}/moter")
    shared = tablet.page.locator("section.survey")
    await expect(shared.locator("h3")).to_contain_text("Siste svar fra planeieren")
    await expect(shared.locator("dl")).to_contain_text("Delvis")
    assert await tablet.axe("survey-coordinator") == []
    await tablet.shot("survey-coordinator-tablet")
