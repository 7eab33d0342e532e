"""Drafting a meeting's agenda from the plan (collab/agenda.py): what is proposed, in which
section, and what is left out."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from collab.agenda import DUE_WINDOW, Goal, draft_agenda
from collab.meeting import AgendaItem, ItemKind
from collab.model import Measure, MeasureStatus, Section, SectionKind

DAY = date(2026, 3, 2)
PLAN = "plan0001"


def section(sid: str, kind: SectionKind = SectionKind.LIFE_AREA, archived: bool = False) -> Section:
    return Section(sid, PLAN, sid, kind, sid.title(), 0, archived)


SECTIONS = {
    s.id: s
    for s in (
        section("skole"),
        section("helse"),
        section("gammel", archived=True),
        section("koord", SectionKind.COORDINATION),
    )
}


def measure(mid: str, sec: str = "skole", **fields: object) -> Measure:
    return Measure(mid, PLAN, sec, f"Tiltak {mid}", None, **fields)  # type: ignore[arg-type]


def draft(
    *,
    sections: dict[str, Section] = SECTIONS,
    measures: tuple[Measure, ...] = (),
    goals: tuple[Goal, ...] = (),
    changed: frozenset[str] = frozenset(),
    next_evaluation: date = DAY + timedelta(days=365),
) -> tuple[AgendaItem, ...]:
    counter = itertools.count(1)
    return draft_agenda(
        meeting_day=DAY,
        sections=sections,
        measures=measures,
        goals=goals,
        changed_measures=changed,
        next_evaluation=next_evaluation,
        new_id=lambda: f"item{next(counter):04d}",
    )


def test_with_nothing_due_only_the_next_meeting_is_proposed_in_the_coordination_section() -> None:
    items = draft()
    assert [(i.title, i.section, i.kind, i.ref) for i in items] == [
        ("Neste møte", "koord", ItemKind.FREE, None)
    ]
    assert items[0].id == "item0001"


def test_goals_due_within_the_window_are_proposed_in_their_own_section() -> None:
    horizon = DAY + DUE_WINDOW
    goals = (
        Goal("goal0001", "helse", "Sove  bedre\n om natta", horizon, "active"),
        Goal("goal0002", "helse", "Senere", horizon + timedelta(days=1), "active"),
        Goal("goal0003", "helse", "Uten dato", None, "active"),
        Goal("goal0004", "helse", "Nådd", DAY, "reached"),
        Goal("goal0005", "gammel", "Arkivert", DAY, "active"),
        Goal("goal0006", "borte", "Ukjent seksjon", DAY, "active"),
        Goal("Not An Id!", "skole", "Fritt mål", DAY, "active"),
    )
    items = draft(goals=goals)
    assert [(i.title, i.section, i.kind, i.ref) for i in items[:-1]] == [
        ("Mål: Sove bedre om natta", "helse", ItemKind.GOAL, "goal0001"),
        # A goal whose id is not one of ours becomes a free item with no reference.
        ("Mål: Fritt mål", "skole", ItemKind.FREE, None),
    ]


def test_measures_due_or_changed_are_proposed_and_finished_ones_are_not() -> None:
    horizon = DAY + DUE_WINDOW
    measures = (
        measure("meas0001", evaluate_by=horizon),
        measure("meas0002", evaluate_by=horizon + timedelta(days=1)),
        measure("meas0003", "helse"),
        measure("meas0004", status=MeasureStatus.DONE, evaluate_by=DAY),
        measure("meas0005", status=MeasureStatus.STOPPED, evaluate_by=DAY),
        measure("meas0006", "gammel", evaluate_by=DAY),
        measure("meas0007", "borte", evaluate_by=DAY),
        measure("meas0008", evaluate_by=DAY),
    )
    changed = frozenset({"meas0003", "meas0004", "meas0006", "meas0008"})
    items = draft(measures=measures, changed=changed)
    assert [(i.title, i.section, i.kind, i.ref) for i in items[:-1]] == [
        ("Evaluering: Tiltak meas0001", "skole", ItemKind.MEASURE, "meas0001"),
        ("Endret siden sist: Tiltak meas0003", "helse", ItemKind.MEASURE, "meas0003"),
        # Due and changed: evaluation is the reason given.
        ("Evaluering: Tiltak meas0008", "skole", ItemKind.MEASURE, "meas0008"),
    ]


def test_the_plans_evaluation_is_proposed_when_it_falls_before_the_window_ends() -> None:
    due = draft(next_evaluation=DAY + DUE_WINDOW)
    assert [i.title for i in due] == ["Evaluering av planen og neste evaluering", "Neste møte"]
    assert {i.section for i in due} == {"koord"}
    later = draft(next_evaluation=DAY + DUE_WINDOW + timedelta(days=1))
    assert [i.title for i in later] == ["Neste møte"]


def test_without_a_live_coordination_section_no_plan_items_are_proposed() -> None:
    archived = {**SECTIONS, "koord": section("koord", SectionKind.COORDINATION, archived=True)}
    assert draft(sections=archived, next_evaluation=DAY) == ()
    goal = Goal("goal0001", "skole", "Lese", DAY, "active")
    assert [i.title for i in draft(sections=archived, goals=(goal,))] == ["Mål: Lese"]


def test_a_title_longer_than_two_hundred_characters_is_cut_with_an_ellipsis() -> None:
    long = Goal("goal0001", "skole", "x" * 300, DAY, "active")
    exact = Goal("goal0002", "skole", "y" * (200 - len("Mål: ")), DAY, "active")
    first, second, _ = draft(goals=(long, exact))
    assert first.title == ("Mål: " + "x" * 300)[:197] + "…"
    assert len(first.title) <= 200
    assert second.title == "Mål: " + "y" * 195
