"""The live responsibility-group meeting, end to end over Socket.IO and HTTP."""

from __future__ import annotations

import asyncio
import email
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import icalendar
import pypdf
from pycrdt import Array, Doc, Map, Text

from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings
from tests.yclient import YClient


class Person:
    """One participant with an HTTP client and a Socket.IO client."""

    def __init__(self, live: LiveServer, demo: Demo, plan: dict[str, Any], key: str) -> None:
        self.key = key
        self.id = demo.person(plan, key)["id"]
        self.http = live.http(demo.token(plan, key))
        self.y = YClient(live.url, demo.token(plan, key))
        self.states: list[dict[str, Any]] = []
        self.y.sio.on("meeting:state", self._state)

    async def _state(self, state: dict[str, Any]) -> None:
        self.states.append(state)
        self.y._changed.set()

    async def start(self) -> Person:
        await self.y.connect()
        return self

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.y.sio.call(event, data, timeout=30))

    async def close(self) -> None:
        await self.y.close()
        await self.http.aclose()

    def latest(self) -> dict[str, Any]:
        return self.states[-1]


async def schedule(
    owner_or_coordinator: Person,
    plan: dict[str, Any],
    live: LiveServer,
    invited: list[str],
    items: list[dict[str, str]],
) -> dict[str, Any]:
    starts = live.clock() + timedelta(days=1)
    response = await owner_or_coordinator.http.post(
        f"/api/plans/{plan['id']}/meetings",
        json={
            "title": "Ansvarsgruppemøte",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "place": "Boligen, stua",
            "invited": invited,
            "agenda": "empty",
        },
    )
    assert response.status_code == 201, response.text
    meeting = response.json()
    for item in items:
        added = await owner_or_coordinator.http.post(
            f"/api/meetings/{meeting['id']}/agenda", json=item
        )
        assert added.status_code == 201, added.text
    return meeting


def notes_edit(text: str):  # type: ignore[no-untyped-def]
    def edit(d: Doc) -> None:
        notes = d.get("notes", type=Text)
        notes.insert(len(notes), text)

    return edit


