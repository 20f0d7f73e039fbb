"""Checks every query passes before any engine sees it: size, escapes, tokens, nesting, updates, SERVICE, dataset.

An exact lexical check over the SPARQL 1.1 grammar's own tokens (lexer.py), so a keyword inside a string is
not a keyword and a prefixed name (`ex:service`) or variable (`?load`) is not one either. It decides in the
HTTP process, at once, everything the service refuses: SERVICE, LOAD and updates anywhere, FROM / FROM NAMED
naming a graph other than the public ones (prefixes and BASE resolved), queries too deep or too long for an
engine to plan safely (research/sparql-security.md §7b-c). Everything else is the engine's to parse; the
engine is always given the dataset this check computed, so what the query says about graphs never reaches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin

from kg_service.errors import (
    PayloadTooLarge,
    QuerySyntaxError,
    QueryTooComplex,
    RefusedFeature,
)
from kg_service.graph import KS, PUBLIC_GRAPHS
from kg_service.sparql.bounded import bound
from kg_service.sparql.lexer import LexicalError, Token, joined, tokens

QueryForm = Literal["select", "ask", "construct", "describe"]

# Relative IRIs in queries resolve against the ontology's own base, on every engine (SPARQL 1.1 §4.1.1.1).
QUERY_BASE = str(KS)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
PUBLIC = tuple(str(g) for g in PUBLIC_GRAPHS)
PUBLIC_LIST = ", ".join(f"<{g}>" for g in sorted(PUBLIC))
UPDATE_KEYWORDS = {"insert", "delete", "load", "clear", "drop", "create", "add", "move", "copy", "with", "using"}
QUERY_KEYWORDS = {"select", "ask", "construct", "describe"}
OPENERS, CLOSERS = "({[", ")}]"
WEIGHTS = {"{": 2, "[": 2, "(": 3, "}": 2, "]": 2, ")": 3}
OPERATORS = {"||", "&&", "=", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "!", "|", "^"}
DEFAULT_MAX_PATTERNS = 80
DEFAULT_MAX_OPERATORS = 1000
# Inside an expression, an operand is followed by an operator, never directly by another operand.
_OPERAND = {"VAR", "IRIREF", "PNAME_LN", "PNAME_NS", "STRING", "NUMBER", "BLANK_NODE_LABEL"}
_OPERAND_NOT_NUMBER = _OPERAND - {"NUMBER"}  # a signed number after an operand is a subtraction or an addition
_AFTER_OPERAND_WORDS = {"as", "in", "not"}
# A `(` after one of these keywords opens a variable list or a solution sequence, not an expression.
_NOT_EXPRESSION_AFTER = {"values", "select", "distinct", "reduced", "where", "by", "construct", "describe", "ask"}


class UpdateInQuery(QuerySyntaxError):
    """Update text sent as a query: not a legal query string (W3C SPARQL 1.1 Protocol §2.1.7) -> 400."""


@dataclass(frozen=True)
class Scan:
    form: QueryForm
    depth: int
    keywords: tuple[str, ...]
    from_default: tuple[str, ...] = ()  # the FROM IRIs, resolved, all public
    from_named: tuple[str, ...] = ()  # the FROM NAMED IRIs, resolved, all public
    normalized: str = ""  # the tokens joined (lexer.joined): what the runaway guard remembers
    bound: int | None = None  # solutions an engine may step through, when the text bounds them (bounded.py)


def _lex(text: str) -> list[Token]:
    try:
        return tokens(text)
    except LexicalError as exc:
        raise QuerySyntaxError(str(exc), hint="Check the query near the position given.", line=exc.line,
                               column=exc.column) from None


def _depth(found: list[Token]) -> int:
    """The deepest bracket nesting, counted in half-levels: `{` and `[` weigh 2, `(` weighs 3, because rdflib's
    expression grammar recurses about 1.5 times deeper per parenthesis than per group (RecursionError at 25
    nested parentheses against 37 nested braces, research/sparql-security.md §7c). The result is in whole levels.
    """
    depth = deepest = 0
    for token in found:
        if token.kind != "PUNCT":
            continue
        if token.text in OPENERS:
            depth += WEIGHTS[token.text]
            deepest = max(deepest, depth)
        elif token.text in CLOSERS:
            depth = max(0, depth - WEIGHTS[token.text])
    return (deepest + 1) // 2


def scan(text: str) -> tuple[list[str], int]:
    """Bare keywords (lower-cased) and the deepest bracket nesting of a query."""
    found = _lex(text)
    return [t.word for t in found if t.kind == "NAME"], _depth(found)


def _unescape_local(local: str) -> str:
    out, i = [], 0
    while i < len(local):
        if local[i] == "\\" and i + 1 < len(local):
            out.append(local[i + 1])
            i += 2
        else:
            out.append(local[i])
            i += 1
    return "".join(out)


def _resolve(base: str, iri: str) -> str:
    return iri if _ABSOLUTE.match(iri) else urljoin(base, iri)


def _dataset(found: list[Token], text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """FROM / FROM NAMED IRIs resolved as the engine will (BASE, PREFIX), each one refused unless public; a
    prefixed name whose prefix is never declared is refused here with its name (engines say it less clearly)."""
    base, prefixes = QUERY_BASE, {}
    default: list[str] = []
    named: list[str] = []
    used: dict[str, Token] = {}
    count = len(found)
    for i, token in enumerate(found):
        kind = token.kind
        if kind == "PNAME_LN" or kind == "PNAME_NS":
            used.setdefault(token.text.partition(":")[0], token)
            continue
        if kind != "NAME":
            continue
        word = token.text.lower()
        following = found[i + 1] if i + 1 < count else None
        if following is None:
            continue
        if word == "base" and following.kind == "IRIREF":
            base = _resolve(base, following.text[1:-1])
        elif word == "prefix" and following.kind == "PNAME_NS" and i + 2 < count and found[i + 2].kind == "IRIREF":
            prefixes[following.text[:-1]] = _resolve(base, found[i + 2].text[1:-1])
        elif word == "from":
            is_named = following.word == "named"
            target = found[i + 2] if is_named and i + 2 < count else following
            keyword = "FROM NAMED" if is_named else "FROM"
            if target.kind == "IRIREF":
                iri = _resolve(base, target.text[1:-1])
            elif target.kind in ("PNAME_LN", "PNAME_NS"):
                prefix, _, local = target.text.partition(":")
                if prefix not in prefixes:
                    raise QuerySyntaxError(f"The prefix {prefix}: in {keyword} {target.text} is not declared.",
                                           hint=f"Add PREFIX {prefix}: <...> before the query.")
                iri = prefixes[prefix] + _unescape_local(local)
            else:
                raise QuerySyntaxError(f"{keyword} must be followed by an IRI.",
                                       hint=f"Name one of the public graphs: {PUBLIC_LIST}.")
            if iri not in PUBLIC:
                raise RefusedFeature(f"{keyword} <{iri}> names a graph this endpoint does not serve; the public "
                                     f"graphs are {PUBLIC_LIST}. Nothing is ever loaded from a file or a URL.",
                                     hint="Leave FROM out (the default graph is the union of the public graphs).")
            (named if is_named else default).append(iri)
    for prefix, token in used.items():
        if prefix not in prefixes:
            line, column = _position(text, token.start)
            raise QuerySyntaxError(f"The prefix {prefix}: of {token.text} is not declared (line {line}, column "
                                   f"{column}).", hint=f"Add PREFIX {prefix}: <...> before the query.",
                                   line=line, column=column)
    return tuple(default), tuple(named)


def _position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _size(found: list[Token], max_patterns: int, max_operators: int) -> None:
    """Refuse what an engine cannot plan in bounded time: Oxigraph took 4.8 s to plan a chain of 500 triple
    patterns on an empty store, 5.5 s for a 3,000-term `||` chain, and crashes on longer operator chains."""
    stack: list[str] = []
    patterns = operators = 0
    for token in found:
        if token.kind == "NUMBER" and token.text[0] in "+-":
            operators += 1  # `?x -1` is a subtraction
        if token.kind != "PUNCT":
            continue
        text = token.text
        if text in OPENERS:
            stack.append(text)
        elif text in CLOSERS:
            if stack:
                stack.pop()
        elif text in ".;," and stack and stack[-1] in "{[":
            patterns += 1
        elif text in OPERATORS:
            operators += 1
    if patterns > max_patterns:
        raise QueryTooComplex(f"The query has about {patterns} triple patterns; the limit is {max_patterns}.",
                              hint="Split the query, or use property paths for chains.")
    if operators > max_operators:
        raise QueryTooComplex(f"The query has {operators} operators; the limit is {max_operators}.",
                              hint="Use IN (...) or VALUES instead of long || or + chains.")


def _expressions(found: list[Token], text: str) -> None:
    """Two operands side by side inside a FILTER / BIND / function call are a syntax error by the grammar, whatever
    an engine accepts: `FILTER (?x<?a&&?b>?y)` holds the IRI `<?a&&?b>` (longest match), not a comparison."""
    stack: list[bool] = []  # per open bracket: does it hold an expression?
    in_expression = False  # does the innermost open bracket hold one?
    previous: Token | None = None
    for token in found:
        kind, token_text = token.kind, token.text
        if in_expression and previous is not None:
            before, before_text = previous.kind, previous.text
            ended = before in _OPERAND or before == "LANGTAG" or (before == "PUNCT" and before_text == ")") \
                or (before == "NAME" and before_text.lower() in ("true", "false"))
            if ended and (kind in _OPERAND_NOT_NUMBER or (kind == "NUMBER" and token_text[0] not in "+-")
                          or (kind == "NAME" and token_text.lower() not in _AFTER_OPERAND_WORDS)):
                line, column = _position(text, token.start)
                raise QuerySyntaxError(f"Expected an operator between {before_text} and {token_text} at line "
                                       f"{line}, column {column}", hint="Put spaces around < and > in comparisons: "
                                       "<...> without spaces is an IRI.", line=line, column=column)
        if kind == "PUNCT":
            if token_text in OPENERS:
                if token_text != "(":
                    stack.append(False)
                elif in_expression:
                    stack.append(True)  # nested parentheses or a function call inside an expression
                else:
                    stack.append(previous is not None and previous.kind == "NAME"
                                 and previous.text.lower() not in _NOT_EXPRESSION_AFTER)
                in_expression = stack[-1]
            elif token_text in CLOSERS and stack:
                stack.pop()
                in_expression = bool(stack) and stack[-1]
        previous = token


def precheck(text: str, max_chars: int, max_depth: int, max_patterns: int = DEFAULT_MAX_PATTERNS,
             max_operators: int = DEFAULT_MAX_OPERATORS, max_bound: int = 0) -> Scan:
    """Refuse, with a message that says why and how to fix it, what must not reach an engine. With `max_bound`,
    also say whether the text bounds the query's work to at most that many solutions (Scan.bound)."""
    if len(text) > max_chars:
        raise PayloadTooLarge(f"The query has {len(text)} characters; this endpoint accepts at most {max_chars}.",
                              hint="Split the query, or use the stored queries at /api/queries.")
    if "\\u" in text or "\\U" in text:
        raise RefusedFeature("\\u and \\U escapes are not accepted in queries.",
                             hint="Write the character itself (UTF-8); the escapes are expanded before parsing "
                                  "and could hide keywords.")
    found = _lex(text)
    depth = _depth(found)
    if depth > max_depth:
        raise QueryTooComplex(f"The query nests brackets {depth} deep; the limit is {max_depth}.",
                              hint="Flatten nested groups, or split the query.")
    words = [t.word for t in found if t.kind == "NAME"]
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
    from_default, from_named = _dataset(found, text)
    _size(found, max_patterns, max_operators)
    _expressions(found, text)
    return Scan(form=first, depth=depth, keywords=tuple(words), from_default=from_default,  # type: ignore[arg-type]
                from_named=from_named, normalized=joined(found),
                bound=bound(found, max_bound) if max_bound and not (from_default or from_named) else None)
