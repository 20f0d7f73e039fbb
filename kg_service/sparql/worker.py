"""What runs inside a query worker process: parse, check the algebra, execute, serialize.

Everything here may burn CPU, recurse deeply, allocate without bound or crash: the parent process kills
and respawns the worker at the deadline, and RLIMIT_AS bounds its memory. The worker holds its own copy of
the public graphs and can reach no network (socket timeout and an empty urllib opener as a backstop; SERVICE
is refused before execution).
"""

from __future__ import annotations

import resource
import socket
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import rdflib.plugins.sparql as rdflib_sparql
from pyparsing import ParseException
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from kg_service.backends.terms import to_rdflib
from kg_service.graph import PUBLIC_GRAPHS
from kg_service.sparql.results import (
    Limits,
    ResultTooLarge,
    Serialized,
    serialize_boolean,
    serialize_solutions,
    serialize_triples,
)

PUBLIC = {str(g) for g in PUBLIC_GRAPHS}


@dataclass(frozen=True)
class Job:
    query: str
    media_type: str
    limits: Limits
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


@dataclass
class Failure:
    """A failure the parent maps to a problem: kind is syntax | refused | too-complex | too-large | failed."""

    kind: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


class Refused(Exception):
    pass


def harden_process(memory_mb: int | None) -> None:
    """Limits a worker sets on itself before it loads anything."""
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    socket.setdefaulttimeout(1)
    urllib.request.install_opener(urllib.request.OpenerDirector())
    rdflib_sparql.SPARQL_LOAD_GRAPHS = False


def _walk(node: Any, seen: set[int]) -> Any:
    """Every CompValue in a parsed/translated query (iteratively: the tree can be deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if hasattr(current, "name") and isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, (list, tuple)):
            stack.extend(current)
        elif isinstance(current, dict):
            stack.extend(current.values())


def check_algebra(query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Parse with rdflib; refuse SERVICE anywhere and FROM/FROM NAMED outside the public graphs.

    Returns the FROM and FROM NAMED IRIs (empty when the query names none).
    """
    parsed = parseQuery(query)
    translated = translateQuery(parsed)
    for node in _walk(translated.algebra, set()):
        if node.name == "ServiceGraphPattern":
            raise Refused("SERVICE (federated query) is refused: this public endpoint makes no outbound requests.")
    default, named = [], []
    for clause in translated.algebra.get("datasetClause") or []:
        iri = str(clause.get("default") or clause.get("named"))
        if iri not in PUBLIC:
            raise Refused(f"FROM <{iri}> names a graph this endpoint does not serve; the public graphs are "
                          + ", ".join(f"<{g}>" for g in sorted(PUBLIC)) + ". Nothing is ever loaded from a URL.")
        (default if clause.get("default") else named).append(iri)
    return tuple(default), tuple(named)


def _syntax_message(exc: ParseException) -> Failure:
    return Failure("syntax", f"{exc.msg} at line {exc.lineno}, column {exc.col}",
                   {"line": exc.lineno, "column": exc.col})


class Engine:
    """A worker's store: pyoxigraph (default) or rdflib, holding only the public graphs."""

    def __init__(self, nquads: bytes, backend: str) -> None:
        self.backend = backend
        if backend == "rdflib":
            from rdflib import Dataset

            from kg_service.graph import ASSERTED_GRAPH, INFERRED_GRAPH

            self.dataset = Dataset(default_union=True)
            self.dataset.parse(data=nquads, format="nquads")
            self.graphs = (ASSERTED_GRAPH, INFERRED_GRAPH)
        else:
            from kg_service.backends.oxigraph import PUBLIC_NODES, build_store

            self.store = build_store(nquads)
            self.public_nodes = PUBLIC_NODES

    def run(self, job: Job, default: tuple[str, ...], named: tuple[str, ...]) -> Serialized:
        if self.backend == "rdflib":
            return self._run_rdflib(job)
        import pyoxigraph as ox

        default_graphs = [ox.NamedNode(g) for g in default] or self.public_nodes
        named_graphs = [ox.NamedNode(g) for g in named] or self.public_nodes
        result = self.store.query(job.query, default_graph=default_graphs, named_graphs=named_graphs)
        if isinstance(result, ox.QueryBoolean):
            return serialize_boolean(bool(result), job.media_type)
        if isinstance(result, ox.QueryTriples):
            triples = ((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in result)
            return serialize_triples(dict.fromkeys(triples), job.media_type, job.limits)
        variables = [v.value for v in result.variables]
        rows = ([None if solution[v] is None else to_rdflib(solution[v]) for v in variables] for solution in result)
        return serialize_solutions(variables, rows, job.media_type, job.limits)

    def _run_rdflib(self, job: Job) -> Serialized:
        result = self.dataset.query(job.query)
        if result.type == "ASK":
            return serialize_boolean(bool(result.askAnswer), job.media_type)
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            return serialize_triples(iter(result.graph), job.media_type, job.limits)
        variables = [str(v) for v in result.vars]
        rows: Any = ([row[v] for v in variables] for row in result)
        return serialize_solutions(variables, rows, job.media_type, job.limits)


def execute(engine: Engine, job: Job) -> Serialized | Failure:
    """One query, start to finish, mapping every failure to a Failure the parent can report."""
    try:
        from_default, from_named = check_algebra(job.query)
        default = from_default or job.default_graphs
        named = from_named or job.named_graphs
        return engine.run(job, default, named)
    except ParseException as exc:
        return _syntax_message(exc)
    except Refused as exc:
        return Failure("refused", str(exc))
    except RecursionError:
        return Failure("too-complex", "The query is nested or chained too deeply to evaluate.")
    except ResultTooLarge as exc:
        return Failure("too-large", str(exc))
    except MemoryError:
        return Failure("failed", "The query needed more memory than a worker may use.")
    except SyntaxError as exc:  # pyoxigraph's parser, when rdflib accepted the text
        return Failure("syntax", str(exc))
    except Exception as exc:  # noqa: BLE001 - any engine failure is reported, never a crash of the pool
        return Failure("failed", f"The engine could not evaluate the query: {type(exc).__name__}.")


def worker_main(connection: Any, nquads: bytes, backend: str, memory_mb: int | None) -> None:
    """The loop of one worker process: receive a Job, send back Serialized or Failure."""
    harden_process(memory_mb)
    engine = Engine(nquads, backend)
    connection.send("ready")
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        connection.send(execute(engine, job))

