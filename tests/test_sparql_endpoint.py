"""The SPARQL endpoint as researchers use it: SPARQLWrapper over real HTTP, every method and format."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS
from SPARQLWrapper import CSV, GET, JSON, N3, POST, POSTDIRECTLY, TSV, URLENCODED, XML, SPARQLWrapper

from conftest import RunningServer

KS = "https://w3id.org/knee-soreness/"
PREFIXES = f"PREFIX ks: <{KS}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
CAUSES = PREFIXES + "SELECT ?cause ?label WHERE { ?cause a ks:Cause ; rdfs:label ?label } ORDER BY ?label"
EXPECTED_CAUSES = ["calcium deficiency", "cold exposure", "knee synovitis", "meniscal injury", "muscle fatigue",
                   "osteoarthritis", "osteoporosis"]
METHODS = [(GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)]


def wrapper(server: RunningServer, query: str, method: str, request_method: str) -> SPARQLWrapper:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(query)
    client.setMethod(method)
    client.setRequestMethod(request_method)
    return client


@pytest.mark.parametrize("method,request_method", METHODS)
def test_select_json_by_every_method(server: RunningServer, method: str, request_method: str) -> None:
    client = wrapper(server, CAUSES, method, request_method)
    client.setReturnFormat(JSON)
    rows = client.queryAndConvert()["results"]["bindings"]
    assert [r["label"]["value"] for r in rows] == EXPECTED_CAUSES  # inferred types: subclasses count as causes
    assert rows[0]["label"]["xml:lang"] == "en"


@pytest.mark.parametrize("method,request_method", METHODS)
def test_select_xml_csv_tsv(server: RunningServer, method: str, request_method: str) -> None:
    client = wrapper(server, CAUSES, method, request_method)
    client.setReturnFormat(XML)
    document = client.queryAndConvert()
    labels = [node.firstChild.data for node in document.getElementsByTagName("literal")]
    assert labels == EXPECTED_CAUSES

    client.setReturnFormat(CSV)
    table = list(csv.reader(io.StringIO(client.queryAndConvert().decode())))
    assert table[0] == ["cause", "label"] and [row[1] for row in table[1:]] == EXPECTED_CAUSES

    client.setReturnFormat(TSV)
    lines = client.queryAndConvert().decode().splitlines()
    assert lines[0] == "?cause\t?label"
    assert lines[1] == f'<{KS}calcium-deficiency>\t"calcium deficiency"@en'


def test_ask(server: RunningServer) -> None:
    client = wrapper(server, PREFIXES + "ASK { ks:osteoarthritis ks:has_mechanism ks:inflammatory-exudation }",
                     POST, URLENCODED)
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["boolean"] is True
    client.setQuery(PREFIXES + "ASK { ks:osteoarthritis ks:has_mechanism ks:synovial-congestion-and-edema }")
    assert client.queryAndConvert()["boolean"] is False


@pytest.mark.parametrize("accept,rdflib_format", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                                  ("application/n-triples", "nt"), ("application/rdf+xml", "xml")])
def test_construct_and_describe_in_every_rdf_format(client: httpx.Client, accept: str, rdflib_format: str) -> None:
    construct = PREFIXES + "CONSTRUCT { ?c rdfs:label ?l } WHERE { ?c a ks:Cause ; rdfs:label ?l }"
    for query in (construct, PREFIXES + "DESCRIBE ks:osteoarthritis"):
        response = client.post("/sparql", data={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
        graph = Graph().parse(data=response.text, format=rdflib_format)
        assert str(graph.value(URIRef(KS + "osteoarthritis"), RDFS.label)) == "osteoarthritis"


def test_construct_with_sparqlwrapper_turtle(server: RunningServer) -> None:
    client = wrapper(server, PREFIXES + "CONSTRUCT { ?c rdfs:label ?l } WHERE { ?c a ks:Cause ; rdfs:label ?l }",
                     GET, URLENCODED)
    client.setReturnFormat(N3)
    graph = Graph().parse(data=client.queryAndConvert(), format="turtle")
    assert len(graph) == len(EXPECTED_CAUSES)


def test_form_body_is_decoded_once(client: httpx.Client) -> None:
    """rdflib-endpoint decodes form bodies twice; a literal with a percent sign must survive as written."""
    response = client.post("/sparql", data={"query": 'SELECT ?x WHERE { BIND("50%41 off" AS ?x) }'},
                           headers={"Accept": "application/sparql-results+json"})
    assert response.json()["results"]["bindings"][0]["x"]["value"] == "50%41 off"


def test_accept_q_values_and_format_parameter(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": CAUSES},
                          headers={"Accept": "application/sparql-results+xml;q=0.5, text/csv;q=0.9"})
    assert response.headers["content-type"].startswith("text/csv")
    response = client.get("/sparql", params={"query": CAUSES, "format": "tsv"})
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    refused = client.get("/sparql", params={"query": CAUSES}, headers={"Accept": "text/turtle"})
    assert refused.status_code == 406 and "application/sparql-results+json" in refused.json()["detail"]


def test_dataset_selection_among_public_graphs(client: httpx.Client) -> None:
    query = PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?c a ks:Cause }"
    union = client.get("/sparql", params={"query": query}).json()
    asserted = client.get("/sparql", params={"query": query,
                                             "default-graph-uri": KS + "graph/asserted"}).json()
    count = lambda body: int(body["results"]["bindings"][0]["n"]["value"])  # noqa: E731
    assert count(union) == 7 and count(asserted) == 0  # membership of Cause is inferred from the subclasses
    refused = client.get("/sparql", params={"query": query, "default-graph-uri": "http://example.org/other"})
    assert refused.status_code == 400 and refused.json()["type"].endswith("/refused-feature")


def test_named_graphs_are_only_the_public_ones(client: httpx.Client) -> None:
    body = client.get("/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"}).json()
    assert {b["g"]["value"] for b in body["results"]["bindings"]} == {KS + "graph/asserted", KS + "graph/inferred"}


def test_syntax_error_is_a_400_problem_with_position(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    body = response.json()
    assert response.status_code == 400 and body["type"].endswith("/query-syntax-error")
    assert "line 1" in body["detail"] and body["line"] == 1


def test_service_description_and_html_page(client: httpx.Client) -> None:
    turtle = client.get("/sparql")
    assert turtle.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert (None, URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in graph
    assert (None, URIRef(sd + "feature"), URIRef(sd + "BasicFederatedQuery")) not in graph
    assert (None, URIRef(sd + "name"), URIRef(KS + "graph/inferred")) in graph
    page = client.get("/sparql", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "<form" in page.text
    assert "http" not in page.text.split("<body>")[0].replace("http-equiv", "")  # no CDN assets


def test_results_carry_etag_and_honour_if_none_match(client: httpx.Client) -> None:
    first = client.get("/sparql", params={"query": CAUSES})
    again = client.get("/sparql", params={"query": CAUSES}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    other = client.get("/sparql", params={"query": CAUSES, "format": "csv"})
    assert other.headers["etag"] != first.headers["etag"]


def test_row_limit_truncation_is_stated(tmp_path) -> None:
    from conftest import start_server, stop_server

    running = start_server(tmp_path, env={"KG_MAX_RESULT_ROWS": "5"})
    try:
        with running.client() as client:
            response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
            assert response.status_code == 200 and response.headers["x-result-truncated"] == "rows=5"
            assert len(json.loads(response.text)["results"]["bindings"]) == 5
    finally:
        stop_server(running)
