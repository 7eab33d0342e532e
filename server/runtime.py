"""The long-lived services one server process holds, shared by HTTP and Socket.IO."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.metrics import Metrics
from server.settings import Settings


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = utcnow
    metrics: Metrics = field(default_factory=Metrics)
    # Called after a plan's consent or participants changed, so that live sessions
    # re-check their access at once (set by the realtime layer).
    on_access_changed: Callable[[str], Awaitable[None]] | None = None

    async def access_changed(self, plan_id: str) -> None:
        if self.on_access_changed is not None:
            await self.on_access_changed(plan_id)
