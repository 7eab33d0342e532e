"""Rate limits (server/http/ratelimit.py): refill, eviction, and the per-address limit
of state-changing API calls (issue 15). The bucket tests drive the limiter's injectable
clock, so nothing waits."""

from __future__ import annotations

from server.http.ratelimit import RateLimiter
from tests.conftest import Demo, LiveServer, load_demo_into, start_server, test_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def takes(limiter: RateLimiter, key: str, limit: tuple[int, float], n: int) -> list[bool]:
    return [limiter.allow("b", key, limit) for _ in range(n)]


def test_a_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limit = (3, 3.0)  # three, one more each second
    assert takes(limiter, "k", limit, 4) == [True, True, True, False]
    clock.now += 0.5
    assert takes(limiter, "k", limit, 1) == [False]  # half a token
    clock.now += 0.5
    assert takes(limiter, "k", limit, 2) == [True, False]
    clock.now += 1000  # a long pause refills to the capacity, no further
    assert takes(limiter, "k", limit, 4) == [True, True, True, False]
    # Refused attempts do not reset the refill: two seconds give two tokens.
    clock.now += 2
    assert takes(limiter, "k", limit, 3) == [True, True, False]


def test_keys_have_their_own_buckets_and_a_zero_limit_refuses() -> None:
    limiter = RateLimiter(Clock())
    assert takes(limiter, "a", (1, 60.0), 2) == [True, False]
    assert takes(limiter, "b", (1, 60.0), 1) == [True]
    assert limiter.allow("other-bucket", "a", (1, 60.0))
    assert not limiter.allow("b", "c", (0, 60.0))


def test_the_least_recently_used_key_is_forgotten_first() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, max_keys=2)
    limit = (1, 3600.0)
    assert takes(limiter, "a", limit, 1) == [True]
    assert takes(limiter, "b", limit, 1) == [True]
    assert takes(limiter, "a", limit, 1) == [False]  # a is used again: now the newest
    assert takes(limiter, "c", limit, 1) == [True]  # b, the oldest, is forgotten
    assert takes(limiter, "a", limit, 1) == [False]  # a kept its empty bucket
    assert takes(limiter, "b", limit, 1) == [True]  # b starts afresh (c is forgotten)
    assert takes(limiter, "c", limit, 1) == [True]
    assert len(limiter._buckets) == 2


async def test_writes_are_limited_per_credential_and_five_times_that_per_address(
    sqlite_url: str,
) -> None:
    server: LiveServer = await start_server(test_settings(sqlite_url, rate_write=(2, 3600.0)))
    try:
        demo: Demo = await load_demo_into(server)
        plan = demo.per
        path = f"/api/plans/{plan['id']}/consent/withdraw"
        body = {"participant": demo.person(plan, "ali")["id"]}
        statuses = []
        async with server.http(demo.token(plan, "per")) as per:
            for _ in range(3):
                statuses.append((await per.post(path, json=body)).status_code)
        assert statuses == [200, 200, 429]  # the credential's two
        # The address has used 3 of its 10: seven more calls pass the limiter (and are
        # refused for want of a credential), the next is limited.
        async with server.http() as anonymous:
            answers = [(await anonymous.post(path, json=body)).status_code for _ in range(8)]
        assert answers == [401] * 7 + [429]
        async with server.http(demo.token(plan, "maria")) as maria:
            limited = await maria.post(path, json=body)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate-limited"
        # Reading is never limited.
        async with server.http(demo.token(plan, "per")) as per:
            assert (await per.get(f"/api/plans/{plan['id']}")).status_code == 200
    finally:
        await server.stop()
