"""The minutes' content in words: dates in Oslo time, notes in paragraphs, each decision
as a sentence in the reader's language, and the facts beside it. Shared by the layout
(``layout.py``) and by the minutes as JSON (``with_texts``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from server.dates import calendar, clock, day_text, parse_moment
from server.minutes.model import AttendanceEntry, DecisionEntry, MinutesContent, MinutesItem
from server.minutes.words import Says, Words, says, words

# --- dates --------------------------------------------------------------------------------


def moment(value: str | None, w: Words) -> str:
    """'tirsdag 24. november 2026 kl. 10:00' in Oslo time; unreadable values as given."""
    at = parse_moment(value)
    if at is None:
        return value or ""
    return f"{day_text(at.date(), w.lang)} {calendar(w.lang).at} {clock(at)}"


def span(start: str, end: str, w: Words) -> str:
    begins, ends = parse_moment(start), parse_moment(end)
    if begins is None or ends is None:
        return " – ".join(part for part in (moment(start, w), moment(end, w)) if part)
    if begins.date() == ends.date():
        return f"{moment(start, w)}–{clock(ends)}"
    return f"{moment(start, w)} – {moment(end, w)}"


def day(value: str | None, w: Words) -> str:
    """A date ('2027-03-01') or a moment, in words; unreadable values as given."""
    if not value:
        return ""
    try:
        return day_text(date.fromisoformat(value), w.lang)
    except ValueError:
        return moment(value, w)


def meeting_day(content: MinutesContent, w: Words) -> str:
    at = parse_moment(content["meeting"]["starts_at"])
    return day_text(at.date(), w.lang) if at else content["meeting"]["starts_at"]


# --- notes and decisions -------------------------------------------------------------------


def lines(text: str) -> list[str]:
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
    for line in lines(text):
        pieces = chunks(line, CHUNK_CHARS)
        out += [(piece, n < len(pieces) - 1) for n, piece in enumerate(pieces)]
    return out


def is_web_link(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def sentence(text: str) -> str:
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


def quoted(text: str, say: Says) -> str:
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
    w, say = words(lang), says(lang)
    title = quoted(measure_title or details.get("title", ""), say)
    parts: list[str] = []
    if kind == "continue":
        parts.append(say.cont.format(title=title))
    elif kind == "stop":
        parts.append(say.stop.format(title=title))
        if details.get("reason"):
            parts.append(sentence(say.reason.format(text=details["reason"])))
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
                value = day(value, w)
            elif key == "new_title":
                value = quoted(value, say)
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
            parts.append(say.new_from.format(date=day(details["starts"], w)))
    elif kind == "evaluation":
        if measure_title or details.get("title"):
            parts.append(f"{title}.")
        for key, template in (("works", say.works), ("does_not_work", say.fails)):
            if details.get(key):
                parts.append(sentence(template.format(text=details[key])))
        if details.get("does_not_work") and details.get("why"):
            parts.append(sentence(say.why.format(text=details["why"])))
        outcome = details.get("outcome")
        if outcome:
            parts.append(say.outcome.format(text=say.outcomes.get(outcome, outcome)))
    elif kind == "next_meeting":
        when = moment(details.get("starts_at"), w)
        if details.get("place"):
            when += f", {details['place']}"
        parts.append(say.next_meeting.format(when=when))
    elif kind == "next_evaluation":
        parts.append(say.next_evaluation.format(date=day(details.get("date"), w)))
    if details.get("note"):
        parts.append(sentence(say.note.format(text=details["note"])))
    return " ".join(part for part in parts if part.strip())


def with_texts(content: MinutesContent, lang: str) -> MinutesContent:
    """``content`` with each decision's ``text``: its sentence in ``lang``, without the
    kind's label (for the minutes as JSON, which a screen shows beside the label)."""
    w = words(lang)
    items: list[MinutesItem] = [
        item | {"decisions": [d | {"text": decision_text(d, w)} for d in item["decisions"]]}
        for item in content["items"]
    ]
    return content | {"items": items}


# Labels the stored bokmål summaries of older minutes begin with (the label is shown
# beside the sentence, so it is taken off the front).
_STORED_LABELS = ("Nytt tiltak: ", "Neste møte: ", "Evaluering av ")


def decision_text(decision: DecisionEntry, w: Words) -> str:
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
    return quoted(title, says(w.lang)) if title else ""


def labelled(decision: DecisionEntry, w: Words) -> str:
    """'Juster: «Dagsenter» justeres: …' — the kind's label once, then the sentence."""
    label = w.decision_kinds.get(decision["kind"], decision["kind"])
    text = decision_text(decision, w)
    return f"{label}: {text}" if text else label


def decision_facts(decision: DecisionEntry, w: Words) -> list[tuple[str, str]]:
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
        facts.append((w.due, day(decision["due"], w)))
    return facts


def service_of(person: AttendanceEntry) -> str:
    return ", ".join(part for part in (person["service"], person["organisation"]) if part)


def meta(content: MinutesContent, w: Words) -> list[tuple[str, str]]:
    meeting = content["meeting"]
    rows = [
        (w.plan, meeting["plan_title"]),
        (w.meeting_kind, w.kinds.get(meeting["kind"], meeting["kind"])),
        (w.when, span(meeting["starts_at"], meeting["ends_at"], w)),
    ]
    if meeting["place"]:
        rows.append((w.place, meeting["place"]))
    return rows


def about(content: MinutesContent, w: Words) -> list[str]:
    """The approval trail, one sentence each (the checksum is shown separately)."""
    lines = [f"{w.version} {content['version']}."]
    if content["supersedes"] is not None:
        lines.append(sentence(w.supersedes.format(version=content["supersedes"])))
    if content["reason"]:
        lines.append(f"{w.reason}: {sentence(content['reason'])}")
    for label, name, at in (
        (w.approved, content["approved_by"], content["approved_at"]),
        (w.finalised, content["finalised_by"], content["finalised_at"]),
    ):
        if name:
            when = moment(at, w)
            lines.append(sentence(f"{label} {name}, {when}" if when else f"{label} {name}"))
    return lines


def tasks(content: MinutesContent) -> list[DecisionEntry]:
    """Decisions that give someone something to do, soonest deadline first."""
    tasks = [
        d
        for item in content["items"]
        for d in item["decisions"]
        if d["kind"] not in ("next_meeting", "next_evaluation")
        and (d["responsible_name"] or d["due"])
    ]
    return sorted(tasks, key=lambda d: (d["due"] is None, d["due"] or ""))
