"""The sign-in guards a well-behaved provider never trips (issue 15): HTTPS enforcement,
a discovery document naming another issuer, an invalid key set, key rotation, the
RFC 9207 ``iss`` callback parameter, an ID token issued too long ago, a bad ``sub``.

The callback check runs against the real oidc-provider (tests/oidc). The discovery and
key-set guards need a provider that misbehaves, so a small HTTP server on a loopback port
serves exactly the documents each test names (real HTTP, real keys, real signatures).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.auth import oidc
from server.settings import OIDCProvider
from tests.conftest import LiveServer, free_port
from tests.integration.test_oidc import _check, _claims, _sign, page_code, whoami
from tests.oidc.harness import Providers, authorize, planrom_with, providers_running, start_login

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def oidc_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    with providers_running(tmp_path_factory.mktemp("oidc")) as providers:
        yield providers


@pytest.fixture
async def oidc_live(
    sqlite_url: str, oidc_providers: Providers, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    async with planrom_with(sqlite_url, oidc_providers, tmp_path) as server:
        yield server


# --- against the real provider ------------------------------------------------------------


async def test_a_callback_naming_another_issuer_is_refused(oidc_live: LiveServer) -> None:
    """RFC 9207: the ``iss`` of the authorization response must be our provider's."""
    async with oidc_live.http() as browser:
        callback = await authorize(
            await start_login(browser, "citizen"), login="mixup", pid="08080812345"
        )
        assert "iss=" in callback
        issuer = callback.split("iss=", 1)[1].split("&", 1)[0]
        forged = callback.replace(f"iss={issuer}", "iss=https%3A%2F%2Fevil.example")
        refused = await browser.get(forged)
        assert refused.status_code == 400 and page_code(refused) == "issuer"
        assert (await whoami(oidc_live, browser)).status_code == 401


def test_an_id_token_issued_too_long_ago_is_refused(oidc_providers: Providers) -> None:
    provider = oidc_providers.citizen
    now = int(time.time())
    old = now - oidc.MAX_ID_TOKEN_AGE - oidc.CLOCK_LEEWAY - 5
    token = _sign(_claims(provider, iat=old, exp=now + 3600), provider.key, kid=provider.key.kid)
    with pytest.raises(oidc.SignInError) as refused:
        _check(provider, token)
    assert refused.value.code == "id-token" and "too long ago" in refused.value.message
    # Just inside the limit it passes.
    recent = now - oidc.MAX_ID_TOKEN_AGE + 5
    token = _sign(_claims(provider, iat=recent, exp=now + 3600), provider.key, kid=provider.key.kid)
    assert _check(provider, token)["iat"] == recent


@pytest.mark.parametrize("subject", ["x" * 256, ""])
def test_an_id_token_with_a_bad_subject_is_refused(oidc_providers: Providers, subject: str) -> None:
    provider = oidc_providers.citizen
    token = _sign(_claims(provider, sub=subject), provider.key, kid=provider.key.kid)
    with pytest.raises(oidc.SignInError) as refused:
        _check(provider, token)
    assert refused.value.code == "id-token" and "sub" in refused.value.message
    token = _sign(_claims(provider, sub="x" * 255), provider.key, kid=provider.key.kid)
    assert _check(provider, token)["sub"] == "x" * 255


# --- a misbehaving provider -----------------------------------------------------------------


class Idp:
    """Serves ``discovery`` and ``jwks`` as they are set at the moment of the request."""

    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
        self.discovery: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        self.jwks: Any = {"keys": [self.key.as_dict(private=False)]}
        self.key_fetches = 0

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse(self.discovery)

        async def jwks(request: Request) -> JSONResponse:
            self.key_fetches += 1
            return JSONResponse(self.jwks)

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
            ]
        )

    def provider(self) -> oidc.Provider:
        config = OIDCProvider(
            issuer=self.issuer,
            client_id="planrom",
            client_secret="secret",
            identity_claim="pid",
            organisation_claim="",
        )
        return oidc.Provider("citizen", config, "http://127.0.0.1:1/auth/callback/citizen")

    def token(self, key: RSAKey, **changes: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": "planrom",
            "sub": "someone",
            "iat": now,
            "exp": now + 300,
            "nonce": "n",
            "pid": "01017012345",
        } | changes
        return jwt.encode({"alg": "RS256", "kid": str(key.kid)}, claims, key, algorithms=["RS256"])


