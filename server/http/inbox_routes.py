"""My reminders (the in-app inbox) and how I want them (server/reminders.py)."""

from __future__ import annotations

from typing import Any

from collab import policy
from server.db import reminders as reminders_db
from server.db import repo
from server.http.common import ApiError, Call, Endpoints

api = Endpoints()  # this module's routes; server.app composes them

CHANNEL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["channel"],
    "properties": {"channel": {"enum": list(reminders_db.CHANNELS)}},
}


@api(
    "GET",
    "/api/inbox",
    summary="My reminders, unread first, and how I get them",
    tag="auth",
    costly=True,  # reads each plan it names (up to 100): rate-limited like other overviews
)
async def get_inbox(call: Call) -> Any:
    person = call.principal.person
    rows = await reminders_db.inbox(call.db, person)
    titles: dict[str, str | None] = {}
    items = []
    for row in rows:
        if row.plan_id not in titles:
            # A plan I have left since is not named (nor linked) any more.
            ctx = await repo.load_context(call.db, row.plan_id, call.now)
            seen = ctx is not None and bool(policy.check_see_plan(ctx, call.principal))
            titles[row.plan_id] = ctx.plan.title if ctx is not None and seen else None
        title = titles[row.plan_id]
        items.append(
            {
                "id": row.id,
                "kind": row.kind,
                "plan": row.plan_id if title is not None else None,
                "plan_title": title,
                "href": row.href if title is not None else None,
                "at": row.created_at.isoformat(),
                "read": row.read_at is not None,
            }
        )
    return {
        "channel": await reminders_db.channel(call.db, person),
        "items": items,
        "unread": sum(1 for i in items if not i["read"]),
    }


@api("POST", "/api/inbox/{reminder}/read", summary="Mark a reminder as read", tag="auth")
async def read_reminder(call: Call) -> Any:
    raw = call.params["reminder"]
    # ASCII digits only: isdigit() also takes '²' (which int() refuses) and other scripts'.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ApiError("not-found", "Fant ikke påminnelsen.")
    if not await reminders_db.mark_read(call.db, call.principal.person, int(raw), call.now):
        raise ApiError("not-found", "Fant ikke påminnelsen.")
    return {"id": int(raw), "read": True}


@api(
    "PUT",
    "/api/reminder-channel",
    summary="Reminders by e-mail (a digest) and in the app, or in the app only",
    body=CHANNEL,
    tag="auth",
)
async def set_reminder_channel(call: Call) -> Any:
    await reminders_db.set_channel(call.db, call.principal.person, call.body["channel"], call.now)
    return {"channel": call.body["channel"]}
