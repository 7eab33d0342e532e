"""Planrom server processes for tests that need real processes (SIGKILL, several servers)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

PLANROM = str(Path(sys.executable).parent / "planrom")


class ServerProcess:
    def __init__(self, database_url: str, port: int, extra_env: dict[str, str] | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = (
            os.environ
            | {
                "PLANROM_DATABASE_URL": database_url,
                "PLANROM_DEMO": "1",
                "PLANROM_BASE_URL": self.url,
                "PLANROM_SECRET_KEY": "durability-test-key",
                # No reminder pass (and no digests in the working directory's outbox)
                # unless a test asks for one.
                "PLANROM_REMINDER_INTERVAL_SECONDS": "0",
            }
            | (extra_env or {})
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [PLANROM, *args], env=self.env, capture_output=True, timeout=120, check=True
        )
        return done.stdout.decode()

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            [PLANROM, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(self.url + "/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited during start-up")
                await asyncio.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
