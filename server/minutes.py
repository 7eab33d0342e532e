"""Finalised meeting minutes as HTML, PDF and a one-page summary for the plan owner.

Pure rendering: the input is the minutes *content*, already filtered to what the reader may
see. Nothing here reads a database or knows about the web framework. Every piece of text
from the content is escaped (HTML, or ReportLab's paragraph markup), and times are shown in
Norwegian time (Europe/Oslo).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal, NotRequired, TypedDict
from zoneinfo import ZoneInfo

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    BaseDocTemplate,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

__all__ = [
    "CHUNK_CHARS",
    "RENDERER_VERSION",
    "STYLESHEET",
    "AttendanceEntry",
    "AttendanceMark",
    "DecisionEntry",
    "DecisionKind",
    "MeetingInfo",
    "MeetingKind",
    "MinutesContent",
    "MinutesItem",
    "NextMeeting",
    "RoleName",
    "chunks",
    "decision_details",
    "decision_sentence",
    "language",
    "moment_text",
    "note_paragraphs",
    "render_minutes_html",
    "render_minutes_pdf",
    "render_owner_summary_html",
    "with_texts",
]

OSLO = ZoneInfo("Europe/Oslo")

# Part of the key of stored renderings (server.rendered_minutes): raise it whenever the
# output for the same content changes, so that new requests get the new rendering.
RENDERER_VERSION = 3

MeetingKind = Literal["group", "one-to-one"]
RoleName = Literal["owner", "guardian", "relative", "coordinator", "service"]
AttendanceMark = Literal["present", "left", "absent", "invited"]
DecisionKind = Literal[
    "continue", "adjust", "stop", "new_measure", "evaluation", "next_meeting", "next_evaluation"
]


class MeetingInfo(TypedDict):
    id: str
    title: str
    plan_id: str
    plan_title: str
    kind: MeetingKind
    starts_at: str
    ends_at: str
    place: str
    video_url: str


class AttendanceEntry(TypedDict):
    participant: str
    name: str
    role: RoleName
    organisation: str
    service: str
    attendance: AttendanceMark


class DecisionEntry(TypedDict):
    id: str
    kind: DecisionKind
    summary: str
    measure_title: str | None
    responsible_name: str | None
    due: str | None
    section: NotRequired[str]
    # The decision's own facts (see decision_details), so that its sentence is written at
    # render time in the reader's language. Minutes finalised before this existed have
    # only the stored bokmål summary.
    details: NotRequired[dict[str, str]]
    text: NotRequired[str]  # with_texts: the sentence in the reader's language


class MinutesItem(TypedDict):
    id: str
    title: str
    section: str
    section_title: str
    notes: str
    decisions: list[DecisionEntry]


class NextMeeting(TypedDict):
    starts_at: str | None
    place: str


class MinutesContent(TypedDict):
    meeting: MeetingInfo
    version: int
    supersedes: int | None
    reason: str
    approved_by: str
    approved_at: str
    finalised_by: str
    finalised_at: str
    hash: str
    attendance: list[AttendanceEntry]
    items: list[MinutesItem]
    next_meeting: NextMeeting | None
    next_evaluation: str | None


# --- words ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Words:
    """Every piece of fixed text, in one language. A missing field is a type error."""

    lang: str
    weekdays: tuple[str, str, str, str, str, str, str]
    months: tuple[str, str, str, str, str, str, str, str, str, str, str, str]
    date_format: str  # {weekday} {day} {month} {year}
    time_format: str  # {hour} {minute}
    at: str  # joins a date and a time
    minutes: str
    plan: str
    when: str
    place: str
    video: str
    meeting_kind: str
    kinds: dict[str, str]
    attendance: str
    attendance_caption: str
    col_name: str
    col_role: str
    col_service: str
    col_attendance: str
    roles: dict[str, str]
    marks: dict[str, str]
    nobody: str
    items: str
    no_items: str
    item_section: str
    notes: str
    no_notes: str
    decisions: str
    no_decisions: str
    decision_kinds: dict[str, str]
    measure: str
    responsible: str
    due: str
    ahead: str
    next_meeting: str
    next_evaluation: str
    not_decided: str
    about: str
    version: str
    supersedes: str  # {version}
    reason: str
    approved: str
    finalised: str
    checksum: str
    checksum_note: str
    filtered_note: str
    page: str  # {page}
    summary_title: str
    greeting: str  # {name}
    summary_intro: str  # {when}
    agreed: str
    nothing_agreed: str
    who_what_when: str
    who_caption: str
    col_who: str
    col_what: str
    col_by: str
    not_set: str
    no_tasks: str
    next_time: str
    next_meeting_at: str  # {when}
    next_meeting_place: str  # {place}
    next_evaluation_by: str  # {when}
    nothing_planned: str
    questions: str


_NB = _Words(
    lang="nb",
    weekdays=("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    months=(
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ),
    date_format="{weekday} {day}. {month} {year}",
    time_format="{hour:02d}:{minute:02d}",
    at="kl.",
    minutes="Referat",
    plan="Plan",
    when="Tid",
    place="Sted",
    video="Videolenke",
    meeting_kind="Type møte",
    kinds={"group": "Ansvarsgruppemøte", "one-to-one": "Møte mellom planeier og koordinator"},
    attendance="Deltakere",
    attendance_caption="Hvem som var invitert, og hvem som var med",
    col_name="Navn",
    col_role="Rolle",
    col_service="Tjeneste",
    col_attendance="Oppmøte",
    roles={
        "owner": "Planeier",
        "guardian": "Verge",
        "relative": "Pårørende",
        "coordinator": "Koordinator",
        "service": "Tjenesteyter",
    },
    marks={
        "present": "Til stede",
        "left": "Gikk før møtet var ferdig",
        "absent": "Ikke til stede",
        "invited": "Invitert",
    },
    nobody="Ingen deltakere er registrert.",
    items="Sakene",
    no_items="Det er ingen saker i dette referatet.",
    item_section="Del av planen",
    notes="Notater",
    no_notes="Ingen notater.",
    decisions="Dette ble bestemt",
    no_decisions="Ingen vedtak.",
    decision_kinds={
        "continue": "Fortsett",
        "adjust": "Juster",
        "stop": "Avslutt",
        "new_measure": "Nytt tiltak",
        "evaluation": "Evaluering",
        "next_meeting": "Neste møte",
        "next_evaluation": "Neste evaluering",
    },
    measure="Tiltak",
    responsible="Ansvarlig",
    due="Frist",
    ahead="Veien videre",
    next_meeting="Neste møte",
    next_evaluation="Neste evaluering",
    not_decided="Ikke bestemt ennå.",
    about="Om referatet",
    version="Versjon",
    supersedes="Erstatter versjon {version}",
    reason="Grunn til rettelsen",
    approved="Godkjent av",
    finalised="Ferdigstilt av",
    checksum="Kontrollsum (SHA-256)",
    checksum_note="Kontrollsummen gjelder hele referatet slik det ble lagret. "
    "Ingen kan endre et ferdig referat. En rettelse blir en ny versjon.",
    filtered_note="Du ser bare de delene av planen du har lov til å se.",
    page="Side {page}",
    summary_title="Kort om møtet",
    greeting="Hei, {name}!",
    summary_intro="Her er det viktigste fra møtet {when}.",
    agreed="Dette ble vi enige om",
    nothing_agreed="Vi bestemte ikke noe nytt i dette møtet.",
    who_what_when="Hvem gjør hva, og når",
    who_caption="Oppgaver fra møtet",
    col_who="Hvem",
    col_what="Hva",
    col_by="Innen",
    not_set="Ikke bestemt",
    no_tasks="Ingen har fått nye oppgaver med frist.",
    next_time="Neste gang",
    next_meeting_at="Neste møte er {when}.",
    next_meeting_place="Vi møtes her: {place}.",
    next_evaluation_by="Planen skal evalueres innen {when}.",
    nothing_planned="Neste møte er ikke bestemt ennå.",
    questions="Spør koordinatoren din hvis noe er uklart.",
)

_NN = _Words(
    lang="nn",
    weekdays=("måndag", "tysdag", "onsdag", "torsdag", "fredag", "laurdag", "sundag"),
    months=_NB.months,
    date_format=_NB.date_format,
    time_format=_NB.time_format,
    at="kl.",
    minutes="Referat",
    plan="Plan",
    when="Tid",
    place="Stad",
    video="Videolenkje",
    meeting_kind="Type møte",
    kinds={"group": "Ansvarsgruppemøte", "one-to-one": "Møte mellom planeigar og koordinator"},
    attendance="Deltakarar",
    attendance_caption="Kven som var inviterte, og kven som var med",
    col_name="Namn",
    col_role="Rolle",
    col_service="Teneste",
    col_attendance="Oppmøte",
    roles={
        "owner": "Planeigar",
        "guardian": "Verje",
        "relative": "Pårørande",
        "coordinator": "Koordinator",
        "service": "Tenesteytar",
    },
    marks={
        "present": "Til stades",
        "left": "Gjekk før møtet var ferdig",
        "absent": "Ikkje til stades",
        "invited": "Invitert",
    },
    nobody="Ingen deltakarar er registrerte.",
    items="Sakene",
    no_items="Det er ingen saker i dette referatet.",
    item_section="Del av planen",
    notes="Notat",
    no_notes="Ingen notat.",
    decisions="Dette vart bestemt",
    no_decisions="Ingen vedtak.",
    decision_kinds={
        "continue": "Hald fram",
        "adjust": "Juster",
        "stop": "Avslutt",
        "new_measure": "Nytt tiltak",
        "evaluation": "Evaluering",
        "next_meeting": "Neste møte",
        "next_evaluation": "Neste evaluering",
    },
    measure="Tiltak",
    responsible="Ansvarleg",
    due="Frist",
    ahead="Vegen vidare",
    next_meeting="Neste møte",
    next_evaluation="Neste evaluering",
    not_decided="Ikkje bestemt enno.",
    about="Om referatet",
    version="Versjon",
    supersedes="Erstattar versjon {version}",
    reason="Grunn til rettinga",
    approved="Godkjent av",
    finalised="Ferdigstilt av",
    checksum="Kontrollsum (SHA-256)",
    checksum_note="Kontrollsummen gjeld heile referatet slik det vart lagra. "
    "Ingen kan endre eit ferdig referat. Ei retting blir ein ny versjon.",
    filtered_note="Du ser berre dei delane av planen du har lov til å sjå.",
    page="Side {page}",
    summary_title="Kort om møtet",
    greeting="Hei, {name}!",
    summary_intro="Her er det viktigaste frå møtet {when}.",
    agreed="Dette vart vi einige om",
    nothing_agreed="Vi bestemde ikkje noko nytt i dette møtet.",
    who_what_when="Kven gjer kva, og når",
    who_caption="Oppgåver frå møtet",
    col_who="Kven",
    col_what="Kva",
    col_by="Innan",
    not_set="Ikkje bestemt",
    no_tasks="Ingen har fått nye oppgåver med frist.",
    next_time="Neste gong",
    next_meeting_at="Neste møte er {when}.",
    next_meeting_place="Vi møtest her: {place}.",
    next_evaluation_by="Planen skal evaluerast innan {when}.",
    nothing_planned="Neste møte er ikkje bestemt enno.",
    questions="Spør koordinatoren din om noko er uklart.",
)

_EN = _Words(
    lang="en",
    weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    date_format="{weekday} {day} {month} {year}",
    time_format="{hour:02d}:{minute:02d}",
    at="at",
    minutes="Minutes",
    plan="Plan",
    when="Time",
    place="Place",
    video="Video link",
    meeting_kind="Type of meeting",
    kinds={
        "group": "Responsibility group meeting",
        "one-to-one": "Meeting between the plan owner and the coordinator",
    },
    attendance="Participants",
    attendance_caption="Who was invited, and who took part",
    col_name="Name",
    col_role="Role",
    col_service="Service",
    col_attendance="Attendance",
    roles={
        "owner": "Plan owner",
        "guardian": "Guardian",
        "relative": "Relative",
        "coordinator": "Coordinator",
        "service": "Service",
    },
    marks={
        "present": "Present",
        "left": "Left before the end",
        "absent": "Not present",
        "invited": "Invited",
    },
    nobody="No participants are recorded.",
    items="Agenda items",
    no_items="There are no agenda items in these minutes.",
    item_section="Part of the plan",
    notes="Notes",
    no_notes="No notes.",
    decisions="What was decided",
    no_decisions="No decisions.",
    decision_kinds={
        "continue": "Continue",
        "adjust": "Adjust",
        "stop": "Stop",
        "new_measure": "New measure",
        "evaluation": "Evaluation",
        "next_meeting": "Next meeting",
        "next_evaluation": "Next evaluation",
    },
    measure="Measure",
    responsible="Responsible",
    due="Due",
    ahead="What happens next",
    next_meeting="Next meeting",
    next_evaluation="Next evaluation",
    not_decided="Not decided yet.",
    about="About these minutes",
    version="Version",
    supersedes="Replaces version {version}",
    reason="Reason for the correction",
    approved="Approved by",
    finalised="Finalised by",
    checksum="Checksum (SHA-256)",
    checksum_note="The checksum covers the whole minutes as they were stored. "
    "Nobody can change finalised minutes. A correction is a new version.",
    filtered_note="You only see the parts of the plan you are allowed to see.",
    page="Page {page}",
    summary_title="The meeting in short",
    greeting="Hi, {name}!",
    summary_intro="Here is what matters most from the meeting on {when}.",
    agreed="What we agreed",
    nothing_agreed="We did not decide anything new in this meeting.",
    who_what_when="Who does what, and by when",
    who_caption="Tasks from the meeting",
    col_who="Who",
    col_what="What",
    col_by="By",
    not_set="Not decided",
    no_tasks="Nobody was given new tasks with a deadline.",
    next_time="Next time",
    next_meeting_at="The next meeting is {when}.",
    next_meeting_place="We meet here: {place}.",
    next_evaluation_by="The plan will be evaluated by {when}.",
    nothing_planned="The next meeting is not decided yet.",
    questions="Ask your coordinator if anything is unclear.",
)

_LANGUAGES = {"nb": _NB, "nn": _NN, "en": _EN}


@dataclass(frozen=True)
class _Says:
    """The sentences a decision is written in, in one language ({title} comes quoted)."""

    quote: str  # {text}
    cont: str  # {title}
    stop: str  # {title}
    reason: str  # {text}
    adjust: str  # {title} {changes}
    adjust_plain: str  # {title}
    changes: dict[str, str]  # {value}
    no_end: str
    new: str  # {title}
    new_who: str  # {who}
    new_from: str  # {date}
    works: str  # {text}
    fails: str  # {text}
    why: str  # {text}
    outcome: str  # {text}
    outcomes: dict[str, str]
    next_meeting: str  # {when}
    next_evaluation: str  # {date}
    note: str  # {text}


_SAYS = {
    "nb": _Says(
        quote="«{text}»",
        cont="{title} fortsetter som før.",
        stop="{title} avsluttes.",
        reason="Begrunnelse: {text}",
        adjust="{title} justeres: {changes}.",
        adjust_plain="{title} justeres.",
        changes={
            "new_title": "nytt navn {value}",
            "new_frequency": "hyppighet {value}",
            "new_responsible": "ny ansvarlig {value}",
            "new_starts": "starter {value}",
            "new_ends": "varer til {value}",
            "new_evaluate_by": "evalueres innen {value}",
        },
        no_end="uten sluttdato",
        new="{title}.",
        new_who="Ansvarlig: {who}.",
        new_from="Starter {date}.",
        works="Dette virker (behold det): {text}",
        fails="Dette virker ikke: {text}",
        why="Hvorfor: {text}",
        outcome="Hva gjør vi nå: {text}.",
        outcomes={
            "continue": "Fortsetter",
            "adjust": "Justerer",
            "stop": "Avslutter",
            "new": "Prøver noe nytt",
        },
        next_meeting="{when}.",
        next_evaluation="Innen {date}.",
        note="Notat: {text}",
    ),
    "nn": _Says(
        quote="«{text}»",
        cont="{title} held fram som før.",
        stop="{title} blir avslutta.",
        reason="Grunngiving: {text}",
        adjust="{title} blir justert: {changes}.",
        adjust_plain="{title} blir justert.",
        changes={
            "new_title": "nytt namn {value}",
            "new_frequency": "hyppigheit {value}",
            "new_responsible": "ny ansvarleg {value}",
            "new_starts": "startar {value}",
            "new_ends": "varer til {value}",
            "new_evaluate_by": "blir evaluert innan {value}",
        },
        no_end="utan sluttdato",
        new="{title}.",
        new_who="Ansvarleg: {who}.",
        new_from="Startar {date}.",
        works="Dette verkar (behald det): {text}",
        fails="Dette verkar ikkje: {text}",
        why="Kvifor: {text}",
        outcome="Kva gjer vi no: {text}.",
        outcomes={
            "continue": "Held fram",
            "adjust": "Justerer",
            "stop": "Avsluttar",
            "new": "Prøver noko nytt",
        },
        next_meeting="{when}.",
        next_evaluation="Innan {date}.",
        note="Notat: {text}",
    ),
    "en": _Says(
        quote="“{text}”",
        cont="{title} continues as before.",
        stop="{title} stops.",
        reason="Reason: {text}",
        adjust="{title} is adjusted: {changes}.",
        adjust_plain="{title} is adjusted.",
        changes={
            "new_title": "new name {value}",
            "new_frequency": "how often {value}",
            "new_responsible": "new person responsible {value}",
            "new_starts": "starts {value}",
            "new_ends": "lasts until {value}",
            "new_evaluate_by": "evaluated by {value}",
        },
        no_end="no end date",
        new="{title}.",
        new_who="Responsible: {who}.",
        new_from="Starts {date}.",
        works="This works (keep it): {text}",
        fails="This does not work: {text}",
        why="Why: {text}",
        outcome="What we do now: {text}.",
        outcomes={
            "continue": "Continue",
            "adjust": "Adjust",
            "stop": "Stop",
            "new": "Try something new",
        },
        next_meeting="{when}.",
        next_evaluation="By {date}.",
        note="Note: {text}",
    ),
}


def _words(lang: str) -> _Words:
    return _LANGUAGES.get(lang, _NB)


def language(lang: str | None) -> str:
    """The language a rendering will be in: nb, nn or en (anything else is bokmål)."""
    return lang if lang in _LANGUAGES else "nb"


# --- dates --------------------------------------------------------------------------------


def _parse_moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the content stores UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(OSLO)


def _day(day: date, w: _Words) -> str:
    return w.date_format.format(
        weekday=w.weekdays[day.weekday()], day=day.day, month=w.months[day.month - 1], year=day.year
    )


def _clock(moment: datetime, w: _Words) -> str:
    return w.time_format.format(hour=moment.hour, minute=moment.minute)


def _moment(value: str | None, w: _Words) -> str:
    """'tirsdag 24. november 2026 kl. 10:00' in Oslo time; unreadable values as given."""
    moment = _parse_moment(value)
    if moment is None:
        return value or ""
    return f"{_day(moment.date(), w)} {w.at} {_clock(moment, w)}"


def moment_text(moment: datetime, lang: str = "nb") -> str:
    """A moment as a person reads it: 'tirsdag 1. desember 2026 kl. 10:00', Oslo time."""
    return _moment(moment.isoformat(), _words(lang))


def _span(start: str, end: str, w: _Words) -> str:
    begins, ends = _parse_moment(start), _parse_moment(end)
    if begins is None or ends is None:
        return " – ".join(part for part in (_moment(start, w), _moment(end, w)) if part)
    if begins.date() == ends.date():
        return f"{_moment(start, w)}–{_clock(ends, w)}"
    return f"{_moment(start, w)} – {_moment(end, w)}"


def _date(value: str | None, w: _Words) -> str:
    """A date ('2027-03-01') or a moment, in words; unreadable values as given."""
    if not value:
        return ""
    try:
        return _day(date.fromisoformat(value), w)
    except ValueError:
        return _moment(value, w)


def _meeting_day(content: MinutesContent, w: _Words) -> str:
    moment = _parse_moment(content["meeting"]["starts_at"])
    return _day(moment.date(), w) if moment else content["meeting"]["starts_at"]


# --- shared pieces ---------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """Notes as paragraphs: one per non-empty line."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return [line.strip() for line in normalised.split("\n") if line.strip()]


