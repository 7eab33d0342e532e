"""Collaboration benchmark: prints latency, throughput, server CPU and memory.

Scenarios (issue 3): 50 meetings × 8 clients at 2 edits/s; 200 × 8 at 0.5 edits/s;
1 room × 50 clients; cold join of a document with 20,000 prior edits.

    .venv/bin/python bench/collab.py            # all scenarios, SQLite, 3 runs each
    .venv/bin/python bench/collab.py --db pg    # against PostgreSQL
    .venv/bin/python bench/collab.py --quick    # tiny sizes (a smoke run)

Each scenario runs against a fresh server process; latency is from the moment an edit is
sent to the moment another client receives it. Figures are medians over runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from pycrdt import Doc, Text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collab.yproto import SyncMessage, SyncStep, decode, decode_state_vector
from collab.yupdate import read_update
from tests.procs import ServerProcess
from tests.yclient import YClient

PG_BASE = os.environ.get("PLANROM_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_usage(pid: int) -> tuple[float, int]:
    """CPU seconds (user+system) and peak resident memory in bytes of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return cpu, peak


async def _create_docs(server: ServerProcess, plan: dict[str, Any], count: int) -> list[str]:
    owner = next(p for p in plan["participants"] if p["key"] == "per")
    maria = next(p for p in plan["participants"] if p["key"] == "maria")
    async with httpx.AsyncClient(
        base_url=server.url, timeout=60, headers={"authorization": f"Bearer {owner['token']}"}
    ) as http:
        docs = []
        for i in range(count):
            r = await http.post(f"/api/plans/{plan['id']}/sections", json={"title": f"Rom {i}"})
            r.raise_for_status()
            docs.append(r.json()["doc"])
        consent = (await http.get(f"/api/plans/{plan['id']}/consent")).json()
        grants = consent["grants"] + [
            {"participant": maria["id"], "section": d.rsplit(":", 1)[1], "level": "edit"}
            for d in docs
        ]
        r = await http.post(
            f"/api/plans/{plan['id']}/consent",
            json={"purpose": consent["purpose"], "grants": grants},
        )
        r.raise_for_status()
    return docs


def _database(kind: str, workdir: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}", None
    name = f"planrom_bench_{uuid.uuid4().hex[:8]}"
    return f"{PG_BASE.rpartition('/')[0]}/{name}", name


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_BASE.replace("+asyncpg", ""))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def drive(
    url: str,
    tokens: list[str],
    docs: list[str],
    indices: list[int],
    rate: float,
    ready: Any,
    seconds: float,
) -> dict[str, Any]:
    """Run some of a scenario's clients: connect, join, then edit at ``rate`` per second
    each from the moment ``ready()`` returns (a wall-clock start). Returns what was sent
    and received (keyed by clientID and clock) and how many edits were acknowledged."""
    from collab.yproto import encode_sync

    rooms = len(docs)
    clients = [YClient(url, tokens[i % len(tokens)]) for i in indices]
    received: list[tuple[int, int, float]] = []

    def attach(client: YClient) -> None:
        async def on_msg(name: str, data: bytes) -> None:
            now = time.time()
            message = decode(data)
            if isinstance(message, SyncMessage) and message.step is SyncStep.UPDATE:
                for run in read_update(message.payload):
                    received.append((run.client, run.end, now))
                return  # receivers only measure; applying would load the client process
            await original(name, data)

        original = client._on_msg
        client.sio.handlers["/"]["doc:msg"] = on_msg

    await asyncio.gather(*(c.connect() for c in clients))
    for c in clients:
        attach(c)
    pairs = list(zip(indices, clients, strict=True))
    for batch in range(0, len(pairs), 200):  # people arrive in waves, not all in one tick
        await asyncio.gather(*(c.join(docs[i % rooms]) for i, c in pairs[batch : batch + 200]))
    await asyncio.gather(
        *(c.wait_synced(docs[i % rooms], 120) for i, c in zip(indices, clients, strict=True))
    )
    start_at = await ready()
    stop = start_at + seconds
    sent: list[tuple[int, int, float]] = []
    acked = 0

    async def run(i: int, client: YClient) -> None:
        nonlocal acked
        doc = docs[i % rooms]
        ydoc = client.doc(doc)
        interval = 1.0 / rate
        await asyncio.sleep(max(0.0, start_at - time.time()) + interval * (i % 97) / 97)
        while time.time() < stop:
            before = ydoc.get_state()
            ydoc.get("situation", type=Text).insert(0, "x")
            update = ydoc.get_update(before)
            clock = decode_state_vector(ydoc.get_state())[ydoc.client_id]
            sent.append((ydoc.client_id, clock, time.time()))
            ack = await client.send(doc, encode_sync(SyncStep.UPDATE, update))
            if ack.get("ok"):
                acked += 1
            await asyncio.sleep(interval)

    await asyncio.gather(*(run(i, c) for i, c in zip(indices, clients, strict=True)))
    await asyncio.sleep(1.0)
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {"sent": sent, "received": received, "acked": acked}


