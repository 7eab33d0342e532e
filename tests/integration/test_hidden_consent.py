"""A participant the owner hid from the group stays hidden from the coordinator in every
consent surface (issue 10): the consent list, a version she records and its answer, the
access log (raw and readable), the history and the notices — while the owner's versions keep
the hidden participant's grants intact. A version recorded by someone who cannot see every
row carries the rows they cannot see over unchanged (docs/protocol-notes.md)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import httpx
from pycrdt import Doc, Text

from server.db.auth_models import Invitation
from tests.conftest import Demo, LiveServer
from tests.integration.test_api_inputs import assert_error
from tests.integration.test_signatures import PDF, upload, with_grant
from tests.yclient import YClient


async def body_of(client: httpx.AsyncClient, url: str) -> Any:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.json()


def _for(grants: list[dict[str, str]], participant: str) -> list[dict[str, str]]:
    return sorted(
        (g for g in grants if g["participant"] == participant), key=lambda g: g["section"]
    )


async def test_the_coordinator_never_receives_a_hidden_participants_grants_and_keeps_them(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    pid = plan["id"]
    path = f"/api/plans/{pid}/consent"
    tone = demo.person(plan, "team")
    school = demo.person(plan, "skole")["id"]
    hilde = demo.person(plan, "hilde")["id"]
    crisis = demo.section(plan, "kriseplan")
    schools = demo.section(plan, "skolen")["id"]
    secrets = (tone["id"], str(tone["person"]), "Tone", "Vik", "Psykisk helseteam")
    async with (
        live.http(demo.token(plan, "charlotte")) as charlotte,
        live.http(demo.token(plan, "hilde")) as coordinator,
    ):
        before = await body_of(charlotte, path)
        tones = _for(before["grants"], tone["id"])
        assert tones, "the demo grants Tone something (so the check below could fail)"
        # Tone writes in the crisis plan; then Charlotte hides her from the group.
        hub = live.app.state.hub

        def note(d: Doc) -> None:
            d.get("situation", type=Text).insert(0, "Notat. ")

        await hub.edit_as(str(tone["person"]), crisis["doc"], note)
        async with live.http(demo.token(plan, "team")) as team:
            made = await team.post(
                f"/api/plans/{pid}/measures",
                json={"section": crisis["id"], "title": "Kriseplan gjennomgås"},
            )
            assert made.status_code == 201, made.text
        hidden = await charlotte.patch(
            f"/api/plans/{pid}/participants/{tone['id']}", json={"hidden": True}
        )
        assert hidden.status_code == 200, hidden.text

        # Hilde's consent list: every row but Tone's.
        seen = await body_of(coordinator, path)
        assert {g["participant"] for g in seen["grants"]} == {
            g["participant"] for g in before["grants"] if g["participant"] != tone["id"]
        }
        assert tone["id"] not in json.dumps(seen)

        # Hilde records a paper signature narrowing the school: the rows she sent are the
        # ones she saw; Tone's are carried over unchanged, and her answer names no Tone.
        form = await upload(coordinator, pid, PDF, "application/pdf")
        assert form.status_code == 201, form.text
        narrower = with_grant(seen["grants"], school, schools, "read")
        recorded = await coordinator.post(
            path,
            json={"purpose": "Skolen leser", "grants": narrower, "form": form.json()["id"]},
        )
        assert recorded.status_code == 201, recorded.text
        assert tone["id"] not in recorded.text
        assert _for(recorded.json()["grants"], school) == _for(narrower, school)
        owners = await body_of(charlotte, path)
        assert owners["version"] == recorded.json()["version"]
        assert _for(owners["grants"], tone["id"]) == tones  # intact
        assert _for(owners["grants"], school) == _for(narrower, school)  # the change made
        assert _for(owners["grants"], hilde) == _for(before["grants"], hilde)

        # A row naming Tone is refused exactly as a row naming nobody.
        named = await coordinator.post(
            path,
            json={
                "purpose": "x",
                "grants": [
                    *narrower,
                    {"participant": tone["id"], "section": schools, "level": "read"},
                ],
            },
        )
        nobody = await coordinator.post(
            path,
            json={
                "purpose": "x",
                "grants": [
                    *narrower,
                    {"participant": "nosuchperson1", "section": schools, "level": "read"},
                ],
            },
        )
        assert named.status_code == nobody.status_code == 400
        assert_error(named, 400, "malformed")
        assert named.text.replace(tone["id"], "nosuchperson1") == nobody.text
        assert _for((await body_of(charlotte, path))["grants"], tone["id"]) == tones

        # Charlotte narrows Tone alone: Hilde's log says a version was signed, but does
        # not count rows she cannot see (she could tell someone hidden was narrowed).
        current = await body_of(charlotte, path)
        dropped = _for(current["grants"], tone["id"])[0]
        narrowed = await charlotte.post(
            path,
            json={
                "purpose": current["purpose"],
                "grants": [g for g in current["grants"] if g != dropped],
            },
        )
        assert narrowed.status_code == 201, narrowed.text
        version = narrowed.json()["version"]

        def consent_rows(log: httpx.Response) -> list[str]:
            return [
                e["detail"]
                for e in log.json()["entries"]
                if e["target"] == "consent" and e["detail"].startswith(f"version {version} ")
            ]

        assert consent_rows(await charlotte.get(f"/api/plans/{pid}/access-log")) == [
            f"version {version} (in-app); narrowed 1 grant(s)"
        ]
        assert consent_rows(await coordinator.get(f"/api/plans/{pid}/access-log")) == [
            f"version {version} (in-app)"
        ]
        tones = [g for g in tones if g != dropped]

        # Charlotte withdraws Tone: the log's entry names her id, for Charlotte only.
        withdrawn = await charlotte.post(f"{path}/withdraw", json={"participant": tone["id"]})
        assert withdrawn.status_code == 200, withdrawn.text
        raw_owner = await charlotte.get(f"/api/plans/{pid}/access-log")
        assert tone["id"] in raw_owner.text  # the check below could fail
        surfaces = {
            "consent": await coordinator.get(path),
            "plan": await coordinator.get(f"/api/plans/{pid}"),
            "participants": await coordinator.get(f"/api/plans/{pid}/participants"),
            "log": await coordinator.get(f"/api/plans/{pid}/access-log"),
            "lines": await coordinator.get(f"/api/plans/{pid}/access-log/lines?size=200&own=1"),
            "csv": await coordinator.get(f"/api/plans/{pid}/access-log/export?format=csv"),
            "history": await coordinator.get(f"/api/plans/{pid}/history"),
            "notifications": await coordinator.get("/api/notifications"),
        }
        for name, response in surfaces.items():
            assert response.status_code == 200, (name, response.text)
            for secret in secrets:
                assert secret not in response.text, (name, secret)
        # Positive: Hilde's log and history are not empty, and Charlotte's name Tone.
        assert surfaces["log"].json()["entries"] and surfaces["history"].json()["history"]
        owner_lines = await charlotte.get(f"/api/plans/{pid}/access-log/lines?size=200")
        assert "Tone Vik" in owner_lines.text
        owner_history = await charlotte.get(f"/api/plans/{pid}/history")
        assert str(tone["person"]) in owner_history.text and tone["id"] in owner_history.text
        # Tone's measure is in Hilde's history, by nobody she may know of.
        mine = [h for h in surfaces["history"].json()["history"] if h["id"] == made.json()["id"]]
        assert mine and mine[0]["by"] is None


async def test_a_section_kept_from_the_coordinator_is_neither_shown_to_her_nor_dropped(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    pid = plan["id"]
    path = f"/api/plans/{pid}/consent"
    hilde = demo.person(plan, "hilde")["id"]
    berit = demo.person(plan, "berit")["id"]
    school = demo.person(plan, "skole")["id"]
    therapy = demo.section(plan, "terapi")["id"]
    schools = demo.section(plan, "skolen")["id"]
    async with (
        live.http(demo.token(plan, "charlotte")) as charlotte,
        live.http(demo.token(plan, "hilde")) as coordinator,
    ):
        given = await body_of(charlotte, path)
        kept = await charlotte.post(
            path,
            json={
                "purpose": "Hilde ser ikke behandlingen",
                "grants": with_grant(given["grants"], hilde, therapy, "none"),
            },
        )
        assert kept.status_code == 201, kept.text
        therapy_rows = [g for g in kept.json()["grants"] if g["section"] == therapy]
        assert any(g["participant"] == berit for g in therapy_rows)
        # Hilde's list: no row of the therapy section, not even its id.
        seen = await body_of(coordinator, path)
        assert therapy not in json.dumps(seen)
        assert {g["participant"] for g in seen["grants"]} >= {berit, school}
        # She records a paper signature narrowing the school: therapy's rows stay.
        form = await upload(coordinator, pid, PDF, "application/pdf")
        narrower = with_grant(seen["grants"], school, schools, "read")
        recorded = await coordinator.post(
            path, json={"purpose": "Skolen leser", "grants": narrower, "form": form.json()["id"]}
        )
        assert recorded.status_code == 201, recorded.text
        assert therapy not in recorded.text
        owners = await body_of(charlotte, path)
        assert [g for g in owners["grants"] if g["section"] == therapy] == therapy_rows
        assert _for(owners["grants"], school) == _for(narrower, school)
        # A row on the therapy section is refused as a row on no section.
        row = {"participant": school, "level": "read"}
        named = await coordinator.post(
            path, json={"purpose": "x", "grants": [*narrower, row | {"section": therapy}]}
        )
        nobody = await coordinator.post(
            path, json={"purpose": "x", "grants": [*narrower, row | {"section": "nosuchsect1"}]}
        )
        assert_error(named, 400, "malformed")
        assert named.text.replace(therapy, "nosuchsect1") == nobody.text
    # Berit opens the therapy section and her DPS measure: Hilde's access log tells that
    # Berit opened a section and a measure, not which (no id).
    measure = next(m for m in plan["measures"] if m["title"] == "Samtaler hos DPS")["id"]
    reader = YClient(live.url, demo.token(plan, "berit"))
    await reader.connect()
    try:
        doc = demo.section(plan, "terapi")["doc"]
        assert (await reader.join(doc))["ok"]
        await reader.wait_synced(doc)
    finally:
        await reader.close()
    async with (
        live.http(demo.token(plan, "berit")) as berits,
        live.http(demo.token(plan, "charlotte")) as charlotte,
        live.http(demo.token(plan, "hilde")) as coordinator,
    ):
        assert (await berits.get(f"/api/plans/{pid}/measures/{measure}")).status_code == 200
        owners = await charlotte.get(f"/api/plans/{pid}/access-log")
        assert therapy in owners.text and measure in owners.text
        log = await coordinator.get(f"/api/plans/{pid}/access-log")
        assert log.status_code == 200
        assert therapy not in log.text and measure not in log.text
        berit_person = str(demo.person(plan, "berit")["person"])
        targets = {e["target"] for e in log.json()["entries"] if e["person"] == berit_person}
        assert {"section", "measure"} <= targets


async def test_the_coordinator_re_inviting_does_not_uninvite_someone_hidden_from_her(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    pid = plan["id"]
    tone = demo.person(plan, "team")["id"]
    hilde = demo.person(plan, "hilde")["id"]
    lars = demo.person(plan, "lege")["id"]
    async with (
        live.http(demo.token(plan, "charlotte")) as charlotte,
        live.http(demo.token(plan, "hilde")) as coordinator,
    ):
        hidden = await charlotte.patch(
            f"/api/plans/{pid}/participants/{tone}", json={"hidden": True}
        )
        assert hidden.status_code == 200, hidden.text
        scheduled = await charlotte.post(
            f"/api/plans/{pid}/meetings",
            json={
                "starts_at": "2030-01-07T10:00:00+01:00",
                "invited": [hilde, tone],
                "agenda": "empty",
                "confirm_hidden": True,
            },
        )
        assert scheduled.status_code == 201, scheduled.text
        mid = scheduled.json()["id"]
        mine = (await coordinator.get(f"/api/meetings/{mid}")).json()["state"]
        assert tone not in json.dumps(mine)
        # Hilde re-sends the invitations she sees, with a new place: Tone stays invited.
        seen = [a["participant"] for a in mine["attendees"]]
        changed = await coordinator.patch(
            f"/api/meetings/{mid}", json={"invited": seen, "place": "Rom 2"}
        )
        assert changed.status_code == 200, changed.text
        assert tone not in changed.text
        owners = (await charlotte.get(f"/api/meetings/{mid}")).json()["state"]
        assert {tone, hilde} <= {a["participant"] for a in owners["attendees"]}
        # Adding Lars, who may not know of Tone, to her meeting is the owner's yes to give;
        # the refusal names nobody.
        added = await coordinator.patch(f"/api/meetings/{mid}", json={"invited": [*seen, lars]})
        assert added.status_code == 409, added.text
        assert tone not in added.text and "Tone" not in added.text
        confirmed = await charlotte.patch(
            f"/api/meetings/{mid}", json={"invited": [hilde, tone, lars], "confirm_hidden": True}
        )
        assert confirmed.status_code == 200, confirmed.text
        owners = (await charlotte.get(f"/api/meetings/{mid}")).json()["state"]
        assert {tone, hilde, lars} <= {a["participant"] for a in owners["attendees"]}
        # Once met, Hilde may reschedule it again without a new yes.
        again = await coordinator.patch(
            f"/api/meetings/{mid}", json={"invited": [*seen, lars], "place": "Rom 3"}
        )
        assert again.status_code == 200, again.text


async def test_the_coordinator_cannot_find_nor_revoke_a_hidden_participants_invitation(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    pid = plan["id"]
    async with (
        live.http(demo.token(plan, "charlotte")) as charlotte,
        live.http(demo.token(plan, "hilde")) as coordinator,
    ):
        added = await charlotte.post(
            f"/api/plans/{pid}/participants",
            json={"role": "service", "name": "Eva Ny", "service": "Rusteamet"},
        )
        assert added.status_code == 201, added.text
        tone = added.json()["id"]
        # An invitation Charlotte made (stored directly: sign-in services are not set up).
        inv = "invitation001"
        async with live.services.sessionmaker() as session, session.begin():
            session.add(
                Invitation(
                    id=inv,
                    token_hash=hashlib.sha256(b"eva").hexdigest(),
                    plan_id=pid,
                    participant_id=tone,
                    email="eva@example.org",
                    delivery="outbox",
                    created_by=str(demo.person(plan, "charlotte")["person"]),
                    created_at=live.clock(),
                    expires_at=live.clock() + timedelta(days=7),
                )
            )
        assert (
            await charlotte.patch(f"/api/plans/{pid}/participants/{tone}", json={"hidden": True})
        ).status_code == 200
        listed = await coordinator.get(f"/api/plans/{pid}/invitations")
        assert listed.status_code == 200 and inv not in listed.text and tone not in listed.text
        revoke = await coordinator.delete(f"/api/plans/{pid}/invitations/{inv}")
        missing = await coordinator.delete(f"/api/plans/{pid}/invitations/nosuchinvite1")
        assert (revoke.status_code, revoke.text) == (missing.status_code, missing.text)
        assert revoke.status_code == 404
        mine = (await charlotte.get(f"/api/plans/{pid}/invitations")).json()["invitations"]
        assert [i for i in mine if i["id"] == inv and i.get("revoked_at") is None]
