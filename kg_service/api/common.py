"""What every router shares: the current state, id <-> IRI, entity lookup with suggestions, paging, caching."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel
from rdflib.term import Identifier
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


async def _state(request: Request) -> ServiceState:
    """`get_state` as a dependency, read on the event loop: a sync one is handed to a thread, a hop that waits
    for the GIL while the search index is built."""
    return get_state(request)


State = Annotated[ServiceState, Depends(_state)]
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
    spans: dict[tuple[str, int, int], Evidence] = {}
    for row in rows:
        if "quote" in row:  # keyed by document too: two articles may have spans at the same offsets
            key = (str(row["source"]), int(row["start"]), int(row["end"]))
            spans.setdefault(key, Evidence(quote=str(row["quote"]), start=key[1], end=key[2], source=key[0]))
    return [spans[k] for k in sorted(spans, key=lambda k: (k[1], k[2], k[0]))]


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


def etag_matches(header: str | bytes | None, etag: str | bytes) -> bool:
    """If-None-Match against one entity tag (weak comparison, RFC 9110 §13.1.2)."""
    if not header:
        return False
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    if isinstance(etag, bytes):
        etag = etag.decode("latin-1")
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def not_modified(request: Request, etag: str) -> bool:
    return etag_matches(request.headers.get("if-none-match"), etag)


# -- the ASGI fast path: answers already computed for this graph version, served in front of FastAPI ---------

ROUTE_KEY = "kg.route"  # the route template a fast answer stands for, for metrics and logs
RECORD_KEY = "kg.record"  # set by a route whose 200 answer may be replayed: (where to keep it, route template)
FAST_SLOT = "fast-answers"
FAST_BUDGET_BYTES = 64 * 1024 * 1024
HEALTH_BODY = b'{"status":"ok"}'
_HEALTH_START = {"type": "http.response.start", "status": 200,
                 "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(HEALTH_BODY))]}
FastKey = tuple[str, bytes, bytes, bytes]  # path, raw query string, Accept, Origin


@dataclass(frozen=True, slots=True)
class FastAnswer:
    route: str
    etag: bytes
    headers: list[tuple[bytes, bytes]]  # exactly what FastAPI's stack sent (CORS and Content-Length included)
    body: bytes


class FastAnswers:
    """GET answers of one graph version by (path, raw query string, Accept, Origin): everything an answer and its
    headers depend on. Bounded in bytes and count; cleared whole when full."""

    def __init__(self, budget: int = FAST_BUDGET_BYTES) -> None:
        self.entries: dict[FastKey, FastAnswer] = {}
        self.budget = budget
        self.size = 0

    def keep(self, key: FastKey, route: str, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if self.size + len(body) > self.budget or len(self.entries) >= MAX_CACHED_RESPONSES:
            self.entries.clear()
            self.size = 0
        etag = next((v for k, v in headers if k == b"etag"), b"")
        self.entries[key] = FastAnswer(route, etag, headers, body)
        self.size += len(body)


def _fast_key(scope: Scope) -> FastKey:
    accept = origin = b""
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value
        elif name == b"origin":
            origin = value
    return scope["path"], scope["query_string"], accept, origin


def has_origin(scope: Scope) -> bool:
    """A browser's cross-origin request: left to FastAPI's CORS middleware by every fast path."""
    return any(name == b"origin" for name, _ in scope["headers"])


def _if_none_match(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return value
    return b""


def remember_answer(request: Request, state: ServiceState, response: Response) -> Response:
    """Mark a 200 GET answer as replayable for this graph version (CachedAnswers records what is sent)."""
    if request.method == "GET" and response.status_code == 200:
        answers = state.cache.derived(FAST_SLOT, FastAnswers)
        route = request.scope.get("route")
        request.scope[RECORD_KEY] = (answers, route.path if route is not None else request.scope["path"])
    return response


class CachedAnswers:
    """Pure ASGI, in front of FastAPI: a GET whose answer this graph version already gave is sent again from the
    bytes and headers FastAPI's stack sent the first time (200, or 304 on a matching If-None-Match), without
    routing, dependencies, models or FastAPI's per-request middlewares; `/healthz` is fixed bytes. The first
    answer of a route that called `remember_answer` is recorded on its way out."""

    def __init__(self, app: ASGIApp, holder: Any) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/healthz":
            scope[ROUTE_KEY] = "/healthz"
            await send(_HEALTH_START)
            await send({"type": "http.response.body", "body": HEALTH_BODY})
            return
        if scope["path"] == "/readyz" and not has_origin(scope):  # ready is the state's, read at once
            scope[ROUTE_KEY] = "/readyz"
            body = orjson.dumps(self.holder.current.readiness())
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]})
            await send({"type": "http.response.body", "body": body})
            return
        key = _fast_key(scope)
        answers = self.holder.current.cache.peek(FAST_SLOT)
        answer = answers.entries.get(key) if answers is not None else None
        if answer is not None:
            scope[ROUTE_KEY] = answer.route
            if etag_matches(_if_none_match(scope), answer.etag):
                headers = [(k, v) for k, v in answer.headers if k not in (b"content-type", b"content-length")]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
            await send({"type": "http.response.body", "body": answer.body})
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def recording_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                start = {"status": message["status"], "headers": [(bytes(k), bytes(v)) for k, v in headers]}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, recording_send)
        record = scope.get(RECORD_KEY)
        if record is not None and start is not None and start["status"] == 200:
            target, route = record
            target.keep(key, route, start["headers"], b"".join(chunks))


def _json_bytes(value: Any) -> bytes:
    return orjson.dumps(value, default=str)


def cached_response(request: Request, state: ServiceState, compute: Callable[[], BaseModel | dict | bytes],
                    media_type: str = "application/json", variant: str = "") -> Response:
    """Answer from the version-keyed cache of pre-serialized bodies; ETag / If-None-Match give 304s. The answer is
    also remembered by the ASGI fast path, so the next identical GET costs about what the server itself costs."""
    etag = etag_for(state, variant)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    key = (request.url.path, request.url.query, media_type, variant)
    body = state.cache.body(key)
    if body is None:
        value = compute()
        if isinstance(value, bytes):
            body = value
        elif isinstance(value, BaseModel):
            body = value.model_dump_json(by_alias=True).encode()
        else:
            body = _json_bytes(value)
        state.cache.keep_body(key, body)
    return remember_answer(request, state, Response(content=body, media_type=media_type, headers=headers))


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    return {"items": items[offset:offset + limit], "total": len(items), "limit": limit, "offset": offset}
