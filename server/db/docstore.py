"""The document store on SQL: an append-only update log with group commit, snapshots,
and the Yjs clientID bindings.

Appends from every room are queued and written by one task in batches: one transaction
and one disk sync for many updates, each acknowledged only after its batch committed.
On PostgreSQL an append holds a shared advisory lock on its document and compaction an
exclusive one, so a snapshot never skips an update that was still being written.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collab.docs import ItemDoc, parse_doc_name
from collab.rooms import screen
from collab.store import StoredDoc
from server.db import audit
from server.db.engine import read_only
from server.db.models import DocSnapshot, DocUpdate, MeetingRow, YClient
from server.runtime import utcnow
from server.workers import build_snapshot

MAX_BATCH = 256


def _lock_key(doc: str) -> int:
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    return zlib.crc32(doc.encode()) - (1 << 31)


@dataclass
class _Pending:
    doc: str
    update: bytes
    person: str | None
    origin: str
    at: datetime
    done: asyncio.Future[int]


class SqlDocStore:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.appended = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SqlDocStore]:
        async with asyncio.TaskGroup() as tasks:
            self._writer = tasks.create_task(self._write_loop())
            try:
                yield self
            finally:
                self._writer.cancel()
                self._writer = None
                while not self._queue.empty():
                    pending = self._queue.get_nowait()
                    if not pending.done.done():
                        pending.done.set_exception(RuntimeError("server is shutting down"))

    def _is_pg(self, session: AsyncSession) -> bool:
        return session.get_bind().dialect.name == "postgresql"

    async def load(self, doc: str) -> StoredDoc:
        async with self.sessionmaker() as session:
            await read_only(session)
            snap = await session.get(DocSnapshot, doc)
            upto = snap.upto if snap is not None else 0
            rows = await session.execute(
                select(DocUpdate.id, DocUpdate.data)
                .where(
                    DocUpdate.doc == doc,
                    DocUpdate.id > upto,
                    DocUpdate.quarantined_at.is_(None),
                )
                .order_by(DocUpdate.id)
            )
            updates = [(int(i), bytes(d)) for i, d in rows.all()]
        return StoredDoc(snap.data if snap is not None else None, updates, upto)

    async def quarantine(self, doc: str, seq: int, reason: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            await quarantine_in(session, doc, seq, reason, by="server")

    async def drop_snapshot(self, doc: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            if self._is_pg(session):
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(doc)}
                )
            await session.execute(delete(DocSnapshot).where(DocSnapshot.doc == doc))

    async def append(self, doc: str, update: bytes, *, person: str | None, origin: str) -> int:
        if self._writer is None:
            return await self._write_now(doc, update, person, origin)
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(doc, update, person, origin, utcnow(), done))
        return await done

    async def _write_now(self, doc: str, update: bytes, person: str | None, origin: str) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._write_batch([_Pending(doc, update, person, origin, utcnow(), done)])
        return await done

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write_batch(batch)

    async def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                if self._is_pg(session):
                    for doc in sorted({p.doc for p in batch}):
                        await session.execute(
                            text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _lock_key(doc)}
                        )
                rows = [
                    DocUpdate(
                        doc=p.doc, data=p.update, person_id=p.person, origin=p.origin, at=p.at
                    )
                    for p in batch
                ]
                session.add_all(rows)
                await session.flush()
                ids = [row.id for row in rows]
        except Exception as exc:
            for p in batch:
                if not p.done.done():
                    p.done.set_exception(exc)
            return
        self.batches += 1
        self.appended += len(batch)
        for p, row_id in zip(batch, ids, strict=True):
            if not p.done.done():
                p.done.set_result(int(row_id))

    async def compact(self, doc: str) -> int:
        # 1. Read what to fold. On PostgreSQL under the exclusive lock: no append of this
        #    document is in flight, so every later append gets a higher id than these.
        async with self.sessionmaker() as session, session.begin():
            if self._is_pg(session):
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(doc)}
                )
            snap = await session.get(DocSnapshot, doc)
            upto = snap.upto if snap is not None else 0
            base = bytes(snap.data) if snap is not None else None
            rows = (
                await session.execute(
                    select(DocUpdate.id, DocUpdate.data)
                    .where(
                        DocUpdate.doc == doc,
                        DocUpdate.id > upto,
                        DocUpdate.quarantined_at.is_(None),
                    )
                    .order_by(DocUpdate.id)
                )
            ).all()
        if not rows:
            return 0
        last = int(rows[-1][0])
        # Nothing unvalidated reaches pycrdt, here as anywhere (ADR 0012). Rows that fail
        # are left for loading (or `planrom doctor`) to quarantine.
        screened = screen(doc, StoredDoc(base, [(int(i), bytes(d)) for i, d in rows]))
        if screened.snapshot_error is not None or screened.bad:
            raise RuntimeError("stored updates fail validation; not compacting")
        # 2. Build the state with no transaction open and off the event loop.
        state = await self._build_snapshot(base, [data for _, data in screened.good])
        # 3. Keep it, unless another compaction moved the snapshot meanwhile.
        async with self.sessionmaker() as session, session.begin():
            snap = await session.get(DocSnapshot, doc)
            if snap is None:
                session.add(DocSnapshot(doc=doc, upto=last, data=state, at=utcnow()))
            elif snap.upto == upto:
                snap.upto, snap.data, snap.at = last, state, utcnow()
            else:
                return 0
        return len(rows)

    # Set by the app to its worker pool's ``build_snapshot``; without one, a thread.
    snapshot_builder: Callable[[bytes | None, list[bytes]], Awaitable[bytes]] | None = None

    async def _build_snapshot(self, snapshot: bytes | None, updates: list[bytes]) -> bytes:
        """Snapshots are built in a worker process (pycrdt holds the GIL during each call,
        and a worker that crashes on a hostile update does not take the server along)."""
        if self.snapshot_builder is not None:
            return await self.snapshot_builder(snapshot, updates)
        return await asyncio.to_thread(build_snapshot, snapshot, updates)

    async def bind_client(self, client_id: int, person: str) -> str:
        async with self.sessionmaker() as session, session.begin():
            return await self.bind_client_in(session, client_id, person)

    async def bind_client_in(self, session: AsyncSession, client_id: int, person: str) -> str:
        """``bind_client`` inside the caller's transaction (one durable write, not two)."""
        dialect = postgresql if self._is_pg(session) else sqlite
        await session.execute(
            dialect.insert(YClient)
            .values(client_id=client_id, person_id=person, bound_at=utcnow())
            .on_conflict_do_nothing(index_elements=["client_id"])
        )
        owner = await session.scalar(
            select(YClient.person_id).where(YClient.client_id == client_id)
        )
        assert owner is not None
        return str(owner)

    async def bind_client_capped_in(
        self,
        session: AsyncSession,
        client_id: int,
        person: str,
        *,
        since: datetime,
        limit: int,
    ) -> str | None:
        """``bind_client_in``, but a new binding is refused (None) once ``person`` has
        bound ``limit`` clientIDs since ``since``. An existing binding answers its owner
        as before. Counted in the table, so reconnecting does not reset the count."""
        owner = await session.scalar(
            select(YClient.person_id).where(YClient.client_id == client_id)
        )
        if owner is not None:
            return str(owner)
        recent = await session.scalar(
            select(func.count())
            .select_from(YClient)
            .where(YClient.person_id == person, YClient.bound_at >= since)
        )
        if int(recent or 0) >= limit:
            return None
        return await self.bind_client_in(session, client_id, person)

    async def owners_of(self, client_ids: set[int]) -> dict[int, str]:
        if not client_ids:
            return {}
        async with self.sessionmaker() as session:
            await read_only(session)
            rows = await session.execute(
                select(YClient.client_id, YClient.person_id).where(
                    YClient.client_id.in_(sorted(client_ids))
                )
            )
            return {int(c): str(p) for c, p in rows.all()}


