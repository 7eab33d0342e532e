"""Sign-in with OpenID Connect against a real provider (oidc-provider, started here):
both providers end to end, and every way a callback or ID token can be wrong."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from sqlalchemy import select, update

from server.auth import oidc
from server.db.auth_models import PendingLogin, SignIn
from server.db.models import Identity, Person
from tests import conftest
from tests.conftest import LiveServer
from tests.oidc.harness import (
    Providers,
    authorize,
    planrom_with,
    providers_running,
    query_of,
    sign_in,
    start_login,
)

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def oidc_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    with providers_running(tmp_path_factory.mktemp("oidc")) as providers:
        yield providers


@pytest.fixture
async def oidc_live(
    db_url: str, oidc_providers: Providers, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    async with planrom_with(db_url, oidc_providers, tmp_path) as server:
        yield server


def page_code(response: httpx.Response) -> str:
    marker = '<code id="code">'
    assert marker in response.text, response.text[:500]
    return response.text.split(marker, 1)[1].split("<", 1)[0]


async def whoami(live: LiveServer, client: httpx.AsyncClient) -> httpx.Response:
    return await client.get(f"{live.url}/api/session")


async def test_a_citizen_signs_in_and_is_known_by_the_national_identity_number(
    oidc_live: LiveServer, oidc_providers: Providers
) -> None:
    async with oidc_live.http() as browser:
        answer = await sign_in(
            browser, "citizen", login="sub-a", pid="01017012345", name="Kari Nordmann"
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        me = (await whoami(oidc_live, browser)).json()
        assert me["name"] == "Kari Nordmann" and me["via"] == "cookie" and me["csrf"]
    # Another subject at the provider, the same national identity number: the same person.
    async with oidc_live.http() as other_browser:
        answer = await sign_in(other_browser, "citizen", login="sub-b", pid="01017012345")
        assert answer.status_code == 303
        again = (await whoami(oidc_live, other_browser)).json()
    assert again["person"] == me["person"]
    async with oidc_live.services.sessionmaker() as db:
        identities = (
            (await db.execute(select(Identity).where(Identity.person_id == me["person"])))
            .scalars()
            .all()
        )
        persons = (await db.execute(select(Person))).scalars().all()
    assert [(i.issuer, i.subject) for i in identities] == [
        (oidc_providers.citizen.issuer, "pid:01017012345")
    ]
    assert len([p for p in persons if p.name == "Kari Nordmann"]) == 1


async def test_staff_sign_in_with_subject_and_organisation(
    oidc_live: LiveServer, oidc_providers: Providers
) -> None:
    async with oidc_live.http() as browser:
        answer = await sign_in(browser, "staff", login="emp-17", name="Siw Nilsen", org="974600951")
        assert answer.status_code == 303
        me = (await whoami(oidc_live, browser)).json()
        sessions = (await browser.get("/api/sessions")).json()["sessions"]
    assert me["name"] == "Siw Nilsen"
    assert [(s["provider"], s["organisation"], s["current"]) for s in sessions] == [
        ("staff", "974600951", True)
    ]
    async with oidc_live.services.sessionmaker() as db:
        identity = await db.get(Identity, (oidc_providers.staff.issuer, "emp-17"))
        sign_ins = (await db.execute(select(SignIn))).scalars().all()
    assert identity is not None and identity.person_id == me["person"]
    assert [s.organisation for s in sign_ins] == ["974600951"]


async def test_a_sign_in_without_the_identifying_claim_is_refused(
    oidc_live: LiveServer,
) -> None:
    async with oidc_live.http() as browser:
        citizen = await sign_in(browser, "citizen", login="no-pid", name="Uten Nummer")
        staff = await sign_in(browser, "staff", login="no-org", name="Uten Org")
        assert (await whoami(oidc_live, browser)).status_code == 401
    assert citizen.status_code == 400 and page_code(citizen) == "identity"
    assert staff.status_code == 400 and page_code(staff) == "identity"
    assert "planrom_session" not in citizen.headers.get("set-cookie", "")


async def test_staff_of_an_organisation_not_allowed_are_refused(
    oidc_live: LiveServer, oidc_providers: Providers
) -> None:
    await oidc_live.stop()
    settings = oidc_live.settings.with_(
        oidc_staff=oidc_providers.staff.settings(organisations=("111111111",))
    )
    server = await conftest.start_server(settings, port=oidc_providers.port)
    try:
        async with server.http() as browser:
            refused = await sign_in(browser, "staff", login="emp-1", org="999999999")
            allowed = await sign_in(browser, "staff", login="emp-2", org="111111111")
    finally:
        await server.stop()
    assert refused.status_code == 400 and page_code(refused) == "identity"
    assert allowed.status_code == 303


async def test_the_authorization_request_uses_pkce_state_and_nonce(
    oidc_live: LiveServer,
) -> None:
    async with oidc_live.http() as browser:
        url = await start_login(browser, "citizen")
    query = query_of(url)
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["redirect_uri"] == f"{oidc_live.url}/auth/callback/citizen"
    async with oidc_live.services.sessionmaker() as db:
        pending = (await db.execute(select(PendingLogin))).scalars().all()
    # Only digests of the state are kept; the verifier never left the server.
    assert len(pending) == 1 and pending[0].state_hash != query["state"]
    assert pending[0].code_verifier not in url


async def test_a_callback_with_a_wrong_state_is_refused(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as browser:
        auth_url = await start_login(browser, "citizen")
        callback = await authorize(auth_url, login="mallory", pid="01010112345")
        state = query_of(callback)["state"]
        forged = callback.replace(f"state={state}", "state=" + "x" * 43)
        refused = await browser.get(forged)
        assert refused.status_code == 400 and page_code(refused) == "state"
        assert (await whoami(oidc_live, browser)).status_code == 401


async def test_a_callback_in_another_browser_is_refused(oidc_live: LiveServer) -> None:
    """Login CSRF: the state must also match the cookie of the browser that started."""
    async with oidc_live.http() as victim, oidc_live.http() as attacker:
        auth_url = await start_login(attacker, "citizen")
        callback = await authorize(auth_url, login="attacker", pid="02020212345")
        refused = await victim.get(callback)
        assert refused.status_code == 400 and page_code(refused) == "state"
        assert (await whoami(oidc_live, victim)).status_code == 401


async def test_a_replayed_callback_is_refused(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as browser:
        auth_url = await start_login(browser, "citizen")
        callback = await authorize(auth_url, login="kari", pid="03030312345")
        assert (await browser.get(callback)).status_code == 303
    async with oidc_live.http() as replay:
        # Even with the login cookie of the first browser, the state works once.
        replay.cookies.set(
            "planrom_login", browser.cookies.get("planrom_login") or "x", path="/auth/callback/"
        )
        again = await replay.get(callback)
        assert again.status_code == 400 and page_code(again) == "state"
        assert (await whoami(oidc_live, replay)).status_code == 401


async def test_a_replayed_code_is_refused(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as browser:
        first = await authorize(
            await start_login(browser, "citizen"), login="per", pid="04040412345"
        )
        assert (await browser.get(first)).status_code == 303
        browser.cookies.delete("planrom_session")
        # A fresh sign-in (new state, nonce and verifier) presented with the used code.
        second = await start_login(browser, "citizen")
        code = query_of(first)["code"]
        state = query_of(second)["state"]
        issuer = query_of(first)["iss"]
        replayed = await browser.get(
            f"/auth/callback/citizen?code={code}&state={state}&iss={issuer}"
        )
        assert replayed.status_code == 400 and page_code(replayed) == "code"
        assert (await whoami(oidc_live, browser)).status_code == 401


async def test_an_id_token_with_a_wrong_nonce_is_refused(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as browser:
        auth_url = await start_login(browser, "citizen")
        # The provider will echo the nonce it was given; the one we expect is another.
        async with oidc_live.services.sessionmaker() as db, db.begin():
            await db.execute(update(PendingLogin).values(nonce="n" * 43))
        callback = await authorize(auth_url, login="per", pid="05050512345")
        refused = await browser.get(callback)
        assert refused.status_code == 400 and page_code(refused) == "id-token"
        assert "nonce" in refused.text
        assert (await whoami(oidc_live, browser)).status_code == 401


async def test_a_sign_in_that_took_too_long_is_refused(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as browser:
        auth_url = await start_login(browser, "citizen")
        callback = await authorize(auth_url, login="slow", pid="06060612345")
        oidc_live.clock.advance(oidc_live.settings.oidc_login_ttl_seconds + 1)
        refused = await browser.get(callback)
        assert refused.status_code == 400 and page_code(refused) == "state"


async def test_an_id_token_expired_by_the_time_it_arrives_is_refused(
    oidc_live: LiveServer, oidc_providers: Providers
) -> None:
    """The provider's real token, checked two hours later by the server's clock."""
    await oidc_live.stop()
    settings = oidc_live.settings.with_(oidc_login_ttl_seconds=24 * 3600)
    server = await conftest.start_server(settings, port=oidc_providers.port)
    try:
        async with server.http() as browser:
            callback = await authorize(
                await start_login(browser, "citizen"), login="late", pid="07070712345"
            )
            server.clock.advance(2 * 3600)
            refused = await browser.get(callback)
    finally:
        await server.stop()
    assert refused.status_code == 400 and page_code(refused) == "id-token"
    assert "exp" in refused.text


async def test_a_provider_error_in_the_callback_is_shown_and_grants_nothing(
    oidc_live: LiveServer,
) -> None:
    async with oidc_live.http() as browser:
        state = query_of(await start_login(browser, "staff"))["state"]
        refused = await browser.get(f"/auth/callback/staff?error=access_denied&state={state}")
        assert refused.status_code == 400 and page_code(refused) == "refused"
        assert "access_denied" in refused.text
        assert (await whoami(oidc_live, browser)).status_code == 401


async def test_an_unknown_provider_is_not_found(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as browser:
        assert (await browser.get("/auth/login/evil")).status_code == 404
        assert (await browser.get("/auth/callback/evil?code=x&state=y")).status_code == 404


async def test_sign_in_is_rate_limited(oidc_live: LiveServer, oidc_providers: Providers) -> None:
    await oidc_live.stop()
    settings = oidc_live.settings.with_(rate_sign_in=(3, 3600.0))
    server = await conftest.start_server(settings, port=oidc_providers.port)
    try:
        async with server.http() as browser:
            answers = [(await browser.get("/auth/login/citizen")).status_code for _ in range(5)]
    finally:
        await server.stop()
    assert answers == [303, 303, 303, 429, 429]


async def test_sign_out_ends_the_session_and_the_providers(
    oidc_live: LiveServer, oidc_providers: Providers
) -> None:
    async with oidc_live.http() as browser, httpx.AsyncClient(timeout=30) as idp:
        auth_url = await start_login(browser, "staff")
        callback = await authorize(auth_url, login="emp-9", org="974600951", client=idp)
        assert (await browser.get(callback)).status_code == 303
        csrf = (await whoami(oidc_live, browser)).json()["csrf"]
        without = await browser.post("/auth/logout")
        assert without.status_code == 403
        assert (await whoami(oidc_live, browser)).status_code == 200
        answer = await browser.post("/auth/logout", headers={"x-csrf-token": csrf})
        assert answer.status_code == 200
        redirect = answer.json()["redirect"]
        assert redirect.startswith(f"{oidc_providers.staff.issuer}/session/end?")
        hint = query_of(redirect)
        assert hint["post_logout_redirect_uri"] == f"{oidc_live.url}/"
        assert hint["client_id"] == oidc_providers.staff.client_id and hint["id_token_hint"]
        assert (await whoami(oidc_live, browser)).status_code == 401
        # At the provider: confirm, and it sends the browser back to Planrom.
        confirm = await idp.get(redirect)
        assert confirm.status_code == 200
        action, fields = logout_form(confirm.text)
        done = await idp.post(httpx.URL(redirect).join(action), data=fields | {"logout": "yes"})
        assert done.status_code in (302, 303)
        assert done.headers["location"].startswith(f"{oidc_live.url}/")


class _LogoutForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.action = found.get("action") or ""
        name = found.get("name")
        if tag == "input" and name:
            self.fields[name] = found.get("value") or ""


def logout_form(page: str) -> tuple[str, dict[str, str]]:
    parser = _LogoutForm()
    parser.feed(page)
    return parser.action, parser.fields


# --- the ID token checks themselves, with tokens made here ----------------------------------


def _claims(provider: Any, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": provider.issuer,
        "aud": provider.client_id,
        "sub": "someone",
        "iat": now,
        "exp": now + 300,
        "nonce": "the-nonce",
        "pid": "01017012345",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _check(provider: Any, token: str, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(
        keys=provider.public_keys(),
        issuer=provider.issuer,
        client_id=provider.client_id,
        nonce="the-nonce",
        now=int(time.time()),
        algorithms=["RS256"],
    )
    kwargs.update(overrides)
    return oidc.validate_id_token(token, **kwargs)


def _sign(claims: dict[str, Any], key: Any, alg: str = "RS256", kid: str | None = None) -> str:
    header: dict[str, Any] = {"alg": alg}
    if kid:
        header["kid"] = kid
    return jwt.encode(header, claims, key, algorithms=[alg])


def test_a_token_signed_with_the_providers_key_passes(oidc_providers: Providers) -> None:
    provider = oidc_providers.citizen
    token = _sign(_claims(provider), provider.key, kid=provider.key.kid)
    assert _check(provider, token)["pid"] == "01017012345"


def test_an_expired_id_token_is_refused(oidc_providers: Providers) -> None:
    provider = oidc_providers.citizen
    past = int(time.time()) - 3600
    token = _sign(_claims(provider, iat=past - 300, exp=past), provider.key, kid=provider.key.kid)
    with pytest.raises(oidc.SignInError) as refused:
        _check(provider, token)
    assert refused.value.code == "id-token" and "exp" in refused.value.message


def test_an_id_token_signed_with_another_key_is_refused(oidc_providers: Providers) -> None:
    provider = oidc_providers.citizen
    stranger = RSAKey.generate_key(2048, parameters={"kid": str(provider.key.kid)})
    token = _sign(_claims(provider), stranger, kid=provider.key.kid)
    with pytest.raises(oidc.SignInError) as refused:
        _check(provider, token)
    assert refused.value.code == "id-token" and "signature" in refused.value.message


def test_unsigned_and_symmetric_id_tokens_are_refused(oidc_providers: Providers) -> None:
    provider = oidc_providers.citizen
    body = base64.urlsafe_b64encode(json.dumps(_claims(provider)).encode()).rstrip(b"=")
    unsigned = b"eyJhbGciOiJub25lIn0." + body + b"."
    secret = OctKey.import_key(provider.client_secret.encode())
    hmac_signed = _sign(_claims(provider), secret, alg="HS256")
    for token in (unsigned.decode(), hmac_signed):
        with pytest.raises(oidc.SignInError):
            _check(provider, token, algorithms=["RS256", "HS256", "none"])


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"iss": "http://127.0.0.1:1"}, "iss"),
        ({"aud": "another-client"}, "aud"),
        ({"nonce": "another-nonce"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, "future"),
        ({"sub": None}, "sub"),
        ({"aud": ["another-client", "planrom-citizen"]}, "azp"),
    ],
)
def test_id_token_claims_are_checked(
    oidc_providers: Providers, change: dict[str, Any], why: str
) -> None:
    provider = oidc_providers.citizen
    token = _sign(_claims(provider, **change), provider.key, kid=provider.key.kid)
    with pytest.raises(oidc.SignInError) as refused:
        _check(provider, token)
    assert refused.value.code == "id-token" and why in refused.value.message


@pytest.mark.dialects  # two transactions racing: SQLite serialises, PostgreSQL does not
async def test_a_first_sign_in_twice_at_once_makes_one_person(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as a, oidc_live.http() as b:
        callbacks = [
            await authorize(await start_login(a, "citizen"), login="x", pid="08080812345"),
            await authorize(await start_login(b, "citizen"), login="x", pid="08080812345"),
        ]
        answers = await asyncio.gather(a.get(callbacks[0]), b.get(callbacks[1]))
        assert [r.status_code for r in answers] == [303, 303]
        people = {(await whoami(oidc_live, c)).json()["person"] for c in (a, b)}
    assert len(people) == 1


async def test_signing_in_again_replaces_the_browsers_session(oidc_live: LiveServer) -> None:
    async with oidc_live.http() as browser:
        assert (await sign_in(browser, "staff", login="s1", org="1")).status_code == 303
        first = browser.cookies.get("planrom_session")
        assert (await sign_in(browser, "staff", login="s2", org="1")).status_code == 303
        assert browser.cookies.get("planrom_session") != first
    async with oidc_live.http() as old:
        old.cookies.set("planrom_session", first or "")
        assert (await whoami(oidc_live, old)).status_code == 401
