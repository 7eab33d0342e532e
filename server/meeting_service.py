"""Meetings between the wire and the database: load, decide, apply, finalise.

Routes (HTTP) and the meeting namespace (Socket.IO) both come here; access questions go
to collab.policy, state changes to collab.meeting, SQL to server.db.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pycrdt import Array, Doc, Map, Text
from sqlalchemy.ext.asyncio import AsyncSession

from collab import meeting as sm
from collab import policy
from collab.agenda import Goal
from collab.docs import ItemDoc, MeasureDoc, SectionDoc
from collab.editing import YDoc, append_measure_id, fill_measure
from collab.model import Measure, MeasureStatus, Role, SectionKind, new_id
from collab.policy import PlanContext, Principal
from server import minutes
from server.db import meeting_repo, repo
from server.db.models import DecisionRow, MeasureRow, MeetingRow, MinutesRow, PlanRow
from server.runtime import Services


@dataclass
class Loaded:
    row: MeetingRow
    state: sm.MeetingState
    ctx: PlanContext
    measures: dict[str, Measure]

    def measure_of(self, item: sm.AgendaItem) -> Measure | None:
        if item.kind == sm.ItemKind.MEASURE and item.ref is not None:
            return self.measures.get(item.ref)
        return None

    def can_read(self, principal: Principal, item: sm.AgendaItem) -> bool:
        return bool(
            policy.check_read_item(self.ctx, principal, self.state, item, self.measure_of(item))
        )


async def load(
    session: AsyncSession, meeting_id: str, now: datetime, *, lock: bool = False
) -> Loaded | None:
    row = await meeting_repo.get(session, meeting_id, lock=lock)
    if row is None:
        return None
    ctx = await repo.load_context(session, row.plan_id, now)
    assert ctx is not None
    measures = {m.id: repo.to_measure(m) for m in await repo.measures_of_plan(session, row.plan_id)}
    return Loaded(row, meeting_repo.state_of(row), ctx, measures)


def item_doc(meeting: str, item: str) -> str:
    return ItemDoc(meeting, item).name


def wire_state(loaded: Loaded, principal: Principal) -> dict[str, Any]:
    """PROTOCOL.md's MeetingState for one person: only the items they may read."""
    state = loaded.state
    visible = [i for i in state.agenda if loaded.can_read(principal, i)]
    visible_ids = {i.id for i in visible}
    people = {p.id: p for p in loaded.ctx.plan.participants}
    attendees = []
    for participant, mark in sorted(state.attendance.items()):
        who = people.get(participant)
        if who is None:
            continue
        attendees.append(
            {
                "participant": participant,
                "name": who.name,
                "role": who.role.value,
                "present": mark == sm.Attendance.PRESENT,
                "attendance": mark.value,
            }
        )
    out: dict[str, Any] = {
        "meeting": state.meeting,
        "title": loaded.row.title,
        "status": state.status.value,
        "chair": state.chair,
        "minute_taker": state.minute_taker,
        "current_item": state.current_item if state.current_item in visible_ids else None,
        "pen": (
            {"item": state.pen.item, "participant": state.pen.participant}
            if state.pen is not None and state.pen.item in visible_ids
            else None
        ),
        "attendees": attendees,
        "agenda": [
            {
                "id": i.id,
                "title": i.title,
                "section": i.section,
                "kind": i.kind,
                "ref": i.ref,
                "doc": item_doc(state.meeting, i.id),
            }
            for i in visible
        ],
        "can": policy.meeting_capabilities(loaded.ctx, principal, state),
    }
    if state.current_item is not None and state.current_item not in visible_ids:
        out["current_hidden"] = True
    return out


def actor_of(loaded: Loaded, principal: Principal) -> sm.Actor:
    actor = policy.meeting_actor(loaded.ctx, principal)
    if actor is None:
        raise sm.Refused("not-found", "not a participant in this plan")
    return actor


