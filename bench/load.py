"""Load test (issue 4): N concurrent clients for D seconds on a weighted mix of legitimate requests (friendly
endpoints and /sparql) with a small share of hostile queries, against `kg-service serve` on 127.0.0.1.

    python bench/load.py                          # start a server (2 workers, 3 s deadline), 64 clients, 60 s
    python bench/load.py --clients 16 --duration 10
    python bench/load.py --url http://127.0.0.1:8000   # an already running server (RSS if its pid is visible)

Passes (exit 0) when no legitimate request failed (any status other than 2xx/304, or a transport error),
every hostile request was refused (4xx) or cut at the deadline (503), and the SERVICE canary listener got
no connection. Writes bench/results/load-<date>.json and .md and prints the markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    RESULTS_DIR,
    TreeSampler,
    bound_query,
    catalog,
    label_search_query,
    latency_summary,
    machine_notes,
    pid_listening_on,
    stamp,
    start_kg_service,
    stop_kg_service,
)

JSON_RESULTS = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"
CART3 = "SELECT (COUNT(*) AS ?c) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@dataclass(frozen=True)
class Spec:
    """One kind of request: its report group, how to send it, what it is (legit / hostile)."""

    group: str
    method: str
    path: str
    params: dict[str, str] | None = None
    data: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    weight: float = 1.0
    hostile: bool = False
    expect_type: str = ""          # content-type prefix a legitimate 200 must carry
    forbidden_text: str = ""       # must not appear in a hostile response (e.g. a local file's content)
    bust_cache: bool = False       # append a unique comment, so /sparql's result cache misses and a worker runs it


@dataclass
class Outcome:
    spec: Spec
    status: int | None
    latency_s: float
    error: str = ""


# ------------------------------------------------------------------------------------------------- mix

def legitimate_specs(cause_ids: list[str], etag: str | None, friendly_only: bool = False) -> list[Spec]:
    """The friendly endpoints and /sparql requests a real user sends, with relative weights."""
    cat = catalog()
    q_interventions = bound_query(cat["interventions_for_cause"], {"cause": "osteoarthritis"})
    q_categories = bound_query(cat["entities_of_category"], {"category": "cause"})
    q_mechanisms = bound_query(cat["mechanisms_for_cause"], {"cause": cat["mechanisms_for_cause"].params[0].example})
    q_describe = bound_query(cat["describe_entity"], {"entity": "osteoarthritis"})
    q_search = label_search_query("synov")
    ask = "PREFIX ks: <https://w3id.org/knee-soreness/>\nASK { ks:osteoarthritis ?p ?o }"

    specs: list[Spec] = [
        Spec("api/causes", "GET", "/api/causes", weight=6, expect_type="application/json"),
        Spec("api/interventions?type=drug", "GET", "/api/interventions", {"type": "drug"}, weight=4,
             expect_type="application/json"),
        Spec("api/paths", "GET", "/api/paths", {"from": "calcium-deficiency", "to": "nocturnal-knee-soreness"},
             weight=3, expect_type="application/json"),
        Spec("entity (turtle)", "GET", "/entity/osteoarthritis", headers={"Accept": "text/turtle"}, weight=3,
             expect_type="text/turtle"),
    ]
    if etag:
        specs.append(Spec("api/causes If-None-Match", "GET", "/api/causes", headers={"If-None-Match": etag},
                          weight=2))
    for q in ("synov", "meniscus", "osteoartritis"):
        specs.append(Spec("api/search", "GET", "/api/search", {"q": q}, weight=3, expect_type="application/json"))
    # Weight per cause id so the per-cause endpoints together weigh as much as the other friendly groups.
    per_cause = 12 / max(1, len(cause_ids))
    for cause in cause_ids:
        specs.append(Spec("api/causes/{id}/interventions", "GET", f"/api/causes/{cause}/interventions",
                          weight=per_cause, expect_type="application/json"))
        specs.append(Spec("api/causes/{id}/mechanisms", "GET", f"/api/causes/{cause}/mechanisms",
                          weight=per_cause / 2, expect_type="application/json"))
    if friendly_only:
        return specs
    sparql = [
        Spec("sparql SELECT json GET", "GET", "/sparql", {"query": q_interventions},
             headers={"Accept": JSON_RESULTS}, weight=5, expect_type=JSON_RESULTS),
        Spec("sparql SELECT csv GET", "GET", "/sparql", {"query": q_categories},
             headers={"Accept": "text/csv"}, weight=3, expect_type="text/csv"),
        Spec("sparql SELECT json POST form", "POST", "/sparql", data={"query": q_mechanisms},
             headers={"Accept": JSON_RESULTS}, weight=4, expect_type=JSON_RESULTS),
        Spec("sparql SELECT csv POST form", "POST", "/sparql", data={"query": q_search},
             headers={"Accept": "text/csv"}, weight=3, expect_type="text/csv"),
        Spec("sparql SELECT json POST direct", "POST", "/sparql", content=q_interventions.encode(),
             headers={"Accept": JSON_RESULTS, "Content-Type": "application/sparql-query"}, weight=1,
             expect_type=JSON_RESULTS),
        Spec("sparql CONSTRUCT turtle", "GET", "/sparql", {"query": q_describe},
             headers={"Accept": "text/turtle"}, weight=3, expect_type="text/turtle"),
        Spec("sparql ASK", "GET", "/sparql", {"query": ask}, headers={"Accept": JSON_RESULTS}, weight=2,
             expect_type=JSON_RESULTS),
    ]
    # /sparql caches results by query text, like the REST routes; researchers' queries mostly differ, so each
    # kind is sent half the time as is (cache hit) and half with a unique comment (a worker parses and runs it).
    for spec in sparql:
        half = spec.weight / 2
        specs.append(dataclasses.replace(spec, weight=half))
        specs.append(dataclasses.replace(spec, group=spec.group + " [miss]", weight=half, bust_cache=True))
    return specs


def hostile_specs(canary_port: int) -> list[Spec]:
    """research/sparql-security.md sections 4 and 9: each must be refused (4xx) or cut at the deadline (503)."""
    nested = "SELECT * WHERE " + "{" * 40 + " ?s ?p ?o " + "}" * 40
    terms, size, i = [], 40, 0
    while size < 100_000:  # a valid query of ~100 KB: one long || chain (a size check must refuse it: 413)
        terms.append(f"?o = {i}")
        size += len(terms[-1]) + 4
        i += 1
    big = f"SELECT * WHERE {{ ?s ?p ?o FILTER({' || '.join(terms)}) }}"
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    return [
        Spec("hostile: 3-way cartesian COUNT", "GET", "/sparql", {"query": CART3},
             headers={"Accept": JSON_RESULTS}, hostile=True),
        Spec("hostile: SERVICE to 127.0.0.1", "GET", "/sparql",
             {"query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{canary_port}/sparql> {{ ?s ?p ?o }} }}"},
             headers={"Accept": JSON_RESULTS}, hostile=True),
        Spec("hostile: FROM file:///etc/hostname", "GET", "/sparql",
             {"query": "SELECT * FROM <file:///etc/hostname> WHERE { ?s ?p ?o }"},
             headers={"Accept": JSON_RESULTS}, hostile=True, forbidden_text=hostname),
        Spec("hostile: 40 nested braces", "GET", "/sparql", {"query": nested}, headers={"Accept": JSON_RESULTS},
             hostile=True),
        Spec("hostile: query=DROP ALL", "GET", "/sparql", {"query": "DROP ALL"}, hostile=True),
        Spec("hostile: 100 KB query (POST form)", "POST", "/sparql", data={"query": big},
             headers={"Accept": JSON_RESULTS}, hostile=True),
    ]


# --------------------------------------------------------------------------------------------- clients

class CanaryListener:
    """A listener on 127.0.0.1 that the SERVICE query points at: any connection is an outbound request."""

    def __init__(self) -> None:
        self.hits = 0
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> None:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.hits += 1
            writer.close()

        self.server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


_unique = itertools.count()


def with_unique_comment(spec: Spec) -> tuple[Any, Any, Any]:
    """The request's query text with `# n` appended: same answer, new cache key."""
    tag = f"\n# bench {next(_unique)}"
    params = {**spec.params, "query": spec.params["query"] + tag} if spec.params else spec.params
    data = {**spec.data, "query": spec.data["query"] + tag} if spec.data else spec.data
    content = spec.content + tag.encode() if spec.content else spec.content
    return params, data, content


