"""The stored queries in `queries/*.rq`: read their `#+` headers, bind parameters as terms, run them.

A `.rq` file is the whole definition of an operation (grlc's convention): its `#+` lines hold YAML
(summary, description, tags, typed params), the rest is plain SPARQL that any tool can run as is.
Parameters are validated here and handed to the backend as rdflib terms, never pasted into the text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from typing import Literal as TypingLiteral

import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from kg_service.backends.base import Backend, Bindings, Row
from kg_service.errors import InvalidParameter
from kg_service.graph import KS

T = TypeVar("T")

ParamType = TypingLiteral["id", "iri", "string", "integer", "boolean"]
QueryForm = TypingLiteral["select", "ask", "construct"]

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
IRI_PATTERN = re.compile(r'^(https?|urn):[^<>"{}|^`\\\x00-\x20]+$')
_FORM_PATTERN = re.compile(r"^\s*(?:(?:PREFIX|BASE)\b[^\n]*\n\s*)*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b",
                           re.IGNORECASE)
MAX_STRING_PARAM = 512

# libyaml's parser (the same safe constructor) where PyYAML was built with it: every start reads every stored
# query's header, and the pure-Python parser is the slow part of that.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(Exception):
    """A stored query file is malformed (a bug in `queries/`, caught by `kg-service validate`)."""


@dataclass(frozen=True)
class Param:
    """A typed parameter of a stored query, bound to the SPARQL variable of the same name."""

    name: str
    type: ParamType = "string"
    required: bool = False
    description: str = ""
    example: str | None = None
    enum: tuple[str, ...] = ()

    def bind(self, raw: str) -> Identifier:
        """Turn one raw request value into a term, or say exactly what is wrong with it."""
        if self.enum and raw not in self.enum:
            raise InvalidParameter(f"{self.name}={raw!r} is not one of {', '.join(self.enum)}.",
                                   hint=f"Use one of: {', '.join(self.enum)}.")
        if self.type == "id":
            if not ID_PATTERN.match(raw):
                raise InvalidParameter(f"{self.name}={raw!r} is not an identifier.",
                                       hint="Identifiers are local names such as 'osteoarthritis'; "
                                            "find them with /api/search?q=...")
            return URIRef(KS[raw])
        if self.type == "iri":
            if not IRI_PATTERN.match(raw):
                raise InvalidParameter(f"{self.name}={raw!r} is not an absolute http(s) or urn IRI.",
                                       hint="Send the IRI URL-encoded once, e.g. "
                                            "https%3A%2F%2Fw3id.org%2Fknee-soreness%2Fosteoarthritis.")
            return URIRef(raw)
        if self.type == "integer":
            try:
                return Literal(int(raw), datatype=XSD.integer)
            except ValueError:
                raise InvalidParameter(f"{self.name}={raw!r} is not an integer.") from None
        if self.type == "boolean":
            if raw.lower() not in ("true", "false"):
                raise InvalidParameter(f"{self.name}={raw!r} is not a boolean.", hint="Use true or false.")
            return Literal(raw.lower() == "true")
        if len(raw) > MAX_STRING_PARAM:
            raise InvalidParameter(f"{self.name} is longer than {MAX_STRING_PARAM} characters.")
        return Literal(raw)


@dataclass(frozen=True)
class StoredQuery:
    """One `.rq` file: metadata from its header, and the SPARQL text itself."""

    name: str
    summary: str
    description: str
    text: str
    form: QueryForm
    params: tuple[Param, ...] = ()
    tags: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def bind(self, raw: Mapping[str, str | None]) -> dict[str, Identifier]:
        known = {p.name for p in self.params}
        unknown = sorted(k for k, v in raw.items() if k not in known and v is not None)
        if unknown:
            raise InvalidParameter(f"unknown parameter(s) {', '.join(unknown)} for query {self.name}.",
                                   hint=f"This query takes: {', '.join(sorted(known)) or 'no parameters'}.")
        bindings: dict[str, Identifier] = {}
        for param in self.params:
            value = raw.get(param.name)
            if value == "":
                raise InvalidParameter(f"parameter {param.name!r} is empty.",
                                       hint="Give it a value, or leave it out if it is optional.")
            if value is None:
                if param.required:
                    raise InvalidParameter(f"missing required parameter {param.name!r} for query {self.name}.",
                                           hint=param.description or None)
                continue
            bindings[param.name] = param.bind(value)
        return bindings

    def public_dict(self) -> dict[str, Any]:
        return {"name": self.name, "summary": self.summary, "description": self.description,
                "form": self.form, "tags": list(self.tags), "sparql": self.text,
                "parameters": [{"name": p.name, "type": p.type, "required": p.required,
                                "description": p.description, "example": p.example,
                                "enum": list(p.enum) or None} for p in self.params]}


def parse_stored_query(path: Path) -> StoredQuery:
    """Split a `.rq` file into its YAML header (`#+` lines) and its SPARQL body."""
    header_lines: list[str] = []
    body_lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#+") and not body_lines:
            header_lines.append(line[3:] if line.startswith("#+ ") else line[2:])
        else:
            body_lines.append(line)
    try:
        meta = yaml.load("\n".join(header_lines), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path.name}: bad #+ header: {exc}") from exc
    text = "\n".join(body_lines).strip() + "\n"
    match = _FORM_PATTERN.search(re.sub(r"(?m)^\s*#.*$", "", text))
    if not match:
        raise CatalogError(f"{path.name}: not a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    form = match.group(1).lower()
    params = []
    for name, spec in (meta.get("params") or {}).items():
        spec = spec or {}
        params.append(Param(name=name, type=spec.get("type", "string"), required=bool(spec.get("required")),
                            description=spec.get("description", ""),
                            example=None if spec.get("example") is None else str(spec["example"]),
                            enum=tuple(str(v) for v in spec.get("enum", ()))))
    return StoredQuery(name=meta.get("name", path.stem), summary=meta.get("summary", path.stem),
                       description=meta.get("description", ""), text=text,
                       form="construct" if form in ("construct", "describe") else form,  # type: ignore[arg-type]
                       params=tuple(params), tags=tuple(meta.get("tags", ())), path=path)


class Catalog:
    """All stored queries, by name, and the one way to run them on a backend."""

    def __init__(self, queries: Mapping[str, StoredQuery]) -> None:
        self.queries = dict(queries)
        # Called with (query name, seconds) after each run; the app points it at its metrics.
        self.observer: Callable[[str, float], None] | None = None

    @classmethod
    def load(cls, queries_dir: Path) -> Catalog:
        queries = {}
        for path in sorted(queries_dir.glob("*.rq")):
            query = parse_stored_query(path)
            if query.name in queries:
                raise CatalogError(f"two stored queries are named {query.name}")
            queries[query.name] = query
        return cls(queries)

    def __getitem__(self, name: str) -> StoredQuery:
        return self.queries[name]

    def __contains__(self, name: str) -> bool:
        return name in self.queries

    def select(self, backend: Backend, name: str, params: Mapping[str, str | None] | None = None) -> list[Row]:
        return self._observed(name, lambda query, bindings: backend.select(query, bindings), params)

    def select_text(self, backend: Backend, name: str,
                    params: Mapping[str, str | None] | None = None) -> list[dict[str, str]]:
        """`select` with every value as its lexical form (`Backend.select_text`)."""
        return self._observed(name, lambda query, bindings: backend.select_text(query, bindings), params)

    def _observed(self, name: str, run: Callable[[str, Bindings], T], params: Mapping[str, str | None] | None) -> T:
        query = self.queries[name]
        bindings = query.bind(params or {})
        started = time.perf_counter()
        answer = run(query.text, bindings)
        if self.observer is not None:
            self.observer(name, time.perf_counter() - started)
        return answer
