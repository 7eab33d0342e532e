"""The consent list (samtykke): versions, grants, withdrawal and their rules.

A consent version is the owner's (or a guardian's) own act, given one of two ways
(:class:`SignMethod`): signed in Planrom with their own sign-in (``in-app``), or signed on
paper and recorded by someone else with the signed form attached (``paper``). It lists
per participant and section a level. Only the latest version is in force; it grants
nothing outside its period. Withdrawal is a new version without the withdrawn
participant's grants, so history stays complete. A plan has no consent at all until the
owner or a guardian first signs.
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
    UNDO = "undo"


class SignMethod(StrEnum):
    """How a version was given."""

    IN_APP = "in-app"  # the signer themselves, signed in (``sign_in`` says how)
    PAPER = "paper"  # recorded by someone else, with the signed form attached (``form``)


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
    method: SignMethod = SignMethod.IN_APP
    sign_in: str = ""  # in-app: how the signer signed in ("oidc", "demo", "token", ...)
    form: str | None = None  # paper: the id of the signed form

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


def needs_no_consent(participant: Participant) -> bool:
    """Is this participant's access never a matter of consent (the owner, a guardian
    without an end date)? They get no grants, and no version narrows them. A guardian with
    an end date may be granted what they keep after it."""
    return participant.role in ALWAYS_FULL_ACCESS and participant.access_until is None


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
        if needs_no_consent(who):
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
    sign_in: str = "",
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
        method=SignMethod.IN_APP,
        sign_in=sign_in,
        form=None,
    )


def undo(
    undone: ConsentVersion,
    previous: ConsentVersion | None,
    *,
    by: str,
    at: datetime,
    sign_in: str,
) -> ConsentVersion:
    """A new version equal to the one before ``undone`` (or granting nothing when
    ``undone`` was the first), signed in-app by ``by``, in force at once."""
    base = previous if previous is not None else replace(undone, grants=(), valid_to=None)
    return replace(
        base,
        version=undone.version + 1,
        signed_by=by,
        recorded_by=by,
        signed_at=at,
        valid_from=min(base.valid_from, at),
        kind=ConsentKind.UNDO,
        method=SignMethod.IN_APP,
        sign_in=sign_in,
        form=None,
    )


def widens_own(before: ConsentVersion | None, after: ConsentVersion, recorder: str) -> bool:
    """Does ``after`` give ``recorder`` more than ``before`` did (a longer period counts)?"""
    if any(p == recorder for p, _ in widened(before, after)):
        return True
    if before is None or not any(g.participant == recorder for g in after.grants):
        return False
    starts_earlier = after.valid_from < before.valid_from
    ends_later = before.valid_to is not None and (
        after.valid_to is None or after.valid_to > before.valid_to
    )
    return starts_earlier or ends_later


def first_consent_grants(coordinator: str, sections: Iterable[str]) -> tuple[Grant, ...]:
    """The usual first consent a coordinator prepares: edit on every section. It is not in
    force until the owner or a guardian signs it."""
    return tuple(Grant(coordinator, s, Level.EDIT) for s in sections)
