"""The data behind each page, as plain dicts (the JSON face of the page, and what its template renders).

Every fact comes from a stored query or from what the state built at load (search index, source text);
nothing here writes SPARQL or HTML.
"""

from __future__ import annotations

from typing import Any

from rdflib import Literal

from kg_service import __version__
from kg_service.api import answers
from kg_service.api.common import local_id
from kg_service.api.models import Evidence, StatedEdge
from kg_service.graph import KS, PREFIXES
from kg_service.state import ServiceState

CONTEXT_CHARS = 220  # characters of source text shown on each side of an evidence span
RELATION_CONTEXT_CHARS = 80  # the same, for the span a single relation is stated by
# Shown in their own sections of an entity page, not again among its relations.
OWN_SECTIONS = {
    "http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "http://purl.obolibrary.org/obo/IAO_0000115",
    "http://www.geneontology.org/formats/oboInOwl#hasExactSynonym",
    "http://www.geneontology.org/formats/oboInOwl#hasRelatedSynonym",
    "http://www.geneontology.org/formats/oboInOwl#hasBroadSynonym",
    "http://www.geneontology.org/formats/oboInOwl#hasNarrowSynonym",
    *(f"http://www.w3.org/2004/02/skos/core#{m}" for m in answers.MATCH_FIELDS),
    str(KS["provenance"]), "http://purl.org/dc/terms/source",  # the provenance line under the heading
}
SYNONYM_KINDS = (("exact", "synonyms"), ("broad", "broad_synonyms"), ("narrow", "narrow_synonyms"),
                 ("related", "related_synonyms"))
TRIVIAL_TYPES = {"http://www.w3.org/2002/07/owl#NamedIndividual", "http://www.w3.org/2002/07/owl#Thing"}
# Standard identifiers: IRI prefix -> CURIE prefix, for showing a mapping the way curators write it.
CURIE_PREFIXES = {"http://purl.obolibrary.org/obo/": None, "http://id.nlm.nih.gov/mesh/": "MESH",
                  "http://purl.bioontology.org/ontology/ICD10CM/": "ICD10CM",
                  "https://icd.who.int/browse10/2019/en#/": "ICD10", "http://purl.bioontology.org/ontology/ATC/": "ATC"}
DOWNLOADS = [("Turtle", "ttl"), ("RDF/XML (Protégé)", "xml"), ("JSON-LD", "jsonld"), ("N-Triples", "nt")]


def short_name(iri: str) -> str:
    """A readable short form: ks:x, rdfs:label, HP:0005086, MESH:D013585; the IRI itself otherwise."""
    for base, prefix in CURIE_PREFIXES.items():
        if iri.startswith(base):
            rest = iri[len(base):]
            return rest.replace("_", ":", 1) if prefix is None else f"{prefix}:{rest}"
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and len(iri) > len(base):
            return f"{prefix}:{iri[len(base):]}"
    return iri


def _is_true(value: object) -> bool:
    return str(value).lower() in ("true", "1")


def _counts(state: ServiceState) -> dict[str, int]:
    rows = state.catalog.select(state.backend, "ontology_statistics")
    return {key: int(value) for key, value in rows[0].items()} if rows else {}


def home(state: ServiceState) -> dict[str, Any]:
    causes = answers.entities_of_category(state, "cause")
    return {
        "title": "Knee soreness at night: a knowledge graph",
        "service_version": __version__,
        "graph_version": state.version,
        "backend": state.backend.name,
        "triples": {"asserted": state.loaded.asserted_count, "inferred": state.loaded.inferred_count},
        "counts": _counts(state),
        "causes": [c.model_dump() for c in causes],
        "links": {"editor": "/sparql", "entities": "/entities", "docs": "/docs", "openapi": "/openapi.json",
                  "search": "/api/search", "sources": "/api/sources", "diagram": "/diagram.svg"},
        "documents": [d.model_dump() for d in answers.source_documents(state)],
        "downloads": [{"label": label, "href": f"/ontology?format={fmt}"} for label, fmt in DOWNLOADS],
    }


