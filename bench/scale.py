"""Scale (issue 7, goal 3): time to ready, closure, restart, memory, search and reload on generated graphs,
side by side with the Oxigraph CLI and server on the same data, in one run.

    python bench/scale.py                         # 10k, 100k and 1M generated triples (about 15 min here)
    python bench/scale.py --sizes 10000 100000    # smaller

For each size: `bench/generate.py` writes the triples; `oxigraph load` loads them with the ontology's modules
(wall time, peak RSS); `oxigraph serve-read-only` serves that store (RSS after a few queries); then
`kg-service serve --data FILE` with a fresh store directory: time to /readyz, the build's own load and closure
times (the store's meta.json), peak RSS of the process tree while starting, search p50 over distinct queries
(each a cache miss), RSS after the queries; three restarts on the unchanged store (time to /readyz; their median
is reported, with each); and reloads
after three curator's edits (POST /admin/reload, the Java checks skipped as `KG_SKIP_REASONER_ON_RELOAD`
allows): a label and a hedge inside an axiom annotation (both edited in place), and a drug's class with its
axiom annotation (the closure maintained: the rules stay the same). Results: bench/results/scale-<date>.json and .md. Every server binds 127.0.0.1 and is stopped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from common import RESTARTS, compile_bytecode
from common import stop_process as stop
from generate import main as generate

TOKEN = "scale-bench-token"
READY_TIMEOUT_S = 1800


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PeakRss:
    """Samples the RSS of a process and its children every 50 ms; `peak` and `now` in MB."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self, proportional: bool = False) -> float:
        """RSS summed over the tree; with `proportional`, PSS (each shared page divided among the processes that
        map it): the workers fork from one forkserver and share its pages, which a sum of RSS counts again and
        again."""
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for proc in procs:
            try:
                total += proc.memory_full_info().pss if proportional else proc.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.05)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of a command."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = PeakRss(process.pid)
    if process.wait() != 0:
        raise RuntimeError(f"{args} failed")
    return time.perf_counter() - started, sampler.stop()


def wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("not ready in time")


def start_service(args: list[str], log: Path) -> tuple[subprocess.Popen, str, float, PeakRss]:
    port = free_port()
    env = {**os.environ, "KG_ADMIN_TOKEN": TOKEN, "KG_SKIP_REASONER_ON_RELOAD": "true"}
    started = time.perf_counter()
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "kg_service.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--log-level", "warning", *args], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    sampler = PeakRss(process.pid)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/readyz", process)
    return process, url, time.perf_counter() - started, sampler


def search_queries(client: httpx.Client, count: int, seed: int) -> list[str]:
    """Distinct queries as people type them: word prefixes, whole words, two words, typos."""
    rng = random.Random(seed)
    labels = [i["label"] for i in client.get("/api/causes", params={"limit": 200}).json()["items"]]
    labels += [i["label"] for i in client.get("/api/interventions", params={"limit": 200}).json()["items"]]
    words = sorted({w for label in labels for w in label.lower().split() if len(w) >= 3})
    queries: list[str] = []
    while len(queries) < count:
        word, kind = rng.choice(words), rng.randint(0, 3)
        if kind == 0:
            query = word[: rng.randint(3, len(word))]
        elif kind == 1:
            query = f"{word} {rng.choice(words)}"
        elif kind == 2 and len(word) > 5:
            cut = rng.randint(1, len(word) - 2)
            query = word[:cut] + word[cut + 1:]  # a letter missing
        else:
            query = word
        queries.append(f"{query}{' ' * (len(queries) // len(words))}")  # spaces keep repeats distinct
    return queries


def measure_search(client: httpx.Client, seed: int, count: int = 200) -> dict:
    client.get("/api/search", params={"q": "warm-up"})  # waits for the name index once
    latencies = []
    for query in search_queries(client, count, seed):
        started = time.perf_counter()
        response = client.get("/api/search", params={"q": query})
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    latencies.sort()
    return {"queries": count, "p50_ms": round(statistics.median(latencies), 2),
            "p90_ms": round(latencies[int(0.9 * count)], 2), "max_ms": round(latencies[-1], 2)}


def measure_stored_queries(client: httpx.Client) -> dict:
    """Each stored query once through `/api/queries/{name}` with its examples for required parameters: the first
    answer of a graph version is computed (later ones come from the version-keyed cache), so this is the
    engine's time at this size plus one HTTP round trip."""
    timings = {}
    for query in client.get("/api/queries").json():
        params = {p["name"]: p["example"] for p in query["parameters"] if p["required"] and p["example"] is not None}
        started = time.perf_counter()
        response = client.get(f"/api/queries/{query['name']}", params=params, headers={"Accept": "application/json"})
        timings[query["name"]] = round((time.perf_counter() - started) * 1000, 1)
        response.raise_for_status()
    ordered = sorted(timings.values())
    slowest = max(timings, key=timings.get)
    return {"ms": timings, "p50_ms": round(statistics.median(ordered), 1), "max_ms": timings[slowest],
            "slowest": slowest}


