"""Reading and bounding a Yjs update (format v1) without applying it.

The server must refuse any update that contains items (structs) of a clientID that is not
bound to the sender. Yrs' own ``get_state(update)`` is not enough for that: it reports only
what the update can integrate on its own, so an update whose first struct does not start
at clock 0 (every update after a client's first) looks empty. This module walks every
struct of the update and returns each client's clock range; anything that is not a
complete, well-formed v1 update raises :class:`Malformed`.

It is also the structural validator (ADR 0012): Yrs recurses through nested shared types
when it deletes them, encodes them to text or integrates a delete in the same update, and
a chain of a few ten thousand nested maps overflows the native stack (SIGSEGV). Nothing
may reach pycrdt unless :func:`validate` accepted it: nesting depth of shared types
(counted across updates through a :class:`DepthIndex`), struct, client, string, binary,
value and delete-set counts, type kinds and the root names a document may have.

Layout (yjs ``encoding.js``/``UpdateEncoderV1``): ``varuint clients``; per client
``varuint structs, varuint client, varuint clock`` and the structs; then the delete set.
A struct is ``uint8 info``: ref ``info & 31`` (0 GC, 10 Skip, else Item content), with
origin (bit 8), right origin (bit 7) and parent sub (bit 6) flags.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from collab.yproto import Malformed

MAX_DEPTH = 64  # lib0 value nesting the plain reader accepts

# A parent depth nobody can vouch for (GC'd content, ids neither stored nor in the update):
# larger than any limit, so a shared type placed there is refused.
UNKNOWN = 1 << 30

# Yrs keeps clocks as 32-bit numbers and silently drops higher bits when it reads a
# larger one, so an id at clock 2**32 + n would be the item at n to Yrs but a different
# one to this reader. No clock, clock + length or id may reach 2**32.
CLOCK_LIMIT = 1 << 32

TYPE_ARRAY, TYPE_MAP, TYPE_TEXT = 0, 1, 2


@dataclass(frozen=True)
class Limits:
    """What one update may hold. ``CLIENT`` bounds what a participant sends; ``STORED``
    is the same check with room for snapshots (many structs), used when loading."""

    max_depth: int = 16  # shared types inside shared types (root = 0, its children = 1)
    max_structs: int = 10_000
    max_clients: int = 64
    max_string_bytes: int = 256 * 1024  # one string (text run, key, value)
    max_binary_bytes: int = 64 * 1024
    max_any_depth: int = 8  # nesting of JSON-like values in maps and arrays
    max_values: int = 10_000  # values in one ContentAny/ContentJSON struct
    max_total_values: int = 20_000  # values in all the structs of one update
    max_delete_ranges: int = 10_000
    type_refs: frozenset[int] = frozenset({TYPE_ARRAY, TYPE_MAP, TYPE_TEXT})


CLIENT = Limits()
STORED = Limits(
    max_structs=2_000_000,
    max_clients=100_000,
    max_string_bytes=16 * 1024 * 1024,
    max_binary_bytes=16 * 1024 * 1024,
    max_values=2_000_000,
    max_total_values=20_000_000,
    max_delete_ranges=2_000_000,
)


@dataclass(frozen=True)
class ClientRange:
    client: int
    start: int  # first clock the update carries for this client
    end: int  # one past the last


@dataclass(frozen=True)
class Id:
    client: int
    clock: int


@dataclass
class _Struct:
    client: int
    clock: int
    length: int
    gc: bool = False
    type_ref: int | None = None  # set for ContentType items
    root: str | None = None  # parent is this root type
    parent: Id | None = None  # parent is this (type) item
    origins: tuple[Id, ...] = ()  # parent comes from these neighbours
    depth: int = -1  # resolved parent depth


@dataclass
class Parsed:
    ranges: list[ClientRange]
    structs: list[_Struct] = field(default_factory=list)
    delete_ranges: int = 0


class _Reader:
    def __init__(self, data: bytes, limits: Limits | None = None) -> None:
        self.data = data
        self.pos = 0
        self.limits = limits
        self.values = 0  # lib0 values read (ContentAny, ContentJSON and nested ones)

    def u8(self) -> int:
        if self.pos >= len(self.data):
            raise Malformed("unexpected end of update")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, n: int) -> bytes:
        if n < 0 or n > len(self.data) - self.pos:
            raise Malformed("length runs past the end of the update")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def varuint(self) -> int:
        value = 0
        shift = 0
        while True:
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise Malformed("integer too long")

    def varint(self) -> None:
        byte = self.u8()
        count = 0
        while byte & 0x80:
            byte = self.u8()
            count += 1
            if count > 10:
                raise Malformed("integer too long")

    def string(self) -> str:
        n = self.varuint()
        if self.limits is not None and n > self.limits.max_string_bytes:
            raise Malformed("string too long")
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("text is not UTF-8") from None

    def binary(self) -> None:
        n = self.varuint()
        if self.limits is not None and n > self.limits.max_binary_bytes:
            raise Malformed("binary value too long")
        self.take(n)

    def any_(self) -> None:
        """Skip one lib0 ``writeAny`` value, iteratively (no recursion on hostile input)."""
        max_depth = self.limits.max_any_depth if self.limits is not None else MAX_DEPTH
        # Each entry: values still to read at that level, and whether they are keyed.
        stack: list[list[int]] = [[1, 0]]
        while stack:
            top = stack[-1]
            if top[0] == 0:
                stack.pop()
                continue
            top[0] -= 1
            if top[1]:
                self.string()
            tag = self.u8()
            if tag in (127, 126, 121, 120):  # undefined, null, false, true
                continue
            if tag == 125:  # integer
                self.varint()
            elif tag == 124:  # float32
                self.take(4)
            elif tag in (123, 122):  # float64, bigint64
                self.take(8)
            elif tag == 119:  # string
                self.string()
            elif tag in (118, 117):  # object, array
                if len(stack) > max_depth:
                    raise Malformed("value nested too deeply")
                count = self._count()
                self.count_values(count)
                stack.append([count, 1 if tag == 118 else 0])
            elif tag == 116:  # Uint8Array
                self.binary()
            else:
                raise Malformed(f"unknown value tag {tag}")

    def count_values(self, n: int) -> None:
        """Values read so far in this update, bounded (nested values count once more)."""
        self.values += n
        if self.limits is not None and self.values > self.limits.max_total_values:
            raise Malformed("too many values in one update")

    def _count(self) -> int:
        count = self.varuint()
        if count > len(self.data) - self.pos:
            raise Malformed("count runs past the end of the update")
        return count

    def clock(self) -> int:
        value = self.varuint()
        if value >= CLOCK_LIMIT:
            raise Malformed("clock out of range")
        return value

    def id_(self) -> Id:
        return Id(self.varuint(), self.clock())


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _content(r: _Reader, ref: int, struct: _Struct) -> int:
    """Skip an item's content; return its length in clock units."""
    limits = r.limits
    if ref == 1:  # ContentDeleted
        return r.varuint()
    if ref == 2:  # ContentJSON
        n = r._count()
        if limits is not None and n > limits.max_values:
            raise Malformed("too many values in one struct")
        r.count_values(n)
        for _ in range(n):
            r.string()
        return n
    if ref == 3:  # ContentBinary
        r.binary()
        return 1
    if ref == 4:  # ContentString
        return _utf16_length(r.string())
    if ref == 5:  # ContentEmbed
        r.string()
        return 1
    if ref == 6:  # ContentFormat
        r.string()
        r.string()
        return 1
    if ref == 7:  # ContentType
        type_ref = r.varuint()
        if type_ref in (3, 5):  # XmlElement, XmlHook carry a name
            r.string()
        elif type_ref > 6:
            raise Malformed(f"unknown type ref {type_ref}")
        if limits is not None and type_ref not in limits.type_refs:
            raise Malformed(f"shared type {type_ref} is not used by Planrom documents")
        struct.type_ref = type_ref
        return 1
    if ref == 8:  # ContentAny
        n = r._count()
        if limits is not None and n > limits.max_values:
            raise Malformed("too many values in one struct")
        r.count_values(n)
        for _ in range(n):
            r.any_()
        return n
    if ref == 9:  # ContentDoc
        if limits is not None:
            raise Malformed("subdocuments are not used by Planrom documents")
        r.string()
        r.any_()
        return 1
    raise Malformed(f"unknown content ref {ref}")


