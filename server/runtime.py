"""The long-lived services one server process holds, shared by HTTP and Socket.IO."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from collab.editing import YDoc
from server.db.denials import Denials
from server.effects import Effects
from server.metrics import Metrics
from server.settings import Settings
from server.workers import WorkerPool


def utcnow() -> datetime:
    return datetime.now(UTC)


class Realtime(Protocol):
    """What HTTP routes may ask of the live side (``server.realtime.namespace``)."""

    async def recheck_plan(self, plan_id: str) -> None:
        """Re-decide every live document of a plan (consent or people changed)."""
        ...

    async def recheck_prefix(self, prefix: str) -> None:
        """Re-decide live documents whose names start with ``prefix``."""
        ...

    async def meeting_changed(self, meeting_id: str) -> None:
        """Send each person in the meeting room their own view of the meeting."""
        ...

    async def edit_as(self, person: str, name: str, edit: Callable[[YDoc], None]) -> int:
        """A server-side edit of a document, attributed to ``person``."""
        ...

    async def document_state(self, name: str) -> bytes:
        """The current full state of a document (as a Yjs update)."""
        ...

    async def close_documents(self, prefix: str, reason: str) -> None:
        """Revoke every live session of documents whose name starts with ``prefix``."""
        ...


AccessChange = Callable[["Services", str, str | None], Awaitable[None]]


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = utcnow
    metrics: Metrics = field(default_factory=Metrics)
    realtime: Realtime | None = None
    denials: Denials = field(default_factory=Denials)  # refusals counted, not one row each
    # Worker processes for CPU-bound work (started in the app's lifespan).
    workers: WorkerPool | None = None
    # After-commit document edits, durable (run in the app's lifespan).
    effects: Effects = field(default_factory=Effects)

    # What follows a change of consent or of the group (``meeting_service.access_changed``:
    # uninvite, re-decide live sessions, send cancellations). ``create_app`` sets it; it is
    # a function of the services, not something they hold on to.
    on_access_change: AccessChange | None = None

    async def access_changed(self, plan_id: str, by: str | None = None) -> None:
        """Consent or the group changed: those who lost access are uninvited from coming
        and live meetings (and sent a CANCEL), then every live session is re-decided
        (documents revoked or downgraded, meeting rooms left with ``meeting:revoked``)."""
        if self.on_access_change is None:
            raise RuntimeError("Services.on_access_change is set by server.app.create_app")
        await self.on_access_change(self, plan_id, by)

    async def meeting_changed(self, meeting_id: str) -> None:
        if self.realtime is not None:
            await self.realtime.meeting_changed(meeting_id)
