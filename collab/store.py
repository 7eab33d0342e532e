"""Where documents are kept: a Protocol that the server's database layer implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredDoc:
    snapshot: bytes | None
    updates: list[tuple[int, bytes]]  # (seq, update) after the snapshot, in seq order
    upto: int = 0  # the last update the snapshot folded in (0 without a snapshot)

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest stored update, folded into the snapshot or not."""
        return self.updates[-1][0] if self.updates else self.upto


class DocStore(Protocol):
    async def load(self, doc: str) -> StoredDoc:
        """The snapshot and every update after it."""
        ...

    async def append(self, doc: str, update: bytes, *, person: str | None, origin: str) -> int:
        """Store one update durably and return its sequence number."""
        ...

    async def compact(self, doc: str) -> int:
        """Write a new snapshot of ``doc`` from storage; returns how many updates it folded.

        Updates are kept (they say who wrote what); the snapshot only speeds up loading.
        """
        ...

    async def quarantine(self, doc: str, seq: int, reason: str) -> None:
        """Mark update ``seq`` of ``doc`` as never to be applied again (it failed validation),
        with an entry in the plan's access log."""
        ...

    async def drop_snapshot(self, doc: str) -> None:
        """Forget the snapshot of ``doc`` (it failed validation); the updates remain."""
        ...

    async def bind_client(self, client_id: int, person: str) -> str:
        """Bind a Yjs clientID to ``person`` unless already bound; return its owner."""
        ...

    async def owners_of(self, client_ids: set[int]) -> dict[int, str]:
        """The persons the given clientIDs are bound to (unbound ones are absent)."""
        ...
