"""Hostile queries against running servers on BOTH engines (research/sparql-security.md §9), with a logging
listener and a never-answering tarpit on 127.0.0.1 proving that nothing goes out, plus the worker pool
itself: deadline, cancellation on disconnect, crash isolation and respawn.

rdflib is where most of the danger lives (FROM loads files and URLs, SERVICE has no timeout, a ReDoS holds the
GIL), so every attack runs against an rdflib-backed server as well as the default Oxigraph one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import httpx
import psutil
import pytest
from conftest import RunningServer, start_server, stop_server

from kg_service.errors import QueryFailed, QueryTimeout
from kg_service.settings import Settings
from kg_service.sparql.executor import PoolClosed, WorkerPool
from kg_service.sparql.results import JSON_RESULTS, Limits
from kg_service.sparql.worker import Job

pytestmark = pytest.mark.alone  # deadlines, /healthz probes and CPU use under runaways: no neighbour on the cores

DEADLINE_S = 2.0
CART3 = "SELECT (COUNT(*) AS ?c) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
REDOS = 'ASK { FILTER(REGEX("' + "a" * 30 + '!", "^(a+)+$")) }'
CONCAT = ('SELECT (STRLEN(?x28) AS ?n) WHERE { BIND("' + "a" * 16 + '" AS ?x0) '
          + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(28)) + " }")
PUBLIC = ("https://w3id.org/knee-soreness/graph/asserted", "https://w3id.org/knee-soreness/graph/inferred")


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    for leak in ("Traceback", "/work/", "site-packages", ".py\""):
        assert leak not in response.text
    return response.json()["type"].rsplit("/", 1)[1]


def server_tree(running: RunningServer) -> list[psutil.Process]:
    root = psutil.Process(running.process.pid)
    return [root, *root.children(recursive=True)]


def busy_percent(running: RunningServer, interval: float = 1.0) -> float:
    processes = server_tree(running)
    for process in processes:
        process.cpu_percent(None)
    time.sleep(interval)
    total = 0.0
    for process in processes:
        try:
            total += process.cpu_percent(None)
        except psutil.NoSuchProcess:
            pass
    return total


@pytest.fixture(scope="module", params=["oxigraph", "rdflib"])
def hardened(request, tmp_path_factory) -> Iterator[RunningServer]:
    """A server with a 2 s deadline, 2 workers and no queue, on each engine."""
    running = start_server(tmp_path_factory.mktemp(f"hardened-{request.param}"), "--backend", request.param,
                           "--timeout", str(DEADLINE_S), "--workers", "2", env={"KG_QUEUE_SIZE": "0"})
    running.backend = request.param  # type: ignore[attr-defined]
    yield running
    stop_server(running)


@pytest.fixture()
def api(hardened: RunningServer) -> Iterator[httpx.Client]:
    with hardened.client(timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[str, list[str]]]:
    """A logging HTTP server: any request reaching it is an outbound request the service must not make."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(f"{self.command} {self.path}")
            body = b'<urn:leak> <urn:p> "fetched-from-listener" .\n'
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

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
    sock.listen(64)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def ask(api: httpx.Client, text: str, **params: str) -> httpx.Response:
    return api.get("/sparql", params={"query": text, **params})


# -- no file is read and no request goes out, whatever the spelling ---------------------------------------------


