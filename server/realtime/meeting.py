"""Socket.IO meeting events (PROTOCOL.md "Meeting events"): join, chair commands, and a
per-person ``meeting:state`` after every change (each sees only the items they may read).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from collab import meeting as sm
from collab import policy
from collab.model import is_id
from collab.policy import Principal
from collab.refusal import Refused
from server import meeting_service
from server.db import audit
from server.db.engine import read_only
from server.realtime.bridge import RedisBridge
from server.realtime.connections import Conn, Connections
from server.realtime.hub import Documents
from server.refusals import ack, ack_refused

log = logging.getLogger("planrom.meeting")

EventHandler = Callable[..., Awaitable[dict[str, Any]]]


@dataclass
class Member:
    sid: str
    principal: Principal
    plan: str = ""
    last: dict[str, Any] | None = None  # the state last sent (re-decisions send changes only)


class MeetingEvents:
    """The meetings part of the realtime namespace: who is in which meeting room here."""

    def __init__(
        self, connections: Connections, docs: Documents, bridge: RedisBridge | None
    ) -> None:
        self.connections = connections
        self.services = connections.services
        self.sio = connections.sio
        self.docs = docs
        self.bridge = bridge
        self.members: dict[str, dict[str, Member]] = {}  # meeting → sid → member

    def events(self) -> dict[str, EventHandler]:
        """The Socket.IO events this part answers (the namespace registers them)."""
        handlers: dict[str, EventHandler] = {
            "meeting:join": self.on_join,
            "meeting:leave": self.on_leave,
        }
        for event, make in (
            ("meeting:start", lambda d: sm.Start()),
            ("meeting:goto", lambda d: sm.Goto(_str(d, "item"))),
            ("meeting:pen", lambda d: sm.Pen(_str(d, "item"), _opt_str(d, "participant"))),
            ("meeting:end", lambda d: sm.End()),
        ):
            handlers[event] = self._chair_command(make)
        return handlers

    async def on_join(self, conn: Conn, data: Any = None, *_: Any) -> dict[str, Any]:
        meeting_id = data.get("meeting") if isinstance(data, dict) else None
        if not is_id(meeting_id):
            return ack("malformed", "meeting:join takes {meeting}.")
        assert isinstance(meeting_id, str)
        services = self.services
        now = services.clock()
        async with services.sessionmaker() as session, session.begin():
            loaded = await meeting_service.load(session, meeting_id, now, lock=True)
            if loaded is None:
                return ack("not-found", "No such meeting.")
            seen = policy.check_see_meeting(loaded.ctx, conn.principal, loaded.state)
            if not seen:
                return ack("not-found", "No such meeting, or you are not invited.")
            actor = meeting_service.actor_of(loaded, conn.principal)
            if loaded.state.status in (sm.MeetingStatus.SCHEDULED, sm.MeetingStatus.LIVE) and (
                loaded.state.attendance.get(actor.participant) != sm.Attendance.PRESENT
            ):
                try:
                    await meeting_service.command(
                        session, loaded, conn.principal, sm.Join(actor.participant), now
                    )
                except Refused:
                    pass  # may watch, but is not recorded as attending
            await audit.append(
                session,
                plan_id=loaded.row.plan_id,
                at=now,
                person_id=conn.principal.person,
                actor=conn.principal.name,
                action="open",
                target=f"meeting:{meeting_id}",
            )
            state = meeting_service.wire_state(loaded, conn.principal)
        self.members.setdefault(meeting_id, {})[conn.sid] = Member(
            conn.sid, conn.principal, loaded.row.plan_id, state
        )
        await self.sio.enter_room(conn.sid, f"meeting:{meeting_id}")
        await self.broadcast(meeting_id, skip=conn.sid)
        return {"ok": True, "state": state}

    async def on_leave(self, conn: Conn, data: Any = None, *_: Any) -> dict[str, Any]:
        meeting_id = data.get("meeting") if isinstance(data, dict) else None
        if not isinstance(meeting_id, str) or conn.sid not in self.members.get(meeting_id, {}):
            return ack("not-joined", "Not in that meeting.")
        await self.leave(conn, meeting_id)
        return {"ok": True}

    async def leave(self, conn: Conn, meeting_id: str) -> None:
        self.members.get(meeting_id, {}).pop(conn.sid, None)
        await self.sio.leave_room(conn.sid, f"meeting:{meeting_id}")
        still_here = any(
            m.principal.person == conn.principal.person
            for m in self.members.get(meeting_id, {}).values()
        )
        if still_here:
            return
        services = self.services
        now = services.clock()
        async with services.sessionmaker() as session, session.begin():
            loaded = await meeting_service.load(session, meeting_id, now, lock=True)
            if loaded is None or loaded.state.status not in (
                sm.MeetingStatus.SCHEDULED,
                sm.MeetingStatus.LIVE,
            ):
                return
            actor = policy.meeting_actor(loaded.ctx, conn.principal)
            if (
                actor is None
                or loaded.state.attendance.get(actor.participant) != sm.Attendance.PRESENT
            ):
                return
            try:
                await meeting_service.command(
                    session, loaded, conn.principal, sm.Leave(actor.participant), now
                )
            except Refused:
                return
        await self.broadcast(meeting_id)

    async def disconnected(self, conn: Conn) -> None:
        for meeting_id in [m for m, sids in self.members.items() if conn.sid in sids]:
            await self.leave(conn, meeting_id)

    def _chair_command(self, make: Any) -> Any:
        async def run(conn: Conn, data: Any = None, *_: Any) -> dict[str, Any]:
            if not isinstance(data, dict) or not is_id(data.get("meeting")):
                return ack("malformed", "Give {meeting, …}.")
            meeting_id = data["meeting"]
            if conn.sid not in self.members.get(meeting_id, {}):
                return ack("not-joined", "Join the meeting first.")
            try:
                command = make(data)
            except ValueError as exc:
                return ack("malformed", str(exc))
            return await self.run_command(conn.principal, meeting_id, command)

        return run

    async def run_command(
        self, principal: Principal, meeting_id: str, command: sm.Command
    ) -> dict[str, Any]:
        services = self.services
        now = services.clock()
        async with services.sessionmaker() as session, session.begin():
            loaded = await meeting_service.load(session, meeting_id, now, lock=True)
            if loaded is None:
                return ack("not-found", "No such meeting.")
            try:
                await meeting_service.command(session, loaded, principal, command, now)
            except Refused as exc:
                return ack_refused(exc)
            await audit.append(
                session,
                plan_id=loaded.row.plan_id,
                at=now,
                person_id=principal.person,
                actor=principal.name,
                action="change",
                target=f"meeting:{meeting_id}",
                detail=type(command).__name__.lower(),
            )
            state = meeting_service.wire_state(loaded, principal)
        await self.after_change(meeting_id)
        return {"ok": True, "state": state}

    async def after_change(self, meeting_id: str) -> None:
        """Everyone's view, and the pen (write access to item documents), follow a change."""
        await self.broadcast(meeting_id)
        await self.docs.recheck_prefix(f"meeting:{meeting_id}:")
        if self.bridge is not None:
            await self.bridge.publish_meeting(meeting_id)

    async def broadcast(
        self, meeting_id: str, skip: str | None = None, *, changed_only: bool = False
    ) -> None:
        """Each member their own view; a member who may no longer see the meeting (consent
        withdrawn, removed, uninvited) is put out of the room instead, and told once.
        ``changed_only``: only to members whose view differs from the one last sent."""
        members = [m for m in self.members.get(meeting_id, {}).values() if m.sid != skip]
        if not members:
            return
        services = self.services
        async with services.sessionmaker() as session:
            await read_only(session)
            loaded = await meeting_service.load(session, meeting_id, services.clock())
        if loaded is None:
            return
        for member in members:
            seen = policy.check_see_meeting(loaded.ctx, member.principal, loaded.state)
            if not seen:
                await self.revoke(member, meeting_id, loaded.row.plan_id, seen.reason)
                continue
            state = meeting_service.wire_state(loaded, member.principal)
            if changed_only and state == member.last:
                continue
            member.last = state
            await self.sio.emit("meeting:state", state, to=member.sid)

    async def revoke(self, member: Member, meeting_id: str, plan_id: str, reason: str) -> None:
        """Out of the meeting room at once: no further ``meeting:state``, one
        ``meeting:revoked`` (its reason names nobody), and a line in the access log."""
        if self.members.get(meeting_id, {}).pop(member.sid, None) is None:
            return
        await self.sio.leave_room(member.sid, f"meeting:{meeting_id}")
        await self.sio.emit(
            "meeting:revoked",
            {"meeting": meeting_id, "reason": "Du har ikke lenger tilgang til dette møtet."},
            to=member.sid,
        )
        self.services.metrics.count_event("meeting:revoked")
        conn = self.connections.conns.get(member.sid)
        if conn is not None:
            await self.connections.log(plan_id, conn, "revoked", f"meeting:{meeting_id}", reason)

    async def recheck_plan(self, plan_id: str) -> None:
        """Consent or the group of a plan changed: re-decide every meeting room of it."""
        for meeting_id, members in list(self.members.items()):
            if any(m.plan == plan_id for m in members.values()):
                await self.broadcast(meeting_id, changed_only=True)


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not is_id(value):
        raise ValueError(f"{key} must be an id")
    assert isinstance(value, str)
    return value


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _str(data, key)
