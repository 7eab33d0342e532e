"""The owner's access log in words (innsyn i logg): lines, sentences, CSV and PDF.

``server.db.access_view`` groups the log and the document edits in SQL; this module turns
each group into what a person reads: who, did what, to which part of the plan, when (in
Norway's time), and why they were allowed ("ifølge samtykke versjon 3: lese"). Titles
come from the plan as the viewer may see it (``collab.policy``): a section, measure or
agenda item the viewer may not see is named only as "a part of the plan you cannot
see". Sentences are in bokmål, nynorsk or English. Exports render in one linear pass and
are capped at ``EXPORT_CAP`` lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.lib.utils import simpleSplit  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from collab import policy
from collab.meeting import MeetingState
from collab.model import Measure, Participant
from collab.policy import PlanContext, Principal
from server.dates import local, moment_text, short_date, when_text
from server.db.access_view import Line
from server.db.models import AccessDenialRow

EXPORT_CAP = 5000


@dataclass(frozen=True)
class Words:
    lang: str
    times: str  # "{n} ganger"
    actions: Mapping[str, str]
    targets: Mapping[str, str]
    hidden: str
    someone: str
    server: str
    levels: Mapping[str, str]
    by_consent: str
    by_consent_level: str
    as_owner: str
    as_guardian: str
    as_guardian_until: str
    refusals_day: str
    title: str
    plan: str
    made: str
    cap_note: str
    columns: tuple[str, ...]
    page: str


_NB = Words(
    lang="nb",
    times="{n} ganger",
    actions={
        "edit": "{name} endret {target}",
        "change": "{name} endret {target}",
        "open": "{name} åpnet {target}",
        "denied": "{name} ble nektet tilgang til {target}",
        "revoked": "{name} mistet tilgangen til {target}",
        "read-only": "{name} kan nå bare lese {target}",
        "sign": "{name} signerte {target}",
        "other": "{name}: {target}",
    },
    targets={
        "section": "«{title}»",
        "measure": "tiltaket «{title}»",
        "item": "«{title}» i møtet «{meeting}»",
        "meeting": "møtet «{title}»",
        "minutes": "referatet fra «{title}»",
        "plan": "planen",
        "consent": "samtykket",
        "access-log": "innsynsloggen",
        "handover": "overleveringen til ny koordinator",
        "transitions": "overgangene i planen",
        "survey": "svarene om hvordan planen fungerer",
        "participant": "ansvarsgruppen",
        "other": "planen",
    },
    hidden="en del av planen du ikke kan se",
    someone="ukjent person",
    server="Planrom",
    levels={"none": "ingen", "own": "egne tiltak", "read": "lese", "edit": "endre"},
    by_consent="ifølge samtykke versjon {version}",
    by_consent_level="ifølge samtykke versjon {version}: {level}",
    as_owner="som planeier",
    as_guardian="som foresatt",
    as_guardian_until="som foresatt (til {date})",
    refusals_day="{count} avviste forsøk den dagen",
    title="Innsynslogg",
    plan="Plan",
    made="Laget {when}. Tider er norsk tid.",
    cap_note="Bare de {cap} nyeste linjene er med. Velg en kortere periode for resten.",
    columns=("Tidspunkt", "Hvem", "Hva", "Antall", "Hvorfor tilgang", "Fra", "Til"),
    page="Side {page}",
)

_NN = Words(
    lang="nn",
    times="{n} gonger",
    actions={
        "edit": "{name} endra {target}",
        "change": "{name} endra {target}",
        "open": "{name} opna {target}",
        "denied": "{name} vart nekta tilgang til {target}",
        "revoked": "{name} miste tilgangen til {target}",
        "read-only": "{name} kan no berre lese {target}",
        "sign": "{name} signerte {target}",
        "other": "{name}: {target}",
    },
    targets={
        "section": "«{title}»",
        "measure": "tiltaket «{title}»",
        "item": "«{title}» i møtet «{meeting}»",
        "meeting": "møtet «{title}»",
        "minutes": "referatet frå «{title}»",
        "plan": "planen",
        "consent": "samtykket",
        "access-log": "innsynsloggen",
        "handover": "overleveringa til ny koordinator",
        "transitions": "overgangane i planen",
        "survey": "svara om korleis planen fungerer",
        "participant": "ansvarsgruppa",
        "other": "planen",
    },
    hidden="ein del av planen du ikkje kan sjå",
    someone="ukjend person",
    server="Planrom",
    levels={"none": "ingen", "own": "eigne tiltak", "read": "lese", "edit": "endre"},
    by_consent="ifølgje samtykke versjon {version}",
    by_consent_level="ifølgje samtykke versjon {version}: {level}",
    as_owner="som planeigar",
    as_guardian="som føresett",
    as_guardian_until="som føresett (til {date})",
    refusals_day="{count} avviste forsøk den dagen",
    title="Innsynslogg",
    plan="Plan",
    made="Laga {when}. Tider er norsk tid.",
    cap_note="Berre dei {cap} nyaste linjene er med. Vel ein kortare periode for resten.",
    columns=("Tidspunkt", "Kven", "Kva", "Tal", "Kvifor tilgang", "Frå", "Til"),
    page="Side {page}",
)

_EN = Words(
    lang="en",
    times="{n} times",
    actions={
        "edit": "{name} changed {target}",
        "change": "{name} changed {target}",
        "open": "{name} opened {target}",
        "denied": "{name} was refused access to {target}",
        "revoked": "{name} lost access to {target}",
        "read-only": "{name} may now only read {target}",
        "sign": "{name} signed {target}",
        "other": "{name}: {target}",
    },
    targets={
        "section": "“{title}”",
        "measure": "the measure “{title}”",
        "item": "“{title}” in the meeting “{meeting}”",
        "meeting": "the meeting “{title}”",
        "minutes": "the minutes of “{title}”",
        "plan": "the plan",
        "consent": "the consent",
        "access-log": "the access log",
        "handover": "the handover to a new coordinator",
        "transitions": "the transitions in the plan",
        "survey": "the answers on how the plan works",
        "participant": "the responsibility group",
        "other": "the plan",
    },
    hidden="a part of the plan you cannot see",
    someone="unknown person",
    server="Planrom",
    levels={"none": "none", "own": "own measures", "read": "read", "edit": "edit"},
    by_consent="under consent version {version}",
    by_consent_level="under consent version {version}: {level}",
    as_owner="as the plan owner",
    as_guardian="as guardian",
    as_guardian_until="as guardian (until {date})",
    refusals_day="{count} refused attempts that day",
    title="Access log",
    plan="Plan",
    made="Made {when}. Times are Norwegian time.",
    cap_note="Only the {cap} newest lines are included. Choose a shorter period for the rest.",
    columns=("When", "Who", "What", "Count", "Why access", "From", "To"),
    page="Page {page}",
)

LANGUAGES = {"nb": _NB, "nn": _NN, "en": _EN}


def words(lang: str | None) -> Words:
    return LANGUAGES.get(lang or "nb", _NB)


# --- who and what, as the viewer may know it --------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """What the viewer may know, gathered once per page."""

    ctx: PlanContext
    viewer: Principal
    measures: Mapping[str, Measure]
    meetings: Mapping[str, tuple[str, MeetingState]]  # id -> (title, state)

    def person(self, person_id: str | None, actor: str, w: Words) -> tuple[str | None, str]:
        """(participant id, name). Names of people the viewer may not know stay unsaid."""
        if person_id is None:
            return None, actor or w.server
        theirs = [p for p in self.ctx.plan.participants if p.person == person_id]
        for p in theirs:
            if policy.named_in_records(self.ctx, self.viewer, p):
                return p.id, p.name
        return None, w.someone if theirs else actor or w.someone

    def target(self, target: str) -> dict[str, Any]:
        """``{"kind", "title", "meeting"?}``; ``title`` None: the viewer may not see it."""
        ctx, viewer = self.ctx, self.viewer
        parts = target.split(":")
        if parts[0] == "doc":
            parts = parts[1:]
            if len(parts) == 4 and parts[0] == "plan" and parts[2] == "section":
                return self._section(parts[3])
            if len(parts) == 4 and parts[0] == "plan" and parts[2] == "measure":
                return self._measure(parts[3])
            if len(parts) == 4 and parts[0] == "meeting" and parts[2] == "item":
                return self._item(parts[1], parts[3])
            return {"kind": "other", "title": None}
        if len(parts) == 2 and parts[0] == "section":
            return self._section(parts[1])
        if len(parts) == 2 and parts[0] == "measure":
            return self._measure(parts[1])
        if len(parts) == 2 and parts[0] in ("meeting", "minutes"):
            found = self.meetings.get(parts[1])
            if found is None or not policy.check_see_meeting(ctx, viewer, found[1]):
                return {"kind": parts[0], "title": None}
            return {"kind": parts[0], "title": found[0]}
        if target in ("plan", "consent", "access-log", "handover", "transitions", "survey"):
            return {"kind": target, "title": ctx.plan.title if target == "plan" else ""}
        if parts[0] == "participant":
            return {"kind": "participant", "title": ""}
        return {"kind": "other", "title": ""}

    def _section(self, section_id: str) -> dict[str, Any]:
        section = self.ctx.sections.get(section_id)
        if section is None or not policy.check_see_section(self.ctx, self.viewer, section_id):
            return {"kind": "section", "title": None}
        return {"kind": "section", "title": section.title}

    def _measure(self, measure_id: str) -> dict[str, Any]:
        measure = self.measures.get(measure_id)
        if measure is None or not policy.check_read_measure(self.ctx, self.viewer, measure):
            return {"kind": "measure", "title": None}
        return {"kind": "measure", "title": measure.title}

    def _item(self, meeting_id: str, item_id: str) -> dict[str, Any]:
        found = self.meetings.get(meeting_id)
        item = found[1].item(item_id) if found is not None else None
        if found is None or item is None:
            return {"kind": "item", "title": None}
        measure = self.measures.get(item.ref) if item.ref else None
        if not policy.check_read_item(self.ctx, self.viewer, found[1], item, measure):
            return {"kind": "item", "title": None}
        return {"kind": "item", "title": item.title, "meeting": found[0]}


def meetings_named(targets: Iterable[str]) -> set[str]:
    """The meetings whose titles or items a page of lines (their targets) needs."""
    out: set[str] = set()
    for target in targets:
        parts = target.split(":")
        if parts[0] == "doc":
            parts = parts[1:]
        if len(parts) >= 2 and parts[0] in ("meeting", "minutes"):
            out.add(parts[1])
    return out


def grounds_json(grounds: str) -> dict[str, Any] | None:
    kind, _, rest = grounds.partition(":")
    if kind == "consent":
        version, _, level = rest.partition(":")
        if not (version.isascii() and version.isdigit()):
            return None
        return {"kind": "consent", "version": int(version), "level": level or None}
    if kind in ("owner", "guardian"):
        return {"kind": kind, "until": rest or None}
    return None


def grounds_text(grounds: dict[str, Any] | None, w: Words) -> str:
    if grounds is None:
        return ""
    if grounds["kind"] == "consent":
        if grounds["level"]:
            level = w.levels.get(grounds["level"], grounds["level"])
            return w.by_consent_level.format(version=grounds["version"], level=level)
        return w.by_consent.format(version=grounds["version"])
    if grounds["kind"] == "owner":
        return w.as_owner
    if grounds.get("until"):
        return w.as_guardian_until.format(
            date=short_date(date.fromisoformat(grounds["until"]), w.lang)
        )
    return w.as_guardian


def target_text(target: Mapping[str, Any], w: Words) -> str:
    title = target.get("title")
    if title is None:
        return w.hidden
    pattern = w.targets.get(target["kind"], w.targets["other"])
    return pattern.format(title=title, meeting=target.get("meeting", ""))


def line_json(
    line: Line,
    look: Lookup,
    w: Words,
    *,
    grounds: str,
    refusals: AccessDenialRow | None,
) -> dict[str, Any]:
    participant, name = look.person(line.person_id, line.actor, w)
    target = look.target(line.target if line.kind == "log" else f"doc:{line.target}")
    why = grounds_json(grounds)
    sentence = w.actions.get(line.action, w.actions["other"]).format(
        name=name, target=target_text(target, w)
    )
    if line.count > 1:
        sentence += " " + w.times.format(n=line.count)
    out: dict[str, Any] = {
        "kind": line.kind,
        "action": line.action,
        "person": {"id": participant, "name": name},
        "own": line.person_id is not None and line.person_id == look.viewer.person,
        "target": target,
        "count": line.count,
        "from": line.first_at.isoformat(),
        "to": line.last_at.isoformat(),
        "hour": datetime.strptime(line.hour, "%Y-%m-%d %H").replace(tzinfo=UTC).isoformat(),
        "grounds": why,
        "text": sentence,
        "when": when_text(line.first_at, line.last_at, line.count, w.lang),
        "why": grounds_text(why, w),
    }
    if refusals is not None and line.action == "denied":
        out["refusals"] = {
            "day": refusals.day.isoformat(),
            "count": refusals.count,
            "outsider": refusals.outsider,
            "text": w.refusals_day.format(count=refusals.count),
        }
    return out


def people_json(ctx: PlanContext, viewer: Principal) -> list[dict[str, str]]:
    """Whom the viewer may filter by: the people they may know of, with a sign-in."""
    seen: list[Participant] = [p for p, _ in policy.visible_participants(ctx, viewer)]
    return [{"id": p.id, "name": p.name} for p in seen if p.person is not None]


# --- exports ---------------------------------------------------------------------------


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run: names and titles are typed by people, and
    one starting with = + - @ (or a tab or carriage return) would be read as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def render_csv(lines: Sequence[Mapping[str, Any]], w: Words) -> str:
    """One header and one row per line, in one pass."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(w.columns)
    for line in lines:
        writer.writerow(
            [
                _cell(line["when"]),
                _cell(line["person"]["name"]),
                _cell(line["text"]),
                line["count"],
                _cell(line["why"]),
                local(datetime.fromisoformat(line["from"])).isoformat(timespec="seconds"),
                local(datetime.fromisoformat(line["to"])).isoformat(timespec="seconds"),
            ]
        )
    return out.getvalue()


