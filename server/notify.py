"""Telling the owner and guardians of consent changes they did not make.

Each change leaves an in-app notice (``notifications``) for every owner and guardian
other than whoever made it, and an e-mail to those with a known address. Neither holds
plan content: a notice keeps only the kind, who made the change (name and role) and the
version number; the e-mail says that the consent for their plan was changed, by whom,
and links to the consent page — no plan title, sections, people or levels, because
e-mail is not a confidential channel.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from collab import policy
from collab.consent import ConsentVersion
from collab.model import Participant, Role, new_id
from collab.policy import PlanContext
from server import mail
from server.db.models import Notification, Person
from server.runtime import Services

log = logging.getLogger("planrom.notify")

ROLE_NAMES = {
    Role.OWNER: "planeieren",
    Role.GUARDIAN: "verge / foresatt",
    Role.RELATIVE: "pårørende",
    Role.COORDINATOR: "koordinatoren",
    Role.SERVICE: "tjenesteyter",
}
CONSENT_CHANGED = "consent-changed"


def notice_text(kind: str, actor_name: str, actor_role: str, version: int | None) -> str:
    """The notice as a person reads it (bokmål)."""
    role = ROLE_NAMES.get(Role(actor_role), actor_role) if actor_role else ""
    who = f"{actor_name}, {role}," if role else actor_name
    if kind == CONSENT_CHANGED:
        return f"Samtykket for planen din ble endret av {who} i versjon {version}."
    if kind == "coordinator-changed":
        return f"Planen din har fått ny koordinator. Endringen ble gjort av {who}."
    if kind == "handover-accepted":
        return f"{actor_name} har tatt over som koordinator for planen din."
    return f"Endring i planen din av {who}."


def consent_letter_text(name: str, actor: Participant, url: str) -> str:
    # No plan title, sections, people or levels: only that it changed, by whom, and where.
    return (
        f"Hei {name},\n\n"
        f"Samtykket for planen din i Planrom ble endret av {actor.name} "
        f"({ROLE_NAMES[actor.role]}).\n\n"
        "Logg inn for å se endringen. Du kan angre den med ett trykk hvis du ikke "
        f"ønsker den:\n{url}\n\n"
        "---\n"
        f"The consent for your plan in Planrom was changed by {actor.name}. "
        "Sign in to see the change; you can undo it.\n"
    )


async def consent_changed(
    session: AsyncSession,
    services: Services,
    ctx: PlanContext,
    version: ConsentVersion,
    actor: Participant,
    now: datetime,
) -> Callable[[], Awaitable[None]]:
    """Record the notices (in this transaction) and return the e-mail delivery, to run
    after commit."""
    settings = services.settings
    letters: list[tuple[str, EmailMessage]] = []
    for who in policy.told_of_consent_change(ctx, actor.id):
        session.add(
            Notification(
                id=new_id(),
                plan_id=ctx.plan.id,
                participant_id=who.id,
                kind=CONSENT_CHANGED,
                actor_name=actor.name,
                actor_role=actor.role.value,
                consent_version=version.version,
                created_at=now,
            )
        )
        address = who.email.strip()
        if not address and who.person is not None:
            person = await session.get(Person, who.person)
            address = (person.email or "").strip() if person is not None else ""
        if not address:
            continue
        url = f"{settings.base_url}/plan/{ctx.plan.id}/samtykke"
        letters.append(
            (
                f"{now:%Y%m%dT%H%M%S}-consent-{ctx.plan.id}-{version.version}-{who.id}.eml",
                mail.letter(
                    sender=settings.smtp.sender if settings.smtp else "planrom@localhost",
                    to=address,
                    subject="Samtykket for planen din ble endret",
                    text=consent_letter_text(who.name, actor, url),
                    at=now,
                ),
            )
        )
    await session.flush()

    async def deliver() -> None:
        for name, letter in letters:
            try:
                if settings.smtp is not None:
                    await mail.send(settings.smtp, letter)
                else:
                    await mail.write_outbox(settings.outbox_dir, name, letter)
            except Exception as exc:  # the in-app notice stays; the mail is best effort
                log.warning("consent notice %s not delivered: %s", name, exc)

    return deliver


async def tell_owner(
    session: AsyncSession,
    ctx: PlanContext,
    actor: Participant | None,
    kind: str,
    now: datetime,
    *,
    actor_name: str = "",
) -> None:
    """An in-app notice of a change in the group (a new coordinator, a handover) for the
    owner and guardians other than whoever made it. No plan content: kind and actor
    (``actor_name`` for someone outside the group, such as the coordinating unit)."""
    for who in policy.told_of_consent_change(ctx, actor.id if actor else ""):
        session.add(
            Notification(
                id=new_id(),
                plan_id=ctx.plan.id,
                participant_id=who.id,
                kind=kind,
                actor_name=actor.name if actor else actor_name,
                actor_role=actor.role.value if actor else "",
                consent_version=None,
                created_at=now,
            )
        )
    await session.flush()
