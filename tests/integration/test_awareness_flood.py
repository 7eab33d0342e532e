"""The awareness flood, against a real ``planrom serve`` process: a read-only participant
tries 4,000 clientIDs with a 16 KiB awareness state each (issue 9). Before the caps,
every later sync step 1 stalled the event loop for a minute and a new joiner got one
~65 MB message. Now: refused past the caps, /healthz answers fast throughout, a new
joiner's sync reply stays small, and the states go away with their connections."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import socketio

from collab.yproto import AwarenessMessage, AwarenessState, SyncMessage, decode, encode_awareness
from server.settings import Settings
from tests.conftest import Demo, free_port
from tests.procs import ServerProcess
from tests.yclient import YClient

CONNECTIONS = 8
PER_CONNECTION = 500  # 8 × 500 = 4,000 clientIDs
BIG = {"pad": "x" * (16 * 1024 - 16)}  # 16 KiB of JSON: the most one state may decode to
FITS = {"pad": "y" * 3000}
DEFAULTS = Settings(database_url="")


POLLER = """
import http.client, json, select, sys, time
host, port = sys.argv[1], int(sys.argv[2])
latencies, failures = [], []
while not select.select([sys.stdin], [], [], 0.02)[0]:
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", "/healthz")
        answer = conn.getresponse()
        body = answer.read()
        conn.close()
        if answer.status != 200:
            failures.append(f"{answer.status} {body[:200]!r}")
    except OSError as exc:
        failures.append(repr(exc))
    latencies.append(time.perf_counter() - started)
print(json.dumps({"latencies": latencies, "failures": failures}))
"""


class HealthPoller:
    """GET /healthz every 20 ms from a process of its own: the attack's client work in
    this process would otherwise delay the poller (the GIL), not the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> HealthPoller:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", POLLER, "127.0.0.1", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc is not None
        out, _ = self._proc.communicate(b"stop\n", timeout=60)
        found = json.loads(out)
        self.latencies, self.failures = found["latencies"], found["failures"]

    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]


async def _attacker(url: str, token: str, doc: str, first_id: int, tally: Counter[str]) -> Any:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
    for n in range(PER_CONNECTION):
        client_id = first_id + n
        join = await client.call("doc:join", {"doc": doc, "client_id": client_id}, timeout=60)
        tally[f"join {_code(join)}"] += 1
        for label, state in (("big", BIG), ("fits", FITS)):
            message = encode_awareness((AwarenessState(client_id, 1, state),))
            answer = await client.call("doc:msg", (doc, message), timeout=60)
            tally[f"{label} {_code(answer)}"] += 1
    return client


def _code(ack: dict[str, Any]) -> str:
    return "ok" if ack.get("ok") else str(ack["error"]["code"])


async def test_thousands_of_clientids_with_big_awareness_are_refused_and_the_server_stays_fast(
    tmp_path: Path,
) -> None:
    server = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'flood.sqlite3'}", free_port())
    server.cli("migrate")
    demo = Demo(json.loads(server.cli("demo", "--json")))
    await server.start()
    attackers: list[socketio.AsyncClient] = []
    try:
        plan = demo.per
        doc = demo.section(plan, "mal")["doc"]  # Siw may read it, not write it
        siw = demo.token(plan, "siw")
        tally: Counter[str] = Counter()
        started = time.monotonic()
        with HealthPoller(server.port) as health:
            attackers = list(
                await asyncio.gather(
                    *(
                        _attacker(server.url, siw, doc, 1_000_000 + c * 10_000, tally)
                        for c in range(CONNECTIONS)
                    )
                )
            )
            attack_seconds = time.monotonic() - started
            # A new joiner while every attacking connection still holds what it got.
            per = YClient(server.url, demo.token(plan, "per"))
            await per.connect()
            try:
                await per.join(doc)
                await per.wait_synced(doc, timeout=30)
                # One person (all their connections) shows at most their own cap.
                shown = min(
                    CONNECTIONS * DEFAULTS.max_client_ids_per_doc,
                    DEFAULTS.max_awareness_states_per_doc,
                    DEFAULTS.max_awareness_states_per_person_doc,
                )
                await per.wait_for(lambda: len(per.awareness.get(doc, {})) >= shown, 30)
                reply = [data for name, data in per.received if name == doc]
            finally:
                await per.close()
        print(
            f"\nflood: {dict(tally)} in {attack_seconds:.1f} s; /healthz "
            f"{len(health.latencies)} samples, p99 {health.p99() * 1000:.0f} ms, "
            f"max {max(health.latencies) * 1000:.0f} ms; joiner got {sum(map(len, reply))} bytes"
        )

        # Refused past the caps: four clientIDs per connection on the document, none of
        # 16 KiB, and only the person's own cap of states over all their connections.
        tries = CONNECTIONS * PER_CONNECTION
        accepted = CONNECTIONS * DEFAULTS.max_client_ids_per_doc
        assert accepted <= DEFAULTS.max_awareness_states_per_doc
        assert tally["join ok"] == accepted
        assert tally["join rate-limited"] == tries - accepted
        assert tally["big ok"] == 0
        assert tally["big too-large"] == accepted
        assert tally["fits ok"] == shown
        assert sum(v for k, v in tally.items() if k.startswith("fits")) == tries

        # The server stayed responsive.
        assert server.proc is not None and server.proc.poll() is None
        assert not health.failures, health.failures[:5]
        assert len(health.latencies) >= 20
        assert health.p99() < 1.0, sorted(health.latencies)[-10:]

        # The new joiner's sync reply is small: the document and at most the cap of
        # states of at most 4 KiB each (before the caps: one ~65 MB message).
        awareness = [m for m in map(decode, reply) if isinstance(m, AwarenessMessage)]
        states = [s for m in awareness for s in m.states if s.state is not None]
        assert len(states) == shown
        assert all(len(json.dumps(s.state)) <= DEFAULTS.max_awareness_state_bytes for s in states)
        assert sum(map(len, reply)) < 64 * 4096 + 64 * 1024
        assert any(isinstance(m, SyncMessage) for m in map(decode, reply))
    finally:
        for client in attackers:
            await client.disconnect()
        # Gone with their connections: a later joiner is shown none of them.
        if attackers and server.proc is not None and server.proc.poll() is None:
            late = YClient(server.url, demo.token(demo.per, "per"))
            await late.connect()
            try:
                doc = demo.section(demo.per, "mal")["doc"]
                await late.join(doc)
                await late.wait_synced(doc, timeout=30)
                await asyncio.sleep(0.2)  # an awareness reply would follow step 2 at once
                assert not [s for s in late.awareness.get(doc, {}).values() if s is not None]
            finally:
                await late.close()
        server.stop()
