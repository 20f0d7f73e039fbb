"""Any SPARQL 1.1 endpoint (Oxigraph server, Fuseki, Virtuoso, GraphDB, QLever) over the SPARQL 1.1 Protocol.

`RemoteEndpoint` is the service's one client of a remote store (httpx): the stored queries' `RemoteBackend` and
the user SPARQL that `/sparql` forwards (`sparql.executor.RemoteRunner`) both go through it, so both name their
dataset explicitly (the remote store may hold more than our public graphs) and both are held to a wall-clock
deadline and a byte limit while the answer is read.

The remote store has no binding API, so parameters travel as a trailing VALUES block built from
validated terms (IRIs checked against the IRIREF grammar, literals ECHAR-escaped): never spliced into
the query's own text.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence

import pyoxigraph
from rdflib import Literal, URIRef
from rdflib.term import Identifier

from kg_service.backends.base import Backend, BackendError, Bindings, Row
from kg_service.backends.terms import from_json_term, to_rdflib
from kg_service.errors import BackendUnavailable, Problem, QueryTimeout, ResultTooLarge
from kg_service.graph import PUBLIC_GRAPH_IRIS

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


class RemoteCancelled(Exception):
    """The caller's cancel flag was set while the answer was being read."""


class RemoteRefused(BackendUnavailable):
    """The endpoint answered with a status other than 200; `status` and the start of what it said are kept so
    the caller can tell a malformed query (400) from an engine failure."""

    def __init__(self, status: int, said: str) -> None:
        super().__init__(f"The remote SPARQL endpoint answered {status}.")
        self.remote_status, self.said = status, said


class RemoteEndpoint:
    """One remote SPARQL endpoint, queried by POST (form-encoded) with an explicit dataset."""

    def __init__(self, url: str, timeout_s: float) -> None:
        import httpx  # here: only --backend remote needs it, and importing it (its CLI too) slows every start

        self.url = url
        self.timeout_s = timeout_s
        self.client = httpx.Client(timeout=timeout_s)

    def fetch(self, query: str, media_type: str, *, default_graphs: Sequence[str], named_graphs: Sequence[str],
              timeout_s: float, max_bytes: int, cancel: threading.Event | None = None) -> bytes:
        """The answer's bytes in `media_type`, read within `timeout_s` and `max_bytes` (someone else's document
        cannot be cut cleanly: over the limit it is refused, not cut)."""
        import httpx  # imported by __init__ already

        started = time.monotonic()
        deadline = started + timeout_s
        form = {"query": query, "default-graph-uri": list(default_graphs), "named-graph-uri": list(named_graphs)}
        timed_out = QueryTimeout(f"The remote endpoint did not answer within the {timeout_s:g} s time limit.",
                                 headers={"Retry-After": "1"}, limit="time", limit_seconds=timeout_s)
        try:
            with self.client.stream("POST", self.url, data=form, headers={"Accept": media_type},
                                    timeout=max(0.05, timeout_s)) as response:
                if response.status_code != 200:
                    raise RemoteRefused(response.status_code, response.read()[:4096].decode("utf-8", "replace"))
                answered = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if answered != media_type:  # passing it on under our label would mislabel it
                    raise BackendUnavailable(f"The remote SPARQL endpoint answered {answered or 'no content type'} "
                                             f"where {media_type} was asked for.",
                                             hint="Ask for another format, or configure the remote endpoint.")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if cancel is not None and cancel.is_set():
                        raise RemoteCancelled()
                    if time.monotonic() > deadline:
                        raise timed_out
                    if len(body) > max_bytes:
                        raise ResultTooLarge(f"The result is over the limit of {max_bytes} bytes.",
                                             hint="Add LIMIT, or select fewer variables.", limit="bytes")
                return bytes(body)
        except httpx.TimeoutException:
            raise timed_out from None
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"The remote SPARQL endpoint failed: {type(exc).__name__}.") from None

    def close(self) -> None:
        self.client.close()


# The stored queries' answers are the project's own and bounded by their design; this only stops a runaway.
STORED_QUERY_MAX_BYTES = 256 * 1024 * 1024


class RemoteBackend(Backend):
    """The stored queries over a remote endpoint, on the public graphs named as the dataset."""

    name = "remote"

    @classmethod
    def create(cls, settings, loaded) -> RemoteBackend:
        if not settings.endpoint:
            raise ValueError("the remote backend needs --endpoint URL (or KG_ENDPOINT)")
        return cls(settings.endpoint, timeout_s=settings.query_timeout_s)

    def __init__(self, endpoint: str, timeout_s: float = 10.0) -> None:
        self.endpoint = RemoteEndpoint(endpoint, timeout_s)

    def _fetch(self, query: str, bindings: Bindings | None, media_type: str) -> bytes:
        try:
            return self.endpoint.fetch(with_values(query, bindings), media_type, default_graphs=PUBLIC_GRAPH_IRIS,
                                       named_graphs=PUBLIC_GRAPH_IRIS, timeout_s=self.endpoint.timeout_s,
                                       max_bytes=STORED_QUERY_MAX_BYTES)
        except Problem as exc:
            said = f": {exc.said[:300]}" if isinstance(exc, RemoteRefused) else ""
            raise BackendError(f"remote endpoint {self.endpoint.url}: {exc.detail}{said}") from exc

    def _json(self, query: str, bindings: Bindings | None) -> dict:
        try:
            return json.loads(self._fetch(query, bindings, "application/sparql-results+json"))
        except ValueError as exc:
            raise BackendError(f"remote endpoint {self.endpoint.url}: not SPARQL results JSON ({exc})") from exc

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        data = self._json(query, bindings)
        return [{k: from_json_term(v) for k, v in row.items()} for row in data["results"]["bindings"]]

    def select_text(self, query: str, bindings: Bindings | None = None) -> list[dict[str, str]]:
        data = self._json(query, bindings)
        return [{k: v["value"] for k, v in row.items()} for row in data["results"]["bindings"]]

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return bool(self._json(query, bindings)["boolean"])

    def construct(self, query: str, bindings: Bindings | None = None):
        body = self._fetch(query, bindings, "application/n-triples")
        try:
            triples = pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.N_TRIPLES)
            return list(dict.fromkeys((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
                                      for t in triples))
        except SyntaxError as exc:
            raise BackendError(f"remote endpoint {self.endpoint.url}: not N-Triples ({exc})") from exc

    def close(self) -> None:
        self.endpoint.close()