def test_from_file_is_refused_and_the_canary_never_appears(api: httpx.Client, tmp_path) -> None:
    canary = tmp_path / "canary.ttl"
    canary.write_text('<urn:canary> <urn:p> "canary-4d1c" .\n')
    for text, params in [(f"SELECT * FROM <file://{canary}> WHERE {{ ?s ?p ?o }}", {}),
                         (f"SELECT * FROM NAMED <file://{canary}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
                         (f"select * from <{canary.as_uri()}> where {{ ?s ?p ?o }}", {}),
                         ("SELECT * WHERE { ?s ?p ?o }", {"default-graph-uri": canary.as_uri()}),
                         ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": canary.as_uri()})]:
        response = ask(api, text, **params)
        assert response.status_code == 400 and problem_type(response) == "refused-feature"
        assert "canary-4d1c" not in response.text


def hostile(url: str) -> list[str]:
    return [
        f"SELECT * FROM <{url}/from.ttl> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{url}/named.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"PREFIX e: <{url}/> SELECT * FROM e:prefixed WHERE {{ ?s ?p ?o }}",
        f"SELECT * FRO\\u004D <{url}/escaped.ttl> WHERE {{ ?s ?p ?o }}",
        f"SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}/silent> {{ ?s ?p ?o }} }}",
        f"select * where {{ service <{url}/lower> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{url}/optional> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}/subselect> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * WHERE {{ SERVIC\\u0045 <{url}/escaped> {{ ?s ?p ?o }} }}",
        f"PREFIX e: <{url}/> SELECT * WHERE {{ SERVICE e:prefixed {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{url}/var> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ # a comment\n SERVICE#another\n<{url}/comments> {{ ?s ?p ?o }} }}",
        f"ASK {{ SERVICE <{url}/ask> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}/construct> {{ ?s ?p ?o }} }}",
        f"LOAD <{url}/load.ttl>",
        f"LOAD SILENT <{url}/load.ttl> INTO GRAPH <urn:g>",
        f"ASK {{}} ; LOAD <{url}/appended.ttl>",
    ]


def test_nothing_goes_out_for_any_from_service_or_load(api: httpx.Client, listener) -> None:
    url, hits = listener
    for attack in hostile(url):
        for response in (ask(api, attack), api.post("/sparql", data={"query": attack}),
                         api.post("/sparql", content=attack.encode(),
                                  headers={"Content-Type": "application/sparql-query"})):
            assert response.status_code == 400, attack
            assert problem_type(response) in ("refused-feature", "query-syntax-error"), attack
            assert "fetched-from-listener" not in response.text
    for name in ("default-graph-uri", "named-graph-uri"):
        response = ask(api, "SELECT * WHERE { ?s ?p ?o } LIMIT 1", **{name: f"{url}/protocol.ttl"})
        assert response.status_code == 400 and problem_type(response) == "refused-feature"
    time.sleep(0.3)
    assert hits == []


def test_service_at_a_tarpit_is_answered_at_once(api: httpx.Client, tarpit: str) -> None:
    started = time.monotonic()
    for text in (f"SELECT * WHERE {{ SERVICE <{tarpit}/sparql> {{ ?s ?p ?o }} }}",
                 f"SELECT * FROM <{tarpit}/data.ttl> WHERE {{ ?s ?p ?o }}"):
        assert ask(api, text).status_code == 400
    assert time.monotonic() - started < 1.0


# -- runaway queries: cut at the deadline, the server stays responsive, the CPU comes back ----------------------


def test_cartesian_product_is_cut_at_the_deadline_healthz_stays_fast_and_saturation_is_503(
        api: httpx.Client, hardened: RunningServer) -> None:
    """Both workers burn on cart3; a third query gets 503 at once; /healthz answers in < 200 ms throughout;
    both runaways answer 503 within deadline + 1 s; 2 s later the server tree is idle."""
    with ThreadPoolExecutor(2) as pool:
        started = time.monotonic()
        runaways = [pool.submit(lambda i=i: (ask(api, f"{CART3} # {i}"), time.monotonic() - started))
                    for i in range(2)]
        time.sleep(0.4)
        extra_started = time.monotonic()
        extra = ask(api, CART3 + " # extra")
        extra_elapsed = time.monotonic() - extra_started
        probes = []
        with hardened.client() as probe:
            while not all(f.done() for f in runaways):
                probe_started = time.monotonic()
                assert probe.get("/healthz").status_code == 200
                probes.append(time.monotonic() - probe_started)
                time.sleep(0.05)
            assert probe.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        results = [f.result() for f in runaways]
    assert extra.status_code == 503 and problem_type(extra) == "overloaded" and int(extra.headers["retry-after"]) > 0
    assert extra_elapsed < 1.0  # at once: long before any deadline
    for response, elapsed in results:
        assert response.status_code == 503 and problem_type(response) == "query-timeout"
        body = response.json()
        assert body["limit"] == "time" and f"{DEADLINE_S:g} s" in body["detail"] and response.headers["retry-after"]
        assert DEADLINE_S <= elapsed < DEADLINE_S + 1
    assert len(probes) > 10 and max(probes) < 0.2, f"slowest /healthz {max(probes):.3f} s"
    time.sleep(1.0)
    busy = busy_percent(hardened)
    assert busy < 25, f"server still busy after the deadline: {busy:.0f}% CPU"
    print(f"\n[{hardened.backend}] deadline overshoot max {max(e for _, e in results) - DEADLINE_S:.3f} s, "  # type: ignore[attr-defined]
          f"/healthz max {max(probes) * 1000:.1f} ms over {len(probes)} probes, extra 503 in {extra_elapsed * 1000:.0f} ms")


def test_redos_regex_never_freezes_the_server(api: httpx.Client, hardened: RunningServer) -> None:
    result: dict[str, object] = {}

    def run() -> None:
        started = time.monotonic()
        result["response"] = ask(api, REDOS)
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    probes = []
    with hardened.client() as probe:
        while True:  # at least one probe, even when the engine answers at once
            probe_started = time.monotonic()
            assert probe.get("/healthz").status_code == 200
            probes.append(time.monotonic() - probe_started)
            if not thread.is_alive():
                break
            time.sleep(0.05)
    thread.join()
    response = result["response"]
    assert response.status_code in (200, 503) and result["elapsed"] < DEADLINE_S + 1  # Oxigraph's regex is linear
    if hardened.backend == "rdflib":  # type: ignore[attr-defined]
        assert response.status_code == 503 and problem_type(response) == "query-timeout"
    assert max(probes) < 0.2


def test_memory_bomb_is_stopped_and_memory_stays_bounded(api: httpx.Client, hardened: RunningServer) -> None:
    baseline = sum(p.memory_info().rss for p in server_tree(hardened))
    started = time.monotonic()
    response = ask(api, CONCAT)
    assert time.monotonic() - started < DEADLINE_S + 1
    assert response.status_code in (500, 503) and problem_type(response) in ("query-timeout", "query-failed")
    if response.status_code == 500:
        assert response.json()["limit"] in ("memory", "crash")
    after = sum(p.memory_info().rss for p in server_tree(hardened))
    assert after - baseline < Settings().worker_memory_mb * 1024 * 1024
    assert ask(api, "ASK {}").status_code == 200  # the pool recovered


@pytest.mark.parametrize("text,status,kind", [
    ("SELECT * WHERE " + "{" * 40 + " ?s ?p ?o " + "}" * 40, 400, "query-too-complex"),
    ("SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000, 400, "query-too-complex"),
    ("SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 30 + "?o" + ")" * 30 + ") }", 400, "query-too-complex"),
    ("SELECT * WHERE { " + " . ".join(f"?s{i} <urn:p> ?o{i}" for i in range(300)) + " }", 400, "query-too-complex"),
    ("SELECT * WHERE { ?s ?p ?o FILTER(" + " || ".join(["?o = 0"] * 10000) + ") }", 413, "payload-too-large"),
    ("SELECT (" + "+".join(["1"] * 8000) + " AS ?x) {}", 400, "query-too-complex"),
    ("SELECT * WHERE { ?s " + "/".join(["<urn:p>"] * 500) + " ?o }", 503, "query-timeout"),
], ids=["40-braces", "3000-braces", "30-parens", "300-patterns", "130KB-or-chain", "16KB-plus-chain", "500-step-path"])
def test_deep_long_and_huge_queries_are_refused_or_cut_and_the_server_lives(
        api: httpx.Client, hardened: RunningServer, text: str, status: int, kind: str) -> None:
    started = time.monotonic()
    response = api.post("/sparql", data={"query": text})
    if kind == "query-timeout" and response.status_code == 200:  # an engine that is fast at this shape is fine
        return
    assert response.status_code == status and problem_type(response) == kind
    assert time.monotonic() - started < DEADLINE_S + 1
    assert api.get("/healthz").status_code == 200 and hardened.process.poll() is None


def test_timeout_parameter_may_lower_the_deadline_but_never_raise_it(api: httpx.Client) -> None:
    tiny = ask(api, "ASK { ?s ?p ?o } # tiny", timeout="5e-324")  # a floor: not a worker kill per request
    assert tiny.status_code == 200 and tiny.json()["boolean"] is True
    started = time.monotonic()
    # distinct texts: a repeat of a query just cut at the deadline is refused at once (sparql/runaway.py)
    lowered = ask(api, CART3.replace("?i", "?lowered"), timeout="0.5")
    assert lowered.status_code == 503 and "0.5 s" in lowered.json()["detail"]
    assert 0.5 <= time.monotonic() - started < 1.5
    started = time.monotonic()
    raised = ask(api, CART3.replace("?i", "?raised"), timeout="600")
    assert raised.status_code == 503 and time.monotonic() - started < DEADLINE_S + 1


# -- bad bytes -----------------------------------------------------------------------------------------------------


def raw_request(running: RunningServer, head: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", int(running.url.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(head + b"Host: x\r\nConnection: close\r\nContent-Length: " + str(len(body)).encode()
                     + b"\r\n\r\n" + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


@pytest.mark.parametrize("head,body", [
    (b"GET /sparql?query=ASK%20%7B%7D%20%23%FF HTTP/1.1\r\n", b""),
    (b"GET /sparql?query=ASK%20%7B%7D%20%23%ED%A0%80 HTTP/1.1\r\n", b""),
    (b"GET /sparql?query=ASK%20%7B%7D%20%23\xff HTTP/1.1\r\n", b""),
    (b"POST /sparql HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n", b"query=ASK+%7B%7D+%23%FF"),
    (b"POST /sparql HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n", b"query=ASK {} #\xff\xfe"),
    (b"POST /sparql HTTP/1.1\r\nContent-Type: application/sparql-query\r\n", b'ASK { ?s ?p "\xed\xa0\x80" }'),
], ids=["get-%FF", "get-surrogate", "get-raw-ff", "form-%FF", "form-raw-ff", "body-surrogate"])
def test_bytes_that_are_not_utf8_are_400(hardened: RunningServer, head: bytes, body: bytes) -> None:
    reply = raw_request(hardened, head, body)
    assert reply.startswith(b"HTTP/1.1 400")
    if b"\xff" not in head:  # a raw byte in the request line is already refused by the HTTP parser (h11)
        assert b"invalid-encoding" in reply and b"application/problem+json" in reply


def test_huge_accept_headers_are_cheap_and_a_megabyte_one_is_refused(api: httpx.Client,
                                                                    hardened: RunningServer) -> None:
    accept = ", ".join(f"application/x-media-type-{i:04d};q=0.{i % 9 + 1}" for i in range(1500)) + ", */*;q=0.01"
    assert 50_000 < len(accept) < 64_000
    started = time.monotonic()
    response = api.get("/sparql", params={"query": "ASK { ?s ?p ?o } # accept"}, headers={"Accept": accept})
    assert response.status_code in (200, 406) and time.monotonic() - started < 1.0
    with pytest.raises(httpx.HTTPError), hardened.client() as client:
        client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "a/b, " * 200_000})
    assert api.get("/healthz").status_code == 200


