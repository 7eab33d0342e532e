"""Invitations: a single-use, expiring link that binds whoever signs in with it to a
participant of a plan.

The coordinator, owner or guardian (``check_manage_plan``) invites a participant who has
no sign-in yet. The link is e-mailed through SMTP when it is configured; otherwise the
message goes to the outbox folder and the link is returned to the inviter to hand over.
``GET /invite/{token}`` shows whom the link is for and where to sign in; the sign-in
callback binds the identity (``accept_invitation``). A used, expired or revoked link, or
one for a removed participant, gives a page that says so and grants nothing. What the
participant then sees is decided by consent, as for everyone.
"""

from __future__ import annotations

import hashlib
import html
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from collab import policy
from collab.model import Role, new_id
from collab.refusal import RefusalCode, Refused
from server import mail, minutes
from server.auth import oidc
from server.db import audit, repo
from server.db.auth_models import Invitation
from server.db.models import Identity, ParticipantRow, Person
from server.http import ratelimit
from server.http.common import NOT_FOUND_MESSAGE, ApiError, Call, Endpoints
from server.http.messages import Said
from server.http.render import valid_email
from server.runtime import Services
from server.settings import Settings

api = Endpoints()  # this module's routes; server.app composes them

log = logging.getLogger("planrom.invite")

TOKEN_PREFIX = "inv_"  # noqa: S105 (a prefix, not a secret)
MAX_TOKEN_LENGTH = 100
EMAIL_SCHEMA = {"type": "string", "maxLength": 320, "pattern": r"^[^@\s]+@[^@\s]+$"}
ROLE_LABELS = {
    Role.OWNER: "planeier",
    Role.GUARDIAN: "verge / foresatt",
    Role.RELATIVE: "pårørende",
    Role.COORDINATOR: "koordinator",
    Role.SERVICE: "tjenesteyter",
}


# --- pages ----------------------------------------------------------------------------


def html_page(
    status: int,
    title: str,
    paragraphs: list[str],
    links: list[tuple[str, str]] | None = None,
    code: str = "",
) -> HTMLResponse:
    """A small page without script or inline style (the CSP allows neither)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if links:
        items = "".join(
            f'<li><a href="{html.escape(href, quote=True)}">{html.escape(text)}</a></li>'
            for text, href in links
        )
        body += f"<ul>{items}</ul>"
    if code:
        body += f'<p><small>Kode: <code id="code">{html.escape(code)}</code></small></p>'
    page = (
        '<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} – Planrom</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers={"cache-control": "no-store"})


@dataclass(frozen=True)
class Problem:
    code: str
    status: int
    title: str
    text: str


PROBLEMS = {
    "unknown": Problem(
        "unknown",
        404,
        "Ukjent invitasjon",
        "Denne lenken er ikke en gyldig invitasjon. Be koordinatoren om en ny. "
        "(This invitation link is not valid.)",
    ),
    "used": Problem(
        "used",
        410,
        "Invitasjonen er allerede brukt",
        "Lenken kan bare brukes én gang, og den er brukt. Be koordinatoren om en "
        "ny invitasjon hvis det ikke var deg. (This invitation has been used.)",
    ),
    "expired": Problem(
        "expired",
        410,
        "Invitasjonen er utløpt",
        "Lenken gjelder ikke lenger. Be koordinatoren om en ny invitasjon. "
        "(This invitation has expired.)",
    ),
    "revoked": Problem(
        "revoked",
        410,
        "Invitasjonen er trukket tilbake",
        "Koordinatoren har trukket tilbake denne invitasjonen. (This invitation was revoked.)",
    ),
    "removed": Problem(
        "removed",
        410,
        "Invitasjonen gjelder ikke lenger",
        "Deltakeren invitasjonen gjaldt er ikke lenger med i planen. "
        "(The invited participant was removed.)",
    ),
    "already-participant": Problem(
        "already-participant",
        409,
        "Du er allerede med i planen",
        "Du deltar allerede i denne planen med en annen rolle, så invitasjonen kan ikke "
        "brukes av deg. (You already take part in this plan.)",
    ),
    "wrong-person": Problem(
        "wrong-person",
        403,
        "Invitasjonen gjelder en annen person",
        "Denne invitasjonen kan bare brukes av den personen den ble laget for. Du er ikke "
        "logget inn i planen. (This invitation is for someone else.)",
    ),
    "wrong-provider": Problem(
        "wrong-provider",
        400,
        "Feil innloggingstjeneste",
        "Denne invitasjonen må godtas med en annen innloggingstjeneste. Åpne lenken fra "
        "invitasjonen på nytt. (Sign in with the service the invitation names.)",
    ),
}


def problem_page(code: str) -> HTMLResponse:
    problem = PROBLEMS[code]
    return html_page(
        problem.status,
        problem.title,
        [problem.text],
        [("Til Planrom", "/")],
        code=f"invitation-{problem.code}",
    )


# --- invitation state -------------------------------------------------------------------


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def status_of(invitation: Invitation, now: datetime) -> str:
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.used_at is not None:
        return "used"
    if invitation.expires_at <= now:
        return "expired"
    return "open"


@dataclass(frozen=True)
class Found:
    invitation: Invitation
    participant: ParticipantRow


async def find_invitation(db: AsyncSession, token: str, now: datetime) -> Found | str:
    """The open invitation behind ``token`` and its participant, or a problem code."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return "unknown"
    row = (
        await db.execute(select(Invitation).where(Invitation.token_hash == _digest(token)))
    ).scalar_one_or_none()
    if row is None:
        return "unknown"
    return await _check(db, row, now)


