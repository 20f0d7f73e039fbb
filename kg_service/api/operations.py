"""Operations: liveness, readiness (graph version and size), Prometheus metrics, access logs, security headers."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from bisect import bisect_left
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.utils import floatToGoString
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg_service.api.common import ROUTE_KEY, State
from kg_service.api.models import Readiness

router = APIRouter(tags=["operations"])
access_log = logging.getLogger("kg_service.access")


class RequestStats:
    """Request counts and latency histograms in plain dicts, written by the event loop's one thread and turned into
    Prometheus families only when /metrics is scraped: prometheus_client's Counter and Histogram take a lock and
    walk their buckets on every update, a quarter of what a cached answer costs this process."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, list[float]] = {}  # route -> per-bucket counts (not cumulative), then the sum

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        histogram = self.latency.get(route)
        if histogram is None:
            histogram = self.latency[route] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        histogram[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        histogram[-1] += seconds

    def collect(self):
        requests = CounterMetricFamily("kg_http_requests", "HTTP requests", labels=["method", "route", "status"])
        for (method, route, status), count in self.counts.copy().items():
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily("kg_http_request_duration_seconds", "HTTP request latency", labels=["route"])
        for route, histogram in self.latency.copy().items():
            cumulative, buckets = 0.0, []
            for bound, count in zip(_BUCKET_NAMES, histogram[:-1]):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric([route], buckets, sum_value=histogram[-1])
        yield latency


LATENCY_BUCKETS = tuple(b for b in Histogram.DEFAULT_BUCKETS if b != float("inf"))
_BUCKET_NAMES = [floatToGoString(b) for b in LATENCY_BUCKETS] + ["+Inf"]


class Metrics:
    """One registry per app (no global state): requests, latencies, stored-query durations, worker pool events,
    and the process's own CPU, memory and start time (each process of `serve --processes N` answers for itself)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        Gauge("kg_server_process", "This server process, by pid (serve --processes N runs several)", ["pid"],
              registry=self.registry).labels(str(os.getpid())).set(1)
        self.requests = RequestStats()
        self.registry.register(self.requests)
        self.query_duration = Histogram("kg_stored_query_duration_seconds", "Stored query duration", ["query"],
                                        registry=self.registry)
        self.observe = self.requests.observe


# Headers every response carries; pages of our own also get PAGE_CSP. Each is one named constant.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY"}
# Our pages load only the service's own scripts, styles and images (/static, vendored from npm); no CDN, no inline
# script. Inline styles stay allowed: YASGUI and Swagger UI set style attributes and inject <style> at run time.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
CSP_EXEMPT_PATHS = ("/docs", "/redoc")
# Documents a browser renders and that could run script: HTML pages, and SVG opened on its own (/diagram.svg).
ACTIVE_TYPES = (b"text/html", b"image/svg+xml")
_SECURITY_RAW = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_CSP_RAW = (b"content-security-policy", PAGE_CSP.encode())


class RequestObserver:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a stream per request): security headers,
    the Prometheus request metrics and the JSON access log line, for every HTTP response."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), *_SECURITY_RAW]
                for name, value in headers:
                    if name == b"content-type":
                        if value.startswith(ACTIVE_TYPES) and not scope["path"].startswith(CSP_EXEMPT_PATHS):
                            headers.append(_CSP_RAW)
                        break
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get(ROUTE_KEY) or getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_log.info(orjson.dumps({"method": scope["method"], "path": scope["path"], "route": route,
                                              "status": status, "ms": round(elapsed * 1000, 2),
                                              "client": client[0] if client else None}).decode())


class WorkerPoolCollector:
    """The SPARQL worker pool's counters (`PoolStats`) and idle workers, read from the current state at scrape
    time: they reset when a reload replaces the pool, which Prometheus reads as a counter reset."""

    def __init__(self, holder: Any) -> None:
        self.holder = holder

    def collect(self):
        runner = self.holder.current.runner
        pool = getattr(runner, "checks", None) or runner  # the remote runner checks in a pool of its own
        stats = getattr(pool, "stats", None)
        if stats is None:
            return
        events = CounterMetricFamily("kg_sparql_worker_events", "SPARQL worker pool events", labels=["event"])
        for field in dataclasses.fields(stats):
            events.add_metric([field.name], getattr(stats, field.name))
        yield events
        idle = getattr(pool, "idle", None)
        if idle is not None:
            yield GaugeMetricFamily("kg_sparql_workers_idle", "SPARQL workers waiting for a query", idle.qsize())


def install_metrics(app: FastAPI, holder: Any) -> Metrics:
    """The registry, the pool collector and the observing middleware (added now: outermost of those added so far)."""
    metrics = Metrics()
    metrics.registry.register(WorkerPoolCollector(holder))
    app.state.metrics = metrics
    return metrics


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    """Never blocks: it answers on the event loop even while every worker is busy."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, summary="Readiness: the graph is loaded (version, triple count)")
async def readyz(state: State) -> Readiness:
    """GET and HEAD without Origin are answered by api.common.CachedAnswers in front of FastAPI, whose first
    request builds its routes (at start-up, while the search index's build holds the GIL): a readiness probe
    waits for neither. This route documents the answer and gives it to cross-origin requests."""
    return Readiness(**state.readiness())


@router.get("/metrics", summary="Prometheus metrics", responses={200: {"content": {"text/plain": {}}}})
def prometheus_metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
