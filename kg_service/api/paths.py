"""/api/paths: the causal chains the text states between two entities, each step with its own evidence."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from kg_service.api import answers
from kg_service.api.common import (
    State,
    cached_response,
    entity_ref,
    require_entity,
)
from kg_service.api.models import PathsResponse, PathStep

router = APIRouter(prefix="/api", tags=["paths"])


@router.get("/paths", response_model=PathsResponse, response_model_by_alias=True,
            summary="Causal chains between two entities (e.g. calcium deficiency -> osteoporosis -> knee soreness)",
            openapi_extra={"x-stored-query": "causal_edges"})
def paths(request: Request, state: State,
          from_: str = Query(alias="from", description="Id of the start entity.", examples=["calcium-deficiency"]),
          to: str = Query(description="Id of the end entity.", examples=["nocturnal-knee-soreness"])) -> Response:
    """Stored queries `causal_edges` (the hops) and `relation_support` (each hop's evidence, hedge and
    provenance): every step after the first carries the relation from the previous step and what states it."""
    start, end = require_entity(state, from_), require_entity(state, to)

    def compute() -> dict:
        result = []
        for path in answers.causal_paths(state, start.iri, end.iri):
            steps = []
            for iri, hop in path:
                support = answers.asserted_fields(answers.stated_edge(state, hop.stated)) if hop else {}
                steps.append(PathStep(**entity_ref(state, iri).model_dump(), relation=hop.relation if hop else None,
                                      **support).model_dump())
            result.append(steps)
        return {"from": start.model_dump(), "to": end.model_dump(), "paths": result}

    return cached_response(request, state, compute)
