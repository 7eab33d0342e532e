"""Building the plan between meetings (tablet, the owner): add a part of the plan, move
it, archive it after a second tap; add a measure with who is responsible and the dates,
then change its status. axe-clean. Screenshot:
tests/artifacts/screenshots/build-plan-tablet.png."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import TABLET, Browsers


@pytest.mark.timeout(150)
async def test_the_owner_builds_the_plan_on_a_tablet(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    per = demo.per
    plan = per["id"]
    owner = await browsers.new(TABLET, touch=True)
    await owner.sign_in(demo.token(per, "per"))
    await owner.go(f"/plan/{plan}")
    await owner.page.get_by_role("link", name="Bygg planen").tap()
    await owner.page.wait_for_url("**/bygg")
    sections = owner.page.locator(".build-sections .build-item")
    await expect(sections.first).to_be_visible()
    before = await sections.count()
    await owner.page.get_by_label("Ny del av planen").fill("Fritid")
    await owner.page.get_by_role("button", name="Legg til delen").tap()
    await expect(sections).to_have_count(before + 1)
    await owner.page.get_by_role("button", name="Flytt «Fritid» opp").tap()
    await expect(sections.nth(before - 1).locator("input")).to_have_value("Fritid")

    form = owner.page.locator(".build-measures > form.measure-form")
    await form.get_by_label("Del av planen").select_option(label="Økonomi")
    await form.get_by_label("Hva skal gjøres").fill("Søke om bostøtte")
    await form.get_by_label("Ansvarlig").select_option(label="Siw Nilsen (NAV)")
    await form.get_by_label("Hvor ofte").fill("Én gang")
    await form.get_by_label("Evalueres innen").fill("2027-03-01")
    await form.get_by_role("button", name="Legg til tiltaket").tap()
    added = owner.page.locator("details.build-measure", has_text="Søke om bostøtte")
    await expect(added).to_have_count(1)
    async with live.http(demo.token(per, "per")) as http:
        measures = (await http.get(f"/api/plans/{plan}/measures")).json()["measures"]
    made = next(m for m in measures if m["title"] == "Søke om bostøtte")
    assert made["responsible"] == demo.person(per, "siw")["id"]
    assert made["evaluate_by"] == "2027-03-01"
    assert await owner.axe("build-plan") == []
    await owner.shot("build-plan-tablet")

    await added.locator("summary").tap()
    await added.get_by_label("Status").select_option(label="Satt på pause")
    await added.get_by_role("button", name="Lagre").tap()
    # The summary line (not the open form's option list) says so once the plan is re-read.
    saved = owner.page.locator("details.build-measure summary", has_text="Søke om bostøtte")
    await expect(saved).to_contain_text("Satt på pause")

    fritid = sections.nth(before - 1)
    await fritid.get_by_role("button", name="Arkiver").tap()
    await expect(fritid).to_contain_text("Arkivere delen?")
    await fritid.get_by_role("button", name="Ja, arkiver").tap()
    await expect(sections).to_have_count(before)
