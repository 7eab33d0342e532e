"""Guardians of a child (foresatte) until a date.

A guardian has full access like the owner until ``access_until``; from the start of that
day (Europe/Oslo) they are like a removed participant, unless the consent in force grants
them something (then they have exactly that). The default end is the owner's 18th
birthday when the plan knows the owner's birth date. Before the end (``NOTICE_DAYS``) the
owner is asked what the guardian keeps: full access for another period, a normal consent
grant, or nothing. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from collab.model import Participant, Role, add_months

OSLO = ZoneInfo("Europe/Oslo")
NOTICE_DAYS = 30
ADULT_AGE = 18


def oslo_day(now: datetime) -> date:
    """The calendar day in Norway at ``now`` (an aware datetime)."""
    return now.astimezone(OSLO).date()


def eighteenth_birthday(born: date) -> date:
    """The day the owner comes of age (29 February: 28 February in a common year)."""
    return add_months(born, 12 * ADULT_AGE)


def birth_date_from_national_id(number: str) -> date | None:
    """The birth date in a Norwegian fødselsnummer or D-number, or None if not valid.

    DDMMYY, a three-digit individual number that fixes the century, two check digits
    (modulus 11). A D-number adds 40 to the day; only the birth date is kept.
    """
    if len(number) != 11 or not number.isdigit():
        return None
    digits = [int(c) for c in number]
    w1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    w2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    k1 = 11 - sum(d * w for d, w in zip(digits, w1, strict=False)) % 11
    k2 = 11 - sum(d * w for d, w in zip(digits, w2, strict=False)) % 11
    k1, k2 = (0 if k1 == 11 else k1), (0 if k2 == 11 else k2)
    if k1 == 10 or k2 == 10 or k1 != digits[9] or k2 != digits[10]:
        return None
    day, month, yy = int(number[0:2]), int(number[2:4]), int(number[4:6])
    individual = int(number[6:9])
    if day > 40:
        day -= 40  # D-number
    if individual <= 499:
        century = 1900
    elif individual <= 749 and yy >= 54:
        century = 1800
    elif yy < 40:
        century = 2000
    elif individual >= 900:
        century = 1900
    else:
        return None
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


def access_until(role: Role, stored: date | None, owner_born: date | None) -> date | None:
    """A participant's end of full access: the stored date, else for a guardian the
    owner's 18th birthday when known; None for everyone else and when unknown."""
    if role is not Role.GUARDIAN:
        return None
    if stored is not None:
        return stored
    return eighteenth_birthday(owner_born) if owner_born is not None else None


def full_access_ended(participant: Participant, now: datetime) -> bool:
    """Whether a guardian's full access has ended (from the start of ``access_until``)."""
    return (
        participant.role is Role.GUARDIAN
        and participant.access_until is not None
        and oslo_day(now) >= participant.access_until
    )


@dataclass(frozen=True)
class GuardianNotice:
    """The owner's question: what does this guardian keep after ``ends``?"""

    participant: str
    name: str
    ends: date
    days_left: int


def notices(participants: tuple[Participant, ...], now: datetime) -> list[GuardianNotice]:
    """Guardians whose full access ends within ``NOTICE_DAYS`` and whom the owner has not
    answered for this end date yet."""
    today = oslo_day(now)
    out: list[GuardianNotice] = []
    for p in participants:
        ends = p.access_until
        if (
            p.role is not Role.GUARDIAN
            or not p.active
            or ends is None
            or p.access_answered == ends
            or today >= ends
            or today < ends - timedelta(days=NOTICE_DAYS)
        ):
            continue
        out.append(GuardianNotice(p.id, p.name, ends, (ends - today).days))
    return out
