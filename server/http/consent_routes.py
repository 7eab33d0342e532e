"""Consent (samtykke) and the access log (innsynslogg) over HTTP (PROTOCOL.md).

Every version says how it was given (``method``): ``in-app``, signed by the owner or a
guardian with their own sign-in, or ``paper``, recorded by the coordinator with the signed
form attached (uploaded first to ``/consent/forms``). The owner and guardians are told of
every version they did not make, and can undo it in one step.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from starlette.responses import Response

from collab import policy
from collab.consent import (
    ConsentError,
    ConsentVersion,
    Grant,
    SignMethod,
    check_new_version,
    narrowed,
    widened,
)
from collab.consent import undo as make_undo
from collab.consent import withdrawal as make_withdrawal
from collab.model import Level, Participant, new_id
from collab.policy import PlanContext
from server import notify
from server.db import denials, repo
from server.db.models import (
    AccessDenialRow,
    AccessLogRow,
    ConsentForm,
    Notification,
    ParticipantRow,
)
from server.http.accesslog_routes import lookup
from server.http.common import ApiError, Call, Endpoints
from server.http.render import DATETIME_SCHEMA, ID_SCHEMA, consent_json, parse_datetime, text

api = Endpoints()  # this module's routes; server.app composes them

# A signed paper form: a PDF, or a photo (JPEG or PNG), at most this large.
MAX_FORM_BYTES = 5 * 1024 * 1024
# Uploaded forms wait for the version they belong to: this many per person and plan, this long.
MAX_UNUSED_FORMS = 10
UNUSED_FORM_TTL = timedelta(days=1)
FORM_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_form(data: bytes) -> str | None:
    """The form's type from its first bytes (never from what the client claims)."""
    return next((kind for magic, kind in FORM_TYPES if data.startswith(magic)), None)


def form_json(row: ConsentForm) -> dict[str, Any]:
    return {"id": row.id, "type": row.content_type, "size": row.size}


async def _form_of(call: Call, version: ConsentVersion) -> dict[str, Any] | None:
    if version.form is None:
        return None
    row = await repo.consent_form(call.db, version.plan, version.form)
    return form_json(row) if row is not None else None


SIGN_CONSENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["purpose", "grants"],
    "properties": {
        "signed_by": ID_SCHEMA,
        "form": ID_SCHEMA,
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
    shown = policy.consent_as_seen(ctx, call.principal, ctx.consent)
    assert shown is not None
    whole = policy.check_read_consent(ctx, call.principal)
    call.log(plan_id, "open", "consent")
    form = await _form_of(call, ctx.consent) if whole else None
    return consent_json(shown, form=form)


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
    # Lock before reading the newest version: concurrent signings get the next numbers.
    await repo.lock_plan(call.db, plan_id)
    ctx = await call.plan(plan_id)
    body = call.body
    me = ctx.actor(call.principal)
    call.require(policy.check_see_plan(ctx, call.principal), plan_id, "consent")
    assert me is not None
    # The owner or a guardian signs as themselves; anyone else records the owner's signature.
    default_signer = policy.default_consent_signer(ctx, call.principal)
    signer = body.get("signed_by", default_signer)
    # Who may sign at all, before the grants are read (their errors name people).
    call.require(
        policy.check_sign_consent(ctx, call.principal, signer, with_form=True), plan_id, "consent"
    )
    valid_from = parse_datetime(body.get("valid_from"), "valid_from") or call.now
    valid_to = parse_datetime(body.get("valid_to"), "valid_to")
    try:
        grants = check_new_version(
            grants=[
                Grant(g["participant"], g["section"], Level(g["level"])) for g in body["grants"]
            ],
            # Only rows the recorder may see (people, sections); the others are carried over.
            participants=policy.grantable_participants(ctx, call.principal),
            sections=policy.grantable_sections(ctx, call.principal),
            valid_from=valid_from,
            valid_to=valid_to,
            purpose=body["purpose"],
        )
    except ConsentError as exc:
        raise ApiError("malformed", str(exc)) from None
    grants = policy.carry_unseen_grants(ctx, call.principal, grants)
    in_app = signer == me.id
    form_row = None
    if "form" in body and not in_app:
        form_row = await repo.consent_form(call.db, plan_id, body["form"])
        if form_row is None or form_row.uploaded_by_person != call.principal.person:
            raise ApiError("not-found", "Fant ikke det opplastede skjemaet. Last det opp igjen.")
        if form_row.used_in_version is not None:
            raise ApiError(
                "conflict",
                "Dette skjemaet er allerede brukt for en annen versjon. "
                "Last opp skjemaet som hører til denne signaturen.",
            )
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
        method=SignMethod.IN_APP if in_app else SignMethod.PAPER,
        sign_in=call.auth.sign_in if in_app and call.auth is not None else "",
        form=form_row.id if form_row is not None else None,
    )
    call.require(
        policy.check_sign_consent(
            ctx, call.principal, signer, version, with_form=form_row is not None
        ),
        plan_id,
        "consent",
    )
    if form_row is not None:
        form_row.used_in_version = version.version
    await repo.add_consent(call.db, version, recorded_by_person=call.principal.person)
    lowered = narrowed(ctx.consent, version, call.now)
    raised = widened(ctx.consent, version)
    call.log(
        plan_id,
        "sign",
        "consent",
        f"version {version.version} ({version.method.value})"
        + (f"; narrowed {len(lowered)} grant(s)" if lowered else "")
        + (f"; widened {len(raised)} grant(s)" if raised else ""),
    )
    await _after_change(call, ctx, version, me)
    return _as_seen(call, ctx, version, form=form_json(form_row) if form_row is not None else None)


