"""The coordinating unit's overview (koordinerende enhet): every plan's status without its
content, the caseload per coordinator, and counts and trends for the municipality's
internal control.

A row says only: a neutral reference to the plan (not its title, which often names the
person), its coordinator(s), its status, period, next evaluation, last meeting held, how
many of its measures are overdue and whether it sleeps. Nothing from a plan's text,
measures' titles, sections or any participant other than its coordinators reaches the
unit (``collab.policy.check_unit_overview``, ``coordinators_of``)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from collab import policy
from collab.model import Measure, MeasureStatus, PlanStatus
from collab.policy import PlanContext
from server.dates import local

__all__ = ["SLEEPING_DAYS", "UnitRow", "overview", "plan_ref", "render_csv"]

SLEEPING_DAYS = 90


def plan_ref(plan_id: str) -> str:
    """A neutral reference the unit and the coordinator can both look up ("IP-7K2Q9X")."""
    return f"IP-{plan_id[:6].upper()}"


@dataclass(frozen=True)
class UnitRow:
    plan: str  # the id, to act on (appoint a coordinator); not content
    ref: str
    coordinators: tuple[str, ...]
    status: str
    period_from: date
    period_to: date | None
    next_evaluation: date
    evaluation_overdue: bool
    last_meeting: date | None
    overdue_measures: int
    sleeping: bool

    def json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "ref": self.ref,
            "coordinators": list(self.coordinators),
            "status": self.status,
            "period_from": self.period_from.isoformat(),
            "period_to": self.period_to.isoformat() if self.period_to else None,
            "next_evaluation": self.next_evaluation.isoformat(),
            "evaluation_overdue": self.evaluation_overdue,
            "last_meeting": self.last_meeting.isoformat() if self.last_meeting else None,
            "overdue_measures": self.overdue_measures,
            "sleeping": self.sleeping,
        }


def _overdue(measures: Iterable[Measure], today: date) -> int:
    return sum(
        1
        for m in measures
        if m.status not in (MeasureStatus.DONE, MeasureStatus.STOPPED)
        and (
            (m.evaluate_by is not None and m.evaluate_by < today)
            or (m.ends is not None and m.ends < today)
        )
    )


def _months(now: datetime, count: int = 12) -> list[str]:
    """The last ``count`` months, oldest first, as "2026-12"."""
    year, month = local(now).year, local(now).month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def overview(
    contexts: Sequence[PlanContext],
    created: Mapping[str, datetime],
    measures: Mapping[str, Sequence[Measure]],
    held: Sequence[tuple[str, datetime]],
    last_change: Mapping[str, datetime],
    now: datetime,
) -> dict[str, Any]:
    """The unit's page as data: rows, caseload, counts and monthly trends."""
    today = local(now).date()
    last_meeting: dict[str, date] = {}
    for plan_id, at in held:
        day = local(at).date()
        if day <= today and (plan_id not in last_meeting or day > last_meeting[plan_id]):
            last_meeting[plan_id] = day
    rows = []
    for ctx in contexts:
        plan = ctx.plan
        quiet = last_change.get(plan.id)
        active = plan.status is PlanStatus.ACTIVE
        rows.append(
            UnitRow(
                plan=plan.id,
                ref=plan_ref(plan.id),
                coordinators=tuple(sorted(p.name for p in policy.coordinators_of(ctx))),
                status=plan.status.value,
                period_from=plan.period_from,
                period_to=plan.period_to,
                next_evaluation=plan.next_evaluation,
                evaluation_overdue=active and plan.next_evaluation < today,
                last_meeting=last_meeting.get(plan.id),
                overdue_measures=_overdue(measures.get(plan.id, ()), today) if active else 0,
                sleeping=active and (quiet is None or quiet < now - timedelta(days=SLEEPING_DAYS)),
            )
        )
    rows.sort(key=lambda r: (r.status != "active", not r.evaluation_overdue, r.ref))
    active_rows = [r for r in rows if r.status == "active"]
    caseload = Counter(name for r in active_rows for name in r.coordinators or ("",))
    months = _months(now)
    started = Counter(local(at).strftime("%Y-%m") for at in created.values())
    meetings = Counter(local(at).strftime("%Y-%m") for _, at in held if at <= now)
    return {
        "rows": [r.json() for r in rows],
        "counts": {
            "active": len(active_rows),
            "closed": len(rows) - len(active_rows),
            "evaluated_on_time": sum(1 for r in active_rows if not r.evaluation_overdue),
            "evaluation_overdue": sum(1 for r in active_rows if r.evaluation_overdue),
            "sleeping": sum(1 for r in active_rows if r.sleeping),
            "without_coordinator": sum(1 for r in active_rows if not r.coordinators),
        },
        "caseload": [
            {"coordinator": name, "plans": count}
            for name, count in sorted(caseload.items(), key=lambda kv: (-kv[1], kv[0]))
            if name
        ],
        "trends": [
            {"month": m, "plans_started": started.get(m, 0), "meetings_held": meetings.get(m, 0)}
            for m in months
        ],
    }


CSV_COLUMNS = (
    ("ref", "Plan"),
    ("coordinators", "Koordinator"),
    ("status", "Status"),
    ("period_from", "Periode fra"),
    ("period_to", "Periode til"),
    ("next_evaluation", "Neste evaluering"),
    ("evaluation_overdue", "Evaluering på overtid"),
    ("last_meeting", "Siste møte"),
    ("overdue_measures", "Tiltak på overtid"),
    ("sleeping", "Sover"),
)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nei"
    if isinstance(value, list):
        value = ", ".join(value)
    text = "" if value is None else str(value)
    # A spreadsheet must not run a cell as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(page: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([label for _, label in CSV_COLUMNS])
    for row in page["rows"]:
        writer.writerow([_cell(row[key]) for key, _ in CSV_COLUMNS])
    return out.getvalue()
