"""Consent versions signed or withdrawn at the same moment (issue 15).

Each new version is numbered after the newest one; two requests that read the same
newest version used to both take max+1 and collide on the key, a 500 on PostgreSQL.
The plan row is now locked before the version is chosen, so every request succeeds
and the versions stay gap-free.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
from sqlalchemy import select

from server.db.models import ConsentRow
from tests.conftest import Demo, LiveServer

TABS = 4
ROUNDS = 5


async def _stored(live: LiveServer, plan_id: str) -> list[ConsentRow]:
    async with live.services.sessionmaker() as db:
        rows = await db.execute(
            select(ConsentRow).where(ConsentRow.plan_id == plan_id).order_by(ConsentRow.version)
        )
        return list(rows.scalars())


async def test_owner_tabs_signing_at_once_get_gap_free_versions_and_no_500(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    path = f"/api/plans/{plan['id']}/consent"
    tabs = [live.http(demo.token(plan, "per")) for _ in range(TABS)]
    try:
        first = await tabs[0].get(path)
        assert first.status_code == 200, first.text
        start, grants = first.json()["version"], first.json()["grants"]
        seen: list[int] = []
        for round_ in range(ROUNDS):
            replies = await asyncio.gather(
                *(
                    tab.post(path, json={"purpose": f"runde {round_} fane {i}", "grants": grants})
                    for i, tab in enumerate(tabs)
                )
            )
            assert [r.status_code for r in replies] == [201] * TABS, [r.text for r in replies]
            seen += [r.json()["version"] for r in replies]
    finally:
        for tab in tabs:
            await tab.aclose()
    expected = list(range(start + 1, start + 1 + TABS * ROUNDS))
    assert sorted(seen) == expected
    stored = await _stored(live, plan["id"])
    assert [row.version for row in stored] == list(range(1, expected[-1] + 1))


async def test_withdrawals_racing_signings_build_on_the_newest_version(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    path = f"/api/plans/{plan['id']}/consent"
    school = demo.person(plan, "skole")["id"]
    tabs = [live.http(demo.token(plan, "charlotte")) for _ in range(TABS)]
    try:
        before = (await tabs[0].get(path)).json()
        grants: list[dict[str, Any]] = before["grants"]

        async def sign(tab: httpx.AsyncClient, i: int) -> httpx.Response:
            return await tab.post(path, json={"purpose": f"fane {i}", "grants": grants})

        async def withdraw(tab: httpx.AsyncClient) -> httpx.Response:
            return await tab.post(path + "/withdraw", json={"participant": school})

        for _ in range(ROUNDS):
            replies = await asyncio.gather(
                sign(tabs[0], 0), withdraw(tabs[1]), sign(tabs[2], 2), withdraw(tabs[3])
            )
            assert [r.status_code for r in replies] == [201, 200, 201, 200], [
                r.text for r in replies
            ]
        latest = (await tabs[0].get(path)).json()
    finally:
        for tab in tabs:
            await tab.aclose()
    stored = await _stored(live, plan["id"])
    assert [row.version for row in stored] == list(range(1, before["version"] + TABS * ROUNDS + 1))
    assert latest["version"] == stored[-1].version
    assert sum(1 for row in stored if row.kind == "withdrawal") == 2 * ROUNDS
    # Each withdrawal read the newest version under the lock: it is exactly the version
    # before it without the school's grants, never a stale one with a signing lost.
    for previous, row in itertools.pairwise(stored):
        if row.kind == "withdrawal":
            kept = [g for g in previous.grants if g["participant"] != school]
            assert row.grants == kept, row.version
