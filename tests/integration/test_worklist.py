"""The worklist across plans (server/worklist.py): rows appear as time moves (the server's
clock is moved, not slept), each links to the place to act, and a row never names what
the reader may not know of."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from server.auth.identity import issue_token
from server.db.auth_models import Invitation
from tests.conftest import Demo, LiveServer

DAY = 24 * 3600


async def token_later(live: LiveServer, demo: Demo, plan: dict[str, Any], key: str) -> str:
    """A sign-in that lasts while the clock is moved forward (demo tokens last a day)."""
    person = demo.person(plan, key)["person"]
    async with live.services.sessionmaker() as s, s.begin():
        return await issue_token(s, person, kind="demo", ttl=timedelta(days=800), now=live.clock())


async def worklist(live: LiveServer, token: str) -> dict[str, Any]:
    async with live.http(token) as http:
        response = await http.get("/api/worklist")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def kinds(body: dict[str, Any], plan: str | None = None) -> list[str]:
    return [r["kind"] for r in body["rows"] if plan is None or r["plan"] == plan]


async def test_the_coordinator_sees_what_falls_due_as_time_moves(
    live: LiveServer, demo: Demo
) -> None:
    per = demo.per
    maria = await token_later(live, demo, per, "maria")
    now = await worklist(live, maria)
    assert now["plans"] == 1
    soon = [r for r in now["rows"] if r["kind"] == "meeting-soon"]
    assert [r["href"] for r in soon] == [f"/mote/{per['meetings'][0]['id']}"]
    assert "evaluation-overdue" not in kinds(now) and "sleeping" not in kinds(now)

    # Over a year on: the demo meeting has passed unheld, measures are due for
    # evaluation, and the plan's own evaluation too.
    live.clock.advance(400 * DAY)
    later = await worklist(live, maria)
    assert "evaluation-overdue" in kinds(later)
    overdue = [r for r in later["rows"] if r["kind"] == "measure-overdue"]
    titles = {m["title"] for m in per["measures"]}
    assert overdue and {r["title"] for r in overdue} <= titles
    for row in overdue:
        measure = next(m for m in per["measures"] if m["title"] == row["title"])
        assert row["href"] == f"/plan/{per['id']}?tiltak={measure['id']}"
        assert "evaluation" in row["reasons"]
    assert {r["who"] for r in overdue} <= {"Siw Nilsen", "Ali Karim", "Maria Olsen", "Per Hansen"}
    # Most urgent first.
    urgencies = [r["urgency"] for r in later["rows"]]
    assert urgencies == sorted(urgencies, reverse=True)
    # Nothing has changed in 400 days: the plan sleeps.
    assert "sleeping" in kinds(later)


async def test_a_service_sees_only_its_own_measures_and_nothing_of_others(
    live: LiveServer, demo: Demo
) -> None:
    charlotte = demo.charlotte
    school_token = await token_later(live, demo, charlotte, "skole")
    hilde_token = await token_later(live, demo, charlotte, "hilde")
    live.clock.advance(400 * DAY)
    school = await worklist(live, school_token)
    assert set(kinds(school)) == {"measure-overdue"}
    assert [r["title"] for r in school["rows"]] == ["Tilrettelagt opplegg for ett fag"]
    text = json.dumps(school, ensure_ascii=False)
    for secret in ("Berit", "Tone", "DPS", "Samtaler", "terapi", "Fast legetime"):
        assert secret not in text

    # The coordinator follows the whole plan, but only as consent lets her read it.
    hilde = await worklist(live, hilde_token)
    assert "evaluation-overdue" in kinds(hilde)
    seen = {r["title"] for r in hilde["rows"] if r["kind"] == "measure-overdue"}
    assert "Tilrettelagt opplegg for ett fag" in seen


async def test_a_pending_invitation_names_only_people_the_reader_may_know_of(
    live: LiveServer, demo: Demo
) -> None:
    per = demo.per
    maria = demo.token(per, "maria")
    async with live.http(maria) as http:
        added = await http.post(
            f"/api/plans/{per['id']}/participants",
            json={"role": "service", "name": "Kari Berg", "organisation": "Frisklivssentralen"},
        )
        assert added.status_code == 201, added.text
        participant = added.json()["id"]
    # An invitation sent and not yet used (sending one needs a sign-in provider, which
    # tests/integration/test_invitations.py sets up; here the row is enough).
    async with live.services.sessionmaker() as s, s.begin():
        now = live.clock()
        s.add(
            Invitation(
                id="inv0worklist",
                token_hash="0" * 64,
                plan_id=per["id"],
                participant_id=participant,
                delivery="outbox",
                created_by=demo.person(per, "maria")["person"],
                created_at=now,
                expires_at=now + timedelta(days=7),
            )
        )
    rows = (await worklist(live, maria))["rows"]
    pending = [r for r in rows if r["kind"] == "invitation-pending"]
    assert [r["who"] for r in pending] == ["Kari Berg"]
    # A service does not follow the group's invitations.
    siw = await worklist(live, demo.token(per, "siw"))
    assert "invitation-pending" not in kinds(siw)
