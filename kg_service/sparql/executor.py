"""Where user SPARQL runs: a supervised pool of killable worker processes, or the remote store.

The HTTP process never evaluates a user query itself. Each worker opens the one on-disk store read-only;
a query past its deadline is answered 503 and its worker is SIGKILLed and respawned; a worker that crashes
(segfault, abort, out of memory) fails only its own request. Concurrency is bounded by the pool plus a
short queue; beyond that requests get 503 at once with Retry-After.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from kg_service.backends.remote import RemoteCancelled, RemoteEndpoint, RemoteRefused
from kg_service.errors import (
    Overloaded,
    PayloadTooLarge,
    Problem,
    QueryFailed,
    QueryNotEvaluable,
    QuerySyntaxError,
    QueryTimeout,
    QueryTooComplex,
    RefusedFeature,
    UnsupportedFunction,
)
from kg_service.graph import PUBLIC_GRAPH_IRIS, LoadedGraph
from kg_service.settings import Settings
from kg_service.sparql.forkserver import forkserver_context
from kg_service.sparql.prechecks import QUERY_BASE
from kg_service.sparql.results import Serialized
from kg_service.sparql.worker import (
    UNKNOWN_FUNCTION,
    Engine,
    Failure,
    Job,
    Verdict,
    execute,
    query_dataset,
    worker_main,
)

log = logging.getLogger("kg_service.sparql")
POLL_S = 0.05
START_TIMEOUT_S = 120
RESPAWN_ATTEMPTS = 5
CLOSED_POLL_S = 0.1


class Cancelled(Exception):
    """The client went away; its query was stopped."""


class QueryControl(threading.Event):
    """The cancel flag of one query, which also reports how long the query held a worker (for the client budget)."""

    worker_seconds: float = 0.0


class PoolClosed(Exception):
    """The pool belongs to a graph version that a reload replaced before the query got a worker."""


_FAILURES: dict[str, tuple[type[Problem], str | None]] = {
    "syntax": (QuerySyntaxError, "Check the query near the position given."),
    "query-syntax-error": (QuerySyntaxError, "Check the query near the position given."),
    "refused": (RefusedFeature, None), "refused-feature": (RefusedFeature, None),
    "too-complex": (QueryTooComplex, "Flatten nested groups or long operator chains."),
    "query-too-complex": (QueryTooComplex, "Flatten nested groups or long operator chains."),
    "payload-too-large": (PayloadTooLarge, None),
    "function": (UnsupportedFunction, ("Use the SPARQL 1.1 built-in functions and XSD casts; extension functions "
                                      "are not available here.")),
    "evaluation": (QueryNotEvaluable, "Check the query's expressions and types."),
}


def failure_to_problem(failure: Failure) -> Exception:
    """A worker's Failure as the problem the client gets: always a 4xx for what the query did, a 5xx only for a
    worker that ran out of memory or crashed."""
    cls, hint = _FAILURES.get(failure.kind, (QueryFailed, None))
    return cls(failure.message, hint=hint, **failure.extra)


class _Worker:
    def __init__(self, context: Any, source: str | bytes, backend: str, memory_mb: int, niceness: int) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=worker_main, args=(child, source, backend, memory_mb, niceness),
                                       daemon=True)
        self.process.start()
        child.close()

    def wait_ready(self) -> None:
        if not self.connection.poll(START_TIMEOUT_S) or self.connection.recv() != "ready":
            raise RuntimeError("a SPARQL worker did not start")

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


@dataclass
class PoolStats:
    killed_at_deadline: int = 0
    crashed: int = 0
    cancelled: int = 0
    refused_overload: int = 0
    answered_in_process: int = 0  # bounded queries (sparql/bounded.py) that needed no worker


class WorkerPool:
    """N pre-started workers; `run` borrows one, enforces the deadline, and replaces it if it must die."""

    def __init__(self, settings: Settings, loaded: LoadedGraph) -> None:
        self.settings = settings
        # Remote-backend workers hold no store: they only parse and check, killable at the deadline. The others
        # open the on-disk store read-only (one copy in the page cache for all), or get an in-memory one's N-Quads.
        self.source: str | bytes = (b"" if settings.backend == "remote" else
                                    str(loaded.store_path) if getattr(loaded, "store_path", None) else loaded.nquads())
        self.context = forkserver_context(settings.backend)
        self.idle: queue.Queue[_Worker] = queue.Queue()
        self.admission = threading.BoundedSemaphore(settings.worker_count + settings.queue_size)
        self.stats = PoolStats()
        self.closed = False
        # Coroutines waiting for a worker (run_async): a released worker goes to the first of them, else to idle.
        self._waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = collections.deque()
        self._handover = threading.Lock()
        workers = [self._spawn() for _ in range(settings.worker_count)]
        for worker in workers:
            worker.wait_ready()
            self.idle.put(worker)

    def _spawn(self) -> _Worker:
        return _Worker(self.context, self.source, self.settings.backend, self.settings.worker_memory_mb,
                       self.settings.worker_niceness)

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker and start its successor in the background, so the request answers at once."""
        worker.kill()

        def respawn() -> None:
            for attempt in range(RESPAWN_ATTEMPTS):
                if self.closed:
                    return
                fresh = self._spawn()
                try:
                    fresh.wait_ready()
                except (RuntimeError, EOFError, OSError):
                    log.exception("respawning a SPARQL worker failed (attempt %d)", attempt + 1)
                    fresh.kill()
                    time.sleep(1)
                    continue
                self._release(fresh)
                return

        threading.Thread(target=respawn, daemon=True).start()

    def _release(self, worker: _Worker) -> None:
        """To the first coroutine waiting for a worker, else back to the idle queue; stopped instead if the pool
        was closed meanwhile (a reload). Called from the event loop and from respawn threads alike."""
        if self.closed:
            worker.kill()
            return
        with self._handover:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                if not waiter.done():
                    loop.call_soon_threadsafe(self._hand_over, waiter, worker)
                    return
            self.idle.put(worker)

    def _hand_over(self, waiter: asyncio.Future, worker: _Worker) -> None:
        """On the waiter's loop: give it the worker, or release the worker again if the waiter gave up meanwhile."""
        if waiter.done():
            self._release(worker)
        else:
            waiter.set_result(worker)

    def _usable(self, worker: _Worker) -> bool:
        if self.closed:
            worker.kill()
            raise PoolClosed()
        if worker.process.is_alive():
            return True
        self.stats.crashed += 1
        self._replace(worker)
        return False

    async def _idle_worker_async(self, deadline: float) -> _Worker:
        """run's _idle_worker for the event loop: waits without a thread, woken by _release."""
        loop = asyncio.get_running_loop()
        while True:
            if self.closed:
                raise PoolClosed()
            waiter: asyncio.Future | None = None
            with self._handover:
                try:
                    worker = self.idle.get_nowait()
                except queue.Empty:
                    waiter = loop.create_future()
                    self._waiters.append((loop, waiter))
            if waiter is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    waiter.cancel()
                    raise Overloaded("No SPARQL worker became free within the time limit.",
                                     headers={"Retry-After": "2"})
                try:
                    worker = await asyncio.wait_for(waiter, min(remaining, CLOSED_POLL_S))
                except TimeoutError:
                    continue  # the waiter is cancelled; a worker handed to it meanwhile is released again
            if self._usable(worker):
                return worker

    def _idle_worker(self, deadline: float) -> _Worker:
        """A live idle worker; one that died while idle (e.g. killed from outside) is replaced, not used."""
        while True:
            if self.closed:
                raise PoolClosed()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Overloaded("No SPARQL worker became free within the time limit.",
                                 headers={"Retry-After": "2"})
            try:
                worker = self.idle.get(timeout=min(remaining, CLOSED_POLL_S))
            except queue.Empty:
                continue
            if self._usable(worker):
                return worker

    def _admit(self) -> None:
        if not self.admission.acquire(blocking=False):
            self.stats.refused_overload += 1
            raise Overloaded("All SPARQL workers are busy and the queue is full.", hint="Retry in a few seconds.",
                             headers={"Retry-After": "2"})

    def _limit(self, timeout_s: float) -> float:
        """Never beyond the configured deadline, whatever the caller asks (a NaN would never expire)."""
        limit = self.settings.query_timeout_s
        return min(timeout_s, limit) if math.isfinite(timeout_s) and timeout_s > 0 else limit

    def _timed_out(self, worker: _Worker, timeout_s: float) -> QueryTimeout:
        self.stats.killed_at_deadline += 1
        self._replace(worker)
        return QueryTimeout(f"The query ran past the {timeout_s:g} s time limit and was stopped.",
                            hint="Add LIMIT, narrow the patterns, or avoid cartesian products.",
                            headers={"Retry-After": "1"}, limit="time", limit_seconds=timeout_s)

    def _cancelled(self, worker: _Worker) -> Cancelled:
        self.stats.cancelled += 1
        self._replace(worker)
        return Cancelled()

    def _crashed(self, worker: _Worker) -> QueryFailed:
        self.stats.crashed += 1
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        self._replace(worker)
        log.warning("SPARQL worker died with exit code %s", code)
        # A Rust allocation failure under RLIMIT_AS aborts (SIGABRT), and so does an engine panic (Oxigraph 0.5.13's
        # ORDER BY over numbers mixed with strings: tests/test_w3c_syntax.py); a stack overflow segfaults.
        cause = "it aborted: out of its memory limit, or an engine fault" if code == -6 else "it crashed"
        return QueryFailed(f"The worker evaluating the query stopped ({cause}); nothing else was affected.",
                           hint="Reduce what the query builds (long strings, huge joins, deep nesting).",
                           limit="memory" if code == -6 else "crash",
                           limit_megabytes=self.settings.worker_memory_mb)

    @contextlib.contextmanager
    def _holding(self, worker: _Worker, cancel: threading.Event | None) -> Iterator[float]:
        """While a query holds `worker` (yields when it started): a pipe that breaks is the worker's crash, a
        request task cancelled meanwhile leaves the worker in an unknown state (replaced), and the time held is
        told to the client's budget."""
        held_from = time.monotonic()
        try:
            yield held_from
        except (EOFError, OSError):
            raise self._crashed(worker) from None
        except asyncio.CancelledError:
            self._replace(worker)
            raise
        finally:
            if isinstance(cancel, QueryControl):
                cancel.worker_seconds = time.monotonic() - held_from

    def _answer(self, worker: _Worker, result: Serialized | Failure) -> Serialized:
        self._release(worker)
        if isinstance(result, Failure):
            raise failure_to_problem(result)
        return result

    def run(self, job: Job, timeout_s: float, cancel: threading.Event | None = None) -> Serialized:
        """One query from a thread (the query CLI, the remote backend's checks): blocks until it is answered."""
        self._admit()
        try:
            timeout_s = self._limit(timeout_s)
            # Waiting for a worker has its own bound; the deadline counts only the query's own run, so a query
            # that merely queued behind a slow one is not killed (nor remembered as a runaway).
            worker = self._idle_worker(time.monotonic() + self.settings.queue_timeout_s)
            with self._holding(worker, cancel) as held_from:
                deadline = held_from + timeout_s
                worker.connection.send(job)
                while not worker.connection.poll(POLL_S):
                    if cancel is not None and cancel.is_set():
                        raise self._cancelled(worker)
                    if time.monotonic() > deadline:
                        raise self._timed_out(worker, timeout_s)
                result = worker.connection.recv()
            return self._answer(worker, result)
        finally:
            self.admission.release()

    async def run_async(self, job: Job, timeout_s: float, cancel: threading.Event | None = None,
                        gone: Callable[[], Awaitable[bool]] | None = None) -> Serialized:
        """run for the event loop, with no thread: the worker's pipe is watched by the loop itself (add_reader),
        so a short query costs two pipe writes and one wake-up instead of a thread hand-off and a poll loop.
        `gone` (asked only while a query runs long) tells whether the client went away: its worker is stopped."""
        self._admit()
        try:
            timeout_s = self._limit(timeout_s)
            worker = await self._idle_worker_async(time.monotonic() + self.settings.queue_timeout_s)
            with self._holding(worker, cancel) as held_from:
                outcome = await self._await_worker(worker, job, held_from + timeout_s, cancel, gone)
                if outcome == "cancelled":
                    raise self._cancelled(worker)
                if outcome == "timeout":
                    raise self._timed_out(worker, timeout_s)
                result = worker.connection.recv()
            return self._answer(worker, result)
        finally:
            self.admission.release()

    @staticmethod
    async def _await_worker(worker: _Worker, job: Job, deadline: float, cancel: threading.Event | None,
                            gone: Callable[[], Awaitable[bool]] | None) -> str:
        """Send the job; wait until the worker's answer is readable ("ready"), the deadline ("timeout") or the
        client's cancel ("cancelled"). The reader is removed before the caller may kill the worker."""
        loop = asyncio.get_running_loop()
        worker.connection.send(job)
        readable = loop.create_future()
        fd = worker.connection.fileno()
        loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "timeout"
                done, _ = await asyncio.wait((readable,), timeout=min(POLL_S * 2, remaining))
                if done:
                    return "ready"
                if (cancel is not None and cancel.is_set()) or (gone is not None and await gone()):
                    return "cancelled"
        finally:
            loop.remove_reader(fd)
            # The loop's watcher (libuv's poll under uvloop) leaves the descriptor non-blocking: recv must block
            # until a long answer has arrived whole, not fail half-way through it.
            os.set_blocking(fd, True)

    def close(self) -> None:
        self.closed = True
        while True:
            try:
                worker = self.idle.get_nowait()
            except queue.Empty:
                break
            try:
                worker.connection.send(None)
            except OSError:
                pass
            worker.kill()


