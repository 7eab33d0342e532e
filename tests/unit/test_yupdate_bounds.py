"""The structural validator: depth across updates, roots per document kind, sizes, counts,
truncations. Hostile updates are built byte by byte (tests/yhostile.py), never by pycrdt."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from collab.docs import ITEM_ROOTS, MEASURE_ROOTS, SECTION_ROOTS
from collab.rooms import screen
from collab.store import StoredDoc
from collab.yproto import Malformed
from collab.yupdate import (
    CLIENT,
    STORED,
    UNKNOWN,
    ClientRange,
    DepthIndex,
    Limits,
    read_update,
    update_clients,
    validate,
)
from tests import yhostile as h
from tests.budget import examples

C = 77


def ok(update: bytes, index: DepthIndex | None = None, **kw: object) -> int:
    index = DepthIndex() if index is None else index
    checked = validate(update, index, roots=kw.pop("roots", SECTION_ROOTS), **kw)  # type: ignore[arg-type]
    checked.record(index)
    return checked.deepest


def refused(update: bytes, index: DepthIndex | None = None, **kw: object) -> str:
    with pytest.raises(Malformed) as exc:
        ok(update, index, **kw)
    return str(exc.value)


def test_the_40000_deep_chain_is_refused_as_one_update_and_merged_with_its_delete() -> None:
    deep = h.chain(40_000, C)
    merged = h.chain_and_delete(40_000, C)
    assert "too many structs" in refused(deep)
    assert "too many structs" in refused(merged)
    # Even where many structs are allowed (stored snapshots), the depth refuses it.
    assert "nested deeper than 16" in refused(deep, limits=STORED)
    assert "nested deeper than 16" in refused(merged, limits=STORED)
    # Split under the struct limit, the first piece already is too deep.
    assert "nested deeper than 16" in refused(h.chain(9_000, C))


def test_sixteen_levels_are_allowed_and_seventeen_are_not() -> None:
    assert ok(h.chain(16, C)) == 16
    assert "deeper than 16" in refused(h.chain(17, C))
    for type_ref in (h.TYPE_ARRAY, h.TYPE_TEXT):
        assert ok(h.chain(16, C, type_ref=type_ref)) == 16
        refused(h.chain(17, C, type_ref=type_ref))


def test_depth_counts_what_the_document_already_has() -> None:
    index = DepthIndex()
    assert ok(h.chain(10, C), index) == 10
    # Continue below the innermost map (C, 9): six more levels fit, seven do not.
    more = h.chain_items(7, C, clock=10, parent=(C, 9))
    assert "deeper than 16" in refused(h.update([(C, 10, more)]), index)
    assert ok(h.update([(C, 10, more[:6])]), index) == 16
    # Another client, later: a map inside the deepest one is level 17.
    assert "deeper than 16" in refused(h.chain(1, 5, parent=(C, 15)), index)


def test_depth_through_neighbours_counts_the_parent_of_the_origin() -> None:
    index = DepthIndex()
    ok(h.chain(16, C), index)
    # A map right after the deepest one (origin (C, 15)) is its sibling: level 16, fine.
    sibling = h.type_(h.TYPE_MAP, origin=(C, 15))
    assert ok(h.update([(C, 16, [sibling])]), index) == 16
    # Text in the deepest map, then a map placed after a character of that text.
    text = h.type_(h.TYPE_TEXT, parent=(C, 15), key="t")
    assert "deeper than 16" in refused(h.update([(C, 17, [text])]), index)
    chars = h.string("abc", parent=(C, 14), key="s")  # characters in the level-15 map
    ok(h.update([(C, 17, [chars])]), index)
    inside = h.type_(h.TYPE_MAP, origin=(C, 18))  # next to a character: in that map
    assert ok(h.update([(C, 20, [inside])]), index) == 16
    # The right origin counts too, even if the origin claims the root.
    liar = h.type_(h.TYPE_MAP, origin=(C, 0), right=(C, 20))
    assert ok(h.update([(C, 21, [liar])]), index) == 16
    assert "deeper than 16" in refused(
        h.update([(C, 22, [h.type_(h.TYPE_MAP, parent=(C, 21), key="x")])]), index
    )
    # Next to a level-1 map, a map is at level 1 again.
    assert ok(h.update([(C, 22, [h.type_(h.TYPE_MAP, origin=(C, 0))])]), index) == 1


def test_a_shared_type_below_something_unknown_is_refused_but_text_is_not() -> None:
    index = DepthIndex()
    # (9, 0) is neither stored nor in the update: its depth cannot be known yet.
    assert "does not have" in refused(h.chain(1, C, parent=(9, 0)), index)
    assert "does not have" in refused(h.update([(C, 0, [h.type_(origin=(9, 0))])]), index)
    ok(h.update([(C, 0, [h.string("x", origin=(9, 0))])]), index)
    # ...and what hangs off that character inherits the unknown.
    assert "does not have" in refused(h.update([(C, 1, [h.type_(origin=(C, 0))])]), index)
    # Garbage-collected ranges are unknown too.
    gc = h.Item(0, b"")
    gc_update = h.vu(1) + h.vu(1) + h.vu(C) + h.vu(5) + bytes([0]) + h.vu(3) + h.vu(0)
    ok(gc_update, index)
    assert "does not have" in refused(h.chain(1, C, clock=8, parent=(C, 6)), index)
    assert gc.ref == 0


def test_references_inside_one_update_may_point_forward_across_clients() -> None:
    # Client 9's map is inside client 5's; the encoder writes higher clients first.
    inner = h.type_(h.TYPE_MAP, parent=(5, 0), key="k")
    outer = h.type_(h.TYPE_MAP, root="goals")
    assert ok(h.update([(9, 0, [inner]), (5, 0, [outer])])) == 2
    # A cycle is malformed.
    a = h.type_(h.TYPE_MAP, parent=(5, 0), key="k")
    b = h.type_(h.TYPE_MAP, parent=(9, 0), key="k")
    assert "cycle" in refused(h.update([(9, 0, [a]), (5, 0, [b])]))


def test_repeating_known_items_cannot_lower_their_depth() -> None:
    index = DepthIndex()
    ok(h.chain(15, C), index)
    ok(h.update([(C, 15, [h.string("abcd", parent=(C, 14), key="s")])]), index)  # level 15
    # The same characters again plus a tail, now claiming to sit in the root: Yrs keeps
    # the stored ones and the tail follows them, so the tail is still at level 15.
    ok(h.update([(C, 15, [h.string("abcdefgh", root="goals")])]), index)
    assert index.lookup(C, 21) == 15
    assert "deeper than 16" in refused(
        h.update([(C, 23, [h.type_(origin=(C, 21)), h.type_(parent=(C, 23), key="k")])]),
        index,
    )


@pytest.mark.parametrize(
    ("roots", "allowed", "other"),
    [
        (SECTION_ROOTS, ["situation", "resources", "goals", "measures"], "notes"),
        (MEASURE_ROOTS, ["description", "progress"], "goals"),
        (ITEM_ROOTS, ["notes"], "situation"),
    ],
)
def test_each_kind_of_document_has_only_its_own_roots(
    roots: frozenset[str], allowed: list[str], other: str
) -> None:
    for name in allowed:
        ok(h.update([(C, 0, [h.string("x", root=name)])]), roots=roots)
    assert "no 'meta'" in refused(h.update([(C, 0, [h.string("x", root="meta")])]), roots=roots)
    refused(h.update([(C, 0, [h.string("x", root=other)])]), roots=roots)


def test_sizes_and_counts_are_bounded() -> None:
    assert "string too long" in refused(
        h.update([(C, 0, [h.string("x" * (256 * 1024 + 1), root="situation")])])
    )
    ok(h.update([(C, 0, [h.string("x" * (256 * 1024), root="situation")])]))
    assert "binary" in refused(h.update([(C, 0, [h.binary(64 * 1024 + 1, root="goals")])]))
    ok(h.update([(C, 0, [h.binary(64 * 1024, root="goals")])]))
    assert "nested too deeply" in refused(
        h.update([(C, 0, [h.any_values([h.any_nested(9)], root="goals")])])
    )
    ok(h.update([(C, 0, [h.any_values([h.any_nested(8)], root="goals")])]))
    many = [h.any_int(1)] * 10_001
    assert "too many values" in refused(h.update([(C, 0, [h.any_values(many, root="goals")])]))
    items = [h.string("x", root="situation") for _ in range(10_001)]
    assert "too many structs" in refused(h.update([(C, 0, items)]))
    ok(h.update([(C, 0, items[:10_000])]))
    clients = [(c, 0, [h.string("x", root="situation")]) for c in range(1, 66)]
    assert "too many clients" in refused(h.update(clients))
    ok(h.update(clients[:64]))
    ranges = [(i * 2, 1) for i in range(10_001)]
    assert "delete set" in refused(h.update(deletes=[(C, ranges)]))
    ok(h.update(deletes=[(C, ranges[:10_000])]))
    # What stored snapshots may hold is larger, but still bounded in depth.
    ok(h.update([(C, 0, items)]), limits=STORED)


def test_type_kinds_and_subdocuments_planrom_does_not_use_are_refused() -> None:
    assert "not used" in refused(h.chain(1, C, type_ref=h.TYPE_XML_FRAGMENT))
    assert "subdocuments" in refused(h.update([(C, 0, [h.doc_content(root="goals")])]))


def test_every_truncation_of_an_update_is_refused() -> None:
    whole = h.update(
        [(C, 0, [h.type_(root="goals"), h.string("hei", parent=(C, 0), key="t")])],
        [(C, [(0, 1)])],
    )
    ok(whole)
    for cut in range(len(whole)):
        with pytest.raises(Malformed):
            validate(whole[:cut], DepthIndex(), roots=SECTION_ROOTS)
    with pytest.raises(Malformed):
        validate(whole + b"\x00", DepthIndex(), roots=SECTION_ROOTS)


def _section_doc() -> Doc:
    doc = Doc()
    doc.get("situation", type=Text).insert(0, "Per bor hjemme.")
    goal = Map({"id": "gaaaa", "kind": "main", "text": Text("Fullføre skolen"), "status": "active"})
    doc.get("goals", type=Array).append(goal)
    doc.get("measures", type=Array).append("maaaa")
    return doc


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.text(max_size=8)), min_size=1, max_size=20))
def test_updates_pycrdt_makes_for_plan_documents_are_accepted(
    edits: list[tuple[int, str]],
) -> None:
    doc = _section_doc()
    index = DepthIndex()
    ok(doc.get_update(), index)
    for kind, text in edits:
        before = doc.get_state()
        goals = doc.get("goals", type=Array)
        if kind == 0:
            doc.get("situation", type=Text).insert(0, text)
        elif kind == 1:
            goals.append(Map({"id": "gbbbb", "text": Text(text), "target": None}))
        elif kind == 2 and len(goals):
            goal = goals[len(goals) - 1]
            goal["text"].insert(0, text)
            goal["status"] = "reached"
        elif kind == 3 and len(goals) > 1:
            del goals[0]
        ok(doc.get_update(before), index)
    # And the whole state, as a snapshot, from scratch.
    ok(doc.get_update(), DepthIndex(), limits=STORED)


def test_screening_stored_rows_sets_aside_the_poisoned_ones_only() -> None:
    good = _section_doc().get_update()
    rows = [(1, good), (2, h.chain(40_000, C)), (3, h.delete(C)), (4, h.chain(16, 5))]
    screened = screen("plan:paaaa:section:saaaa", StoredDoc(None, rows))
    assert [seq for seq, _ in screened.bad] == [2]
    assert [seq for seq, _ in screened.good] == [1, 3, 4]
    assert screened.size == len(good) + len(rows[2][1]) + len(rows[3][1])
    poisoned_snapshot = screen("plan:paaaa:section:saaaa", StoredDoc(h.chain(20, C), []))
    assert poisoned_snapshot.snapshot_error is not None


def test_the_index_keeps_runs_and_only_grows() -> None:
    index = DepthIndex()
    index.add(1, 0, 10, 2)
    index.add(1, 10, 20, 2)
    assert index.runs() == 1
    index.add(1, 5, 15, 7)
    assert [index.lookup(1, c) for c in (0, 4, 5, 14, 15, 19, 20)] == [2, 2, 7, 7, 2, 2, None]
    index.add(1, 0, 20, 1)  # lower values never replace higher ones
    assert index.lookup(1, 7) == 7 and index.lookup(1, 0) == 2
    index.add(1, 30, 31, UNKNOWN)
    assert index.overlap_max(1, 0, 40) == UNKNOWN
    assert index.lookup(1, 25) is None


def test_limits_are_a_value_and_the_client_profile_is_the_default() -> None:
    assert CLIENT == Limits()
    assert CLIENT.max_depth == STORED.max_depth == 16


def test_what_makes_yrs_panic_or_fail_after_storing_is_refused_before() -> None:
    # Found by the fuzzer: a client block repeated in one update (Yrs panics when the
    # document holds pending structs), and a named parent that is not a shared type.
    s = [h.string("y", root="resources")]
    assert "twice" in refused(h.update([(11, 7, s), (12, 8, s), (11, 9, s)]))
    index = DepthIndex()
    ok(h.update([(C, 0, [h.any_values([h.any_int(1)], root="goals")])]), index)
    assert "not a shared type" in refused(h.chain(1, 5, parent=(C, 0)), index)
    assert "not a shared type" in refused(
        h.update([(5, 0, [h.string("a", root="situation"), h.string("b", parent=(5, 0))])])
    )
    # A parent the document does not have is Yrs' to keep pending (text only).
    ok(h.update([(5, 0, [h.string("b", parent=(9, 9), key="k")])]))


def test_no_clock_reaches_two_to_the_32_where_yrs_would_wrap_it() -> None:
    """Yrs reads clocks as 32-bit numbers: an id at 2**32 + n is the item at n to Yrs. The
    hostile tester nested maps under such ids, each 'shallow' to the reader and deep to
    Yrs, past any limit. Every place a clock is written is refused at 2**32."""
    wrap = 1 << 32
    index = DepthIndex()
    ok(h.chain(16, C), index)  # sixteen levels: the deepest map is (C, 15)
    # A map at clock 2**32 + 15 (Yrs: a duplicate of (C, 15)) ...
    assert "clock" in refused(h.update([(C, wrap + 15, [h.type_(root="goals")])]), index)
    # ... a map whose parent is named at 2**32 + 15 (Yrs: below the deepest map) ...
    below = h.update([(C, 16, [h.type_(parent=(C, wrap + 15), key="k")])])
    assert "clock" in refused(below, index)
    # ... a neighbour there, a run of content that ends there, or a delete there.
    after = h.update([(C, 16, [h.string("x", origin=(C, wrap + 15))])])
    assert "clock" in refused(after, index)
    long_gc = h.update([(C, 16, [h.Item(1, h.vu(wrap), length=wrap, root="situation")])])
    assert "clock" in refused(long_gc, index)
    assert "clock" in refused(h.delete(C, wrap - 1, 1), index)
    assert "clock" in refused(h.delete(C, wrap + 15, 1), index)
    # The unlimited reader (the foreign-client check) refuses them too.
    with pytest.raises(Malformed):
        update_clients(below)
    # Just below the limit is an ordinary clock.
    ok(h.update([(C, wrap - 2, [h.string("x", root="situation")])]))
    ok(h.delete(C, wrap - 2, 1))


def test_the_values_of_one_update_are_bounded_in_all() -> None:
    """Each struct within its own limit, but many of them: bounded per update, so the
    reader's work per message is bounded (the hostile tester stalled the loop with 50
    structs of 10,000 values each)."""
    many = [h.any_int(1)] * 10_000
    two = h.update([(C, 0, [h.any_values(many, root="goals")] * 2)])
    ok(two)
    three = h.update([(C, 0, [h.any_values(many, root="goals")] * 3)])
    assert "too many values in one update" in refused(three)
    with pytest.raises(Malformed, match="too many values in one update"):
        update_clients(three, CLIENT)
    # Nested values count too.
    nested = [h.any_nested(2)] * 7_000  # an array holding an array: 3 values each
    assert "too many values in one update" in refused(
        h.update([(C, 0, [h.any_values(nested, root="goals")])])
    )
    ok(three, limits=STORED)


# Edges found by mutation testing (docs/testing.md) ------------------------------------------


def test_the_reader_reads_integers_exactly_as_long_as_yrs_does() -> None:
    """lib0 integers of up to 11 bytes; a longer one Yrs cannot decode, so the reader
    refuses it too (anything it accepted would be stored and then fail to load)."""
    for size in range(1, 14):
        raw = bytes([0x81, *([0x80] * (size - 2)), 0x00]) if size > 1 else b"\x01"
        update = h.update([(5, 0, [h.any_values([bytes([125]) + raw], root="list")])])
        doc = Doc()
        try:
            doc.apply_update(update)
            yrs_reads = True
        except ValueError:
            yrs_reads = False
        try:
            read_update(update)
            we_read = True
        except Malformed:
            we_read = False
        assert we_read is yrs_reads is (size <= 11), size


def test_a_document_of_any_root_is_checked_when_roots_are_not_limited() -> None:
    index = DepthIndex()
    checked = validate(h.chain(2, C, root="anything"), index, roots=None)
    assert checked.deepest == 2 and checked.ranges == [ClientRange(C, 0, 2)]
    text = validate(h.update([(C, 0, [h.string("abc", root="notes")])]), index, roots=None)
    assert text.deepest == 0 and text.types == []


def test_garbage_collected_items_have_an_unknown_parent_depth() -> None:
    gc_update = h.vu(1) + h.vu(1) + h.vu(C) + h.vu(5) + bytes([0]) + h.vu(3) + h.vu(0)
    index = DepthIndex()
    checked = validate(gc_update, index, roots=None)
    assert checked.runs == [(C, 5, 8, UNKNOWN)]
    checked.record(index)
    assert [index.lookup(C, c) for c in (4, 5, 7, 8)] == [None, UNKNOWN, UNKNOWN, None]


def test_a_cycle_further_along_a_chain_of_references_is_malformed() -> None:
    """X (the first struct) sits in A, A in B and B in A: the cycle does not pass X."""
    x = h.type_(h.TYPE_MAP, parent=(5, 0), key="k")
    a = h.type_(h.TYPE_MAP, parent=(7, 0), key="k")
    b = h.type_(h.TYPE_MAP, parent=(5, 0), key="k")
    assert "cycle" in refused(h.update([(9, 0, [x]), (5, 0, [a]), (7, 0, [b])]), roots=None)


def test_every_struct_is_judged_after_one_resolved_early() -> None:
    """The first struct refers forward to the second, which is resolved first; the third
    is still judged: a map inside the deepest one of the document is level 17."""
    index = DepthIndex()
    ok(h.chain(16, C), index)
    inner = h.type_(h.TYPE_MAP, parent=(5, 0), key="k")
    outer = h.type_(h.TYPE_MAP, root="goals")
    too_deep = h.type_(h.TYPE_MAP, parent=(C, 15), key="k")
    assert "deeper than 16" in refused(
        h.update([(9, 0, [inner]), (5, 0, [outer, too_deep])]), index
    )


def test_a_reference_just_past_a_struct_of_the_update_is_looked_up_in_the_document() -> None:
    """The update repeats the document's first map (5, 0) and puts a map in its second
    one (5, 1): (5, 1) is not in the update, the document knows it as a map."""
    index = DepthIndex()
    ok(h.update([(5, 0, [h.type_(root="goals"), h.type_(root="goals")])]), index)
    again = h.update([(9, 0, [h.type_(parent=(5, 1), key="k")]), (5, 0, [h.type_(root="goals")])])
    assert ok(again, index) == 2


@settings(max_examples=examples(200), deadline=None)
# A run that starts where the range ends is outside it; a gap between runs stays a gap.
@example(adds=[(1, 0, 2, 1), (1, 2, 2, 5)], start=0, length=2)
@example(adds=[(1, 0, 2, 4), (1, 6, 2, 4), (1, 4, 1, 4)], start=2, length=2)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 2]),
            st.integers(0, 30),
            st.integers(1, 8),
            st.integers(0, 5),
        ),
        max_size=12,
    ),
    st.integers(0, 40),
    st.integers(1, 10),
)
def test_the_index_agrees_with_a_clock_by_clock_model(
    adds: list[tuple[int, int, int, int]], start: int, length: int
) -> None:
    """Runs are an optimisation: every lookup and overlap equals a map of each clock to
    the largest value recorded there (values only grow)."""
    index = DepthIndex()
    model: dict[tuple[int, int], int] = {}
    for client, first, size, value in adds:
        index.add(client, first, first + size, value)
        for clock in range(first, first + size):
            model[client, clock] = max(model.get((client, clock), value), value)
    for client in (1, 2, 3):
        for clock in range(45):
            assert index.lookup(client, clock) == model.get((client, clock)), (client, clock)
        inside = [model[client, c] for c in range(start, start + length) if (client, c) in model]
        assert index.overlap_max(client, start, start + length) == (max(inside) if inside else None)
    runs = {(c, k, v) for (c, k), v in model.items()}
    assert index.runs() <= len(runs)


def test_the_clock_limit_is_exact_for_a_start_and_for_an_end() -> None:
    wrap = 1 << 32
    assert "clock" in refused(h.update([(C, wrap, [h.string("x", root="situation")])]))
    assert "clock" in refused(h.update([(C, wrap - 1, [h.string("x", root="situation")])]))


def _gc(length: int) -> bytes:
    return bytes([0]) + h.vu(length)


def _block(client: int, clock: int, structs: list[bytes]) -> bytes:
    return h.vu(len(structs)) + h.vu(client) + h.vu(clock) + b"".join(structs)


def test_empty_structs_and_client_blocks_without_structs_are_malformed() -> None:
    assert "empty struct" in refused(h.vu(1) + _block(C, 0, [_gc(0)]) + h.vu(0), roots=None)
    assert "struct count" in refused(h.vu(1) + _block(C, 0, []) + h.vu(0), roots=None)


def test_the_struct_limit_counts_every_client_together() -> None:
    half = [h.string("x", root="situation") for _ in range(CLIENT.max_structs // 2 + 1)]
    assert "too many structs" in refused(h.update([(5, 0, half), (C, 0, half)]))
    ok(h.update([(5, 0, half)]))


def test_an_item_may_sit_in_a_garbage_collected_parent_of_the_same_update() -> None:
    child = h.string("x", parent=(C, 0)).encode()
    ok(h.vu(1) + _block(C, 0, [_gc(1), child]) + h.vu(0), roots=None)


def test_a_skip_holds_nothing_the_document_then_knows() -> None:
    """Clocks 1-5 are skipped: the update says nothing about them, so the index records
    only the two characters it carries."""
    first = h.string("a", root="situation").encode()
    last = h.string("b", root="situation").encode()
    skip = bytes([10]) + h.vu(5)
    checked = validate(
        h.vu(1) + _block(C, 0, [first, skip, last]) + h.vu(0), DepthIndex(), roots=None
    )
    assert checked.runs == [(C, 0, 1, 0), (C, 6, 7, 0)]


def test_one_struct_holds_up_to_the_limit_of_values() -> None:
    values = [h.any_int(1)] * CLIENT.max_values
    ok(h.update([(C, 0, [h.any_values(values, root="situation")])]))
    too_many = h.update([(C, 0, [h.any_values([*values, h.any_int(1)], root="situation")])])
    assert "too many values" in refused(too_many)
    json_values = [h.vs("1")] * CLIENT.max_values
    as_json = h.Item(
        2, h.vu(len(json_values)) + b"".join(json_values), len(json_values), root="situation"
    )
    ok(h.update([(C, 0, [as_json])]))
    more = h.Item(
        2,
        h.vu(len(json_values) + 1) + b"".join(json_values) + h.vs("1"),
        len(json_values) + 1,
        root="situation",
    )
    assert "too many values" in refused(h.update([(C, 0, [more])]))
