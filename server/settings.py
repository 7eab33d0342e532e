"""Settings from the environment: the only module that reads ``os.environ``."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class OIDCProvider:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = "openid profile"
    # Citizen: the claim holding the national identity number (ID-porten: "pid").
    identity_claim: str = ""
    # Staff: the claim naming the person's organisation, and (optionally) the only
    # organisations whose staff may sign in.
    organisation_claim: str = ""
    organisations: tuple[str, ...] = ()


@dataclass(frozen=True)
class SMTP:
    host: str
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = "planrom@localhost"
    security: str = "starttls"  # "starttls" | "tls" | "none"


@dataclass(frozen=True)
class Settings:
    database_url: str
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = field(default="", repr=False)
    redis_url: str | None = None
    demo: bool = False
    # Sign-in providers (OpenID Connect); None until configured.
    oidc_citizen: OIDCProvider | None = None
    oidc_staff: OIDCProvider | None = None
    oidc_login_ttl_seconds: int = 600
    # Invitations: e-mailed through SMTP when configured, otherwise written to the outbox.
    smtp: SMTP | None = None
    outbox_dir: Path = Path("var") / "outbox"
    invitation_ttl_seconds: int = 7 * 24 * 3600
    # Rate limits: (requests, per seconds). Sign-in per client address; invitations per
    # person; HTTP writes per credential (and five times that per address).
    rate_sign_in: tuple[int, float] = (30, 60.0)
    rate_invite: tuple[int, float] = (30, 3600.0)
    rate_write: tuple[int, float] = (240, 60.0)
    # Limits and delays (tests shrink the delays).
    max_body_bytes: int = 256 * 1024
    max_doc_message_bytes: int = 512 * 1024
    # Encoded bytes one document may hold (stored snapshot + updates since; ADR 0006).
    max_doc_bytes: int = 1024 * 1024
    token_ttl_seconds: int = 24 * 3600
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 3600
    consent_poll_seconds: float = 0.25
    doc_idle_unload_seconds: float = 30.0
    snapshot_after_updates: int = 500
    web_dist: Path = Path(__file__).resolve().parent.parent / "web" / "dist"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def default_database_url(root: Path | None = None) -> str:
    var = (root or Path.cwd()) / "var"
    return f"sqlite+aiosqlite:///{var / 'planrom.sqlite3'}"


def _provider(env: Mapping[str, str], kind: str) -> OIDCProvider | None:
    prefix = f"PLANROM_OIDC_{kind}_"
    issuer = env.get(prefix + "ISSUER", "").strip()
    if not issuer:
        return None
    citizen = kind == "CITIZEN"
    return OIDCProvider(
        issuer=issuer.rstrip("/"),
        client_id=env.get(prefix + "CLIENT_ID", ""),
        client_secret=env.get(prefix + "CLIENT_SECRET", ""),
        scope=env.get(prefix + "SCOPE", "").strip() or "openid profile",
        identity_claim=env.get(prefix + "ID_CLAIM", "pid" if citizen else "").strip(),
        organisation_claim=env.get(prefix + "ORG_CLAIM", "" if citizen else "org").strip(),
        organisations=tuple(
            o.strip() for o in env.get(prefix + "ORGANISATIONS", "").split(",") if o.strip()
        ),
    )


def _smtp(env: Mapping[str, str]) -> SMTP | None:
    host = env.get("PLANROM_SMTP_HOST", "").strip()
    if not host:
        return None
    security = env.get("PLANROM_SMTP_SECURITY", "starttls").strip().lower()
    if security not in {"starttls", "tls", "none"}:
        raise ValueError("PLANROM_SMTP_SECURITY must be starttls, tls or none")
    return SMTP(
        host=host,
        port=int(env.get("PLANROM_SMTP_PORT", "") or (465 if security == "tls" else 587)),
        username=env.get("PLANROM_SMTP_USERNAME", ""),
        password=env.get("PLANROM_SMTP_PASSWORD", ""),
        sender=env.get("PLANROM_SMTP_FROM", "").strip() or "planrom@localhost",
        security=security,
    )


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    secret = env.get("PLANROM_SECRET_KEY", "")
    if not secret:
        # A per-process key: sessions do not survive restarts, which is safe but
        # inconvenient; production sets PLANROM_SECRET_KEY.
        secret = secrets.token_urlsafe(32)
    return Settings(
        database_url=env.get("PLANROM_DATABASE_URL") or default_database_url(),
        base_url=env.get("PLANROM_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        secret_key=secret,
        redis_url=env.get("PLANROM_REDIS_URL") or None,
        demo=_bool(env.get("PLANROM_DEMO")),
        oidc_citizen=_provider(env, "CITIZEN"),
        oidc_staff=_provider(env, "STAFF"),
        smtp=_smtp(env),
        outbox_dir=Path(env.get("PLANROM_OUTBOX_DIR", "") or Path.cwd() / "var" / "outbox"),
        max_doc_bytes=_positive(env, "PLANROM_MAX_DOC_BYTES", 1024 * 1024),
    )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value <= 0:
        raise ValueError(f"{name} must be a positive whole number")
    return value
