"""What both benchmarks share: starting and stopping servers, binding stored queries, latency statistics,
and the RSS sampler of a server's process tree. Everything binds to 127.0.0.1 only."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import math
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _load_test_fixtures():
    """tests/conftest.py by path: the benchmarks start servers exactly as the test-suite does."""
    spec = importlib.util.spec_from_file_location("kg_bench_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fixtures = _load_test_fixtures()
RESTARTS = 3  # a restart is two seconds of mostly imports on a shared machine: its median of three is reported


def compile_bytecode(root: Path = ROOT) -> None:
    """Write the service's bytecode, as installing its wheel does (pip compiles at install). A checkout installed
    with `pip install -e` on a machine with PYTHONDONTWRITEBYTECODE=1 (this one) otherwise compiles every module
    of kg_service again at every start, and a restart would measure that instead of the service."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "kg_service")], check=True,
                   stdout=subprocess.DEVNULL)
free_port = fixtures.free_port
RunningServer = fixtures.RunningServer


# ---------------------------------------------------------------------------------------------- servers

def start_kg_service(tmp_dir: Path, workers: int | None = None, timeout_s: float | None = None,
                     extra: Iterable[str] = ()) -> RunningServer:
    """`kg-service serve` on a free 127.0.0.1 port, ready when /readyz answers 200."""
    args = list(extra)
    if workers is not None:
        args += ["--workers", str(workers)]
    if timeout_s is not None:
        args += ["--timeout", str(timeout_s)]
    return fixtures.start_server(tmp_dir, *args)


def stop_kg_service(server: RunningServer) -> None:
    fixtures.stop_server(server)


def start_oxigraph(tmp_dir: Path) -> tuple[str, subprocess.Popen]:
    """The Oxigraph server (`oxigraph serve-read-only --union-default-graph`) on the same N-Quads."""
    return fixtures.start_oxigraph_server(tmp_dir)


def write_nquads(tmp_dir: Path) -> Path:
    from kg_service.graph import load_graph

    path = tmp_dir / "graphs.nq"
    if not path.exists():
        path.write_bytes(load_graph(ROOT / "ontology").nquads())
    return path


def start_rdflib_endpoint(tmp_dir: Path) -> tuple[str, subprocess.Popen]:
    """rdflib-endpoint 0.6 on the same N-Quads: an rdflib Dataset with default_union=True, updates off (the
    default), bound to 127.0.0.1 (its CLI default is localhost). It serves SPARQL at `/`."""
    data = write_nquads(tmp_dir)
    port = free_port()
    with open(tmp_dir / f"rdflib-endpoint-{port}.log", "wb") as log:
        process = subprocess.Popen(["rdflib-endpoint", "serve", "--host", "127.0.0.1", "--port", str(port),
                                    str(data)], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_dir)
    endpoint = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rdflib-endpoint exited with {process.returncode}")
        try:
            response = httpx.get(endpoint, params={"query": "ASK {}"}, timeout=2,
                                 headers={"Accept": "application/sparql-results+json"})
            if response.status_code == 200:
                return endpoint, process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("rdflib-endpoint did not start")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate one process we started and any children it left (our SPARQL workers)."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        children = []
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass


# ------------------------------------------------------------------------------------------ stored queries

def catalog():
    from kg_service.catalog import Catalog

    return Catalog.load(ROOT / "queries")


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def bound_query(query, params: Mapping[str, str]) -> str:
    """A stored query's text with its parameters as a VALUES block at the head of the WHERE group.

    The values go through the catalog's own validation (`StoredQuery.bind`: ids become IRIs under ks:,
    strings escaped literals) and are written with `n3()`, so this is the text a researcher would send
    to any SPARQL endpoint; engines join the VALUES first, as our backend's pre-bound substitution does."""
    bindings = query.bind(dict(params))
    if not bindings:
        return query.text
    values = " ".join(f"VALUES ?{name} {{ {term.n3()} }}" for name, term in bindings.items())
    match = _WHERE.search(query.text)
    if match is None:
        raise ValueError(f"{query.name}: no WHERE group to bind into")
    return query.text[:match.end()] + f"\n  {values}\n" + query.text[match.end():]


def label_search_query(text: str, limit: int = 10) -> str:
    """What a peer has to run for /api/search: a scan of labels and synonyms with CONTAINS(LCASE(...))."""
    needle = text.lower().replace("\\", "\\\\").replace('"', '\\"')
    return f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX oboInOwl: <http://www.geneontology.org/formats/oboInOwl#>
