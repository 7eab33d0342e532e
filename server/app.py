"""The application factory: Starlette (HTTP) inside python-socketio's ASGI app."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import socketio
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server import meeting_service
from server.db.engine import make_engine, make_sessionmaker
from server.http import (
    accesslog_routes,
    auth_routes,
    common,
    consent_routes,
    continuity_routes,
    inbox_routes,
    invite_routes,
    meeting_routes,
    oidc_routes,
    openapi,
    plan_routes,
    print_routes,
    session_routes,
    survey_routes,
    unit_routes,
    worklist_routes,
)
from server.http.common import Endpoint
from server.http.headers import SecurityHeaders
from server.realtime.bridge import RedisBridge
from server.realtime.connections import Connections
from server.realtime.hub import Documents
from server.realtime.meeting import MeetingEvents
from server.realtime.namespace import Namespace
from server.realtime.packets import BoundedPacket
from server.realtime.revocation import Revocation
from server.realtime.visibility import KnownPersons
from server.reminders import Reminders
from server.runtime import Services
from server.settings import Settings, require_secret_key
from server.workers import WorkerPool

log = logging.getLogger("planrom")


async def healthz(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # the database did not answer: say so, do not crash
        log.warning("health check failed: %s", exc)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return PlainTextResponse(services.metrics.render(), media_type="text/plain; version=0.0.4")


def endpoints() -> list[Endpoint]:
    """Every API route, composed from the route modules' own lists (each module declares
    its routes with ``@api(...)`` on its ``api = Endpoints()``)."""
    return [
        *accesslog_routes.api,
        *auth_routes.api,
        *consent_routes.api,
        *continuity_routes.api,
        *inbox_routes.api,
        *invite_routes.api,
        *meeting_routes.api,
        *plan_routes.api,
        *print_routes.api,
        *session_routes.api,
        *survey_routes.api,
        *unit_routes.api,
        *worklist_routes.api,
    ]


def page_routes() -> list[Route]:
    """HTML pages and redirects outside the JSON API (sign-in, invitations)."""
    return [*oidc_routes.ROUTES, *invite_routes.ROUTES]


def _openapi_json(api_endpoints: list[Endpoint]) -> Route:
    async def openapi_json(request: Request) -> Response:
        services: Services = request.app.state.services
        return JSONResponse(openapi.document(api_endpoints, services.settings.base_url))

    return Route("/api/openapi.json", openapi_json, methods=["GET"])


async def not_found(request: Request, exc: Exception) -> Response:
    return common.error_response("not-found", "Fant ikke siden (no such address).")


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return common.error_response("malformed", "Method not allowed here.", 405)


def _index(dist: Path) -> Route:
    async def index(request: Request) -> Response:
        if request.url.path.startswith(("/api/", "/auth/")):
            return common.error_response("not-found", "Fant ikke siden (no such address).")
        page = dist / "index.html"
        if not page.exists():
            return PlainTextResponse(
                "Planrom: the web client is not built (run `make run`).", status_code=503
            )
        return FileResponse(page, headers={"cache-control": "no-cache"})

    return Route("/{path:path}", index, methods=["GET"])


def _realtime(sio: socketio.AsyncServer, services: Services) -> Namespace:
    """The realtime namespace, its parts made here in the order they depend on each other
    (none holds a pointer back to the namespace or to a part made after it)."""
    settings = services.settings
    bridge = RedisBridge(settings.redis_url, secrets.token_hex(8)) if settings.redis_url else None
    connections = Connections(sio, services)
    known = KnownPersons(services)  # awareness names follow policy
    docs = Documents(connections, known, bridge)
    meetings = MeetingEvents(connections, docs, bridge)
    revocation = Revocation(connections, docs, meetings, known)
    namespace = Namespace(connections, docs, meetings, revocation, bridge)
    namespace.register()
    return namespace


def create_app(settings: Settings, *, services: Services | None = None) -> Any:
    """An ASGI app serving the API, Socket.IO and the web client."""
    require_secret_key(settings)  # never sign sessions with an empty key
    if services is None:
        engine = make_engine(settings.database_url)
        services = Services(
            settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine)
        )
    if settings.redis_url:
        manager: socketio.AsyncManager = socketio.AsyncRedisManager(settings.redis_url)
    else:
        manager = socketio.AsyncManager()
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=[],
        # Engine.IO drops a connection past this; leave room so that an oversized
        # document message gets the contract's error instead (see the hub).
        max_http_buffer_size=2 * settings.max_doc_message_bytes + 4096,
        # Binary events carry at most one attachment (server/realtime/packets.py).
        serializer=BoundedPacket,
        http_compression=False,
        compression_threshold=1 << 30,
        ping_interval=10,
        ping_timeout=10,
    )
    realtime = _realtime(sio, services)
    services.realtime = realtime
    services.on_access_change = meeting_service.access_changed

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.demo:
            log.warning("DEMO MODE IS ON: demo tokens and sign-in links are accepted.")
        workers = WorkerPool(
            workers=settings.workers,
            time_limit=settings.worker_time_limit_seconds,
            max_waiting=settings.worker_max_waiting,
            failure_ttl=settings.render_failure_ttl_seconds,
            metrics=services.metrics,
        )
        async with workers.running():
            services.workers = workers
            realtime.docs.store.snapshot_builder = workers.build_snapshot
            try:
                async with (
                    realtime.running(),
                    services.denials.running(services.sessionmaker),
                    services.effects.running(services.sessionmaker, realtime.edit_as),
                    Reminders(services).running(),
                ):
                    yield
            finally:
                realtime.docs.store.snapshot_builder = None
                services.workers = None
        await services.engine.dispose()

    api_endpoints = endpoints()
    routes: list[Route | Mount] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        _openapi_json(api_endpoints),
        *common.starlette_routes(api_endpoints),
        *page_routes(),
    ]
    dist = settings.web_dist
    routes.append(Mount("/static", StaticFiles(directory=dist, check_dir=False), name="static"))
    routes.append(_index(dist))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders, hsts=settings.secure_cookies)],
        exception_handlers={404: not_found, 405: method_not_allowed},
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.hub = realtime  # the realtime namespace (tests reach its parts)
    asgi = socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io")
    asgi.state = app.state
    return asgi
