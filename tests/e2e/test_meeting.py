"""Per's meeting with three browsers at once: Per chairs on a tablet, NAV (Siw) and the
day centre (Ali) join remotely. NAV updates its measure and Per sees it live; Per moves
through and reorders the agenda and hands the pen; minutes typed in one browser appear
in the others; decisions, end, approval, finalisation and the minutes page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import expect

from tests.conftest import Demo, LiveServer
from tests.e2e.conftest import PHONE, TABLET, Browsers, dump


async def _schedule(live: LiveServer, demo: Demo) -> dict[str, str]:
    plan = demo.per
    measures = {m["title"]: m for m in plan["measures"]}
    saving = next(m for t, m in measures.items() if t.startswith("Automatisk sparing"))
    daycentre = next(m for t, m in measures.items() if t.startswith("Dagsenter faste"))
    people = {p["key"]: p["id"] for p in plan["participants"]}
    starts = live.clock() + timedelta(hours=1)
    async with live.http(demo.token(plan, "maria")) as maria:
        made = await maria.post(
            f"/api/plans/{plan['id']}/meetings",
            json={
                "title": "Ansvarsgruppemøte",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "place": "Boligen, stua",
                "invited": [people["maria"], people["siw"], people["ali"]],
                "agenda": "empty",
            },
        )
        assert made.status_code == 201, made.text
        meeting = made.json()["id"]
        for item in (
            {"title": "Sparing til ferie", "section": saving["section"], "measure": saving["id"]},
            {"title": "Dagsenteret", "section": daycentre["section"], "measure": daycentre["id"]},
        ):
            added = await maria.post(f"/api/meetings/{meeting}/agenda", json=item)
            assert added.status_code in (200, 201), added.text
    return {
        "meeting": meeting,
        "saving": saving["id"],
        "daycentre": daycentre["id"],
        "siw": people["siw"],
        "plan": plan["id"],
    }


@pytest.mark.timeout(180)
async def test_pers_meeting_with_three_browsers(
    browsers: Browsers, live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    ids = await _schedule(live, demo)
    room = f"/mote/{ids['meeting']}"
    per = await browsers.new(TABLET, touch=True)
    siw = await browsers.new({"width": 1280, "height": 800})
    ali = await browsers.new(PHONE, touch=True)
    for browser, key in ((per, "per"), (siw, "siw"), (ali, "ali")):
        await browser.sign_in(demo.token(demo.per, key))
        await browser.go(room)
    await expect(per.page.locator(".meeting-status")).to_have_text("Ikke startet")
    await expect(per.page.locator(".attendees .present")).to_have_count(3)
    await per.shot("meeting-tablet-before-start")

    # Per starts the meeting and goes to the first item.
    await per.page.get_by_role("button", name="Start møtet").click()
    await expect(siw.page.locator(".meeting-status")).to_have_text("Møtet pågår")
    await per.page.get_by_role("button", name="Første punkt").click()
    await expect(per.page.locator(".current-title")).to_have_text("Sparing til ferie")
    await expect(siw.page.locator(".current-title")).to_have_text("Sparing til ferie")
    # The day centre may not read the economy section: the item stays hidden from Ali.
    await expect(ali.page.locator(".current-item .notice")).to_contain_text("ikke er delt med deg")
    await expect(ali.page.locator(".agenda")).not_to_contain_text("Sparing til ferie")

    # Minutes typed by the chair appear in NAV's browser.
    notes = per.page.locator(".current-item textarea.notes")
    await expect(notes).to_be_editable()
    await notes.press_sequentially("Per: sparingen går fint. ")
    siw_notes = siw.page.locator(".current-item textarea.notes")
    await expect(siw_notes).to_have_value("Per: sparingen går fint. ")
    await expect(siw_notes).not_to_be_editable()

    # NAV updates its measure: a progress entry and its status; Per sees both live.
    measure = siw.page.locator(f".current-item article.measure[data-measure='{ids['saving']}']")
    await measure.locator(".progress-add input").fill("500 kr spart i november.")
    await measure.get_by_role("button", name="Legg til").click()
    await measure.locator("select.status-select").select_option("paused")
    await expect(measure.locator(".inline-note")).to_have_text("Status lagret.")
    per_measure = per.page.locator(f".current-item article.measure[data-measure='{ids['saving']}']")
    await expect(per_measure.locator(".progress-log")).to_contain_text("500 kr spart i november.")
    await expect(per_measure.locator("select.status-select")).to_have_value("paused", timeout=10000)

    # Per hands the pen to Siw; she writes, and Per sees it.
    await per.page.locator(".pen-control select").select_option(ids["siw"])
    await per.page.get_by_role("button", name="Gi pennen").click()
    await expect(siw.page.locator(".pen-line")).to_contain_text("Siw Nilsen")
    await expect(siw_notes).to_be_editable()
    await siw_notes.click()
    await siw_notes.press("End")
    await siw_notes.press_sequentially("NAV: avtalen fortsetter.")
    await expect(notes).to_have_value("Per: sparingen går fint. NAV: avtalen fortsetter.")
    await per.shot("meeting-tablet")
    await siw.shot("meeting-remote-desktop")
    assert not await per.axe("meeting"), dump(await per.axe("meeting"))

    # A structured decision with big plain controls.
    await per.page.get_by_role("button", name="Fortsett", exact=True).click()
    await per.page.get_by_role("button", name="Lagre vedtaket").click()
    await expect(siw.page.locator(".decisions")).to_contain_text(
        "fortsetter som før", timeout=10000
    )

    # Per reorders the agenda (Dagsenteret first) and moves on to it.
    await per.page.get_by_role("button", name="Flytt «Dagsenteret» opp").click()
    await expect(siw.page.locator(".agenda li").first).to_contain_text("Dagsenteret")
    await per.page.get_by_role("button", name="Dagsenteret", exact=True).click()
    await expect(ali.page.locator(".current-title")).to_have_text("Dagsenteret")
    await expect(siw.page.locator(".current-title")).to_have_text("Dagsenteret")
    await per.page.locator(".current-item textarea.notes").fill("Dagsenteret fungerer.")
    await expect(ali.page.locator(".current-item textarea.notes")).to_have_value(
        "Dagsenteret fungerer."
    )
    # Ali's own measure is on this item, for him to update.
    ali_measure = ali.page.locator(
        f".current-item article.measure[data-measure='{ids['daycentre']}']"
    )
    await expect(ali_measure.locator("select.status-select")).to_be_visible()
    await ali.shot("meeting-phone")
    assert not await ali.axe("meeting-phone"), dump(await ali.axe("meeting-phone"))

    # End, approve (owner), finalise (coordinator), then read the minutes.
    await per.page.get_by_role("button", name="Avslutt møtet").click()
    await per.page.get_by_role("button", name="Ja, avslutt møtet").click()  # asks once more
    await per.page.get_by_role("button", name="Godkjenn referatet").click()
    await expect(siw.page.locator(".meeting-status")).to_contain_text("godkjent")
    async with live.http(demo.token(demo.per, "maria")) as maria:
        final = await maria.post(f"/api/meetings/{ids['meeting']}/finalize", json={})
        assert final.status_code == 200, final.text
    await expect(per.page.locator(".meeting-status")).to_have_text("Ferdig referat")
    await per.go(f"/mote/{ids['meeting']}/referat")
    minutes = per.page.locator("article.minutes")
    await expect(minutes).to_contain_text("NAV: avtalen fortsetter.")
    await expect(minutes).to_contain_text("Dagsenteret fungerer.")
    await per.shot("minutes-tablet")
    assert not await per.axe("minutes"), dump(await per.axe("minutes"))
    pdf = per.page.get_by_role("link", name="Last ned PDF")
    assert (await pdf.get_attribute("href") or "").startswith(
        f"/api/meetings/{ids['meeting']}/minutes?format=pdf"
    )
    await ali.go(f"/mote/{ids['meeting']}/referat")
    await expect(ali.page.locator("article.minutes")).to_contain_text("Dagsenteret fungerer.")
    await expect(ali.page.locator("article.minutes")).not_to_contain_text("sparingen")
    await ali.shot("minutes-phone")
    for browser in (per, siw, ali):
        assert not browser.csp_errors(), browser.csp_errors()