def entity_index(state: ServiceState, q: str | None = None) -> dict[str, Any]:
    """Every searchable entity by category, or the search hits for `q` (the no-JavaScript search)."""
    data: dict[str, Any] = {"title": "Entities", "q": q or "", "results": None, "categories": {}}
    if q:
        data["results"] = [{"id": local_id(hit.entity), "label": state.search.entities[hit.entity].label,
                            "category": state.search.entities[hit.entity].category, "matched": hit.matched,
                            "provenance": state.search.entities[hit.entity].provenance}
                           for hit in state.search.search(q, None, 25)]
    by_category: dict[str, list[dict[str, str]]] = {}
    for info in state.search.entities.values():
        by_category.setdefault(info.category, []).append(
            {"id": local_id(info.iri), "label": info.label, "type": info.type, "iri": info.iri,
             "provenance": info.provenance})
    data["categories"] = {category: sorted(items, key=lambda i: i["label"].lower())
                          for category, items in sorted(by_category.items())}
    return data


def _statements(state: ServiceState, entity_id: str) -> list[dict[str, Any]]:
    rows = state.catalog.select(state.backend, "entity_statements", {"entity": entity_id})
    statements = []
    for row in rows:
        value = row["value"]
        iri = None if isinstance(value, Literal) else str(value)
        statement = {"direction": str(row["direction"]), "property": str(row["property"]),
                     "property_label": str(row.get("property_label") or short_name(str(row["property"]))),
                     "asserted": _is_true(row["asserted"])}
        if iri is None:
            statement["literal"] = str(value)
        else:
            label = row.get("value_label")
            statement.update(iri=iri, label=str(label) if label is not None else short_name(iri),
                             id=local_id(iri) if iri.startswith(str(KS)) else None)
        statements.append(statement)
    return statements


def _grouped(statements: list[dict[str, Any]], direction: str) -> list[dict[str, Any]]:
    """Statements of one direction grouped by property, properties by label."""
    groups: dict[str, dict[str, Any]] = {}
    for s in statements:
        if s["direction"] != direction or (direction == "out" and s["property"] in OWN_SECTIONS):
            continue
        group = groups.setdefault(s["property"], {"property": s["property"], "label": s["property_label"],
                                                   "values": []})
        value = {k: s[k] for k in ("iri", "id", "label", "literal", "asserted") if k in s}
        if value not in group["values"]:
            group["values"].append(value)
    return sorted(groups.values(), key=lambda g: g["label"].lower())


def evidence_in_context(text: str, start: int, end: int, quote: str, context: int = CONTEXT_CHARS) -> dict[str, Any]:
    """The span with the text around it, cut at word boundaries, for <mark>ing it in place. A span that does not
    point into this text (another source document) is shown as its quote alone rather than in the wrong place."""
    if text[start:end] != quote:
        return {"before": "", "quote": quote, "after": "", "clipped_before": False, "clipped_after": False}
    before_start = max(0, start - context)
    after_end = min(len(text), end + context)
    before, after = text[before_start:start], text[end:after_end]
    if before_start > 0 and " " in before:
        before = before[before.index(" ") + 1:]
    if after_end < len(text) and " " in after:
        after = after[:after.rindex(" ")]
    return {"before": before, "quote": text[start:end], "after": after,
            "clipped_before": before_start > 0, "clipped_after": after_end < len(text)}


def _references(iris: list[str]) -> list[dict[str, str]]:
    return [{"iri": iri, "curie": short_name(iri)} for iri in iris]


def _evidence(state: ServiceState, span: Evidence, context: int = CONTEXT_CHARS) -> dict[str, Any]:
    """One span for the page: marked in place in its own document's text, with that document's title and link."""
    document = answers.source_document(state, span.source)
    href = document.text if document else answers.source_href(span.source)
    return {**span.model_dump(), **evidence_in_context(state.loaded.text_of(span.source), span.start, span.end,
                                                       span.quote, context),
            "document": {"label": document.label if document and document.label else local_id(span.source),
                         "href": href}}


