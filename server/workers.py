"""CPU-bound work off the event loop: a small pool of worker processes for rendering
minutes (PDF, HTML, the owner's summary) and building document snapshots.

ReportLab is pure Python and pycrdt holds the GIL during each call, so a thread would
still take the interpreter from the event loop; worker processes do not, and a worker
that crashes (a hostile document) does not take the server with it. The pool is started
in the app's lifespan, has ``workers`` processes, lets at most ``max_waiting`` more jobs
wait for one, and gives each job ``time_limit`` seconds: inside the worker an interval
timer interrupts the job, and should that not work (stuck in C code), the parent kills the
workers and starts new ones. A job that cannot be done (pool busy, time limit, a crashed
worker, an error) raises :class:`Unavailable`; routes answer ``503 unavailable``.

Jobs get plain data only (a JSON text of content already filtered to the reader, bytes,
a few strings), never ORM objects. Concurrent renders of the same key share one job, and
a render that failed or ran out of time is not tried again for ``failure_ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import signal
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import FrameType
from typing import Any, Literal, TypeVar, cast

from server.metrics import Metrics

__all__ = ["Job", "JobKind", "Unavailable", "WorkerPool", "build_snapshot", "run_job"]

log = logging.getLogger("planrom.workers")

T = TypeVar("T")
JobKind = Literal["minutes-pdf", "minutes-html", "summary-html"]

# Worker processes are replaced after this many jobs (ReportLab keeps caches).
TASKS_PER_WORKER = 50
# How long past the time limit the parent waits before it kills a worker itself.
KILL_GRACE_SECONDS = 5.0
# How many failed renders are remembered (so that they are not retried at once).
MAX_FAILURES_KEPT = 1000


@dataclass(frozen=True)
class Job:
    """One rendering job: plain, picklable data."""

    kind: JobKind
    content_json: str  # the minutes content, filtered to the reader
    lang: str
    owner_name: str = ""


class Unavailable(Exception):
    """The job could not be done now; ``retry_after`` is a hint in seconds."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# --- the worker side -----------------------------------------------------------------------


def run_job(job: Job) -> bytes:
    """Render one job (in the calling process)."""
    from server import minutes

    content = cast(minutes.MinutesContent, json.loads(job.content_json))
    if job.kind == "minutes-pdf":
        return minutes.render_minutes_pdf(content, job.lang)
    if job.kind == "minutes-html":
        return minutes.render_minutes_html(content, job.lang).encode()
    if job.kind == "summary-html":
        return minutes.render_owner_summary_html(content, job.owner_name, job.lang).encode()
    raise ValueError(f"unknown job kind {job.kind!r}")


def build_snapshot(snapshot: bytes | None, updates: list[bytes]) -> bytes:
    """A document's state from its last snapshot and the updates after it."""
    from pycrdt import Doc

    ydoc: Doc[Any] = Doc()
    if snapshot is not None:
        ydoc.apply_update(snapshot)
    for update in updates:
        ydoc.apply_update(update)
    return bytes(ydoc.get_update())


