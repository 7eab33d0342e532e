"""Moving and cancelling a scheduled meeting from the meetings screen (desktop, the
coordinator): the new time is stored and invitations go out again; cancelling asks once
more. Screenshot: tests/artifacts/screenshots/meeting-change-desktop.png."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.async_api import expect

from server.dates import local
from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import Browsers

DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.timeout(120)
async def test_the_coordinator_moves_and_cancels_a_meeting(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    per = demo.per
    meeting = per["meetings"][0]["id"]
    desk = await browsers.new(DESKTOP)
    await desk.sign_in(demo.token(per, "maria"))
    await desk.go(f"/plan/{per['id']}/moter")
    card = desk.page.locator("article.meeting-card").first
    await card.get_by_text("Flytt eller avlys").click()
    later = local(live.clock() + timedelta(days=3)).replace(
        hour=13, minute=0, second=0, microsecond=0
    )
    await card.get_by_label("Nytt tidspunkt").fill(later.strftime("%Y-%m-%dT%H:%M"))
    await card.get_by_label("Sted").fill("Biblioteket")
    assert await desk.axe("meeting-change") == []
    await desk.shot("meeting-change-desktop")
    await card.get_by_role("button", name="Flytt møtet").click()
    await expect(desk.page.locator("#announcer")).to_contain_text("Møtet er flyttet")
    async with live.http(demo.token(per, "maria")) as http:
        moved = (await http.get(f"/api/meetings/{meeting}")).json()
    assert moved["place"] == "Biblioteket"
    assert local(datetime.fromisoformat(moved["starts_at"])).hour == 13

    card = desk.page.locator("article.meeting-card").first
    await card.get_by_text("Flytt eller avlys").click()
    await card.get_by_role("button", name="Avlys møtet").click()
    await expect(card).to_contain_text("Avlyse møtet for alle?")
    await card.get_by_role("button", name="Ja, avlys").click()
    await expect(desk.page.locator("#announcer")).to_contain_text("Møtet er avlyst")
    async with live.http(demo.token(per, "maria")) as http:
        assert (await http.get(f"/api/meetings/{meeting}")).json()["state"]["status"] == "cancelled"
