"""Two server processes sharing documents through Redis: a lost message, an outage, and
what is relayed between them (issue 15).

The Redis here is this module's own (``redis-server`` on port 6390, no persistence),
started and stopped by the fixture: the shared Redis of the other tests is never
stopped. Both servers run in this process (as ``start_server`` makes them), each with
its own hub, process id, bridge and Socket.IO Redis manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import cast

import pytest
from pycrdt import Text

from collab.editing import YDoc, make_edit, new_client_id
from server.realtime.namespace import Namespace
from tests import conftest
from tests.conftest import Demo, LiveServer, load_demo_into
from tests.yclient import YClient


class OwnRedis:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pidfile = workdir / "redis.pid"
        # A free port, not a fixed one: parallel workers each start their own.
        self.port = conftest.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
                "--dir",
                str(self.workdir),
            ],
            check=True,
            timeout=30,
        )
        for _ in range(200):
            done = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, timeout=10
            )
            if done.stdout.strip() == b"PONG":
                return
            subprocess.run(["sleep", "0.05"], check=True)
        raise RuntimeError("own redis-server did not start")

    def stop(self) -> None:
        """Stop exactly the redis-server this fixture started (by its pid)."""
        if not self.pidfile.exists():
            return
        pid = int(self.pidfile.read_text().strip())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        self.pidfile.unlink(missing_ok=True)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        conftest.missing("redis-server is needed")
    redis = OwnRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
async def pair(
    sqlite_url: str, own_redis: OwnRedis
) -> AsyncIterator[tuple[LiveServer, LiveServer, Demo]]:
    settings = conftest.test_settings(sqlite_url, redis_url=own_redis.url)
    first = await conftest.start_server(settings)
    second = await conftest.start_server(settings)
    try:
        yield first, second, await load_demo_into(first)
    finally:
        await second.stop()
        await first.stop()


def hub(server: LiveServer) -> Namespace:
    return cast(Namespace, server.services.realtime)


async def joined(server: LiveServer, token: str, doc: str) -> YClient:
    client = YClient(server.url, token)
    await client.connect()
    assert (await client.join(doc))["ok"]
    await client.wait_synced(doc)
    return client


async def test_a_lost_message_is_noticed_by_its_number_and_resynced_from_storage(
    pair: tuple[LiveServer, LiveServer, Demo],
) -> None:
    first, second, demo = pair
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    a = await joined(first, demo.token(plan, "per"), doc)
    b = await joined(second, demo.token(plan, "maria"), doc)
    try:
        # Both processes hold the document; an edit crosses as usual.
        assert (await a.insert(doc, 0, "Først. "))["ok"]
        await b.wait_for(lambda: b.text(doc).startswith("Først. "))
        assert hub(second).bridge is not None and hub(second).bridge.gaps == 0

        # The first process stores an edit whose message never reaches the second one
        # (stored and numbered, lost in transit).
        sender = hub(first)
        room = await sender.docs.rooms.get(doc)
        client_id = new_client_id()
        person = demo.person(plan, "per")["person"]
        await sender.docs.store.bind_client(client_id, person)

        def lost_edit(ydoc: YDoc) -> None:
            ydoc.get("situation", type=Text).insert(0, "Tapt melding. ")

        update = make_edit(room.doc.get_update(), client_id, lost_edit)
        await sender.docs.rooms.apply(room, update, person=person, origin="server")
        assert sender.bridge is not None
        sender.bridge.sent += 1  # the number that message would have had

        # The next message carries the next number: the second process sees the gap and
        # reloads from storage; its own client receives what it had missed.
        assert (await a.insert(doc, 0, "Neste. "))["ok"]
        await b.wait_for(lambda: "Tapt melding. " in b.text(doc), timeout=20)
        receiver = hub(second)
        assert receiver.bridge is not None and receiver.bridge.gaps == 1
        held = receiver.docs.rooms.loaded(doc)
        assert held is not None
        assert "Tapt melding. " in str(held.doc.get("situation", type=Text))
        # A newcomer on the second process gets the whole document from its memory.
        late = await joined(second, demo.token(plan, "per"), doc)
        try:
            assert late.text(doc) == a.text(doc) == b.text(doc)
        finally:
            await late.close()
    finally:
        await a.close()
        await b.close()


async def test_an_edit_during_a_redis_outage_is_stored_and_answered_unavailable(
    pair: tuple[LiveServer, LiveServer, Demo], own_redis: OwnRedis
) -> None:
    """What happens: the update is stored before it is relayed, so it is kept; relaying
    fails and the client hears ``unavailable`` (it keeps the change and may send it
    again; applying it twice changes nothing). Neither server goes down (the bridge's
    listener used to end, taking the server's lifespan with it). When Redis is back the
    bridge subscribes again and resyncs what it holds from storage, so the other
    process's copy has the edit; clients already joined there may have missed frames
    python-socketio's Redis manager dropped while away, and catch up on their next sync
    (a newcomer, or a re-join, gets everything)."""
    first, second, demo = pair
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    a = await joined(first, demo.token(plan, "per"), doc)
    b = await joined(second, demo.token(plan, "maria"), doc)
    try:
        assert (await a.insert(doc, 0, "Før. "))["ok"]
        await b.wait_for(lambda: b.text(doc).startswith("Før. "))

        own_redis.stop()
        ack = await a.insert(doc, 0, "Under brudd. ")
        assert ack["ok"] is False and ack["error"]["code"] == "unavailable", ack
        stored = await hub(first).docs.rooms.store.load(doc)
        assert "Under brudd. " in text_of(stored.snapshot, stored.updates)
        own_redis.start()

        async def crosses() -> None:
            while True:
                answer = await a.insert(doc, 0, "Etter. ")
                if answer["ok"]:
                    return
                assert answer["error"]["code"] == "unavailable", answer
                await asyncio.sleep(0.2)

        await asyncio.wait_for(crosses(), 30)

        async def second_has_it() -> None:
            while True:
                room = hub(second).docs.rooms.loaded(doc)
                if room is not None and "Under brudd. " in str(
                    room.doc.get("situation", type=Text)
                ):
                    return
                await asyncio.sleep(0.05)

        await asyncio.wait_for(second_has_it(), 30)
        assert hub(second).bridge is not None and hub(second).bridge.gaps >= 1
        for server in (first, second):
            async with server.http() as http:
                assert (await http.get("/healthz")).json() == {"status": "ok"}
        late = await joined(second, demo.token(plan, "per"), doc)
        try:
            assert "Under brudd. " in late.text(doc) and late.text(doc).startswith("Etter. ")
        finally:
            await late.close()
    finally:
        await a.close()
        await b.close()


def text_of(snapshot: bytes | None, updates: list[tuple[int, bytes]]) -> str:
    from pycrdt import Doc

    doc = Doc()
    if snapshot:
        doc.apply_update(snapshot)
    for _, update in updates:
        doc.apply_update(update)
    return str(doc.get("situation", type=Text))


async def test_meeting_changes_are_relayed_to_members_on_the_other_process(
    pair: tuple[LiveServer, LiveServer, Demo],
) -> None:
    from tests.integration.test_meetings import Person, schedule

    first, second, demo = pair
    plan = demo.per
    saving = next(m for m in plan["measures"] if m["title"].startswith("Automatisk sparing"))
    maria = await Person(first, demo, plan, "maria").start()  # on the first process
    per = await Person(first, demo, plan, "per").start()
    siw = await Person(second, demo, plan, "siw").start()  # on the second
    try:
        meeting = await schedule(
            maria,
            plan,
            first,
            [maria.id, siw.id],
            [{"title": "Sparing", "section": saving["section"], "measure": saving["id"]}],
        )
        mid = meeting["id"]
        for person in (maria, per, siw):
            assert (await person.call("meeting:join", {"meeting": mid}))["ok"]
        # A change over HTTP on the first process (a new agenda item) reaches the second.
        added = await maria.http.post(
            f"/api/meetings/{mid}/agenda",
            json={"title": "Nytt punkt", "section": saving["section"]},
        )
        assert added.status_code == 201, added.text
        await siw.y.wait_for(
            lambda: (
                bool(siw.states) and any(i["title"] == "Nytt punkt" for i in siw.latest()["agenda"])
            ),
            timeout=10,
        )
        # A chair command over Socket.IO on the first process reaches it too.
        state = (await per.call("meeting:start", {"meeting": mid}))["state"]
        assert state["status"] == "live"
        await siw.y.wait_for(lambda: siw.latest()["status"] == "live", timeout=10)
    finally:
        for person in (maria, per, siw):
            await person.close()


async def test_a_withdrawal_on_one_process_revokes_a_document_open_on_the_other(
    pair: tuple[LiveServer, LiveServer, Demo],
) -> None:
    first, second, demo = pair
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")["doc"]
    berit = await joined(second, demo.token(plan, "berit"), therapy)
    try:
        async with first.http(demo.token(plan, "charlotte")) as owner:
            response = await owner.post(
                f"/api/plans/{plan['id']}/consent/withdraw",
                json={"participant": demo.person(plan, "berit")["id"]},
            )
            assert response.status_code == 200, response.text
        await berit.wait_for(lambda: therapy in berit.revoked, timeout=10)
        # And the document is closed to her on that process: a re-join is refused.
        again = await berit.join(therapy)
        assert again["ok"] is False and again["error"]["code"] == "not-found"
    finally:
        await berit.close()