def _parse(update: bytes, limits: Limits | None) -> Parsed:
    r = _Reader(update, limits)
    parsed = Parsed([])
    keep = limits is not None
    clients = r._count()
    if limits is not None and clients > limits.max_clients:
        raise Malformed("too many clients in one update")
    total = 0
    seen: set[int] = set()
    for _ in range(clients):
        structs = r.varuint()
        if structs == 0 or structs > len(update):
            raise Malformed("bad struct count")
        total += structs
        if limits is not None and total > limits.max_structs:
            raise Malformed("too many structs in one update")
        client = r.varuint()
        if limits is not None:
            # Yjs writes each client once; a repeated one makes Yrs panic on some states.
            if client in seen:
                raise Malformed("a client appears twice in the update")
            seen.add(client)
        start = clock = r.clock()
        for _ in range(structs):
            info = r.u8()
            ref = info & 0b11111
            struct = _Struct(client, clock, 0)
            if ref == 0 or ref == 10:  # GC or Skip
                length = r.varuint()
                struct.gc = ref == 0
            else:
                origins = []
                if info & 0b10000000:
                    origins.append(r.id_())  # origin id
                if info & 0b01000000:
                    origins.append(r.id_())  # right origin id
                struct.origins = tuple(origins)
                if not info & 0b11000000:
                    if r.varuint() == 1:  # parent is a root type, by name
                        struct.root = r.string()
                    else:  # parent is an item, by id
                        struct.parent = r.id_()
                    if info & 0b00100000:
                        r.string()  # parent sub (map key)
                length = _content(r, ref, struct)
            if length <= 0:
                raise Malformed("empty struct")
            if clock + length >= CLOCK_LIMIT:
                raise Malformed("clock out of range")
            if keep and ref != 10:  # a Skip holds nothing
                struct.length = length
                parsed.structs.append(struct)
            clock += length
        parsed.ranges.append(ClientRange(client, start, clock))
    # The delete set: varuint clients × (client, varuint n × (clock, len)).
    ranges = 0
    for _ in range(r._count()):
        r.varuint()
        for _ in range(r._count()):
            first, length = r.clock(), r.varuint()
            if first + length >= CLOCK_LIMIT:
                raise Malformed("clock out of range")
            ranges += 1
            if limits is not None and ranges > limits.max_delete_ranges:
                raise Malformed("delete set too large")
    parsed.delete_ranges = ranges
    if r.pos != len(update):
        raise Malformed("trailing bytes after the update")
    return parsed