def _support(edge: StatedEdge, state: ServiceState) -> dict[str, Any]:
    """Where one relation comes from, for the page: text (hedge as written, condition, its own span marked in
    place in its own document) or curated background (its references)."""
    return {"provenance": edge.provenance, "qualifier": edge.qualifier, "holds_when": edge.holds_when,
            "references": _references(edge.reference),
            "evidence": [_evidence(state, e, RELATION_CONTEXT_CHARS) for e in edge.evidence]}


def _attach_support(state: ServiceState, iri: str, groups: list[dict[str, Any]], direction: str) -> None:
    """Give each asserted relation value the provenance its axiom annotation records (stored query
    `relation_support`); inferred ones have none of their own."""
    support = answers.relation_support(state)
    for group in groups:
        for value in group["values"]:
            if not value.get("iri") or not value["asserted"]:
                continue
            key = (iri, group["property"], value["iri"]) if direction == "out" else (value["iri"], group["property"], iri)
            edge = support.get(key)
            if edge is not None:
                value["support"] = _support(edge, state)


def entity(state: ServiceState, entity_id: str) -> dict[str, Any]:
    """An entity page: names, kinds, identifiers, relations both ways (asserted or inferred), evidence in place,
    and for a cause its mechanisms and the advised interventions grouped by kind."""
    statements = _statements(state, entity_id)
    iri = str(KS[entity_id])
    info = state.search.entities.get(iri)
    detail = answers.entity_detail(state, entity_id) if info is not None else None
    labels = [s["literal"] for s in statements if s["direction"] == "out" and s["property"].endswith("#label")]
    evidence = [_evidence(state, span) for span in (detail.evidence if detail else [])]
    data: dict[str, Any] = {
        "id": entity_id, "iri": iri,
        "label": info.label if info else (labels[0] if labels else entity_id),
        "category": info.category if info else "", "type": info.type if info else "",
        "definition": detail.definition if detail else None,
        "provenance": detail.provenance if detail else None,
        "references": _references(detail.reference) if detail else [],
        # by kind, as oboInOwl has them (broad/narrow where the model carries them)
        "synonyms": {kind: list(getattr(detail, field, []) or []) if detail else [] for kind, field in SYNONYM_KINDS},
        "types": [{"iri": s["iri"], "label": s["label"], "asserted": s["asserted"]} for s in statements
                  if s["direction"] == "out" and s["property"].endswith("#type") and s.get("iri")
                  and s["iri"] not in TRIVIAL_TYPES],
        "identifiers": [{"match": m.match, "iri": m.iri, "curie": short_name(m.iri)}
                        for m in (detail.mappings if detail else [])],
        "relations": _grouped(statements, "out"),
        "inverse_relations": _grouped(statements, "in"),
        "evidence": evidence,
        "mechanisms": [], "interventions_by_kind": [], "advised_for": [],
        "downloads": [{"label": label, "href": f"/entity/{entity_id}?format={fmt}"} for label, fmt in DOWNLOADS],
        "diagram": None,
    }
    _attach_support(state, iri, data["relations"], "out")
    _attach_support(state, iri, data["inverse_relations"], "in")
    if info is not None and info.category in ("cause", "symptom"):
        items = answers.recommended_items(state, "interventions_for_cause", {"cause": entity_id})
        kinds = {str(r["slug"]): str(r["label"]) for r in state.catalog.select(state.backend, "intervention_types")}
        grouped: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            grouped.setdefault(item.type, []).append(item.model_dump())
        data["interventions_by_kind"] = [{"kind": kind, "label": kinds.get(kind, kind), "items": grouped[kind]}
                                         for kind in sorted(grouped)]
    if info is not None and info.category == "intervention":
        data["advised_for"] = [item.model_dump() for item in
                               answers.recommended_items(state, "causes_for_intervention", {"intervention": entity_id})]
    if info is not None and info.category == "cause":
        data["mechanisms"] = [m.model_dump() for m in answers.mechanisms_for_cause(state, entity_id)]
        data["diagram"] = f"/diagram/{entity_id}.svg"
    return data
