"""/sparql as the W3C SPARQL 1.1 Protocol says and as clients use it: SPARQLWrapper for every method, query
form and format; httpx for negotiation, datasets, caching validators, the service description, CORS and
the remote backend's pass-through."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.etree import ElementTree

import httpx
import pyoxigraph
import pytest
from conftest import ROOT, RunningServer, start_server, stop_server
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

from kg_service.backends.terms import to_oxigraph
from kg_service.graph import load_graph
from kg_service.sparql.results import Limits, oxigraph_document, serialize_solutions, serialize_triples
from kg_service.sparql.worker import Engine, Job, execute

KS = Namespace("https://w3id.org/knee-soreness/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
ASSERTED, INFERRED = str(KS["graph/asserted"]), str(KS["graph/inferred"])
PREFIXES = f"PREFIX ks: <{KS}>\nPREFIX rdfs: <{RDFS}>\n"
SELECT = PREFIXES + "SELECT ?cause ?label WHERE { ?cause a ks:Cause ; rdfs:label ?label } ORDER BY ?label"
ASK = PREFIXES + 'ASK { ks:osteoarthritis rdfs:label "osteoarthritis"@en }'
CONSTRUCT = PREFIXES + "CONSTRUCT { ?c rdfs:label ?l } WHERE { ?c a ks:Cause ; rdfs:label ?l }"
DESCRIBE = PREFIXES + "DESCRIBE ks:osteoarthritis"
OA_LABEL = (KS.osteoarthritis, RDFS.label, Literal("osteoarthritis", lang="en"))
METHODS = {"GET": (GET, URLENCODED), "POST-form": (POST, URLENCODED), "POST-direct": (POST, POSTDIRECTLY)}
SOLUTION_TYPES = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                  "text/tab-separated-values"]
GRAPH_TYPES = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


def wrapper(server: RunningServer, query: str, method: str, return_format: str) -> SPARQLWrapper:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(query)
    client.setMethod(METHODS[method][0])
    client.setRequestMethod(METHODS[method][1])
    client.setReturnFormat(return_format)
    return client


def content_type(result) -> str:
    return result.response.headers["Content-Type"].split(";")[0]


def bindings(response: httpx.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def count(client: httpx.Client, query: str, **params: str) -> int:
    rows = bindings(client.get("/sparql", params={"query": query, **params}))
    return int(rows[0]["n"]["value"])


# -- SPARQLWrapper: every method x every query form x every format -------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_select_and_ask_in_every_results_format(server: RunningServer, method: str) -> None:
    rows = wrapper(server, SELECT, method, JSON).queryAndConvert()["results"]["bindings"]
    labels = [r["label"]["value"] for r in rows]
    assert "osteoarthritis" in labels and labels == sorted(labels)

    xml_result = wrapper(server, SELECT, method, XML).query()
    assert content_type(xml_result) == "application/sparql-results+xml"
    assert [n.firstChild.data for n in xml_result.convert().getElementsByTagName("literal")] == labels

    table = list(csv.reader(io.StringIO(wrapper(server, SELECT, method, CSV).queryAndConvert().decode())))
    assert table[0] == ["cause", "label"] and [row[1] for row in table[1:]] == labels

    tsv = wrapper(server, SELECT, method, TSV).queryAndConvert().decode().splitlines()
    assert tsv[0] == "?cause\t?label" and f'<{KS.osteoarthritis}>\t"osteoarthritis"@en' in tsv

    assert wrapper(server, ASK, method, JSON).queryAndConvert()["boolean"] is True
    ask_xml = wrapper(server, ASK, method, XML).queryAndConvert()
    assert ask_xml.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
@pytest.mark.parametrize("return_format,media_type,rdflib_format", [
    (TURTLE, "text/turtle", "turtle"), (N3, "text/turtle", "turtle"), (JSONLD, "application/ld+json", "json-ld"),
    (RDFXML, "application/rdf+xml", "xml"), (XML, "application/rdf+xml", "xml")])
def test_construct_and_describe_in_every_rdf_format(server: RunningServer, method: str, query: str,
                                                    return_format: str, media_type: str, rdflib_format: str) -> None:
    result = wrapper(server, query, method, return_format).query()
    assert content_type(result) == media_type  # DESCRIBE is an RDF document, never labelled as a results format
    graph = Graph().parse(data=result.response.read(), format=rdflib_format)
    assert OA_LABEL in graph


@pytest.mark.parametrize("method", METHODS)
def test_n_triples_by_accept_alone(server: RunningServer, method: str) -> None:
    client = wrapper(server, CONSTRUCT, method, TURTLE)
    client.setOnlyConneg(True)
    client.addCustomHttpHeader("Accept", "application/n-triples")
    result = client.query()
    assert content_type(result) == "application/n-triples"
    assert OA_LABEL in Graph().parse(data=result.response.read(), format="nt")


# -- encoding: decoded exactly once, as UTF-8, on every method ------------------------------------------


@pytest.mark.parametrize("value", ["50%41 off", "a+b & c=d; 100%", "café ✓ 日本"])
def test_literals_survive_every_method_unchanged(client: httpx.Client, value: str) -> None:
    query = f'SELECT ?x WHERE {{ BIND("{value}" AS ?x) }}'
    by_get = bindings(client.get("/sparql", params={"query": query}))
    by_form = bindings(client.post("/sparql", data={"query": query}))
    by_body = bindings(client.post("/sparql", content=query.encode(),
                                   headers={"Content-Type": "application/sparql-query; charset=utf-8"}))
    assert by_get[0]["x"]["value"] == by_form[0]["x"]["value"] == by_body[0]["x"]["value"] == value


# -- content negotiation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("accept,expected", [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("text/*", "text/csv"),
    ("application/json", "application/sparql-results+json"),
    ("application/sparql-results+xml;q=0.5, text/csv;q=0.9", "text/csv"),
    ("text/csv;q=0.1, */*;q=0.05, text/tab-separated-values;q=0.2", "text/tab-separated-values"),
    ("text/html, text/csv;q=nan, application/sparql-results+xml;q=0.3", "application/sparql-results+xml"),
])
def test_accept_with_q_values_for_select(client: httpx.Client, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": SELECT}, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize("accept,expected", [(None, "text/turtle"), ("*/*", "text/turtle"),
                                             ("application/json", "application/ld+json"),
                                             ("application/xml", "application/rdf+xml"),
                                             ("text/plain", "application/n-triples")])
def test_accept_for_graph_results(client: httpx.Client, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": DESCRIBE}, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == expected


def test_format_parameter_wins_over_accept(client: httpx.Client) -> None:
    for name, expected in [("tsv", "text/tab-separated-values"), ("xml", "application/sparql-results+xml"),
                           ("text/csv", "text/csv"), ("JSON", "application/sparql-results+json")]:
        response = client.get("/sparql", params={"query": SELECT, "format": name}, headers={"Accept": "text/csv"}
                              if name != "text/csv" else {"Accept": "application/sparql-results+json"})
        assert response.headers["content-type"].split(";")[0] == expected
    for name, expected in [("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples"),
                           ("rdfxml", "application/rdf+xml"), ("xml", "application/rdf+xml")]:
        response = client.get("/sparql", params={"query": CONSTRUCT, "format": name})
        assert response.headers["content-type"].split(";")[0] == expected


def test_nothing_acceptable_is_a_406_listing_what_is_available(client: httpx.Client) -> None:
    for params, headers, offered in [({"query": SELECT}, {"Accept": "image/png, text/turtle"}, SOLUTION_TYPES),
                                     ({"query": SELECT, "format": "jsonld"}, {}, SOLUTION_TYPES),
                                     ({"query": DESCRIBE}, {"Accept": "application/sparql-results+json"}, GRAPH_TYPES),
                                     ({"query": CONSTRUCT, "format": "csv"}, {}, GRAPH_TYPES),
                                     ({"query": SELECT, "format": ""}, {}, SOLUTION_TYPES)]:
        response = client.get("/sparql", params=params, headers=headers)
        assert response.status_code == 406
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["type"].endswith("/not-acceptable") and body["available"] == offered


# -- the dataset: only the public graphs, chosen by the protocol or by FROM, never loaded ----------------

CAUSES = PREFIXES + "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a ks:Cause }"
CAUSE_SUBCLASSES = PREFIXES + "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a/rdfs:subClassOf+ ks:Cause }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"


def test_default_graph_is_the_union_and_the_protocol_picks_among_public_graphs(client: httpx.Client) -> None:
    union = count(client, CAUSES)
    assert union >= 1 and count(client, CAUSE_SUBCLASSES) >= 1
    # ks:Cause membership is inferred from the subclasses: absent from the asserted graph, present in the inferred
    assert count(client, CAUSES, **{"default-graph-uri": ASSERTED}) == 0
    assert count(client, CAUSES, **{"default-graph-uri": INFERRED}) == union
    assert count(client, CAUSE_SUBCLASSES, **{"default-graph-uri": ASSERTED}) >= 1


def test_from_selects_public_graphs_and_the_protocol_overrides_it(client: httpx.Client) -> None:
    from_asserted = CAUSES.replace("WHERE", f"FROM <{ASSERTED}> WHERE")
    assert count(client, from_asserted) == 0
    # SPARQL 1.1 Protocol §2.1.4: a dataset in the request replaces the one in the query
    assert count(client, from_asserted, **{"default-graph-uri": INFERRED}) == count(client, CAUSES)


def test_named_graphs_are_exactly_those_given(client: httpx.Client) -> None:
    every = [b["g"]["value"] for b in bindings(client.get("/sparql", params={"query": GRAPHS}))]
    assert every == [ASSERTED, INFERRED]
    only = bindings(client.get("/sparql", params={"query": GRAPHS, "named-graph-uri": INFERRED}))
    assert [b["g"]["value"] for b in only] == [INFERRED]
    from_named = bindings(client.get("/sparql", params={"query": GRAPHS.replace("WHERE", f"FROM NAMED <{ASSERTED}> WHERE")}))
    assert [b["g"]["value"] for b in from_named] == [ASSERTED]
    # naming only named graphs leaves the default graph empty
    assert count(client, CAUSES, **{"named-graph-uri": INFERRED}) == 0


@pytest.mark.parametrize("params", [
    {"query": CAUSES, "default-graph-uri": "http://127.0.0.1:9/data.ttl"},
    {"query": CAUSES, "named-graph-uri": "file:///etc/hostname"},
    {"query": CAUSES.replace("WHERE", "FROM <https://w3id.org/knee-soreness/graph/private> WHERE")},
    {"query": GRAPHS.replace("WHERE", "FROM NAMED <urn:other> WHERE")},
])
def test_any_other_graph_is_refused_naming_the_public_ones(client: httpx.Client, params: dict) -> None:
    response = client.get("/sparql", params=params)
    body = response.json()
    assert response.status_code == 400 and body["type"].endswith("/refused-feature")
    assert ASSERTED in body["detail"] + body.get("hint", "") and INFERRED in body["detail"] + body.get("hint", "")


# -- HEAD, validators, errors --------------------------------------------------------------------------------


def test_head_answers_the_headers_of_get(client: httpx.Client) -> None:
    got = client.get("/sparql", params={"query": SELECT})
    head = client.head("/sparql", params={"query": SELECT})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"] and head.headers["etag"] == got.headers["etag"]
    assert int(head.headers["content-length"]) == len(got.content)


def test_etag_keys_graph_version_query_and_format(client: httpx.Client) -> None:
    version = client.get("/readyz").json()["version"]
    first = client.get("/sparql", params={"query": SELECT})
    etag = first.headers["etag"]
    assert version in etag and "Accept" in first.headers["vary"]
    for validator in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = client.get("/sparql", params={"query": SELECT}, headers={"If-None-Match": validator})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/sparql", params={"query": SELECT}, headers={"If-None-Match": '"nope"'}).status_code == 200
    assert client.get("/sparql", params={"query": SELECT + " LIMIT 3"}).headers["etag"] != etag
    assert client.get("/sparql", params={"query": SELECT}, headers={"Accept": "text/csv"}).headers["etag"] != etag
    by_post = client.post("/sparql", data={"query": SELECT})
    assert by_post.headers["etag"] == etag  # the same request by another method is the same resource state


def test_syntax_errors_give_the_parsers_message_and_position(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": "SELECT ?x\nWHERE {\n  ?x ?y\n}"})
    body = response.json()
    assert response.status_code == 400 and body["type"].endswith("/query-syntax-error")
    assert body["line"] in (3, 4) and f"line {body['line']}" in body["detail"]  # the triple ends at the brace
    unknown = client.get("/sparql", params={"query": "SELECT * WHERE { ?s nope:p ?o }"}).json()
    assert unknown["status"] == 400 and unknown["type"].endswith("/query-syntax-error") and "nope" in unknown["detail"]


@pytest.mark.parametrize("request_kwargs,status,kind", [
    ({"method": "POST", "content": b"ASK {}"}, 415, "unsupported-media-type"),
    ({"method": "POST", "content": b"ASK {}", "headers": {"Content-Type": "application/json"}}, 415,
     "unsupported-media-type"),
    ({"method": "GET", "params": {"update": "DROP ALL"}}, 403, "update-refused"),
    ({"method": "POST", "data": {"query": "ASK {}", "update": "CLEAR ALL"}}, 403, "update-refused"),
    ({"method": "POST", "params": {"query": "ASK {}"}, "content": b"ASK {}",
      "headers": {"Content-Type": "application/sparql-query"}}, 400, "malformed-request"),
    ({"method": "POST", "data": {"query": ["ASK {}", "ASK {}"]}}, 400, "malformed-request"),
    ({"method": "GET", "params": {"query": "ASK {}", "timeout": "soon"}}, 400, "malformed-request"),
    ({"method": "POST", "data": {"format": "json"}}, 400, "malformed-request"),
    ({"method": "GET", "params": {"query": "ASK {}", "timeout": "nan"}}, 400, "malformed-request"),
    ({"method": "GET", "params": {"query": "ASK {}", "timeout": "-1"}}, 400, "malformed-request"),
    ({"method": "GET", "params": {"query": ""}}, 400, "query-syntax-error"),
    ({"method": "PUT", "content": b"ASK {}"}, 405, "method-not-allowed"),
])
def test_protocol_errors_are_problems(client: httpx.Client, request_kwargs: dict, status: int, kind: str) -> None:
    kwargs = dict(request_kwargs)
    response = client.request(kwargs.pop("method"), "/sparql", **kwargs)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/" + kind)


# -- the service description and the browser page ------------------------------------------------------------


@pytest.mark.parametrize("accept,rdflib_format", [(None, "turtle"), ("application/ld+json", "json-ld"),
                                                  ("application/n-triples", "nt"), ("application/rdf+xml", "xml")])
def test_service_description(server: RunningServer, client: httpx.Client, accept: str | None,
                             rdflib_format: str) -> None:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200 and "Accept" in response.headers["vary"]
    assert response.headers["content-type"].split(";")[0] == (accept or "text/turtle")
    graph = Graph().parse(data=response.text, format=rdflib_format)
    service = graph.value(predicate=RDF.type, object=SD.Service)
    assert graph.value(service, SD.endpoint) == URIRef(f"{server.url}/sparql")
    assert set(graph.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}  # no update language
    assert SD.BasicFederatedQuery not in set(graph.objects(service, SD.feature))
    assert len(set(graph.objects(service, SD.resultFormat))) == 8
    dataset = graph.value(service, SD.defaultDataset)
    assert graph.value(dataset, SD.defaultGraph) is not None
    names = {graph.value(named, SD.name) for named in graph.objects(dataset, SD.namedGraph)}
    assert names == {URIRef(ASSERTED), URIRef(INFERRED)}


def test_browser_page_is_self_contained_and_posts_to_sparql(client: httpx.Client) -> None:
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<form method="post" action="/sparql"' in text and '<textarea name="query"' in text
    # the editor's scripts are the service's own (issue 9); the form works without them
    assert 'href="http' not in text and "src=\"http" not in text and '<script src="/static/' in text
    csp = page.headers["content-security-policy"]
    assert "default-src" in csp and "http" not in csp.replace("https:", "")
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"]
    # what the form sends is a normal form POST
    answer = client.post("/sparql", data={"query": SELECT, "format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")


def test_cors_allows_reads_without_credentials(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": ASK}, headers={"Origin": "https://yasgui.example"})
    assert response.headers["access-control-allow-origin"] in ("*", "https://yasgui.example")
    assert "access-control-allow-credentials" not in response.headers
    preflight = client.options("/sparql", headers={"Origin": "https://yasgui.example",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]


# -- the remote backend: the same checks, the public dataset named explicitly, bytes passed through ----------

REMOTE_ROWS = {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "from-remote"}}]}}
EMPTY = {"head": {"vars": []}, "results": {"bindings": []}}


EVERY_REMOTE_REQUEST: list[dict] = []  # what the fake endpoint below was sent, the service's stored queries included


@pytest.fixture(scope="module")
def fake_remote() -> Iterator[tuple[str, list[dict]]]:
    """A SPARQL endpoint that records what it is sent; `# mode:` comments in the query choose its answer."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            query = (form.get("query") or [""])[0]
            EVERY_REMOTE_REQUEST.append({"form": form, "accept": self.headers.get("Accept")})
            if "# mode:" in query:
                received.append({"form": form, "accept": self.headers.get("Accept")})
            if "# mode:hang" in query:
                time.sleep(6)
            status = 500 if "# mode:fail" in query else 200
            body = json.dumps(REMOTE_ROWS if "# mode:" in query else EMPTY).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/sparql-results+xml" if "# mode:mislabel" in query
                                 else "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql", received
    server.shutdown()


