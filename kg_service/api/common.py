"""What every router shares: the current state, id <-> IRI, entity lookup with suggestions, paging, caching."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel
from rdflib.term import Identifier

from kg_service.api.models import EntityRef, Evidence
from kg_service.backends.base import Row
from kg_service.catalog import ID_PATTERN
from kg_service.errors import UnknownId
from kg_service.graph import KS
from kg_service.state import ServiceState

MAX_CACHED_RESPONSES = 4096
ROUTED_CATEGORIES = {"cause", "intervention", "mechanism", "symptom"}


def get_state(request: Request) -> ServiceState:
    """The state of the graph version current when the request arrived (reload swaps it atomically)."""
    return request.app.state.kg.current


State = Annotated[ServiceState, Depends(get_state)]
Limit = Annotated[int, Query(ge=1, le=500, description="Maximum number of items to return.")]
Offset = Annotated[int, Query(ge=0, le=100_000, description="Number of items to skip.")]


def local_id(iri: str | Identifier) -> str:
    text = str(iri)
    return text.removeprefix(str(KS))


def entity_ref(state: ServiceState, iri: str | Identifier) -> EntityRef:
    info = state.search.entities.get(str(iri))
    if info is None:  # a node outside the searchable categories (e.g. a recommendation)
        return EntityRef(id=local_id(iri), iri=str(iri), label=local_id(iri), type="", category="")
    return EntityRef(id=local_id(iri), iri=info.iri, label=info.label, type=info.type, category=info.category)


def require_entity(state: ServiceState, entity_id: str, categories: Iterable[str] = ()) -> EntityRef:
    """The entity with this id in one of the categories, or a 404 that suggests what was meant."""
    categories = tuple(categories)
    info = state.search.entities.get(str(KS[entity_id])) if ID_PATTERN.match(entity_id) else None
    if info is not None and (not categories or info.category in categories):
        return entity_ref(state, info.iri)
    wanted = " or ".join(categories) or "entity"
    suggestions = [entity_ref(state, hit.entity).model_dump()
                   for hit in state.search.search(entity_id.replace("-", " ").replace("_", " "),
                                                  set(categories) or None, limit=3)]
    detail = f"No {wanted} has the id {entity_id!r}."
    if info is not None:
        where = f"/api/{info.category}s/{entity_id}" if info.category in ROUTED_CATEGORIES else f"/api/entities/{entity_id}"
        detail += f" {entity_id!r} is in the category {info.category!r}: see {where}."
    return_hint = ("Did you mean: " + ", ".join(s["id"] for s in suggestions) + "?") if suggestions else \
        "Find ids with /api/search?q=..."
    raise UnknownId(detail, hint=return_hint, suggestions=suggestions)


def evidence_list(rows: Iterable[Row]) -> list[Evidence]:
    """Distinct evidence spans from rows carrying ?quote ?start ?end ?source, in text order."""
    spans: dict[tuple[int, int], Evidence] = {}
    for row in rows:
        if "quote" in row:
            key = (int(row["start"]), int(row["end"]))
            spans.setdefault(key, Evidence(quote=str(row["quote"]), start=key[0], end=key[1], source=str(row["source"])))
    return [spans[k] for k in sorted(spans)]


def group_rows(rows: Iterable[Row], key: str = "entity") -> dict[str, list[Row]]:
    """Rows grouped by one variable, keeping first-seen order (stored queries sort them)."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(str(row[key]), []).append(row)
    return groups


def distinct(values: Iterable[Any]) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values if v is not None))


def etag_for(state: ServiceState, variant: str = "") -> str:
    if not variant:
        return state.etag
    return f'"{state.version}-{hashlib.sha256(variant.encode()).hexdigest()[:8]}"'


def not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def cached_response(request: Request, state: ServiceState, compute: Callable[[], BaseModel | dict | bytes],
                    media_type: str = "application/json", variant: str = "") -> Response:
    """Answer from the version-keyed cache of pre-serialized bodies; ETag / If-None-Match give 304s."""
    etag = etag_for(state, variant)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    key = (request.url.path, request.url.query, media_type, variant)
    body = state.cache.get(key)
    if body is None:
        value = compute()
        if isinstance(value, bytes):
            body = value
        elif isinstance(value, BaseModel):
            body = value.model_dump_json(by_alias=True).encode()
        else:
            body = json.dumps(value, ensure_ascii=False).encode()
        if len(state.cache) >= MAX_CACHED_RESPONSES:
            state.cache.clear()
        state.cache[key] = body
    return Response(content=body, media_type=media_type, headers=headers)


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    return {"items": items[offset:offset + limit], "total": len(items), "limit": limit, "offset": offset}
