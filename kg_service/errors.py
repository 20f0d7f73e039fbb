"""Every failure a user can fix, as one RFC 9457 `application/problem+json` shape with a stable `type`.

Routes raise a `Problem` subclass; `install_problem_handlers` turns it (and FastAPI's own validation
and routing errors) into the one shape. No stack trace or file path ever reaches a response body.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # FastAPI is imported where a response is made: a SPARQL worker only maps failures
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE_BASE = "https://w3id.org/knee-soreness/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("kg_service.errors")


class Problem(Exception):
    """Base of all user-facing failures. Subclasses fix `slug`, `status` and `title`."""

    slug: ClassVar[str] = "internal-error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, *, hint: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint
        self.headers = headers or {}
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return PROBLEM_TYPE_BASE + self.slug

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type_uri, "title": self.title, "status": self.status,
                                "detail": self.detail}
        if instance:
            body["instance"] = instance
        if self.hint:
            body["hint"] = self.hint
        body.update(self.extra)
        return body


class BadRequest(Problem):
    slug, status, title = "bad-request", 400, "Bad request"


class InvalidParameter(Problem):
    slug, status, title = "invalid-parameter", 422, "Invalid parameter"


class UnknownId(Problem):
    slug, status, title = "unknown-id", 404, "Unknown identifier"


class NotFound(Problem):
    slug, status, title = "not-found", 404, "Not found"


class MethodNotAllowed(Problem):
    slug, status, title = "method-not-allowed", 405, "Method not allowed"


class QuerySyntaxError(Problem):
    slug, status, title = "query-syntax-error", 400, "SPARQL syntax error"


class MalformedRequest(Problem):
    slug, status, title = "malformed-request", 400, "Malformed SPARQL protocol request"


class InvalidEncoding(Problem):
    slug, status, title = "invalid-encoding", 400, "Request is not valid UTF-8"


class RefusedFeature(Problem):
    slug, status, title = "refused-feature", 400, "Query uses a feature this public endpoint refuses"


class QueryTooComplex(Problem):
    slug, status, title = "query-too-complex", 400, "Query is nested too deeply"


class UnsupportedFunction(Problem):
    slug, status, title = "unsupported-function", 400, "The query calls a function this endpoint does not have"


class QueryNotEvaluable(Problem):
    slug, status, title = "query-not-evaluable", 400, "The engine could not evaluate the query"


class ClientBudgetSpent(Problem):
    slug, status, title = "client-budget-spent", 429, "This client used its share of query time"


class ResultTooLarge(Problem):
    slug, status, title = "result-too-large", 400, "The result is over the size limit"


class UpdateRefused(Problem):
    slug, status, title = "update-refused", 403, "This endpoint is read-only"


class Unauthorized(Problem):
    slug, status, title = "unauthorized", 401, "Authentication required"


class Forbidden(Problem):
    slug, status, title = "forbidden", 403, "Not allowed"


class UnacceptableFormat(Problem):
    slug, status, title = "not-acceptable", 406, "No acceptable response format"


class PayloadTooLarge(Problem):
    slug, status, title = "payload-too-large", 413, "Request too large"


class UnsupportedMediaType(Problem):
    slug, status, title = "unsupported-media-type", 415, "Unsupported request content type"


class QueryTimeout(Problem):
    slug, status, title = "query-timeout", 503, "Query exceeded the time limit"


class Overloaded(Problem):
    slug, status, title = "overloaded", 503, "All query workers are busy"


class QueryFailed(Problem):
    slug, status, title = "query-failed", 500, "The query could not be executed"


class BackendUnavailable(Problem):
    slug, status, title = "backend-unavailable", 502, "The SPARQL store did not answer"


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    from starlette.responses import JSONResponse

    return JSONResponse(problem.body(instance), status_code=problem.status, headers=problem.headers,
                        media_type=PROBLEM_MEDIA_TYPE)


def unexpected_response(instance: str) -> JSONResponse:
    """What a client gets for an error nobody foresaw (FastAPI's handler and the fronts before it alike): logged
    here with its traceback, never shown."""
    log.exception("unexpected error on %s", instance)
    return problem_response(Problem("The service failed to answer; the error has been logged."), instance)


def _http_problem(status: int, detail: str) -> Problem:
    by_status: dict[int, type[Problem]] = {404: NotFound, 405: MethodNotAllowed, 400: BadRequest,
                                           401: Unauthorized, 403: Forbidden, 406: UnacceptableFormat,
                                           413: PayloadTooLarge, 415: UnsupportedMediaType, 429: ClientBudgetSpent}
    cls = by_status.get(status)
    if cls is None:
        problem = Problem(detail)
        problem.status = status  # type: ignore[misc]  # rare statuses keep their code
        return problem
    return cls(detail)


def install_problem_handlers(app: FastAPI) -> None:
    """Map every exception to the one problem+json shape, in one place."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"parameter": ".".join(str(p) for p in e.get("loc", ())[1:]) or str(e.get("loc")),
                   "message": e.get("msg", "")} for e in exc.errors()]
        detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
        problem = InvalidParameter(detail, hint="See /docs for the parameters this operation takes.",
                                   errors=errors)
        return problem_response(problem, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}."
        problem = _http_problem(exc.status_code, detail)
        problem.headers = dict(exc.headers or {})
        return problem_response(problem, request.url.path)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_response(request.url.path)
