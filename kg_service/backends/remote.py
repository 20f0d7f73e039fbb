"""Any SPARQL 1.1 endpoint (Oxigraph server, Fuseki, Virtuoso, GraphDB, QLever) through SPARQLWrapper.

The remote store has no binding API, so parameters travel as a trailing VALUES block built from
validated terms (IRIs checked against the IRIREF grammar, literals ECHAR-escaped): never spliced into
the query's own text.
"""

from __future__ import annotations

import re

from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from kg_service.backends.base import Backend, BackendError, Bindings, Row

_IRI_FORBIDDEN = re.compile(r'[<>"{}|^`\\\x00-\x20]')
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def term_to_sparql(term: Identifier) -> str:
    """Write one bound term in SPARQL syntax, refusing what cannot be written safely."""
    if isinstance(term, URIRef):
        if _IRI_FORBIDDEN.search(str(term)):
            raise ValueError(f"not a valid IRI: {str(term)!r}")
        return f"<{term}>"
    if isinstance(term, Literal):
        body = '"' + "".join(_ECHAR.get(c, c) for c in str(term)) + '"'
        if term.language:
            return body + "@" + term.language
        if term.datatype:
            return body + "^^" + term_to_sparql(URIRef(term.datatype))
        return body
    raise ValueError(f"cannot bind {term!r} remotely")


def with_values(query: str, bindings: Bindings | None) -> str:
    if not bindings:
        return query
    names = list(bindings)
    head = " ".join(f"?{n}" for n in names)
    row = " ".join(term_to_sparql(bindings[n]) for n in names)
    return f"{query}\nVALUES ({head}) {{ ({row}) }}\n"


def _from_json(value: dict) -> Identifier:
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    if value.get("datatype") and value["datatype"] != "http://www.w3.org/2001/XMLSchema#string":
        return Literal(value["value"], datatype=URIRef(value["datatype"]))
    return Literal(value["value"])


class RemoteBackend(Backend):
    name = "remote"

    @classmethod
    def create(cls, settings, loaded) -> RemoteBackend:
        if not settings.endpoint:
            raise ValueError("the remote backend needs --endpoint URL (or KG_ENDPOINT)")
        return cls(settings.endpoint, timeout_s=settings.query_timeout_s)

    def __init__(self, endpoint: str, timeout_s: float = 10.0) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s

    def _client(self, query: str) -> SPARQLWrapper:
        client = SPARQLWrapper(self.endpoint)
        client.setMethod(POST)
        client.setTimeout(int(max(1, self.timeout_s)))
        client.setQuery(query)
        return client

    def _json(self, query: str, bindings: Bindings | None) -> dict:
        client = self._client(with_values(query, bindings))
        client.setReturnFormat(JSON)
        try:
            return client.queryAndConvert()
        except (SPARQLWrapperException, OSError, ValueError) as exc:
            raise BackendError(f"remote endpoint {self.endpoint}: {exc}") from exc

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        data = self._json(query, bindings)
        return [{k: _from_json(v) for k, v in row.items()} for row in data["results"]["bindings"]]

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return bool(self._json(query, bindings)["boolean"])

    def construct(self, query: str, bindings: Bindings | None = None):
        from rdflib import Graph

        client = self._client(with_values(query, bindings))
        client.setReturnFormat("turtle")
        client.addCustomHttpHeader("Accept", "text/turtle")
        try:
            body = client.query().response.read()
        except (SPARQLWrapperException, OSError) as exc:
            raise BackendError(f"remote endpoint {self.endpoint}: {exc}") from exc
        return list(Graph().parse(data=body, format="turtle"))
