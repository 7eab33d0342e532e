"""The live responsibility-group meeting as a pure, explicit state machine.

``apply(state, command, actor, now)`` returns the next state and the events that describe
what happened; it never decides who receives them (``collab/events.py`` does). Every
permitted (status, command) pair is one row of ``TABLE``; a pair that is not there is a
``conflict``. Checks run in a fixed order: a malformed command or actor (``malformed``),
the table (``conflict``), the row's actor check (``forbidden``), then the command's
references (``not-found``). A refusal raises ``Refused`` and changes nothing.

Identities come from the caller: ``Actor`` is the verified participant and role in the
meeting's plan. Consent (who may read which agenda item) is ``collab/policy.py``'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

from collab.model import Role, is_id
from collab.refusal import Refused as Refused  # re-exported: sm.Refused

FORMAT_VERSION = 1
MAX_AGENDA_ITEMS = 100
MAX_TITLE_CHARS = 200


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    APPROVED = "approved"
    FINAL = "final"
    CANCELLED = "cancelled"


class Attendance(StrEnum):
    INVITED = "invited"  # not joined yet
    PRESENT = "present"
    LEFT = "left"  # joined, then left before the end
    ABSENT = "absent"  # invited, never joined before the end


class ItemKind(StrEnum):
    MEASURE = "measure"  # a measure due for evaluation; ref is the measure id
    GOAL = "goal"  # ref is the goal id
    FREE = "free"  # no ref


@dataclass(frozen=True)
class Actor:
    participant: str
    role: str  # a collab.model.Role value


@dataclass(frozen=True)
class AgendaItem:
    id: str
    title: str
    section: str
    kind: str  # an ItemKind value
    ref: str | None = None


@dataclass(frozen=True)
class PenHolder:
    item: str
    participant: str


@dataclass(frozen=True)
class Stamp:
    """One status change: to which status, by whom, when."""

    status: MeetingStatus
    by: str
    at: datetime


@dataclass(frozen=True)
class MeetingState:
    meeting: str
    owner: str
    status: MeetingStatus
    chair: str
    invited: frozenset[str]
    attendance: Mapping[str, Attendance]
    agenda: tuple[AgendaItem, ...] = ()
    minute_taker: str | None = None
    current_item: str | None = None
    pen: PenHolder | None = None
    stamps: tuple[Stamp, ...] = ()

    def item(self, item_id: str) -> AgendaItem | None:
        return next((i for i in self.agenda if i.id == item_id), None)


# Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start: ...


@dataclass(frozen=True)
class Goto:
    item: str


@dataclass(frozen=True)
class Pen:
    item: str
    participant: str | None  # None takes the pen back


@dataclass(frozen=True)
class End: ...


@dataclass(frozen=True)
class Approve: ...


@dataclass(frozen=True)
class Finalize: ...


@dataclass(frozen=True)
class Cancel: ...


@dataclass(frozen=True)
class DelegateChair:
    participant: str


@dataclass(frozen=True)
class SetMinuteTaker:
    participant: str | None


@dataclass(frozen=True)
class AddItem:
    item: AgendaItem


@dataclass(frozen=True)
class RemoveItem:
    item: str


@dataclass(frozen=True)
class MoveItem:
    item: str
    index: int


@dataclass(frozen=True)
class Join:
    participant: str


@dataclass(frozen=True)
class Leave:
    participant: str


Command: TypeAlias = (
    Start | Goto | Pen | End | Approve | Finalize | Cancel | DelegateChair | SetMinuteTaker
    | AddItem | RemoveItem | MoveItem | Join | Leave
)  # fmt: skip

# Events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChanged:
    meeting: str
    previous: MeetingStatus
    status: MeetingStatus
    by: str
    at: datetime


@dataclass(frozen=True)
class ItemChanged:
    meeting: str
    current_item: str | None


@dataclass(frozen=True)
class PenChanged:
    meeting: str
    pen: PenHolder | None


@dataclass(frozen=True)
class AgendaChanged:
    meeting: str
    agenda: tuple[AgendaItem, ...]


@dataclass(frozen=True)
class ChairChanged:
    meeting: str
    chair: str


@dataclass(frozen=True)
class MinuteTakerChanged:
    meeting: str
    minute_taker: str | None


@dataclass(frozen=True)
class AttendanceChanged:
    meeting: str
    participant: str
    attendance: Attendance


@dataclass(frozen=True)
class MeetingFinalised:
    """Minutes freeze: decisions apply, filtered minutes go out, item docs are revoked."""

    meeting: str
    by: str
    at: datetime


Event: TypeAlias = (
    StateChanged | ItemChanged | PenChanged | AgendaChanged | ChairChanged
    | MinuteTakerChanged | AttendanceChanged | MeetingFinalised
)  # fmt: skip
Events: TypeAlias = tuple[Event, ...]

# Actor checks and the transition table ----------------------------------------------------


def _is_owner_or_guardian(state: MeetingState, actor: Actor) -> bool:
    owner = actor.role == Role.OWNER and actor.participant == state.owner
    return owner or actor.role == Role.GUARDIAN


def is_chair(state: MeetingState, actor: Actor) -> bool:
    """The current chair; the owner and a guardian may always act as chair too."""
    return actor.participant == state.chair or _is_owner_or_guardian(state, actor)


def _chair(state: MeetingState, actor: Actor, cmd: Command) -> bool:
    return is_chair(state, actor)


def _owner_or_guardian(state: MeetingState, actor: Actor, cmd: Command) -> bool:
    return _is_owner_or_guardian(state, actor)


def _coordinator(state: MeetingState, actor: Actor, cmd: Command) -> bool:
    return actor.role == Role.COORDINATOR


def _chair_or_coordinator(state: MeetingState, actor: Actor, cmd: Command) -> bool:
    return is_chair(state, actor) or actor.role == Role.COORDINATOR


def _chair_or_preparer(state: MeetingState, actor: Actor, cmd: Command) -> bool:
    """The chair; before the start also the coordinator, who prepares the meeting."""
    preparing = state.status == MeetingStatus.SCHEDULED and actor.role == Role.COORDINATOR
    return is_chair(state, actor) or preparing


def _attendee(state: MeetingState, actor: Actor, cmd: Command) -> bool:
    """Join/Leave: the chair records anyone; others only themselves, if invited.

    The owner, a guardian and a coordinator may join without an invitation.
    """
    if is_chair(state, actor):
        return True
    if not isinstance(cmd, (Join, Leave)) or cmd.participant != actor.participant:
        return False
    privileged = actor.role in (Role.GUARDIAN, Role.COORDINATOR)
    return actor.participant in state.invited or privileged or isinstance(cmd, Leave)


Check: TypeAlias = Callable[[MeetingState, Actor, Command], bool]


@dataclass(frozen=True)
class Rule:
    who: Check
    then: MeetingStatus | None = None  # None: the status stays


_S, _L, _E = MeetingStatus.SCHEDULED, MeetingStatus.LIVE, MeetingStatus.ENDED
_A, _F, _C = MeetingStatus.APPROVED, MeetingStatus.FINAL, MeetingStatus.CANCELLED
_PREPARABLE: dict[type[Command], Check] = {
    DelegateChair: _owner_or_guardian,
    SetMinuteTaker: _chair_or_preparer,
    AddItem: _chair_or_preparer,
    RemoveItem: _chair_or_preparer,
    MoveItem: _chair_or_preparer,
    Join: _attendee,
    Leave: _attendee,
}

TABLE: Mapping[tuple[MeetingStatus, type[Command]], Rule] = MappingProxyType(
    {
        (_S, Start): Rule(_chair, _L),
        (_S, Cancel): Rule(_chair_or_coordinator, _C),
        (_L, Goto): Rule(_chair),
        (_L, Pen): Rule(_chair),
        (_L, End): Rule(_chair, _E),
        (_E, Approve): Rule(_owner_or_guardian, _A),
        (_A, Finalize): Rule(_coordinator, _F),
        **{(s, kind): Rule(who) for s in (_S, _L) for kind, who in _PREPARABLE.items()},
    }
)

# apply -------------------------------------------------------------------------------------


def apply(
    state: MeetingState, cmd: Command, actor: Actor, now: datetime
) -> tuple[MeetingState, Events]:
    """The state after ``actor`` issues ``cmd`` at ``now``, and the events it caused."""
    _check_well_formed(cmd, actor)
    rule = TABLE.get((state.status, type(cmd)))
    if rule is None:
        raise Refused("conflict", f"{type(cmd).__name__} is not possible while {state.status}")
    if not rule.who(state, actor, cmd):
        raise Refused("forbidden", f"{actor.role} may not {type(cmd).__name__} this meeting")
    new, events = _effect(state, cmd, actor)
    if rule.then is None:
        return (state, ()) if new == state else (new, events)  # repeats are quiet
    new = replace(
        new, status=rule.then, stamps=(*new.stamps, Stamp(rule.then, actor.participant, now))
    )
    changed = StateChanged(state.meeting, state.status, rule.then, actor.participant, now)
    final = (MeetingFinalised(state.meeting, actor.participant, now),) if rule.then is _F else ()
    return new, (changed, *events, *final)


def _effect(state: MeetingState, cmd: Command, actor: Actor) -> tuple[MeetingState, Events]:
    m = state.meeting
    match cmd:
        case Goto(item):
            _need_item(state, item)
            return replace(state, current_item=item), (ItemChanged(m, item),)
        case Pen(item, participant):
            _need_item(state, item)
            pen = None if participant is None else PenHolder(item, participant)
            if pen is not None:
                _need_invited(state.invited, pen.participant)
            return replace(state, pen=pen), (PenChanged(m, pen),)
        case End():
            return _end(state)
        case DelegateChair(participant):
            _need_invited(state.invited, participant)
            return replace(state, chair=participant), (ChairChanged(m, participant),)
        case SetMinuteTaker(participant):
            if participant is not None:
                _need_invited(state.invited, participant)
            return replace(state, minute_taker=participant), (MinuteTakerChanged(m, participant),)
        case AddItem(item):
            return _add_item(state, item)
        case RemoveItem(item):
            return _remove_item(state, item)
        case MoveItem(item, index):
            return _move_item(state, _need_item(state, item), index)
        case Join(participant):
            return _join(state, participant, actor)
        case Leave(participant):
            return _leave(state, participant)
        case Start() | Approve() | Finalize() | Cancel():
            return state, ()


def _end(state: MeetingState) -> tuple[MeetingState, Events]:
    attendance = dict(state.attendance)
    events: list[Event] = [PenChanged(state.meeting, None)] if state.pen else []
    for participant, mark in sorted(state.attendance.items()):
        if mark is Attendance.INVITED:
            attendance[participant] = Attendance.ABSENT
            events.append(AttendanceChanged(state.meeting, participant, Attendance.ABSENT))
    return replace(state, pen=None, attendance=MappingProxyType(attendance)), tuple(events)


def _add_item(state: MeetingState, item: AgendaItem) -> tuple[MeetingState, Events]:
    if state.item(item.id) is not None:
        raise Refused("conflict", f"item {item.id} is already on the agenda")
    if len(state.agenda) >= MAX_AGENDA_ITEMS:
        raise Refused("conflict", "the agenda is full")
    agenda = (*state.agenda, item)
    return replace(state, agenda=agenda), (AgendaChanged(state.meeting, agenda),)


def _remove_item(state: MeetingState, item_id: str) -> tuple[MeetingState, Events]:
    _need_item(state, item_id)
    new = replace(state, agenda=tuple(i for i in state.agenda if i.id != item_id))
    events: list[Event] = [AgendaChanged(state.meeting, new.agenda)]
    if state.current_item == item_id:
        new = replace(new, current_item=None)
        events.append(ItemChanged(state.meeting, None))
    if state.pen is not None and state.pen.item == item_id:
        new = replace(new, pen=None)
        events.append(PenChanged(state.meeting, None))
    return new, tuple(events)


def _move_item(state: MeetingState, item: AgendaItem, index: int) -> tuple[MeetingState, Events]:
    if not 0 <= index < len(state.agenda):
        raise Refused("malformed", f"index {index} is outside the agenda")
    rest = [i for i in state.agenda if i.id != item.id]
    agenda = (*rest[:index], item, *rest[index:])
    if agenda == state.agenda:
        return state, ()
    return replace(state, agenda=agenda), (AgendaChanged(state.meeting, agenda),)


def _join(state: MeetingState, participant: str, actor: Actor) -> tuple[MeetingState, Events]:
    """Mark present. Uninvited people join only themselves (the ``_attendee`` check)."""
    current = state.attendance.get(participant)
    if current is None and participant != actor.participant:
        raise Refused("not-found", f"{participant} is not invited")
    if current is Attendance.PRESENT:
        return state, ()
    return _mark(state, participant, Attendance.PRESENT)


def _leave(state: MeetingState, participant: str) -> tuple[MeetingState, Events]:
    """PRESENT becomes LEFT; leaving when not present changes nothing."""
    current = state.attendance.get(participant)
    if current is None:
        raise Refused("not-found", f"{participant} is not in this meeting")
    if current is not Attendance.PRESENT:
        return state, ()
    return _mark(state, participant, Attendance.LEFT)


def _mark(state: MeetingState, participant: str, mark: Attendance) -> tuple[MeetingState, Events]:
    attendance = MappingProxyType({**state.attendance, participant: mark})
    event = AttendanceChanged(state.meeting, participant, mark)
    return replace(state, attendance=attendance), (event,)


def uninvite(state: MeetingState, participant: str) -> MeetingState:
    """Someone who lost access (consent withdrawn, removed from the group) leaves a coming
    or live meeting: no longer invited, marked as having left if present, and no longer
    chair (the owner chairs again), minute-taker or pen holder. The owner stays."""
    present = state.attendance.get(participant) is Attendance.PRESENT
    if participant == state.owner or (participant not in state.invited and not present):
        return state
    if state.status not in (MeetingStatus.SCHEDULED, MeetingStatus.LIVE):
        return state
    attendance = dict(state.attendance)
    if attendance.get(participant) is Attendance.PRESENT:
        attendance[participant] = Attendance.LEFT
    new = replace(
        state,
        invited=state.invited - {participant},
        attendance=MappingProxyType(attendance),
        chair=state.owner if state.chair == participant else state.chair,
        minute_taker=None if state.minute_taker == participant else state.minute_taker,
        pen=None if state.pen is not None and state.pen.participant == participant else state.pen,
    )
    _check_consistent(new)
    return new


# Construction and validation --------------------------------------------------------------

_ROLES = frozenset(r.value for r in Role)
_KINDS = frozenset(k.value for k in ItemKind)


def new_meeting(
    meeting: str,
    owner: str,
    invited: Iterable[str],
    agenda: Iterable[AgendaItem] = (),
    chair: str | None = None,
) -> MeetingState:
    """A scheduled meeting; the owner is always invited and chairs unless ``chair`` is given."""
    people = frozenset((owner, *invited))
    items = tuple(agenda)
    for problem in (
        None if all(is_id(p) for p in (meeting, *people)) else "ids must be plain identifiers",
        *(_item_problem(i) for i in items),
        None if len({i.id for i in items}) == len(items) else "agenda item ids repeat",
        None if len(items) <= MAX_AGENDA_ITEMS else "the agenda is too long",
    ):
        if problem:
            raise Refused("malformed", problem)
    chosen = owner if chair is None else _need_invited(people, chair)
    attendance = MappingProxyType(dict.fromkeys(sorted(people), Attendance.INVITED))
    return MeetingState(meeting, owner, _S, chosen, people, attendance, items)


def _need_invited(people: frozenset[str], participant: str) -> str:
    if participant not in people:
        raise Refused("not-found", f"{participant} is not invited")
    return participant


def _need_item(state: MeetingState, item_id: str) -> AgendaItem:
    item = state.item(item_id)
    if item is None:
        raise Refused("not-found", f"item {item_id} is not on the agenda")
    return item


def _item_problem(item: object) -> str | None:
    if not isinstance(item, AgendaItem) or not is_id(item.id) or not is_id(item.section):
        return "an agenda item needs an id and a section id"
    if not isinstance(item.title, str) or not 0 < len(item.title.strip()) <= MAX_TITLE_CHARS:
        return f"an agenda item needs a title of 1 to {MAX_TITLE_CHARS} characters"
    if item.kind not in _KINDS:
        return f"unknown agenda item kind {item.kind!r}"
    if (item.ref is None) != (item.kind == ItemKind.FREE):
        return "measure and goal items name their ref; free items have none"
    return None if item.ref is None or is_id(item.ref) else "the ref must be an identifier"


def _check_well_formed(cmd: Command, actor: Actor) -> None:
    if not (isinstance(actor, Actor) and is_id(actor.participant) and actor.role in _ROLES):
        raise Refused("malformed", "the actor is not a known participant role")
    ids: tuple[str, ...] = ()
    match cmd:
        case Goto(item) | RemoveItem(item):
            ids = (item,)
        case Pen(item, participant):
            ids = (item,) if participant is None else (item, participant)
        case DelegateChair(participant) | Join(participant) | Leave(participant):
            ids = (participant,)
        case SetMinuteTaker(participant):
            ids = () if participant is None else (participant,)
        case MoveItem(item, index):
            if not isinstance(index, int) or isinstance(index, bool):
                raise Refused("malformed", "the index must be a whole number")
            ids = (item,)
        case AddItem(item):
            problem = _item_problem(item)
            if problem:
                raise Refused("malformed", problem)
        case Start() | End() | Approve() | Finalize() | Cancel():
            pass
        case _:
            raise Refused("malformed", f"unknown command {type(cmd).__name__}")
    if not all(is_id(i) for i in ids):
        raise Refused("malformed", "ids must be plain identifiers")


# The minutes document rule ----------------------------------------------------------------


def may_write_item(state: MeetingState, item_id: str, actor: Actor) -> bool:
    """May ``actor`` write ``meeting:{m}:item:{item}``? (Consent is checked separately.)

    Only while live or ended: the chair (so the owner and a guardian), the minute-taker,
    or whoever holds the pen for that item. Nobody before the start or from approval on.
    """
    if state.status not in (_L, _E) or state.item(item_id) is None:
        return False
    if is_chair(state, actor) or actor.participant == state.minute_taker:
        return True
    return state.pen == PenHolder(item_id, actor.participant)


# Storage ----------------------------------------------------------------------------------

Json: TypeAlias = bool | int | float | str | list["Json"] | dict[str, "Json"] | None


def to_dict(state: MeetingState) -> dict[str, Json]:
    """A JSON-ready form for storage (not the per-recipient wire ``MeetingState``)."""
    pen: Json = None if state.pen is None else _pen_dict(state.pen)
    return {
        "version": FORMAT_VERSION,
        "meeting": state.meeting,
        "owner": state.owner,
        "status": state.status.value,
        "chair": state.chair,
        "minute_taker": state.minute_taker,
        "current_item": state.current_item,
        "pen": pen,
        "agenda": [_item_dict(i) for i in state.agenda],
        "invited": [p for p in sorted(state.invited)],
        "attendance": {p: a.value for p, a in sorted(state.attendance.items())},
        "stamps": [
            {"status": s.status.value, "by": s.by, "at": s.at.isoformat()} for s in state.stamps
        ],
    }


def _pen_dict(pen: PenHolder) -> dict[str, Json]:
    return {"item": pen.item, "participant": pen.participant}


def _item_dict(item: AgendaItem) -> dict[str, Json]:
    return {"id": item.id, "title": item.title, "section": item.section, "kind": item.kind,
            "ref": item.ref}  # fmt: skip


def from_dict(data: Mapping[str, object]) -> MeetingState:
    """The inverse of ``to_dict``; raises ``ValueError`` on anything inconsistent."""
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported meeting format {data.get('version')!r}")
    pen = data.get("pen")
    state = MeetingState(
        meeting=_str(data, "meeting"),
        owner=_str(data, "owner"),
        status=MeetingStatus(_str(data, "status")),
        chair=_str(data, "chair"),
        invited=frozenset(_str_of(v) for v in _list(data, "invited")),
        attendance=MappingProxyType(
            {k: Attendance(_str_of(v)) for k, v in _obj(data.get("attendance")).items()}
        ),
        agenda=tuple(_item_from(_obj(v)) for v in _list(data, "agenda")),
        minute_taker=_opt_str(data, "minute_taker"),
        current_item=_opt_str(data, "current_item"),
        pen=None
        if pen is None
        else PenHolder(_str(_obj(pen), "item"), _str(_obj(pen), "participant")),
        stamps=tuple(_stamp_from(_obj(v)) for v in _list(data, "stamps")),
    )
    _check_consistent(state)
    return state


def _check_consistent(s: MeetingState) -> None:
    ids = [i.id for i in s.agenda]
    pen_ok = s.pen is None or (
        s.status is _L and s.pen.item in ids and s.pen.participant in s.invited
    )
    for ok, what in (
        ({s.owner, s.chair} <= s.invited <= set(s.attendance), "owner/chair/invited/attendance"),
        (s.minute_taker is None or s.minute_taker in s.invited, "minute-taker not invited"),
        (s.current_item is None or s.current_item in ids, "current item not on the agenda"),
        (pen_ok, "pen"),
        (len(set(ids)) == len(ids) and not any(map(_item_problem, s.agenda)), "agenda"),
        ((s.stamps[-1].status if s.stamps else _S) is s.status, "stamps"),
    ):
        if not ok:
            raise ValueError(f"inconsistent meeting {s.meeting}: {what}")


def _obj(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError("expected an object")
    return {str(k): v for k, v in value.items()}


def _list(data: Mapping[str, object], key: str) -> list[object]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list")
    return list(value)


def _str_of(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _str(data: Mapping[str, object], key: str) -> str:
    return _str_of(data.get(key))


def _opt_str(data: Mapping[str, object], key: str) -> str | None:
    return None if data.get(key) is None else _str(data, key)


def _item_from(d: Mapping[str, object]) -> AgendaItem:
    return AgendaItem(_str(d, "id"), _str(d, "title"), _str(d, "section"), _str(d, "kind"),
                      _opt_str(d, "ref"))  # fmt: skip


def _stamp_from(d: Mapping[str, object]) -> Stamp:
    return Stamp(
        MeetingStatus(_str(d, "status")), _str(d, "by"), datetime.fromisoformat(_str(d, "at"))
    )