class RemoteRunner:
    """User SPARQL forwarded, after the same pre-checks, to the remote SPARQL endpoint of --backend remote.

    Through the service's one remote client (`backends.remote.RemoteEndpoint`): the dataset is named on every
    request (the public graphs unless the client chose among them), the answer's bytes pass through unchanged in
    the negotiated format, and the wall-clock deadline and the byte limit hold while reading.
    """

    def __init__(self, settings: Settings, checks: WorkerPool | None = None) -> None:
        self.settings = settings
        self.endpoint = RemoteEndpoint(settings.endpoint, settings.query_timeout_s)
        # rdflib's parse can take seconds of pure-Python CPU (a 16 KB operator chain: 23 s): it runs in the
        # pool's killable workers, under the same deadline and admission limits, never in the HTTP process.
        self.checks = checks

    def _verdict(self, job: Job, timeout_s: float, cancel: threading.Event | None) -> Verdict:
        check = replace(job, check_only=True)
        if self.checks is not None:
            return self.checks.run(check, timeout_s, cancel)  # type: ignore[return-value]
        result = execute(Engine(b"", "remote"), check)  # in process: the query CLI
        if isinstance(result, Failure):
            raise failure_to_problem(result)
        return result  # type: ignore[return-value]

    def run(self, job: Job, timeout_s: float, cancel: threading.Event | None = None) -> Serialized:
        started = time.monotonic()
        verdict = self._verdict(job, timeout_s, cancel)
        default, named = query_dataset(job, verdict) or (PUBLIC_GRAPH_IRIS, PUBLIC_GRAPH_IRIS)
        try:
            # Relative IRIs resolve against the ontology base on every engine, not the remote endpoint's URL.
            body = self.endpoint.fetch(f"BASE <{QUERY_BASE}>\n{job.query}", job.media_type, default_graphs=default,
                                       named_graphs=named, timeout_s=max(0.05, started + timeout_s - time.monotonic()),
                                       max_bytes=job.limits.bytes, cancel=cancel)
        except RemoteCancelled:
            raise Cancelled() from None
        except RemoteRefused as refused:
            if refused.remote_status == 400:
                raise QuerySyntaxError("The remote SPARQL endpoint rejected the query as malformed.") from None
            function = UNKNOWN_FUNCTION.search(refused.said)
            if function:  # the Oxigraph server answers 500 where the embedded engine raises
                raise UnsupportedFunction(f"The function {function.group(1)} is not supported by this endpoint.",
                                          function=function.group(1)[1:-1]) from None
            raise
        return Serialized(body, job.media_type, rows=-1)

    def close(self) -> None:
        self.endpoint.close()
        if self.checks is not None:
            self.checks.close()


def create_runner(settings: Settings, loaded: LoadedGraph) -> WorkerPool | RemoteRunner:
    if settings.backend == "remote":
        return RemoteRunner(settings, WorkerPool(settings, loaded))
    return WorkerPool(settings, loaded)
