"""Socket.IO transport: authenticated connections, document sync, live revocation.

Owns the connection registry of this process and the bridge between processes (Redis).
Every event is treated as hostile: shapes are checked, sizes and rates bounded, and
access comes from ``server.realtime.access`` (which asks ``collab.policy``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

import socketio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from collab import guardians
from collab.docs import DocRef, parse_doc_name
from collab.editing import YDoc, make_edit, new_client_id
from collab.model import Role
from collab.policy import Principal
from collab.rooms import (
    DocRoom,
    Rooms,
    RoomSettings,
    StoreUnavailable,
    TooLarge,
    clients_in_update,
)
from collab.yproto import (
    EMPTY_UPDATE,
    AwarenessMessage,
    AwarenessState,
    Malformed,
    SyncMessage,
    SyncStep,
    awareness_json,
    decode,
    encode_awareness,
    encode_sync,
)
from server.auth.identity import (
    SESSION_COOKIE,
    Authenticated,
    is_session_live,
    resolve_token,
    resolve_web_session,
)
from server.db import audit
from server.db.denials import Denial
from server.db.docstore import SqlDocStore
from server.db.engine import read_only
from server.db.models import (
    ConsentRow,
    MeasureRow,
    MeetingRow,
    ParticipantRow,
    PlanRow,
    SectionRow,
)
from server.realtime import visibility
from server.realtime.access import Access, Resolver
from server.realtime.bridge import RedisBridge
from server.runtime import Services, utcnow
from server.settings import normalise_origin

if TYPE_CHECKING:
    from server.realtime.meeting import MeetingEvents

log = logging.getLogger("planrom.realtime")

MAX_CLIENT_ID = 2**53 - 1
CLIENT_ID_WINDOW = timedelta(days=1)  # settings.max_client_ids_per_person_day counts in it
RATE_PER_SECOND = 100.0
RATE_BURST = 400.0
BYTES_PER_TOKEN = 4096  # a full 512 KiB message costs 129 tokens: about 1 a second
OPENED_REMEMBERED = 20_000  # (person, document) pairs whose last `open` entry is remembered


def ok(**extra: Any) -> dict[str, Any]:
    return {"ok": True, **extra}


def refuse(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


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


def _shown_by(state: dict[str, Any]) -> Any:
    """The person an awareness state was stamped with (the server sets ``user``)."""
    user = state.get("user")
    return user.get("id") if isinstance(user, dict) else None


class Hub:
    def __init__(self, sio: socketio.AsyncServer, services: Services) -> None:
        self.sio = sio
        self.services = services
        settings = services.settings
        self.store = SqlDocStore(services.sessionmaker)
        self.rooms = Rooms(
            self.store,
            RoomSettings(
                idle_unload_seconds=settings.doc_idle_unload_seconds,
                compact_after_updates=settings.snapshot_after_updates,
                max_doc_bytes=settings.max_doc_bytes,
            ),
        )
        self.rooms.on_unload = self._forget_awareness
        self.conns: dict[str, Conn] = {}
        # doc → clientID → (clock, state): the awareness this process has seen.
        self.awareness: dict[str, dict[int, tuple[int, dict[str, Any]]]] = {}
        self.process_id = secrets.token_hex(8)
        self.bridge: RedisBridge | None = None
        self._fingerprints: dict[str, tuple[Any, ...]] = {}
        self.meetings: MeetingEvents | None = None
        # (person, document) → when its last `open` was logged (bounded, oldest dropped).
        self._opened: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.known = visibility.KnownPersons(services)  # awareness names follow policy
        services.realtime = self
        self._register()

    # --- lifecycle ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Hub]:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.store.running())
            await stack.enter_async_context(self.rooms.running())
            if self.services.settings.redis_url:
                self.bridge = RedisBridge(
                    self.services.settings.redis_url,
                    self.process_id,
                    self._remote_update,
                    self._remote_meeting,
                )
                await stack.enter_async_context(self.bridge.running())
            tasks = await stack.enter_async_context(asyncio.TaskGroup())
            poller = tasks.create_task(self._poll_access())
            try:
                yield self
            finally:
                poller.cancel()

    def _register(self) -> None:
        sio = self.sio
        sio.on("connect", self.on_connect)
        sio.on("disconnect", self.on_disconnect)
        sio.on("doc:join", self.guard(self.on_doc_join))
        sio.on("doc:msg", self.guard(self.on_doc_msg))
        sio.on("doc:leave", self.guard(self.on_doc_leave))
        sio.on("*", self.on_unknown)

    def guard(
        self, handler: Callable[..., Awaitable[dict[str, Any]]]
    ) -> Callable[..., Awaitable[dict[str, Any]]]:
        """Authenticated, rate-limited, and never an unhandled exception to the client."""

        async def run(sid: str, *args: Any) -> dict[str, Any]:
            conn = self.conns.get(sid)
            if conn is None:
                return refuse("unauthenticated", "Not signed in.")
            # A message costs one token, and one more per BYTES_PER_TOKEN of binary data:
            # reading a large update is work, so large ones come slower than keystrokes.
            size = sum(len(a) for a in args if isinstance(a, bytes | bytearray))
            if not conn.take(1.0 + size / BYTES_PER_TOKEN):
                self.services.metrics.count_error("rate-limited")
                return refuse("rate-limited", "Too many messages; slow down.")
            try:
                return await handler(conn, *args)
            except TooLarge as exc:
                self.services.metrics.count_error("too-large")
                return refuse("too-large", str(exc))
            except Malformed as exc:
                return refuse("malformed", str(exc))
            except StoreUnavailable:
                return refuse("unavailable", "Could not save right now; try again.")
            except Exception:
                log.exception("event from %s failed", sid)
                return refuse("unavailable", "Something went wrong on the server.")
            except BaseException as exc:  # a Yrs panic (pyo3's PanicException)
                if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                    raise
                log.exception("event from %s failed", sid)
                return refuse("unavailable", "Something went wrong on the server.")

        return run

    async def on_unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        return refuse("malformed", "Unknown event.")

    # --- connections ------------------------------------------------------------------

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
    def _refuse_connect(code: str, message: str) -> socketio.exceptions.ConnectionRefusedError:
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

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        conn = self.conns.pop(sid, None)
        if conn is None:
            return
        if self.meetings is not None:
            await self.meetings.disconnected(conn)
        for name in list(conn.docs):
            await self._leave(conn, name)
        self.services.metrics.set_gauge("realtime_connections", len(self.conns))

    # --- documents --------------------------------------------------------------------

    async def _log(
        self, plan: str | None, conn: Conn, action: str, target: str, detail: str = ""
    ) -> None:
        if plan is None:
            return
        if action == "denied" and self.services.denials.absorb(
            self._denial(plan, conn, target, detail)
        ):
            return  # counted in memory: this window of the access log is full
        async with self.services.sessionmaker() as session, session.begin():
            await self._log_in(session, plan, conn, action, target, detail)

    def _denial(self, plan: str, conn: Conn, target: str, detail: str) -> Denial:
        return Denial(
            plan_id=plan,
            at=self.services.clock(),
            person_id=conn.principal.person,
            actor=conn.principal.name,
            target=target,
            detail=detail,
        )

    async def _log_in(
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

    async def on_doc_join(self, conn: Conn, data: Any = None, *_: Any) -> dict[str, Any]:
        name = data.get("doc") if isinstance(data, dict) else None
        if isinstance(name, str) and name not in conn.docs and name not in conn.joining:
            # Every joined document stays in memory: a connection holds a bounded number.
            if len(conn.docs) + len(conn.joining) >= self.services.settings.max_docs_per_connection:
                self.services.metrics.count_error("rate-limited")
                return refuse("rate-limited", "Too many open documents; leave one first.")
            conn.joining.add(name)
            try:
                return await self._doc_join(conn, data)
            finally:
                conn.joining.discard(name)
        return await self._doc_join(conn, data)

    def _open_logged_recently(self, person: str, name: str) -> bool:
        """Whether an `open` of ``name`` by ``person`` was logged within the window."""
        at = self._opened.get((person, name))
        return at is not None and time.monotonic() - at < (
            self.services.settings.open_log_window_seconds
        )

    def _open_logged(self, person: str, name: str) -> None:
        self._opened[(person, name)] = time.monotonic()
        self._opened.move_to_end((person, name))
        while len(self._opened) > OPENED_REMEMBERED:
            self._opened.popitem(last=False)

    async def _doc_join(self, conn: Conn, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            return refuse("malformed", "doc:join takes {doc, client_id}.")
        name, client_id = data.get("doc"), data.get("client_id")
        ref = parse_doc_name(name)
        if ref is None:
            return refuse("malformed", "Not a document name.")
        assert isinstance(name, str)
        if (
            not isinstance(client_id, int)
            or isinstance(client_id, bool)
            or not 0 <= client_id <= MAX_CLIENT_ID
        ):
            return refuse("malformed", "client_id must be a Yjs clientID (a whole number).")
        # Before any database work: a connection that keeps joining one document with new
        # clientIDs (to show thousands of awareness states) is refused here, cheaply.
        joined_with = conn.doc_clients.get(name, set())
        if (
            client_id not in joined_with
            and len(joined_with) >= self.services.settings.max_client_ids_per_doc
        ):
            self.services.metrics.count_error("rate-limited")
            return refuse("rate-limited", "Too many clientIDs on this document; leave it first.")
        async with self.services.sessionmaker() as session:
            await read_only(session)
            resolver = Resolver(session, self.services.clock())
            found = await resolver.resolve(conn.principal, ref)
            grounds = (
                await resolver.grounds(conn.principal, ref)
                if found.access is not None and name not in conn.docs
                else ""
            )
        if found.access is None:
            await self._log(found.plan, conn, "denied", f"doc:{name}", found.decision.reason)
            code = found.decision.code or "forbidden"
            return refuse(
                "not-found" if code == "conflict" else code,
                "No such document, or no consent to see it.",
            )
        first = name not in conn.docs
        person = conn.principal.person
        settings = self.services.settings
        # A join/leave loop must not flood the owner's log: one `open` per person,
        # document and window (later joins are allowed, not logged).
        log_open = first and not self._open_logged_recently(person, name)
        if client_id not in conn.clients or log_open:
            # Binding the clientID and the owner's access-log entry: one transaction.
            async with self.services.sessionmaker() as session, session.begin():
                owner: str | None = person
                if client_id not in conn.clients:
                    owner = await self.store.bind_client_capped_in(
                        session,
                        client_id,
                        person,
                        since=utcnow() - CLIENT_ID_WINDOW,
                        limit=settings.max_client_ids_per_person_day,
                    )
                if owner is None:
                    pass  # over the day's cap: nothing written, nothing logged
                elif owner != person:
                    await self._log_in(
                        session,
                        found.plan,
                        conn,
                        "denied",
                        f"doc:{name}",
                        "clientID bound to someone else",
                    )
                elif log_open:
                    await self._log_in(
                        session,
                        found.plan,
                        conn,
                        "open",
                        f"doc:{name}",
                        found.access,
                        grounds=grounds,
                    )
            if owner is None:
                self.services.metrics.count_error("rate-limited")
                return refuse("rate-limited", "Too many new clientIDs today; reuse one.")
            if owner != person:
                return refuse("foreign-client", "That clientID belongs to someone else.")
            if log_open and found.plan is not None:
                self._open_logged(person, name)
            conn.clients.add(client_id)
        conn.doc_clients.setdefault(name, set()).add(client_id)
        room = await self.rooms.get(name)
        if conn.sid not in self.conns:  # disconnected while loading
            return refuse("unauthenticated", "Disconnected.")
        self.rooms.join(room, conn.sid)
        await self.sio.enter_room(conn.sid, f"doc:{name}")
        conn.docs[name] = Joined(ref, found.plan, found.access)
        self.services.metrics.count_event("doc:join")
        return ok(access=found.access)

    async def on_doc_leave(self, conn: Conn, data: Any = None, *_: Any) -> dict[str, Any]:
        name = data.get("doc") if isinstance(data, dict) else None
        if not isinstance(name, str) or name not in conn.docs:
            return refuse("not-joined", "Not joined to that document.")
        await self._leave(conn, name)
        return ok()

    async def _leave(self, conn: Conn, name: str) -> None:
        conn.docs.pop(name, None)
        self.rooms.leave(name, conn.sid)
        with contextlib.suppress(Exception):
            await self.sio.leave_room(conn.sid, f"doc:{name}")
        conn.doc_clients.pop(name, None)
        gone = conn.awareness.pop(name, set())
        if gone:
            known = self.awareness.get(name, {})
            states = []
            for client in gone:
                clock = known.pop(client, (0, {}))[0]
                states.append(AwarenessState(client, clock + 1, None))
            await self.sio.emit(
                "doc:msg", (name, encode_awareness(tuple(states))), room=f"doc:{name}"
            )

    async def on_doc_msg(
        self, conn: Conn, name: Any = None, data: Any = None, *_: Any
    ) -> dict[str, Any]:
        if not isinstance(name, str) or not isinstance(data, bytes | bytearray):
            return refuse("malformed", "doc:msg takes (doc, bytes).")
        joined = conn.docs.get(name)
        if joined is None:
            return refuse("not-joined", "Join the document first.")
        if len(data) > self.services.settings.max_doc_message_bytes:
            return refuse("malformed", "Message too large.")
        message = decode(bytes(data))
        room = await self.rooms.get(name)
        if isinstance(message, AwarenessMessage):
            return await self._awareness(conn, room, message)
        assert isinstance(message, SyncMessage)
        if message.step is SyncStep.STEP1:
            await self.sio.emit(
                "doc:msg",
                (name, encode_sync(SyncStep.STEP2, room.diff(message.payload))),
                to=conn.sid,
            )
            await self.sio.emit(
                "doc:msg", (name, encode_sync(SyncStep.STEP1, room.state_vector())), to=conn.sid
            )
            known = self.awareness.get(name)
            if known:
                states = tuple(AwarenessState(c, clock, s) for c, (clock, s) in known.items())
                persons = await self.known.of(joined.plan, conn.principal)
                states = visibility.anonymised(name, states, persons, conn.principal.person)
                await self.sio.emit("doc:msg", (name, encode_awareness(states)), to=conn.sid)
            return ok()
        return await self._update(conn, joined, room, message.payload)

    async def _update(
        self, conn: Conn, joined: Joined, room: DocRoom, update: bytes
    ) -> dict[str, Any]:
        if update == EMPTY_UPDATE:
            return ok()
        if joined.access != "write" or conn.docs.get(room.name) is not joined:
            self.services.metrics.count_error("forbidden")
            return refuse("forbidden", "You may read this document but not change it.")
        clients = clients_in_update(update, self.rooms.settings.limits)
        unknown = clients - conn.clients
        if unknown:
            owners = await self.store.owners_of(unknown)
            mine = {c for c in unknown if owners.get(c) == conn.principal.person}
            if mine != unknown:
                await self._log(
                    joined.plan,
                    conn,
                    "denied",
                    f"doc:{room.name}",
                    "update carries another person's clientID",
                )
                return refuse("foreign-client", "The change contains someone else's edits.")
            conn.clients |= mine
        seq = await self.rooms.apply(room, update, person=conn.principal.person, origin="client")
        await self.broadcast_update(room.name, update, seq, skip_sid=conn.sid)
        self.services.metrics.count_event("doc:update")
        return ok(seq=seq)

    async def broadcast_update(
        self, name: str, update: bytes, seq: int, skip_sid: str | None = None
    ) -> None:
        await self.sio.emit(
            "doc:msg",
            (name, encode_sync(SyncStep.UPDATE, update)),
            room=f"doc:{name}",
            skip_sid=skip_sid,
        )
        if self.bridge is not None:
            await self.bridge.publish(name, seq, update)

    async def edit_as(self, person: str, name: str, edit: Callable[[YDoc], None]) -> int:
        """The server-side editing API: apply ``edit`` to document ``name`` on behalf of
        ``person`` (already authorised by the caller), attributed to them, stored durably,
        then sent to everyone joined. Returns the update's sequence number."""
        room = await self.rooms.get(name)
        client_id = new_client_id()
        await self.store.bind_client(client_id, person)
        update = make_edit(room.doc.get_update(), client_id, edit)
        if update == EMPTY_UPDATE:
            return room.last_seq
        seq = await self.rooms.apply(room, update, person=person, origin="server")
        await self.broadcast_update(name, update, seq)
        return seq

    async def document_state(self, name: str) -> bytes:
        room = await self.rooms.get(name)
        return bytes(room.doc.get_update())

    async def close_documents(self, prefix: str, reason: str) -> None:
        for conn in list(self.conns.values()):
            for name in [n for n in conn.docs if n.startswith(prefix)]:
                await self.revoke(conn, name, reason)

    async def meeting_changed(self, meeting_id: str) -> None:
        """A meeting changed over HTTP: tell members here and on the other processes."""
        if self.meetings is not None:
            await self.meetings.after_change(meeting_id)
        elif self.bridge is not None:
            await self.bridge.publish_meeting(meeting_id)

    def _remote_update(self, name: str, seq: int, update: bytes) -> None:
        self.rooms.apply_remote(name, update, seq)
        if self.bridge is not None:  # a lost message before this one: resync from storage
            self.bridge.resync_after_gap(
                self.rooms,
                lambda doc, missing: self.sio.emit(
                    "doc:msg", (doc, encode_sync(SyncStep.UPDATE, missing)), room=f"doc:{doc}"
                ),
            )

    async def _remote_meeting(self, meeting_id: str) -> None:
        """Another process changed a meeting: tell our members, re-decide item documents."""
        if self.meetings is not None:
            await self.meetings.broadcast(meeting_id)
        await self.recheck_prefix(f"meeting:{meeting_id}:")

    async def _awareness(
        self, conn: Conn, room: DocRoom, message: AwarenessMessage
    ) -> dict[str, Any]:
        """Check the whole message, then keep and relay it (all or nothing)."""
        settings = self.services.settings
        known = self.awareness.get(room.name, {})
        shown = conn.awareness.get(room.name, set())
        stamped: list[AwarenessState] = []
        for state in message.states:
            if state.client not in conn.clients:
                return refuse("foreign-client", "Awareness for someone else's clientID.")
            if state.state is None:
                stamped.append(state)
                continue
            verified = dict(state.state)
            verified["user"] = {"id": conn.principal.person, "name": conn.principal.name}
            if len(awareness_json(verified)) > settings.max_awareness_state_bytes:
                self.services.metrics.count_error("too-large")
                return refuse("too-large", "Awareness state too large.")
            stamped.append(AwarenessState(state.client, state.clock, verified))
        # What this connection and the document would show after the message.
        after_shown, after_known = set(shown), set(known)
        for state in stamped:
            if state.state is None:
                after_shown.discard(state.client)
                after_known.discard(state.client)
            else:
                after_shown.add(state.client)
                after_known.add(state.client)
        if len(after_shown) > max(len(shown), settings.max_awareness_states_per_doc_conn):
            self.services.metrics.count_error("rate-limited")
            return refuse("rate-limited", "Too many awareness states on this document.")
        # Over all their connections, one person shows a bounded number of states, so
        # that nobody can take every slot of the document.
        person = conn.principal.person
        held = {c for c, (_, st) in known.items() if _shown_by(st) == person}
        after_held = (held | after_shown) & after_known
        if len(after_held) > max(len(held), settings.max_awareness_states_per_person_doc):
            self.services.metrics.count_error("rate-limited")
            return refuse("rate-limited", "You show as many awareness states here as you can.")
        if len(after_known) > max(len(known), settings.max_awareness_states_per_doc):
            self.services.metrics.count_error("rate-limited")
            return refuse("rate-limited", "This document shows as many people as it can.")
        known = self.awareness.setdefault(room.name, known)
        shown = conn.awareness.setdefault(room.name, shown)
        for state in stamped:
            if state.state is None:
                known.pop(state.client, None)
                shown.discard(state.client)
            else:
                known[state.client] = (state.clock, state.state)
                shown.add(state.client)
        if not shown:
            conn.awareness.pop(room.name, None)
        if not known:
            self.awareness.pop(room.name, None)
        # Named to those here who may know of the sender; anonymised to everyone else.
        plan = conn.docs[room.name].plan
        named = [
            c.sid
            for c in list(self.conns.values())
            if c.sid != conn.sid
            and room.name in c.docs
            and conn.principal.person in await self.known.of(plan, c.principal)
        ]
        hidden = visibility.anonymised(room.name, stamped, frozenset(), "")
        await self.sio.emit(
            "doc:msg",
            (room.name, encode_awareness(hidden)),
            room=f"doc:{room.name}",
            skip_sid=[conn.sid, *named],
        )
        for sid in named:
            await self.sio.emit("doc:msg", (room.name, encode_awareness(stamped)), to=sid)
        return ok()

    def _forget_awareness(self, name: str) -> None:
        self.awareness.pop(name, None)

    # --- revocation ---------------------------------------------------------------------

    async def recheck_prefix(self, prefix: str) -> None:
        """Re-decide every live document whose name starts with ``prefix``."""
        await self._recheck(lambda name, joined: name.startswith(prefix))

    async def recheck_plan(self, plan_id: str) -> None:
        """Re-decide every live document and meeting room of a plan; revoke what may no
        longer be read."""
        await self._recheck(lambda name, joined: joined.plan == plan_id)
        if self.meetings is not None:
            await self.meetings.recheck_plan(plan_id)

    async def _recheck(self, matches: Callable[[str, Joined], bool]) -> None:
        sessions = [
            (conn, name, joined)
            for conn in list(self.conns.values())
            for name, joined in list(conn.docs.items())
            if matches(name, joined)
        ]
        if not sessions:
            return
        lost: list[tuple[Conn, str, str]] = []
        changed: list[tuple[Conn, str, Joined, str]] = []
        async with self.services.sessionmaker() as session:
            await read_only(session)
            resolver = Resolver(session, self.services.clock())
            for conn, name, joined in sessions:
                found = await resolver.resolve(conn.principal, joined.ref)
                if found.access is None:
                    # Refuse writes at once; the revocation itself follows below.
                    joined.access = "read"
                    lost.append((conn, name, found.decision.reason))
                elif found.access != joined.access:
                    # Takes effect for the next message, before anyone is told.
                    joined.access = found.access
                    changed.append((conn, name, joined, found.decision.reason))
        for conn, name, reason in lost:
            await self.revoke(conn, name, reason)
        await self._announce_access(changed)

    async def _announce_access(self, changed: list[tuple[Conn, str, Joined, str]]) -> None:
        """``doc:access`` to each connection whose access changed while joined; a loss of
        write access (read-only from now on) goes into the owner's access log."""
        downgraded: list[tuple[Conn, str, Joined, str]] = []
        for conn, name, joined, reason in changed:
            if conn.docs.get(name) is not joined:
                continue  # left or revoked meanwhile
            access = joined.access
            await self.sio.emit(
                "doc:access", {"doc": name, "access": access, "reason": reason}, to=conn.sid
            )
            self.services.metrics.count_event("doc:access")
            if access == "read":
                downgraded.append((conn, name, joined, reason))
        if not downgraded:
            return
        async with self.services.sessionmaker() as session, session.begin():
            for conn, name, joined, reason in downgraded:
                await self._log_in(session, joined.plan, conn, "read-only", f"doc:{name}", reason)

    async def revoke(self, conn: Conn, name: str, reason: str) -> None:
        joined = conn.docs.get(name)
        if joined is None:
            return
        await self._leave(conn, name)
        await self.sio.emit("doc:revoked", {"doc": name, "reason": reason}, to=conn.sid)
        self.services.metrics.count_event("doc:revoked")
        await self._log(joined.plan, conn, "revoked", f"doc:{name}", reason)

    async def _fingerprint(self, plans: set[str]) -> dict[str, tuple[Any, ...]]:
        now = self.services.clock()
        out: dict[str, tuple[Any, ...]] = {p: () for p in plans}
        async with self.services.sessionmaker() as session:
            await read_only(session)
            consent = await session.execute(
                select(ConsentRow.plan_id, func.max(ConsentRow.version))
                .where(ConsentRow.plan_id.in_(plans))
                .group_by(ConsentRow.plan_id)
            )
            latest = {p: v for p, v in consent.all()}
            periods = await session.execute(
                select(
                    ConsentRow.plan_id,
                    ConsentRow.version,
                    ConsentRow.valid_from,
                    ConsentRow.valid_to,
                ).where(ConsentRow.plan_id.in_(plans))
            )
            in_force = {
                p: (vf <= now and (vt is None or now < vt))
                for p, v, vf, vt in periods.all()
                if latest.get(p) == v
            }
            people = await session.execute(
                select(ParticipantRow.plan_id, func.sum(ParticipantRow.version), func.count())
                .where(ParticipantRow.plan_id.in_(plans))
                .group_by(ParticipantRow.plan_id)
            )
            people_fp = {p: (int(s or 0), int(c)) for p, s, c in people.all()}
            measures = await session.execute(
                select(MeasureRow.plan_id, func.sum(MeasureRow.version), func.count())
                .where(MeasureRow.plan_id.in_(plans))
                .group_by(MeasureRow.plan_id)
            )
            measure_fp = {p: (int(s or 0), int(c)) for p, s, c in measures.all()}
            meetings = await session.execute(
                select(MeetingRow.plan_id, func.sum(MeetingRow.version), func.count())
                .where(MeetingRow.plan_id.in_(plans))
                .group_by(MeetingRow.plan_id)
            )
            meeting_fp = {p: (int(s or 0), int(c)) for p, s, c in meetings.all()}
            # Closing or reopening a plan, archiving a section: read-only or writable again.
            statuses = await session.execute(
                select(PlanRow.id, PlanRow.status).where(PlanRow.id.in_(plans))
            )
            status_fp = {p: st for p, st in statuses.all()}
            archived = await session.execute(
                select(SectionRow.plan_id, SectionRow.id)
                .where(SectionRow.plan_id.in_(plans), SectionRow.archived.is_(True))
                .order_by(SectionRow.id)
            )
            # A guardian's full access ends when a date passes (collab.guardians): the
            # poll notices the day change, and nothing else need happen for it.
            guardian_rows = await session.execute(
                select(
                    ParticipantRow.plan_id,
                    ParticipantRow.id,
                    ParticipantRow.access_until,
                    PlanRow.owner_born,
                )
                .join(PlanRow, PlanRow.id == ParticipantRow.plan_id)
                .where(
                    ParticipantRow.plan_id.in_(plans),
                    ParticipantRow.role == Role.GUARDIAN.value,
                )
                .order_by(ParticipantRow.id)
            )
            today = guardians.oslo_day(now)
            ended_fp: dict[str, tuple[tuple[str, bool], ...]] = {}
            for p, pid, until, born in guardian_rows.all():
                ends = guardians.access_until(Role.GUARDIAN, until, born)
                ended_fp[p] = (*ended_fp.get(p, ()), (pid, ends is not None and today >= ends))
            archived_fp: dict[str, tuple[str, ...]] = {}
            for p, section in archived.all():
                archived_fp[p] = (*archived_fp.get(p, ()), section)
        for p in plans:
            out[p] = (
                latest.get(p),
                in_force.get(p),
                people_fp.get(p),
                measure_fp.get(p),
                meeting_fp.get(p),
                status_fp.get(p),
                archived_fp.get(p, ()),
                ended_fp.get(p, ()),
            )
        return out

    async def _poll_access(self) -> None:
        """Catch what no request here told us: expiry, and changes made by other processes."""
        interval = self.services.settings.consent_poll_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.poll_once()
            except Exception:
                log.exception("access poll failed")

    async def poll_once(self) -> None:
        plans = {j.plan for c in self.conns.values() for j in c.docs.values() if j.plan}
        if plans:
            current = await self._fingerprint(plans)
            for plan, fp in current.items():
                # A plan seen for the first time is re-checked too: its access may have
                # changed between a join and this poll.
                if self._fingerprints.get(plan) != fp:
                    self._fingerprints[plan] = fp
                    await self.recheck_plan(plan)
            for plan in set(self._fingerprints) - plans:
                del self._fingerprints[plan]
        await self._check_sessions()

    async def _check_sessions(self) -> None:
        now = self.services.clock()
        cookie_conns = [c for c in self.conns.values() if c.session_hash is not None]
        if not cookie_conns:
            return
        async with self.services.sessionmaker() as session:
            await read_only(session)
            for conn in cookie_conns:
                assert conn.session_hash is not None
                if not await is_session_live(
                    session, conn.session_hash, now=now, settings=self.services.settings
                ):
                    await self.sio.disconnect(conn.sid)
