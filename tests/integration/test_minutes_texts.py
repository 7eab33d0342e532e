"""The minutes and decision texts a person reads, in nb, nn and en: Norwegian time, dates
in words, each label once, the evaluation's outcome, no English in bokmål or nynorsk; the
HTML minutes styled by a stylesheet the CSP allows; the calendar link opens a page the
web client knows; refusals of a decision in the reader's language, naming the field."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pypdf

from server.minutes.words import LANGUAGES
from tests.conftest import Demo, LiveServer
from tests.integration.test_meetings import Person, notes_edit, schedule

ROOT = Path(__file__).resolve().parents[2]
OSLO = ZoneInfo("Europe/Oslo")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ISO_TIME = re.compile(r"\d{2}:\d{2}:\d{2}|T\d{2}:\d{2}")

# Words that are English and never bokmål or nynorsk (so none may show in nb/nn).
ENGLISH = {
    "the", "and", "of", "is", "are", "must", "meeting", "meetings", "measure", "next",
    "continue", "continues", "adjust", "adjusted", "stop", "stops", "decision", "decisions",
    "required", "future", "responsible", "due", "minutes", "agenda", "reason", "note",
    "works", "work", "does", "not", "why", "what", "who", "with", "from", "page", "version",
    "approved", "finalised", "checksum", "evaluation", "evaluated", "new", "starts", "date",
    "time", "place", "participants", "present", "invited", "keep", "try", "something",
}  # fmt: skip


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-zA-ZæøåÆØÅ]+", text.lower())} & ENGLISH


def oslo_ten(days: int, now: datetime) -> datetime:
    """10:00 Norwegian time ``days`` from now, as UTC."""
    day = (now + timedelta(days=days)).astimezone(OSLO).date()
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=OSLO).astimezone(UTC)


async def every_decision(live: LiveServer, demo: Demo) -> tuple[str, Person, Person]:
    """Per's meeting with one decision of each kind, finalised."""
    plan = demo.per
    bus = next(m for m in plan["measures"] if m["title"].startswith("Følge Per"))
    per = await Person(live, demo, plan, "per").start()
    maria = Person(live, demo, plan, "maria")
    meeting = await schedule(
        maria,
        plan,
        live,
        [maria.id],
        [{"title": "Boligen", "section": bus["section"], "measure": bus["id"]}],
    )
    mid = meeting["id"]
    await per.call("meeting:join", {"meeting": mid})
    state = (await per.call("meeting:start", {"meeting": mid}))["state"]
    item = state["agenda"][0]
    await live.app.state.hub.edit_as(
        demo.person(plan, "per")["person"], item["doc"], notes_edit("Det går fint.")
    )
    now = live.clock()
    later = (now + timedelta(days=60)).date().isoformat()
    decisions: list[dict[str, Any]] = [
        {"kind": "continue", "measure": bus["id"]},
        {
            "kind": "adjust",
            "measure": bus["id"],
            "changes": {"frequency": "Hver dag", "ends": later},
        },
        {
            "kind": "evaluation",
            "measure": bus["id"],
            "target": "measure",
            "works": "Per kommer seg på bussen",
            "does_not_work": "Bussen er ofte sen",
            "why": "Ruta er endret",
            "outcome": "adjust",
        },
        {
            "kind": "new_measure",
            "section": bus["section"],
            "title": "Handle mat sammen",
            "responsible": maria.id,
            "starts": later,
        },
        {"kind": "next_meeting", "starts_at": oslo_ten(30, now).isoformat(), "place": "Stua"},
        {"kind": "next_evaluation", "date": later},
    ]
    for body in decisions:
        made = await maria.http.post(
            f"/api/meetings/{mid}/decisions", json={"item": item["id"], **body}
        )
        assert made.status_code == 201, made.text
    await per.call("meeting:end", {"meeting": mid})
    assert (await per.http.post(f"/api/meetings/{mid}/approve", json={})).status_code == 200
    finalised = await maria.http.post(f"/api/meetings/{mid}/finalize", json={})
    assert finalised.status_code == 200, finalised.text
    return mid, per, maria


async def test_minutes_texts_in_each_language(live: LiveServer, demo: Demo) -> None:
    mid, per, maria = await every_decision(live, demo)
    try:
        for lang in ("nb", "nn", "en"):
            w = LANGUAGES[lang]
            base = f"/api/meetings/{mid}/minutes"
            page = (await per.http.get(base, params={"format": "html", "lang": lang})).text
            pdf = (await per.http.get(base, params={"format": "pdf", "lang": lang})).content
            summary = (await per.http.get(f"/api/meetings/{mid}/summary?lang={lang}")).text
            data = (await per.http.get(base, headers={"accept-language": lang})).json()
            decided = [d["text"] for item in data["items"] for d in item["decisions"]]
            texts = {
                "html": html_text(page),
                "pdf": pdf_text(pdf),
                "summary": html_text(summary),
                "json": "\n".join(decided),
            }
            for where, text in texts.items():
                what = f"{lang} {where}"
                assert not ISO_DATE.search(text), (what, ISO_DATE.search(text))
                assert not ISO_TIME.search(text), (what, ISO_TIME.search(text))
                for label in w.decision_kinds.values():
                    assert not re.search(rf"{label}:?\s+{label}\b", text), (what, label)
                if lang != "en":
                    assert not english_words(text), (what, english_words(text))
            # The next meeting is at 10:00 Norwegian time, whatever UTC says.
            at = {"nb": "kl. 10:00", "nn": "kl. 10:00", "en": "at 10:00"}[lang]
            for where in ("html", "pdf", "summary", "json"):
                assert at in texts[where].replace("\n", " "), (lang, where)
            # The evaluation's outcome is there, in the screen's words.
            outcome = {"nb": "Justerer", "nn": "Justerer", "en": "Adjust"}[lang]
            assert any(outcome in text for text in decided), (lang, decided)
            for where in ("html", "pdf"):
                assert outcome in texts[where], (lang, where)
            # One vocabulary with the screen (web/src/i18n/<lang>.js decision.kind.*).
            screen = (ROOT / "web" / "src" / "i18n" / f"{lang}.js").read_text()
            for kind, label in w.decision_kinds.items():
                assert f"'decision.kind.{kind}': '{label}'" in screen, (lang, kind, label)
                if kind in ("continue", "adjust", "new_measure"):
                    assert f"{label}:" in texts["pdf"], (lang, kind)
        # The label is shown once and the sentence after it.
        nb = html_text((await per.http.get(f"/api/meetings/{mid}/minutes?format=html")).text)
        assert "Nytt tiltak: «Handle mat sammen»." in nb
        assert "Ansvarlig: Maria" in nb
    finally:
        await per.close()
        await maria.close()