@pytest.fixture(scope="module")
def remote_api(tmp_path_factory, fake_remote) -> Iterator[httpx.Client]:
    running = start_server(tmp_path_factory.mktemp("remote"), "--backend", "remote", "--endpoint", fake_remote[0],
                           "--timeout", "2")
    try:
        with running.client() as c:
            yield c
    finally:
        stop_server(running)


def test_remote_results_pass_through_with_the_public_dataset_named(remote_api: httpx.Client, fake_remote) -> None:
    _, received = fake_remote
    received.clear()
    response = remote_api.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?p ?o } # mode:ok"})
    assert response.status_code == 200 and response.json() == REMOTE_ROWS
    sent = received[-1]
    assert sorted(sent["form"]["default-graph-uri"]) == [ASSERTED, INFERRED]
    assert sorted(sent["form"]["named-graph-uri"]) == [ASSERTED, INFERRED]
    assert sent["accept"] == "application/sparql-results+json"
    remote_api.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?p ?o } # mode:ok 2",
                                      "default-graph-uri": ASSERTED})
    assert received[-1]["form"]["default-graph-uri"] == [ASSERTED] and "named-graph-uri" not in received[-1]["form"]


def test_remote_stored_queries_name_the_public_dataset(remote_api: httpx.Client) -> None:
    """The stored queries go through the same client as /sparql: the dataset named, whatever the engine's default."""
    EVERY_REMOTE_REQUEST.clear()
    assert remote_api.get("/api/queries/curated_background").status_code == 200
    stored = [sent for sent in EVERY_REMOTE_REQUEST if "# mode:" not in sent["form"]["query"][0]]
    assert stored, "the stored query never reached the remote endpoint"
    for sent in stored:
        assert sorted(sent["form"]["default-graph-uri"]) == sorted(sent["form"]["named-graph-uri"]) == [ASSERTED, INFERRED]
        assert sent["accept"] == "application/sparql-results+json"


