"""Linked data: every entity IRI dereferences at /entity/{id}; /ontology serves the whole ontology.

Content negotiation picks HTML for browsers, or Turtle, JSON-LD (with an inline context), RDF/XML or
N-Triples; `format=` overrides Accept. Nothing here fetches a remote context or asset.
"""

from __future__ import annotations

import typing

from fastapi import APIRouter, Path, Query, Request, Response
from rdflib import Graph
from rdflib.namespace import RDFS

from kg_service.api import answers
from kg_service.api.common import (
    Limit,
    Offset,
    State,
    cached_response,
    local_id,
    require_entity,
)
from kg_service.api.common import page as paged
from kg_service.api.models import EntityDetail, Page, SourceDocument
from kg_service.catalog import ID_PATTERN
from kg_service.errors import UnknownId
from kg_service.graph import KS, PREFIXES
from kg_service.sparql.negotiation import choose
from kg_service.state import ServiceState
from kg_service.web import views
from kg_service.web.render import page
from kg_service.web.routes import inline_diagram

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


def entity_page(request: Request, state: ServiceState, entity_id: str) -> Response:
    """The HTML face of the linked data (kg_service/web/templates/entity.html); works without JavaScript."""

    def extras(data: dict) -> dict:
        return inline_diagram(state, entity_id) if data["diagram"] else {}

    return page(request, state, "entity.html", lambda: views.entity(state, entity_id), extras, fmt="html")


def entity_representation(request: Request, state: ServiceState, entity_id: str, fmt: str | None,
                          html_ok: bool = True) -> Response:
    media = negotiate(request, fmt, html_ok=html_ok)
    if media == "text/html":
        return entity_page(request, state, entity_id)
    return cached_response(request, state, lambda: serialize(describe(state, entity_id), media), media, media)


@router.get("/entity/{entity_id}", summary="Dereference an entity IRI (HTML, Turtle, JSON-LD, RDF/XML, N-Triples)",
            responses={200: {"content": {m: {} for m in [*RDF_FORMATS, "text/html"]}}}, openapi_extra={"x-stored-query": "describe_entity"})
def entity(request: Request, state: State, entity_id: str = Path(examples=["osteoarthritis"]),
           fmt: Format | None = FORMAT_QUERY) -> Response:
    """`https://w3id.org/knee-soreness/{id}` resolves here; recommendations and evidence nodes too."""
    if str(KS[entity_id]) in state.search.entities:
        return entity_representation(request, state, entity_id, fmt)
    # Recommendations, evidence and the source document are not searchable but dereference too (RDF or a page).
    graph = describe(state, entity_id) if ID_PATTERN.match(entity_id) else Graph()
    if not len(graph):
        require_entity(state, entity_id)
    return entity_representation(request, state, entity_id, fmt)


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


@router.get("/api/sources", response_model=Page[SourceDocument], tags=["evidence"],
            summary="The source documents the evidence spans point into",
            openapi_extra={"x-stored-query": "source_documents"})
def source_documents(request: Request, state: State, limit: Limit = 50, offset: Offset = 0) -> Response:
    """Every document an evidence span's `source` can name, with its title, file and where its text is served."""
    return cached_response(request, state, lambda: paged([d.model_dump() for d in answers.source_documents(state)],
                                                         limit, offset))


@router.get("/api/source", summary="The text of a source document, the one the evidence spans point into",
            tags=["evidence"], responses={200: {"content": {"text/plain": {}}}})
def source_text(request: Request, state: State,
                document: str | None = Query(None, description="Id or IRI of a source document (see /api/sources); "
                                                               "the first article when omitted.",
                                             examples=["source-article"])) -> Response:
    """Evidence `start`/`end` are Unicode code-point offsets into exactly this text (the document an evidence
    span's `source` names)."""
    if document is None:
        text = state.loaded.source_text
    else:
        iri = document if document.startswith(("http://", "https://")) else str(KS[document])
        if iri not in state.loaded.documents:
            known = sorted(local_id(d) for d in state.loaded.documents)
            raise UnknownId(f"No source document has the id or IRI {document!r}.",
                            hint="Use one of: " + ", ".join(known) + " (listed at /api/sources).", documents=known)
        text = state.loaded.documents[iri]
    return cached_response(request, state, lambda: text.encode(), "text/plain; charset=utf-8")
