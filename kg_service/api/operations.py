"""Operations: liveness, readiness (graph version and size), Prometheus metrics, access logs, security headers."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg_service.api.common import ROUTE_KEY, State
from kg_service.api.models import Readiness

router = APIRouter(tags=["operations"])
access_log = logging.getLogger("kg_service.access")


class Metrics:
    """One registry per app (no global state): requests, latencies, stored-query durations, worker pool events."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("kg_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("kg_http_request_duration_seconds", "HTTP request latency", ["route"],
                                 registry=self.registry)
        self.query_duration = Histogram("kg_stored_query_duration_seconds", "Stored query duration", ["query"],
                                        registry=self.registry)
        # labels() takes a lock and builds a key each call: the children are looked up once per label set.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._latencies: dict[str, Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[(method, route, status)] = self.requests.labels(method, route, str(status))
        latency = self._latencies.get(route)
        if latency is None:
            latency = self._latencies[route] = self.latency.labels(route)
        counter.inc()
        latency.observe(seconds)


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
                if not scope["path"].startswith(CSP_EXEMPT_PATHS) and any(
                        k == b"content-type" and v.startswith(ACTIVE_TYPES) for k, v in headers):
                    headers.append(_CSP_RAW)
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
def readyz(state: State) -> Readiness:
    return Readiness(status="ready", version=state.version, backend=state.backend.name,
                     triples=state.loaded.triple_count, asserted_triples=state.loaded.asserted_count,
                     inferred_triples=state.loaded.inferred_count)


@router.get("/metrics", summary="Prometheus metrics", responses={200: {"content": {"text/plain": {}}}})
def prometheus_metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
