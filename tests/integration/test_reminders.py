"""Reminders that reach people (server/reminders.py): with the server's clock moved
forward, what falls due reaches the people whose it is, once each, by the in-app inbox
and one e-mail digest with no plan content, even with two server processes running the
scheduler on one database; a person may choose the inbox only."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from datetime import date, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from collab import meeting as sm
from collab.policy import Principal
from server import meeting_service
from server.auth.identity import issue_token
from server.db.models import JobLease, MeasureRow, Reminder
from server.reminders import Reminders
from tests.conftest import LiveServer, load_demo_into, start_server, test_settings

DAY = 24 * 3600


@pytest.fixture
async def two_servers(
    db_url: str, redis_url: str, tmp_path: Path
) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Two processes' worth of server on one database and one Redis, each with its own
    clock (moved together) and its own reminder scheduler."""
    settings = test_settings(db_url, redis_url=redis_url, outbox_dir=tmp_path / "outbox")
    a = await start_server(settings)
    b = await start_server(settings)
    try:
        yield a, b
    finally:
        await b.stop()
        await a.stop()


def digests(outbox: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=default)  # type: ignore[misc]
        for p in sorted(outbox.glob("paminnelse-*.eml"))
    ]


async def reminders_of(live: LiveServer, person: str) -> list[Reminder]:
    async with live.services.sessionmaker() as db:
        return list(await db.scalars(select(Reminder).where(Reminder.person_id == person)))


