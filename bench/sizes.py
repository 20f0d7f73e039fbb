"""Sizes: at each size, time to ready, restart, peak RSS and /api/search latency, ours against the peers.

Per size N (seeded graphs from bench/generate.py in the ontology's own shape; N=0 is the real ontology alone):
- ours: `kg-service serve --data FILE`, process start -> /readyz 200; then a restart on the unchanged data;
- the Oxigraph CLI: `oxigraph load` of the same triples (the ontology's asserted + inferred graphs as
  N-Quads plus the generated file), then `serve-read-only` until it answers;
- rdflib: the parse of the same files into a Dataset, in a fresh process;
- peak RSS (Linux VmHWM, summed over the process tree: the HTTP process and its SPARQL workers) after the
  same light-query load on ours and on the Oxigraph server;
- /api/search p50 at concurrency 1, each request a cache miss (a throw-away parameter);
- at the largest size, optionally, the remote hop: ours with `--backend remote` in front of that Oxigraph
  server against the Oxigraph server directly, on the same distinct /sparql queries.
Servers run one at a time, so a timing never competes with another target's work.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import targets
import wrk
from common import RESTARTS, ROOT
from throughput import (
    JSON_RESULTS,
    LIGHT_QUERY,
    OXIGRAPH,
    Ask,
    Config,
    Workload,
    measure,
    sequential,
    sparql_ask,
    stored_queries,
)

from kg_service.graph import ASSERTED_GRAPH

GENERATOR = ROOT / "bench" / "generate.py"
REMOTE = "ours --backend remote"
# The hop on a light query, two quick stored queries and a heavy one (the engine's time dominates it).
HOP_QUERIES = ["entity", "interventions", "interventions_for_cause"]
_RDFLIB_PARSE = """
import sys, time
from rdflib import Dataset
started = time.perf_counter()
dataset = Dataset(default_union=True)
for path in sys.argv[1:]:
    dataset.parse(path, format="nquads" if path.endswith(".nq") else "nt")
seconds = time.perf_counter() - started
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(seconds, len(dataset), int(peak) / 1024)
"""


def generator_available() -> bool:
    return GENERATOR.is_file()


def ours_takes_data() -> bool:
    """Whether this checkout's `kg-service serve` has `--data FILE` (extra RDF beside ontology/)."""
    out = subprocess.run([sys.executable, "-m", "kg_service.cli", "serve", "--help"], cwd=targets.service_root,
                         capture_output=True, text=True, check=False).stdout
    return "--data" in out


def generate(triples: int, seed: int, out: Path) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, str(GENERATOR), "--triples", str(triples), "--seed", str(seed), "-o", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=1800)
    return round(time.monotonic() - started, 2)


def peak_rss_mb(pid: int) -> float:
    """Sum of VmHWM (each process's own peak RSS) over the tree: an upper bound of the tree's peak."""
    total_kb = 0
    for proc in targets.tree(pid):
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return round(total_kb / 1024, 1)


