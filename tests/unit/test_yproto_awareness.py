"""Awareness messages: round trip, and encoding that is linear in the number of states.

A server answers every joiner's sync step 1 with the awareness it knows; an encoder
that appended each state to a growing ``bytes`` copied the message once per state
(4,000 states of 16 KiB: minutes on the event loop)."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from collab.yproto import (
    AwarenessMessage,
    AwarenessState,
    awareness_parts,
    decode,
    encode_awareness,
)


def states(n: int, size: int) -> tuple[AwarenessState, ...]:
    return tuple(
        AwarenessState(1000 + i, i, {"user": {"name": "x"}, "pad": "y" * size}) for i in range(n)
    )


@given(
    st.lists(
        st.tuples(
            st.integers(0, 2**53 - 1),
            st.integers(0, 2**32),
            st.none() | st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=4),
        ),
        max_size=20,
    )
)
def test_awareness_round_trips(raw: list[tuple[int, int, dict[str, object] | None]]) -> None:
    message = tuple(AwarenessState(c, k, s) for c, k, s in raw)
    assert decode(encode_awareness(message)) == AwarenessMessage(message)


def test_every_byte_of_the_message_is_made_once() -> None:
    # The bytes produced (before the one final join) grow exactly with the message:
    # N states of size S make O(N·S) bytes, not O(N²·S).
    for n in (10, 100, 1000, 4000):
        many = states(n, 1024)
        parts = list(awareness_parts(many))
        produced = sum(len(p) for p in parts)
        message = encode_awareness(many)
        assert produced == len(message)
        assert b"".join(parts) == message
        # About 1 KiB and a few bytes of framing per state: linear, with a fixed slope.
        per_state = (len(message) - 8) / n
        assert 1024 < per_state < 1024 + 64, (n, per_state)


def _cpu(n: int) -> float:
    many = states(n, 4096)
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        encode_awareness(many)
        best = min(best, time.process_time() - start)
    return best


def test_encoding_cost_grows_linearly() -> None:
    # CPU time of this process only (other load on the machine does not count), best of
    # five. Eight times the states must cost about eight times as much; the old
    # quadratic encoder cost about 64 times as much (and a minute at 4,000 × 16 KiB).
    small, large = _cpu(500), _cpu(4000)
    assert large < 24 * max(small, 1e-4), (small, large)
    assert large < 2.0, large