class _OverTime(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _OverTime()


def _worker_init() -> None:
    # The parent handles Ctrl-C and stops the pool; a worker ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, _on_alarm)


def _in_worker(fn: Callable[..., Any], args: tuple[Any, ...], time_limit: float) -> Any:
    """Run ``fn(*args)`` with an interval timer as its time limit."""
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        return ("done", fn(*args))
    except _OverTime:
        return ("timeout", None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _context() -> multiprocessing.context.BaseContext:
    """Workers are forked from a clean server process (never from this one, whose
    threads may hold locks), with the renderer already imported."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(
            ["server.minutes", "server.planprint", "server.workers", "pycrdt"]
        )
        return ctx
    return multiprocessing.get_context("spawn")


# --- the server side -----------------------------------------------------------------------


class WorkerPool:
    def __init__(
        self,
        *,
        workers: int,
        time_limit: float,
        max_waiting: int,
        failure_ttl: float,
        metrics: Metrics,
        kill_grace: float = KILL_GRACE_SECONDS,
    ) -> None:
        self.workers = max(1, workers)
        self.time_limit = time_limit
        self.max_waiting = max(0, max_waiting)
        self.failure_ttl = failure_ttl
        self.metrics = metrics
        self.kill_grace = kill_grace
        self._executor: ProcessPoolExecutor | None = None
        self._tasks: asyncio.TaskGroup | None = None
        self._slots = asyncio.Semaphore(self.workers)
        self._waiting = 0
        self._inflight: dict[str, asyncio.Task[bytes | Unavailable]] = {}
        self._failed: OrderedDict[str, float] = OrderedDict()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_context(),
            initializer=_worker_init,
            max_tasks_per_child=TASKS_PER_WORKER,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WorkerPool]:
        """Run the pool (its processes start with the first job)."""
        self._executor = self._new_executor()
        try:
            async with asyncio.TaskGroup() as tasks:
                self._tasks = tasks
                try:
                    yield self
                finally:
                    self._tasks = None
                    executor, self._executor = self._executor, None
                    if executor is not None:
                        _kill_workers(executor)
                        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        finally:
            self._executor = None

    # --- jobs -------------------------------------------------------------------------

    async def render(self, key: str, job: Job) -> bytes:
        """The rendered bytes of ``job``. ``key`` names the job (same key, same bytes):
        concurrent calls for one key share one render, and a caller that goes away does
        not stop it for the others. Raises :class:`Unavailable`."""
        failed_at = self._failed.get(key)
        if failed_at is not None:
            if time.monotonic() - failed_at < self.failure_ttl:
                self.metrics.count_render("refused-after-failure")
                raise Unavailable("failed-recently", int(self.failure_ttl))
            del self._failed[key]
        task = self._inflight.get(key)
        if task is None:
            if self._tasks is None:
                raise Unavailable("not-running", 5)
            task = self._tasks.create_task(self._render(key, job))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        else:
            self.metrics.count_render("shared")
        result = await asyncio.shield(task)
        if isinstance(result, Unavailable):
            raise Unavailable(result.reason, result.retry_after)
        return result

    async def _render(self, key: str, job: Job) -> bytes | Unavailable:
        # Refusals are returned, never raised: one failed job must not end the task group.
        result = await self._run(run_job, job)
        if isinstance(result, Unavailable):
            self.metrics.count_render(result.reason)
            if result.reason in ("time-limit", "failed"):
                self._remember_failure(key)
        else:
            self.metrics.count_render("rendered")
        return result

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker (``fn`` importable by name, arguments picklable);
        raises :class:`Unavailable`."""
        result = await self._run(fn, *args)
        if isinstance(result, Unavailable):
            raise result
        return result

    async def build_snapshot(self, snapshot: bytes | None, updates: list[bytes]) -> bytes:
        """:func:`build_snapshot` in a worker; raises :class:`Unavailable`."""
        result = await self._run(build_snapshot, snapshot, updates)
        if isinstance(result, Unavailable):
            self.metrics.count_event(f"snapshot-{result.reason}")
            raise result
        self.metrics.count_event("snapshot-built")
        return result

    async def _run(self, fn: Callable[..., T], *args: Any) -> T | Unavailable:
        """``fn(*args)`` in a worker, when one is free (waiting at most the time limit)."""
        if self._executor is None:
            return Unavailable("not-running", 5)
        if self._slots.locked() and self._waiting >= self.max_waiting:
            return Unavailable("busy", 5)
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.time_limit)
        except TimeoutError:
            return Unavailable("busy", 5)
        finally:
            self._waiting -= 1
        try:
            return cast(T | Unavailable, await self._submit(fn, args))
        finally:
            self._slots.release()

    async def _submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        executor = self._executor
        if executor is None:
            return Unavailable("not-running", 5)
        try:
            future: Future[tuple[str, Any]] = executor.submit(_in_worker, fn, args, self.time_limit)
            outcome, value = await asyncio.wait_for(
                asyncio.wrap_future(future), self.time_limit + self.kill_grace
            )
        except TimeoutError:
            # The worker did not stop itself (stuck in C code?): end it, start afresh.
            self._restart(executor)
            outcome, value = "timeout", None
        except BrokenProcessPool:
            log.warning("a worker process died during %s", getattr(fn, "__name__", fn))
            self._restart(executor)
            return Unavailable("worker-died", 5)
        except Exception:  # the job raised: say so, keep serving
            log.exception("%s failed in a worker", getattr(fn, "__name__", fn))
            return Unavailable("failed", int(self.failure_ttl))
        if outcome == "timeout":
            return Unavailable("time-limit", int(self.failure_ttl))
        return value

    def _remember_failure(self, key: str) -> None:
        self._failed[key] = time.monotonic()
        self._failed.move_to_end(key)
        while len(self._failed) > MAX_FAILURES_KEPT:
            self._failed.popitem(last=False)

    def _restart(self, executor: ProcessPoolExecutor) -> None:
        if self._executor is executor:
            self._executor = self._new_executor()
        _kill_workers(executor)
        executor.shutdown(wait=False, cancel_futures=True)


def _kill_workers(executor: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor cannot stop a running job (Python 3.14 adds kill_workers()).
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGKILL)
