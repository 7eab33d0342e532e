"""Interop with the real Yjs: a Node client (npm yjs, y-protocols, socket.io-client and the
web provider) and a Python client (pycrdt) edit the same documents through the server."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Demo, LiveServer, missing
from tests.yclient import YClient

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "tests" / "interop" / "yclient.mjs"


class NodeClient:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.counter = 0

    async def __call__(self, cmd: str, **fields: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.counter += 1
        message = {"cmd": cmd, "id": self.counter, **fields}
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        answer = json.loads(line)
        assert answer.get("id") == self.counter, answer
        return dict(answer)


@pytest.fixture
async def node() -> AsyncIterator[NodeClient]:
    if shutil.which("node") is None or not (ROOT / "web" / "node_modules" / "yjs").exists():
        missing("Node.js and web/node_modules are needed (run `make web`)")
    proc = await asyncio.create_subprocess_exec(
        "node", str(CLIENT), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    client = NodeClient(proc)
    try:
        yield client
    finally:
        if proc.returncode is None:
            with_timeout = client("quit")
            try:
                await asyncio.wait_for(with_timeout, 5)
            except (TimeoutError, json.JSONDecodeError, AssertionError):
                pass
            if proc.returncode is None:
                proc.kill()
            await proc.wait()


async def test_node_yjs_and_python_pycrdt_edit_one_document_and_converge(
    live: LiveServer, demo: Demo, node: NodeClient
) -> None:
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    assert (await node("connect", url=live.url, token=demo.token(plan, "maria")))["ok"]
    joined = await node("join", doc=doc)
    assert joined["ok"] and joined["access"] == "write" and joined["synced"]
    python = YClient(live.url, demo.token(plan, "per"))
    await python.connect()
    try:
        await python.join(doc)
        await python.wait_synced(doc)
        seeded = python.text(doc)
        assert (await node("text", doc=doc, field="situation"))["text"] == seeded
        ack = await node("insert", doc=doc, field="situation", index=0, text="Fra Node: ")
        assert ack["ok"] and isinstance(ack["seq"], int)
        await python.wait_for(lambda: python.text(doc).startswith("Fra Node: "))
        # Python appends with UTF-8 byte offsets, Node with UTF-16: both land at the end.
        end = len(python.text(doc).encode())
        assert (await python.insert(doc, end, " – og fra Python, æøå 🙂"))["ok"]
        expected_tail = " – og fra Python, æøå 🙂"
        waited = await node(
            "wait_text", doc=doc, field="situation", equals=python.text(doc), timeout_ms=10000
        )
        assert waited["ok"] and waited["text"].endswith(expected_tail)
        # Concurrent edits from both sides converge to the same text.
        await asyncio.gather(
            node("insert", doc=doc, field="situation", index=3, text="[N]"),
            python.insert(doc, 0, "[P]"),
        )
        await python.wait_for(lambda: "[N]" in python.text(doc))
        final = await node("wait_text", doc=doc, field="situation", equals=python.text(doc))
        assert final["ok"] and "[P]" in final["text"] and "[N]" in final["text"]
    finally:
        await python.close()


async def test_refusals_reach_the_node_client_with_the_contract_codes(
    live: LiveServer, demo: Demo, node: NodeClient
) -> None:
    plan = demo.charlotte
    bad = await node("connect", url=live.url, token="prt_not-a-token")
    assert bad["ok"] is False and bad["error"]["code"] == "unauthenticated"
    assert (await node("connect", url=live.url, token=demo.token(plan, "skole")))["ok"]
    therapy = demo.section(plan, "terapi")["doc"]
    refused = await node("join", doc=therapy)
    assert refused["ok"] is False and refused["error"]["code"] == "not-found"
    school = demo.section(plan, "skolen")["doc"]
    assert (await node("join", doc=school))["ok"]
    foreign = await node("raw_update_foreign", doc=school)
    assert foreign["ok"] is False and foreign["error"]["code"] == "foreign-client"
    goals = demo.section(plan, "mal")["doc"]
    assert (await node("join", doc=goals))["access"] == "read"
    read_only = await node("insert", doc=goals, field="situation", index=0, text="nei")
    assert read_only["ok"] is False and read_only["error"]["code"] == "forbidden"


async def test_text_typed_offline_in_node_arrives_after_reconnecting(
    live: LiveServer, demo: Demo, node: NodeClient
) -> None:
    plan = demo.per
    doc = demo.section(plan, "bolig")["doc"]
    assert (await node("connect", url=live.url, token=demo.token(plan, "maria")))["ok"]
    assert (await node("join", doc=doc))["ok"]
    python = YClient(live.url, demo.token(plan, "per"))
    await python.connect()
    try:
        await python.join(doc)
        await python.wait_synced(doc)
        assert (await node("disconnect"))["ok"]
        buffered = await node(
            "insert", doc=doc, field="situation", index=0, text="Skrevet uten nett. "
        )
        assert buffered["ok"] and buffered.get("buffered")
        assert (await python.insert(doc, 0, "Per skrev samtidig. "))["ok"]
        back = await node("reconnect")
        assert back["ok"]
        await python.wait_for(lambda: "Skrevet uten nett." in python.text(doc))
        agreed = await node("wait_text", doc=doc, field="situation", equals=python.text(doc))
        assert agreed["ok"] and "Per skrev samtidig." in agreed["text"]
    finally:
        await python.close()


async def test_withdrawn_consent_revokes_the_node_client_and_clears_its_copy(
    live: LiveServer, demo: Demo, node: NodeClient
) -> None:
    plan = demo.charlotte
    doc = demo.section(plan, "terapi")["doc"]
    assert (await node("connect", url=live.url, token=demo.token(plan, "berit")))["ok"]
    assert (await node("join", doc=doc))["ok"]
    assert (await node("text", doc=doc, field="situation"))["text"]
    async with live.http(demo.token(plan, "charlotte")) as http:
        response = await http.post(
            f"/api/plans/{plan['id']}/consent/withdraw",
            json={"participant": demo.person(plan, "berit")["id"]},
        )
        assert response.status_code == 200
    revoked = await node("wait_revoked", doc=doc, timeout_ms=2000)
    assert revoked["ok"] and revoked["reason"]
    cleared = await node("text", doc=doc, field="situation")
    assert not cleared.get("text")
