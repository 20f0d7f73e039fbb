"""Hardening beside the security checklist (tests/test_sparql_security.py): the runaway guard, the update
protocol, the worker guards and the security headers, against a running server with a 2 s deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import RunningServer, start_server, stop_server

DEADLINE_S = 2.0
pytestmark = pytest.mark.alone  # a refusal "at once" is timed: no neighbour on the cores (tests/conftest.py)


@pytest.fixture(scope="module")
def hardened(tmp_path_factory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("hardened"), "--timeout", str(DEADLINE_S), "--workers", "2",
                           env={"KG_QUEUE_SIZE": "0"})
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def api(hardened: RunningServer) -> Iterator[httpx.Client]:
    with hardened.client(timeout=30) as client:
        yield client


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert "Traceback" not in response.text and "/work/" not in response.text and "site-packages" not in response.text
    return body["type"].rsplit("/", 1)[1]


def query(api: httpx.Client, text: str, **kwargs) -> httpx.Response:
    return api.get("/sparql", params={"query": text}, **kwargs)


def test_rdflib_never_loads_graphs_in_the_service_process_or_workers() -> None:
    """Checked in a fresh interpreter: the worker's hardening also disables urllib, which pytest still needs."""
    import subprocess
    import sys

    code = ("import rdflib.plugins.sparql as s, urllib.request as u, socket\n"
            "import kg_service.backends.rdflib_memory\n"
            "assert s.SPARQL_LOAD_GRAPHS is False\n"
            "from kg_service.sparql.worker import harden_process\n"
            "harden_process(256)\n"
            "assert s.SPARQL_LOAD_GRAPHS is False and socket.getdefaulttimeout() == 1\n"
            "print('blocked' if u.urlopen('http://127.0.0.1:9/') is None else 'opened')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("blocked")


def cartesian(tag: str) -> str:
    """A runaway query that is new each time (a repeat of one just cut would be refused at once)."""
    return f"SELECT (COUNT(*) AS ?{tag}) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?{tag} }}"


def test_a_repeat_of_a_query_cut_at_the_deadline_is_refused_at_once(api: httpx.Client) -> None:
    first = query(api, cartesian("repeat"))
    assert first.status_code == 503 and problem_type(first) == "query-timeout"
    started = time.monotonic()
    again = query(api, "# the same query, other comments and spacing\n" + cartesian("repeat").replace(" . ", " .\n  "))
    assert time.monotonic() - started < 0.5
    assert again.status_code == 503 and problem_type(again) == "query-timeout" and again.json()["repeated"] is True
    assert int(again.headers["retry-after"]) > 0
    assert query(api, "ASK { ?s ?p ?o }").status_code == 200  # the workers were not held


def test_update_protocol_requests(api: httpx.Client) -> None:
    assert problem_type(api.post("/sparql", data={"update": "DROP ALL"})) == "update-refused"
    response = api.post("/sparql", content=b"DROP ALL", headers={"Content-Type": "application/sparql-update"})
    assert response.status_code == 403
    two = api.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert two.status_code == 400 and problem_type(two) == "malformed-request"
    plain = api.post("/sparql", content=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415 and problem_type(plain) == "unsupported-media-type"
    count = api.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    assert int(count["results"]["bindings"][0]["n"]["value"]) > 3000  # nothing was dropped


def test_security_headers(api: httpx.Client) -> None:
    response = api.get("/sparql", headers={"Accept": "text/html"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src" in response.headers["content-security-policy"]
