"""The ontology as a curator checks it: it parses, says only what the text says, and traces every fact."""

from __future__ import annotations

import csv
import hashlib
import re

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

from conftest import ROOT, SHARED
from kg_service.graph import KS, OA, load_graph, parse_asserted
from kg_service.validation import check_declarations, check_evidence_spans, check_labels, check_source_copy

ONTOLOGY = ROOT / "ontology"
TEXT = (ONTOLOGY / "sources" / "knee-night-soreness.txt").read_text(encoding="utf-8")
NON_FACTUAL = {"A detailed analysis is as follows:"}


@pytest.fixture(scope="module")
def graph() -> Graph:
    return parse_asserted(ONTOLOGY)


def test_source_copy_is_byte_identical_to_the_corpus(graph: Graph) -> None:
    copy = (ONTOLOGY / "sources" / "knee-night-soreness.txt").read_bytes()
    assert hashlib.sha256(copy).hexdigest() == hashlib.sha256(
        (SHARED / "corpus" / "knee-night-soreness.txt").read_bytes()).hexdigest()
    assert check_source_copy(graph, ONTOLOGY) == []


def test_every_project_iri_is_declared_and_everything_is_labelled(graph: Graph) -> None:
    assert check_declarations(graph) == []
    assert check_labels(graph) == []


def test_every_evidence_span_is_the_exact_text_in_code_points(graph: Graph) -> None:
    assert check_evidence_spans(graph, TEXT) == []
    spans = list(graph.subjects(RDF.type, OA.TextPositionSelector))
    assert len(spans) >= 100
    assert "—" in TEXT  # non-ASCII: offsets are code points, not bytes


def test_a_wrong_offset_is_reported(graph: Graph) -> None:
    broken = Graph()
    for triple in graph:
        broken.add(triple)
    # the first span of the text (a span ending the text would still slice the same with end + 1)
    selector = min(broken.subjects(RDF.type, OA.TextPositionSelector), key=lambda s: int(broken.value(s, OA.start)))
    end = broken.value(selector, OA.end)
    broken.set((selector, OA.end, type(end)(int(end) + 1, datatype=end.datatype)))
    problems = check_evidence_spans(broken, TEXT)
    assert len(problems) == 1 and "not the quote" in problems[0]


def sentences(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        found += [s.strip() for s in re.split(r"(?<=[A-Za-z)][.?!:])\s+(?=[A-Z])", line) if s.strip()]
    return found


def test_every_sentence_stating_a_fact_is_evidence_of_a_node(graph: Graph) -> None:
    spans = [(int(graph.value(p, OA.start)), int(graph.value(p, OA.end)))
             for p in graph.subjects(RDF.type, OA.TextPositionSelector)]
    unused = []
    for sentence in sentences(TEXT):
        start = TEXT.index(sentence)
        end = start + len(sentence)
        if sentence not in NON_FACTUAL and not any(s < end and start < e for s, e in spans):
            unused.append(sentence)
    assert unused == [], f"sentences no node cites: {unused}"


def test_ontology_headers_describe_the_release(graph: Graph) -> None:
    for module in ("schema", "knowledge"):
        iri = URIRef(KS[module])
        assert (iri, RDF.type, OWL.Ontology) in graph
        for prop in (OWL.versionIRI, OWL.versionInfo, DCTERMS.title, DCTERMS.description, DCTERMS.license,
                     DCTERMS.creator, DCTERMS.created):
            assert graph.value(iri, prop) is not None, f"{module} header lacks {prop}"
    assert graph.value(URIRef(KS["knowledge"]), DCTERMS.source) == URIRef(KS["source-article"])
    assert (URIRef(KS["knowledge"]), OWL.imports, URIRef(KS["schema"])) in graph


def expand(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return {"MESH": f"http://id.nlm.nih.gov/mesh/{local}", "ICD10": f"https://icd.who.int/browse10/2019/en#/{local}",
            "ICD10CM": f"http://purl.bioontology.org/ontology/ICD10CM/{local}",
            "ATC": f"http://purl.bioontology.org/ontology/ATC/{local}"}.get(
        prefix, f"http://purl.obolibrary.org/obo/{prefix}_{local}")


def test_mappings_use_only_identifiers_seen_in_public_releases(graph: Graph) -> None:
    with open(SHARED / "reference" / "xrefs.tsv", encoding="utf-8") as handle:
        known = {expand(row["identifier"]) for row in csv.DictReader(handle, delimiter="\t")
                 if ":" in row["identifier"] and not row["identifier"].startswith(("skos:", "prov:", "dcterms:",
                                                                                    "oa:", "oboInOwl:"))}
    matches = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
    used = {str(o) for p in matches for o in graph.objects(None, p)}
    assert len(used) > 150
    assert used - known == set(), f"identifiers not in xrefs.tsv: {sorted(used - known)}"


def test_recommendations_share_interventions_and_keep_the_texts_qualifiers(graph: Graph) -> None:
    rest = URIRef(KS["rest"])
    recommendations = set(graph.subjects(URIRef(KS["recommends_intervention"]), rest))
    assert len(recommendations) == 4
    qualifiers = {str(q) for q in graph.objects(None, URIRef(KS["qualifier"]))}
    assert {"as directed by a physician", "under medical guidance", "in some cases", "may be necessary"} <= qualifiers


def test_inferred_graph_makes_the_chain_traversable() -> None:
    loaded = load_graph(ONTOLOGY)
    contributes = URIRef(KS["contributes_to"])
    assert (URIRef(KS["calcium-deficiency"]), contributes, URIRef(KS["nocturnal-knee-soreness"])) in loaded.inferred
    assert (URIRef(KS["osteoarthritis"]), RDF.type, URIRef(KS["Cause"])) in loaded.inferred
    assert (URIRef(KS["osteoarthritis"]), RDF.type, URIRef(KS["Cause"])) not in loaded.asserted
    alleviates = URIRef(KS["alleviates"])  # the property chain recommended_in o for_condition
    assert (URIRef(KS["massage"]), alleviates, URIRef(KS["knee-synovitis"])) in loaded.inferred
