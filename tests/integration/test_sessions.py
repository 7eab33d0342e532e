"""Browser sessions: listing and ending them, idle and absolute timeouts (moved by the
server's clock, not by sleeping), CSRF on cookie-authenticated writes, the cookie's
flags, write rate limits, and Socket.IO connections dropped when their session ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import socketio

from tests import conftest
from tests.conftest import Demo, LiveServer, load_demo_into


@asynccontextmanager
async def signed_in(
    live: LiveServer, demo: Demo, key: str, plan: str = "Per"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in with a demo link: it holds the session cookie, as a browser."""
    async with live.http() as client:
        answer = await client.get(f"/auth/demo/{demo.token(demo.plan(plan), key)}")
        assert answer.status_code == 303, answer.text
        yield client


async def csrf_of(client: httpx.AsyncClient) -> str:
    me = await client.get("/api/session")
    assert me.status_code == 200, me.text
    return str(me.json()["csrf"])


async def test_i_see_my_sessions_and_end_one(live: LiveServer, demo: Demo) -> None:
    async with (
        signed_in(live, demo, "maria") as laptop,
        signed_in(live, demo, "maria") as tablet,
        signed_in(live, demo, "per") as other,
    ):
        listed = (await laptop.get("/api/sessions")).json()["sessions"]
        assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
        assert {s["via"] for s in listed} == {"demo"}
        tablet_ref = next(s["id"] for s in listed if not s["current"])
        # Someone else's session cannot be ended, or even named.
        pers = (await other.get("/api/sessions")).json()["sessions"]
        refused = await laptop.delete(
            f"/api/sessions/{pers[0]['id']}", headers={"x-csrf-token": await csrf_of(laptop)}
        )
        assert refused.status_code == 404
        assert (await other.get("/api/session")).status_code == 200
        # Without the CSRF token, a cookie-authenticated DELETE is refused.
        assert (await laptop.delete(f"/api/sessions/{tablet_ref}")).status_code == 403
        ended = await laptop.delete(
            f"/api/sessions/{tablet_ref}", headers={"x-csrf-token": await csrf_of(laptop)}
        )
        assert ended.status_code == 200 and ended.json() == {
            "ok": True,
            "id": tablet_ref,
            "current": False,
        }
        assert (await tablet.get("/api/session")).status_code == 401
        assert (await laptop.get("/api/session")).status_code == 200
        assert len((await laptop.get("/api/sessions")).json()["sessions"]) == 1


async def test_ending_my_current_session_signs_me_out(live: LiveServer, demo: Demo) -> None:
    async with signed_in(live, demo, "siw") as browser:
        mine = (await browser.get("/api/sessions")).json()["sessions"][0]
        answer = await browser.delete(
            f"/api/sessions/{mine['id']}", headers={"x-csrf-token": await csrf_of(browser)}
        )
        assert answer.status_code == 200 and answer.json()["current"] is True
        assert "planrom_session=" in answer.headers["set-cookie"]
        assert (await browser.get("/api/session")).status_code == 401


async def test_a_bearer_caller_lists_sessions_without_a_current_one(
    live: LiveServer, demo: Demo
) -> None:
    async with signed_in(live, demo, "ali"):
        async with live.http(demo.token(demo.per, "ali")) as api:
            listed = (await api.get("/api/sessions")).json()["sessions"]
    assert len(listed) == 1 and listed[0]["current"] is False


async def test_an_ended_session_drops_its_socket(live: LiveServer, demo: Demo) -> None:
    sio = socketio.AsyncClient(reconnection=False)
    dropped = asyncio.Event()
    sio.on("disconnect", lambda *args: dropped.set())
    async with (
        signed_in(live, demo, "maria") as laptop,
        signed_in(live, demo, "maria") as tablet,
    ):
        cookie = tablet.cookies.get("planrom_session")
        await sio.connect(
            live.url,
            headers={"Cookie": f"planrom_session={cookie}", "Origin": live.url},
            transports=["websocket"],
            wait_timeout=20,
        )
        listed = (await laptop.get("/api/sessions")).json()["sessions"]
        ref = next(s["id"] for s in listed if not s["current"])
        ended = await laptop.delete(
            f"/api/sessions/{ref}", headers={"x-csrf-token": await csrf_of(laptop)}
        )
        assert ended.status_code == 200
        await asyncio.wait_for(dropped.wait(), timeout=10)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again = socketio.AsyncClient(reconnection=False)
            await again.connect(
                live.url,
                headers={"Cookie": f"planrom_session={cookie}", "Origin": live.url},
                transports=["websocket"],
                wait_timeout=20,
            )
        await sio.disconnect()


