"""OpenID Connect sign-in: authorization code flow with PKCE (S256), state and nonce.

authlib builds the authorization request (PKCE challenge, grant URI) and validates the
ID token's claims (``CodeIDToken``: iss, aud, exp, iat, nonce, azp, at_hash); joserfc
(authlib's JOSE library) checks the signature against the provider's published keys.
Discovery reads ``{issuer}/.well-known/openid-configuration`` and insists that it names
the same issuer (mix-up defence).

Two providers, because Norway has two kinds of identity:
- ``citizen`` (shaped like ID-porten): the person is the national identity number in
  ``identity_claim`` (``pid``); the identity is stored as ``pid:<number>``.
- ``staff`` (shaped like HelseID or a municipal Azure AD): the person is the provider's
  ``sub``; ``organisation_claim`` must be present and, when a list of organisations is
  configured, one of them.

Pending logins are rows keyed by the SHA-256 of ``state``; the callback deletes the row
before anything else, so a state (and with it the nonce and code verifier) works once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from collab.model import Role, new_id
from server.db.auth_models import PendingLogin, SignIn
from server.db.models import Identity, Person
from server.settings import OIDCProvider, Settings

log = logging.getLogger("planrom.oidc")

KINDS = ("citizen", "staff")
LABELS = {"citizen": "ID-porten", "staff": "HelseID / jobbkonto"}
# Asymmetric signatures only: no "none", no HMAC keyed with the client secret.
SAFE_ALGORITHMS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
        "Ed25519",
    }
)
HTTP_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 512 * 1024
MAX_TOKEN_LENGTH = 16 * 1024
METADATA_TTL = 3600.0
KEYS_REFRESH_MIN_INTERVAL = 60.0
CLOCK_LEEWAY = 60
# An ID token is used at once; one issued longer ago than this is not accepted.
MAX_ID_TOKEN_AGE = 600


class SignInError(Exception):
    """A refused or failed sign-in. ``code`` is short and safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]
    basic_auth: bool


@dataclass(frozen=True)
class VerifiedIdentity:
    provider: str
    issuer: str
    subject: str  # the key in ``identities`` (with the issuer)
    name: str
    email: str | None
    organisation: str
    id_token: str


def provider_settings(settings: Settings, kind: str) -> OIDCProvider | None:
    if kind == "citizen":
        return settings.oidc_citizen
    if kind == "staff":
        return settings.oidc_staff
    return None


def configured(settings: Settings) -> list[str]:
    return [k for k in KINDS if provider_settings(settings, k) is not None]


def provider_for_role(settings: Settings, role: Role) -> list[str]:
    """Which providers may accept an invitation for ``role``: citizens (owner, guardian,
    relative) sign in with the citizen provider and services with the staff provider,
    when that provider is configured; otherwise any configured provider."""
    wanted = "citizen" if role in {Role.OWNER, Role.GUARDIAN, Role.RELATIVE} else "staff"
    if provider_settings(settings, wanted) is not None:
        return [wanted]
    return configured(settings)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: object, what: str) -> str:
    """An endpoint must be HTTPS (plain HTTP only on loopback, for development)."""
    if not isinstance(url, str) or len(url) > 2000:
        raise SignInError("unavailable", f"The provider's {what} is missing.")
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname or "")):
        return url
    raise SignInError("unavailable", f"The provider's {what} is not HTTPS.")


# --- the ID token ---------------------------------------------------------------------


