"""Refused attempts do not flood the owner's access log (issue 9, item 7).

An outsider (no role in the plan) who keeps trying gets one chained row per day and a
count; a participant gets a bounded number of rows per day and a count. The hash chain
stays intact (``planrom audit verify``).
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import func, select

from server.db import denials
from server.db.models import AccessDenialRow, AccessLogRow
from tests.conftest import Demo, LiveServer
from tests.integration.test_audit import verify
from tests.yclient import YClient


async def chained_rows(live: LiveServer, plan_id: str, person: str) -> int:
    async with live.services.sessionmaker() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(AccessLogRow)
            .where(AccessLogRow.plan_id == plan_id, AccessLogRow.person_id == person)
        )
    return int(found or 0)


async def stored_count(live: LiveServer, plan_id: str, person: str) -> int:
    async with live.services.sessionmaker() as session:
        found = await session.scalar(
            select(AccessDenialRow.count).where(
                AccessDenialRow.plan_id == plan_id, AccessDenialRow.person_id == person
            )
        )
    return int(found or 0)


async def owners_view(live: LiveServer, demo: Demo, plan: dict[str, Any]) -> list[dict[str, Any]]:
    owner = "per" if plan is demo.per else "charlotte"
    async with live.http(demo.token(plan, owner)) as client:
        response = await client.get(f"/api/plans/{plan['id']}/access-log")
        assert response.status_code == 200, response.text
        return list(response.json()["entries"])


async def test_an_outsiders_refusals_are_one_counted_entry(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    # Ola (Charlotte's school) has no role in Per's plan but knows its id.
    ola = demo.person(demo.charlotte, "skole")
    token = demo.token(demo.charlotte, "skole")
    doc = demo.section(plan, "okonomi")["doc"]
    budget, window = live.services.settings.rate_refused
    statuses: list[int] = []
    started = monotonic()
    async with live.http(token) as client:
        for start in range(0, 400, 20):
            answers = await asyncio.gather(
                *(
                    client.get(
                        f"/api/plans/{plan['id']}/consent"
                        if i % 2
                        else f"/api/plans/{plan['id']}/access-log"
                    )
                    for i in range(start, start + 20)
                )
            )
            statuses += [a.status_code for a in answers]
    # The refusal budget (issue 9, item 4) answers the rest with 429 and counts nothing.
    # (The budget refills slowly while the test runs: a token or two may come back.)
    refills = math.ceil((monotonic() - started) * budget / window)
    refused = statuses.count(404)
    assert budget <= refused <= budget + refills
    assert statuses.count(429) == 400 - refused
    expected = refused + 100
    socket = YClient(live.url, token)
    await socket.connect()
    try:
        for _ in range(100):
            ack = await socket.join(doc, sync=False)
            assert ack["ok"] is False and ack["error"]["code"] == "not-found"
    finally:
        await socket.close()

    # At most a handful of rows: here exactly one, the day's first refusal.
    assert await chained_rows(live, plan["id"], ola["person"]) == 1
    # The count reaches the database by itself (the flush), without anyone reading.
    for _ in range(200):
        if await stored_count(live, plan["id"], ola["person"]) == expected:
            break
        await asyncio.sleep(0.05)
    assert await stored_count(live, plan["id"], ola["person"]) == expected

    log = await owners_view(live, demo, plan)
    mine = [e for e in log if e["person"] == ola["person"]]
    assert len(mine) == 1
    (entry,) = mine
    assert entry["action"] == "denied" and entry["actor"] == ola["name"]
    summary = entry["refusals"]
    assert summary["count"] == expected and summary["listed"] == 1 and summary["outsider"] is True
    assert summary["day"] == entry["at"][:10]
    assert summary["first_at"] <= summary["last_at"]

    code, output = await verify(live)
    assert code == 0, output


async def test_a_participants_refusals_are_rows_up_to_a_bound_then_counted(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    siw = demo.person(plan, "siw")
    attempts = denials.PARTICIPANT_ROWS_PER_DAY + 35
    async with live.http(demo.token(plan, "siw")) as client:
        for _ in range(attempts):
            # Siw takes part in the plan but may not read its access log.
            answer = await client.get(f"/api/plans/{plan['id']}/access-log")
            assert answer.status_code == 403
    # The counts reach the database by themselves (the flush). Read the log once they
    # have: a periodic flush that took them from memory just before the owner's request
    # may store them just after it (the owner then sees them on the next read).
    for _ in range(200):
        if await stored_count(live, plan["id"], siw["person"]) == attempts:
            break
        await asyncio.sleep(0.05)
    log = await owners_view(live, demo, plan)
    refusals = [e for e in log if e["person"] == siw["person"] and e["action"] == "denied"]
    assert len(refusals) == denials.PARTICIPANT_ROWS_PER_DAY
    first = min(refusals, key=lambda e: e["seq"])
    assert first["refusals"]["count"] == attempts
    assert first["refusals"]["listed"] == denials.PARTICIPANT_ROWS_PER_DAY
    assert first["refusals"]["outsider"] is False
    assert all("refusals" not in e for e in refusals if e is not first)
    code, output = await verify(live)
    assert code == 0, output


async def test_a_new_day_starts_a_new_entry(live: LiveServer, demo: Demo) -> None:
    plan = demo.per
    ola = demo.person(demo.charlotte, "skole")
    async with live.http(demo.token(demo.charlotte, "skole")) as client:
        for _ in range(3):
            assert (await client.get(f"/api/plans/{plan['id']}/consent")).status_code == 404
        now = live.clock()
        midnight = datetime.combine(now.date() + timedelta(days=1), time(0, 0, 30), UTC)
        live.clock.advance((midnight - now).total_seconds())  # the demo tokens last a day
        for _ in range(2):
            assert (await client.get(f"/api/plans/{plan['id']}/consent")).status_code == 404
    mine = [e for e in await owners_view(live, demo, plan) if e["person"] == ola["person"]]
    assert [e["refusals"]["count"] for e in mine] == [2, 3]  # newest first
    assert mine[0]["refusals"]["day"] > mine[1]["refusals"]["day"]
