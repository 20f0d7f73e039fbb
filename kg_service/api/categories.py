"""The two operations every category of entity has: list its members, and show one of them."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response

from kg_service.api import answers
from kg_service.api.common import (
    Limit,
    Offset,
    State,
    cached_response,
    page,
    require_entity,
)
from kg_service.api.entities import entity_representation, wants_jsonld
from kg_service.api.models import EntityDetail, EntityItem, Page


def category_router(category: str, plural: str, example_id: str, with_list: bool = True) -> APIRouter:
    """A router at /api/{plural} with `GET ""` (members) and `GET /{id}` (one member's detail)."""
    router = APIRouter(prefix=f"/api/{plural}", tags=[plural])

    if with_list:
        @router.get("", response_model=Page[EntityItem], summary=f"All {plural} the text names",
                    operation_id=f"list_{plural}", openapi_extra={"x-stored-query": "entities_of_category"})
        def list_members(request: Request, state: State, limit: Limit = 50, offset: Offset = 0) -> Response:
            return cached_response(request, state, lambda: page(
                [i.model_dump() for i in answers.entities_of_category(state, category)], limit, offset))

    @router.get("/{entity_id}", response_model=EntityDetail, operation_id=f"get_{category}",
                summary=f"One {category}: definition, synonyms, mappings, evidence",
                description="JSON by default; `Accept: application/ld+json` gives JSON-LD with an inline context.",
                responses={200: {"content": {"application/ld+json": {}}}},
                openapi_extra={"x-stored-query": "entity"})
    def get_member(request: Request, state: State,
                   entity_id: str = Path(description=f"Id of a {category} (see /api/search?type={category}).",
                                         examples=[example_id])) -> Response:
        require_entity(state, entity_id, [category])
        if wants_jsonld(request):
            return entity_representation(request, state, entity_id, "jsonld")
        return cached_response(request, state, lambda: answers.entity_detail(state, entity_id))

    return router
