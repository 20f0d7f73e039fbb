"""HermiT (through owlready2, on the merged RDF/XML export): the ontology is consistent with no unsatisfiable class,
and the reasoner really catches a contradiction and an unsatisfiable class in broken copies."""

from __future__ import annotations

from pathlib import Path

import pytest
from ontology_copies import ONTOLOGY, edited_copy

from kg_service.validation import (
    HermitResult,
    check_hermit,
    hermit_problems,
    run_hermit,
)


@pytest.fixture(scope="session")
def hermit() -> HermitResult:
    """One HermiT run on the real ontology for the whole session."""
    return run_hermit(ONTOLOGY)


def test_hermit_finds_the_ontology_consistent_with_no_unsatisfiable_class(hermit: HermitResult) -> None:
    assert hermit.consistent
    assert hermit.unsatisfiable == []
    assert hermit_problems(hermit) == []
    # owlready2 really loaded the merged ontology, not an empty document
    assert hermit.classes >= 25 and hermit.individuals >= 150
    assert hermit.seconds < 30


def test_an_individual_in_two_disjoint_classes_is_inconsistent(tmp_path: Path) -> None:
    # rest is a lifestyle intervention; Cause and Intervention are disjoint in the schema
    broken = edited_copy(tmp_path, "ks-knowledge.ttl", "ks:rest a owl:NamedIndividual , ks:LifestyleIntervention ;",
                         "ks:rest a owl:NamedIndividual , ks:LifestyleIntervention , ks:Cause ;")
    problems = check_hermit(broken)
    assert len(problems) == 1 and "inconsistent" in problems[0].what
    assert "disjoint" in problems[0].fix


def test_an_unsatisfiable_class_is_named(tmp_path: Path) -> None:
    broken = edited_copy(tmp_path, "ks-schema.ttl", "ks:Symptom a owl:Class ;",
                         'ks:CausedIntervention a owl:Class ; rdfs:label "caused intervention" ;\n'
                         "    rdfs:subClassOf ks:Cause , ks:Intervention .\n\nks:Symptom a owl:Class ;")
    result = run_hermit(broken)
    assert result.consistent  # nothing is a member, so the ontology stays consistent ...
    assert result.unsatisfiable == ["https://w3id.org/knee-soreness/CausedIntervention"]  # ... but the class is empty
    assert "ks:CausedIntervention" in [p.where for p in hermit_problems(result)]