# ReportLab lays out a paragraph again from its start for every page it runs over, so one
# long paragraph costs the square of its length (100 KB took 8 s, 1 MB would take many
# minutes). Paragraphs handed to it are therefore at most this many characters: well under
# a page, so each piece is laid out at most twice and the whole is linear in the text.
CHUNK_CHARS = 2000


def chunks(line: str, limit: int = CHUNK_CHARS) -> list[str]:
    """``line`` in pieces of at most ``limit`` characters, cut after a space where one is
    in the second half of the piece (so words stay whole), otherwise at ``limit``.
    Joining the pieces gives ``line`` back. Linear: each cut looks at most ``limit``
    characters back."""
    if len(line) <= limit:
        return [line]
    out: list[str] = []
    start, end = 0, len(line)
    while end - start > limit:
        cut = line.rfind(" ", start + limit // 2, start + limit)
        stop = cut + 1 if cut >= 0 else start + limit
        out.append(line[start:stop])
        start = stop
    out.append(line[start:])
    return out


def note_paragraphs(text: str) -> list[tuple[str, bool]]:
    """The paragraphs the PDF lays out for some notes: one per line, long lines in pieces;
    each with whether the next piece continues the same line (no space between them)."""
    out: list[tuple[str, bool]] = []
    for line in _lines(text):
        pieces = chunks(line, CHUNK_CHARS)
        out += [(piece, n < len(pieces) - 1) for n, piece in enumerate(pieces)]
    return out


def _is_web_link(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


# Keys of a decision's data that become its details (all plain text or dates; people are
# named by the minutes' responsible_name, which is filtered like every other name).
_DETAIL_KEYS = (
    "title",
    "reason",
    "note",
    "starts",
    "works",
    "does_not_work",
    "why",
    "outcome",
    "starts_at",
    "place",
    "date",
)
_CHANGE_KEYS = ("title", "frequency", "starts", "ends", "evaluate_by")


def decision_details(data: Mapping[str, object], new_responsible: str | None) -> dict[str, str]:
    """The facts of a decision's data that its sentence is written from: text and dates
    only (no identifiers). ``new_responsible`` is the name of a new person responsible
    set by an «adjust» decision, if the reader may see it."""
    out = {k: v for k in _DETAIL_KEYS if isinstance(v := data.get(k), str) and v}
    changes = data.get("changes")
    if isinstance(changes, dict):
        for key in _CHANGE_KEYS:
            if key in changes:
                value = changes[key]
                out[f"new_{key}"] = value if isinstance(value, str) else ""
    if new_responsible:
        out["new_responsible"] = new_responsible
    return out


def _quoted(text: str, say: _Says) -> str:
    return say.quote.format(text=text.strip())


def decision_sentence(
    kind: str,
    details: Mapping[str, str],
    *,
    measure_title: str | None,
    responsible_name: str | None,
    lang: str = "nb",
) -> str:
    """A decision in plain words, without its kind's label (which the reader sees beside
    it): dates in words, times in Norwegian time, in ``lang``."""
    w, say = _words(lang), _SAYS.get(lang, _SAYS["nb"])
    title = _quoted(measure_title or details.get("title", ""), say)
    parts: list[str] = []
    if kind == "continue":
        parts.append(say.cont.format(title=title))
    elif kind == "stop":
        parts.append(say.stop.format(title=title))
        if details.get("reason"):
            parts.append(_sentence(say.reason.format(text=details["reason"])))
    elif kind == "adjust":
        changes = []
        for key, template in say.changes.items():
            if key not in details:
                continue
            value = details[key]
            if key in ("new_starts", "new_ends", "new_evaluate_by"):
                if not value:
                    if key == "new_ends":
                        changes.append(say.no_end)
                    continue
                value = _date(value, w)
            elif key == "new_title":
                value = _quoted(value, say)
            changes.append(template.format(value=value))
        if changes:
            parts.append(say.adjust.format(title=title, changes=", ".join(changes)))
        else:
            parts.append(say.adjust_plain.format(title=title))
    elif kind == "new_measure":
        parts.append(say.new.format(title=title))
        if responsible_name:
            parts.append(say.new_who.format(who=responsible_name))
        if details.get("starts"):
            parts.append(say.new_from.format(date=_date(details["starts"], w)))
    elif kind == "evaluation":
        if measure_title or details.get("title"):
            parts.append(f"{title}.")
        for key, template in (("works", say.works), ("does_not_work", say.fails)):
            if details.get(key):
                parts.append(_sentence(template.format(text=details[key])))
        if details.get("does_not_work") and details.get("why"):
            parts.append(_sentence(say.why.format(text=details["why"])))
        outcome = details.get("outcome")
        if outcome:
            parts.append(say.outcome.format(text=say.outcomes.get(outcome, outcome)))
    elif kind == "next_meeting":
        when = _moment(details.get("starts_at"), w)
        if details.get("place"):
            when += f", {details['place']}"
        parts.append(say.next_meeting.format(when=when))
    elif kind == "next_evaluation":
        parts.append(say.next_evaluation.format(date=_date(details.get("date"), w)))
    if details.get("note"):
        parts.append(_sentence(say.note.format(text=details["note"])))
    return " ".join(part for part in parts if part.strip())


def with_texts(content: MinutesContent, lang: str) -> MinutesContent:
    """``content`` with each decision's ``text``: its sentence in ``lang``, without the
    kind's label (for the minutes as JSON, which a screen shows beside the label)."""
    w = _words(lang)
    items: list[MinutesItem] = [
        item | {"decisions": [d | {"text": _decision_text(d, w)} for d in item["decisions"]]}
        for item in content["items"]
    ]
    return content | {"items": items}


# Labels the stored bokmål summaries of older minutes begin with (the label is shown
# beside the sentence, so it is taken off the front).
_STORED_LABELS = ("Nytt tiltak: ", "Neste møte: ", "Evaluering av ")


def _decision_text(decision: DecisionEntry, w: _Words) -> str:
    details = decision.get("details")
    if details is not None:
        return decision_sentence(
            decision["kind"],
            details,
            measure_title=decision["measure_title"],
            responsible_name=decision["responsible_name"],
            lang=w.lang,
        )
    summary = decision["summary"].strip()
    for label in _STORED_LABELS:
        if summary.startswith(label):
            summary = summary[len(label) :]
            break
    if summary:
        return summary
    title = decision["measure_title"]
    return _quoted(title, _SAYS.get(w.lang, _SAYS["nb"])) if title else ""


def _labelled(decision: DecisionEntry, w: _Words) -> str:
    """'Juster: «Dagsenter» justeres: …' — the kind's label once, then the sentence."""
    label = w.decision_kinds.get(decision["kind"], decision["kind"])
    text = _decision_text(decision, w)
    return f"{label}: {text}" if text else label


def _decision_facts(decision: DecisionEntry, w: _Words) -> list[tuple[str, str]]:
    """What the sentence does not already say: the measure, who is responsible and the
    deadline."""
    facts: list[tuple[str, str]] = []
    written = "details" in decision
    kind = decision["kind"]
    if decision["measure_title"] and not written:
        facts.append((w.measure, decision["measure_title"]))
    if decision["responsible_name"] and not (written and kind == "new_measure"):
        facts.append((w.responsible, decision["responsible_name"]))
    if decision["due"] and not (written and kind in ("adjust", "next_evaluation")):
        facts.append((w.due, _date(decision["due"], w)))
    return facts


def _service_of(person: AttendanceEntry) -> str:
    return ", ".join(part for part in (person["service"], person["organisation"]) if part)


def _meta(content: MinutesContent, w: _Words) -> list[tuple[str, str]]:
    meeting = content["meeting"]
    rows = [
        (w.plan, meeting["plan_title"]),
        (w.meeting_kind, w.kinds.get(meeting["kind"], meeting["kind"])),
        (w.when, _span(meeting["starts_at"], meeting["ends_at"], w)),
    ]
    if meeting["place"]:
        rows.append((w.place, meeting["place"]))
    return rows


def _about(content: MinutesContent, w: _Words) -> list[str]:
    """The approval trail, one sentence each (the checksum is shown separately)."""
    lines = [f"{w.version} {content['version']}."]
    if content["supersedes"] is not None:
        lines.append(_sentence(w.supersedes.format(version=content["supersedes"])))
    if content["reason"]:
        lines.append(f"{w.reason}: {_sentence(content['reason'])}")
    for label, name, at in (
        (w.approved, content["approved_by"], content["approved_at"]),
        (w.finalised, content["finalised_by"], content["finalised_at"]),
    ):
        if name:
            when = _moment(at, w)
            lines.append(_sentence(f"{label} {name}, {when}" if when else f"{label} {name}"))
    return lines


def _tasks(content: MinutesContent) -> list[DecisionEntry]:
    """Decisions that give someone something to do, soonest deadline first."""
    tasks = [
        d
        for item in content["items"]
        for d in item["decisions"]
        if d["kind"] not in ("next_meeting", "next_evaluation")
        and (d["responsible_name"] or d["due"])
    ]
    return sorted(tasks, key=lambda d: (d["due"] is None, d["due"] or ""))


# --- HTML ----------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


# The pages' stylesheet (web/static/minutes.css, served by the app under /static): the
# CSP allows stylesheets from 'self' only, so the pages carry no inline styles.
STYLESHEET = "/static/minutes.css"


def _document(w: _Words, title: str, body: Iterable[str]) -> str:
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{w.lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f'<link rel="stylesheet" href="{STYLESHEET}">',
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>", ""])


def _html_paragraphs(text: str, empty: str) -> list[str]:
    lines = _lines(text)
    if not lines:
        return [f'<p class="empty">{_e(empty)}</p>']
    return [f"<p>{_e(line)}</p>" for line in lines]


def _html_link(url: str) -> str:
    if _is_web_link(url):
        return f'<a href="{_e(url)}">{_e(url)}</a>'
    return _e(url)


def _html_attendance(content: MinutesContent, w: _Words) -> list[str]:
    out = [f'<section aria-labelledby="deltakere"><h2 id="deltakere">{_e(w.attendance)}</h2>']
    if not content["attendance"]:
        out.append(f"<p>{_e(w.nobody)}</p></section>")
        return out
    out += [
        "<table>",
        f"<caption>{_e(w.attendance_caption)}</caption>",
        "<thead><tr>",
        *(
            f'<th scope="col">{_e(label)}</th>'
            for label in (w.col_name, w.col_role, w.col_service, w.col_attendance)
        ),
        "</tr></thead>",
        "<tbody>",
    ]
    for person in content["attendance"]:
        out.append(
            f'<tr><th scope="row">{_e(person["name"])}</th>'
            f"<td>{_e(w.roles.get(person['role'], person['role']))}</td>"
            f"<td>{_e(_service_of(person))}</td>"
            f"<td>{_e(w.marks.get(person['attendance'], person['attendance']))}</td></tr>"
        )
    out += ["</tbody>", "</table>", "</section>"]
    return out


def _html_decision(decision: DecisionEntry, w: _Words) -> str:
    label = w.decision_kinds.get(decision["kind"], decision["kind"])
    facts = _decision_facts(decision, w)
    parts = [f"<li><strong>{_e(label)}:</strong> {_e(_decision_text(decision, w))}"]
    if facts:
        parts.append('<ul class="facts">')
        parts += [f"<li>{_e(name)}: {_e(value)}</li>" for name, value in facts]
        parts.append("</ul>")
    parts.append("</li>")
    return "".join(parts)


def _html_items(content: MinutesContent, w: _Words) -> list[str]:
    out = [f'<section aria-labelledby="saker"><h2 id="saker">{_e(w.items)}</h2>']
    if not content["items"]:
        out.append(f"<p>{_e(w.no_items)}</p>")
    for number, item in enumerate(content["items"], start=1):
        anchor = f"sak-{number}"
        out.append(f'<section aria-labelledby="{anchor}">')
        out.append(f'<h3 id="{anchor}">{number}. {_e(item["title"])}</h3>')
        if item["section_title"]:
            out.append(f'<p class="part">{_e(w.item_section)}: {_e(item["section_title"])}</p>')
        out.append(f"<h4>{_e(w.notes)}</h4>")
        out += _html_paragraphs(item["notes"], w.no_notes)
        out.append(f"<h4>{_e(w.decisions)}</h4>")
        if item["decisions"]:
            out.append("<ul>")
            out += [_html_decision(d, w) for d in item["decisions"]]
            out.append("</ul>")
        else:
            out.append(f"<p>{_e(w.no_decisions)}</p>")
        out.append("</section>")
    out.append("</section>")
    return out


def _html_ahead(content: MinutesContent, w: _Words) -> list[str]:
    nxt = content["next_meeting"]
    meeting = w.not_decided
    if nxt is not None and nxt["starts_at"]:
        meeting = _moment(nxt["starts_at"], w) + (f", {nxt['place']}" if nxt["place"] else "")
    evaluation = _date(content["next_evaluation"], w) or w.not_decided
    return [
        f'<section aria-labelledby="videre"><h2 id="videre">{_e(w.ahead)}</h2>',
        '<dl class="meta">',
        f"<dt>{_e(w.next_meeting)}</dt><dd>{_e(meeting)}</dd>",
        f"<dt>{_e(w.next_evaluation)}</dt><dd>{_e(evaluation)}</dd>",
        "</dl>",
        "</section>",
    ]


def render_minutes_html(content: MinutesContent, lang: str = "nb") -> str:
    """The minutes as one standalone, accessible HTML5 document (no scripts, no links out
    except the meeting's own video link)."""
    w = _words(lang)
    meeting = content["meeting"]
    meta = [f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in _meta(content, w)]
    if meeting["video_url"]:
        meta.append(f"<dt>{_e(w.video)}</dt><dd>{_html_link(meeting['video_url'])}</dd>")
    body = [
        "<header>",
        f"<h1>{_e(w.minutes)}: {_e(meeting['title'])}</h1>",
        '<dl class="meta">',
        *meta,
        "</dl>",
        "</header>",
        "<main>",
        *_html_attendance(content, w),
        *_html_items(content, w),
        *_html_ahead(content, w),
        "</main>",
        '<footer aria-labelledby="om">',
        f'<h2 id="om">{_e(w.about)}</h2>',
        *(f"<p>{_e(line)}</p>" for line in _about(content, w)),
        f'<p>{_e(w.checksum)}: <span class="checksum">{_e(content["hash"])}</span></p>',
        f"<p>{_e(w.checksum_note)}</p>",
        f"<p>{_e(w.filtered_note)}</p>",
        "</footer>",
    ]
    title = f"{w.minutes}: {meeting['title']} – {_meeting_day(content, w)}"
    return _document(w, title, body)


def render_owner_summary_html(content: MinutesContent, owner_name: str, lang: str = "nb") -> str:
    """One page in plain language for the plan owner: what we agreed, who does what by
    when, and what happens next."""
    w = _words(lang)
    day = _meeting_day(content, w)
    decisions = [d for item in content["items"] for d in item["decisions"]]
    body = [
        "<header>",
        f"<h1>{_e(w.summary_title)}: {_e(content['meeting']['title'])}</h1>",
        f"<p>{_e(w.greeting.format(name=owner_name))} {_e(w.summary_intro.format(when=day))}</p>",
        "</header>",
        "<main>",
        f'<section aria-labelledby="enige"><h2 id="enige">{_e(w.agreed)}</h2>',
    ]
    if decisions:
        body += [
            "<ul>",
            *(f"<li>{_e(_sentence(_labelled(d, w)))}</li>" for d in decisions),
            "</ul>",
        ]
    else:
        body.append(f"<p>{_e(w.nothing_agreed)}</p>")
    body.append("</section>")

    body.append(f'<section aria-labelledby="hvem"><h2 id="hvem">{_e(w.who_what_when)}</h2>')
    tasks = _tasks(content)
    if tasks:
        body += [
            "<table>",
            f"<caption>{_e(w.who_caption)}</caption>",
            "<thead><tr>",
            *(f'<th scope="col">{_e(label)}</th>' for label in (w.col_who, w.col_what, w.col_by)),
            "</tr></thead>",
            "<tbody>",
        ]
        for task in tasks:
            what = task["measure_title"] or _decision_text(task, w)
            body.append(
                f'<tr><th scope="row">{_e(task["responsible_name"] or w.not_set)}</th>'
                f"<td>{_e(what)}</td>"
                f"<td>{_e(_date(task['due'], w) or w.not_set)}</td></tr>"
            )
        body += ["</tbody>", "</table>"]
    else:
        body.append(f"<p>{_e(w.no_tasks)}</p>")
    body.append("</section>")

    body.append(f'<section aria-labelledby="neste"><h2 id="neste">{_e(w.next_time)}</h2>')
    nxt = content["next_meeting"]
    if nxt is not None and nxt["starts_at"]:
        body.append(f"<p>{_e(w.next_meeting_at.format(when=_moment(nxt['starts_at'], w)))}</p>")
        if nxt["place"]:
            body.append(f"<p>{_e(w.next_meeting_place.format(place=nxt['place']))}</p>")
    else:
        body.append(f"<p>{_e(w.nothing_planned)}</p>")
    if content["next_evaluation"]:
        when = _date(content["next_evaluation"], w)
        body.append(f"<p>{_e(w.next_evaluation_by.format(when=when))}</p>")
    body += ["</section>", "</main>", f"<footer><p>{_e(w.questions)}</p></footer>"]
    return _document(w, f"{w.summary_title}: {content['meeting']['title']} – {day}", body)


# --- PDF -----------------------------------------------------------------------------------


_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _x(text: str) -> str:
    """Text for ReportLab's paragraph markup (which is XML-like), escaped in one pass."""
    return text.translate(_MARKUP)


def _pdf_styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    base = ParagraphStyle(
        "body",
        parent=sheet["Normal"],
        fontName="Helvetica",
        fontSize=10.5,
        leading=14,
        spaceAfter=4,
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=sheet["Title"],
            fontName="Helvetica-Bold",
            fontSize=18,
            leading=22,
            alignment=0,
            spaceAfter=8,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=sheet["Heading2"],
            fontName="Helvetica-Bold",
            fontSize=14,
            leading=18,
            spaceBefore=12,
            spaceAfter=6,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=sheet["Heading3"],
            fontName="Helvetica-Bold",
            fontSize=12,
            leading=15,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h4": ParagraphStyle(
            "h4", parent=base, fontName="Helvetica-Bold", spaceBefore=4, spaceAfter=2
        ),
        "body": base,
        "joined": ParagraphStyle("joined", parent=base, spaceAfter=0),
        "muted": ParagraphStyle("muted", parent=base, textColor=colors.HexColor("#444444")),
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=14, bulletIndent=2),
        "cell": ParagraphStyle("cell", parent=base, spaceAfter=0),
        "head": ParagraphStyle("head", parent=base, fontName="Helvetica-Bold", spaceAfter=0),
        "mono": ParagraphStyle("mono", parent=base, fontName="Courier", fontSize=9),
    }


def _pdf_attendance(
    content: MinutesContent, w: _Words, s: dict[str, ParagraphStyle]
) -> list[Flowable]:
    flow: list[Flowable] = [Paragraph(_x(w.attendance), s["h2"])]
    if not content["attendance"]:
        return [*flow, Paragraph(_x(w.nobody), s["body"])]
    rows = [
        [
            Paragraph(_x(label), s["head"])
            for label in (w.col_name, w.col_role, w.col_service, w.col_attendance)
        ]
    ]
    rows += [
        [
            Paragraph(_x(person["name"]), s["cell"]),
            Paragraph(_x(w.roles.get(person["role"], person["role"])), s["cell"]),
            Paragraph(_x(_service_of(person)), s["cell"]),
            Paragraph(_x(w.marks.get(person["attendance"], person["attendance"])), s["cell"]),
        ]
        for person in content["attendance"]
    ]
    table = Table(rows, colWidths=[45 * mm, 32 * mm, 55 * mm, 38 * mm], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.HexColor("#999999")),
                ("LINEBELOW", (0, 1), (-1, -1), 0.5, colors.HexColor("#dddddd")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f2f2")),
            ]
        )
    )
    return [*flow, table]


