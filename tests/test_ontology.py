"""The ontology as a curator checks it: it parses, declares and labels what it uses, says only what the text says,
traces every fact to its exact span, and maps only to identifiers seen in public releases."""

from __future__ import annotations

import csv
import hashlib
import re

import pytest
from conftest import ROOT, SHARED
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg_service.graph import KS, OA, load_graph, parse_asserted
from kg_service.validation import (
    check_declarations,
    check_evidence_spans,
    check_labels,
    check_parse,
    check_source_copy,
)

ONTOLOGY = ROOT / "ontology"
SOURCE = ONTOLOGY / "sources" / "knee-night-soreness.txt"
CORPUS = SHARED / "corpus" / "knee-night-soreness.txt"
TEXT = SOURCE.read_text(encoding="utf-8")
# Lines of the text that state no cause, mechanism or intervention (a connective sentence).
NON_FACTUAL = {"A detailed analysis is as follows:"}
PROV = "http://www.w3.org/ns/prov#"


@pytest.fixture(scope="module")
def graph() -> Graph:
    return parse_asserted(ONTOLOGY)


def test_every_turtle_file_parses() -> None:
    assert check_parse(ONTOLOGY) == []
    assert {p.name for p in ONTOLOGY.glob("*.ttl")} >= {"ks-schema.ttl", "ks-knowledge.ttl", "shapes.ttl"}


def test_source_copy_is_byte_identical_to_the_corpus_and_its_hash_is_recorded(graph: Graph) -> None:
    copy = SOURCE.read_bytes()
    assert copy == CORPUS.read_bytes()
    recorded = str(graph.value(URIRef(KS["source-article"]), DCTERMS.identifier))
    assert recorded == "sha256:" + hashlib.sha256(CORPUS.read_bytes()).hexdigest()
    assert check_source_copy(graph, ONTOLOGY) == []


def test_an_edited_source_copy_is_reported(graph: Graph, tmp_path) -> None:
    edited = tmp_path / "ontology"
    (edited / "sources").mkdir(parents=True)
    (edited / "sources" / SOURCE.name).write_text(TEXT.replace("—", "-"), encoding="utf-8")
    problems = [str(p) for p in check_source_copy(graph, edited, corpus=CORPUS)]
    assert len(problems) == 2, problems
    assert "differs from the corpus" in problems[0] and "ks:source-article" in problems[1]


def test_every_project_iri_is_declared_and_every_entity_is_labelled(graph: Graph) -> None:
    assert check_declarations(graph) == []
    assert check_labels(graph) == []


def test_an_undeclared_or_unlabelled_term_is_reported(graph: Graph) -> None:
    edited = Graph()
    for triple in graph:
        edited.add(triple)
    edited.add((URIRef(KS["rest"]), URIRef(KS["helps_with"]), URIRef(KS["knee-synovitis"])))  # a typo'd property
    edited.remove((URIRef(KS["massage"]), RDFS.label, None))
    assert [p.where for p in check_declarations(edited)] == ["ks:helps_with"]
    assert [p.where for p in check_labels(edited)] == ["ks:massage"]


def test_the_ontology_holds_what_the_text_names(graph: Graph) -> None:
    def members(cls: str) -> set[URIRef]:
        classes = {URIRef(KS[cls]), *graph.subjects(RDFS.subClassOf, URIRef(KS[cls]))}
        return {s for c in classes for s in graph.subjects(RDF.type, c)}

    counts = {
        "classes": len({s for s in graph.subjects(RDF.type, OWL.Class) if str(s).startswith(str(KS))}),
        "object properties": len({s for s in graph.subjects(RDF.type, OWL.ObjectProperty)
                                  if str(s).startswith(str(KS))}),
        "individuals": len(set(graph.subjects(RDF.type, OWL.NamedIndividual))),
        "causes": len(members("Cause")), "mechanisms": len(members("Mechanism")),
        "interventions": len(members("Intervention")), "drugs": len(members("DrugTherapy")),
        "recommendations": len(members("Recommendation")), "evidence spans": len(members("TextEvidence")),
    }
    assert all(n > 0 for n in counts.values()), counts
    # five detailed causes and the two only named
    assert counts["causes"] == 7, counts
    # four drug products: calcium gluconate, calcium carbonate, ibuprofen, diclofenac (+ the hyaluronate injection)
    assert counts["drugs"] >= 4, counts


def test_every_evidence_span_is_the_exact_text_in_code_points(graph: Graph) -> None:
    assert check_evidence_spans(graph, TEXT) == []
    spans = list(graph.subjects(RDF.type, OA.TextPositionSelector))
    assert len(spans) == len(set(graph.subjects(RDF.type, URIRef(KS["TextEvidence"])))) > 50
    # the text has non-ASCII characters before some spans, so byte offsets would be wrong: code points it is
    assert len(TEXT) != len(TEXT.encode("utf-8"))
    assert any(int(graph.value(s, OA.start)) > TEXT.index("—") for s in spans)


def test_a_wrong_offset_is_reported_with_where_the_quote_really_is(graph: Graph) -> None:
    broken = Graph()
    for triple in graph:
        broken.add(triple)
    selector = min(broken.subjects(RDF.type, OA.TextPositionSelector), key=lambda s: int(broken.value(s, OA.start)))
    end = broken.value(selector, OA.end)
    broken.set((selector, OA.end, type(end)(int(end) + 1, datatype=end.datatype)))
    problems = check_evidence_spans(broken, TEXT)
    assert len(problems) == 1
    assert "not its oa:exact quote" in problems[0].what and f"oa:end {int(end)}" in problems[0].fix