async def worker() -> None:
    """``--worker``: one client process of a scenario, driven over stdin/stdout."""
    config = json.loads(sys.stdin.readline())
    loop = asyncio.get_running_loop()

    async def ready() -> float:
        print("ready", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        return float(line.split()[1])

    result = await drive(
        config["url"],
        config["tokens"],
        config["docs"],
        config["indices"],
        config["rate"],
        ready,
        config["seconds"],
    )
    print(json.dumps(result), flush=True)


async def edit_scenario(
    db: str, rooms: int, per_room: int, rate: float, seconds: float, workers: int = 2
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url, pg_name = _database(db, Path(tmp))
        if pg_name:
            await _pg(f'CREATE DATABASE "{pg_name}"')
        server = ServerProcess(url, free_port())
        procs: list[asyncio.subprocess.Process] = []
        try:
            server.cli("migrate")
            demo = json.loads(server.cli("demo", "--json"))
            await server.start()
            plan = next(p for p in demo["plans"] if p["title"].startswith("Per"))
            tokens = [p["token"] for p in plan["participants"] if p["key"] in ("per", "maria")]
            docs = await _create_docs(server, plan, rooms)
            total = rooms * per_room
            for w in range(workers):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--worker",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=1 << 26,
                )
                assert proc.stdin is not None
                proc.stdin.write(
                    (
                        json.dumps(
                            {
                                "url": server.url,
                                "tokens": tokens,
                                "docs": docs,
                                "rate": rate,
                                "seconds": seconds,
                                "indices": list(range(w, total, workers)),
                            }
                        )
                        + "\n"
                    ).encode()
                )
                await proc.stdin.drain()
                procs.append(proc)
            for proc in procs:
                assert proc.stdout is not None
                line = await asyncio.wait_for(proc.stdout.readline(), 300)
                assert line.strip() == b"ready", line
            assert server.proc is not None
            cpu0, _ = proc_usage(server.proc.pid)
            start_at = time.time() + 0.5
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(f"go {start_at}\n".encode())
                await proc.stdin.drain()
            results = []
            for proc in procs:
                assert proc.stdout is not None
                results.append(
                    json.loads(await asyncio.wait_for(proc.stdout.readline(), seconds + 300))
                )
                await proc.wait()
            cpu1, peak = proc_usage(server.proc.pid)
            sent = {(c, k): t for r in results for c, k, t in r["sent"]}
            lat = sorted(
                t - sent[(c, k)] for r in results for c, k, t in r["received"] if (c, k) in sent
            )
            acked = sum(r["acked"] for r in results)
            return {
                "clients": total,
                "rooms": rooms,
                "client_processes": workers,
                "edits_acked": acked,
                "edits_per_second": acked / seconds,
                "target_edits_per_second": total * rate,
                "deliveries": len(lat),
                "latency_p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
                "latency_p99_ms": 1000 * lat[int(len(lat) * 0.99)] if lat else None,
                "server_cpu_seconds": cpu1 - cpu0,
                "server_cpu_share": (cpu1 - cpu0) / seconds,
                "server_peak_rss_mb": peak / 2**20,
            }
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.kill()
            server.stop()
            if pg_name:
                await _pg(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


async def cold_join(db: str, prior_edits: int) -> dict[str, Any]:
    from server.db.docstore import SqlDocStore
    from server.db.engine import make_engine, make_sessionmaker
    from server.db.models import DocUpdate
    from server.runtime import utcnow

    with tempfile.TemporaryDirectory() as tmp:
        url, pg_name = _database(db, Path(tmp))
        if pg_name:
            await _pg(f'CREATE DATABASE "{pg_name}"')
        server = ServerProcess(url, free_port())
        try:
            server.cli("migrate")
            demo = json.loads(server.cli("demo", "--json"))
            plan = next(p for p in demo["plans"] if p["title"].startswith("Per"))
            doc = next(s for s in plan["sections"] if s["key"] == "rus")["doc"]
            person = next(p for p in plan["participants"] if p["key"] == "per")
            engine = make_engine(url)
            maker = make_sessionmaker(engine)
            ydoc = Doc()
            text = ydoc.get("situation", type=Text)
            rows = []
            for i in range(prior_edits):
                before = ydoc.get_state()
                text.insert(len(text) if i % 3 else 0, "abc "[i % 4])
                rows.append(
                    DocUpdate(
                        doc=doc,
                        data=ydoc.get_update(before),
                        person_id=person["person"],
                        origin="client",
                        at=utcnow(),
                    )
                )
            async with maker() as session, session.begin():
                session.add_all(rows)
            results: dict[str, Any] = {"prior_edits": prior_edits}
            for label in ("without_snapshot", "with_snapshot"):
                if label == "with_snapshot":
                    await SqlDocStore(maker).compact(doc)
                await server.start()
                client = YClient(server.url, person["token"])
                await client.connect()
                t0 = time.perf_counter()
                await client.join(doc)
                await client.wait_synced(doc, 120)
                results[f"{label}_ms"] = 1000 * (time.perf_counter() - t0)
                assert len(client.text(doc)) == prior_edits
                await client.close()
                server.stop()
            await engine.dispose()
            return results
        finally:
            server.stop()
            if pg_name:
                await _pg(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in runs[0]:
        values = [r[key] for r in runs if r[key] is not None]
        if values and all(isinstance(v, int | float) for v in values):
            out[key] = round(statistics.median(values), 2)
        else:
            out[key] = runs[0][key]
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    scenarios: dict[str, Any] = {
        "50x8_at_2_per_s": lambda: edit_scenario(
            args.db, max(1, int(50 * scale)), 8, 2.0, args.seconds
        ),
        "200x8_at_0.5_per_s": lambda: edit_scenario(
            args.db, max(1, int(200 * scale)), 8, 0.5, args.seconds
        ),
        "1x50_at_1_per_s": lambda: edit_scenario(
            args.db, 1, max(2, int(50 * scale)), 1.0, args.seconds
        ),
        "cold_join_20000": lambda: cold_join(args.db, int(20000 * scale)),
    }
    results: dict[str, Any] = {"db": args.db, "runs": args.runs, "cores": os.cpu_count()}
    for name, make in scenarios.items():
        if args.only and args.only not in name:
            continue
        runs = [await make() for _ in range(args.runs)]
        results[name] = _median(runs)
        print(f"{name}: {json.dumps(results[name])}", file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))
    print("\nscenario              p50 ms   p99 ms   edits/s   cpu share   peak MB")
    for name, r in results.items():
        if isinstance(r, dict) and "latency_p50_ms" in r:
            print(
                f"{name:<20} {r['latency_p50_ms']:>8} {r['latency_p99_ms']:>8} "
                f"{r['edits_per_second']:>9} {r['server_cpu_share']:>11} "
                f"{r['server_peak_rss_mb']:>9}"
            )
        elif isinstance(r, dict):
            print(f"{name:<20} {json.dumps(r)}")


if __name__ == "__main__":
    asyncio.run(worker() if sys.argv[1:] == ["--worker"] else main())
