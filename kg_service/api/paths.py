"""/api/paths: the causal chains the text states between two entities."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Query, Request, Response

from kg_service.api.common import (
    State,
    cached_response,
    entity_ref,
    local_id,
    require_entity,
)
from kg_service.api.models import PathsResponse, PathStep
from kg_service.state import ServiceState

router = APIRouter(prefix="/api", tags=["paths"])
MAX_PATH_LENGTH = 6
MAX_PATHS = 50


def causal_paths(state: ServiceState, source: str, target: str) -> list[list[tuple[str, str | None]]]:
    """All simple paths over the stated causal edges (stored query `causal_edges`), shortest first."""
    edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in state.catalog.select(state.backend, "causal_edges"):
        edges[str(row["subject"])].append((str(row["object"]), local_id(row["relation"])))
    found: list[list[tuple[str, str | None]]] = []

    def walk(node: str, path: list[tuple[str, str | None]]) -> None:
        if len(found) >= MAX_PATHS or len(path) > MAX_PATH_LENGTH:
            return
        if node == target and len(path) > 1:
            found.append(list(path))
            return
        for nxt, relation in sorted(edges.get(node, ())):
            if all(nxt != n for n, _ in path):
                path.append((nxt, relation))
                walk(nxt, path)
                path.pop()

    walk(source, [(source, None)])
    return sorted(found, key=len)


@router.get("/paths", response_model=PathsResponse, response_model_by_alias=True,
            summary="Causal chains between two entities (e.g. calcium deficiency -> osteoporosis -> knee soreness)", openapi_extra={"x-stored-query": "causal_edges"})
def paths(request: Request, state: State,
          from_: str = Query(alias="from", description="Id of the start entity.", examples=["calcium-deficiency"]),
          to: str = Query(description="Id of the end entity.", examples=["nocturnal-knee-soreness"])) -> Response:
    start, end = require_entity(state, from_), require_entity(state, to)

    def compute() -> dict:
        result = []
        for path in causal_paths(state, start.iri, end.iri):
            result.append([PathStep(**entity_ref(state, iri).model_dump(), relation=relation).model_dump()
                           for iri, relation in path])
        return {"from": start.model_dump(), "to": end.model_dump(), "paths": result}

    return cached_response(request, state, compute)
