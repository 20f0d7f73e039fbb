"""The servers a benchmark run starts, each timed from process start to its first ready answer.

Every server binds 127.0.0.1 on a free port; `stop` ends exactly the process it started (and its children).
Ours and the calibration apps run on the same uvicorn; the peers are the Oxigraph server
(`oxigraph load` then `serve-read-only --union-default-graph`) and rdflib-endpoint on the same files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from common import ROOT, cpu_seconds, free_port, stop_process

BENCH = Path(__file__).resolve().parent
# The checkout whose kg_service "ours" runs (`python -m` from its root imports its code); run.py's
# --service-root points it at another checkout (e.g. `git archive main` unpacked) to measure that code.
service_root: Path = ROOT
ASK = {"query": "ASK {}"}


@dataclass
class Started:
    """A running server: where it answers, what it cost to get there."""

    name: str
    base: str                    # scheme://host:port
    sparql_path: str | None      # its SPARQL endpoint's path, if it has one
    process: subprocess.Popen
    ready_s: float               # process start -> first ready answer
    load_s: float | None = None  # a separate load step before the process (oxigraph load)
    log: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def sparql_url(self) -> str:
        return self.base + (self.sparql_path or "")

    @property
    def pid(self) -> int:
        return self.process.pid


class StartFailed(RuntimeError):
    pass


def _wait_ready(process: subprocess.Popen, url: str, params: dict | None, timeout_s: float, log: Path | None,
                started: float) -> float:
    deadline = started + timeout_s
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:] if log else ""
                raise StartFailed(f"{url}: exited with {process.returncode}\n{tail}")
            try:
                if client.get(url, params=params).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    stop_process(process)
    raise StartFailed(f"{url}: not ready within {timeout_s:g} s")


def _spawn(command: Sequence[str], log: Path, cwd: Path, env: dict[str, str] | None = None
           ) -> tuple[subprocess.Popen, float]:
    with open(log, "wb") as out:
        started = time.monotonic()
        return subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                env={**os.environ, **(env or {})}), started


def start_ours(tmp: Path, data: Iterable[Path] = (), *, extra: Sequence[str] = (), timeout_s: float = 900,
               name: str = "ours", store_dir: Path | None = None) -> Started:
    """`python -m kg_service.cli serve` (service_root's code) on a free port; ready when /readyz is 200.

    `store_dir` (KG_STORE_DIR, ignored by a service without an on-disk store): a fresh directory gives a
    cold start, the same one again a restart on unchanged data; never the user's own cache."""
    port = free_port()
    args = [sys.executable, "-m", "kg_service.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", *extra]
    data = [str(path) for path in data]
    if data:
        args += ["--data", *data]
    log = tmp / f"{name}-{port}.log"
    store = store_dir or tmp / f"store-{name}-{port}"
    process, started = _spawn(args, log, service_root, {"KG_STORE_DIR": str(store)})
    base = f"http://127.0.0.1:{port}"
    ready = _wait_ready(process, base + "/readyz", None, timeout_s, log, started)
    return Started(name, base, "/sparql", process, ready, log=log)


def start_asgi(tmp: Path, app: str, name: str) -> Started:
    """A calibration app of bench/calibration.py under uvicorn as ours runs (same protocol, no access log)."""
    port = free_port()
    log = tmp / f"{name}-{port}.log"
    process, started = _spawn([sys.executable, str(BENCH / "calibration.py"), app, "--host", "127.0.0.1",
                               "--port", str(port)], log, ROOT)
    base = f"http://127.0.0.1:{port}"
    ready = _wait_ready(process, base + "/healthz", None, 60, log, started)
    return Started(name, base, None, process, ready, log=log)


def start_oxigraph(tmp: Path, files: Sequence[Path], name: str = "Oxigraph server",
                   timeout_s: float = 900, triples_graph: str | None = None) -> Started:
    """`oxigraph load` (timed) into a fresh directory, then `serve-read-only --union-default-graph` (timed).

    Dataset files (.nq) keep their graphs; triple files go into `triples_graph` when given (the graph ours
    puts `--data` in, so ours with `--backend remote`, which asks for its own graphs, sees them too)."""
    location = tmp / f"oxigraph-{time.monotonic_ns()}"
    quads = [p for p in files if p.suffix in (".nq", ".trig")]
    triples = [p for p in files if p not in quads]
    commands = []
    for group, graph in ((quads, None), (triples, triples_graph)):
        if group:
            command = ["oxigraph", "load", "--location", str(location), *(["--graph", graph] if graph else [])]
            commands.append(command + [arg for path in group for arg in ("--file", str(path))])
    started = time.monotonic()
    for command in commands:
        subprocess.run(command, check=True, capture_output=True, timeout=timeout_s)
    load_s = time.monotonic() - started
    port = free_port()
    log = tmp / f"oxigraph-{port}.log"
    process, started = _spawn(["oxigraph", "serve-read-only", "--location", str(location), "--bind",
                               f"127.0.0.1:{port}", "--union-default-graph"], log, tmp)
    base = f"http://127.0.0.1:{port}"
    ready = _wait_ready(process, base + "/query", ASK, 120, log, started)
    return Started(name, base, "/query", process, ready, load_s=round(load_s, 3), log=log,
                   extra={"location": str(location)})


def start_rdflib_endpoint(tmp: Path, files: Sequence[Path], name: str = "rdflib-endpoint",
                          timeout_s: float = 900) -> Started:
    """rdflib-endpoint 0.6 (an rdflib Dataset, default_union, updates off) on the files; SPARQL at `/`."""
    port = free_port()
    log = tmp / f"rdflib-endpoint-{port}.log"
    process, started = _spawn(["rdflib-endpoint", "serve", "--host", "127.0.0.1", "--port", str(port),
                               *map(str, files)], log, tmp)
    base = f"http://127.0.0.1:{port}"
    ready = _wait_ready(process, base + "/", ASK, timeout_s, log, started)
    return Started(name, base, "/", process, ready, log=log)


def stop(server: Started | None) -> None:
    if server is not None:
        stop_process(server.process)


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def tree_cpu_seconds(pid: int) -> float:
    return cpu_seconds(tree(pid))


def settle(pid: int, max_s: float = 20.0, idle_share: float = 0.05, window_s: float = 0.3) -> float:
    """Wait until the server's process tree is idle (a peer may still be working through a backlog after
    wrk stops), so one measurement does not eat into the next. Returns the seconds waited."""
    started = time.monotonic()
    before = tree_cpu_seconds(pid)
    while time.monotonic() - started < max_s:
        time.sleep(window_s)
        now = tree_cpu_seconds(pid)
        if now - before < idle_share * window_s:
            break
        before = now
    return round(time.monotonic() - started, 2)
