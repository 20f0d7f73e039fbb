"""Datasette's shape: a view returns a data dict; the same dict renders through a Jinja template as HTML or is
sent as JSON, chosen by `format=` or the Accept header. Pages are cached per graph version like every answer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request, Response

from kg_service import __version__
from kg_service.api.common import cached_response
from kg_service.errors import UnacceptableFormat
from kg_service.sparql.negotiation import parse_accept
from kg_service.state import ServiceState

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
HTML = "text/html; charset=utf-8"
PAGE_FORMATS = {"html": "text/html", "json": "application/json"}


@functools.cache
def templates() -> Any:
    """The Jinja environment, made when the first page is rendered: a restart need not import jinja2 to be ready."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(loader=FileSystemLoader(WEB_DIR / "templates"),
                              autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    environment.globals["service_version"] = __version__
    return environment


def render(template: str, data: dict[str, Any]) -> bytes:
    return templates().get_template(template).render(**data).encode()


def page_media(request: Request, fmt: str | None) -> str:
    """text/html or application/json for a page; a browser's Accept (html first) gets HTML."""
    if fmt is not None:
        if fmt not in PAGE_FORMATS:
            raise UnacceptableFormat(f"format={fmt} is not available for this page.", hint="Use html or json.",
                                     available=list(PAGE_FORMATS.values()))
        return PAGE_FORMATS[fmt]
    accept = request.headers.get("accept")
    if not accept or not accept.strip():
        return "text/html"
    for media in parse_accept(accept, request.app.state.settings.max_accept_ranges):
        if media in ("text/html", "application/xhtml+xml", "text/*", "*/*"):
            return "text/html"
        if media in ("application/json", "application/*"):
            return "application/json"
    raise UnacceptableFormat("None of the media types in the Accept header is available for this page.",
                             hint="Ask for text/html or application/json (or use format=html|json).",
                             available=list(PAGE_FORMATS.values()))


def page(request: Request, state: ServiceState, template: str, data: Callable[[], dict[str, Any]],
         html_extras: Callable[[dict[str, Any]], dict[str, Any]] | None = None, fmt: str | None = None) -> Response:
    """One view, two faces: the data dict as JSON, or rendered through `template` (plus HTML-only extras such
    as the inline SVG diagram)."""
    media = page_media(request, fmt)
    if media == "application/json":
        return cached_response(request, state, data, "application/json", "json")

    def html() -> bytes:
        values = data()
        return render(template, {**values, **(html_extras(values) if html_extras else {})})

    return cached_response(request, state, html, HTML, "html")
