"""SPARQL result formats, written row by row so the row and byte limits cut between rows, never inside one.

SELECT/ASK: application/sparql-results+json, application/sparql-results+xml, text/csv, text/tab-separated-values
(W3C SPARQL 1.1 Query Results JSON, XML, CSV and TSV). CONSTRUCT/DESCRIBE: Turtle, N-Triples and
RDF/XML through Oxigraph's writers when Oxigraph answered, JSON-LD (compacted under the service's context) and
every format of the rdflib engine through rdflib's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from kg_service.backends.terms import json_term, to_rdflib
from kg_service.graph import PREFIXES

JSON_RESULTS = "application/sparql-results+json"
XML_RESULTS = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
JSONLD = "application/ld+json"
NTRIPLES = "application/n-triples"
RDFXML = "application/rdf+xml"

SOLUTION_FORMATS = (JSON_RESULTS, XML_RESULTS, CSV, TSV)
GRAPH_FORMATS = (TURTLE, JSONLD, NTRIPLES, RDFXML)
RDFLIB_GRAPH_FORMATS = {TURTLE: "turtle", JSONLD: "json-ld", NTRIPLES: "nt", RDFXML: "xml"}
JSONLD_CONTEXT = PREFIXES


@dataclass(frozen=True)
class Limits:
    rows: int
    bytes: int


@dataclass
class Serialized:
    body: bytes
    media_type: str
    rows: int
    truncated: str | None = None  # e.g. "rows=10000" or "bytes=8388608"


def _xml_term(term: Identifier) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{escape(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{escape(str(term))}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(str(term))}</literal>"
    if term.datatype and term.datatype != XSD.string:
        return f"<literal datatype={quoteattr(str(term.datatype))}>{escape(str(term))}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _csv_value(term: Identifier | None) -> str:
    if term is None:
        return ""
    return f"_:{term}" if isinstance(term, BNode) else str(term)


def _tsv_term(term: Identifier | None) -> str:
    """TSV cells are terms in SPARQL/Turtle syntax; tabs and newlines inside literals are escaped."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    text = str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n") \
        .replace("\r", "\\r")
    if term.language:
        return f'"{text}"@{term.language}'
    if term.datatype and term.datatype != XSD.string:
        return f'"{text}"^^<{term.datatype}>'
    return f'"{text}"'


def _csv_line(values: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def serialize_solutions(variables: Sequence[str], rows: Iterable[Sequence[Identifier | None]],
                        media_type: str, limits: Limits) -> Serialized:
    """A SELECT result in one of the four W3C formats, stopping cleanly at the row or byte limit."""
    if media_type == JSON_RESULTS:
        head = '{"head":{"vars":' + json.dumps(list(variables)) + '},"results":{"bindings":['
        tail, separator = "]}}", ","
        row_text = lambda row: json.dumps({v: json_term(t) for v, t in zip(variables, row) if t is not None},
                                          ensure_ascii=False)
    elif media_type == XML_RESULTS:
        head = ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
                + "".join(f"<variable name={quoteattr(v)}/>" for v in variables) + "</head><results>")
        tail, separator = "</results></sparql>\n", ""
        row_text = lambda row: "<result>" + "".join(
            f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
            for v, t in zip(variables, row) if t is not None) + "</result>"
    elif media_type == CSV:
        head, tail, separator = _csv_line(variables), "", ""
        row_text = lambda row: _csv_line([_csv_value(t) for t in row])
    elif media_type == TSV:
        head, tail, separator = "\t".join(f"?{v}" for v in variables) + "\n", "", ""
        row_text = lambda row: "\t".join(_tsv_term(t) for t in row) + "\n"
    else:
        raise ValueError(f"not a solutions format: {media_type}")
    parts = [head]
    size = len(head.encode()) + len(tail)
    count = 0
    truncated = None
    for row in rows:
        if count >= limits.rows:
            truncated = f"rows={limits.rows}"
            break
        text = (separator if count else "") + row_text(row)
        encoded = len(text.encode())
        if size + encoded > limits.bytes:
            truncated = f"bytes={limits.bytes}"
            break
        parts.append(text)
        size += encoded
        count += 1
    parts.append(tail)
    return Serialized("".join(parts).encode(), media_type, count, truncated)


_NATIVE_FORMATS = {JSON_RESULTS: pyoxigraph.QueryResultsFormat.JSON, XML_RESULTS: pyoxigraph.QueryResultsFormat.XML,
                   CSV: pyoxigraph.QueryResultsFormat.CSV, TSV: pyoxigraph.QueryResultsFormat.TSV}
# Bytes that end one row and start the next in Oxigraph's output; a literal may hold them too (JSON, CSV), so
# their count bounds the rows from above: under the row limit for sure, or the row-by-row writer decides.
_ROW_MARKS = {JSON_RESULTS: b"},{", XML_RESULTS: b"<result>", CSV: b"\n", TSV: b"\n"}


