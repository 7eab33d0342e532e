"""A structure-aware fuzzer of Yjs updates against a real server process (issue 9).

Hypothesis builds hostile updates byte by byte (tests/yhostile.py): deep nesting, huge
strings and arrays, many clientIDs, unknown roots and types, truncations and flipped
bytes, merged and split forms, deletes of the outermost item. The school sends them with
its own bound clientIDs. Throughout: the process never exits, /healthz answers within a
second, nothing refused is stored, and nothing refused reaches the owner, who is joined
to the same document.

Hypothesis runs in a worker thread; each example runs on the test's event loop, where
the Socket.IO clients live.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collab.yproto import SyncStep, encode_sync
from tests import yhostile as h
from tests.conftest import free_port
from tests.integration.test_hostile_updates import (
    Story,
    assert_alive,
    joined,
    rows_of,
    updates_received,
)
from tests.procs import ServerProcess

T = TypeVar("T")
BOUND = list(range(11, 19))  # the school's clientIDs (one byte each)
ROOTS = ["situation", "resources", "goals", "measures"]
FOREIGN_ROOTS = ["notes", "description", "meta", "", "x" * 300]


@st.composite
def where(draw: st.DrawFn, client: int, clock: int) -> dict[str, Any]:
    """Where a struct goes: a root (known or not), a parent item, or next to one."""
    kind = draw(st.sampled_from(["root", "root", "bad-root", "parent", "origin"]))
    if kind == "root":
        return {"root": draw(st.sampled_from(ROOTS))}
    if kind == "bad-root":
        return {"root": draw(st.sampled_from(FOREIGN_ROOTS))}
    target = (draw(st.sampled_from([client, *BOUND])), draw(st.integers(0, max(clock, 1))))
    if kind == "parent":
        return {"parent": target, "key": draw(st.sampled_from([None, "k", "text"]))}
    return {"origin": target}


@st.composite
def chain_msgs(draw: st.DrawFn) -> list[bytes]:
    client = draw(st.sampled_from(BOUND))
    clock = draw(st.integers(1_000, 5_000_000))
    depth = draw(st.sampled_from([2, 8, 16, 17, 18, 64, 1_000, 9_000, 10_001, 40_000]))
    type_ref = draw(st.sampled_from([h.TYPE_MAP, h.TYPE_MAP, h.TYPE_ARRAY, h.TYPE_TEXT]))
    items = h.chain_items(depth, client, clock=clock, type_ref=type_ref)
    form = draw(st.sampled_from(["merged", "split", "chain-only", "delete-first"]))
    chain = h.update([(client, clock, items)])
    delete = h.delete(client, clock)
    if form == "merged":
        return [h.update([(client, clock, items)], [(client, [(clock, 1)])])]
    if form == "split":
        return [chain, delete]
    if form == "delete-first":
        return [delete, chain]
    return [chain]


@st.composite
def nest_in_document(draw: st.DrawFn) -> list[bytes]:
    """Types placed under ids the document may already have (earlier examples)."""
    client = draw(st.sampled_from(BOUND))
    clock = draw(st.integers(0, 5_000_000))
    depth = draw(st.integers(1, 40))
    parent = (draw(st.sampled_from(BOUND)), draw(st.integers(0, 5_000_000)))
    items = h.chain_items(depth, client, clock=clock, parent=parent)
    return [h.update([(client, clock, items)], [(parent[0], [(parent[1], 1)])])]


@st.composite
def sizes(draw: st.DrawFn) -> list[bytes]:
    client = draw(st.sampled_from(BOUND))
    clock = draw(st.integers(0, 5_000_000))
    at = draw(where(client, clock))
    kind = draw(st.sampled_from(["string", "binary", "values", "nested-any", "structs"]))
    if kind == "string":
        n = draw(st.sampled_from([1, 1_000, 100_000, 262_145, 500_000, 600_000]))
        items = [h.string("æ" * (n // 2), **at)]
    elif kind == "binary":
        items = [h.binary(draw(st.sampled_from([1, 65_537, 400_000])), **at)]
    elif kind == "values":
        n = draw(st.sampled_from([1, 100, 10_001, 60_000]))
        items = [h.any_values([h.any_int(1)] * n, **at)]
    elif kind == "nested-any":
        items = [h.any_values([h.any_nested(draw(st.integers(1, 2_000)))], **at)]
    else:
        n = draw(st.sampled_from([2, 500, 10_001, 30_000]))
        items = [h.string("x", root="situation") for _ in range(n)]
    return [h.update([(client, clock, items)])]


@st.composite
def many_clients(draw: st.DrawFn) -> list[bytes]:
    n = draw(st.integers(2, 120))
    unbound = draw(st.booleans())
    ids = (BOUND * 20)[:n] if not unbound else [*BOUND, *range(1_000, 1_000 + n)]
    blocks = [(c, 7_000_000 + i, [h.string("y", root="resources")]) for i, c in enumerate(ids)]
    return [h.update(blocks)]


@st.composite
def odd_types(draw: st.DrawFn) -> list[bytes]:
    client = draw(st.sampled_from(BOUND))
    clock = draw(st.integers(0, 5_000_000))
    at = draw(where(client, clock))
    item = draw(
        st.sampled_from(
            [
                h.type_(h.TYPE_XML_FRAGMENT, **at),
                h.type_(3, **at),  # XmlElement without its name: truncated
                h.doc_content(**at),
                h.Item(11, b"", **at),  # no such content
                h.Item(1, h.vu(0), **at),  # empty deleted content
            ]
        )
    )
    return [h.update([(client, clock, [item])])]


MESSAGES = st.one_of(chain_msgs(), nest_in_document(), sizes(), many_clients(), odd_types())


@st.composite
def damaged(draw: st.DrawFn) -> list[bytes]:
    msgs = draw(MESSAGES)
    first = msgs[0]
    how = draw(st.sampled_from(["truncate", "flip", "append", "random"]))
    if how == "truncate":
        return [first[: draw(st.integers(0, max(len(first) - 1, 0)))]]
    if how == "flip":
        at = draw(st.integers(0, len(first) - 1))
        return [first[:at] + bytes([first[at] ^ draw(st.integers(1, 255))]) + first[at + 1 :]]
    if how == "append":
        return [first + draw(st.binary(min_size=1, max_size=8))]
    return [draw(st.binary(max_size=64))]


HOSTILE = st.one_of(MESSAGES, damaged())


PROBE = """
import json, sys, threading, time
import httpx
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
count, slowest = 0, 0.0
with httpx.Client(timeout=5.0) as http:
    while not done.is_set():
        started = time.monotonic()
        ok = http.get(sys.argv[1]).status_code == 200
        slowest = max(slowest, time.monotonic() - started if ok else 99.0)
        count += 1
        done.wait(0.05)