@pytest.fixture
async def idp() -> AsyncIterator[Idp]:
    port = free_port()
    served = Idp(port)
    server = uvicorn.Server(
        uvicorn.Config(served.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield served
    finally:
        server.should_exit = True
        await task


async def test_the_well_behaved_double_is_accepted(idp: Idp) -> None:
    provider = idp.provider()
    metadata = await provider.metadata()
    identity = await provider.verify(
        metadata, {"id_token": idp.token(idp.key)}, nonce="n", now=datetime.now(UTC)
    )
    assert identity.subject == "pid:01017012345"


@pytest.mark.parametrize(
    "endpoint", ["authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"]
)
async def test_a_plain_http_endpoint_off_loopback_is_refused(idp: Idp, endpoint: str) -> None:
    idp.discovery[endpoint] = "http://idp.example/path"
    with pytest.raises(oidc.SignInError) as refused:
        await idp.provider().metadata()
    assert refused.value.code == "unavailable" and "not HTTPS" in refused.value.message


def test_https_is_required_except_on_loopback() -> None:
    assert oidc.check_endpoint("https://idp.example/a", "x") == "https://idp.example/a"
    assert oidc.check_endpoint("http://127.0.0.1:9/a", "x") == "http://127.0.0.1:9/a"
    assert oidc.check_endpoint("http://localhost/a", "x") == "http://localhost/a"
    for bad in ("http://idp.example/a", "ftp://127.0.0.1/a", "http://10.0.0.1/a", None, 7):
        with pytest.raises(oidc.SignInError):
            oidc.check_endpoint(bad, "x")


async def test_a_plain_http_issuer_is_refused_before_any_request() -> None:
    config = OIDCProvider(
        issuer="http://idp.example",
        client_id="planrom",
        client_secret="s",
        identity_claim="pid",
        organisation_claim="",
    )
    with pytest.raises(oidc.SignInError) as refused:
        await oidc.Provider("citizen", config, "http://127.0.0.1:1/cb").metadata()
    assert "issuer is not HTTPS" in refused.value.message


async def test_a_discovery_document_naming_another_issuer_is_refused(idp: Idp) -> None:
    idp.discovery["issuer"] = "https://evil.example"
    with pytest.raises(oidc.SignInError) as refused:
        await idp.provider().metadata()
    assert refused.value.code == "unavailable" and "another issuer" in refused.value.message


@pytest.mark.parametrize(
    "jwks",
    [
        {"keys": [{"kty": "RSA", "n": "not-base64!", "e": "AQAB"}]},
        {"keys": "none"},
        ["not", "a", "key", "set"],
        {"keys": [{"kty": "nonsense"}]},
    ],
)
async def test_an_invalid_key_set_is_refused(idp: Idp, jwks: Any) -> None:
    idp.jwks = jwks
    with pytest.raises(oidc.SignInError) as refused:
        await idp.provider().keys()
    assert refused.value.code == "unavailable" and "key set" in refused.value.message


async def test_a_rotated_key_is_fetched_once_and_then_accepted(idp: Idp) -> None:
    provider = idp.provider()
    metadata = await provider.metadata()
    assert len((await provider.keys()).keys) == 1 and idp.key_fetches == 1
    rotated = RSAKey.generate_key(2048, parameters={"kid": "key-2"})
    idp.jwks = {"keys": [rotated.as_dict(private=False)]}
    token = idp.token(rotated)

    # Within a minute of the last fetch the set is not fetched again (no hammering).
    with pytest.raises(oidc.SignInError) as refused:
        await provider.verify(metadata, {"id_token": token}, nonce="n", now=datetime.now(UTC))
    assert refused.value.code == "id-token" and idp.key_fetches == 1

    provider._keys_at -= oidc.KEYS_REFRESH_MIN_INTERVAL + 1  # a minute later
    identity = await provider.verify(
        metadata, {"id_token": token}, nonce="n", now=datetime.now(UTC)
    )
    assert identity.subject == "pid:01017012345" and idp.key_fetches == 2

    # A token with a known kid but a bad signature does not trigger a fetch.
    provider._keys_at -= oidc.KEYS_REFRESH_MIN_INTERVAL + 1
    forged = RSAKey.generate_key(2048, parameters={"kid": "key-2"})
    with pytest.raises(oidc.SignInError):
        await provider.verify(
            metadata, {"id_token": idp.token(forged)}, nonce="n", now=datetime.now(UTC)
        )
    assert idp.key_fetches == 2
