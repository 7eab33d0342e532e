"""Many clients making random edits, joins, leaves, reconnects and unauthorised attempts:
at the end every reader of a document holds the same content, and no unauthorised change
is anywhere (not in any client, not in storage)."""

from __future__ import annotations

import asyncio
import random

import pytest
from pycrdt import Doc, Text
from sqlalchemy import select

from collab.yproto import SyncStep, encode_sync
from server.db.models import DocUpdate
from tests.conftest import Demo, LiveServer
from tests.yclient import YClient

FORBIDDEN = "FORBUDT"
WORDS = ["hei", "plan", "mål", "tiltak", "møte", " ", "æøå", "\n", "🙂"]


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_sessions_converge_and_refuse_every_unauthorised_change(
    live: LiveServer, demo: Demo, seed: int
) -> None:
    rng = random.Random(seed)
    plan = demo.per
    docs = [demo.section(plan, k)["doc"] for k in ("om-meg", "mal", "okonomi", "arbeid")]
    docs += [m["doc"] for m in plan["measures"]]
    people = ["per", "maria", "siw", "ali"]
    clients: list[tuple[str, YClient]] = []
    for i in range(10):
        who = people[i % len(people)]
        client = YClient(live.url, demo.token(plan, who))
        await client.connect()
        clients.append((who, client))
    access: dict[tuple[int, str], str | None] = {}

    async def join(index: int, client: YClient, doc: str) -> None:
        ack = await client.join(doc)
        access[(index, doc)] = ack.get("access") if ack["ok"] else None
        if ack["ok"]:
            await client.wait_synced(doc)
        else:
            assert ack["error"]["code"] in {"not-found", "forbidden"}
            client.docs.pop(doc, None)

    try:
        for _ in range(150):
            index = rng.randrange(len(clients))
            _, client = clients[index]
            joined = [d for d in docs if d in client.docs]
            action = rng.random()
            if action < 0.25 or not joined:
                await join(index, client, rng.choice(docs))
            elif action < 0.65:
                doc = rng.choice(joined)
                field = "description" if ":measure:" in doc else "situation"
                text = client.doc(doc).get(field, type=Text)
                if access[(index, doc)] == "write":
                    # pycrdt indexes text by UTF-8 bytes: pick whole characters.
                    chars = str(text)
                    if len(chars) > 5 and rng.random() < 0.3:
                        k = rng.randrange(len(chars) - 2)
                        start = len(chars[:k].encode())
                        end = len(chars[: k + 2].encode())

                        def cut(
                            d: Doc, start: int = start, end: int = end, field: str = field
                        ) -> None:
                            del d.get(field, type=Text)[start:end]

                        assert (await client.edit(doc, cut))["ok"]
                    else:
                        at = len(chars[: rng.randrange(len(chars) + 1)].encode())
                        ack = await client.insert(doc, at, rng.choice(WORDS), field=field)
                        assert ack["ok"], ack
                else:
                    ack = await client.insert(doc, 0, FORBIDDEN, field=field)
                    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
                    # The refused edit stays only in this client's copy: drop and re-join.
                    client.docs.pop(doc, None)
                    await client.sio.call("doc:leave", {"doc": doc})
                    await join(index, client, doc)
            elif action < 0.75:
                doc = rng.choice(joined)
                assert (await client.sio.call("doc:leave", {"doc": doc}))["ok"]
                client.docs.pop(doc, None)
            elif action < 0.85:
                await client.reconnect()
                for doc in list(client.docs):
                    await client.wait_synced(doc)
            else:
                # Forge an update under a clientID that is not ours.
                doc = rng.choice(joined)
                forged = Doc(client_id=rng.randrange(1, 2**31))
                forged.get("situation", type=Text).insert(0, FORBIDDEN)
                ack = await client.send(doc, encode_sync(SyncStep.UPDATE, forged.get_update()))
                assert ack["ok"] is False
                assert ack["error"]["code"] in {"foreign-client", "forbidden"}

        # Convergence: every reader of a document, and a fresh reader, agree.
        owner = YClient(live.url, demo.token(plan, "per"))
        await owner.connect()
        for doc in docs:
            await owner.join(doc)
            await owner.wait_synced(doc)
        for doc in docs:
            field = "description" if ":measure:" in doc else "situation"
            expected = owner.text(doc, field)
            for _, client in clients:
                if doc in client.docs:
                    await client.wait_for(
                        lambda c=client, d=doc, f=field: c.text(d, f) == owner.text(d, f),
                        timeout=10,
                    )
            assert FORBIDDEN not in expected
        await owner.close()
        async with live.services.sessionmaker() as session:
            rows = (await session.execute(select(DocUpdate.doc, DocUpdate.data))).all()
        stored: dict[str, Doc] = {}
        for name, data in rows:
            stored.setdefault(name, Doc()).apply_update(data)
        for name, ydoc in stored.items():
            for field in ("situation", "resources", "description"):
                assert FORBIDDEN not in str(ydoc.get(field, type=Text)), name
        await asyncio.sleep(0)
    finally:
        for _, client in clients:
            await client.close()