def _pdf_items(content: MinutesContent, w: _Words, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    flow: list[Flowable] = [Paragraph(_x(w.items), s["h2"])]
    if not content["items"]:
        flow.append(Paragraph(_x(w.no_items), s["body"]))
    for number, item in enumerate(content["items"], start=1):
        heading: list[Flowable] = [Paragraph(f"{number}. {_x(item['title'])}", s["h3"])]
        if item["section_title"]:
            heading.append(Paragraph(_x(f"{w.item_section}: {item['section_title']}"), s["muted"]))
        heading.append(Paragraph(_x(w.notes), s["h4"]))
        notes = [
            Paragraph(_x(piece), s["joined" if continued else "body"])
            for piece, continued in note_paragraphs(item["notes"])
        ] or [Paragraph(_x(w.no_notes), s["body"])]
        flow.append(KeepTogether([*heading, notes[0]]))
        flow += notes[1:]
        flow.append(Paragraph(_x(w.decisions), s["h4"]))
        if not item["decisions"]:
            flow.append(Paragraph(_x(w.no_decisions), s["body"]))
        for decision in item["decisions"]:
            label = w.decision_kinds.get(decision["kind"], decision["kind"])
            text = f"<b>{_x(label)}:</b> {_x(_decision_text(decision, w))}"
            facts = _decision_facts(decision, w)
            if facts:
                text += "<br/>" + " · ".join(f"{_x(name)}: {_x(value)}" for name, value in facts)
            flow.append(Paragraph(text, s["bullet"], bulletText="–"))
    return flow


def _pdf_ahead(content: MinutesContent, w: _Words, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    nxt = content["next_meeting"]
    meeting = w.not_decided
    if nxt is not None and nxt["starts_at"]:
        meeting = _moment(nxt["starts_at"], w) + (f", {nxt['place']}" if nxt["place"] else "")
    evaluation = _date(content["next_evaluation"], w) or w.not_decided
    return [
        Paragraph(_x(w.ahead), s["h2"]),
        Paragraph(f"<b>{_x(w.next_meeting)}:</b> {_x(meeting)}", s["body"]),
        Paragraph(f"<b>{_x(w.next_evaluation)}:</b> {_x(evaluation)}", s["body"]),
    ]


def _page_footer(text: str, w: _Words) -> Callable[[Canvas, BaseDocTemplate], None]:
    if len(text) > 90:
        text = text[:89].rstrip() + "…"

    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(20 * mm, 12 * mm, text)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, w.page.format(page=doc.page))
        canvas.restoreState()

    return draw


def render_minutes_pdf(content: MinutesContent, lang: str = "nb") -> bytes:
    """The minutes as an A4 PDF (ReportLab's built-in Latin-1 fonts cover æøå)."""
    w = _words(lang)
    s = _pdf_styles()
    meeting = content["meeting"]
    title = f"{w.minutes}: {meeting['title']}"
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=22 * mm,
        title=f"{title} – {_meeting_day(content, w)}",
        author="Planrom",
        subject=meeting["plan_title"],
        creator="Planrom",
        lang=w.lang,
        invariant=True,
    )
    meta = list(_meta(content, w))
    if meeting["video_url"]:
        meta.append((w.video, meeting["video_url"]))
    story: list[Flowable] = [Paragraph(_x(title), s["title"])]
    story += [Paragraph(f"<b>{_x(name)}:</b> {_x(value)}", s["body"]) for name, value in meta]
    story += _pdf_attendance(content, w, s)
    story += _pdf_items(content, w, s)
    story += _pdf_ahead(content, w, s)
    story.append(Spacer(1, 4 * mm))
    about: list[Flowable] = [Paragraph(_x(w.about), s["h2"])]
    about += [Paragraph(_x(line), s["body"]) for line in _about(content, w)]
    about.append(Paragraph(_x(f"{w.checksum}:"), s["body"]))
    about.append(Paragraph(_x(content["hash"]), s["mono"]))
    about.append(Paragraph(_x(w.checksum_note), s["muted"]))
    about.append(Paragraph(_x(w.filtered_note), s["muted"]))
    story.append(KeepTogether(about))
    footer = _page_footer(f"{title} · {w.version} {content['version']}", w)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
