"""More than one article: a curator adds a second article's module and text to ontology/, and `serve --data`
adds extra RDF; search, evidence per document, the stored queries and validation work over all of it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT, start_server, stop_server

from kg_service.graph import document_texts, load_graph, parse_asserted
from kg_service.validation import check_evidence_spans, check_shacl

ARTICLE = """Why do calves cramp at night?
Night cramps in the calf are often caused by dehydration. Drinking enough water during the day helps prevent them.
"""
ARTICLE_IRI = "https://w3id.org/knee-soreness/calf-cramps-article"


def _selector(text: str, quote: str, document: str) -> str:
    start = text.index(quote)
    end = start + len(quote)
    escape = str.maketrans({"\n": "\\n", '"': '\\"'})
    return (f'oa:hasTarget [ a oa:SpecificResource ; oa:hasSource {document} ;\n'
            f'        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{quote}" ;\n'
            f'            oa:prefix "{text[max(0, start - 12):start].translate(escape)}" ;\n'
            f'            oa:suffix "{text[end:end + 12].translate(escape)}" ] ,\n'
            f'          [ a oa:TextPositionSelector ; oa:start "{start}"^^xsd:nonNegativeInteger ;\n'
            f'            oa:end "{end}"^^xsd:nonNegativeInteger ] ]')


def second_article_module(text: str) -> str:
    """A tiny knowledge module in the shape of ks-knowledge.ttl, every fact traced into the second text."""
    doc = "ks:calf-cramps-article"
    return f"""@prefix ks: <https://w3id.org/knee-soreness/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix obo: <http://purl.obolibrary.org/obo/> .

<https://w3id.org/knee-soreness/calf-cramps> a owl:Ontology ;
    owl:imports <https://w3id.org/knee-soreness/schema> ;
    rdfs:label "Knee-soreness ontology: calf cramps article" ;
    dcterms:source {doc} .

{doc} a owl:NamedIndividual , ks:SourceDocument ;
    rdfs:label "Why do calves cramp at night?" ;
    dcterms:source "ontology/sources/calf-cramps.txt" .

ks:dehydration a owl:NamedIndividual , ks:PhysiologicalState ;
    ks:provenance "text" ;
    rdfs:label "dehydration"@en ;
    obo:IAO_0000115 "Too little water in the body, which the second article names as a cause of night cramps."@en ;
    ks:has_evidence ks:ev-dehydration-1 .

ks:drinking-water a owl:NamedIndividual , ks:LifestyleIntervention ;
    ks:provenance "text" ;
    rdfs:label "drinking enough water"@en ;
    obo:IAO_0000115 "Drinking enough water during the day."@en ;
    ks:has_evidence ks:ev-drinking-water-1 .

ks:rec-dehydration-drinking-water a owl:NamedIndividual , ks:Recommendation ;
    ks:provenance "text" ;
    rdfs:label "drinking enough water for dehydration"@en ;
    obo:IAO_0000115 "The second article advises drinking enough water for dehydration."@en ;
    ks:recommends_intervention ks:drinking-water ;
    ks:for_condition ks:dehydration ;
    ks:requires_medical_supervision false ;
    ks:has_evidence ks:ev-rec-dehydration-drinking-water-1 .

ks:ev-dehydration-1 a owl:NamedIndividual , ks:TextEvidence ;
    rdfs:label "evidence for dehydration"@en ;
    {_selector(text, "Night cramps in the calf are often caused by dehydration", doc)} .

ks:ev-drinking-water-1 a owl:NamedIndividual , ks:TextEvidence ;
    rdfs:label "evidence for drinking enough water"@en ;
    {_selector(text, "Drinking enough water", doc)} .

ks:ev-rec-dehydration-drinking-water-1 a owl:NamedIndividual , ks:TextEvidence ;
    rdfs:label "evidence for drinking enough water for dehydration"@en ;
    {_selector(text, "Drinking enough water during the day helps prevent them.", doc)} .
