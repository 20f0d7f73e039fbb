"""The per-request path: answers served from bytes before routing carry exactly what the routed answer carried
(CORS, security headers, ETag/304); /metrics shows the worker pool; base IRIs, extension functions and engine
errors on every engine; the per-client budget of worker time (429)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import RunningServer, start_server, stop_server

from kg_service.errors import ClientBudgetSpent
from kg_service.sparql.budget import ClientBudget

VOLATILE = {"date", "server"}


def comparable(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE}


@pytest.mark.parametrize("path,accept", [("/api/causes", None), ("/entity/osteoarthritis", "text/turtle"),
                                         ("/entity/osteoarthritis", "text/html"),
                                         ("/sparql?query=ASK%20%7B%7D%20%23fast", None)])
def test_a_repeated_get_is_the_same_answer_with_the_same_headers(client: httpx.Client, path: str,
                                                                 accept: str | None) -> None:
    headers = {"Origin": "https://app.example"} | ({"Accept": accept} if accept else {})
    first = client.get(path, headers=headers)
    again = client.get(path, headers=headers)  # answered from the graph version's bytes, before routing
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and comparable(again) == comparable(first)
    assert again.headers["access-control-allow-origin"] == "*"
    assert again.headers["x-content-type-options"] == "nosniff" and again.headers["x-frame-options"] == "DENY"
    assert ("content-security-policy" in again.headers) == again.headers["content-type"].startswith("text/html")
    revalidated = client.get(path, headers=headers | {"If-None-Match": again.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == again.headers["etag"]
    assert client.get(path, headers=headers | {"If-None-Match": '"other"'}).status_code == 200


CORS_ONLY = {"access-control-allow-origin", "access-control-expose-headers", "vary"}


@pytest.mark.parametrize("params,accept", [
    ({"query": "SELECT ?s WHERE { ?s a <http://www.w3.org/2002/07/owl#Class> } ORDER BY ?s LIMIT 3"}, None),
    ({"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2", "format": "csv"}, None),
    ({"query": "ASK { ?s ?p ?o }"}, "application/sparql-results+xml"),
    ({"query": "SELECT * WHERE { ?s ?p }"}, None),  # syntax error: 400 with line and column
    ({"query": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"}, None),  # refused: 400
    ({"query": "SELECT * WHERE { SERVICE <http://example.org/s> { ?s ?p ?o } }"}, None),
    ({"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"}, "application/sparql-results+json"),  # 406
    ({"query": "ASK {}", "timeout": "soon"}, None),  # malformed parameter: 400
    ({"query": "ASK {}", "default-graph-uri": "http://example.org/g"}, None),
])
def test_plain_get_queries_answered_before_routing_equal_the_routed_answer(client: httpx.Client,
                                                                          params: dict, accept: str | None) -> None:
    """A GET without Origin is answered in front of FastAPI (sparql/front.py); with Origin it goes through
    FastAPI's route and CORS middleware. Both must say the same thing, errors included."""
    headers = {"Accept": accept} if accept else {}
    tagged = dict(params, query=params["query"] + "\n# front or routed")
    routed = client.get("/sparql", params=tagged, headers=headers | {"Origin": "https://app.example"})
    front = client.get("/sparql", params=tagged, headers=headers)
    assert front.status_code == routed.status_code, (front.text, routed.text)
    assert front.headers["content-type"] == routed.headers["content-type"]
    if front.status_code == 200:
        assert front.content == routed.content and front.headers["etag"] == routed.headers["etag"]
    else:
        assert front.status_code < 500 and front.json() == routed.json()
    assert not (set(comparable(front)) ^ set(comparable(routed))) - CORS_ONLY
    metrics = client.get("/metrics").text
    assert re.search(r'kg_http_requests_total\{method="GET",route="/sparql",status="(200|400|406)"\} \d', metrics)


@pytest.mark.parametrize("params", [
    {"q": "sYnov"}, {"q": "osteoARtritis", "type": "cause", "limit": "3"}, {"q": "KNEE", "limit": "100"},
    {"q": "masSage", "limit": "05"},  # read by FastAPI alone, the same answer
    {"q": "x" * 201}, {"q": "knee", "limit": "0"}, {"q": "knee", "type": "nope"},  # errors, said by the route
])
def test_plain_searches_answered_before_routing_equal_the_routed_answer(client: httpx.Client, params: dict) -> None:
    """A search without Origin is answered in front of FastAPI (api/search.py: SearchFront); with Origin (and a
    parameter the route ignores, so that neither answer is the other's from a cache) it goes through FastAPI's
    route and CORS middleware. Both must say the same thing, errors included."""
    front = client.get("/api/search", params=params)
    routed = client.get("/api/search", params=params | {"via": "routed"}, headers={"Origin": "https://app.example"})
    assert front.status_code == routed.status_code and front.status_code < 500, (front.text, routed.text)
    assert front.headers["content-type"] == routed.headers["content-type"]
    if front.status_code == 200:
        assert front.content == routed.content and front.headers["etag"] == routed.headers["etag"]
        assert client.get("/api/search", params=params, headers={"If-None-Match": front.headers["etag"]}).status_code == 304
    else:
        assert front.json() == routed.json()
    assert not (set(comparable(front)) ^ set(comparable(routed))) - CORS_ONLY
    metrics = client.get("/metrics").text
    assert re.search(r'kg_http_requests_total\{method="GET",route="/api/search",status="(200|400|422)"\} \d', metrics)


