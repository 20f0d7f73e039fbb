"""HEAD is GET without the body (RFC 9110 §9.3.2) on every GET route: FastAPI's routes answer only the methods
they declare, so without this a HEAD of a page, an entity or an API answer is 405 and link checkers, caches
and `curl -I` see an error where the resource exists."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg_service.api.common import ROUTE_KEY

OWN_HEAD = ("/sparql",)  # routes that declare HEAD themselves


class HeadAsGet:
    """Pure ASGI: a HEAD runs as the GET it mirrors (same status, headers and Content-Length); the body is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"] in OWN_HEAD:
            await self.app(scope, receive, send)
            return
        as_get = dict(scope, method="GET")

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        try:
            await self.app(as_get, receive, send_headers_only)
        finally:  # the route the GET matched, for the metrics and the access log of the HEAD
            for key in (ROUTE_KEY, "route"):
                if key in as_get:
                    scope[key] = as_get[key]
