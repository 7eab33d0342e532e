"""Yjs v1 updates made by the npm ``yjs`` package (tests/interop/make_yupdate_fixtures.mjs),
checked in as tests/fixtures/yjs_updates.json with the ranges yjs itself decodes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "yjs_updates.json"


@dataclass(frozen=True)
class YjsUpdate:
    name: str
    update: bytes
    ranges: tuple[tuple[int, int, int], ...]  # (client, start, end) in the update's order
    kinds: frozenset[str]
    deletes: int


@cache
def yjs_updates() -> dict[str, YjsUpdate]:
    data = json.loads(FIXTURES.read_text())
    return {
        case["name"]: YjsUpdate(
            name=case["name"],
            update=bytes.fromhex(case["update"]),
            ranges=tuple((r["client"], r["start"], r["end"]) for r in case["ranges"]),
            kinds=frozenset(case["kinds"]),
            deletes=case["deletes"],
        )
        for case in data["cases"]
    }
