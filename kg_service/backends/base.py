"""The interface every store implements for the project's own (stored, parameter-bound) queries."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rdflib.term import Identifier

if TYPE_CHECKING:
    from kg_service.graph import LoadedGraph
    from kg_service.settings import Settings

Bindings = Mapping[str, Identifier]
Row = dict[str, Identifier]


class BackendError(Exception):
    """The store failed to answer a query the project itself wrote (a bug or an unreachable store)."""


class Backend(ABC):
    """Runs stored queries whose parameters arrive as rdflib terms, never as query text.

    The default graph of every query is the union of the public graphs (asserted + inferred);
    `GRAPH` reaches only those two.
    """

    name: str

    @classmethod
    def create(cls, settings: Settings, loaded: LoadedGraph) -> Backend:
        """The registry's factory: a backend over the loaded graph (a remote one reads only the settings)."""
        return cls(loaded)  # type: ignore[call-arg]

    @abstractmethod
    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        """Run a SELECT and return its rows as {variable: term}, unbound variables left out."""

    def select_text(self, query: str, bindings: Bindings | None = None) -> list[dict[str, str]]:
        """A SELECT's rows as {variable: lexical form}, for callers that need only the text (the search index):
        an engine may skip building rdflib terms, which costs more than the query on a whole-graph listing."""
        return [{name: str(term) for name, term in row.items()} for row in self.select(query, bindings)]

    def select_json(self, query: str, bindings: Bindings | None = None) -> list[dict[str, dict[str, str]]]:
        """A SELECT's rows in the SPARQL 1.1 Query Results JSON shape ({variable: {"type", "value", ...}}), for
        `/api/queries/{name}`: an engine with its own writer of that shape may skip rdflib terms."""
        from kg_service.backends.terms import json_term

        return [{name: json_term(term) for name, term in row.items()} for row in self.select(query, bindings)]

    @abstractmethod
    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        """Run an ASK."""

    @abstractmethod
    def construct(self, query: str, bindings: Bindings | None = None) -> list[tuple[Identifier, Identifier, Identifier]]:
        """Run a CONSTRUCT or DESCRIBE and return its triples."""

    def close(self) -> None:
        """Release what the backend holds (connections, stores)."""
