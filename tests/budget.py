"""How hard property tests try: their own numbers, fewer under `make mutate`."""

from __future__ import annotations

import os

from hypothesis import Phase, settings

_CAP = os.environ.get("PLANROM_HYPOTHESIS_EXAMPLES")

# No per-example deadline (Hypothesis's default is 200 ms): under coverage tracing on
# parallel workers a fast example can take longer, and "took too long once" is not a
# property of the code. Tests that want a time limit assert one themselves.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

if _CAP:
    # Mutation testing only asks whether a property fails: no shrinking (a killed mutant
    # would otherwise spend seconds finding the smallest example), and the same examples
    # for every mutant, so a score does not move between runs.
    settings.register_profile(
        "mutation",
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        database=None,
        derandomize=True,
        deadline=None,
    )
    settings.load_profile("mutation")


def examples(default: int, floor: int = 1) -> int:
    """Hypothesis examples for one property; PLANROM_HYPOTHESIS_EXAMPLES caps it, down to
    ``floor`` (for a property that must reach every state to pass).

    Mutation testing runs each property once per mutant, so it caps the count (25 by
    default); the ordinary suite runs the property's own number.
    """
    return max(floor, min(default, int(_CAP))) if _CAP else default
