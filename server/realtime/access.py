"""Document access for live sessions: a document name → who may read or write it.

Thin: it loads what policy needs from the database and asks ``collab.policy``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from collab import policy
from collab.docs import DocRef, ItemDoc, MeasureDoc, SectionDoc
from collab.policy import Decision, Principal
from server.db import repo
from server.db.models import MeasureRow

Access = Literal["read", "write"]


@dataclass(frozen=True)
class DocAccess:
    access: Access | None  # None: may not read
    plan: str | None  # the plan the document belongs to (for re-checks and the log)
    decision: Decision  # why (the read decision when refused, else the write decision)


# Meeting item documents are decided by the meeting module, which registers here.
ItemResolver = Callable[[AsyncSession, Principal, ItemDoc, datetime], Awaitable[DocAccess]]
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
    missing = Decision(False, "no such document", "not-found")
    if isinstance(ref, ItemDoc):
        if not _item_resolver:
            return DocAccess(None, None, missing)
        return await _item_resolver[0](session, principal, ref, now)
    ctx = await repo.load_context(session, ref.plan, now)
    if ctx is None:
        return DocAccess(None, None, missing)
    if isinstance(ref, SectionDoc):
        if ref.section not in ctx.sections:
            return DocAccess(None, ref.plan, missing)
        return _from(
            policy.check_read_section_doc(ctx, principal, ref.section),
            policy.check_write_section_doc(ctx, principal, ref.section),
            ref.plan,
        )
    assert isinstance(ref, MeasureDoc)
    row = await session.get(MeasureRow, ref.measure)
    if row is None or row.plan_id != ref.plan:
        return DocAccess(None, ref.plan, missing)
    measure = repo.to_measure(row)
    return _from(
        policy.check_read_measure_doc(ctx, principal, measure),
        policy.check_write_measure_doc(ctx, principal, measure),
        ref.plan,
    )
