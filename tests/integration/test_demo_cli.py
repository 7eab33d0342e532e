"""``planrom demo --json`` as a user runs it: the printed JSON, and that its tokens work."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, start_server
from tests.conftest import test_settings as settings_for
from tests.integration.test_api_inputs import assert_error

PLANROM = Path(sys.executable).parent / "planrom"
# PROTOCOL.md "Demo data": every key a client may rely on, with its type.
PLAN_KEYS = {
    "id": str,
    "title": str,
    "owner": str,
    "sections": list,
    "measures": list,
    "meetings": list,
    "participants": list,
}
SECTION_KEYS = {"id": str, "title": str, "doc": str}
MEASURE_KEYS = {"id": str, "section": str, "responsible": str, "doc": str}
MEETING_KEYS = {"id": str, "status": str}
PARTICIPANT_KEYS = {"id": str, "name": str, "role": str, "token": str, "login_url": str}


async def planrom(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(PLANROM), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANROM_")}
    return env | {"PLANROM_DATABASE_URL": database_url} | extra


def check_shape(item: dict[str, Any], keys: Mapping[str, type], where: str) -> None:
    missing = set(keys) - set(item)
    assert not missing, f"{where}: missing {missing}"
    for key, kind in keys.items():
        assert isinstance(item[key], kind), f"{where}.{key}: {item[key]!r} is not {kind}"
        if kind is str:
            assert item[key], f"{where}.{key} is empty"


@pytest.fixture
async def loaded(tmp_path: Path) -> tuple[str, int, dict[str, Any]]:
    """A fresh SQLite file, migrated and loaded by the command line as a user would."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    port = free_port()
    env = environment(url, PLANROM_DEMO="1", PLANROM_BASE_URL=f"http://127.0.0.1:{port}")
    code, out, err = await planrom("migrate", env=env)
    assert code == 0, err
    code, out, err = await planrom("demo", "--json", env=env)
    assert code == 0, err
    return url, port, json.loads(out)


async def test_demo_json_has_exactly_the_shape_of_the_protocol(
    loaded: tuple[str, int, dict[str, Any]],
) -> None:
    _, port, data = loaded
    assert data["base_url"] == f"http://127.0.0.1:{port}"
    assert [p["title"] for p in data["plans"]] == ["Pers plan", "Charlottes plan"]
    for plan in data["plans"]:
        check_shape(plan, PLAN_KEYS, plan["title"])
        owner = next(p for p in plan["participants"] if p["role"] == "owner")
        assert plan["owner"] == owner["id"]
        section_ids = {s["id"] for s in plan["sections"]}
        participant_ids = {p["id"] for p in plan["participants"]}
        for s in plan["sections"]:
            check_shape(s, SECTION_KEYS, "section")
            assert s["doc"] == f"plan:{plan['id']}:section:{s['id']}"
        for m in plan["measures"]:
            check_shape(m, MEASURE_KEYS, "measure")
            assert m["doc"] == f"plan:{plan['id']}:measure:{m['id']}"
            assert m["section"] in section_ids and m["responsible"] in participant_ids
        for meeting in plan["meetings"]:
            check_shape(meeting, MEETING_KEYS, "meeting")
            assert meeting["status"] in {"scheduled", "live", "ended", "approved", "final"}
        for p in plan["participants"]:
            check_shape(p, PARTICIPANT_KEYS, "participant")
            assert p["role"] in {"owner", "guardian", "relative", "coordinator", "service"}
            assert p["login_url"] == f"{data['base_url']}/auth/demo/{p['token']}"
        tokens = [p["token"] for p in plan["participants"]]
        assert len(set(tokens)) == len(tokens)
    per, charlotte = data["plans"]
    assert {p["name"] for p in per["participants"]} >= {"Per Hansen", "Maria Olsen", "Siw Nilsen"}
    assert {s["title"] for s in charlotte["sections"]} >= {"Behandling hos DPS", "Skole"}
    assert len(charlotte["participants"]) == 6


