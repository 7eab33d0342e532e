"""Changes the server makes itself (demo content, meeting decisions), as Yjs updates.

An edit runs on a private copy of the document under a fresh clientID that the caller
binds to the person on whose behalf it is made; the result is an ordinary update that
goes through the same store-then-broadcast path as a client's, so every piece of text
stays attributable. The shapes follow PROTOCOL.md ("Documents").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from pycrdt import Array, Doc, Map, Text

MAX_CLIENT_ID = 2**53 - 1

# A Yjs document (pycrdt's own annotations are not followed by mypy; see pyproject).
YDoc: TypeAlias = Doc


def new_client_id() -> int:
    # Yjs' own clientIDs are 32-bit; the server's live in the upper range so they never meet.
    return (1 << 32) + secrets.randbelow(MAX_CLIENT_ID - (1 << 32))


def make_edit(state: bytes | None, client_id: int, edit: Callable[[YDoc], None]) -> bytes:
    """The update that ``edit`` makes to a document whose current state is ``state``."""
    doc: YDoc = Doc(client_id=client_id)
    if state:
        doc.apply_update(state)
    before = doc.get_state()
    with doc.transaction():
        edit(doc)
    return bytes(doc.get_update(before))


@dataclass(frozen=True)
class GoalSeed:
    id: str
    kind: str  # "main" | "sub"
    text: str
    parent: str | None = None
    target: str | None = None
    status: str = "active"


def section_root(doc: YDoc) -> tuple[Text, Text, Array[Map[object]], Array[str]]:
    return (
        doc.get("situation", type=Text),
        doc.get("resources", type=Text),
        doc.get("goals", type=Array),
        doc.get("measures", type=Array),
    )


def fill_section(
    situation: str = "",
    resources: str = "",
    goals: Sequence[GoalSeed] = (),
    measures: Sequence[str] = (),
) -> Callable[[YDoc], None]:
    def edit(doc: YDoc) -> None:
        situation_text, resources_text, goal_array, measure_array = section_root(doc)
        if situation:
            situation_text += situation
        if resources:
            resources_text += resources
        for goal in goals:
            goal_array.append(
                Map(
                    {
                        "id": goal.id,
                        "kind": goal.kind,
                        "parent": goal.parent,
                        "text": Text(goal.text),
                        "target": goal.target,
                        "status": goal.status,
                    }
                )
            )
        for measure in measures:
            measure_array.append(measure)

    return edit


def append_measure_id(measure: str) -> Callable[[YDoc], None]:
    def edit(doc: YDoc) -> None:
        ids = doc.get("measures", type=Array)
        if measure not in list(ids):
            ids.append(measure)

    return edit


def fill_measure(
    description: str = "", progress: Sequence[tuple[str, str]] = (), key: str = ""
) -> Callable[[YDoc], None]:
    """Add ``description`` and ``progress`` entries to a measure's document. With a
    ``key``, the entries carry it and the edit does nothing when an entry with the same
    key is already there: an edit retried after a crash is made once."""

    def edit(doc: YDoc) -> None:
        log = doc.get("progress", type=Array)
        if key and any(isinstance(e, Map) and e.get("key") == key for e in log):
            return
        text = doc.get("description", type=Text)
        if description:
            text += description
        for at, entry in progress:
            fields: dict[str, object] = {"at": at, "text": Text(entry)}
            if key:
                fields["key"] = key
            log.append(Map(fields))

    return edit


# --- edits as data -----------------------------------------------------------------------
#
# An edit that must happen after a transaction commits is stored in that transaction as
# data (server/effects.py) and made later, perhaps by another process after a crash; these
# are the kinds it may be, each idempotent.

EDIT_KINDS = frozenset({"measure-fill", "section-measure"})


def edit_of(kind: str, data: dict[str, object]) -> Callable[[YDoc], None]:
    """The document edit a stored description stands for (``ValueError`` if unknown)."""
    if kind == "measure-fill":
        description = data.get("description", "")
        progress = data.get("progress", [])
        key = data.get("key", "")
        if not (
            isinstance(description, str)
            and isinstance(key, str)
            and isinstance(progress, list)
            and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                for p in progress
            )
        ):
            raise ValueError("measure-fill: description, progress [[at, text]] and key")
        return fill_measure(description, [(at, text) for at, text in progress], key)
    if kind == "section-measure":
        measure = data.get("measure")
        if not isinstance(measure, str):
            raise ValueError("section-measure: measure")
        return append_measure_id(measure)
    raise ValueError(f"unknown edit kind {kind!r}")


def read_text(state: bytes, field: str) -> str:
    doc: YDoc = Doc()
    doc.apply_update(state)
    return str(doc.get(field, type=Text))