def latest_meta(store: Path) -> dict:
    return json.loads(max(store.glob("*/*/meta.json"), key=lambda p: p.stat().st_mtime).read_text())


def edit_and_reload(client: httpx.Client, module: Path, *edits: tuple[str, str]) -> float:
    """Replace the first `old` by `new` of each edit in a module, POST /admin/reload, and return the reload's
    seconds (the reload must be accepted: the edit passes the checks)."""
    text = module.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    module.write_text(text)
    started = time.perf_counter()
    client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=1800).raise_for_status()
    return round(time.perf_counter() - started, 2)


# The drug class of one drug changed, in its assertion and in the axiom annotation that says where it comes from.
CLOSURE_EDIT = (("    ks:has_drug_class ks:nsaid ;\n", "    ks:has_drug_class ks:viscosupplement ;\n"),
                ("owl:annotatedSource ks:ibuprofen-sustained-release-capsules ;\n    owl:annotatedProperty ks:has_drug_class ;"
                 "\n    owl:annotatedTarget ks:nsaid ;", "owl:annotatedSource ks:ibuprofen-sustained-release-capsules ;\n"
                 "    owl:annotatedProperty ks:has_drug_class ;\n    owl:annotatedTarget ks:viscosupplement ;"))


LIGHT_QUERY = "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } LIMIT 10"


def measure_size(size: int, seed: int, work: Path) -> dict:
    data = work / f"generated-{size}.nt"
    generate(["--triples", str(size), "--seed", str(seed), "-o", str(data)])
    ontology = work / "ontology"
    shutil.rmtree(ontology, ignore_errors=True)
    shutil.copytree(ROOT / "ontology", ontology)
    modules = [str(ontology / "ks-schema.ttl"), str(ontology / "ks-knowledge.ttl")]
    result: dict = {"generated_triples": size}

    # Oxigraph: the CLI's load of the same triples, then its server on that store.
    ox_store = work / f"oxigraph-{size}"
    shutil.rmtree(ox_store, ignore_errors=True)
    seconds, peak = run_timed(["oxigraph", "load", "--location", str(ox_store), "--file", str(data), *modules])
    result["oxigraph_load_s"], result["oxigraph_load_peak_rss_mb"] = round(seconds, 2), round(peak)
    port = free_port()
    server = subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(ox_store), "--bind",
                               f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", server)
        sampler = PeakRss(server.pid)
        for _ in range(20):
            httpx.get(f"http://127.0.0.1:{port}/query", params={"query": LIGHT_QUERY}, timeout=60)
        result["oxigraph_server_rss_mb"] = round(sampler.now())
        result["oxigraph_server_pss_mb"] = round(sampler.now(proportional=True))
        sampler.stop()
    finally:
        stop(server)

    # Ours: cold start (parse, infer, persist), queries, restart, reload.
    store = work / f"store-{size}"
    shutil.rmtree(store, ignore_errors=True)
    args = ["--ontology", str(ontology), "--data", str(data), "--store-dir", str(store), "--workers", "2"]
    log = work / f"service-{size}.log"
    process, url, ready, sampler = start_service(args, log)
    try:
        meta = json.loads(next(store.glob("*/*/meta.json")).read_text())
        result.update(ready_cold_s=round(ready, 2), build_load_s=meta["load_seconds"],
                      build_write_s=meta.get("write_seconds"),
                      closure_s=meta["closure_seconds"], asserted=meta["asserted"], inferred=meta["inferred"],
                      start_peak_rss_mb=round(sampler.peak))
        with httpx.Client(base_url=url, timeout=120) as client:
            result["search"] = measure_search(client, seed)
            for _ in range(20):
                client.get("/sparql", params={"query": LIGHT_QUERY + f" # {random.random()}"})
            client.get("/api/causes/osteoarthritis-g1/interventions").raise_for_status()
            result["serving_rss_mb"] = round(sampler.now())
            result["serving_pss_mb"] = round(sampler.now(proportional=True))
            # Then every stored query once (whole-graph listings among them: their answers stay cached).
            result["stored_queries"] = measure_stored_queries(client)
            result["rss_after_stored_queries_mb"] = round(sampler.now())
            # A curator's edit of one label: applied to a copy of the served store, the closure kept.
            knowledge = ontology / "ks-knowledge.ttl"
            result["reload_s"] = edit_and_reload(client, knowledge, ('rdfs:label "massage"@en',
                                                                    'rdfs:label "therapeutic massage"@en'))
            assert client.get("/api/interventions/massage").json()["label"] == "therapeutic massage"
            # An annotation among blank nodes (the hedge of an axiom annotation): matched to the served store's
            # blank nodes and edited in place as well.
            result["reload_blank_s"] = edit_and_reload(client, knowledge, ('ks:hedge "may be caused by" .',
                                                                          'ks:hedge "can be caused by" .'))
            assert latest_meta(store).get("edited"), latest_meta(store)
            # An assertion the closure reads (a drug's class, with its axiom annotation) takes the rebuild path:
            # the served store copied, its modules swapped and the closure maintained; the data not parsed again.
            result["reload_rebuild_s"] = edit_and_reload(client, knowledge, *CLOSURE_EDIT)
            meta = latest_meta(store)
            assert meta.get("from") and not meta.get("edited"), meta  # rebuilt from the served store's copy
            result["reload_peak_rss_mb"] = round(sampler.peak)
    finally:
        sampler.stop()
        stop(process)
    restarts = []
    for _ in range(RESTARTS):
        process, url, ready, sampler = start_service(args, log)
        restarts.append(round(ready, 2))
        sampler.stop()
        stop(process)
    result["restart_s"], result["restart_runs_s"] = statistics.median(restarts), restarts
    budget = 1.5 * (result["oxigraph_load_s"] + result["closure_s"])
    result["goals"] = {
        "ready / (oxigraph load + closure), goal <= 1.5": round(result["ready_cold_s"] / budget * 1.5, 2),
        "closure_under_60s": result["closure_s"] < 60,
        "restart_under_2s": result["restart_s"] < 2,
        "rss_vs_oxigraph_server": round(result["serving_rss_mb"] / max(1, result["oxigraph_server_rss_mb"]), 2),
        "pss_vs_oxigraph_server": round(result["serving_pss_mb"] / max(1, result["oxigraph_server_pss_mb"]), 2),
        "search_p50_under_5ms": result["search"]["p50_ms"] < 5,
    }
    return result