async def test_demo_refuses_without_demo_mode(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'refused.sqlite3'}"
    for extra in ({}, {"PLANROM_DEMO": "0"}, {"PLANROM_DEMO": ""}):
        code, out, err = await planrom("demo", "--json", env=environment(url, **extra))
        assert code != 0
        assert out == ""
        assert "PLANROM_DEMO=1" in err


async def test_the_printed_tokens_and_links_work_against_the_api(
    loaded: tuple[str, int, dict[str, Any]],
) -> None:
    url, port, data = loaded
    live = await start_server(settings_for(url), port=port)
    try:
        for plan in data["plans"]:
            for person in plan["participants"]:
                async with live.http(person["token"]) as client:
                    session = (await client.get("/api/session")).json()
                    assert session["name"] == person["name"]
                    opened = await client.get(f"/api/plans/{plan['id']}")
                    assert opened.status_code == 200, opened.text
                    me = opened.json()["me"]
                    assert (me["participant"], me["role"]) == (person["id"], person["role"])
        login = data["plans"][0]["participants"][0]["login_url"]
        async with live.http() as browser:
            response = await browser.get(login, follow_redirects=False)
            assert response.status_code == 303
            assert (await browser.get("/api/session")).json()["via"] == "cookie"
        # Valid for 24 hours, not longer.
        live.clock.advance(24 * 3600 + 1)
        async with live.http(data["plans"][0]["participants"][0]["token"]) as late:
            assert_error(await late.get("/api/session"), 401, "unauthenticated")
    finally:
        await live.stop()


async def test_the_schools_printed_token_never_reaches_charlottes_therapy_section(
    loaded: tuple[str, int, dict[str, Any]],
) -> None:
    url, port, data = loaded
    charlotte = data["plans"][1]
    therapy = next(s for s in charlotte["sections"] if s["title"] == "Behandling hos DPS")
    talks = next(m for m in charlotte["measures"] if m["section"] == therapy["id"])
    school = next(p for p in charlotte["participants"] if p["name"] == "Ola Strand")
    base = f"/api/plans/{charlotte['id']}"
    live = await start_server(settings_for(url), port=port)
    try:
        async with live.http(school["token"]) as client:
            seen = []
            for path in ("", "/sections", "/measures", "/participants", "/consent"):
                response = await client.get(base + path)
                assert response.status_code == 200, (path, response.text)
                seen.append(response.text)
            everything = "\n".join(seen)
            for secret in (
                therapy["id"],
                therapy["title"],
                therapy["doc"],
                talks["id"],
                talks["doc"],
                "Samtaler hos DPS",
                "Berit",
                "DPS",
            ):
                assert secret not in everything, secret
            refusals = [
                await client.get(f"{base}/measures/{talks['id']}"),
                await client.patch(f"{base}/measures/{talks['id']}", json={"status": "done"}),
                await client.patch(f"{base}/measures/{talks['id']}", json={"title": "x"}),
                await client.patch(f"{base}/sections/{therapy['id']}", json={"title": "x"}),
                await client.patch(f"{base}/sections/{therapy['id']}", json={"position": 0}),
                await client.post(
                    f"{base}/measures", json={"section": therapy["id"], "title": "x"}
                ),
            ]
            for response in refusals:
                assert response.status_code in {403, 404}, response.text
                assert response.json()["error"]["code"] in {"forbidden", "not-found"}
                assert therapy["title"] not in response.text
        berit = next(p for p in charlotte["participants"] if p["name"] == "Berit Lund")
        async with live.http(berit["token"]) as client:
            opened = await client.get(f"{base}/measures/{talks['id']}")
            assert opened.status_code == 200 and opened.json()["title"] == "Samtaler hos DPS"
            keys = {s["key"] for s in (await client.get(f"{base}/sections")).json()["sections"]}
            assert "terapi" in keys and "skolen" not in keys
    finally:
        await live.stop()
