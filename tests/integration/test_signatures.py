"""Signatures the owner really gave (issue 10, item 2): every consent version says how it
was given; a version recorded for the owner needs the signed form; nobody widens their own
access; the owner is told of every change she did not make and undoes it in one step;
a plan a coordinator starts grants nothing until the owner signs; only the owner or a
guardian adds a coordinator or delegates the chair."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from collab.docs import SectionDoc
from server.auth.identity import issue_token
from server.db import repo
from server.db.models import ConsentForm, Notification, ParticipantRow
from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings
from tests.integration.test_api_inputs import assert_error
from tests.yclient import YClient

PDF = b"%PDF-1.4\n% signert samtykkeskjema\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def live_outbox(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    server = await start_server(test_settings(db_url, outbox_dir=tmp_path / "outbox"))
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def demo_outbox(live_outbox: LiveServer) -> Demo:
    return await load_demo_into(live_outbox)


async def upload(client: httpx.AsyncClient, plan_id: str, data: bytes, kind: str) -> Any:
    return await client.post(
        f"/api/plans/{plan_id}/consent/forms", content=data, headers={"content-type": kind}
    )


async def consent(client: httpx.AsyncClient, plan_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/plans/{plan_id}/consent")
    assert response.status_code == 200, response.text
    return dict(response.json())


def with_grant(
    grants: list[dict[str, str]], participant: str, section: str, level: str
) -> list[dict[str, str]]:
    kept = [g for g in grants if not (g["participant"] == participant and g["section"] == section)]
    return (
        kept
        if level == "none"
        else [*kept, {"participant": participant, "section": section, "level": level}]
    )


def letters(live: LiveServer) -> list[Any]:
    return [
        message_from_bytes(p.read_bytes(), policy=email_policy.default)
        for p in sorted(live.settings.outbox_dir.glob("*.eml"))
    ]


async def test_charlottes_story_recorded_widening_needs_a_form_is_told_and_undone(
    live_outbox: LiveServer, demo_outbox: Demo
) -> None:
    live, demo = live_outbox, demo_outbox
    plan = demo.charlotte
    pid = plan["id"]
    path = f"/api/plans/{pid}/consent"
    hilde, school = demo.person(plan, "hilde")["id"], demo.person(plan, "skole")["id"]
    charlotte_id = demo.person(plan, "charlotte")["id"]
    therapy = demo.section(plan, "terapi")
    async with (
        live.http(demo.token(plan, "charlotte")) as charlotte,
        live.http(demo.token(plan, "hilde")) as coordinator,
        live.http(demo.token(plan, "skole")) as skole,
    ):
        # The demo's consent was signed by Charlotte herself, in Planrom.
        given = await consent(charlotte, pid)
        assert (given["method"], given["signed_by"], given["recorded_by"]) == (
            "in-app",
            charlotte_id,
            charlotte_id,
        )
        assert given["sign_in"] == "demo" and given["form"] is None
        # Charlotte gives her e-mail address, and narrows Hilde: therapy read only.
        patched = await charlotte.patch(
            f"/api/plans/{pid}/participants/{charlotte_id}",
            json={"email": "charlotte.berg@example.org"},
        )
        assert patched.status_code == 200, patched.text
        narrowed = await charlotte.post(
            path,
            json={
                "purpose": "Hilde trenger ikke å skrive om behandlingen",
                "grants": with_grant(given["grants"], hilde, therapy["id"], "read"),
            },
        )
        assert narrowed.status_code == 201, narrowed.text
        v3 = narrowed.json()
        assert v3["version"] == 3 and v3["method"] == "in-app" and v3["sign_in"] == "demo-token"
        # Nothing of Charlotte's own change reaches her as a notice.
        assert (await charlotte.get("/api/notifications")).json()["notifications"] == []

        # Hilde "records Charlotte's signature" giving herself edit and the school read on
        # therapy: refused, form or not — nobody widens their own access.
        wider = with_grant(
            with_grant(v3["grants"], hilde, therapy["id"], "edit"), school, therapy["id"], "read"
        )
        refused = await coordinator.post(path, json={"purpose": "Samtale", "grants": wider})
        assert refused.status_code == 403, refused.text
        assert "Ingen kan gi seg selv mer tilgang" in refused.json()["error"]["message"]
        form = await upload(coordinator, pid, PDF, "application/pdf")
        assert form.status_code == 201, form.text
        assert form.json() == {"id": form.json()["id"], "type": "application/pdf", "size": len(PDF)}
        refused = await coordinator.post(
            path, json={"purpose": "Samtale", "grants": wider, "form": form.json()["id"]}
        )
        assert_error(refused, 403, "forbidden")

        # The school's read on therapy alone, recorded without a form: refused (400).
        for_school = with_grant(v3["grants"], school, therapy["id"], "read")
        no_form = await coordinator.post(path, json={"purpose": "Samtale", "grants": for_school})
        error = assert_error(no_form, 400, "malformed")
        assert "signerte skjemaet" in error["message"]
        assert (await consent(charlotte, pid))["version"] == 3

        # With the signed form it takes effect at once, as a paper signature.
        recorded = await coordinator.post(
            path,
            json={"purpose": "Samtale 3. mars", "grants": for_school, "form": form.json()["id"]},
        )
        assert recorded.status_code == 201, recorded.text
        v4 = recorded.json()
        assert (v4["version"], v4["method"], v4["signed_by"], v4["recorded_by"]) == (
            4,
            "paper",
            charlotte_id,
            hilde,
        )
        assert v4["form"] == form.json() and v4["sign_in"] is None
        shown = await consent(charlotte, pid)
        assert shown["method"] == "paper" and shown["form"] == form.json()
        # A form is used once.
        again = await coordinator.post(
            path, json={"purpose": "Igjen", "grants": for_school, "form": form.json()["id"]}
        )
        assert_error(again, 409, "conflict")
        # The school reads therapy now, live.
        sync = YClient(live.url, demo.token(plan, "skole"))
        await sync.connect()
        try:
            ack = await sync.join(therapy["doc"])
            assert ack["ok"] is True and ack["access"] == "read", ack
            await sync.wait_synced(therapy["doc"])

            # Charlotte is told: in the app …
            notices = (await charlotte.get("/api/notifications")).json()
            assert notices["unread"] == 1
            notice = notices["notifications"][0]
            assert notice["plan"] == pid and notice["version"] == 4
            assert "Hilde Dahl" in notice["text"] and "koordinator" in notice["text"]
            # … and by e-mail, without health content.
            mails = [m for m in letters(live) if m["To"] == "charlotte.berg@example.org"]
            assert len(mails) == 1
            body = mails[0].get_body(preferencelist=("plain",)).get_content()
            assert "Hilde Dahl" in body and f"/plan/{pid}/samtykke" in body
            for secret in (
                therapy["title"],
                "DPS",
                "Behandling",
                "Skole",
                "Ola Strand",
                plan["title"],
                "lese",
            ):
                assert secret not in body and secret not in str(mails[0]["Subject"]), secret
            # Nobody else was told (Hilde made it; services are not told).
            assert {m["To"] for m in letters(live)} == {"charlotte.berg@example.org"}
            # The school and Hilde have no notices; Charlotte marks hers read.
            assert (await skole.get("/api/notifications")).json()["notifications"] == []
            assert_error(
                await coordinator.post(f"/api/notifications/{notice['id']}/read"), 404, "not-found"
            )
            read = await charlotte.post(f"/api/notifications/{notice['id']}/read")
            assert read.status_code == 200 and read.json()["read"] is True
            assert (await charlotte.get("/api/notifications")).json()["unread"] == 0

            # The form: Charlotte and Hilde download it; the school cannot.
            form_path = f"{path}/forms/{form.json()['id']}"
            got = await charlotte.get(form_path)
            assert got.status_code == 200 and got.content == PDF
            assert got.headers["content-type"] == "application/pdf"
            assert (await coordinator.get(form_path)).content == PDF
            assert_error(await skole.get(form_path), 404, "not-found")

            # Hilde cannot undo; Charlotte undoes in one step and the school's live
            # session loses the therapy section within a second.
            assert_error(await coordinator.post(f"{path}/4/undo"), 403, "forbidden")
            assert_error(await charlotte.post(f"{path}/3/undo"), 409, "conflict")
            started = time.monotonic()
            undone = await charlotte.post(f"{path}/4/undo")
            assert undone.status_code == 200, undone.text
            await sync.wait_for(lambda: therapy["doc"] in sync.revoked, timeout=1.0)
            assert time.monotonic() - started < 1.0
        finally:
            await sync.close()
        v5 = undone.json()
        assert v5["version"] == 5 and v5["kind"] == "undo" and v5["method"] == "in-app"
        assert v5["grants"] == v3["grants"] and v5["signed_by"] == charlotte_id
        assert_error(await charlotte.post(f"{path}/5/undo"), 409, "conflict")
        plan_now = (await skole.get(f"/api/plans/{pid}")).json()
        assert therapy["id"] not in {s["id"] for s in plan_now["sections"]}


async def test_hilde_cannot_widen_her_own_period_either(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    pid = plan["id"]
    now = live.clock()
    async with (
        live.http(demo.token(plan, "charlotte")) as charlotte,
        live.http(demo.token(plan, "hilde")) as coordinator,
    ):
        grants = (await consent(charlotte, pid))["grants"]
        short = await charlotte.post(
            f"/api/plans/{pid}/consent",
            json={
                "purpose": "Ett år",
                "grants": grants,
                "valid_from": (now - timedelta(hours=1)).isoformat(),
                "valid_to": (now + timedelta(days=365)).isoformat(),
            },
        )
        assert short.status_code == 201, short.text
        form = (await upload(coordinator, pid, PNG, "image/png")).json()
        assert form["type"] == "image/png"
        longer = await coordinator.post(
            f"/api/plans/{pid}/consent",
            json={
                "purpose": "Uten sluttdato",
                "grants": grants,
                "valid_from": (now - timedelta(hours=1)).isoformat(),
                "form": form["id"],
            },
        )
        assert_error(longer, 403, "forbidden")
        # Narrowing is recorded at once with the form.
        hilde = demo.person(plan, "hilde")["id"]
        fewer = [g for g in grants if g["participant"] != hilde]
        narrowed = await coordinator.post(
            f"/api/plans/{pid}/consent",
            json={
                "purpose": "Mindre",
                "grants": fewer,
                "valid_from": (now - timedelta(hours=1)).isoformat(),
                "valid_to": (now + timedelta(days=365)).isoformat(),
                "form": form["id"],
            },
        )
        assert narrowed.status_code == 201, narrowed.text
        sections = (await coordinator.get(f"/api/plans/{pid}")).json()["sections"]
        assert sections == []


async def test_form_uploads_are_bounded_and_sniffed(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    pid = plan["id"]
    async with (
        live.http(demo.token(plan, "hilde")) as coordinator,
        live.http(demo.token(plan, "skole")) as skole,
    ):
        big = b"%PDF-" + b"0" * (5 * 1024 * 1024)
        error = assert_error(
            await upload(coordinator, pid, big, "application/pdf"), 413, "too-large"
        )
        assert "større enn 5 MB" in error["message"]
        # A text file claiming to be a PDF, and an HTML page claiming to be a PNG.
        for data, claimed in ((b"hello, not a pdf", "application/pdf"), (b"<html>", "image/png")):
            error = assert_error(
                await upload(coordinator, pid, data, claimed), 415, "unsupported-media-type"
            )
            assert "PDF eller et bilde" in error["message"]
        assert_error(await upload(coordinator, pid, b"", "application/pdf"), 400, "malformed")
        jpeg = await upload(coordinator, pid, b"\xff\xd8\xff\xe0" + b"\x00" * 32, "text/plain")
        assert jpeg.status_code == 201 and jpeg.json()["type"] == "image/jpeg"
        # Services do not upload forms.
        assert_error(await upload(skole, pid, PDF, "application/pdf"), 403, "forbidden")
        async with live.services.sessionmaker() as session:
            stored = await session.scalar(select(func.count()).select_from(ConsentForm))
        assert stored == 1
        # At most ten unused forms wait at a time; after a day they are dropped.
        for _ in range(9):
            assert (await upload(coordinator, pid, PDF, "application/pdf")).status_code == 201
        error = assert_error(
            await upload(coordinator, pid, PDF, "application/pdf"), 409, "conflict"
        )
        assert "ikke er brukt" in error["message"]
        async with live.services.sessionmaker() as session, session.begin():
            await session.execute(
                update(ConsentForm).values(uploaded_at=live.clock() - timedelta(hours=25))
            )
        assert (await upload(coordinator, pid, PDF, "application/pdf")).status_code == 201
        async with live.services.sessionmaker() as session:
            stored = await session.scalar(select(func.count()).select_from(ConsentForm))
        assert stored == 1


async def test_a_plan_the_coordinator_starts_grants_nothing_until_the_owner_signs(
    live: LiveServer, demo: Demo
) -> None:
    maria = demo.token(demo.per, "maria")
    async with live.http(maria) as coordinator:
        created = await coordinator.post(
            "/api/plans", json={"title": "Olas plan", "as": "coordinator", "owner_name": "Ola"}
        )
        assert created.status_code == 201, created.text
        plan = created.json()
    pid = plan["id"]
    owner_id = next(p["id"] for p in plan["participants"] if p["role"] == "owner")
    coordinator_id = next(p["id"] for p in plan["participants"] if p["role"] == "coordinator")
    section = plan["sections"][0]
    doc = SectionDoc(pid, section["id"]).name
    # Ola signs in (bound here directly, as an accepted invitation would) and writes.
    async with live.services.sessionmaker() as session, session.begin():
        person = await repo.create_person(session, "Ola", live.clock())
        row = await session.get(ParticipantRow, owner_id)
        assert row is not None
        row.person_id = person.id
        token = await issue_token(
            session, person.id, kind="api", ttl=timedelta(hours=1), now=live.clock()
        )
    async with live.http(token) as ola, live.http(maria) as coordinator:
        measure = await ola.post(
            f"/api/plans/{pid}/measures", json={"section": section["id"], "title": "Olas tiltak"}
        )
        assert measure.status_code == 201, measure.text
        mid = measure.json()["id"]
        # The set-up: titles and the group; no consent, no measures, no content.
        assert_error(await coordinator.get(f"/api/plans/{pid}/consent"), 404, "not-found")
        detail = (await coordinator.get(f"/api/plans/{pid}")).json()
        assert len(detail["sections"]) == 12 and detail["measures"] == []
        assert {s["access"] for s in detail["sections"]} == {"none"}
        assert {s["doc"] for s in detail["sections"]} == {None}
        assert {p["role"] for p in detail["participants"]} == {"owner", "coordinator"}
        assert "Olas tiltak" not in str(detail)
        assert (await coordinator.get(f"/api/plans/{pid}/measures")).json()["measures"] == []
        assert_error(await coordinator.get(f"/api/plans/{pid}/measures/{mid}"), 404, "not-found")
        assert_error(
            await coordinator.post(
                f"/api/plans/{pid}/measures", json={"section": section["id"], "title": "Tiltak"}
            ),
            404,
            "not-found",
        )
        service = await coordinator.post(
            f"/api/plans/{pid}/participants",
            json={"role": "service", "name": "NAV Ola", "email": "nav@example.org"},
        )
        assert service.status_code == 201
        sync = YClient(live.url, maria)
        await sync.connect()
        try:
            ack = await sync.join(doc)
            assert ack["ok"] is False and ack["error"]["code"] == "not-found"
            # Ola signs the first consent himself, in Planrom.
            signed = await ola.post(
                f"/api/plans/{pid}/consent",
                json={
                    "purpose": "Samarbeid",
                    "grants": [
                        {"participant": coordinator_id, "section": section["id"], "level": "read"}
                    ],
                },
            )
            assert signed.status_code == 201, signed.text
            assert (signed.json()["method"], signed.json()["sign_in"]) == ("in-app", "token")
            ack = await sync.join(doc)
            assert ack["ok"] is True and ack["access"] == "read", ack
        finally:
            await sync.close()
        after = (await coordinator.get(f"/api/plans/{pid}")).json()
        # Consent in force: only the consented section, now with its content.
        assert [s["id"] for s in after["sections"]] == [section["id"]]
        assert [m["title"] for m in after["measures"]] == ["Olas tiltak"]
    async with live.services.sessionmaker() as session:
        told = (await session.execute(select(Notification))).scalars().all()
    assert told == []  # Ola made the change himself


async def test_only_the_owner_adds_a_coordinator_or_delegates_the_chair(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    pid = plan["id"]
    school = demo.person(plan, "skole")["id"]
    hilde_id = demo.person(plan, "hilde")["id"]
    starts = (live.clock() + timedelta(days=3)).replace(microsecond=0)
    meeting = {
        "starts_at": starts.isoformat(),
        "invited": [hilde_id, school],
        "agenda": "empty",
        "chair": school,
    }
    async with (
        live.http(demo.token(plan, "hilde")) as coordinator,
        live.http(demo.token(plan, "charlotte")) as charlotte,
    ):
        second = {"role": "coordinator", "name": "Kari Ny"}
        error = assert_error(
            await coordinator.post(f"/api/plans/{pid}/participants", json=second), 403, "forbidden"
        )
        assert "koordinator" in error["message"]
        assert_error(
            await coordinator.patch(
                f"/api/plans/{pid}/participants/{hilde_id}", json={"active": False}
            ),
            403,
            "forbidden",
        )
        assert_error(
            await coordinator.post(f"/api/plans/{pid}/meetings", json=meeting), 403, "forbidden"
        )
        without_chair = {k: v for k, v in meeting.items() if k != "chair"}
        scheduled = await coordinator.post(f"/api/plans/{pid}/meetings", json=without_chair)
        assert scheduled.status_code == 201, scheduled.text
        mid = scheduled.json()["id"]
        assert_error(
            await coordinator.post(f"/api/meetings/{mid}/chair", json={"participant": school}),
            403,
            "forbidden",
        )
        # Charlotte may do all of it; a second coordinator beside Hilde is refused (one
        # responsible coordinator at a time: the role is handed over instead).
        doubled = await charlotte.post(f"/api/plans/{pid}/participants", json=second)
        assert_error(doubled, 409, "conflict")
        assert "Gi rollen videre" in doubled.json()["error"]["message"]
        # Nor can the last coordinator be removed.
        last = await charlotte.patch(
            f"/api/plans/{pid}/participants/{hilde_id}", json={"active": False}
        )
        assert_error(last, 409, "conflict")
        handed = await charlotte.post(f"/api/meetings/{mid}/chair", json={"participant": school})
        assert handed.status_code == 200, handed.text
        assert handed.json()["state"]["chair"] == school
        chaired = await charlotte.post(f"/api/plans/{pid}/meetings", json=meeting)
        assert chaired.status_code == 201, chaired.text