async def test_pers_meeting_from_schedule_to_finalised_plan(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    measures = {m["title"]: m for m in plan["measures"]}
    saving = next(m for t, m in measures.items() if t.startswith("Automatisk sparing"))
    daycentre = next(m for t, m in measures.items() if t.startswith("Dagsenter"))
    per, maria, siw, ali = [
        await Person(live, demo, plan, k).start() for k in ("per", "maria", "siw", "ali")
    ]
    try:
        meeting = await schedule(
            maria,
            plan,
            live,
            [maria.id, siw.id, ali.id],
            [
                {
                    "title": "Sparing til ferie",
                    "section": saving["section"],
                    "measure": saving["id"],
                },
                {
                    "title": "Dagsenteret",
                    "section": daycentre["section"],
                    "measure": daycentre["id"],
                },
            ],
        )
        mid = meeting["id"]
        # Invitations are calendar files that parse.
        ics = await siw.http.get(f"/api/meetings/{mid}/invite.ics")
        assert ics.status_code == 200
        event = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]
        assert str(event["UID"]).startswith(mid)

        for person in (per, maria, siw, ali):
            joined = await person.call("meeting:join", {"meeting": mid})
            assert joined["ok"], joined
        state = (await per.call("meeting:start", {"meeting": mid}))["state"]
        assert state["status"] == "live"
        agenda = state["agenda"]
        assert [i["title"] for i in agenda] == ["Sparing til ferie", "Dagsenteret"]
        # Not the chair: refused.
        refused = await siw.call("meeting:goto", {"meeting": mid, "item": agenda[1]["id"]})
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"

        assert (await per.call("meeting:goto", {"meeting": mid, "item": agenda[0]["id"]}))["ok"]
        await siw.y.wait_for(lambda: siw.states and siw.latest()["current_item"] == agenda[0]["id"])

        # NAV updates its saving measure live; the owner sees it.
        await per.y.join(saving["doc"])
        await per.y.wait_synced(saving["doc"])
        assert (await siw.y.join(saving["doc"]))["access"] == "write"
        await siw.y.wait_synced(saving["doc"])

        def progress(d: Doc) -> None:
            d.get("progress", type=Array).append(
                Map({"at": "2026-11-24", "text": Text("500 kr spart i november.")})
            )

        assert (await siw.y.edit(saving["doc"], progress))["ok"]
        await per.y.wait_for(
            lambda: (
                "500 kr spart" in str(per.y.doc(saving["doc"]).get("progress", type=Array).to_py())
            )
        )

        # The pen: Siw may write the item's minutes only while she holds it.
        item_doc = agenda[0]["doc"]
        assert (await siw.y.join(item_doc))["access"] == "read"
        await siw.y.wait_synced(item_doc)
        denied = await siw.y.edit(item_doc, notes_edit("NAV: "))
        assert denied["error"]["code"] == "forbidden"
        siw.y.docs.pop(item_doc)
        pen = await per.call(
            "meeting:pen", {"meeting": mid, "item": agenda[0]["id"], "participant": siw.id}
        )
        assert pen["ok"] and pen["state"]["pen"] == {"item": agenda[0]["id"], "participant": siw.id}
        await siw.y.sio.call("doc:leave", {"doc": item_doc})
        assert (await siw.y.join(item_doc))["access"] == "write"
        await siw.y.wait_synced(item_doc)
        assert (await siw.y.edit(item_doc, notes_edit("Spareavtalen fungerer. ")))["ok"]
        await per.y.join(item_doc)
        await per.y.wait_for(lambda: "Spareavtalen" in per.y.text(item_doc, "notes"))

        # Decisions: keep the saving, adjust the day centre, next evaluation, next meeting.
        base = f"/api/meetings/{mid}/decisions"
        assert (
            await maria.http.post(
                base,
                json={
                    "item": agenda[0]["id"],
                    "kind": "evaluation",
                    "measure": saving["id"],
                    "target": "measure",
                    "works": "Fast trekk hver måned",
                    "outcome": "continue",
                },
            )
        ).status_code == 201
        assert (
            await maria.http.post(
                base, json={"item": agenda[0]["id"], "kind": "continue", "measure": saving["id"]}
            )
        ).status_code == 201
        adjusted = await maria.http.post(
            base,
            json={
                "item": agenda[1]["id"],
                "kind": "adjust",
                "measure": daycentre["id"],
                "changes": {"frequency": "Mandag, tirsdag og torsdag"},
            },
        )
        assert adjusted.status_code == 201, adjusted.text
        future = (live.clock() + timedelta(days=90)).date().isoformat()
        assert (
            await maria.http.post(
                base, json={"item": agenda[1]["id"], "kind": "next_evaluation", "date": future}
            )
        ).status_code == 201
        next_at = (live.clock() + timedelta(days=30)).isoformat()
        assert (
            await maria.http.post(
                base, json={"item": agenda[1]["id"], "kind": "next_meeting", "starts_at": next_at}
            )
        ).status_code == 201

        assert (await per.call("meeting:end", {"meeting": mid}))["state"]["status"] == "ended"
        # Only the owner approves, only the coordinator finalises.
        assert (await maria.http.post(f"/api/meetings/{mid}/approve", json={})).status_code == 403
        assert (await per.http.post(f"/api/meetings/{mid}/approve", json={})).status_code == 200
        assert (await per.http.post(f"/api/meetings/{mid}/finalize", json={})).status_code == 403
        final = await maria.http.post(f"/api/meetings/{mid}/finalize", json={})
        assert final.status_code == 200, final.text
        assert final.json()["state"]["status"] == "final"

        # Finalised items refuse writes; the item document was revoked.
        await siw.y.wait_for(lambda: item_doc in siw.y.revoked)
        assert (await siw.y.join(item_doc))["access"] == "read"
        await siw.y.wait_synced(item_doc)
        late = await siw.y.edit(item_doc, notes_edit("for sent"))
        assert late["error"]["code"] == "forbidden"

        # The plan holds the decisions.
        measure = (
            await maria.http.get(f"/api/plans/{plan['id']}/measures/{daycentre['id']}")
        ).json()
        assert measure["frequency"] == "Mandag, tirsdag og torsdag"
        detail = (await per.http.get(f"/api/plans/{plan['id']}")).json()
        assert detail["next_evaluation"] == future
        meetings = (await per.http.get(f"/api/plans/{plan['id']}/meetings")).json()["meetings"]
        statuses = sorted(m["status"] for m in meetings)
        # The demo's own meeting, this one, and the follow-up it decided.
        assert statuses == ["final", "scheduled", "scheduled"]
        # The follow-up's agenda is drafted from what will be due then (here: the measures
        # this meeting changed), not left empty.
        for m in meetings:
            if m["status"] == "scheduled":
                state = (await per.http.get(f"/api/meetings/{m['id']}")).json()["state"]
                assert state["agenda"], m
        follow_up = max(
            (m for m in meetings if m["status"] == "scheduled"), key=lambda m: m["starts_at"]
        )
        drafted = (await per.http.get(f"/api/meetings/{follow_up['id']}")).json()["state"]
        assert any(i["ref"] == saving["id"] for i in drafted["agenda"]), drafted["agenda"]
        await per.y.wait_for(
            lambda: (
                "Vedtak" in str(per.y.doc(saving["doc"]).get("progress", type=Array).to_py())
                or "fortsetter" in str(per.y.doc(saving["doc"]).get("progress", type=Array).to_py())
            )
        )

        # Minutes: JSON, HTML and a PDF that parses.
        content = (await siw.http.get(f"/api/meetings/{mid}/minutes")).json()
        assert content["items"][0]["notes"].startswith("Spareavtalen fungerer")
        pdf = await per.http.get(f"/api/meetings/{mid}/minutes", params={"format": "pdf"})
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(
            page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages
        )
        assert "Sparing til ferie" in text and "Dagsenteret" in text
        html = await per.http.get(f"/api/meetings/{mid}/minutes", params={"format": "html"})
        assert "Spareavtalen fungerer" in html.text
        summary = await per.http.get(f"/api/meetings/{mid}/summary")
        assert summary.status_code == 200 and "Mandag, tirsdag og torsdag" in summary.text
    finally:
        for person in (per, maria, siw, ali):
            await person.close()