async def command(
    session: AsyncSession, loaded: Loaded, principal: Principal, cmd: sm.Command, now: datetime
) -> tuple[sm.MeetingState, sm.Events]:
    """Apply a command as this person and store the new state (raises sm.Refused)."""
    seen = policy.check_see_meeting(loaded.ctx, principal, loaded.state)
    if not seen:
        raise sm.Refused("not-found", seen.reason)
    state, events = sm.apply(loaded.state, cmd, actor_of(loaded, principal), now)
    loaded.state = state
    await meeting_repo.save_state(session, loaded.row, state, by=principal.person, at=now)
    return state, events


# --- goals from the plan's documents --------------------------------------------------


def _plain(value: object) -> str:
    """A goal field as text: a Y.Text or a string; anything else (a nested map, array)
    is ignored rather than walked. The state comes from a validated room (depth ≤ 16)."""
    if isinstance(value, Text):
        return str(value)
    return value if isinstance(value, str) else ""


def goals_from(section_id: str, state: bytes) -> list[Goal]:
    doc: YDoc = Doc()
    doc.apply_update(state)
    out = []
    for entry in doc.get("goals", type=Array):  # one level, iteratively
        if not isinstance(entry, Map):
            continue
        text = _plain(entry.get("text"))
        target = entry.get("target")
        try:
            when = date.fromisoformat(target) if isinstance(target, str) else None
        except ValueError:
            when = None
        out.append(
            Goal(
                _plain(entry.get("id")),
                section_id,
                text,
                when,
                _plain(entry.get("status")) or "active",
            )
        )
    return out


async def plan_goals(services: Services, ctx: PlanContext) -> list[Goal]:
    if services.realtime is None:
        return []
    goals: list[Goal] = []
    for section in ctx.sections.values():
        if section.kind is SectionKind.GOALS and not section.archived:
            state = await services.realtime.document_state(SectionDoc(ctx.plan.id, section.id).name)
            goals += goals_from(section.id, state)
    return goals


# --- decisions --------------------------------------------------------------------------

KIND_LABEL = {
    "continue": "Videreføres",
    "adjust": "Justeres",
    "stop": "Avsluttes",
    "new_measure": "Nytt tiltak",
    "evaluation": "Evaluering",
    "next_meeting": "Neste møte",
    "next_evaluation": "Neste evaluering",
}


def summarise(kind: str, data: dict[str, Any], ctx: PlanContext, measure: Measure | None) -> str:
    """One plain-language sentence (bokmål, Norwegian time) stored with the decision for
    the measure's progress log; the minutes write theirs again from the details, in the
    reader's language."""
    people = {p.id: p.name for p in ctx.plan.participants}
    changes = data.get("changes") or {}
    details = minutes.decision_details(data, people.get(changes.get("responsible", "")))
    sentence = minutes.decision_sentence(
        kind,
        details,
        measure_title=measure.title if measure is not None else None,
        responsible_name=people.get(data.get("responsible", "")),
        lang="nb",
    )
    if kind in ("continue", "adjust", "stop"):  # the sentence says what happens
        return sentence
    label = KIND_LABEL.get(kind, kind)
    return f"{label}: {sentence}" if sentence else label


# --- finalisation -------------------------------------------------------------------------


def content_hash(content: dict[str, Any]) -> str:
    body = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _stamp(state: sm.MeetingState, status: sm.MeetingStatus) -> sm.Stamp | None:
    return next((s for s in reversed(state.stamps) if s.status == status), None)


async def notes_of(
    services: Services, meeting: str, items: Iterable[sm.AgendaItem]
) -> dict[str, str]:
    out = {}
    for item in items:
        text = ""
        if services.realtime is not None:
            state = await services.realtime.document_state(item_doc(meeting, item.id))
            doc: YDoc = Doc()
            doc.apply_update(state)
            text = str(doc.get("notes", type=Text))
        out[item.id] = text
    return out