async def send(client: httpx.AsyncClient, spec: Spec) -> Outcome:
    params, data, content = with_unique_comment(spec) if spec.bust_cache else (spec.params, spec.data, spec.content)
    started = time.perf_counter()
    try:
        response = await client.request(spec.method, spec.path, params=params, data=data,
                                        content=content, headers=spec.headers)
        body = response.content
    except httpx.HTTPError as exc:
        return Outcome(spec, None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"[:200])
    elapsed = time.perf_counter() - started
    status = response.status_code
    error = ""
    if spec.hostile:
        if spec.forbidden_text and spec.forbidden_text in body.decode("utf-8", "replace"):
            error = "response leaks the file's content"
    elif status == 200:
        ctype = response.headers.get("content-type", "")
        if spec.expect_type and not ctype.startswith(spec.expect_type):
            error = f"content-type {ctype!r}, expected {spec.expect_type}"
        elif not body:
            error = "empty body"
    elif not (200 <= status < 300 or status == 304):
        error = f"HTTP {status}: {body[:160].decode('utf-8', 'replace')}"
    return Outcome(spec, status, elapsed, error)


def hostile_ok(outcome: Outcome) -> bool:
    return outcome.status is not None and (400 <= outcome.status < 500 or outcome.status == 503) \
        and not outcome.error


async def client_loop(client: httpx.AsyncClient, legit: list[Spec], hostile: list[Spec], hostile_share: float,
                      deadline: float, rng: random.Random, outcomes: list[Outcome]) -> None:
    weights = [s.weight for s in legit]
    while time.monotonic() < deadline:
        spec = rng.choice(hostile) if rng.random() < hostile_share else rng.choices(legit, weights)[0]
        outcomes.append(await send(client, spec))


METRIC_LINE = re.compile(r'^kg_http_request_duration_seconds_(sum|count)\{route="([^"]*)"\} ([0-9.e+-]+)$')


async def server_times(client: httpx.AsyncClient) -> dict[str, list[float]]:
    """Per route [seconds, count] from the service's own /metrics (time spent inside the app)."""
    try:
        response = await client.get("/metrics")
    except httpx.HTTPError:
        return {}
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for line in response.text.splitlines():
        match = METRIC_LINE.match(line)
        if match:
            totals[match.group(2)][0 if match.group(1) == "sum" else 1] = float(match.group(3))
    return dict(totals)


def server_mean_ms(before: dict[str, list[float]], after: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    means = {}
    for route, (seconds, count) in after.items():
        s0, c0 = before.get(route, [0.0, 0.0])
        if count - c0 > 0:
            means[route] = {"requests": int(count - c0), "mean_ms": round((seconds - s0) / (count - c0) * 1000, 2)}
    return means


async def discover(client: httpx.AsyncClient) -> tuple[list[str], str | None]:
    response = await client.get("/api/causes", params={"limit": 500})
    response.raise_for_status()
    return [item["id"] for item in response.json()["items"]], response.headers.get("etag")


async def run_load(url: str, clients: int, duration_s: float, hostile_share: float, seed: int,
                   sampler: TreeSampler | None, friendly_only: bool = False) -> dict[str, Any]:
    canary = CanaryListener()
    await canary.start()
    # One AsyncClient (one keep-alive connection) per simulated user: a single client with a 64-connection pool
    # spends its CPU scanning the pool (httpcore 1.0: 188 req/s at 64 connections vs 1,540 this way, measured).
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        users = [await stack.enter_async_context(httpx.AsyncClient(base_url=url, limits=limits,
                                                                   timeout=httpx.Timeout(30.0)))
                 for _ in range(clients)]
        client = users[0]
        cause_ids, etag = await discover(client)
        legit = legitimate_specs(cause_ids, etag, friendly_only)
        hostile = hostile_specs(canary.port)
        if friendly_only:
            hostile_share = 0.0
        # Warm-up: every legitimate request once, so cold-cache first answers are reported apart.
        warmup = [await send(client, spec) for spec in legit]
        outcomes: list[Outcome] = []
        metrics_before = await server_times(client)
        client_cpu = psutil.Process().cpu_times()
        if sampler is not None:
            sampler.start()
        started = time.monotonic()
        deadline = started + duration_s
        rng = random.Random(seed)
        await asyncio.gather(*(client_loop(user, legit, hostile, hostile_share, deadline,
                                           random.Random(rng.random()), outcomes) for user in users))
        elapsed = time.monotonic() - started
        client_cpu_s = sum(psutil.Process().cpu_times()[:2]) - sum(client_cpu[:2])
        if sampler is not None:
            sampler.stop()
        server_side = server_mean_ms(metrics_before, await server_times(client))
        # After the storm: is the service still answering, and quickly?
        probe_started = time.perf_counter()
        health = await client.get("/healthz")
        health_ms = (time.perf_counter() - probe_started) * 1000
    await canary.stop()
    result = summarize(url, clients, duration_s, hostile_share, elapsed, cause_ids, warmup, outcomes,
                       canary.hits, health.status_code, health_ms, sampler)
    result["client_cpu_seconds"] = round(client_cpu_s, 1)
    result["server_side_mean_ms"] = server_side
    return result


# ------------------------------------------------------------------------------------------------ report

def summarize(url, clients, duration_s, hostile_share, elapsed, cause_ids, warmup, outcomes, canary_hits,
              health_status, health_ms, sampler) -> dict[str, Any]:
    legit = [o for o in outcomes if not o.spec.hostile]
    hostile = [o for o in outcomes if o.spec.hostile]
    legit_errors = [o for o in legit if o.error or o.status is None]
    hostile_failures = [o for o in hostile if not hostile_ok(o)]

    by_group: dict[str, list[Outcome]] = defaultdict(list)
    for o in legit:
        by_group[o.spec.group].append(o)
        by_group["ALL friendly" if not o.spec.path.startswith("/sparql") else "ALL /sparql"].append(o)
    groups = {}
    for name, items in sorted(by_group.items(), key=lambda kv: (not kv[0].startswith("ALL"), kv[0])):
        ok = [o.latency_s for o in items if not o.error and o.status is not None]
        groups[name] = {"requests": len(items), "errors": len(items) - len(ok),
                        "statuses": dict(Counter(str(o.status) for o in items)), **latency_summary(ok)}

    hostile_kinds: dict[str, dict[str, Any]] = {}
    for o in hostile:
        entry = hostile_kinds.setdefault(o.spec.group, {"requests": 0, "statuses": Counter(), "failures": 0,
                                                         "latencies": []})
        entry["requests"] += 1
        entry["statuses"][str(o.status) if o.status is not None else "transport error"] += 1
        entry["failures"] += 0 if hostile_ok(o) else 1
        entry["latencies"].append(o.latency_s)
    for entry in hostile_kinds.values():
        entry["statuses"] = dict(entry["statuses"])
        entry.update({k: v for k, v in latency_summary(entry.pop("latencies")).items() if k != "n"})

    error_examples = Counter(f"{o.spec.group}: {o.error or 'transport error'}"[:240] for o in legit_errors)
    failure_examples = Counter(f"{o.spec.group}: {o.status} {o.error}"[:240] for o in hostile_failures)
    ok_latencies = [o.latency_s for o in legit if not o.error and o.status is not None]
    result = {
        "kind": "load", "date": stamp(), "url": url, "machine": machine_notes(),
        "config": {"clients": clients, "duration_s": duration_s, "hostile_share": hostile_share,
                   "cause_ids": len(cause_ids)},
        "elapsed_s": round(elapsed, 2),
        "requests": len(outcomes), "legitimate": len(legit), "hostile": len(hostile),
        "throughput_rps": round(len(outcomes) / elapsed, 1),
        "legitimate_ok_rps": round(len(ok_latencies) / elapsed, 1),
        "legitimate_errors": len(legit_errors),
        "legitimate_error_examples": dict(error_examples.most_common(12)),
        "hostile_failures": len(hostile_failures),
        "hostile_failure_examples": dict(failure_examples.most_common(12)),
        "canary_hits": canary_hits,
        "latency_legitimate": latency_summary(ok_latencies),
        "groups": groups,
        "hostile_kinds": hostile_kinds,
        "cold_first_requests_ms": {f"{o.spec.group} {o.spec.path}"[:90]: round(o.latency_s * 1000, 1)
                                   for o in warmup},
        "cold_first_errors": [f"{o.spec.group}: {o.status} {o.error}"[:200] for o in warmup if o.error],
        "healthz_after": {"status": health_status, "ms": round(health_ms, 1)},
        "server_process_tree": sampler.report() if sampler is not None else None,
    }
    result["passed"] = not legit_errors and not hostile_failures and canary_hits == 0
    return result


def code_label(code: dict[str, Any]) -> str:
    dirty = code["uncommitted_service_files"]
    return code["commit"] + (f" + uncommitted {', '.join(dirty)} (diff {code['uncommitted_diff_sha256']})"
                             if dirty else "")


def markdown(result: dict[str, Any]) -> str:
    cfg, lat = result["config"], result["latency_legitimate"]
    tree = result["server_process_tree"] or {}
    lines = [
        (f"### Load test {result['date']} — {cfg['clients']} clients × {cfg['duration_s']:g} s, "
        f"hostile share {cfg['hostile_share']:.1%} — {'PASS' if result['passed'] else 'FAIL'}"),
        "",
        "| metric | value |", "|---|---|",
        f"| requests (legitimate / hostile) | {result['requests']} ({result['legitimate']} / {result['hostile']}) |",
        f"| throughput, all requests | {result['throughput_rps']} req/s |",
        f"| legitimate answered OK | {result['legitimate_ok_rps']} req/s |",
        f"| legitimate errors | {result['legitimate_errors']} |",
        f"| hostile not refused/cut | {result['hostile_failures']} (SERVICE canary hits: {result['canary_hits']}) |",
        (f"| legitimate latency p50 / p90 / p99 / max | {lat['p50_ms']} / {lat['p90_ms']} / {lat['p99_ms']} / "
        f"{lat['max_ms']} ms |"),
        (f"| peak RSS, server + workers | {tree.get('peak_rss_mb', 'n/a')} MB (main {tree.get('peak_main_rss_mb', 'n/a')}"
        f" MB, workers {tree.get('peak_children_rss_mb', 'n/a')} MB, {tree.get('max_children', '?')} children; "
        f"start {tree.get('start_rss_mb', 'n/a')} MB, end {tree.get('end_rss_mb', 'n/a')} MB) |"),
        (f"| CPU during the run | server tree {tree.get('cpu_seconds', 'n/a')} CPU-s, load client "
        f"{result.get('client_cpu_seconds', 'n/a')} CPU-s, in {result['elapsed_s']} s on {result['machine']['cpus']} cores; "
        f"all cores busy {tree.get('machine_cpu_busy', 'n/a')} (the tree misses workers killed at the deadline) |"),
        f"| code measured | {code_label(result['machine']['code'])} |",
        f"| /healthz right after | {result['healthz_after']['status']} in {result['healthz_after']['ms']} ms |",
        "",
        "| legitimate group | requests | errors | statuses | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for name, g in result["groups"].items():
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted(g["statuses"].items()))
        bold = "**" if name.startswith("ALL") else ""
        lines.append(f"| {bold}{name}{bold} | {g['requests']} | {g['errors']} | {statuses} | {g['p50_ms']} | "
                     f"{g['p90_ms']} | {g['p99_ms']} | {g['max_ms']} |")
    if result.get("server_side_mean_ms"):
        lines += ["", ("Time inside the app per route (mean, from the service's /metrics; the rest of the client-side "
                  "latency is queueing in the client and the kernel):"), "",
                  "| route | requests | mean ms in app |", "|---|---:|---:|"]
        lines += [f"| {route} | {m['requests']} | {m['mean_ms']} |"
                  for route, m in sorted(result["server_side_mean_ms"].items())]
    lines += ["", "| hostile kind | requests | statuses | not refused/cut | p50 ms | max ms |",
              "|---|---:|---|---:|---:|---:|"]
    for name, h in result["hostile_kinds"].items():
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted(h["statuses"].items()))
        lines.append(f"| {name.removeprefix('hostile: ')} | {h['requests']} | {statuses} | {h['failures']} | "
                     f"{h['p50_ms']} | {h['max_ms']} |")
    if result["legitimate_error_examples"]:
        lines += ["", "Legitimate errors (most frequent):", ""]
        lines += [f"- {n}× `{text}`" for text, n in result["legitimate_error_examples"].items()]
    if result["hostile_failure_examples"]:
        lines += ["", "Hostile requests not refused or cut:", ""]
        lines += [f"- {n}× `{text}`" for text, n in result["hostile_failure_examples"].items()]
    if result["cold_first_errors"]:
        lines += ["", "Errors in the warm-up pass (each request once, before the load):", ""]
        lines += [f"- `{text}`" for text in result["cold_first_errors"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--url", help="target an already running server instead of starting one")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, for RSS (default: found by port)")
    parser.add_argument("--workers", type=int, default=2, help="SPARQL worker processes of the started server")
    parser.add_argument("--timeout", type=float, default=3, help="SPARQL deadline (s) of the started server")
    parser.add_argument("--hostile-share", type=float, default=0.015, help="share of hostile requests (0.015)")
    parser.add_argument("--friendly-only", action="store_true",
                        help="only the friendly /api and /entity endpoints: no /sparql, no hostile queries")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="directory for the JSON and markdown")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.clients > 1024 or args.duration <= 0 or args.duration > 600:
        parser.error("--clients must be 1..1024 and --duration 0..600 s")

    server = None
    with tempfile.TemporaryDirectory(prefix="kg-load-") as tmp:
        try:
            if args.url:
                url = args.url.rstrip("/")
                host = urlparse(url).hostname
                if host not in ("127.0.0.1", "localhost", "::1"):
                    parser.error("--url must be a loopback address")
                pid = args.pid or pid_listening_on(urlparse(url).port or 80)
            else:
                server = start_kg_service(Path(tmp), workers=args.workers, timeout_s=args.timeout)
                url, pid = server.url, server.process.pid
            sampler = TreeSampler(pid) if pid else None
            result = asyncio.run(run_load(url, args.clients, args.duration, args.hostile_share, args.seed, sampler,
                                        args.friendly_only))
            result["config"].update({"friendly_only": args.friendly_only, "workers": args.workers if server else None,
                                     "timeout_s": args.timeout if server else None, "seed": args.seed})
        finally:
            if server is not None:
                log_tail = server.log()[-4000:]
                stop_kg_service(server)
    if server is not None:
        result["server_log_tail"] = log_tail
    args.output.mkdir(parents=True, exist_ok=True)
    base = args.output / f"load-{result['date']}"
    base.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    base.with_suffix(".md").write_text(text)
    print(text)
    print(f"wrote {base}.json and .md")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
