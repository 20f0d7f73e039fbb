"""Fixtures that start the real service (`kg-service serve` on 127.0.0.1, a free port) and talk HTTP to it."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
START_TIMEOUT_S = 90


# -- two test processes on two cores (pytest-xdist, `-n 2` in pyproject.toml) ------------------------------------
# A test marked `alone` bounds wall-clock time (a /healthz probe while runaways burn the workers, a refusal "at
# once"): a test in the other process sharing the cores would make it measure its neighbour. Every test holds one
# lock file for its whole run (setup, call, teardown: module servers start and stop inside it), shared, and an
# `alone` test holds it exclusively; a gate taken first lets a waiting `alone` test in ahead of later tests.


@contextmanager
def _turn(exclusive: bool) -> Iterator[None]:
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:  # one process: nothing to share
        yield
        return
    base = Path(tempfile.gettempdir()) / f"kg-service-tests-{run}"
    with open(f"{base}.gate", "a") as gate, open(f"{base}.lock", "a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# The longest files (pytest --durations), handed out first: each process then ends at about the same time, instead of
# one running the schema fuzz alone at the end.
LONGEST_FIRST = ("test_schema_fuzz.py", "test_w3c_syntax.py", "test_reload.py", "test_bench.py", "test_store.py",
                 "test_inference.py", "test_sparql_security.py", "test_shacl.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    with _turn(exclusive=item.get_closest_marker("alone") is not None):
        return (yield)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kwargs.pop("timeout", 30), **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(tmp_dir: Path, *args: str, env: dict[str, str] | None = None) -> RunningServer:
    """Start `kg-service serve` with extra CLI args and env, wait until /readyz answers 200."""
    port = free_port()
    log_path = tmp_dir / f"server-{port}.log"
    # Each server keeps its on-disk store under the test's own directory, never in the user's cache.
    full_env = {**os.environ, "KG_STORE_DIR": str(tmp_dir / "store"), **(env or {})}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "kg_service.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", *args],
            stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return RunningServer(url, process, log_path)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not become ready:\n{log_path.read_text()}")


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    """The service on the embedded default backend, started once for the whole session."""
    running = start_server(tmp_path_factory.mktemp("server"))
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="session")
def source_text() -> str:
    return (ROOT / "ontology" / "sources" / "knee-night-soreness.txt").read_text(encoding="utf-8")


def start_oxigraph_server(tmp_dir: Path, union_default_graph: bool = True) -> tuple[str, subprocess.Popen]:
    """A real Oxigraph server (PyPI `oxigraph`) on 127.0.0.1, loaded with the ontology's public graphs; without
    `union_default_graph` its default graph is empty, so only a client that names the graphs finds anything."""
    from kg_service.graph import load_graph

    data = tmp_dir / "graphs.nq"
    data.write_bytes(load_graph(ROOT / "ontology").nquads())
    location = tmp_dir / "store"
    subprocess.run(["oxigraph", "load", "--location", str(location), "--file", str(data)], check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    # A query the service gives up on (its deadline, a client's timeout=) would run on in the engine: the engine's
    # own timeout, above the service's 10 s deadline, stops it, as the README advises. Its log stays beside it.
    with open(tmp_dir / "oxigraph-server.log", "wb") as log:
        process = subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(location), "--bind",
                                    f"127.0.0.1:{port}", "--timeout-s", "15"]
                                   + (["--union-default-graph"] if union_default_graph else []),
                                   stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}/query"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(endpoint, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return endpoint, process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("oxigraph server did not start")


@pytest.fixture(scope="session")
def oxigraph_endpoint(tmp_path_factory) -> Iterator[str]:
    # No union default graph: the service's stored queries and forwarded /sparql name the public graphs themselves.
    endpoint, process = start_oxigraph_server(tmp_path_factory.mktemp("oxigraph"), union_default_graph=False)
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session", params=["oxigraph", "rdflib", "remote"])
def backend_client(request, tmp_path_factory) -> Iterator[httpx.Client]:
    """The same service over each backend: embedded Oxigraph (the default), rdflib, and a remote Oxigraph server."""
    if request.param == "oxigraph":
        running = request.getfixturevalue("server")
        with running.client() as c:
            yield c
        return
    args = ["--backend", request.param]
    if request.param == "remote":
        args += ["--endpoint", request.getfixturevalue("oxigraph_endpoint")]
    running = start_server(tmp_path_factory.mktemp(f"server-{request.param}"), *args)
    try:
        with running.client() as c:
            yield c
    finally:
        stop_server(running)