def minutes_content(
    loaded: Loaded,
    plan_title: str,
    decisions: Iterable[DecisionRow],
    notes: dict[str, str],
    version: int,
    supersedes: int | None,
    reason: str,
) -> dict[str, Any]:
    state = loaded.state
    people = {p.id: p for p in loaded.ctx.plan.participants}
    persons = {p.person: p.name for p in loaded.ctx.plan.participants if p.person}
    by_item: dict[str, list[dict[str, Any]]] = {}
    next_meeting = None
    next_eval = None
    for d in decisions:
        measure = loaded.measures.get(d.measure_id or "")
        changes = d.data.get("changes") or {}
        responsible = (
            d.data.get("responsible")
            or changes.get("responsible")
            or (measure.responsible if measure else None)
        )
        by_item.setdefault(d.item_id, []).append(
            {
                "id": d.id,
                "kind": d.kind,
                "section": d.section_id,
                "summary": d.data.get("summary", ""),
                "measure_title": measure.title if measure else d.data.get("title"),
                "responsible_name": people[responsible].name if responsible in people else None,
                "due": d.data.get("evaluate_by") or d.data.get("ends") or d.data.get("date"),
                "details": minutes.decision_details(d.data, None),
            }
        )
        if d.kind == "next_meeting":
            next_meeting = {"starts_at": d.data.get("starts_at"), "place": d.data.get("place", "")}
        if d.kind == "next_evaluation":
            next_eval = d.data.get("date")
    approved = _stamp(state, sm.MeetingStatus.APPROVED)
    final = _stamp(state, sm.MeetingStatus.FINAL)
    row = loaded.row
    return {
        "meeting": {
            "id": row.id,
            "title": row.title,
            "plan_id": row.plan_id,
            "plan_title": plan_title,
            "kind": row.kind,
            "starts_at": row.starts_at.isoformat(),
            "ends_at": row.ends_at.isoformat(),
            "place": row.place,
            "video_url": row.video_url,
        },
        "version": version,
        "supersedes": supersedes,
        "reason": reason,
        "approved_by": people[approved.by].name if approved and approved.by in people else "",
        "approved_at": approved.at.isoformat() if approved else "",
        "finalised_by": (
            people[final.by].name
            if final and final.by in people
            else persons.get(final.by if final else "", "")
        ),
        "finalised_at": final.at.isoformat() if final else "",
        "attendance": [
            {
                "participant": pid,
                "name": people[pid].name,
                "role": people[pid].role.value,
                "organisation": people[pid].organisation,
                "service": people[pid].service,
                "attendance": mark.value,
            }
            for pid, mark in sorted(state.attendance.items())
            if pid in people
        ],
        "items": [
            {
                "id": i.id,
                "title": i.title,
                "section": i.section,
                "section_title": loaded.ctx.sections[i.section].title
                if i.section in loaded.ctx.sections
                else "",
                "notes": notes.get(i.id, ""),
                "decisions": by_item.get(i.id, []),
            }
            for i in state.agenda
        ],
        "next_meeting": next_meeting,
        "next_evaluation": next_eval,
    }


def filter_content(content: dict[str, Any], loaded: Loaded, principal: Principal) -> dict[str, Any]:
    """The minutes as this person may see them: items and decisions of readable sections."""
    items = []
    agenda = {i.id: i for i in loaded.state.agenda}
    for item in content["items"]:
        agenda_item = agenda.get(item["id"]) or sm.AgendaItem(
            item["id"], item["title"], item["section"], sm.ItemKind.FREE
        )
        if not loaded.can_read(principal, agenda_item):
            continue
        decisions = [
            d
            for d in item["decisions"]
            if policy.check_read_section(loaded.ctx, principal, d["section"])
        ]
        items.append(item | {"decisions": decisions})
    visible_sections = {i["section"] for i in items}
    out = dict(content) | {"items": items}
    if loaded.ctx.sections and not any(
        s.kind is SectionKind.COORDINATION and s.id in visible_sections
        for s in loaded.ctx.sections.values()
    ):
        coordination = [
            s.id for s in loaded.ctx.sections.values() if s.kind is SectionKind.COORDINATION
        ]
        if not any(policy.check_read_section(loaded.ctx, principal, s) for s in coordination):
            out["next_evaluation"] = None
    return out


