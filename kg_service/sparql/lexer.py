"""The one SPARQL 1.1 tokenizer: the grammar's terminals (SPARQL 1.1 Query §19.8), longest match first.

Every check that reads query text (the pre-check, the runaway guard's normalization) reads it through this
lexer, so a query cannot mean one thing to a check and another to the engine: `<?a&&?b>` is an IRIREF here,
as the grammar's longest-match rule says, and `ex:service`, `?load` and `"SERVICE"` are never keywords.
One compiled regular expression; linear in the text.
"""

from __future__ import annotations

import re
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

# Order matters only where two terminals start alike; each alternative is the longer one first.
_TERMINALS = [
    ("WS", r"[ \t\r\n]+"),
    ("COMMENT", r"#[^\r\n]*"),
    ("IRIREF", r'<[^<>"{}|^`\\\x00-\x20]*>'),
    # The lookahead keeps keywords from being tried as prefixes char by char: a prefixed name's characters
    # before its colon are ASCII name characters or else not ASCII at all, so it lets through every token
    # that may be one (the full pattern then decides) and rejects a keyword at its first space.
    ("PNAME_LN", rf"{_MAY_BE_PNAME}(?:{PN_PREFIX})?:{PN_LOCAL}"),
    ("PNAME_NS", rf"{_MAY_BE_PNAME}(?:{PN_PREFIX})?:"),
    ("BLANK_NODE_LABEL", rf"_:[{_U}0-9](?:[{_CHARS}]|\.+(?=[{_CHARS}]))*"),
    ("VAR", rf"[?$][{_U}0-9][{_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*"),
    ("LANGTAG", r"@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*"),
    ("NUMBER", rf"[+-]?(?:[0-9]+\.[0-9]*{_EXPONENT}|\.[0-9]+{_EXPONENT}|[0-9]+{_EXPONENT}|[0-9]*\.[0-9]+|[0-9]+)"),
    ("STRING", (rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*'''|\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|{_ECHAR}))*\"\"\""
               rf"|'(?:[^'\\\n\r]|{_ECHAR})*'|\"(?:[^\"\\\n\r]|{_ECHAR})*\"")),
    ("NAME", r"[A-Za-z][A-Za-z0-9_]*"),
    ("PUNCT", r"&&|\|\||!=|<=|>=|\^\^|[{}()\[\];,.=<>!+\-*/^|?]"),
    ("ERROR", r"(?s:.)"),
]
_TOKEN = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _TERMINALS))


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


_SKIPPED = ("WS", "COMMENT")
_new_token = tuple.__new__  # Token(...) without NamedTuple's Python-level __new__: a query has hundreds of tokens


def tokens(text: str) -> list[Token]:
    """The query's tokens, comments and white space skipped; a character no terminal starts with is an error."""
    found = [_new_token(Token, (m.lastgroup, m.group(), m.start())) for m in _TOKEN.finditer(text)
             if m.lastgroup not in _SKIPPED]
    for token in found:
        if token.kind == "ERROR":
            char = token.text
            what = "string that is not closed (or holds an invalid escape)" if char in "\"'" else f"character {char!r}"
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
