"""Linked data: every entity IRI dereferences at /entity/{id}; /ontology serves the whole ontology.

Content negotiation picks HTML for browsers, or Turtle, JSON-LD (with an inline context), RDF/XML or
N-Triples; `format=` overrides Accept. Nothing here fetches a remote context or asset.
"""

from __future__ import annotations

import html
import typing

from fastapi import APIRouter, Path, Query, Request, Response
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from kg_service.api import answers
from kg_service.api.common import State, cached_response, local_id, require_entity
from kg_service.api.models import EntityDetail
from kg_service.catalog import ID_PATTERN
from kg_service.graph import KS, PREFIXES
from kg_service.sparql.negotiation import choose
from kg_service.state import ServiceState

router = APIRouter(tags=["linked data"])

RDF_FORMATS = {  # media type -> (rdflib serializer, format= alias)
    "text/turtle": ("turtle", "ttl"),
    "application/ld+json": ("json-ld", "jsonld"),
    "application/rdf+xml": ("xml", "xml"),
    "application/n-triples": ("nt", "nt"),
}
JSONLD_CONTEXT = {**PREFIXES, "label": {"@id": str(RDFS.label)}}
FORMAT_QUERY = Query(None, description="ttl, jsonld, xml, nt or html; overrides Accept.", alias="format")
Format = typing.Literal["ttl", "jsonld", "xml", "nt", "html"]
RdfFormat = typing.Literal["ttl", "jsonld", "xml", "nt"]


def negotiate(request: Request, fmt: str | None, html_ok: bool = True, default: str = "text/turtle") -> str:
    """The media type to answer with, from `format=` or the Accept header's q-values; 406 if none fits."""
    offered = [*RDF_FORMATS, *(["text/html"] if html_ok else [])]
    if fmt == "xml":  # for an RDF document, xml means RDF/XML (for /sparql SELECT it means SPARQL XML results)
        fmt = "application/rdf+xml"
    return choose(offered, default, request.headers.get("accept"), fmt,
                  request.app.state.settings.max_accept_ranges)


def wants_jsonld(request: Request) -> bool:
    """An API client asking for linked data (JSON-LD) rather than the plain JSON shape."""
    return "application/ld+json" in request.headers.get("accept", "")[:4096]


def serialize(graph: Graph, media: str) -> bytes:
    if media == "application/ld+json":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True).encode()
    return graph.serialize(format=RDF_FORMATS[media][0], encoding="utf-8")


def describe(state: ServiceState, entity_id: str) -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    query = state.catalog["describe_entity"]
    for triple in state.backend.construct(query.text, query.bind({"entity": entity_id})):
        graph.add(triple)
    return graph


