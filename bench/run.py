"""The benchmark harness: throughput with wrk against the peers, then scale, in one run; tables and chart.

    python3 bench/run.py --sizes 10000,100000                  # the README's figures (11-15 min here, loaded)
    python3 bench/run.py --sizes 10000,100000,1000000 --remote-hop   # plus 1M and the remote hop
    python3 bench/run.py --sizes 10000 --duration 1 --rounds 1 --concurrency 16 --queries interventions_for_cause

Throughput (bench/throughput.py) runs on the real ontology: calibration apps (raw ASGI, bare FastAPI),
our /healthz and cached friendly answers, and distinct /sparql queries (a light label query and every
stored query of queries/) on ours, the Oxigraph server and rdflib-endpoint. Scale (bench/sizes.py) runs
at the real ontology and each size. Writes bench/results/<date>.json, .md and .png; prints the markdown.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report
import sizes
import targets
import throughput
import wrk
from common import (
    RESULTS_DIR,
    code_version,
    compile_bytecode,
    machine_notes,
    stamp,
    write_nquads,
)


def ints(text: str) -> tuple[int, ...]:
    return tuple(int(float(part)) for part in text.split(",") if part.strip())


def names(text: str) -> tuple[str, ...] | None:
    return None if text == "all" else tuple(part.strip() for part in text.split(",") if part.strip())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=ints, default=(10_000, 100_000),
                        help="generated triples per scale step, comma-separated (the real ontology is always measured)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=2, help="seconds per wrk run (whole seconds)")
    parser.add_argument("--query-duration", type=int, default=1,
                        help="seconds per wrk run for the stored queries not in --sweep")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every throughput cell; medians reported")
    parser.add_argument("--concurrency", type=ints, default=(1, 16, 64), help="wrk connections for the swept paths")
    parser.add_argument("--query-concurrency", type=ints, default=(16,),
                        help="wrk connections for the stored queries not in --sweep")
    parser.add_argument("--queries", type=names, default=None, help="stored queries to measure, comma-separated, or all")
    parser.add_argument("--sweep", type=names, default=("interventions_for_cause",),
                        help="stored queries measured at every --concurrency (the light query always is)")
    parser.add_argument("--friendly", type=names, default=tuple(throughput.FRIENDLY),
                        help="cached friendly paths of ours, comma-separated")
    parser.add_argument("--remote-hop", action="store_true", help="at the largest size, ours --backend remote vs "
                                                                  "the Oxigraph server directly")
    parser.add_argument("--render", type=Path, help="only rewrite the .md and .png of this results .json")
    parser.add_argument("--readme", action="store_true", help="with --render: print the README's summary instead")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-workers", action="store_true", help="skip ours with 1 vs 2 SPARQL workers")
    parser.add_argument("--no-restart", action="store_true", help="skip the restart on unchanged data")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--start-timeout", type=float, default=1800, help="seconds any server may take to be ready")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    parser.add_argument("--service-root", type=Path, default=None,
                        help="run ours from this checkout instead of this one (e.g. a `git archive` of a branch)")
    args = parser.parse_args(argv)
    if not (1 <= args.duration <= 600 and 1 <= args.query_duration <= 600 and 1 <= args.rounds <= 20):
        parser.error("--duration and --query-duration 1..600, --rounds 1..20")
    if not all(1 <= c <= 1024 for c in (*args.concurrency, *args.query_concurrency)):
        parser.error("concurrency 1..1024")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_throughput(tmp: Path, args: argparse.Namespace) -> tuple[dict, dict]:
    """Every target started once, on the same data, measured in the same rounds. Also returns the scale
    table's row for the real ontology, taken from these servers after the throughput load."""
    servers: dict[str, targets.Started] = {}
    nquads = write_nquads(tmp)
    try:
        store = tmp / "store-ontology"
        servers[throughput.OURS] = targets.start_ours(tmp, store_dir=store)
        servers[throughput.OXIGRAPH] = targets.start_oxigraph(tmp, [nquads])
        servers[throughput.RDFLIB_EP] = targets.start_rdflib_endpoint(tmp, [nquads])
        servers[throughput.RAW] = targets.start_asgi(tmp, "raw", "raw-asgi")
        servers[throughput.BARE] = targets.start_asgi(tmp, "bare_fastapi", "bare-fastapi")
        log("throughput: " + ", ".join(f"{n} ready in {s.ready_s:.2f} s" for n, s in servers.items()))
        works = throughput.workloads(servers, throughput.stored_queries(args.queries), args.friendly or ())
        config = throughput.Config(concurrency=args.concurrency, query_concurrency=args.query_concurrency,
                                   sweep=("light: labels LIMIT 10", *(args.sweep or ())),
                                   duration_s=args.duration, query_duration_s=args.query_duration,
                                   rounds=args.rounds)
        measured = throughput.measure(servers, works, config, log=log)
        row = {"size": 0, "after": "the throughput run",
               "oxigraph": sizes.oxigraph_facts(servers[throughput.OXIGRAPH], args.duration, light=False),
               "ours": sizes.ours_facts(servers[throughput.OURS], args.duration, light=False)}
    finally:
        for server in servers.values():
            targets.stop(server)
    if not args.no_restart:
        row["ours"].update(sizes.restarts(tmp, [], args.start_timeout, store))
    row["rdflib"] = sizes.rdflib_parse([nquads], args.start_timeout)
    sizes.log_row(row, log)
    return measured, row


