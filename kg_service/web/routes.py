"""The pages people open in a browser: home, entity index, the causal diagram, and the offline API docs.

Entity pages live with the rest of the linked data (api/entities.py) and the editor with /sparql; both render
through this package's templates.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from fastapi.staticfiles import StaticFiles

from kg_service.api.common import State, cached_response, require_entity
from kg_service.api.operations import PAGE_CSP
from kg_service.errors import Problem
from kg_service.graph import PREFIXES
from kg_service.state import ServiceState
from kg_service.web import views
from kg_service.web.diagram import DiagramUnavailable, diagram_svg
from kg_service.web.render import HTML, STATIC_DIR, page, render

router = APIRouter(include_in_schema=False)


class DiagramFailed(Problem):
    slug, status, title = "diagram-unavailable", 503, "Diagram unavailable"


PAGE_FORMAT = Query(None, alias="format", description="html or json; overrides Accept.")


def inline_diagram(state: ServiceState, cause_id: str | None = None) -> dict[str, Any]:
    """HTML-only extra of a page: the SVG itself (inlined, so it needs no script), or why it is missing."""
    try:
        return {"diagram_svg": diagram_svg(state, cause_id), "diagram_error": None}
    except DiagramUnavailable as problem:
        return {"diagram_svg": None, "diagram_error": str(problem)}


@router.get("/")
def home(request: Request, state: State, fmt: str | None = PAGE_FORMAT) -> Response:
    return page(request, state, "home.html", lambda: views.home(state), lambda _: inline_diagram(state), fmt)


@router.get("/entities")
def entity_index(request: Request, state: State, q: str | None = Query(None, max_length=200),
                 fmt: str | None = PAGE_FORMAT) -> Response:
    return page(request, state, "entities.html", lambda: views.entity_index(state, q), fmt=fmt)


def _svg_response(request: Request, state: ServiceState, cause_id: str | None) -> Response:
    def body() -> bytes:
        try:
            return diagram_svg(state, cause_id).encode()
        except DiagramUnavailable as problem:
            raise DiagramFailed(str(problem)) from None

    return cached_response(request, state, body, "image/svg+xml", "svg")


@router.get("/diagram.svg")
def whole_diagram(request: Request, state: State) -> Response:
    return _svg_response(request, state, None)


@router.get("/diagram/{cause_id}.svg")
def cause_diagram(request: Request, state: State, cause_id: str = Path(max_length=128)) -> Response:
    require_entity(state, cause_id, ["cause"])
    return _svg_response(request, state, cause_id)


@router.get("/prefixes.json")
def prefixes() -> dict[str, str]:
    """The service's prefix table, for the editor's prefix completion (YASQE's prefixCcApi), from graph.PREFIXES."""
    return PREFIXES


@router.get("/docs")
def api_docs() -> Response:
    """Swagger UI from the service's own static folder (vendored from npm), so it works offline."""
    return Response(render("docs.html", {"title": "API documentation", "landmark": "div"}), media_type=HTML,
                    headers={"Content-Security-Policy": PAGE_CSP})


def install_web(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
