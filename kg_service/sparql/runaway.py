"""Queries that just ran past the deadline are refused at once for a while, instead of burning a worker again.

Two workers are easy to exhaust: one hostile query a second, each holding a worker for the whole deadline,
starves everyone else (measured in bench/load.py). Remembering the tokens of every query cut at the
deadline (comments, spacing and keyword case do not make it new) turns each repeat into an immediate 503 with Retry-After,
so the workers stay free for other queries. Per graph version, bounded in size and time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from kg_service.errors import QueryTimeout
from kg_service.sparql.lexer import normalize

REMEMBER_S = 300.0
MAX_REMEMBERED = 1024


class RunawayGuard:
    """Wraps a runner (worker pool or remote): remembers queries cut at the deadline and refuses their repeats."""

    def __init__(self, runner: Any, full_timeout_s: float, remember_s: float = REMEMBER_S) -> None:
        self.runner = runner
        self.full_timeout_s = full_timeout_s
        self.remember_s = remember_s
        self._cut: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, normalized: str) -> str:
        return hashlib.sha256(normalized.encode()).hexdigest()

    def _refuse_repeat(self, job: Any) -> str:
        """The query's key; raises QueryTimeout at once if the same tokens were cut at the deadline recently."""
        key = self._key(getattr(job, "normalized", None) or normalize(job.query))
        now = time.monotonic()
        with self._lock:
            cut_at = self._cut.get(key)
            if cut_at is not None and now - cut_at > self.remember_s:
                del self._cut[key]
                cut_at = None
        if cut_at is not None:
            wait = int(self.remember_s - (now - cut_at)) + 1
            raise QueryTimeout(f"This query ran past the time limit {now - cut_at:.0f} s ago and is refused "
                               f"for {wait} s more, so that it cannot hold every worker.",
                               hint="Add LIMIT, narrow the patterns, or avoid cartesian products.",
                               headers={"Retry-After": str(wait)}, limit="time", repeated=True)
        return key

    def _remember(self, key: str, timeout_s: float) -> None:
        if timeout_s < self.full_timeout_s:  # cut by the client's own lower timeout=: not a runaway
            return
        with self._lock:
            self._cut[key] = time.monotonic()
            self._cut.move_to_end(key)
            while len(self._cut) > MAX_REMEMBERED:
                self._cut.popitem(last=False)

    def run(self, job: Any, timeout_s: float, cancel: threading.Event | None = None) -> Any:
        key = self._refuse_repeat(job)
        try:
            return self.runner.run(job, timeout_s, cancel)
        except QueryTimeout:
            self._remember(key, timeout_s)
            raise

    @property
    def asynchronous(self) -> bool:
        """Whether the wrapped runner answers on the event loop (the worker pool) rather than in a thread."""
        return hasattr(self.runner, "run_async")

    async def run_async(self, job: Any, timeout_s: float, cancel: threading.Event | None = None,
                        gone: Any = None) -> Any:
        key = self._refuse_repeat(job)
        try:
            return await self.runner.run_async(job, timeout_s, cancel, gone)
        except QueryTimeout:
            self._remember(key, timeout_s)
            raise

    def __getattr__(self, name: str) -> Any:  # stats, close, ... of the wrapped runner
        return getattr(self.runner, name)
