"""Document access for live sessions: a document name → who may read or write it.

Thin: it loads what policy needs from the database (through ``server.db.repo`` and
``server.meeting_service``) and asks ``collab.policy``. A :class:`Resolver` caches what it
loaded (plan contexts, measures, meetings) for its own lifetime, so re-deciding a
thousand live sessions of one plan loads the plan once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from collab import policy
from collab.docs import DocRef, ItemDoc, MeasureDoc, SectionDoc
from collab.model import Measure
from collab.policy import Decision, PlanContext, Principal
from server import meeting_service
from server.db import repo

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
    _meetings: dict[str, meeting_service.Loaded | None] = field(default_factory=dict)

    async def context(self, plan_id: str) -> PlanContext | None:
        if plan_id not in self._contexts:
            self._contexts[plan_id] = await repo.load_context(self.session, plan_id, self.now)
        return self._contexts[plan_id]

    async def measure(self, measure_id: str) -> Measure | None:
        if measure_id not in self._measures:
            self._measures[measure_id] = await repo.get_measure(self.session, measure_id)
        return self._measures[measure_id]

    async def meeting(self, meeting_id: str) -> meeting_service.Loaded | None:
        if meeting_id not in self._meetings:
            self._meetings[meeting_id] = await meeting_service.load(
                self.session, meeting_id, self.now
            )
        return self._meetings[meeting_id]

    async def resolve(self, principal: Principal, ref: DocRef) -> DocAccess:
        if isinstance(ref, ItemDoc):
            return await self._item(principal, ref)
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

    async def _item(self, principal: Principal, ref: ItemDoc) -> DocAccess:
        """Who may read and write ``meeting:{m}:item:{i}`` (collab.policy decides)."""
        loaded = await self.meeting(ref.meeting)
        if loaded is None:
            return DocAccess(None, None, MISSING)
        item = loaded.state.item(ref.item)
        if item is None:
            return DocAccess(None, loaded.row.plan_id, MISSING)
        measure = loaded.measure_of(item)
        read = policy.check_read_item(loaded.ctx, principal, loaded.state, item, measure)
        if not read:
            return DocAccess(None, loaded.row.plan_id, read)
        write = policy.check_write_item(loaded.ctx, principal, loaded.state, item, measure)
        return _from(read, write, loaded.row.plan_id)

    async def grounds(self, principal: Principal, ref: DocRef) -> str:
        """Why the person may open the document, for the access log
        (``policy.access_grounds`` on the document's section)."""
        if isinstance(ref, ItemDoc):
            loaded = await self.meeting(ref.meeting)
            item = loaded.state.item(ref.item) if loaded is not None else None
            if loaded is None or item is None:
                return ""
            return policy.access_grounds(loaded.ctx, principal, item.section)
        found = await self.context(ref.plan)
        if found is None:
            return ""
        if isinstance(ref, SectionDoc):
            return policy.access_grounds(found, principal, ref.section)
        measure = await self.measure(ref.measure)
        return policy.access_grounds(found, principal, measure.section if measure else None)


def _from(read: Decision, write: Decision, plan: str) -> DocAccess:
    if not read:
        return DocAccess(None, plan, read)
    return DocAccess("write" if write else "read", plan, write if write else read)


async def resolve(
    session: AsyncSession, principal: Principal, ref: DocRef, now: datetime
) -> DocAccess:
    """One decision (a fresh resolver)."""
    return await Resolver(session, now).resolve(principal, ref)
