"""Rate limits for HTTP: token buckets per (bucket, key), in the memory of one process.

Buckets: ``sign-in`` (per client address: sign-in, callback, invitation pages),
``invite`` (per person: new invitations), ``write`` (every state-changing API call,
per credential and, five times larger, per address), and per person: ``costly-read``
(GETs that cost: minutes in any format, the summary, history, access log, changes,
overdue), ``render`` (minutes that are not stored yet and must be rendered) and
``refused`` (403 and 404 answers; once it is empty every request of that person waits).
Refusals say when to come back (``Retry-After``). The number of keys is bounded: the
least recently used bucket is forgotten first, so hostile clients cannot grow it without
limit. With several processes each keeps its own buckets (a client's effective limit is
the limit times the number of processes it reaches).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from server.auth.identity import SESSION_COOKIE

MAX_KEYS = 20_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS
    ) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()

    def allow(self, bucket: str, key: str, limit: tuple[int, float]) -> bool:
        """Take one token from ``bucket``/``key``: ``limit`` is (capacity, per seconds)."""
        return self.take(bucket, key, limit) == 0

    def take(self, bucket: str, key: str, limit: tuple[int, float]) -> int:
        """Take one token; 0 if there was one, else the whole seconds until there is."""
        found = self._bucket(bucket, key, limit)
        if found is None or found.tokens < 1:
            return self.wait(bucket, key, limit)
        found.tokens -= 1
        return 0

    def give_back(self, bucket: str, key: str, limit: tuple[int, float]) -> None:
        """Return a token taken for something that did not happen (up to capacity)."""
        found = self._bucket(bucket, key, limit)
        if found is not None:
            found.tokens = min(float(limit[0]), found.tokens + 1)

    def wait(self, bucket: str, key: str, limit: tuple[int, float]) -> int:
        """Whole seconds until ``bucket``/``key`` has a token (0: it has one); takes none."""
        capacity, per = limit
        found = self._bucket(bucket, key, limit)
        if found is None:
            return max(1, math.ceil(per))
        if found.tokens >= 1:
            return 0
        return max(1, math.ceil((1 - found.tokens) * per / capacity))

    def _bucket(self, bucket: str, key: str, limit: tuple[int, float]) -> _Bucket | None:
        """The bucket, refilled up to now (None when the limit allows nothing)."""
        capacity, per = limit
        if capacity <= 0:
            return None
        now = self._clock()
        slot = (bucket, key)
        found = self._buckets.get(slot)
        if found is None:
            found = _Bucket(float(capacity), now)
            self._buckets[slot] = found
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(slot)
            found.tokens = min(float(capacity), found.tokens + (now - found.at) * capacity / per)
            found.at = now
        return found


def limiter_of(state: Any) -> RateLimiter:
    """The limiter of one app (kept on ``app.state``)."""
    found = getattr(state, "rate_limiter", None)
    if not isinstance(found, RateLimiter):
        found = RateLimiter()
        state.rate_limiter = found
    return found


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def credential_key(request: Request) -> str | None:
    """A short digest of the caller's credential (bearer token or session cookie)."""
    raw = request.headers.get("authorization") or request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    return hashlib.sha256(raw[:500].encode()).hexdigest()[:32]


def allow_write(request: Request, limit: tuple[int, float]) -> bool:
    """The ``write`` bucket: per credential when there is one, and per address."""
    limiter = limiter_of(request.app.state)
    capacity, per = limit
    if not limiter.allow("write-address", client_address(request), (capacity * 5, per)):
        return False
    key = credential_key(request)
    return key is None or limiter.allow("write", key, limit)


def allow_sign_in(request: Request, limit: tuple[int, float]) -> bool:
    return limiter_of(request.app.state).allow("sign-in", client_address(request), limit)


def allow_invite(request: Request, person: str, limit: tuple[int, float]) -> bool:
    return limiter_of(request.app.state).allow("invite", person, limit)


def allow_start_plan(request: Request, person: str, limit: tuple[int, float]) -> bool:
    return limiter_of(request.app.state).allow("start-plan", person, limit)


def costly_read_wait(request: Request, person: str, limit: tuple[int, float]) -> int:
    """Take a ``costly-read`` token for ``person``; seconds to wait when there is none."""
    return limiter_of(request.app.state).take("costly-read", person, limit)


def render_wait(request: Request, person: str, limit: tuple[int, float]) -> int:
    """Take a ``render`` token for ``person``; seconds to wait when there is none."""
    return limiter_of(request.app.state).take("render", person, limit)


def reserve_refused(request: Request, person: str, limit: tuple[int, float]) -> int:
    """Hold one ``refused`` token while ``person``'s request runs (0), or the seconds to
    wait when none is left. Reserving before the answer is known keeps concurrent
    requests from all passing the check and overshooting the budget; an answer that is
    not a refusal gives the token back (:func:`release_refused`)."""
    return limiter_of(request.app.state).take("refused", person, limit)


def release_refused(request: Request, person: str, limit: tuple[int, float]) -> None:
    """The request that held a ``refused`` token was not refused: give it back."""
    limiter_of(request.app.state).give_back("refused", person, limit)


def count_refused(request: Request, person: str, limit: tuple[int, float]) -> None:
    """``person`` got a 403 or 404 answer without a reserved token."""
    limiter_of(request.app.state).take("refused", person, limit)
