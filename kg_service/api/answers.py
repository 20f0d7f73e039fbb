"""Stored-query rows -> response models. Each function runs one stored query; none writes SPARQL."""

from __future__ import annotations

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
    Mapping,
    MechanismItem,
    RecommendedItem,
)
from kg_service.state import ServiceState

MATCH_FIELDS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")


def _bool(value: object) -> bool:
    return str(value).lower() in ("true", "1")


def entities_of_category(state: ServiceState, category: str, type_: str | None = None) -> list[EntityItem]:
    rows = state.catalog.select(state.backend, "entities_of_category", {"category": category, "type": type_})
    return [EntityItem(**entity_ref(state, iri).model_dump()) for iri in group_rows(rows)]


def interventions(state: ServiceState, type_: str | None = None,
                  requires_medical_supervision: bool | None = None) -> list[EntityItem]:
    params = {"type": type_, "requires_medical_supervision": None if requires_medical_supervision is None
              else str(requires_medical_supervision).lower()}
    rows = state.catalog.select(state.backend, "interventions", params)
    items = []
    for iri, group in group_rows(rows).items():
        ref = entity_ref(state, iri)
        supervision = [_bool(r["requires_medical_supervision"]) for r in group if "requires_medical_supervision" in r]
        items.append(EntityItem(**ref.model_dump(), requires_medical_supervision=any(supervision) if supervision else None))
    return items


def entity_detail(state: ServiceState, entity_id: str) -> EntityDetail:
    rows = state.catalog.select(state.backend, "entity", {"entity": entity_id})
    ref = entity_ref(state, rows[0]["entity"]) if rows else None
    by_field: dict[str, list[str]] = {}
    for row in rows:
        if "field" in row:
            by_field.setdefault(str(row["field"]), []).append(str(row["value"]))
    evidence = evidence_list(state.catalog.select(state.backend, "evidence_for", {"node": entity_id}))
    drug = None
    if ref is not None and ref.type == "drug":
        drug_rows = state.catalog.select(state.backend, "drug_details", {"drug": entity_id})
        if drug_rows:
            row = drug_rows[0]
            drug = DrugDetails(drug_class=entity_ref(state, row["drug_class"]),
                               dosage_form=entity_ref(state, row["dosage_form"]), route=entity_ref(state, row["route"]))
    definition = next((str(r["definition"]) for r in rows if "definition" in r), None)
    return EntityDetail(**ref.model_dump(), definition=definition,
                        synonyms=distinct(by_field.get("synonym", [])),
                        related_synonyms=distinct(by_field.get("related_synonym", [])),
                        mappings=[Mapping(match=f, iri=v) for f in MATCH_FIELDS for v in distinct(by_field.get(f, []))],
                        evidence=evidence, drug=drug)


def recommended_items(state: ServiceState, query: str, params: dict[str, str]) -> list[RecommendedItem]:
    """Rows of interventions_for_cause / causes_for_intervention, one item per recommendation."""
    rows = state.catalog.select(state.backend, query, params)
    items = []
    for rec_iri, group in group_rows(rows, "recommendation").items():
        first = group[0]
        qualifiers = distinct(r.get("qualifier") for r in group)
        items.append(RecommendedItem(
            **entity_ref(state, first["entity"]).model_dump(),
            recommendation=local_id(rec_iri),
            qualifier="; ".join(qualifiers) or None,
            qualifiers=qualifiers,
            requires_medical_supervision=_bool(first["requires_medical_supervision"]),
            stated_benefit=str(first["stated_benefit"]) if "stated_benefit" in first else None,
            applies_when=str(first["applies_when"]) if "applies_when" in first else None,
            evidence=evidence_list(group)))
    return items


def mechanisms_for_cause(state: ServiceState, cause_id: str) -> list[MechanismItem]:
    rows = state.catalog.select(state.backend, "mechanisms_for_cause", {"cause": cause_id})
    items = []
    for iri, group in group_rows(rows).items():
        triggers = [entity_ref(state, t) for t in distinct(r.get("trigger") for r in group)]
        items.append(MechanismItem(**entity_ref(state, iri).model_dump(),
                                   relation="asserted" if _bool(group[0]["asserted"]) else "inferred",
                                   triggers=triggers, evidence=evidence_list(group)))
    return items


def causes_of_symptom(state: ServiceState, symptom_id: str) -> list[CauseItem]:
    rows = state.catalog.select(state.backend, "causes_of_symptom", {"symptom": symptom_id})
    return [CauseItem(**entity_ref(state, iri).model_dump(),
                      relation="asserted" if any(_bool(r["asserted"]) for r in group) else "inferred")
            for iri, group in group_rows(rows).items()]
