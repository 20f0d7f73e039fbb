"""kg-service: serve, query, ask, validate, export. Thin: every command calls the same code the tests use."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: every SPARQL worker runs this module again as its __main__ (forkserver)
    from kg_service.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    from kg_service.settings import Settings

    overrides = {}
    for key in ("ontology_dir", "backend", "endpoint", "query_timeout_s", "worker_count", "data_files", "store_dir"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return Settings(**overrides)


def _add_graph_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ontology", dest="ontology_dir", type=Path, help="ontology directory (default: bundled)")
    parser.add_argument("--backend", choices=["oxigraph", "rdflib", "remote"], help="store (default: oxigraph)")
    parser.add_argument("--endpoint", help="SPARQL endpoint URL for --backend remote")


SETTING_ENV = {"ontology_dir": "KG_ONTOLOGY_DIR", "backend": "KG_BACKEND", "endpoint": "KG_ENDPOINT",
               "query_timeout_s": "KG_QUERY_TIMEOUT_S", "worker_count": "KG_WORKER_COUNT", "store_dir": "KG_STORE_DIR",
               "data_files": "KG_DATA_FILES"}


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s")
    if args.server == "uvicorn" and args.processes == 1:
        from kg_service.sparql.forkserver import warm_up_workers

        warm_up_workers(args.backend)  # its imports on one core while the app's are read on the other
        import uvicorn

        from kg_service.app import create_app

        app = create_app(_settings(args))
        # Access logs are structured JSON from the app itself (kg_service.access), so uvicorn's are off; no route
        # is a WebSocket, so uvicorn loads no WebSocket implementation; a response's head and body go out in one
        # write (kg_service/http_protocol.py).
        from kg_service.http_protocol import CoalescingHttpToolsProtocol

        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False, ws="none",
                    http=CoalescingHttpToolsProtocol)
        return 0
    # Several processes (or granian): each process builds its own app from the same settings, passed through
    # the environment; each loads the graph and runs its own SPARQL workers. A reload (SIGHUP or /admin/reload)
    # reaches one process, which announces it beside the store; the others follow within a second.
    for key, env in SETTING_ENV.items():
        value = getattr(args, key, None)
        if value is not None:  # a list setting travels as JSON, the form pydantic-settings reads
            os.environ[env] = json.dumps([str(v) for v in value]) if isinstance(value, list) else str(value)
    if args.processes > 1:  # a reload received by one process is followed by the others (reload.follow_reloads)
        os.environ.setdefault("KG_FOLLOW_RELOADS_S", "1")
    if args.server == "granian":
        from granian import Granian

        Granian("kg_service.app:create_app", factory=True, interface="asgi", address=args.host, port=args.port,
                workers=args.processes, log_level=args.log_level, log_access=False).serve()
        return 0
    import uvicorn

    from kg_service.http_protocol import CoalescingHttpToolsProtocol

    uvicorn.run("kg_service.app:create_app", factory=True, host=args.host, port=args.port, workers=args.processes,
                log_level=args.log_level, access_log=False, ws="none", http=CoalescingHttpToolsProtocol)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from kg_service.query_cli import run_query

    return run_query(_settings(args), args.sparql, args.format, sys.stdout)


def cmd_ask(args: argparse.Namespace) -> int:
    from kg_service.ask.console import run_ask

    return run_ask(_settings(args), args.question, args.json, sys.stdout)


def cmd_validate(args: argparse.Namespace) -> int:
    from kg_service.validation import validate_ontology

    report = validate_ontology(_settings(args), reasoner=not args.no_reasoner)
    print(report.render())
    return 0 if report.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    if args.format == "nq":
        # Both public graphs (asserted + inferred) as N-Quads: what a remote store needs to serve the API.
        from kg_service.graph import load_graph

        data = load_graph(_settings(args).ontology_dir).nquads()
    else:
        from kg_service.export import export_ontology

        data = export_ontology(_settings(args).ontology_dir, args.format)
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kg-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the HTTP service")
    _add_graph_options(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--timeout", dest="query_timeout_s", type=float, help="deadline per SPARQL query (s)")
    serve.add_argument("--workers", dest="worker_count", type=int, help="SPARQL worker processes")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--data", dest="data_files", nargs="+", type=Path, metavar="FILE",
                       help="extra RDF (.nt, .nq, .ttl) loaded into the asserted graph, inferred over and versioned")
    serve.add_argument("--store-dir", dest="store_dir", type=Path,
                       help="where the on-disk store is kept by version (default: ~/.cache/kg-service/store)")
    serve.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn",
                       help="HTTP server (granian: Rust, faster per request; needs pip install granian)")
    serve.add_argument("--processes", type=int, default=1,
                       help="HTTP server processes; each loads the graph and runs its own SPARQL workers")
    serve.set_defaults(func=cmd_serve)

    query = sub.add_parser("query", help="run one SPARQL query against the ontology and print the result")
    _add_graph_options(query)
    query.add_argument("sparql", help="the query text, or @file.rq")
    query.add_argument("--format", default="table", choices=["table", "json", "csv", "tsv", "ttl"])
    query.set_defaults(func=cmd_query)

    ask = sub.add_parser("ask", help="answer a plain-English question from the stored queries, with evidence "
                                     "(exit 0 answered, 1 declined, 2 no question)")
    _add_graph_options(ask)
    ask.add_argument("question", help='e.g. "What helps knee synovitis at night?"')
    ask.add_argument("--json", action="store_true", help="print the same JSON as GET /api/ask")
    ask.set_defaults(func=cmd_ask)

    validate = sub.add_parser("validate", help="check the ontology: syntax, labels, SHACL, HermiT, OWL API")
    validate.add_argument("--ontology", dest="ontology_dir", type=Path)
    validate.add_argument("--no-reasoner", action="store_true", help="skip HermiT and the OWL API (no Java)")
    validate.set_defaults(func=cmd_validate)

    export = sub.add_parser("export", help="write the merged ontology (schema + knowledge) in one file; "
                                           "nq: the asserted and inferred graphs as N-Quads for a remote store")
    export.add_argument("--ontology", dest="ontology_dir", type=Path)
    from kg_service.export import SERIALIZERS  # every command loads rdflib anyway

    export.add_argument("--format", default="ttl", choices=[*sorted(SERIALIZERS), "nq"])
    export.add_argument("--output", "-o", help="file to write (default: stdout)")
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    from kg_service.graph import OntologyLoadError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except OntologyLoadError as problem:  # one line a user can act on, not a traceback
        print(f"kg-service: cannot load the ontology: {problem}; point at a directory holding ks-schema.ttl, "
              "ks-knowledge.ttl and sources/ with --ontology DIR (or KG_ONTOLOGY_DIR)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
