"""My browser sessions: list them, end one (e.g. a tablet left signed in).

A session is named by a reference derived from its stored hash, never by anything that
could sign in. Ending one takes effect at the next request; live Socket.IO connections
of that session are dropped by the hub's poll (``server.realtime.hub``).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from starlette.responses import JSONResponse

from server.auth import oidc
from server.auth.identity import SESSION_COOKIE, end_web_session
from server.db.models import WebSession
from server.http.common import ApiError, Call, Endpoints

api = Endpoints()  # this module's routes; server.app composes them


def session_ref(id_hash: str) -> str:
    return hashlib.sha256(f"planrom-session-ref:{id_hash}".encode()).hexdigest()[:24]


async def _live_sessions(call: Call) -> list[WebSession]:
    settings = call.services.settings
    idle_since = call.now - timedelta(seconds=settings.session_idle_seconds)
    rows = await call.db.execute(
        select(WebSession)
        .where(
            WebSession.person_id == call.principal.person,
            WebSession.ended_at.is_(None),
            WebSession.expires_at > call.now,
            WebSession.last_seen_at >= idle_since,
        )
        .order_by(WebSession.created_at.desc())
        .limit(200)
    )
    return [r for r in rows.scalars() if r.via != "demo" or settings.demo]


@api("GET", "/api/sessions", summary="My signed-in browser sessions", tag="auth")
async def list_sessions(call: Call) -> Any:
    rows = await _live_sessions(call)
    current = call.auth.session_hash if call.auth else None
    sign_ins = await oidc.sign_ins_of(call.db, [r.id_hash for r in rows])
    idle = timedelta(seconds=call.services.settings.session_idle_seconds)
    out = []
    for row in rows:
        sign_in = sign_ins.get(row.id_hash)
        out.append(
            {
                "id": session_ref(row.id_hash),
                "current": row.id_hash == current,
                "via": row.via,
                "provider": sign_in.provider if sign_in else None,
                "organisation": sign_in.organisation if sign_in else None,
                "user_agent": row.user_agent,
                "created_at": row.created_at.isoformat(),
                "last_seen_at": row.last_seen_at.isoformat(),
                "idle_expires_at": (row.last_seen_at + idle).isoformat(),
                "expires_at": row.expires_at.isoformat(),
            }
        )
    return {"sessions": out}


@api(
    "DELETE", "/api/sessions/{session}", summary="End one of my sessions (sign it out)", tag="auth"
)
async def end_session(call: Call) -> Any:
    ref = call.params["session"]
    if len(ref) != 24:
        raise ApiError("not-found", "Fant ikke økten (no such session).")
    found = next((r for r in await _live_sessions(call) if session_ref(r.id_hash) == ref), None)
    if found is None:
        raise ApiError("not-found", "Fant ikke økten (no such session).")
    await end_web_session(call.db, found.id_hash, call.now)
    current = call.auth is not None and call.auth.session_hash == found.id_hash
    response = JSONResponse({"ok": True, "id": ref, "current": current})
    if current:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response
