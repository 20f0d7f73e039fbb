"""/api/search: labels and synonyms, partial words, word forms and small typos, best first."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from kg_service.api.common import State, cached_response, entity_ref
from kg_service.api.models import SearchResponse, SearchResult
from kg_service.errors import InvalidParameter

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search", response_model=SearchResponse, summary="Find entities by name, as people type them", openapi_extra={"x-stored-query": "search_index"})
def search(
    request: Request, state: State,
    q: str = Query(min_length=1, max_length=200, description="What to look for: any case, part of a word, "
                   "another word form or a small typo.", examples=["synov"]),
    type: str | None = Query(None, description="Keep one category (cause, intervention, mechanism, symptom, ...) "
                             "or kind (drug, disease-or-disorder, ...).", examples=["cause"]),
    limit: int = Query(10, ge=1, le=100),
) -> Response:
    """Competency question P08: `q=synov` finds knee synovitis; `q=meniscus` finds meniscal injury."""
    types = {type} if type else None
    if type is not None and type not in state.search.kinds:
        raise InvalidParameter(f"type={type!r} is not a category or kind of entity.",
                               hint=f"Use one of: {', '.join(state.search.kinds)}.")

    def compute() -> SearchResponse:
        hits = state.search.search(q, types, limit)
        return SearchResponse(query=q, results=[
            SearchResult(**entity_ref(state, h.entity).model_dump(), score=h.score, matched=h.matched,
                         provenance=state.search.entities[h.entity].provenance) for h in hits])

    return cached_response(request, state, compute)