async def apply_decisions(
    session: AsyncSession, services: Services, loaded: Loaded, by: str, now: datetime
) -> list[tuple[str, Any]]:
    """Apply every decision to the plan's records. Returns the document edits to make
    after commit (document name, edit), so that text and records change together."""
    doc_edits: list[tuple[str, Any]] = []
    plan_row = await session.get(PlanRow, loaded.row.plan_id)
    assert plan_row is not None
    stamp = f"{now.date().isoformat()}"
    for d in await meeting_repo.decisions(session, loaded.row.id):
        outcome: dict[str, Any] = {}
        if d.kind in ("continue", "adjust", "stop", "evaluation") and d.measure_id:
            row = await session.get(MeasureRow, d.measure_id)
            if row is not None:
                if d.kind == "stop":
                    row.status = MeasureStatus.STOPPED.value
                elif d.kind == "continue" and row.status == MeasureStatus.PLANNED.value:
                    row.status = MeasureStatus.ACTIVE.value
                elif d.kind == "adjust":
                    for key, value in d.data.get("changes", {}).items():
                        if key in ("starts", "ends", "evaluate_by"):
                            setattr(row, key, date.fromisoformat(value) if value else None)
                        elif key == "responsible":
                            row.responsible_id = value
                        elif key in ("title", "frequency"):
                            setattr(row, key, value)
                if d.kind != "evaluation":
                    await repo.record(
                        session, row, plan_id=row.plan_id, change="update", by=by, at=now
                    )
                note = f"{stamp} ({loaded.row.title}): {d.data.get('summary', '')}"
                doc_edits.append(
                    (MeasureDoc(row.plan_id, row.id).name, fill_measure(progress=((stamp, note),)))
                )
                outcome = {"measure": row.id, "status": row.status}
        elif d.kind == "new_measure":
            row = MeasureRow(
                id=new_id(),
                plan_id=loaded.row.plan_id,
                section_id=d.data["section"],
                title=d.data["title"],
                responsible_id=d.data.get("responsible"),
                goal_ids=list(d.data.get("goal_ids", [])),
                frequency=d.data.get("frequency", ""),
                starts=date.fromisoformat(d.data["starts"]) if d.data.get("starts") else None,
                ends=date.fromisoformat(d.data["ends"]) if d.data.get("ends") else None,
                status=MeasureStatus.ACTIVE.value,
                evaluate_by=(
                    date.fromisoformat(d.data["evaluate_by"]) if d.data.get("evaluate_by") else None
                ),
            )
            await repo.record(session, row, plan_id=row.plan_id, change="create", by=by, at=now)
            doc_edits.append(
                (
                    MeasureDoc(row.plan_id, row.id).name,
                    fill_measure(
                        d.data.get("description", ""), ((stamp, f"Vedtatt i {loaded.row.title}."),)
                    ),
                )
            )
            doc_edits.append(
                (SectionDoc(row.plan_id, row.section_id).name, append_measure_id(row.id))
            )
            d.measure_id = row.id
            outcome = {"measure": row.id}
        elif d.kind == "next_evaluation":
            plan_row.next_evaluation = date.fromisoformat(d.data["date"])
            await repo.record(
                session, plan_row, plan_id=plan_row.id, change="update", by=by, at=now
            )
            outcome = {"next_evaluation": d.data["date"]}
        elif d.kind == "next_meeting":
            starts = datetime.fromisoformat(d.data["starts_at"])
            ends = (
                datetime.fromisoformat(d.data["ends_at"])
                if d.data.get("ends_at")
                else starts + (loaded.row.ends_at - loaded.row.starts_at)
            )
            follow_up = await schedule(
                session,
                loaded.ctx,
                title=loaded.row.title,
                kind=loaded.row.kind,
                starts_at=starts,
                ends_at=ends,
                place=d.data.get("place", loaded.row.place),
                video_url=d.data.get("video_url", loaded.row.video_url),
                invited=sorted(loaded.state.invited - {loaded.state.owner}),
                chair=None,
                agenda=(),
                by=by,
                now=now,
            )
            outcome = {"meeting": follow_up.id}
        d.applied_at = now
        d.outcome = outcome
    return doc_edits


