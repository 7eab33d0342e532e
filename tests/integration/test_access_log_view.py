"""The access log a person can read (issue 10, item 5): edits grouped per person, document
and hour, the owner's own views folded away, paging, a person filter, CSV and PDF exports,
why each access was allowed, and no title the viewer may not see."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from pycrdt import Doc, Text
from pypdf import PdfReader

from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error
from tests.yclient import YClient


def section_doc(plan: dict[str, Any], demo: Demo, key: str) -> str:
    return f"plan:{plan['id']}:section:{demo.section(plan, key)['id']}"


async def edit_many(live: LiveServer, token: str, doc: str, times: int) -> None:
    client = YClient(live.url, token)
    await client.connect()
    try:
        ack = await client.join(doc)
        assert ack["ok"] and ack["access"] == "write", ack
        await client.wait_synced(doc)
        for n in range(times):
            done = await client.insert(doc, 0, f"{n} ")
            assert done["ok"], done
    finally:
        await client.close()


async def lines(client: httpx.AsyncClient, plan: dict[str, Any], query: str = "") -> Any:
    response = await client.get(f"/api/plans/{plan['id']}/access-log/lines{query}")
    assert response.status_code == 200, response.text
    return response.json()


async def one_hour_meeting(live: LiveServer, demo: Demo) -> dict[str, Any]:
    """Per's meeting: Maria and Siw write many times, Per opens things again and again."""
    plan = demo.per
    await edit_many(live, demo.token(plan, "maria"), section_doc(plan, demo, "arbeid"), 14)
    await edit_many(live, demo.token(plan, "siw"), section_doc(plan, demo, "okonomi"), 9)
    await edit_many(live, demo.token(plan, "maria"), section_doc(plan, demo, "bolig"), 3)
    async with live.http(demo.token(plan, "per")) as per:
        for _ in range(6):
            assert (await per.get(f"/api/plans/{plan['id']}")).status_code == 200
    return plan


def total(found: list[dict[str, Any]], name: str, text: str) -> int:
    return sum(
        line["count"]
        for line in found
        if line["person"]["name"] == name and line["kind"] == "edit" and text in line["text"]
    )


async def test_a_meeting_reads_as_grouped_changes_and_folds_the_owners_views(
    live: LiveServer, demo: Demo
) -> None:
    plan = await one_hour_meeting(live, demo)
    async with live.http(demo.token(plan, "per")) as per:
        view = await lines(per, plan, "?size=200")
        shown = await lines(per, plan, "?size=200&own=1")
    found = view["lines"]
    # Fourteen edits by Maria are one sentence (or two, if the hour turned meanwhile).
    maria = [ln for ln in found if ln["person"]["name"] == "Maria Olsen" and ln["kind"] == "edit"]
    assert total(found, "Maria Olsen", "endret «Arbeid og aktivitet»") == 14
    assert (
        any(ln["text"] == "Maria Olsen endret «Arbeid og aktivitet» 14 ganger" for ln in maria)
        or len([ln for ln in maria if "Arbeid" in ln["text"]]) == 2
    )
    assert total(found, "Siw Nilsen", "endret «Økonomi»") == 9
    assert total(found, "Maria Olsen", "endret «Bolig»") == 3
    grouped = next(ln for ln in maria if "Arbeid" in ln["text"])
    assert " kl. " in grouped["when"] and "–" in grouped["when"]
    # Why: the consent version that let them write, in words.
    assert grouped["grounds"]["kind"] == "consent" and grouped["grounds"]["level"] == "edit"
    assert grouped["why"] == f"ifølge samtykke versjon {grouped['grounds']['version']}: endre"
    siw_open = next(
        ln
        for ln in found
        if ln["person"]["name"] == "Siw Nilsen"
        and ln["action"] == "open"
        and "Økonomi" in ln["text"]
    )
    assert siw_open["why"].startswith("ifølge samtykke versjon ")
    # Per's six openings of the plan are folded away, and counted; the toggle shows them.
    assert not any(ln["own"] and ln["action"] == "open" for ln in found)
    assert view["folded"] >= 6
    opened = [ln for ln in shown["lines"] if ln["own"] and ln["action"] == "open"]
    assert sum(ln["count"] for ln in opened if ln["target"]["kind"] == "plan") >= 6
    assert shown["folded"] == 0
    assert all(ln["why"] == "som planeier" for ln in opened)


async def test_paging_and_the_person_filter(live: LiveServer, demo: Demo) -> None:
    plan = await one_hour_meeting(live, demo)
    siw = demo.person(plan, "siw")["id"]
    async with live.http(demo.token(plan, "per")) as per:
        everything = (await lines(per, plan, "?size=200"))["lines"]
        assert len(everything) >= 5
        paged: list[dict[str, Any]] = []
        page = 1
        while True:
            got = await lines(per, plan, f"?size=2&page={page}")
            assert len(got["lines"]) <= 2
            paged += got["lines"]
            if not got["more"]:
                break
            page += 1
        assert page >= 3
        key = [(ln["kind"], ln["action"], ln["text"], ln["hour"]) for ln in paged]
        assert key == [(ln["kind"], ln["action"], ln["text"], ln["hour"]) for ln in everything]
        only_siw = await lines(per, plan, f"?size=200&person={siw}")
        assert only_siw["lines"] and all(ln["person"]["id"] == siw for ln in only_siw["lines"])
        assert {p["name"] for p in only_siw["people"]} >= {"Siw Nilsen", "Maria Olsen"}
        # A period before anything happened is empty; bounds are checked.
        assert (await lines(per, plan, "?from=2001-01-01&to=2001-01-02"))["lines"] == []
        bad = await per.get(f"/api/plans/{plan['id']}/access-log/lines?size=100000")
        assert_error(bad, 400, "malformed")
        nobody = await per.get(f"/api/plans/{plan['id']}/access-log/lines?person=zzzzzzzz")
        assert_error(nobody, 404, "not-found")