@pytest.mark.alone  # timed: no neighbour on the cores (tests/conftest.py)
def test_remote_is_prechecked_and_its_failures_are_problems(remote_api: httpx.Client, fake_remote) -> None:
    _, received = fake_remote
    received.clear()
    refused = remote_api.get("/sparql", params={"query": "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } } # mode:ok"})
    from_file = remote_api.get("/sparql", params={"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o } # mode:ok"})
    assert refused.status_code == from_file.status_code == 400 and received == []
    failed = remote_api.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?p ?o } # mode:fail"})
    assert failed.status_code == 502 and failed.json()["type"].endswith("/backend-unavailable")
    mislabelled = remote_api.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?p ?o } # mode:mislabel"})
    assert mislabelled.status_code == 502 and "application/sparql-results+xml" in mislabelled.json()["detail"]
    started = time.monotonic()
    hung = remote_api.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?p ?o } # mode:hang"})
    assert hung.status_code == 503 and hung.json()["type"].endswith("/query-timeout")
    assert time.monotonic() - started < 3.5 and hung.headers["retry-after"]


# -- result documents and their limits (in process) ----------------------------------------------------------------

ROWS = [[URIRef("urn:a"), Literal('tab\there "quoted"\nnewline, comma', lang="en")],
        [BNode("b1"), Literal("42", datatype=XSD.integer)],
        [URIRef("urn:c"), None]]
