"""/api/causes: the causes the text names, their mechanisms and the interventions it recommends."""

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
from kg_service.api.models import MechanismItem, Page, RecommendedItem

router = category_router("cause", "causes", "osteoarthritis")
CauseId = Path(description="Id of a cause (see /api/causes or /api/search?type=cause).", examples=["osteoarthritis"])


@router.get("/{cause_id}/interventions", response_model=Page[RecommendedItem],
            summary="Interventions the text recommends for a cause", openapi_extra={"x-stored-query": "interventions_for_cause"})
def interventions_for_cause(request: Request, state: State, cause_id: str = CauseId,
                            limit: Limit = 50, offset: Offset = 0) -> Response:
    """Stored query `interventions_for_cause`: one item per recommendation, with its qualifier as written,
    whether it needs a physician, and the exact evidence span (competency questions P01-P03)."""
    require_entity(state, cause_id, ["cause", "symptom"])
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.recommended_items(state, "interventions_for_cause", {"cause": cause_id})],
        limit, offset))


@router.get("/{cause_id}/mechanisms", response_model=Page[MechanismItem],
            summary="Mechanisms through which a cause leads to knee soreness", openapi_extra={"x-stored-query": "mechanisms_for_cause"})
def mechanisms_for_cause(request: Request, state: State, cause_id: str = CauseId,
                         limit: Limit = 50, offset: Offset = 0) -> Response:
    """Stored queries `mechanisms_for_cause` and `relation_support` (competency question P04): each mechanism
    carries the evidence, hedge (`qualifier`) and provenance of the cause -> mechanism relation; one reached
    through a condition the cause leads to is `inferred` and lists in `via` the asserted relations it comes from."""
    require_entity(state, cause_id, ["cause"])
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.mechanisms_for_cause(state, cause_id)], limit, offset))