def test_long_answers_arrive_whole_every_time(client: httpx.Client) -> None:
    """Answers larger than a pipe's buffer come from the worker in several writes: each must arrive whole (an
    event-loop watcher once left the pipe non-blocking, and every second long answer became a 500)."""
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 2500"
    bodies = set()
    for n in range(6):
        response = client.get("/sparql", params={"query": f"{query} # long {n}"})
        assert response.status_code == 200, response.text[:300]
        assert len(response.json()["results"]["bindings"]) == 2500 and len(response.content) > 256 * 1024
        bodies.add(response.content)
    assert len(bodies) == 1


def _in_process(client: httpx.Client) -> int:
    metrics = client.get("/metrics").text
    return int(float(re.search(r'kg_sparql_worker_events_total\{event="answered_in_process"\} (\S+)', metrics)[1]))


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/csv", "application/sparql-results+xml"])
def test_a_bounded_query_is_answered_in_process_as_a_worker_would(client: httpx.Client, accept: str) -> None:
    """One triple pattern with a small LIMIT (sparql/bounded.py) needs no worker; its answer is the one a worker
    gives to the same query made unbounded by a FILTER that keeps every row."""
    pattern = "?s a <http://www.w3.org/2002/07/owl#Ontology>"
    before = _in_process(client)
    bounded = client.get("/sparql", params={"query": f"SELECT ?s WHERE {{ {pattern} }} LIMIT 500 # {accept}"},
                         headers={"Accept": accept})
    assert _in_process(client) == before + 1
    worker = client.get("/sparql", params={"query": f"SELECT ?s WHERE {{ {pattern} FILTER(true) }} LIMIT 500 # {accept}"},
                        headers={"Accept": accept})
    assert _in_process(client) == before + 1  # the FILTER sent it to a worker
    assert bounded.status_code == worker.status_code == 200
    assert bounded.headers["content-type"] == worker.headers["content-type"]
    lines = lambda r: sorted(r.text.splitlines())  # noqa: E731 - same rows, order aside
    assert lines(bounded) == lines(worker) and "https://w3id.org/knee-soreness/schema" in bounded.text
    repeated = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?s } LIMIT 5 # repeated var"})
    assert repeated.status_code == 200 and _in_process(client) == before + 1


def test_healthz_and_the_route_of_fast_answers_in_metrics(client: httpx.Client) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert health.headers["x-content-type-options"] == "nosniff"
    for _ in range(3):
        client.get("/api/causes")
    metrics = client.get("/metrics").text
    assert re.search(r'kg_http_requests_total\{method="GET",route="/api/causes",status="200"\} [3-9]', metrics) \
        or re.search(r'kg_http_requests_total\{method="GET",route="/api/causes",status="200"\} \d{2,}', metrics)
    assert re.search(r'kg_http_requests_total\{method="GET",route="/healthz",status="200"\} \d', metrics)
    count = float(re.search(r'kg_http_request_duration_seconds_count\{route="/api/causes"\} (\S+)', metrics)[1])
    every = float(re.search(r'kg_http_request_duration_seconds_bucket\{le="\+Inf",route="/api/causes"\} (\S+)',
                            metrics)[1])
    fast = float(re.search(r'kg_http_request_duration_seconds_bucket\{le="10.0",route="/api/causes"\} (\S+)',
                           metrics)[1])
    assert count >= 3 and every == count and fast <= every  # cumulative buckets, as Prometheus reads them


def test_metrics_export_the_worker_pool(client: httpx.Client) -> None:
    client.get("/sparql", params={"query": "ASK { ?s ?p ?o } # pool"})
    metrics = client.get("/metrics").text
    for event in ("killed_at_deadline", "crashed", "cancelled", "refused_overload"):
        assert re.search(rf'kg_sparql_worker_events_total\{{event="{event}"\}} \d', metrics), event
    idle = re.search(r"^kg_sparql_workers_idle (\d+)", metrics, re.MULTILINE)
    assert idle and 0 <= float(idle.group(1)) <= 2


# -- W3C suite defects, on every engine ------------------------------------------------------------------------


