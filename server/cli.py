"""The ``planrom`` command: migrate, serve, demo, audit verify, doctor."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence

from server import settings as settings_module
from server.db import audit
from server.db.engine import make_engine, make_sessionmaker
from server.db.migrate import is_current, upgrade
from server.runtime import utcnow


async def _migrate() -> None:
    engine = make_engine(settings_module.from_env().database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _demo(as_json: bool) -> int:
    from server.demo import load_demo

    settings = settings_module.from_env()
    if not settings.demo:
        print(
            "planrom demo: demo mode is off. Set PLANROM_DEMO=1 to load demo data.", file=sys.stderr
        )
        return 2
    engine = make_engine(settings.database_url)
    try:
        if not await is_current(engine):
            await upgrade(engine)
        data = await load_demo(make_sessionmaker(engine), settings, utcnow())
    finally:
        await engine.dispose()
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(f"\nPlanrom demo loaded. Open {data['base_url']}/ and sign in with a link:\n")
    for plan in data["plans"]:
        print(f"  {plan['title']}")
        for p in plan["participants"]:
            print(f"    {p['name']:<16} {p['role']:<12} {p['login_url']}")
        print()
    unit = data["unit"]
    print("  Koordinerende enhet (every plan's status, no content)")
    print(f"    {unit['name']:<16} {'unit':<12} {unit['login_url']}\n")
    return 0


async def _audit_verify() -> int:
    engine = make_engine(settings_module.from_env().database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            count, breaks = await audit.verify(session)
    finally:
        await engine.dispose()
    if not breaks:
        print(f"access log intact: {count} entries checked")
        return 0
    for b in breaks:
        print(f"BROKEN: plan {b.plan_id}, entry {b.seq} (row id {b.row_id}): {b.reason}")
    return 1


async def _doctor(fix: bool) -> int:
    from server.db.docstore import doctor

    engine = make_engine(settings_module.from_env().database_url)
    try:
        if not await is_current(engine):
            await upgrade(engine)
        scanned, found = await doctor(make_sessionmaker(engine), fix=fix)
    finally:
        await engine.dispose()
    for p in found:
        what = "snapshot" if p.row is None else f"update {p.row}"
        done = (" (snapshot dropped)" if p.row is None else " (quarantined)") if fix else ""
        print(f"POISONED: {p.doc} {what}: {p.reason}{done}")
    print(f"{scanned} documents scanned, {len(found)} poisoned rows found")
    if found and not fix:
        print("run `planrom doctor --quarantine` to set them aside")
        return 1
    return 0


async def _unit_add(person: str) -> int:
    from server.db.models import Person
    from server.db.unit import add_member
    from server.runtime import utcnow

    engine = make_engine(settings_module.from_env().database_url)
    try:
        if not await is_current(engine):
            await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            found = await session.get(Person, person)
            if found is None:
                print(f"planrom unit add: no person {person!r} (they sign in once first)")
                return 1
            added = await add_member(session, person, "planrom unit add", utcnow())
    finally:
        await engine.dispose()
    print(f"{found.name} is {'now' if added else 'already'} in the coordinating unit")
    return 0


def _serve(host: str, port: int) -> int:
    import uvicorn

    from server.app import create_app

    try:
        settings = settings_module.from_env()
        settings_module.require_secret_key(settings)
    except settings_module.SettingsError as exc:
        print(f"planrom serve: {exc}", file=sys.stderr)
        return 2

    async def prepare() -> None:
        engine = make_engine(settings.database_url)
        try:
            if not await is_current(engine):
                await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    print(f"Planrom is running: open {settings.base_url}/", flush=True)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        ws_per_message_deflate=False,  # one compression per recipient does not scale
        proxy_headers=True,
        lifespan="on",
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(prog="planrom", description="Planrom server")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database to the current schema")
    serve = sub.add_parser("serve", help="serve HTTP and Socket.IO")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    demo = sub.add_parser("demo", help="load the demo plans (PLANROM_DEMO=1 only)")
    demo.add_argument("--json", action="store_true", help="print the demo data as JSON")
    audit_cmd = sub.add_parser("audit", help="access log tools")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the access log's hash chain")
    doctor = sub.add_parser(
        "doctor", help="find stored document rows that fail validation (ADR 0012)"
    )
    doctor.add_argument(
        "--quarantine", action="store_true", help="mark poisoned rows so they are never applied"
    )
    unit_cmd = sub.add_parser("unit", help="the coordinating unit (koordinerende enhet)")
    unit_sub = unit_cmd.add_subparsers(dest="unit_command", required=True)
    unit_add = unit_sub.add_parser("add", help="make a person a member of the unit")
    unit_add.add_argument("person", help="the person's id (they have signed in once)")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except settings_module.SettingsError as exc:
        print(f"planrom {args.command}: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "migrate":
        asyncio.run(_migrate())
        print("database is at the current schema")
        return 0
    if args.command == "serve":
        return _serve(args.host, args.port)
    if args.command == "demo":
        return asyncio.run(_demo(args.json))
    if args.command == "audit":
        return asyncio.run(_audit_verify())
    if args.command == "doctor":
        return asyncio.run(_doctor(args.quarantine))
    if args.command == "unit":
        return asyncio.run(_unit_add(args.person))
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
