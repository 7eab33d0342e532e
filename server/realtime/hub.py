"""Document sync over Socket.IO: ``doc:join``/``doc:msg``/``doc:leave``, awareness, and
re-deciding the access of joined documents.

Owns this process's documents in memory (``collab.rooms`` over ``SqlDocStore``) and the
awareness it has seen. Every event is treated as hostile: shapes are checked, sizes and
rates bounded, and access comes from ``server.realtime.access`` (which asks
``collab.policy``). Connections come from ``server.realtime.connections``; meetings and
the access poll are other parts of the namespace (``server.realtime.namespace``), which
this module does not know.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from collab.docs import parse_doc_name
from collab.editing import YDoc, make_edit, new_client_id
from collab.rooms import DocRoom, Rooms, RoomSettings, clients_in_update
from collab.yproto import (
    EMPTY_UPDATE,
    AwarenessMessage,
    AwarenessState,
    SyncMessage,
    SyncStep,
    awareness_json,
    decode,
    encode_awareness,
    encode_sync,
)
from server.db.docstore import SqlDocStore
from server.db.engine import read_only
from server.realtime import visibility
from server.realtime.access import Resolver
from server.realtime.bridge import RedisBridge
from server.realtime.connections import Conn, Connections, Joined, ok
from server.refusals import ack
from server.runtime import utcnow

log = logging.getLogger("planrom.realtime")

MAX_CLIENT_ID = 2**53 - 1
CLIENT_ID_WINDOW = timedelta(days=1)  # settings.max_client_ids_per_person_day counts in it
OPENED_REMEMBERED = 20_000  # (person, document) pairs whose last `open` entry is remembered


def _shown_by(state: dict[str, Any]) -> Any:
    """The person an awareness state was stamped with (the server sets ``user``)."""
    user = state.get("user")
    return user.get("id") if isinstance(user, dict) else None


class Documents:
    """The documents part of the realtime namespace."""

    def __init__(
        self,
        connections: Connections,
        known: visibility.KnownPersons,
        bridge: RedisBridge | None,
    ) -> None:
        self.connections = connections
        self.sio = connections.sio
        self.services = services = connections.services
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
        # doc → clientID → (clock, state): the awareness this process has seen.
        self.awareness: dict[str, dict[int, tuple[int, dict[str, Any]]]] = {}
        self.bridge = bridge
        # (person, document) → when its last `open` was logged (bounded, oldest dropped).
        self._opened: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.known = known  # awareness names follow policy

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Documents]:
        async with self.store.running(), self.rooms.running():
            yield self

    async def left_all(self, conn: Conn) -> None:
        """A closed connection leaves every document it had joined."""
        for name in list(conn.docs):
            await self._leave(conn, name)

    # --- documents --------------------------------------------------------------------

    async def on_doc_join(self, conn: Conn, data: Any = None, *_: Any) -> dict[str, Any]:
        name = data.get("doc") if isinstance(data, dict) else None
        if isinstance(name, str) and name not in conn.docs and name not in conn.joining:
            # Every joined document stays in memory: a connection holds a bounded number.
            if len(conn.docs) + len(conn.joining) >= self.services.settings.max_docs_per_connection:
                self.services.metrics.count_error("rate-limited")
                return ack("rate-limited", "Too many open documents; leave one first.")
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
            return ack("malformed", "doc:join takes {doc, client_id}.")
        name, client_id = data.get("doc"), data.get("client_id")
        ref = parse_doc_name(name)
        if ref is None:
            return ack("malformed", "Not a document name.")
        assert isinstance(name, str)
        if (
            not isinstance(client_id, int)
            or isinstance(client_id, bool)
            or not 0 <= client_id <= MAX_CLIENT_ID
        ):
            return ack("malformed", "client_id must be a Yjs clientID (a whole number).")
        # Before any database work: a connection that keeps joining one document with new
        # clientIDs (to show thousands of awareness states) is refused here, cheaply.
        joined_with = conn.doc_clients.get(name, set())
        if (
            client_id not in joined_with
            and len(joined_with) >= self.services.settings.max_client_ids_per_doc
        ):
            self.services.metrics.count_error("rate-limited")
            return ack("rate-limited", "Too many clientIDs on this document; leave it first.")
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
            await self.connections.log(
                found.plan, conn, "denied", f"doc:{name}", found.decision.reason
            )
            code = found.decision.code or "forbidden"
            return ack(
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
                    await self.connections.log_in(
                        session,
                        found.plan,
                        conn,
                        "denied",
                        f"doc:{name}",
                        "clientID bound to someone else",
                    )
                elif log_open:
                    await self.connections.log_in(
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
                return ack("rate-limited", "Too many new clientIDs today; reuse one.")
            if owner != person:
                return ack("foreign-client", "That clientID belongs to someone else.")
            if log_open and found.plan is not None:
                self._open_logged(person, name)
            conn.clients.add(client_id)
        conn.doc_clients.setdefault(name, set()).add(client_id)
        room = await self.rooms.get(name)
        if conn.sid not in self.connections.conns:  # disconnected while loading
            return ack("unauthenticated", "Disconnected.")
        self.rooms.join(room, conn.sid)
        await self.sio.enter_room(conn.sid, f"doc:{name}")
        conn.docs[name] = Joined(ref, found.plan, found.access)
        self.services.metrics.count_event("doc:join")
        return ok(access=found.access)

    async def on_doc_leave(self, conn: Conn, data: Any = None, *_: Any) -> dict[str, Any]:
        name = data.get("doc") if isinstance(data, dict) else None
        if not isinstance(name, str) or name not in conn.docs:
            return ack("not-joined", "Not joined to that document.")
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
            return ack("malformed", "doc:msg takes (doc, bytes).")
        joined = conn.docs.get(name)
        if joined is None:
            return ack("not-joined", "Join the document first.")
        if len(data) > self.services.settings.max_doc_message_bytes:
            return ack("malformed", "Message too large.")
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
            return ack("forbidden", "You may read this document but not change it.")
        clients = clients_in_update(update, self.rooms.settings.limits)
        unknown = clients - conn.clients
        if unknown:
            owners = await self.store.owners_of(unknown)
            mine = {c for c in unknown if owners.get(c) == conn.principal.person}
            if mine != unknown:
                await self.connections.log(
                    joined.plan,
                    conn,
                    "denied",
                    f"doc:{room.name}",
                    "update carries another person's clientID",
                )
                return ack("foreign-client", "The change contains someone else's edits.")
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
        for conn in list(self.connections.conns.values()):
            for name in [n for n in conn.docs if n.startswith(prefix)]:
                await self.revoke(conn, name, reason)

    def remote_update(self, name: str, seq: int, update: bytes) -> None:
        self.rooms.apply_remote(name, update, seq)
        if self.bridge is not None:  # a lost message before this one: resync from storage
            self.bridge.resync_after_gap(
                self.rooms,
                lambda doc, missing: self.sio.emit(
                    "doc:msg", (doc, encode_sync(SyncStep.UPDATE, missing)), room=f"doc:{doc}"
                ),
            )

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
                return ack("foreign-client", "Awareness for someone else's clientID.")
            if state.state is None:
                stamped.append(state)
                continue
            verified = dict(state.state)
            verified["user"] = {"id": conn.principal.person, "name": conn.principal.name}
            if len(awareness_json(verified)) > settings.max_awareness_state_bytes:
                self.services.metrics.count_error("too-large")
                return ack("too-large", "Awareness state too large.")
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
            return ack("rate-limited", "Too many awareness states on this document.")
        # Over all their connections, one person shows a bounded number of states, so
        # that nobody can take every slot of the document.
        person = conn.principal.person
        held = {c for c, (_, st) in known.items() if _shown_by(st) == person}
        after_held = (held | after_shown) & after_known
        if len(after_held) > max(len(held), settings.max_awareness_states_per_person_doc):
            self.services.metrics.count_error("rate-limited")
            return ack("rate-limited", "You show as many awareness states here as you can.")
        if len(after_known) > max(len(known), settings.max_awareness_states_per_doc):
            self.services.metrics.count_error("rate-limited")
            return ack("rate-limited", "This document shows as many people as it can.")
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
            for c in list(self.connections.conns.values())
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
        """Re-decide every live document of a plan; revoke what may no longer be read."""
        await self._recheck(lambda name, joined: joined.plan == plan_id)

    async def _recheck(self, matches: Callable[[str, Joined], bool]) -> None:
        sessions = [
            (conn, name, joined)
            for conn in list(self.connections.conns.values())
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
                await self.connections.log_in(
                    session, joined.plan, conn, "read-only", f"doc:{name}", reason
                )

    async def revoke(self, conn: Conn, name: str, reason: str) -> None:
        joined = conn.docs.get(name)
        if joined is None:
            return
        await self._leave(conn, name)
        await self.sio.emit("doc:revoked", {"doc": name, "reason": reason}, to=conn.sid)
        self.services.metrics.count_event("doc:revoked")
        await self.connections.log(joined.plan, conn, "revoked", f"doc:{name}", reason)