async def test_an_idle_session_times_out(live: LiveServer, demo: Demo) -> None:
    async with signed_in(live, demo, "per") as browser:
        live.clock.advance(live.settings.session_idle_seconds - 120)
        assert (await browser.get("/api/session")).status_code == 200  # activity counts
        live.clock.advance(live.settings.session_idle_seconds - 120)
        assert (await browser.get("/api/session")).status_code == 200
        live.clock.advance(live.settings.session_idle_seconds + 1)
        assert (await browser.get("/api/session")).status_code == 401
    async with signed_in(live, demo, "per") as fresh:
        assert len((await fresh.get("/api/sessions")).json()["sessions"]) == 1


async def test_an_active_session_still_ends_at_the_absolute_timeout(
    live: LiveServer, demo: Demo
) -> None:
    settings = live.settings
    step = settings.session_idle_seconds // 2
    async with signed_in(live, demo, "hilde", "Charlotte") as browser:
        elapsed = 0
        while elapsed + step < settings.session_absolute_seconds:
            live.clock.advance(step)
            elapsed += step
            assert (await browser.get("/api/session")).status_code == 200, elapsed
        live.clock.advance(settings.session_absolute_seconds - elapsed + 1)
        assert (await browser.get("/api/session")).status_code == 401


async def test_a_cookie_authenticated_post_without_the_csrf_token_is_refused(
    live: LiveServer, demo: Demo
) -> None:
    body = {"title": "Ny plan", "as": "owner"}
    async with signed_in(live, demo, "per") as browser:
        missing = await browser.post("/api/plans", json=body)
        wrong = await browser.post("/api/plans", json=body, headers={"x-csrf-token": "nope"})
        assert missing.status_code == 403 and missing.json()["error"]["code"] == "forbidden"
        assert wrong.status_code == 403
        right = await browser.post(
            "/api/plans", json=body, headers={"x-csrf-token": await csrf_of(browser)}
        )
        assert right.status_code == 201, right.text
        logout = await browser.post("/auth/logout")
        assert logout.status_code == 403
        assert (await browser.get("/api/session")).status_code == 200
    # A bearer token is not sent by a browser on its own: no CSRF token needed.
    async with live.http(demo.token(demo.per, "per")) as api:
        assert (await api.post("/api/plans", json=body)).status_code == 201


async def test_the_session_cookie_is_httponly_and_samesite(live: LiveServer, demo: Demo) -> None:
    async with live.http() as client:
        answer = await client.get(f"/auth/demo/{demo.token(demo.per, 'per')}")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback; HTTPS base URLs add Secure


async def test_http_writes_are_rate_limited(sqlite_url: str) -> None:
    server = await conftest.start_server(conftest.test_settings(sqlite_url, rate_write=(5, 3600.0)))
    try:
        demo = await load_demo_into(server)
        async with server.http(demo.token(demo.per, "per")) as api:
            codes = [
                (await api.post("/api/plans", json={"title": f"P{i}", "as": "owner"})).status_code
                for i in range(7)
            ]
            limited = await api.post("/api/plans", json={"title": "P", "as": "owner"})
            reads = (await api.get("/api/plans")).status_code
        async with server.http(demo.token(demo.per, "maria")) as other:
            others = await other.post("/api/plans", json={"title": "M", "as": "owner"})
    finally:
        await server.stop()
    assert codes == [201] * 5 + [429, 429]
    assert limited.json()["error"]["code"] == "rate-limited"
    assert reads == 200  # reads are not limited here
    assert others.status_code == 201  # one caller's limit is not another's


async def test_demo_sessions_stop_working_when_demo_mode_is_off(
    sqlite_url: str,
) -> None:
    clock = conftest.Clock()
    server = await conftest.start_server(conftest.test_settings(sqlite_url), clock)
    demo = await load_demo_into(server)
    port = int(server.url.rsplit(":", 1)[1])
    async with signed_in(server, demo, "per") as browser:
        assert (await browser.get("/api/session")).status_code == 200
        await server.stop()
        off = await conftest.start_server(
            conftest.test_settings(sqlite_url, demo=False), clock, port=port
        )
        try:
            assert (await browser.get("/api/session")).status_code == 401
            link = await browser.get(f"/auth/demo/{demo.token(demo.per, 'per')}")
            assert link.status_code == 403
        finally:
            await off.stop()