def render_pdf(
    lines: Sequence[Mapping[str, Any]],
    w: Words,
    *,
    plan_title: str,
    made_at: datetime,
    capped: bool,
) -> bytes:
    """An A4 list drawn straight onto the canvas: linear in the lines, no layout search.
    ReportLab's built-in fonts cover æøå."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"{w.title} – {plan_title}")
    canvas.setAuthor("Planrom")
    width, height = A4
    left, right, top, bottom = 18 * mm, width - 18 * mm, height - 18 * mm, 18 * mm
    page = 1
    y = top

    def footer() -> None:
        canvas.setFont("Helvetica", 8)
        canvas.drawString(left, 10 * mm, f"{w.title} – {plan_title}"[:90])
        canvas.drawRightString(right, 10 * mm, w.page.format(page=page))

    def need(space: float) -> None:
        nonlocal y, page
        if y - space < bottom:
            footer()
            canvas.showPage()
            page += 1
            y = top

    def text(value: str, font: str, size: float, gap: float = 1.25) -> None:
        nonlocal y
        for row in simpleSplit(value, font, size, right - left):
            need(size * gap)
            canvas.setFont(font, size)
            canvas.drawString(left, y - size, row)
            y -= size * gap

    text(f"{w.title}: {plan_title}", "Helvetica-Bold", 16)
    text(
        w.made.format(when=moment_text(made_at, w.lang)),
        "Helvetica",
        9,
    )
    if capped:
        text(w.cap_note.format(cap=EXPORT_CAP), "Helvetica-Oblique", 9)
    y -= 4
    for line in lines:
        text(line["when"], "Helvetica-Bold", 9)
        text(line["text"], "Helvetica", 10)
        if line["why"]:
            text(line["why"], "Helvetica-Oblique", 8.5)
        y -= 3
    footer()
    canvas.save()
    return buffer.getvalue()
