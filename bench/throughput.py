"""Throughput with wrk: every target in the same run, each path at each concurrency, medians of rounds.

A workload is one question asked of each target in the form it understands: a fixed path (calibration,
/healthz, a cached friendly /api answer) or a SPARQL query sent with a unique comment per request (so no
result cache answers it). Before the wrk runs, one probe request per workload and target checks the
answer (status, rows: do all engines give the same rows?) and times it: a target taking longer than
`slow_s` for one answer is measured sequentially at concurrency 1 instead (wrk would only queue a
backlog the server keeps working through after wrk stops). Rounds interleave targets, rotating their
order, and each run waits until the server is idle before the next.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import wrk
from common import bound_query, catalog
from targets import Started, settle

JSON_RESULTS = "application/sparql-results+json"
RAW, BARE, OURS, OXIGRAPH, RDFLIB_EP = "raw ASGI", "bare FastAPI", "ours", "Oxigraph server", "rdflib-endpoint"
PEERS = (OXIGRAPH, RDFLIB_EP)
LIGHT_QUERY = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?entity ?label WHERE { ?entity rdfs:label ?label } LIMIT 10
"""
# Cached friendly answers of our service (the second request on is a hit in the version-keyed cache).
FRIENDLY = ["/api/causes/osteoarthritis/interventions", "/api/search?q=synov",
            "/api/queries/interventions_for_cause?cause=osteoarthritis"]


