"""Every HTTP route against bad input: no credentials, unknown ids, wrong bodies.

The table below names every route of the API (``server.app.endpoints()``) with a valid
body, bodies of the wrong type and bodies missing a required field; a test fails when a
route is added without being listed here. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from server.app import endpoints
from tests.conftest import Demo, LiveServer

OWN_MODULES = {"server.http.plan_routes", "server.http.consent_routes", "server.http.auth_routes"}
UNKNOWN_ID = "zzzz9999"
MALFORMED_ID = "Not-An-Id"


FIELDED = {"code", "message", "field"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (
        response.request.method,
        response.request.url,
        response.status_code,
        response.text,
    )
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) in ({"code", "message"}, FIELDED)
    # A message about one field names it (server.http.messages).
    assert body["error"].get("field", "x") and isinstance(body["error"].get("field", ""), str)
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip()
    return dict(body["error"])


@dataclass
class Route:
    method: str
    path: str
    valid: dict[str, Any] | None = None  # None: the route takes no body
    wrong: list[Any] = field(default_factory=list)  # wrong types or values
    missing: list[dict[str, Any]] = field(default_factory=list)  # a required field left out
    auth: bool = True


def route_table(ids: dict[str, str]) -> list[Route]:
    section, participant = ids["section"], ids["participant"]
    grant = {"participant": participant, "section": section, "level": "read"}
    return [
        Route("GET", "/api/plans"),
        Route(
            "POST",
            "/api/plans",
            {"title": "Ny plan", "as": "owner"},
            wrong=[
                {"title": 5, "as": "owner"},
                {"title": "x", "as": "service"},
                {"title": "x", "as": "owner", "evaluation_months": 1.0},
                {"title": "x", "as": "owner", "evaluation_months": "6"},
                {"title": "x", "as": "owner", "period_from": "1. mars"},
                {"title": "", "as": "owner"},
                {"title": "x", "as": "owner", "sections": ["nope"]},
                {"title": "x", "as": "owner", "sections": ["mal", "mal"]},
                {"title": "x", "as": "owner", "guardians": [{"phone": "1"}]},
                {"title": "x", "as": "owner", "owner": {"name": "x"}},
                {"title": "x", "as": "owner", "period_to": "31.12.2026"},
            ],
            missing=[{"title": "Ny plan"}, {"as": "owner"}],
        ),
        Route("GET", "/api/plans/{plan}"),
        Route(
            "PATCH",
            "/api/plans/{plan}",
            {"title": "Pers plan"},
            wrong=[
                {"title": None},
                {"evaluation_months": 0},
                {"evaluation_months": 1.5},
                {"evaluation_months": 2.0},
                {"status": "deleted"},
                {"period_to": "2026-13-45"},
                {"next_evaluation": 20260101},
            ],
            missing=[{}],
        ),
        Route("GET", "/api/plans/{plan}/sections"),
        Route(
            "POST",
            "/api/plans/{plan}/sections",
            {"title": "Fritid"},
            wrong=[
                {"title": ["Fritid"]},
                {"title": "Fritid", "kind": "crisis"},
                {"title": "x" * 201},
            ],
            missing=[{}, {"kind": "custom"}],
        ),
        Route(
            "PATCH",
            "/api/plans/{plan}/sections/{section}",
            {"title": "Bolig"},
            wrong=[
                {"position": "1"},
                {"position": 1.0},
                {"position": -1},
                {"archived": "yes"},
                {"title": ""},
            ],
            missing=[{}],
        ),
        Route("GET", "/api/plans/{plan}/participants"),
        Route(
            "POST",
            "/api/plans/{plan}/participants",
            {"role": "relative", "name": "Søster"},
            wrong=[
                {"role": "owner", "name": "x"},
                {"role": "service", "name": 1},
                {"role": "service", "name": "x", "phone": "1" * 41},
            ],
            missing=[{"role": "service"}, {"name": "Søster"}],
        ),
        Route(
            "PATCH",
            "/api/plans/{plan}/participants/{participant}",
            {"phone": "400 00 002"},
            wrong=[{"active": True}, {"active": "false"}, {"email": 7}, {"name": ""}],
            missing=[{}],
        ),
        Route("GET", "/api/plans/{plan}/group"),
        Route(
            "POST",
            "/api/plans/{plan}/participants/{participant}/replace",
            {"name": "Ny Koordinator"},
            wrong=[{"name": ""}, {"name": 5}, {"role": "owner", "name": "x"}],
            missing=[{}, {"phone": "400 00 000"}],
        ),
        Route("GET", "/api/plans/{plan}/measures"),
        Route(
            "POST",
            "/api/plans/{plan}/measures",
            {"section": section, "title": "Nytt"},
            wrong=[
                {"section": 12, "title": "x"},
                {"section": section, "title": "x", "goal_ids": "g1"},
                {"section": section, "title": "x", "status": "finished"},
                {"section": section, "title": "x", "starts": "i morgen"},
                {"section": "NOT AN ID", "title": "x"},
            ],
            missing=[{"title": "Nytt"}, {"section": section}],
        ),
        Route("GET", "/api/plans/{plan}/measures/{measure}"),
        Route(
            "PATCH",
            "/api/plans/{plan}/measures/{measure}",
            {"status": "active"},
            wrong=[
                {"status": 1},
                {"goal_ids": [1, 2]},
                {"responsible": 5},
                {"goal_ids": ["g"] * 21},
            ],
            missing=[{}],
        ),
        Route("GET", "/api/plans/{plan}/history"),
        Route("GET", "/api/plans/{plan}/consent"),
        Route(
            "POST",
            "/api/plans/{plan}/consent",
            {"purpose": "Samarbeid", "grants": [grant]},
            wrong=[
                {"purpose": "x", "grants": [grant | {"level": "all"}]},
                {"purpose": "x", "grants": grant},
                {"purpose": "x", "grants": [grant | {"note": "x"}]},
                {"purpose": "x", "grants": [], "valid_to": 5},
                {"purpose": "x", "grants": [], "signed_by": "Per"},
            ],
            missing=[
                {"purpose": "x"},
                {"grants": []},
                {"purpose": "x", "grants": [{"participant": participant, "section": section}]},
            ],
        ),
        Route(
            "POST",
            "/api/plans/{plan}/consent/withdraw",
            {},
            wrong=[{"participant": 5}, {"participant": None}, []],
        ),
        Route("POST", "/api/plans/{plan}/consent/{version}/undo"),
        Route("POST", "/api/plans/{plan}/consent/forms"),
        Route("GET", "/api/plans/{plan}/consent/forms/{form}"),
        Route("GET", "/api/notifications"),
        Route("POST", "/api/notifications/{notification}/read"),
        Route("GET", "/api/plans/{plan}/access-log"),
        Route("GET", "/auth/demo/{token}", auth=False),
        Route("GET", "/api/demo/people", auth=False),
        Route(
            "POST",
            "/api/demo/sign-in",
            {"person": "abcd1234"},
            wrong=[{"person": 5}, {"person": None}, {"person": "x"}, []],
            missing=[{}],
            auth=False,
        ),
        Route("GET", "/api/session"),
        Route("POST", "/api/session/logout", {}, wrong=[{"all": True}, []]),
    ]


def fill(path: str, ids: dict[str, str], **replace: str) -> str:
    for name, value in (ids | replace).items():
        path = path.replace("{" + name + "}", value)
    return path


def demo_ids(demo: Demo) -> dict[str, str]:
    plan = demo.per
    return {
        "plan": plan["id"],
        "section": demo.section(plan, "bolig")["id"],
        "participant": demo.person(plan, "siw")["id"],
        "measure": next(
            m["id"] for m in plan["measures"] if m["section"] == demo.section(plan, "okonomi")["id"]
        ),
        "token": demo.token(plan, "per"),
    }


def test_the_table_lists_every_route_of_the_api() -> None:
    ours = {(e.method, e.path) for e in endpoints() if e.handler.__module__ in OWN_MODULES}
    ids = {k: k for k in ("plan", "section", "participant", "measure", "token")}
    listed = {(r.method, r.path) for r in route_table(ids)}
    assert ours == listed
    for e in endpoints():
        if e.handler.__module__ in OWN_MODULES:
            spec = next(r for r in route_table(ids) if (r.method, r.path) == (e.method, e.path))
            assert (spec.valid is not None) is (e.body is not None), e.path
            assert spec.auth is e.auth, e.path


async def test_every_route_refuses_a_caller_without_credentials(
    live: LiveServer, demo: Demo
) -> None:
    ids = demo_ids(demo)
    async with (
        live.http() as anonymous,
        live.http("prt_not-a-real-token") as forged,
        httpx.AsyncClient(
            base_url=live.url, headers={"authorization": f"Basic {ids['token']}"}
        ) as basic,
    ):
        for route in route_table(ids):
            if not route.auth:
                continue
            path = fill(route.path, ids)
            for client in (anonymous, forged, basic):
                response = await client.request(route.method, path, json=route.valid)
                assert_error(response, 401, "unauthenticated")
        # A forged session cookie is no better than none.
        anonymous.cookies.set("planrom_session", "forged.cookie")
        response = await anonymous.get(fill("/api/plans/{plan}", ids))
        assert_error(response, 401, "unauthenticated")


async def test_every_route_answers_not_found_for_unknown_and_malformed_ids(
    live: LiveServer, demo: Demo
) -> None:
    ids = demo_ids(demo)
    async with live.http(ids["token"]) as client:
        for route in route_table(ids):
            names = [
                n
                for n in ("plan", "section", "participant", "measure")
                if "{" + n + "}" in route.path
            ]
            for name in names:
                for bad in (UNKNOWN_ID, MALFORMED_ID):
                    path = fill(route.path, ids, **{name: bad})
                    response = await client.request(route.method, path, json=route.valid)
                    assert_error(response, 404, "not-found")
        # Ids of another plan are as unknown as made-up ones.
        other = demo.charlotte
        foreign = {
            "section": demo.section(other, "skolen")["id"],
            "participant": demo.person(other, "skole")["id"],
            "measure": other["measures"][0]["id"],
        }
        for name, value in foreign.items():
            for route in route_table(ids):
                if "{" + name + "}" in route.path:
                    path = fill(route.path, ids, **{name: value})
                    response = await client.request(route.method, path, json=route.valid)
                    assert_error(response, 404, "not-found")
    async with live.http() as anonymous:
        response = await anonymous.get(f"/auth/demo/{UNKNOWN_ID}", follow_redirects=False)
        assert_error(response, 401, "unauthenticated")
        assert "set-cookie" not in response.headers
    async with live.http(ids["token"]) as client:
        assert_error(await client.get("/api/no-such-route"), 404, "not-found")


async def test_every_body_of_the_wrong_shape_is_refused_as_malformed(
    live: LiveServer, demo: Demo
) -> None:
    ids = demo_ids(demo)
    async with live.http(ids["token"]) as client:
        for route in route_table(ids):
            if route.valid is None:
                continue
            path = fill(route.path, ids)
            extra = dict(route.valid) | {"unexpected": "field"}
            for body in [*route.wrong, *route.missing, extra, None, "text", 5]:
                response = await client.request(
                    route.method,
                    path,
                    content=json.dumps(body).encode(),
                    headers={"content-type": "application/json"},
                )
                error = assert_error(response, 400, "malformed")
                assert len(error["message"]) < 400


async def test_every_body_route_refuses_invalid_json_other_media_and_oversized_bodies(
    live: LiveServer, demo: Demo
) -> None:
    ids = demo_ids(demo)
    limit = live.settings.max_body_bytes
    async with live.http(ids["token"]) as client:
        for route in route_table(ids):
            if route.valid is None:
                continue
            path = fill(route.path, ids)
            valid = json.dumps(route.valid).encode()
            json_type = {"content-type": "application/json"}
            for raw in (
                b"{",
                b'{"title": }',
                b"\xff\xfe",
                b"NaN",
                b'{"a": Infinity}',
                b"[" * 100_000,
            ):
                response = await client.request(route.method, path, content=raw, headers=json_type)
                assert_error(response, 400, "malformed")
            for media in (
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/jsonx",
            ):
                response = await client.request(
                    route.method, path, content=valid, headers={"content-type": media}
                )
                assert_error(response, 415, "unsupported-media-type")
            response = await client.request(route.method, path, content=valid, headers={})
            assert_error(response, 415, "unsupported-media-type")
            padded = {"pad": "x" * (limit + 10)}
            response = await client.request(route.method, path, json=padded)
            assert_error(response, 413, "too-large")

            async def chunks() -> AsyncIterator[bytes]:
                yield b'{"pad": "'
                for _ in range(limit // 8192 + 2):
                    yield b"x" * 8192
                yield b'"}'

            response = await client.request(route.method, path, content=chunks(), headers=json_type)
            assert_error(response, 413, "too-large")
        # The charset parameter is fine.
        response = await client.patch(
            fill("/api/plans/{plan}", ids),
            content=b'{"title": "Pers plan"}',
            headers={"content-type": "application/json; charset=utf-8"},
        )
        assert response.status_code == 200


async def test_the_openapi_document_lists_every_route(live: LiveServer) -> None:
    async with live.http() as client:
        document = (await client.get("/api/openapi.json")).json()
    for e in endpoints():
        operation = document["paths"][e.path][e.method.lower()]
        assert str(e.status) in operation["responses"]
        assert ("requestBody" in operation) is (e.body is not None)
