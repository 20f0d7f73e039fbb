"""Stored queries at scale: each query of `queries/` timed in-process on a generated graph, optionally beside
another version of the same queries (rows compared), so a rewrite shows what it changed and that it kept
every row.

    python3 bench/queries.py --triples 100000
    git archive a8dd886 queries | tar -x -C /tmp/before          # the queries of an earlier commit
    python3 bench/queries.py --triples 100000 --compare /tmp/before/queries

Per query: its required parameters bound to their examples (as `/api/queries/{name}` does), the public
dataset named as the service names it, the median of three runs of evaluation plus reading every row, and a
hash of the sorted rows. Each query runs in a child process with a time limit, so one runaway query costs
its limit, not the run. Results: `bench/results/queries-<date>.md` / `.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyoxigraph as ox  # noqa: E402  (imported before the children fork: each starts in milliseconds)
from generate import main as generate  # noqa: E402

from kg_service.backends.terms import to_oxigraph  # noqa: E402
from kg_service.catalog import Catalog  # noqa: E402
from kg_service.graph import PUBLIC_GRAPHS, load_graph  # noqa: E402

RUNS = 3


def _time_one(queries_dir: str, name: str, data: list[str], store_dir: str, out: mp.Queue) -> None:
    loaded = load_graph(ROOT / "ontology", [Path(p) for p in data], store_dir=Path(store_dir))
    query = Catalog.load(Path(queries_dir))[name]
    examples = {p.name: p.example for p in query.params if p.required and p.example is not None}
    substitutions = {ox.Variable(k): to_oxigraph(v) for k, v in query.bind(examples).items()}
    graphs = [ox.NamedNode(str(g)) for g in PUBLIC_GRAPHS]
    seconds, rows = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = loaded.store.query(query.text, default_graph=graphs, named_graphs=graphs, substitutions=substitutions)
        if isinstance(result, ox.QuerySolutions):
            variables = result.variables
            rows = sorted(str([solution[v] for v in variables]) for solution in result)
        elif isinstance(result, ox.QueryBoolean):
            rows = [str(bool(result))]
        else:  # CONSTRUCT: a graph is a set (an engine may repeat a triple); the data's blank nodes keep their ids
            rows = sorted({str(t) for t in result})
        seconds.append(time.perf_counter() - started)
    digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:12]
    out.put({"ms": round(statistics.median(seconds) * 1000, 2), "rows": len(rows), "digest": digest})


def time_queries(queries_dir: Path, data: list[Path], store_dir: Path, limit_s: float) -> dict[str, dict]:
    results = {}
    for name in sorted(p.stem for p in queries_dir.glob("*.rq")):
        out: mp.Queue = mp.Queue()
        child = mp.Process(target=_time_one, args=(str(queries_dir), name, [str(p) for p in data], str(store_dir), out))
        child.start()
        child.join(limit_s)
        if child.is_alive():
            child.kill()
            results[name] = {"ms": None, "rows": None, "digest": f"over {limit_s:g} s"}
        else:
            results[name] = out.get() if not out.empty() else {"ms": None, "rows": None, "digest": "failed"}
        print(name, results[name], flush=True)
    return results


def markdown(triples: int, ours: dict, other: dict | None, other_label: str) -> str:
    lines = [f"Stored queries in-process on the ontology plus {triples:,} generated triples, {dt.date.today()} "
             f"(median of {RUNS}, ms).", ""]
    if other is None:
        lines += ["| query | ms | rows |", "|---|---:|---:|"]
        lines += [f"| {n} | {r['ms']} | {r['rows']} |" for n, r in ours.items()]
    else:
        lines += [f"| query | {other_label} ms | queries/ ms | ratio | rows | same rows |", "|---|---:|---:|---:|---:|---|"]
        for name, r in ours.items():
            o = other.get(name, {})
            ratio = f"{o['ms'] / r['ms']:.1f}x" if o.get("ms") and r.get("ms") else "-"
            same = "yes" if o.get("digest") == r["digest"] else "NO"
            lines.append(f"| {name} | {o.get('ms')} | {r['ms']} | {ratio} | {r['rows']} | {same} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=Path, default=ROOT / "queries")
    parser.add_argument("--compare", type=Path, help="another queries/ directory, timed the same way")
    parser.add_argument("--limit-s", type=float, default=120.0, help="time limit of one query's child process")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kg-queries-") as work:
        data = [Path(work) / f"generated-{args.triples}.nt"] if args.triples else []
        if data:
            generate(["--triples", str(args.triples), "--seed", str(args.seed), "-o", str(data[0])])
        store = Path(work) / "store"
        load_graph(ROOT / "ontology", data, store_dir=store)  # built once, here; each child opens it
        ours = time_queries(args.queries, data, store, args.limit_s)
        other = time_queries(args.compare, data, store, args.limit_s) if args.compare else None
    label = str(args.compare) if args.compare else ""
    text = markdown(args.triples, ours, other, label)
    stamp = dt.datetime.now().strftime("%Y-%m-%dT%H%M")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"queries-{stamp}.md").write_text(text)
    (args.out / f"queries-{stamp}.json").write_text(json.dumps({"triples": args.triples, "queries": ours,
                                                                "compare": other, "compare_dir": label}, indent=1))
    print(text)
    return 0 if all(r["ms"] is not None for r in ours.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
