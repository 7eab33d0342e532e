"""Preparing and running a meeting on a tablet: the chair adds an agenda item before the
meeting (in a part of the plan), removes one after a second tap, and ending the meeting
asks once more. Screenshot: tests/artifacts/screenshots/meeting-agenda-edit-tablet.png."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import TABLET, Browsers


@pytest.mark.timeout(120)
async def test_the_chair_edits_the_agenda_and_confirms_the_end(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    demo = demo_sqlite
    per = demo.per
    meeting = per["meetings"][0]["id"]
    chair = await browsers.new(TABLET, touch=True)
    await chair.sign_in(demo.token(per, "per"))
    await chair.go(f"/mote/{meeting}")
    agenda = chair.page.locator("ol.agenda > li")
    before = await agenda.count()
    await chair.page.get_by_label("Ny sak").fill("Ferieplaner")
    await chair.page.get_by_label("Del av planen").select_option(label="Økonomi")
    # A change made elsewhere arrives while the chair types: what they typed stays.
    maria = demo.person(per, "maria")["id"]
    async with live_sqlite.http(demo.token(per, "per")) as http:
        named = await http.post(
            f"/api/meetings/{meeting}/minute-taker", json={"participant": maria}
        )
        assert named.status_code == 200, named.text
    await expect(chair.page.get_by_label("Referent")).to_have_value(maria)
    await expect(chair.page.get_by_label("Ny sak")).to_have_value("Ferieplaner")
    await chair.page.get_by_role("button", name="Legg til saken").tap()
    await expect(agenda).to_have_count(before + 1, timeout=15000)
    await expect(agenda.last).to_contain_text("Ferieplaner")
    assert await chair.axe("meeting-agenda-edit") == []
    await chair.shot("meeting-agenda-edit-tablet")
    # Removing takes a second tap.
    await chair.page.get_by_role("button", name="Fjern saken «Ferieplaner»").tap()
    await expect(agenda).to_have_count(before + 1, timeout=15000)
    await chair.page.get_by_role("button", name="Ja, fjern").tap()
    await expect(agenda).to_have_count(before, timeout=15000)

    # The chair names the minute-taker on the page too.
    await chair.page.get_by_label("Referent").select_option(label="Ali Karim")
    await expect(chair.page.locator("#announcer")).to_have_text("Ali Karim skriver referatet.")
    await chair.page.get_by_role("button", name="Start møtet").tap()
    await chair.page.get_by_role("button", name="Avslutt møtet").tap()
    await expect(chair.page.locator(".chair-controls .confirm-text")).to_have_text(
        "Vil du avslutte møtet for alle?"
    )
    await chair.page.get_by_role("button", name="Nei, fortsett").tap()
    await expect(chair.page.get_by_role("button", name="Avslutt møtet")).to_be_visible()
    await chair.page.get_by_role("button", name="Avslutt møtet").tap()
    await chair.page.get_by_role("button", name="Ja, avslutt møtet").tap()
    await expect(chair.page.locator(".meeting-status")).to_contain_text("Møtet er slutt")
    # The owner reads the whole minutes before approving them.
    await chair.page.get_by_text("Les hele referatet før du godkjenner").tap()
    draft = chair.page.locator(".draft-minutes")
    await expect(draft.locator("h3").first).to_be_visible()
    assert await draft.locator("h3").count() == before
