"""What one loaded version of the ontology serves with, and the holder that swaps it atomically on reload."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kg_service.backends import Backend, create_backend
from kg_service.catalog import Catalog
from kg_service.graph import LoadedGraph, load_graph
from kg_service.search import SearchIndex
from kg_service.settings import Settings


@dataclass
class ServiceState:
    """Everything derived from one version of `ontology/`; replaced whole, never mutated, on reload."""

    settings: Settings
    loaded: LoadedGraph
    backend: Backend
    catalog: Catalog
    search: SearchIndex
    # Pre-serialized answers keyed by request; valid for exactly this version of the graph.
    cache: dict[Any, Any] = field(default_factory=dict)
    # Runs user SPARQL from /sparql in killable workers (or on the remote store); see kg_service/sparql/.
    runner: Any = None

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


def build_state(settings: Settings, loaded: LoadedGraph | None = None, sparql_workers: bool = True) -> ServiceState:
    """Load the ontology, open the backend and build the search index from stored queries; `sparql_workers=False`
    skips the /sparql worker pool (a command such as `kg-service ask` never runs user SPARQL)."""
    loaded = loaded or load_graph(settings.ontology_dir)
    catalog = Catalog.load(settings.queries_dir)
    backend = create_backend(settings, loaded)
    search = SearchIndex.build(catalog.select(backend, "search_index"))
    from kg_service.sparql.executor import create_runner
    from kg_service.sparql.runaway import RunawayGuard

    runner = RunawayGuard(create_runner(settings, loaded), settings.query_timeout_s) if sparql_workers else None
    return ServiceState(settings=settings, loaded=loaded, backend=backend, catalog=catalog, search=search,
                        runner=runner)


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
