"""Reading whose items a Yjs update carries, for every update pycrdt can make."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from collab.yproto import Malformed, decode_state_vector
from collab.yupdate import ClientRange, read_update, update_clients
from tests.budget import examples

TEXTS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
OPS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(["text", "map", "array", "delete", "format"]),
        TEXTS,
        VALUES,
    ),
    min_size=1,
    max_size=12,
)


def apply_op(doc: Doc, kind: str, text: str, value: object) -> None:
    body = doc.get("situation", type=Text)
    if kind == "text" and text:
        chars = str(body)
        at = len(chars[: len(chars) // 2].encode())
        body.insert(at, text)
    elif kind == "map":
        doc.get("meta", type=Map)[text or "k"] = value
    elif kind == "array":
        doc.get("goals", type=Array).append(Map({"id": "gaaaa", "text": Text(text)}))
    elif kind == "delete" and len(str(body)) > 1:
        first = str(body)[0]
        del body[0 : len(first.encode())]
    elif kind == "format" and len(str(body)) > 1:
        body.format(0, len(str(body)[0].encode()), {"bold": True})


@settings(max_examples=examples(150), deadline=None)
@given(OPS)
def test_the_reader_finds_every_client_and_clock_of_an_update(ops: list) -> None:  # type: ignore[type-arg]
    docs = [Doc() for _ in range(3)]
    for who, kind, text, value in ops:
        doc = docs[who]
        before = {d.client_id: d.get_state() for d in docs}
        apply_op(doc, kind, text, value)
        update = doc.get_update(before[doc.client_id])
        after = decode_state_vector(doc.get_state())
        old = decode_state_vector(before[doc.client_id])
        ranges = read_update(update)
        grown = {c for c, clock in after.items() if clock > old.get(c, 0)}
        assert {r.client for r in ranges} == grown
        for r in ranges:
            assert r.start == old.get(r.client, 0) and r.end == after[r.client]
        for other in docs:  # everyone syncs everything
            if other is not doc:
                other.apply_update(update)
    # The whole document names exactly the clients that wrote something, from clock 0.
    whole = docs[0].get_update()
    state = decode_state_vector(docs[0].get_state())
    assert update_clients(whole) == {c for c, clock in state.items() if clock}
    assert {(r.client, r.start, r.end) for r in read_update(whole)} == {
        (c, 0, clock) for c, clock in state.items() if clock
    }


def test_a_later_update_of_a_client_still_names_that_client() -> None:
    # Yrs' own get_state() reports nothing for an update not starting at clock 0.
    doc = Doc(client_id=4242)
    text = doc.get("situation", type=Text)
    text.insert(0, "første")
    before = doc.get_state()
    text.insert(0, "andre ")
    assert update_clients(doc.get_update(before)) == {4242}


@pytest.mark.parametrize(
    "junk", [b"", b"\x01", b"\x01\x01\x05\x00\x04", b"\xff" * 12, b"\x00\x00\x00", b"\x01\x00"]
)
def test_malformed_updates_are_refused(junk: bytes) -> None:
    with pytest.raises(Malformed):
        read_update(junk)


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_are_malformed_or_read_never_crash(data: bytes) -> None:
    try:
        ranges = read_update(data)
    except Malformed:
        return
    # Accepted bytes are a complete update: every struct has a length, and the clients
    # named are exactly those of the ranges.
    assert all(r.end > r.start >= 0 for r in ranges)
    assert update_clients(data) == {r.client for r in ranges}
    # Each client costs at least three bytes (struct count, client, clock) plus a struct.
    assert len(ranges) * 4 <= len(data)


def test_random_bytes_reach_both_outcomes() -> None:
    """The property above is not vacuous: some short byte strings are real updates."""
    assert read_update(b"\x00\x00") == []
    ranges = read_update(b"\x01\x01\x05\x00\x00\x03\x00")
    assert ranges == [ClientRange(5, 0, 3)]  # one GC struct of length 3 for client 5


def test_truncated_real_updates_are_refused() -> None:
    doc = Doc()
    doc.get("situation", type=Text).insert(0, "hei på deg " * 3)
    update = doc.get_update()
    for cut in range(1, len(update)):
        with pytest.raises(Malformed):
            read_update(update[:cut])
