"""The meeting state machine: one test per rule and refusal, then a stateful hypothesis run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, cast

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from collab.meeting import (
    MAX_AGENDA_ITEMS,
    MAX_TITLE_CHARS,
    TABLE,
    Actor,
    AddItem,
    AgendaChanged,
    AgendaItem,
    Approve,
    Attendance,
    AttendanceChanged,
    Cancel,
    ChairChanged,
    Command,
    DelegateChair,
    End,
    Finalize,
    Goto,
    ItemChanged,
    Join,
    Leave,
    MeetingFinalised,
    MeetingState,
    MeetingStatus,
    MinuteTakerChanged,
    MoveItem,
    Pen,
    PenChanged,
    PenHolder,
    Refused,
    RemoveItem,
    SetMinuteTaker,
    Stamp,
    Start,
    StateChanged,
    apply,
    from_dict,
    may_write_item,
    new_meeting,
    to_dict,
    uninvite,
)
from tests.budget import examples

NOW = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
S, L, E = MeetingStatus.SCHEDULED, MeetingStatus.LIVE, MeetingStatus.ENDED
A, F, C = MeetingStatus.APPROVED, MeetingStatus.FINAL, MeetingStatus.CANCELLED

OWNER = Actor("per0", "owner")  # Per chairs his own meeting
GUARDIAN = Actor("gina", "guardian")  # not invited, may still act for Per
COORD = Actor("maria", "coordinator")  # invited
NAV = Actor("siw0", "service")  # invited
RELATIVE = Actor("olav", "relative")  # invited
OUTSIDER = Actor("berit", "service")  # not invited
IMPOSTOR = Actor("olav", "owner")  # claims the owner role under another participant id
ACTORS = (OWNER, GUARDIAN, COORD, NAV, RELATIVE, OUTSIDER, IMPOSTOR)

SAVING = AgendaItem("item1", "Automatisk sparing", "okonomi", "measure", "sparing1")
HOLIDAY = AgendaItem("item2", "En ferie", "secgoal", "goal", "ferie1")
NEXT = AgendaItem("item3", "Neste møte", "koordinering", "free")


def scheduled(chair: str | None = None) -> MeetingState:
    return new_meeting("meet1", "per0", ["maria", "siw0", "olav"], (SAVING, HOLIDAY, NEXT), chair)


def run(state: MeetingState, *steps: tuple[Command, Actor]) -> MeetingState:
    for cmd, actor in steps:
        state, _ = apply(state, cmd, actor, NOW)
    return state


def refused(state: MeetingState, cmd: Command, actor: Actor) -> str:
    before = to_dict(state)
    with pytest.raises(Refused) as caught:
        apply(state, cmd, actor, NOW)
    assert to_dict(state) == before
    return caught.value.code


def live() -> MeetingState:
    return run(scheduled(), (Start(), OWNER))


def ended() -> MeetingState:
    return run(live(), (End(), OWNER))


def approved() -> MeetingState:
    return run(ended(), (Approve(), OWNER))


def final() -> MeetingState:
    return run(approved(), (Finalize(), COORD))


def test_status_values_are_the_wire_strings() -> None:
    assert [s.value for s in MeetingStatus] == [
        "scheduled",
        "live",
        "ended",
        "approved",
        "final",
        "cancelled",
    ]


def test_new_meeting_is_scheduled_with_the_owner_invited_and_in_the_chair() -> None:
    state = new_meeting("meet1", "per0", ["siw0"])
    assert (state.status, state.chair, state.invited) == (S, "per0", frozenset({"per0", "siw0"}))
    assert dict(state.attendance) == {"per0": "invited", "siw0": "invited"}
    assert (state.pen, state.current_item, state.minute_taker) == (None, None, None)


def test_new_meeting_refuses_an_uninvited_chair_and_malformed_input() -> None:
    assert new_meeting("meet1", "per0", ["siw0"], chair="siw0").chair == "siw0"
    with pytest.raises(Refused) as caught:
        new_meeting("meet1", "per0", ["siw0"], chair="berit")
    assert caught.value.code == "not-found"
    for meeting, agenda in (
        ("meet:1", ()),
        ("meet1", (SAVING, SAVING)),
        ("meet1", (AgendaItem("item9", " ", "secgoal", "free"),)),
    ):
        with pytest.raises(Refused) as caught:
            new_meeting(meeting, "per0", [], agenda)
        assert caught.value.code == "malformed"


def test_a_meeting_runs_from_scheduled_to_final_and_says_so() -> None:
    state, changes = scheduled(), []
    steps = ((Start(), OWNER), (End(), OWNER), (Approve(), OWNER), (Finalize(), COORD))
    for cmd, actor in steps:
        state, events = apply(state, cmd, actor, NOW)
        assert isinstance(events[0], StateChanged)
        changes.append((events[0].previous, events[0].status, events[0].by))
    assert changes == [(S, L, "per0"), (L, E, "per0"), (E, A, "per0"), (A, F, "maria")]
    assert events[-1] == MeetingFinalised("meet1", "maria", NOW)
    assert [(s.status, s.by) for s in state.stamps] == [
        (L, "per0"),
        (E, "per0"),
        (A, "per0"),
        (F, "maria"),
    ]


@pytest.mark.parametrize("actor", [NAV, RELATIVE, COORD, OUTSIDER, IMPOSTOR])
def test_only_the_chair_may_run_the_meeting(actor: Actor) -> None:
    """Once it is live; before the start the coordinator also prepares the agenda."""
    assert refused(scheduled(), Start(), actor) == "forbidden"
    assert refused(live(), Goto("item1"), actor) == "forbidden"
    assert refused(live(), Pen("item1", "siw0"), actor) == "forbidden"
    assert refused(live(), End(), actor) == "forbidden"
    assert (
        refused(live(), AddItem(AgendaItem("item4", "Bolig", "bolig", "free")), actor)
        == "forbidden"
    )
    assert refused(live(), SetMinuteTaker("siw0"), actor) == "forbidden"


def test_a_delegated_chair_runs_the_meeting_while_owner_and_guardian_still_may() -> None:
    state, events = apply(scheduled(), DelegateChair("maria"), OWNER, NOW)
    assert (state.chair, events) == ("maria", (ChairChanged("meet1", "maria"),))
    state = run(state, (Start(), COORD), (Goto("item2"), OWNER), (Pen("item2", "siw0"), GUARDIAN))
    assert (state.status, state.current_item, state.pen) == (L, "item2", PenHolder("item2", "siw0"))
    assert refused(state, Goto("item1"), NAV) == "forbidden"


def test_only_owner_or_guardian_delegate_the_chair_and_only_to_invited() -> None:
    delegated = run(scheduled(), (DelegateChair("maria"), GUARDIAN))
    assert refused(delegated, DelegateChair("siw0"), COORD) == "forbidden"
    assert refused(scheduled(), DelegateChair("berit"), OWNER) == "not-found"
    assert refused(ended(), DelegateChair("maria"), OWNER) == "conflict"


def test_goto_and_pen_need_an_agenda_item_and_an_invited_pen_holder() -> None:
    assert refused(live(), Goto("item9"), OWNER) == "not-found"
    assert refused(live(), Pen("item9", "siw0"), OWNER) == "not-found"
    assert refused(live(), Pen("item1", "berit"), OWNER) == "not-found"
    assert refused(scheduled(), Goto("item1"), OWNER) == "conflict"
    at_item1 = run(live(), (Goto("item1"), OWNER))
    assert apply(at_item1, Goto("item1"), OWNER, NOW) == (at_item1, ())  # repeats are quiet
    state, events = apply(
        run(live(), (Pen("item1", "siw0"), OWNER)), Pen("item1", None), OWNER, NOW
    )
    assert (state.pen, events) == (None, (PenChanged("meet1", None),))


def test_refusals_are_checked_malformed_then_conflict_then_forbidden_then_not_found() -> None:
    assert refused(scheduled(), Goto("item:9"), NAV) == "malformed"
    assert refused(scheduled(), Goto("item9"), NAV) == "conflict"
    assert refused(live(), Goto("item9"), NAV) == "forbidden"
    assert refused(live(), Start(), Actor("per0", "admin")) == "malformed"


def test_end_clears_the_pen_keeps_attendees_and_marks_the_never_joined_absent() -> None:
    state = run(
        scheduled(),
        (Join("siw0"), NAV),
        (Join("olav"), RELATIVE),
        (Start(), OWNER),
        (Leave("olav"), RELATIVE),
        (Pen("item1", "siw0"), OWNER),
    )
    state, events = apply(state, End(), OWNER, NOW)
    assert state.pen is None and PenChanged("meet1", None) in events
    assert dict(state.attendance) == {
        "per0": "absent",
        "maria": "absent",
        "siw0": "present",
        "olav": "left",
    }
    assert AttendanceChanged("meet1", "maria", Attendance.ABSENT) in events


def test_only_owner_or_guardian_approve_and_only_an_ended_meeting() -> None:
    for actor in (COORD, NAV, RELATIVE, IMPOSTOR):
        assert refused(ended(), Approve(), actor) == "forbidden"
    assert refused(live(), Approve(), OWNER) == "conflict"
    assert run(ended(), (Approve(), GUARDIAN)).status is A
    delegated = run(scheduled(), (DelegateChair("siw0"), OWNER), (Start(), NAV), (End(), NAV))
    assert refused(delegated, Approve(), NAV) == "forbidden"


def test_only_a_coordinator_finalizes_and_only_an_approved_meeting() -> None:
    for actor in (OWNER, GUARDIAN, NAV):
        assert refused(approved(), Finalize(), actor) == "forbidden"
    assert refused(ended(), Finalize(), COORD) == "conflict"
    assert run(approved(), (Finalize(), COORD)).status is F


@pytest.mark.parametrize(
    "cmd",
    [
        Start(),
        Goto("item1"),
        Pen("item1", None),
        End(),
        Approve(),
        Finalize(),
        Cancel(),
        DelegateChair("maria"),
        SetMinuteTaker(None),
        RemoveItem("item1"),
        MoveItem("item1", 1),
        Join("per0"),
        Leave("per0"),
    ],
)
def test_nothing_changes_a_final_meeting(cmd: Command) -> None:
    for actor in ACTORS:
        assert refused(final(), cmd, actor) == "conflict"


def test_cancel_only_while_scheduled_by_chair_or_coordinator() -> None:
    assert refused(scheduled(), Cancel(), NAV) == "forbidden"
    assert refused(live(), Cancel(), OWNER) == "conflict"
    state = run(scheduled(), (Cancel(), COORD))
    assert state.status is C
    assert refused(state, Start(), OWNER) == "conflict"


def test_the_chair_edits_the_agenda_while_scheduled_or_live() -> None:
    extra = AgendaItem("item4", "Bolig", "bolig", "free")
    state, events = apply(scheduled(), AddItem(extra), OWNER, NOW)
    assert [i.id for i in state.agenda] == ["item1", "item2", "item3", "item4"]
    assert events == (AgendaChanged("meet1", state.agenda),)
    state = run(
        state, (Start(), OWNER), (MoveItem("item4", 0), OWNER), (RemoveItem("item2"), OWNER)
    )
    assert [i.id for i in state.agenda] == ["item4", "item1", "item3"]
    assert refused(state, AddItem(extra), OWNER) == "conflict"
    assert refused(state, RemoveItem("item2"), OWNER) == "not-found"
    assert refused(state, MoveItem("item1", 3), OWNER) == "malformed"
    assert refused(run(state, (End(), OWNER)), RemoveItem("item1"), OWNER) == "conflict"


@pytest.mark.parametrize(
    "item",
    [
        AgendaItem("item4", "Bolig", "bolig", "chat"),
        AgendaItem("item4", "Bolig", "bolig", "free", "ref1"),
        AgendaItem("item4", "Bolig", "bolig", "measure"),
        AgendaItem("item:4", "Bolig", "bolig", "free"),
        AgendaItem("item4", "x" * 201, "bolig", "free"),
    ],
)
def test_malformed_agenda_items_are_refused(item: AgendaItem) -> None:
    assert refused(scheduled(), AddItem(item), OWNER) == "malformed"


def test_removing_the_current_item_clears_it_and_its_pen() -> None:
    state = run(live(), (Goto("item1"), OWNER), (Pen("item1", "siw0"), OWNER))
    state, events = apply(state, RemoveItem("item1"), OWNER, NOW)
    assert (state.current_item, state.pen) == (None, None)
    assert ItemChanged("meet1", None) in events and PenChanged("meet1", None) in events


def test_the_chair_names_an_invited_minute_taker() -> None:
    state = run(scheduled(), (SetMinuteTaker("maria"), OWNER))
    assert state.minute_taker == "maria"
    assert refused(state, SetMinuteTaker("berit"), OWNER) == "not-found"
    assert run(state, (SetMinuteTaker(None), OWNER)).minute_taker is None


def test_invited_join_and_leave_and_repeats_are_quiet() -> None:
    state, events = apply(scheduled(), Join("siw0"), NAV, NOW)
    assert state.attendance["siw0"] is Attendance.PRESENT and len(events) == 1
    assert apply(state, Join("siw0"), NAV, NOW) == (state, ())
    state = run(state, (Leave("siw0"), NAV))
    assert state.attendance["siw0"] is Attendance.LEFT
    assert apply(state, Leave("siw0"), NAV, NOW) == (state, ())
    assert run(state, (Join("siw0"), NAV)).attendance["siw0"] is Attendance.PRESENT


def test_uninvited_join_only_as_guardian_or_coordinator() -> None:
    state = new_meeting("meet1", "per0", ["siw0"], (SAVING,))
    assert refused(state, Join("berit"), OUTSIDER) == "forbidden"
    state = run(state, (Join("gina"), GUARDIAN), (Join("maria"), COORD), (Start(), OWNER))
    assert state.attendance["gina"] is Attendance.PRESENT
    assert state.attendance["maria"] is Attendance.PRESENT
    assert refused(state, Pen("item1", "maria"), OWNER) == "not-found"  # present, not invited


def test_the_chair_records_presence_of_invited_people_only() -> None:
    assert run(scheduled(), (Join("olav"), OWNER)).attendance["olav"] is Attendance.PRESENT
    assert refused(scheduled(), Join("berit"), OWNER) == "not-found"
    assert refused(scheduled(), Join("olav"), NAV) == "forbidden"
    assert refused(ended(), Join("siw0"), NAV) == "conflict"


def test_minutes_are_written_by_chair_minute_taker_or_pen_holder_while_live() -> None:
    state = run(live(), (SetMinuteTaker("maria"), OWNER), (Pen("item1", "siw0"), OWNER))
    assert may_write_item(state, "item1", NAV) and not may_write_item(state, "item2", NAV)
    assert all(
        may_write_item(state, i, a) for i in ("item1", "item2") for a in (OWNER, GUARDIAN, COORD)
    )
    assert not may_write_item(state, "item1", RELATIVE)
    assert not may_write_item(state, "item1", IMPOSTOR)
    assert not may_write_item(state, "item9", OWNER)


def test_minutes_freeze_from_approval_and_are_closed_before_the_start() -> None:
    assert may_write_item(ended(), "item1", OWNER)
    for state in (scheduled(), approved(), final(), run(scheduled(), (Cancel(), OWNER))):
        assert not any(may_write_item(state, "item1", a) for a in ACTORS)


def test_storage_form_round_trips_through_json() -> None:
    state = run(
        live(), (Join("siw0"), NAV), (Pen("item2", "siw0"), OWNER), (SetMinuteTaker("maria"), OWNER)
    )
    stored = json.loads(json.dumps(to_dict(state)))
    assert stored["status"] == "live" and stored["pen"] == {"item": "item2", "participant": "siw0"}
    assert from_dict(stored) == state
    assert from_dict(json.loads(json.dumps(to_dict(final())))) == final()


@pytest.mark.parametrize(
    "change",
    [
        {"pen": {"item": "item9", "participant": "siw0"}},
        {"status": "paused"},
        {"version": 2},
        {"chair": "berit"},
        {"invited": "per0"},
        {"status": "ended"},  # the stamps say live
    ],
)
def test_inconsistent_storage_is_rejected(change: dict[str, object]) -> None:
    stored = {**to_dict(run(live(), (Pen("item2", "siw0"), OWNER))), **change}
    with pytest.raises(ValueError):
        from_dict(stored)


def test_a_stored_pen_outside_a_live_meeting_is_rejected() -> None:
    stored = {**to_dict(ended()), "pen": {"item": "item2", "participant": "siw0"}}
    with pytest.raises(ValueError):
        from_dict(stored)


EDGES = {(S, L), (L, E), (E, A), (A, F), (S, C)}


def test_the_table_only_moves_forward_and_has_no_exit_from_final_or_cancelled() -> None:
    moves = {(status, rule.then) for (status, _), rule in TABLE.items() if rule.then}
    assert moves == EDGES
    assert not [key for key in TABLE if key[0] in (F, C, E, A) and TABLE[key].then is None]


# Stateful ---------------------------------------------------------------------------------

PEOPLE = st.sampled_from(["per0", "gina", "maria", "siw0", "olav", "berit", "bad:id"])
ITEMS = st.sampled_from(["item1", "item2", "item3", "item4", "item5", "bad:id"])
NEW_ITEMS = st.builds(
    AgendaItem,
    ITEMS,
    st.sampled_from(["Bolig", ""]),
    st.just("bolig"),
    st.sampled_from(["free", "goal"]),
    st.sampled_from([None, "goal1"]),
)
COMMANDS: st.SearchStrategy[Command] = st.one_of(
    st.sampled_from([Start(), End(), Approve(), Finalize(), Cancel()]),
    st.builds(Goto, ITEMS),
    st.builds(Pen, ITEMS, st.none() | PEOPLE),
    st.builds(DelegateChair, PEOPLE),
    st.builds(SetMinuteTaker, st.none() | PEOPLE),
    st.builds(AddItem, NEW_ITEMS),
    st.builds(RemoveItem, ITEMS),
    st.builds(MoveItem, ITEMS, st.integers(-1, 5)),
    st.builds(Join, PEOPLE),
    st.builds(Leave, PEOPLE),
)
SOME_ITEMS = st.sampled_from(["item1", "item2", "item3", "item4", "item5"])
SOME_PEOPLE = st.sampled_from(["per0", "maria", "siw0", "olav", "gina", "berit"])
CHAIR_WORK: st.SearchStrategy[Command] = st.one_of(
    st.builds(Goto, SOME_ITEMS),
    st.builds(Pen, SOME_ITEMS, st.none() | SOME_PEOPLE),
    st.builds(MoveItem, SOME_ITEMS, st.integers(0, 4)),
    st.builds(RemoveItem, SOME_ITEMS),
    st.builds(
        AddItem,
        st.builds(AgendaItem, SOME_ITEMS, st.just("Ny sak"), st.just("bolig"), st.just("free")),
    ),
    st.builds(SetMinuteTaker, st.none() | SOME_PEOPLE),
    st.builds(DelegateChair, SOME_PEOPLE),
    st.sampled_from([Start(), End(), Approve(), Finalize(), Cancel()]),
)
CHAIR_COMMANDS = (Start, Goto, Pen, End, AddItem, RemoveItem, MoveItem, SetMinuteTaker)
CODES = {"forbidden", "conflict", "not-found", "malformed"}
HAPPY: dict[MeetingStatus, tuple[Command, Actor]] = {
    S: (Start(), OWNER),
    L: (End(), GUARDIAN),
    E: (Approve(), GUARDIAN),
    A: (Finalize(), COORD),
}


def acts_for_owner(state: MeetingState, actor: Actor) -> bool:
    return actor.role == "guardian" or (actor.role == "owner" and actor.participant == state.owner)


def is_malformed(cmd: Command) -> bool:
    if isinstance(cmd, AddItem):
        item = cmd.item
        return "bad:id" in item.id or not item.title or (item.kind == "free") != (item.ref is None)
    return "bad:id" in repr(cmd)


def may_write_oracle(state: MeetingState, item: str, actor: Actor) -> bool:
    if state.status not in (L, E) or item not in [i.id for i in state.agenda]:
        return False
    chair = actor.participant in (state.chair, state.minute_taker) or acts_for_owner(state, actor)
    return chair or state.pen == PenHolder(item, actor.participant)


# The coordinator prepares the agenda and names the minute-taker before the start.
PREPARATION = (AddItem, RemoveItem, MoveItem, SetMinuteTaker)


def check_accepted(cmd: Command, actor: Actor, before: MeetingState, after: MeetingState) -> None:
    """What an accepted command must have been allowed to do, judged without the table."""
    assert before.status not in (F, C), "a final or cancelled meeting changed"
    assert not is_malformed(cmd)
    if isinstance(cmd, Approve | DelegateChair):
        assert acts_for_owner(before, actor)
    if isinstance(cmd, Finalize):
        assert actor.role == "coordinator"
    if isinstance(cmd, CHAIR_COMMANDS):
        preparing = isinstance(cmd, PREPARATION) and before.status is S
        chair = actor.participant == before.chair or acts_for_owner(before, actor)
        assert chair or (preparing and actor.role == "coordinator")
    if isinstance(cmd, Join | Leave) and cmd.participant != actor.participant:
        assert actor.participant == before.chair or acts_for_owner(before, actor)
        assert cmd.participant in before.attendance
    if isinstance(cmd, Join) and cmd.participant not in before.invited:
        # Uninvited: a guardian or coordinator joining themselves, or the chair recording
        # someone who already joined that way (so is on the attendance list).
        by_chair = actor.participant == before.chair or acts_for_owner(before, actor)
        assert actor.role in ("guardian", "coordinator") or (
            by_chair and cmd.participant in before.attendance
        )
    if isinstance(cmd, Join | Leave):
        expected = "present" if isinstance(cmd, Join) else ("left", "invited")
        assert after.attendance[cmd.participant] in expected
    ids, old = [i.id for i in after.agenda], [i.id for i in before.agenda]
    if isinstance(cmd, MoveItem):
        assert ids.index(cmd.item) == cmd.index and sorted(ids) == sorted(old)
    if isinstance(cmd, AddItem):
        assert ids == [*old, cmd.item.id]
    if isinstance(cmd, RemoveItem):
        assert ids == [i for i in old if i != cmd.item]


class MeetingMachine(RuleBasedStateMachine):
    reached: ClassVar[set[MeetingStatus]] = set()

    def __init__(self) -> None:
        super().__init__()
        self.state = scheduled()

    @initialize(started=st.booleans())
    def maybe_start(self, started: bool) -> None:
        if started:
            self.issue(Start(), OWNER)

    @rule(cmd=COMMANDS, actor=st.sampled_from(ACTORS))
    def anyone_sends(self, cmd: Command, actor: Actor) -> None:
        self.issue(cmd, actor)

    @rule(cmd=CHAIR_WORK)
    def the_chair_sends(self, cmd: Command) -> None:
        self.issue(cmd, next(a for a in ACTORS if a.participant == self.state.chair))

    @rule(actor=st.sampled_from(ACTORS), join=st.booleans())
    def someone_comes_or_goes(self, actor: Actor, join: bool) -> None:
        self.issue(Join(actor.participant) if join else Leave(actor.participant), actor)

    @rule(go=st.integers(0, 3))
    def the_meeting_moves_on(self, go: int) -> None:
        if go == 0 and self.state.status in HAPPY:
            self.issue(*HAPPY[self.state.status])
        elif go == 3 and self.state.status is S:
            self.issue(Cancel(), COORD)

    def issue(self, cmd: Command, actor: Actor) -> None:
        before, snapshot = self.state, to_dict(self.state)
        try:
            after, events = apply(before, cmd, actor, NOW)
        except Refused as refusal:
            assert refusal.code in CODES
            assert to_dict(before) == snapshot
            if is_malformed(cmd):
                assert refusal.code == "malformed"
            elif refusal.code == "malformed":
                assert isinstance(cmd, MoveItem)  # an index off the agenda
            return
        check_accepted(cmd, actor, before, after)
        assert (after != before) == bool(events)
        if after.status is not before.status:
            assert (before.status, after.status) in EDGES
            assert events[0] == StateChanged(
                "meet1", before.status, after.status, actor.participant, NOW
            )
            assert after.stamps[-1] == Stamp(after.status, actor.participant, NOW)
        if after.status is F:
            assert events[-1] == MeetingFinalised("meet1", actor.participant, NOW)
        self.state = after
        MeetingMachine.reached.add(after.status)

    @invariant()
    def pen_and_current_item_are_on_the_agenda(self) -> None:
        ids = [i.id for i in self.state.agenda]
        assert len(ids) == len(set(ids))
        assert self.state.current_item in (None, *ids)
        pen = self.state.pen
        assert pen is None or (pen.item in ids and pen.participant in self.state.invited)
        assert pen is None or self.state.status is L

    @invariant()
    def people_in_roles_are_invited(self) -> None:
        s = self.state
        assert {s.owner, s.chair} <= s.invited <= set(s.attendance)
        assert s.minute_taker in (None, *s.invited)
        if s.status in (E, A, F):
            assert Attendance.INVITED not in s.attendance.values()

    @invariant()
    def minutes_follow_the_write_rule(self) -> None:
        for item in ("item1", "item2", "item3", "item4", "item5"):
            for actor in ACTORS:
                expected = may_write_oracle(self.state, item, actor)
                assert may_write_item(self.state, item, actor) == expected

    @invariant()
    def storage_round_trips(self) -> None:
        assert from_dict(json.loads(json.dumps(to_dict(self.state)))) == self.state


def test_random_command_sequences_keep_the_meeting_invariants() -> None:
    MeetingMachine.reached = set()
    run_state_machine_as_test(
        MeetingMachine,
        settings=settings(
            max_examples=examples(200, floor=100),
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert {L, E, A, F, C} <= MeetingMachine.reached


def test_the_coordinator_prepares_the_agenda_before_the_start_but_not_during() -> None:
    extra = AgendaItem("item9", "Bolig", "bolig", "free")
    state, _ = apply(scheduled(), AddItem(extra), COORD, NOW)
    assert [i.id for i in state.agenda][-1] == "item9"
    state, _ = apply(state, SetMinuteTaker("maria"), COORD, NOW)
    assert state.minute_taker == "maria"
    assert refused(scheduled(), AddItem(extra), NAV) == "forbidden"
    assert refused(live(), AddItem(extra), COORD) == "forbidden"


def test_the_chair_records_an_uninvited_coordinator_who_had_joined() -> None:
    state, _ = apply(scheduled(), Join("maria"), COORD, NOW)
    state, _ = apply(state, Leave("maria"), COORD, NOW)
    state, _ = apply(state, Join("maria"), OWNER, NOW)
    assert state.attendance["maria"] == "present"
    assert refused(state, Join("nobody1"), OWNER) in ("not-found", "forbidden")


# Edges found by mutation testing (docs/testing.md) ------------------------------------------


def test_each_command_announces_exactly_what_changed() -> None:
    """Members are told through these events (collab/events.py): the meeting they belong
    to, and the new value, nothing more."""
    state, events = apply(scheduled(), Start(), OWNER, NOW)
    assert events == (StateChanged("meet1", S, L, "per0", NOW),)  # not finalised
    state, events = apply(state, Goto("item2"), OWNER, NOW)
    assert events == (ItemChanged("meet1", "item2"),)
    state, events = apply(state, Pen("item2", "siw0"), OWNER, NOW)
    assert events == (PenChanged("meet1", PenHolder("item2", "siw0")),)
    state, events = apply(state, SetMinuteTaker("maria"), OWNER, NOW)
    assert events == (MinuteTakerChanged("meet1", "maria"),)
    state, events = apply(state, MoveItem("item3", 0), OWNER, NOW)
    assert events == (AgendaChanged("meet1", (NEXT, SAVING, HOLIDAY)),)
    state, events = apply(state, RemoveItem("item1"), OWNER, NOW)
    assert events == (AgendaChanged("meet1", (NEXT, HOLIDAY)),)
    state, events = apply(state, Join("siw0"), NAV, NOW)
    assert events == (AttendanceChanged("meet1", "siw0", Attendance.PRESENT),)
    state, events = apply(state, Leave("siw0"), NAV, NOW)
    assert events == (AttendanceChanged("meet1", "siw0", Attendance.LEFT),)
    state, events = apply(state, Pen("item2", None), OWNER, NOW)
    # Ending without a pen out says nothing about the pen; the never-joined are absent.
    state, events = apply(state, End(), OWNER, NOW)
    absent = [AttendanceChanged("meet1", p, Attendance.ABSENT) for p in ("maria", "olav", "per0")]
    assert events == (StateChanged("meet1", L, E, "per0", NOW), *absent)
    state, events = apply(state, Approve(), GUARDIAN, NOW)
    assert events == (StateChanged("meet1", E, A, "gina", NOW),)


def _items(n: int) -> list[AgendaItem]:
    return [AgendaItem(f"item{i}", f"Sak {i}", "bolig", "free") for i in range(n)]


def test_the_agenda_holds_at_most_the_limit_of_items() -> None:
    assert len(new_meeting("meet1", "per0", [], _items(MAX_AGENDA_ITEMS)).agenda) == 100
    with pytest.raises(Refused) as caught:
        new_meeting("meet1", "per0", [], _items(MAX_AGENDA_ITEMS + 1))
    assert caught.value.code == "malformed"
    almost = new_meeting("meet1", "per0", [], _items(MAX_AGENDA_ITEMS - 1))
    full, _ = apply(almost, AddItem(AgendaItem("last", "Siste", "bolig", "free")), OWNER, NOW)
    assert len(full.agenda) == MAX_AGENDA_ITEMS
    assert refused(full, AddItem(AgendaItem("more", "En til", "bolig", "free")), OWNER) == (
        "conflict"
    )


@pytest.mark.parametrize("title", ["x", " x ", "x" * MAX_TITLE_CHARS])
def test_titles_of_one_to_the_limit_of_characters_are_accepted(title: str) -> None:
    state, _ = apply(scheduled(), AddItem(AgendaItem("item9", title, "bolig", "free")), OWNER, NOW)
    assert state.agenda[-1].title == title


def test_a_ref_must_be_an_identifier() -> None:
    bad = AgendaItem("item9", "Mål", "secgoal", "goal", "goal:1")
    assert refused(scheduled(), AddItem(bad), OWNER) == "malformed"


@dataclass(frozen=True)
class Shout:
    """Not a meeting command."""


@pytest.mark.parametrize("index", [True, "1", 1.0])
def test_an_index_that_is_not_a_whole_number_is_malformed(index: object) -> None:
    assert refused(live(), MoveItem("item1", cast(int, index)), OWNER) == "malformed"


def test_an_unknown_command_is_malformed_not_a_conflict() -> None:
    assert refused(scheduled(), cast(Command, Shout()), OWNER) == "malformed"


def test_storage_accepts_a_meeting_of_the_owner_alone() -> None:
    alone = new_meeting("meet1", "per0", [])
    assert from_dict(json.loads(json.dumps(to_dict(alone)))) == alone


@pytest.mark.parametrize(
    "agenda",
    [
        [{"id": "item1", "title": "Sak", "section": "bolig", "kind": "chat", "ref": None}],
        [{"id": "item1", "title": "Sak", "section": "bolig", "kind": "free", "ref": None}] * 2,
    ],
)
def test_a_stored_agenda_with_a_bad_or_repeated_item_is_rejected(
    agenda: list[dict[str, object]],
) -> None:
    with pytest.raises(ValueError):
        from_dict({**to_dict(scheduled()), "agenda": agenda, "current_item": None})


def test_a_stored_pen_that_is_not_an_object_is_rejected() -> None:
    stored = {**to_dict(run(live(), (Pen("item2", "siw0"), OWNER))), "pen": ["item2", "siw0"]}
    with pytest.raises(ValueError):
        from_dict(stored)


def _busy() -> MeetingState:
    """Live: Siw chairs, takes the minutes, holds the pen and is present; Gina (not
    invited) is present; Olav is invited and not there."""
    return run(
        scheduled(),
        (DelegateChair("siw0"), OWNER),
        (Join("gina"), GUARDIAN),
        (Start(), NAV),
        (Join("siw0"), NAV),
        (SetMinuteTaker("siw0"), NAV),
        (Pen("item1", "siw0"), NAV),
    )


def test_uninviting_takes_away_every_role_and_marks_the_present_as_left() -> None:
    state = uninvite(_busy(), "siw0")
    assert "siw0" not in state.invited and state.attendance["siw0"] is Attendance.LEFT
    assert (state.chair, state.minute_taker, state.pen) == ("per0", None, None)
    assert state.invited == frozenset({"per0", "maria", "olav"})
    assert state.status is L and state.agenda == _busy().agenda


def test_uninviting_someone_else_leaves_the_roles_alone() -> None:
    busy = _busy()
    state = uninvite(busy, "olav")
    assert state.invited == busy.invited - {"olav"}
    assert (state.chair, state.minute_taker, state.pen) == ("siw0", "siw0", busy.pen)
    assert dict(state.attendance) == dict(busy.attendance)  # olav was not there
    quiet = uninvite(run(live(), (Join("olav"), RELATIVE)), "maria")
    assert (quiet.pen, quiet.minute_taker, quiet.chair) == (None, None, "per0")
    assert quiet.attendance["olav"] is Attendance.PRESENT


def test_uninviting_someone_present_but_never_invited_marks_them_as_left() -> None:
    state = uninvite(_busy(), "gina")
    assert state.attendance["gina"] is Attendance.LEFT
    assert state.invited == _busy().invited


def test_the_owner_and_strangers_are_not_uninvited_nor_past_meetings_changed() -> None:
    busy = _busy()
    assert uninvite(busy, "per0") is busy
    assert uninvite(busy, "berit") is busy
    for past in (ended(), approved(), final(), run(scheduled(), (Cancel(), OWNER))):
        assert uninvite(past, "siw0") is past
    state = uninvite(scheduled(), "olav")
    assert "olav" not in state.invited and state.attendance["olav"] is Attendance.INVITED