def sentences(text: str) -> list[str]:
    """Each line, split after sentence punctuation followed by a capital (headings are lines of their own)."""
    found = []
    for line in text.splitlines():
        found += [s.strip() for s in re.split(r"(?<=[A-Za-z)][.?!:])\s+(?=[A-Z])", line) if s.strip()]
    return found


def test_every_sentence_stating_a_fact_is_evidence_of_a_node(graph: Graph) -> None:
    spans = [(int(graph.value(p, OA.start)), int(graph.value(p, OA.end)))
             for p in graph.subjects(RDF.type, OA.TextPositionSelector)]
    all_sentences = sentences(TEXT)
    assert len(all_sentences) > 25 and set(NON_FACTUAL) <= set(all_sentences)
    unused = []
    position = 0
    for sentence in all_sentences:
        start = TEXT.index(sentence, position)
        end = position = start + len(sentence)
        if sentence not in NON_FACTUAL and not any(s < end and start < e for s, e in spans):
            unused.append(sentence)
    assert unused == [], f"sentences no node cites as evidence: {unused}"


def test_the_knowledge_module_header_describes_the_release(graph: Graph) -> None:
    knowledge = URIRef(KS["knowledge"])
    assert (knowledge, RDF.type, OWL.Ontology) in graph
    assert graph.value(knowledge, OWL.versionIRI) == URIRef(KS["releases/0.1.0/knowledge"])
    assert str(graph.value(knowledge, OWL.versionInfo)) == "0.1.0"
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.creator):
        assert len(str(graph.value(knowledge, prop) or "")) > 5, f"the header lacks {prop}"
    assert str(graph.value(knowledge, DCTERMS.license)).startswith("https://creativecommons.org/licenses/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", str(graph.value(knowledge, DCTERMS.created)))
    assert graph.value(knowledge, DCTERMS.source) == URIRef(KS["source-article"])
    assert (knowledge, URIRef(PROV + "wasDerivedFrom"), URIRef(KS["source-article"])) in graph
    assert (knowledge, OWL.imports, URIRef(KS["schema"])) in graph
    schema = URIRef(KS["schema"])
    assert graph.value(schema, OWL.versionIRI) == URIRef(KS["releases/0.1.0/schema"])
    assert graph.value(schema, OWL.versionInfo) == graph.value(knowledge, OWL.versionInfo)


def expand(curie: str) -> str:
    """CURIE -> IRI exactly as ks-knowledge.ttl writes the mappings (see ../shared/reference/README.md)."""
    prefix, local = curie.split(":", 1)
    return {"MESH": f"http://id.nlm.nih.gov/mesh/{local}",
            "ICD10": f"https://icd.who.int/browse10/2019/en#/{local}",
            "ICD10CM": f"http://purl.bioontology.org/ontology/ICD10CM/{local}",
            "ATC": f"http://purl.bioontology.org/ontology/ATC/{local}"}.get(
        prefix, f"http://purl.obolibrary.org/obo/{prefix}_{local}")


def test_mappings_use_only_identifiers_seen_in_public_releases(graph: Graph) -> None:
    vocabularies = ("skos:", "prov:", "dcterms:", "oa:", "oboInOwl:")
    with open(SHARED / "reference" / "xrefs.tsv", encoding="utf-8") as handle:
        known = {expand(row["identifier"]) for row in csv.DictReader(handle, delimiter="\t")
                 if not row["identifier"].startswith(vocabularies)}
    matches = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
    used = {str(o) for p in matches for o in graph.objects(None, p)}
    assert len(used) > 100
    assert sorted(used - known) == [], "identifiers that are not in ../shared/reference/xrefs.tsv"
    reused_obo = {str(s) for s in graph.subjects(RDFS.label, None) if str(s).startswith("http://purl.obolibrary.org")}
    assert sorted(reused_obo - known) == [], "reused OBO terms that are not in xrefs.tsv"


def test_recommendations_share_interventions_and_keep_the_texts_qualifiers(graph: Graph) -> None:
    rest = URIRef(KS["rest"])
    for_condition = URIRef(KS["for_condition"])
    rest_for = {graph.value(r, for_condition) for r in graph.subjects(URIRef(KS["recommends_intervention"]), rest)}
    assert {URIRef(KS[c]) for c in ("muscle-fatigue", "calcium-deficiency", "osteoarthritis", "knee-synovitis")} \
        == rest_for
    qualifiers = {str(q) for q in graph.objects(None, URIRef(KS["qualifier"]))}
    assert {"as directed by a physician", "under medical guidance", "In some cases", "may be necessary"} <= qualifiers
    for qualifier in qualifiers:
        assert qualifier in TEXT, f"qualifier {qualifier!r} is not the text's own words (with its capitals)"


def test_inferred_graph_makes_the_chain_traversable() -> None:
    loaded = load_graph(ONTOLOGY)
    contributes = URIRef(KS["contributes_to"])
    assert (URIRef(KS["calcium-deficiency"]), contributes, URIRef(KS["nocturnal-knee-soreness"])) in loaded.inferred
    assert (URIRef(KS["osteoarthritis"]), RDF.type, URIRef(KS["Cause"])) in loaded.inferred
    assert (URIRef(KS["osteoarthritis"]), RDF.type, URIRef(KS["Cause"])) not in loaded.asserted
    alleviated_by = URIRef(KS["alleviated_by"])  # the inverse of an asserted intervention -> symptom relief
    assert (URIRef(KS["nocturnal-knee-soreness"]), alleviated_by, URIRef(KS["massage"])) in loaded.inferred
