"""Who is calling: bearer tokens and server-side browser sessions.

Tokens and session ids are random; the database keeps only their SHA-256. The session
cookie carries the id signed with the secret key. Demo credentials work only while the
server runs in demo mode (``PLANROM_DEMO=1``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from collab.policy import Principal
from server.db.models import AuthToken, ParticipantRow, Person, PlanRow, WebSession
from server.settings import Settings

SESSION_COOKIE = "planrom_session"
CSRF_HEADER = "x-csrf-token"
TOKEN_PREFIX = "prt_"  # noqa: S105 (a prefix that marks Planrom tokens, not a secret)
MAX_CREDENTIAL_LENGTH = 200


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    via: str  # "token" | "cookie"
    session_hash: str | None = None
    csrf: str | None = None
    # How the person signed in, recorded with what they sign: the web session's provider
    # ("oidc", "demo") or the token's kind ("demo-token", "token").
    sign_in: str = "token"


async def issue_token(
    session: AsyncSession, person_id: str, *, kind: str, ttl: timedelta, now: datetime
) -> str:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        AuthToken(
            token_hash=_digest(raw),
            person_id=person_id,
            kind=kind,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return raw


async def _principal(session: AsyncSession, person_id: str) -> Principal | None:
    person = await session.get(Person, person_id)
    return Principal(person=person.id, name=person.name) if person is not None else None


async def resolve_token(
    session: AsyncSession, raw: str, *, now: datetime, settings: Settings
) -> Authenticated | None:
    if not raw or len(raw) > MAX_CREDENTIAL_LENGTH:
        return None
    row = await session.get(AuthToken, _digest(raw))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.kind == "demo" and not settings.demo:
        return None
    principal = await _principal(session, row.person_id)
    if principal is None:
        return None
    return Authenticated(
        principal, "token", sign_in="demo-token" if row.kind == "demo" else "token"
    )


@dataclass(frozen=True)
class DemoPerson:
    """Someone a newcomer may sign in as in demo mode: their name and their part in each
    plan (role, plan title)."""

    person: str
    name: str
    parts: tuple[tuple[str, str], ...]


async def demo_people(session: AsyncSession, *, now: datetime) -> list[DemoPerson]:
    """The people who hold a live demo token (``planrom demo`` made them), by name."""
    holders = (
        select(AuthToken.person_id)
        .where(AuthToken.kind == "demo", AuthToken.revoked_at.is_(None), AuthToken.expires_at > now)
        .distinct()
    )
    persons = (await session.execute(select(Person).where(Person.id.in_(holders)))).scalars()
    found = {p.id: p.name for p in persons}
    rows = await session.execute(
        select(ParticipantRow.person_id, ParticipantRow.role, PlanRow.title)
        .join(PlanRow, PlanRow.id == ParticipantRow.plan_id)
        .where(ParticipantRow.person_id.in_(list(found)), ParticipantRow.active.is_(True))
        .order_by(PlanRow.title)
    )
    parts: dict[str, list[tuple[str, str]]] = {}
    for person_id, role, title in rows:
        if person_id is not None:
            parts.setdefault(person_id, []).append((role, title))
    people = [DemoPerson(pid, name, tuple(parts.get(pid, ()))) for pid, name in found.items()]
    return sorted(people, key=lambda p: (p.parts[:1], p.name))


async def is_demo_person(session: AsyncSession, person: str, *, now: datetime) -> bool:
    row = await session.execute(
        select(AuthToken.token_hash)
        .where(
            AuthToken.person_id == person,
            AuthToken.kind == "demo",
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > now,
        )
        .limit(1)
    )
    return row.first() is not None


def sign_session_id(settings: Settings, raw_id: str) -> str:
    return Signer(settings.secret_key, salt="planrom-session").sign(raw_id).decode()


def unsign_session_id(settings: Settings, cookie: str) -> str | None:
    if not cookie or len(cookie) > MAX_CREDENTIAL_LENGTH:
        return None
    try:
        return Signer(settings.secret_key, salt="planrom-session").unsign(cookie).decode()
    except BadSignature:
        return None


def session_hash_of(settings: Settings, cookie: str) -> str | None:
    """The stored key of the session behind a cookie value (None if not ours)."""
    raw = unsign_session_id(settings, cookie)
    return _digest(raw) if raw is not None else None


async def start_web_session(
    session: AsyncSession,
    person_id: str,
    *,
    via: str,
    now: datetime,
    settings: Settings,
    user_agent: str = "",
) -> tuple[str, str]:
    """A new browser session; returns the signed cookie value and its CSRF token."""
    raw = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(
        WebSession(
            id_hash=_digest(raw),
            person_id=person_id,
            csrf=csrf,
            via=via,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=settings.session_absolute_seconds),
            user_agent=user_agent[:300],
        )
    )
    await session.flush()
    return sign_session_id(settings, raw), csrf


async def resolve_web_session(
    session: AsyncSession, cookie: str, *, now: datetime, settings: Settings
) -> Authenticated | None:
    raw = unsign_session_id(settings, cookie)
    if raw is None:
        return None
    row = await session.get(WebSession, _digest(raw))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > timedelta(seconds=settings.session_idle_seconds):
        return None
    if row.via == "demo" and not settings.demo:
        return None
    principal = await _principal(session, row.person_id)
    if principal is None:
        return None
    # Touch at most once a minute: keeps the idle timeout without a write per request.
    if now - row.last_seen_at > timedelta(seconds=60):
        row.last_seen_at = now
    return Authenticated(principal, "cookie", row.id_hash, row.csrf, sign_in=row.via)


async def end_web_session(session: AsyncSession, session_hash: str, now: datetime) -> None:
    await session.execute(
        update(WebSession)
        .where(WebSession.id_hash == session_hash, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )


async def is_session_live(
    session: AsyncSession, session_hash: str, *, now: datetime, settings: Settings
) -> bool:
    row = await session.get(WebSession, session_hash)
    return (
        row is not None
        and row.ended_at is None
        and row.expires_at > now
        and (row.via != "demo" or settings.demo)
    )


async def tokens_of(session: AsyncSession, person_id: str) -> list[AuthToken]:
    rows = await session.execute(select(AuthToken).where(AuthToken.person_id == person_id))
    return list(rows.scalars())