def test_an_oversized_query_string_is_413(api: httpx.Client) -> None:
    query = "ASK {} #" + "x" * 20_000
    response = api.get(f"/sparql?query={quote(query)}")
    assert response.status_code == 413 and problem_type(response) == "payload-too-large"


# -- the pool itself: cancellation, crash isolation, respawn (in this process, no HTTP) ----------------------------


def test_a_client_that_disconnects_cancels_its_query(server: RunningServer) -> None:
    """The session server has a 10 s deadline; a client that hangs up after 0.5 s gets its worker killed."""
    def workers() -> set[int]:  # the forkserver's children
        return {worker.pid for child in psutil.Process(server.process.pid).children()
                for worker in child.children()}

    before = workers()
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
    with socket.create_connection((host, port)) as sock:
        sock.sendall(f"GET /sparql?query={quote(CART3 + ' # disconnect')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.5)
    hung_up = time.monotonic()
    while time.monotonic() - hung_up < 5 and before <= workers():
        time.sleep(0.05)
    killed = before - workers()
    assert killed, "no worker was stopped after the client went away"
    elapsed = time.monotonic() - hung_up
    assert elapsed < 3.0  # well before the 10 s deadline: the hang-up stopped it
    print(f"\nworker killed {elapsed * 1000:.0f} ms after the client hung up")
    with server.client() as client:
        deadline = time.monotonic() + 10
        while len(workers()) < len(before) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200


class TinyGraph:
    """What WorkerPool needs from a LoadedGraph: the public graphs as N-Quads."""

    def nquads(self) -> bytes:
        return "".join(f'<urn:n{i}> <urn:p> "{i}" <{PUBLIC[i % 2]}> .\n' for i in range(300)).encode()


@pytest.fixture()
def pool() -> Iterator[WorkerPool]:
    running = WorkerPool(Settings(worker_count=1, queue_size=0, worker_memory_mb=512), TinyGraph())  # type: ignore[arg-type]
    yield running
    running.close()


SLOW_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(STRLEN(?i) = 2) }"  # ~0.7 s


