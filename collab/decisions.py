"""Decisions a meeting records, as a pure domain: their kinds, the fields each needs, and
what each does to a measure when the minutes are finalised. The meeting routes validate
with it and the finalisation applies it; nothing here touches storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from collab.model import MeasureStatus

__all__ = ["KINDS", "MEASURE_KINDS", "NEEDS", "MeasureChange", "measure_change", "missing"]

# Every kind, in the order a chair meets them.
KINDS = (
    "continue",
    "adjust",
    "stop",
    "new_measure",
    "evaluation",
    "next_meeting",
    "next_evaluation",
)
# Kinds about an existing measure (they need one and change it when applied).
MEASURE_KINDS = frozenset({"continue", "adjust", "stop", "evaluation"})
# The fields a decision of each kind must carry.
NEEDS: Mapping[str, tuple[str, ...]] = {
    "continue": ("measure",),
    "adjust": ("measure", "changes"),
    "stop": ("measure",),
    "new_measure": ("section", "title", "responsible"),
    "evaluation": (),
    "next_meeting": ("starts_at",),
    "next_evaluation": ("date",),
}
# Fields of an «adjust» decision's changes that are dates.
_DATES = ("starts", "ends", "evaluate_by")


def missing(kind: str, body: Mapping[str, Any]) -> str | None:
    """The first field a decision of ``kind`` needs and ``body`` lacks, if any."""
    for needed in NEEDS[kind]:
        if needed not in body:
            return needed
    return None


@dataclass(frozen=True)
class MeasureChange:
    """What a decision does to a measure's record: fields to set (dates parsed), and
    whether the change is recorded as a new version of the measure."""

    fields: Mapping[str, Any]
    versioned: bool


def measure_change(kind: str, data: Mapping[str, Any], status: MeasureStatus) -> MeasureChange:
    """The effect of a decision of ``kind`` (with its ``data``) on a measure now in
    ``status``: stop ends it, continue starts a planned one, adjust sets what it names;
    an evaluation changes no field (it is recorded in the measure's progress log)."""
    fields: dict[str, Any] = {}
    if kind == "stop":
        fields["status"] = MeasureStatus.STOPPED.value
    elif kind == "continue" and status is MeasureStatus.PLANNED:
        fields["status"] = MeasureStatus.ACTIVE.value
    elif kind == "adjust":
        for key, value in dict(data.get("changes") or {}).items():
            if key in _DATES:
                fields[key] = date.fromisoformat(value) if value else None
            elif key == "responsible":
                fields["responsible_id"] = value
            elif key in ("title", "frequency"):
                fields[key] = value
    return MeasureChange(fields, versioned=kind != "evaluation")
