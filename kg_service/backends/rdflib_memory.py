"""rdflib's own in-memory store and SPARQL engine: slower, pure Python, the reference implementation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import rdflib.plugins.sparql as rdflib_sparql
from rdflib import Dataset, Graph, URIRef

from kg_service.backends.base import Backend, BackendError, Bindings, Row
from kg_service.graph import ASSERTED_GRAPH, INFERRED_GRAPH, LoadedGraph

# FROM / FROM NAMED / LOAD must never read files or fetch URLs (research/sparql-security.md §1).
rdflib_sparql.SPARQL_LOAD_GRAPHS = False


def build_dataset(graphs: Mapping[str, Graph], default: Iterable[str], named: Iterable[str]) -> Dataset:
    """The dataset a query runs over: the graphs `named` as its named graphs, the merge of `default` as its
    default graph. The one place an rdflib Dataset is put together (the stored queries' backend and the SPARQL
    workers of --backend rdflib): when both name every graph, the default graph is their union, not a copy."""
    default, named = sorted(set(default)), sorted(set(named))
    union = default == named == sorted(graphs)
    dataset = Dataset(default_union=union)
    for name in named:
        target = dataset.graph(URIRef(name))
        for triple in graphs[name]:
            target.add(triple)
    for name in [] if union else default:
        for triple in graphs[name]:
            dataset.default_graph.add(triple)
    return dataset


class RdflibBackend(Backend):
    name = "rdflib"

    def __init__(self, loaded: LoadedGraph) -> None:
        graphs = {str(ASSERTED_GRAPH): loaded.asserted, str(INFERRED_GRAPH): loaded.inferred}
        self.dataset = build_dataset(graphs, graphs, graphs)

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
