"""What runs inside a query worker process: check the tokens, execute, serialize.

Everything here may burn CPU, recurse deeply, allocate without bound or crash: the parent process kills
and respawns the worker at the deadline, and RLIMIT_AS bounds its memory. The worker holds its own copy of
the public graphs and can reach no network (socket timeout and an empty urllib opener as a backstop; SERVICE
is refused lexically before the job is sent, and again here; rdflib also checks its parsed algebra).
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import socket
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph

from kg_service.backends.terms import to_rdflib
from kg_service.errors import Problem
from kg_service.graph import PUBLIC_GRAPHS
from kg_service.sparql.prechecks import QUERY_BASE, Scan, precheck
from kg_service.sparql.results import (
    Limits,
    Serialized,
    oxigraph_document,
    serialize_boolean,
    serialize_native,
    serialize_solutions,
    serialize_triples,
)

if TYPE_CHECKING:
    from rdflib.plugins.sparql.sparql import Query

PUBLIC = {str(g) for g in PUBLIC_GRAPHS}
PUBLIC_LIST = ", ".join(f"<{g}>" for g in sorted(PUBLIC))
WORKER_NICENESS = 10
CHECK_CACHE_SIZE = 256  # parsed verdicts per worker: a repeated query skips rdflib's parse
UNBOUNDED = 1 << 62


@dataclass(frozen=True)
class Job:
    query: str
    media_type: str
    limits: Limits
    default_graphs: tuple[str, ...] = ()  # the protocol's default-graph-uri values (already checked public)
    named_graphs: tuple[str, ...] = ()  # the protocol's named-graph-uri values
    check_only: bool = False  # parse and check, answer a Verdict: the remote backend's checks, under the deadline
    normalized: str | None = None  # the query's tokens (lexer.normalize), when the caller already has them
    # The HTTP process's pre-check of this very text (prechecks.precheck): the FROM / FROM NAMED it resolved.
    prechecked: bool = False
    from_default: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """A query that passed the algebra checks, and the FROM / FROM NAMED IRIs it names."""

    from_default: tuple[str, ...]
    from_named: tuple[str, ...]


@dataclass
class Failure:
    """A failure the parent maps to a problem: kind is syntax | refused | too-complex | failed."""

    kind: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


class Refused(Exception):
    pass


@dataclass(frozen=True)
class Checked:
    """A query that passed the algebra checks: its FROM / FROM NAMED IRIs and rdflib's translation."""

    from_default: tuple[str, ...]
    from_named: tuple[str, ...]
    translated: Query


M_ARENA_MAX = -8  # glibc's mallopt parameter


def _few_malloc_arenas() -> None:
    """glibc gives a thread that finds the other arenas busy an arena of its own, each reserving 64 MB of address
    space; on a busy machine the store's threads could reserve enough to reach RLIMIT_AS while the store opens
    (the worker then aborts: "Resource temporarily unavailable", seen once in CI). A worker runs one query at a
    time: two arenas are plenty."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to limit


def harden_process(memory_mb: int | None, niceness: int = WORKER_NICENESS, backend: str = "rdflib") -> None:
    """Limits a worker sets on itself before it loads anything. Only the rdflib backend's workers parse and
    evaluate with rdflib's SPARQL (sparql/forkserver.py preloads it for them alone)."""
    _few_malloc_arenas()
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Below the HTTP process in CPU priority: a runaway query never slows /healthz, even on two cores.
    if niceness:
        with contextlib.suppress(OSError):
            os.nice(niceness)
    socket.setdefaulttimeout(1)
    urllib.request.install_opener(urllib.request.OpenerDirector())
    if backend == "rdflib":
        import rdflib.plugins.sparql as rdflib_sparql

        rdflib_sparql.SPARQL_LOAD_GRAPHS = False


def _walk(node: Any) -> Any:
    """Every CompValue in a parsed/translated query (iteratively: the tree can be deep)."""
    seen: set[int] = set()
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


