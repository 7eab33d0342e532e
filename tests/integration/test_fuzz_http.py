"""Hostile HTTP input: schemathesis generates requests from ``/api/openapi.json`` and sends
them to a live server as the owner of a plan, as a participating service, and with no
credentials; hypothesis also fuzzes the sign-in and invitation pages (which the OpenAPI
document does not describe). No answer may be a 5xx, every refusal must be the contract's
JSON error, the server must keep serving, and no change may be accepted that policy does
not allow (checked afterwards in the database).

The server runs in a background thread with its own event loop, because schemathesis and
hypothesis drive synchronous test functions. The number of cases is bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from server.db.engine import make_engine
from server.db.migrate import upgrade
from server.db.models import ConsentRow, RecordVersion
from server.settings import OIDCProvider
from tests import conftest
from tests.background import Background
from tests.conftest import Demo, LiveServer, load_demo_into

T = TypeVar("T")
CASES_PER_OPERATION = 10  # per identity
PAGE_CASES = 150
KEBAB = re.compile(r"^[a-z]+(-[a-z]+)*$")


@dataclass
class Target:
    bg: Background
    server: LiveServer
    demo: Demo
    known: dict[str, list[str]]
    stats: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1


async def _up(db: Path, outbox: Path) -> tuple[LiveServer, Demo, dict[str, list[str]]]:
    url = f"sqlite+aiosqlite:///{db}"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    # A sign-in provider that does not answer: the sign-in pages must still hold up.
    dead = OIDCProvider(
        issuer=f"http://127.0.0.1:{conftest.free_port()}",
        client_id="x",
        client_secret="y",
        identity_claim="pid",
    )
    server = await conftest.start_server(
        conftest.test_settings(
            url,
            rate_write=(1_000_000, 60.0),
            rate_invite=(1_000_000, 60.0),
            rate_start_plan=(1_000_000, 60.0),
            rate_sign_in=(1_000_000, 60.0),
            rate_costly_read=(1_000_000, 60.0),
            rate_render=(1_000_000, 60.0),
            rate_refused=(1_000_000, 60.0),
            outbox_dir=outbox,
            oidc_citizen=dead,
        )
    )
    demo = await load_demo_into(server)
    plans = [demo.per, demo.charlotte]
    known = {
        "plan": [p["id"] for p in plans],
        "section": [s["id"] for p in plans for s in p["sections"]],
        "participant": [x["id"] for p in plans for x in p["participants"]],
        "measure": [m["id"] for p in plans for m in p["measures"]],
        "meeting": [m["id"] for p in plans for m in p["meetings"]],
    }
    return server, demo, known


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    work = tmp_path_factory.mktemp("fuzz-http")
    bg = Background()
    server, demo, known = bg.run(_up(work / "planrom.sqlite3", work / "outbox"))
    found = Target(bg, server, demo, known)
    try:
        yield found
    finally:
        bg.run(server.stop())
        bg.close()
        print(f"\nHTTP fuzzing: {json.dumps(found.stats, sort_keys=True)}")


def _check_reply(status: int, content_type: str | list[str], body: bytes, what: str) -> None:
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    assert status < 500, f"{what}: {status} {body[:300]!r}"
    if status >= 400 and content_type.startswith("application/json"):
        error = json.loads(body)["error"]
        assert KEBAB.match(error["code"]) and isinstance(error["message"], str), (what, body)


async def _max_version_id(t: Target) -> int:
    async with t.server.services.sessionmaker() as db:
        return int(await db.scalar(select(func.max(RecordVersion.id))) or 0)


async def _changes_since(t: Target, first: int) -> list[RecordVersion]:
    async with t.server.services.sessionmaker() as db:
        rows = await db.execute(select(RecordVersion).where(RecordVersion.id > first))
        return list(rows.scalars())


async def _consent_recorders(t: Target) -> dict[str, set[str]]:
    async with t.server.services.sessionmaker() as db:
        rows = await db.execute(select(ConsentRow.plan_id, ConsentRow.recorded_by_person))
        out: dict[str, set[str]] = {}
        for plan, who in rows.all():
            out.setdefault(plan, set()).add(who)
        return out


def _fuzz_operation(target: Target, operation: Any, identity: str, headers: dict[str, str]) -> None:
    @settings(
        max_examples=CASES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), real=st.booleans(), pick=st.integers(0, 10_000))
    def run(case: schemathesis.Case[Any], real: bool, pick: int) -> None:
        if real:  # aim at records that exist, so that policy is what answers
            for name in list(case.path_parameters):
                choices = target.known.get(name)
                if choices:
                    case.path_parameters[name] = choices[pick % len(choices)]
        response = case.call(headers=headers, timeout=30)
        target.count("api cases")
        target.count(f"api {response.status_code}")
        _check_reply(
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
            f"{identity} {case.method} {case.formatted_path}",
        )

    run()


def test_schemathesis_finds_no_server_error_and_no_unauthorised_change(target: Target) -> None:
    demo = target.demo
    per_plan, charlotte = demo.per, demo.charlotte
    identities = {
        "owner": demo.token(per_plan, "per"),
        "service": demo.token(per_plan, "siw"),
        "anonymous": None,
    }
    first_version = target.bg.run(_max_version_id(target))
    consent_before = target.bg.run(_consent_recorders(target))
    schema = schemathesis.openapi.from_url(f"{target.server.url}/api/openapi.json")
    operations = [cast(Any, result).ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        for identity, token in identities.items():
            headers = {"authorization": f"Bearer {token}"} if token else {}
            _fuzz_operation(target, operation, identity, headers)

    async def health() -> int:
        async with httpx.AsyncClient(base_url=target.server.url) as http:
            return (await http.get("/healthz")).status_code

    assert target.bg.run(health()) == 200

    # Nothing changed that policy does not allow.
    per = demo.person(per_plan, "per")["person"]
    siw = demo.person(per_plan, "siw")["person"]
    okonomi = demo.section(per_plan, "okonomi")["id"]
    guarded = {per_plan["id"], charlotte["id"]}
    for change in target.bg.run(_changes_since(target, first_version)):
        target.count("changes made")
        assert change.changed_by in {per, siw}, change.changed_by
        if change.plan_id == charlotte["id"]:
            raise AssertionError(f"Charlotte's plan changed by a stranger: {change.entity}")
        if change.changed_by == siw and change.plan_id in guarded:
            # A service with edit on Økonomi only: measures there, nothing else.
            assert change.entity == "measures" and change.data["section_id"] == okonomi, (
                change.entity,
                change.data,
            )
    consent_after = target.bg.run(_consent_recorders(target))
    for plan in guarded:
        assert consent_after.get(plan, set()) - consent_before.get(plan, set()) <= (
            {per} if plan == per_plan["id"] else set()
        )
    assert target.stats["api cases"] >= len(operations) * len(identities)


# --- the pages outside the OpenAPI document ---------------------------------------------------

# Never empty and without "/": other paths belong to the web client's catch-all route.
tokens = (
    (
        st.text(min_size=1, max_size=120)
        | st.just("inv_" + "A" * 43)
        | st.binary(min_size=1, max_size=40).map(lambda b: b.hex())
    )
    .filter(lambda t: "/" not in t and t not in {".", ".."})
    .map(lambda t: quote(t, safe=""))
)
query_values = st.text(max_size=300) | st.sampled_from(["", "x" * 5000, "%00", "\u0000"])


@st.composite
def page_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], dict[str, str]]:
    kind = draw(st.sampled_from(["invite", "login", "callback", "logout"]))
    provider = draw(
        st.sampled_from(["citizen", "staff", "evil"])
        | st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.~", min_size=1, max_size=20)
    )
    params = draw(
        st.dictionaries(
            st.sampled_from(["state", "code", "iss", "error", "invite", "session_state"])
            | st.text(max_size=10),
            query_values,
            max_size=5,
        )
    )
    cookies = draw(
        st.dictionaries(
            st.sampled_from(["planrom_login", "planrom_session"]),
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", max_size=200),
            max_size=2,
        )
    )
    if kind == "invite":
        return "GET", f"/invite/{draw(tokens)}", params, cookies
    if kind == "login":
        return "GET", f"/auth/login/{provider}", params, cookies
    if kind == "callback":
        return "GET", f"/auth/callback/{provider}", params, cookies
    return "POST", "/auth/logout", params, cookies


def test_the_sign_in_and_invitation_pages_hold_up(target: Target) -> None:
    base = target.server.url

    async def send(
        method: str, path: str, params: dict[str, str], cookies: dict[str, str]
    ) -> httpx.Response:
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as http:
            return await http.request(method, path, params=params)

    @settings(
        max_examples=PAGE_CASES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=page_requests())
    def run(request: tuple[str, str, dict[str, str], dict[str, str]]) -> None:
        method, path, params, cookies = request
        try:
            response = target.bg.run(send(method, path, params, cookies))
        except httpx.InvalidURL:
            return
        target.count("page cases")
        target.count(f"page {response.status_code}")
        if response.status_code == 503 and path.startswith("/auth/login/citizen"):
            assert "unavailable" in response.text  # the provider is down, as configured
            return
        _check_reply(
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
            f"{method} {path} {params}",
        )
        assert "planrom_session=" not in response.headers.get("set-cookie", "").replace(
            'planrom_session=""', ""
        )

    run()
    assert target.stats.get("page cases", 0) >= PAGE_CASES // 2
