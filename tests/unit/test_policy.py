"""collab.policy against a small reference model, over randomly generated plans.

Every property draws a whole world: a plan with participants of every role (some removed),
sections (some archived), measures with responsibles, an optional consent version with
random grants and period, and a random moment. The reference model below is the rule of
PRODUCT.md/PROTOCOL.md written as plainly as possible; policy must agree with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collab import meeting as sm
from collab import policy
from collab.consent import ConsentKind, ConsentVersion, Grant
from collab.meeting import AgendaItem, MeetingState, MeetingStatus
from collab.model import (
    Level,
    Measure,
    Participant,
    Plan,
    PlanStatus,
    Role,
    Section,
    SectionKind,
)
from collab.policy import Decision, PlanContext, Principal
from tests.budget import examples

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PLAN = "plan0001"
FULL = {Role.OWNER, Role.GUARDIAN}
OUTSIDER = Principal(person="outsider", name="Outsider")
SECTION_KEYS = ["om-meg", "mal", "bolig", "psykisk-helse", "terapi", "skolen", "koordinering"]

SectionCheck = Callable[[PlanContext, Principal, str], Decision]
MeasureCheck = Callable[[PlanContext, Principal, Measure], Decision]

SECTION_CHECKS: dict[str, SectionCheck] = {
    "see_section": policy.check_see_section,
    "read_section": policy.check_read_section,
    "write_section": policy.check_write_section,
    "rename_section": policy.check_rename_section,
    "shape_measure": policy.check_shape_measure,
    "read_section_doc": policy.check_read_section_doc,
    "write_section_doc": policy.check_write_section_doc,
}
MEASURE_CHECKS: dict[str, MeasureCheck] = {
    "read_measure": policy.check_read_measure,
    "update_measure": policy.check_update_measure,
    "read_measure_doc": policy.check_read_measure_doc,
    "write_measure_doc": policy.check_write_measure_doc,
}
PLAN_CHECKS: dict[str, Callable[[PlanContext, Principal], Decision]] = {
    "see_plan": policy.check_see_plan,
    "manage_plan": policy.check_manage_plan,
    "see_participants": policy.check_see_participants,
    "read_consent": policy.check_read_consent,
    "withdraw_consent": policy.check_withdraw_consent,
    "read_access_log": policy.check_read_access_log,
}


# --- generated worlds ------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    ctx: PlanContext
    measures: tuple[Measure, ...]

    @property
    def plan(self) -> Plan:
        return self.ctx.plan

    def principals(self) -> list[Principal]:
        persons = {p.person for p in self.plan.participants if p.person is not None}
        return [Principal(person) for person in sorted(persons)] + [OUTSIDER]

    def with_consent(self, consent: ConsentVersion | None) -> World:
        return replace(self, ctx=replace(self.ctx, consent=consent))


def _in_force(consent: ConsentVersion | None, now: datetime) -> bool:
    return (
        consent is not None
        and consent.valid_from <= now
        and (consent.valid_to is None or now < consent.valid_to)
    )


def granted(ctx: PlanContext, participant: str, section: str) -> Level:
    """The level the consent version grants a participant now (reference model)."""
    if not _in_force(ctx.consent, ctx.now):
        return Level.NONE
    assert ctx.consent is not None
    for g in ctx.consent.grants:
        if g.participant == participant and g.section == section:
            return g.level
    return Level.NONE


def acting(ctx: PlanContext, principal: Principal) -> Participant | None:
    for p in ctx.plan.participants:
        if p.person == principal.person and p.active:
            return p
    return None


def effective(ctx: PlanContext, principal: Principal, section: str) -> Level:
    who = acting(ctx, principal)
    if who is None or section not in ctx.sections:
        return Level.NONE
    if who.role in FULL:
        return Level.EDIT
    return granted(ctx, who.id, section)


def _writable(ctx: PlanContext, section: str) -> bool:
    return ctx.plan.status is PlanStatus.ACTIVE and not ctx.sections[section].archived


def setting_up(ctx: PlanContext, principal: Principal, section: str) -> bool:
    """The coordinator of a plan nobody has signed consent for yet: section titles only."""
    who = acting(ctx, principal)
    return (
        ctx.consent is None
        and who is not None
        and who.role is Role.COORDINATOR
        and section in ctx.sections
    )


def expected_section(ctx: PlanContext, principal: Principal, check: str, section: str) -> bool:
    level = effective(ctx, principal, section)
    who = acting(ctx, principal)
    if check == "see_section":
        return level is not Level.NONE or setting_up(ctx, principal, section)
    if check in {"read_section", "read_section_doc"}:
        return level in {Level.READ, Level.EDIT}
    write = level is Level.EDIT and _writable(ctx, section)
    if check == "rename_section":
        manages = who is not None and (who.role in FULL or who.role is Role.COORDINATOR)
        return write and manages
    assert check in {"write_section", "write_section_doc", "shape_measure"}
    return write


def expected_measure(ctx: PlanContext, principal: Principal, check: str, m: Measure) -> bool:
    level = effective(ctx, principal, m.section)
    who = acting(ctx, principal)
    responsible = who is not None and m.responsible == who.id
    readable = level in {Level.READ, Level.EDIT} or (level is Level.OWN and responsible)
    if check in {"read_measure", "read_measure_doc"}:
        return readable
    may = level is Level.EDIT or (responsible and level is not Level.NONE)
    return readable and may and _writable(ctx, m.section)


@st.composite
def consents(
    draw: st.DrawFn, participant_ids: list[str], section_ids: list[str]
) -> ConsentVersion | None:
    if draw(st.integers(0, 9)) == 0:
        return None
    starts = BASE + timedelta(days=draw(st.integers(-60, 60)))
    ends = (
        None
        if draw(st.booleans())
        else starts + timedelta(days=draw(st.integers(1, 120)), seconds=draw(st.integers(0, 59)))
    )
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(participant_ids), st.sampled_from(section_ids)),
            unique=True,
            max_size=len(participant_ids) * len(section_ids),
        )
    )
    grants = tuple(Grant(p, s, draw(st.sampled_from(list(Level)))) for p, s in pairs)
    return ConsentVersion(
        plan=PLAN,
        version=draw(st.integers(1, 20)),
        signed_by="part0000",
        recorded_by="part0000",
        signed_at=starts,
        purpose="Samarbeid",
        valid_from=starts,
        valid_to=ends,
        grants=grants,
        kind=draw(st.sampled_from(list(ConsentKind))),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    keys = draw(st.lists(st.sampled_from(SECTION_KEYS), min_size=1, max_size=5, unique=True))
    sections = {
        f"sect{i:04d}": Section(
            id=f"sect{i:04d}",
            plan=PLAN,
            key=key,
            kind=SectionKind.CUSTOM,
            title=f"Del {key}",
            position=i,
            archived=draw(st.integers(0, 5)) == 0,
        )
        for i, key in enumerate(keys)
    }
    others = draw(
        st.lists(
            st.tuples(
                st.sampled_from([Role.GUARDIAN, Role.RELATIVE, Role.COORDINATOR, Role.SERVICE]),
                st.booleans() | st.just(True),  # active, mostly
                st.booleans() | st.just(True),  # signed in (has a person), mostly
            ),
            max_size=6,
        )
    )
    participants = [Participant("part0000", PLAN, Role.OWNER, "Eier", person="pers0000")]
    for i, (role, active, signed_in) in enumerate(others, start=1):
        participants.append(
            Participant(
                f"part{i:04d}",
                PLAN,
                role,
                f"Deltaker {i}",
                person=f"pers{i:04d}" if signed_in else None,
                active=active,
            )
        )
    # A removed participant whose person still exists: they must get nothing.
    if draw(st.booleans()):
        participants.append(
            Participant(
                "partgone",
                PLAN,
                draw(st.sampled_from(list(Role))),
                "Fjernet",
                person="persgone",
                active=False,
            )
        )
    ids = [p.id for p in participants]
    section_ids = list(sections)
    # Grants may name the owner, removed participants, unknown ids and unknown sections:
    # policy must still answer from the rules, never from the mere presence of a grant.
    consent = draw(consents([*ids, "stranger"], [*section_ids, "sectghost"]))
    measures = tuple(
        Measure(
            id=f"meas{i:04d}",
            plan=PLAN,
            section=draw(st.sampled_from(section_ids)),
            title=f"Tiltak {i}",
            responsible=draw(st.none() | st.sampled_from(ids)),
        )
        for i in range(draw(st.integers(0, 5)))
    )
    plan = Plan(
        id=PLAN,
        title="Plan",
        status=draw(st.sampled_from([PlanStatus.ACTIVE] * 4 + [PlanStatus.CLOSED])),
        period_from=BASE.date(),
        period_to=None,
        evaluation_months=6,
        next_evaluation=BASE.date() + timedelta(days=180),
        participants=tuple(participants),
    )
    now = BASE + timedelta(days=draw(st.integers(-90, 200)), seconds=draw(st.integers(0, 86399)))
    return World(PlanContext(plan=plan, consent=consent, sections=sections, now=now), measures)


def _with_role(world: World, participant: str, role: Role) -> World:
    plan = world.plan
    changed = tuple(replace(p, role=role) if p.id == participant else p for p in plan.participants)
    return replace(world, ctx=replace(world.ctx, plan=replace(plan, participants=changed)))


EXAMPLES = settings(
    max_examples=examples(200),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- the model as a whole ----------------------------------------------------------------


@EXAMPLES
@given(worlds())
def test_every_check_agrees_with_the_consent_model(world: World) -> None:
    ctx = world.ctx
    for principal in world.principals():
        for section in ctx.sections:
            for name, check in SECTION_CHECKS.items():
                decision = check(ctx, principal, section)
                assert decision.allowed == expected_section(ctx, principal, name, section), (
                    name,
                    principal,
                    section,
                    decision,
                )
        for measure in world.measures:
            for mname, mcheck in MEASURE_CHECKS.items():
                decision = mcheck(ctx, principal, measure)
                assert decision.allowed == expected_measure(ctx, principal, mname, measure), (
                    mname,
                    principal,
                    measure,
                    decision,
                )


@EXAMPLES
@given(worlds())
def test_every_decision_explains_itself_and_refusals_carry_a_code(world: World) -> None:
    ctx = world.ctx
    for principal in world.principals():
        decisions = [c(ctx, principal) for c in PLAN_CHECKS.values()]
        decisions += [c(ctx, principal, s) for c in SECTION_CHECKS.values() for s in ctx.sections]
        decisions += [c(ctx, principal, m) for c in MEASURE_CHECKS.values() for m in world.measures]
        for decision in decisions:
            assert decision.reason.strip()
            assert bool(decision) is decision.allowed
            if decision.allowed:
                assert decision.code is None
            else:
                assert decision.code in {"forbidden", "not-found", "conflict", "malformed"}


# --- nobody without a grant --------------------------------------------------------------


@EXAMPLES
@given(worlds())
def test_nobody_without_a_grant_reads_a_section_or_its_measures(world: World) -> None:
    ctx = world.ctx
    for principal in world.principals():
        who = acting(ctx, principal)
        if who is not None and who.role in FULL:
            continue
        for section in ctx.sections:
            if who is not None and granted(ctx, who.id, section) is not Level.NONE:
                continue
            for name, check in SECTION_CHECKS.items():
                if name == "see_section" and setting_up(ctx, principal, section):
                    continue  # the title, while the plan is being set up
                assert not check(ctx, principal, section)
            # Not even its existence: the refusal is "not found", as for a missing section.
            if not setting_up(ctx, principal, section):
                assert policy.check_see_section(ctx, principal, section).code == "not-found"
            assert policy.check_read_section(ctx, principal, section).code == "not-found"
            for m in world.measures:
                if m.section != section:
                    continue
                for mcheck in MEASURE_CHECKS.values():
                    assert not mcheck(ctx, principal, m)
                assert policy.check_read_measure(ctx, principal, m).code == "not-found"


@EXAMPLES
@given(worlds())
def test_own_shows_only_the_measures_one_is_responsible_for_and_never_the_text(
    world: World,
) -> None:
    ctx = world.ctx
    for principal in world.principals():
        who = acting(ctx, principal)
        if who is None or who.role in FULL:
            continue
        for section in ctx.sections:
            if granted(ctx, who.id, section) is not Level.OWN:
                continue
            assert policy.check_see_section(ctx, principal, section)
            read = policy.check_read_section(ctx, principal, section)
            assert not read and read.code == "forbidden"
            assert not policy.check_read_section_doc(ctx, principal, section)
            assert not policy.check_write_section(ctx, principal, section)
            for m in (m for m in world.measures if m.section == section):
                mine = m.responsible == who.id
                assert bool(policy.check_read_measure(ctx, principal, m)) is mine
                assert bool(policy.check_read_measure_doc(ctx, principal, m)) is mine
                if not mine:
                    assert not policy.check_update_measure(ctx, principal, m)


@EXAMPLES
@given(worlds(), st.data())
def test_consent_outside_its_period_grants_nothing(world: World, data: st.DataObject) -> None:
    consent = world.ctx.consent
    if consent is None:
        return
    # Move "now" before the version starts, or to (or after) its end.
    if consent.valid_to is not None and data.draw(st.booleans()):
        now = consent.valid_to + timedelta(seconds=data.draw(st.integers(0, 10**7)))
    else:
        now = consent.valid_from - timedelta(seconds=data.draw(st.integers(1, 10**7)))
    ctx = replace(world.ctx, now=now)
    for principal in world.principals():
        who = acting(ctx, principal)
        if who is not None and who.role in FULL:
            continue
        for section in ctx.sections:
            for check in SECTION_CHECKS.values():
                assert not check(ctx, principal, section)
        for m in world.measures:
            for mcheck in MEASURE_CHECKS.values():
                assert not mcheck(ctx, principal, m)


@EXAMPLES
@given(worlds(), st.data())
def test_withdrawn_consent_grants_nothing(world: World, data: st.DataObject) -> None:
    from collab.consent import withdrawal

    consent = world.ctx.consent
    if consent is None:
        return
    target = data.draw(st.none() | st.sampled_from([p.id for p in world.plan.participants]))
    after = world.with_consent(
        withdrawal(consent, participant=target, by="part0000", at=world.ctx.now)
    ).ctx
    for principal in world.principals():
        who = acting(after, principal)
        if who is None or who.role in FULL:
            continue
        if target is not None and who.id != target:
            # Everyone else keeps exactly what they had.
            for section in after.sections:
                before_level = effective(world.ctx, principal, section)
                assert policy.section_level(after, principal, section)[0] is before_level
            continue
        for section in after.sections:
            for check in SECTION_CHECKS.values():
                assert not check(after, principal, section)
        for m in world.measures:
            for mcheck in MEASURE_CHECKS.values():
                assert not mcheck(after, principal, m)


# --- owner and guardian ------------------------------------------------------------------


@EXAMPLES
@given(worlds())
def test_owner_and_guardian_always_read_and_write_an_active_plan(world: World) -> None:
    ctx = replace(world.ctx, plan=replace(world.plan, status=PlanStatus.ACTIVE))
    for consent in (ctx.consent, None):
        current = replace(ctx, consent=consent)
        for p in current.plan.participants:
            if p.role not in FULL or not p.active or p.person is None:
                continue
            me = Principal(p.person)
            for check in PLAN_CHECKS.values():
                assert check(current, me)
            for section, s in current.sections.items():
                assert policy.check_read_section(current, me, section)
                assert policy.check_read_section_doc(current, me, section)
                writes = [
                    policy.check_write_section(current, me, section),
                    policy.check_write_section_doc(current, me, section),
                    policy.check_rename_section(current, me, section),
                ]
                for decision in writes:
                    # Only an archived section is closed to writing, for everyone.
                    assert decision.allowed is not s.archived
                    if s.archived:
                        assert decision.code == "conflict"
            for m in world.measures:
                assert policy.check_read_measure(current, me, m)
                update = policy.check_update_measure(current, me, m)
                assert update.allowed is not current.sections[m.section].archived


@EXAMPLES
@given(worlds())
def test_nobody_writes_a_closed_plan_but_reading_follows_consent(world: World) -> None:
    ctx = replace(world.ctx, plan=replace(world.plan, status=PlanStatus.CLOSED))
    for principal in world.principals():
        assert not policy.check_manage_plan(ctx, principal)
        for section in ctx.sections:
            for name in ("write_section", "write_section_doc", "rename_section", "shape_measure"):
                assert not SECTION_CHECKS[name](ctx, principal, section)
            level = effective(ctx, principal, section)
            assert bool(policy.check_read_section(ctx, principal, section)) is (
                level.rank >= Level.READ.rank
            )
        for m in world.measures:
            assert not policy.check_update_measure(ctx, principal, m)
            assert not policy.check_write_measure_doc(ctx, principal, m)


# --- the coordinator -------------------------------------------------------------------


@EXAMPLES
@given(worlds())
def test_a_coordinator_never_exceeds_the_current_consent_version(world: World) -> None:
    ctx = world.ctx
    for p in ctx.plan.participants:
        if p.role is not Role.COORDINATOR or not p.active or p.person is None:
            continue
        me = Principal(p.person)
        # Against the grant itself ...
        for section in ctx.sections:
            level = granted(ctx, p.id, section)
            writable = _writable(ctx, section)
            assert bool(policy.check_see_section(ctx, me, section)) is (
                level is not Level.NONE or ctx.consent is None
            )
            assert bool(policy.check_read_section(ctx, me, section)) is (
                level in {Level.READ, Level.EDIT}
            )
            assert bool(policy.check_write_section(ctx, me, section)) is (
                level is Level.EDIT and writable
            )
            assert bool(policy.check_rename_section(ctx, me, section)) is (
                level is Level.EDIT and writable
            )
        for m in world.measures:
            level = granted(ctx, p.id, m.section)
            mine = m.responsible == p.id
            assert bool(policy.check_read_measure(ctx, me, m)) is (
                level in {Level.READ, Level.EDIT} or (level is Level.OWN and mine)
            )
        # ... and exactly what a service with the same grants would get.
        as_service = _with_role(world, p.id, Role.SERVICE).ctx
        for name, check in SECTION_CHECKS.items():
            if name == "rename_section":
                continue  # renaming also needs the coordinator's role
            if name == "see_section" and ctx.consent is None:
                continue  # titles while setting the plan up are the coordinator's
            for section in ctx.sections:
                assert check(ctx, me, section).allowed == check(as_service, me, section).allowed
        for mcheck in MEASURE_CHECKS.values():
            for m in world.measures:
                assert mcheck(ctx, me, m).allowed == mcheck(as_service, me, m).allowed


@EXAMPLES
@given(worlds())
def test_a_coordinator_records_consent_only_in_the_owners_or_a_guardians_name(
    world: World,
) -> None:
    ctx = replace(world.ctx, plan=replace(world.plan, status=PlanStatus.ACTIVE))
    for p in ctx.plan.participants:
        if p.person is None or not p.active:
            continue
        me = Principal(p.person)
        for signer in ctx.plan.participants:
            decision = policy.check_sign_consent(ctx, me, signer.id)
            with_form = policy.check_sign_consent(ctx, me, signer.id, with_form=True)
            signer_ok = signer.active and signer.role in FULL
            if p.role is Role.COORDINATOR:
                # On paper only, with the signed form attached.
                assert with_form.allowed is signer_ok
                assert not decision
                if signer_ok:
                    assert decision.code == "malformed" and decision.message
            elif p.role in FULL:
                assert decision.allowed is (signer_ok and signer.id == p.id)
                assert with_form.allowed is decision.allowed
            else:
                assert not decision and not with_form
        assert not policy.check_sign_consent(ctx, me, "stranger", with_form=True)


# --- removed participants and strangers ------------------------------------------------


@EXAMPLES
@given(worlds())
def test_a_removed_participant_gets_nothing(world: World) -> None:
    ctx = world.ctx
    active_persons = {p.person for p in ctx.plan.participants if p.active}
    for p in ctx.plan.participants:
        if p.active or p.person is None or p.person in active_persons:
            continue
        me = Principal(p.person)
        for check in PLAN_CHECKS.values():
            decision = check(ctx, me)
            assert not decision and decision.code == "not-found"
        for section in ctx.sections:
            for scheck in SECTION_CHECKS.values():
                assert not scheck(ctx, me, section)
        for m in world.measures:
            for mcheck in MEASURE_CHECKS.values():
                assert not mcheck(ctx, me, m)
        for signer in ctx.plan.participants:
            assert not policy.check_sign_consent(ctx, me, signer.id)


@EXAMPLES
@given(worlds())
def test_a_non_participant_gets_not_found_everywhere(world: World) -> None:
    ctx = world.ctx
    decisions = [c(ctx, OUTSIDER) for c in PLAN_CHECKS.values()]
    decisions += [c(ctx, OUTSIDER, s) for c in SECTION_CHECKS.values() for s in ctx.sections]
    decisions += [c(ctx, OUTSIDER, m) for c in MEASURE_CHECKS.values() for m in world.measures]
    decisions += [policy.check_sign_consent(ctx, OUTSIDER, p.id) for p in ctx.plan.participants]
    for decision in decisions:
        assert not decision
        assert decision.code == "not-found", decision


@EXAMPLES
@given(worlds())
def test_unknown_sections_are_not_found_for_everyone(world: World) -> None:
    for principal in world.principals():
        for check in SECTION_CHECKS.values():
            decision = check(world.ctx, principal, "sectghost")
            assert not decision and decision.code == "not-found"


@EXAMPLES
@given(worlds())
def test_more_access_is_monotone_write_implies_read(world: World) -> None:
    ctx = world.ctx
    for principal in world.principals():
        for s in ctx.sections:
            if policy.check_write_section(ctx, principal, s):
                assert policy.check_read_section(ctx, principal, s)
            if policy.check_read_section(ctx, principal, s):
                assert policy.check_see_section(ctx, principal, s)
        for m in world.measures:
            if policy.check_update_measure(ctx, principal, m):
                assert policy.check_read_measure(ctx, principal, m)


@EXAMPLES
@given(worlds())
def test_a_responsible_participant_must_have_consent_for_the_section(world: World) -> None:
    ctx = world.ctx
    for p in ctx.plan.participants:
        for section in ctx.sections:
            decision = policy.check_responsible(ctx, p, section)
            if not p.active:
                expected = False
            elif p.role in FULL:
                expected = True
            else:
                expected = granted(ctx, p.id, section) is not Level.NONE
            assert decision.allowed is expected
            if not expected:
                assert decision.code == "conflict"


@EXAMPLES
@given(worlds())
def test_only_the_owner_guardian_and_coordinator_read_the_log_and_the_whole_consent_list(
    world: World,
) -> None:
    ctx = world.ctx
    for principal in world.principals():
        who = acting(ctx, principal)
        staff = who is not None and (who.role in FULL or who.role is Role.COORDINATOR)
        assert bool(policy.check_read_access_log(ctx, principal)) is staff
        assert bool(policy.check_read_consent(ctx, principal)) is staff
        assert bool(policy.check_withdraw_consent(ctx, principal)) is (
            who is not None and who.role in FULL
        )
        assert bool(policy.check_manage_plan(ctx, principal)) is (
            staff and ctx.plan.status is PlanStatus.ACTIVE
        )
        assert bool(policy.check_see_plan(ctx, principal)) is (who is not None)
        assert bool(policy.check_correct_minutes(ctx, principal)) is staff
        assert bool(policy.check_see_everyones_measures(ctx, principal)) is staff
        assert bool(policy.check_reopen_plan(ctx, principal)) is staff
        active = ctx.plan.status is PlanStatus.ACTIVE
        full = who is not None and who.role in FULL
        assert bool(policy.check_archive_section(ctx, principal)) is (full and active)
        assert bool(policy.check_change_guardian(ctx, principal)) is (full and active)
        seen = policy.visible_participants(ctx, principal)
        if who is None:
            assert [p for p, _ in seen if p.role not in (Role.OWNER, Role.COORDINATOR)] == []
        else:
            assert all(p.active for p, _ in seen)
            if not policy.check_see_participants(ctx, principal):
                assert {p.id for p, _ in seen} <= {
                    p.id
                    for p in ctx.plan.participants
                    if p.role in (Role.OWNER, Role.COORDINATOR) or p.id == who.id
                }
                assert all(not contact or p.role is Role.COORDINATOR for p, contact in seen)


# --- the stories -------------------------------------------------------------------------


def _charlotte() -> tuple[PlanContext, dict[str, Principal], dict[str, str]]:
    keys = [
        "om-meg",
        "mal",
        "psykisk-helse",
        "fysisk-helse",
        "terapi",
        "skolen",
        "kriseplan",
        "koordinering",
    ]
    sections = {
        f"s{k.replace('-', '')[:8]}01": Section(
            f"s{k.replace('-', '')[:8]}01", PLAN, k, SectionKind.CUSTOM, k, i
        )
        for i, k in enumerate(keys)
    }
    sid = {s.key: s.id for s in sections.values()}
    people = [
        ("charlotte", Role.OWNER),
        ("hilde", Role.COORDINATOR),
        ("lege", Role.SERVICE),
        ("berit", Role.SERVICE),
        ("team", Role.SERVICE),
        ("skole", Role.SERVICE),
    ]
    participants = tuple(
        Participant(f"p{name}", PLAN, role, name.title(), person=f"person{name}")
        for name, role in people
    )
    levels = {
        "lege": {"fysisk-helse": Level.EDIT, "kriseplan": Level.READ, "mal": Level.READ},
        "berit": {
            "terapi": Level.EDIT,
            "psykisk-helse": Level.EDIT,
            "mal": Level.READ,
            "kriseplan": Level.READ,
        },
        "team": {"psykisk-helse": Level.READ, "kriseplan": Level.EDIT, "mal": Level.READ},
        "skole": {"skolen": Level.EDIT, "mal": Level.READ, "om-meg": Level.READ},
    }
    grants = [Grant("philde", s, Level.EDIT) for s in sections]
    grants += [
        Grant(f"p{who}", sid[k], level) for who, ls in levels.items() for k, level in ls.items()
    ]
    consent = ConsentVersion(
        PLAN, 2, "pcharlotte", "philde", BASE, "Samarbeid", BASE, None, tuple(grants)
    )
    plan = Plan(
        PLAN,
        "Charlottes plan",
        PlanStatus.ACTIVE,
        BASE.date(),
        None,
        6,
        BASE.date() + timedelta(days=180),
        participants,
    )
    ctx = PlanContext(plan, consent, sections, BASE + timedelta(days=1))
    return ctx, {name: Principal(f"person{name}") for name, _ in people}, sid


def test_the_school_never_sees_charlottes_therapy_section() -> None:
    ctx, who, sid = _charlotte()
    therapy = Measure("mterapi1", PLAN, sid["terapi"], "Samtaler hos DPS", "pberit")
    school = who["skole"]
    for check in SECTION_CHECKS.values():
        decision = check(ctx, school, sid["terapi"])
        assert not decision and decision.code == "not-found"
    for mcheck in MEASURE_CHECKS.values():
        decision = mcheck(ctx, school, therapy)
        assert not decision and decision.code == "not-found"
    assert policy.check_write_section(ctx, school, sid["skolen"])


def test_berit_never_sees_the_schools_section_but_edits_her_own() -> None:
    ctx, who, sid = _charlotte()
    school_measure = Measure("mskole01", PLAN, sid["skolen"], "Tilrettelagt fag", "pskole")
    berit = who["berit"]
    for check in SECTION_CHECKS.values():
        assert not check(ctx, berit, sid["skolen"])
    for mcheck in MEASURE_CHECKS.values():
        assert not mcheck(ctx, berit, school_measure)
    assert policy.check_write_section(ctx, berit, sid["terapi"])
    assert not policy.check_see_participants(ctx, berit)


def test_charlotte_reads_everything_and_hilde_only_what_she_was_granted() -> None:
    ctx, who, sid = _charlotte()
    for section in sid.values():
        assert policy.check_write_section(ctx, who["charlotte"], section)
        assert policy.check_write_section(ctx, who["hilde"], section)
    # Charlotte narrows Hilde's grant on the therapy section to nothing.
    assert ctx.consent is not None
    narrower = replace(
        ctx.consent,
        version=3,
        grants=tuple(
            g
            for g in ctx.consent.grants
            if not (g.participant == "philde" and g.section == sid["terapi"])
        ),
    )
    narrowed_ctx = replace(ctx, consent=narrower)
    assert not policy.check_see_section(narrowed_ctx, who["hilde"], sid["terapi"])
    assert policy.check_write_section(narrowed_ctx, who["charlotte"], sid["terapi"])
    assert policy.check_read_section(narrowed_ctx, who["berit"], sid["terapi"])


def test_the_day_centre_leader_with_own_sees_only_his_own_measures() -> None:
    sections = {"sarbeid1": Section("sarbeid1", PLAN, "arbeid", SectionKind.LIFE_AREA, "Arbeid", 0)}
    ali = Participant("pali0001", PLAN, Role.SERVICE, "Ali", person="personali")
    maria = Participant("pmaria01", PLAN, Role.COORDINATOR, "Maria", person="personmaria")
    owner = Participant("pper0001", PLAN, Role.OWNER, "Per", person="personper")
    plan = Plan(
        PLAN, "Pers plan", PlanStatus.ACTIVE, BASE.date(), None, 6, BASE.date(), (owner, maria, ali)
    )
    consent = ConsentVersion(
        PLAN,
        1,
        owner.id,
        maria.id,
        BASE,
        "Samarbeid",
        BASE,
        None,
        (Grant(ali.id, "sarbeid1", Level.OWN),),
    )
    ctx = PlanContext(plan, consent, sections, BASE)
    his = Measure("mdag0001", PLAN, "sarbeid1", "Dagsenter", ali.id)
    theirs = Measure("mbuss001", PLAN, "sarbeid1", "Buss", maria.id)
    me = Principal("personali")
    assert policy.check_read_measure(ctx, me, his)
    assert policy.check_update_measure(ctx, me, his)
    assert not policy.check_read_measure(ctx, me, theirs)
    assert not policy.check_read_section(ctx, me, "sarbeid1")
    # Maria has no grant at all in this version: the coordinator role gives her nothing.
    assert not policy.check_read_measure(ctx, Principal("personmaria"), theirs)


# --- meeting minutes follow the plan and the meeting ------------------------------------


@EXAMPLES
@given(worlds(), st.sampled_from(list(MeetingStatus)), st.booleans())
def test_minutes_are_written_only_in_a_live_or_ended_meeting_of_an_active_plan(
    world: World, status: MeetingStatus, closed: bool
) -> None:
    plan = replace(world.plan, status=PlanStatus.CLOSED if closed else PlanStatus.ACTIVE)
    ctx = replace(world.ctx, plan=plan)
    section = next(iter(ctx.sections))
    item = AgendaItem("item0001", "Punkt", section, "section")
    people = [p for p in plan.participants if p.active and p.person is not None]
    state = MeetingState(
        meeting="meet0001",
        owner="part0000",
        status=status,
        chair="part0000",
        invited=frozenset(p.id for p in people),
        attendance={},
        agenda=(item,),
        minute_taker=people[-1].id,
    )
    for principal in world.principals():
        read = policy.check_read_item(ctx, principal, state, item)
        write = policy.check_write_item(ctx, principal, state, item)
        if write:
            # Writing needs an open meeting, an active plan and read access.
            assert read and not closed and status in (MeetingStatus.LIVE, MeetingStatus.ENDED)
        if read and (closed or status not in (MeetingStatus.LIVE, MeetingStatus.ENDED)):
            # Read-only, not hidden: a live session is downgraded, not revoked.
            assert not write and write.code == "conflict"
        if status in (MeetingStatus.LIVE, MeetingStatus.ENDED) and not closed and read:
            who = ctx.actor(principal)
            assert who is not None
            mine = who.role in FULL or who.id in (state.chair, state.minute_taker)
            assert bool(write) is mine


# --- signatures the owner really gave (issue 10, item 2) --------------------------------


@EXAMPLES
@given(worlds())
def test_while_the_plan_is_set_up_only_the_owner_and_guardians_read_content(
    world: World,
) -> None:
    ctx = world.with_consent(None).ctx
    for principal in world.principals():
        who = acting(ctx, principal)
        full = who is not None and who.role in FULL
        for section in ctx.sections:
            read = policy.check_read_section(ctx, principal, section)
            assert read.allowed is full
            assert policy.check_read_section_doc(ctx, principal, section).allowed is full
            assert policy.section_level(ctx, principal, section)[0] is (
                Level.EDIT if full else Level.NONE
            )
            # The coordinator knows the titles (to prepare the first consent); nobody
            # else without full access knows the section exists.
            seen = policy.check_see_section(ctx, principal, section)
            coordinator = who is not None and who.role is Role.COORDINATOR
            assert seen.allowed is (full or coordinator)
            if not full:
                assert not policy.check_write_section(ctx, principal, section)
                assert not policy.check_rename_section(ctx, principal, section)
        for m in world.measures:
            assert policy.check_read_measure(ctx, principal, m).allowed is full
            assert policy.check_read_measure_doc(ctx, principal, m).allowed is full
        # The coordinator still sets the plan up: the group and the plan's structure.
        if who is not None and who.role is Role.COORDINATOR:
            assert policy.check_see_participants(ctx, principal)
            assert policy.check_manage_plan(ctx, principal).allowed is (
                ctx.plan.status is PlanStatus.ACTIVE
            )


def _grant_levels(version: ConsentVersion | None, participant: str) -> dict[str, int]:
    if version is None:
        return {}
    return {g.section: g.level.rank for g in version.grants if g.participant == participant}


@EXAMPLES
@given(worlds(), st.data())
def test_nobody_widens_their_own_access_even_with_a_form(world: World, data: st.DataObject) -> None:
    ctx = replace(world.ctx, plan=replace(world.plan, status=PlanStatus.ACTIVE))
    section_ids = list(ctx.sections)
    ids = [p.id for p in ctx.plan.participants]
    new = data.draw(consents(ids, section_ids).filter(lambda c: c is not None))
    assert new is not None
    owner = "part0000"
    for p in ctx.plan.participants:
        if p.person is None or not p.active or p.role is not Role.COORDINATOR:
            continue
        if ctx.plan.participant_for_person(p.person) != p:
            continue
        me = Principal(p.person)
        before, after = _grant_levels(ctx.consent, p.id), _grant_levels(new, p.id)
        more_grants = any(rank > before.get(s, 0) for s, rank in after.items())
        longer = (
            ctx.consent is not None
            and bool(after)
            and (
                new.valid_from < ctx.consent.valid_from
                or (
                    ctx.consent.valid_to is not None
                    and (new.valid_to is None or new.valid_to > ctx.consent.valid_to)
                )
            )
        )
        decision = policy.check_sign_consent(ctx, me, owner, new, with_form=True)
        assert decision.allowed is not (more_grants or longer), (before, after, decision)
        if not decision:
            assert decision.code == "forbidden" and decision.message
    # The owner and guardians sign anything in their own name, in-app.
    for p in ctx.plan.participants:
        if p.person is not None and p.active and p.role in FULL:
            if ctx.plan.participant_for_person(p.person) == p:
                assert policy.check_sign_consent(ctx, Principal(p.person), p.id, new)


@EXAMPLES
@given(worlds())
def test_only_the_owner_or_a_guardian_undoes_a_version_someone_else_made(world: World) -> None:
    ctx = replace(world.ctx, plan=replace(world.plan, status=PlanStatus.ACTIVE))
    for principal in world.principals():
        who = acting(ctx, principal)
        for number in (1, 2, 20):
            decision = policy.check_undo_consent(ctx, principal, number)
            expected = (
                who is not None
                and who.role in FULL
                and ctx.consent is not None
                and ctx.consent.version == number
                and ctx.consent.recorded_by != who.id
            )
            assert decision.allowed is expected, (who, number, decision)
            if who is None:
                assert decision.code == "not-found"


@EXAMPLES
@given(worlds())
def test_only_the_owner_or_a_guardian_changes_the_coordinator_or_the_chair(world: World) -> None:
    ctx = world.ctx
    for principal in world.principals():
        who = acting(ctx, principal)
        full = who is not None and who.role in FULL
        assert policy.check_delegate_chair(ctx, principal).allowed is full
        assert policy.check_change_coordinator(ctx, principal).allowed is (
            full and ctx.plan.status is PlanStatus.ACTIVE
        )


@EXAMPLES
@given(worlds())
def test_the_owner_and_guardians_are_told_of_changes_they_did_not_make(world: World) -> None:
    ctx = world.ctx
    for actor in ctx.plan.participants:
        told = policy.told_of_consent_change(ctx, actor.id)
        assert {p.id for p in told} == {
            p.id for p in ctx.plan.participants if p.active and p.role in FULL and p.id != actor.id
        }


# --- meetings and invitations, by example (mutation testing, issue 15) -----------------


def _participant(ctx: PlanContext, person: str) -> Participant:
    found = ctx.plan.participant_for_person(person)
    assert found is not None
    return found


def _meeting(ctx: PlanContext, status: MeetingStatus, item: AgendaItem) -> MeetingState:
    return MeetingState(
        meeting="meet0001",
        owner="pcharlotte",
        status=status,
        chair="pberit",
        invited=frozenset(p.id for p in ctx.plan.participants),
        attendance={},
        agenda=(item,),
        minute_taker="plege",
    )


def test_an_invitee_needs_consent_in_force_that_names_them() -> None:
    ctx, _, sid = _charlotte()
    berit = _participant(ctx, "personberit")
    owner = _participant(ctx, "personcharlotte")
    assert policy.check_invitee(ctx, berit)
    assert policy.check_invitee(ctx, owner)
    removed = policy.check_invitee(ctx, replace(berit, active=False))
    assert not removed and removed.code == "conflict"
    nobody = Participant("pnone001", PLAN, Role.SERVICE, "Ingen", person="personnone")
    assert ctx.consent is not None
    only_none = replace(ctx.consent, grants=(Grant("pnone001", sid["mal"], Level.NONE),))
    for consent in (None, only_none, replace(ctx.consent, valid_to=ctx.now)):
        refused = policy.check_invitee(replace(ctx, consent=consent), nobody)
        assert not refused and refused.code == "conflict"
        assert not policy.check_invitee(replace(ctx, consent=consent), berit)
        assert policy.check_invitee(replace(ctx, consent=consent), owner)
    named = replace(ctx.consent, grants=(Grant("pnone001", sid["mal"], Level.OWN),))
    assert policy.check_invitee(replace(ctx, consent=named), nobody)
    not_yet = replace(named, valid_from=ctx.now + timedelta(seconds=1))
    assert not policy.check_invitee(replace(ctx, consent=not_yet), nobody)


def test_decisions_are_recorded_by_the_minute_writers_or_the_coordinator_while_live_or_ended() -> (
    None
):
    ctx, who, sid = _charlotte()
    item = AgendaItem("item0001", "Mål", sid["mal"], "section")
    allowed = {"charlotte", "hilde", "berit", "lege"}  # owner, coordinator, chair, minute-taker
    for status in (MeetingStatus.LIVE, MeetingStatus.ENDED):
        state = _meeting(ctx, status, item)
        for name, principal in who.items():
            decided = policy.check_record_decision(ctx, principal, state, item)
            assert bool(decided) is (name in allowed), (status, name)
            if not decided:
                assert decided.code == "forbidden"
        outsider = policy.check_record_decision(ctx, OUTSIDER, state, item)
        assert not outsider and outsider.code == "not-found"
    for status in (MeetingStatus.SCHEDULED, MeetingStatus.APPROVED):
        state = _meeting(ctx, status, item)
        for principal in who.values():
            refused = policy.check_record_decision(ctx, principal, state, item)
            assert not refused and refused.code == "conflict"
    # The minute-taker cannot read the therapy section: no decisions recorded there.
    therapy = AgendaItem("item0002", "Terapi", sid["terapi"], "section")
    live = _meeting(ctx, MeetingStatus.LIVE, therapy)
    assert not policy.check_record_decision(ctx, who["lege"], live, therapy)
    assert policy.check_record_decision(ctx, who["berit"], live, therapy)


def test_only_the_owner_guardians_and_coordinator_schedule_meetings_of_an_active_plan() -> None:
    ctx, who, _ = _charlotte()
    scheduling = {n for n, p in who.items() if policy.check_schedule_meeting(ctx, p)}
    assert scheduling == {"charlotte", "hilde"}
    assert policy.check_schedule_meeting(ctx, OUTSIDER).code == "not-found"
    closed = replace(ctx, plan=replace(ctx.plan, status=PlanStatus.CLOSED))
    refused = policy.check_schedule_meeting(closed, who["hilde"])
    assert not refused and refused.code == "conflict"


def test_the_coordinator_invites_the_owner_only_while_no_one_is_bound_to_the_owner() -> None:
    ctx, who, _ = _charlotte()
    owner = _participant(ctx, "personcharlotte")
    berit = _participant(ctx, "personberit")
    guardian = Participant("pguard01", PLAN, Role.GUARDIAN, "Verge", person=None)
    unbound_owner = replace(owner, person=None)
    for invitee in (berit, owner, guardian, unbound_owner):
        assert policy.check_invite_participant(ctx, who["charlotte"], invitee)
    assert policy.check_invite_participant(ctx, who["hilde"], berit)
    assert policy.check_invite_participant(ctx, who["hilde"], unbound_owner)
    for invitee in (owner, guardian):
        refused = policy.check_invite_participant(ctx, who["hilde"], invitee)
        assert not refused and refused.code == "forbidden"
    assert not policy.check_invite_participant(ctx, who["berit"], berit)
    assert policy.check_invite_participant(ctx, OUTSIDER, berit).code == "not-found"


def test_a_signed_form_is_read_by_the_owner_guardians_and_whoever_recorded_it() -> None:
    ctx, who, _ = _charlotte()
    assert policy.check_read_consent_form(ctx, who["charlotte"], "personhilde")
    assert policy.check_read_consent_form(ctx, who["hilde"], "personhilde")
    for name in ("hilde", "berit"):
        refused = policy.check_read_consent_form(ctx, who[name], "personcharlotte")
        assert not refused and refused.code == "not-found"
    assert policy.check_read_consent_form(ctx, OUTSIDER, "outsider").code == "not-found"


def test_a_meeting_is_seen_by_the_invited_and_the_plans_managers_only() -> None:
    ctx, who, sid = _charlotte()
    item = AgendaItem("item0001", "Mål", sid["mal"], "section")
    state = replace(_meeting(ctx, MeetingStatus.LIVE, item), invited=frozenset({"pberit"}))
    seeing = {n for n, p in who.items() if policy.check_see_meeting(ctx, p, state)}
    assert seeing == {"charlotte", "hilde", "berit"}
    for name in ("lege", "team", "skole"):
        hidden = policy.check_see_meeting(ctx, who[name], state)
        assert hidden.code == "not-found" and hidden.reason
        assert policy.check_read_item(ctx, who[name], state, item).code == "not-found"
        assert not policy.check_record_decision(ctx, who[name], state, item)
    outsider = policy.check_see_meeting(ctx, OUTSIDER, state)
    assert not outsider and outsider.code == "not-found" and outsider.reason
    assert policy.check_read_item(ctx, who["berit"], state, item)


def test_a_measure_item_is_read_by_its_responsible_service_with_own() -> None:
    ctx, who, sid = _charlotte()
    assert ctx.consent is not None
    own = (*ctx.consent.grants, Grant("pteam", sid["terapi"], Level.OWN))
    ctx = replace(ctx, consent=replace(ctx.consent, grants=own))
    mine = Measure("mteam001", PLAN, sid["terapi"], "Oppfølging", "pteam")
    theirs = Measure("mberit01", PLAN, sid["terapi"], "Samtaler", "pberit")
    item = AgendaItem("item0004", "Oppfølging", sid["terapi"], "measure", ref=mine.id)
    state = _meeting(ctx, MeetingStatus.LIVE, item)
    team = who["team"]
    assert policy.check_read_item(ctx, team, state, item, mine)
    # Without the measure, or with one the item is not about, only the section counts.
    assert not policy.check_read_item(ctx, team, state, item)
    assert not policy.check_read_item(ctx, team, state, item, theirs)
    other = replace(item, ref=theirs.id)
    assert not policy.check_read_item(ctx, team, state, other, theirs)
    # Reading is not writing: the responsible service is neither chair nor minute-taker.
    assert not policy.check_write_item(ctx, team, state, item, mine)
    # The school reads the goals section, not therapy: a therapy item stays hidden.
    assert not policy.check_read_item(ctx, who["skole"], state, item, mine)
    assert policy.check_read_item(ctx, who["berit"], state, item, mine)


def test_read_on_coordination_is_enough_to_see_the_group_and_closed_plans_refuse_signing() -> None:
    ctx, who, sid = _charlotte()
    assert ctx.consent is not None
    reading = (*ctx.consent.grants, Grant("pteam", sid["koordinering"], Level.READ))
    with_read = replace(ctx, consent=replace(ctx.consent, grants=reading))
    assert policy.check_see_participants(with_read, who["team"])
    assert not policy.check_see_participants(ctx, who["team"])
    team = _participant(ctx, "personteam")
    refused = policy.check_responsible(replace(ctx, consent=None), team, sid["terapi"])
    assert not refused and refused.code == "conflict"
    closed = replace(ctx, plan=replace(ctx.plan, status=PlanStatus.CLOSED))
    signing = policy.check_sign_consent(closed, who["charlotte"], "pcharlotte")
    assert not signing and signing.code == "conflict"


# --- capabilities as data ------------------------------------------------------------------


@given(worlds())
def test_each_plan_capability_equals_its_check(world: World) -> None:
    ctx = world.ctx
    for principal in world.principals():
        can = policy.plan_capabilities(ctx, principal)
        me = ctx.actor(principal)
        me_id = me.id if me is not None else ""
        direct: dict[str, bool] = {
            "manage_plan": bool(policy.check_manage_plan(ctx, principal)),
            "see_participants": bool(policy.check_see_participants(ctx, principal)),
            "read_consent": bool(policy.check_read_consent(ctx, principal)),
            "sign_consent": bool(policy.check_sign_consent(ctx, principal, me_id)),
            "record_consent_on_paper": any(
                policy.check_sign_consent(ctx, principal, p.id, with_form=True)
                for p in ctx.plan.participants
                if p.id != me_id
            ),
            "undo_consent": ctx.consent is not None
            and bool(policy.check_undo_consent(ctx, principal, ctx.consent.version)),
            "withdraw_consent": bool(policy.check_withdraw_consent(ctx, principal)),
            "read_access_log": bool(policy.check_read_access_log(ctx, principal)),
            "invite": any(
                policy.check_invite_participant(ctx, principal, p)
                for p in ctx.plan.participants
                if p.active
            ),
            "change_guardian": bool(policy.check_change_guardian(ctx, principal)),
            "change_coordinator": bool(policy.check_change_coordinator(ctx, principal)),
            "archive_section": bool(policy.check_archive_section(ctx, principal)),
            "reopen_plan": bool(policy.check_reopen_plan(ctx, principal)),
            "schedule_meeting": bool(policy.check_schedule_meeting(ctx, principal)),
            "delegate_chair": bool(policy.check_delegate_chair(ctx, principal)),
            "correct_minutes": bool(policy.check_correct_minutes(ctx, principal)),
            "see_everyones_measures": bool(policy.check_see_everyones_measures(ctx, principal)),
            "answer_guardian": bool(policy.check_answer_guardian(ctx, principal)),
            "set_owner_born": bool(policy.check_set_owner_born(ctx, principal)),
            "personal_overview": bool(policy.check_personal_overview(ctx, principal)),
        }
        assert can == direct
        # A coordinator records paper signatures and never signs in-app in their own name.
        if me is not None and me.role is Role.COORDINATOR:
            assert not can["sign_consent"]
            assert can["record_consent_on_paper"] is (ctx.plan.status is PlanStatus.ACTIVE)


_MEETING_COMMANDS: dict[str, sm.Command] = {
    "start": sm.Start(),
    "end": sm.End(),
    "cancel": sm.Cancel(),
    "approve": sm.Approve(),
    "finalise": sm.Finalize(),
}


@given(worlds(), st.sampled_from(list(MeetingStatus)), st.data())
def test_each_meeting_capability_equals_what_the_meeting_lets_one_do(
    world: World, status: MeetingStatus, data: st.DataObject
) -> None:
    ctx = world.ctx
    people = [p for p in ctx.plan.participants if p.active]
    owner = next((p.id for p in people if p.role is Role.OWNER), "part0000")
    chair = data.draw(st.sampled_from([p.id for p in people] or [owner]))
    item = AgendaItem("item0001", "Punkt", next(iter(ctx.sections)), "section")
    state = MeetingState(
        meeting="meet0001",
        owner=owner,
        status=status,
        chair=chair,
        invited=frozenset(p.id for p in people),
        attendance={},
        agenda=(item,),
    )
    for principal in world.principals():
        can = policy.meeting_capabilities(ctx, principal, state)
        actor = policy.meeting_actor(ctx, principal)
        for name, cmd in _MEETING_COMMANDS.items():
            allowed = True
            try:
                if actor is None:
                    raise sm.Refused("not-found", "outsider")
                sm.apply(state, cmd, actor, BASE)
            except sm.Refused:
                allowed = False
            assert can[name] is allowed, (name, status, actor)
        for name, moving in (("goto", sm.Goto(item.id)), ("move_items", sm.MoveItem(item.id, 0))):
            allowed = True
            try:
                if actor is None:
                    raise sm.Refused("not-found", "outsider")
                sm.apply(state, moving, actor, BASE)
            except sm.Refused:
                allowed = False
            assert can[name] is allowed, (name, status, actor)
        assert can["chair"] is (actor is not None and sm.is_chair(state, actor))
        assert can["delegate_chair"] is bool(policy.check_delegate_chair(ctx, principal))
        assert can["correct_minutes"] is bool(policy.check_correct_minutes(ctx, principal))
        assert can["decide_without_pen"] is (actor is not None and actor.role == "coordinator")


def test_the_coordinator_invites_a_guardian_only_while_nobody_has_signed_or_signed_in() -> None:
    ctx, who, _ = _charlotte()
    guardian = Participant("pguard01", PLAN, Role.GUARDIAN, "Verge", person=None)
    # Charlotte's plan has consent: guardians are the owner's business.
    assert not policy.check_invite_participant(ctx, who["hilde"], guardian)
    setup = replace(ctx, consent=None)
    # Being set up, but the owner has signed in already: still hers.
    assert not policy.check_invite_participant(setup, who["hilde"], guardian)
    unbound = tuple(
        replace(p, person=None) if p.role is Role.OWNER else p for p in ctx.plan.participants
    )
    fresh = replace(setup, plan=replace(ctx.plan, participants=(*unbound, guardian)))
    assert policy.check_invite_participant(fresh, who["hilde"], guardian)
    assert not policy.check_invite_participant(fresh, who["hilde"], replace(guardian, person="x"))


def test_each_participants_capabilities_follow_the_checks_and_who_one_knows_of() -> None:
    ctx, who, _ = _charlotte()
    hilde = _participant(ctx, "personhilde")
    berit = _participant(ctx, "personberit")
    owner = _participant(ctx, "personcharlotte")
    mine = policy.participant_capabilities(ctx, who["hilde"], hilde)
    assert mine == {
        "invite": False,
        "remove": False,
        "edit": False,
        "replace": False,
        "ask_to_replace": True,
        "stand_in": False,
    }
    assert policy.participant_capabilities(ctx, who["hilde"], berit)["remove"] is True
    # The owner may let a service stand in for the coordinator; not the coordinator.
    assert policy.participant_capabilities(ctx, who["charlotte"], berit)["stand_in"] is True
    assert policy.participant_capabilities(ctx, who["hilde"], berit)["stand_in"] is False
    assert policy.participant_capabilities(ctx, who["charlotte"], hilde)["stand_in"] is False
    assert policy.participant_capabilities(ctx, who["hilde"], owner)["remove"] is False
    by_owner = policy.participant_capabilities(ctx, who["charlotte"], hilde)
    assert by_owner["replace"] is True and by_owner["ask_to_replace"] is False
    assert not any(policy.participant_capabilities(ctx, who["berit"], hilde).values())
    assert not any(policy.participant_capabilities(ctx, OUTSIDER, berit).values())
    # Only a coordinator's role is handed over, and only by the owner or a guardian.
    assert policy.check_replace_coordinator(ctx, who["charlotte"], berit).code == "conflict"
    assert policy.check_replace_coordinator(ctx, who["hilde"], hilde).code == "forbidden"
    assert policy.roles_one_may_add(ctx, who["hilde"]) == ["service", "relative"]
    # The plan has its coordinator: a new one comes by a hand-over, not as a second.
    assert policy.roles_one_may_add(ctx, who["charlotte"]) == ["service", "relative", "guardian"]
    assert policy.check_add_participant(ctx, who["charlotte"], Role.COORDINATOR).code == "conflict"
    assert policy.check_add_participant(ctx, who["hilde"], Role.COORDINATOR).code == "forbidden"
    last = policy.check_change_participant(
        ctx, who["charlotte"], hilde, removing=True, renaming=False
    )
    assert last.code == "conflict" and "handed over" in last.reason
    assert policy.roles_one_may_add(ctx, who["berit"]) == []


def test_a_coordinator_records_a_form_that_keeps_their_own_access_as_it_is() -> None:
    """Only a widening of the recorder's own access needs the owner in-app: a form that
    changes someone else's grants and leaves the coordinator's as they are is recorded."""
    ctx, who, _ = _charlotte()
    assert ctx.consent is not None
    grants = tuple(g for g in ctx.consent.grants if g.participant != "plege")
    same_for_hilde = replace(ctx.consent, version=3, grants=grants)
    recorded = policy.check_sign_consent(
        ctx, who["hilde"], "pcharlotte", same_for_hilde, with_form=True
    )
    assert recorded, recorded
    # Hilde already edits everything; starting the consent earlier would still widen it.
    earlier = replace(same_for_hilde, valid_from=BASE - timedelta(days=1))
    assert not policy.check_sign_consent(ctx, who["hilde"], "pcharlotte", earlier, with_form=True)


def test_undoing_a_version_of_a_closed_plan_is_a_conflict() -> None:
    ctx, who, _ = _charlotte()
    assert ctx.consent is not None
    assert policy.check_undo_consent(ctx, who["charlotte"], ctx.consent.version)
    closed = replace(ctx, plan=replace(ctx.plan, status=PlanStatus.CLOSED))
    undoing = policy.check_undo_consent(closed, who["charlotte"], ctx.consent.version)
    assert not undoing and undoing.code == "conflict"
