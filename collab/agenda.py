"""Drafting a meeting's agenda from the plan (PRODUCT.md, "The live meeting").

Pure: given the plan's sections, measures, goals and what changed, it proposes items;
every item belongs to a section, and that section's consent decides who sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from collab.meeting import AgendaItem, ItemKind
from collab.model import Measure, MeasureStatus, Section, SectionKind, is_id

# Measures and goals due within this many days of the meeting are on the agenda.
DUE_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Goal:
    id: str
    section: str
    text: str
    target: date | None
    status: str


def draft_agenda(
    *,
    meeting_day: date,
    sections: Mapping[str, Section],
    measures: Iterable[Measure],
    goals: Iterable[Goal],
    changed_measures: frozenset[str],
    next_evaluation: date,
    new_id: Callable[[], str],
) -> tuple[AgendaItem, ...]:
    """Goals due, measures due for evaluation or changed since the last meeting, and the
    plan's next evaluation when it falls before the next regular meeting."""
    horizon = meeting_day + DUE_WINDOW
    items: list[AgendaItem] = []
    for goal in goals:
        if goal.section not in sections or sections[goal.section].archived:
            continue
        if goal.status == "active" and goal.target is not None and goal.target <= horizon:
            ref = goal.id if is_id(goal.id) else None
            items.append(
                AgendaItem(
                    new_id(),
                    _title("Mål", goal.text),
                    goal.section,
                    ItemKind.GOAL if ref else ItemKind.FREE,
                    ref,
                )
            )
    for measure in measures:
        if measure.section not in sections or sections[measure.section].archived:
            continue
        if measure.status in (MeasureStatus.DONE, MeasureStatus.STOPPED):
            continue
        due = measure.evaluate_by is not None and measure.evaluate_by <= horizon
        if due or measure.id in changed_measures:
            label = "Evaluering" if due else "Endret siden sist"
            items.append(
                AgendaItem(
                    new_id(),
                    _title(label, measure.title),
                    measure.section,
                    ItemKind.MEASURE,
                    measure.id,
                )
            )
    coordination = next(
        (s for s in sections.values() if s.kind is SectionKind.COORDINATION and not s.archived),
        None,
    )
    if coordination is not None and next_evaluation <= horizon:
        items.append(
            AgendaItem(
                new_id(), "Evaluering av planen og neste evaluering", coordination.id, ItemKind.FREE
            )
        )
    if coordination is not None:
        items.append(AgendaItem(new_id(), "Neste møte", coordination.id, ItemKind.FREE))
    return tuple(items)


def _title(label: str, text: str) -> str:
    text = " ".join(text.split())
    full = f"{label}: {text}"
    return full if len(full) <= 200 else full[:197] + "…"