class SyntaxProblem(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def _check(query: str) -> Checked:
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parsed = parseQuery(query)
    except ParseBaseException as exc:
        raise SyntaxProblem(exc.msg, exc.lineno, exc.col) from None
    try:
        translated = translateQuery(parsed, base=QUERY_BASE)
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - rdflib reports unknown prefixes etc. as bare Exception
        raise SyntaxProblem(str(exc)) from None
    for node in _walk(translated.algebra):
        if node.name == "ServiceGraphPattern":
            raise Refused("SERVICE (federated query) is refused: this public endpoint makes no outbound requests.")
    default, named = [], []
    for clause in dict.get(translated.algebra, "datasetClause") or []:
        # CompValue.get answers the key's own name for a missing key: test membership on the dict instead.
        is_default = "default" in clause
        iri = str(dict.__getitem__(clause, "default" if is_default else "named"))
        keyword = "FROM" if is_default else "FROM NAMED"
        if iri not in PUBLIC:
            raise Refused(f"{keyword} <{iri}> names a graph this endpoint does not serve; the public graphs are "
                          f"{PUBLIC_LIST}. Nothing is ever loaded from a file or a URL.")
        (default if is_default else named).append(iri)
    # The dataset is applied by the engine call, never by rdflib's FROM handling (which may load graphs).
    translated.algebra["datasetClause"] = None
    return Checked(tuple(default), tuple(named), translated)


_checked: OrderedDict[str, Checked] = OrderedDict()


def check_algebra(query: str) -> Checked:
    """Parse with rdflib; refuse SERVICE anywhere and FROM / FROM NAMED outside the public graphs."""
    hit = _checked.get(query)
    if hit is not None:
        _checked.move_to_end(query)
        return hit
    checked = _check(query)
    _checked[query] = checked
    if len(_checked) > CHECK_CACHE_SIZE:
        _checked.popitem(last=False)
    return checked


def query_dataset(job: Job, checked: Checked | Verdict | Scan | Job) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(default graphs, named graphs) of the query, or None for the service's own dataset.

    SPARQL 1.1 Protocol §2.1.4: a dataset given by the protocol replaces the query's FROM / FROM NAMED; a
    dataset given either way holds only the graphs it names (no named graphs when none is named).
    """
    if job.default_graphs or job.named_graphs:
        return job.default_graphs, job.named_graphs
    if checked.from_default or checked.from_named:
        return checked.from_default, checked.from_named
    return None


class Engine:
    """A worker's store: pyoxigraph (default) or rdflib, holding only the public graphs."""

    def __init__(self, source: str | bytes, backend: str) -> None:
        """`source`: the on-disk store's path (opened read-only, shared with the other processes), or N-Quads."""
        self.backend = backend
        if backend == "remote":
            return  # the remote store answers; this worker only parses and checks
        from kg_service.backends.oxigraph import open_store

        store = open_store(source)
        if backend == "rdflib":
            from rdflib import Graph

            self.graphs = {}
            for name in PUBLIC:
                graph = self.graphs[name] = Graph()
                for q in store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(name)):
                    graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
            self.datasets: dict[Any, Any] = {}
        else:
            self._serve(store)

    @classmethod
    def over(cls, store: pyoxigraph.Store) -> Engine:
        """An Engine on a store this process already holds: the HTTP process's own, for bounded queries."""
        engine = cls.__new__(cls)
        engine.backend = "oxigraph"
        engine._serve(store)
        return engine

    def _serve(self, store: pyoxigraph.Store) -> None:
        from kg_service.backends.oxigraph import PUBLIC_NODES

        self.store = store
        self.public_nodes = PUBLIC_NODES
        # A store that holds exactly the public graphs and an empty default graph answers the service's own
        # dataset as "default graph = union of the named graphs": the same dataset, about 30 % faster for
        # Oxigraph than the same two graphs listed (measured on every stored query of queries/).
        self.union_is_public = (set(store.named_graphs()) == set(PUBLIC_NODES)
                                and next(iter(store.quads_for_pattern(None, None, None, pyoxigraph.DefaultGraph())),
                                         None) is None)

    def _rdflib_dataset(self, dataset: tuple[tuple[str, ...], tuple[str, ...]] | None):
        """A Dataset whose default graph and named graphs are exactly the requested ones (built once each)."""
        from kg_service.backends.rdflib_memory import build_dataset

        key = dataset or (tuple(sorted(PUBLIC)), tuple(sorted(PUBLIC)))
        if key not in self.datasets:
            self.datasets[key] = build_dataset(self.graphs, *key)
        return self.datasets[key]

    def run(self, job: Job, checked: Checked | Scan | Job) -> Serialized:
        dataset = query_dataset(job, checked)
        if self.backend == "rdflib":
            return self._run_rdflib(job, checked, dataset)
        import pyoxigraph as ox

        if dataset is None and self.union_is_public:
            # The whole store is exactly the public dataset (checked when it was opened, read-only since).
            query = lambda: self.store.query(job.query, base_iri=QUERY_BASE, use_default_graph_as_union=True)
        else:  # an explicit dataset: never a graph of the store that is not public
            default_graphs, named_graphs = (self.public_nodes, self.public_nodes) if dataset is None else (
                [ox.NamedNode(g) for g in dataset[0]], [ox.NamedNode(g) for g in dataset[1]])
            query = lambda: self.store.query(job.query, base_iri=QUERY_BASE, default_graph=default_graphs,
                                             named_graphs=named_graphs)
        result = query()
        if not isinstance(result, ox.QueryTriples):
            native = serialize_native(result, job.media_type, job.limits)  # Oxigraph's own writer when no cut is needed
            if native is not None:
                return native
            result = query()  # over a limit: again, row by row, to cut between rows
        if isinstance(result, ox.QueryBoolean):
            return serialize_boolean(bool(result), job.media_type)
        if isinstance(result, ox.QueryTriples):
            return serialize_triples(result, job.media_type, job.limits, oxigraph_document)
        variables = [v.value for v in result.variables]
        rows = ([None if solution[v] is None else to_rdflib(solution[v]) for v in variables] for solution in result)
        return serialize_solutions(variables, rows, job.media_type, job.limits)

    def _run_rdflib(self, job: Job, checked: Checked, dataset) -> Serialized:
        result = self._rdflib_dataset(dataset).query(checked.translated)
        if result.type == "ASK":
            return serialize_boolean(bool(result.askAnswer), job.media_type)
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            return serialize_triples(iter(result.graph), job.media_type, job.limits)
        variables = [str(v) for v in result.vars]
        rows: Any = ([row[v] for v in variables] for row in result)
        return serialize_solutions(variables, rows, job.media_type, job.limits)


