"""/api/interventions: what the text advises, filterable by kind and by need for a physician."""

from __future__ import annotations

from fastapi import Path, Query, Request, Response

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
from kg_service.api.models import EntityItem, Page, RecommendedItem
from kg_service.errors import InvalidParameter

router = category_router("intervention", "interventions", "ibuprofen-sustained-release-capsules", with_list=False)
InterventionId = Path(description="Id of an intervention.", examples=["ibuprofen-sustained-release-capsules"])


def intervention_types(state) -> list[str]:
    """The kinds of intervention, read once per graph version (stored query `intervention_types`)."""
    return state.cache.derived(("intervention_types",), lambda: [
        str(r["slug"]) for r in state.catalog.select(state.backend, "intervention_types")])


@router.get("", response_model=Page[EntityItem], summary="Interventions, by kind and need for medical supervision", openapi_extra={"x-stored-query": "interventions"})
def list_interventions(
    request: Request, state: State, limit: Limit = 50, offset: Offset = 0,
    type: str | None = Query(None, description="Kind of intervention: drug, lifestyle, diet, physical-therapy, "
                                               "joint-protection, care-seeking (see /api/queries/intervention_types).",
                             examples=["drug"]),
    requires_medical_supervision: bool | None = Query(None, description="true: only advice the text ties to a "
                                                                        "physician; false: only advice it does not."),
) -> Response:
    """Stored query `interventions` (competency question P07: type=drug)."""
    if type is not None:
        kinds = intervention_types(state)
        if type not in kinds:
            raise InvalidParameter(f"type={type!r} is not a kind of intervention.", hint=f"Use one of: {', '.join(kinds)}.")
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.interventions(state, type, requires_medical_supervision)],
        limit, offset))


@router.get("/{intervention_id}/causes", response_model=Page[RecommendedItem],
            summary="Causes an intervention is recommended for", openapi_extra={"x-stored-query": "causes_for_intervention"})
def causes_for_intervention(request: Request, state: State, intervention_id: str = InterventionId,
                            limit: Limit = 50, offset: Offset = 0) -> Response:
    """Stored query `causes_for_intervention` (competency question P06: ibuprofen -> osteoarthritis only)."""
    require_entity(state, intervention_id, ["intervention"])
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.recommended_items(state, "causes_for_intervention",
                                                           {"intervention": intervention_id})], limit, offset))
