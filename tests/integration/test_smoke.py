from __future__ import annotations

from tests.conftest import Demo, LiveServer


async def test_health_answers_ok_when_the_database_answers(live: LiveServer) -> None:
    async with live.http() as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_the_school_cannot_open_charlottes_therapy_section(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    therapy = demo.section(plan, "terapi")
    async with live.http(demo.token(plan, "skole")) as client:
        detail = (await client.get(f"/api/plans/{plan['id']}")).json()
        assert therapy["id"] not in {s["id"] for s in detail["sections"]}
        assert "Behandling" not in str(detail)
