"""Nothing heavy on the event loop: minutes render in worker processes within a time
limit, once per version, view, language and format (then from storage); snapshots are
built in a worker; costly GETs, renders and refusals have per-person limits."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pypdf
import pytest
from pycrdt import Doc, Text
from sqlalchemy import func, select

from server.db.models import AccessLogRow, DocSnapshot, RenderedMinutes
from server.http.ratelimit import RateLimiter
from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings
from tests.integration.test_meetings import Person, notes_edit, schedule

MIB = 1024 * 1024
PIECE = 100_000  # characters of notes per server-side edit
WORDS = "Per vil male stua i blått, og Siw fra NAV ser på økonomien og sparingen. "


def notes_of_size(size: int) -> str:
    body = (WORDS * (size // len(WORDS) + 1))[: size - len("BEGYNNELSEN  SLUTTEN")]
    return f"BEGYNNELSEN {body} SLUTTEN"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(live: LiveServer) -> FakeClock:
    """Give the server a rate limiter on a clock the test moves."""
    clock = FakeClock()
    live.app.state.rate_limiter = RateLimiter(clock=clock)
    return clock


async def renders(live: LiveServer) -> dict[str, int]:
    """The render counters, read from /metrics as an operator would."""
    async with live.http() as client:
        text = (await client.get("/metrics")).text
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r'^planrom_renders_total\{outcome="([a-z-]+)"\} (\d+)$', text, re.M)
    }


async def stored_renders(live: LiveServer) -> list[tuple[str, str]]:
    async with live.services.sessionmaker() as db:
        rows = await db.execute(select(RenderedMinutes.kind, RenderedMinutes.lang))
        return sorted((str(k), str(lang)) for k, lang in rows.all())


async def finalised_with_notes(
    live: LiveServer, demo: Demo, notes: str
) -> tuple[str, Person, Person]:
    """Per's meeting, finalised, with ``notes`` in its one item (written server-side, as
    a pen holder's pasted text ends up in the document)."""
    plan = demo.per
    per = await Person(live, demo, plan, "per").start()
    maria = Person(live, demo, plan, "maria")
    meeting = await schedule(
        maria,
        plan,
        live,
        [maria.id],
        [{"title": "Boligen", "section": demo.section(plan, "bolig")["id"]}],
    )
    mid = meeting["id"]
    await per.call("meeting:join", {"meeting": mid})
    state = (await per.call("meeting:start", {"meeting": mid}))["state"]
    item_doc = state["agenda"][0]["doc"]
    # One update carries at most 256 KiB of text (ADR 0012): paste it in pieces.
    for start in range(0, len(notes), PIECE):
        await live.app.state.hub.edit_as(
            demo.person(plan, "per")["person"], item_doc, notes_edit(notes[start : start + PIECE])
        )
    await per.call("meeting:end", {"meeting": mid})
    assert (await per.http.post(f"/api/meetings/{mid}/approve", json={})).status_code == 200
    finalised = await maria.http.post(f"/api/meetings/{mid}/finalize", json={})
    assert finalised.status_code == 200, finalised.text
    return mid, per, maria


def pdf_text(data: bytes) -> tuple[int, str, str]:
    pages = pypdf.PdfReader(io.BytesIO(data)).pages
    return len(pages), pages[0].extract_text(), "".join(p.extract_text() for p in pages[-3:])


@pytest.fixture
async def big(sqlite_url: str) -> AsyncIterator[LiveServer]:
    # A generous time limit: the machine running the tests may be busy.
    server = await start_server(test_settings(sqlite_url, worker_time_limit_seconds=240))
    try:
        yield server
    finally:
        await server.stop()


@pytest.mark.timeout(600)
async def test_the_largest_allowed_notes_render_in_a_worker_healthz_answers_then_from_storage(
    big: LiveServer,
) -> None:
    demo = await load_demo_into(big)
    # The largest minutes an item may hold: its document's limit less the edits' overhead.
    assert big.services.settings.max_doc_bytes == MIB
    notes = notes_of_size(MIB - 64 * 1024)
    mid, per, maria = await finalised_with_notes(big, demo, notes)
    try:
        assert await renders(big) == {}
        pdf = asyncio.create_task(
            per.http.get(f"/api/meetings/{mid}/minutes", params={"format": "pdf"}, timeout=300)
        )
        latencies: list[float] = []
        async with big.http() as client:
            while not pdf.done():
                started = time.perf_counter()
                health = await client.get("/healthz", timeout=5)
                latencies.append(time.perf_counter() - started)
                assert health.status_code == 200
                await asyncio.sleep(0.05)
        first = await pdf
        assert first.status_code == 200, first.text[:300]
        assert first.headers["content-type"] == "application/pdf"
        # The render took long enough to be polled many times, and no answer was slow.
        assert len(latencies) >= 3, latencies
        assert max(latencies) < 1.0, max(latencies)
        pages, start, end = pdf_text(first.content)
        assert pages > 100 and "BEGYNNELSEN" in start and "SLUTTEN" in end
        assert await renders(big) == {"rendered": 1}
        assert await stored_renders(big) == [("minutes-pdf", "nb")]

        started = time.perf_counter()
        second = await per.http.get(f"/api/meetings/{mid}/minutes", params={"format": "pdf"})
        assert second.status_code == 200 and second.content == first.content
        assert time.perf_counter() - started < 5
        assert await renders(big) == {"rendered": 1, "stored": 1}
    finally:
        await per.close()
        await maria.close()


