"""Fixtures that start the real service (`kg-service serve` on 127.0.0.1, a free port) and talk HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
START_TIMEOUT_S = 90


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
