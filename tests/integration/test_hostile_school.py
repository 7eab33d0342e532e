"""The school in Charlotte's story, hostile: every HTTP route, with the ids of things it may
not know of (Berit, Tone, the therapy section, the DPS measure and its agenda item) and with
ids that do not exist. No answer names Berit, Tone or DPS or carries their ids, and every
refusal about a hidden thing is the very answer about a missing one (issue 10)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.app import endpoints
from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings
from tests.yclient import YClient

BOGUS = "nosuchthing1"
WORDS = ("Berit", "Lund", "Tone Vik", "DPS", "Psykisk helse")
# Only in demo mode, by design: one sign-in button per demo person.
DEMO_ONLY = {"/api/demo/people", "/api/demo/sign-in", "/auth/demo/{token}"}


@pytest.fixture
async def live(db_url: str) -> AsyncIterator[LiveServer]:
    """A server that does not slow a hostile caller down (the refusal limits are tested
    elsewhere): every answer here is the route's own."""
    many = (100_000, 60.0)
    server = await start_server(
        test_settings(
            db_url,
            rate_refused=many,
            rate_write=many,
            rate_costly_read=many,
            rate_render=many,
            rate_invite=many,
        )
    )
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def demo(live: LiveServer) -> Demo:
    return await load_demo_into(live)


def _secrets(demo: Demo) -> set[str]:
    plan = demo.charlotte
    out = set(WORDS)
    for key in ("berit", "team"):
        person = demo.person(plan, key)
        out |= {person["id"], str(person["person"])}
    therapy = demo.section(plan, "terapi")
    out |= {therapy["id"], therapy["doc"]}
    measure = next(m for m in plan["measures"] if m["title"] == "Samtaler hos DPS")
    return out | {measure["id"]}


def _clean(text: str, secrets: set[str]) -> set[str]:
    return {s for s in secrets if s in text}


async def _call(client: httpx.AsyncClient, method: str, url: str, body: Any) -> httpx.Response:
    if method == "GET":
        return await client.get(url)
    return await client.request(method, url, json=body if body is not None else {})


