"""Dates and times as a person reads them: in words, in Norwegian time (Europe/Oslo).

One home for the month and weekday names and the shape of a date in bokmål, nynorsk and
English, used by the minutes, the access log and every other text the server writes.
Values stored in UTC are turned into Oslo time here, never shown as UTC. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from collab.guardians import OSLO

__all__ = [
    "OSLO",
    "Calendar",
    "calendar",
    "clock",
    "day_text",
    "local",
    "moment_text",
    "parse_moment",
    "short_date",
    "when_text",
]


@dataclass(frozen=True)
class Calendar:
    """The words and shapes of dates and times in one language."""

    lang: str
    months: tuple[str, ...]
    weekdays: tuple[str, ...]
    at: str  # "kl." before a time of day
    day: str  # {weekday} {day} {month} {year}
    short: str  # {day} {month} {year}


_NB_MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)

_CALENDARS = {
    "nb": Calendar(
        lang="nb",
        months=_NB_MONTHS,
        weekdays=("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
        at="kl.",
        day="{weekday} {day}. {month} {year}",
        short="{day}. {month} {year}",
    ),
    "nn": Calendar(
        lang="nn",
        months=_NB_MONTHS,
        weekdays=("måndag", "tysdag", "onsdag", "torsdag", "fredag", "laurdag", "sundag"),
        at="kl.",
        day="{weekday} {day}. {month} {year}",
        short="{day}. {month} {year}",
    ),
    "en": Calendar(
        lang="en",
        months=(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        at="at",
        day="{weekday} {day} {month} {year}",
        short="{day} {month} {year}",
    ),
}


def calendar(lang: str | None) -> Calendar:
    """The calendar words of ``lang`` (nb, nn or en; anything else is bokmål)."""
    return _CALENDARS.get(lang or "nb", _CALENDARS["nb"])


def local(moment: datetime) -> datetime:
    """``moment`` in Oslo time (a moment without a zone is taken as UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(OSLO)


def parse_moment(value: str | None) -> datetime | None:
    """An ISO 8601 moment in Oslo time, or None when there is none or it is unreadable."""
    if not value:
        return None
    try:
        return local(datetime.fromisoformat(value))
    except ValueError:
        return None


def day_text(day: date, lang: str | None) -> str:
    """'tirsdag 1. desember 2026'."""
    c = calendar(lang)
    return c.day.format(
        weekday=c.weekdays[day.weekday()], day=day.day, month=c.months[day.month - 1], year=day.year
    )


def short_date(day: date, lang: str | None) -> str:
    """'1. desember 2026'."""
    c = calendar(lang)
    return c.short.format(day=day.day, month=c.months[day.month - 1], year=day.year)


def clock(moment: datetime) -> str:
    """'10:00' (the moment is expected in Oslo time already)."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


def moment_text(moment: datetime, lang: str | None = "nb") -> str:
    """'tirsdag 1. desember 2026 kl. 10:00', in Oslo time."""
    moment = local(moment)
    return f"{day_text(moment.date(), lang)} {calendar(lang).at} {clock(moment)}"


def when_text(first: datetime, last: datetime, count: int, lang: str | None) -> str:
    """When something happened: 'tirsdag 1. desember 2026, kl. 10:14' for one event,
    'tirsdag 1. desember 2026, kl. 10–11' for a group of events within the hour that
    begins at ``first``."""
    start = local(first)
    head = f"{day_text(start.date(), lang)}, {calendar(lang).at}"
    if count == 1:
        return f"{head} {clock(start)}"
    end_hour = (start.hour + 1) % 24
    return f"{head} {start.hour:02d}–{end_hour:02d}"
