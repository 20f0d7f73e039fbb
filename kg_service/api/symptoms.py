"""/api/symptoms and /api/mechanisms: what is felt, and the processes that produce it."""

from __future__ import annotations

from fastapi import Path, Request, Response

from kg_service.api import answers
from kg_service.api.categories import category_router
from kg_service.api.common import (
    Limit,
    Offset,
    State,
    cached_response,
    page,
    require_entity,
)
from kg_service.api.models import CauseItem, Page, RecommendedItem

router = category_router("symptom", "symptoms", "nocturnal-knee-soreness")
mechanisms_router = category_router("mechanism", "mechanisms", "inflammatory-exudation")
SymptomId = Path(description="Id of a symptom.", examples=["nocturnal-knee-soreness"])


@router.get("/{symptom_id}/causes", response_model=Page[CauseItem],
            summary="Causes of a symptom, direct or through a causal chain",
            openapi_extra={"x-stored-query": "causes_of_symptom"})
def causes_of_symptom(request: Request, state: State, symptom_id: str = SymptomId,
                      limit: Limit = 50, offset: Offset = 0) -> Response:
    """Stored queries `causes_of_symptom`, `causal_edges` and `relation_support` (competency question P05): each
    cause carries the evidence, hedge (`qualifier`) and provenance of its cause -> symptom relation; one linked
    only through a chain is `inferred` and lists in `via` the asserted relations of the shortest chain."""
    require_entity(state, symptom_id, ["symptom"])
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.causes_of_symptom(state, symptom_id)], limit, offset))


@router.get("/{symptom_id}/interventions", response_model=Page[RecommendedItem],
            summary="Advice the text gives for the symptom itself (e.g. seek care if it persists)",
            openapi_extra={"x-stored-query": "interventions_for_cause"})
def interventions_for_symptom(request: Request, state: State, symptom_id: str = SymptomId,
                              limit: Limit = 50, offset: Offset = 0) -> Response:
    require_entity(state, symptom_id, ["symptom"])
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.recommended_items(state, "interventions_for_cause", {"cause": symptom_id})],
        limit, offset))
