"""/api/symptoms and /api/mechanisms: what is felt, and the processes that produce it."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response

from kg_service.api import answers
from kg_service.api.common import Limit, Offset, State, cached_response, page, require_entity
from kg_service.api.models import CauseItem, EntityDetail, EntityItem, Page, RecommendedItem

router = APIRouter(tags=["symptoms and mechanisms"])
SymptomId = Path(description="Id of a symptom.", examples=["nocturnal-knee-soreness"])
MechanismId = Path(description="Id of a mechanism.", examples=["inflammatory-exudation"])


@router.get("/api/symptoms", response_model=Page[EntityItem], summary="Symptoms", openapi_extra={"x-stored-query": "entities_of_category"})
def list_symptoms(request: Request, state: State, limit: Limit = 50, offset: Offset = 0) -> Response:
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.entities_of_category(state, "symptom")], limit, offset))


@router.get("/api/symptoms/{symptom_id}", response_model=EntityDetail, summary="One symptom", openapi_extra={"x-stored-query": "entity"})
def get_symptom(request: Request, state: State, symptom_id: str = SymptomId) -> Response:
    require_entity(state, symptom_id, ["symptom"])
    return cached_response(request, state, lambda: answers.entity_detail(state, symptom_id))


@router.get("/api/symptoms/{symptom_id}/causes", response_model=Page[CauseItem],
            summary="Causes of a symptom, direct or through a causal chain", openapi_extra={"x-stored-query": "causes_of_symptom"})
def causes_of_symptom(request: Request, state: State, symptom_id: str = SymptomId,
                      limit: Limit = 50, offset: Offset = 0) -> Response:
    """Stored query `causes_of_symptom` (competency question P05)."""
    require_entity(state, symptom_id, ["symptom"])
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.causes_of_symptom(state, symptom_id)], limit, offset))


@router.get("/api/symptoms/{symptom_id}/interventions", response_model=Page[RecommendedItem],
            summary="Advice the text gives for the symptom itself (e.g. seek care if it persists)", openapi_extra={"x-stored-query": "interventions_for_cause"})
def interventions_for_symptom(request: Request, state: State, symptom_id: str = SymptomId,
                              limit: Limit = 50, offset: Offset = 0) -> Response:
    require_entity(state, symptom_id, ["symptom"])
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.recommended_items(state, "interventions_for_cause", {"cause": symptom_id})],
        limit, offset))


@router.get("/api/mechanisms", response_model=Page[EntityItem], summary="Mechanisms", openapi_extra={"x-stored-query": "entities_of_category"})
def list_mechanisms(request: Request, state: State, limit: Limit = 50, offset: Offset = 0) -> Response:
    return cached_response(request, state, lambda: page(
        [i.model_dump() for i in answers.entities_of_category(state, "mechanism")], limit, offset))


@router.get("/api/mechanisms/{mechanism_id}", response_model=EntityDetail, summary="One mechanism", openapi_extra={"x-stored-query": "entity"})
def get_mechanism(request: Request, state: State, mechanism_id: str = MechanismId) -> Response:
    require_entity(state, mechanism_id, ["mechanism"])
    return cached_response(request, state, lambda: answers.entity_detail(state, mechanism_id))