def job(text: str) -> Job:
    return Job(query=text, media_type=JSON_RESULTS, limits=Limits(rows=100, bytes=100_000))


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for_idle_worker(pool: WorkerPool, timeout: float = 20) -> float:
    started = time.monotonic()
    while pool.idle.empty():
        assert time.monotonic() - started < timeout, "no worker came back"
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.mark.parametrize("signal_number,limit", [(signal.SIGSEGV, "crash"), (signal.SIGABRT, "memory")])
def test_a_crashing_worker_fails_only_its_own_query_and_is_respawned(pool: WorkerPool, signal_number: int,
                                                                    limit: str) -> None:
    worker = pool.idle.queue[0]
    pid = worker.process.pid
    threading.Timer(0.3, os.kill, (pid, signal_number)).start()
    with pytest.raises(QueryFailed) as failed:
        pool.run(job(CART3), timeout_s=10)
    assert failed.value.status == 500 and failed.value.extra["limit"] == limit
    respawn = wait_for_idle_worker(pool)
    assert pool.idle.queue[0].process.pid != pid and gone(pid)
    assert json.loads(pool.run(job("ASK { ?s ?p ?o }"), timeout_s=10).body)["boolean"] is True
    print(f"\nrespawn after {signal.Signals(signal_number).name}: {respawn * 1000:.0f} ms")


