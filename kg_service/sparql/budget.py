"""A fairness budget per client: worker-seconds per minute per client address (as the Wikidata Query Service
does), so that one client cannot hold the workers by sending varied slow queries, which the runaway guard
(runaway.py, exact repeats only) does not see. Spent budget answers 429 with Retry-After at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from math import ceil

from kg_service.errors import ClientBudgetSpent

WINDOW_S = 60.0
MAX_CLIENTS = 10_000  # beyond this many tracked addresses, those with nothing in their window are forgotten


class ClientBudget:
    """Per client address, the worker time its /sparql queries used in the last minute (cache hits cost nothing)."""

    def __init__(self, seconds_per_window: float, window_s: float = WINDOW_S, exempt: Iterable[str] = ()) -> None:
        self.limit = seconds_per_window
        self.exempt = frozenset(exempt)
        self.window_s = window_s
        self._spent: dict[str, deque[tuple[float, float]]] = {}
        self._totals: dict[str, float] = {}  # the sum of each client's window, kept as charges come and go
        self._lock = threading.Lock()
        self.refused = 0

    def _prune(self, client: str, now: float) -> float:
        charges = self._spent[client]
        total = self._totals[client]
        while charges and now - charges[0][0] > self.window_s:
            total -= charges.popleft()[1]
        total = max(total, 0.0) if charges else 0.0
        self._totals[client] = total
        return total

    def check(self, client: str) -> None:
        """Raise 429 when the client's last minute already used its share."""
        if self.limit <= 0 or client in self.exempt:
            return
        now = time.monotonic()
        with self._lock:
            charges = self._spent.get(client)
            if not charges:
                return
            spent = self._prune(client, now)
            if spent < self.limit:
                return
            # The budget comes back as the oldest charges leave the window.
            excess, wait = spent - self.limit, 0.0
            for at, seconds in charges:
                excess -= seconds
                wait = at + self.window_s - now
                if excess < 0:
                    break
            self.refused += 1
        retry = max(1, ceil(wait))
        raise ClientBudgetSpent(f"Your queries used {spent:.1f} s of query workers' time in the last "
                                f"{self.window_s:g} s; each client may use {self.limit:g} s.",
                                hint=f"Retry in {retry} s; cached answers (repeated queries) cost nothing.",
                                headers={"Retry-After": str(retry)}, spent_seconds=round(spent, 3),
                                budget_seconds=self.limit, window_seconds=self.window_s)

    def charge(self, client: str, seconds: float) -> None:
        if self.limit <= 0 or client in self.exempt:
            return
        now = time.monotonic()
        with self._lock:
            if client not in self._spent and len(self._spent) >= MAX_CLIENTS:
                for other in [c for c in self._spent if not self._prune(c, now)]:
                    del self._spent[other], self._totals[other]
            self._spent.setdefault(client, deque()).append((now, seconds))
            self._totals[client] = self._totals.get(client, 0.0) + seconds