SRX = "{http://www.w3.org/2005/sparql-results#}"


def test_results_documents_follow_the_w3c_formats() -> None:
    limits = Limits(rows=100, bytes=100_000)
    as_json = json.loads(serialize_solutions(["s", "o"], ROWS, SOLUTION_TYPES[0], limits).body)
    assert as_json["head"]["vars"] == ["s", "o"]
    first, second, third = as_json["results"]["bindings"]
    assert first["o"] == {"type": "literal", "value": 'tab\there "quoted"\nnewline, comma', "xml:lang": "en"}
    assert second["s"] == {"type": "bnode", "value": "b1"} and second["o"]["datatype"] == str(XSD.integer)
    assert "o" not in third  # unbound: left out

    xml = ElementTree.fromstring(serialize_solutions(["s", "o"], ROWS, SOLUTION_TYPES[1], limits).body)
    results = xml.findall(f"{SRX}results/{SRX}result")
    assert len(results) == 3 and results[1].find(f"{SRX}binding/{SRX}bnode").text == "b1"
    literal = results[0].find(f"{SRX}binding[@name='o']/{SRX}literal")
    assert literal.get("{http://www.w3.org/XML/1998/namespace}lang") == "en" and literal.text.startswith("tab\t")

    table = list(csv.reader(io.StringIO(serialize_solutions(["s", "o"], ROWS, "text/csv", limits).body.decode(),
                                        newline="")))
    assert table == [["s", "o"], ["urn:a", 'tab\there "quoted"\nnewline, comma'], ["_:b1", "42"], ["urn:c", ""]]

    tsv = serialize_solutions(["s", "o"], ROWS, "text/tab-separated-values", limits).body.decode().split("\n")
    assert tsv[0] == "?s\t?o"
    assert tsv[1] == '<urn:a>\t"tab\\there \\"quoted\\"\\nnewline, comma"@en'
    assert tsv[2] == f'_:b1\t"42"^^<{XSD.integer}>' and tsv[3] == "<urn:c>\t"


