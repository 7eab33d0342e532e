"""The coordinating unit (server/unit.py): every plan's status, caseloads, counts and
trends, as a page and CSV, and nothing of any plan's content: checked against the
plans' own texts, titles, measures and people."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from pycrdt import Doc, Text

from server.auth.identity import issue_token
from tests.conftest import Demo, LiveServer

DAY = 24 * 3600


async def plan_texts(live: LiveServer, demo: Demo) -> set[str]:
    """Everything in the demo plans a stranger must not learn: titles, section texts,
    measure titles and every participant's name except the coordinators'."""
    texts: set[str] = set()
    for plan in demo.data["plans"]:
        texts.add(plan["title"])
        texts |= {m["title"] for m in plan["measures"]}
        texts |= {s["title"] for s in plan["sections"] if s["key"] in ("terapi", "skolen")}
        texts |= {p["name"] for p in plan["participants"] if p["role"] != "coordinator"}
        hub = live.app.state.hub
        for section in plan["sections"]:
            doc = Doc()
            doc.apply_update(await hub.document_state(section["doc"]))
            for field in ("situation", "resources"):
                value = str(doc.get(field, type=Text))
                texts |= {line for line in value.split(". ") if len(line) > 12}
    return {t for t in texts if t}


async def test_the_unit_sees_every_plans_status_and_no_content(
    live: LiveServer, demo: Demo
) -> None:
    nora = demo.data["unit"]["token"]
    async with live.http(nora) as http:
        session = (await http.get("/api/session")).json()
        assert session["can"]["unit_overview"] is True
        page: dict[str, Any] = (await http.get("/api/unit")).json()
        exported = await http.get("/api/unit/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert len(page["rows"]) == 2 and page["counts"]["active"] == 2
    coordinators = {
        p["name"]
        for plan in demo.data["plans"]
        for p in plan["participants"]
        if p["role"] == "coordinator"
    }
    assert {name for r in page["rows"] for name in r["coordinators"]} == coordinators
    assert all(r["ref"].startswith("IP-") for r in page["rows"])
    assert sorted(c["plans"] for c in page["caseload"]) == [1, 1]
    assert len(page["trends"]) == 12 and page["trends"][-1]["plans_started"] == 2

    secrets = await plan_texts(live, demo)
    assert len(secrets) > 20
    shown = json.dumps(page, ensure_ascii=False) + exported.text
    leaked = [s for s in secrets if s in shown]
    assert leaked == []
    rows = list(csv.reader(io.StringIO(exported.text), delimiter=";"))
    assert rows[0][0] == "Plan" and len(rows) == 3

    # A year on without activity: evaluations overdue and the plans asleep.
    live.clock.advance(400 * DAY)
    async with live.services.sessionmaker() as s, s.begin():
        token = await issue_token(
            s, demo.data["unit"]["person"], kind="demo", ttl=timedelta(days=2), now=live.clock()
        )
    async with live.http(token) as http:
        later = (await http.get("/api/unit")).json()
    assert later["counts"]["evaluation_overdue"] == 2 and later["counts"]["sleeping"] == 2
    assert later["counts"]["evaluated_on_time"] == 0
    assert all(r["overdue_measures"] >= 1 for r in later["rows"])


async def test_only_the_unit_sees_the_overview(live: LiveServer, demo: Demo) -> None:
    for key in ("maria", "per", "siw"):
        async with live.http(demo.token(demo.per, key)) as http:
            assert (await http.get("/api/session")).json()["can"]["unit_overview"] is False
            for path in ("/api/unit", "/api/unit/export"):
                refused = await http.get(path)
                assert refused.status_code == 403, (key, path)
                assert "koordinerende enhet" in refused.json()["error"]["message"]


async def test_the_unit_appoints_a_coordinator_recording_the_owners_wish(
    live: LiveServer, demo: Demo
) -> None:
    per = demo.per
    plan = per["id"]
    body = {
        "name": "Eva Ny",
        "organisation": "Bydel Nord",
        "email": "eva.ny@example.org",
        "owner_wish": "Per ønsker en som kjenner boligen.",
    }
    async with live.http(demo.token(per, "maria")) as maria:
        refused = await maria.post(f"/api/unit/plans/{plan}/coordinator", json=body)
        assert refused.status_code == 403
    async with live.http(demo.data["unit"]["token"]) as nora:
        bad = await nora.post(
            f"/api/unit/plans/{plan}/coordinator", json=body | {"email": "ikke-en-adresse"}
        )
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "email"
        made = await nora.post(f"/api/unit/plans/{plan}/coordinator", json=body)
        assert made.status_code == 201, made.text
        assert made.json()["coordinator"] == "Eva Ny"
        page = (await nora.get("/api/unit")).json()
    row = next(r for r in page["rows"] if r["plan"] == plan)
    assert row["coordinators"] == ["Eva Ny"]
    # Exactly one coordinator: Maria has left the group; the owner is told who did it.
    async with live.http(demo.token(per, "maria")) as maria:
        assert (await maria.get(f"/api/plans/{plan}")).status_code == 404
    async with live.http(demo.token(per, "per")) as owner:
        told = (await owner.get("/api/notifications")).json()["notifications"]
        assert any("Koordinerende enhet" in n["text"] for n in told)
        group = (await owner.get(f"/api/plans/{plan}/participants")).json()
    coordinators = [p["name"] for p in group["participants"] if p["role"] == "coordinator"]
    assert coordinators == ["Eva Ny"]
