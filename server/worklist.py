"""The worklist: what needs doing across every plan a person takes part in, most urgent
first, each row one tap from the place to act.

Rows are facts, not sentences (the client words them in the reader's language): a kind,
the plan, a title and a date where there is one, and who is responsible as the reader may
know them. Every row is decided by ``collab.policy`` for the reader and the plan: the
owner, a guardian and the coordinator follow up the whole plan (evaluations, meetings,
minutes, invitations, consent, sleeping plans, every measure they may read); a service
sees its own measures. A row never names a person or a measure the reader may not know
of.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from collab import policy
from collab.meeting import MeetingState, MeetingStatus
from collab.model import Measure, MeasureStatus, PlanStatus
from collab.policy import PlanContext, Principal
from server.dates import local

__all__ = ["Horizon", "Row", "WorkItem", "rows_for"]

Kind = Literal[
    "evaluation-overdue",
    "evaluation-due",
    "measure-overdue",
    "meeting-soon",
    "minutes-approve",
    "minutes-finalise",
    "invitation-pending",
    "consent-missing",
    "consent-expiring",
    "transition-review",
    "sleeping",
]

# Most urgent first: 2 overdue or waiting on someone, 1 due soon, 0 for information.
URGENCY: dict[str, int] = {
    "evaluation-overdue": 2,
    "measure-overdue": 2,
    "minutes-approve": 2,
    "minutes-finalise": 2,
    "consent-missing": 2,
    "evaluation-due": 1,
    "meeting-soon": 1,
    "consent-expiring": 1,
    "invitation-pending": 1,
    "transition-review": 1,
    "sleeping": 1,
}


@dataclass(frozen=True)
class Horizon:
    """How far ahead "due soon" looks, and how long a plan may be quiet."""

    evaluation_days: int = 30
    meeting_days: int = 14
    consent_days: int = 30
    sleeping_days: int = 90


@dataclass(frozen=True)
class WorkItem:
    """A meeting or invitation as the worklist needs it."""

    id: str
    plan: str
    title: str
    at: datetime
    status: str = ""
    participant: str | None = None  # an invitation's participant
    state: MeetingState | None = None  # a meeting's


@dataclass(frozen=True)
class Row:
    kind: Kind
    plan: str
    plan_title: str
    href: str
    title: str = ""
    date: str | None = None  # ISO date or moment
    who: str | None = None  # the responsible person, as the reader may know them
    reasons: tuple[str, ...] = ()  # a measure: "evaluation" and/or "ended"
    responsible: str | None = None  # a measure's responsible participant (not sent)

    @property
    def urgency(self) -> int:
        return URGENCY[self.kind]

    def json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "urgency": self.urgency,
            "plan": self.plan,
            "plan_title": self.plan_title,
            "href": self.href,
            "title": self.title,
            "date": self.date,
            "who": self.who,
            "reasons": list(self.reasons),
        }


def _measure_rows(
    ctx: PlanContext, viewer: Principal, measures: Iterable[Measure], today: date
) -> list[Row]:
    me = ctx.actor(viewer)
    if me is None:
        return []
    everyone = bool(policy.check_see_everyones_measures(ctx, viewer))
    out = []
    for m in measures:
        if m.status in (MeasureStatus.DONE, MeasureStatus.STOPPED):
            continue
        if not everyone and m.responsible != me.id:
            continue
        if not policy.check_read_measure(ctx, viewer, m):
            continue
        reasons = []
        if m.evaluate_by is not None and m.evaluate_by < today:
            reasons.append("evaluation")
        if m.ends is not None and m.ends < today:
            reasons.append("ended")
        if not reasons:
            continue
        due = min(d for d in (m.evaluate_by, m.ends) if d is not None and d < today)
        out.append(
            Row(
                "measure-overdue",
                ctx.plan.id,
                ctx.plan.title,
                f"/plan/{ctx.plan.id}?tiltak={m.id}",
                title=m.title,
                date=due.isoformat(),
                who=policy.name_for(ctx, viewer, m.responsible),
                reasons=tuple(reasons),
                responsible=m.responsible,
            )
        )
    return out


def _follow_up_rows(
    ctx: PlanContext,
    viewer: Principal,
    meetings: Sequence[WorkItem],
    invitations: Sequence[WorkItem],
    last_change: datetime | None,
    horizon: Horizon,
) -> list[Row]:
    plan, now = ctx.plan, ctx.now
    today = local(now).date()
    out: list[Row] = []

    def row(kind: Kind, href: str, **facts: Any) -> Row:
        return Row(kind, plan.id, plan.title, href, **facts)

    if plan.next_evaluation < today:
        out.append(
            row(
                "evaluation-overdue",
                f"/plan/{plan.id}/moter",
                date=plan.next_evaluation.isoformat(),
            )
        )
    elif plan.next_evaluation <= today + timedelta(days=horizon.evaluation_days):
        out.append(
            row("evaluation-due", f"/plan/{plan.id}/moter", date=plan.next_evaluation.isoformat())
        )
    for meeting in meetings:
        href = f"/mote/{meeting.id}"
        if meeting.status == MeetingStatus.SCHEDULED and now <= meeting.at <= now + timedelta(
            days=horizon.meeting_days
        ):
            out.append(row("meeting-soon", href, title=meeting.title, date=meeting.at.isoformat()))
        elif meeting.status == MeetingStatus.ENDED:
            out.append(
                row("minutes-approve", href, title=meeting.title, date=meeting.at.isoformat())
            )
        elif meeting.status == MeetingStatus.APPROVED:
            out.append(
                row("minutes-finalise", href, title=meeting.title, date=meeting.at.isoformat())
            )
    if policy.check_manage_plan(ctx, viewer) and policy.check_see_participants(ctx, viewer):
        for invitation in invitations:
            name = policy.name_for(ctx, viewer, invitation.participant)
            if name is None:
                continue  # a participant the reader may not know of
            out.append(
                row(
                    "invitation-pending",
                    f"/plan/{plan.id}",
                    who=name,
                    date=invitation.at.isoformat(),
                )
            )
    if policy.check_read_consent(ctx, viewer):
        consent = ctx.consent
        if consent is None or not consent.in_force(now):
            out.append(row("consent-missing", f"/plan/{plan.id}/samtykke"))
        elif consent.valid_to is not None and consent.valid_to <= now + timedelta(
            days=horizon.consent_days
        ):
            out.append(
                row(
                    "consent-expiring",
                    f"/plan/{plan.id}/samtykke",
                    date=consent.valid_to.isoformat(),
                )
            )
    quiet_since = now - timedelta(days=horizon.sleeping_days)
    if last_change is None or last_change < quiet_since:
        out.append(
            row(
                "sleeping",
                f"/plan/{plan.id}",
                date=last_change.isoformat() if last_change else None,
            )
        )
    return out


def rows_for(
    viewer: Principal,
    contexts: Iterable[PlanContext],
    measures: Mapping[str, Sequence[Measure]],
    meetings: Mapping[str, Sequence[WorkItem]],
    invitations: Mapping[str, Sequence[WorkItem]],
    last_change: Mapping[str, datetime],
    horizon: Horizon = Horizon(),
    *,
    transitions: Mapping[str, Sequence[tuple[str, date]]] | None = None,
) -> list[Row]:
    """Every row the reader should act on, most urgent first, then soonest.
    ``transitions``: per plan, (kind, day) of transitions whose review of consent and
    the group is still to be done."""
    out: list[Row] = []
    for ctx in contexts:
        if ctx.plan.status is not PlanStatus.ACTIVE or not policy.check_see_plan(ctx, viewer):
            continue
        today = local(ctx.now).date()
        out += _measure_rows(ctx, viewer, measures.get(ctx.plan.id, ()), today)
        if not policy.check_see_everyones_measures(ctx, viewer):
            continue  # services follow their own measures
        seen = [
            m
            for m in meetings.get(ctx.plan.id, ())
            if m.state is not None and policy.check_see_meeting(ctx, viewer, m.state)
        ]
        out += _follow_up_rows(
            ctx,
            viewer,
            seen,
            invitations.get(ctx.plan.id, ()),
            last_change.get(ctx.plan.id),
            horizon,
        )
        if policy.check_manage_plan(ctx, viewer):
            for kind, day in (transitions or {}).get(ctx.plan.id, ()):
                out.append(
                    Row(
                        "transition-review",
                        ctx.plan.id,
                        ctx.plan.title,
                        f"/plan/{ctx.plan.id}/gruppe",
                        title=kind,
                        date=day.isoformat(),
                    )
                )
    return sorted(
        out, key=lambda r: (-r.urgency, r.date is None, r.date or "", r.plan_title, r.title)
    )
