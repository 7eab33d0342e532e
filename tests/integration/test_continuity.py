"""Continuity (issue 13): the handover from one coordinator to the next end to end, a
deputy who sees what the coordinator sees only while standing in (live sessions too),
and transitions that put a review of consent and the group on the worklist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from collab.guardians import oslo_day
from server.db import repo
from server.db.models import ParticipantRow
from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error
from tests.integration.test_guardian_until import long_token
from tests.yclient import YClient

DAY = 24 * 3600


async def sign_in_as(live: LiveServer, participant: str, name: str) -> str:
    """Bind a new person to ``participant`` (as accepting an invitation does)."""
    async with live.services.sessionmaker() as s, s.begin():
        person = await repo.create_person(s, name, live.clock())
        row = await s.get(ParticipantRow, participant)
        assert row is not None
        row.person_id = person.id
    return await long_token(live, person.id)


async def test_a_handover_end_to_end(live: LiveServer, demo: Demo) -> None:
    per = demo.per
    plan = per["id"]
    maria_id = demo.person(per, "maria")["id"]
    maria = await long_token(live, demo.person(per, "maria")["person"])
    owner = await long_token(live, demo.person(per, "per")["person"])
    note = "Per liker å bli ringt før kl. 10. Sparingen følges opp med Siw i mars."
    async with live.http(maria) as out:
        assert (
            await out.put(f"/api/plans/{plan}/handover", json={"note": note})
        ).status_code == 200
        mine = (await out.get(f"/api/plans/{plan}/handover")).json()
        assert mine["handover"]["note"] == note and mine["can_write"] is True
    async with live.http(demo.token(per, "siw")) as siw:
        refused = await siw.put(f"/api/plans/{plan}/handover", json={"note": "x"})
        assert_error(refused, 403, "forbidden")
        assert (await siw.get(f"/api/plans/{plan}/handover")).json()["handover"] is None
    # The owner hands the role to Kari.
    async with live.http(owner) as per_http:
        handed = await per_http.post(
            f"/api/plans/{plan}/participants/{maria_id}/replace",
            json={"name": "Kari Ny", "organisation": "Bydel Nord", "email": "kari.ny@example.org"},
        )
        assert handed.status_code == 201, handed.text
    kari = await sign_in_as(live, handed.json()["id"], "Kari Ny")
    async with live.http(kari) as incoming:
        assert (await incoming.get(f"/api/plans/{plan}")).status_code == 200
        waiting = (await incoming.get(f"/api/plans/{plan}/handover")).json()
        assert waiting["handover"]["note"] == note and waiting["handover"]["from"] == "Maria Olsen"
        assert waiting["can_accept"] is True
        assert (await incoming.post(f"/api/plans/{plan}/handover/accept")).status_code == 200
        again = await incoming.post(f"/api/plans/{plan}/handover/accept")
        assert_error(again, 409, "conflict")
    async with live.http(maria) as gone:
        assert_error(await gone.get(f"/api/plans/{plan}"), 404, "not-found")
        assert_error(await gone.get(f"/api/plans/{plan}/handover"), 404, "not-found")
    async with live.http(owner) as per_http:
        told = (await per_http.get("/api/notifications")).json()["notifications"]
        assert any("Kari Ny har tatt over som koordinator" in n["text"] for n in told)
        lines = (await per_http.get(f"/api/plans/{plan}/access-log/lines?size=200")).json()
    texts = [line["text"] for line in lines["lines"]]
    assert any("Kari Ny" in t and "overlevering" in t for t in texts), texts[:10]


async def test_a_deputy_sees_what_the_coordinator_sees_only_while_standing_in(
    live: LiveServer, demo: Demo
) -> None:
    per = demo.per
    plan = per["id"]
    ali_id = demo.person(per, "ali")["id"]
    ali = await long_token(live, demo.person(per, "ali")["person"])
    owner = await long_token(live, demo.person(per, "per")["person"])
    bolig = demo.section(per, "bolig")
    doc = f"plan:{plan}:section:{bolig['id']}"

    async def level(token: str) -> str:
        async with live.http(token) as http:
            body: dict[str, Any] = (await http.get(f"/api/plans/{plan}")).json()
        levels = [s["access"] for s in body["sections"] if s["id"] == bolig["id"]]
        return levels[0] if levels else "none"

    assert await level(ali) == "none"
    today = oslo_day(live.clock())
    period = {
        "participant": ali_id,
        "starts": today.isoformat(),
        "ends": (today + timedelta(days=7)).isoformat(),
    }
    async with live.http(demo.token(per, "maria")) as maria:
        # Not the coordinator's own choice: the owner's.
        assert_error(
            await maria.post(f"/api/plans/{plan}/stand-ins", json=period), 403, "forbidden"
        )
    async with live.http(owner) as per_http:
        bad = dict(period, ends=today.isoformat())
        assert_error(
            await per_http.post(f"/api/plans/{plan}/stand-ins", json=bad), 400, "malformed"
        )
        siw_as_owner = dict(period, participant=demo.person(per, "per")["id"])
        assert_error(
            await per_http.post(f"/api/plans/{plan}/stand-ins", json=siw_as_owner), 409, "conflict"
        )
        made = await per_http.post(f"/api/plans/{plan}/stand-ins", json=period)
        assert made.status_code == 201, made.text
        assert made.json()["active"] is True
    assert await level(ali) != "none"
    client = YClient(live.url, ali)
    await client.connect()
    try:
        assert (await client.join(doc))["ok"]
        await client.wait_synced(doc)
        # The period ends: the poll notices the day and the live session loses the section.
        live.clock.advance(8 * DAY)
        await client.wait_for(lambda: doc in client.revoked, timeout=10)
        assert not (await client.join(doc))["ok"]
    finally:
        await client.close()
    assert await level(ali) == "none"


async def test_a_transition_puts_a_review_on_the_worklist(live: LiveServer, demo: Demo) -> None:
    per = demo.per
    plan = per["id"]
    maria = demo.token(per, "maria")
    async with live.http(maria) as http:
        day = oslo_day(live.clock()).isoformat()
        made = await http.post(
            f"/api/plans/{plan}/transitions", json={"kind": "leaving-hospital", "day": day}
        )
        assert made.status_code == 201, made.text
        bad = await http.post(f"/api/plans/{plan}/transitions", json={"kind": "x", "day": day})
        assert_error(bad, 400, "malformed")
        rows = (await http.get("/api/worklist")).json()["rows"]
        review = [r for r in rows if r["kind"] == "transition-review"]
        assert [(r["title"], r["href"]) for r in review] == [
            ("leaving-hospital", f"/plan/{plan}/gruppe")
        ]
        done = await http.post(f"/api/plans/{plan}/transitions/{made.json()['id']}/reviewed")
        assert done.status_code == 200
        rows = (await http.get("/api/worklist")).json()["rows"]
        assert "transition-review" not in [r["kind"] for r in rows]
    async with live.http(demo.token(per, "siw")) as siw:
        refused = await siw.post(
            f"/api/plans/{plan}/transitions", json={"kind": "moving", "day": day}
        )
        assert_error(refused, 403, "forbidden")