async def _sweep(live: LiveServer, demo: Demo, viewer: str, person: str, secrets: set[str]) -> None:
    """Every route as ``viewer``, with the ids of Berit's or Tone's (``person``) things, the
    therapy section, the DPS measure and its agenda item, and with ids that do not exist."""
    plan = demo.charlotte
    pid = plan["id"]
    therapy = demo.section(plan, "terapi")["id"]
    measure = next(m for m in plan["measures"] if m["title"] == "Samtaler hos DPS")["id"]
    meeting = plan["meetings"][0]["id"]
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        state = (await charlotte.get(f"/api/meetings/{meeting}")).json()["state"]
    item = next(i["id"] for i in state["agenda"] if i["title"] == "Samtaler hos DPS")
    school_section = demo.section(plan, "skolen")["id"]
    school_measure = next(m for m in plan["measures"] if m["section"] == school_section)["id"]
    school_item = next(i["id"] for i in state["agenda"] if i["section"] == school_section)
    hidden = {"participant": person, "section": therapy, "measure": measure, "item": item}
    real = {"plan": pid, "meeting": meeting, "version": "2"}
    checked = 0
    async with live.http(demo.token(plan, viewer)) as client:
        # 1. Every route: a hidden id in the path answers as a missing one, and no answer
        # (success or refusal) carries a secret. Reads first, then writes.
        ordered = sorted(endpoints(), key=lambda e: e.method != "GET")
        for e in ordered:
            if e.path in DEMO_ONLY or e.path == "/api/session/logout":
                continue
            params = [p.strip("{}") for p in e.path.split("/") if p.startswith("{")]

            def url(values: dict[str, str], path: str = e.path, params: list[str] = params) -> str:
                for name in params:
                    path = path.replace(f"{{{name}}}", values.get(name, real.get(name, BOGUS)))
                return path

            secret_ids = {k: v for k, v in hidden.items() if k in params}
            if not secret_ids and e.method != "GET":
                continue  # a write with no hidden id says nothing of them (and may succeed)
            answer = await _call(client, e.method, url(secret_ids), {})
            assert not _clean(answer.text, secrets), (e.method, e.path, answer.text)
            checked += 1
            if secret_ids:
                missing = await _call(client, e.method, url({}), {})
                assert (answer.status_code, answer.text) == (missing.status_code, missing.text), (
                    e.method,
                    e.path,
                )
        assert checked > 30

        # 2. Hidden ids in bodies and queries answer as missing ones too.
        berit = person
        targeted: list[tuple[str, str, Any, Any]] = [
            (
                "POST",
                f"/api/meetings/{meeting}/decisions",
                {"item": item, "kind": "continue", "measure": measure},
                {"item": BOGUS, "kind": "continue", "measure": measure},
            ),
            (
                "POST",
                f"/api/meetings/{meeting}/decisions",
                {"item": item, "kind": "continue", "measure": measure},
                {"item": item, "kind": "continue", "measure": BOGUS},
            ),
            ("POST", f"/api/meetings/{meeting}/chair", {"participant": berit}, None),
            ("POST", f"/api/meetings/{meeting}/minute-taker", {"participant": berit}, None),
            (
                "POST",
                f"/api/meetings/{meeting}/agenda",
                {"title": "x", "section": therapy},
                {"title": "x", "section": BOGUS},
            ),
            (
                "POST",
                f"/api/meetings/{meeting}/corrections",
                {"item": item, "notes": "x", "reason": "y"},
                {"item": BOGUS, "notes": "x", "reason": "y"},
            ),
            (
                "POST",
                f"/api/plans/{pid}/measures",
                {"section": therapy, "title": "x"},
                {"section": BOGUS, "title": "x"},
            ),
            (
                "POST",
                f"/api/plans/{pid}/meetings",
                {"starts_at": "2030-01-01T10:00:00+01:00", "invited": [berit]},
                None,
            ),
            ("POST", f"/api/plans/{pid}/consent/withdraw", {"participant": berit}, None),
            ("GET", f"/api/plans/{pid}/access-log/lines?person={berit}", None, None),
            ("PATCH", f"/api/plans/{pid}/participants/{berit}", {"phone": "1"}, None),
            ("POST", f"/api/plans/{pid}/participants/{berit}/invite", {"email": "a@b.no"}, None),
            ("POST", f"/api/plans/{pid}/guardians/{berit}/answer", {"keep": "none"}, None),
            ("PATCH", f"/api/plans/{pid}/sections/{therapy}", {"title": "x"}, None),
            ("PATCH", f"/api/plans/{pid}/measures/{measure}", {"title": "x"}, None),
            ("PATCH", f"/api/meetings/{meeting}/agenda/{item}", {"index": 0}, None),
            ("DELETE", f"/api/meetings/{meeting}/agenda/{item}", None, None),
            ("PATCH", f"/api/meetings/{meeting}", {"invited": [berit]}, None),
            (
                "POST",
                f"/api/plans/{pid}/measures",
                {"section": school_section, "title": "x", "responsible": berit},
                None,
            ),
            ("PATCH", f"/api/plans/{pid}/measures/{school_measure}", {"responsible": berit}, None),
            (
                "POST",
                f"/api/meetings/{meeting}/decisions",
                {
                    "item": school_item,
                    "kind": "new_measure",
                    "section": school_section,
                    "title": "x",
                    "responsible": berit,
                },
                None,
            ),
            (
                "POST",
                f"/api/plans/{pid}/consent",
                {
                    "purpose": "x",
                    "grants": [{"participant": berit, "section": therapy, "level": "read"}],
                },
                {
                    "purpose": "x",
                    "grants": [{"participant": BOGUS, "section": BOGUS, "level": "read"}],
                },
            ),
            ("GET", f"/api/meetings/{meeting}/minutes?format=html&item={item}", None, None),
        ]
        for method, path, body, missing_body in targeted:
            if missing_body is None:
                missing_body = (
                    json.loads(json.dumps(body).replace(berit, BOGUS)) if body is not None else None
                )
            answer = await _call(client, method, path, body)
            missing = await _call(
                client,
                method,
                path.replace(berit, BOGUS)
                .replace(item, BOGUS)
                .replace(therapy, BOGUS)
                .replace(measure, BOGUS),
                missing_body,
            )
            # An id the caller sent may come back in a refusal (it says nothing new); the
            # answer must be the one about an id that does not exist (below).
            sent = path + json.dumps(body)
            unsaid = {x for x in secrets if x not in sent}
            assert not _clean(answer.text, unsaid), (method, path, answer.text)
            echoed = answer.text
            for sent_id in (berit, item, therapy, measure):
                echoed = echoed.replace(sent_id, BOGUS)
            assert (answer.status_code, echoed) == (missing.status_code, missing.text), (
                method,
                path,
                body,
                answer.text,
                missing.text,
            )


