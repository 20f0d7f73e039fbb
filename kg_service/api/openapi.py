"""OpenAPI that shows, for each friendly operation, the stored query it runs: one query, three faces."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from kg_service.state import StateHolder

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `type` is stable per kind of failure.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "hint": {"type": "string"},
    },
    "additionalProperties": True,
}
PROBLEM_RESPONSE: dict[str, Any] = {
    "description": "A problem the client can fix (4xx) or a refusal / outage (5xx), as application/problem+json.",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def install_openapi(app: FastAPI, holder: StateHolder) -> None:
    """Replace app.openapi with a version that appends each operation's SPARQL (x-stored-query)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        catalog = holder.current.catalog
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        schema["components"]["schemas"].pop("HTTPValidationError", None)
        schema["components"]["schemas"].pop("ValidationError", None)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    # Every failure is one RFC 9457 shape; document it instead of FastAPI's default 422 body.
                    operation["responses"].pop("422", None)
                    operation["responses"]["4XX"] = PROBLEM_RESPONSE
                    operation["responses"]["5XX"] = PROBLEM_RESPONSE
                name = operation.get("x-stored-query") if isinstance(operation, dict) else None
                if name and name in catalog:
                    query = catalog[name]
                    operation["x-sparql"] = query.text
                    operation["description"] = (
                        f"{operation.get('description', '')}\n\n**Stored query** `queries/{name}.rq` "
                        f"(run it yourself at `/sparql`, or with parameters at `/api/queries/{name}`):\n\n"
                        f"```sparql\n{query.text}```").strip()
        _enumerate_from_graph(schema, holder)
        _one_path_per_stored_query(schema, holder)
        _describe_sparql_protocol(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _enumerate_from_graph(schema: dict[str, Any], holder: StateHolder) -> None:
    """Filters whose values come from the graph (kinds of entity) get those values as an enum."""
    state = holder.current
    kinds = [str(r["slug"]) for r in state.catalog.select(state.backend, "intervention_types")]
    enums = {("/api/interventions", "type"): kinds, ("/api/search", "type"): state.search.kinds}
    for (path, name), values in enums.items():
        for parameter in schema["paths"].get(path, {}).get("get", {}).get("parameters", []):
            if parameter["name"] == name:
                parameter["schema"] = {"anyOf": [{"type": "string", "enum": values}, {"type": "null"}],
                                       "title": parameter["schema"].get("title", name)}


_PARAM_SCHEMAS = {"id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"},
                  "iri": {"type": "string", "format": "iri"}, "integer": {"type": "integer"},
                  "boolean": {"type": "boolean"}, "string": {"type": "string", "minLength": 1, "maxLength": 512}}


def _one_path_per_stored_query(schema: dict[str, Any], holder: StateHolder) -> None:
    """Like grlc: each .rq file is its own documented operation, with its own typed parameters."""
    generic = schema["paths"].pop("/api/queries/{name}", None)
    if not generic:
        return
    template = generic["get"]
    for name, query in holder.current.catalog.queries.items():
        operation = {key: value for key, value in template.items() if key != "parameters"}
        operation["operationId"] = f"stored_query_{name}"
        operation["summary"] = query.summary
        operation["description"] = (f"{query.description}\n\n```sparql\n{query.text}```").strip()
        operation["x-sparql"] = query.text
        operation["parameters"] = [
            {"name": p.name, "in": "query", "required": p.required, "description": p.description,
             "schema": dict(_PARAM_SCHEMAS[p.type], **({"enum": list(p.enum)} if p.enum else {})),
             **({"example": p.example} if p.example is not None else {})}
            for p in query.params]
        schema["paths"][f"/api/queries/{name}"] = {"get": operation}


_SPARQL_PARAMETERS = [
    {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE). Without it: the service description.",
     "example": "SELECT ?s WHERE { ?s a <https://w3id.org/knee-soreness/Cause> }"},
    {"name": "default-graph-uri", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["https://w3id.org/knee-soreness/graph/asserted",
                                           "https://w3id.org/knee-soreness/graph/inferred"]}},
    {"name": "named-graph-uri", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["https://w3id.org/knee-soreness/graph/asserted",
                                           "https://w3id.org/knee-soreness/graph/inferred"]}},
    {"name": "format", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["json", "xml", "csv", "tsv", "ttl", "jsonld", "nt", "rdfxml", "html"]},
     "description": "Overrides Accept."},
    {"name": "timeout", "in": "query", "required": False, "schema": {"type": "number", "exclusiveMinimum": 0},
     "description": "Seconds; may lower the service's deadline, never raise it."},
]


def _describe_sparql_protocol(schema: dict[str, Any]) -> None:
    """The W3C SPARQL 1.1 Protocol's query operation, in OpenAPI terms (the route reads the raw request)."""
    path = schema["paths"].get("/sparql")
    if not path:
        return
    # One route serves GET, HEAD and POST, and FastAPI gives all three the same operationId, which the OpenAPI
    # spec forbids (validators and client generators reject the document): one id per method.
    for method, operation in path.items():
        operation["operationId"] = f"sparql_query_{method}"
    if "get" in path:
        path["get"]["parameters"] = _SPARQL_PARAMETERS
    if "post" in path:
        path["post"]["parameters"] = [p for p in _SPARQL_PARAMETERS if p["name"] != "query"]
        path["post"]["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["query"],
                "properties": {"query": {"type": "string", "minLength": 1}}}},
            "application/sparql-query": {"schema": {"type": "string", "minLength": 1}}}}
