"""`kg-service export --format ttl|xml|jsonld|nt`: the merged ontology (schema + knowledge under one header), which
rdflib reads back triple for triple and which owlready2 and the OWL API open as they open the modules."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import owlready2
import pytest
from conftest import ROOT
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF

from kg_service.export import ONTOLOGY_IRI, VERSION_IRI, merged_ontology
from kg_service.graph import KS, parse_asserted
from kg_service.owlapi import run_owlapi_check

ONTOLOGY = ROOT / "ontology"
RDFLIB_FORMATS = {"ttl": "turtle", "xml": "xml", "jsonld": "json-ld", "nt": "nt"}


def canonical(graph: Graph) -> Counter:
    """The triples with each blank node written out as its content. The ontology's blank nodes (evidence targets and
    selectors, OWL lists and class expressions) are trees, so this is exact and, unlike rdflib's `isomorphic`, fast
    and indifferent to two blank nodes with the same content (two evidence spans on the same sentence)."""
    written: dict[BNode, str] = {}

    def term(node, depth: int = 0) -> str:
        if not isinstance(node, BNode):
            return node.n3()
        if node not in written:
            assert depth < 50, "a cycle of blank nodes"
            written[node] = "[" + " ; ".join(sorted(f"{p.n3()} {term(o, depth + 1)}"
                                                    for p, o in graph.predicate_objects(node))) + "]"
        return written[node]

    return Counter((term(s), p.n3(), term(o)) for s, p, o in graph)


def export(fmt: str, out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "kg_service.cli", "export", "--format", fmt, "--output", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("export")
    return {fmt: export(fmt, out / f"knee-soreness.{fmt}") for fmt in RDFLIB_FORMATS}


def test_the_merged_ontology_is_the_modules_under_one_header() -> None:
    modules, merged = parse_asserted(ONTOLOGY), merged_ontology(ONTOLOGY)
    assert list(merged.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]
    assert merged.value(ONTOLOGY_IRI, OWL.versionIRI) == VERSION_IRI
    assert list(merged.objects(None, OWL.imports)) == []
    knowledge = URIRef(KS["knowledge"])
    for prop in (OWL.versionInfo, DCTERMS.description, DCTERMS.license, DCTERMS.creator, DCTERMS.created,
                 DCTERMS.source):
        assert merged.value(ONTOLOGY_IRI, prop) == modules.value(knowledge, prop), prop
    assert "merged" in str(merged.value(ONTOLOGY_IRI, DCTERMS.title))
    # every statement of the modules except their two headers is in the merge, and nothing else is
    for header in (knowledge, URIRef(KS["schema"])):
        modules.remove((header, None, None))
    merged.remove((ONTOLOGY_IRI, None, None))
    assert canonical(merged) == canonical(modules)


@pytest.mark.parametrize("fmt", sorted(RDFLIB_FORMATS))
def test_export_writes_a_file_rdflib_reads_as_the_merged_ontology(exported: dict[str, Path], fmt: str) -> None:
    graph = Graph().parse(exported[fmt], format=RDFLIB_FORMATS[fmt])
    assert len(graph) > 3000
    assert canonical(graph) == canonical(merged_ontology(ONTOLOGY))


def test_jsonld_embeds_its_context(exported: dict[str, Path]) -> None:
    document = json.loads(exported["jsonld"].read_text(encoding="utf-8"))
    assert isinstance(document["@context"], dict), "the context must be inline, not a URL to fetch"
    assert document["@context"]["ks"] == str(KS)


def test_rdfxml_uses_readable_prefixes(exported: dict[str, Path]) -> None:
    head = exported["xml"].read_text(encoding="utf-8")[:2000]
    for prefix in ("ks", "owl", "rdfs", "oa", "obo", "skos"):
        assert f'xmlns:{prefix}="' in head
    assert "ns1:" not in head


def test_rdfxml_opens_in_owlready2_and_the_owl_api(exported: dict[str, Path]) -> None:
    report = run_owlapi_check(exported["xml"])
    assert report.counts["ontologies"] == 1  # nothing left to import
    assert report.unparsed_triples == 0 and report.counts["guessed_declarations"] == 0, report.unparsed
    assert report.profile_violations == 0, report.violations
    modules = run_owlapi_check(ONTOLOGY / "ks-knowledge.ttl")
    for count in ("classes", "object_properties", "data_properties", "individuals", "logical_axioms"):
        assert report.counts[count] == modules.counts[count], count

    world = owlready2.World()
    onto = world.get_ontology(exported["xml"].as_uri()).load()
    assert onto.base_iri.startswith(str(ONTOLOGY_IRI))
    assert len(list(onto.individuals())) == report.counts["individuals"]
    assert {c.iri for c in onto.classes()} >= {str(KS["Cause"]), str(KS["DrugTherapy"]), str(KS["Recommendation"])}
    osteoarthritis = world[str(KS["osteoarthritis"])]
    assert world[str(KS["DiseaseOrDisorder"])] in osteoarthritis.is_a