def _as_seen(
    call: Call, ctx: PlanContext, version: ConsentVersion, form: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A version just made, as its maker may receive it (collab.policy.consent_as_seen)."""
    shown = policy.consent_as_seen(ctx, call.principal, version)
    assert shown is not None
    return consent_json(shown, form=form)


async def _after_change(
    call: Call, ctx: PlanContext, version: ConsentVersion, actor: Participant
) -> None:
    """Tell live sessions at once (narrowing reaches them within a second), and tell the
    owner and guardians who did not make the change (in-app and by e-mail)."""
    plan_id = ctx.plan.id
    deliver = await notify.consent_changed(call.db, call.services, ctx, version, actor, call.now)
    call.after_commit(lambda: call.services.access_changed(plan_id))
    call.after_commit(deliver)


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
    # Lock before reading: the withdrawal builds on the newest version, not a stale one.
    await repo.lock_plan(call.db, plan_id)
    ctx = await call.plan(plan_id)
    call.require(policy.check_withdraw_consent(ctx, call.principal), plan_id, "consent")
    me = ctx.actor(call.principal)
    assert me is not None
    if ctx.consent is None:
        raise ApiError("not-found", "Ingen samtykke å trekke tilbake.")
    who = call.body.get("participant")
    if who is not None and ctx.plan.participant(who) is None:
        raise ApiError("not-found", "Fant ikke deltakeren.")
    version = make_withdrawal(
        ctx.consent,
        participant=who,
        by=me.id,
        at=call.now,
        sign_in=call.auth.sign_in if call.auth is not None else "",
    )
    await repo.add_consent(call.db, version, recorded_by_person=call.principal.person)
    call.log(
        plan_id,
        "sign",
        "consent",
        f"version {version.version}: withdrew {'everyone' if who is None else who}",
    )
    await _after_change(call, ctx, version, me)
    return _as_seen(call, ctx, version)


@api(
    "POST",
    "/api/plans/{plan}/consent/{version}/undo",
    summary="Undo a version someone else made: back to the one before, at once",
    tag="consent",
)
async def undo_consent(call: Call) -> Any:
    plan_id = call.param_id("plan")
    raw = call.params["version"]
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 1_000_000:
        raise ApiError("not-found", "Fant ikke den versjonen av samtykket.")
    number = int(raw)
    ctx = await call.plan(plan_id)
    call.require(policy.check_undo_consent(ctx, call.principal, number), plan_id, "consent")
    me = ctx.actor(call.principal)
    assert me is not None and ctx.consent is not None
    previous = await repo.consent_version(call.db, plan_id, number - 1) if number > 1 else None
    version = make_undo(
        ctx.consent,
        previous,
        by=me.id,
        at=call.now,
        sign_in=call.auth.sign_in if call.auth is not None else "",
    )
    await repo.add_consent(call.db, version, recorded_by_person=call.principal.person)
    call.log(
        plan_id,
        "sign",
        "consent",
        f"version {version.version}: undid version {number}",
    )
    await _after_change(call, ctx, version, me)
    return _as_seen(call, ctx, version)


@api(
    "POST",
    "/api/plans/{plan}/consent/forms",
    summary="Upload a signed paper consent form (PDF, JPEG or PNG, at most 5 MB)",
    status=201,
    tag="consent",
)
async def upload_consent_form(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, "consent")
    # Forms not used in a version within a day are dropped; at most a few wait at a time.
    await call.db.execute(
        delete(ConsentForm).where(
            ConsentForm.plan_id == plan_id,
            ConsentForm.used_in_version.is_(None),
            ConsentForm.uploaded_at < call.now - UNUSED_FORM_TTL,
        )
    )
    waiting = await call.db.scalar(
        select(func.count())
        .select_from(ConsentForm)
        .where(
            ConsentForm.plan_id == plan_id,
            ConsentForm.uploaded_by_person == call.principal.person,
            ConsentForm.used_in_version.is_(None),
        )
    )
    if (waiting or 0) >= MAX_UNUSED_FORMS:
        raise ApiError(
            "conflict",
            f"Du har {MAX_UNUSED_FORMS} opplastede skjemaer som ikke er brukt i et samtykke. "
            "Registrer samtykket med et av dem, eller prøv igjen i morgen.",
        )
    too_large = ApiError(
        "too-large",
        "Skjemaet er større enn 5 MB. Skann det med lavere oppløsning eller ta et mindre bilde.",
    )
    declared = call.request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in call.request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise too_large
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise ApiError("malformed", "Skjemaet er tomt. Velg filen med det signerte skjemaet.")
    kind = sniff_form(data)
    if kind is None:
        raise ApiError(
            "unsupported-media-type",
            "Skjemaet må være en PDF eller et bilde (JPEG eller PNG); denne filen er ingen av dem.",
        )
    row = ConsentForm(
        id=new_id(),
        plan_id=plan_id,
        content_type=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_person=call.principal.person,
        uploaded_at=call.now,
    )
    call.db.add(row)
    await call.db.flush()
    call.log(plan_id, "change", f"consent-form:{row.id}", f"uploaded {kind}, {len(data)} bytes")
    return form_json(row)


@api(
    "GET",
    "/api/plans/{plan}/consent/forms/{form}",
    summary="Download a signed paper consent form (owner, guardians, who recorded it)",
    tag="consent",
)
async def download_consent_form(call: Call) -> Any:
    plan_id, form_id = call.param_id("plan"), call.param_id("form")
    ctx = await call.plan(plan_id)
    row = await repo.consent_form(call.db, plan_id, form_id)
    if row is None:
        call.require(policy.check_see_plan(ctx, call.principal), plan_id, "consent-form")
        raise ApiError("not-found", "Fant ikke skjemaet.")
    target = f"consent-form:{form_id}"
    call.require(
        policy.check_read_consent_form(ctx, call.principal, row.uploaded_by_person),
        plan_id,
        target,
    )
    call.log(plan_id, "open", target)
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
    return Response(
        row.data,
        media_type=row.content_type,
        headers={
            "content-disposition": (
                f'attachment; filename="samtykke-{row.id}.{extension[row.content_type]}"'
            ),
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )


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
    if not (limit_raw.isascii() and limit_raw.isdigit()) or not 1 <= int(limit_raw) <= 5000:
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
    whole = policy.sees_every_log_detail(ctx, call.principal)
    entries = [_log_entry(r, counted.get(r.seq), whole=whole) for r in shown]
    if not whole:
        # A section, measure, meeting or agenda item the reader may not see keeps its kind
        # and loses its id (the readable log says "a part of the plan you cannot see").
        look = await lookup(call, ctx, (r.target for r in shown))
        for entry in entries:
            seen = look.target(entry["target"])
            if seen["title"] is None:
                entry["target"] = seen["kind"]
    return {"entries": entries}


def _log_entry(
    row: AccessLogRow, counted: AccessDenialRow | None, *, whole: bool = True
) -> dict[str, Any]:
    detail = row.detail
    if not whole and row.target == "consent":
        # "version 4 (paper); narrowed 2 grant(s)": the counts include rows of people this
        # reader may not know of (policy.sees_every_log_detail).
        detail = detail.split(";", 1)[0]
    entry: dict[str, Any] = {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "person": row.person_id,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "detail": detail,
        "grounds": row.grounds,  # why access was allowed (ADR 0013); "" when not recorded
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


# --- notices to the owner and guardians ------------------------------------------------


async def _my_participations(call: Call) -> list[str]:
    rows = await call.db.execute(
        select(ParticipantRow.id).where(ParticipantRow.person_id == call.principal.person)
    )
    return list(rows.scalars())


@api("GET", "/api/notifications", summary="Notices of changes I did not make", tag="consent")
async def list_notifications(call: Call) -> Any:
    mine = await _my_participations(call)
    rows = (
        (
            await call.db.execute(
                select(Notification)
                .where(Notification.participant_id.in_(mine))
                .order_by(Notification.created_at.desc(), Notification.id)
                .limit(100)
            )
        )
        .scalars()
        .all()
        if mine
        else []
    )
    return {
        "notifications": [
            {
                "id": r.id,
                "plan": r.plan_id,
                "kind": r.kind,
                "text": notify.notice_text(r.kind, r.actor_name, r.actor_role, r.consent_version),
                "actor": {"name": r.actor_name, "role": r.actor_role},
                "version": r.consent_version,
                "at": r.created_at.isoformat(),
                "read": r.read_at is not None,
            }
            for r in rows
        ],
        "unread": sum(1 for r in rows if r.read_at is None),
    }


@api(
    "POST",
    "/api/notifications/{notification}/read",
    summary="Mark a notice as read",
    tag="consent",
)
async def read_notification(call: Call) -> Any:
    nid = call.param_id("notification")
    row = await call.db.get(Notification, nid)
    if row is None or row.participant_id not in await _my_participations(call):
        raise ApiError("not-found", "Fant ikke varselet.")
    if row.read_at is None:
        row.read_at = call.now
    return {"id": row.id, "read": True}