def validate_id_token(
    raw: object,
    *,
    keys: KeySet,
    issuer: str,
    client_id: str,
    nonce: str,
    now: int,
    algorithms: Iterable[str] = ("RS256",),
    access_token: str | None = None,
    leeway: int = CLOCK_LEEWAY,
    max_age: int = MAX_ID_TOKEN_AGE,
) -> dict[str, Any]:
    """The claims of a valid ID token; raises :class:`SignInError` ("id-token") otherwise.

    Checks the signature (with ``keys``, one of ``algorithms``), ``iss``, ``aud`` (and
    ``azp``), ``exp``, ``iat`` (not in the future, not older than ``max_age``), ``sub``,
    ``nonce`` and, when an access token came with it, ``at_hash``.
    """
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TOKEN_LENGTH:
        raise SignInError("id-token", "The provider sent no usable ID token.")
    allowed = [a for a in algorithms if a in SAFE_ALGORITHMS] or ["RS256"]
    try:
        token = jwt.decode(raw, keys, algorithms=allowed)
    except JoseError as exc:
        raise SignInError("id-token", f"ID token signature not valid ({exc.error}).") from None
    except (ValueError, TypeError):
        raise SignInError("id-token", "ID token is malformed.") from None
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }
    params: dict[str, Any] = {"nonce": nonce, "client_id": client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(now=now, leeway=leeway)
    except JoseError as exc:
        raise SignInError(
            "id-token", f"ID token refused ({exc.error}: {exc.description})."
        ) from None
    iat = claims["iat"]
    if not isinstance(iat, int | float) or now - iat > max_age + leeway:
        raise SignInError("id-token", "ID token refused (issued too long ago).")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise SignInError("id-token", "ID token refused (bad subject).")
    return dict(claims)


def identity_from_claims(
    kind: str, config: OIDCProvider, claims: Mapping[str, Any], id_token: str
) -> VerifiedIdentity:
    """Who signed in: the identity key and the facts kept about them."""

    def text(name: str, limit: int) -> str:
        value = claims.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    name = text("name", 200) or " ".join(
        p for p in (text("given_name", 100), text("family_name", 100)) if p
    )
    email = text("email", 320) or None
    organisation = ""
    if kind == "citizen":
        claim = config.identity_claim or "pid"
        number = claims.get(claim)
        if not isinstance(number, str) or not number.isdigit() or not 0 < len(number) <= 32:
            raise SignInError("identity", f"The provider sent no national identity ({claim}).")
        subject = f"pid:{number}"
    else:
        subject = str(claims["sub"])
        if config.organisation_claim:
            org = claims.get(config.organisation_claim)
            if isinstance(org, int) and not isinstance(org, bool):
                org = str(org)
            if not isinstance(org, str) or not org.strip() or len(org) > 200:
                raise SignInError("identity", "The provider named no organisation.")
            organisation = org.strip()
            if config.organisations and organisation not in config.organisations:
                raise SignInError("identity", "Your organisation may not sign in to Planrom.")
    return VerifiedIdentity(kind, config.issuer, subject, name, email, organisation, id_token)


# --- one provider -----------------------------------------------------------------------


async def _read_json(response: httpx.Response) -> Any:
    size = 0
    chunks: list[bytes] = []
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise SignInError("unavailable", "The provider's answer is too large.")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        raise SignInError("unavailable", "The provider's answer is not JSON.") from None


class Provider:
    """One configured OpenID provider: discovery, keys, authorization, code exchange."""

    def __init__(
        self,
        kind: str,
        config: OIDCProvider,
        redirect_uri: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.kind = kind
        self.config = config
        self.redirect_uri = redirect_uri
        self._transport = transport
        self._metadata: Metadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=HTTP_TIMEOUT, follow_redirects=False, transport=self._transport
        )

    async def _get_json(self, url: str) -> Any:
        try:
            async with self._client() as client, client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise SignInError(
                        "unavailable", f"The provider answered {response.status_code}."
                    )
                return await _read_json(response)
        except httpx.HTTPError as exc:
            raise SignInError(
                "unavailable", f"The provider did not answer ({exc!s:.100})."
            ) from None

    async def metadata(self) -> Metadata:
        async with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_TTL:
                return self._metadata
            issuer = self.config.issuer
            check_endpoint(issuer, "issuer")
            doc = await self._get_json(f"{issuer}/.well-known/openid-configuration")
            if not isinstance(doc, dict):
                raise SignInError("unavailable", "The provider's discovery document is not valid.")
            if doc.get("issuer") != issuer:
                raise SignInError("unavailable", "The discovery document names another issuer.")
            methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
            algorithms = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
            end_session = doc.get("end_session_endpoint")
            self._metadata = Metadata(
                issuer=issuer,
                authorization_endpoint=check_endpoint(
                    doc.get("authorization_endpoint"), "authorization endpoint"
                ),
                token_endpoint=check_endpoint(doc.get("token_endpoint"), "token endpoint"),
                jwks_uri=check_endpoint(doc.get("jwks_uri"), "key set"),
                end_session_endpoint=(
                    check_endpoint(end_session, "end-session endpoint") if end_session else None
                ),
                algorithms=tuple(str(a) for a in algorithms if a in SAFE_ALGORITHMS),
                basic_auth=isinstance(methods, list) and "client_secret_basic" in methods,
            )
            self._metadata_at = time.monotonic()
            return self._metadata

    def cached_metadata(self) -> Metadata | None:
        return self._metadata

    async def keys(self, *, refresh: bool = False) -> KeySet:
        metadata = await self.metadata()
        async with self._lock:
            age = time.monotonic() - self._keys_at
            stale = self._keys is None or age > METADATA_TTL
            if refresh and age > KEYS_REFRESH_MIN_INTERVAL:
                stale = True
            if not stale and self._keys is not None:
                return self._keys
            doc = await self._get_json(metadata.jwks_uri)
            try:
                self._keys = KeySet.import_key_set(doc)
            except (JoseError, ValueError, TypeError, KeyError):
                raise SignInError("unavailable", "The provider's key set is not valid.") from None
            self._keys_at = time.monotonic()
            return self._keys

    def authorization_url(
        self, metadata: Metadata, *, state: str, nonce: str, code_verifier: str
    ) -> str:
        url: str = prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=self.config.client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=self.config.scope,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return url

    async def exchange(
        self, metadata: Metadata, *, code: str, code_verifier: str
    ) -> dict[str, Any]:
        """Redeem the authorization code (with the PKCE verifier) for tokens."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        }
        headers = {
            "accept": "application/json",
            "content-type": "application/x-www-form-urlencoded",
        }
        if metadata.basic_auth:
            pair = (
                f"{quote(self.config.client_id, safe='')}:"
                f"{quote(self.config.client_secret, safe='')}"
            )
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form |= {"client_id": self.config.client_id, "client_secret": self.config.client_secret}
        try:
            async with (
                self._client() as client,
                client.stream(
                    "POST", metadata.token_endpoint, content=urlencode(form), headers=headers
                ) as response,
            ):
                body = await _read_json(response)
                status = response.status_code
        except httpx.HTTPError as exc:
            raise SignInError(
                "unavailable", f"The provider did not answer ({exc!s:.100})."
            ) from None
        if status != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise SignInError("code", f"The provider refused the code ({str(error)[:60]}).")
        return body

    async def verify(
        self, metadata: Metadata, tokens: Mapping[str, Any], *, nonce: str, now: datetime
    ) -> VerifiedIdentity:
        raw = tokens.get("id_token")
        access = tokens.get("access_token")
        access_token = access if isinstance(access, str) else None
        keys = await self.keys()

        def check(keys: KeySet) -> dict[str, Any]:
            return validate_id_token(
                raw,
                keys=keys,
                issuer=metadata.issuer,
                client_id=self.config.client_id,
                nonce=nonce,
                now=int(now.timestamp()),
                algorithms=metadata.algorithms,
                access_token=access_token,
            )

        try:
            claims = check(keys)
        except SignInError:
            # A key rotated since we last looked: fetch the set again (rate-limited) once.
            if not isinstance(raw, str) or not _unknown_kid(raw, keys):
                raise
            claims = check(await self.keys(refresh=True))
        assert isinstance(raw, str)
        return identity_from_claims(self.kind, self.config, claims, raw)

    async def logout_url(self, *, id_token: str, post_logout_redirect_uri: str) -> str | None:
        """The provider's end-session URL (RP-initiated logout), when it has one."""
        try:
            metadata = await self.metadata()
        except SignInError as exc:
            log.warning("%s provider: no logout URL: %s", self.kind, exc.message)
            return None
        if metadata.end_session_endpoint is None:
            return None
        params = {
            "client_id": self.config.client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
        }
        if id_token:
            params["id_token_hint"] = id_token
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return metadata.end_session_endpoint + separator + urlencode(params)


def _unknown_kid(raw: str, keys: KeySet) -> bool:
    try:
        header = json.loads(base64.urlsafe_b64decode(raw.split(".")[0] + "=="))
        kid = header.get("kid") if isinstance(header, dict) else None
        if not isinstance(kid, str):
            return False
        keys.get_by_kid(kid)
    except InvalidKeyIdError:
        return True
    except (ValueError, TypeError, KeyError, JoseError):
        return False
    return False


class Providers:
    """The configured providers of one app."""

    def __init__(self, settings: Settings) -> None:
        self.by_kind: dict[str, Provider] = {}
        for kind in KINDS:
            config = provider_settings(settings, kind)
            if config is not None:
                redirect = f"{settings.base_url}/auth/callback/{kind}"
                self.by_kind[kind] = Provider(kind, config, redirect)

    def get(self, kind: str) -> Provider | None:
        return self.by_kind.get(kind)


def providers_of(state: Any, settings: Settings) -> Providers:
    found = getattr(state, "oidc_providers", None)
    if not isinstance(found, Providers):
        found = Providers(settings)
        state.oidc_providers = found
    return found


# --- pending logins and persons ---------------------------------------------------------


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    code_verifier: str


async def begin_login(
    session: AsyncSession,
    kind: str,
    *,
    invitation_id: str | None,
    now: datetime,
    settings: Settings,
) -> Pending:
    """Remember a new sign-in until its callback (and forget expired ones)."""
    await session.execute(delete(PendingLogin).where(PendingLogin.expires_at <= now))
    pending = Pending(generate_token(43), generate_token(43), generate_token(64))
    session.add(
        PendingLogin(
            state_hash=_digest(pending.state),
            provider=kind,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
            invitation_id=invitation_id,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.oidc_login_ttl_seconds),
        )
    )
    await session.flush()
    return pending