def test_deadline_kills_and_respawns_with_measured_accuracy(pool: WorkerPool) -> None:
    pid = pool.idle.queue[0].process.pid
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as timeout:
        pool.run(job(CART3), timeout_s=1.0)
    overshoot = time.monotonic() - started - 1.0
    assert 0 <= overshoot < 0.5 and timeout.value.status == 503 and timeout.value.headers["Retry-After"]
    assert gone(pid)
    respawn = wait_for_idle_worker(pool)
    print(f"\ndeadline overshoot {overshoot * 1000:.0f} ms, respawn {respawn * 1000:.0f} ms")
    assert json.loads(pool.run(job("ASK { ?s ?p ?o }"), timeout_s=10).body)["boolean"] is True


def test_a_worker_that_died_while_idle_is_replaced_not_used(pool: WorkerPool) -> None:
    pid = pool.idle.queue[0].process.pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert json.loads(pool.run(job("ASK { ?s ?p ?o }"), timeout_s=10).body)["boolean"] is True
    assert pool.idle.queue[0].process.pid != pid and pool.stats.crashed == 1


def test_a_query_waiting_on_a_pool_that_a_reload_closes_is_handed_back_at_once(pool: WorkerPool) -> None:
    """The router then answers it from the new graph version's pool instead of failing it."""
    pool.admission = threading.BoundedSemaphore(2)  # one running, one waiting
    with ThreadPoolExecutor(1) as background:
        running = background.submit(pool.run, job(SLOW_COUNT), 10)
        time.sleep(0.1)
        threading.Timer(0.2, pool.close).start()
        started = time.monotonic()
        with pytest.raises(PoolClosed):
            pool.run(job("ASK {}"), timeout_s=10)
        assert time.monotonic() - started < 0.5
        assert b'"8100000"' in running.result().body


def test_a_closed_pool_leaves_no_worker_behind(pool: WorkerPool) -> None:
    """A reload closes the old pool while a query may still run on it: that worker stops when it finishes."""
    worker_pid = pool.idle.queue[0].process.pid
    threading.Timer(0.2, pool.close).start()
    answer = pool.run(job(SLOW_COUNT), timeout_s=10)
    assert b'"8100000"' in answer.body  # the query in flight still got its answer
    time.sleep(0.2)
    assert gone(worker_pid) and pool.idle.empty()
