"""Tables for sign-in and invitations: pending OpenID Connect logins, the sign-in behind
each browser session, and invitation links. Secrets are stored only as SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base


class PendingLogin(Base):
    """An OpenID Connect sign-in between the redirect and the callback. Single use: the
    callback deletes the row before it does anything else."""

    __tablename__ = "oidc_logins"
    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    invitation_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SignIn(Base):
    """How a browser session was signed in: provider, identity, organisation, and the ID
    token (the hint for RP-initiated logout)."""

    __tablename__ = "sign_ins"
    session_hash: Mapped[str] = mapped_column(ForeignKey("web_sessions.id_hash"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    id_token: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class Invitation(Base):
    """A single-use, expiring link that binds whoever signs in with it to a participant."""

    __tablename__ = "invitations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    delivery: Mapped[str] = mapped_column(String(16))  # "smtp" | "outbox"
    created_by: Mapped[str] = mapped_column(String(32))  # person
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    used_by: Mapped[str | None] = mapped_column(String(32), default=None)  # person
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(32), default=None)  # person
    # For the owner and guardians: only the person with this national identity may use it.
    expected_pid: Mapped[str | None] = mapped_column(String(32), default=None)