async def take_login(
    session: AsyncSession, state: str, kind: str, now: datetime
) -> PendingLogin | None:
    """The pending login for ``state``, removed so that it cannot be used again."""
    row = await session.get(PendingLogin, _digest(state))
    if row is None:
        return None
    result = await session.execute(
        delete(PendingLogin).where(PendingLogin.state_hash == row.state_hash)
    )
    if getattr(result, "rowcount", 0) != 1:  # taken by a concurrent callback
        return None
    if row.provider != kind or row.expires_at <= now:
        return None
    return row


async def person_for(
    session: AsyncSession, identity: VerifiedIdentity, *, now: datetime, fallback_name: str
) -> Person:
    """The person behind an identity; the first sign-in creates them."""
    found = await session.get(Identity, (identity.issuer, identity.subject))
    if found is not None:
        person = await session.get(Person, found.person_id)
        if person is not None:
            return person
    person = Person(
        id=new_id(), name=identity.name or fallback_name, email=identity.email, created_at=now
    )
    session.add(person)
    await session.flush()
    if found is None:
        session.add(
            Identity(
                issuer=identity.issuer,
                subject=identity.subject,
                person_id=person.id,
                created_at=now,
            )
        )
    else:
        found.person_id = person.id
    await session.flush()
    return person


async def record_sign_in(
    session: AsyncSession, session_hash: str, identity: VerifiedIdentity, now: datetime
) -> None:
    session.add(
        SignIn(
            session_hash=session_hash,
            provider=identity.provider,
            issuer=identity.issuer,
            subject=identity.subject,
            organisation=identity.organisation,
            id_token=identity.id_token,
            at=now,
        )
    )
    await session.flush()


async def sign_in_of(session: AsyncSession, session_hash: str) -> SignIn | None:
    return await session.get(SignIn, session_hash)


async def sign_ins_of(session: AsyncSession, hashes: Iterable[str]) -> dict[str, SignIn]:
    wanted = list(hashes)
    if not wanted:
        return {}
    rows = await session.execute(select(SignIn).where(SignIn.session_hash.in_(wanted)))
    return {r.session_hash: r for r in rows.scalars()}
