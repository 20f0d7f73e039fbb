"""Queries whose cost the text itself bounds: one triple pattern, no repeated variable, a small LIMIT.

Such a query is answered by one index scan that stops after LIMIT + OFFSET solutions (an ASK after the first),
with no join, sort, grouping, DISTINCT, expression or path that could make the engine work longer than that.
It is what an explorer sends first (YASGUI's default query is `SELECT * WHERE { ?sub ?pred ?obj . } LIMIT 10`),
and it is cheaper to run at once in the HTTP process than to send to a worker: a worker exists to be killed,
and nothing here can run long enough to need it. Anything else, however small, goes to the workers.

The match is on the lexer's tokens, exactly, after the prologue (PREFIX / BASE):

    SELECT ( * | ?var+ ) [WHERE] { s p o [.] } ( LIMIT n [OFFSET m] | OFFSET m LIMIT n )
    ASK [WHERE] { s p o [.] }

where s, p, o are variables (all different), IRIs or prefixed names, or (as the object) a literal.
"""

from __future__ import annotations

from kg_service.sparql.lexer import Token

_IRI = {"IRIREF", "PNAME_LN", "PNAME_NS"}


def _term(found: list[Token], i: int, position: str) -> int | None:
    """The index after one term of the pattern, or None if the tokens there are not a plain term."""
    if i >= len(found):
        return None
    token = found[i]
    if token.kind == "VAR" or token.kind in _IRI:
        return i + 1
    if position == "p" and token.kind == "NAME" and token.text == "a":
        return i + 1
    if position == "o" and token.kind == "NUMBER":
        return i + 1
    if position == "o" and token.kind == "STRING":
        if i + 1 < len(found) and found[i + 1].kind == "LANGTAG":
            return i + 2
        if i + 2 < len(found) and found[i + 1].text == "^^" and found[i + 2].kind in _IRI:
            return i + 3
        return i + 1
    return None


def _prologue_end(found: list[Token]) -> int:
    i = 0
    while i < len(found) and found[i].kind == "NAME":
        if found[i].word == "prefix" and i + 2 < len(found) and found[i + 1].kind == "PNAME_NS" \
                and found[i + 2].kind == "IRIREF":
            i += 3
        elif found[i].word == "base" and i + 1 < len(found) and found[i + 1].kind == "IRIREF":
            i += 2
        else:
            break
    return i


def _number(token: Token) -> int | None:
    return int(token.text) if token.kind == "NUMBER" and token.text.isdigit() else None


def _modifiers(found: list[Token], i: int) -> tuple[int | None, int] | None:
    """(LIMIT, OFFSET) if the tokens from i are exactly LIMIT n [OFFSET m] or OFFSET m [LIMIT n] (in any order)."""
    limit, offset = None, 0
    seen: set[str] = set()
    while i < len(found):
        word = found[i].word
        if word not in ("limit", "offset") or word in seen or i + 1 >= len(found):
            return None
        value = _number(found[i + 1])
        if value is None:
            return None
        seen.add(word)
        if word == "limit":
            limit = value
        else:
            offset = value
        i += 2
    return limit, offset


def bound(found: list[Token], most: int) -> int | None:
    """The number of solutions the engine may step through (LIMIT + OFFSET, 1 for ASK) when the query is one
    plain triple pattern and that number is at most `most`; None for every other query."""
    i = _prologue_end(found)
    if i >= len(found) or found[i].word not in ("select", "ask"):
        return None
    form = found[i].word
    i += 1
    if form == "select":
        if i < len(found) and found[i].text == "*":
            i += 1
        else:
            start = i
            while i < len(found) and found[i].kind == "VAR":
                i += 1
            if i == start:
                return None
    if i < len(found) and found[i].word == "where":
        i += 1
    if i >= len(found) or found[i].text != "{":
        return None
    pattern_start = i + 1
    i = pattern_start
    for position in ("s", "p", "o"):
        i = _term(found, i, position)
        if i is None:
            return None
    variables = [t.text[1:] for t in found[pattern_start:i] if t.kind == "VAR"]
    if len(set(variables)) != len(variables):  # ?x ?p ?x: a scan of everything, filtered
        return None
    if i < len(found) and found[i].text == ".":
        i += 1
    if i >= len(found) or found[i].text != "}":
        return None
    i += 1
    if form == "ask":
        return 1 if i == len(found) else None
    modifiers = _modifiers(found, i)
    if modifiers is None or modifiers[0] is None:
        return None
    total = modifiers[0] + modifiers[1]
    return total if total <= most else None