def read_update(update: bytes) -> list[ClientRange]:
    """Every client whose structs the update carries, with their clock ranges."""
    return _parse(update, None).ranges


def update_clients(update: bytes, limits: Limits | None = None) -> set[int]:
    """The clientIDs whose items the update carries (raises Malformed). With ``limits``
    the read stops at the first limit passed, so a hostile update costs little."""
    return {c.client for c in _parse(update, limits).ranges}


class DepthIndex:
    """For every item a document holds, an upper bound of its parent type's depth.

    Kept per client as sorted, disjoint clock runs ``[start, end)`` with one value each.
    Values only grow (merging takes the maximum), so the index may overstate a depth but
    never understates it, whatever order updates, duplicates and pending structs come in.
    """

    def __init__(self) -> None:
        self._starts: dict[int, list[int]] = {}
        self._ends: dict[int, list[int]] = {}
        self._values: dict[int, list[int]] = {}
        self.types: set[tuple[int, int]] = set()  # ids of the shared types (ContentType)

    def lookup(self, client: int, clock: int) -> int | None:
        starts = self._starts.get(client)
        if not starts:
            return None
        i = bisect.bisect_right(starts, clock) - 1
        if i >= 0 and clock < self._ends[client][i]:
            return self._values[client][i]
        return None

    def overlap_max(self, client: int, start: int, end: int) -> int | None:
        """The largest value recorded anywhere in ``[start, end)``."""
        starts = self._starts.get(client)
        if not starts:
            return None
        ends, values = self._ends[client], self._values[client]
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        best: int | None = None
        while i < len(starts) and starts[i] < end:
            if ends[i] > start:
                best = values[i] if best is None else max(best, values[i])
            i += 1
        return best

    def add(self, client: int, start: int, end: int, value: int) -> None:
        starts = self._starts.setdefault(client, [])
        ends = self._ends.setdefault(client, [])
        values = self._values.setdefault(client, [])
        if not starts or ends[-1] <= start:
            # The common case: appending after everything known of this client.
            if starts and ends[-1] == start and values[-1] == value:
                ends[-1] = end
            else:
                starts.append(start)
                ends.append(end)
                values.append(value)
            return
        # General case: rebuild the runs that touch [start, end), taking maxima.
        lo = max(bisect.bisect_right(starts, start) - 1, 0)
        hi = bisect.bisect_left(starts, end)
        old = list(zip(starts[lo:hi], ends[lo:hi], values[lo:hi], strict=True))
        cuts = {start, end}
        for s, e, _ in old:
            cuts.add(s)
            cuts.add(e)
        points = sorted(cuts)
        pieces: list[tuple[int, int, int]] = []
        for a, b in itertools.pairwise(points):
            covered = [v for s, e, v in old if s <= a and b <= e]
            inside = start <= a and b <= end
            if not covered and not inside:
                continue
            v = max(covered + ([value] if inside else []))
            if pieces and pieces[-1][1] == a and pieces[-1][2] == v:
                pieces[-1] = (pieces[-1][0], b, v)
            else:
                pieces.append((a, b, v))
        starts[lo:hi] = [p[0] for p in pieces]
        ends[lo:hi] = [p[1] for p in pieces]
        values[lo:hi] = [p[2] for p in pieces]

    def runs(self) -> int:
        return sum(len(s) for s in self._starts.values())


