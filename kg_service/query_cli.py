"""`kg-service query`: one SPARQL query against the ontology, printed as a table, JSON, CSV, TSV or Turtle.

The query passes the same pre-checks and algebra checks as on /sparql and is answered by the same engine
code and result writers, in this process (the user's own machine: no worker pool, no deadline; Ctrl-C stops
it). Exit status: 0 answered, 1 the query was refused or failed, 2 the command line was wrong.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import rdflib.plugins.sparql as rdflib_sparql

from kg_service.errors import Problem
from kg_service.graph import LoadedGraph, load_graph
from kg_service.settings import Settings
from kg_service.sparql import results as fmt
from kg_service.sparql.prechecks import precheck
from kg_service.sparql.worker import Failure, Job

SOLUTION_FORMATS = {"json": fmt.JSON_RESULTS, "csv": fmt.CSV, "tsv": fmt.TSV, "table": fmt.JSON_RESULTS}
GRAPH_FORMATS = {"ttl": fmt.TURTLE, "json": fmt.JSONLD, "table": fmt.NTRIPLES}
PREFIXES = {**fmt.JSONLD_CONTEXT, "oboInOwl": "http://www.geneontology.org/formats/oboInOwl#"}
MAX_CELL = 80


def read_query_argument(argument: str) -> str:
    """The query text itself, or the contents of `@file.rq` (`-` or `@-` reads standard input)."""
    if argument in ("-", "@-"):
        return sys.stdin.read()
    if argument.startswith("@"):
        return Path(argument[1:]).read_text(encoding="utf-8")
    return argument


def compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and iri[len(namespace):].replace("-", "").replace("_", "").isalnum():
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"


def _cell(value: dict | None) -> str:
    if value is None:
        return ""
    if value["type"] == "uri":
        text = compact(value["value"])
    elif value["type"] == "bnode":
        text = f"_:{value['value']}"
    else:
        text = value["value"].replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def render_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    return "\n".join(out) + f"\n({len(rows)} row{'s' if len(rows) != 1 else ''})\n"


def _solutions_table(body: bytes) -> str:
    data = json.loads(body)
    if "boolean" in data:
        return ("true" if data["boolean"] else "false") + "\n"
    variables = data["head"]["vars"]
    rows = [[_cell(b.get(v)) for v in variables] for b in data["results"]["bindings"]]
    return render_table(variables, rows)


def _triples_table(body: bytes) -> str:
    from rdflib import Graph

    graph = Graph().parse(data=body, format="nt")
    term = lambda t: compact(str(t)) if t.__class__.__name__ == "URIRef" else str(t)
    rows = sorted([term(s), term(p), term(o)[:MAX_CELL]] for s, p, o in graph)
    return render_table(["subject", "predicate", "object"], rows)


def _runner(settings: Settings, loaded: LoadedGraph | None):
    """What answers the query: the configured engine in this process, or the remote endpoint."""
    if settings.backend == "remote":
        from kg_service.sparql.executor import RemoteRunner

        runner = RemoteRunner(settings)
        return lambda job: runner.run(job, settings.query_timeout_s)
    from kg_service.sparql.worker import Engine, execute

    rdflib_sparql.SPARQL_LOAD_GRAPHS = False  # as in the workers: FROM never reads a file or a URL
    loaded = loaded or load_graph(settings.ontology_dir, settings.data_files)
    engine = Engine(str(loaded.store_path) if loaded.store_path else loaded.nquads(), settings.backend)

    def run(job: Job):
        from kg_service.sparql.executor import failure_to_problem

        result = execute(engine, job)
        if isinstance(result, Failure):
            raise failure_to_problem(result)
        return result

    return run


def run_query(settings: Settings, sparql: str, output_format: str, out: TextIO,
              loaded: LoadedGraph | None = None) -> int:
    """Answer one query and write it to `out`; problems go to stderr. Returns the exit status.

    `loaded` saves reading `ontology/` again when the caller already has the graph."""
    try:
        text = read_query_argument(sparql)
    except (OSError, UnicodeError) as exc:
        print(f"error: cannot read the query: {exc}", file=sys.stderr)
        return 2
    try:
        scanned = precheck(text, settings.max_query_chars, settings.max_nesting_depth)
        formats = SOLUTION_FORMATS if scanned.form in ("select", "ask") else GRAPH_FORMATS
        if output_format not in formats:
            print(f"error: the result of this {scanned.form.upper()} query prints as {', '.join(formats)}, "
                  f"not {output_format}",
                  file=sys.stderr)
            return 2
        job = Job(query=text, media_type=formats[output_format],
                  limits=fmt.Limits(rows=settings.max_result_rows, bytes=settings.max_result_bytes))
        result = _runner(settings, loaded)(job)
    except Problem as problem:
        print(f"error: {problem.title}: {problem.detail}", file=sys.stderr)
        if problem.hint:
            print(f"hint: {problem.hint}", file=sys.stderr)
        return 1
    if output_format == "table":
        out.write(_solutions_table(result.body) if formats is SOLUTION_FORMATS else _triples_table(result.body))
    else:
        out.write(result.body.decode("utf-8"))
    if result.truncated:
        print(f"warning: result truncated at {result.truncated}; add LIMIT/OFFSET to page", file=sys.stderr)
    return 0
