"""One refusal type (``collab.refusal``), mapped once to HTTP statuses and wire codes
(``server.refusals``); the codes PROTOCOL.md names travel unchanged (ADR 0021)."""

from __future__ import annotations

import re
from pathlib import Path

from collab import meeting as sm
from collab import policy
from collab.refusal import CODES, RefusalCode, Refused
from server.http.common import NOT_FOUND_MESSAGE, ApiError
from server.refusals import HTTP_STATUS, ack, ack_refused, wire_code

ROOT = Path(__file__).resolve().parents[2]

# PROTOCOL.md, "Transport": the codes of every acknowledged event.
PROTOCOL_CODES: set[RefusalCode] = {
    "unauthenticated",
    "forbidden",
    "not-found",
    "not-joined",
    "malformed",
    "foreign-client",
    "conflict",
    "rate-limited",
    "unavailable",
}

# The statuses the HTTP API has always answered with (a change is a change of the wire).
HTTP_BEFORE: dict[RefusalCode, int] = {
    "unauthenticated": 401,
    "forbidden": 403,
    "not-found": 404,
    "malformed": 400,
    "conflict": 409,
    "too-large": 413,
    "unsupported-media-type": 415,
    "rate-limited": 429,
    "unavailable": 503,
}


def test_every_code_maps_to_exactly_one_status_and_one_wire_code() -> None:
    assert len(set(CODES)) == len(CODES)
    assert set(HTTP_STATUS) == set(CODES)
    for code in CODES:
        assert 400 <= HTTP_STATUS[code] <= 599, code
    wires = [wire_code(code) for code in CODES]
    assert len(set(wires)) == len(wires)  # no two codes look alike on the wire
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", w) for w in wires)


def test_the_protocol_codes_and_http_statuses_are_unchanged() -> None:
    assert PROTOCOL_CODES <= set(CODES)
    for code in PROTOCOL_CODES:
        assert wire_code(code) == code
    for code, status in HTTP_BEFORE.items():
        assert HTTP_STATUS[code] == status


def test_policy_the_meeting_and_http_share_the_type() -> None:
    assert sm.Refused is Refused
    refused = policy.Decision(False, "no grant on okonomi", "not-found").refused()
    assert (refused.code, refused.reason) == ("not-found", "no grant on okonomi")
    assert policy.Decision(False, "why").refused().code == "forbidden"
    assert isinstance(ApiError("conflict", "Ikke nå."), Refused)


def test_a_refusal_over_http_hides_what_not_found_would_tell() -> None:
    hidden = ApiError.of(Refused("not-found", "section okonomi is not shared with you"))
    assert (hidden.code, hidden.message, hidden.status) == ("not-found", NOT_FOUND_MESSAGE, 404)
    said = ApiError.of(Refused("conflict", "meeting is final", "Møtet er avsluttet."))
    assert (said.message, said.status) == ("Møtet er avsluttet.", 409)
    plain = ApiError.of(Refused("forbidden", "only the chair"))
    assert (plain.message, plain.status) == ("only the chair", 403)


def test_a_refusal_over_socketio_is_the_protocols_ack() -> None:
    assert ack("not-joined", "Join first.") == {
        "ok": False,
        "error": {"code": "not-joined", "message": "Join first."},
    }
    assert ack_refused(Refused("conflict", "not live")) == {
        "ok": False,
        "error": {"code": "conflict", "message": "not live"},
    }


def test_no_other_module_defines_its_own_refusal_vocabulary() -> None:
    own = re.compile(
        r"^RefusalCode\s*=|^STATUS_OF\s*=|\"ok\":\s*False|return \"!|^def _?refuse\(", re.M
    )
    allowed = {ROOT / "collab" / "refusal.py", ROOT / "server" / "refusals.py"}
    found = [
        str(path.relative_to(ROOT))
        for package in ("collab", "server")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path not in allowed and own.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
