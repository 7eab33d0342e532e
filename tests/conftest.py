"""Shared fixtures: a real database (SQLite file or PostgreSQL), a real server on a
loopback port, the demo data, and clients that speak HTTP and Socket.IO to it.

PostgreSQL and Redis are used for real. When one is not reachable the tests that need
it are skipped locally, and fail when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import socket
import tempfile
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
from tests import budget  # noqa: F401  (loads the suite's Hypothesis profile)

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


# Where the SQL dialect matters, tests that take ``db_url`` run on SQLite and on
# PostgreSQL: storing documents and snapshots, locking and version numbers (consent,
# signatures, meetings, invitations, sessions), the audit and access logs, scale. Elsewhere
# the PostgreSQL variant is left out (deselected); a test or module marked
# ``pytest.mark.dialects`` keeps it, and so does one asked for by its id.
DIALECT_MODULES = {
    "test_access_log_view.py",
    "test_api_access_log.py",
    "test_api_consent.py",
    "test_api_participants.py",
    "test_api_session.py",
    "test_audit.py",
    "test_consent_race.py",
    "test_denial_summaries.py",
    "test_doc_sync.py",
    "test_durability.py",
    "test_guardian_until.py",
    "test_hostile_updates.py",
    "test_interop.py",
    "test_invitations.py",
    "test_meetings.py",
    "test_minutes_texts.py",
    "test_randomised.py",
    "test_scale.py",
    "test_sessions.py",
    "test_signatures.py",
    "test_smoke.py",
    "test_snapshots.py",
    "test_unappliable_update.py",
    "test_visibility.py",
}


# `make test` runs on parallel workers under coverage; these tests assert a wall-clock
# limit (a revocation within a second, /healthz answering within a second under attack, a
# worker's time limit, a rate limit's refill) that a busy neighbour on two cores or the
# tracer could break, so they are marked ``solo`` and run afterwards, alone and without
# the tracer (`-m solo`). Whole modules, or single tests by name.
SOLO_MODULES = {"test_hostile_updates.py", "test_awareness_flood.py", "test_workers.py"}
SOLO_TESTS = {
    "test_withdrawing_berits_consent_revokes_her_live_session_within_a_second",
    "test_charlottes_story_recorded_widening_needs_a_form_is_told_and_undone",
    "test_withdrawal_puts_the_person_out_of_the_live_meeting_at_once",
    "test_the_largest_allowed_notes_render_in_a_worker_healthz_answers_then_from_storage",
    "test_hostile_updates_never_kill_slow_or_leak",
    "test_encoding_cost_grows_linearly",
    "test_a_flood_is_rate_limited_while_others_keep_working",
    "test_a_render_past_the_time_limit_is_unavailable_and_not_tried_again_at_once",
    # Each raw packet must be answered within 20 s; under coverage and two workers one
    # barrier took longer once.
    "test_raw_malformed_packets_do_not_harm_the_server",
}
# Left out of `make test-fast` (``slow``): each takes several seconds or more.
SLOW_MODULES = {
    "test_awareness_flood.py",
    "test_demo_cli.py",
    "test_durability.py",
    "test_fuzz_http.py",
    "test_fuzz_socket.py",
    "test_fuzz_yupdates.py",
    "test_hostile_updates.py",
    "test_minutes_linear.py",
    "test_randomised.py",
    "test_scale.py",
    "test_serve_settings.py",
}
SLOW_TESTS = {
    "test_every_name_a_viewer_receives_is_one_policy_lets_them_know_of",
    "test_an_outsiders_refusals_are_one_counted_entry",
    "test_verify_names_the_plan_and_entry_whose_detail_or_actor_was_edited",
}


def _postgresql_variant(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("db_url") == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    asked_by_id = any("[postgresql]" in arg for arg in config.args)
    keep: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        if "redis" in item.fixturenames or "redis_url" in item.fixturenames:
            item.add_marker(pytest.mark.redis)
            # The shared Redis's channels are heard by every process on it: with parallel
            # workers (pytest-xdist, --dist loadgroup) these tests run one at a time.
            item.add_marker(pytest.mark.xdist_group("shared-redis"))
        name = getattr(item, "originalname", item.name)
        if item.path.name in SOLO_MODULES or name in SOLO_TESTS:
            item.add_marker(pytest.mark.solo)
        if item.path.name in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        if (
            _postgresql_variant(item)
            and item.path.name not in DIALECT_MODULES
            and item.get_closest_marker("dialects") is None
            and not asked_by_id
        ):
            left_out.append(item)
        else:
            keep.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = keep


# --- databases ---------------------------------------------------------------------

_SQLITE_TEMPLATE: dict[str, Path] = {}
_PG_TEMPLATE: dict[str, str] = {}


def _pg_admin_url() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_exec(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url())
    try:
        for sql in statements:
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
    return await _new_pg_database(_PG_TEMPLATE["name"])


async def _new_pg_database(template: str) -> str:
    """A copy of ``template``; its commits do not wait for the disk (a test database
    outlives no crash of PostgreSQL), which makes each of them several times faster."""
    base, _, _ = PG_URL.rpartition("/")
    name = f"planrom_t_{uuid.uuid4().hex[:12]}"
    await _pg_exec(
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
        f'ALTER DATABASE "{name}" SET synchronous_commit = off',
    )
    return f"{base}/{name}"


_DROPPER: list[concurrent.futures.ThreadPoolExecutor] = []


async def _drop_pg(url: str) -> None:
    """Drop a test database in the background: DROP DATABASE waits for a checkpoint
    (0.1–3 s), which the next test need not wait for. Session end waits for them all."""
    name = url.rpartition("/")[2]

    def drop() -> None:
        with contextlib.suppress(Exception):
            asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    if not _DROPPER:
        _DROPPER.append(concurrent.futures.ThreadPoolExecutor(1, "drop-test-databases"))
    _DROPPER[0].submit(drop)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _DROPPER:
        _DROPPER[0].shutdown(wait=True)
    for dialect, baked in list(_DEMO_BAKES.items()):
        with contextlib.suppress(Exception):
            asyncio.run(_forget_bake(baked, dialect))
    if "name" in _PG_TEMPLATE:
        with contextlib.suppress(Exception):
            asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE["name"]}" WITH (FORCE)'))
    if "path" in _SQLITE_TEMPLATE:
        _SQLITE_TEMPLATE["path"].unlink(missing_ok=True)


# --- the demo, baked once -------------------------------------------------------------
#
# Loading the demo takes 0.3–0.9 s per test. A test that asks for the ``demo`` fixture (or
# ``demo_sqlite``) instead gets a database copied from one the demo was loaded into, and
# its first ``load_demo_into`` on that database returns the data recorded when it was
# baked. A bake is reused for at most DEMO_BAKE_SECONDS, so the demo's times (sign-in links
# valid for 24 hours, consent signed two days ago, the meeting tomorrow) are at most that
# much older than in a test that loads it itself.

DEMO_BAKE_SECONDS = 60.0
_DEMO_BASE = "http://demo-template.invalid"


@dataclass
class _BakedDemo:
    source: str  # the SQLite file or the PostgreSQL database the demo was loaded into
    data: dict[str, Any]
    made: float


_DEMO_BAKES: dict[str, _BakedDemo] = {}
_BAKED_FOR: dict[str, dict[str, Any]] = {}  # database URL → demo data, until claimed
_BAKE_DIR: list[Path] = []


def _wants_baked_demo(request: pytest.FixtureRequest) -> bool:
    return "demo" in request.fixturenames or "demo_sqlite" in request.fixturenames


async def _bake_demo(dialect: str) -> _BakedDemo:
    import json
    import time

    from server.demo import load_demo

    baked = _DEMO_BAKES.get(dialect)
    if baked is not None and time.monotonic() - baked.made < DEMO_BAKE_SECONDS:
        return baked
    if dialect == "sqlite":
        if not _BAKE_DIR:
            _BAKE_DIR.append(Path(tempfile.mkdtemp(prefix="planrom-demo-")))
        fresh = _BAKE_DIR[0] / uuid.uuid4().hex
        fresh.mkdir()
        url = await _sqlite_database(fresh)
        source = str(fresh / "planrom.sqlite3")
    else:
        url = await _pg_database()
        source = url.rpartition("/")[2]
    engine = make_engine(url)
    try:
        settings = test_settings(url).with_(base_url=_DEMO_BASE)
        data = await load_demo(make_sessionmaker(engine), settings, utcnow())
    finally:
        await engine.dispose()
    made = _BakedDemo(source, json.loads(json.dumps(data)), time.monotonic())
    if baked is not None:
        await _forget_bake(baked, dialect)
    _DEMO_BAKES[dialect] = made
    return made


async def _forget_bake(baked: _BakedDemo, dialect: str) -> None:
    if dialect == "sqlite":
        shutil.rmtree(Path(baked.source).parent, ignore_errors=True)
    else:
        with contextlib.suppress(Exception):
            await _pg_exec(f'DROP DATABASE IF EXISTS "{baked.source}" WITH (FORCE)')


def _with_base_url(data: dict[str, Any], base_url: str) -> dict[str, Any]:
    import json

    text = json.dumps(data).replace(json.dumps(_DEMO_BASE)[:-1], json.dumps(base_url)[:-1])
    result: dict[str, Any] = json.loads(text)
    return result


async def _sqlite_demo_database(tmp_path: Path) -> str:
    baked = await _bake_demo("sqlite")
    target = tmp_path / "planrom.sqlite3"
    shutil.copy(baked.source, target)
    url = f"sqlite+aiosqlite:///{target}"
    _BAKED_FOR[url] = baked.data
    return url


async def _pg_demo_database() -> str:
    baked = await _bake_demo("postgresql")
    url = await _new_pg_database(baked.source)
    _BAKED_FOR[url] = baked.data
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database: SQLite and PostgreSQL (with the demo already in it
    when the test asks for the ``demo`` fixture)."""
    demo = _wants_baked_demo(request)
    if request.param == "sqlite":
        yield await (_sqlite_demo_database(tmp_path) if demo else _sqlite_database(tmp_path))
        return
    need_service("PostgreSQL", PG_URL, 5432)
    url = await (_pg_demo_database() if demo else _pg_database())
    try:
        yield url
    finally:
        _BAKED_FOR.pop(url, None)
        await _drop_pg(url)


@pytest.fixture
async def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if _wants_baked_demo(request):
        return await _sqlite_demo_database(tmp_path)
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
    sockets = None
    if port is None:
        # Bound here and handed to uvicorn, so no other process (another xdist worker,
        # another test run) can take the port between choosing it and listening on it.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        sockets = [sock]
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
    task = asyncio.create_task(server.serve(sockets=sockets))
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

    baked = _BAKED_FOR.pop(server.settings.database_url, None)
    if baked is not None:  # the database was copied from a baked demo (see above)
        return Demo(_with_base_url(baked, server.settings.base_url))
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
