"""The public endpoint against hostile input (research/sparql-security.md §9), against a running server with
a 2 s deadline, a logging listener and a never-answering listener on 127.0.0.1 proving nothing goes out."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import psutil
import pytest

from conftest import RunningServer, start_server, stop_server

DEADLINE_S = 2.0
CART3 = "SELECT (COUNT(*) AS ?c) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


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


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[str, list[str]]]:
    """A logging HTTP server: any request that reaches it is an outbound request the service must not make."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(f"GET {self.path}")
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.fixture(scope="module")
def tarpit() -> Iterator[str]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert "Traceback" not in response.text and "/work/" not in response.text and "site-packages" not in response.text
    return body["type"].rsplit("/", 1)[1]


def query(api: httpx.Client, text: str, **kwargs) -> httpx.Response:
    return api.get("/sparql", params={"query": text}, **kwargs)


def test_from_file_is_refused_and_leaks_nothing(api: httpx.Client, tmp_path) -> None:
    canary = tmp_path / "canary.ttl"
    canary.write_text('<urn:canary> <urn:p> "canary-7f3a9" .\n')
    for clause in (f"FROM <file://{canary}>", f"FROM NAMED <file://{canary}>", "FROM <file:///etc/hostname>"):
        response = query(api, f"SELECT * {clause} WHERE {{ ?s ?p ?o }}")
        assert response.status_code == 400 and problem_type(response) == "refused-feature"
        assert "canary-7f3a9" not in response.text


