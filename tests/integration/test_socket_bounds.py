"""Socket.IO bounds: which origins may connect, how many clientIDs and awareness states
one connection, one document and one person may have, and that awareness goes away when
its client does (leave, disconnect, revocation)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
from sqlalchemy import func, select

from collab.yproto import AwarenessState, encode_awareness
from server.db.models import YClient
from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings
from tests.yclient import YClient as Client

EVIL = "https://evil.example"


async def cookie_of(live: LiveServer, demo: Demo, plan: dict[str, Any], key: str) -> str:
    async with live.http() as browser:
        answer = await browser.get(f"/auth/demo/{demo.token(plan, key)}")
        assert answer.status_code == 303, answer.text
        cookie = browser.cookies.get("planrom_session")
        assert cookie
        return str(cookie)


async def attempt(
    url: str, *, token: str | None = None, headers: dict[str, str] | None = None
) -> tuple[socketio.AsyncClient | None, dict[str, Any] | None]:
    """Connect as a browser or a service would: the client, or the connect_error."""
    client = socketio.AsyncClient(reconnection=False)
    refused: list[Any] = []
    client.on("connect_error", lambda data: refused.append(data))
    try:
        await client.connect(
            url,
            auth={"token": token} if token else None,
            headers=headers or {},
            transports=["websocket"],
            wait_timeout=20,
        )
    except socketio.exceptions.ConnectionError:
        assert refused, "refused without a connect_error"
        return None, refused[0]
    return client, None


def assert_refused(outcome: tuple[socketio.AsyncClient | None, Any], code: str) -> None:
    client, error = outcome
    assert client is None, "connected, but should have been refused"
    assert isinstance(error, dict), error
    assert error["code"] == code and error["data"]["code"] == code, error
    assert isinstance(error["data"]["message"], str) and error["data"]["message"]


async def assert_connected(outcome: tuple[socketio.AsyncClient | None, Any], doc: str) -> None:
    client, error = outcome
    assert client is not None, error
    try:
        ack = await client.call("doc:join", {"doc": doc, "client_id": 31337}, timeout=20)
        assert ack["ok"] is True, ack
    finally:
        await client.disconnect()


# --- origins ------------------------------------------------------------------------------


async def test_a_cookie_from_another_site_is_refused_and_from_our_own_pages_accepted(
    live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    cookie = f"planrom_session={await cookie_of(live, demo, plan, 'per')}"

    # The victim's cookie, sent by a page on another site: refused before anything else.
    assert_refused(await attempt(live.url, headers={"Cookie": cookie, "Origin": EVIL}), "forbidden")
    assert_refused(
        await attempt(live.url, headers={"Cookie": cookie, "Origin": "null"}), "forbidden"
    )
    # A look-alike of our own origin is another origin.
    assert_refused(
        await attempt(live.url, headers={"Cookie": cookie, "Origin": live.url + ".evil.example"}),
        "forbidden",
    )
    # A cookie without any Origin is not a browser on our pages.
    assert_refused(await attempt(live.url, headers={"Cookie": cookie}), "forbidden")
    assert_refused(
        await attempt(live.url, headers={"Cookie": cookie, "Sec-Fetch-Site": "cross-site"}),
        "forbidden",
    )
    # Our own pages: the WebSocket handshake carries our Origin; the long-polling
    # handshake (a same-origin GET) carries none, but the browser's Sec-Fetch-Site.
    await assert_connected(
        await attempt(live.url, headers={"Cookie": cookie, "Origin": live.url}), doc
    )
    await assert_connected(
        await attempt(live.url, headers={"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}), doc
    )
    assert live.services.metrics.errors["forbidden"] >= 5


async def test_a_token_from_another_site_is_refused_and_without_an_origin_accepted(
    live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    token = demo.token(plan, "per")
    assert_refused(await attempt(live.url, token=token, headers={"Origin": EVIL}), "forbidden")
    # Services and test clients send no Origin; tokens are theirs.
    await assert_connected(await attempt(live.url, token=token), doc)
    await assert_connected(await attempt(live.url, token=token, headers={"Origin": live.url}), doc)
    # A foreign origin is refused before the credential is looked at.
    assert_refused(
        await attempt(live.url, token="prt_nonsense", headers={"Origin": EVIL}), "forbidden"
    )
    assert_refused(await attempt(live.url, token="prt_nonsense"), "unauthenticated")


async def test_origins_from_the_setting_may_connect_too(sqlite_url: str) -> None:
    live = await start_server(
        test_settings(sqlite_url, allowed_origins=("https://planrom.kommune.no",))
    )
    try:
        demo = await load_demo_into(live)
        plan = demo.per
        doc = demo.section(plan, "om-meg")["doc"]
        cookie = f"planrom_session={await cookie_of(live, demo, plan, 'per')}"
        for origin in ("https://planrom.kommune.no", "https://planrom.kommune.no:443"):
            outcome = await attempt(live.url, headers={"Cookie": cookie, "Origin": origin})
            await assert_connected(outcome, doc)
        for origin in ("http://planrom.kommune.no", "https://planrom.kommune.no:8443", EVIL):
            outcome = await attempt(live.url, headers={"Cookie": cookie, "Origin": origin})
            assert_refused(outcome, "forbidden")
    finally:
        await live.stop()


# --- clientIDs and awareness ----------------------------------------------------------------

PERSON_DAY_CAP = 40


@pytest.fixture
async def capped(db_url: str) -> AsyncIterator[tuple[LiveServer, Demo]]:
    """Small caps, on SQLite and PostgreSQL (the day's count is a query on each)."""
    live = await start_server(
        test_settings(
            db_url,
            max_awareness_states_per_doc=6,
            max_client_ids_per_person_day=PERSON_DAY_CAP,
        )
    )
    try:
        yield live, await load_demo_into(live)
    finally:
        await live.stop()


async def connected(live: LiveServer, token: str) -> Client:
    client = Client(live.url, token)
    await client.connect()
    return client


def code(ack: dict[str, Any]) -> str:
    return "ok" if ack.get("ok") else str(ack["error"]["code"])


async def leave(client: Client, doc: str) -> dict[str, Any]:
    return dict(await client.sio.call("doc:leave", {"doc": doc}, timeout=20))


async def show(client: Client, doc: str, client_id: int, state: dict[str, Any] | None) -> str:
    message = encode_awareness((AwarenessState(client_id, 1, state),))
    return code(await client.send(doc, message))


async def test_one_connection_binds_few_clientids_per_document_and_shows_few_states(
    capped: tuple[LiveServer, Demo],
) -> None:
    live, demo = capped
    settings = live.settings
    plan = demo.per
    goals = demo.section(plan, "mal")["doc"]  # Siw may read it, not write
    work = demo.section(plan, "arbeid")["doc"]
    siw = await connected(live, demo.token(plan, "siw"))
    try:
        cap = settings.max_client_ids_per_doc
        for n in range(cap):
            assert await siw.join(goals, client_id=9000 + n, sync=False) == {
                "ok": True,
                "access": "read",
            }
        # The same ones again are fine; one more is not.
        assert code(await siw.join(goals, client_id=9000, sync=False)) == "ok"
        assert code(await siw.join(goals, client_id=9000 + cap, sync=False)) == "rate-limited"
        # Another document has its own count.
        assert code(await siw.join(work, client_id=9000 + cap, sync=False)) == "ok"

        # One state: at most settings.max_awareness_state_bytes of JSON (user included).
        too_big = {"pad": "x" * settings.max_awareness_state_bytes}
        assert await show(siw, goals, 9000, too_big) == "too-large"
        assert await show(siw, goals, 9000, {"pad": "x" * 3000}) == "ok"
        # A message is refused whole: nothing of it is kept.
        mixed = encode_awareness(
            (AwarenessState(9001, 1, {"here": True}), AwarenessState(9002, 1, too_big))
        )
        assert code(await siw.send(goals, mixed)) == "too-large"

        # States per connection and document: clientIDs bound on another document count.
        for n in range(1, cap):
            assert await show(siw, goals, 9000 + n, {"here": True}) == "ok"
        assert await show(siw, goals, 9000 + cap, {"here": True}) == "rate-limited"
        # Taking one away makes room again.
        assert await show(siw, goals, 9001, None) == "ok"
        assert await show(siw, goals, 9000 + cap, {"here": True}) == "ok"
        # One message may take one away and show another.
        swap = encode_awareness(
            (AwarenessState(9002, 2, None), AwarenessState(9001, 2, {"here": True}))
        )
        assert code(await siw.send(goals, swap)) == "ok"
        assert await show(siw, goals, 9002, {"here": True}) == "rate-limited"
        # Leaving forgets the document's clientIDs: joining with new ones works again.
        assert code(await leave(siw, goals)) == "ok"
        assert code(await siw.join(goals, client_id=9100, sync=False)) == "ok"
    finally:
        await siw.close()
    assert live.services.metrics.errors["rate-limited"] >= 2
    assert live.services.metrics.errors["too-large"] >= 2


async def test_a_document_holds_a_bounded_number_of_states(
    capped: tuple[LiveServer, Demo],
) -> None:
    live, demo = capped
    per_doc = live.settings.max_awareness_states_per_doc  # 6 here
    plan = demo.per
    goals = demo.section(plan, "mal")["doc"]
    siw = await connected(live, demo.token(plan, "siw"))
    ali = await connected(live, demo.token(plan, "ali"))
    per = await connected(live, demo.token(plan, "per"))
    try:
        for who, base in ((siw, 7000), (ali, 8000)):
            for n in range(4):
                assert code(await who.join(goals, client_id=base + n, sync=False)) == "ok"
        shown = [await show(siw, goals, 7000 + n, {"n": n}) for n in range(4)]
        shown += [await show(ali, goals, 8000 + n, {"n": n}) for n in range(4)]
        assert shown == ["ok"] * per_doc + ["rate-limited"] * (8 - per_doc)
        # Updating a state already shown is always possible.
        assert await show(ali, goals, 8000, {"n": "again"}) == "ok"
        # A new joiner receives exactly the states held, no more.
        await per.join(goals)
        await per.wait_for(lambda: len(per.awareness.get(goals, {})) >= per_doc)
        assert len(per.awareness[goals]) == per_doc
    finally:
        for client in (siw, ali, per):
            await client.close()


async def test_clientids_per_person_are_counted_in_the_database_across_reconnects(
    capped: tuple[LiveServer, Demo],
) -> None:
    live, demo = capped
    plan = demo.per
    goals = demo.section(plan, "mal")["doc"]
    person = demo.person(plan, "siw")["person"]

    async def bound() -> int:
        async with live.services.sessionmaker() as db:
            found = await db.scalar(
                select(func.count()).select_from(YClient).where(YClient.person_id == person)
            )
            return int(found or 0)

    before = await bound()
    assert before < PERSON_DAY_CAP - 10
    siw = await connected(live, demo.token(plan, "siw"))
    next_id = 50_000
    outcomes: list[str] = []
    try:
        # Join and leave, each time with a new clientID (the per-document cap forgets
        # on leave; the day's cap per person does not).
        for _ in range(PERSON_DAY_CAP - before + 3):
            outcomes.append(code(await siw.join(goals, client_id=next_id, sync=False)))
            await leave(siw, goals)
            next_id += 1
    finally:
        await siw.close()
    allowed = PERSON_DAY_CAP - before
    assert outcomes == ["ok"] * allowed + ["rate-limited"] * 3
    assert await bound() == PERSON_DAY_CAP
    # A new connection does not reset the count; a clientID already bound still works,
    # and someone else is not affected.
    again = await connected(live, demo.token(plan, "siw"))
    per = await connected(live, demo.token(plan, "per"))
    try:
        assert code(await again.join(goals, client_id=next_id, sync=False)) == "rate-limited"
        assert code(await again.join(goals, client_id=50_000, sync=False)) == "ok"
        assert code(await per.join(goals, client_id=next_id, sync=False)) == "ok"
    finally:
        await again.close()
        await per.close()
    assert await bound() == PERSON_DAY_CAP


async def test_awareness_goes_away_on_leave_disconnect_and_revocation(
    live_sqlite: LiveServer, demo_sqlite: Demo
) -> None:
    live, demo = live_sqlite, demo_sqlite
    plan = demo.per
    doc = demo.section(plan, "om-meg")["doc"]
    per = await connected(live, demo.token(plan, "per"))
    maria = await connected(live, demo.token(plan, "maria"))
    try:
        await per.join(doc)
        await per.wait_synced(doc)
        # Leave.
        await maria.join(doc)
        mine = maria.doc(doc).client_id
        assert code(await maria.set_awareness(doc, {"cursor": 1})) == "ok"
        await per.wait_for(lambda: (per.awareness.get(doc) or {}).get(mine) is not None)
        assert code(await leave(maria, doc)) == "ok"
        await per.wait_for(lambda: per.awareness[doc].get(mine, 0) is None)
        # Disconnect.
        assert code(await maria.join(doc)) == "ok"
        assert code(await maria.set_awareness(doc, {"cursor": 2}, clock=3)) == "ok"
        await per.wait_for(lambda: (per.awareness[doc].get(mine) or {}).get("cursor") == 2)
        await maria.close()
        await per.wait_for(lambda: per.awareness[doc].get(mine, 0) is None)
        # A new joiner is not told about a client that is gone.
        late = await connected(live, demo.token(plan, "per"))
        try:
            await late.join(doc)
            await late.wait_synced(doc)
            assert_no_state_for(late, doc, mine)
        finally:
            await late.close()
    finally:
        await per.close()
        await maria.close()

    # Revocation (consent withdrawn): her state is removed for the others at once.
    charlotte = demo.charlotte
    therapy = demo.section(charlotte, "terapi")["doc"]
    owner = await connected(live, demo.token(charlotte, "charlotte"))
    berit = await connected(live, demo.token(charlotte, "berit"))
    try:
        await owner.join(therapy)
        await owner.wait_synced(therapy)
        assert code(await berit.join(therapy)) == "ok"
        hers = berit.doc(therapy).client_id
        assert code(await berit.set_awareness(therapy, {"cursor": 5})) == "ok"
        await owner.wait_for(lambda: (owner.awareness.get(therapy) or {}).get(hers) is not None)
        async with live.http(demo.token(charlotte, "charlotte")) as http:
            answer = await http.post(
                f"/api/plans/{charlotte['id']}/consent/withdraw",
                json={"participant": demo.person(charlotte, "berit")["id"]},
            )
            assert answer.status_code == 200, answer.text
        await berit.wait_for(lambda: therapy in berit.revoked)
        await owner.wait_for(lambda: owner.awareness[therapy].get(hers, 0) is None)
    finally:
        await owner.close()
        await berit.close()


def assert_no_state_for(client: Client, doc: str, client_id: int) -> None:
    assert (client.awareness.get(doc) or {}).get(client_id) is None
