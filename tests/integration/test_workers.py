"""server.workers: jobs run in other processes, within a time limit, and a worker that
dies or hangs costs its job, not the pool."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from server.metrics import Metrics
from server.workers import Unavailable, WorkerPool


def _pid() -> int:
    return os.getpid()


def _spin(seconds: float) -> int:
    """Pure-Python work (holds the GIL, as ReportLab does)."""
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        n += 1
    return n


def _die() -> None:
    os._exit(3)


def _hang() -> None:
    """Deaf to the worker's own timer, as a job stuck in C code would be."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(60)


def pool(**overrides: float) -> WorkerPool:
    settings: dict[str, float] = {
        "workers": 1,
        "time_limit": 2.0,
        "max_waiting": 1,
        "failure_ttl": 60.0,
        "kill_grace": 0.5,
    } | overrides
    return WorkerPool(
        workers=int(settings["workers"]),
        time_limit=settings["time_limit"],
        max_waiting=int(settings["max_waiting"]),
        failure_ttl=settings["failure_ttl"],
        kill_grace=settings["kill_grace"],
        metrics=Metrics(),
    )


async def test_jobs_run_in_another_process() -> None:
    async with pool().running() as workers:
        assert await workers.call(_pid) != os.getpid()
        assert await workers.call(_spin, 0.05) > 0


async def test_a_job_past_the_time_limit_is_stopped_and_the_worker_goes_on() -> None:
    async with pool(time_limit=0.3).running() as workers:
        worker = await workers.call(_pid)
        started = time.monotonic()
        with pytest.raises(Unavailable) as refused:
            await workers.call(_spin, 30)
        assert refused.value.reason == "time-limit"
        assert time.monotonic() - started < 5
        assert await workers.call(_pid) == worker  # stopped by its own timer, not killed


async def test_a_worker_that_dies_costs_its_job_only() -> None:
    async with pool().running() as workers:
        with pytest.raises(Unavailable) as refused:
            await workers.call(_die)
        assert refused.value.reason == "worker-died"
        assert await workers.call(_spin, 0.01) > 0


async def test_a_worker_deaf_to_its_timer_is_killed_and_replaced() -> None:
    async with pool(time_limit=0.3, kill_grace=0.5).running() as workers:
        before = await workers.call(_pid)
        started = time.monotonic()
        with pytest.raises(Unavailable) as refused:
            await workers.call(_hang)
        assert refused.value.reason == "time-limit"
        assert time.monotonic() - started < 10
        after = await workers.call(_pid)
        assert after != before
        assert await _gone(before)


async def _gone(pid: int) -> bool:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_more_jobs_than_workers_and_waiting_room_are_refused_as_busy() -> None:
    async with pool(workers=1, max_waiting=1).running() as workers:
        running = asyncio.create_task(workers.call(_spin, 1.0))
        waiting = asyncio.create_task(workers.call(_spin, 0.01))
        while workers._waiting < 1:  # the second job waits for the worker
            await asyncio.sleep(0.01)
        with pytest.raises(Unavailable) as refused:
            await workers.call(_spin, 0.01)
        assert refused.value.reason == "busy"
        assert await running > 0 and await waiting > 0