print(json.dumps([count, slowest]))
"""


def on_loop(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(
        sqlite_url,
        free_port(),
        {
            "PLANROM_MAX_DOC_BYTES": "4000000",
            # The school binds several clientIDs on one connection (the cap is not tested here).
            "PLANROM_MAX_CLIENT_IDS_PER_DOC": "64",
        },
    )
    try:
        yield process
    finally:
        process.stop()


async def test_hostile_updates_never_kill_slow_or_leak(
    server: ServerProcess, sqlite_url: str
) -> None:
    story = Story(json.loads(server.cli("demo", "--json")))
    await server.start()
    doc = story.school_doc
    school = await joined(server, story.tokens["skole"], doc, client_id=10)
    for client_id in BOUND:  # bind the school's other clientIDs
        ack = await school.join(doc, client_id=client_id, sync=False)
        assert ack["ok"] is True, ack
    owner = await joined(server, story.tokens[story.owner], doc)
    stored_before = [r.data for r in await rows_of(sqlite_url, doc)]
    accepted: list[bytes] = []
    codes: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    assert server.proc is not None

    async def health() -> float:
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=1.0) as http:
            answer = await http.get(server.url + "/healthz")
        assert answer.status_code == 200
        return time.monotonic() - started

    async def send_all(messages: list[bytes]) -> None:
        for update in messages:
            ack = await school.send(doc, encode_sync(SyncStep.UPDATE, update))
            if ack.get("ok") and "seq" in ack:
                accepted.append(update)
                codes["ok"] = codes.get("ok", 0) + 1
            else:
                code = ack["error"]["code"] if not ack.get("ok") else "ok-empty"
                codes[code] = codes.get(code, 0) + 1
            assert server.proc is not None and server.proc.poll() is None, (
                f"server died ({server.proc.returncode if server.proc else '?'})"
            )
        await health()

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(HOSTILE)
    def fuzz(messages: list[bytes]) -> None:
        on_loop(loop, send_all(messages))

    # /healthz is watched from its own process, so this process's work (building
    # hostile bytes while holding the GIL) does not count against the server.
    prober = subprocess.Popen(
        [sys.executable, "-c", PROBE, server.url + "/healthz"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        await asyncio.to_thread(fuzz)
        await assert_alive(server)
        # A positive barrier: an honest edit after everything reaches the owner.
        ack = await school.insert(doc, 0, "[etter fuzz]")
        assert ack["ok"] is True, ack
        await owner.wait_for(lambda: "[etter fuzz]" in owner.text(doc), timeout=30)
    finally:
        out, _ = prober.communicate(b"", timeout=30)
        await school.close()
        await owner.close()
    probes, slowest = json.loads(out)
    assert probes > 20 and slowest < 1.0, f"/healthz took {slowest:.2f} s ({probes} probes)"
    assert server.proc.poll() is None
    # Nothing refused was stored: the new rows are exactly the accepted updates (and the
    # barrier edit), in order.
    stored = await rows_of(sqlite_url, doc)
    assert all(r.quarantined_at is None for r in stored)  # nothing got past validation
    rows = [r.data for r in stored]
    assert rows[: len(stored_before)] == stored_before
    assert rows[len(stored_before) : -1] == accepted
    # Nothing refused reached the owner.
    received = updates_received(owner, doc)
    assert received[:-1] == accepted, codes
    assert codes.get("malformed", 0) > 50, codes  # the fuzzer did try hard
