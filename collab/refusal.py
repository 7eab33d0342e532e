"""One vocabulary for "no": the refusal that policy decides, the meeting state machine
raises, and HTTP and Socket.IO send.

A refusal has a ``code`` (what a client may act on: PROTOCOL.md's kebab-case error
codes, sent as they are), a ``reason`` (why, for the access log and the developer) and,
when given, a ``message`` worded for the person. Pure: how a code travels (an HTTP
status, a Socket.IO acknowledgement) is the server's one table, ``server.refusals``.
"""

from __future__ import annotations

from typing import Literal, get_args

RefusalCode = Literal[
    "unauthenticated",  # nobody signed in (or the credentials are not valid)
    "forbidden",  # signed in, but may not do this
    "not-found",  # no such thing, or one the person may not know exists
    "malformed",  # the request does not have the right shape
    "conflict",  # not now: the thing's state does not allow it
    "too-large",  # a body, message, document or state over its limit
    "unsupported-media-type",  # a body of a type the route does not take
    "rate-limited",  # too many: wait (HTTP says how long)
    "unavailable",  # the server cannot do it right now: try again
    "not-joined",  # Socket.IO: join the document or meeting first
    "foreign-client",  # Socket.IO: a Yjs clientID bound to someone else
]

# Every code, in the order above.
CODES: tuple[RefusalCode, ...] = get_args(RefusalCode)


class Refused(Exception):
    """Something may not be done. ``reason`` may name what the person may not know of:
    it goes to the access log, and to the person only where the transport says so
    (``not-found`` never shows it)."""

    def __init__(self, code: RefusalCode, reason: str, message: str | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code: RefusalCode = code
        self.reason = reason
        self.message = message
