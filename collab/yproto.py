"""The y-protocols wire messages (sync and awareness), decoded defensively.

A message is ``varuint type`` followed by its payload: sync (0) carries
``varuint step`` and one ``varUint8Array`` (a state vector for step 1, an update for
step 2 and update); awareness (1) carries one ``varUint8Array`` holding
``varuint n`` and ``n`` × (``varuint clientID``, ``varuint clock``, ``varString json``).
Every read is bounded; anything malformed raises :class:`Malformed`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1

MAX_AWARENESS_STATES = 64
MAX_AWARENESS_JSON = 16 * 1024


class SyncStep(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class Malformed(ValueError):
    """Bytes that are not a well-formed y-protocols message."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varuint(self) -> int:
        value = 0
        shift = 0
        while True:
            if self.pos >= len(self.data):
                raise Malformed("unexpected end of message")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise Malformed("integer too long")

    def bytes_(self) -> bytes:
        length = self.varuint()
        if length > len(self.data) - self.pos:
            raise Malformed("length runs past the end of the message")
        chunk = self.data[self.pos : self.pos + length]
        self.pos += length
        return chunk

    def string(self) -> str:
        try:
            return self.bytes_().decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("text is not UTF-8") from None

    def done(self) -> bool:
        return self.pos == len(self.data)


def _varuint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes(chunk: bytes) -> bytes:
    return _varuint(len(chunk)) + chunk


@dataclass(frozen=True)
class SyncMessage:
    step: SyncStep
    payload: bytes  # state vector (step 1) or update (step 2, update)


@dataclass(frozen=True)
class AwarenessState:
    client: int
    clock: int
    state: dict[str, object] | None  # None: the client left


@dataclass(frozen=True)
class AwarenessMessage:
    states: tuple[AwarenessState, ...]


Message = SyncMessage | AwarenessMessage


def decode(data: bytes) -> Message:
    reader = _Reader(data)
    kind = reader.varuint()
    if kind == MESSAGE_SYNC:
        step = reader.varuint()
        if step not in (0, 1, 2):
            raise Malformed(f"unknown sync step {step}")
        payload = reader.bytes_()
        if not reader.done():
            raise Malformed("trailing bytes after the sync message")
        return SyncMessage(SyncStep(step), payload)
    if kind == MESSAGE_AWARENESS:
        inner = _Reader(reader.bytes_())
        if not reader.done():
            raise Malformed("trailing bytes after the awareness message")
        count = inner.varuint()
        if count > MAX_AWARENESS_STATES:
            raise Malformed("too many awareness states")
        states = []
        for _ in range(count):
            client, clock = inner.varuint(), inner.varuint()
            raw = inner.string()
            if len(raw) > MAX_AWARENESS_JSON:
                raise Malformed("awareness state too large")
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError):
                raise Malformed("awareness state is not JSON") from None
            if value is not None and not isinstance(value, dict):
                raise Malformed("awareness state must be an object or null")
            states.append(AwarenessState(client, clock, value))
        if not inner.done():
            raise Malformed("trailing bytes in the awareness update")
        return AwarenessMessage(tuple(states))
    raise Malformed(f"unknown message type {kind}")


def encode_sync(step: SyncStep, payload: bytes) -> bytes:
    return _varuint(MESSAGE_SYNC) + _varuint(step) + _bytes(payload)


def awareness_json(state: dict[str, object] | None) -> bytes:
    """One awareness state as it goes on the wire (compact UTF-8 JSON)."""
    return json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()


def awareness_parts(states: Sequence[AwarenessState]) -> Iterator[bytes]:
    """The pieces of an awareness message, in order; each byte of the message is made
    once, so joining them is linear in the number and size of the states."""
    body = [_varuint(len(states))]
    for s in states:
        raw = awareness_json(s.state)
        body += (_varuint(s.client), _varuint(s.clock), _varuint(len(raw)), raw)
    yield _varuint(MESSAGE_AWARENESS)
    yield _varuint(sum(len(b) for b in body))
    yield from body


def encode_awareness(states: Sequence[AwarenessState]) -> bytes:
    # One join at the end: appending to a growing bytes object would copy the message
    # once per state (quadratic; 4,000 states of 16 KiB took a minute).
    return b"".join(awareness_parts(states))


def decode_state_vector(data: bytes) -> dict[int, int]:
    """A Yjs state vector: ``varuint n`` × (``varuint client``, ``varuint clock``)."""
    reader = _Reader(data)
    count = reader.varuint()
    if count > 1_000_000:
        raise Malformed("state vector too long")
    result = {}
    for _ in range(count):
        client = reader.varuint()
        result[client] = reader.varuint()
    if not reader.done():
        raise Malformed("trailing bytes after the state vector")
    return result


EMPTY_UPDATE = b"\x00\x00"
