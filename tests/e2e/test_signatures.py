"""Signatures in browsers: Hilde records Charlotte's paper signature with the signed form
attached; Charlotte sees the notice on "Mine planer", opens the consent page, sees how the
version was given, and undoes it in one step."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import TABLET, Browsers, dump


@pytest.mark.timeout(120)
async def test_a_paper_signature_needs_the_form_is_told_and_undone(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo, tmp_path: Path
) -> None:
    demo = demo_sqlite
    plan = demo.charlotte
    school = demo.section(plan, "skolen")
    form = tmp_path / "samtykke.pdf"
    form.write_bytes(b"%PDF-1.4\n% signert skjema\n%%EOF\n")
    not_a_form = tmp_path / "notat.pdf"
    not_a_form.write_bytes(b"bare tekst")

    hilde = await browsers.new(TABLET)
    charlotte = await browsers.new(TABLET, touch=True)
    await hilde.sign_in(demo.token(plan, "hilde"))
    await charlotte.sign_in(demo.token(plan, "charlotte"))

    # Hilde gives Tone (the team) read on the school section, recorded from paper.
    await hilde.go(f"/plan/{plan['id']}/samtykke")
    await expect(hilde.page.locator(".consent-method")).to_contain_text(
        "Signert av Charlotte Berg selv"
    )
    cell = hilde.page.get_by_label(f"Tone Vik: {school['title']}")
    # The grid holds those whose access is consent's, the signer list those who sign: as
    # the server describes each participant (participant_facts), not by role in the client.
    assert await hilde.page.get_by_label(f"Charlotte Berg: {school['title']}").count() == 0
    signers = hilde.page.get_by_label("Hvem signerer")
    assert await signers.locator("option").all_inner_texts() == ["Charlotte Berg (Planeier)"]
    await cell.select_option("read")
    await hilde.page.get_by_label("Jeg har lest hva hver person vil se").check()
    record = hilde.page.get_by_role("button", name="Registrer signaturen")
    # Without a form the browser asks for it (the field is required); with a wrong file
    # the server's message is shown.
    upload = hilde.page.get_by_label("Signert samtykkeskjema")
    await upload.set_input_files(str(not_a_form))
    await record.click()
    await expect(hilde.page.locator(".form-error").first).to_contain_text("PDF eller et bilde")
    await upload.set_input_files(str(form))
    await record.click()
    await expect(hilde.page.locator("#announcer")).to_contain_text("signert")
    await expect(hilde.page.locator(".consent-method")).to_contain_text("på papir")
    assert not await hilde.axe("consent-paper"), dump(await hilde.axe("consent-paper"))

    # Charlotte is told on "Mine planer" and undoes the change on the consent page.
    await charlotte.go("/")
    notices = charlotte.page.locator("section.notices")
    await expect(notices).to_contain_text("Hilde Dahl")
    # Her coordinator's card, found from the participants' facts (contact_person).
    card = charlotte.page.locator(".plan-card .contact-name")
    await expect(card).to_have_text(["Hilde Dahl"])
    await charlotte.shot("home-notice-tablet")
    await notices.get_by_role("link", name="Se samtykket").click()
    await expect(charlotte.page.locator(".consent-method")).to_contain_text(
        "registrert av Hilde Dahl"
    )
    await expect(
        charlotte.page.get_by_role("link", name="Last ned det signerte skjemaet (PDF, 1 kB)")
    ).to_be_visible()
    assert not await charlotte.axe("consent-undo"), dump(await charlotte.axe("consent-undo"))
    await charlotte.page.get_by_role("button", name="Angre endringen fra Hilde Dahl").click()
    await expect(charlotte.page.locator("#announcer")).to_contain_text("angret")
    cell = charlotte.page.get_by_label(f"Tone Vik: {school['title']}")
    await expect(cell).to_have_value("none")
    await expect(charlotte.page.locator(".consent-method")).to_contain_text(
        "Signert av Charlotte Berg selv"
    )
    # Scheduling a meeting: everyone but Charlotte (in every meeting) may be invited.
    await charlotte.go(f"/plan/{plan['id']}/moter")
    invitees = charlotte.page.locator(".schedule-form .check label")
    await expect(invitees.first).to_be_visible()
    names = await invitees.all_inner_texts()
    assert names and not [n for n in names if "Charlotte" in n], names
    assert any("Hilde Dahl" in n for n in names), names
    for browser in (hilde, charlotte):
        assert not browser.csp_errors(), browser.csp_errors()


@pytest.mark.timeout(120)
async def test_the_coordinator_sees_only_the_set_up_of_a_plan_nobody_has_signed(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    demo = demo_sqlite
    token = demo.token(demo.charlotte, "hilde")
    async with live_sqlite.http(token) as api:
        created = await api.post(
            "/api/plans",
            json={"title": "Ny plan for Ola", "as": "coordinator", "owner_name": "Ola"},
        )
        assert created.status_code == 201, created.text
    plan = created.json()
    hilde = await browsers.new(TABLET)
    await hilde.sign_in(token)
    await hilde.go(f"/plan/{plan['id']}")
    await expect(hilde.page.locator(".sections .notice")).to_contain_text(
        "Planeieren har ikke signert samtykke ennå"
    )
    await expect(hilde.page.locator("section.plan-section")).to_have_count(12)
    assert await hilde.page.locator("section.plan-section textarea").count() == 0
    assert not hilde.wire.contains(f"plan:{plan['id']}:section:"), "a document was joined"
    await hilde.shot("plan-setup-tablet")
    assert not hilde.csp_errors(), hilde.csp_errors()
