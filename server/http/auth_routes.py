"""Signing in and out with what exists today: demo links, bearer tokens, sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.responses import JSONResponse, RedirectResponse, Response

from collab import policy
from server.auth import oidc
from server.auth.identity import (
    SESSION_COOKIE,
    demo_people,
    end_web_session,
    is_demo_person,
    resolve_token,
    start_web_session,
)
from server.db import repo
from server.db.unit import is_member as is_unit_member
from server.http.common import ApiError, Call, Endpoints
from server.http.render import ID_SCHEMA

api = Endpoints()  # this module's routes; server.app composes them


def set_session_cookie(response: Response, call: Call, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=call.services.settings.session_absolute_seconds,
        httponly=True,
        secure=call.services.settings.secure_cookies,
        samesite="lax",
        path="/",
    )


@api(
    "GET",
    "/auth/demo/{token}",
    summary="Sign in with a demo link (demo mode only)",
    auth=False,
    tag="auth",
    responses=(303,),
)
async def demo_login(call: Call) -> Any:
    if not call.services.settings.demo:
        raise ApiError("forbidden", "Demomodus er av (demo mode is off).")
    token = call.params["token"]
    found = await resolve_token(call.db, token, now=call.now, settings=call.services.settings)
    if found is None:
        raise ApiError("unauthenticated", "Lenken er ugyldig eller utløpt.")
    cookie, _csrf = await start_web_session(
        call.db,
        found.principal.person,
        via="demo",
        now=call.now,
        settings=call.services.settings,
        user_agent=call.request.headers.get("user-agent", ""),
    )
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, call, cookie)
    return response


DEMO_OFF = "Demomodus er av (demo mode is off)."


@api(
    "GET",
    "/api/demo/people",
    summary="The demo people a newcomer may sign in as (demo mode only)",
    auth=False,
    tag="auth",
)
async def demo_people_list(call: Call) -> Any:
    settings = call.services.settings
    if not settings.demo:
        raise ApiError("forbidden", DEMO_OFF)
    people = await demo_people(call.db, now=call.now)
    return {
        "people": [
            {
                "person": p.person,
                "name": p.name,
                "parts": [{"role": role, "plan": plan} for role, plan in p.parts],
                "unit": await is_unit_member(call.db, p.person),
            }
            for p in people
        ],
        # The sign-in services that are set up (the page hides the others).
        "providers": sorted(oidc.providers_of(call.request.app.state, settings).by_kind),
    }


@api(
    "POST",
    "/api/demo/sign-in",
    summary="Sign in as a demo person (demo mode only)",
    auth=False,
    tag="auth",
    body={
        "type": "object",
        "additionalProperties": False,
        "required": ["person"],
        "properties": {"person": ID_SCHEMA},
    },
)
async def demo_sign_in(call: Call) -> Any:
    if not call.services.settings.demo:
        raise ApiError("forbidden", DEMO_OFF)
    person = call.body["person"]
    if not await is_demo_person(call.db, person, now=call.now):
        raise ApiError("not-found", "Fant ikke den demopersonen.")
    cookie, _csrf = await start_web_session(
        call.db,
        person,
        via="demo",
        now=call.now,
        settings=call.services.settings,
        user_agent=call.request.headers.get("user-agent", ""),
    )
    response = JSONResponse({"ok": True})
    set_session_cookie(response, call, cookie)
    return response


@api("GET", "/api/session", summary="Who I am, my plans and my CSRF token", tag="auth")
async def whoami(call: Call) -> Any:
    me = call.principal
    plans = await repo.plans_of_person(call.db, me.person)
    return {
        "person": me.person,
        "name": me.name,
        "via": call.auth.via if call.auth else None,
        "csrf": call.auth.csrf if call.auth else None,
        "plans": plans,
        "demo": call.services.settings.demo,
        # Capabilities beyond plans (the client shows the unit's page from this).
        "can": {
            "unit_overview": bool(
                policy.check_unit_overview(await is_unit_member(call.db, me.person))
            )
        },
    }


@api(
    "POST",
    "/api/session/logout",
    summary="End this browser session",
    tag="auth",
    body={"type": "object", "maxProperties": 0},
)
async def logout(call: Call) -> Any:
    auth = call.auth
    if auth is None or auth.session_hash is None:
        raise ApiError("malformed", "Only a browser session can be signed out here.")
    await end_web_session(call.db, auth.session_hash, call.now)
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


DEMO_TTL = timedelta(hours=24)