async def test_rendered_minutes_are_kept_per_version_view_language_and_format(
    live: LiveServer, demo: Demo
) -> None:
    mid, per, maria = await finalised_with_notes(live, demo, "Alt går fint i boligen.")
    try:
        for params in (
            {"format": "pdf"},
            {"format": "pdf", "lang": "en"},
            {"format": "html"},
            {"format": "html", "lang": "tysk"},  # unknown languages are bokmål: the same row
        ):
            reply = await per.http.get(f"/api/meetings/{mid}/minutes", params=params)
            assert reply.status_code == 200, reply.text
        summary = await per.http.get(f"/api/meetings/{mid}/summary")
        assert summary.status_code == 200 and "Kort om møtet" in summary.text
        assert await stored_renders(live) == [
            ("minutes-html", "nb"),
            ("minutes-pdf", "en"),
            ("minutes-pdf", "nb"),
            ("summary-html", "nb"),
        ]
        assert await renders(live) == {"rendered": 4, "stored": 1}
        # The coordinator sees the same parts as the owner here: the same rows serve her.
        same = await maria.http.get(f"/api/meetings/{mid}/minutes", params={"format": "pdf"})
        assert same.status_code == 200
        assert (await renders(live))["stored"] == 2

        # A correction is a new version: rendered anew; the old version stays as it was.
        item = (await per.http.get(f"/api/meetings/{mid}/minutes")).json()["items"][0]["id"]
        corrected = await maria.http.post(
            f"/api/meetings/{mid}/corrections",
            json={"item": item, "notes": "Per vil male stua.", "reason": "Malingen manglet."},
        )
        assert corrected.status_code == 201, corrected.text
        new = await per.http.get(f"/api/meetings/{mid}/minutes", params={"format": "html"})
        assert "male stua" in new.text
        old = await per.http.get(
            f"/api/meetings/{mid}/minutes", params={"format": "html", "version": "1"}
        )
        assert "male stua" not in old.text and "Alt går fint" in old.text
        assert await renders(live) == {"rendered": 5, "stored": 3}
    finally:
        await per.close()
        await maria.close()


async def test_a_render_past_the_time_limit_is_unavailable_and_not_tried_again_at_once(
    sqlite_url: str,
) -> None:
    live = await start_server(test_settings(sqlite_url, worker_time_limit_seconds=0.3))
    try:
        demo = await load_demo_into(live)
        mid, per, maria = await finalised_with_notes(live, demo, notes_of_size(400_000))
        try:
            slow = await per.http.get(f"/api/meetings/{mid}/minutes", params={"format": "pdf"})
            assert slow.status_code == 503
            assert slow.json()["error"]["code"] == "unavailable"
            assert "Prøv igjen senere" in slow.json()["error"]["message"]
            assert int(slow.headers["retry-after"]) >= 1
            assert await renders(live) == {"time-limit": 1}
            again = await per.http.get(f"/api/meetings/{mid}/minutes", params={"format": "pdf"})
            assert again.status_code == 503
            assert await renders(live) == {"time-limit": 1, "refused-after-failure": 1}
            assert await stored_renders(live) == []
            # The server still serves, and a small render still works.
            html = await per.http.get(f"/api/meetings/{mid}/minutes", params={"format": "html"})
            assert html.status_code == 200 and "SLUTTEN" in html.text
        finally:
            await per.close()
            await maria.close()
    finally:
        await live.stop()


def assert_limited(reply: Any, wait: int, words: str) -> None:
    assert reply.status_code == 429, reply.text
    error = reply.json()["error"]
    assert error["code"] == "rate-limited" and words in error["message"]
    assert reply.headers["retry-after"] == str(wait)


async def test_costly_gets_have_a_per_person_limit_that_refills(db_url: str) -> None:
    live = await start_server(test_settings(db_url, rate_costly_read=(3, 60.0)))
    try:
        demo = await load_demo_into(live)
        clock = limiter(live)
        plan = demo.per
        async with (
            live.http(demo.token(plan, "maria")) as maria,
            live.http(demo.token(plan, "siw")) as siw,
        ):
            for path in ("changes", "overdue", "history"):
                assert (await maria.get(f"/api/plans/{plan['id']}/{path}")).status_code == 200
            limited = await maria.get(f"/api/plans/{plan['id']}/access-log")
            assert_limited(limited, 20, "prøv igjen om 20 sekunder")
            # Cheap GETs and other people are not held back.
            assert (await maria.get(f"/api/plans/{plan['id']}")).status_code == 200
            assert (await siw.get(f"/api/plans/{plan['id']}/overdue")).status_code == 200
            clock.now += 20
            assert (await maria.get(f"/api/plans/{plan['id']}/access-log")).status_code == 200
            assert (await maria.get(f"/api/plans/{plan['id']}/changes")).status_code == 429
    finally:
        await live.stop()


