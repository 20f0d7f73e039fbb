"""Side by side, in one run: our service (friendly REST endpoints, stored-query runner and /sparql), the
Oxigraph server and rdflib-endpoint, all on the same N-Quads, all on 127.0.0.1, the same queries.

For latency under a realistic mix and for checking that every engine returns the same rows. Its req/s are
bounded by this Python client (about 1.5-1.9k req/s here): throughput and its ratios come from
bench/run.py, which drives every target with wrk.

    python bench/compare.py                               # 400 requests per query and target, 8 clients
    python bench/compare.py --requests 1000 --concurrency 16 --only interventions_for_cause

For each query and target: the first request (cold), a warm-up, then a fixed number of requests from C
concurrent keep-alive clients; req/s (successful answers only), p50, p99, and ratios against our service.
Writes bench/results/compare-<date>.json and .md and prints the markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    RESULTS_DIR,
    bound_query,
    catalog,
    label_search_query,
    latency_summary,
    machine_notes,
    stamp,
    start_kg_service,
    start_oxigraph,
    start_rdflib_endpoint,
    stop_kg_service,
    stop_process,
)
from load import code_label

JSON_RESULTS = "application/sparql-results+json"

# Targets, in report order. "ours REST" answers from the version-keyed cache of pre-serialized bodies once
# warm; "ours REST, no cache" adds a throw-away parameter so every request misses that cache and computes.
# /sparql caches results by query text too; "ours /sparql, cache miss" appends a unique comment to the query, so
# every request is parsed, checked and run by a worker process: the path comparable with the peers' engines.
OURS_REST, OURS_REST_MISS, OURS_STORED = "ours REST", "ours REST, cache miss", "ours stored query"
OURS_SPARQL, OURS_SPARQL_MISS = "ours /sparql", "ours /sparql, cache miss"
OXIGRAPH, RDFLIB_ENDPOINT = "Oxigraph server", "rdflib-endpoint"
TARGETS = [OURS_REST, OURS_REST_MISS, OURS_STORED, OURS_SPARQL, OURS_SPARQL_MISS, OXIGRAPH, RDFLIB_ENDPOINT]
PEERS = [OXIGRAPH, RDFLIB_ENDPOINT]


@dataclass
class Workload:
    """One question, asked of every target in the form that target understands."""

    name: str
    sparql: str
    construct: bool = False
    rest: tuple[str, dict[str, str]] | None = None   # our friendly endpoint (path, params)
    rest_note: str = ""
    stored: tuple[str, dict[str, str]] | None = None  # /api/queries/{name}?params

    @property
    def accept(self) -> str:
        return "text/turtle" if self.construct else JSON_RESULTS


def workloads() -> list[Workload]:
    """Our stored queries with the catalog's example parameters, bound as VALUES for the SPARQL endpoints."""
    cat = catalog()

    def stored(name: str, **params: str) -> dict[str, Any]:
        return {"name": name, "sparql": bound_query(cat[name], params), "stored": (name, params),
                "construct": cat[name].form == "construct"}

    return [
        Workload(**stored("interventions_for_cause", cause="osteoarthritis"),
                 rest=("/api/causes/osteoarthritis/interventions", {})),
        Workload(**stored("mechanisms_for_cause", cause="cold-exposure"),
                 rest=("/api/causes/cold-exposure/mechanisms", {})),
        Workload(**stored("entities_of_category", category="cause"), rest=("/api/causes", {})),
        Workload(**stored("interventions", type="drug"), rest=("/api/interventions", {"type": "drug"})),
        Workload(name="label search 'synov'", sparql=label_search_query("synov"),
                 rest=("/api/search", {"q": "synov"}),
                 rest_note="/api/search is an in-memory index (partial words, word forms, typos); "
                           "the SPARQL is a CONTAINS(LCASE()) scan of labels and synonyms"),
        Workload(**stored("describe_entity", entity="osteoarthritis"),
                 rest=("/entity/osteoarthritis", {}), rest_note="/entity answers Turtle by Accept"),
        Workload(**stored("causal_edges"),
                 rest=("/api/paths", {"from": "calcium-deficiency", "to": "nocturnal-knee-soreness"}),
                 rest_note="/api/paths runs causal_edges and walks the chains: related, not the same answer"),
        Workload(**stored("ontology_statistics")),
    ]