@pytest.mark.parametrize("media_type", SOLUTION_TYPES)
def test_truncation_cuts_between_rows_and_says_where(media_type: str) -> None:
    rows = [[URIRef(f"urn:row{i}"), Literal(f"value {i}")] for i in range(500)]
    by_rows = serialize_solutions(["s", "o"], rows, media_type, Limits(rows=7, bytes=1_000_000))
    assert by_rows.truncated == "rows=7" and by_rows.rows == 7
    by_bytes = serialize_solutions(["s", "o"], rows, media_type, Limits(rows=1000, bytes=2_000))
    assert by_bytes.truncated == "bytes=2000" and len(by_bytes.body) <= 2_000 and 0 < by_bytes.rows < 500
    for cut in (by_rows, by_bytes):  # still a complete, parseable document
        if media_type == SOLUTION_TYPES[0]:
            assert len(json.loads(cut.body)["results"]["bindings"]) == cut.rows
        elif media_type == SOLUTION_TYPES[1]:
            assert len(ElementTree.fromstring(cut.body).findall(f"{SRX}results/{SRX}result")) == cut.rows
        else:
            assert len(cut.body.decode().splitlines()) == cut.rows + 1


@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
@pytest.mark.parametrize("media_type,rdflib_format", zip(GRAPH_TYPES, ["turtle", "json-ld", "nt", "xml"]))
def test_graph_results_are_cut_to_whole_documents(media_type: str, rdflib_format: str, engine: str) -> None:
    triples: list = [(URIRef(f"urn:s{i}"), RDFS.label, Literal(f"label number {i}")) for i in range(400)]
    kwargs = {}
    if engine == "oxigraph":  # the worker's path: Oxigraph's triples in Oxigraph's writers (JSON-LD in rdflib's)
        triples = [pyoxigraph.Triple(*(to_oxigraph(term) for term in triple)) for triple in triples]
        kwargs = {"document": oxigraph_document}
    whole = serialize_triples(triples + triples[:50], media_type, Limits(rows=1000, bytes=1_000_000), **kwargs)
    assert whole.truncated is None and whole.rows == 400
    assert len(Graph().parse(data=whole.body, format=rdflib_format)) == 400
    by_rows = serialize_triples(triples, media_type, Limits(rows=25, bytes=1_000_000), **kwargs)
    assert by_rows.truncated == "rows=25" and len(Graph().parse(data=by_rows.body, format=rdflib_format)) == 25
    by_bytes = serialize_triples(triples, media_type, Limits(rows=1000, bytes=4_096), **kwargs)
    assert by_bytes.truncated == "bytes=4096" and len(by_bytes.body) <= 4_096
    assert len(Graph().parse(data=by_bytes.body, format=rdflib_format)) == by_bytes.rows > 0


