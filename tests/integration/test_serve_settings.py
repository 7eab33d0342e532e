"""``planrom serve`` start-up settings: no secret key outside demo mode, allowed origins."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from server.settings import SettingsError, from_env, normalise_origin
from tests.conftest import free_port

PLANROM = Path(sys.executable).parent / "planrom"


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANROM_")}
    return env | {"PLANROM_DATABASE_URL": database_url} | extra


async def test_serve_refuses_to_start_without_a_secret_key_outside_demo_mode(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nokey.sqlite3'}"
    port = free_port()
    for extra in ({}, {"PLANROM_DEMO": "0"}, {"PLANROM_SECRET_KEY": ""}):
        process = await asyncio.create_subprocess_exec(
            str(PLANROM),
            "serve",
            "--port",
            str(port),
            env=environment(url, **extra),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode not in (0, None), (extra, out, err)
        message = err.decode()
        assert "PLANROM_SECRET_KEY is not set" in message, message
        assert "Traceback" not in message
        assert b"is running" not in out
    # Nothing was served, nothing was created.
    assert not (tmp_path / "nokey.sqlite3").exists()


async def test_demo_mode_serves_without_a_key_and_production_with_one(tmp_path: Path) -> None:
    for name, extra in (
        ("demo", {"PLANROM_DEMO": "1"}),
        ("keyed", {"PLANROM_SECRET_KEY": "a-long-random-string-for-this-test"}),
    ):
        url = f"sqlite+aiosqlite:///{tmp_path / (name + '.sqlite3')}"
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            str(PLANROM),
            "serve",
            "--port",
            str(port),
            env=environment(url, PLANROM_BASE_URL=f"http://127.0.0.1:{port}", **extra),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with httpx.AsyncClient() as http:
                for _ in range(300):
                    assert process.returncode is None, f"{name}: exited"
                    try:
                        answer = await http.get(f"http://127.0.0.1:{port}/healthz")
                        if answer.status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    pytest.fail(f"{name}: did not start")
        finally:
            process.terminate()
            await process.wait()


def test_settings_read_origins_and_refuse_nonsense() -> None:
    base = {"PLANROM_SECRET_KEY": "k", "PLANROM_BASE_URL": "https://Planrom.Kommune.no:443/app/"}
    settings = from_env(
        base | {"PLANROM_ALLOWED_ORIGINS": " https://intern.kommune.no , http://localhost:8000/"}
    )
    assert settings.socket_origins == {
        "https://planrom.kommune.no",
        "https://intern.kommune.no",
        "http://localhost:8000",
    }
    assert from_env(base).socket_origins == {"https://planrom.kommune.no"}
    with pytest.raises(SettingsError, match="PLANROM_ALLOWED_ORIGINS"):
        from_env(base | {"PLANROM_ALLOWED_ORIGINS": "intern.kommune.no"})
    with pytest.raises(SettingsError, match="PLANROM_MAX_AWARENESS_STATE_BYTES"):
        from_env(base | {"PLANROM_MAX_AWARENESS_STATE_BYTES": "lots"})
    assert from_env(base | {"PLANROM_MAX_CLIENT_IDS_PER_DOC": "2"}).max_client_ids_per_doc == 2
    # Outside demo mode an unset key stays unset (serve refuses); demo mode makes one.
    assert from_env({}).secret_key == ""
    assert from_env({"PLANROM_DEMO": "1"}).secret_key != ""
    assert normalise_origin("null") is None
    assert normalise_origin("http://[::1]:8000") == "http://[::1]:8000"
    assert normalise_origin("HTTPS://EXAMPLE.org:443") == "https://example.org"