async def schedule(
    session: AsyncSession,
    ctx: PlanContext,
    *,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    video_url: str,
    invited: list[str],
    chair: str | None,
    agenda: Iterable[sm.AgendaItem],
    by: str,
    now: datetime,
) -> MeetingRow:
    owner = next(p for p in ctx.plan.participants if p.role is Role.OWNER)
    meeting_id = new_id()
    state = sm.new_meeting(meeting_id, owner.id, invited, agenda, chair)
    row = MeetingRow(
        id=meeting_id,
        plan_id=ctx.plan.id,
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        video_url=video_url,
        status=state.status.value,
        state=dict(sm.to_dict(state)),
        ics_sequence=0,
        created_at=now,
    )
    await repo.record(session, row, plan_id=ctx.plan.id, change="create", by=by, at=now)
    return row


async def store_minutes(
    session: AsyncSession,
    loaded: Loaded,
    content: dict[str, Any],
    *,
    by: str,
    now: datetime,
    supersedes: int | None = None,
    reason: str = "",
) -> MinutesRow:
    digest = content_hash(content)
    row = MinutesRow(
        meeting_id=loaded.row.id,
        version=content["version"],
        supersedes=supersedes,
        reason=reason,
        content=content | {"hash": digest},
        hash=digest,
        created_by=by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


def default_end(starts_at: datetime) -> datetime:
    return starts_at + timedelta(hours=1)


# --- calendar invitations ----------------------------------------------------------------


async def send_invitations(services: Services, meeting_id: str) -> int:
    """E-mail every invitee with an address their invitation (or cancellation) as .ics:
    through SMTP when configured, otherwise into the outbox. Returns how many were sent.
    Participants without an e-mail address download theirs in the app."""
    from server import ics, mail

    async with services.sessionmaker() as session:
        loaded = await load(session, meeting_id, services.clock())
    if loaded is None:
        return 0
    settings = services.settings
    now = services.clock()
    row, state = loaded.row, loaded.state
    cancelled = state.status is sm.MeetingStatus.CANCELLED
    chair = loaded.ctx.plan.participant(state.chair)
    sent = 0
    for pid in sorted(state.invited):
        who = loaded.ctx.plan.participant(pid)
        if who is None or not who.email:
            continue
        body = ics.invitation(
            {
                "id": row.id,
                "title": row.title,
                "starts_at": row.starts_at,
                "ends_at": row.ends_at,
                "place": row.place,
                "video_url": row.video_url,
            },
            attendee_name=who.name,
            attendee_email=who.email,
            organizer_name=chair.name if chair else "",
            base_url=settings.base_url,
            sequence=row.ics_sequence,
            method="CANCEL" if cancelled else "REQUEST",
            now=now,
        )
        subject = ("Avlyst: " if cancelled else "Invitasjon: ") + row.title
        text_body = (
            f"Hei {who.name},\n\n"
            + ("Møtet er avlyst." if cancelled else "Du er invitert til ansvarsgruppemøte.")
            + f"\n\n{settings.base_url}/meetings/{row.id}\n"
        )
        sender = settings.smtp.sender if settings.smtp else "planrom@localhost"
        message = mail.letter(sender=sender, to=who.email, subject=subject, text=text_body, at=now)
        message.add_attachment(
            body,
            maintype="text",
            subtype="calendar",
            filename=f"mote-{row.id}.ics",
            params={"method": "CANCEL" if cancelled else "REQUEST"},
        )
        if settings.smtp is not None:
            await mail.send(settings.smtp, message)
        else:
            await mail.write_outbox(
                settings.outbox_dir, f"{row.id}-{pid}-{row.ics_sequence}-{new_id(6)}.eml", message
            )
        sent += 1
    return sent
