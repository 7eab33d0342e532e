"""collab.consent: validating new versions, narrowing, widening, withdrawal, periods."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collab.consent import (
    ConsentError,
    ConsentKind,
    ConsentVersion,
    Grant,
    SignMethod,
    check_new_version,
    first_consent_grants,
    narrowed,
    undo,
    widened,
    widens_own,
    withdrawal,
)
from collab.model import Level, Participant, Role
from tests.budget import examples

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PLAN = "plan0001"
PARTICIPANTS = {
    "owner001": Participant("owner001", PLAN, Role.OWNER, "Charlotte"),
    "guard001": Participant("guard001", PLAN, Role.GUARDIAN, "Mor"),
    "coord001": Participant("coord001", PLAN, Role.COORDINATOR, "Hilde"),
    "berit001": Participant("berit001", PLAN, Role.SERVICE, "Berit"),
    "skole001": Participant("skole001", PLAN, Role.SERVICE, "Skolen"),
    "relat001": Participant("relat001", PLAN, Role.RELATIVE, "Bror"),
    "gone0001": Participant("gone0001", PLAN, Role.SERVICE, "Fjernet", active=False),
}
GRANTABLE = ["coord001", "berit001", "skole001", "relat001"]
SECTIONS = ["sterapi1", "sskole01", "smal0001", "skrise01"]
EXAMPLES = settings(
    max_examples=examples(200),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

grant_maps = st.dictionaries(
    st.tuples(st.sampled_from(GRANTABLE), st.sampled_from(SECTIONS)),
    st.sampled_from(list(Level)),
    max_size=len(GRANTABLE) * len(SECTIONS),
)
moments = st.integers(-400, 400).map(lambda hours: BASE + timedelta(hours=hours))


@st.composite
def versions(draw: st.DrawFn, version: int = 1) -> ConsentVersion:
    grants = draw(grant_maps)
    starts = draw(moments)
    ends = draw(st.none() | st.integers(1, 500).map(lambda h: starts + timedelta(hours=h)))
    return ConsentVersion(
        plan=PLAN,
        version=version,
        signed_by="owner001",
        recorded_by="owner001",
        signed_at=starts,
        purpose="Samarbeid",
        valid_from=starts,
        valid_to=ends,
        grants=tuple(Grant(p, s, level) for (p, s), level in grants.items()),
    )


def level_now(version: ConsentVersion, key: tuple[str, str], now: datetime) -> Level:
    """Reference: a version grants its listed level inside its period, nothing outside."""
    inside = version.valid_from <= now and (version.valid_to is None or now < version.valid_to)
    if not inside:
        return Level.NONE
    return {(g.participant, g.section): g.level for g in version.grants}.get(key, Level.NONE)


def every_key() -> list[tuple[str, str]]:
    return [(p, s) for p in GRANTABLE for s in SECTIONS]


def sign(grants: list[Grant], **overrides: object) -> tuple[Grant, ...]:
    arguments: dict[str, object] = {
        "grants": grants,
        "participants": PARTICIPANTS,
        "sections": SECTIONS,
        "valid_from": BASE,
        "valid_to": None,
        "purpose": "Samarbeid om planen",
    }
    arguments.update(overrides)
    return check_new_version(**arguments)  # type: ignore[arg-type]


# --- periods ------------------------------------------------------------------------------


@EXAMPLES
@given(versions(), moments)
def test_a_version_grants_its_levels_only_inside_its_period(
    version: ConsentVersion, now: datetime
) -> None:
    for participant, section in every_key():
        assert version.level(participant, section, now) is level_now(
            version, (participant, section), now
        )
    if not version.in_force(now):
        assert all(version.level(p, s, now) is Level.NONE for p, s in every_key())


@EXAMPLES
@given(versions())
def test_the_period_includes_its_start_and_excludes_its_end(version: ConsentVersion) -> None:
    assert version.in_force(version.valid_from)
    assert not version.in_force(version.valid_from - timedelta(microseconds=1))
    if version.valid_to is not None:
        assert not version.in_force(version.valid_to)
        assert version.in_force(version.valid_to - timedelta(microseconds=1))


# --- narrowing and widening ---------------------------------------------------------------


@EXAMPLES
@given(versions(1), versions(2), moments)
def test_narrowed_lists_exactly_the_grants_that_are_lower_now(
    before: ConsentVersion, after: ConsentVersion, now: datetime
) -> None:
    expected = {
        key
        for key in every_key()
        if level_now(after, key, now).rank < level_now(before, key, now).rank
    }
    assert narrowed(before, after, now) == expected


@EXAMPLES
@given(versions(2), moments)
def test_nothing_is_narrowed_when_there_was_no_consent(
    after: ConsentVersion, now: datetime
) -> None:
    assert narrowed(None, after, now) == frozenset()


@EXAMPLES
@given(versions(1), moments)
def test_a_version_that_is_not_yet_valid_narrows_everything_it_replaces(
    before: ConsentVersion, now: datetime
) -> None:
    later = replace(before, version=2, valid_from=now + timedelta(days=1), valid_to=None)
    expected = {key for key in every_key() if level_now(before, key, now) is not Level.NONE}
    assert narrowed(before, later, now) == expected


@EXAMPLES
@given(versions(1), versions(2))
def test_widened_lists_exactly_the_grants_that_are_higher(
    before: ConsentVersion, after: ConsentVersion
) -> None:
    old = before.grant_map()
    expected = {
        key
        for key, level in after.grant_map().items()
        if level.rank > old.get(key, Level.NONE).rank
    }
    assert widened(before, after) == expected
    assert widened(None, after) == {
        k for k, level in after.grant_map().items() if level is not Level.NONE
    }
    # A change never both narrows and widens the same grant (at a moment both are valid).
    both = replace(after, valid_from=before.valid_from, valid_to=before.valid_to)
    assert not narrowed(before, both, before.valid_from) & widened(before, both)


@EXAMPLES
@given(versions())
def test_the_same_grants_again_neither_narrow_nor_widen(version: ConsentVersion) -> None:
    again = replace(version, version=version.version + 1)
    assert narrowed(version, again, version.valid_from) == frozenset()
    assert widened(version, again) == frozenset()


# --- withdrawal -------------------------------------------------------------------------


@EXAMPLES
@given(versions(3), st.none() | st.sampled_from(GRANTABLE), moments)
def test_withdrawal_is_a_new_version_without_the_withdrawn_grants(
    current: ConsentVersion, who: str | None, at: datetime
) -> None:
    after = withdrawal(current, participant=who, by="owner001", at=at)
    assert after.version == current.version + 1
    assert after.kind is ConsentKind.WITHDRAWAL
    assert (after.signed_by, after.recorded_by, after.signed_at) == ("owner001", "owner001", at)
    assert (after.valid_from, after.valid_to, after.purpose) == (
        current.valid_from,
        current.valid_to,
        current.purpose,
    )
    if who is None:
        assert after.grants == ()
    else:
        assert all(g.participant != who for g in after.grants)
        assert set(after.grants) == {g for g in current.grants if g.participant != who}
    # It takes effect at once: every grant it removed counts as narrowed now.
    removed = {
        (g.participant, g.section)
        for g in current.grants
        if (who is None or g.participant == who)
        and level_now(current, (g.participant, g.section), at) is not Level.NONE
    }
    assert narrowed(current, after, at) == removed
    assert widened(current, after) == frozenset()
    for participant, section in every_key():
        if who is None or participant == who:
            assert after.level(participant, section, at) is Level.NONE


# --- validating a new version -------------------------------------------------------------


@EXAMPLES
@given(grant_maps)
def test_valid_grants_are_kept_sorted_without_level_none(
    grants: dict[tuple[str, str], Level],
) -> None:
    given_grants = [Grant(p, s, level) for (p, s), level in grants.items()]
    kept = sign(given_grants)
    assert list(kept) == sorted(kept, key=lambda g: (g.participant, g.section))
    assert set(kept) == {g for g in given_grants if g.level is not Level.NONE}


@EXAMPLES
@given(grant_maps, st.data())
def test_bad_grants_are_refused_with_a_readable_reason(
    grants: dict[tuple[str, str], Level], data: st.DataObject
) -> None:
    good = [Grant(p, s, level) for (p, s), level in grants.items()]
    level = data.draw(st.sampled_from(list(Level)))
    section = data.draw(st.sampled_from(SECTIONS))
    bad, mentions = data.draw(
        st.sampled_from(
            [
                (Grant("nobody01", section, level), "nobody01"),  # not a participant
                (Grant("gone0001", section, level), "gone0001"),  # removed
                (Grant("owner001", section, level), "Charlotte"),  # needs no consent
                (Grant("guard001", section, level), "Mor"),  # needs no consent
                (Grant("berit001", "sghost01", level), "sghost01"),  # no such section
            ]
        )
    )
    position = data.draw(st.integers(0, len(good)))
    with pytest.raises(ConsentError) as refused:
        sign([*good[:position], bad, *good[position:]])
    assert mentions in str(refused.value)


@EXAMPLES
@given(grant_maps.filter(bool), st.data())
def test_two_grants_for_the_same_participant_and_section_are_refused(
    grants: dict[tuple[str, str], Level], data: st.DataObject
) -> None:
    good = [Grant(p, s, level) for (p, s), level in grants.items()]
    twin = data.draw(st.sampled_from(good))
    again = Grant(twin.participant, twin.section, data.draw(st.sampled_from(list(Level))))
    with pytest.raises(ConsentError, match="Dobbel"):
        sign([*good, again])


@pytest.mark.parametrize("purpose", ["", "   ", "\n\t"])
def test_a_version_without_a_purpose_is_refused(purpose: str) -> None:
    with pytest.raises(ConsentError, match="purpose"):
        sign([], purpose=purpose)


@pytest.mark.parametrize("hours", [0, -1, -1000])
def test_a_version_that_ends_before_it_begins_is_refused(hours: int) -> None:
    with pytest.raises(ConsentError, match="valid_to"):
        sign([], valid_to=BASE + timedelta(hours=hours))


def test_the_first_consent_lets_the_coordinator_edit_every_section() -> None:
    grants = first_consent_grants("coord001", SECTIONS)
    assert {(g.participant, g.section, g.level) for g in grants} == {
        ("coord001", s, Level.EDIT) for s in SECTIONS
    }
    assert sign(list(grants)) == tuple(sorted(grants, key=lambda g: g.section))


def test_charlottes_consent_keeps_the_school_and_berit_apart() -> None:
    grants = sign(
        [
            Grant("berit001", "sterapi1", Level.EDIT),
            Grant("berit001", "smal0001", Level.READ),
            Grant("skole001", "sskole01", Level.EDIT),
            Grant("skole001", "smal0001", Level.READ),
            Grant("skole001", "sterapi1", Level.NONE),
        ]
    )
    version = ConsentVersion(PLAN, 2, "owner001", "coord001", BASE, "Samarbeid", BASE, None, grants)
    assert version.level("skole001", "sterapi1", BASE) is Level.NONE
    assert version.level("berit001", "sskole01", BASE) is Level.NONE
    assert version.level("berit001", "sterapi1", BASE) is Level.EDIT
    # Charlotte later withdraws the school's consent: the school loses its own section.
    after = withdrawal(version, participant="skole001", by="owner001", at=BASE)
    assert narrowed(version, after, BASE) == {("skole001", "sskole01"), ("skole001", "smal0001")}
    assert after.level("berit001", "sterapi1", BASE) is Level.EDIT


def _version(number: int, grants: list[Grant], **changes: object) -> ConsentVersion:
    base = ConsentVersion(
        PLAN, number, "owner001", "coord001", BASE, "Samarbeid", BASE, None, tuple(grants)
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_undo_restores_the_version_before_signed_in_app_by_the_owner() -> None:
    before = _version(3, [Grant("coord001", "smal0001", Level.READ)], method=SignMethod.IN_APP)
    recorded = _version(
        4,
        [Grant("coord001", "smal0001", Level.READ), Grant("skole001", "sterapi1", Level.READ)],
        method=SignMethod.PAPER,
        form="form0001",
    )
    later = BASE + timedelta(days=2)
    undone = undo(recorded, before, by="owner001", at=later, sign_in="oidc")
    assert undone.version == 5 and undone.kind is ConsentKind.UNDO
    assert undone.grants == before.grants
    assert (undone.method, undone.sign_in, undone.form) == (SignMethod.IN_APP, "oidc", None)
    assert (undone.signed_by, undone.recorded_by, undone.signed_at) == (
        "owner001",
        "owner001",
        later,
    )
    assert narrowed(recorded, undone, later) == {("skole001", "sterapi1")}
    # Undoing the very first version grants nothing.
    first = undo(_version(1, list(recorded.grants)), None, by="owner001", at=later, sign_in="x")
    assert first.grants == () and first.version == 2 and first.in_force(later)


def test_an_undo_is_the_undoers_own_in_app_signature_in_force_at_once() -> None:
    # The version before was a guardian's paper form, entered by the coordinator, and not
    # yet in force: the undo is none of that, but the owner's own, signed now.
    later = BASE + timedelta(days=2)
    before = _version(
        3,
        [Grant("coord001", "smal0001", Level.READ)],
        signed_by="guard001",
        recorded_by="coord001",
        valid_from=BASE + timedelta(days=10),
        method=SignMethod.PAPER,
        form="form0007",
        sign_in="",
    )
    recorded = _version(4, [Grant("skole001", "sterapi1", Level.READ)])
    undone = undo(recorded, before, by="owner001", at=later, sign_in="oidc")
    assert (undone.signed_by, undone.recorded_by) == ("owner001", "owner001")
    assert (undone.method, undone.form, undone.sign_in) == (SignMethod.IN_APP, None, "oidc")
    assert undone.valid_from == later and undone.in_force(later)
    # Undoing a first version that has since expired: the empty version is in force.
    expired = _version(1, [Grant("skole001", "sterapi1", Level.READ)], valid_to=later)
    first = undo(expired, None, by="owner001", at=later, sign_in="oidc")
    assert first.valid_to is None and first.in_force(later + timedelta(days=400))


@pytest.mark.parametrize(
    ("after", "widens"),
    [
        ([Grant("coord001", "smal0001", Level.READ)], False),
        ([], False),
        ([Grant("coord001", "smal0001", Level.EDIT)], True),
        (
            [Grant("coord001", "smal0001", Level.READ), Grant("coord001", "sterapi1", Level.OWN)],
            True,
        ),
        (
            [Grant("coord001", "smal0001", Level.OWN), Grant("skole001", "sterapi1", Level.EDIT)],
            False,
        ),
    ],
)
def test_widens_own_looks_only_at_the_recorders_grants(after: list[Grant], widens: bool) -> None:
    before = _version(1, [Grant("coord001", "smal0001", Level.READ)])
    assert widens_own(before, _version(2, after), "coord001") is widens


def test_a_longer_period_widens_too() -> None:
    grants = [Grant("coord001", "smal0001", Level.READ)]
    before = _version(1, grants, valid_to=BASE + timedelta(days=30))
    assert widens_own(before, _version(2, grants, valid_to=None), "coord001")
    assert widens_own(before, _version(2, grants, valid_to=BASE + timedelta(days=31)), "coord001")
    assert not widens_own(
        before, _version(2, grants, valid_to=BASE + timedelta(days=1)), "coord001"
    )
    assert widens_own(before, _version(2, grants, valid_from=BASE - timedelta(days=1)), "coord001")
    # The first version ever is the owner's grant to give: any grant to the recorder widens.
    assert widens_own(None, _version(1, grants), "coord001")
    assert not widens_own(None, _version(1, grants), "skole001")


# --- edges found by mutation testing (docs/testing.md) ------------------------------------


def test_a_withdrawal_is_the_withdrawers_own_in_app_act_whatever_came_before() -> None:
    """Withdrawing a guardian's paper form that the coordinator recorded: the new version
    is the owner's own, signed in-app with their sign-in, with no form attached (so the
    owner cannot undo it as "made by someone else", and the history names who withdrew)."""
    paper = _version(
        4,
        [Grant("coord001", "smal0001", Level.READ), Grant("skole001", "sterapi1", Level.READ)],
        signed_by="guard001",
        recorded_by="coord001",
        method=SignMethod.PAPER,
        form="form0007",
        sign_in="",
    )
    later = BASE + timedelta(days=2)
    after = withdrawal(paper, participant="skole001", by="owner001", at=later, sign_in="oidc")
    assert (after.signed_by, after.recorded_by, after.signed_at) == ("owner001", "owner001", later)
    assert (after.method, after.sign_in, after.form) == (SignMethod.IN_APP, "oidc", None)
    assert after.grants == (Grant("coord001", "smal0001", Level.READ),)
    signed_in = replace(paper, method=SignMethod.IN_APP, form=None, sign_in="oidc")
    quietly = withdrawal(signed_in, participant=None, by="guard001", at=later)
    assert (quietly.sign_in, quietly.recorded_by, quietly.grants) == ("", "guard001", ())


def test_a_longer_period_widens_only_someone_who_has_grants_and_the_same_end_does_not() -> None:
    ends = BASE + timedelta(days=30)
    before = _version(1, [Grant("coord001", "smal0001", Level.READ)], valid_to=ends)
    # The coordinator records a longer consent in which they have nothing: no widening.
    others = [Grant("skole001", "sterapi1", Level.READ)]
    assert not widens_own(before, _version(2, others, valid_to=None), "coord001")
    assert not widens_own(
        before, _version(2, others, valid_from=BASE - timedelta(days=1)), "coord001"
    )
    # The same grants and the same end: nothing more than before.
    same = _version(2, [Grant("coord001", "smal0001", Level.READ)], valid_to=ends)
    assert not widens_own(before, same, "coord001")
