"""Document access for live sessions: a document name → who may read or write it.

Thin: it loads what policy needs from the database and asks ``collab.policy``. A
:class:`Resolver` caches what it loaded (plan contexts, measures, meetings) for its own
lifetime, so re-deciding a thousand live sessions of one plan loads the plan once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from collab import policy
from collab.docs import DocRef, ItemDoc, MeasureDoc, SectionDoc
from collab.model import Measure
from collab.policy import Decision, PlanContext, Principal
from server.db import repo
from server.db.models import MeasureRow

Access = Literal["read", "write"]


@dataclass(frozen=True)
class DocAccess:
    access: Access | None  # None: may not read
    plan: str | None  # the plan the document belongs to (for re-checks and the log)
    decision: Decision  # why (the read decision when refused, else the write decision)


MISSING = Decision(False, "no such document", "not-found")


@dataclass
class Resolver:
    """Decides document access within one read of the database."""

    session: AsyncSession
    now: datetime
    _contexts: dict[str, PlanContext | None] = field(default_factory=dict)
    _measures: dict[str, Measure | None] = field(default_factory=dict)
    cache: dict[tuple[str, str], object] = field(default_factory=dict)  # for item resolvers

    async def context(self, plan_id: str) -> PlanContext | None:
        if plan_id not in self._contexts:
            self._contexts[plan_id] = await repo.load_context(self.session, plan_id, self.now)
        return self._contexts[plan_id]

    async def measure(self, measure_id: str) -> Measure | None:
        if measure_id not in self._measures:
            row = await self.session.get(MeasureRow, measure_id)
            self._measures[measure_id] = repo.to_measure(row) if row is not None else None
        return self._measures[measure_id]

    async def resolve(self, principal: Principal, ref: DocRef) -> DocAccess:
        if isinstance(ref, ItemDoc):
            if not _item_resolver:
                return DocAccess(None, None, MISSING)
            return await _item_resolver[0](self, principal, ref)
        ctx = await self.context(ref.plan)
        if ctx is None:
            return DocAccess(None, None, MISSING)
        if isinstance(ref, SectionDoc):
            if ref.section not in ctx.sections:
                return DocAccess(None, ref.plan, MISSING)
            return _from(
                policy.check_read_section_doc(ctx, principal, ref.section),
                policy.check_write_section_doc(ctx, principal, ref.section),
                ref.plan,
            )
        assert isinstance(ref, MeasureDoc)
        measure = await self.measure(ref.measure)
        if measure is None or measure.plan != ref.plan:
            return DocAccess(None, ref.plan, MISSING)
        return _from(
            policy.check_read_measure_doc(ctx, principal, measure),
            policy.check_write_measure_doc(ctx, principal, measure),
            ref.plan,
        )

    async def grounds(self, principal: Principal, ref: DocRef) -> str:
        """Why the person may open the document, for the access log
        (``policy.access_grounds`` on the document's section)."""
        if isinstance(ref, ItemDoc):
            loaded = self.cache.get(("meeting", ref.meeting))
            ctx = getattr(loaded, "ctx", None)
            state = getattr(loaded, "state", None)
            item = state.item(ref.item) if state is not None else None
            if not isinstance(ctx, PlanContext) or item is None:
                return ""
            return policy.access_grounds(ctx, principal, item.section)
        found = await self.context(ref.plan)
        if found is None:
            return ""
        if isinstance(ref, SectionDoc):
            return policy.access_grounds(found, principal, ref.section)
        measure = await self.measure(ref.measure)
        return policy.access_grounds(found, principal, measure.section if measure else None)


# Meeting item documents are decided by the meeting module, which registers here.
ItemResolver = Callable[[Resolver, Principal, ItemDoc], Awaitable[DocAccess]]
_item_resolver: list[ItemResolver] = []


def register_item_resolver(resolver: ItemResolver) -> None:
    _item_resolver[:] = [resolver]


def _from(read: Decision, write: Decision, plan: str) -> DocAccess:
    if not read:
        return DocAccess(None, plan, read)
    return DocAccess("write" if write else "read", plan, write if write else read)


async def resolve(
    session: AsyncSession, principal: Principal, ref: DocRef, now: datetime
) -> DocAccess:
    """One decision (a fresh resolver)."""
    return await Resolver(session, now).resolve(principal, ref)