@pytest.fixture(scope="module")
def truncating(tmp_path_factory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("truncating"),
                           env={"KG_MAX_RESULT_ROWS": "5", "KG_MAX_RESULT_BYTES": "4096"})
    yield running
    stop_server(running)


def test_truncation_is_visible_to_sparqlwrapper_users(truncating: RunningServer) -> None:
    client = SPARQLWrapper(f"{truncating.url}/sparql")
    client.setQuery("SELECT * WHERE { ?s ?p ?o }")
    client.setReturnFormat(JSON)
    result = client.query()
    assert result.info()["x-result-truncated"] == "rows=5" and "truncated" in result.info()["warning"]
    assert len(result.convert()["results"]["bindings"]) == 5
    client.setQuery("CONSTRUCT WHERE { ?s ?p ?o }")
    client.setReturnFormat(TURTLE)
    result = client.query()
    assert result.info()["x-result-truncated"] in ("rows=5", "bytes=4096")
    assert len(Graph().parse(data=result.response.read(), format="turtle")) <= 5
    client.setQuery(f"SELECT ?label WHERE {{ ?s <{RDFS.label}> ?label }} LIMIT 2")
    client.setReturnFormat(JSON)
    assert "x-result-truncated" not in client.query().info()


# -- the two engines agree, datasets included (in process) ----------------------------------------------------------

