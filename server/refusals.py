"""How a refusal (``collab.refusal``) travels: the one table from code to HTTP status,
and the Socket.IO acknowledgement. The wire code is the code itself, on HTTP
(``{"error": {"code", "message"}}``) and on Socket.IO
(``{"ok": false, "error": {"code", "message"}}``) alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from collab.refusal import RefusalCode, Refused

HTTP_STATUS: Mapping[RefusalCode, int] = MappingProxyType(
    {
        "unauthenticated": 401,
        "forbidden": 403,
        "not-found": 404,
        "malformed": 400,
        "conflict": 409,
        "too-large": 413,
        "unsupported-media-type": 415,
        "rate-limited": 429,
        "unavailable": 503,
        # Socket.IO only (PROTOCOL.md); were one ever answered over HTTP:
        "not-joined": 409,
        "foreign-client": 403,
    }
)


def wire_code(code: RefusalCode) -> str:
    """What a client reads in ``error.code``."""
    return code


def ack(code: RefusalCode, message: str) -> dict[str, Any]:
    """A refused Socket.IO event's acknowledgement."""
    return {"ok": False, "error": {"code": wire_code(code), "message": message}}


def ack_refused(refused: Refused) -> dict[str, Any]:
    """``refused`` as a Socket.IO acknowledgement: its message for the person, else its
    reason."""
    return ack(refused.code, refused.message or refused.reason)
