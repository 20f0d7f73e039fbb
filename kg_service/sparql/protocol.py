"""The W3C SPARQL 1.1 Protocol's query operation: read exactly one query from a request, strictly.

GET `?query=`, POST `application/x-www-form-urlencoded`, POST `application/sparql-query`. Bytes are decoded
once, as strict UTF-8 (a `%FF` is an error, not U+FFFD); update requests are refused with 403; anything
else is a 4xx problem that says what was wrong.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request

from kg_service.errors import (
    InvalidEncoding,
    MalformedRequest,
    PayloadTooLarge,
    RefusedFeature,
    UnsupportedMediaType,
    UpdateRefused,
)
from kg_service.graph import PUBLIC_GRAPHS

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
PUBLIC = [str(g) for g in PUBLIC_GRAPHS]


@dataclass(frozen=True)
class QueryRequest:
    """One protocol request: the query (None asks for the service description) and its options."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    format: str | None = None
    timeout: float | None = None


def _decode(data: bytes, what: str) -> str:
    try:
        text = data.decode("utf-8", errors="strict")
        text.encode("utf-8")  # refuses lone surrogates
    except UnicodeError:
        raise InvalidEncoding(f"The {what} is not valid UTF-8.", hint="Percent-encode UTF-8 bytes only.") from None
    return text


_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _unquote(text: str) -> str:
    """urllib's unquote(text, errors="strict") for a text whose every % starts an escape, by C codecs instead of
    a Python loop per escape (a query is mostly escapes, hundreds of them): each %XX becomes a \\xXX escape,
    unicode_escape turns the escapes into those bytes (the rest stays the UTF-8 it was), and the bytes are
    decoded as strict UTF-8."""
    if "%" not in text:
        return text
    escaped = text.replace("\\", "\\\\").replace("%", "\\x").encode("utf-8")
    return escaped.decode("unicode_escape").encode("latin-1").decode("utf-8")


def _pairs(raw: bytes, what: str) -> list[tuple[str, str]]:
    text = _decode(raw, what)
    try:
        if _STRAY_PERCENT.search(text):  # a % that escapes nothing stays as it is: urllib's own rules
            return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        pairs = []
        for field in text.split("&"):  # parse_qsl(keep_blank_values=True), field by field
            if field:
                name, _, value = field.partition("=")
                pairs.append((_unquote(name.replace("+", " ")), _unquote(value.replace("+", " "))))
        return pairs
    except UnicodeError:
        raise InvalidEncoding(f"The {what} percent-encodes bytes that are not UTF-8.",
                              hint="Percent-encode the UTF-8 bytes of each character.") from None


def _public_graphs(values: list[str], parameter: str) -> tuple[str, ...]:
    for value in values:
        if value not in PUBLIC:
            raise RefusedFeature(f"{parameter}={value} is not a graph of this service; nothing is ever loaded "
                                 f"from a URL.", hint=f"Use {' or '.join(PUBLIC)}, or leave it out.")
    return tuple(values)


async def read_query_request(request: Request, max_body_bytes: int) -> QueryRequest:
    params = _pairs(request.scope.get("query_string", b""), "query string")
    body_params: list[tuple[str, str]] = []
    body_query: str | None = None
    if request.method == "POST":
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_body_bytes:
            raise PayloadTooLarge(f"The request body is {declared} bytes; the limit is {max_body_bytes}.")
        if media_type == SPARQL_UPDATE:
            raise UpdateRefused("This endpoint is read-only: SPARQL Update is not accepted.")
        if media_type not in (FORM, SPARQL_QUERY):
            raise UnsupportedMediaType(f"Content-Type {media_type or '(none)'} is not a SPARQL query request.",
                                       hint=f"POST {FORM} with query=..., or {SPARQL_QUERY} with the query as body.")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body_bytes:
                raise PayloadTooLarge(f"The request body is over the limit of {max_body_bytes} bytes.")
        if media_type == FORM:
            body_params = _pairs(body, "form body")
        else:
            body_query = _decode(body, "query body")
    every = params + body_params
    if any(name == "update" for name, _ in every):
        raise UpdateRefused("This endpoint is read-only: the update operation is not accepted.")
    queries = [value for name, value in every if name == "query"] + ([body_query] if body_query is not None else [])
    if len(queries) > 1:
        raise MalformedRequest("The request carries more than one query.", hint="Send exactly one query.")
    if not queries and request.method == "POST":  # the service description is a GET; a POST is a query operation
        raise MalformedRequest("The POST request carries no query.",
                               hint="Send query=... (form) or the query itself as application/sparql-query.")
    timeout = None
    timeouts = [value for name, value in every if name == "timeout"]
    if timeouts:
        try:
            timeout = float(timeouts[0])
        except ValueError:
            raise MalformedRequest(f"timeout={timeouts[0]!r} is not a number of seconds.") from None
        if not math.isfinite(timeout) or timeout <= 0:  # min(nan, limit) is nan: a deadline that never comes
            raise MalformedRequest("timeout must be a positive, finite number of seconds.")
    formats = [value for name, value in every if name == "format"]
    return QueryRequest(
        query=queries[0] if queries else None,
        default_graphs=_public_graphs([v for n, v in every if n == "default-graph-uri"], "default-graph-uri"),
        named_graphs=_public_graphs([v for n, v in every if n == "named-graph-uri"], "named-graph-uri"),
        format=formats[0] if formats else None,
        timeout=timeout)