async def _check(db: AsyncSession, row: Invitation, now: datetime) -> Found | str:
    status = status_of(row, now)
    if status != "open":
        return status
    participant = await db.get(ParticipantRow, row.participant_id)
    if participant is None or not participant.active or participant.plan_id != row.plan_id:
        return "removed"
    if participant.person_id is not None:
        return "used"
    return Found(row, participant)


class InvitationRefused(Refused):
    """An invitation that cannot be accepted; ``problem`` names the page to show
    (``PROBLEMS``)."""

    def __init__(self, problem: str) -> None:
        code: RefusalCode = (
            "not-found"
            if problem in ("unknown", "removed")
            else "forbidden"
            if problem.startswith("wrong-")
            else "conflict"
        )
        super().__init__(code, f"invitation: {problem}")
        self.problem = problem


async def accept_invitation(
    db: AsyncSession,
    invitation_id: str,
    person: Person,
    *,
    provider: str,
    settings: Settings,
    now: datetime,
) -> str:
    """Bind ``person`` to the invited participant; returns the plan id. Raises
    :class:`InvitationRefused` when the invitation cannot be accepted."""
    row = await db.get(Invitation, invitation_id)
    if row is None:
        raise InvitationRefused("unknown")
    found = await _check(db, row, now)
    if isinstance(found, str):
        raise InvitationRefused(found)
    participant = found.participant
    if provider not in oidc.provider_for_role(settings, Role(participant.role)):
        raise InvitationRefused("wrong-provider")
    if row.expected_pid is not None:
        proven = await db.scalar(
            select(Identity.person_id).where(
                Identity.person_id == person.id, Identity.subject == f"pid:{row.expected_pid}"
            )
        )
        if proven is None:
            raise InvitationRefused("wrong-person")
    other = (
        await db.execute(
            select(ParticipantRow.id).where(
                ParticipantRow.plan_id == row.plan_id,
                ParticipantRow.person_id == person.id,
                ParticipantRow.active.is_(True),
                ParticipantRow.id != participant.id,
            )
        )
    ).first()
    if other is not None:
        raise InvitationRefused("already-participant")
    claimed = await db.execute(
        update(Invitation)
        .where(
            Invitation.id == row.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now, used_by=person.id)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise InvitationRefused("used")
    participant.person_id = person.id
    await repo.record(db, participant, plan_id=row.plan_id, change="update", by=person.id, at=now)
    await audit.append(
        db,
        plan_id=row.plan_id,
        at=now,
        person_id=person.id,
        actor=person.name,
        action="change",
        target=f"participant:{participant.id}",
        detail=f"signed in with invitation {row.id} ({provider})",
    )
    return row.plan_id


# --- the page the link opens --------------------------------------------------------------


async def invitation_page(request: Request) -> Response:
    services = cast(Services, request.app.state.services)
    settings = services.settings
    if not ratelimit.allow_sign_in(request, settings.rate_sign_in):
        services.metrics.count_error("rate-limited")
        return html_page(
            429,
            "For mange forsøk",
            ["Vent litt og prøv igjen. (Rate limited.)"],
            code="rate-limited",
        )
    token = request.path_params["token"]
    async with services.sessionmaker() as db, db.begin():
        found = await find_invitation(db, token, services.clock())
        inviter = (
            await db.get(Person, found.invitation.created_by)
            if not isinstance(found, str)
            else None
        )
    if isinstance(found, str):
        return problem_page(found)
    participant = found.participant
    role = Role(participant.role)
    kinds = oidc.provider_for_role(settings, role)
    if not kinds:
        return html_page(
            503,
            "Innlogging er ikke satt opp",
            [
                "Planrom har ingen innloggingstjeneste ennå. Kontakt koordinatoren. "
                "(No sign-in provider is configured.)"
            ],
            code="not-configured",
        )
    who = f"{participant.name} ({ROLE_LABELS[role]})"
    by = f" {inviter.name} har invitert deg." if inviter is not None else ""
    return html_page(
        200,
        "Invitasjon til Planrom",
        [
            f"Invitasjonen gjelder {who}.{by}",
            "Logg inn for å godta. Lenken kan brukes én gang. "
            "(Sign in to accept; the link works once.)",
        ],
        [(f"Logg inn med {oidc.LABELS[k]}", f"/auth/login/{k}?invite={token}") for k in kinds],
    )


ROUTES = [Route("/invite/{token}", invitation_page, methods=["GET"])]


# --- the API ------------------------------------------------------------------------------


def invitation_json(row: Invitation, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "participant": row.participant_id,
        "email": row.email,
        "delivery": row.delivery,
        "status": status_of(row, now),
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "used_at": row.used_at.isoformat() if row.used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


INVITE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "email": EMAIL_SCHEMA,
        "valid_days": {"type": "integer", "minimum": 1, "maximum": 30},
        # Required for the owner and guardians, who always see the whole plan.
        "national_id": {"type": "string", "pattern": "^[0-9]{11}$"},
        # "link": no e-mail; the link is given to the inviter to hand over themselves.
        "by": {"enum": ["email", "link"]},
    },
}


