"""The update reader against updates made by the npm ``yjs`` package (issue 15).

Browser Yjs sends structs and contents that pycrdt never makes (Skip, ContentJSON,
ContentBinary, ContentEmbed, XmlHook, bigint values, ...). The fixtures were generated
by tests/interop/make_yupdate_fixtures.mjs with the yjs pinned in web/package-lock.json,
each with the clients and clock ranges yjs itself decodes from it.
"""

from __future__ import annotations

import random

import pytest
from pycrdt import Array, Doc, Map

from collab.yproto import Malformed, decode_state_vector
from collab.yupdate import ClientRange, read_update, update_clients
from tests.yjs_fixtures import yjs_updates

CASES = sorted(yjs_updates())

EVERY_KIND = {
    "GC",
    "Skip",
    "ContentDeleted",
    "ContentJSON",
    "ContentBinary",
    "ContentString",
    "ContentEmbed",
    "ContentFormat",
    "ContentType",
    "ContentAny",
    "ContentDoc",
    "Type:YArray",
    "Type:YMap",
    "Type:YText",
    "Type:YXmlFragment",
    "Type:YXmlElement",
    "Type:YXmlText",
    "Type:YXmlHook",
}


def test_the_fixtures_cover_every_struct_and_content_kind() -> None:
    covered = set().union(*(case.kinds for case in yjs_updates().values()))
    assert covered == EVERY_KIND
    assert any(len(case.ranges) > 1 for case in yjs_updates().values())
    assert any(c >= 2**31 for case in yjs_updates().values() for c, _, _ in case.ranges)
    assert any(start > 0 for case in yjs_updates().values() for _, start, _ in case.ranges)


@pytest.mark.parametrize("name", CASES)
def test_the_reader_returns_exactly_the_clients_and_clocks_yjs_wrote(name: str) -> None:
    case = yjs_updates()[name]
    expected = [ClientRange(client, start, end) for client, start, end in case.ranges]
    assert read_update(case.update) == expected
    assert update_clients(case.update) == {r.client for r in expected}


@pytest.mark.parametrize("name", CASES)
def test_every_truncation_of_a_yjs_update_is_refused(name: str) -> None:
    update = yjs_updates()[name].update
    for cut in range(len(update)):
        with pytest.raises(Malformed):
            read_update(update[:cut])
    with pytest.raises(Malformed):
        read_update(update + b"\x00")


@pytest.mark.parametrize(
    "name", [n for n in CASES if n not in {"xmlhook", "json", "skip", "later", "deletes-only"}]
)
def test_pycrdt_agrees_on_the_clocks_of_updates_it_can_apply(name: str) -> None:
    """An independent check of the expected ranges: a document that applied the update
    whole has exactly those clocks in its state vector."""
    case = yjs_updates()[name]
    doc = Doc()
    doc.apply_update(case.update)
    assert decode_state_vector(doc.get_state()) == {c: end for c, _, end in case.ranges}


def test_the_any_fixture_carries_integers_floats_bigints_and_nesting() -> None:
    doc = Doc()
    doc.apply_update(yjs_updates()["any"].update)
    values = doc.get("values", type=Map).to_py()
    assert values is not None
    assert values["bigint"] == 2**60 and values["negative_bigint"] == -(2**62)
    assert values["small"] == 42 and values["negative"] == -7
    assert values["int31"] == 2**31 - 1 and values["large"] == 2**53 - 1
    assert values["float32"] == 1.5 and values["float64"] == 0.1
    assert values["nested"] == {"a": [1, 2.5, {"b": "c", "d": [True, None]}], "e": {}}
    assert bytes(values["bytes_in_any"]["raw"]) == b"\x09\x08\x07"
    assert (values["yes"], values["no"], values["nothing"]) == (True, False, None)
    assert doc.get("list", type=Array).to_py() == [1, "two", {"three": 3}, [4], -5.25]


@pytest.mark.parametrize("name", [n for n in CASES if yjs_updates()[n].ranges])
def test_flipped_bytes_are_refused_or_read_consistently(name: str) -> None:
    """Random corruptions of real updates: Malformed, or ranges a document that applies
    the same bytes agrees with (every client it integrated is named, with no more)."""
    update = yjs_updates()[name].update
    rng = random.Random(name)
    accepted = refused = 0
    for _ in range(200):
        data = bytearray(update)
        data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            ranges = read_update(bytes(data))
        except Malformed:
            refused += 1
            continue
        accepted += 1
        assert all(r.end > r.start >= 0 for r in ranges)
        doc = Doc()
        try:
            doc.apply_update(bytes(data))
        except Exception:
            continue
        integrated = {c for c, clock in decode_state_vector(doc.get_state()).items() if clock}
        assert integrated <= {r.client for r in ranges}, bytes(data).hex()
    # The corruptions reach both outcomes, so neither branch above is dead.
    assert accepted > 0 and refused > 0
