"""Meetings between the wire and the database: load, decide, apply, finalise.

Routes (HTTP) and the meeting namespace (Socket.IO) both come here; access questions go
to collab.policy, state changes to collab.meeting, SQL to server.db.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from pycrdt import Array, Doc, Map, Text
from sqlalchemy.ext.asyncio import AsyncSession

from collab import decisions, policy
from collab import meeting as sm
from collab.agenda import Goal, draft_agenda
from collab.docs import ItemDoc, MeasureDoc, SectionDoc
from collab.editing import YDoc
from collab.model import Measure, MeasureStatus, Role, SectionKind, new_id
from collab.policy import PlanContext, Principal
from collab.refusal import Refused
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
    known = policy.knows_of(loaded.ctx, principal)
    people = {p.id: p for p in loaded.ctx.plan.participants}
    attendees = []
    for participant, mark in sorted(state.attendance.items()):
        who = people.get(participant)
        if who is None or participant not in known:
            continue  # one learns of another participant only as policy allows
        attendees.append(
            {
                "participant": participant,
                "name": who.name,
                "role": who.role.value,
                "present": mark == sm.Attendance.PRESENT,
                "attendance": mark.value,
            }
        )

    def shown(participant: str | None) -> str | None:
        return participant if participant in known else None

    out: dict[str, Any] = {
        "meeting": state.meeting,
        # Grows with every stored change: a client keeps the newest state it has seen
        # (a reply and a broadcast may arrive in either order).
        "version": loaded.row.version or 0,
        "title": loaded.row.title,
        "status": state.status.value,
        "chair": shown(state.chair),
        "minute_taker": shown(state.minute_taker),
        "current_item": state.current_item if state.current_item in visible_ids else None,
        "pen": (
            {"item": state.pen.item, "participant": shown(state.pen.participant)}
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
        raise Refused("not-found", "not a participant in this plan")
    return actor


async def command(
    session: AsyncSession, loaded: Loaded, principal: Principal, cmd: sm.Command, now: datetime
) -> tuple[sm.MeetingState, sm.Events]:
    """Apply a command as this person and store the new state (raises Refused)."""
    seen = policy.check_see_meeting(loaded.ctx, principal, loaded.state)
    if not seen:
        raise Refused("not-found", seen.reason)
    actor = actor_of(loaded, principal)
    view = _as_if_missing(loaded, principal, cmd)
    if view is not None:
        # It names an item or a person this person may not know of: refused exactly as if
        # they did not exist (forbidden, conflict or not-found, in the machine's order).
        sm.apply(view, cmd, actor, now)
        raise Refused("not-found", "names something this person may not know of")
    state, events = sm.apply(loaded.state, cmd, actor, now)
    loaded.state = state
    await meeting_repo.save_state(session, loaded.row, state, by=principal.person, at=now)
    return state, events


def _as_if_missing(loaded: Loaded, principal: Principal, cmd: sm.Command) -> sm.MeetingState | None:
    """The meeting without the agenda item and the participant ``cmd`` names that this
    person may not read or know of; None when it names nothing hidden from them."""
    state = loaded.state
    item_id = getattr(cmd, "item", None)
    item = state.item(item_id) if isinstance(item_id, str) else None
    hidden_item = item is not None and not loaded.can_read(principal, item)
    who = getattr(cmd, "participant", None)
    hidden_person = (
        isinstance(who, str)
        and who in state.attendance
        and who not in policy.knows_of(loaded.ctx, principal)
    )
    if not hidden_item and not hidden_person:
        return None
    return replace(
        state,
        agenda=tuple(i for i in state.agenda if not (hidden_item and i.id == item_id)),
        invited=state.invited - {who} if hidden_person else state.invited,
        attendance={k: v for k, v in state.attendance.items() if not (hidden_person and k == who)},
    )


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

KIND_LABEL = {  # bokmål labels of collab.decisions.KINDS, for the stored summary
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
                "responsible": responsible if responsible in people else None,
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
        "approved_by_participant": approved.by if approved and approved.by in people else None,
        "approved_at": approved.at.isoformat() if approved else "",
        "finalised_by": (
            people[final.by].name
            if final and final.by in people
            else persons.get(final.by if final else "", "")
        ),
        "finalised_by_participant": (
            final.by
            if final and final.by in people
            else next((p.id for p in people.values() if final and p.person == final.by), None)
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


OTHER_SERVICE = "en annen tjeneste"  # who a viewer may not know of, in the minutes


def scrubber(ctx: PlanContext, principal: Principal) -> Callable[[str], str]:
    """Generated sentences (decision summaries) name the responsible person: for a viewer
    who may not know of them, their name becomes :data:`OTHER_SERVICE`."""
    known = policy.knows_of(ctx, principal)
    known_names = {p.name for p in ctx.plan.participants if p.id in known}
    unknown = sorted(
        {p.name for p in ctx.plan.participants if p.id not in known and p.name} - known_names,
        key=len,
        reverse=True,
    )

    def scrub(text: str) -> str:
        for name in unknown:
            text = text.replace(name, OTHER_SERVICE)
        return text

    return scrub


def filter_content(content: dict[str, Any], loaded: Loaded, principal: Principal) -> dict[str, Any]:
    """The minutes as this person may see them, before they reach any renderer (JSON,
    HTML, PDF, the owner's summary): only items they may read (in the item's own
    section); every decision exactly as its item (next meeting and next evaluation
    included); and only the people :func:`collab.policy.knows_of` lets them know of —
    attendance, organisation and service, "responsible", who approved and finalised."""
    ctx = loaded.ctx
    known = policy.knows_of(ctx, principal)
    people = {p.id: p for p in ctx.plan.participants}
    known_names = {people[p].name for p in known if p in people}
    scrub = scrubber(ctx, principal)

    def person(name: Any, participant: Any) -> Any:
        if participant is not None:
            return name if participant in known else ""
        return name if not name or name in known_names else ""

    items = []
    agenda = {i.id: i for i in loaded.state.agenda}
    for item in content["items"]:
        agenda_item = agenda.get(item["id"]) or sm.AgendaItem(
            item["id"], item["title"], item["section"], sm.ItemKind.FREE
        )
        if not loaded.can_read(principal, agenda_item):
            continue
        decisions = []
        for d in item["decisions"]:
            responsible = d.get("responsible")
            hidden = (responsible is not None and responsible not in known) or (
                responsible is None
                and d.get("responsible_name") is not None
                and d["responsible_name"] not in known_names
            )
            decisions.append(
                d
                | {
                    "summary": scrub(str(d.get("summary", ""))),
                    "responsible": None if hidden else responsible,
                    "responsible_name": OTHER_SERVICE if hidden else d.get("responsible_name"),
                }
            )
        items.append(item | {"decisions": decisions})
    kinds = {d["kind"] for i in items for d in i["decisions"]}
    out = dict(content) | {"items": items}
    out["attendance"] = [a for a in content.get("attendance", []) if a.get("participant") in known]
    out["approved_by"] = person(content.get("approved_by"), content.get("approved_by_participant"))
    out["finalised_by"] = person(
        content.get("finalised_by"), content.get("finalised_by_participant")
    )
    for key in ("approved_by_participant", "finalised_by_participant"):
        if key in out and out[key] not in known:
            out[key] = None
    if "next_meeting" not in kinds:
        out["next_meeting"] = None
    if "next_evaluation" not in kinds:
        out["next_evaluation"] = None
    return out


async def apply_decisions(
    session: AsyncSession, services: Services, loaded: Loaded, by: str, now: datetime
) -> int:
    """Apply every decision to the plan's records, and record in the same transaction the
    document edits they make (``server.effects``: carried out after commit, retried, never
    lost), so that text and records change together. Returns how many edits it recorded."""
    doc_edits: list[tuple[str, str, dict[str, object]]] = []
    plan_row = await session.get(PlanRow, loaded.row.plan_id)
    assert plan_row is not None
    stamp = f"{now.date().isoformat()}"
    for d in await meeting_repo.decisions(session, loaded.row.id):
        outcome: dict[str, Any] = {}
        if d.kind in decisions.MEASURE_KINDS and d.measure_id:
            row = await session.get(MeasureRow, d.measure_id)
            if row is not None:
                change = decisions.measure_change(d.kind, d.data, MeasureStatus(row.status))
                for key, value in change.fields.items():
                    setattr(row, key, value)
                if change.versioned:
                    await repo.record(
                        session, row, plan_id=row.plan_id, change="update", by=by, at=now
                    )
                note = f"{stamp} ({loaded.row.title}): {d.data.get('summary', '')}"
                doc_edits.append(
                    (
                        MeasureDoc(row.plan_id, row.id).name,
                        "measure-fill",
                        {"progress": [[stamp, note]], "key": f"decision:{d.id}"},
                    )
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
                    "measure-fill",
                    {
                        "description": d.data.get("description", ""),
                        "progress": [[stamp, f"Vedtatt i {loaded.row.title}."]],
                        "key": f"decision:{d.id}",
                    },
                )
            )
            doc_edits.append(
                (
                    SectionDoc(row.plan_id, row.section_id).name,
                    "section-measure",
                    {"measure": row.id},
                )
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
                # Drafted from what will be due then, as for any meeting scheduled with a
                # drafted agenda (measures changed since this meeting, goals, evaluations).
                agenda=draft_agenda(
                    meeting_day=starts.date(),
                    sections=loaded.ctx.sections,
                    measures=[
                        repo.to_measure(m)
                        for m in await repo.measures_of_plan(session, loaded.row.plan_id)
                    ],
                    goals=await plan_goals(services, loaded.ctx),
                    changed_measures=await meeting_repo.measures_changed_since(
                        session, loaded.row.plan_id, loaded.row.starts_at
                    ),
                    next_evaluation=plan_row.next_evaluation,
                    new_id=new_id,
                ),
                by=by,
                now=now,
            )
            outcome = {"meeting": follow_up.id}
        d.applied_at = now
        d.outcome = outcome
    for doc, kind, data in doc_edits:
        services.effects.record(session, doc=doc, kind=kind, data=data, person=by, now=now)
    return len(doc_edits)


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


async def send_invitations(
    services: Services, meeting_id: str, *, uninvited: Iterable[str] = ()
) -> int:
    """E-mail every invitee with an address their invitation (or cancellation) as .ics:
    through SMTP when configured, otherwise into the outbox. Returns how many were sent.
    Participants without an e-mail address download theirs in the app. With
    ``uninvited``, only those participants are written to, each with a CANCEL (they lost
    access). Each letter names only the addressee and, if policy lets the addressee know
    of them, the chair."""
    from server import ics, mail

    async with services.sessionmaker() as session:
        loaded = await load(session, meeting_id, services.clock())
    if loaded is None:
        return 0
    settings = services.settings
    now = services.clock()
    row, state = loaded.row, loaded.state
    gone = set(uninvited)
    cancelled_meeting = state.status is sm.MeetingStatus.CANCELLED
    chair = loaded.ctx.plan.participant(state.chair)
    sent = 0
    for pid in sorted(gone or state.invited):
        who = loaded.ctx.plan.participant(pid)
        if who is None or not who.email:
            continue
        cancelled = cancelled_meeting or bool(gone)
        organizer = (
            chair.name
            if chair is not None and chair.id in policy.known_participants(loaded.ctx, who)
            else ""
        )
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
            organizer_name=organizer,
            base_url=settings.base_url,
            sequence=row.ics_sequence + (1 if gone else 0),
            method="CANCEL" if cancelled else "REQUEST",
            now=now,
        )
        subject = ("Avlyst: " if cancelled else "Invitasjon: ") + row.title
        text_body = (
            f"Hei {who.name},\n\n"
            + (
                "Du er ikke lenger invitert til dette møtet."
                if gone
                else "Møtet er avlyst."
                if cancelled
                else "Du er invitert til ansvarsgruppemøte."
            )
            + f"\n\n{settings.base_url}/mote/{row.id}\n"
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


# --- access lost ----------------------------------------------------------------------------

SYSTEM = "planrom"  # who "changed" a meeting when the change follows from a consent change


def _cause(ctx: PlanContext) -> str:
    """Whose act a consequence of an access change is: the signer of the consent version
    in force (the owner or a guardian; a withdrawal is theirs too), else the owner."""
    signer = ctx.plan.participant(ctx.consent.signed_by) if ctx.consent is not None else None
    owner = next((p for p in ctx.plan.participants if p.role is Role.OWNER), None)
    return (signer and signer.person) or (owner and owner.person) or SYSTEM


async def uninvite_lost(
    services: Services, plan_id: str, by: str | None = None
) -> dict[str, list[str]]:
    """Everyone who may no longer take part (consent withdrawn or expired, removed from
    the group) is uninvited from the plan's coming and live meetings, the change
    attributed to ``by`` (default: :func:`_cause`). Returns, per meeting, who was
    uninvited (to be sent a CANCEL)."""
    now = services.clock()
    out: dict[str, list[str]] = {}
    async with services.sessionmaker() as session, session.begin():
        ctx = await repo.load_context(session, plan_id, now)
        if ctx is None:
            return out
        by = by or _cause(ctx)
        for row in await meeting_repo.of_plan(session, plan_id):
            if row.status not in (sm.MeetingStatus.SCHEDULED.value, sm.MeetingStatus.LIVE.value):
                continue
            state = meeting_repo.state_of(row)
            was_invited = state.invited
            present = {p for p, m in state.attendance.items() if m is sm.Attendance.PRESENT}
            gone = []
            for pid in sorted((state.invited | present) - {state.owner}):
                if not policy.stays_invited(ctx, ctx.plan.participant(pid)):
                    gone.append(pid)
            if not gone:
                continue
            locked = await meeting_repo.get(session, row.id, lock=True)
            assert locked is not None
            state = meeting_repo.state_of(locked)
            for pid in gone:
                state = sm.uninvite(state, pid)
            locked.ics_sequence += 1
            await meeting_repo.save_state(session, locked, state, by=by, at=now)
            out[row.id] = [p for p in gone if p in was_invited]
    return out


async def access_changed(services: Services, plan_id: str, by: str | None = None) -> None:
    """Consent or the group changed: those who lost access are uninvited from coming and
    live meetings (and sent a CANCEL), then every live session is re-decided (documents
    revoked or downgraded, meeting rooms left with ``meeting:revoked``). ``create_app``
    makes this ``Services.on_access_change``."""
    uninvited = await uninvite_lost(services, plan_id, by)
    if services.realtime is not None:
        # Documents, and meeting rooms: members who lost access are put out, the others
        # sent their view if it changed (other processes: the access poll).
        await services.realtime.recheck_plan(plan_id)
    for meeting_id, gone in uninvited.items():
        try:
            await send_invitations(services, meeting_id, uninvited=gone)
        except Exception:  # mail trouble must not undo the withdrawal
            logging.getLogger("planrom.meeting").exception("cancelling for %s", meeting_id)
