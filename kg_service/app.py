"""create_app(settings) wires settings, graph, backend, stored queries and routers; no logic of its own."""

from __future__ import annotations

import asyncio
import signal
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from kg_service import __version__
from kg_service.api import (
    admin,
    ask,
    causes,
    entities,
    interventions,
    operations,
    paths,
    queries,
    search,
    symptoms,
)
from kg_service.api.common import CachedAnswers
from kg_service.api.head import HeadAsGet
from kg_service.api.openapi import install_openapi
from kg_service.api.operations import RequestObserver, install_metrics
from kg_service.api.search import SearchFront
from kg_service.errors import install_problem_handlers
from kg_service.reload import follow_reloads, reload_on_signal
from kg_service.settings import Settings
from kg_service.sparql import router as sparql_router
from kg_service.sparql.disconnect import ClientDisconnectWatch
from kg_service.sparql.front import SparqlFront
from kg_service.state import StateHolder, build_state
from kg_service.web.routes import install_web

DESCRIPTION = """\
What causes knee soreness in women at night, what mechanism links each cause to the symptom, and what
the source article recommends for each, with the exact passage of the text behind every answer.

* **Researchers**: SPARQL 1.1 at `/sparql` (GET, POST form, POST `application/sparql-query`).
* **Apps**: the JSON operations below; each runs one stored query from `queries/` (see `/api/queries`).
* **Linked data**: every entity IRI dereferences at `/entity/{id}`; the whole ontology is at `/ontology`.

Every error is `application/problem+json` (RFC 9457) with a stable `type`.
"""


class ServiceApp(FastAPI):
    """FastAPI, with a lean front (`front`) that every HTTP request passes before FastAPI's own stack."""

    front: ASGIApp | None = None

    async def serve_routed(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
        else:
            await self.front(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # The search index is read once the app is built (the lifespan below): at start-up its Python work would
    # take the GIL from the building of routes and models (a restart at 1M: 2.2 s instead of about 1.6 s).
    holder = StateHolder(build_state(settings, defer_search=True))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        holder.current.search.start()
        loop = asyncio.get_running_loop()
        # SIGHUP reloads ontology/ like POST /admin/reload, off the event loop.
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(None, reload_on_signal, holder, settings))
        stop_following = threading.Event()
        if settings.follow_reloads_s > 0:  # one of several server processes: follow the others' reloads
            threading.Thread(target=follow_reloads, args=(holder, settings, stop_following), name="follow-reloads",
                             daemon=True).start()
        yield
        stop_following.set()
        loop.remove_signal_handler(signal.SIGHUP)
        holder.current.close()

    # /docs is served by kg_service.web from vendored Swagger UI assets (FastAPI's default loads a CDN).
    app = ServiceApp(title="Knee-soreness knowledge graph", version=__version__, description=DESCRIPTION,
                     lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.kg = holder
    app.state.settings = settings
    install_problem_handlers(app)
    metrics = install_metrics(app, holder)
    holder.observe_queries = lambda name, seconds: metrics.query_duration.labels(name).observe(seconds)
    holder.current.catalog.observer = holder.observe_queries
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                       allow_methods=["GET", "POST", "HEAD", "OPTIONS"], allow_headers=["*"],
                       expose_headers=["ETag", "Link", "Retry-After", "X-Result-Truncated", "Warning"])
    app.add_middleware(ClientDisconnectWatch)  # lets /sparql stop the query of a client that left
    # In front of FastAPI's own stack (pure ASGI): security headers, metrics and the access log of every
    # response, HEAD as GET without the body, then the answers this graph version already gave, replayed from bytes, then plain GET /sparql
    # queries and plain searches answered without FastAPI's routing.
    app.front = RequestObserver(HeadAsGet(CachedAnswers(SearchFront(SparqlFront(app.serve_routed, app), app),
                                                        holder)), metrics)
    for module in (search, ask, causes, interventions, symptoms, paths, queries, entities, operations, admin):
        app.include_router(module.router)
    app.include_router(symptoms.mechanisms_router)
    app.include_router(sparql_router.router)
    install_web(app)
    install_openapi(app, holder)
    return app
