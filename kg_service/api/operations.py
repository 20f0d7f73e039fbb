"""Operations: liveness, readiness (graph version and size), Prometheus metrics, access logs, security headers."""

from __future__ import annotations

import json
import logging
import time

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from kg_service.api.common import State
from kg_service.api.models import Readiness

router = APIRouter(tags=["operations"])
access_log = logging.getLogger("kg_service.access")


class Metrics:
    """One registry per app (no global state): requests, latencies, stored-query durations."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("kg_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("kg_http_request_duration_seconds", "HTTP request latency", ["route"],
                                 registry=self.registry)
        self.query_duration = Histogram("kg_stored_query_duration_seconds", "Stored query duration", ["query"],
                                        registry=self.registry)


SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY"}
# Our pages load only the service's own scripts, styles and images (/static, vendored from npm); no CDN, no inline
# script. Inline styles stay allowed: YASGUI and Swagger UI set style attributes and inject <style> at run time.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def install_metrics(app: FastAPI) -> Metrics:
    metrics = Metrics()
    app.state.metrics = metrics

    @app.middleware("http")
    async def observe(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if response.headers.get("content-type", "").startswith("text/html") and \
                not request.url.path.startswith(("/docs", "/redoc")):
            response.headers["Content-Security-Policy"] = PAGE_CSP
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        metrics.requests.labels(request.method, template, str(response.status_code)).inc()
        metrics.latency.labels(template).observe(elapsed)
        access_log.info(json.dumps({"method": request.method, "path": request.url.path, "route": template,
                                    "status": response.status_code, "ms": round(elapsed * 1000, 2),
                                    "client": request.client.host if request.client else None}))
        return response

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