@dataclass(frozen=True)
class Ask:
    """How one target is asked: a fixed path, or a path built per request around a unique piece."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)
    distinct: tuple[str, str] | None = None

    def probe_path(self) -> str:
        return self.distinct[0] + "probe" + self.distinct[1] if self.distinct else self.path


@dataclass
class Workload:
    name: str
    group: str           # calibration | friendly | sparql
    asks: dict[str, Ask]  # target name -> how to ask it
    construct: bool = False


def sparql_ask(endpoint_path: str, text: str, accept: str) -> Ask:
    """GET endpoint?query=..., each request with its own trailing comment line."""
    head = f"{endpoint_path}?query=" + quote(text.rstrip("\n") + "\n# bench ", safe="")
    return Ask(path=head + "0" + quote("\n"), headers={"Accept": accept}, distinct=(head, quote("\n")))


def stored_queries(names: Sequence[str] | None = None) -> list[tuple[str, str, bool]]:
    """(name, SPARQL with its required parameters bound from their examples as VALUES, is CONSTRUCT)."""
    cat = catalog()
    out = []
    for query in sorted(cat.queries.values(), key=lambda q: q.name):
        if names is not None and query.name not in names:
            continue
        params = {p.name: p.example for p in query.params if p.required and p.example is not None}
        if query.name == "interventions":
            params["type"] = "drug"
        out.append((query.name, bound_query(query, params), query.form == "construct"))
    return out


def workloads(servers: dict[str, Started], queries: Sequence[tuple[str, str, bool]],
              friendly: Sequence[str] = FRIENDLY) -> list[Workload]:
    """Every workload for the targets that were started."""
    works = []
    for name in (RAW, BARE):
        if name in servers:
            works.append(Workload(f"{name} fixed bytes", "calibration", {name: Ask("/healthz")}))
    if OURS in servers:
        works.append(Workload("/healthz", "calibration", {OURS: Ask("/healthz")}))
        works += [Workload(f"{path} (cached)", "friendly", {OURS: Ask(path)}) for path in friendly]
    sparql_targets = [t for t in (OURS, OXIGRAPH, RDFLIB_EP) if t in servers]
    for name, text, construct in [("light: labels LIMIT 10", LIGHT_QUERY, False), *queries]:
        accept = "text/turtle" if construct else JSON_RESULTS
        asks = {t: sparql_ask(servers[t].sparql_path, text, accept) for t in sparql_targets}
        works.append(Workload(f"/sparql {name}", "sparql", asks, construct))
    return works


def count_rows(body: bytes, ctype: str) -> int | None:
    """Rows of a SPARQL JSON result, triples of Turtle, items of our list answers."""
    try:
        if ctype.startswith("text/turtle"):
            from rdflib import Graph

            return len(Graph().parse(data=body, format="turtle"))
        data = json.loads(body)
        if isinstance(data.get("results"), dict):
            return len(data["results"]["bindings"])
        for key in ("items", "results", "bindings"):
            if isinstance(data.get(key), list):
                return len(data[key])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return None


@dataclass
class Probe:
    status: int | None
    seconds: float
    rows: int | None
    error: str = ""


def probe(client: httpx.Client, base: str, ask: Ask, timeout_s: float) -> Probe:
    started = time.perf_counter()
    try:
        response = client.get(base + ask.probe_path(), headers=ask.headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return Probe(None, time.perf_counter() - started, None, f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - started
    ok = response.status_code == 200
    return Probe(response.status_code, seconds,
                 count_rows(response.content, response.headers.get("content-type", "")) if ok else None,
                 "" if ok else response.text[:200])


def sequential(client: httpx.Client, base: str, ask: Ask, duration_s: float, timeout_s: float) -> dict[str, Any]:
    """One client, one request after another, for at least one request and about duration_s."""
    latencies, failed = [], 0
    started = time.perf_counter()
    n = 0
    while not latencies or time.perf_counter() - started < duration_s:
        n += 1
        path = ask.distinct[0] + f"seq{n}" + ask.distinct[1] if ask.distinct else ask.path
        t0 = time.perf_counter()
        try:
            ok = client.get(base + path, headers=ask.headers, timeout=timeout_s).status_code == 200
        except httpx.HTTPError:
            ok = False
        latencies.append(time.perf_counter() - t0)
        if not ok:
            failed += 1
            break
    elapsed = time.perf_counter() - started
    return {"rps": round((len(latencies) - failed) / elapsed, 2), "requests": len(latencies), "failed": failed,
            "p50_ms": round(statistics.median(latencies) * 1000, 1), "mode": "sequential"}


@dataclass
class Config:
    concurrency: tuple[int, ...] = (1, 16, 64)
    sweep: tuple[str, ...] = ("light: labels LIMIT 10", "interventions_for_cause")  # every concurrency
    query_concurrency: tuple[int, ...] = (16,)  # the other stored queries
    duration_s: float = 2.0
    query_duration_s: float = 1.0  # the stored queries not in `sweep`
    rounds: int = 3
    threads: int = 2
    slow_s: float = 0.5
    timeout_s: float = 30.0

    def swept(self, work: Workload) -> bool:
        return work.group != "sparql" or any(work.name == s or work.name.endswith(" " + s) for s in self.sweep)

    def levels(self, work: Workload) -> tuple[int, ...]:
        return self.concurrency if self.swept(work) else self.query_concurrency

    def duration(self, work: Workload) -> float:
        return self.duration_s if self.swept(work) else self.query_duration_s


def measure(servers: dict[str, Started], works: list[Workload], config: Config,
            log=lambda message: None) -> dict[str, Any]:
    """Probe every workload on every target, then the rounds of wrk runs; medians per cell."""
    probes: dict[str, dict[str, Probe]] = {}
    slow: dict[tuple[str, str], dict[str, Any]] = {}
    with httpx.Client() as client:
        for work in works:
            probes[work.name] = {}
            for target, ask in work.asks.items():
                probe(client, servers[target].base, ask, config.timeout_s)  # warm-up: a first answer may spawn
                result = probe(client, servers[target].base, ask, config.timeout_s)  # workers or fill caches
                probes[work.name][target] = result
                if result.status == 200 and result.seconds > config.slow_s:
                    slow[(work.name, target)] = sequential(client, servers[target].base, ask, config.duration_s,
                                                           config.timeout_s)
                    settle(servers[target].pid)
                    log(f"  {work.name:55} {target:16} slow ({result.seconds:.2f} s/answer): "
                        f"{slow[(work.name, target)]['rps']} req/s sequentially")
    runs: dict[tuple[str, str, int], list[wrk.WrkResult]] = {}
    settled: list[float] = []

    def idle(target: str) -> float:
        """Wait for the target and whatever it depends on (a remote engine) to be idle."""
        return sum(settle(pid) for pid in (servers[target].pid, *servers[target].extra.get("also_settle", ())))

    for target in servers:  # the probes may have left work behind (an engine still on a timed-out query)
        settled.append(idle(target))
    for round_no in range(config.rounds):
        for work in works:
            for level in config.levels(work):
                targets = [t for t in work.asks if probes[work.name][t].status == 200 and (work.name, t) not in slow]
                shift = round_no % len(targets) if targets else 0
                for target in targets[shift:] + targets[:shift]:
                    ask = work.asks[target]
                    result = wrk.run(servers[target].base + ask.path, level, config.duration(work),
                                     threads=config.threads, headers=ask.headers, distinct=ask.distinct,
                                     timeout_s=config.timeout_s)
                    settled.append(idle(target))
                    if result.ok == 0:  # no answer finished within the run: too slow for wrk at this length
                        with httpx.Client() as client:
                            slow[(work.name, target)] = sequential(client, servers[target].base, ask,
                                                                   config.duration_s, config.timeout_s)
                        settled.append(idle(target))
                        log(f"  {work.name:55} {target:16} no answer within the wrk run: "
                            f"{slow[(work.name, target)]['rps']} req/s sequentially")
                        continue
                    runs.setdefault((work.name, target, level), []).append(result)
                    log(f"  r{round_no + 1} {work.name:55} {target:16} c{level:<3} {result.rps:>9} req/s "
                        f"p50 {result.p50_ms} ms")
    cells = []
    for work in works:
        for target in work.asks:
            p = probes[work.name][target]
            base = {"workload": work.name, "group": work.group, "target": target, "probe_status": p.status,
                    "probe_ms": round(p.seconds * 1000, 1), "rows": p.rows, "error": p.error}
            if (work.name, target) in slow:
                cells.append({**base, "concurrency": 1, **slow[(work.name, target)]})
                continue
            for level in config.levels(work):
                results = runs.get((work.name, target, level), [])
                if not results:
                    cells.append({**base, "concurrency": level, "rps": None, "mode": "not run"})
                    continue
                cells.append({**base, "concurrency": level, "mode": "wrk",
                              "rps": round(statistics.median(r.rps for r in results), 1),
                              "rps_rounds": [r.rps for r in results],
                              "p50_ms": round(statistics.median(r.p50_ms for r in results), 3),
                              "p99_ms": round(statistics.median(r.p99_ms for r in results), 3),
                              "errors": {k: sum(r.errors[k] for r in results) for k in results[0].errors},
                              "requests": sum(r.requests for r in results)})
    return {"config": {**config.__dict__, "concurrency": list(config.concurrency)}, "cells": cells,
            "settle_s_max": max(settled, default=0.0), "settle_s_total": round(sum(settled), 1)}


def measure_workers(servers: dict[str, Started], queries: Sequence[tuple[str, str, bool]], config: Config,
                    log=lambda message: None) -> dict[str, Any]:
    """Goal 5 of issue 7: ours with 1 and with 2 SPARQL worker processes, and (when started) with 2 server
    processes, side by side, on distinct /sparql queries: the throughput ratio of two to one of each kind. With
    the Oxigraph server among them (always last), also two server processes against it: ours using both cores,
    as the Oxigraph server does.

    `servers` is {label: server} in the order one worker, two workers[, two server processes][, OXIGRAPH]."""
    works = [Workload(f"/sparql {name}", "sparql",
                      {t: sparql_ask(s.sparql_path, text, "text/turtle" if construct else JSON_RESULTS)
                       for t, s in servers.items()}, construct)
             for name, text, construct in [("light: labels LIMIT 10", LIGHT_QUERY, False), *queries]]
    measured = measure(servers, works, config, log=log)
    labels = [label for label in servers if label != OXIGRAPH]
    by = {(c["workload"], c["target"]): c for c in measured["cells"]}

    def ratio(work: Workload, one: str, two: str) -> float | None:
        a, b = by.get((work.name, one), {}), by.get((work.name, two), {})
        if not (a.get("rps") and b.get("rps")) or a.get("mode") != b.get("mode"):
            return None  # a sequential figure against a wrk one says nothing about two of anything
        return round(b["rps"] / a["rps"], 3)

    measured["ratios"] = {w.name: ratio(w, labels[0], labels[1]) for w in works}
    if len(labels) > 2:  # two server processes (each with the default two workers) against one
        measured["process_ratios"] = {w.name: ratio(w, labels[1], labels[2]) for w in works}
        if OXIGRAPH in servers:
            measured["processes_vs_oxigraph"] = {w.name: ratio(w, OXIGRAPH, labels[2]) for w in works}
    measured["labels"] = labels
    return measured
