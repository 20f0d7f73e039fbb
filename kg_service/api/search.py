"""/api/search: labels and synonyms, partial words, word forms and small typos, best first.

A plain search (no `Origin`, `q` with at most `type` and `limit`, each once and valid, the name index built) is
answered in front of FastAPI's stack (`SearchFront`), as plain `GET /sparql` queries are: routing, dependency
solving and FastAPI's per-request middlewares cost several times a search itself. Anything else goes to the
route, which answers it the same way or says what was wrong.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from kg_service.api.common import ROUTE_KEY, State, cached_response, has_origin, local_id
from kg_service.api.models import SearchResponse
from kg_service.errors import InvalidParameter, unexpected_response
from kg_service.search import SearchIndex
from kg_service.state import ServiceState

router = APIRouter(prefix="/api", tags=["search"])
PATH = "/api/search"
MAX_Q, MAX_LIMIT, DEFAULT_LIMIT = 200, 100, 10
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")


def search_answer(index: SearchIndex, q: str, types: set[str] | None, limit: int) -> dict[str, Any]:
    """`SearchResponse` as plain data, written by orjson: a pydantic model per hit cost more than the search
    itself (tests/test_search_index.py checks the bytes are the model's, field for field)."""
    entities, results = index.entities, []
    for hit in index.search(q, types, limit):
        info = entities[hit.entity]
        results.append({"id": local_id(hit.entity), "iri": info.iri, "label": info.label, "type": info.type,
                        "category": info.category, "score": hit.score, "matched": hit.matched,
                        "provenance": info.provenance})
    return {"query": q, "results": results}


@router.get("/search", response_model=SearchResponse, summary="Find entities by name, as people type them", openapi_extra={"x-stored-query": "search_index"})
def search(
    request: Request, state: State,
    q: str = Query(min_length=1, max_length=MAX_Q, description="What to look for: any case, part of a word, "
                   "another word form or a small typo.", examples=["synov"]),
    type: str | None = Query(None, description="Keep one category (cause, intervention, mechanism, symptom, ...) "
                             "or kind (drug, disease-or-disorder, ...).", examples=["cause"]),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> Response:
    """Competency question P08: `q=synov` finds knee synovitis; `q=meniscus` finds meniscal injury."""
    types = {type} if type else None
    if type is not None and type not in state.search.kinds:
        raise InvalidParameter(f"type={type!r} is not a category or kind of entity.",
                               hint=f"Use one of: {', '.join(state.search.kinds)}.")
    return cached_response(request, state, lambda: search_answer(state.search, q, types, limit))


class SearchFront:
    """Pure ASGI, in front of FastAPI: plain searches, answered by the route's own `cached_response` and
    `search_answer`, so the bytes, the ETag and the recorded fast answer are the route's."""

    def __init__(self, app: ASGIApp, fastapi_app: ASGIApp) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != PATH or scope["method"] != "GET" or has_origin(scope):
            await self.app(scope, receive, send)
            return
        scope["app"] = self.fastapi_app  # what Request.app (and so get_state) reads
        request = Request(scope, receive)
        state: ServiceState = self.fastapi_app.state.kg.current
        plain = plain_search(request, state.search)
        if plain is None:
            await self.app(scope, receive, send)
            return
        q, types, limit = plain
        scope[ROUTE_KEY] = PATH
        try:
            response = cached_response(request, state, lambda: search_answer(state.search, q, types, limit))
        except Exception:  # noqa: BLE001 - the answer FastAPI's handler gives: logged, problem+json
            response = unexpected_response(PATH)
        await response(scope, receive, send)


def plain_search(request: Request, index: SearchIndex) -> tuple[str, set[str] | None, int] | None:
    """(q, types, limit) of a search the route would answer with a 200, read as FastAPI reads them; None for
    anything else (the route says what is wrong), or while the name index is still being built (a search would
    wait for it, which the event loop must not)."""
    items = request.query_params.multi_items()
    params = dict(items)
    if len(params) != len(items) or not params.keys() <= {"q", "type", "limit"} or not index.indexed:
        return None
    q, kind, limit = params.get("q", ""), params.get("type"), params.get("limit", str(DEFAULT_LIMIT))
    if not 1 <= len(q) <= MAX_Q or not _LIMIT.fullmatch(limit) or int(limit) > MAX_LIMIT:
        return None
    if kind is not None and kind not in index.kinds:
        return None
    return q, ({kind} if kind else None), int(limit)
