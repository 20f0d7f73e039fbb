"""What one loaded version of the ontology serves with, and the holder that swaps it atomically on reload."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from kg_service.backends import Backend, create_backend
from kg_service.catalog import Catalog
from kg_service.errors import InvalidParameter
from kg_service.graph import LoadedGraph, StoreEdit, load_graph
from kg_service.search import SearchIndex
from kg_service.settings import Settings

if TYPE_CHECKING:  # the worker module imports rdflib's SPARQL engine: only where a state has workers
    from kg_service.sparql.worker import Engine

log = logging.getLogger("kg_service.state")

T = TypeVar("T")
BodyKey = tuple[str, str, str, str]  # (path, query string, media type, variant)
MAX_CACHED_BODIES = 4096
MAX_DERIVED = 4096


class VersionCache:
    """What one graph version computes once, in two parts: response bodies by request, and structures derived
    from the graph by key (the relation support, the causal hops, the question context, one SVG per cause, the
    replayable answers...). Both are bounded: a client can ask for any number of distinct URLs or questions, so
    a part is emptied when full (everything in it can be computed again)."""

    def __init__(self, max_bodies: int = MAX_CACHED_BODIES, max_derived: int = MAX_DERIVED) -> None:
        self._bodies: dict[BodyKey, bytes] = {}
        self._derived: dict[Hashable, Any] = {}
        self.max_bodies, self.max_derived = max_bodies, max_derived

    def body(self, key: BodyKey) -> bytes | None:
        return self._bodies.get(key)

    def keep_body(self, key: BodyKey, body: bytes) -> None:
        if len(self._bodies) >= self.max_bodies:
            self._bodies.clear()
        self._bodies[key] = body

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """compute() once for this key and version (two first callers at once may both compute: same value)."""
        try:
            return self._derived[key]
        except KeyError:
            pass
        value = compute()
        if len(self._derived) >= self.max_derived:
            self._derived.clear()
        self._derived[key] = value
        return value

    def peek(self, key: Hashable) -> Any | None:
        """A derived value if it was computed, without computing it."""
        return self._derived.get(key)


@dataclass
class ServiceState:
    """Everything derived from one version of `ontology/`; replaced whole, never mutated, on reload."""

    settings: Settings
    loaded: LoadedGraph
    backend: Backend
    catalog: Catalog
    search: SearchIndex
    # Pre-serialized answers and derived structures; valid for exactly this version of the graph.
    cache: VersionCache = field(default_factory=VersionCache)
    # Runs user SPARQL from /sparql in killable workers (or on the remote store); see kg_service/sparql/.
    runner: Any = None
    # Answers, in this process, the /sparql queries whose text bounds their work (sparql/bounded.py); None when
    # the store is not the embedded Oxigraph one.
    bounded: Engine | None = None

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
        self.backend.close()

    @property
    def version(self) -> str:
        return self.loaded.version

    @property
    def etag(self) -> str:
        return f'"{self.loaded.version}"'

    def readiness(self) -> dict[str, Any]:
        """/readyz's answer (api.models.Readiness, field for field): the route's and the ASGI front's."""
        return {"status": "ready", "version": self.version, "backend": self.backend.name,
                "triples": self.loaded.triple_count, "asserted_triples": self.loaded.asserted_count,
                "inferred_triples": self.loaded.inferred_count}


