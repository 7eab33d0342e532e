"""The access log (innsynslogg): append-only, one hash chain per plan.

Each entry's hash covers its own fields and the previous entry's hash, so an edited,
inserted or deleted row breaks the chain at that point; ``verify`` names the first one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AccessLogHead, AccessLogRow, PlanRow

GENESIS = "0" * 64


def entry_hash(
    *,
    prev_hash: str,
    plan_id: str,
    seq: int,
    at: datetime,
    person_id: str | None,
    actor: str,
    action: str,
    target: str,
    detail: str,
    grounds: str = "",
) -> str:
    fields: list[object] = [
        prev_hash,
        plan_id,
        seq,
        at.isoformat(),
        person_id,
        actor,
        action,
        target,
        detail,
    ]
    if grounds:
        # Entries written before migration 0010 have none and keep their hash.
        fields.append(grounds)
    body = json.dumps(
        fields,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def append(
    session: AsyncSession,
    *,
    plan_id: str,
    at: datetime,
    person_id: str | None,
    actor: str,
    action: str,
    target: str,
    detail: str = "",
    grounds: str = "",
) -> AccessLogRow:
    """Append one entry in the caller's transaction.

    The plan row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite transactions are
    already exclusive), so two writers never fork the chain.
    """
    await session.execute(update(PlanRow).where(PlanRow.id == plan_id).values(id=PlanRow.id))
    last = (
        await session.execute(
            select(AccessLogRow.seq, AccessLogRow.hash)
            .where(AccessLogRow.plan_id == plan_id)
            .order_by(AccessLogRow.seq.desc())
            .limit(1)
        )
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    row = AccessLogRow(
        plan_id=plan_id,
        seq=seq,
        at=at,
        person_id=person_id,
        actor=actor[:200],
        action=action,
        target=target[:200],
        detail=detail,
        grounds=grounds[:64],
        prev_hash=prev,
        hash=entry_hash(
            prev_hash=prev,
            plan_id=plan_id,
            seq=seq,
            at=at,
            person_id=person_id,
            actor=actor[:200],
            action=action,
            target=target[:200],
            detail=detail,
            grounds=grounds[:64],
        ),
    )
    session.add(row)
    head = await session.get(AccessLogHead, plan_id)
    if head is None:
        session.add(AccessLogHead(plan_id=plan_id, seq=seq, hash=row.hash))
    else:
        head.seq, head.hash = seq, row.hash
    await session.flush()
    return row


@dataclass(frozen=True)
class Break:
    plan_id: str
    seq: int
    row_id: int
    reason: str


def check_chain(rows: Sequence[AccessLogRow]) -> Break | None:
    """The first broken entry of one plan's chain (rows in ``seq`` order), if any."""
    prev = GENESIS
    expected_seq = 1
    for row in rows:
        if row.seq != expected_seq:
            return Break(row.plan_id, row.seq, row.id, f"expected entry {expected_seq}")
        if row.prev_hash != prev:
            return Break(row.plan_id, row.seq, row.id, "does not follow the previous entry")
        recomputed = entry_hash(
            prev_hash=row.prev_hash,
            plan_id=row.plan_id,
            seq=row.seq,
            at=row.at,
            person_id=row.person_id,
            actor=row.actor,
            action=row.action,
            target=row.target,
            detail=row.detail,
            grounds=row.grounds,
        )
        if recomputed != row.hash:
            return Break(row.plan_id, row.seq, row.id, "content was changed after it was written")
        prev = row.hash
        expected_seq += 1
    return None


async def verify(session: AsyncSession) -> tuple[int, list[Break]]:
    """Check every plan's chain and its recorded head; returns entries read and breaks."""
    heads = {h.plan_id: h for h in (await session.execute(select(AccessLogHead))).scalars()}
    plan_ids = set((await session.execute(select(AccessLogRow.plan_id).distinct())).scalars())
    breaks: list[Break] = []
    count = 0
    for plan_id in sorted(plan_ids | set(heads)):
        rows = (
            (
                await session.execute(
                    select(AccessLogRow)
                    .where(AccessLogRow.plan_id == plan_id)
                    .order_by(AccessLogRow.seq)
                )
            )
            .scalars()
            .all()
        )
        count += len(rows)
        broken = check_chain(rows) or check_head(plan_id, rows, heads.get(plan_id))
        if broken is not None:
            breaks.append(broken)
    return count, breaks


def check_head(
    plan_id: str, rows: Sequence[AccessLogRow], head: AccessLogHead | None
) -> Break | None:
    """The newest entry must be the recorded head: catches a removed tail."""
    last = rows[-1] if rows else None
    if head is None:
        if last is None:
            return None
        return Break(plan_id, last.seq, last.id, "the record of the newest entry is missing")
    if last is None or last.seq < head.seq:
        after = last.seq if last is not None else 0
        return Break(
            plan_id,
            after + 1,
            last.id if last is not None else 0,
            f"entries {after + 1}–{head.seq} were removed",
        )
    if last.seq != head.seq or last.hash != head.hash:
        return Break(plan_id, last.seq, last.id, "does not match the recorded newest entry")
    return None
