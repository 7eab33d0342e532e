"""Charlotte's consent, in browsers: the school never shows nor receives the therapy
section; withdrawing Berit's consent removes the section from her open page within a
second."""

from __future__ import annotations

import time

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import PHONE, TABLET, Browsers, dump


@pytest.mark.timeout(120)
async def test_school_never_sees_therapy_and_withdrawal_is_immediate(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    demo = demo_sqlite
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")
    therapy_measure = next(m for m in plan["measures"] if m["section"] == therapy["id"])
    secrets = [
        therapy["id"],
        therapy["title"],
        therapy["doc"],
        therapy_measure["id"],
        therapy_measure["title"],
        "Samtaler hos DPS annenhver uke",
        "Samtaleterapi",
    ]

    school = await browsers.new(PHONE, touch=True)
    berit = await browsers.new(TABLET)
    charlotte = await browsers.new(TABLET, touch=True)
    await school.sign_in(demo.token(plan, "skole"))
    await berit.sign_in(demo.token(plan, "berit"))
    await charlotte.sign_in(demo.token(plan, "charlotte"))

    # The school opens every screen it can reach.
    await school.go(f"/plan/{plan['id']}")
    await expect(school.page.locator("section.plan-section").first).to_be_visible()
    await expect(school.page.locator("#save-status")).to_have_text("Lagret")
    await expect(school.page.locator("section.plan-section")).to_have_count(3)
    await school.shot("plan-phone-school")
    for path in ("/", f"/plan/{plan['id']}/moter", f"/plan/{plan['id']}/samtykke"):
        await school.go(path)
        await school.page.wait_for_load_state("networkidle")
    await school.go(f"/plan/{plan['id']}")
    await expect(school.page.locator("#save-status")).to_have_text("Lagret")
    html = await school.page.content()
    for secret in secrets:
        assert secret not in html, f"the school's page shows {secret!r}"
        assert not school.wire.contains(secret), f"the school's browser received {secret!r}"
    assert school.wire.contains("Plan for å ta opp igjen fag")  # it did receive its own

    # Berit has the therapy section open.
    await berit.go(f"/plan/{plan['id']}")
    section = berit.page.locator(f"section[data-section='{therapy['id']}']")
    await expect(section.locator("textarea").first).to_have_value("Samtaler hos DPS annenhver uke.")
    await expect(section.locator("textarea").first).to_be_editable()

    # Charlotte withdraws Berit's consent on the consent page.
    await charlotte.go(f"/plan/{plan['id']}/samtykke")
    await charlotte.shot("consent-tablet")
    assert not await charlotte.axe("consent"), dump(await charlotte.axe("consent"))
    button = charlotte.page.get_by_role("button", name="Trekk tilbake for Berit Lund")
    await button.click()
    confirm = charlotte.page.get_by_role("button", name="Trykk igjen for å trekke tilbake")
    started = time.monotonic()
    await confirm.click()
    await section.wait_for(state="detached", timeout=1000)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"the therapy section stayed {elapsed:.2f} s"
    await expect(berit.page.locator("#announcer")).to_contain_text("ikke lenger delt")
    await expect(berit.page.locator(".sections")).not_to_contain_text("Samtaler hos DPS")
    await berit.shot("plan-tablet-after-withdrawal")

    # Charlotte signs a new version that gives Berit the therapy section back.
    await charlotte.go(f"/plan/{plan['id']}/samtykke")
    cell = charlotte.page.get_by_label(f"Berit Lund: {therapy['title']}")
    await expect(cell).to_have_value("none")
    await cell.select_option("edit")
    await expect(charlotte.page.locator("#consent-summary")).to_contain_text(
        f"Kan skrive i: {therapy['title']}"
    )
    await charlotte.page.get_by_label("Jeg har lest hva hver person vil se").check()
    await charlotte.page.get_by_role("button", name="Signer samtykket").click()
    await expect(charlotte.page.locator("#announcer")).to_contain_text("signert")
    await berit.page.reload()
    await expect(section.locator("textarea").first).to_have_value("Samtaler hos DPS annenhver uke.")

    # Charlotte sees who looked at her plan, including the refusals and revocations.
    await charlotte.go(f"/plan/{plan['id']}/innsyn")
    await expect(charlotte.page.locator("ol.log-lines")).to_contain_text("Berit Lund")
    await expect(charlotte.page.locator("ol.log-lines")).to_contain_text(
        "Berit Lund mistet tilgangen til «Behandling hos DPS»"
    )
    await charlotte.shot("access-log-tablet")
    assert not await charlotte.axe("access-log"), dump(await charlotte.axe("access-log"))
    for browser in (school, berit, charlotte):
        assert not browser.csp_errors(), browser.csp_errors()