async def test_csv_and_pdf_exports_hold_the_grouped_lines(live: LiveServer, demo: Demo) -> None:
    plan = await one_hour_meeting(live, demo)
    async with live.http(demo.token(plan, "per")) as per:
        raw = await per.get(f"/api/plans/{plan['id']}/access-log/export?format=csv")
        pdf = await per.get(f"/api/plans/{plan['id']}/access-log/export?format=pdf")
        english = await per.get(f"/api/plans/{plan['id']}/access-log/export?format=csv&lang=en")
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/csv")
    assert raw.headers["x-planrom-capped"] == "0"
    rows = list(csv.reader(io.StringIO(raw.text)))
    assert rows[0] == ["Tidspunkt", "Hvem", "Hva", "Antall", "Hvorfor tilgang", "Fra", "Til"]
    arbeid = [r for r in rows[1:] if r[2].startswith("Maria Olsen endret «Arbeid og aktivitet»")]
    assert sum(int(r[3]) for r in arbeid) == 14
    assert all("ifølge samtykke versjon" in r[4] for r in arbeid)
    assert all(r[5].endswith(("+01:00", "+02:00")) for r in rows[1:])  # Norwegian time
    assert not any(r[1] == "Per Hansen" and "åpnet" in r[2] for r in rows[1:])  # folded
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Innsynslogg: Pers plan" in text or "Innsynslogg" in text
    assert "Maria Olsen endret «Arbeid og aktivitet»" in text
    assert "Siw Nilsen endret «Økonomi»" in text
    assert "ifølge samtykke versjon" in text
    assert "Maria Olsen changed “Arbeid og aktivitet”" in english.text


async def test_a_coordinator_reading_the_log_never_sees_a_hidden_title(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")["id"]
    hilde = demo.person(plan, "hilde")["id"]
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        grants = (await charlotte.get(f"/api/plans/{plan['id']}/consent")).json()["grants"]
        narrower = [
            g for g in grants if not (g["participant"] == hilde and g["section"] == therapy)
        ]
        signed = await charlotte.post(
            f"/api/plans/{plan['id']}/consent",
            json={"purpose": "Hilde ser ikke behandlingen", "grants": narrower},
        )
        assert signed.status_code == 201, signed.text
    await edit_many(live, demo.token(plan, "berit"), section_doc(plan, demo, "terapi"), 5)
    # Minutes typed into the meeting's agenda items: the DPS measure's item and a free one.
    meeting = plan["meetings"][0]
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        agenda = (await charlotte.get(f"/api/meetings/{meeting['id']}")).json()["state"]["agenda"]
    dps_item = next(i for i in agenda if i["title"] == "Samtaler hos DPS")
    next_item = next(i for i in agenda if i["title"] == "Neste møte")
    hub = live.app.state.hub
    berit_person = demo.person(plan, "berit")["person"]
    hilde_person = demo.person(plan, "hilde")["person"]

    def note(d: Doc) -> None:
        d.get("notes", type=Text).insert(0, "Notat. ")

    for _ in range(3):
        await hub.edit_as(berit_person, dps_item["doc"], note)
    await hub.edit_as(hilde_person, next_item["doc"], note)
    async with live.http(demo.token(plan, "hilde")) as coordinator:
        seen = await lines(coordinator, plan, "?size=200&own=1")
        csv_text = (
            await coordinator.get(f"/api/plans/{plan['id']}/access-log/export?format=csv")
        ).text
        pdf = await coordinator.get(f"/api/plans/{plan['id']}/access-log/export?format=pdf")
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        owner_view = await lines(charlotte, plan, "?size=200")
    body = str(seen)
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for surface in (body, csv_text, pdf_text):
        assert "Behandling hos DPS" not in surface
        assert "Samtaler hos DPS" not in surface
    berit = [
        ln for ln in seen["lines"] if ln["person"]["name"] == "Berit Lund" and ln["kind"] == "edit"
    ]
    assert berit and all(ln["target"]["title"] is None for ln in berit)
    assert all("en del av planen du ikke kan se" in ln["text"] for ln in berit)
    berit_items = [ln for ln in berit if ln["target"]["kind"] == "item"]
    assert sum(ln["count"] for ln in berit_items) == 3
    assert (
        total(seen["lines"], "Hilde Dahl", "endret «Neste møte» i møtet «Ansvarsgruppemøte»") == 1
    )
    # The owner sees the same edits with the titles.
    assert total(owner_view["lines"], "Berit Lund", "endret «Behandling hos DPS»") == 5
    assert (
        total(
            owner_view["lines"],
            "Berit Lund",
            "endret «Samtaler hos DPS» i møtet «Ansvarsgruppemøte»",
        )
        == 3
    )


async def test_services_may_not_read_the_log(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "siw")) as siw:
        for path in ("lines", "export?format=csv", "export?format=pdf"):
            refused = await siw.get(f"/api/plans/{plan['id']}/access-log/{path}")
            assert_error(refused, 403, "forbidden")
