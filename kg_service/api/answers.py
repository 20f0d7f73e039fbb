"""Stored-query rows -> response models. Each function runs stored queries; none writes SPARQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from kg_service.api.common import (
    distinct,
    entity_ref,
    evidence_list,
    group_rows,
    local_id,
)
from kg_service.api.models import (
    CauseItem,
    DrugDetails,
    EntityDetail,
    EntityItem,
    Evidence,
    Mapping,
    MechanismItem,
    RecommendedItem,
    SourceDocument,
    StatedEdge,
)
from kg_service.graph import KS
from kg_service.state import ServiceState

MATCH_FIELDS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
EdgeKey = tuple[str, str, str]  # (subject, relation, object) IRIs of one asserted triple
CAUSES_SYMPTOM = str(KS["causes_symptom"])
DRUG_RELATIONS = ("has_drug_class", "has_dosage_form", "has_route")
MAX_PATH_LENGTH = 6  # causal chains: longest walked, and most returned
MAX_PATHS = 50


def _bool(value: object) -> bool:
    return str(value).lower() in ("true", "1")


def _text(row: dict, name: str) -> str | None:
    return str(row[name]) if name in row else None


def entities_of_category(state: ServiceState, category: str, type_: str | None = None) -> list[EntityItem]:
    rows = state.catalog.select(state.backend, "entities_of_category", {"category": category, "type": type_})
    return [EntityItem(**entity_ref(state, iri).model_dump(), provenance=_text(group[0], "provenance"))
            for iri, group in group_rows(rows).items()]


def interventions(state: ServiceState, type_: str | None = None,
                  requires_medical_supervision: bool | None = None) -> list[EntityItem]:
    params = {"type": type_, "requires_medical_supervision": None if requires_medical_supervision is None
              else str(requires_medical_supervision).lower()}
    rows = state.catalog.select(state.backend, "interventions", params)
    items = []
    for iri, group in group_rows(rows).items():
        ref = entity_ref(state, iri)
        supervision = [_bool(r["requires_medical_supervision"]) for r in group if "requires_medical_supervision" in r]
        items.append(EntityItem(**ref.model_dump(), provenance=_text(group[0], "provenance"),
                                requires_medical_supervision=any(supervision) if supervision else None))
    return items


# Relations and where they come from ------------------------------------------------------------------------------

def relation_support(state: ServiceState) -> dict[EdgeKey, StatedEdge]:
    """Provenance, hedge, condition and evidence of every annotated relation (stored query `relation_support`),
    read once per graph version."""
    def read() -> dict[EdgeKey, StatedEdge]:
        groups: dict[EdgeKey, list[dict]] = {}
        for row in state.catalog.select(state.backend, "relation_support"):
            groups.setdefault((str(row["subject"]), str(row["relation"]), str(row["object"])), []).append(row)
        return {(s, p, o): StatedEdge(subject=local_id(s), relation=local_id(p), object=local_id(o),
                                      provenance=_text(rows[0], "provenance"),
                                      reference=distinct(r.get("reference") for r in rows),
                                      qualifier=_text(rows[0], "hedge"), holds_when=_text(rows[0], "holds_when"),
                                      evidence=evidence_list(rows))
                for (s, p, o), rows in groups.items()}

    return state.cache.derived(("relation_support",), read)


def stated_edge(state: ServiceState, key: EdgeKey) -> StatedEdge:
    """The support of one asserted triple; a relation without an axiom annotation says so by having none."""
    found = relation_support(state).get(key)
    return found if found is not None else StatedEdge(subject=local_id(key[0]), relation=local_id(key[1]),
                                                      object=local_id(key[2]))


def merged_evidence(edges: Iterable[StatedEdge]) -> list[Evidence]:
    spans = {(e.start, e.end, e.source): e for edge in edges for e in edge.evidence}
    return [spans[k] for k in sorted(spans)]


def inferred_fields(edges: list[StatedEdge]) -> dict:
    """An inferred relation: not stated as such, but by the chain of asserted `edges` it comes from."""
    provenance = "curated" if any(e.provenance == "curated" for e in edges) else "text"
    return {"inferred": True, "via": edges, "provenance": provenance, "evidence": merged_evidence(edges)}


def asserted_fields(edge: StatedEdge) -> dict:
    return {"inferred": False, "provenance": edge.provenance, "reference": edge.reference,
            "qualifier": edge.qualifier, "holds_when": edge.holds_when, "evidence": edge.evidence}


@dataclass(frozen=True)
class Hop:
    """One step of a causal chain: the relation walked, and the asserted triple that states it."""

    target: str
    relation: str
    stated: EdgeKey


def causal_hops(state: ServiceState) -> dict[str, list[Hop]]:
    """The stated causal edges (stored query `causal_edges`) by subject, read once per graph version."""
    def read() -> dict[str, list[Hop]]:
        hops: dict[str, list[Hop]] = defaultdict(list)
        for row in state.catalog.select(state.backend, "causal_edges"):
            hops[str(row["subject"])].append(Hop(str(row["object"]), local_id(row["relation"]), (
                str(row["stated_subject"]), str(row["stated_relation"]), str(row["stated_object"]))))
        return {s: sorted(h, key=lambda hop: (hop.target, hop.relation)) for s, h in hops.items()}

    return state.cache.derived(("causal_hops",), read)


def causal_paths(state: ServiceState, source: str, target: str, max_length: int = MAX_PATH_LENGTH,
                 max_paths: int = MAX_PATHS) -> list[list[tuple[str, Hop | None]]]:
    """All simple paths over the stated causal edges, shortest first: [(node, hop that reached it), ...]."""
    hops = causal_hops(state)
    found: list[list[tuple[str, Hop | None]]] = []

    def walk(node: str, path: list[tuple[str, Hop | None]]) -> None:
        if len(found) >= max_paths or len(path) > max_length:
            return
        if node == target and len(path) > 1:
            found.append(list(path))
            return
        for hop in hops.get(node, ()):
            if all(hop.target != n for n, _ in path):
                path.append((hop.target, hop))
                walk(hop.target, path)
                path.pop()

    walk(source, [(source, None)])
    return sorted(found, key=len)


# Answers ---------------------------------------------------------------------------------------------------------

def entity_detail(state: ServiceState, entity_id: str) -> EntityDetail:
    rows = state.catalog.select(state.backend, "entity", {"entity": entity_id})
    ref = entity_ref(state, rows[0]["entity"]) if rows else None
    by_field: dict[str, list[str]] = {}
    for row in rows:
        if "field" in row:
            by_field.setdefault(str(row["field"]), []).append(str(row["value"]))
    evidence = evidence_list(state.catalog.select(state.backend, "evidence_for", {"node": entity_id}))
    relations = [edge for (s, _, _), edge in relation_support(state).items() if ref is not None and s == ref.iri]
    drug = None
    if ref is not None and ref.type == "drug":
        drug_rows = state.catalog.select(state.backend, "drug_details", {"drug": entity_id})
        if drug_rows:
            row = drug_rows[0]
            drug = DrugDetails(drug_class=entity_ref(state, row["drug_class"]),
                               dosage_form=entity_ref(state, row["dosage_form"]), route=entity_ref(state, row["route"]),
                               relations=[e for e in relations if e.relation in DRUG_RELATIONS])
    definition = next((str(r["definition"]) for r in rows if "definition" in r), None)
    provenance = next((str(r["provenance"]) for r in rows if "provenance" in r), None)
    return EntityDetail(**ref.model_dump(), definition=definition, provenance=provenance,
                        reference=distinct(by_field.get("reference", [])),
                        synonyms=distinct(by_field.get("synonym", [])),
                        broad_synonyms=distinct(by_field.get("broad_synonym", [])),
                        narrow_synonyms=distinct(by_field.get("narrow_synonym", [])),
                        related_synonyms=distinct(by_field.get("related_synonym", [])),
                        mappings=[Mapping(match=f, iri=v) for f in MATCH_FIELDS for v in distinct(by_field.get(f, []))],
                        evidence=evidence, drug=drug, relations=relations)


def recommended_items(state: ServiceState, query: str, params: dict[str, str]) -> list[RecommendedItem]:
    """Rows of interventions_for_cause / causes_for_intervention, one item per recommendation."""
    rows = state.catalog.select(state.backend, query, params)
    items = []
    for rec_iri, group in group_rows(rows, "recommendation").items():
        first = group[0]
        text = state.loaded.text_of(first.get("source"))  # qualifiers in the order their text says them
        qualifiers = sorted(distinct(r.get("qualifier") for r in group), key=lambda q: (text.find(q) % (len(text) + 1), q))
        items.append(RecommendedItem(
            **entity_ref(state, first["entity"]).model_dump(),
            recommendation=local_id(rec_iri),
            qualifier="; ".join(qualifiers) or None,
            qualifiers=qualifiers,
            requires_medical_supervision=_bool(first["requires_medical_supervision"]),
            stated_benefit=_text(first, "stated_benefit"),
            applies_when=_text(first, "applies_when"),
            provenance=_text(first, "provenance"),
            evidence=evidence_list(group)))
    return items


def mechanisms_for_cause(state: ServiceState, cause_id: str) -> list[MechanismItem]:
    """Each mechanism with the evidence and hedge of the cause -> mechanism edge, or, for one reached through a
    condition the cause leads to, the asserted edges it is inferred from."""
    rows = state.catalog.select(state.backend, "mechanisms_for_cause", {"cause": cause_id})
    items = []
    for iri, group in group_rows(rows).items():
        triggers = [entity_ref(state, t) for t in distinct(r.get("trigger") for r in group)]
        keys = list(dict.fromkeys((str(r["edge_subject"]), str(r["edge_relation"]), str(r["edge_object"]))
                                  for r in sorted(group, key=lambda r: int(r["step"]))))
        edges = [stated_edge(state, k) for k in keys]
        inferred = _bool(group[0]["inferred"])
        support = inferred_fields(edges) if inferred else asserted_fields(edges[0])
        items.append(MechanismItem(**entity_ref(state, iri).model_dump(), relation="inferred" if inferred else "asserted",
                                   triggers=triggers, **support))
    return items


def causes_of_symptom(state: ServiceState, symptom_id: str) -> list[CauseItem]:
    """Each cause with the evidence and hedge of its cause -> symptom edge, or, for one linked only through a
    chain, the asserted edges of the shortest chain."""
    rows = state.catalog.select(state.backend, "causes_of_symptom", {"symptom": symptom_id})
    items = []
    for iri, group in group_rows(rows).items():
        symptom = str(group[0]["symptom"])
        if any(_bool(r["asserted"]) for r in group):
            support = asserted_fields(stated_edge(state, (iri, CAUSES_SYMPTOM, symptom)))
        else:
            chains = causal_paths(state, iri, symptom)
            support = inferred_fields([stated_edge(state, hop.stated) for _, hop in chains[0][1:] if hop] if chains
                                      else [])
        items.append(CauseItem(**entity_ref(state, iri).model_dump(),
                               relation="inferred" if support["inferred"] else "asserted", **support))
    return items


def source_documents(state: ServiceState) -> list[SourceDocument]:
    """Every document evidence points into (stored query `source_documents`), with its text's length; read once
    per graph version (every evidence span on a page names its document)."""
    return state.cache.derived(("source_documents",), lambda: _source_documents(state))


def source_document(state: ServiceState, iri: str) -> SourceDocument | None:
    """One document by IRI (an index over `source_documents`, built once per graph version)."""
    index = state.cache.derived(("source_documents", "by-iri"), lambda: {d.iri: d for d in source_documents(state)})
    return index.get(iri)


def source_href(document: object) -> str:
    """Where a source document's text is served (its id URL-encoded: an IRI outside ks: stays one parameter)."""
    return f"/api/source?document={quote(local_id(document), safe='')}"


def _source_documents(state: ServiceState) -> list[SourceDocument]:
    return [SourceDocument(id=local_id(row["document"]), iri=str(row["document"]), label=_text(row, "label"),
                           file=str(row["file"]), characters=len(state.loaded.text_of(row["document"])),
                           evidence_spans=int(row["spans"]),
                           text=source_href(row["document"]))
            for row in state.catalog.select(state.backend, "source_documents")]
