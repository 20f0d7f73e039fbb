"""rdflib's own in-memory store and SPARQL engine: slower, pure Python, the reference implementation."""

from __future__ import annotations

import rdflib.plugins.sparql as rdflib_sparql
from rdflib import Dataset

from kg_service.backends.base import Backend, BackendError, Bindings, Row
from kg_service.graph import ASSERTED_GRAPH, INFERRED_GRAPH, LoadedGraph

# FROM / FROM NAMED / LOAD must never read files or fetch URLs (research/sparql-security.md §1).
rdflib_sparql.SPARQL_LOAD_GRAPHS = False


def build_dataset(loaded: LoadedGraph) -> Dataset:
    """A dataset of the public graphs only, whose default graph is their union."""
    dataset = Dataset(default_union=True)
    for name, graph in ((ASSERTED_GRAPH, loaded.asserted), (INFERRED_GRAPH, loaded.inferred)):
        target = dataset.graph(name)
        for triple in graph:
            target.add(triple)
    return dataset


class RdflibBackend(Backend):
    name = "rdflib"

    def __init__(self, loaded: LoadedGraph) -> None:
        self.dataset = build_dataset(loaded)

    def _run(self, query: str, bindings: Bindings | None):
        try:
            return self.dataset.query(query, initBindings=dict(bindings or {}))
        except Exception as exc:  # pyparsing and evaluation errors share no base class
            raise BackendError(str(exc)) from exc

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        result = self._run(query, bindings)
        names = [str(v) for v in result.vars]
        return [{n: row[n] for n in names if row[n] is not None} for row in result]

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return bool(self._run(query, bindings).askAnswer)

    def construct(self, query: str, bindings: Bindings | None = None):
        return list(dict.fromkeys(self._run(query, bindings).graph))
