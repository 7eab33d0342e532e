"""The consent list (samtykke): versions, grants, withdrawal and their rules.

A consent version is signed by the owner, or recorded on the owner's behalf by a
guardian or the coordinator. It lists per participant and section a level. Only the
latest version is in force; it grants nothing outside its period. Withdrawal is a new
version without the withdrawn participant's grants, so history stays complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from collab.model import Level, Participant, Role


class ConsentKind(StrEnum):
    SIGNED = "signed"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True)
class Grant:
    participant: str
    section: str
    level: Level


@dataclass(frozen=True)
class ConsentVersion:
    plan: str
    version: int
    signed_by: str  # participant id of the signer (owner or guardian)
    recorded_by: str  # participant id of whoever entered it (the signer, or the coordinator)
    signed_at: datetime
    purpose: str
    valid_from: datetime
    valid_to: datetime | None
    grants: tuple[Grant, ...]
    kind: ConsentKind = ConsentKind.SIGNED

    def in_force(self, now: datetime) -> bool:
        if now < self.valid_from:
            return False
        return self.valid_to is None or now < self.valid_to

    def level(self, participant: str, section: str, now: datetime) -> Level:
        """The level this version grants now; ``none`` outside its period."""
        if not self.in_force(now):
            return Level.NONE
        return self.grant_map().get((participant, section), Level.NONE)

    def grant_map(self) -> dict[tuple[str, str], Level]:
        return {(g.participant, g.section): g.level for g in self.grants}


class ConsentError(ValueError):
    """A consent version that may not be signed, with a reason a person can read."""


# Participants whose access is not a matter of consent: they always see everything.
ALWAYS_FULL_ACCESS = frozenset({Role.OWNER, Role.GUARDIAN})


def check_new_version(
    *,
    grants: Iterable[Grant],
    participants: Mapping[str, Participant],
    sections: Iterable[str],
    valid_from: datetime,
    valid_to: datetime | None,
    purpose: str,
) -> tuple[Grant, ...]:
    """Validate the grants of a new version and return them normalised.

    One grant per (participant, section); every participant is active in the plan and
    is not the owner or a guardian (who need no consent); every section exists. Grants of
    level ``none`` are dropped because absence already means ``none``.
    """
    if not purpose.strip():
        raise ConsentError("Formålet med samtykket må fylles ut (purpose is required).")
    if valid_to is not None and valid_to <= valid_from:
        raise ConsentError(
            "Samtykket må slutte etter at det begynner (valid_to before valid_from)."
        )
    known_sections = set(sections)
    seen: set[tuple[str, str]] = set()
    kept: list[Grant] = []
    for grant in grants:
        who = participants.get(grant.participant)
        if who is None or not who.active:
            raise ConsentError(f"Ukjent deltaker: {grant.participant}")
        if who.role in ALWAYS_FULL_ACCESS and who.access_until is None:
            # A guardian with an end date may be granted what they keep after it.
            raise ConsentError(f"{who.name} har alltid full tilgang og skal ikke ha samtykke.")
        if grant.section not in known_sections:
            raise ConsentError(f"Ukjent del av planen: {grant.section}")
        key = (grant.participant, grant.section)
        if key in seen:
            raise ConsentError(f"Dobbel tilgang for {who.name} i samme del av planen.")
        seen.add(key)
        if grant.level is not Level.NONE:
            kept.append(grant)
    return tuple(sorted(kept, key=lambda g: (g.participant, g.section)))


def narrowed(
    before: ConsentVersion | None, after: ConsentVersion, now: datetime
) -> frozenset[tuple[str, str]]:
    """(participant, section) pairs whose level ``after`` is lower than ``before``, now."""
    if before is None:
        return frozenset()
    old = before.grant_map() if before.in_force(now) else {}
    new = after.grant_map() if after.in_force(now) else {}
    return frozenset(
        key for key, level in old.items() if new.get(key, Level.NONE).rank < level.rank
    )


def widened(before: ConsentVersion | None, after: ConsentVersion) -> frozenset[tuple[str, str]]:
    """(participant, section) pairs that ``after`` grants more than ``before``."""
    old = before.grant_map() if before is not None else {}
    return frozenset(
        key
        for key, level in after.grant_map().items()
        if level.rank > old.get(key, Level.NONE).rank
    )


def withdrawal(
    current: ConsentVersion,
    *,
    participant: str | None,
    by: str,
    at: datetime,
) -> ConsentVersion:
    """A new version with one participant's grants (or all grants) withdrawn, at once."""
    if participant is None:
        grants: tuple[Grant, ...] = ()
    else:
        grants = tuple(g for g in current.grants if g.participant != participant)
    return replace(
        current,
        version=current.version + 1,
        signed_by=by,
        recorded_by=by,
        signed_at=at,
        grants=grants,
        kind=ConsentKind.WITHDRAWAL,
    )


def first_consent_grants(coordinator: str, sections: Iterable[str]) -> tuple[Grant, ...]:
    """A new plan's first consent: the coordinator may edit every section."""
    return tuple(Grant(coordinator, s, Level.EDIT) for s in sections)
