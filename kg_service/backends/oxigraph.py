"""The embedded default: the pyoxigraph Store of the loaded graph (on disk, opened read-only), queried in
process for the stored queries."""

from __future__ import annotations

import orjson
import pyoxigraph as ox

from kg_service.backends.base import Backend, BackendError, Bindings, Row
from kg_service.backends.terms import to_oxigraph, to_rdflib
from kg_service.graph import PUBLIC_GRAPHS, LoadedGraph


def open_store(source: str | bytes) -> ox.Store:
    """The store a worker queries: the on-disk store at `source` opened read-only (shared by every process
    through the OS page cache, not copied), or an in-memory one loaded from N-Quads bytes."""
    if isinstance(source, str):
        return ox.Store.read_only(source)
    store = ox.Store()
    store.load(source, format=ox.RdfFormat.N_QUADS)
    return store


PUBLIC_NODES = [ox.NamedNode(str(g)) for g in PUBLIC_GRAPHS]


class OxigraphBackend(Backend):
    name = "oxigraph"

    def __init__(self, loaded: LoadedGraph) -> None:
        self.store = loaded.store

    def _run(self, query: str, bindings: Bindings | None):
        substitutions = {ox.Variable(k): to_oxigraph(v) for k, v in (bindings or {}).items()}
        try:
            # Plain strings only, the public graphs only: never the store's whole dataset.
            return self.store.query(query, default_graph=PUBLIC_NODES, named_graphs=PUBLIC_NODES,
                                    substitutions=substitutions)
        except (SyntaxError, RuntimeError, OSError) as exc:
            raise BackendError(str(exc)) from exc

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        solutions = self._run(query, bindings)
        names = [v.value for v in solutions.variables]
        return [{n: to_rdflib(sol[n]) for n in names if sol[n] is not None} for sol in solutions]

    def select_text(self, query: str, bindings: Bindings | None = None) -> list[dict[str, str]]:
        # Straight from Oxigraph's terms: on a whole-graph listing (the search index's rows) making rdflib terms
        # costs more than the query itself.
        solutions = self._run(query, bindings)
        names = [v.value for v in solutions.variables]
        return [{n: sol[n].value for n in names if sol[n] is not None} for sol in solutions]

    def select_json(self, query: str, bindings: Bindings | None = None) -> list[dict[str, dict[str, str]]]:
        # Oxigraph's own SPARQL JSON writer, read back by orjson: no Python object per term but the dicts.
        body = self._run(query, bindings).serialize(format=ox.QueryResultsFormat.JSON)
        return orjson.loads(body)["results"]["bindings"]

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return bool(self._run(query, bindings))

    def construct(self, query: str, bindings: Bindings | None = None):
        # Oxigraph streams CONSTRUCT output without removing duplicate triples; a graph is a set.
        triples = ((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in self._run(query, bindings))
        return list(dict.fromkeys(triples))
