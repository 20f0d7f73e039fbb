"""The OWL API (Protégé's library): the modules open with no unparsed triple and no OWL 2 DL profile violation, and
a Protégé save (RDF/XML or Turtle) changes no answer the service gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SHARED
from ontology_copies import ONTOLOGY, edited_copy
from rdflib import BNode, URIRef
from rdflib.namespace import OWL, RDF

from kg_service.backends import create_backend
from kg_service.catalog import Catalog
from kg_service.graph import KS, load_graph, parse_asserted
from kg_service.owlapi import OwlApiReport, owlapi_roundtrip, run_owlapi_check
from kg_service.settings import Settings

CATALOG = Catalog.load(ROOT / "queries")
QUESTIONS = [q for path in (SHARED / "competency-questions.json", ONTOLOGY / "competency-questions.json")
             for q in json.loads(path.read_text(encoding="utf-8"))["questions"]]


@pytest.fixture(scope="session")
def owlapi() -> OwlApiReport:
    """ks-knowledge.ttl opened as Protégé opens it: the schema import resolved through catalog-v001.xml."""
    return run_owlapi_check(ONTOLOGY / "ks-knowledge.ttl")


def test_the_owl_api_parses_every_triple_within_owl2_dl(owlapi: OwlApiReport) -> None:
    assert owlapi.counts["ontologies"] == 2, "the schema import was not resolved through catalog-v001.xml"
    assert owlapi.unparsed_triples == 0, owlapi.unparsed
    assert owlapi.counts["guessed_declarations"] == 0
    assert owlapi.profile_violations == 0, owlapi.violations
    assert owlapi.ok


def test_the_owl_api_sees_every_declared_entity(owlapi: OwlApiReport) -> None:
    graph = parse_asserted(ONTOLOGY)

    def declared(kind: URIRef) -> int:
        return len({s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef)})

    assert owlapi.counts["individuals"] == declared(OWL.NamedIndividual) > 150
    assert owlapi.counts["object_properties"] == declared(OWL.ObjectProperty)
    assert owlapi.counts["data_properties"] == declared(OWL.DatatypeProperty)
    # + owl:Thing, which the OWL API puts in the signature of every ontology with a class
    assert owlapi.counts["classes"] in (declared(OWL.Class), declared(OWL.Class) + 1)
    assert owlapi.counts["logical_axioms"] > 1000


def test_an_undeclared_property_is_reported(tmp_path: Path) -> None:
    broken = edited_copy(tmp_path, "ks-knowledge.ttl", "ks:rest a owl:NamedIndividual , ks:LifestyleIntervention ;",
                         "ks:rest ks:eases ks:knee-synovitis .\n\n"
                         "ks:rest a owl:NamedIndividual , ks:LifestyleIntervention ;")
    report = run_owlapi_check(broken / "ks-knowledge.ttl")
    assert not report.ok
    assert any("eases" in v for v in report.violations + report.unparsed), report.violations + report.unparsed


# The Protégé round trip --------------------------------------------------------------------------------------

def query_runs(graph) -> list[tuple[str, dict[str, str]]]:
    """Every stored SELECT query: once if it needs no parameter; else once per value a user could pass -- every
    individual for an `id`, every category slug for `category`, every competency question's subject and every
    label for a `label`. That covers each competency question's answer too."""
    individuals = sorted(str(s).removeprefix(str(KS)) for s in graph.subjects(RDF.type, OWL.NamedIndividual)
                         if str(s).startswith(str(KS)) and not str(s).startswith(str(KS) + "ev-"))
    categories = sorted({str(o) for o in graph.objects(None, URIRef("http://www.w3.org/2004/02/skos/core#notation"))})
    labels = sorted({q["subject"] for q in QUESTIONS if q.get("subject")})
    values = {"id": individuals, "category": categories, "label": labels}
    runs = []
    for name, query in CATALOG.queries.items():
        if query.form != "select":
            continue
        required = [p for p in query.params if p.required]
        if not required:
            runs.append((name, {}))
            continue
        assert len(required) == 1, f"{name}: teach this test how to fill {[p.name for p in required]}"
        param = required[0]
        for value in values["id" if param.type == "id" else param.name]:
            runs.append((name, {param.name: value}))
    return runs


def answers(ontology_dir: Path, runs: list[tuple[str, dict[str, str]]]) -> dict[str, list[tuple]]:
    backend = create_backend(Settings(backend="oxigraph", ontology_dir=ontology_dir), load_graph(ontology_dir))
    try:
        result = {}
        for name, params in runs:
            rows = CATALOG.select(backend, name, params)
            # literals compare with their datatype and language; blank nodes only as "a blank node"
            result[f"{name} {params}"] = sorted(
                tuple(sorted((k, "_:b" if isinstance(v, BNode) else v.n3()) for k, v in row.items() if v is not None))
                for row in rows)
        return result
    finally:
        backend.close()


@pytest.fixture(scope="module")
def protege_saves(tmp_path_factory) -> dict[str, Path]:
    """Both modules opened with the OWL API and saved as Protégé saves them, as RDF/XML and as Turtle, each set in
    an ontology directory of its own with the source text beside it (as a curator's checkout would have it)."""
    saved = tmp_path_factory.mktemp("protege-saves")
    files = {module: owlapi_roundtrip(ONTOLOGY / f"{module}.ttl", saved)
             for module in ("ks-schema", "ks-knowledge")}
    dirs = {}
    for index, suffix in enumerate((".owl", ".ttl")):
        target = tmp_path_factory.mktemp(f"ontology{suffix.replace('.', '-')}")
        (target / "sources").mkdir()
        shutil.copy(ONTOLOGY / "sources" / "knee-night-soreness.txt", target / "sources")
        for module, pair in files.items():
            assert pair[index].suffix == suffix
            shutil.copy(pair[index], target / f"{module}{suffix}")
        dirs[suffix] = target
    return dirs


@pytest.fixture(scope="module")
def original_answers() -> tuple[list, dict[str, list[tuple]]]:
    runs = query_runs(parse_asserted(ONTOLOGY))
    return runs, answers(ONTOLOGY, runs)


@pytest.mark.parametrize("suffix", [".owl", ".ttl"])
def test_a_protege_save_answers_every_stored_query_identically(protege_saves: dict[str, Path], original_answers,
                                                               suffix: str) -> None:
    runs, original = original_answers
    assert len(runs) > 200 and sum(1 for rows in original.values() if rows) > 100
    saved_dir = protege_saves[suffix]
    assert sorted(p.name for p in saved_dir.iterdir()) == ["ks-knowledge" + suffix, "ks-schema" + suffix, "sources"]
    roundtripped = answers(saved_dir, runs)
    changed = [key for key in original if roundtripped[key] != original[key]]
    assert changed == [], f"{len(changed)} answers differ after a Protégé save as {suffix}, e.g. {changed[:5]}"


def test_a_protege_save_still_opens_cleanly_in_the_owl_api(protege_saves: dict[str, Path],
                                                           owlapi: OwlApiReport) -> None:
    saved = protege_saves[".owl"]
    report = run_owlapi_check([saved / "ks-schema.owl", saved / "ks-knowledge.owl"])
    assert report.ok and report.counts["guessed_declarations"] == 0
    for count in ("individuals", "classes", "object_properties", "logical_axioms"):
        assert report.counts[count] == owlapi.counts[count], count
