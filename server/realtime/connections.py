"""Socket.IO connections of this process: who is connected, and the frame of every event.

Owns the connection registry (``sid`` → :class:`Conn`, with the documents each has
joined), the origin check and authentication on connect, the per-connection rate limit,
the ``guard`` that turns every failure into a refusal, and the access-log entries of a
connection's actions. It does not know documents or meetings beyond the per-connection
state they keep in :class:`Conn`; those parts are given a ``Connections`` by
``server.app.create_app``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio
from sqlalchemy.ext.asyncio import AsyncSession

from collab.docs import DocRef
from collab.policy import Principal
from collab.refusal import RefusalCode, Refused
from collab.rooms import StoreUnavailable, TooLarge
from collab.yproto import Malformed
from server.auth.identity import SESSION_COOKIE, Authenticated, resolve_token, resolve_web_session
from server.db import audit
from server.db.denials import Denial
from server.realtime.access import Access
from server.refusals import ack, ack_refused
from server.runtime import Services
from server.settings import normalise_origin

log = logging.getLogger("planrom.realtime")

RATE_PER_SECOND = 100.0
RATE_BURST = 400.0
BYTES_PER_TOKEN = 4096  # a full 512 KiB message costs 129 tokens: about 1 a second


def ok(**extra: Any) -> dict[str, Any]:
    return {"ok": True, **extra}


@dataclass
class Joined:
    ref: DocRef
    plan: str | None
    access: Access


@dataclass
class Conn:
    sid: str
    principal: Principal
    session_hash: str | None
    docs: dict[str, Joined] = field(default_factory=dict)
    clients: set[int] = field(default_factory=set)  # Yjs clientIDs bound to this person
    awareness: dict[str, set[int]] = field(default_factory=dict)  # doc → clientIDs shown
    # doc → clientIDs joined with while joined (capped; forgotten on leave)
    doc_clients: dict[str, set[int]] = field(default_factory=dict)
    joining: set[str] = field(default_factory=set)  # documents with a doc:join under way
    tokens: float = RATE_BURST
    refilled: float = field(default_factory=time.monotonic)

    def take(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(RATE_BURST, self.tokens + (now - self.refilled) * RATE_PER_SECOND)
        self.refilled = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True


class Connections:
    """The connections of this process and the frame every event handler runs in."""

    def __init__(self, sio: socketio.AsyncServer, services: Services) -> None:
        self.sio = sio
        self.services = services
        self.conns: dict[str, Conn] = {}

    def guard(
        self, handler: Callable[..., Awaitable[dict[str, Any]]]
    ) -> Callable[..., Awaitable[dict[str, Any]]]:
        """Authenticated, rate-limited, and never an unhandled exception to the client."""

        async def run(sid: str, *args: Any) -> dict[str, Any]:
            conn = self.conns.get(sid)
            if conn is None:
                return ack("unauthenticated", "Not signed in.")
            # A message costs one token, and one more per BYTES_PER_TOKEN of binary data:
            # reading a large update is work, so large ones come slower than keystrokes.
            size = sum(len(a) for a in args if isinstance(a, bytes | bytearray))
            if not conn.take(1.0 + size / BYTES_PER_TOKEN):
                self.services.metrics.count_error("rate-limited")
                return ack("rate-limited", "Too many messages; slow down.")
            try:
                return await handler(conn, *args)
            except TooLarge as exc:
                self.services.metrics.count_error("too-large")
                return ack("too-large", str(exc))
            except Malformed as exc:
                return ack("malformed", str(exc))
            except Refused as exc:
                return ack_refused(exc)
            except StoreUnavailable:
                return ack("unavailable", "Could not save right now; try again.")
            except Exception:
                log.exception("event from %s failed", sid)
                return ack("unavailable", "Something went wrong on the server.")
            except BaseException as exc:  # a Yrs panic (pyo3's PanicException)
                if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                    raise
                log.exception("event from %s failed", sid)
                return ack("unavailable", "Something went wrong on the server.")

        return run

    async def on_unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        return ack("malformed", "Unknown event.")

    async def _authenticate(self, environ: dict[str, Any], auth: Any) -> Authenticated | None:
        services = self.services
        now = services.clock()
        async with services.sessionmaker() as session, session.begin():
            if isinstance(auth, dict) and auth.get("token") is not None:
                token = auth["token"]
                if not isinstance(token, str):
                    return None
                return await resolve_token(session, token, now=now, settings=services.settings)
            raw_cookie = environ.get("HTTP_COOKIE", "")
            if not raw_cookie or len(raw_cookie) > 8192:
                return None
            try:
                jar = SimpleCookie(raw_cookie)
            except CookieError:
                return None
            morsel = jar.get(SESSION_COOKIE)
            if morsel is None:
                return None
            return await resolve_web_session(
                session, morsel.value, now=now, settings=services.settings
            )

    @staticmethod
    def _refuse_connect(
        code: RefusalCode, message: str
    ) -> socketio.exceptions.ConnectionRefusedError:
        refused = socketio.exceptions.ConnectionRefusedError(code)
        # Socket.IO's connect_error carries {message, data}: browsers read err.data,
        # Python clients the whole object; both find {"code": code}.
        refused.error_args = {
            "message": code,
            "code": code,
            "data": {"code": code, "message": message},
        }
        return refused

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        # Cross-site sockets: a page on another site may not use the person's cookie (or
        # a token it holds) to talk to us. Checked before anything touches the database.
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and (
            normalise_origin(origin) not in self.services.settings.socket_origins
        ):
            self.services.metrics.count_error("forbidden")
            raise self._refuse_connect("forbidden", "This site may not connect to Planrom.")
        found = await self._authenticate(environ, auth)
        if found is None:
            raise self._refuse_connect("unauthenticated", "Sign in first.")
        if (
            origin is None
            and found.session_hash is not None
            # A browser sends no Origin on a same-origin GET (the long-polling handshake),
            # but always says where a request comes from in Sec-Fetch-Site, which no page
            # can set. Anything else presenting a cookie without an Origin is refused.
            and environ.get("HTTP_SEC_FETCH_SITE") != "same-origin"
        ):
            self.services.metrics.count_error("forbidden")
            raise self._refuse_connect(
                "forbidden", "A browser connection must come from Planrom's own pages."
            )
        person = found.principal.person
        settings = self.services.settings
        if sum(c.principal.person == person for c in self.conns.values()) >= (
            settings.max_connections_per_person
        ):
            self.services.metrics.count_error("rate-limited")
            raise self._refuse_connect(
                "rate-limited", "Too many open connections; close a tab or window first."
            )
        self.conns[sid] = Conn(sid, found.principal, found.session_hash)
        self.services.metrics.set_gauge("realtime_connections", len(self.conns))

    def drop(self, sid: str) -> Conn | None:
        """Forget a closed connection; the namespace then has it leave its documents and
        meetings."""
        conn = self.conns.pop(sid, None)
        if conn is not None:
            self.services.metrics.set_gauge("realtime_connections", len(self.conns))
        return conn

    # --- the access log ---------------------------------------------------------------

    async def log(
        self, plan: str | None, conn: Conn, action: str, target: str, detail: str = ""
    ) -> None:
        if plan is None:
            return
        if action == "denied" and self.services.denials.absorb(
            self._denial(plan, conn, target, detail)
        ):
            return  # counted in memory: this window of the access log is full
        async with self.services.sessionmaker() as session, session.begin():
            await self.log_in(session, plan, conn, action, target, detail)

    def _denial(self, plan: str, conn: Conn, target: str, detail: str) -> Denial:
        return Denial(
            plan_id=plan,
            at=self.services.clock(),
            person_id=conn.principal.person,
            actor=conn.principal.name,
            target=target,
            detail=detail,
        )

    async def log_in(
        self,
        session: AsyncSession,
        plan: str | None,
        conn: Conn,
        action: str,
        target: str,
        detail: str = "",
        *,
        grounds: str = "",
    ) -> None:
        if plan is None:
            return
        if action == "denied":
            # Refusals are bounded per plan, person and day (server.db.denials).
            await self.services.denials.record(session, self._denial(plan, conn, target, detail))
            return
        await audit.append(
            session,
            plan_id=plan,
            at=self.services.clock(),
            person_id=conn.principal.person,
            actor=conn.principal.name,
            action=action,
            target=target,
            detail=detail,
            grounds=grounds,
        )
