"""Guardians of a child until a date (issue 10, item 6), on a live server with its clock
moved: the owner is asked before the end, the guardian's access ends on the day (live
sessions too, on the hub's poll), and the owner's answer decides what they keep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from collab.guardians import oslo_day
from collab.model import add_months
from server.auth.identity import issue_token
from server.db import repo
from server.db.models import ParticipantRow
from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error
from tests.yclient import YClient

DAY = 24 * 3600


async def long_token(live: LiveServer, person: str) -> str:
    """A token that outlives the moved clock (demo tokens last a day)."""
    async with live.services.sessionmaker() as s, s.begin():
        return await issue_token(s, person, kind="demo", ttl=timedelta(days=400), now=live.clock())


async def add_guardian(live: LiveServer, demo: Demo, plan: dict[str, Any]) -> tuple[str, str]:
    """A guardian added by the owner, signed in (participant id, token)."""
    async with live.http(demo.token(plan, "per")) as per:
        added = await per.post(
            f"/api/plans/{plan['id']}/participants", json={"role": "guardian", "name": "Mor Hansen"}
        )
        assert added.status_code == 201, added.text
    pid = added.json()["id"]
    now = live.clock()
    async with live.services.sessionmaker() as s, s.begin():
        person = await repo.create_person(s, "Mor Hansen", now)
        row = await s.get(ParticipantRow, pid)
        assert row is not None
        row.person_id = person.id
        token = await issue_token(s, person.id, kind="demo", ttl=timedelta(days=400), now=now)
    return pid, token


async def born_days_before_adult(
    live: LiveServer, demo: Demo, plan: dict[str, Any], days: int
) -> str:
    """Record the owner's birth date so that they come of age in ``days`` days."""
    adult = oslo_day(live.clock()) + timedelta(days=days)
    born = add_months(adult, -12 * 18)
    async with live.http(demo.token(plan, "per")) as per:
        response = await per.put(
            f"/api/plans/{plan['id']}/owner-born", json={"born": born.isoformat()}
        )
    assert response.status_code == 200, response.text
    assert response.json()["adult_from"] == adult.isoformat()
    return adult.isoformat()


async def notices(live: LiveServer, token: str) -> list[dict[str, Any]]:
    async with live.http(token) as client:
        response = await client.get("/api/guardian-notices")
    assert response.status_code == 200, response.text
    return list(response.json()["notices"])


async def test_access_ends_on_the_18th_birthday_live_sessions_too(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    owner = await long_token(live, demo.person(plan, "per")["person"])
    guardian, token = await add_guardian(live, demo, plan)
    ends = await born_days_before_adult(live, demo, plan, 10)
    # Ten days before: the owner (only the owner) is asked what the guardian keeps.
    asked = await notices(live, owner)
    assert [(n["participant"], n["ends"], n["days_left"]) for n in asked] == [(guardian, ends, 10)]
    assert await notices(live, token) == []
    assert await notices(live, demo.token(plan, "maria")) == []
    # Until then the guardian is like the owner, live in a document too.
    doc = f"plan:{plan['id']}:section:{demo.section(plan, 'om-meg')['id']}"
    client = YClient(live.url, token)
    await client.connect()
    try:
        assert (await client.join(doc))["access"] == "write"
        await client.wait_synced(doc)
        async with live.http(token) as mor:
            assert (await mor.get(f"/api/plans/{plan['id']}/access-log/lines")).status_code == 200
        # The day comes: the hub's poll notices the date and the session is revoked.
        live.clock.advance(10 * DAY)
        await client.wait_for(lambda: doc in client.revoked, timeout=10)
        async with live.http(token) as mor:
            assert_error(await mor.get(f"/api/plans/{plan['id']}"), 404, "not-found")
        refused = await client.join(doc)
        assert not refused["ok"]
    finally:
        await client.close()
    async with live.http(owner) as per:
        log = (await per.get(f"/api/plans/{plan['id']}/access-log/lines?size=200")).json()
    revoked = [ln for ln in log["lines"] if ln["action"] == "revoked"]
    assert revoked and revoked[0]["person"]["name"] == "Mor Hansen"
    opened = next(
        ln for ln in log["lines"] if ln["action"] == "open" and ln["person"]["name"] == "Mor Hansen"
    )
    assert opened["grounds"] == {"kind": "guardian", "until": ends}
    assert opened["why"].startswith("som foresatt (til ")


async def test_the_owners_answer_decides_what_the_guardian_keeps(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.per
    owner = await long_token(live, demo.person(plan, "per")["person"])
    guardian, token = await add_guardian(live, demo, plan)
    await born_days_before_adult(live, demo, plan, 5)
    answer = f"/api/plans/{plan['id']}/guardians/{guardian}/answer"
    # Only the owner answers.
    async with live.http(token) as mor:
        assert_error(await mor.post(answer, json={"keep": "full"}), 403, "forbidden")
    async with live.http(owner) as per:
        kept = await per.post(answer, json={"keep": "full", "months": 6})
        assert kept.status_code == 200, kept.text
    assert await notices(live, owner) == []  # answered for this date
    live.clock.advance(6 * DAY)
    async with live.http(token) as mor:
        assert (await mor.get(f"/api/plans/{plan['id']}")).status_code == 200
    # Then "a normal consent grant": from the end on, exactly what the owner grants.
    sections = {s["key"]: s["id"] for s in plan["sections"]}
    async with live.http(owner) as per:
        chosen = await per.post(answer, json={"keep": "consent"})
        assert chosen.status_code == 200, chosen.text
        grants = (await per.get(f"/api/plans/{plan['id']}/consent")).json()["grants"]
        grants.append({"participant": guardian, "section": sections["om-meg"], "level": "read"})
        signed = await per.post(
            f"/api/plans/{plan['id']}/consent",
            json={"purpose": "Mor leser Om meg", "grants": grants},
        )
        assert signed.status_code == 201, signed.text
    live.clock.advance(200 * DAY)
    async with live.http(token) as mor:
        seen = await mor.get(f"/api/plans/{plan['id']}")
        assert seen.status_code == 200, seen.text
        assert [s["key"] for s in seen.json()["sections"]] == ["om-meg"]
        assert_error(await mor.get(f"/api/plans/{plan['id']}/access-log/lines"), 403, "forbidden")
    # "Nothing": the end comes at once.
    async with live.http(owner) as per:
        ended = await per.post(answer, json={"keep": "none"})
        assert ended.status_code == 200
        assert ended.json()["access_until"] <= oslo_day(live.clock()).isoformat()