async def test_what_falls_due_reaches_its_people_once_across_two_processes(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_servers
    demo = await load_demo_into(a)
    per = demo.per
    people = {key: demo.person(per, key)["person"] for key in ("per", "maria", "siw", "ali")}
    saving = next(m for m in per["measures"] if m["title"].startswith("Automatisk sparing"))
    # One measure falls due in ten days; the others are evaluated much later.
    async with a.services.sessionmaker() as db, db.begin():
        today = a.clock().date()
        await db.execute(update(MeasureRow).values(evaluate_by=today + timedelta(days=400)))
        await db.execute(
            update(MeasureRow)
            .where(MeasureRow.id == saving["id"])
            .values(evaluate_by=today + timedelta(days=10))
        )

    first = await asyncio.gather(Reminders(a.services).run_once(), Reminders(b.services).run_once())
    assert sum(r.ran for r in first) == 1  # the lease: one process runs a pass
    # Nothing is overdue yet; tomorrow's meeting is on its invitees' lists.
    siw_before = await reminders_of(a, people["siw"])
    assert "measure-overdue" not in [r.kind for r in siw_before]
    assert "meeting-soon" in [r.kind for r in siw_before]

    for server in (a, b):
        server.clock.advance(11 * DAY)
    schedulers = [Reminders(a.services), Reminders(b.services)]
    reports = await asyncio.gather(*(s.run_once() for s in schedulers))
    assert sum(r.ran for r in reports) == 1
    # The lease runs out; both processes run later passes, and nothing comes twice.
    for server in (a, b):
        server.clock.advance(600)
    for scheduler in schedulers:
        assert (await scheduler.run_once()).ran
        for server in (a, b):
            server.clock.advance(600)

    siw = [r for r in await reminders_of(a, people["siw"]) if r.kind == "measure-overdue"]
    assert [(r.kind, r.href) for r in siw] == [
        ("measure-overdue", f"/plan/{per['id']}?tiltak={saving['id']}")
    ]
    maria = [r for r in await reminders_of(a, people["maria"]) if r.kind == "measure-overdue"]
    assert len(maria) == 1
    # Not the owner's nor another service's to follow up.
    assert "measure-overdue" not in [r.kind for r in await reminders_of(a, people["ali"])]
    assert "measure-overdue" not in [r.kind for r in await reminders_of(a, people["per"])]

    outbox = a.settings.outbox_dir
    letters = digests(outbox)
    to = [str(m["To"]) for m in letters]
    assert {"maria.olsen@example.org", "siw.nilsen@example.org"} <= set(to)
    # One digest per pass that found something new: the meeting before, the measure after.
    assert to.count("siw.nilsen@example.org") == 2
    bodies = {}
    for letter in letters:
        body = letter.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        bodies.setdefault(str(letter["To"]), []).append(body)
        assert "/arbeidsliste" in body
        for content in ("Automatisk sparing", "Pers plan", "Per Hansen", "500"):
            assert content not in body and content not in str(letter["Subject"])
    assert any("1 tiltak som skulle vært evaluert" in b for b in bodies["siw.nilsen@example.org"])


@pytest.fixture
async def live(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A server whose outbox is this test's own."""
    server = await start_server(test_settings(db_url, outbox_dir=tmp_path / "outbox"))
    try:
        yield server
    finally:
        await server.stop()


async def test_the_owner_is_reminded_of_minutes_to_approve_and_a_person_may_choose_the_inbox_only(
    live: LiveServer,
) -> None:
    demo = await load_demo_into(live)
    per = demo.per
    owner, siw = (demo.person(per, key)["person"] for key in ("per", "siw"))
    meeting_id = per["meetings"][0]["id"]
    async with live.http(demo.token(per, "siw")) as http:
        chosen = await http.put("/api/reminder-channel", json={"channel": "in-app"})
        assert chosen.status_code == 200, chosen.text
        assert (await http.put("/api/reminder-channel", json={"channel": "fax"})).status_code == 400
    # Tomorrow's meeting: its invitees are reminded; Siw in the app only.
    assert (await Reminders(live.services).run_once()).added >= 2
    to = [str(m["To"]) for m in digests(live.settings.outbox_dir)]
    assert "maria.olsen@example.org" in to and "siw.nilsen@example.org" not in to
    assert "meeting-soon" in [r.kind for r in await reminders_of(live, siw)]

    # The meeting is held and ended (through the meeting service, as the chair would).
    live.clock.advance(DAY)
    async with live.services.sessionmaker() as db, db.begin():
        loaded = await meeting_service.load(db, meeting_id, live.clock(), lock=True)
        assert loaded is not None
        for command in (sm.Start(), sm.End()):
            await meeting_service.command(db, loaded, Principal(owner), command, live.clock())
    report = await Reminders(live.services).run_once()
    assert report.ran and report.added >= 1

    async def token(person: str) -> str:
        async with live.services.sessionmaker() as s, s.begin():
            return await issue_token(
                s, person, kind="demo", ttl=timedelta(days=2), now=live.clock()
            )

    async with live.http(await token(owner)) as http:
        inbox: dict[str, Any] = (await http.get("/api/inbox")).json()
        assert inbox["channel"] == "email"
        waiting = [i for i in inbox["items"] if i["kind"] == "minutes-approve"]
        assert [i["href"] for i in waiting] == [f"/mote/{meeting_id}"]
        assert waiting[0]["plan_title"] == per["title"] and inbox["unread"] >= 1
        read = await http.post(f"/api/inbox/{waiting[0]['id']}/read")
        assert read.status_code == 200
        assert (await http.post(f"/api/inbox/{waiting[0]['id']}/read")).status_code == 404
        after = (await http.get("/api/inbox")).json()
        assert after["unread"] == inbox["unread"] - 1
    # The coordinator finalises later; approving is not hers to be reminded of.
    maria = demo.person(per, "maria")["person"]
    assert "minutes-approve" not in [r.kind for r in await reminders_of(live, maria)]
    # Someone else's reminder cannot be marked read.
    async with live.http(await token(siw)) as http:
        assert (await http.post(f"/api/inbox/{waiting[0]['id']}/read")).status_code == 404


async def test_a_pass_runs_at_start_up(sqlite_url: str, tmp_path: Path) -> None:
    first = await start_server(test_settings(sqlite_url, outbox_dir=tmp_path))
    demo = await load_demo_into(first)
    await first.stop()
    siw = demo.person(demo.per, "siw")["person"]
    # A restarted process with its scheduler on: the first pass needs no waiting.
    again = await start_server(
        test_settings(sqlite_url, outbox_dir=tmp_path, reminder_interval_seconds=3600)
    )
    try:
        for _ in range(200):
            if await reminders_of(again, siw):
                break
            await asyncio.sleep(0.05)
        assert "meeting-soon" in [r.kind for r in await reminders_of(again, siw)]
    finally:
        await again.stop()


async def test_two_server_processes_remind_each_person_once(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Two real `planrom serve` processes on one PostgreSQL database and one Redis, each
    running the scheduler every second: a measure already past its evaluation date is
    reminded once to its responsible service and once to the coordinator, and each gets
    one digest."""
    from sqlalchemy import select as sql_select

    from server.db.engine import make_engine, make_sessionmaker
    from tests.conftest import free_port
    from tests.procs import ServerProcess

    outbox = tmp_path / "outbox"
    env = {
        "PLANROM_REDIS_URL": redis_url,
        "PLANROM_OUTBOX_DIR": str(outbox),
        "PLANROM_REMINDER_INTERVAL_SECONDS": "1",
    }
    first = ServerProcess(pg_url, free_port(), env)
    second = ServerProcess(pg_url, free_port(), env)
    import json as json_module

    demo = json_module.loads(first.cli("demo", "--json"))
    per = next(p for p in demo["plans"] if p["title"].startswith("Per"))
    people = {p["key"]: p["person"] for p in per["participants"]}
    saving = next(m for m in per["measures"] if m["title"].startswith("Automatisk sparing"))
    engine = make_engine(pg_url)
    maker = make_sessionmaker(engine)
    try:
        async with maker() as db, db.begin():
            today = date.today()
            await db.execute(update(MeasureRow).values(evaluate_by=today + timedelta(days=400)))
            await db.execute(
                update(MeasureRow)
                .where(MeasureRow.id == saving["id"])
                .values(evaluate_by=today - timedelta(days=2))
            )
        await asyncio.gather(first.start(), second.start())

        async def overdue(person: str) -> list[Reminder]:
            async with maker() as db:
                rows = await db.scalars(
                    sql_select(Reminder).where(
                        Reminder.person_id == person, Reminder.kind == "measure-overdue"
                    )
                )
                return list(rows)

        for _ in range(200):  # a positive barrier: both have their reminder
            if await overdue(people["siw"]) and await overdue(people["maria"]):
                break
            await asyncio.sleep(0.05)

        # More passes ran (a positive barrier: the lease was renewed three more times; each
        # pass renews it, whichever process runs it) and nothing came twice.
        async def lease_until() -> object:
            async with maker() as db:
                return await db.scalar(
                    sql_select(JobLease.until).where(JobLease.name == "reminders")
                )

        seen = {await lease_until()}
        for _ in range(400):
            if len(seen) >= 4:
                break
            await asyncio.sleep(0.05)
            seen.add(await lease_until())
        assert len(seen) >= 4
        assert len(await overdue(people["siw"])) == 1
        assert len(await overdue(people["maria"])) == 1
        assert await overdue(people["ali"]) == []
        to = [str(m["To"]) for m in digests(outbox)]
        assert to.count("siw.nilsen@example.org") == 1
        assert to.count("maria.olsen@example.org") == 1
    finally:
        first.stop()
        second.stop()
        await engine.dispose()
