"""Run the real OpenID provider (``provider.js``, the npm package oidc-provider) for tests,
and sign in through it the way a browser would: follow redirects, post the login form.

Each provider is one Node process on a loopback port, configured with a JSON file: its
issuer, the shape of its identities (``citizen`` or ``staff``), one registered client
(Planrom at a port chosen in advance), and a private signing key that the test keeps, so
that tests can also sign tokens with the provider's own key.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from joserfc.jwk import KeySet, RSAKey

from server.settings import OIDCProvider
from tests.conftest import LiveServer, free_port, start_server, test_settings

HERE = Path(__file__).resolve().parent
NPM_CI = "cd tests/oidc && npm ci --no-audit --no-fund"


@dataclass
class RunningProvider:
    kind: str
    issuer: str
    client_id: str
    client_secret: str
    key: RSAKey
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    def settings(self, **changes: object) -> OIDCProvider:
        base = OIDCProvider(
            issuer=self.issuer,
            client_id=self.client_id,
            client_secret=self.client_secret,
            identity_claim="pid" if self.kind == "citizen" else "",
            organisation_claim="org" if self.kind == "staff" else "",
        )
        return replace(base, **changes)  # type: ignore[arg-type]

    def public_keys(self) -> KeySet:
        return KeySet.import_key_set({"keys": [self.key.as_dict(private=False)]})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for the OpenID provider tests")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(f"the test OpenID provider is not installed: run `{NPM_CI}`")
    return node


def start_provider(kind: str, planrom_base: str, workdir: Path) -> RunningProvider:
    """Start one provider for Planrom at ``planrom_base``; wait until discovery answers."""
    node = require_node()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = RSAKey.generate_key(
        2048, parameters={"kid": f"{kind}-{secrets.token_hex(4)}", "use": "sig", "alg": "RS256"}
    )
    client_id = f"planrom-{kind}"
    client_secret = secrets.token_urlsafe(32)
    config = {
        "issuer": issuer,
        "port": port,
        "kind": kind,
        "cookie_keys": [secrets.token_urlsafe(32)],
        "jwks": {"keys": [key.as_dict(private=True)]},
        "client": {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": [f"{planrom_base}/auth/callback/{kind}"],
            "post_logout_redirect_uris": [f"{planrom_base}/"],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
    }
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / f"op-{kind}.json"
    config_path.write_text(json.dumps(config))
    os.chmod(config_path, 0o600)
    log_path = workdir / f"op-{kind}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, str(HERE / "provider.js"), str(config_path)],
            cwd=HERE,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = RunningProvider(kind, issuer, client_id, client_secret, key, process, log_path)
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"OpenID provider exited: {log_path.read_text()[-2000:]}")
            try:
                doc = client.get(f"{issuer}/.well-known/openid-configuration")
                if doc.status_code == 200 and doc.json().get("issuer") == issuer:
                    return running
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                running.stop()
                raise RuntimeError(f"OpenID provider did not start: {log_path.read_text()}")
            time.sleep(0.05)


# --- a browser, as far as sign-in needs one -------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.actions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.actions.append(dict(attrs).get("action") or "")


def form_action(page: str) -> str:
    parser = _Forms()
    parser.feed(page)
    assert parser.actions, page[:500]
    return parser.actions[0]


async def start_login(planrom: httpx.AsyncClient, kind: str, invite: str | None = None) -> str:
    """Ask Planrom to sign in; returns the provider's authorization URL."""
    params = {"invite": invite} if invite else None
    response = await planrom.get(f"/auth/login/{kind}", params=params)
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def authorize(
    auth_url: str,
    *,
    login: str,
    name: str = "",
    pid: str = "",
    org: str = "",
    client: httpx.AsyncClient | None = None,
) -> str:
    """Sign in at the provider (with its own cookie jar, ``client`` when given); returns
    the callback URL it sends the browser back to, with ``code`` and ``state``."""
    if client is None:
        async with httpx.AsyncClient(timeout=30) as own:
            return await authorize(auth_url, login=login, name=name, pid=pid, org=org, client=own)
    url = auth_url
    for _ in range(10):
        response = await client.get(url)
        if response.status_code in (302, 303):
            url = urljoin(url, response.headers["location"])
            if "/auth/callback/" in url:
                return url
            continue
        assert response.status_code == 200, (response.status_code, response.text[:500])
        action = urljoin(url, form_action(response.text))
        form = {"login": login, "name": name, "pid": pid, "org": org}
        posted = await client.post(action, data=form)
        assert posted.status_code in (302, 303), (posted.status_code, posted.text[:500])
        url = urljoin(action, posted.headers["location"])
        if "/auth/callback/" in url:
            return url
    raise AssertionError("the provider never sent the browser back")


async def sign_in(
    planrom: httpx.AsyncClient,
    kind: str,
    *,
    login: str,
    name: str = "",
    pid: str = "",
    org: str = "",
    invite: str | None = None,
) -> httpx.Response:
    """The whole flow; returns Planrom's answer to the callback."""
    auth_url = await start_login(planrom, kind, invite)
    callback = await authorize(auth_url, login=login, name=name, pid=pid, org=org)
    return await planrom.get(callback)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# --- for the test modules' fixtures --------------------------------------------------------


@dataclass
class Providers:
    port: int  # where Planrom must listen: the providers know only this redirect URI
    citizen: RunningProvider
    staff: RunningProvider


@contextmanager
def providers_running(workdir: Path) -> Iterator[Providers]:
    """Two real OpenID providers (citizen and staff) for Planrom on a port chosen here."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    citizen = start_provider("citizen", base, workdir)
    try:
        staff = start_provider("staff", base, workdir)
    except BaseException:
        citizen.stop()
        raise
    try:
        yield Providers(port, citizen, staff)
    finally:
        citizen.stop()
        staff.stop()


@asynccontextmanager
async def planrom_with(
    db_url: str, providers: Providers, tmp_path: Path, **overrides: Any
) -> AsyncIterator[LiveServer]:
    """A Planrom server that signs in through both providers."""
    settings = test_settings(
        db_url,
        oidc_citizen=providers.citizen.settings(),
        oidc_staff=providers.staff.settings(),
        outbox_dir=tmp_path / "outbox",
    ).with_(**overrides)
    server = await start_server(settings, port=providers.port)
    try:
        yield server
    finally:
        await server.stop()
