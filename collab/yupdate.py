"""Reading a Yjs update (format v1) far enough to know whose items it carries.

The server must refuse any update that contains items (structs) of a clientID that is not
bound to the sender. Yrs' own ``get_state(update)`` is not enough for that: it reports only
what the update can integrate on its own, so an update whose first struct does not start
at clock 0 (every update after a client's first) looks empty. This module walks every
struct of the update and returns each client's clock range; anything that is not a
complete, well-formed v1 update raises :class:`Malformed`.

Layout (yjs ``encoding.js``/``UpdateEncoderV1``): ``varuint clients``; per client
``varuint structs, varuint client, varuint clock`` and the structs; then the delete set.
A struct is ``uint8 info``: ref ``info & 31`` (0 GC, 10 Skip, else Item content), with
origin (bit 8), right origin (bit 7) and parent sub (bit 6) flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from collab.yproto import Malformed

MAX_DEPTH = 64


@dataclass(frozen=True)
class ClientRange:
    client: int
    start: int  # first clock the update carries for this client
    end: int  # one past the last


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

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
        while byte & 0x80:
            byte = self.u8()

    def string(self) -> str:
        try:
            return self.take(self.varuint()).decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("text is not UTF-8") from None

    def any_(self, depth: int = 0) -> None:
        """Skip one lib0 ``writeAny`` value."""
        if depth > MAX_DEPTH:
            raise Malformed("value nested too deeply")
        tag = self.u8()
        if tag in (127, 126, 121, 120):  # undefined, null, false, true
            return
        if tag == 125:  # integer
            self.varint()
        elif tag == 124:  # float32
            self.take(4)
        elif tag in (123, 122):  # float64, bigint64
            self.take(8)
        elif tag == 119:  # string
            self.string()
        elif tag == 118:  # object
            for _ in range(self._count()):
                self.string()
                self.any_(depth + 1)
        elif tag == 117:  # array
            for _ in range(self._count()):
                self.any_(depth + 1)
        elif tag == 116:  # Uint8Array
            self.take(self.varuint())
        else:
            raise Malformed(f"unknown value tag {tag}")

    def _count(self) -> int:
        count = self.varuint()
        if count > len(self.data) - self.pos:
            raise Malformed("count runs past the end of the update")
        return count


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _content_length(r: _Reader, ref: int) -> int:
    """Skip an item's content; return its length in clock units."""
    if ref == 1:  # ContentDeleted
        return r.varuint()
    if ref == 2:  # ContentJSON
        n = r._count()
        for _ in range(n):
            r.string()
        return n
    if ref == 3:  # ContentBinary
        r.take(r.varuint())
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
        return 1
    if ref == 8:  # ContentAny
        n = r._count()
        for _ in range(n):
            r.any_()
        return n
    if ref == 9:  # ContentDoc
        r.string()
        r.any_()
        return 1
    raise Malformed(f"unknown content ref {ref}")


def read_update(update: bytes) -> list[ClientRange]:
    """Every client whose structs the update carries, with their clock ranges."""
    r = _Reader(update)
    ranges: list[ClientRange] = []
    for _ in range(r._count()):
        structs = r.varuint()
        if structs == 0 or structs > len(update):
            raise Malformed("bad struct count")
        client = r.varuint()
        start = clock = r.varuint()
        for _ in range(structs):
            info = r.u8()
            ref = info & 0b11111
            if ref == 0 or ref == 10:  # GC or Skip
                length = r.varuint()
            else:
                if info & 0b10000000:
                    r.varuint(), r.varuint()  # origin id
                if info & 0b01000000:
                    r.varuint(), r.varuint()  # right origin id
                if not info & 0b11000000:
                    if r.varuint() == 1:  # parent is a root type, by name
                        r.string()
                    else:  # parent is an item, by id
                        r.varuint(), r.varuint()
                    if info & 0b00100000:
                        r.string()  # parent sub (map key)
                length = _content_length(r, ref)
            if length <= 0:
                raise Malformed("empty struct")
            clock += length
        ranges.append(ClientRange(client, start, clock))
    # The delete set: varuint clients × (client, varuint n × (clock, len)).
    for _ in range(r._count()):
        r.varuint()
        for _ in range(r._count()):
            r.varuint(), r.varuint()
    if r.pos != len(update):
        raise Malformed("trailing bytes after the update")
    return ranges


def update_clients(update: bytes) -> set[int]:
    """The clientIDs whose items the update carries (raises Malformed)."""
    return {c.client for c in read_update(update)}