PARITY = [
    (SELECT, (), ()),
    (CAUSES, (ASSERTED,), ()),
    (CAUSES, (), (INFERRED,)),
    (CAUSES.replace("WHERE", f"FROM <{ASSERTED}> WHERE"), (INFERRED,), ()),
    (GRAPHS, (), ()),
    (GRAPHS.replace("WHERE", f"FROM NAMED <{INFERRED}> WHERE"), (), ()),
    (GRAPHS, (ASSERTED,), (ASSERTED,)),
    (PREFIXES + "SELECT ?l (COUNT(?i) AS ?n) WHERE { ?c a ks:Cause ; rdfs:label ?l . OPTIONAL { ?i ?p ?c } } "
     "GROUP BY ?l ORDER BY ?l", (), ()),
]


@pytest.fixture(scope="module")
def engines() -> dict[str, Engine]:
    nquads = load_graph(ROOT / "ontology").nquads()
    return {name: Engine(nquads, name) for name in ("oxigraph", "rdflib")}


def solutions(engine: Engine, query: str, default: tuple, named: tuple) -> list[dict]:
    result = execute(engine, Job(query, SOLUTION_TYPES[0], Limits(10_000, 8_000_000), default, named))
    return json.loads(result.body)["results"]["bindings"]


@pytest.mark.parametrize("query,default,named", PARITY, ids=[f"parity-{i}" for i in range(len(PARITY))])
def test_oxigraph_and_rdflib_answer_alike(engines: dict[str, Engine], query: str, default: tuple,
                                          named: tuple) -> None:
    oxigraph, rdflib_rows = (solutions(engines[n], query, default, named) for n in ("oxigraph", "rdflib"))
    assert oxigraph == rdflib_rows and oxigraph


