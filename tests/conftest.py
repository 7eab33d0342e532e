"""Shared fixtures: a real database (SQLite file or PostgreSQL), a real server on a
loopback port, the demo data, and clients that speak HTTP and Socket.IO to it.

PostgreSQL and Redis are used for real. When one is not reachable the tests that need
it are skipped locally, and fail when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import uvicorn

from server.app import create_app
from server.db.engine import make_engine, make_sessionmaker
from server.db.migrate import upgrade
from server.runtime import Services, utcnow
from server.settings import Settings

PG_URL = os.environ.get("PLANROM_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PLANROM_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = bool(os.environ.get("CI"))


def _reachable(url: str, default_port: int) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def need_service(name: str, url: str, port: int) -> None:
    """Skip when a service is missing, except in CI, where that is a failure."""
    if _reachable(url, port):
        return
    missing(f"{name} is not reachable at {url}")


def missing(message: str) -> NoReturn:
    """Something a test needs is not there: skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(message + " (CI must run every test)")
    pytest.skip(message)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "redis" in item.fixturenames or "redis_url" in item.fixturenames:
            item.add_marker(pytest.mark.redis)


# --- databases ---------------------------------------------------------------------

_SQLITE_TEMPLATE: dict[str, Path] = {}
_PG_TEMPLATE: dict[str, str] = {}


def _pg_admin_url() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_exec(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _sqlite_database(tmp_path: Path) -> str:
    if "path" not in _SQLITE_TEMPLATE:
        template = Path(os.environ.get("PYTEST_TMP_TEMPLATE", "/tmp")) / (
            f"planrom-template-{uuid.uuid4().hex}.sqlite3"
        )
        engine = make_engine(f"sqlite+aiosqlite:///{template}")
        await upgrade(engine)
        await engine.dispose()
        _SQLITE_TEMPLATE["path"] = template
    target = tmp_path / "planrom.sqlite3"
    shutil.copy(_SQLITE_TEMPLATE["path"], target)
    return f"sqlite+aiosqlite:///{target}"


async def _pg_database() -> str:
    base, _, _ = PG_URL.rpartition("/")
    if "name" not in _PG_TEMPLATE:
        name = f"planrom_tpl_{uuid.uuid4().hex[:10]}"
        await _pg_exec(f'CREATE DATABASE "{name}"')
        engine = make_engine(f"{base}/{name}")
        await upgrade(engine)
        await engine.dispose()
        _PG_TEMPLATE["name"] = name
    name = f"planrom_t_{uuid.uuid4().hex[:12]}"
    await _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{_PG_TEMPLATE["name"]}"')
    return f"{base}/{name}"


async def _drop_pg(url: str) -> None:
    name = url.rpartition("/")[2]
    with contextlib.suppress(Exception):
        await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if "name" in _PG_TEMPLATE:
        with contextlib.suppress(Exception):
            asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE["name"]}" WITH (FORCE)'))
    if "path" in _SQLITE_TEMPLATE:
        _SQLITE_TEMPLATE["path"].unlink(missing_ok=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database: SQLite and PostgreSQL."""
    if request.param == "sqlite":
        yield await _sqlite_database(tmp_path)
        return
    need_service("PostgreSQL", PG_URL, 5432)
    url = await _pg_database()
    try:
        yield url
    finally:
        await _drop_pg(url)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return await _sqlite_database(tmp_path)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    need_service("PostgreSQL", PG_URL, 5432)
    url = await _pg_database()
    try:
        yield url
    finally:
        await _drop_pg(url)


@pytest.fixture
def redis_url() -> str:
    need_service("Redis", REDIS_URL, 6379)
    return REDIS_URL


# --- a live server -----------------------------------------------------------------


class Clock:
    """The server's clock; tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0

    def __call__(self) -> datetime:
        from datetime import timedelta

        return utcnow() + timedelta(seconds=self.offset_seconds)

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    settings: Settings
    services: Services
    clock: Clock
    app: Any
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def http(self, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kwargs)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


def test_settings(database_url: str, **overrides: Any) -> Settings:
    base = Settings(
        database_url=database_url,
        base_url="http://127.0.0.1:0",
        secret_key="test-secret-key-not-for-production",
        demo=True,
        consent_poll_seconds=0.1,
        # Reminder passes run when a test asks for them (tests/integration/test_reminders.py).
        reminder_interval_seconds=0,
        doc_idle_unload_seconds=0.5,
    )
    return base.with_(**overrides)


# A helper, not a test: modules that import it must not have pytest collect it.
test_settings.__test__ = False  # type: ignore[attr-defined]


async def start_server(
    settings: Settings, clock: Clock | None = None, port: int | None = None
) -> LiveServer:
    port = port or free_port()
    settings = settings.with_(base_url=f"http://127.0.0.1:{port}")
    clock = clock or Clock()
    engine = make_engine(settings.database_url)
    services = Services(
        settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine), clock=clock
    )
    app = create_app(settings, services=services)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws_per_message_deflate=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.01)
    return LiveServer(f"http://127.0.0.1:{port}", settings, services, clock, app, server, task)


@pytest.fixture
async def live(db_url: str) -> AsyncIterator[LiveServer]:
    """A running server on SQLite and on PostgreSQL, demo mode on."""
    server = await start_server(test_settings(db_url))
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def live_sqlite(sqlite_url: str) -> AsyncIterator[LiveServer]:
    server = await start_server(test_settings(sqlite_url))
    try:
        yield server
    finally:
        await server.stop()


# --- demo data ---------------------------------------------------------------------


@dataclass
class Demo:
    data: dict[str, Any]

    def plan(self, title_prefix: str) -> dict[str, Any]:
        return next(p for p in self.data["plans"] if p["title"].startswith(title_prefix))

    @property
    def per(self) -> dict[str, Any]:
        return self.plan("Per")

    @property
    def charlotte(self) -> dict[str, Any]:
        return self.plan("Charlotte")

    def person(self, plan: dict[str, Any], key: str) -> dict[str, Any]:
        return next(p for p in plan["participants"] if p["key"] == key)

    def token(self, plan: dict[str, Any], key: str) -> str:
        return str(self.person(plan, key)["token"])

    def section(self, plan: dict[str, Any], key: str) -> dict[str, Any]:
        return next(s for s in plan["sections"] if s["key"] == key)


async def load_demo_into(server: LiveServer) -> Demo:
    from server.demo import load_demo

    data = await load_demo(server.services.sessionmaker, server.settings, server.clock())
    return Demo(data)


@pytest.fixture
async def demo(live: LiveServer) -> Demo:
    return await load_demo_into(live)


@pytest.fixture
async def demo_sqlite(live_sqlite: LiveServer) -> Demo:
    return await load_demo_into(live_sqlite)


@pytest.fixture
def artifacts() -> Iterator[Path]:
    path = Path(__file__).parent / "artifacts"
    path.mkdir(exist_ok=True)
    yield path
