"""The one SPARQL 1.1 tokenizer: the grammar's terminals (SPARQL 1.1 Query §19.8), longest match first.

Every check that reads query text (the pre-check, the runaway guard's normalization) reads it through this
lexer, so a query cannot mean one thing to a check and another to the engine: `<?a&&?b>` is an IRIREF here,
as the grammar's longest-match rule says, and `ex:service`, `?load` and `"SERVICE"` are never keywords.
One compiled regular expression; linear in the text.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import NamedTuple

_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F"
         "\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_U = _BASE + "_"
_CHARS = _U + "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
PN_PREFIX = rf"[{_BASE}](?:[{_CHARS}]|\.+(?=[{_CHARS}]))*"
PN_LOCAL = rf"(?:[{_U}:0-9]|{_PLX})(?:[{_CHARS}:]|{_PLX}|\.+(?=[{_CHARS}:]|{_PLX}))*"
_EXPONENT = r"[eE][+-]?[0-9]+"
_ECHAR = r"\\[tbnrf\\\"']"
_MAY_BE_PNAME = r"(?=[A-Za-z0-9_.\-]*[:\u0080-\U0010FFFF])"

# White space and comments are not tokens: an atomic group in front of every token skips them, so there is one
# match per token (not also one per gap between tokens) and nothing to filter out afterwards.
_SKIP = r"(?>(?:[ \t\r\n]+|#[^\r\n]*)*)"
# Where two terminals can start with the same character, the longer one comes first (IRIREF before `<`, VAR before
# `?`, NUMBER before `+`, `-` and `.`, the prefixed names before NAME). Terminals that start with different
# characters may come in any order, so the frequent ones (names, variables) are tried early.
_TERMINALS = {
    "IRIREF": r'<[^<>"{}|^`\\\x00-\x20]*>',
    "PNAME_LN": rf"(?:{PN_PREFIX})?:{PN_LOCAL}",
    "PNAME_NS": rf"(?:{PN_PREFIX})?:",
    "NAME": r"[A-Za-z][A-Za-z0-9_]*",
    "VAR": rf"[?$][{_U}0-9][{_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*",
    "NUMBER": rf"[+-]?(?:[0-9]+\.[0-9]*{_EXPONENT}|\.[0-9]+{_EXPONENT}|[0-9]+{_EXPONENT}|[0-9]*\.[0-9]+|[0-9]+)",
    "STRING": (rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*'''|\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|{_ECHAR}))*\"\"\""
               rf"|'(?:[^'\\\n\r]|{_ECHAR})*'|\"(?:[^\"\\\n\r]|{_ECHAR})*\""),
    "LANGTAG": r"@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*",
    "BLANK_NODE_LABEL": rf"_:[{_U}0-9](?:[{_CHARS}]|\.+(?=[{_CHARS}]))*",
    "PUNCT": r"&&|\|\||!=|<=|>=|\^\^|[{}()\[\];,.=<>!+\-*/^|?]",
    "ERROR": r"[^ \t\r\n#]",  # any other character: white space and `#` were skipped in front
}


def _group(name: str) -> str:
    return f"(?P<{name}>{_TERMINALS[name]})"


# The lookahead keeps keywords from being tried as prefixes char by char: a prefixed name's characters before its
# colon are ASCII name characters or else not ASCII at all, so it lets through every token that may be one (the
# full patterns then decide) and rejects a keyword at its first space, once for both prefixed names.
_PNAME = rf"{_MAY_BE_PNAME}(?:{_group('PNAME_LN')}|{_group('PNAME_NS')})"
_OTHERS = ("NAME", "VAR", "NUMBER", "STRING", "LANGTAG", "BLANK_NODE_LABEL", "PUNCT", "ERROR")
# The last alternative, the end of the text, is the one match with no group: the white space after the last token.
_TOKEN = re.compile(_SKIP + "(?:" + "|".join([_group("IRIREF"), _PNAME, *map(_group, _OTHERS), r"\Z"]) + ")")


class Token(NamedTuple):
    kind: str  # a terminal: IRIREF, PNAME_LN, PNAME_NS, BLANK_NODE_LABEL, VAR, LANGTAG, NUMBER, STRING, NAME, PUNCT
    text: str
    start: int

    @property
    def word(self) -> str:
        """A keyword's canonical (lower-case) spelling; SPARQL keywords are case-insensitive."""
        return self.text.lower() if self.kind == "NAME" else ""


class LexicalError(Exception):
    def __init__(self, message: str, position: int, text: str) -> None:
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        super().__init__(f"{message} at line {line}, column {column}")
        self.line, self.column = line, column


_new_token = tuple.__new__  # Token(...) without NamedTuple's Python-level __new__: a query has hundreds of tokens
_kind = itemgetter(0)


def tokens(text: str) -> list[Token]:
    """The query's tokens, comments and white space skipped; a character no terminal starts with is an error."""
    found = [_new_token(Token, (m.lastgroup, m[m.lastindex], m.start(m.lastindex))) for m in _TOKEN.finditer(text)
             if m.lastindex]
    if "ERROR" in map(_kind, found):
        token = next(t for t in found if t.kind == "ERROR")
        what = ("string that is not closed (or holds an invalid escape)" if token.text in "\"'"
                else f"character {token.text!r}")
        raise LexicalError(f"Unexpected {what}", token.start, text)
    return found


def joined(found: list[Token]) -> str:
    """Tokens joined by single spaces, keywords in lower case: comments, spacing and case do not make a query new."""
    return " ".join(t.text if t.kind != "NAME" else t.text.lower() for t in found)


def normalize(text: str) -> str:
    try:
        return joined(tokens(text))
    except LexicalError:
        return " ".join(text.split())