@dataclass(frozen=True)
class Checked:
    """An update :func:`validate` accepted: its runs for the room's :class:`DepthIndex`."""

    ranges: list[ClientRange]
    runs: list[tuple[int, int, int, int]]  # (client, start, end, parent depth)
    types: list[tuple[int, int]]  # ids of the shared types it creates
    deepest: int  # the deepest shared type it creates (0: none)

    def record(self, index: DepthIndex) -> None:
        for client, start, end, value in self.runs:
            index.add(client, start, end, value)
        index.types.update(self.types)


def validate(
    update: bytes,
    index: DepthIndex,
    *,
    roots: Iterable[str] | None,
    limits: Limits = CLIENT,
) -> Checked:
    """Check an update against ``limits`` without applying it; raises :class:`Malformed`.

    ``index`` holds what the document already has (not changed here: call
    ``Checked.record``). ``roots`` are the root type names the document may have (None:
    any). The depth of every shared type the update creates is computed from its parent,
    which is named (a root, an item) or inherited from its neighbours (origin, right
    origin). A parent known neither to the document nor to the update is UNKNOWN, so a
    shared type below it is refused: its real depth would only be known later.
    """
    parsed = _parse(update, limits)
    allowed = None if roots is None else frozenset(roots)
    structs = parsed.structs
    # Where each client's structs of this update sit, to resolve references inside it.
    by_client: dict[int, tuple[list[int], list[int]]] = {}
    for i, s in enumerate(structs):
        clocks, idx = by_client.setdefault(s.client, ([], []))
        clocks.append(s.clock)
        idx.append(i)

    def local(target: Id) -> int | None:
        found = by_client.get(target.client)
        if found is None:
            return None
        clocks, idx = found
        j = bisect.bisect_right(clocks, target.clock) - 1
        if j < 0:
            return None
        s = structs[idx[j]]
        return idx[j] if target.clock < s.clock + s.length else None

    def external(target: Id) -> int:
        known = index.lookup(target.client, target.clock)
        return UNKNOWN if known is None else known

    def check_parent(target: Id, j: int | None) -> None:
        """A named parent must be a shared type (Yrs refuses anything else after the
        update is stored). Garbage-collected and unknown ones are Yrs' to judge."""
        if j is not None:
            t = structs[j]
            ok = t.gc or (t.type_ref is not None and t.clock == target.clock)
        else:
            known = index.lookup(target.client, target.clock)
            ok = known is None or known >= UNKNOWN or (target.client, target.clock) in index.types
        if not ok:
            raise Malformed("an item's parent is not a shared type")

    # Each struct's parent depth, resolved iteratively (references may point forward,
    # across clients; a cycle is malformed).
    state = [0] * len(structs)  # 0 new, 1 on the stack, 2 done
    for first in range(len(structs)):
        if state[first] == 2:
            continue
        stack = [first]
        state[first] = 1
        while stack:
            s = structs[stack[-1]]
            if s.gc:
                deps: tuple[Id, ...] = ()
            elif s.root is not None:
                deps = ()
            elif s.parent is not None:
                deps = (s.parent,)
            else:
                deps = s.origins
            pending = None
            values: list[int] = []
            for dep in deps:
                j = local(dep)
                if s.parent is not None:
                    check_parent(dep, j)
                if j is None:
                    values.append(external(dep))
                elif state[j] == 2:
                    values.append(structs[j].depth)
                elif state[j] == 1:
                    raise Malformed("items refer to each other in a cycle")
                else:
                    pending = j
                    break
            if pending is not None:
                state[pending] = 1
                stack.append(pending)
                continue
            if s.gc:
                depth = UNKNOWN
            elif s.root is not None:
                if allowed is not None and s.root not in allowed:
                    raise Malformed(f"this document has no {s.root!r}")
                depth = 0
            elif s.parent is not None:
                depth = min(values[0] + 1, UNKNOWN)
            else:
                depth = max(values) if values else UNKNOWN
            # Structs that repeat items the document already has: Yrs keeps the first,
            # and the parent of a sliced tail comes from it; take the larger bound.
            known = index.overlap_max(s.client, s.clock, s.clock + s.length)
            if known is not None:
                depth = max(depth, known)
            s.depth = depth
            state[stack.pop()] = 2
    deepest = 0
    runs = []
    types = []
    for s in structs:
        if s.type_ref is not None:
            types.append((s.client, s.clock))
            own = s.depth + 1
            if s.depth >= UNKNOWN:
                raise Malformed("a shared type inside something the document does not have")
            if own > limits.max_depth:
                raise Malformed(f"shared types nested deeper than {limits.max_depth}")
            deepest = max(deepest, own)
        runs.append((s.client, s.clock, s.clock + s.length, s.depth))
    return Checked(parsed.ranges, runs, types, deepest)