def test_both_engines_describe_as_rdf(engines: dict[str, Engine]) -> None:
    for engine in engines.values():
        result = execute(engine, Job(DESCRIBE, "text/turtle", Limits(10_000, 8_000_000)))
        assert result.media_type == "text/turtle" and OA_LABEL in Graph().parse(data=result.body, format="turtle")


@pytest.mark.alone  # timed: no neighbour on the cores (tests/conftest.py)
def test_remote_is_spared_what_no_engine_should_plan(remote_api: httpx.Client, fake_remote) -> None:
    """A 16 KB operator chain (rdflib: ~20 s of CPU to parse; Oxigraph: crashes at 10k terms) is refused by the
    lexical pre-check in the HTTP process at once; nothing reaches the remote endpoint."""
    _, received = fake_remote
    received.clear()
    started = time.monotonic()
    chain = remote_api.post("/sparql", data={"query": "SELECT (" + "+".join(["1"] * 8000) + " AS ?x) {} # mode:ok"})
    assert chain.status_code == 400 and chain.json()["type"].endswith("/query-too-complex")
    assert time.monotonic() - started < 1 and received == []
    assert remote_api.get("/healthz").status_code == 200


def test_computed_literals_keep_their_lexical_form(client: httpx.Client) -> None:
    """rdflib's literal normalization would turn an ill-typed "true "^^xsd:boolean into "false"."""
    query = f'SELECT ?b ?d WHERE {{ BIND(STRDT("true ", <{XSD.boolean}>) AS ?b) BIND(STRDT("2.50", <{XSD.string}>) AS ?d) }}'
    row = bindings(client.get("/sparql", params={"query": query}))[0]
    assert row["b"] == {"type": "literal", "value": "true ", "datatype": str(XSD.boolean)}
    assert row["d"] == {"type": "literal", "value": "2.50"}
