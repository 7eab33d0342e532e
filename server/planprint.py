"""The plan on paper: the parts of a plan a reader may see, as a tidy A4 PDF in their
language, drawn from the same neutral layout as the minutes (server/minutes/layout.py).

``skeleton`` is what the reader may see of the plan's records (built by the route, every
part decided by policy); the documents' states are read here, in a worker process, so
that parsing them costs the event loop nothing. Pure apart from ReportLab.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pycrdt import Array, Doc, Map, Text

from server.dates import day_text, moment_text
from server.minutes import pdf
from server.minutes.layout import (
    Block,
    Entries,
    Entry,
    Fact,
    Facts,
    Footer,
    Notes,
    Page,
    Para,
    Section,
)

__all__ = ["WORDS", "render_job", "render_plan_pdf"]


@dataclass(frozen=True)
class _Words:
    plan: str
    period: str
    open_ended: str
    next_evaluation: str
    owner: str
    situation: str
    resources: str
    goals: str
    no_goals: str
    measures: str
    no_measures: str
    responsible: str
    how_often: str
    from_to: str
    evaluate_by: str
    status: str
    statuses: Mapping[str, str]
    goal_statuses: Mapping[str, str]
    target: str
    goal: str
    sub: str
    progress: str
    empty: str
    made: str
    filtered: str


WORDS = {
    "nb": _Words(
        plan="Individuell plan",
        period="Periode",
        open_ended="uten sluttdato",
        next_evaluation="Neste evaluering",
        owner="Planen er for",
        situation="Slik er det nå",
        resources="Det jeg er god til",
        goals="Mål",
        no_goals="Ingen mål er skrevet her ennå.",
        measures="Tiltak",
        no_measures="Ingen tiltak her.",
        responsible="Ansvarlig",
        how_often="Hvor ofte",
        from_to="Fra–til",
        evaluate_by="Evalueres innen",
        status="Status",
        statuses={
            "planned": "Planlagt",
            "active": "Pågår",
            "paused": "På pause",
            "done": "Fullført",
            "stopped": "Avsluttet",
        },
        goal_statuses={"active": "", "reached": "nådd", "dropped": "lagt bort"},
        target="innen",
        goal="Mål",
        sub="Delmål",
        progress="Underveis",
        empty="Ikke fylt ut.",
        made="Skrevet ut {when}. Tider er norsk tid.",
        filtered="Utskriften har bare de delene av planen du har lov til å se.",
    ),
    "nn": _Words(
        plan="Individuell plan",
        period="Periode",
        open_ended="utan sluttdato",
        next_evaluation="Neste evaluering",
        owner="Planen er for",
        situation="Slik er det no",
        resources="Det eg er god til",
        goals="Mål",
        no_goals="Ingen mål er skrivne her enno.",
        measures="Tiltak",
        no_measures="Ingen tiltak her.",
        responsible="Ansvarleg",
        how_often="Kor ofte",
        from_to="Frå–til",
        evaluate_by="Blir evaluert innan",
        status="Status",
        statuses={
            "planned": "Planlagt",
            "active": "Pågår",
            "paused": "På pause",
            "done": "Fullført",
            "stopped": "Avslutta",
        },
        goal_statuses={"active": "", "reached": "nådd", "dropped": "lagt bort"},
        target="innan",
        goal="Mål",
        sub="Delmål",
        progress="Undervegs",
        empty="Ikkje fylt ut.",
        made="Skrive ut {when}. Tider er norsk tid.",
        filtered="Utskrifta har berre dei delane av planen du har lov til å sjå.",
    ),
    "en": _Words(
        plan="Individual plan",
        period="Period",
        open_ended="no end date",
        next_evaluation="Next evaluation",
        owner="The plan is for",
        situation="How things are now",
        resources="What I am good at",
        goals="Goals",
        no_goals="No goals are written here yet.",
        measures="Measures",
        no_measures="No measures here.",
        responsible="Responsible",
        how_often="How often",
        from_to="From–to",
        evaluate_by="Evaluated by",
        status="Status",
        statuses={
            "planned": "Planned",
            "active": "Ongoing",
            "paused": "Paused",
            "done": "Done",
            "stopped": "Stopped",
        },
        goal_statuses={"active": "", "reached": "reached", "dropped": "dropped"},
        target="by",
        goal="Goal",
        sub="Sub-goal",
        progress="Progress",
        empty="Not filled in.",
        made="Printed {when}. Times are Norwegian time.",
        filtered="The printout holds only the parts of the plan you may see.",
    ),
}


def _text(value: object) -> str:
    return str(value) if isinstance(value, Text | str) else ""


def _day(value: str | None, lang: str) -> str:
    if not value:
        return ""
    try:
        return day_text(date.fromisoformat(value), lang)
    except ValueError:
        return value


def _goals(doc: Doc, w: _Words, lang: str) -> list[Block]:
    entries = [e for e in doc.get("goals", type=Array) if isinstance(e, Map)]
    if not entries:
        return [Para(w.no_goals, "muted")]
    out: list[Entry] = []
    mains = [e for e in entries if e.get("kind") != "sub"]
    for main in mains:
        subs = [e for e in entries if e.get("kind") == "sub" and e.get("parent") == main.get("id")]
        for goal in [main, *subs]:
            facts: list[tuple[str, str]] = []
            target = goal.get("target")
            if isinstance(target, str) and target:
                facts.append((w.target, _day(target, lang)))
            status = w.goal_statuses.get(str(goal.get("status") or "active"), "")
            if status:
                facts.append((w.status, status))
            label = w.goal if goal is main else w.sub
            out.append(Entry(label, _text(goal.get("text")) or w.empty, tuple(facts)))
    return [Entries(tuple(out))]


def _measure(m: Mapping[str, Any], state: bytes | None, w: _Words, lang: str, n: int) -> Section:
    facts = [Fact(w.responsible, m["responsible"] or "")]
    if m.get("frequency"):
        facts.append(Fact(w.how_often, m["frequency"]))
    if m.get("starts") or m.get("ends"):
        span = f"{_day(m.get('starts'), lang) or '…'} – {_day(m.get('ends'), lang) or w.open_ended}"
        facts.append(Fact(w.from_to, span))
    if m.get("evaluate_by"):
        facts.append(Fact(w.evaluate_by, _day(m["evaluate_by"], lang)))
    facts.append(Fact(w.status, w.statuses.get(m["status"], m["status"])))
    body: list[Block] = [Facts(tuple(facts))]
    if state is not None:
        doc: Doc = Doc()
        doc.apply_update(state)
        description = str(doc.get("description", type=Text))
        if description.strip():
            body.append(Notes(description, w.empty))
        progress = [e for e in doc.get("progress", type=Array) if isinstance(e, Map)]
        if progress:
            body.append(
                Entries(
                    tuple(
                        Entry(_day(_text(e.get("at")), lang) or w.progress, _text(e.get("text")))
                        for e in progress[-20:]
                    )
                )
            )
    return Section(f"tiltak-{n}", m["title"], 3, tuple(body), keep=1)


def plan_page(skeleton: Mapping[str, Any], states: Mapping[str, bytes], lang: str) -> Page:
    w = WORDS.get(lang, WORDS["nb"])
    lang = lang if lang in WORDS else "nb"
    plan = skeleton["plan"]
    ends = _day(plan.get("period_to"), lang) or w.open_ended
    meta = [
        Fact(w.owner, plan["owner"]),
        Fact(w.period, f"{_day(plan['period_from'], lang)} – {ends}"),
        Fact(w.next_evaluation, _day(plan["next_evaluation"], lang)),
    ]
    sections: list[Block] = []
    n = 0
    for number, section in enumerate(skeleton["sections"], start=1):
        body: list[Block] = []
        state = states.get(section["doc"]) if section.get("doc") else None
        doc: Doc | None = None
        if state is not None:
            doc = Doc()
            doc.apply_update(state)
            for field, label in (("situation", w.situation), ("resources", w.resources)):
                body += [Para(label, "part"), Notes(str(doc.get(field, type=Text)), w.empty)]
            if section.get("goals") or len(doc.get("goals", type=Array)):
                body += _goals(doc, w, lang)
        measures = section["measures"]
        for m in measures:
            n += 1
            body.append(_measure(m, states.get(m["doc"]) if m.get("doc") else None, w, lang, n))
        if not body:
            body.append(Para(w.no_measures, "muted"))
        sections.append(Section(f"del-{number}", section["title"], 2, tuple(body), keep=2))
    made = datetime.fromisoformat(skeleton["made_at"])
    heading = f"{w.plan}: {plan['title']}"
    return Page(
        lang=lang,
        title=heading,
        heading=heading,
        header=(Facts(tuple(meta)),),
        main=tuple(sections),
        footer=Footer(
            (Para(w.made.format(when=moment_text(made, lang)), "muted"), Para(w.filtered, "muted"))
        ),
        subject=plan["title"],
        running=heading,
    )


def render_plan_pdf(skeleton: Mapping[str, Any], states: Mapping[str, bytes], lang: str) -> bytes:
    return pdf.render(plan_page(skeleton, states, lang))


def render_job(skeleton_json: str, states: dict[str, bytes], lang: str) -> bytes:
    """The worker's entry point (arguments picklable)."""
    return render_plan_pdf(json.loads(skeleton_json), states, lang)
