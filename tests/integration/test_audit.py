"""The access log's hash chain: ``planrom audit verify`` finds edited and deleted entries."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.conftest import Demo, LiveServer

PLANROM = Path(sys.executable).parent / "planrom"


async def verify(live: LiveServer) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANROM_")}
    env["PLANROM_DATABASE_URL"] = live.settings.database_url
    process = await asyncio.create_subprocess_exec(
        str(PLANROM),
        "audit",
        "verify",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


async def sql(live: LiveServer, statement: str, **params: Any) -> list[Any]:
    async with live.services.engine.begin() as conn:
        result = await conn.execute(text(statement), params)
        return list(result.fetchall()) if result.returns_rows else []


async def write_entries(live: LiveServer, demo: Demo) -> None:
    """Opens, a change and a denial in both plans, through the API."""
    for plan, owner, outsider in ((demo.per, "per", "ali"), (demo.charlotte, "charlotte", "skole")):
        async with live.http(demo.token(plan, owner)) as client:
            assert (await client.get(f"/api/plans/{plan['id']}")).status_code == 200
            assert (
                await client.patch(f"/api/plans/{plan['id']}", json={"title": f"{plan['title']}!"})
            ).status_code == 200
        async with live.http(demo.token(plan, outsider)) as client:
            assert (await client.get(f"/api/plans/{plan['id']}/access-log")).status_code == 403
            assert (await client.get(f"/api/plans/{plan['id']}")).status_code == 200


async def test_verify_passes_on_an_untouched_log(live: LiveServer, demo: Demo) -> None:
    await write_entries(live, demo)
    rows = await sql(live, "SELECT count(*) FROM access_log")
    assert rows[0][0] == 8
    code, output = await verify(live)
    assert code == 0, output
    assert "intact" in output and "8 entries" in output


async def test_verify_names_the_plan_and_entry_whose_detail_or_actor_was_edited(
    live: LiveServer, demo: Demo
) -> None:
    await write_entries(live, demo)
    plan = demo.charlotte["id"]
    (original,) = await sql(
        live, "SELECT detail, actor FROM access_log WHERE plan_id = :p AND seq = 2", p=plan
    )
    await sql(
        live, "UPDATE access_log SET detail = 'ingenting' WHERE plan_id = :p AND seq = 2", p=plan
    )
    code, output = await verify(live)
    assert code == 1, output
    assert f"plan {plan}, entry 2 " in output and "changed" in output
    assert demo.per["id"] not in output  # the other plan's chain is intact
    await sql(
        live,
        "UPDATE access_log SET detail = :d WHERE plan_id = :p AND seq = 2",
        d=original[0],
        p=plan,
    )
    assert (await verify(live))[0] == 0
    await sql(
        live, "UPDATE access_log SET actor = 'Noen andre' WHERE plan_id = :p AND seq = 3", p=plan
    )
    code, output = await verify(live)
    assert code == 1 and f"plan {plan}, entry 3 " in output, output


async def test_verify_finds_a_deleted_entry(live: LiveServer, demo: Demo) -> None:
    await write_entries(live, demo)
    plan = demo.per["id"]
    await sql(live, "DELETE FROM access_log WHERE plan_id = :p AND seq = 2", p=plan)
    code, output = await verify(live)
    assert code == 1, output
    assert f"plan {plan}, entry 3 " in output and "expected entry 2" in output
    assert demo.charlotte["id"] not in output


async def test_verify_finds_a_forged_entry_that_copies_the_chain(
    live: LiveServer, demo: Demo
) -> None:
    await write_entries(live, demo)
    plan = demo.per["id"]
    # Renumber an entry and link it to its new predecessor: the hash no longer matches.
    await sql(live, "DELETE FROM access_log WHERE plan_id = :p AND seq = 2", p=plan)
    (prev,) = await sql(live, "SELECT hash FROM access_log WHERE plan_id = :p AND seq = 1", p=plan)
    await sql(
        live,
        "UPDATE access_log SET seq = 2, prev_hash = :h WHERE plan_id = :p AND seq = 3",
        h=prev[0],
        p=plan,
    )
    code, output = await verify(live)
    assert code == 1 and f"plan {plan}, entry 2 " in output, output


async def test_concurrent_requests_never_fork_the_chain(live: LiveServer, demo: Demo) -> None:
    plan = demo.charlotte
    tokens = [demo.token(plan, key) for key in ("charlotte", "hilde", "berit", "skole", "lege")]
    clients = [live.http(token) for token in tokens]
    try:
        responses = await asyncio.gather(
            *(client.get(f"/api/plans/{plan['id']}") for client in clients for _ in range(6))
        )
    finally:
        for client in clients:
            await client.aclose()
    assert [r.status_code for r in responses] == [200] * 30
    rows = await sql(
        live, "SELECT seq FROM access_log WHERE plan_id = :p ORDER BY seq", p=plan["id"]
    )
    assert [r[0] for r in rows] == list(range(1, 31))
    code, output = await verify(live)
    assert code == 0 and "30 entries" in output, output


async def test_verify_finds_a_removed_tail(live: LiveServer, demo: Demo) -> None:
    await write_entries(live, demo)
    plan = demo.charlotte["id"]
    newest = await sql(live, "SELECT max(seq) FROM access_log WHERE plan_id = :p", p=plan)
    await sql(
        live, "DELETE FROM access_log WHERE plan_id = :p AND seq = :s", p=plan, s=newest[0][0]
    )
    code, output = await verify(live)
    assert code == 1, output
    assert f"plan {plan}, entry {newest[0][0]} " in output and "removed" in output
    assert demo.per["id"] not in output


async def test_the_grounds_of_an_access_are_chained_and_a_forged_one_is_found(
    live: LiveServer, demo: Demo
) -> None:
    await write_entries(live, demo)
    plan = demo.per["id"]
    rows = await sql(
        live, "SELECT seq, grounds FROM access_log WHERE plan_id = :p ORDER BY seq", p=plan
    )
    # Per opened his plan as its owner; Ali (a service) under the consent in force.
    assert [g for _, g in rows][:2] == ["owner", "owner"]
    assert any(g.startswith("consent:") for _, g in rows)
    # A refusal has no grounds and hashes as every entry did before migration 0010...
    assert "" in [g for _, g in rows]
    first = rows[0][0]
    assert (await verify(live))[0] == 0
    # ...and giving an entry other grounds afterwards breaks the chain there.
    await sql(
        live,
        "UPDATE access_log SET grounds = 'consent:9:edit' WHERE plan_id = :p AND seq = :s",
        p=plan,
        s=first,
    )
    code, output = await verify(live)
    assert code == 1 and f"plan {plan}, entry {first} " in output, output