_OXIGRAPH_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)


def _syntax(message: str, line: int | None, column: int | None) -> Failure:
    if line is None:
        return Failure("syntax", message)
    return Failure("syntax", f"{message} at line {line}, column {column}", {"line": line, "column": column})


UNKNOWN_FUNCTION = re.compile(r"custom function (<[^>]*>) is not supported")


def lexical_check(query: str) -> Scan:
    """The HTTP process's pre-check again, without its size limits (already applied there): the worker never
    trusts that its caller checked, and the tokens give the dataset the engine is handed."""
    return precheck(query, UNBOUNDED, UNBOUNDED, UNBOUNDED, UNBOUNDED)


# Any text that could spell SERVICE (keyword case and escapes aside) is lexed again here, whoever checked it.
_MAY_NAME_SERVICE = re.compile(r"service|\\", re.IGNORECASE)


def _scan(job: Job) -> Scan | Job:
    """The tokens' verdict: the HTTP process's when it sent one (lexing twice costs a short query a quarter of
    its worker time), but the worker's own whenever the text could name SERVICE at all."""
    if job.prechecked and not _MAY_NAME_SERVICE.search(job.query):
        return job
    return lexical_check(job.query)


def execute(engine: Engine, job: Job) -> Serialized | Verdict | Failure:
    """One query, start to finish, mapping every failure to a Failure the parent can report."""
    try:
        scanned = _scan(job)
        if job.check_only:
            return Verdict(scanned.from_default, scanned.from_named)
        if engine.backend == "rdflib":  # rdflib's own parse as well: its FROM/SERVICE handling must never run
            return engine.run(job, check_algebra(job.query))
        return engine.run(job, scanned)
    except Problem as exc:
        return Failure(exc.slug, exc.detail, dict(exc.extra))
    except SyntaxProblem as exc:
        return _syntax(str(exc), exc.line, exc.column)
    except Refused as exc:
        return Failure("refused", str(exc))
    except RecursionError:
        return Failure("too-complex", "The query is nested or chained too deeply to evaluate.")
    except MemoryError:
        return Failure("failed", "The query needed more memory than a worker may use.", {"limit": "memory"})
    except SyntaxError as exc:  # pyoxigraph's parser: "error at L:C: message"
        match = _OXIGRAPH_POSITION.match(str(exc))
        if not match:
            return Failure("syntax", str(exc))
        return _syntax(match.group(3), int(match.group(1)), int(match.group(2)))
    except Exception as exc:  # noqa: BLE001 - any engine failure is the query's: a 4xx, never a crash of the pool
        function = UNKNOWN_FUNCTION.search(str(exc))
        if function:
            return Failure("function", f"The function {function.group(1)} is not supported by this endpoint.",
                           {"function": function.group(1)[1:-1]})
        return Failure("evaluation", f"The engine could not evaluate the query: {type(exc).__name__}: "
                                     f"{str(exc)[:200]}")


def worker_main(connection: Any, source: str | bytes, backend: str, memory_mb: int | None,
                niceness: int = WORKER_NICENESS) -> None:
    """The loop of one worker process: receive a Job, send back Serialized or Failure."""
    harden_process(memory_mb, niceness, backend)
    engine = Engine(source, backend)
    connection.send("ready")
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        connection.send(execute(engine, job))