def run_workers(tmp: Path, args: argparse.Namespace) -> dict:
    """Ours with --workers 1, --workers 2 and --processes 2 (two workers each), and the Oxigraph server, all up,
    measured in the same interleaved rounds."""
    servers: dict[str, targets.Started] = {}
    try:
        for n in (1, 2):
            servers[f"ours --workers {n}"] = targets.start_ours(tmp, extra=["--workers", str(n)], name=f"ours-w{n}")
        servers["ours --processes 2"] = targets.start_ours(tmp, extra=["--workers", "2", "--processes", "2"],
                                                           name="ours-p2")
        servers[throughput.OXIGRAPH] = targets.start_oxigraph(tmp, [write_nquads(tmp)], name="oxigraph-workers")
        config = throughput.Config(concurrency=(16,), sweep=(), query_concurrency=(16,),
                                   duration_s=args.duration, query_duration_s=args.duration, rounds=args.rounds)
        return throughput.measure_workers(servers, throughput.stored_queries(
            ["recommendations", "interventions_for_cause", "causes_of_symptom"]), config, log=log)
    finally:
        for server in servers.values():
            targets.stop(server)


def run_scale(tmp: Path, args: argparse.Namespace, rows: list[dict]) -> list[dict]:
    """Each size in turn; the real ontology too unless the throughput run already gave its row."""
    nquads = write_nquads(tmp)
    can_data = sizes.ours_takes_data()
    steps = [*([0] if not rows else []), *sorted(s for s in args.sizes if s > 0)]
    for size in steps:
        log(f"scale: {size:,} generated triples" if size else "scale: the real ontology")
        rows.append(sizes.measure_size(tmp, size, args.seed, nquads, duration_s=args.duration, can_data=can_data,
                                       with_remote_hop=args.remote_hop and size == steps[-1] and size > 0,
                                       start_timeout_s=args.start_timeout, log=log, restart=not args.no_restart))
    return rows


def write_outputs(result: dict, base: Path) -> str:
    text = report.markdown(result)
    base.with_suffix(".md").write_text(text)
    report.chart(result, base.with_suffix(".png"))
    return text


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render is not None:
        result = json.loads(args.render.read_text())
        if args.readme:
            print(report.readme_summary(result, f"bench/results/{args.render.with_suffix('.png').name}"))
        else:
            print(write_outputs(result, args.render.with_suffix("")))
        return 0
    if not wrk.available():
        print("wrk is not installed: apt-get install -y wrk (see .ci/run)", file=sys.stderr)
        return 2
    started = time.monotonic()
    if args.service_root is not None:
        targets.service_root = args.service_root.resolve()
    compile_bytecode(targets.service_root)
    result: dict = {"kind": "bench", "date": stamp(), "machine": machine_notes(),
                    "command": "python3 bench/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)}
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
        tmp_dir = Path(tmp)
        rows: list[dict] = []
        if not args.skip_throughput:
            result["throughput"], ontology_row = run_throughput(tmp_dir, args)
            rows.append(ontology_row)
            if not args.skip_workers:
                result["workers"] = run_workers(tmp_dir, args)
        result["scale"] = rows if args.skip_scale else run_scale(tmp_dir, args, rows)
    if args.service_root is not None:
        result["machine"]["service_root"] = {"path": str(targets.service_root),
                                             "code": code_version(targets.service_root)}
    result["wall_s"] = round(time.monotonic() - started, 1)
    args.output.mkdir(parents=True, exist_ok=True)
    base = args.output / result["date"]
    base.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(write_outputs(result, base))
    log(f"wrote {base}.json, .md and .png in {result['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
