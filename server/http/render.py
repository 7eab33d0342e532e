"""Domain objects to JSON, and JSON values to domain values (with clear errors)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from collab.consent import ConsentVersion
from collab.docs import MeasureDoc, SectionDoc
from collab.model import Level, Measure, Participant, Plan, Section
from server.http.common import ApiError
from server.http.messages import Said

_ID = {"type": "string", "pattern": "^[a-z0-9]{4,32}$"}
ID_SCHEMA: dict[str, Any] = dict(_ID)
DATE_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": 10, "pattern": r"^\d{4}-\d{2}-\d{2}$"}
DATETIME_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": 40}


def text(max_length: int, min_length: int = 0) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


def valid_email(value: str) -> bool:
    """One '@' between a local part and a domain, no spaces, at most 320 characters."""
    local, at, domain = value.partition("@")
    return (
        bool(at and local and domain)
        and not any(c.isspace() for c in value)
        and "@" not in domain
        and len(value) <= 320
    )


def parse_date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            "malformed",
            f"{field}: «{value[:40]}» er ikke en dato (ÅÅÅÅ-MM-DD).",
            said=Said("not-a-date", field),
        ) from None


def parse_datetime(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(
            "malformed",
            f"{field}: «{value[:40]}» er ikke et tidspunkt.",
            said=Said("not-a-moment", field),
        ) from None
    if parsed.tzinfo is None:
        raise ApiError(
            "malformed",
            f"{field}: tidspunktet mangler tidssone (f.eks. 2026-01-01T00:00:00Z).",
            said=Said("no-time-zone", field),
        )
    return parsed


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def participant_json(p: Participant, *, contact: bool, facts: Mapping[str, bool]) -> dict[str, Any]:
    """A participant; ``facts`` (``collab.policy.participant_facts``) say what screens need
    to know about them (full access, signs consent, in every meeting), so that the client
    compares no roles."""
    data: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "role": p.role.value,
        "organisation": p.organisation,
        "service": p.service,
        "active": p.active,
        "hidden": p.hidden,
    } | dict(facts)
    if contact:
        data |= {"title": p.title, "phone": p.phone, "email": p.email}
    return data


def section_json(s: Section, level: Level) -> dict[str, Any]:
    return {
        "id": s.id,
        "key": s.key,
        "kind": s.kind.value,
        "title": s.title,
        "position": s.position,
        "archived": s.archived,
        "access": level.value,
        "doc": SectionDoc(s.plan, s.id).name if level.rank >= Level.READ.rank else None,
    }


OTHER_SERVICE = "en annen tjeneste"


def measure_json(
    m: Measure, *, writable: bool, known: Mapping[str, bool] | None = None
) -> dict[str, Any]:
    """A measure; with ``known`` (collab.policy.knows_of), a responsible participant the
    viewer may not know of is shown as "en annen tjeneste", without their id."""
    hidden = known is not None and m.responsible is not None and m.responsible not in known
    return {
        "id": m.id,
        "section": m.section,
        "title": m.title,
        "responsible": None if hidden else m.responsible,
        "responsible_label": OTHER_SERVICE if hidden else None,
        "goal_ids": list(m.goal_ids),
        "frequency": m.frequency,
        "starts": iso(m.starts),
        "ends": iso(m.ends),
        "status": m.status.value,
        "evaluate_by": iso(m.evaluate_by),
        "doc": MeasureDoc(m.plan, m.id).name,
        "access": "write" if writable else "read",
    }


def plan_summary(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "title": plan.title,
        "status": plan.status.value,
        "period_from": iso(plan.period_from),
        "period_to": iso(plan.period_to),
        "evaluation_months": plan.evaluation_months,
        "next_evaluation": iso(plan.next_evaluation),
    }


def consent_json(c: ConsentVersion, *, form: dict[str, Any] | None = None) -> dict[str, Any]:
    """A consent version as the reader may receive it: pass it through
    ``collab.policy.consent_as_seen`` first (rows, signer and recorder they may know of)."""
    return {
        "version": c.version,
        "kind": c.kind.value,
        "method": c.method.value,
        "sign_in": c.sign_in if c.method.value == "in-app" else None,
        "signed_by": c.signed_by or None,
        "recorded_by": c.recorded_by or None,
        "form": form,
        "signed_at": iso(c.signed_at),
        "purpose": c.purpose,
        "valid_from": iso(c.valid_from),
        "valid_to": iso(c.valid_to),
        "grants": [
            {"participant": g.participant, "section": g.section, "level": g.level.value}
            for g in c.grants
        ],
    }