"""


@pytest.fixture(scope="module")
def two_articles(tmp_path_factory) -> Path:
    """ontology/ plus a second article: its module beside the others and its text in sources/."""
    ontology = tmp_path_factory.mktemp("two-articles") / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    (ontology / "sources" / "calf-cramps.txt").write_text(ARTICLE, encoding="utf-8")
    (ontology / "ks-calf-cramps.ttl").write_text(second_article_module(ARTICLE), encoding="utf-8")
    return ontology


def test_every_module_and_document_is_loaded_and_versioned(two_articles: Path) -> None:
    loaded = load_graph(two_articles)
    assert set(loaded.documents) == {"https://w3id.org/knee-soreness/source-article", ARTICLE_IRI}
    assert loaded.documents[ARTICLE_IRI] == ARTICLE
    assert loaded.version != load_graph(ROOT / "ontology").version
    # The closure reaches the new article's facts: its cause is a ks:Cause (through its subclass), and the
    # recommendation is linked back from the intervention (owl:inverseOf).
    inferred = {tuple(map(str, t)) for t in loaded.inferred}
    ks = "https://w3id.org/knee-soreness/"
    assert (ks + "dehydration", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", ks + "Cause") in inferred
    assert (ks + "drinking-water", ks + "recommended_in", ks + "rec-dehydration-drinking-water") in inferred


def test_evidence_is_checked_against_its_own_document(two_articles: Path, tmp_path: Path) -> None:
    graph = parse_asserted(two_articles)
    texts = document_texts(two_articles, graph)
    assert check_evidence_spans(graph, texts) == []
    assert check_shacl(graph, two_articles / "shapes.ttl") == []
    # The same offsets read against the first article would be wrong: each span is checked in its document.
    shifted = tmp_path / "ontology"
    shutil.copytree(two_articles, shifted)
    (shifted / "sources" / "calf-cramps.txt").write_text("Oh. " + ARTICLE, encoding="utf-8")
    problems = [str(p) for p in check_evidence_spans(parse_asserted(shifted),
                                                       document_texts(shifted, parse_asserted(shifted)))]
    assert len(problems) == 3 and all("the text of ks:calf-cramps-article" in p for p in problems), problems
    assert "set oa:start 92 and oa:end 148" in " ".join(problems)  # where the quote now is, in its own text


def test_the_service_serves_both_articles(two_articles: Path, tmp_path: Path) -> None:
    running = start_server(tmp_path, "--ontology", str(two_articles), "--store-dir", str(tmp_path / "store"))
    try:
        with running.client() as client:
            hits = client.get("/api/search", params={"q": "dehydratoin"}).json()["results"]  # a typo, too
            assert hits[0]["id"] == "dehydration"
            rows = client.get("/api/causes/dehydration/interventions").json()
            water = [r for r in rows["items"] if r["id"] == "drinking-water"]
            assert water, rows
            for evidence in water[0]["evidence"]:
                assert evidence["source"] == ARTICLE_IRI
                assert ARTICLE[evidence["start"]:evidence["end"]] == evidence["quote"]
            # The first article's questions still answer from its own text.
            first = (ROOT / "ontology" / "sources" / "knee-night-soreness.txt").read_text(encoding="utf-8")
            osteo = client.get("/api/causes/osteoarthritis/interventions").json()["items"]
            spans = [e for r in osteo for e in r["evidence"]]
            assert spans and all(first[e["start"]:e["end"]] == e["quote"] for e in spans)
            assert {c["id"] for c in client.get("/api/causes").json()["items"]} >= {"dehydration", "osteoarthritis"}

            # Each document is listed and its text served: the one an evidence span's `source` names.
            documents = {d["iri"]: d for d in client.get("/api/sources").json()["items"]}
            assert set(documents) == {ARTICLE_IRI, "https://w3id.org/knee-soreness/source-article"}
            second = documents[ARTICLE_IRI]
            assert (second["label"], second["file"], second["characters"], second["evidence_spans"]) == (
                "Why do calves cramp at night?", "ontology/sources/calf-cramps.txt", len(ARTICLE), 3)
            assert client.get(second["text"]).text == ARTICLE
            assert client.get("/api/source", params={"document": ARTICLE_IRI}).text == ARTICLE
            assert client.get("/api/source").text == first  # the first article stays the default
            missing = client.get("/api/source", params={"document": "no-such-article"})
            assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
            assert "calf-cramps-article" in missing.json()["hint"] and "source-article" in missing.json()["documents"]

            # The entity page marks each span in its own document's text and names that document.
            page = client.get("/entity/dehydration", headers={"Accept": "text/html"}).text
            assert "cramp at night?\n<mark>Night cramps in the calf are often caused by dehydration</mark>. Drinking" in page
            assert "Why do calves cramp at night?</a>" in page and "document=calf-cramps-article" in page
            home = client.get("/", headers={"Accept": "text/html"}).text
            assert "Why do calves cramp at night?" in home and "source articles" in home
    finally:
        stop_server(running)


def test_serve_data_adds_rdf_to_the_asserted_graph(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import main as generate

    data = tmp_path / "copies.nt"
    generate(["--triples", "3000", "--seed", "7", "-o", str(data)])
    expected = load_graph(ROOT / "ontology", [data])
    running = start_server(tmp_path, "--data", str(data), "--store-dir", str(tmp_path / "store"))
    try:
        with running.client() as client:
            ready = client.get("/readyz").json()
            assert ready["asserted_triples"] == expected.asserted_count == load_graph(ROOT / "ontology").asserted_count + 3000
            assert ready["inferred_triples"] == expected.inferred_count and ready["version"] == expected.version
            found = {h["id"] for h in client.get("/api/search", params={"q": "osteoarthritis", "limit": 100}).json()["results"]}
            assert {"osteoarthritis", "osteoarthritis-g1"} <= found
            # A stored query over the copy: its recommendations, and the closure's inverse links, are there.
            copy = client.get("/api/causes/osteoarthritis-g1/interventions").json()["items"]
            original = client.get("/api/causes/osteoarthritis/interventions").json()["items"]
            assert sorted(r["id"].removesuffix("-g1") for r in copy) == sorted(r["id"] for r in original)
    finally:
        stop_server(running)
