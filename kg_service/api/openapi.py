"""OpenAPI that shows, for each friendly operation, the stored query it runs: one query, three faces."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from kg_service.state import StateHolder


def install_openapi(app: FastAPI, holder: StateHolder) -> None:
    """Replace app.openapi with a version that appends each operation's SPARQL (x-stored-query)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        catalog = holder.current.catalog
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                name = operation.get("x-stored-query") if isinstance(operation, dict) else None
                if name and name in catalog:
                    query = catalog[name]
                    operation["x-sparql"] = query.text
                    operation["description"] = (
                        f"{operation.get('description', '')}\n\n**Stored query** `queries/{name}.rq` "
                        f"(run it yourself at `/sparql`, or with parameters at `/api/queries/{name}`):\n\n"
                        f"```sparql\n{query.text}```").strip()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