SELECT DISTINCT ?entity ?label WHERE {{
  ?entity rdfs:label ?label .
  {{ ?entity rdfs:label ?name }} UNION {{ ?entity oboInOwl:hasExactSynonym ?name }}
  UNION {{ ?entity oboInOwl:hasRelatedSynonym ?name }}
  FILTER(CONTAINS(LCASE(STR(?name)), "{needle}"))
}}
ORDER BY ?label
LIMIT {limit}
"""


# -------------------------------------------------------------------------------------------- statistics

def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def latency_summary(latencies_s: list[float]) -> dict[str, float | int]:
    values = sorted(latencies_s)
    ms = lambda v: round(v * 1000, 2)
    return {"n": len(values), "p50_ms": ms(percentile(values, 50)), "p90_ms": ms(percentile(values, 90)),
            "p99_ms": ms(percentile(values, 99)), "max_ms": ms(values[-1]) if values else float("nan")}


def code_version(root: Path = ROOT) -> dict[str, Any]:
    """The commit measured, and any uncommitted change to the service (others edit the same checkout)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False).stdout

    if not (root / ".git").exists() and (root / "COMMIT").is_file():  # a `git archive` snapshot, commit noted
        return {"commit": (root / "COMMIT").read_text().strip(), "uncommitted_service_files": [],
                "uncommitted_diff_sha256": None}
    dirty = git("status", "--porcelain", "--", "kg_service", "queries", "ontology", "pyproject.toml").splitlines()
    diff = git("diff", "HEAD", "--", "kg_service", "queries", "ontology", "pyproject.toml")
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "uncommitted_service_files": [d[3:] for d in dirty],
            "uncommitted_diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:12] if diff else None}


def machine_notes() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "note": "client and servers share the same cores", "code": code_version()}


def stamp() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d-%H%M")


# ----------------------------------------------------------------------------------------------- memory

def cpu_seconds(procs: Iterable[psutil.Process]) -> float:
    """User + system CPU seconds of these processes (those already gone count 0)."""
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


@dataclass
class TreeSampler:
    """Samples the RSS of a process and all its descendants (the SPARQL workers) every `interval_s`."""

    pid: int
    interval_s: float = 0.5
    peak_total_mb: float = 0.0
    peak_main_mb: float = 0.0
    peak_children_mb: float = 0.0
    max_children: int = 0
    samples: list[tuple[float, float]] = field(default_factory=list)
    cpu_start: float | None = None
    cpu_end: float | None = None
    machine_busy: float | None = None  # share of all cores busy during the run (includes killed workers)
    _machine_start: Any = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _known: dict[int, psutil.Process] = field(default_factory=dict)

    def _tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        procs = [root]
        try:
            procs += root.children(recursive=True)
        except psutil.Error:
            pass
        return procs

    def _cpu_seconds(self) -> float:
        """User + system CPU of the tree, counting children that were respawned during the run."""
        for proc in self._tree():
            self._known.setdefault(proc.pid, proc)
        return cpu_seconds(list(self._known.values()))

    def sample(self) -> None:
        main = children = 0.0
        count = 0
        try:
            procs = self._tree()
        except psutil.Error:
            return
        for i, proc in enumerate(procs):
            try:
                rss = proc.memory_info().rss / 2**20
            except psutil.Error:
                continue
            self._known.setdefault(proc.pid, proc)
            if i == 0:
                main = rss
            else:
                children += rss
                count += 1
        total = main + children
        self.samples.append((time.monotonic(), round(total, 1)))
        self.peak_total_mb = max(self.peak_total_mb, total)
        self.peak_main_mb = max(self.peak_main_mb, main)
        self.peak_children_mb = max(self.peak_children_mb, children)
        self.max_children = max(self.max_children, count)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> None:
        self.sample()
        self.cpu_start = self._cpu_seconds()
        self._machine_start = psutil.cpu_times()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()
        self.cpu_end = self._cpu_seconds()
        end = psutil.cpu_times()
        total = sum(end) - sum(self._machine_start)
        idle = (end.idle + getattr(end, "iowait", 0)) - (self._machine_start.idle + getattr(self._machine_start, "iowait", 0))
        self.machine_busy = round(1 - idle / total, 3) if total > 0 else None

    def report(self) -> dict[str, Any]:
        first = self.samples[0][1] if self.samples else float("nan")
        last = self.samples[-1][1] if self.samples else float("nan")
        return {"pid": self.pid, "interval_s": self.interval_s, "samples": len(self.samples),
                "start_rss_mb": first, "end_rss_mb": last, "peak_rss_mb": round(self.peak_total_mb, 1),
                "peak_main_rss_mb": round(self.peak_main_mb, 1),
                "peak_children_rss_mb": round(self.peak_children_mb, 1), "max_children": self.max_children,
                "cpu_seconds": round((self.cpu_end or 0) - (self.cpu_start or 0), 1),
                "machine_cpu_busy": self.machine_busy}


def pid_listening_on(port: int) -> int | None:
    """The pid of the process listening on a local TCP port (for --url runs), if it can be seen."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                return conn.pid
    except (psutil.Error, PermissionError):
        return None
    return None