def search_rows(catalog: Catalog, backend: Backend, loaded: LoadedGraph) -> list[dict[str, str]]:
    """The `search_index` query's rows, kept beside an on-disk store (keyed by the query's text): a restart
    on an unchanged ontology reads them instead of querying a million triples again, and a store made by a
    curator's edit takes those of the store it was made from, with the rows of the entities the edit changed
    asked again, one entity each (milliseconds, against a second or two for every name at a million triples)."""
    query = catalog["search_index"]
    rows_file = None
    if loaded.store_path is not None:
        name = f"search-{hashlib.sha256(query.text.encode()).hexdigest()[:12]}.json"
        rows_file = loaded.store_path / name
        try:
            return orjson.loads(rows_file.read_bytes())
        except (OSError, ValueError):
            pass
    rows = None
    if rows_file is not None and loaded.edit is not None:
        rows = _rows_after_edit(catalog, backend, loaded.edit, name)
    if rows is None:
        rows = catalog.select_text(backend, "search_index")
    if rows_file is not None:
        with contextlib.suppress(OSError):  # a read-only store directory: the rows are queried each start
            partial = rows_file.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(orjson.dumps(rows))  # C speed: 100k rows and more at a million triples
            os.replace(partial, rows_file)
    return rows


def _rows_after_edit(catalog: Catalog, backend: Backend, edit: StoreEdit, name: str) -> list[dict[str, str]] | None:
    """The rows of the store an edit was made from, those of the changed entities asked again; None when that
    store's rows are not on disk (it is gone, or never listed them)."""
    try:
        before = orjson.loads((edit.base / name).read_bytes())
    except (OSError, ValueError):
        return None
    rows = [row for row in before if row["entity"] not in edit.entities]
    try:
        for entity in sorted(edit.entities):
            # A blank node id has no colon: its rows are dropped, none asked again (a changed blank node that has
            # a label makes the build record no entities: everything is listed again).
            if ":" in entity:
                rows += catalog.select_text(backend, "search_index", {"entity": entity})
    except InvalidParameter:  # an IRI the parameter does not take (not http(s) or urn): list everything
        return None
    return rows


def build_state(settings: Settings, loaded: LoadedGraph | None = None, sparql_workers: bool = True,
                defer_search: bool = False) -> ServiceState:
    """Load the ontology, open the backend and build the search index from stored queries; `sparql_workers=False`
    skips the /sparql worker pool (a command such as `kg-service ask` never runs user SPARQL); `defer_search`
    leaves the search index to `state.search.start()` (or its first reader)."""
    started = time.perf_counter()
    from kg_service.sparql.forkserver import warm_up_workers

    if sparql_workers:
        warm_up_workers(settings.backend)  # the workers' forkserver boots while the graph opens
    loaded = loaded or load_graph(settings.ontology_dir, settings.data_files, settings.store_dir)
    graph_ready = time.perf_counter()
    catalog = Catalog.load(settings.queries_dir)
    backend = create_backend(settings, loaded)
    # The search rows (the search_index query: seconds at a million triples) and the name index come in the
    # background: the service is ready once the store is open, and a search (or a question) waits for them.
    search = SearchIndex.build(lambda: search_rows(catalog, backend, loaded), background=True, deferred=defer_search)
    workers_from = time.perf_counter()
    from kg_service.sparql.executor import create_runner
    from kg_service.sparql.runaway import RunawayGuard

    runner = RunawayGuard(create_runner(settings, loaded), settings.query_timeout_s) if sparql_workers else None
    log.info("state %s: graph %.2f s, SPARQL workers %.2f s (the search index builds in the background)",
             loaded.version, graph_ready - started, time.perf_counter() - workers_from)
    bounded = None
    if sparql_workers and settings.backend == "oxigraph" and settings.bounded_max_solutions:
        from kg_service.sparql.worker import Engine

        bounded = Engine.over(loaded.store)
    return ServiceState(settings=settings, loaded=loaded, backend=backend, catalog=catalog, search=search,
                        runner=runner, bounded=bounded)


class StateHolder:
    """Holds the current ServiceState; readers take `.current` once per request, reload swaps it."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state
        self.reload_lock = threading.Lock()
        self.observe_queries: Callable[[str, float], None] | None = None

    @property
    def current(self) -> ServiceState:
        return self._state

    def swap(self, state: ServiceState) -> ServiceState:
        state.catalog.observer = self.observe_queries
        old, self._state = self._state, state
        return old