def markdown(results: list[dict], load: tuple[float, float, float]) -> str:
    lines = [f"Scale run {dt.date.today()}, load average at start {load[0]:.1f} (2 cores shared).", "",
             ("| generated triples | oxigraph load | closure | ours ready (cold) | ours / (load+closure) | restart "
             "| reload: label / hedge (blank nodes) / drug class (rebuild) | search p50 / p90 | RSS (PSS) ours serving / Oxigraph server | peak RSS ours start / "
             "oxigraph load |"), "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        ratio = r["ready_cold_s"] / (r["oxigraph_load_s"] + r["closure_s"])
        lines.append(f"| {r['generated_triples']:,} | {r['oxigraph_load_s']} s | {r['closure_s']} s | "
                     f"{r['ready_cold_s']} s | {ratio:.2f}x | {r['restart_s']} s ({' / '.join(map(str, r.get('restart_runs_s', [])))}) | {r['reload_s']} / {r.get('reload_blank_s')} / {r.get('reload_rebuild_s')} s | "
                     f"{r['search']['p50_ms']} / {r['search']['p90_ms']} ms | {r['serving_rss_mb']} / "
                     f"{r['oxigraph_server_rss_mb']} MB (PSS {r.get('serving_pss_mb')} / {r.get('oxigraph_server_pss_mb')}) | {r['start_peak_rss_mb']} / {r['oxigraph_load_peak_rss_mb']} MB |")
    for r in results:
        if "stored_queries" in r:
            q = r["stored_queries"]
            slow = ", ".join(f"{name} {ms} ms" for name, ms in sorted(q["ms"].items(), key=lambda i: -i[1])[:5])
            lines += ["", f"Stored queries at {r['generated_triples']:,} triples, first (uncached) answer through "
                      f"/api/queries/{{name}}: p50 {q['p50_ms']} ms over {len(q['ms'])}; slowest: {slow}. RSS after "
                      f"them (their answers cached): {r.get('rss_after_stored_queries_mb')} MB."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    results = []
    compile_bytecode(ROOT)
    with tempfile.TemporaryDirectory(prefix="kg-scale-") as tmp:
        for size in args.sizes:
            results.append(measure_size(size, args.seed, Path(tmp)))
            results[-1]["load_average_after"] = os.getloadavg()[0]
            print(json.dumps(results[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M")
    (args.out / f"scale-{stamp}.json").write_text(json.dumps({"load_average": load, "results": results}, indent=1))
    table = markdown(results, load)
    (args.out / f"scale-{stamp}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
