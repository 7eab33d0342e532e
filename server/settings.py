"""Settings from the environment: the only module that reads ``os.environ``."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit


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
    # Starting plans: every plan costs the unit's overview and the reminder pass.
    rate_start_plan: tuple[int, float] = (20, 3600.0)
    rate_write: tuple[int, float] = (240, 60.0)
    # Per person: GETs that cost (minutes in any format, the owner's summary, history,
    # access log, changes, overdue); minutes rendered because they were not stored yet;
    # refused answers (403/404), after which every request waits until the bucket refills.
    rate_costly_read: tuple[int, float] = (120, 60.0)
    rate_render: tuple[int, float] = (20, 600.0)
    rate_refused: tuple[int, float] = (60, 600.0)
    # CPU-bound work (rendering minutes and summaries, building document snapshots) runs
    # in worker processes: how many, how long one job may take (a render past it answers
    # 503 unavailable), how many jobs may wait for a worker, and how long a render that
    # failed or ran out of time is not tried again.
    workers: int = 2
    worker_time_limit_seconds: float = 60.0
    worker_max_waiting: int = 8
    render_failure_ttl_seconds: float = 600.0
    # Limits and delays (tests shrink the delays).
    max_body_bytes: int = 256 * 1024
    max_doc_message_bytes: int = 512 * 1024
    # Encoded bytes one document may hold (stored snapshot + updates since; ADR 0012).
    max_doc_bytes: int = 1024 * 1024
    token_ttl_seconds: int = 24 * 3600
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 3600
    consent_poll_seconds: float = 0.25
    # Reminders (server/reminders.py): a pass at start-up, then every this many seconds;
    # 0 turns the scheduler off in this process (another process may run it).
    reminder_interval_seconds: float = 3600.0
    doc_idle_unload_seconds: float = 30.0
    snapshot_after_updates: int = 500
    # Awareness and Yjs clientIDs (see docs/protocol-notes.md, "Awareness and clientIDs").
    # A browser tab binds one clientID per open document and shows one awareness state
    # for it; a few more cover a re-opened document and a second editor in the same tab.
    max_client_ids_per_doc: int = 4
    # New clientIDs one person may bind in a day, over all connections (counted in the
    # bindings table, so reconnecting does not reset it). A day of heavy use (30 open
    # documents × 30 page loads, plus server-side edits made on their behalf) stays
    # well below it.
    max_client_ids_per_person_day: int = 2000
    max_awareness_states_per_doc_conn: int = 4
    # One state as stored and relayed (JSON, after the server stamps `user`): a cursor,
    # a selection and a name fit in a few hundred bytes.
    max_awareness_state_bytes: int = 4096
    # States held per document: everyone in a large meeting on two devices each, with
    # room to spare; bounds the awareness part of a joiner's sync reply to
    # 64 × 4 KiB ≈ 260 KiB.
    max_awareness_states_per_doc: int = 64
    # Caps on what one person can pin in memory (docs/protocol-notes.md, "Caps"): measures
    # per plan (each has its own document), documents joined on one connection, open
    # connections per person in one process, and awareness states one person shows in one
    # document over all their connections (so a reader cannot take every slot).
    max_measures_per_plan: int = 300
    max_docs_per_connection: int = 100
    max_connections_per_person: int = 20
    max_awareness_states_per_person_doc: int = 8
    # A document's `open` entry in the owner's access log is written at most once per
    # person and document in this many seconds (later joins are allowed, not logged).
    open_log_window_seconds: float = 600.0
    # Origins (scheme://host[:port]) allowed to open Socket.IO connections besides the
    # origin of base_url.
    allowed_origins: tuple[str, ...] = ()
    web_dist: Path = Path(__file__).resolve().parent.parent / "web" / "dist"

    @property
    def socket_origins(self) -> frozenset[str]:
        """The browser origins whose pages may open a Socket.IO connection."""
        found = (normalise_origin(o) for o in (self.base_url, *self.allowed_origins))
        return frozenset(o for o in found if o is not None)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(url: str) -> str | None:
    """``scheme://host[:port]`` as a browser serialises an Origin header (lower case,
    default port left out), or None when ``url`` has no scheme and host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class SettingsError(ValueError):
    """The environment does not describe a server that may start."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1")
    return value


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    out = []
    for raw in env.get("PLANROM_ALLOWED_ORIGINS", "").split(","):
        if not raw.strip():
            continue
        origin = normalise_origin(raw)
        if origin is None:
            raise SettingsError(
                f"PLANROM_ALLOWED_ORIGINS: {raw.strip()!r} is not an origin "
                "(write scheme://host[:port], e.g. https://planrom.kommune.no)"
            )
        out.append(origin)
    return tuple(out)


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
    demo = _bool(env.get("PLANROM_DEMO"))
    secret = env.get("PLANROM_SECRET_KEY", "")
    if not secret and demo:
        # Demo mode only: a per-process key (sessions do not survive a restart).
        # Outside demo mode the key stays empty and `planrom serve` refuses to start
        # (see require_secret_key): a key per process would silently break sessions
        # as soon as a second process serves them.
        secret = secrets.token_urlsafe(32)
    d = Settings(database_url="")
    return Settings(
        database_url=env.get("PLANROM_DATABASE_URL") or default_database_url(),
        base_url=env.get("PLANROM_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        secret_key=secret,
        redis_url=env.get("PLANROM_REDIS_URL") or None,
        demo=demo,
        max_client_ids_per_doc=_int(
            env, "PLANROM_MAX_CLIENT_IDS_PER_DOC", d.max_client_ids_per_doc
        ),
        max_client_ids_per_person_day=_int(
            env, "PLANROM_MAX_CLIENT_IDS_PER_PERSON_DAY", d.max_client_ids_per_person_day
        ),
        max_awareness_states_per_doc_conn=_int(
            env, "PLANROM_MAX_AWARENESS_STATES_PER_CONNECTION", d.max_awareness_states_per_doc_conn
        ),
        max_awareness_state_bytes=_int(
            env, "PLANROM_MAX_AWARENESS_STATE_BYTES", d.max_awareness_state_bytes
        ),
        max_awareness_states_per_doc=_int(
            env, "PLANROM_MAX_AWARENESS_STATES_PER_DOC", d.max_awareness_states_per_doc
        ),
        max_measures_per_plan=_int(env, "PLANROM_MAX_MEASURES_PER_PLAN", d.max_measures_per_plan),
        max_docs_per_connection=_int(
            env, "PLANROM_MAX_DOCS_PER_CONNECTION", d.max_docs_per_connection
        ),
        max_connections_per_person=_int(
            env, "PLANROM_MAX_CONNECTIONS_PER_PERSON", d.max_connections_per_person
        ),
        max_awareness_states_per_person_doc=_int(
            env,
            "PLANROM_MAX_AWARENESS_STATES_PER_PERSON",
            d.max_awareness_states_per_person_doc,
        ),
        open_log_window_seconds=_int(
            env, "PLANROM_OPEN_LOG_WINDOW_SECONDS", int(d.open_log_window_seconds)
        ),
        allowed_origins=_origins(env),
        oidc_citizen=_provider(env, "CITIZEN"),
        oidc_staff=_provider(env, "STAFF"),
        smtp=_smtp(env),
        outbox_dir=Path(env.get("PLANROM_OUTBOX_DIR", "") or Path.cwd() / "var" / "outbox"),
        workers=int(env.get("PLANROM_WORKERS", "") or 2),
        worker_time_limit_seconds=float(env.get("PLANROM_WORKER_TIME_LIMIT_SECONDS", "") or 60),
        max_doc_bytes=_positive(env, "PLANROM_MAX_DOC_BYTES", 1024 * 1024),
        reminder_interval_seconds=float(
            env.get("PLANROM_REMINDER_INTERVAL_SECONDS", "").strip() or d.reminder_interval_seconds
        ),
    )


def require_secret_key(settings: Settings) -> None:
    """Refuse to serve without a configured key outside demo mode."""
    if not settings.secret_key:
        raise SettingsError(
            "PLANROM_SECRET_KEY is not set. Outside demo mode the server needs one fixed "
            "secret key, shared by every process (sessions and sign-in links are signed "
            "with it). Set PLANROM_SECRET_KEY to a long random string, for example the "
            "output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value <= 0:
        raise ValueError(f"{name} must be a positive whole number")
    return value