async def test_charlottes_meeting_never_shows_the_school_the_therapy_item(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")
    school_section = demo.section(plan, "skolen")
    goals = demo.section(plan, "mal")
    charlotte, hilde, berit, ola = [
        await Person(live, demo, plan, k).start() for k in ("charlotte", "hilde", "berit", "skole")
    ]
    try:
        meeting = await schedule(
            hilde,
            plan,
            live,
            [hilde.id, berit.id, ola.id],
            [
                {"title": "Mål for våren", "section": goals["id"]},
                {"title": "Samtalene hos DPS", "section": therapy["id"]},
                {"title": "Fag på skolen", "section": school_section["id"]},
            ],
        )
        mid = meeting["id"]
        views = {}
        for person in (charlotte, hilde, berit, ola):
            joined = await person.call("meeting:join", {"meeting": mid})
            views[person.key] = joined["state"]
        titles = {k: [i["title"] for i in v["agenda"]] for k, v in views.items()}
        assert titles["skole"] == ["Mål for våren", "Fag på skolen"]
        assert titles["berit"] == ["Mål for våren", "Samtalene hos DPS"]
        assert len(titles["charlotte"]) == 3
        agenda = {i["title"]: i for i in views["charlotte"]["agenda"]}
        therapy_item = agenda["Samtalene hos DPS"]
        await charlotte.call("meeting:start", {"meeting": mid})
        assert (await charlotte.call("meeting:goto", {"meeting": mid, "item": therapy_item["id"]}))[
            "ok"
        ]
        await ola.y.wait_for(
            lambda: (
                ola.states
                and ola.latest()["status"] == "live"
                and ola.latest().get("current_hidden") is True
            )
        )
        assert ola.latest()["current_item"] is None
        assert "Samtalene" not in str(ola.states)
        assert therapy_item["id"] not in str(ola.states)
        # The school cannot open the therapy item's minutes document.
        refused = await ola.y.join(therapy_item["doc"])
        assert refused["error"]["code"] == "not-found"
        # Minutes are written into the therapy item; the school never receives them.
        await charlotte.y.join(therapy_item["doc"])
        await charlotte.y.wait_synced(therapy_item["doc"])
        assert (await charlotte.y.edit(therapy_item["doc"], notes_edit("Terapien går bra.")))["ok"]
        school_item = agenda["Fag på skolen"]
        await charlotte.y.join(school_item["doc"])
        await charlotte.y.wait_synced(school_item["doc"])
        assert (await charlotte.y.edit(school_item["doc"], notes_edit("Skolen lager opplegg.")))[
            "ok"
        ]
        await charlotte.call("meeting:end", {"meeting": mid})
        assert (
            await charlotte.http.post(f"/api/meetings/{mid}/approve", json={})
        ).status_code == 200
        assert (await hilde.http.post(f"/api/meetings/{mid}/finalize", json={})).status_code == 200
        for person, hidden, shown in (
            (ola, "Terapien", "Skolen lager"),
            (berit, "Skolen lager", "Terapien"),
        ):
            content = (await person.http.get(f"/api/meetings/{mid}/minutes")).json()
            assert hidden not in str(content) and shown in str(content)
            pdf = await person.http.get(f"/api/meetings/{mid}/minutes", params={"format": "pdf"})
            text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
            assert hidden not in text and shown in text
            html = (
                await person.http.get(f"/api/meetings/{mid}/minutes", params={"format": "html"})
            ).text
            assert hidden not in html
        assert "Samtalene" not in str(ola.states) and "Fag på skolen" not in str(berit.states)
    finally:
        for person in (charlotte, hilde, berit, ola):
            await person.close()


async def test_inviting_someone_without_consent_is_refused_with_a_reason(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    hilde = Person(live, demo, plan, "hilde")
    try:
        added = await hilde.http.post(
            f"/api/plans/{plan['id']}/participants", json={"role": "service", "name": "Ny Tjeneste"}
        )
        newcomer = added.json()["id"]
        starts = (live.clock() + timedelta(days=2)).isoformat()
        response = await hilde.http.post(
            f"/api/plans/{plan['id']}/meetings",
            json={"starts_at": starts, "invited": [hilde.id, newcomer]},
        )
        assert response.status_code == 409
        assert "Ny Tjeneste" in response.json()["error"]["message"]
    finally:
        await hilde.close()


async def test_a_decision_giving_responsibility_without_consent_is_refused(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    hilde, ola = Person(live, demo, plan, "hilde"), Person(live, demo, plan, "skole")
    charlotte = await Person(live, demo, plan, "charlotte").start()
    try:
        therapy = demo.section(plan, "terapi")
        meeting = await schedule(
            hilde,
            plan,
            live,
            [hilde.id, ola.id],
            [{"title": "Behandling", "section": therapy["id"]}],
        )
        mid = meeting["id"]
        await charlotte.call("meeting:join", {"meeting": mid})
        state = (await charlotte.call("meeting:start", {"meeting": mid}))["state"]
        response = await hilde.http.post(
            f"/api/meetings/{mid}/decisions",
            json={
                "item": state["agenda"][0]["id"],
                "kind": "new_measure",
                "section": therapy["id"],
                "title": "Skolen følger opp terapien",
                "responsible": ola.id,
            },
        )
        assert response.status_code == 409
        assert "Ola Strand" in response.json()["error"]["message"]
    finally:
        for person in (hilde, ola, charlotte):
            await person.close()


async def test_a_meeting_survives_a_server_restart(db_url: str) -> None:
    live = await start_server(test_settings(db_url))
    port = int(live.url.rsplit(":", 1)[1])
    demo = await load_demo_into(live)
    plan = demo.per
    per = await Person(live, demo, plan, "per").start()
    maria = await Person(live, demo, plan, "maria").start()
    mid = ""
    try:
        meeting = await schedule(
            maria,
            plan,
            live,
            [maria.id],
            [{"title": "Boligen", "section": demo.section(plan, "bolig")["id"]}],
        )
        mid = meeting["id"]
        await per.call("meeting:join", {"meeting": mid})
        state = (await per.call("meeting:start", {"meeting": mid}))["state"]
        item = state["agenda"][0]
        await per.call("meeting:goto", {"meeting": mid, "item": item["id"]})
        await per.y.join(item["doc"])
        await per.y.wait_synced(item["doc"])
        assert (await per.y.edit(item["doc"], notes_edit("Før omstart.")))["ok"]
    finally:
        await per.close()
        await maria.close()
        await live.stop()
    again = await start_server(test_settings(db_url), port=port)
    per = Person(again, demo, plan, "per")
    await per.start()
    try:
        rejoined = await per.call("meeting:join", {"meeting": mid})
        assert rejoined["state"]["status"] == "live"
        assert rejoined["state"]["current_item"] == item["id"]
        await per.y.join(item["doc"])
        await per.y.wait_synced(item["doc"])
        assert per.y.text(item["doc"], "notes") == "Før omstart."
        assert (await per.y.edit(item["doc"], notes_edit(" Etter omstart.")))["ok"]
        await asyncio.sleep(0)
    finally:
        await per.close()
        await again.stop()


async def test_invitations_and_cancellations_reach_every_invitee_with_an_address(
    sqlite_url: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    live = await start_server(test_settings(sqlite_url, outbox_dir=outbox))
    try:
        demo = await load_demo_into(live)
        plan = demo.per
        maria = Person(live, demo, plan, "maria")
        siw, ali = demo.person(plan, "siw")["id"], demo.person(plan, "ali")["id"]
        meeting = await schedule(maria, plan, live, [maria.id, siw, ali], [])
        letters = sorted(outbox.glob("*.eml"))
        # Maria, Siw and Ali have e-mail addresses in the demo; Per (the owner) has none.
        assert len(letters) == 3
        events = []
        for path in letters:
            message = email.message_from_bytes(path.read_bytes())
            part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            events.append(calendar.walk("VEVENT")[0])
            assert str(calendar["METHOD"]) == "REQUEST"
        assert {str(e["UID"]) for e in events} == {f"{meeting['id']}@planrom"}
        cancelled = await maria.http.post(f"/api/meetings/{meeting['id']}/cancel", json={})
        assert cancelled.status_code == 200
        newest = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime)[-3:]
        for path in newest:
            message = email.message_from_bytes(path.read_bytes())
            part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            event = calendar.walk("VEVENT")[0]
            assert str(calendar["METHOD"]) == "CANCEL"
            assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
        await maria.close()
    finally:
        await live.stop()


async def _finalised_meeting(
    live: LiveServer, demo: Demo
) -> tuple[dict[str, Any], Person, Person, str]:
    plan = demo.per
    per = await Person(live, demo, plan, "per").start()
    maria = Person(live, demo, plan, "maria")
    meeting = await schedule(
        maria,
        plan,
        live,
        [maria.id],
        [{"title": "Boligen", "section": demo.section(plan, "bolig")["id"]}],
    )
    mid = meeting["id"]
    await per.call("meeting:join", {"meeting": mid})
    state = (await per.call("meeting:start", {"meeting": mid}))["state"]
    item = state["agenda"][0]
    await per.y.join(item["doc"])
    await per.y.wait_synced(item["doc"])
    assert (await per.y.edit(item["doc"], notes_edit("Alt går fint i boligen.")))["ok"]
    await per.call("meeting:end", {"meeting": mid})
    assert (await per.http.post(f"/api/meetings/{mid}/approve", json={})).status_code == 200
    assert (await maria.http.post(f"/api/meetings/{mid}/finalize", json={})).status_code == 200
    return plan, per, maria, mid


async def test_a_correction_is_a_new_linked_version_and_never_an_overwrite(
    live: LiveServer, demo: Demo
) -> None:
    plan, per, maria, mid = await _finalised_meeting(live, demo)
    try:
        first = (await per.http.get(f"/api/meetings/{mid}/minutes")).json()
        item = first["items"][0]["id"]
        corrected = await maria.http.post(
            f"/api/meetings/{mid}/corrections",
            json={
                "item": item,
                "notes": "Alt går fint i boligen. Per vil male stua.",
                "reason": "Per ba om å få med malingen.",
            },
        )
        assert corrected.status_code == 201, corrected.text
        assert corrected.json()["version"] == 2 and corrected.json()["supersedes"] == 1
        latest = (await per.http.get(f"/api/meetings/{mid}/minutes")).json()
        assert latest["version"] == 2 and latest["versions"] == [1, 2]
        assert "male stua" in latest["items"][0]["notes"]
        assert latest["reason"] == "Per ba om å få med malingen."
        again = (await per.http.get(f"/api/meetings/{mid}/minutes", params={"version": "1"})).json()
        assert again["items"][0]["notes"] == "Alt går fint i boligen."
        assert again["hash"] == first["hash"] != latest["hash"]
        # A service without the right cannot correct.
        siw = Person(live, demo, plan, "siw")
        refused = await siw.http.post(
            f"/api/meetings/{mid}/corrections", json={"item": item, "notes": "x", "reason": "y"}
        )
        assert refused.status_code in (403, 404)
        await siw.close()
    finally:
        await per.close()
        await maria.close()


async def test_changes_since_the_last_meeting_and_overdue_flags(
    live: LiveServer, demo: Demo
) -> None:
    plan, per, maria, mid = await _finalised_meeting(live, demo)
    try:
        saving = next(m for m in plan["measures"] if m["title"].startswith("Automatisk"))
        daycentre = next(m for m in plan["measures"] if m["title"].startswith("Dagsenter"))
        nothing = (await per.http.get(f"/api/plans/{plan['id']}/changes")).json()
        assert nothing["last_meeting"] == mid
        assert not [c for c in nothing["changes"] if c["entity"] == "measures"]
        siw = Person(live, demo, plan, "siw")
        ali = Person(live, demo, plan, "ali")
        assert (
            await siw.http.patch(
                f"/api/plans/{plan['id']}/measures/{saving['id']}", json={"status": "paused"}
            )
        ).status_code == 200
        assert (
            await maria.http.patch(
                f"/api/plans/{plan['id']}/measures/{daycentre['id']}",
                json={"evaluate_by": "2020-01-01"},
            )
        ).status_code == 200
        changed = (await per.http.get(f"/api/plans/{plan['id']}/changes")).json()
        titles = {c["title"] for c in changed["changes"]}
        assert saving["title"] in titles and daycentre["title"] in titles
        # Ali (day centre, "own" on Arbeid) sees his own measure's change but not NAV's.
        his = {
            c["title"]
            for c in (await ali.http.get(f"/api/plans/{plan['id']}/changes")).json()["changes"]
        }
        assert daycentre["title"] in his and saving["title"] not in his
        flagged = (await ali.http.get(f"/api/plans/{plan['id']}/overdue")).json()
        assert [m["measure"] for m in flagged["measures"]] == [daycentre["id"]]
        assert flagged["measures"][0]["overdue"] == ["evaluation"]
        assert (await siw.http.get(f"/api/plans/{plan['id']}/overdue")).json()["measures"] == []
        coordinator = (await maria.http.get(f"/api/plans/{plan['id']}/overdue")).json()
        assert daycentre["id"] in [m["measure"] for m in coordinator["measures"]]
        await siw.close()
        await ali.close()
    finally:
        await per.close()
        await maria.close()


async def test_a_one_to_one_meeting_is_the_owner_and_the_coordinator(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    maria = Person(live, demo, plan, "maria")
    siw = demo.person(plan, "siw")["id"]
    starts = (live.clock() + timedelta(days=3)).isoformat()
    try:
        base = f"/api/plans/{plan['id']}/meetings"
        too_many = await maria.http.post(
            base, json={"kind": "one-to-one", "starts_at": starts, "invited": [maria.id, siw]}
        )
        assert too_many.status_code == 400
        assert "one-to-one" in too_many.json()["error"]["message"]
        ok = await maria.http.post(
            base, json={"kind": "one-to-one", "starts_at": starts, "invited": [maria.id]}
        )
        assert ok.status_code == 201
        people = {a["role"] for a in ok.json()["state"]["attendees"]}
        assert people == {"owner", "coordinator"} and ok.json()["kind"] == "one-to-one"
    finally:
        await maria.close()
