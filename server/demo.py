"""The demo plans from PRODUCT.md's stories: Per's and Charlotte's.

Loaded by ``planrom demo`` only in demo mode. Each person gets a 24-hour bearer token
and a sign-in link. All names are invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pycrdt import Doc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collab import meeting as sm
from collab.consent import ConsentVersion, Grant, SignMethod
from collab.docs import MeasureDoc, SectionDoc
from collab.editing import GoalSeed, fill_measure, fill_section, make_edit, new_client_id
from collab.model import (
    DEFAULT_SECTIONS,
    Level,
    MeasureStatus,
    Role,
    SectionKind,
    add_months,
    new_id,
)
from server import meeting_service
from server.auth.identity import issue_token
from server.db import repo
from server.db.docstore import SqlDocStore
from server.db.models import MeasureRow, ParticipantRow
from server.db.unit import add_member as add_unit_member
from server.settings import Settings

TOKEN_TTL = timedelta(hours=24)


@dataclass
class _Person:
    key: str
    name: str
    role: Role
    organisation: str = ""
    service: str = ""
    title: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class _Measure:
    key: str
    section: str
    title: str
    responsible: str
    frequency: str
    description: str
    goals: tuple[str, ...] = ()
    progress: tuple[tuple[str, str], ...] = ()
    status: MeasureStatus = MeasureStatus.ACTIVE


@dataclass
class _Story:
    title: str
    people: list[_Person]
    extra_sections: list[tuple[str, str]]  # (key, title)
    texts: dict[str, tuple[str, str]]  # section key → (situation, resources)
    goals: list[GoalSeed]
    measures: list[_Measure]
    # participant key → section key → level; sections not named: none
    grants: dict[str, dict[str, Level]]
    purpose: str
    place: str = ""
    months_ago: int = 5
    loaded: dict[str, Any] = field(default_factory=dict)


def _per() -> _Story:
    return _Story(
        title="Pers plan",
        people=[
            _Person("per", "Per Hansen", Role.OWNER),
            _Person(
                "maria",
                "Maria Olsen",
                Role.COORDINATOR,
                "Bydel Nord",
                "Bolig med oppfølging",
                "Miljøterapeut",
                "400 00 001",
                "maria.olsen@example.org",
            ),
            _Person(
                "siw",
                "Siw Nilsen",
                Role.SERVICE,
                "NAV Nord",
                "NAV",
                "Veileder",
                "400 00 002",
                "siw.nilsen@example.org",
            ),
            _Person(
                "ali",
                "Ali Karim",
                Role.SERVICE,
                "Bydel Nord",
                "Dagsenteret",
                "Leder av dagsenteret",
                "400 00 003",
                "ali.karim@example.org",
            ),
        ],
        extra_sections=[],
        texts={
            "om-meg": (
                "Jeg er 47 år og bor i en bolig med oppfølging. Jeg liker å gå tur og "
                "høre på musikk.",
                "Jeg er god til å lage mat og er en trofast venn.",
            ),
            "arbeid": ("Dagene er lange. Jeg vil ha mer å gjøre.", ""),
            "okonomi": ("Pengene tar slutt før måneden er over.", ""),
        },
        goals=[
            GoalSeed("ghyggelig", "main", "Jeg vil ha flere hyggelige ting å gjøre."),
            GoalSeed("gdagsenter", "sub", "Være på dagsenteret to faste dager i uka.", "ghyggelig"),
            GoalSeed("gferie", "main", "Jeg vil på ferie."),
            GoalSeed("gspare", "sub", "Spare 500 kroner i måneden til ferien.", "gferie"),
        ],
        measures=[
            _Measure(
                "dagsenter",
                "arbeid",
                "Dagsenter faste dager i liten gruppe",
                "ali",
                "Tirsdag og torsdag",
                "Per er med i en liten gruppe på dagsenteret.",
                ("gdagsenter",),
            ),
            _Measure(
                "sms",
                "arbeid",
                "Leder på dagsenteret sender SMS om morgenen",
                "ali",
                "Tirsdag og torsdag kl. 08",
                "En kort melding for å minne om dagen.",
                ("gdagsenter",),
            ),
            _Measure(
                "buss",
                "bolig",
                "Følge Per til bussen",
                "maria",
                "Dagsenterdagene",
                "Personalet i boligen følger Per til bussen.",
                ("gdagsenter",),
            ),
            _Measure(
                "sparing",
                "okonomi",
                "Automatisk sparing 500 kr i måneden",
                "siw",
                "Hver måned",
                "NAV setter opp fast trekk til sparekonto.",
                ("gspare",),
                (("2026-09-01", "Sparekonto opprettet."),),
            ),
        ],
        grants={
            "siw": {"mal": Level.READ, "okonomi": Level.EDIT, "arbeid": Level.READ},
            "ali": {"mal": Level.READ, "arbeid": Level.OWN, "om-meg": Level.READ},
        },
        purpose="Samarbeid om Pers individuelle plan i ansvarsgruppen.",
        place="Boligen, fellesstua",
    )


def _charlotte() -> _Story:
    return _Story(
        title="Charlottes plan",
        people=[
            _Person("charlotte", "Charlotte Berg", Role.OWNER),
            _Person(
                "hilde",
                "Hilde Dahl",
                Role.COORDINATOR,
                "Sosialtjenesten",
                "Sosialtjenesten",
                "Sosionom",
                "400 00 011",
                "hilde.dahl@example.org",
            ),
            _Person(
                "lege",
                "Lars Moe",
                Role.SERVICE,
                "Legesenteret",
                "Fastlege",
                "Lege",
                "400 00 012",
                "lars.moe@example.org",
            ),
            _Person(
                "berit",
                "Berit Lund",
                Role.SERVICE,
                "DPS Sør",
                "DPS",
                "Psykolog",
                "400 00 013",
                "berit.lund@example.org",
            ),
            _Person(
                "team",
                "Tone Vik",
                Role.SERVICE,
                "Psykisk helsetjeneste",
                "Psykisk helseteam",
                "Psykiatrisk sykepleier",
                "400 00 014",
                "tone.vik@example.org",
            ),
            _Person(
                "skole",
                "Ola Strand",
                Role.SERVICE,
                "Sørbyen videregående skole",
                "Skole",
                "Rådgiver",
                "400 00 015",
                "ola.strand@example.org",
            ),
        ],
        extra_sections=[("terapi", "Behandling hos DPS"), ("skolen", "Skole")],
        texts={
            "om-meg": (
                "Jeg er 19 år. Jeg sluttet på skolen i fjor.",
                "Jeg tegner og er flink med dyr.",
            ),
            "terapi": ("Samtaler hos DPS annenhver uke.", ""),
            "skolen": ("Plan for å ta opp igjen fag.", ""),
        },
        goals=[
            GoalSeed("gskole", "main", "Jeg vil fullføre videregående."),
            GoalSeed("gfag", "sub", "Ta opp ett fag til våren.", "gskole"),
            GoalSeed("gsove", "main", "Jeg vil sove bedre."),
        ],
        measures=[
            _Measure(
                "samtaler", "terapi", "Samtaler hos DPS", "berit", "Annenhver uke", "Samtaleterapi."
            ),
            _Measure(
                "fag",
                "skolen",
                "Tilrettelagt opplegg for ett fag",
                "skole",
                "Tre timer i uka",
                "Skolen lager et eget opplegg.",
                ("gfag",),
            ),
            _Measure(
                "legetime",
                "fysisk-helse",
                "Fast legetime",
                "lege",
                "Hver måned",
                "Oppfølging av søvn og helse.",
                ("gsove",),
            ),
        ],
        grants={
            "lege": {"fysisk-helse": Level.EDIT, "kriseplan": Level.READ, "mal": Level.READ},
            "berit": {
                "terapi": Level.EDIT,
                "psykisk-helse": Level.EDIT,
                "mal": Level.READ,
                "kriseplan": Level.READ,
            },
            "team": {"psykisk-helse": Level.READ, "kriseplan": Level.EDIT, "mal": Level.READ},
            "skole": {"skolen": Level.EDIT, "mal": Level.READ, "om-meg": Level.READ},
        },
        # Every participant reads the purpose, so it names no section: the school must not
        # learn from it that there is a therapy section at all.
        purpose="Samarbeid om Charlottes plan i ansvarsgruppen.",
        place="Sosialtjenesten, møterom 2",
    )


async def _seed_doc(
    store: SqlDocStore, session_person: str, name: str, edit: Callable[[Doc], None]
) -> None:
    client_id = new_client_id()
    await store.bind_client(client_id, session_person)
    await store.append(
        name, make_edit(None, client_id, edit), person=session_person, origin="server"
    )


async def _load_story(
    sessionmaker: async_sessionmaker[AsyncSession],
    store: SqlDocStore,
    story: _Story,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    async with sessionmaker() as s, s.begin():
        persons = {
            p.key: await repo.create_person(s, p.name, now, p.email or None) for p in story.people
        }
        owner = next(p for p in story.people if p.role is Role.OWNER)
        coordinator = next(p for p in story.people if p.role is Role.COORDINATOR)
        start = add_months(now.date(), -story.months_ago)
        sections = [(t.key, t.kind, t.title) for t in DEFAULT_SECTIONS]
        sections[-2:-2] = [(k, SectionKind.CUSTOM, t) for k, t in story.extra_sections]
        plan = await repo.create_plan(
            s,
            title=story.title,
            owner_name=owner.name,
            owner_person=persons[owner.key].id,
            coordinator={
                "name": coordinator.name,
                "organisation": coordinator.organisation,
                "service": coordinator.service,
                "title": coordinator.title,
                "phone": coordinator.phone,
                "email": coordinator.email,
            },
            coordinator_person=persons[coordinator.key].id,
            period_from=start,
            evaluation_months=6,
            by=persons[coordinator.key].id,
            at=now,
            sections=sections,
        )
        ctx = await repo.load_context(s, plan.id, now)
        assert ctx is not None
        section_by_key = {sec.key: sec for sec in ctx.sections.values()}
        participant_ids = {
            owner.key: next(p.id for p in ctx.plan.participants if p.role is Role.OWNER),
            coordinator.key: next(
                p.id for p in ctx.plan.participants if p.role is Role.COORDINATOR
            ),
        }
        for p in story.people:
            if p.key in participant_ids:
                continue
            row = ParticipantRow(
                id=new_id(),
                plan_id=plan.id,
                person_id=persons[p.key].id,
                role=p.role.value,
                name=p.name,
                organisation=p.organisation,
                service=p.service,
                title=p.title,
                phone=p.phone,
                email=p.email,
                active=True,
            )
            await repo.record(
                s, row, plan_id=plan.id, change="create", by=persons[coordinator.key].id, at=now
            )
            participant_ids[p.key] = row.id
        grants = [
            Grant(participant_ids[coordinator.key], sec.id, Level.EDIT)
            for sec in ctx.sections.values()
        ]
        # The demo's owners sign their own consent in Planrom, with the demo sign-in: first
        # the coordinator alone (when the plan was started), then the whole group.
        first = ConsentVersion(
            plan=plan.id,
            version=1,
            signed_by=participant_ids[owner.key],
            recorded_by=participant_ids[owner.key],
            signed_at=now - timedelta(days=2),
            purpose="Samarbeid om individuell plan",
            valid_from=now - timedelta(days=2),
            valid_to=None,
            grants=tuple(sorted(grants, key=lambda g: (g.participant, g.section))),
            method=SignMethod.IN_APP,
            sign_in="demo",
        )
        await repo.add_consent(s, first, recorded_by_person=persons[owner.key].id)
        for who, levels in story.grants.items():
            grants += [
                Grant(participant_ids[who], section_by_key[k].id, level)
                for k, level in levels.items()
            ]
        await repo.add_consent(
            s,
            replace(
                first,
                version=2,
                signed_at=now,
                purpose=story.purpose,
                valid_from=now - timedelta(days=1),
                grants=tuple(sorted(grants, key=lambda g: (g.participant, g.section))),
            ),
            recorded_by_person=persons[owner.key].id,
        )
        measure_rows: dict[str, MeasureRow] = {}
        for m in story.measures:
            measure_row = MeasureRow(
                id=new_id(),
                plan_id=plan.id,
                section_id=section_by_key[m.section].id,
                title=m.title,
                responsible_id=participant_ids[m.responsible],
                goal_ids=list(m.goals),
                frequency=m.frequency,
                starts=start,
                ends=None,
                status=m.status.value,
                evaluate_by=add_months(start, 6),
            )
            await repo.record(
                s,
                measure_row,
                plan_id=plan.id,
                change="create",
                by=persons[coordinator.key].id,
                at=now,
            )
            measure_rows[m.key] = measure_row
        # The next responsibility-group meeting, tomorrow at 10 (Oslo time), with the
        # measures on the agenda and every participant invited.
        fresh = await repo.load_context(s, plan.id, now)
        assert fresh is not None
        oslo = ZoneInfo("Europe/Oslo")
        local = (now.astimezone(oslo) + timedelta(days=1)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        agenda = [
            sm.AgendaItem(new_id(), r.title, r.section_id, sm.ItemKind.MEASURE, r.id)
            for r in measure_rows.values()
        ]
        agenda.append(
            sm.AgendaItem(
                new_id(), "Neste møte", section_by_key["koordinering"].id, sm.ItemKind.FREE
            )
        )
        meeting = await meeting_service.schedule(
            s,
            fresh,
            title="Ansvarsgruppemøte",
            kind="group",
            starts_at=local,
            ends_at=local + timedelta(hours=1),
            place=story.place,
            video_url="",
            invited=[participant_ids[p.key] for p in story.people if p.role is not Role.OWNER],
            chair=None,
            agenda=agenda,
            by=persons[coordinator.key].id,
            now=now,
        )
        tokens = {
            p.key: await issue_token(s, persons[p.key].id, kind="demo", ttl=TOKEN_TTL, now=now)
            for p in story.people
        }
    # The co-edited text: written by the owner (their own words) and the services.
    owner_person = persons[owner.key].id
    goal_section = section_by_key["mal"]
    for key, (situation, resources) in story.texts.items():
        measures_here = [
            r.id
            for m, r in measure_rows.items()
            if next(x for x in story.measures if x.key == m).section == key
        ]
        await _seed_doc(
            store,
            owner_person,
            SectionDoc(plan.id, section_by_key[key].id).name,
            fill_section(situation, resources, measures=measures_here),
        )
    await _seed_doc(
        store,
        owner_person,
        SectionDoc(plan.id, goal_section.id).name,
        fill_section(goals=story.goals),
    )
    for m in story.measures:
        responsible_person = persons[m.responsible].id
        await _seed_doc(
            store,
            responsible_person,
            MeasureDoc(plan.id, measure_rows[m.key].id).name,
            fill_measure(m.description, m.progress),
        )
    ordered = sorted(ctx.sections.values(), key=lambda sec: sec.position)
    return {
        "id": plan.id,
        "title": story.title,
        "owner": participant_ids[owner.key],
        "sections": [
            {
                "id": sec.id,
                "title": sec.title,
                "key": sec.key,
                "doc": SectionDoc(plan.id, sec.id).name,
            }
            for sec in ordered
        ],
        "measures": [
            {
                "id": r.id,
                "title": r.title,
                "section": r.section_id,
                "responsible": r.responsible_id,
                "doc": MeasureDoc(plan.id, r.id).name,
            }
            for r in measure_rows.values()
        ],
        "meetings": [
            {
                "id": meeting.id,
                "status": meeting.status,
                "title": meeting.title,
                "starts_at": meeting.starts_at.isoformat(),
            }
        ],
        "participants": [
            {
                "id": participant_ids[p.key],
                "person": persons[p.key].id,
                "key": p.key,
                "name": p.name,
                "role": p.role.value,
                "token": tokens[p.key],
                "login_url": f"{settings.base_url}/auth/demo/{tokens[p.key]}",
            }
            for p in story.people
        ],
    }


async def load_demo(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> dict[str, Any]:
    """Load both stories; returns the JSON object of PROTOCOL.md ("Demo data")."""
    if not settings.demo:
        raise PermissionError("demo mode is off: set PLANROM_DEMO=1")
    store = SqlDocStore(sessionmaker)
    plans = [
        await _load_story(sessionmaker, store, story, settings, now)
        for story in (_per(), _charlotte())
    ]
    # The municipality's coordinating unit: every plan's status, none of their content.
    async with sessionmaker() as s, s.begin():
        person = await repo.create_person(s, "Nora Dahl", now, "nora.dahl@example.org")
        await add_unit_member(s, person.id, "demo", now)
        token = await issue_token(s, person.id, kind="demo", ttl=TOKEN_TTL, now=now)
    unit = {
        "person": person.id,
        "name": person.name,
        "token": token,
        "login_url": f"{settings.base_url}/auth/demo/{token}",
    }
    return {"base_url": settings.base_url, "plans": plans, "unit": unit}