async def test_renders_have_a_per_person_limit_but_stored_minutes_do_not(sqlite_url: str) -> None:
    live = await start_server(test_settings(sqlite_url, rate_render=(1, 600.0)))
    try:
        demo = await load_demo_into(live)
        clock = limiter(live)
        mid, per, maria = await finalised_with_notes(live, demo, "Alt går fint.")
        try:
            url = f"/api/meetings/{mid}/minutes"
            assert (await per.http.get(url, params={"format": "pdf"})).status_code == 200
            assert_limited(
                await per.http.get(url, params={"format": "html"}), 600, "nye utskrifter"
            )
            # Served from storage: no render, no limit.
            assert (await per.http.get(url, params={"format": "pdf"})).status_code == 200
            assert (await maria.http.get(url, params={"format": "html"})).status_code == 200
            clock.now += 600
            assert (
                await per.http.get(url, params={"format": "html", "lang": "nn"})
            ).status_code == 200
            assert await renders(live) == {"rendered": 3, "stored": 1}
        finally:
            await per.close()
            await maria.close()
    finally:
        await live.stop()


async def test_a_person_refused_too_often_waits_and_floods_no_log(db_url: str) -> None:
    live = await start_server(test_settings(db_url, rate_refused=(3, 60.0)))
    try:
        demo = await load_demo_into(live)
        clock = limiter(live)
        plan = demo.charlotte
        therapy = demo.section(plan, "terapi")["id"]
        talks = next(m for m in plan["measures"] if m["section"] == therapy)
        school = demo.person(plan, "skole")["person"]
        hidden = f"/api/plans/{plan['id']}/measures/{talks['id']}"

        async def log_rows() -> int:
            async with live.services.sessionmaker() as db:
                found = await db.scalar(
                    select(func.count())
                    .select_from(AccessLogRow)
                    .where(AccessLogRow.person_id == school)
                )
                return int(found or 0)

        async with live.http(demo.token(plan, "skole")) as client:
            for _ in range(3):
                assert (await client.get(hidden)).status_code == 404
            before = await log_rows()
            assert before >= 1  # the refusals are in the owner's log
            assert_limited(await client.get(hidden), 20, "avviste forespørsler")
            # Every request waits now, also ones that would be allowed, and none is logged.
            assert_limited(await client.get(f"/api/plans/{plan['id']}"), 20, "avviste")
            assert await log_rows() == before
            clock.now += 20
            assert (await client.get(f"/api/plans/{plan['id']}")).status_code == 200
            assert (await client.get(hidden)).status_code == 404
            assert (await client.get(hidden)).status_code == 429
            # Other people are not held back.
            async with live.http(demo.token(plan, "charlotte")) as owner:
                assert (await owner.get(hidden)).status_code == 200
    finally:
        await live.stop()


async def test_snapshots_are_built_in_a_worker_and_load_back(db_url: str) -> None:
    live = await start_server(test_settings(db_url, snapshot_after_updates=5))
    try:
        demo = await load_demo_into(live)
        plan = demo.per
        per = await Person(live, demo, plan, "per").start()
        name = f"plan:{plan['id']}:section:{demo.section(plan, 'bolig')['id']}"
        try:
            await per.y.join(name)
            await per.y.wait_synced(name)
            for n in range(8):
                assert (await per.y.edit(name, _append_situation(f"Linje {n}. ")))["ok"]
            snapshot = await _wait_for_snapshot(live, name)
            counts = await _events(live)
            assert counts.get("snapshot-built", 0) >= 1
            state = Doc()
            state.apply_update(snapshot)
            assert "Linje 4." in str(state.get("situation", type=Text))
            # A fresh process view of the document (snapshot + later updates) is complete.
            stored = await live.app.state.hub.docs.store.load(name)
            again = Doc()
            assert stored.snapshot is not None
            again.apply_update(stored.snapshot)
            for _, update in stored.updates:
                again.apply_update(update)
            assert "Linje 7." in str(again.get("situation", type=Text))
        finally:
            await per.close()
    finally:
        await live.stop()


def _append_situation(text: str):  # type: ignore[no-untyped-def]
    def edit(d: Doc) -> None:
        situation = d.get("situation", type=Text)
        situation.insert(len(situation), text)

    return edit


async def _wait_for_snapshot(live: LiveServer, name: str) -> bytes:
    for _ in range(300):
        async with live.services.sessionmaker() as db:
            snap = await db.get(DocSnapshot, name)
            if snap is not None:
                return bytes(snap.data)
        await asyncio.sleep(0.05)
    raise AssertionError("no snapshot was written")


async def _events(live: LiveServer) -> dict[str, int]:
    async with live.http() as client:
        text = (await client.get("/metrics")).text
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(
            r'^planrom_realtime_events_total\{event="([a-z-]+)"\} (\d+)$', text, re.M
        )
    }