_valid_email = valid_email


@api(
    "POST",
    "/api/plans/{plan}/participants/{participant}/invite",
    summary="Invite a participant: a single-use sign-in link (e-mail or outbox)",
    body=INVITE,
    status=201,
    tag="invitations",
)
async def invite_participant(call: Call) -> Any:
    plan_id, pid = call.param_id("plan"), call.param_id("participant")
    me = call.principal
    settings = call.services.settings
    if not ratelimit.allow_invite(call.request, me.person, settings.rate_invite):
        raise ApiError("rate-limited", "For mange invitasjoner; vent litt (rate limited).")
    ctx = await call.plan(plan_id)
    target = f"participant:{pid}"
    call.require(policy.check_manage_plan(ctx, me), plan_id, target)
    participant = await call.db.get(ParticipantRow, pid)
    if (
        participant is None
        or participant.plan_id != plan_id
        or not participant.active
        or participant.id not in policy.knows_of(ctx, me)
    ):
        raise ApiError("not-found", NOT_FOUND_MESSAGE)
    call.require(
        policy.check_invite_participant(ctx, me, repo.to_participant(participant)),
        plan_id,
        target,
    )
    if participant.person_id is not None:
        raise ApiError("conflict", "Deltakeren har allerede innlogging (already signed in).")
    if not oidc.provider_for_role(settings, Role(participant.role)):
        raise ApiError("conflict", "Ingen innloggingstjeneste er satt opp (no sign-in provider).")
    by_link = call.body.get("by") == "link"
    email = "" if by_link else (call.body.get("email") or participant.email.strip())
    if email and not _valid_email(email):
        if "email" in call.body or settings.smtp is not None:
            raise ApiError.about("malformed", Said("not-an-email", "email"))
        email = ""
    if settings.smtp is not None and not email and not by_link:
        raise ApiError.about("malformed", Said("email-needed", "email"))
    # A new invitation replaces any open one for the same participant.
    await call.db.execute(
        update(Invitation)
        .where(
            Invitation.participant_id == pid,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=call.now, revoked_by=me.person)
    )
    national_id = call.body.get("national_id")
    needs_id = policy.invitation_needs_identity(Role(participant.role))
    if needs_id and national_id is None:
        # Whoever uses this link sees the whole plan: only the right person may.
        raise ApiError.about("malformed", Said("national-id-needed", "national_id"))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    days = call.body.get("valid_days")
    ttl = timedelta(days=days) if days else timedelta(seconds=settings.invitation_ttl_seconds)
    row = Invitation(
        id=new_id(),
        token_hash=_digest(token),
        plan_id=plan_id,
        participant_id=pid,
        email=email,
        delivery="link" if by_link else ("smtp" if settings.smtp is not None else "outbox"),
        created_by=me.person,
        created_at=call.now,
        expires_at=call.now + ttl,
        expected_pid=national_id,
    )
    call.db.add(row)
    await call.db.flush()
    call.log(
        plan_id,
        "change",
        f"invitation:{row.id}",
        f"invited {participant.name} ({participant.role}) by {row.delivery}",
    )
    url = f"{settings.base_url}/invite/{token}"
    reply = invitation_json(row, call.now)
    if row.delivery in ("outbox", "link"):
        reply["url"] = url
    letter = mail.letter(
        sender=settings.smtp.sender if settings.smtp else "planrom@localhost",
        to=email,
        subject="Invitasjon til en individuell plan i Planrom",
        text=_letter_text(
            participant.name, me.name, ROLE_LABELS[Role(participant.role)], url, row.expires_at
        ),
        at=call.now,
    )
    services = call.services

    async def deliver() -> None:
        if by_link:
            return  # handed over by the inviter; nothing is sent
        try:
            if settings.smtp is not None:
                await mail.send(settings.smtp, letter)
            else:
                await mail.write_outbox(
                    settings.outbox_dir, f"{call.now:%Y%m%dT%H%M%S}-{row.id}.eml", letter
                )
        except Exception as exc:  # delivery failed: the link must not stay usable
            log.warning("invitation %s not delivered: %s", row.id, exc)
            async with services.sessionmaker() as db, db.begin():
                await db.execute(
                    update(Invitation)
                    .where(Invitation.id == row.id)
                    .values(revoked_at=services.clock(), revoked_by=me.person)
                )
            reply.update(
                status="revoked",
                delivery="failed",
                url=None,
                error="Invitasjonen kunne ikke sendes; prøv igjen (not delivered).",
            )

    call.after_commit(deliver)
    return reply