@dataclass
class Cell:
    """What one target did on one query."""

    target: str
    cold_ms: float | None = None
    cold_status: int | None = None
    rows: int | None = None
    requests: int = 0
    ok: int = 0
    statuses: Counter = field(default_factory=Counter)
    elapsed_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error_example: str = ""

    def summary(self) -> dict[str, Any]:
        return {"target": self.target, "cold_ms": self.cold_ms, "cold_status": self.cold_status, "rows": self.rows,
                "requests": self.requests, "ok": self.ok, "errors": self.requests - self.ok,
                "statuses": dict(self.statuses), "elapsed_s": round(self.elapsed_s, 3),
                "rps": round(self.ok / self.elapsed_s, 1) if self.elapsed_s else None,
                **latency_summary(self.latencies), "error_example": self.error_example}


class Targets:
    """How to ask each target a workload's question: the (method, url, params, headers) of one request."""

    def __init__(self, ours: str, oxigraph: str, rdflib_endpoint: str) -> None:
        self.urls = {"ours": ours.rstrip("/"), OXIGRAPH: oxigraph, RDFLIB_ENDPOINT: rdflib_endpoint}

    def applies(self, target: str, work: Workload) -> bool:
        if target in (OURS_REST, OURS_REST_MISS):
            return work.rest is not None
        if target == OURS_STORED:
            return work.stored is not None
        return True

    def request(self, target: str, work: Workload, i: int) -> tuple[str, dict[str, str], dict[str, str]]:
        if target in (OURS_REST, OURS_REST_MISS):
            path, params = work.rest
            params = dict(params)
            if target == OURS_REST_MISS:
                params["nocache"] = str(i)  # ignored by the route, but part of the cache key
            headers = {"Accept": "text/turtle"} if work.construct else {}
            return self.urls["ours"] + path, params, headers
        if target == OURS_STORED:
            name, params = work.stored
            return self.urls["ours"] + f"/api/queries/{name}", dict(params), {}
        if target == OURS_SPARQL_MISS:
            return self.urls["ours"] + "/sparql", {"query": f"{work.sparql}# bench {i}\n"}, {"Accept": work.accept}
        url = self.urls["ours"] + "/sparql" if target == OURS_SPARQL else self.urls[target]
        return url, {"query": work.sparql}, {"Accept": work.accept}


def count_rows(target: str, work: Workload, body: bytes, ctype: str) -> int | None:
    """Rows of a SPARQL JSON result (or triples of Turtle): do all engines give the same answer?"""
    try:
        if ctype.startswith("text/turtle"):
            from rdflib import Graph

            return len(Graph().parse(data=body, format="turtle"))
        data = json.loads(body)
        if isinstance(data.get("results"), dict):  # SPARQL 1.1 JSON results
            return len(data["results"]["bindings"])
        for key in ("bindings", "items", "results", "paths"):  # our stored-query runner and REST shapes
            if isinstance(data.get(key), list):
                return len(data[key])
    except (ValueError, KeyError, TypeError):
        return None
    return None


async def one(client: httpx.AsyncClient, url: str, params: dict, headers: dict) -> tuple[int | None, float, bytes, str]:
    started = time.perf_counter()
    try:
        response = await client.get(url, params=params, headers=headers)
        body = response.content
    except httpx.HTTPError as exc:
        return None, time.perf_counter() - started, str(exc).encode(), ""
    return response.status_code, time.perf_counter() - started, body, response.headers.get("content-type", "")


