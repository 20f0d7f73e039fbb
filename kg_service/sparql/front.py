"""GET /sparql queries answered in front of FastAPI's stack: the same protocol reading, pre-checks, cache and
worker pool as the route (router.answer_query), without routing, dependency solving or the per-request
middlewares that cost more than a short query itself.

Only what the route would answer the same way comes here: GET with a `query` parameter, no `Origin` (CORS
stays with FastAPI's middleware) and a worker pool as the runner. Everything else, and the service
description, goes on to FastAPI unchanged. A client that goes away is noticed by polling, as in the route.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from kg_service.api.common import ROUTE_KEY, has_origin
from kg_service.errors import Problem, problem_response, unexpected_response
from kg_service.sparql.protocol import read_query_request

PATH = "/sparql"


class SparqlFront:
    def __init__(self, app: ASGIApp, fastapi_app: Any) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    def _takes(self, scope: Scope) -> bool:
        return (scope["path"] == PATH and scope["method"] == "GET" and scope["type"] == "http"
                and not has_origin(scope)
                and getattr(self.fastapi_app.state.kg.current.runner, "asynchronous", False))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._takes(scope):
            await self.app(scope, receive, send)
            return
        from kg_service.sparql.router import answer_query  # the route's own logic, shared

        scope["app"] = self.fastapi_app  # what Request.app (and so get_state) reads
        request = Request(scope, receive)
        try:
            wanted = await read_query_request(request, self.fastapi_app.state.settings.max_body_bytes)
            if wanted.query is None:  # the service description: FastAPI's route negotiates it
                await self.app(scope, receive, send)
                return
            scope[ROUTE_KEY] = PATH
            response = await answer_query(request, wanted)
        except Problem as problem:
            scope[ROUTE_KEY] = PATH
            response = problem_response(problem, PATH)
        except Exception:  # noqa: BLE001 - the same answer FastAPI's handler gives: logged, problem+json
            response = unexpected_response(PATH)
        await response(scope, receive, send)
