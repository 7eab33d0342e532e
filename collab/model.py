"""The plan as a domain model: people, plans, sections, participants, measures.

Pure data and rules; no web, socket or SQL imports. Identifiers are opaque strings
without ':' so that they can stand inside document names (``plan:{p}:section:{s}``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
ID_PATTERN = re.compile(r"^[a-z0-9]{4,32}$")


def new_id(length: int = 12) -> str:
    """A random, URL- and document-name-safe identifier."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def is_id(value: object) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


class Role(StrEnum):
    OWNER = "owner"  # planeier
    GUARDIAN = "guardian"  # verge / foresatt
    RELATIVE = "relative"  # pårørende
    COORDINATOR = "coordinator"  # koordinator
    SERVICE = "service"  # tjenesteyter


class Level(StrEnum):
    """Consent levels per section, in increasing order of access."""

    NONE = "none"
    OWN = "own"
    READ = "read"
    EDIT = "edit"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.NONE: 0, Level.OWN: 1, Level.READ: 2, Level.EDIT: 3}


class SectionKind(StrEnum):
    ABOUT = "about"  # Om meg
    GOALS = "goals"  # Mål
    LIFE_AREA = "life_area"  # Livsområde
    CRISIS = "crisis"  # Kriseplan
    COORDINATION = "coordination"  # Koordinering
    CUSTOM = "custom"


class MeasureStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    STOPPED = "stopped"


class PlanStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


@dataclass(frozen=True)
class SectionTemplate:
    key: str
    kind: SectionKind
    title: str


# The default sections of a new plan: Om meg, Mål, the eight BrukerPlan life areas,
# Kriseplan and Koordinering. Titles are bokmål; the owner may rename them.
DEFAULT_SECTIONS: tuple[SectionTemplate, ...] = (
    SectionTemplate("om-meg", SectionKind.ABOUT, "Om meg"),
    SectionTemplate("mal", SectionKind.GOALS, "Mål"),
    SectionTemplate("bolig", SectionKind.LIFE_AREA, "Bolig"),
    SectionTemplate("arbeid", SectionKind.LIFE_AREA, "Arbeid og aktivitet"),
    SectionTemplate("okonomi", SectionKind.LIFE_AREA, "Økonomi"),
    SectionTemplate("fysisk-helse", SectionKind.LIFE_AREA, "Fysisk helse"),
    SectionTemplate("psykisk-helse", SectionKind.LIFE_AREA, "Psykisk helse"),
    SectionTemplate("rus", SectionKind.LIFE_AREA, "Rus"),
    SectionTemplate("sosial-fungering", SectionKind.LIFE_AREA, "Sosial fungering"),
    SectionTemplate("sosialt-nettverk", SectionKind.LIFE_AREA, "Sosialt nettverk"),
    SectionTemplate("kriseplan", SectionKind.CRISIS, "Kriseplan"),
    SectionTemplate("koordinering", SectionKind.COORDINATION, "Koordinering"),
)

DEFAULT_EVALUATION_MONTHS = 6


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the last day of the target month."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover


def next_evaluation(period_from: date, today: date, every_months: int) -> date:
    """The first evaluation date after ``today``, counting from the plan period start."""
    if every_months < 1:
        raise ValueError("evaluation cadence must be at least one month")
    candidate = add_months(period_from, every_months)
    steps = 1
    while candidate <= today:
        steps += 1
        candidate = add_months(period_from, every_months * steps)
    return candidate


@dataclass(frozen=True)
class Participant:
    id: str
    plan: str
    role: Role
    name: str
    person: str | None = None  # bound person, once signed in or invited
    organisation: str = ""
    service: str = ""
    title: str = ""
    phone: str = ""
    email: str = ""
    active: bool = True
    # A guardian's full access ends at the start of this day (Europe/Oslo), when set:
    # the stored date, or by default the owner's 18th birthday (collab.guardians).
    access_until: date | None = None
    access_answered: date | None = None  # the end date the owner has answered for
    # The owner's choice: not shown to the rest of the group (collab.policy decides).
    hidden: bool = False


@dataclass(frozen=True)
class Section:
    id: str
    plan: str
    key: str
    kind: SectionKind
    title: str
    position: int
    archived: bool = False


@dataclass(frozen=True)
class Measure:
    id: str
    plan: str
    section: str
    title: str
    responsible: str | None  # participant id
    goal_ids: tuple[str, ...] = ()
    frequency: str = ""
    starts: date | None = None
    ends: date | None = None
    status: MeasureStatus = MeasureStatus.PLANNED
    evaluate_by: date | None = None


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    status: PlanStatus
    period_from: date
    period_to: date | None
    evaluation_months: int
    next_evaluation: date
    participants: tuple[Participant, ...] = field(default=())
    survey_relatives: bool = False  # the owner lets relatives answer the survey

    def participant(self, participant_id: str) -> Participant | None:
        for p in self.participants:
            if p.id == participant_id:
                return p
        return None

    def participant_for_person(self, person_id: str) -> Participant | None:
        """The active participant a signed-in person acts as in this plan.

        A person holds at most one active participant per plan; the repository enforces it.
        """
        for p in self.participants:
            if p.person == person_id and p.active:
                return p
        return None


@dataclass(frozen=True)
class StandIn:
    """A deputy standing in for the coordinator (holidays, sickness) from ``starts`` up to
    but not including ``ends`` (Oslo days), set by the owner or a guardian: meanwhile the
    deputy sees what the coordinator sees and does what the coordinator does."""

    id: str
    participant: str  # the deputy
    for_participant: str  # the coordinator
    starts: date
    ends: date
