"""Who a live connection may know of, for relaying awareness (presence, cursors, names).

The hub stamps every awareness state with the sender's identity (``user``). A receiver
who may not know of the sender (collab.policy.knows_of) receives an anonymised user
instead: ``{"id": "hidden-<stable hash>", "name": "En deltaker"}``, the same for one
person on one document, so cursors stay apart without saying whose they are.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from collab import policy
from collab.policy import Principal
from collab.yproto import AwarenessState
from server.db import repo
from server.db.engine import read_only

if TYPE_CHECKING:
    from server.runtime import Services

ANONYMOUS_NAME = "En deltaker"
TTL_SECONDS = 1.0  # also forgotten at once when the plan's access is re-decided


def hidden_user(doc: str, person: str) -> dict[str, object]:
    digest = hashlib.sha256(f"{doc}\0{person}".encode()).hexdigest()[:16]
    return {"id": f"hidden-{digest}", "name": ANONYMOUS_NAME}


def sender_of(state: AwarenessState) -> str | None:
    user = state.state.get("user") if state.state is not None else None
    person = user.get("id") if isinstance(user, dict) else None
    return person if isinstance(person, str) else None


def anonymised(
    doc: str, states: Iterable[AwarenessState], known: frozenset[str], viewer: str
) -> tuple[AwarenessState, ...]:
    """``states`` as ``viewer`` (a person id) may receive them."""
    out = []
    for s in states:
        person = sender_of(s)
        if s.state is None or person is None or person == viewer or person in known:
            out.append(s)
        else:
            out.append(
                AwarenessState(s.client, s.clock, s.state | {"user": hidden_user(doc, person)})
            )
    return tuple(out)


class KnownPersons:
    """Per plan and viewer: the person ids policy lets the viewer know of (cached briefly)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}

    def forget(self, plan: str) -> None:
        for key in [k for k in self._cache if k[0] == plan]:
            del self._cache[key]

    async def of(self, plan: str | None, viewer: Principal) -> frozenset[str]:
        if plan is None:
            return frozenset()
        key = (plan, viewer.person)
        found = self._cache.get(key)
        now = time.monotonic()
        if found is not None and found[0] > now:
            return found[1]
        async with self.services.sessionmaker() as session:
            await read_only(session)
            ctx = await repo.load_context(session, plan, self.services.clock())
        known: frozenset[str] = frozenset()
        if ctx is not None:
            ids = policy.knows_of(ctx, viewer)
            known = frozenset(p.person for p in ctx.plan.participants if p.id in ids and p.person)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + TTL_SECONDS, known)
        return known
