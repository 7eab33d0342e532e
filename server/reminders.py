"""Reminders that reach people: a scheduled pass finds what is waiting for whom, stores
each thing once per person (the in-app inbox), and e-mails each person one digest of
what is new unless they chose in-app only.

Who is reminded of what (each decided by ``collab.policy``):
- a measure past its evaluation or end date: the participant responsible for it, and the
  coordinator (``check_follow_up_measures``); the plan's own evaluation: the coordinator;
- minutes waiting for approval: whoever may approve them (the owner, a guardian); minutes
  approved and waiting to be finalised: whoever may finalise them (the coordinator);
- consent running out within 30 days: whoever may sign it (the owner, a guardian);
- a meeting in the next two days, or changed since (its calendar sequence), or
  cancelled: everyone invited who may see it.

A pass runs at start-up and then every ``reminder_interval_seconds``. A database lease
(``job_leases``) lets one process at a time run it, and a unique key per person and
thing means nothing is reminded twice, even if two passes overlap. E-mails carry no plan
content: a count of each kind of thing and a link (ADR 0019). Each reminder is counted
only in the letter to the address on the person's record in its own plan: an address
one plan's coordinator typed never learns of the person's other plans.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from collab import policy
from collab.meeting import MeetingState, MeetingStatus
from collab.model import Measure
from collab.policy import PlanContext, Principal
from server import mail, worklist
from server.db import reminders as reminders_db
from server.db import repo
from server.db import worklist as worklist_db
from server.db.meeting_repo import state_of
from server.db.models import MeetingRow
from server.runtime import Services

log = logging.getLogger("planrom.reminders")

__all__ = ["DIGEST_WORDS", "PassReport", "Reminders"]

LEASE = timedelta(minutes=5)
MEETING_AHEAD = timedelta(days=2)
DIGEST_SINCE = timedelta(days=7)  # older reminders are left to the inbox

# What the digest says of each kind, counted (bokmål; e-mail has no reader language).
DIGEST_WORDS = {
    "measure-overdue": "tiltak som skulle vært evaluert eller er forbi sluttdatoen",
    "evaluation-overdue": "plan som skulle vært evaluert",
    "minutes-approve": "referat som venter på at du godkjenner det",
    "minutes-finalise": "referat som er godkjent og kan ferdigstilles",
    "consent-expiring": "samtykke som snart går ut",
    "meeting-soon": "møte de nærmeste dagene",
    "meeting-changed": "møte som er endret",
    "meeting-cancelled": "møte som er avlyst",
}


@dataclass(frozen=True)
class PassReport:
    ran: bool  # False: another process held the lease
    added: int = 0
    emailed: int = 0  # digests sent


def _meeting_reminders(
    ctx: PlanContext, viewer: Principal, meetings: list[MeetingRow], now: datetime
) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    me = ctx.actor(viewer)
    if me is None:
        return out
    for row in meetings:
        state = state_of(row)
        if me.id not in state.invited or row.starts_at <= now:
            continue
        if not policy.check_see_meeting(ctx, viewer, state):
            continue
        href = f"/mote/{row.id}"
        if state.status is MeetingStatus.CANCELLED:
            out.append(("meeting-cancelled", f"meeting-cancelled:{row.id}", href))
        elif state.status is MeetingStatus.SCHEDULED:
            if row.ics_sequence > 0:
                thing = f"meeting-changed:{row.id}:{row.ics_sequence}"
                out.append(("meeting-changed", thing, href))
            if row.starts_at <= now + MEETING_AHEAD:
                out.append(("meeting-soon", f"meeting-soon:{row.id}:{row.ics_sequence}", href))
    return out


def _row_is_theirs(
    ctx: PlanContext, viewer: Principal, row: worklist.Row, states: dict[str, MeetingState | None]
) -> bool:
    me = ctx.actor(viewer)
    if me is None:
        return False
    if row.kind == "measure-overdue":
        return row.responsible == me.id or bool(policy.check_follow_up_measures(ctx, viewer))
    if row.kind == "evaluation-overdue":
        return bool(policy.check_follow_up_measures(ctx, viewer))
    if row.kind in ("minutes-approve", "minutes-finalise"):
        state = states.get(row.href.rsplit("/", 1)[-1])
        if state is None:
            return False
        can = policy.meeting_capabilities(ctx, viewer, state)
        return can["approve" if row.kind == "minutes-approve" else "finalise"]
    if row.kind == "consent-expiring":
        return bool(policy.check_withdraw_consent(ctx, viewer))
    return False


class Reminders:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.holder = f"reminders-{secrets.token_hex(6)}"

    async def wanted(self, now: datetime) -> list[tuple[str, str, str, str, str]]:
        """Every (person, plan, kind, thing, href) that should be in someone's inbox now."""
        maker = self.services.sessionmaker
        out: list[tuple[str, str, str, str, str]] = []
        async with maker() as db:
            plans = await reminders_db.active_plans(db)
            all_measures = await worklist_db.measures(db, plans)
            all_meetings = await worklist_db.meetings(db, plans)
            measures: dict[str, list[Measure]] = defaultdict(list)
            for m in all_measures:
                measures[m.plan_id].append(repo.to_measure(m))
            meetings: dict[str, list[MeetingRow]] = defaultdict(list)
            for meeting in all_meetings:
                meetings[meeting.plan_id].append(meeting)
            for plan_id in plans:
                ctx = await repo.load_context(db, plan_id, now)
                if ctx is None:
                    continue
                items = [
                    worklist.WorkItem(
                        m.id, plan_id, m.title, m.starts_at, status=m.status, state=state_of(m)
                    )
                    for m in meetings[plan_id]
                ]
                states = {item.id: item.state for item in items}
                for participant in ctx.plan.participants:
                    if not participant.active or participant.person is None:
                        continue
                    viewer = Principal(participant.person, participant.name)
                    rows = worklist.rows_for(
                        viewer,
                        [ctx],
                        {plan_id: measures[plan_id]},
                        {plan_id: items},
                        {},
                        {plan_id: now},  # sleeping plans are the worklist's, not reminders
                    )
                    for row in rows:
                        if _row_is_theirs(ctx, viewer, row, states):
                            thing = f"{row.kind}:{row.href}:{row.date or ''}"
                            out.append((viewer.person, plan_id, row.kind, thing, row.href))
                    for kind, thing, href in _meeting_reminders(
                        ctx, viewer, meetings[plan_id], now
                    ):
                        out.append((viewer.person, plan_id, kind, thing, href))
        return out

    async def run_once(self) -> PassReport:
        services = self.services
        maker, now = services.sessionmaker, services.clock()
        async with maker() as db, db.begin():
            if not await reminders_db.take_lease(db, "reminders", self.holder, now, now + LEASE):
                return PassReport(ran=False)
        wanted = await self.wanted(now)
        async with maker() as db, db.begin():
            added = await reminders_db.add_new(db, wanted, now)
        emailed = await self._digests(now)
        if added or emailed:
            log.info("reminders: %d new, %d digests sent", len(added), emailed)
        return PassReport(ran=True, added=len(added), emailed=emailed)

    async def _digests(self, now: datetime) -> int:
        services = self.services
        settings = services.settings
        async with services.sessionmaker() as db:
            waiting = await reminders_db.to_email(db, now - DIGEST_SINCE)
            addresses = await reminders_db.emails_of(db, {r.person_id for r in waiting})
        # One digest per person and address; each reminder to the address on the person's
        # record in its own plan (another plan's coordinator may have typed another).
        by_letter: dict[tuple[str, str], list[int]] = defaultdict(list)
        counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        names: dict[tuple[str, str], str] = {}
        for reminder in waiting:
            found = addresses.get((reminder.person_id, reminder.plan_id))
            if found is None:
                continue
            letter = (reminder.person_id, found[1])
            names.setdefault(letter, found[0])
            by_letter[letter].append(reminder.id)
            counts[letter][reminder.kind] += 1
        sent = 0
        for (person, address), ids in by_letter.items():
            name = names[(person, address)]
            try:  # one bad address (stored before addresses were checked) stops no one else
                message = mail.letter(
                    sender=settings.smtp.sender if settings.smtp else "planrom@localhost",
                    to=address,
                    subject=f"Planrom: {len(ids)} ting å følge opp",
                    text=digest_text(name, counts[(person, address)], settings.base_url),
                    at=now,
                )
                if settings.smtp is not None:
                    await mail.send(settings.smtp, message)
                else:
                    await mail.write_outbox(
                        settings.outbox_dir,
                        f"paminnelse-{person}-{secrets.token_hex(4)}.eml",
                        message,
                    )
            except Exception as exc:  # kept for the next pass
                log.warning("reminder digest to %s failed: %s", person, exc)
                continue
            async with services.sessionmaker() as db, db.begin():
                await reminders_db.mark_emailed(db, ids, now)
            sent += 1
        return sent

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        interval = self.services.settings.reminder_interval_seconds
        if interval <= 0:
            yield
            return

        async def loop() -> None:
            while True:
                try:
                    await self.run_once()
                except Exception:
                    log.exception("a reminder pass failed")
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop(), name="planrom-reminders")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def digest_text(name: str, counts: Counter[str], base_url: str) -> str:
    """The digest: who it is for, how many of each kind, and a link. No plan content."""
    lines = [f"Hei, {name}!", "", "Dette venter på deg i Planrom:"]
    for kind, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        lines.append(f"- {count} {DIGEST_WORDS.get(kind, kind)}")
    lines += [
        "",
        f"Logg inn for å se hva det gjelder: {base_url}/arbeidsliste",
        "",
        "Du kan velge å få påminnelser bare inne i Planrom på samme side.",
    ]
    return "\n".join(lines) + "\n"