async def test_the_school_learns_nothing_of_berit_tone_or_dps_through_any_route(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    secrets = _secrets(demo)
    await _sweep(live, demo, "skole", demo.person(plan, "berit")["id"], secrets)
    # Positive: the secrets are real (Charlotte's plan names them), so the checks could fail.
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        everything = (await charlotte.get(f"/api/plans/{plan['id']}")).text
    assert {"Berit", "DPS", demo.section(plan, "terapi")["id"]} <= _clean(everything, secrets)


async def test_the_coordinator_learns_nothing_of_a_hidden_participant_or_a_kept_section(
    live: LiveServer, demo: Demo
) -> None:
    """Charlotte hides Tone and keeps the therapy section from Hilde; Hilde, hostile."""
    plan = demo.charlotte
    pid = plan["id"]
    tone = demo.person(plan, "team")
    therapy = demo.section(plan, "terapi")
    hilde = demo.person(plan, "hilde")["id"]
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        given = (await charlotte.get(f"/api/plans/{pid}/consent")).json()
        narrowed = await charlotte.post(
            f"/api/plans/{pid}/consent",
            json={
                "purpose": "Uten behandlingen",
                "grants": [
                    g
                    for g in given["grants"]
                    if not (g["participant"] == hilde and g["section"] == therapy["id"])
                ],
            },
        )
        assert narrowed.status_code == 201, narrowed.text
        hidden = await charlotte.patch(
            f"/api/plans/{pid}/participants/{tone['id']}", json={"hidden": True}
        )
        assert hidden.status_code == 200, hidden.text
    measure = next(m for m in plan["measures"] if m["title"] == "Samtaler hos DPS")
    secrets = {
        "Tone",
        "Vik",
        "Psykisk helseteam",
        "Psykisk helsetjeneste",
        tone["id"],
        str(tone["person"]),
        therapy["id"],
        therapy["doc"],
        therapy["title"],
        measure["id"],
        measure["title"],
    }
    await _sweep(live, demo, "hilde", tone["id"], secrets)


async def test_the_school_learns_nothing_of_berit_tone_or_dps_over_socket_io(
    live: LiveServer, demo: Demo
) -> None:
    plan = demo.charlotte
    pid = plan["id"]
    secrets = _secrets(demo)
    therapy = demo.section(plan, "terapi")
    measure = next(m for m in plan["measures"] if m["title"] == "Samtaler hos DPS")["id"]
    meeting = plan["meetings"][0]["id"]
    berit = demo.person(plan, "berit")["id"]
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        state = (await charlotte.get(f"/api/meetings/{meeting}")).json()["state"]
    dps_item = next(i for i in state["agenda"] if i["title"] == "Samtaler hos DPS")
    secrets |= {dps_item["id"], dps_item["doc"]}
    school_item = next(
        i for i in state["agenda"] if i["section"] == demo.section(plan, "skolen")["id"]
    )
    school = YClient(live.url, demo.token(plan, "skole"))
    berits = YClient(live.url, demo.token(plan, "berit"))
    frames: list[Any] = []
    for event in ("meeting:state", "meeting:revoked", "doc:access", "doc:revoked", "error"):

        async def keep(data: Any, event: str = event) -> None:
            frames.append((event, data))
            school._changed.set()

        school.sio.on(event, keep)
    await school.connect()
    await berits.connect()
    try:
        answers: list[Any] = []

        async def same(event: str, hidden: dict[str, Any], missing: dict[str, Any]) -> None:
            a = await school.sio.call(event, hidden, timeout=30)
            b = await school.sio.call(event, missing, timeout=30)
            answers.extend((a, b))
            text = json.dumps(a, ensure_ascii=False)
            assert not _clean(text, secrets), (event, text)
            assert json.dumps(a) == json.dumps(b), (event, a, b)

        # Documents: the therapy section, the DPS measure and its agenda item answer as
        # documents that do not exist.
        for hidden, missing in (
            (therapy["doc"], f"plan:{pid}:section:{BOGUS}"),
            (f"plan:{pid}:measure:{measure}", f"plan:{pid}:measure:{BOGUS}"),
            (dps_item["doc"], f"meeting:{meeting}:item:{BOGUS}"),
        ):
            a, b = await school.join(hidden), await school.join(missing)
            answers.extend((a, b))
            assert not _clean(json.dumps(a, ensure_ascii=False), secrets), a
            assert a == b, (hidden, a, b)
        # The meeting: Berit is in the room too, and the school's state never shows her.
        joined = await school.sio.call("meeting:join", {"meeting": meeting}, timeout=30)
        assert joined["ok"], joined
        answers.append(joined)
        assert (await berits.sio.call("meeting:join", {"meeting": meeting}, timeout=30))["ok"]
        await same(
            "meeting:goto",
            {"meeting": meeting, "item": dps_item["id"]},
            {"meeting": meeting, "item": BOGUS},
        )
        await same(
            "meeting:pen",
            {"meeting": meeting, "item": school_item["id"], "participant": berit},
            {"meeting": meeting, "item": school_item["id"], "participant": BOGUS},
        )
        # Berit's presence on a document both read (the goals) reaches the school
        # anonymised.
        goals = demo.section(plan, "mal")["doc"]
        for client in (school, berits):
            assert (await client.join(goals))["ok"]
            await client.wait_synced(goals)
        assert (await berits.set_awareness(goals, {"here": True}))["ok"]
        await school.wait_for(lambda: any(s for s in school.awareness.get(goals, {}).values()))
        # Charlotte starts the meeting and goes to the DPS item: the school's state moves
        # on without naming it.
        async with live.http(demo.token(plan, "charlotte")) as charlotte:
            chair = YClient(live.url, demo.token(plan, "charlotte"))
            await chair.connect()
            try:
                assert (await chair.sio.call("meeting:join", {"meeting": meeting}))["ok"]
                assert (await chair.sio.call("meeting:start", {"meeting": meeting}))["ok"]
                went = await chair.sio.call(
                    "meeting:goto", {"meeting": meeting, "item": dps_item["id"]}
                )
                assert went["ok"], went
                await school.wait_for(
                    lambda: any(e == "meeting:state" and d.get("current_hidden") for e, d in frames)
                )
            finally:
                await chair.close()
        received = json.dumps([answers, frames], ensure_ascii=False)
        for _, data in school.received:
            received += repr(data)
        for states in school.awareness.values():
            received += json.dumps(states, ensure_ascii=False, default=str)
        assert not _clean(received, secrets), _clean(received, secrets)
        assert any(e == "meeting:state" for e, _ in frames)  # the check could fail
        # The goto reached the school: "on an item you do not see", nothing more.
        last = [d for e, d in frames if e == "meeting:state"][-1]
        assert last["current_hidden"] is True and last["current_item"] is None
    finally:
        await school.close()
        await berits.close()


async def test_a_chair_who_may_not_see_an_item_or_a_person_is_refused_as_for_none(
    live: LiveServer, demo: Demo
) -> None:
    """Hilde chairs a meeting where Tone is hidden from her and the therapy section kept
    from her: going to the therapy item, or giving Tone the pen, answers as for nothing."""
    plan = demo.charlotte
    pid = plan["id"]
    tone = demo.person(plan, "team")["id"]
    hilde = demo.person(plan, "hilde")["id"]
    therapy = demo.section(plan, "terapi")["id"]
    goals = demo.section(plan, "mal")["id"]
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        given = (await charlotte.get(f"/api/plans/{pid}/consent")).json()
        kept = [
            g
            for g in given["grants"]
            if not (g["participant"] == hilde and g["section"] == therapy)
        ]
        signed = await charlotte.post(
            f"/api/plans/{pid}/consent", json={"purpose": "Uten behandlingen", "grants": kept}
        )
        assert signed.status_code == 201, signed.text
        assert (
            await charlotte.patch(f"/api/plans/{pid}/participants/{tone}", json={"hidden": True})
        ).status_code == 200
        scheduled = await charlotte.post(
            f"/api/plans/{pid}/meetings",
            json={
                "starts_at": "2030-01-07T10:00:00+01:00",
                "invited": [hilde, tone],
                "agenda": "empty",
                "items": [
                    {"title": "Samtalene", "section": therapy},
                    {"title": "Mål", "section": goals},
                ],
                "chair": hilde,
                "confirm_hidden": True,
            },
        )
        assert scheduled.status_code == 201, scheduled.text
        mid = scheduled.json()["id"]
        agenda = scheduled.json()["state"]["agenda"]
    hidden_item = next(i["id"] for i in agenda if i["section"] == therapy)
    goal_item = next(i["id"] for i in agenda if i["section"] == goals)
    chair = YClient(live.url, demo.token(plan, "hilde"))
    await chair.connect()
    try:
        assert (await chair.sio.call("meeting:join", {"meeting": mid}, timeout=30))["ok"]
        assert (await chair.sio.call("meeting:start", {"meeting": mid}, timeout=30))["ok"]
        for event, hidden, missing in (
            ("meeting:goto", {"item": hidden_item}, {"item": BOGUS}),
            (
                "meeting:pen",
                {"item": goal_item, "participant": tone},
                {"item": goal_item, "participant": BOGUS},
            ),
            (
                "meeting:pen",
                {"item": hidden_item, "participant": hilde},
                {"item": BOGUS, "participant": hilde},
            ),
        ):
            a = await chair.sio.call(event, {"meeting": mid} | hidden, timeout=30)
            b = await chair.sio.call(event, {"meeting": mid} | missing, timeout=30)
            echoed = json.dumps(a).replace(hidden_item, BOGUS).replace(tone, BOGUS)
            assert a["ok"] is False and echoed == json.dumps(b), (event, a, b)
        # Positive: the same commands about what she may see work.
        assert (await chair.sio.call("meeting:goto", {"meeting": mid, "item": goal_item}))["ok"]
    finally:
        await chair.close()
    async with live.http(demo.token(plan, "hilde")) as coordinator:
        for method, path, body in (
            ("DELETE", f"/api/meetings/{mid}/agenda/{{}}", None),
            ("PATCH", f"/api/meetings/{mid}/agenda/{{}}", {"index": 0}),
        ):
            a = await _call(coordinator, method, path.format(hidden_item), body)
            b = await _call(coordinator, method, path.format(BOGUS), body)
            assert (a.status_code, a.text) == (b.status_code, b.text), (method, a.text)
    async with live.http(demo.token(plan, "charlotte")) as charlotte:
        state = (await charlotte.get(f"/api/meetings/{mid}")).json()["state"]
    assert hidden_item in {i["id"] for i in state["agenda"]}  # still there
    assert tone in {a["participant"] for a in state["attendees"]}