async def plan_of_doc(session: AsyncSession, doc: str) -> str | None:
    """The plan a document belongs to (a meeting item's through its meeting)."""
    ref = parse_doc_name(doc)
    if ref is None:
        return None
    if isinstance(ref, ItemDoc):
        found = await session.scalar(select(MeetingRow.plan_id).where(MeetingRow.id == ref.meeting))
        return str(found) if found is not None else None
    return ref.plan


async def quarantine_in(session: AsyncSession, doc: str, seq: int, reason: str, *, by: str) -> None:
    """Mark one stored update as quarantined, with an entry in its plan's access log."""
    reason = reason[:200]
    done = await session.execute(
        update(DocUpdate)
        .where(DocUpdate.id == seq, DocUpdate.doc == doc, DocUpdate.quarantined_at.is_(None))
        .values(quarantined_at=utcnow(), quarantine_reason=reason)
    )
    if not getattr(done, "rowcount", 0):
        return  # already quarantined (by another process, or by the doctor)
    plan = await plan_of_doc(session, doc)
    if plan is not None:
        await audit.append(
            session,
            plan_id=plan,
            at=utcnow(),
            person_id=None,
            actor=by,
            action="quarantine",
            target=f"doc:{doc}",
            detail=f"update {seq} refused on load: {reason}",
        )


@dataclass(frozen=True)
class Poisoned:
    doc: str
    row: int | None  # None: the snapshot
    reason: str


async def doctor(
    sessionmaker: async_sessionmaker[AsyncSession], *, fix: bool
) -> tuple[int, list[Poisoned]]:
    """Validate every stored document (its snapshot, and all its updates from the first,
    as a rebuild would read them); with ``fix``, quarantine poisoned updates and drop
    poisoned snapshots. Applies nothing. Returns (documents scanned, findings)."""
    async with sessionmaker() as session:
        await read_only(session)
        names = sorted(
            set((await session.execute(select(DocUpdate.doc).distinct())).scalars())
            | set((await session.execute(select(DocSnapshot.doc))).scalars())
        )
    found: list[Poisoned] = []
    for name in names:
        async with sessionmaker() as session:
            await read_only(session)
            snap = await session.get(DocSnapshot, name)
            rows = await session.execute(
                select(DocUpdate.id, DocUpdate.data)
                .where(DocUpdate.doc == name, DocUpdate.quarantined_at.is_(None))
                .order_by(DocUpdate.id)
            )
            updates = [(int(i), bytes(d)) for i, d in rows.all()]
            snapshot = bytes(snap.data) if snap is not None else None
        alone = screen(name, StoredDoc(snapshot, []))
        history = screen(name, StoredDoc(None, updates))
        if alone.snapshot_error is not None:
            found.append(Poisoned(name, None, alone.snapshot_error))
        found += [Poisoned(name, seq, reason) for seq, reason in history.bad]
        if fix and (alone.snapshot_error is not None or history.bad):
            async with sessionmaker() as session, session.begin():
                if alone.snapshot_error is not None:
                    await session.execute(delete(DocSnapshot).where(DocSnapshot.doc == name))
                for seq, reason in history.bad:
                    await quarantine_in(session, name, seq, reason, by="planrom doctor")
    return len(names), found