async def run_cell(clients: list[httpx.AsyncClient], targets: Targets, target: str, work: Workload,
                   n_requests: int, cell: Cell, offset: int = 0) -> None:
    """n_requests from len(clients) concurrent keep-alive clients; each takes the next index until done."""
    counter = iter(range(n_requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            url, params, headers = targets.request(target, work, offset + i)
            status, seconds, body, _ = await one(client, url, params, headers)
            cell.requests += 1
            cell.statuses[str(status)] += 1
            if status == 200:
                cell.ok += 1
                cell.latencies.append(seconds)
            elif not cell.error_example:
                cell.error_example = f"{status}: {body[:160].decode('utf-8', 'replace')}"

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    cell.elapsed_s = time.perf_counter() - started


async def compare(targets: Targets, works: list[Workload], n_requests: int, concurrency: int,
                  warmup: int) -> dict[str, dict[str, Cell]]:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    results: dict[str, dict[str, Cell]] = {w.name: {} for w in works}
    async with contextlib.AsyncExitStack() as stack:
        pools: dict[str, list[httpx.AsyncClient]] = {}

        async def clients_for(target: str) -> list[httpx.AsyncClient]:
            """C keep-alive clients per server, kept across queries (a new connection costs up to 18 ms)."""
            host = urlsplit(targets.request(target, works[0], 0)[0]).netloc
            if host not in pools:
                pools[host] = [await stack.enter_async_context(httpx.AsyncClient(limits=limits, timeout=60))
                               for _ in range(concurrency)]
            return pools[host]

        # Cold: the very first request of each query to each target, before any warm-up anywhere.
        for work in works:
            for target in TARGETS:
                if not targets.applies(target, work):
                    continue
                cell = results[work.name].setdefault(target, Cell(target))
                url, params, headers = targets.request(target, work, -1)
                status, seconds, body, ctype = await one((await clients_for(target))[0], url, params, headers)
                cell.cold_ms, cell.cold_status = round(seconds * 1000, 2), status
                cell.rows = count_rows(target, work, body, ctype) if status == 200 else None
                if status != 200:
                    cell.error_example = f"cold {status}: {body[:160].decode('utf-8', 'replace')}"
        # Warm: per query, per target, a warm-up then the measured requests.
        for work in works:
            for target, cell in results[work.name].items():
                clients = await clients_for(target)
                await run_cell(clients, targets, target, work, warmup, Cell(target), offset=10**6)
                await run_cell(clients, targets, target, work, n_requests, cell)
                print(f"  {work.name:28} {target:24} {cell.summary()['rps']:>8} req/s  "
                      f"p50 {cell.summary()['p50_ms']} ms", file=sys.stderr)
    return results


# ------------------------------------------------------------------------------------------------ report

def ratio(a: float | None, b: float | None) -> float | None:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return None
    return round(a / b, 2)


def build_report(results: dict[str, dict[str, Cell]], works: list[Workload], config: dict) -> dict[str, Any]:
    queries = []
    for work in works:
        cells = {t: c.summary() for t, c in results[work.name].items()}
        rest, sparql = cells.get(OURS_REST), cells.get(OURS_SPARQL_MISS)
        for s in cells.values():
            # ours / peer throughput (> 1: we serve more); peer p50 / ours p50 (> 1: we answer faster).
            s["throughput_ratio_ours_rest_to_this"] = ratio(rest and rest["rps"], s["rps"])
            s["p50_ratio_this_to_ours_rest"] = ratio(s["p50_ms"], rest and rest["p50_ms"])
            s["throughput_ratio_ours_sparql_miss_to_this"] = ratio(sparql and sparql["rps"], s["rps"])
            s["p50_ratio_this_to_ours_sparql_miss"] = ratio(s["p50_ms"], sparql and sparql["p50_ms"])
        queries.append({"query": work.name, "rest": work.rest and work.rest[0], "rest_note": work.rest_note,
                        "sparql": work.sparql, "targets": cells})
    return {"kind": "compare", "date": stamp(), "machine": machine_notes(), "config": config, "queries": queries}


def fmt(value: Any, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:g}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def markdown(report: dict[str, Any]) -> str:
    cfg = report["config"]
    lines = [(f"### Comparison {report['date']} — {cfg['requests']} requests per query and target, "
             f"{cfg['concurrency']} concurrent clients, {cfg['warmup']} warm-up; our service with "
             f"{cfg['workers']} SPARQL workers; code {code_label(report['machine']['code'])}"), "",
             ("Summary (warm, successful answers only). Ratios > 1 favour our service: **ours/peer** throughput "
             "and **peer/ours** p50."), "",
             ("req/s per target; then ratios: REST = our friendly endpoint, warm (cache hit); /sparql-miss = our "
              "/sparql with a cache miss on every request (parse, checks, worker process, serialization)."), "",
             ("| query | ours REST | ours REST miss | ours /sparql (cached) | ours /sparql miss | Oxigraph "
              "| rdflib-endpoint | REST÷Oxigraph thr. | Oxigraph÷REST p50 | /sparql-miss÷Oxigraph thr. "
              "| Oxigraph÷/sparql-miss p50 | REST÷rdflib-ep thr. | /sparql-miss÷rdflib-ep thr. |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for q in report["queries"]:
        def get(name: str, key: str, t: dict = q["targets"]) -> Any:
            return t.get(name, {}).get(key)

        lines.append(
            f"| {q['query']} | {fmt(get(OURS_REST, 'rps'))} | {fmt(get(OURS_REST_MISS, 'rps'))} | "
            f"{fmt(get(OURS_SPARQL, 'rps'))} | {fmt(get(OURS_SPARQL_MISS, 'rps'))} | "
            f"{fmt(get(OXIGRAPH, 'rps'))} | {fmt(get(RDFLIB_ENDPOINT, 'rps'))} | "
            f"{fmt(get(OXIGRAPH, 'throughput_ratio_ours_rest_to_this'))} | "
            f"{fmt(get(OXIGRAPH, 'p50_ratio_this_to_ours_rest'))} | "
            f"{fmt(get(OXIGRAPH, 'throughput_ratio_ours_sparql_miss_to_this'))} | "
            f"{fmt(get(OXIGRAPH, 'p50_ratio_this_to_ours_sparql_miss'))} | "
            f"{fmt(get(RDFLIB_ENDPOINT, 'throughput_ratio_ours_rest_to_this'))} | "
            f"{fmt(get(RDFLIB_ENDPOINT, 'throughput_ratio_ours_sparql_miss_to_this'))} |")
    for q in report["queries"]:
        lines += ["", f"#### {q['query']}" + (f" — REST: `{q['rest']}`" if q["rest"] else " — no REST route"), ""]
        if q["rest_note"]:
            lines += [f"_{q['rest_note']}._", ""]
        lines += [("| target | cold ms | rows | req/s | p50 ms | p99 ms | errors | ours REST÷this thr. "
                  "| this÷ours REST p50 | ours /sparql-miss÷this thr. | this÷ours /sparql-miss p50 |"),
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, s in q["targets"].items():
            errors = s["errors"] + (1 if s["cold_status"] != 200 else 0)
            err = f"{errors} ({', '.join(f'{k}×{v}' for k, v in s['statuses'].items() if k != '200')})" \
                if errors else "0"
            lines.append(f"| {name} | {fmt(s['cold_ms'])} | {fmt(s['rows'])} | {fmt(s['rps'])} | "
                         f"{fmt(s['p50_ms'])} | {fmt(s['p99_ms'])} | {err} | "
                         f"{fmt(s['throughput_ratio_ours_rest_to_this'])} | {fmt(s['p50_ratio_this_to_ours_rest'])} | "
                         f"{fmt(s['throughput_ratio_ours_sparql_miss_to_this'])} | "
                         f"{fmt(s['p50_ratio_this_to_ours_sparql_miss'])} |")
        examples = [f"- {n}: `{s['error_example']}`" for n, s in q["targets"].items() if s["error_example"]]
        if examples:
            lines += ["", "Errors:", "", *examples]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="measured requests per query and target")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--warmup", type=int, default=40, help="warm-up requests per query and target")
    parser.add_argument("--workers", type=int, default=2, help="SPARQL worker processes of our service")
    parser.add_argument("--only", action="append", help="run only the query with this name (repeatable)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if not (1 <= args.requests <= 100_000 and 1 <= args.concurrency <= 256 and 0 <= args.warmup <= 10_000):
        parser.error("--requests 1..100000, --concurrency 1..256, --warmup 0..10000")
    works = [w for w in workloads() if not args.only or w.name in args.only]

    processes = []
    server = None
    with tempfile.TemporaryDirectory(prefix="kg-compare-") as tmp:
        tmp_dir = Path(tmp)
        try:
            server = start_kg_service(tmp_dir, workers=args.workers)
            oxigraph_url, oxigraph = start_oxigraph(tmp_dir)
            processes.append(oxigraph)
            rdflib_url, rdflib_process = start_rdflib_endpoint(tmp_dir)
            processes.append(rdflib_process)
            rss_before = {name: round(psutil.Process(p.pid).memory_info().rss / 2**20, 1) for name, p in
                          (("ours", server.process), (OXIGRAPH, oxigraph), (RDFLIB_ENDPOINT, rdflib_process))}
            targets = Targets(server.url, oxigraph_url, rdflib_url)
            started = time.monotonic()
            results = asyncio.run(compare(targets, works, args.requests, args.concurrency, args.warmup))
            config = {"requests": args.requests, "concurrency": args.concurrency, "warmup": args.warmup,
                      "workers": args.workers, "wall_s": round(time.monotonic() - started, 1),
                      "rss_mb_at_start": rss_before}
        finally:
            for process in processes:
                stop_process(process)
            if server is not None:
                stop_kg_service(server)
    report = build_report(results, works, config)
    args.output.mkdir(parents=True, exist_ok=True)
    base = args.output / f"compare-{report['date']}"
    base.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    base.with_suffix(".md").write_text(text)
    print(text)
    print(f"wrote {base}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
