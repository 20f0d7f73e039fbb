"""Linked data: entity IRIs dereference by content negotiation; the whole ontology is served for Protégé."""

from __future__ import annotations

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS

KS = "https://w3id.org/knee-soreness/"


@pytest.mark.parametrize("accept,rdflib_format", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                                  ("application/rdf+xml", "xml"), ("application/n-triples", "nt")])
def test_entity_dereferences_in_each_rdf_format(client: httpx.Client, accept: str, rdflib_format: str) -> None:
    response = client.get("/entity/osteoarthritis", headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    graph = Graph().parse(data=response.text, format=rdflib_format)
    subject = URIRef(KS + "osteoarthritis")
    assert str(graph.value(subject, RDFS.label)) == "osteoarthritis"
    assert (subject, URIRef(KS + "has_mechanism"), URIRef(KS + "inflammatory-exudation")) in graph


def test_jsonld_embeds_its_context(client: httpx.Client) -> None:
    body = client.get("/entity/massage", headers={"Accept": "application/ld+json"}).json()
    assert isinstance(body["@context"], dict) and body["@context"]["ks"] == KS
    api = client.get("/api/entities/massage", headers={"Accept": "application/ld+json"})
    assert api.headers["content-type"].startswith("application/ld+json") and "@context" in api.json()


def test_browser_gets_an_html_page_with_the_evidence(client: httpx.Client) -> None:
    response = client.get("/entity/osteoarthritis", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>osteoarthritis</h1>" in response.text and "inflammatory exudation" in response.text


def test_q_values_choose_the_format_and_unavailable_is_406(client: httpx.Client) -> None:
    response = client.get("/entity/rest", headers={"Accept": "text/turtle;q=0.5, application/n-triples;q=0.9"})
    assert response.headers["content-type"].startswith("application/n-triples")
    refused = client.get("/entity/rest", headers={"Accept": "image/png"})
    assert refused.status_code == 406 and refused.json()["type"].endswith("/not-acceptable")


def test_recommendation_nodes_dereference_too(client: httpx.Client) -> None:
    response = client.get("/entity/rec-osteoarthritis-rest", params={"format": "ttl"})
    graph = Graph().parse(data=response.text, format="turtle")
    rec = URIRef(KS + "rec-osteoarthritis-rest")
    assert (rec, URIRef(KS + "recommends_intervention"), URIRef(KS + "rest")) in graph


def test_unknown_entity_is_404(client: httpx.Client) -> None:
    assert client.get("/entity/no-such-thing").status_code == 404


@pytest.mark.parametrize("fmt,rdflib_format", [("ttl", "turtle"), ("xml", "xml"), ("jsonld", "json-ld"), ("nt", "nt")])
def test_whole_ontology_is_served_in_each_format(client: httpx.Client, fmt: str, rdflib_format: str) -> None:
    response = client.get("/ontology", params={"format": fmt})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format=rdflib_format)
    assert (URIRef(KS + "ontology"), None, None) in graph
    assert len(graph) > 2000


def test_source_text_is_served_for_evidence_offsets(client: httpx.Client, source_text: str) -> None:
    assert client.get("/api/source").text == source_text


def test_api_entity_routes_answer_jsonld_when_asked(client: httpx.Client) -> None:
    response = client.get("/api/causes/osteoarthritis", headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    graph = Graph().parse(data=response.text, format="json-ld")
    assert str(graph.value(URIRef(KS + "osteoarthritis"), RDFS.label)) == "osteoarthritis"
    plain = client.get("/api/causes/osteoarthritis")
    assert plain.headers["content-type"] == "application/json" and plain.json()["id"] == "osteoarthritis"
