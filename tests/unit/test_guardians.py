"""Guardians of a child until a date (collab.guardians and collab.policy), with the clock.

Each property draws the owner's birth date (or none), an explicit end date (or none), the
guardian's consent grants and a moment, and checks policy against the rule written
plainly: before the end (Europe/Oslo day) the guardian is like the owner; from the start
of that day they have exactly what the consent in force grants, or nothing at all; the
owner is asked in the 30 days before, once per end date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from collab import guardians, policy
from collab.consent import ConsentVersion, Grant, check_new_version
from collab.model import Level, Participant, Plan, PlanStatus, Role, Section, SectionKind
from collab.policy import PlanContext, Principal

PLAN = "plan0001"
SECTIONS = {
    f"sec{i:04d}": Section(f"sec{i:04d}", PLAN, key, SectionKind.LIFE_AREA, key.title(), i)
    for i, key in enumerate(["om-meg", "skole", "helse", "koordinering"])
}
OWNER = Participant("own00001", PLAN, Role.OWNER, "Emma", person="emma")
LEVELS = st.sampled_from(list(Level))


def guardian(until: date | None, answered: date | None = None) -> Participant:
    return Participant(
        "gua00001",
        PLAN,
        Role.GUARDIAN,
        "Mor",
        person="mor",
        access_until=until,
        access_answered=answered,
    )


def context(
    who: Participant, grants: dict[str, Level], now: datetime, *, consent_from: datetime
) -> PlanContext:
    plan = Plan(
        id=PLAN,
        title="Emmas plan",
        status=PlanStatus.ACTIVE,
        period_from=date(2020, 1, 1),
        period_to=None,
        evaluation_months=6,
        next_evaluation=date(2030, 1, 1),
        participants=(OWNER, who),
    )
    consent = ConsentVersion(
        plan=PLAN,
        version=4,
        signed_by=OWNER.id,
        recorded_by=OWNER.id,
        signed_at=consent_from,
        purpose="Samarbeid",
        valid_from=consent_from,
        valid_to=None,
        grants=tuple(
            Grant(who.id, s, level)
            for s, level in sorted(grants.items())
            if level is not Level.NONE
        ),
    )
    return PlanContext(plan=plan, consent=consent, sections=SECTIONS, now=now)


def oslo_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), guardians.OSLO).astimezone(UTC)


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2045, 1, 1), timezones=st.just(UTC)
)
births = st.dates(min_value=date(2008, 1, 1), max_value=date(2024, 12, 31))
grant_maps = st.dictionaries(st.sampled_from(sorted(SECTIONS)), LEVELS, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    born=st.none() | births,
    stored=st.none() | st.dates(min_value=date(2024, 1, 1), max_value=date(2045, 1, 1)),
    grants=grant_maps,
    now=moments,
)
def test_a_guardian_is_the_owner_until_the_date_and_then_has_only_their_consent(
    born: date | None, stored: date | None, grants: dict[str, Level], now: datetime
) -> None:
    until = guardians.access_until(Role.GUARDIAN, stored, born)
    assert until == (
        stored if stored is not None else (guardians.eighteenth_birthday(born) if born else None)
    )
    who = guardian(until)
    ctx = context(who, grants, now, consent_from=datetime(2023, 1, 1, tzinfo=UTC))
    me = Principal("mor")
    ended = until is not None and now >= oslo_midnight(until)
    assert guardians.full_access_ended(who, now) == ended
    for section in SECTIONS:
        level, _ = policy.section_level(ctx, me, section)
        expected = grants.get(section, Level.NONE) if ended else Level.EDIT
        assert level == expected, (section, level, expected)
    # The log, the consent list and managing the plan were a guardian's; no longer after.
    assert bool(policy.check_read_access_log(ctx, me)) == (not ended)
    assert bool(policy.check_withdraw_consent(ctx, me)) == (not ended)
    keeps = any(level is not Level.NONE for level in grants.values())
    assert bool(policy.check_see_plan(ctx, me)) == (not ended or keeps)
    # The group as the owner sees it: an ended guardian with nothing granted is gone.
    group = {p.id for p, _ in policy.visible_participants(ctx, Principal("emma"))}
    assert (who.id in group) == (not ended or keeps)
    # Why access was allowed, as the access log records it.
    grounds = policy.access_grounds(ctx, me, "sec0000")
    if not ended:
        assert grounds == ("guardian" if until is None else f"guardian:{until.isoformat()}")
    elif keeps:
        assert grounds == f"consent:4:{grants.get('sec0000', Level.NONE).value}"
    else:
        assert grounds == ""


@settings(max_examples=300, deadline=None)
@given(
    until=st.dates(min_value=date(2025, 1, 1), max_value=date(2040, 1, 1)),
    days_before=st.integers(min_value=-5, max_value=60),
    seconds=st.integers(min_value=0, max_value=86_399),
    answered=st.booleans(),
)
def test_the_owner_is_asked_in_the_thirty_days_before_once_per_end_date(
    until: date, days_before: int, seconds: int, answered: bool
) -> None:
    now = oslo_midnight(until - timedelta(days=days_before)) + timedelta(seconds=seconds)
    who = guardian(until, answered=until if answered else None)
    ctx = context(who, {}, now, consent_from=datetime(2023, 1, 1, tzinfo=UTC))
    asked = policy.guardian_notices(ctx, Principal("emma"))
    expected = 1 <= days_before <= guardians.NOTICE_DAYS and not answered
    assert bool(asked) == expected, (days_before, answered, asked)
    if asked:
        assert asked[0].participant == who.id and asked[0].ends == until
        assert asked[0].days_left == days_before
    # Only the owner is asked; the guardian and a stranger never.
    assert policy.guardian_notices(ctx, Principal("mor")) == []
    assert policy.guardian_notices(ctx, Principal("stranger")) == []
    assert bool(policy.check_answer_guardian(ctx, Principal("emma")))
    assert not policy.check_answer_guardian(ctx, Principal("mor"))


def test_the_end_is_the_start_of_the_day_in_norway() -> None:
    until = date(2031, 6, 15)  # summer time: midnight in Oslo is 22:00 UTC the day before
    who = guardian(until)
    before = datetime(2031, 6, 14, 21, 59, 59, tzinfo=UTC)
    after = datetime(2031, 6, 14, 22, 0, 0, tzinfo=UTC)
    assert not guardians.full_access_ended(who, before)
    assert guardians.full_access_ended(who, after)


def fnr(day: date, individual: int) -> str:
    """A valid fødselsnummer for the day (check digits computed)."""
    base = f"{day:%d%m}{day.year % 100:02d}{individual:03d}"
    digits = [int(c) for c in base]
    k1 = 11 - sum(d * w for d, w in zip(digits, (3, 7, 6, 1, 8, 9, 4, 5, 2), strict=True)) % 11
    k1 = 0 if k1 == 11 else k1
    digits.append(k1)
    k2 = 11 - sum(d * w for d, w in zip(digits, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
    k2 = 0 if k2 == 11 else k2
    if k1 == 10 or k2 == 10:
        return ""
    return base + f"{k1}{k2}"


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2039, 12, 31)),
    individual=st.integers(min_value=500, max_value=999),
)
def test_the_birth_date_is_read_from_a_national_identity_number(day: date, individual: int) -> None:
    number = fnr(day, individual)
    if not number:
        return  # no valid number with this individual number
    assert guardians.birth_date_from_national_id(number) == day
    broken = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert guardians.birth_date_from_national_id(broken) is None


def test_a_guardian_with_an_end_date_may_be_granted_what_they_keep() -> None:
    with_end = guardian(date(2030, 1, 1))
    grants = check_new_version(
        grants=[Grant(with_end.id, "sec0001", Level.READ)],
        participants={with_end.id: with_end, OWNER.id: OWNER},
        sections=SECTIONS,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_to=None,
        purpose="Det mor beholder",
    )
    assert grants == (Grant(with_end.id, "sec0001", Level.READ),)


def with_check_digits(base: str) -> str:
    """The nine digits ``base`` with their two check digits, or "" when none exist."""
    digits = [int(c) for c in base]
    for weights in ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)):
        check = 11 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        check = 0 if check == 11 else check
        if check == 10:
            return ""
        digits.append(check)
    return "".join(map(str, digits))


def _first_valid(day_month: str, yy: str, individuals: range) -> str:
    return next(n for i in individuals if (n := with_check_digits(f"{day_month}{yy}{i:03d}")))


def test_the_individual_number_fixes_the_century_and_a_d_number_adds_forty_to_the_day() -> None:
    read = guardians.birth_date_from_national_id
    assert read(_first_valid("1503", "85", range(0, 500))) == date(1985, 3, 15)
    assert read(_first_valid("1503", "85", range(500, 750))) == date(1885, 3, 15)
    assert read(_first_valid("1503", "25", range(500, 750))) == date(2025, 3, 15)
    assert read(_first_valid("1503", "45", range(900, 1000))) == date(1945, 3, 15)
    # 750–899 with a year from 40 on belongs to no century.
    assert read(_first_valid("1503", "45", range(750, 900))) is None
    # A D-number (day + 40).
    assert read(_first_valid("5503", "85", range(0, 500))) == date(1985, 3, 15)
    # Check digits right, but no such day.
    assert read(_first_valid("3102", "85", range(0, 500))) is None


def test_a_number_of_the_wrong_shape_has_no_birth_date() -> None:
    read = guardians.birth_date_from_national_id
    good = _first_valid("1503", "85", range(0, 500))
    assert read(good[:-1]) is None
    assert read(good + "0") is None
    assert read(good[:5] + "x" + good[6:]) is None