async def test_html_minutes_are_styled_under_the_csp(live: LiveServer, demo: Demo) -> None:
    mid, per, maria = await every_decision(live, demo)
    try:
        reply = await per.http.get(f"/api/meetings/{mid}/minutes?format=html")
        csp = reply.headers["content-security-policy"]
        assert "style-src 'self'" in csp and "unsafe-inline" not in csp
        page = reply.text
        assert "<style" not in page and " style=" not in page
        assert '<link rel="stylesheet" href="/static/minutes.css">' in page
        css = await per.http.get("/static/minutes.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert "dl.meta" in css.text
    finally:
        await per.close()
        await maria.close()


def client_routes() -> list[re.Pattern[str]]:
    main = (ROOT / "web" / "src" / "main.js").read_text()
    return [re.compile(m) for m in re.findall(r"^\s*\[/(\^.*?\$)/,", main, re.M)]


async def test_the_calendar_link_opens_the_meeting_page(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    maria = Person(live, demo, plan, "maria")
    try:
        meeting = await schedule(maria, plan, live, [maria.id], [])
        ics = await maria.http.get(f"/api/meetings/{meeting['id']}/invite.ics")
        event = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]
        url = str(event["URL"])
        assert url in str(event["DESCRIPTION"])
        # The time in the text is Norwegian time in words, not UTC.
        starts = datetime.fromisoformat(meeting["starts_at"]).astimezone(OSLO)
        assert f"kl. {starts:%H:%M}" in str(event["DESCRIPTION"])
        assert not ISO_DATE.search(str(event["DESCRIPTION"]))
        path = url.removeprefix(live.settings.base_url.rstrip("/"))
        assert path == f"/mote/{meeting['id']}"
        page = await maria.http.get(path)
        assert page.status_code == 200 and '<div id="app"' in page.text
        routes = client_routes()
        assert routes, "no routes found in web/src/main.js"
        assert any(r.match(path) for r in routes), path
        # Invitations sent before carry /meetings/<id>: that opens the meeting too.
        assert any(r.match(f"/meetings/{meeting['id']}") for r in routes)
    finally:
        await maria.close()


async def test_a_refused_decision_names_the_field_in_the_readers_language(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    per = await Person(live, demo, plan, "per").start()
    maria = Person(live, demo, plan, "maria")
    try:
        meeting = await schedule(
            maria,
            plan,
            live,
            [maria.id],
            [{"title": "Neste møte", "section": plan["sections"][0]["id"]}],
        )
        mid = meeting["id"]
        await per.call("meeting:join", {"meeting": mid})
        state = (await per.call("meeting:start", {"meeting": mid}))["state"]
        item = state["agenda"][0]["id"]
        past = (live.clock() - timedelta(days=1)).isoformat()
        expected = {
            "nb": "Neste møte må være fram i tid.",
            "nn": "Neste møte må vere fram i tid.",
            "en": "The next meeting must be in the future.",
        }
        for header, lang in (("nn-NO,nn;q=0.9", "nn"), ("en-GB,en;q=0.8", "en"), ("", "nb")):
            refused = await maria.http.post(
                f"/api/meetings/{mid}/decisions",
                json={"item": item, "kind": "next_meeting", "starts_at": past},
                headers={"accept-language": header} if header else {},
            )
            assert refused.status_code == 400
            error = refused.json()["error"]
            assert error == {"code": "malformed", "message": expected[lang], "field": "starts_at"}
        # JSON-schema refusals too: a title that is too long, in nynorsk.
        refused = await maria.http.post(
            f"/api/meetings/{mid}/decisions",
            json={
                "item": item,
                "kind": "new_measure",
                "section": plan["sections"][0]["id"],
                "title": "x" * 301,
                "responsible": maria.id,
            },
            headers={"accept-language": "nn"},
        )
        error = refused.json()["error"]
        assert (
            error["field"] == "title"
            and error["message"] == "Teksten er for lang (høgst 300 teikn)."
        )
        # A missing field is named as the field itself.
        refused = await maria.http.post(
            f"/api/meetings/{mid}/decisions",
            json={"kind": "continue"},
            headers={"accept-language": "en"},
        )
        assert refused.json()["error"] == {
            "code": "malformed",
            "message": "This field is required.",
            "field": "item",
        }
    finally:
        await per.close()
        await maria.close()
