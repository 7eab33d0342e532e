"""A small Yjs v1 update encoder for hostile updates, byte by byte.

Tests build what no honest client would send (a 40,000-deep chain of maps, unknown roots,
absurd sizes) without pycrdt: applying or deleting such a chain in the test process
overflows Yrs' stack and kills the test run. Layout as in ``collab/yupdate.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TYPE_ARRAY, TYPE_MAP, TYPE_TEXT, TYPE_XML_FRAGMENT = 0, 1, 2, 4


def vu(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def vs(text: str) -> bytes:
    raw = text.encode()
    return vu(len(raw)) + raw


@dataclass(frozen=True)
class Item:
    """One struct: content ``ref`` and its bytes, length in clock units, and where it sits
    (a root by name, a parent item, or after/before neighbours)."""

    ref: int
    content: bytes
    length: int = 1
    root: str | None = None
    parent: tuple[int, int] | None = None
    key: str | None = None
    origin: tuple[int, int] | None = None
    right: tuple[int, int] | None = None

    def encode(self) -> bytes:
        info = self.ref
        if self.origin is not None:
            info |= 0x80
        if self.right is not None:
            info |= 0x40
        if self.key is not None:
            info |= 0x20
        out = bytearray([info])
        if self.origin is not None:
            out += vu(self.origin[0]) + vu(self.origin[1])
        if self.right is not None:
            out += vu(self.right[0]) + vu(self.right[1])
        if self.origin is None and self.right is None:
            if self.root is not None:
                out += vu(1) + vs(self.root)
            else:
                assert self.parent is not None
                out += vu(0) + vu(self.parent[0]) + vu(self.parent[1])
            if self.key is not None:
                out += vs(self.key)
        return bytes(out + self.content)


def type_(type_ref: int = TYPE_MAP, **where: object) -> Item:
    return Item(7, vu(type_ref), **where)  # type: ignore[arg-type]


def string(text: str, **where: object) -> Item:
    return Item(4, vs(text), len(text.encode("utf-16-le")) // 2, **where)  # type: ignore[arg-type]


def binary(size: int, **where: object) -> Item:
    return Item(3, vu(size) + bytes(size), **where)  # type: ignore[arg-type]


def any_values(values: Sequence[bytes], **where: object) -> Item:
    """ContentAny with already encoded lib0 values (see ``any_*`` below)."""
    return Item(8, vu(len(values)) + b"".join(values), len(values), **where)  # type: ignore[arg-type]


def any_string(text: str) -> bytes:
    return bytes([119]) + vs(text)


def any_int(n: int) -> bytes:
    return bytes([125]) + vu(n)  # non-negative, small: one sign bit in the first byte


def any_nested(depth: int) -> bytes:
    """``[[[...1...]]]``, ``depth`` arrays deep."""
    return (bytes([117]) + vu(1)) * depth + any_int(1)


def doc_content(**where: object) -> Item:
    return Item(9, vs("guid") + bytes([127]), **where)  # type: ignore[arg-type]


def struct_bytes(client: int, clock: int, items: Sequence[Item]) -> bytes:
    return vu(len(items)) + vu(client) + vu(clock) + b"".join(i.encode() for i in items)


def update(
    clients: Iterable[tuple[int, int, Sequence[Item]]] = (),
    deletes: Iterable[tuple[int, Sequence[tuple[int, int]]]] = (),
) -> bytes:
    """``clients``: (clientID, first clock, items); ``deletes``: (clientID, [(clock, len)])."""
    blocks = [struct_bytes(c, clock, items) for c, clock, items in clients if items]
    out = bytearray(vu(len(blocks)) + b"".join(blocks))
    ds = list(deletes)
    out += vu(len(ds))
    for client, ranges in ds:
        out += vu(client) + vu(len(ranges))
        for clock, length in ranges:
            out += vu(clock) + vu(length)
    return bytes(out)


def chain_items(
    depth: int,
    client: int,
    *,
    clock: int = 0,
    root: str = "goals",
    parent: tuple[int, int] | None = None,
    type_ref: int = TYPE_MAP,
) -> list[Item]:
    """``depth`` shared types, each inside the previous; the first in ``root`` (an array
    element) or in ``parent``; nested ones under key ``k`` (maps) or as elements."""
    items = []
    for k in range(depth):
        if k == 0:
            where: dict[str, object] = {"parent": parent} if parent else {"root": root}
        else:
            where = {"parent": (client, clock + k - 1)}
            if type_ref == TYPE_MAP:
                where["key"] = "k"
        items.append(type_(type_ref, **where))
    return items


def chain(depth: int, client: int, *, clock: int = 0, root: str = "goals", **kw: object) -> bytes:
    return update([(client, clock, chain_items(depth, client, clock=clock, root=root, **kw))])  # type: ignore[arg-type]


def delete(client: int, clock: int = 0, length: int = 1) -> bytes:
    return update(deletes=[(client, [(clock, length)])])


def chain_and_delete(depth: int, client: int, *, clock: int = 0, root: str = "goals") -> bytes:
    """The chain and the delete of its outermost map in one update (one message)."""
    items = chain_items(depth, client, clock=clock, root=root)
    return update([(client, clock, items)], [(client, [(clock, 1)])])
