"""collab/decisions.py: the fields each decision kind needs and what it does to a measure."""

from __future__ import annotations

from datetime import date

import pytest

from collab import decisions
from collab.model import MeasureStatus


def test_every_kind_names_what_it_needs() -> None:
    assert set(decisions.NEEDS) == set(decisions.KINDS)
    assert decisions.missing("adjust", {"measure": "m1"}) == "changes"
    assert decisions.missing("adjust", {"measure": "m1", "changes": {}}) is None
    assert decisions.missing("new_measure", {"section": "s", "title": "t"}) == "responsible"
    assert decisions.missing("evaluation", {}) is None
    assert decisions.MEASURE_KINDS <= set(decisions.KINDS)


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("stop", MeasureStatus.ACTIVE, {"status": "stopped"}),
        ("continue", MeasureStatus.PLANNED, {"status": "active"}),
        ("continue", MeasureStatus.PAUSED, {}),
        ("evaluation", MeasureStatus.ACTIVE, {}),
    ],
)
def test_what_a_decision_does_to_a_measure(
    kind: str, status: MeasureStatus, expected: dict[str, str]
) -> None:
    change = decisions.measure_change(kind, {}, status)
    assert dict(change.fields) == expected
    assert change.versioned is (kind != "evaluation")


def test_an_adjustment_sets_what_it_names_and_clears_an_emptied_date() -> None:
    change = decisions.measure_change(
        "adjust",
        {
            "changes": {
                "title": "Ny tittel",
                "responsible": "p2",
                "ends": "",
                "evaluate_by": "2027-03-01",
                "unknown": "x",
            }
        },
        MeasureStatus.ACTIVE,
    )
    assert dict(change.fields) == {
        "title": "Ny tittel",
        "responsible_id": "p2",
        "ends": None,
        "evaluate_by": date(2027, 3, 1),
    }
