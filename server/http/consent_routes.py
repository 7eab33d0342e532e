"""Consent (samtykke) and the access log (innsynslogg) over HTTP (PROTOCOL.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from collab import policy
from collab.consent import ConsentError, ConsentVersion, Grant, check_new_version, narrowed
from collab.consent import withdrawal as make_withdrawal
from collab.model import Level, Role
from server.db import denials, repo
from server.db.models import AccessDenialRow, AccessLogRow
from server.http.common import ApiError, Call, api
from server.http.render import DATETIME_SCHEMA, ID_SCHEMA, consent_json, parse_datetime, text

SIGN_CONSENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["purpose", "grants"],
    "properties": {
        "signed_by": ID_SCHEMA,
        "purpose": text(1000, 1),
        "valid_from": DATETIME_SCHEMA,
        "valid_to": {"anyOf": [DATETIME_SCHEMA, {"type": "null"}]},
        "grants": {
            "type": "array",
            "maxItems": 2000,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["participant", "section", "level"],
                "properties": {
                    "participant": ID_SCHEMA,
                    "section": ID_SCHEMA,
                    "level": {"enum": [level.value for level in Level]},
                },
            },
        },
    },
}


@api("GET", "/api/plans/{plan}/consent", summary="The consent version in force", tag="consent")
async def get_consent(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "consent")
    if ctx.consent is None:
        raise ApiError("not-found", "Ingen samtykke er signert for denne planen ennå.")
    me = ctx.actor(call.principal)
    assert me is not None
    whole = policy.check_read_consent(ctx, call.principal)
    call.log(plan_id, "open", "consent")
    return consent_json(ctx.consent, only=None if whole else me.id)


@api(
    "POST",
    "/api/plans/{plan}/consent",
    summary="Sign a new consent version",
    body=SIGN_CONSENT,
    status=201,
    tag="consent",
)
async def sign_consent(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    body = call.body
    me = ctx.actor(call.principal)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "consent")
    assert me is not None
    default_signer = me.id
    if me.role is Role.COORDINATOR:
        owner = next(p for p in ctx.plan.participants if p.role is Role.OWNER)
        default_signer = owner.id
    signer = body.get("signed_by", default_signer)
    call.require(policy.check_sign_consent(ctx, call.principal, signer), plan_id, "consent")
    valid_from = parse_datetime(body.get("valid_from"), "valid_from") or call.now
    valid_to = parse_datetime(body.get("valid_to"), "valid_to")
    try:
        grants = check_new_version(
            grants=[
                Grant(g["participant"], g["section"], Level(g["level"])) for g in body["grants"]
            ],
            participants={p.id: p for p in ctx.plan.participants},
            sections=ctx.sections.keys(),
            valid_from=valid_from,
            valid_to=valid_to,
            purpose=body["purpose"],
        )
    except ConsentError as exc:
        raise ApiError("malformed", str(exc)) from None
    version = ConsentVersion(
        plan=plan_id,
        version=await repo.next_consent_version(call.db, plan_id),
        signed_by=signer,
        recorded_by=me.id,
        signed_at=call.now,
        purpose=body["purpose"],
        valid_from=valid_from,
        valid_to=valid_to,
        grants=grants,
    )
    await repo.add_consent(call.db, version, recorded_by_person=call.principal.person)
    lowered = narrowed(ctx.consent, version, call.now)
    call.log(
        plan_id,
        "sign",
        "consent",
        f"version {version.version}" + (f"; narrowed {len(lowered)} grant(s)" if lowered else ""),
    )
    call.after_commit(lambda: call.services.access_changed(plan_id))
    return consent_json(version)


WITHDRAW = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"participant": ID_SCHEMA},
}


@api(
    "POST",
    "/api/plans/{plan}/consent/withdraw",
    summary="Withdraw one participant's consent, or everyone's, at once",
    body=WITHDRAW,
    tag="consent",
)
async def withdraw_consent(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_withdraw_consent(ctx, call.principal), plan_id, "consent")
    me = ctx.actor(call.principal)
    assert me is not None
    if ctx.consent is None:
        raise ApiError("not-found", "Ingen samtykke å trekke tilbake.")
    who = call.body.get("participant")
    if who is not None and ctx.plan.participant(who) is None:
        raise ApiError("not-found", "Fant ikke deltakeren.")
    version = make_withdrawal(ctx.consent, participant=who, by=me.id, at=call.now)
    await repo.add_consent(call.db, version, recorded_by_person=call.principal.person)
    call.log(
        plan_id,
        "sign",
        "consent",
        f"version {version.version}: withdrew {'everyone' if who is None else who}",
    )
    call.after_commit(lambda: call.services.access_changed(plan_id))
    return consent_json(version)


@api(
    "GET",
    "/api/plans/{plan}/access-log",
    summary="Who opened or changed what, when",
    tag="consent",
    costly=True,
)
async def access_log(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_read_access_log(ctx, call.principal), plan_id, "access-log")
    limit_raw = call.query("limit", "500") or "500"
    if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= 5000:
        raise ApiError("malformed", "limit: a whole number from 1 to 5000.")
    # Refusals this process has only counted so far: stored now, so the counts are current.
    await call.services.denials.flush(call.db, plan_id)
    rows = (
        (
            await call.db.execute(
                select(AccessLogRow)
                .where(AccessLogRow.plan_id == plan_id)
                .order_by(AccessLogRow.seq.desc())
                .limit(int(limit_raw))
            )
        )
        .scalars()
        .all()
    )
    counted = await denials.summaries(
        call.db, plan_id, [r.seq for r in rows if r.action == "denied"]
    )
    call.log(plan_id, "open", "access-log")
    shown = [
        r
        for r in rows
        if policy.check_see_log_row(ctx, call.principal, r.person_id, r.target, r.detail)
    ]
    return {"entries": [_log_entry(r, counted.get(r.seq)) for r in shown]}


def _log_entry(row: AccessLogRow, counted: AccessDenialRow | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "person": row.person_id,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "detail": row.detail,
    }
    if counted is not None and row.action == "denied":
        # The first refusal of this person on this day carries the day's count.
        entry["refusals"] = {
            "day": counted.day.isoformat(),
            "count": counted.count,
            "listed": counted.logged,
            "outsider": counted.outsider,
            "first_at": counted.first_at.isoformat(),
            "last_at": counted.last_at.isoformat(),
        }
    return entry
