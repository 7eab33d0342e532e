"""The minutes as a neutral page: the content walked once, in the reader's language, into
blocks (headings, paragraphs, facts, tables, decisions) that ``html.py`` and ``pdf.py``
both draw. What the reader sees is decided here, so the web page and the PDF cannot say
different things; how it looks is decided by each drawer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from server.minutes.model import MinutesContent
from server.minutes.text import (
    about,
    day,
    decision_facts,
    decision_text,
    labelled,
    meeting_day,
    meta,
    moment,
    sentence,
    service_of,
    tasks,
)
from server.minutes.words import Words, words

# Part of the key of stored renderings (server.rendered_minutes): raise it whenever the
# output for the same content changes, so that new requests get the new rendering.
RENDERER_VERSION = 4

Style = Literal["body", "muted", "part"]


@dataclass(frozen=True)
class Para:
    """A paragraph. ``muted``: secondary (grey in print); ``part``: which part of the plan."""

    text: str
    style: Style = "body"


@dataclass(frozen=True)
class Notes:
    """Free text typed in the meeting: one paragraph per line (long lines are cut into
    pieces for print, see text.chunks), or ``empty`` when there is none."""

    text: str
    empty: str


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    link: bool = False  # the value is an address the reader may follow


@dataclass(frozen=True)
class Facts:
    """Labelled values: 'Tid: tirsdag 24. november 2026 kl. 10:00–11:30'."""

    rows: tuple[Fact, ...]


@dataclass(frozen=True)
class Grid:
    """A table whose first column names each row."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Entry:
    """A decision: its kind's label, its sentence, and facts the sentence does not say."""

    label: str
    text: str
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Entries:
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Bullets:
    """Plain sentences in a list."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Checksum:
    label: str
    value: str


@dataclass(frozen=True)
class Subheading:
    text: str


@dataclass(frozen=True)
class Section:
    """A part of the page with a heading (level 2 or 3). ``keep``: in print, the heading
    stays on one page with the first ``keep`` blocks (the last of them with its first
    paragraph only); 0 keeps only the heading."""

    anchor: str
    heading: str
    level: int
    body: tuple[Block, ...]
    keep: int = 0


Block = Para | Notes | Facts | Grid | Entries | Bullets | Checksum | Subheading | Section


@dataclass(frozen=True)
class Footer:
    """The end of the page; with a heading, a section of its own (``anchor``)."""

    body: tuple[Block, ...]
    heading: str = ""
    anchor: str = ""


@dataclass(frozen=True)
class Page:
    lang: str
    title: str  # the document's title (browser tab, PDF properties)
    heading: str  # the visible title
    header: tuple[Block, ...]
    main: tuple[Block, ...]
    footer: Footer
    subject: str = ""
    running: str = ""  # printed at the foot of every page


def _attendance(content: MinutesContent, w: Words) -> Section:
    if not content["attendance"]:
        return Section("deltakere", w.attendance, 2, (Para(w.nobody),))
    rows = tuple(
        (
            person["name"],
            w.roles.get(person["role"], person["role"]),
            service_of(person),
            w.marks.get(person["attendance"], person["attendance"]),
        )
        for person in content["attendance"]
    )
    grid = Grid(
        w.attendance_caption,
        (w.col_name, w.col_role, w.col_service, w.col_attendance),
        rows,
        widths_mm=(45, 32, 55, 38),
    )
    return Section("deltakere", w.attendance, 2, (grid,))


def _items(content: MinutesContent, w: Words) -> Section:
    if not content["items"]:
        return Section("saker", w.items, 2, (Para(w.no_items),))
    items: list[Block] = []
    for number, item in enumerate(content["items"], start=1):
        body: list[Block] = []
        if item["section_title"]:
            body.append(Para(f"{w.item_section}: {item['section_title']}", "part"))
        body += [Subheading(w.notes), Notes(item["notes"], w.no_notes)]
        keep = len(body)
        body.append(Subheading(w.decisions))
        if item["decisions"]:
            entries = tuple(
                Entry(
                    w.decision_kinds.get(d["kind"], d["kind"]),
                    decision_text(d, w),
                    tuple(decision_facts(d, w)),
                )
                for d in item["decisions"]
            )
            body.append(Entries(entries))
        else:
            body.append(Para(w.no_decisions))
        items.append(Section(f"sak-{number}", f"{number}. {item['title']}", 3, tuple(body), keep))
    return Section("saker", w.items, 2, tuple(items))


def _ahead(content: MinutesContent, w: Words) -> Section:
    nxt = content["next_meeting"]
    meeting = w.not_decided
    if nxt is not None and nxt["starts_at"]:
        meeting = moment(nxt["starts_at"], w) + (f", {nxt['place']}" if nxt["place"] else "")
    evaluation = day(content["next_evaluation"], w) or w.not_decided
    facts = Facts((Fact(w.next_meeting, meeting), Fact(w.next_evaluation, evaluation)))
    return Section("videre", w.ahead, 2, (facts,))


def minutes_page(content: MinutesContent, lang: str = "nb") -> Page:
    """The whole minutes, as the reader may see them."""
    w = words(lang)
    meeting = content["meeting"]
    rows = [Fact(label, value) for label, value in meta(content, w)]
    if meeting["video_url"]:
        rows.append(Fact(w.video, meeting["video_url"], link=True))
    heading = f"{w.minutes}: {meeting['title']}"
    trail: list[Block] = [Para(line) for line in about(content, w)]
    trail += [
        Checksum(w.checksum, content["hash"]),
        Para(w.checksum_note, "muted"),
        Para(w.filtered_note, "muted"),
    ]
    return Page(
        lang=w.lang,
        title=f"{heading} – {meeting_day(content, w)}",
        heading=heading,
        header=(Facts(tuple(rows)),),
        main=(_attendance(content, w), _items(content, w), _ahead(content, w)),
        footer=Footer(tuple(trail), heading=w.about, anchor="om"),
        subject=meeting["plan_title"],
        running=f"{heading} · {w.version} {content['version']}",
    )


def summary_page(content: MinutesContent, owner_name: str, lang: str = "nb") -> Page:
    """One page in plain language for the plan owner: what we agreed, who does what by
    when, and what happens next."""
    w = words(lang)
    when = meeting_day(content, w)
    decisions = [d for item in content["items"] for d in item["decisions"]]
    agreed: Block = (
        Bullets(tuple(sentence(labelled(d, w)) for d in decisions))
        if decisions
        else Para(w.nothing_agreed)
    )
    todo = tasks(content)
    who: Block = (
        Grid(
            w.who_caption,
            (w.col_who, w.col_what, w.col_by),
            tuple(
                (
                    task["responsible_name"] or w.not_set,
                    task["measure_title"] or decision_text(task, w),
                    day(task["due"], w) or w.not_set,
                )
                for task in todo
            ),
        )
        if todo
        else Para(w.no_tasks)
    )
    ahead: list[Block] = []
    nxt = content["next_meeting"]
    if nxt is not None and nxt["starts_at"]:
        ahead.append(Para(w.next_meeting_at.format(when=moment(nxt["starts_at"], w))))
        if nxt["place"]:
            ahead.append(Para(w.next_meeting_place.format(place=nxt["place"])))
    else:
        ahead.append(Para(w.nothing_planned))
    if content["next_evaluation"]:
        by = day(content["next_evaluation"], w)
        ahead.append(Para(w.next_evaluation_by.format(when=by)))
    heading = f"{w.summary_title}: {content['meeting']['title']}"
    greeting = f"{w.greeting.format(name=owner_name)} {w.summary_intro.format(when=when)}"
    return Page(
        lang=w.lang,
        title=f"{heading} – {when}",
        heading=heading,
        header=(Para(greeting),),
        main=(
            Section("enige", w.agreed, 2, (agreed,)),
            Section("hvem", w.who_what_when, 2, (who,)),
            Section("neste", w.next_time, 2, tuple(ahead)),
        ),
        footer=Footer((Para(w.questions),)),
        subject=content["meeting"]["plan_title"],
        running=heading,
    )