def test_from_url_and_service_make_no_outbound_request(api: httpx.Client, listener) -> None:
    url, hits = listener
    attacks = [
        f"SELECT * FROM <{url}/x.ttl> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{url}/x.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"select * where {{ service <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * WHERE {{ SERVIC\\u0045 <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"PREFIX e: <{url}/> SELECT * WHERE {{ SERVICE e:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ # comment\n SERVICE\n<{url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * FRO\\u004D <{url}/x.ttl> WHERE {{ ?s ?p ?o }}",
    ]
    for attack in attacks:
        response = query(api, attack)
        assert response.status_code == 400, attack
        assert problem_type(response) == "refused-feature", attack
    time.sleep(0.3)
    assert hits == []


def test_service_to_a_tarpit_is_answered_at_once(api: httpx.Client, tarpit: str) -> None:
    started = time.monotonic()
    response = query(api, f"SELECT * WHERE {{ SERVICE <{tarpit}/sparql> {{ ?s ?p ?o }} }}")
    assert response.status_code == 400 and time.monotonic() - started < 1.0


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


def server_tree(running: RunningServer) -> list[psutil.Process]:
    root = psutil.Process(running.process.pid)
    return [root, *root.children(recursive=True)]


def test_runaway_query_is_cut_at_the_deadline_while_health_stays_fast(api: httpx.Client,
                                                                      hardened: RunningServer) -> None:
    result: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        result["response"] = query(api, CART3)
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    probes = []
    with hardened.client() as probe:
        while thread.is_alive():
            started = time.monotonic()
            assert probe.get("/healthz").status_code == 200
            probes.append(time.monotonic() - started)
            time.sleep(0.1)
        assert probe.get("/api/causes").status_code == 200
    thread.join()
    response = result["response"]
    assert response.status_code == 503 and problem_type(response) == "query-timeout"
    assert response.headers["retry-after"] and response.json()["limit"] == "time"
    assert DEADLINE_S <= result["elapsed"] < DEADLINE_S + 1
    assert probes and max(probes) < 0.2
    time.sleep(2)
    busy = sum(p.cpu_percent(interval=None) for p in server_tree(hardened))
    busy = sum(p.cpu_percent(interval=1.0) for p in server_tree(hardened))
    assert busy < 25, f"server still busy after the deadline: {busy}% CPU"


def test_redos_regex_does_not_freeze_anything(api: httpx.Client) -> None:
    started = time.monotonic()
    response = query(api, 'ASK { FILTER(REGEX("' + "a" * 30 + '!", "^(a+)+$")) }')
    assert response.status_code in (200, 503) and time.monotonic() - started < DEADLINE_S + 1
    assert api.get("/healthz").status_code == 200


def test_memory_bomb_is_stopped_with_memory_bounded(api: httpx.Client, hardened: RunningServer) -> None:
    binds = " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(28))
    started = time.monotonic()
    response = query(api, f'SELECT (STRLEN(?x28) AS ?n) WHERE {{ BIND("{"a" * 16}" AS ?x0) {binds} }}')
    assert response.status_code in (500, 503) and time.monotonic() - started < DEADLINE_S + 2
    assert problem_type(response) in ("query-timeout", "query-failed")
    rss = sum(p.memory_info().rss for p in server_tree(hardened))
    assert rss < 2 * 1024**3  # the workers' 1 GiB RLIMIT_AS held
    assert query(api, "ASK {}").status_code == 200  # the pool recovered


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


def test_saturated_pool_answers_503_at_once(api: httpx.Client, hardened: RunningServer) -> None:
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(query, api, cartesian(f"busy{i}")) for i in range(2)]
        time.sleep(0.5)
        started = time.monotonic()
        extra = query(api, cartesian("extra"))
        assert time.monotonic() - started < 0.5
        assert extra.status_code == 503 and problem_type(extra) == "overloaded" and extra.headers["retry-after"]
        assert all(f.result().status_code == 503 for f in futures)


@pytest.mark.parametrize("text,status,kind", [
    ("DROP ALL", 400, "query-syntax-error"),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", 400, "query-syntax-error"),
    ("SELECT * WHERE " + "{" * 40 + " ?s ?p ?o " + "}" * 40, 400, "query-too-complex"),
    ("SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000, 400, "query-too-complex"),
    ("SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 30 + "?o" + ")" * 30 + ") }", 400, "query-too-complex"),
    ("SELECT * WHERE { ?s ?p ?o FILTER(" + " || ".join(["?o = 0"] * 10000) + ") }", 413, "payload-too-large"),
], ids=["drop-all", "insert-data", "40-braces", "3000-braces", "30-parens", "130KB-or-chain"])
def test_malformed_and_oversized_queries_are_4xx_and_the_server_lives(api: httpx.Client, text: str, status: int,
                                                                       kind: str) -> None:
    response = api.post("/sparql", data={"query": text})
    assert response.status_code == status and problem_type(response) == kind
    assert api.get("/healthz").status_code == 200


def test_long_path_sequence_is_cut_at_the_deadline(api: httpx.Client) -> None:
    path = "/".join(["<urn:p>"] * 500)
    response = query(api, f"SELECT * WHERE {{ ?s {path} ?o }}")
    assert response.status_code in (400, 503)
    assert api.get("/healthz").status_code == 200


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


@pytest.mark.parametrize("raw", [b"/sparql?query=SELECT%20%FF", b"/sparql?query=SELECT%20%ED%A0%80"])
def test_invalid_utf8_in_the_query_string_is_400(hardened: RunningServer, raw: bytes) -> None:
    with socket.create_connection(("127.0.0.1", int(hardened.url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(b"GET " + raw + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400") and b"invalid-encoding" in reply


def test_invalid_utf8_body_and_oversized_body(api: httpx.Client) -> None:
    response = api.post("/sparql", content=b'SELECT * WHERE { ?s ?p "\xff\xfe" }',
                        headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400 and problem_type(response) == "invalid-encoding"
    big = api.post("/sparql", content=b"#" * (1024 * 1024), headers={"Content-Type": "application/sparql-query"})
    assert big.status_code == 413 and problem_type(big) == "payload-too-large"


def test_huge_accept_headers(api: httpx.Client, hardened: RunningServer) -> None:
    accept = ", ".join(f"application/x-media-type-{i:04d};q=0.{i % 9 + 1}" for i in range(1500))
    assert 50_000 < len(accept) < 64_000
    started = time.monotonic()
    response = query(api, "ASK {}", headers={"Accept": accept + ", */*;q=0.01"})
    assert response.status_code in (200, 406) and time.monotonic() - started < 0.5
    with pytest.raises(httpx.HTTPError):
        with hardened.client() as client:
            client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "a/b, " * 200_000})
    assert api.get("/healthz").status_code == 200


def test_security_headers(api: httpx.Client) -> None:
    response = api.get("/sparql", headers={"Accept": "text/html"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src" in response.headers["content-security-policy"]
