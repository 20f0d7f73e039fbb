"""/api/queries: the stored queries themselves, listed with their SPARQL, and run with bound parameters."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response

from kg_service.api.common import State, cached_response
from kg_service.api.models import QueryRunResponse, StoredQueryInfo
from kg_service.errors import BadRequest, NotFound

router = APIRouter(prefix="/api/queries", tags=["stored queries"])


@router.get("", response_model=list[StoredQueryInfo], summary="Every stored query, with its parameters and SPARQL")
def list_queries(request: Request, state: State) -> Response:
    """Researchers can copy any of these into /sparql; each friendly endpoint runs one of them."""
    return cached_response(request, state, lambda: [q.public_dict() for q in state.catalog.queries.values()])


@router.get("/{name}", response_model=QueryRunResponse, summary="Run one stored query with bound parameters",
            responses={200: {"content": {"text/turtle": {}}}})
def run_query(request: Request, state: State,
              name: str = Path(description="Name of the stored query.", examples=["interventions_for_cause"])) -> Response:
    """Parameters are validated by their declared type and bound as RDF terms, never pasted into the text.
    SELECT answers in the SPARQL JSON results shape; CONSTRUCT answers in Turtle."""
    if name not in state.catalog:
        raise NotFound(f"No stored query is named {name!r}.", hint="See /api/queries for the list.")
    query = state.catalog[name]
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in params:
            raise BadRequest(f"parameter {key!r} is given twice.", hint="Give each parameter once.")
        params[key] = value
    bindings = query.bind(params)

    if query.form == "construct":
        def turtle() -> bytes:
            from rdflib import Graph

            graph = Graph()
            for triple in state.backend.construct(query.text, bindings):
                graph.add(triple)
            return graph.serialize(format="turtle").encode()

        return cached_response(request, state, turtle, media_type="text/turtle")

    def compute() -> dict:
        if query.form == "ask":
            return {"query": name, "variables": [], "bindings": [],
                    "boolean": state.backend.ask(query.text, bindings)}
        rows = state.backend.select_json(query.text, bindings)
        variables = list(dict.fromkeys(k for row in rows for k in row))
        return {"query": name, "variables": variables, "bindings": rows}

    return cached_response(request, state, compute)