def _letter_text(name: str, inviter: str, role: str, url: str, expires: datetime) -> str:
    # No plan title or health details: e-mail is not a confidential channel.
    return (
        f"Hei {name},\n\n"
        f"{inviter} har invitert deg til å delta i en individuell plan i Planrom, "
        f"som {role}.\n\n"
        f"Åpne lenken og logg inn for å godta invitasjonen:\n{url}\n\n"
        f"Lenken kan brukes én gang og gjelder til {minutes.moment_text(expires)}.\n"
        "Hvis du ikke venter denne invitasjonen, kan du se bort fra den.\n\n"
        "---\n"
        f"{inviter} invited you to take part in an individual plan in Planrom. "
        "Open the link above and sign in to accept. The link works once, until "
        f"{minutes.moment_text(expires, 'en')} (Norwegian time).\n"
    )


@api(
    "GET",
    "/api/plans/{plan}/invitations",
    summary="The plan's invitations and their state",
    tag="invitations",
)
async def list_invitations(call: Call) -> Any:
    plan_id = call.param_id("plan")
    ctx = await call.plan(plan_id)
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, "invitations")
    rows = (
        await call.db.execute(
            select(Invitation)
            .where(Invitation.plan_id == plan_id)
            .order_by(Invitation.created_at.desc())
            .limit(500)
        )
    ).scalars()
    known = policy.knows_of(ctx, call.principal)
    return {
        "invitations": [invitation_json(r, call.now) for r in rows if r.participant_id in known]
    }


@api(
    "DELETE",
    "/api/plans/{plan}/invitations/{invitation}",
    summary="Revoke an invitation (its link stops working at once)",
    tag="invitations",
)
async def revoke_invitation(call: Call) -> Any:
    plan_id, inv_id = call.param_id("plan"), call.param_id("invitation")
    ctx = await call.plan(plan_id)
    target = f"invitation:{inv_id}"
    call.require(policy.check_manage_plan(ctx, call.principal), plan_id, target)
    row = await call.db.get(Invitation, inv_id)
    if (
        row is None
        or row.plan_id != plan_id
        # An invitation of someone hidden from the caller is one they cannot find.
        or row.participant_id not in policy.knows_of(ctx, call.principal)
    ):
        raise ApiError("not-found", "Fant ikke invitasjonen.")
    if row.used_at is not None:
        raise ApiError("conflict", "Invitasjonen er allerede brukt (already used).")
    if row.revoked_at is None:
        row.revoked_at = call.now
        row.revoked_by = call.principal.person
        call.log(plan_id, "change", target, "revoked")
    return invitation_json(row, call.now)
