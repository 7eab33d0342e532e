"""How hard property tests try: their own numbers, fewer under `make mutate`."""

from __future__ import annotations

import os


def examples(default: int, floor: int = 1) -> int:
    """Hypothesis examples for one property; PLANROM_HYPOTHESIS_EXAMPLES caps it, down to
    ``floor`` (for a property that must reach every state to pass).

    Mutation testing runs each property once per mutant, so it caps the count (25 by
    default); the ordinary suite runs the property's own number.
    """
    cap = os.environ.get("PLANROM_HYPOTHESIS_EXAMPLES")
    return max(floor, min(default, int(cap))) if cap else default