def rdflib_parse(files: list[Path], timeout_s: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", _RDFLIB_PARSE, *map(str, files)], capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr[-300:]}
    seconds, count, peak = proc.stdout.split()
    return {"parse_s": round(float(seconds), 2), "triples": int(count), "peak_rss_mb": round(float(peak), 1)}


def readyz(server: targets.Started) -> dict[str, Any]:
    return httpx.get(server.base + "/readyz", timeout=30).json()


def _light(server: targets.Started, duration_s: float, connections: int = 16) -> dict[str, Any]:
    ask = sparql_ask(server.sparql_path, LIGHT_QUERY, JSON_RESULTS)
    result = wrk.run(server.base + ask.path, connections, duration_s, headers=ask.headers, distinct=ask.distinct)
    targets.settle(server.pid)
    return result.as_dict()


def search_p50(server: targets.Started, duration_s: float, term: str = "synov") -> dict[str, Any]:
    """/api/search?q=term at concurrency 1, each request a miss of the answer cache (nocache=<n>): the first
    answer timed on its own (it may wait for the index), then wrk; one request after another where no
    answer finishes within a wrk run."""
    before = f"/api/search?q={quote(term)}&nocache="
    started = time.perf_counter()
    first = httpx.get(server.base + before + "first", timeout=600)
    out: dict[str, Any] = {"term": term, "first_status": first.status_code,
                           "first_ms": round((time.perf_counter() - started) * 1000, 1)}
    result = wrk.run(server.base + before + "0", 1, duration_s, threads=1, distinct=(before, ""))
    if result.ok:
        return {**out, **result.as_dict(), "mode": "wrk"}
    ask = Ask(before + "0", distinct=(before, ""))
    with httpx.Client() as client:
        return {**out, **sequential(client, server.base, ask, duration_s, 600)}


def remote_hop(tmp: Path, oxigraph: targets.Started, duration_s: float, log: Callable[[str], None]) -> dict[str, Any]:
    """Ours with --backend remote in front of the Oxigraph server vs that server directly: the same distinct
    /sparql queries, probed, then wrk at c1 and c16 (sequentially where one answer outlasts a run)."""
    ours = targets.start_ours(tmp, extra=["--backend", "remote", "--endpoint", oxigraph.sparql_url],
                              name="ours-remote")
    out: dict[str, Any] = {"ours_remote_ready_s": round(ours.ready_s, 2), "queries": {}}
    ours.extra["also_settle"] = [oxigraph.pid]  # the engine may still run a query ours gave up on
    try:
        servers = {REMOTE: ours, OXIGRAPH: oxigraph}
        works = [Workload(name, "sparql", {t: sparql_ask(s.sparql_path, text, JSON_RESULTS)
                                           for t, s in servers.items()})
                 for name, text in [("light: labels LIMIT 10", LIGHT_QUERY),
                                    *[(n, q) for n, q, _ in stored_queries(HOP_QUERIES)]]]
        config = Config(concurrency=(1, 16), sweep=tuple(w.name.removeprefix("/sparql ") for w in works),
                        duration_s=duration_s, rounds=1)
        measured = measure(servers, works, config, log=log)
        for cell in measured["cells"]:
            row = out["queries"].setdefault(cell["workload"].removeprefix("/sparql "), {})
            row[f"{cell['target']} c{cell['concurrency']}"] = {
                k: cell.get(k) for k in ("rps", "p50_ms", "mode", "rows", "errors", "probe_status", "probe_ms",
                                         "error")}
        for row in out["queries"].values():
            ours_c1, direct_c1 = row.get(f"{REMOTE} c1", {}), row.get(f"{OXIGRAPH} c1", {})
            if ours_c1.get("p50_ms") is not None and direct_c1.get("p50_ms") is not None:
                row["hop_cost_p50_ms_c1"] = round(ours_c1["p50_ms"] - direct_c1["p50_ms"], 3)
        out["ours_remote_peak_rss_mb"] = peak_rss_mb(ours.pid)
    finally:
        targets.stop(ours)
    return out


def oxigraph_facts(oxigraph: targets.Started, duration_s: float, light: bool = True) -> dict[str, Any]:
    """Load and serve times, and peak RSS after a light-query load (or after whatever load it already had)."""
    facts = {"load_s": oxigraph.load_s, "serve_ready_s": round(oxigraph.ready_s, 3),
             "ready_s": round(oxigraph.load_s + oxigraph.ready_s, 3)}
    if light:
        facts["light_c16"] = _light(oxigraph, duration_s)
    facts["peak_rss_mb"] = peak_rss_mb(oxigraph.pid)
    return facts


def ours_facts(ours: targets.Started, duration_s: float, light: bool = True) -> dict[str, Any]:
    """Time to ready, what /readyz says it serves, /api/search p50 and peak RSS after the same load."""
    info = readyz(ours)
    facts: dict[str, Any] = {"ready_s": round(ours.ready_s, 3), "triples": info.get("triples"),
                             "asserted_triples": info.get("asserted_triples"),
                             "inferred_triples": info.get("inferred_triples")}
    facts["search"] = search_p50(ours, duration_s)
    targets.settle(ours.pid)
    if light:
        facts["light_c16"] = _light(ours, duration_s)
    facts["peak_rss_mb"] = peak_rss_mb(ours.pid)
    return facts


def restarts(tmp: Path, data: list[Path], start_timeout_s: float, store_dir: Path) -> dict[str, Any]:
    """Starts on unchanged data and the same store, what a persisted store and closure make fast: their median
    (`restart_ready_s`) and each one."""
    runs = []
    for _ in range(RESTARTS):
        restarted = targets.start_ours(tmp, data, timeout_s=start_timeout_s, name="ours-restart",
                                       store_dir=store_dir)
        targets.stop(restarted)
        runs.append(round(restarted.ready_s, 3))
    return {"restart_ready_s": statistics.median(runs), "restart_runs_s": runs}


def log_row(row: dict[str, Any], log: Callable[[str], None]) -> None:
    size, ox, ours = row["size"], row.get("oxigraph", {}), row.get("ours", {})
    log(f"  size {size}: Oxigraph CLI load {ox.get('load_s')} s + serve {ox.get('serve_ready_s')} s, "
        f"peak RSS {ox.get('peak_rss_mb')} MB; rdflib {row.get('rdflib')}")
    if "ready_s" in ours:
        log(f"  size {size}: ours ready {ours['ready_s']} s ({ours['triples']} triples), restart "
            f"{ours.get('restart_ready_s')} s, search p50 {ours['search']['p50_ms']} ms, "
            f"peak RSS {ours['peak_rss_mb']} MB")


def measure_size(tmp: Path, size: int, seed: int, ontology_nq: Path, *, duration_s: float, can_data: bool,
                 with_remote_hop: bool, start_timeout_s: float, log: Callable[[str], None],
                 restart: bool = True) -> dict[str, Any]:
    """Everything the scale table shows for one size (0: the real ontology alone)."""
    row: dict[str, Any] = {"size": size, "seed": seed}
    data: list[Path] = []
    if size:
        if not generator_available():
            return {**row, "skipped": "bench/generate.py is not in this checkout"}
        out = tmp / f"kg-{size}.nt"
        row["generate_s"] = generate(size, seed, out)
        data = [out]
    peer_files = [ontology_nq, *data]

    oxigraph = targets.start_oxigraph(tmp, peer_files, timeout_s=start_timeout_s, triples_graph=str(ASSERTED_GRAPH))
    try:
        row["oxigraph"] = oxigraph_facts(oxigraph, duration_s)
        if size and not can_data:
            row["ours"] = {"skipped": "kg-service serve has no --data in this checkout"}
        else:
            store = tmp / f"store-{size}"
            ours = targets.start_ours(tmp, data, timeout_s=start_timeout_s, store_dir=store)
            try:
                row["ours"] = ours_facts(ours, duration_s)
            finally:
                targets.stop(ours)
            if restart:
                row["ours"].update(restarts(tmp, data, start_timeout_s, store))
        if with_remote_hop:
            row["remote_hop"] = remote_hop(tmp, oxigraph, duration_s, log)
    finally:
        targets.stop(oxigraph)
    row["rdflib"] = rdflib_parse(peer_files, start_timeout_s)
    log_row(row, log)
    return row