class _OverCap(Exception):
    pass


class _CappedSink:
    """A file-like object for Oxigraph's writer that refuses to grow past `cap` bytes."""

    def __init__(self, cap: int) -> None:
        self.cap, self.size, self.parts = cap, 0, []

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self.cap:
            raise _OverCap()
        self.parts.append(bytes(chunk))
        return len(chunk)

    def flush(self) -> None:
        pass


def serialize_native(result: pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean, media_type: str,
                     limits: Limits) -> Serialized | None:
    """Oxigraph's own result writer (C speed, W3C formats), or None when the answer might be over a limit and
    must be cut between rows by `serialize_solutions` instead."""
    if isinstance(result, pyoxigraph.QueryBoolean):
        return Serialized(result.serialize(format=_NATIVE_FORMATS[media_type]), media_type, 1)
    sink = _CappedSink(limits.bytes)
    try:
        result.serialize(sink, format=_NATIVE_FORMATS[media_type])
    except _OverCap:
        return None  # stopped at the byte limit: never more than that in memory
    body = b"".join(sink.parts)
    marks = body.count(_ROW_MARKS[media_type])
    if media_type == JSON_RESULTS:
        rows = marks + 1 if b'"bindings":[{' in body else 0
    elif media_type == XML_RESULTS:
        rows = marks
    else:
        rows = max(marks - 1, 0)  # the header line
    return Serialized(body, media_type, rows) if rows <= limits.rows else None


def serialize_boolean(value: bool, media_type: str) -> Serialized:
    if media_type == JSON_RESULTS:
        body = json.dumps({"head": {}, "boolean": value})
    elif media_type == XML_RESULTS:
        body = ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
                f"<boolean>{str(value).lower()}</boolean></sparql>\n")
    elif media_type == CSV:
        body = f"_askResult\r\n{str(value).lower()}\r\n"
    else:
        body = f"?_askResult\n{str(value).lower()}\n"
    return Serialized(body.encode(), media_type, 1)


def _graph_document(triples: Sequence[tuple[Identifier, Identifier, Identifier]], media_type: str) -> bytes:
    graph = Graph()
    for prefix, namespace in JSONLD_CONTEXT.items():
        graph.bind(prefix, namespace)
    for triple in triples:
        graph.add(triple)
    if media_type == JSONLD:
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True).encode()
    return graph.serialize(format=RDFLIB_GRAPH_FORMATS[media_type], encoding="utf-8")


_OXIGRAPH_GRAPH_FORMATS = {TURTLE: pyoxigraph.RdfFormat.TURTLE, NTRIPLES: pyoxigraph.RdfFormat.N_TRIPLES,
                           RDFXML: pyoxigraph.RdfFormat.RDF_XML}
_OXIGRAPH_PREFIXES = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}


def oxigraph_document(triples: Sequence[pyoxigraph.Triple], media_type: str) -> bytes:
    """Oxigraph's triples in Oxigraph's own writer (describe_entity at c16: 246 -> 441 req/s, bench runs 1441, 1642),
    sorted so each subject's triples come together; JSON-LD through rdflib, whose compacted form under the
    service's context is what JSON-LD clients get from every other route."""
    if media_type == JSONLD:
        return _graph_document([(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
                                for t in triples], media_type)
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate)))
    return pyoxigraph.serialize(ordered, format=_OXIGRAPH_GRAPH_FORMATS[media_type], prefixes=_OXIGRAPH_PREFIXES)


def serialize_triples(triples: Iterable[Hashable], media_type: str, limits: Limits,
                      document: Callable[[Sequence], bytes] = _graph_document) -> Serialized:
    """A CONSTRUCT/DESCRIBE result as a whole RDF document of at most `limits.rows` distinct triples and
    `limits.bytes` bytes, written by `document` (rdflib's writers for rdflib triples, `oxigraph_document` for
    Oxigraph's). A document cannot be cut after serialization, so an oversized one is rewritten with
    proportionally fewer triples until it fits; either cut is reported in `truncated`."""
    kept: dict[Hashable, None] = {}
    truncated = None
    for triple in triples:
        if triple in kept:
            continue  # Oxigraph streams CONSTRUCT output without removing duplicates; a graph is a set
        if len(kept) >= limits.rows:
            truncated = f"rows={limits.rows}"
            break
        kept[triple] = None
    selected = list(kept)
    body = document(selected, media_type)
    while len(body) > limits.bytes and selected:
        truncated = f"bytes={limits.bytes}"
        keep = min(len(selected) - 1, int(len(selected) * limits.bytes / len(body) * 0.9))
        selected = selected[:max(keep, 0)]
        body = document(selected, media_type)
    return Serialized(body, media_type, len(selected), truncated)