def test_relative_iris_resolve_against_the_ontology_base(backend_client: httpx.Client) -> None:
    built = backend_client.get("/sparql", params={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}", "format": "nt"})
    assert built.status_code == 200, built.text
    assert "<https://w3id.org/knee-soreness/s> <https://w3id.org/knee-soreness/p>" in built.text
    empty_prefix = backend_client.get("/sparql", params={"query": "PREFIX : <> SELECT (:x AS ?x) {}"})
    assert empty_prefix.status_code == 200, empty_prefix.text
    assert empty_prefix.json()["results"]["bindings"][0]["x"]["value"] == "https://w3id.org/knee-soreness/x"


def test_an_unknown_extension_function_is_a_400_naming_it(backend_client: httpx.Client) -> None:
    response = backend_client.get("/sparql", params={
        "query": "PREFIX ex: <http://example.org/fn#> SELECT (ex:frobnicate(1 + 2) AS ?f) {}"})
    if response.status_code == 200:  # an engine may evaluate it as an error (unbound), as SPARQL allows
        assert response.json()["results"]["bindings"] in ([], [{}])
        return
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"].endswith("/unsupported-function") and "http://example.org/fn#frobnicate" in body["detail"]


@pytest.mark.parametrize("query", ["SELECT * WHERE { <a><b>-1.0 }", "SELECT * WHERE { <a> <b> -1.0e2 }",
                                   "SELECT (xsd:integer('x') AS ?n) {}", "SELECT (1/0 AS ?n) {}"])
def test_engine_errors_are_never_a_5xx(backend_client: httpx.Client, query: str) -> None:
    response = backend_client.get("/sparql", params={"query": query})
    assert response.status_code < 500, response.text


# -- the per-client budget of worker time ------------------------------------------------------------------------


def test_the_budget_refuses_once_spent_and_comes_back() -> None:
    budget = ClientBudget(1.0, window_s=0.5)
    budget.check("10.0.0.1")
    budget.charge("10.0.0.1", 0.7)
    budget.check("10.0.0.1")  # 0.7 of 1.0 used
    budget.charge("10.0.0.1", 0.7)
    with pytest.raises(ClientBudgetSpent) as spent:
        budget.check("10.0.0.1")
    assert spent.value.status == 429 and int(spent.value.headers["Retry-After"]) >= 1
    budget.check("10.0.0.2")  # another client is not affected
    time.sleep(0.6)
    budget.check("10.0.0.1")  # the window moved on
    ClientBudget(0).charge("x", 100)  # 0 turns it off
    ClientBudget(0).check("x")
    local = ClientBudget(1.0, exempt=["127.0.0.1"])
    local.charge("127.0.0.1", 100)
    local.check("127.0.0.1")  # the machine itself has no budget


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("budget"), "--timeout", "1",
                           env={"KG_CLIENT_BUDGET_S": "1.5", "KG_CLIENT_BUDGET_EXEMPT": "[]"})
    yield running
    stop_server(running)


def test_a_client_that_spent_its_budget_gets_429_but_cached_answers(budgeted: RunningServer) -> None:
    with budgeted.client() as api:
        cached = api.get("/sparql", params={"query": "ASK { ?s ?p ?o } # cached"})
        assert cached.status_code == 200
        for i in range(3):  # distinct slow queries: the runaway guard (exact repeats) does not see them
            slow = api.get("/sparql", params={
                "query": f"SELECT (COUNT(*) AS ?n{i}) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }}"})
            if slow.status_code == 429:
                break
            assert slow.status_code == 503
        else:
            slow = api.get("/sparql", params={"query": "ASK { ?s ?p ?o } # new"})
        assert slow.status_code == 429, slow.text
        body = slow.json()
        assert body["type"].endswith("/client-budget-spent") and body["budget_seconds"] == 1.5
        assert int(slow.headers["retry-after"]) >= 1
        assert api.get("/sparql", params={"query": "ASK { ?s ?p ?o } # cached"}).status_code == 200
        assert api.get("/api/causes").status_code == 200  # the friendly endpoints cost no worker time


@pytest.mark.parametrize("server_args", [("--server", "granian", "--processes", "2"), ("--processes", "2")],
                         ids=["granian-2", "uvicorn-2"])
def test_serving_with_several_processes(tmp_path, server_args: tuple[str, ...]) -> None:
    """Each process builds the same app from the settings the CLI passes on (here --timeout): answers, headers
    and limits are the same whichever process a connection lands on."""
    running = start_server(tmp_path, *server_args, "--timeout", "3")
    try:
        with running.client() as api:
            causes = api.get("/api/causes")
            assert causes.status_code == 200 and causes.headers["x-content-type-options"] == "nosniff"
            asked = api.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
            assert asked.status_code == 200 and asked.json()["boolean"] is True
            slow = api.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"})
            assert slow.status_code == 503 and "3 s" in slow.json()["detail"]
    finally:
        stop_server(running)