def entity_page(state: ServiceState, entity_id: str) -> bytes:
    """A small, self-contained HTML page for people who open an entity IRI in a browser."""
    detail = answers.entity_detail(state, entity_id)
    graph = describe(state, entity_id)
    subject = URIRef(detail.iri)
    rows = []
    for p, o in sorted(graph.predicate_objects(subject), key=lambda po: (str(po[0]), str(po[1]))):
        if isinstance(o, Literal):
            value = html.escape(str(o))
        else:
            label = graph.value(o, RDFS.label) or state.search.entities.get(str(o))
            text = html.escape(str(getattr(label, "label", label) or local_id(o)))
            value = f'<a href="/entity/{html.escape(local_id(o))}">{text}</a>' if str(o).startswith(str(KS)) \
                else f'<a href="{html.escape(str(o))}">{html.escape(str(o))}</a>'
        rows.append(f"<tr><th>{html.escape(local_id(p).split('#')[-1].split('/')[-1])}</th><td>{value}</td></tr>")
    quotes = "".join(f"<li><q>{html.escape(e.quote)}</q> <small>[{e.start}–{e.end}]</small></li>" for e in detail.evidence)
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(detail.label)} · knee-soreness KG</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
th{{text-align:left;vertical-align:top;padding-right:1rem;color:#555}}td{{padding:.15rem 0}}</style></head>
<body><p><a href="/docs">API</a> · <a href="/sparql">SPARQL</a> · <a href="/ontology">ontology</a></p>
<h1>{html.escape(detail.label)}</h1><p><code>{html.escape(detail.iri)}</code> · {html.escape(detail.category)}
({html.escape(detail.type)})</p><p>{html.escape(detail.definition or '')}</p>
<h2>Evidence in the source text</h2><ul>{quotes or '<li>none</li>'}</ul>
<h2>Statements</h2><table>{''.join(rows)}</table>
<p>Also as <a href="?format=ttl">Turtle</a>, <a href="?format=jsonld">JSON-LD</a>, <a href="?format=xml">RDF/XML</a>,
<a href="?format=nt">N-Triples</a>.</p></body></html>"""
    return body.encode()


def entity_representation(request: Request, state: ServiceState, entity_id: str, fmt: str | None,
                          html_ok: bool = True) -> Response:
    media = negotiate(request, fmt, html_ok=html_ok)
    if media == "text/html":
        return cached_response(request, state, lambda: entity_page(state, entity_id), "text/html; charset=utf-8", "html")
    return cached_response(request, state, lambda: serialize(describe(state, entity_id), media), media, media)


@router.get("/entity/{entity_id}", summary="Dereference an entity IRI (HTML, Turtle, JSON-LD, RDF/XML, N-Triples)",
            responses={200: {"content": {m: {} for m in [*RDF_FORMATS, "text/html"]}}}, openapi_extra={"x-stored-query": "describe_entity"})
def entity(request: Request, state: State, entity_id: str = Path(examples=["osteoarthritis"]),
           fmt: Format | None = FORMAT_QUERY) -> Response:
    """`https://w3id.org/knee-soreness/{id}` resolves here; recommendations and evidence nodes too."""
    if str(KS[entity_id]) in state.search.entities:
        return entity_representation(request, state, entity_id, fmt)
    # Recommendations, evidence and the source document are not searchable but are dereferenceable as RDF.
    graph = describe(state, entity_id) if ID_PATTERN.match(entity_id) else Graph()
    if not len(graph):
        require_entity(state, entity_id)
    media = negotiate(request, fmt, html_ok=False)
    return cached_response(request, state, lambda: serialize(graph, media), media, media)


@router.get("/api/entities/{entity_id}", response_model=EntityDetail,
            summary="Any entity as JSON, or JSON-LD with Accept: application/ld+json",
            responses={200: {"content": {"application/ld+json": {}}}}, openapi_extra={"x-stored-query": "entity"})
def api_entity(request: Request, state: State, entity_id: str = Path(examples=["massage"])) -> Response:
    require_entity(state, entity_id)
    if wants_jsonld(request):
        return entity_representation(request, state, entity_id, "jsonld")
    return cached_response(request, state, lambda: answers.entity_detail(state, entity_id))


@router.get("/ontology", summary="The whole ontology (schema + knowledge merged), e.g. for Protégé's Open from URL",
            responses={200: {"content": {m: {} for m in RDF_FORMATS}}})
def ontology(request: Request, state: State, fmt: RdfFormat | None = FORMAT_QUERY) -> Response:
    from kg_service.export import export_ontology

    media = negotiate(request, fmt, html_ok=False, default="text/turtle")
    if media == "text/html":
        media = "text/turtle"
    alias = RDF_FORMATS[media][1]
    return cached_response(request, state, lambda: export_ontology(state.loaded.ontology_dir, alias), media, media)


@router.get("/api/source", summary="The source article the evidence spans point into",
            responses={200: {"content": {"text/plain": {}}}})
def source_text(request: Request, state: State) -> Response:
    """Evidence `start`/`end` are Unicode code-point offsets into exactly this text."""
    return cached_response(request, state, lambda: state.loaded.source_text.encode(), "text/plain; charset=utf-8")
