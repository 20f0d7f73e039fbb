"""Checks every query passes before any engine sees it: size, escapes, nesting, updates, SERVICE.

A linear lexical scan that skips string literals, IRIs and comments, so a keyword inside a string is not a
keyword and a prefixed name (`ex:service`) or variable (`?load`) is not one either. It decides what can be
decided without parsing; the parsed-algebra checks (SERVICE, FROM/FROM NAMED) run in the worker, under the
deadline, because parsing itself can be slow (research/sparql-security.md §7b).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from kg_service.errors import (
    PayloadTooLarge,
    QuerySyntaxError,
    QueryTooComplex,
    RefusedFeature,
)

QueryForm = Literal["select", "ask", "construct", "describe"]

UPDATE_KEYWORDS = {"insert", "delete", "load", "clear", "drop", "create", "add", "move", "copy", "with", "using"}
QUERY_KEYWORDS = {"select", "ask", "construct", "describe"}
OPENERS, CLOSERS = "({[", ")}]"
_WORD = re.compile(r"[^\W\d][\w-]*")  # Unicode letters too: c.isalpha() is Unicode-aware
_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]{0,4096}>')
_LOCAL = re.compile(r"(?:[\w\-:]|%[0-9A-Fa-f]{2}|\\.|\.(?=[\w\-:%\\]))*")  # PN_LOCAL, escapes included
WEIGHTS = {"{": 2, "[": 2, "(": 3, "}": 2, "]": 2, ")": 3}


class UpdateInQuery(QuerySyntaxError):
    """Update text sent as a query: not a legal query string (W3C SPARQL 1.1 Protocol §2.1.7) -> 400."""


@dataclass(frozen=True)
class Scan:
    form: QueryForm
    depth: int
    keywords: tuple[str, ...]


def scan(text: str) -> tuple[list[str], int]:
    """Bare keywords (lower-cased) outside strings, IRIs and comments, and the deepest bracket nesting.

    Nesting is counted in half-levels: `{` and `[` weigh 2, `(` weighs 3, because rdflib's expression grammar
    recurses about 1.5 times deeper per parenthesis than per group (RecursionError at 25 nested parentheses
    against 37 nested braces, research/sparql-security.md §7c). The result is in whole levels.
    """
    words: list[str] = []
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif c == "\\":  # an escaped character of a prefixed name (PN_LOCAL_ESC, e.g. ex:a\#b): never a comment
            i += 2
        elif c in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            i = j + len(quote)
        elif c == "<" and (iri := _IRIREF.match(text, i)):
            i = iri.end()
        elif c in OPENERS:
            depth += WEIGHTS[c]
            deepest = max(deepest, depth)
            i += 1
        elif c in CLOSERS:
            depth = max(0, depth - WEIGHTS[c])
            i += 1
        elif c in "?$":  # a variable, never a keyword
            match = _WORD.match(text, i + 1)
            i = match.end() if match else i + 1
        elif c == ":":  # the local part of a prefixed name (ex:service, :load, _:b1) is never a keyword
            i = _LOCAL.match(text, i + 1).end()
        elif c.isalpha() or c == "_":
            match = _WORD.match(text, i)
            end = match.end()
            if end < n and text[end] == ":":  # the prefix of a prefixed name such as ex:service
                i = _LOCAL.match(text, end + 1).end()
                continue
            if i > 0 and text[i - 1] in "@^":  # a language tag
                i = end
                continue
            words.append(match.group().lower())
            i = end
        else:
            i += 1
    return words, (deepest + 1) // 2


def precheck(text: str, max_chars: int, max_depth: int) -> Scan:
    """Refuse, with a message that says why and how to fix it, what must not reach an engine."""
    if len(text) > max_chars:
        raise PayloadTooLarge(f"The query has {len(text)} characters; this endpoint accepts at most {max_chars}.",
                              hint="Split the query, or use the stored queries at /api/queries.")
    if "\\u" in text or "\\U" in text:
        raise RefusedFeature("\\u and \\U escapes are not accepted in queries.",
                             hint="Write the character itself (UTF-8); the escapes are expanded before parsing "
                                  "and could hide keywords.")
    words, depth = scan(text)
    if depth > max_depth:
        raise QueryTooComplex(f"The query nests brackets {depth} deep; the limit is {max_depth}.",
                              hint="Flatten nested groups, or split the query.")
    first = next((w for w in words if w in QUERY_KEYWORDS | UPDATE_KEYWORDS), None)
    if first in UPDATE_KEYWORDS:
        raise UpdateInQuery(f"{first.upper()} is a SPARQL Update operation, not a query; this endpoint is read-only.",
                            hint="Send SELECT, ASK, CONSTRUCT or DESCRIBE.")
    if first is None:
        raise QuerySyntaxError("No SELECT, ASK, CONSTRUCT or DESCRIBE found in the query.",
                               hint="A query starts with optional PREFIX lines and then one of those keywords.")
    refused = [w for w in words if w in ("service", "load") or (w in UPDATE_KEYWORDS and w not in ("with", "using"))]
    if "service" in refused:
        raise RefusedFeature("SERVICE (federated query) is refused: this public endpoint makes no outbound requests.",
                             hint="Query the other endpoint yourself and join the results client-side.")
    if refused:
        raise RefusedFeature(f"{refused[0].upper()} is not allowed in a query on this read-only endpoint.")
    return Scan(form=first, depth=depth, keywords=tuple(words))  # type: ignore[arg-type]
