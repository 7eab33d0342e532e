"""Continuity on the group screen (tablet): the coordinator writes a handover note and
records a transition; the owner chooses a deputy for a week and sees them standing in.
axe-clean. Screenshots: tests/artifacts/screenshots/continuity-coordinator-tablet.png,
continuity-owner-tablet.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import expect

from collab.guardians import oslo_day
from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import TABLET, Browsers


@pytest.mark.timeout(120)
async def test_handover_deputy_and_transitions_on_a_tablet(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    per = demo.per
    plan = per["id"]
    coordinator = await browsers.new(TABLET, touch=True)
    await coordinator.sign_in(demo.token(per, "maria"))
    await coordinator.go(f"/plan/{plan}/gruppe")
    await coordinator.page.get_by_label("Overleveringsnotat til neste koordinator").fill(
        "Per vil bli ringt før kl. 10."
    )
    await coordinator.page.get_by_role("button", name="Lagre notatet").tap()
    await expect(coordinator.page.locator(".handover [role=status]")).to_have_text(
        "Notatet er lagret."
    )
    today = oslo_day(live.clock())
    await coordinator.page.get_by_label("Hva har skjedd?").select_option(label="Ut fra sykehus")
    await coordinator.page.get_by_label("Når").fill(today.isoformat())
    await coordinator.page.get_by_role("button", name="Registrer overgangen").tap()
    await expect(coordinator.page.locator(".transitions li")).to_contain_text("Ut fra sykehus")
    # The coordinator does not choose their own deputy.
    await expect(coordinator.page.locator(".stand-in-form")).to_have_count(0)
    assert await coordinator.axe("continuity-coordinator") == []
    await coordinator.shot("continuity-coordinator-tablet")

    owner = await browsers.new(TABLET, touch=True)
    await owner.sign_in(demo.token(per, "per"))
    await owner.go(f"/plan/{plan}/gruppe")
    await owner.page.get_by_label("Hvem skal stå inn?").select_option(label="Ali Karim")
    await owner.page.get_by_label("Fra og med").fill(today.isoformat())
    await owner.page.get_by_label("Til (ikke med)").fill((today + timedelta(days=7)).isoformat())
    await owner.page.get_by_role("button", name="Velg stedfortreder").tap()
    await expect(owner.page.locator(".stand-ins li")).to_contain_text("Ali Karim")
    await expect(owner.page.locator(".stand-ins li")).to_contain_text("Står inn nå")
    # The owner reads the handover note too.
    assert await owner.axe("continuity-owner") == []
    await owner.shot("continuity-owner-tablet")
