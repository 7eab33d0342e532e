"""Signing in with what exists today: bearer tokens, demo links, cookie sessions, CSRF."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.conftest import Demo, LiveServer, start_server
from tests.conftest import test_settings as settings_for
from tests.integration.test_api_inputs import assert_error


@contextlib.asynccontextmanager
async def signed_in(
    live: LiveServer, token: str
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """A cookie-only browser-like client, signed in through the demo link."""
    async with live.http() as client:
        response = await client.get(f"/auth/demo/{token}", follow_redirects=False)
        assert response.status_code == 303, response.text
        session = await client.get("/api/session")
        assert session.status_code == 200, session.text
        yield client, dict(session.json())


async def test_the_demo_link_starts_a_cookie_session(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    async with live.http() as browser:
        response = await browser.get(
            f"/auth/demo/{demo.token(plan, 'per')}", follow_redirects=False
        )
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("planrom_session=")
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
        session = (await browser.get("/api/session")).json()
    assert session["via"] == "cookie" and session["name"] == "Per Hansen"
    assert session["person"] == demo.person(plan, "per")["person"]
    assert session["plans"] == [plan["id"]] and session["demo"] is True
    assert isinstance(session["csrf"], str) and len(session["csrf"]) >= 16


async def test_a_bearer_token_needs_no_csrf_token(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    async with live.http(demo.token(plan, "maria")) as maria:
        session = (await maria.get("/api/session")).json()
        assert (session["via"], session["csrf"]) == ("token", None)
        assert session["name"] == "Maria Olsen" and session["plans"] == [plan["id"]]
        changed = await maria.patch(f"/api/plans/{plan['id']}", json={"title": "Per sin plan"})
        assert changed.status_code == 200
        # Signing out is for browser sessions.
        assert_error(await maria.post("/api/session/logout", json={}), 400, "malformed")


async def test_a_cookie_session_writes_only_with_its_csrf_token(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    path = f"/api/plans/{plan['id']}"
    async with signed_in(live, demo.token(plan, "per")) as (client, session):
        assert_error(await client.patch(path, json={"title": "Uten token"}), 403, "forbidden")
        assert_error(
            await client.patch(
                path, json={"title": "Feil token"}, headers={"x-csrf-token": "not-the-token"}
            ),
            403,
            "forbidden",
        )
        async with signed_in(live, demo.token(plan, "maria")) as (_, other_session):
            assert_error(
                await client.patch(
                    path,
                    json={"title": "Marias token"},
                    headers={"x-csrf-token": other_session["csrf"]},
                ),
                403,
                "forbidden",
            )
        assert (await client.get(path)).json()["title"] == "Pers plan"
        response = await client.patch(
            path, json={"title": "Med token"}, headers={"x-csrf-token": session["csrf"]}
        )
        assert response.status_code == 200 and response.json()["title"] == "Med token"


async def test_signing_out_ends_the_session(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    async with signed_in(live, demo.token(plan, "siw")) as (client, session):
        cookie = client.cookies.get("planrom_session")
        assert cookie
        assert_error(await client.post("/api/session/logout", json={}), 403, "forbidden")
        response = await client.post(
            "/api/session/logout", json={}, headers={"x-csrf-token": session["csrf"]}
        )
        assert response.status_code == 200 and response.json() == {"ok": True}
        assert (
            'planrom_session=""' in response.headers["set-cookie"]
            or "max-age=0" in response.headers["set-cookie"].lower()
        )
    async with live.http() as replay:
        replay.cookies.set("planrom_session", cookie)
        assert_error(await replay.get("/api/session"), 401, "unauthenticated")
        assert_error(await replay.get(f"/api/plans/{plan['id']}"), 401, "unauthenticated")


async def test_tokens_and_links_expire_after_a_day(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    token = demo.token(plan, "per")
    live.clock.advance(24 * 3600 + 60)
    async with live.http(token) as expired:
        assert_error(await expired.get("/api/session"), 401, "unauthenticated")
    async with live.http() as browser:
        response = await browser.get(f"/auth/demo/{token}", follow_redirects=False)
        assert_error(response, 401, "unauthenticated")
        assert "set-cookie" not in response.headers


async def test_with_demo_mode_off_demo_tokens_links_and_sessions_are_refused(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    token = demo.token(plan, "per")
    async with signed_in(live, demo.token(plan, "maria")) as (browser, _):
        cookie = browser.cookies.get("planrom_session")
    server = await start_server(settings_for(live.settings.database_url, demo=False))
    try:
        async with server.http(token) as client:
            assert_error(await client.get("/api/session"), 401, "unauthenticated")
            assert_error(await client.get(f"/api/plans/{plan['id']}"), 401, "unauthenticated")
        async with server.http() as anonymous:
            response = await anonymous.get(f"/auth/demo/{token}", follow_redirects=False)
            assert_error(response, 403, "forbidden")
            assert "set-cookie" not in response.headers
        async with server.http() as replay:
            # The same signing key, so only demo fencing can refuse the demo session.
            replay.cookies.set("planrom_session", str(cookie))
            assert_error(await replay.get("/api/session"), 401, "unauthenticated")
    finally:
        await server.stop()
    # The demo server still accepts them.
    async with live.http(token) as client:
        assert (await client.get("/api/session")).status_code == 200
