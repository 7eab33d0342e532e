"""collab.policy's one rule for who sees whom, and agenda items that keep their section."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings

from collab import meeting as sm
from collab import policy
from collab.model import Measure, Participant, Role
from collab.policy import PlanContext, Principal
from tests.unit.test_policy import BASE, FULL, PLAN, World, _charlotte, acting, worlds


def _hide(ctx: PlanContext, *ids: str) -> PlanContext:
    people = tuple(replace(p, hidden=True) if p.id in ids else p for p in ctx.plan.participants)
    return replace(ctx, plan=replace(ctx.plan, participants=people))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_a_hidden_participant_is_known_only_to_the_owner_guardians_and_themselves(
    world: World,
) -> None:
    others = [p.id for p in world.plan.participants if p.role is not Role.OWNER]
    ctx = _hide(world.ctx, *others[:2])
    hidden = {p.id for p in ctx.plan.participants if p.hidden}
    for principal in world.principals():
        who = acting(ctx, principal)
        known = policy.knows_of(ctx, principal)
        seen = {p.id for p, _ in policy.visible_participants(ctx, principal)}
        assert seen == set(known)
        if who is None:
            assert known == {}
            continue
        assert all(ctx.plan.participant(p).active for p in known)  # type: ignore[union-attr]
        if who.role in FULL:
            assert set(known) == {p.id for p in ctx.plan.participants if p.active}
        else:
            assert not (hidden - {who.id}) & set(known)
            assert who.id in known


def test_the_school_knows_of_neither_berit_nor_tone_and_hiding_hilde_hides_her() -> None:
    ctx, who, _ = _charlotte()
    school = policy.knows_of(ctx, who["skole"])
    assert "pberit" not in school and "pteam" not in school
    assert {"pcharlotte", "philde", "pskole"} <= set(school)
    hidden = _hide(ctx, "philde")
    assert "philde" not in policy.knows_of(hidden, who["skole"])
    assert "philde" in policy.knows_of(hidden, who["charlotte"])
    assert "philde" in policy.knows_of(hidden, who["hilde"])  # herself
    assert policy.name_for(hidden, who["skole"], "philde") is None
    assert policy.name_for(hidden, who["charlotte"], "philde") == "Hilde"


def test_meeting_hidden_people_together_needs_the_owners_explicit_yes() -> None:
    ctx, who, _ = _charlotte()
    # Services that do not know of each other meet as usual.
    assert policy.check_meet_together(ctx, who["hilde"], {"pskole", "pberit"}, False)
    hidden = _hide(ctx, "pberit")
    refused = policy.check_meet_together(hidden, who["hilde"], {"pskole", "pberit"}, False)
    assert not refused and refused.code == "conflict"
    assert "Berit" not in refused.reason and "pberit" not in refused.reason
    not_hers = policy.check_meet_together(hidden, who["hilde"], {"pskole", "pberit"}, True)
    assert not not_hers and not_hers.code == "forbidden"
    assert policy.check_meet_together(hidden, who["charlotte"], {"pskole", "pberit"}, True)
    assert policy.check_meet_together(hidden, who["charlotte"], {"pberit"}, False)


def test_hiding_is_the_owners_choice() -> None:
    ctx, who, _ = _charlotte()
    assert policy.check_set_hidden(ctx, who["charlotte"])
    assert not policy.check_set_hidden(ctx, who["hilde"])
    assert policy.check_set_hidden(ctx, Principal("stranger")).code == "not-found"


def _meeting(invited: set[str], agenda: tuple[sm.AgendaItem, ...] = ()) -> sm.MeetingState:
    return sm.new_meeting("meet0001", "pcharlotte", sorted(invited), agenda)


def test_an_item_keeps_its_section_when_its_measure_moves() -> None:
    ctx, who, sid = _charlotte()
    measure = Measure("mterapi1", PLAN, sid["terapi"], "Samtaler hos DPS", "pberit")
    item = sm.AgendaItem("item0001", "Samtalene", sid["terapi"], sm.ItemKind.MEASURE, measure.id)
    state = _meeting({"pskole", "pberit"}, (item,))
    moved = replace(measure, section=sid["skolen"], responsible="pskole")
    for m in (measure, moved):
        assert not policy.check_read_item(ctx, who["skole"], state, item, m)
        assert policy.check_read_item(ctx, who["skole"], state, item, m).code == "not-found"
        assert policy.check_read_item(ctx, who["berit"], state, item, m)


def test_withdrawn_consent_takes_the_meeting_away() -> None:
    ctx, who, _ = _charlotte()
    state = _meeting({"plege"})
    assert policy.check_see_meeting(ctx, who["lege"], state)
    assert ctx.consent is not None
    withdrawn = replace(
        ctx,
        consent=replace(
            ctx.consent, grants=tuple(g for g in ctx.consent.grants if g.participant != "plege")
        ),
    )
    refused = policy.check_see_meeting(withdrawn, who["lege"], state)
    assert not refused and refused.code == "not-found"


def test_uninvite_marks_a_present_person_left_and_gives_back_the_chair() -> None:
    state = _meeting({"plege", "philde"})
    state = sm.apply(state, sm.Join("plege"), sm.Actor("plege", "service"), BASE)[0]
    state = replace(state, chair="plege")
    out = sm.uninvite(state, "plege")
    assert "plege" not in out.invited
    assert out.attendance["plege"] is sm.Attendance.LEFT
    assert out.chair == "pcharlotte"
    assert sm.uninvite(out, "pcharlotte") == out  # the owner stays


# --- consent rows of people the reader may not know of ---------------------------------------


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_every_consent_payload_holds_only_rows_of_people_the_reader_may_know_of(
    world: World,
) -> None:
    others = [p.id for p in world.plan.participants if p.role is not Role.OWNER]
    ctx = _hide(world.ctx, *others[:2])
    if ctx.consent is None:
        return
    for principal in world.principals():
        shown = policy.consent_as_seen(ctx, principal, ctx.consent)
        who = acting(ctx, principal)
        if who is None:
            assert shown is None
            continue
        assert shown is not None
        known = set(policy.knows_of(ctx, principal))
        if who.role in FULL:
            assert shown == ctx.consent  # the owner's version, intact
            continue
        assert {g.participant for g in shown.grants} <= known
        assert shown.signed_by in known | {""} and shown.recorded_by in known | {""}
        if not policy.check_read_consent(ctx, principal):
            assert {g.participant for g in shown.grants} <= {who.id}
        else:  # every row about someone they know of in a section they see, unchanged
            seen = {s for s in ctx.sections if policy.check_see_section(ctx, principal, s)}
            assert seen == policy.grantable_sections(ctx, principal)
            assert set(shown.grants) == {
                g for g in ctx.consent.grants if g.participant in known and g.section in seen
            }


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_a_version_recorded_without_seeing_every_row_carries_the_unseen_rows_over(
    world: World,
) -> None:
    others = [p.id for p in world.plan.participants if p.role is not Role.OWNER]
    ctx = _hide(world.ctx, *others[:2])
    if ctx.consent is None:
        return
    for principal in world.principals():
        who = acting(ctx, principal)
        seen = policy.grantable_participants(ctx, principal)
        if who is None:
            assert seen == {}
            continue
        # The recorder sends nothing at all: every row they may see is dropped (narrowed),
        # every row they may not see stays exactly as it was.
        merged = policy.carry_unseen_grants(ctx, principal, ())
        if who.role in FULL:
            assert merged == ()
            assert set(seen) == {p.id for p in ctx.plan.participants}
            continue
        assert set(seen) == set(policy.knows_of(ctx, principal))
        sections = policy.grantable_sections(ctx, principal)
        active = {p.id for p in ctx.plan.participants if p.active}
        assert set(merged) == {
            g
            for g in ctx.consent.grants
            if g.participant in active and (g.participant not in seen or g.section not in sections)
        }
        # Every row the recorder could have sent is theirs to set: none of them is carried.
        shown = policy.consent_as_seen(ctx, principal, ctx.consent)
        assert shown is not None
        if policy.check_read_consent(ctx, principal):
            assert not set(merged) & set(shown.grants)


def test_hilde_recording_a_version_keeps_hidden_berits_grants() -> None:
    ctx, who, sid = _charlotte()
    hidden = _hide(ctx, "pberit")
    assert hidden.consent is not None
    berits = {g for g in hidden.consent.grants if g.participant == "pberit"}
    assert berits
    shown = policy.consent_as_seen(hidden, who["hilde"], hidden.consent)
    assert shown is not None and not {g for g in shown.grants if g.participant == "pberit"}
    assert "pberit" not in policy.grantable_participants(hidden, who["hilde"])
    narrowed = tuple(g for g in shown.grants if g.participant != "pskole")
    merged = policy.carry_unseen_grants(hidden, who["hilde"], narrowed)
    assert berits <= set(merged)
    assert not {g for g in merged if g.participant == "pskole"}
    # Not hidden: the coordinator sees Berit's rows and her version is the whole version.
    assert set(policy.carry_unseen_grants(ctx, who["hilde"], narrowed)) == set(narrowed)
    # A section kept from Hilde: its rows (Berit's therapy) are neither shown nor dropped.
    assert ctx.consent is not None
    therapy = sid["terapi"]
    kept = replace(
        ctx,
        consent=replace(
            ctx.consent,
            grants=tuple(
                g
                for g in ctx.consent.grants
                if not (g.participant == "philde" and g.section == therapy)
            ),
        ),
    )
    assert therapy not in policy.grantable_sections(kept, who["hilde"])
    assert kept.consent is not None
    shown = policy.consent_as_seen(kept, who["hilde"], kept.consent)
    assert shown is not None and therapy not in {g.section for g in shown.grants}
    merged = policy.carry_unseen_grants(kept, who["hilde"], shown.grants)
    assert set(merged) == set(kept.consent.grants)


def test_participant_facts_say_what_the_client_may_not_work_out_from_roles() -> None:
    ctx, _, _ = _charlotte()
    facts = {p.id: policy.participant_facts(ctx, p) for p in ctx.plan.participants}
    assert facts["pcharlotte"] == {
        "full_access": True,
        "signs_consent": True,
        "in_every_meeting": True,
        "contact_person": False,
    }
    assert facts["philde"] == {
        "full_access": False,
        "signs_consent": False,
        "in_every_meeting": False,
        "contact_person": True,
    }
    assert not any(facts["pskole"].values())
    # A guardian with an end date: granted what they keep after it (so in the consent
    # grid), signs while full access lasts, and not after it ended.
    guardian = Participant(
        "pverge01", PLAN, Role.GUARDIAN, "Verge", person="personverge", access_until=BASE.date()
    )
    before = replace(ctx, now=BASE - timedelta(days=2))
    assert policy.participant_facts(before, guardian)["full_access"] is False
    assert policy.participant_facts(before, guardian)["signs_consent"] is True
    assert policy.participant_facts(ctx, guardian)["signs_consent"] is False
    assert policy.participant_facts(before, replace(guardian, access_until=None)) == {
        "full_access": True,
        "signs_consent": True,
        "in_every_meeting": False,
        "contact_person": False,
    }


def test_a_log_row_naming_a_hidden_participants_id_is_kept_from_the_coordinator() -> None:
    ctx, who, _ = _charlotte()
    hidden = _hide(ctx, "pteam")
    row = ("personcharlotte", "consent", "version 4: withdrew pteam")
    assert policy.check_see_log_row(ctx, who["hilde"], *row)
    assert not policy.check_see_log_row(hidden, who["hilde"], *row)
    assert policy.check_see_log_row(hidden, who["charlotte"], *row)
    team = hidden.plan.participant("pteam")
    assert team is not None
    assert not policy.named_in_records(hidden, who["hilde"], team)
    assert policy.named_in_records(hidden, who["charlotte"], team)
    for hide in (False, True):
        people = tuple(
            replace(p, hidden=hide, active=False) if p.id == "pteam" else p
            for p in ctx.plan.participants
        )
        gone = replace(ctx, plan=replace(ctx.plan, participants=people))
        removed = gone.plan.participant("pteam")
        assert removed is not None
        # Removed since: named to a reader who sees the group, unless the owner hid them.
        assert policy.named_in_records(gone, who["hilde"], removed) is not hide
        assert not policy.named_in_records(gone, who["skole"], removed)
        assert policy.named_in_records(gone, who["charlotte"], removed)
