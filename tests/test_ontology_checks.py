"""SHACL, HermiT, the OWL API and `kg-service validate`: the real ontology passes; broken copies are caught
with a message that names the node and the rule."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph

from conftest import ROOT
from kg_service.graph import parse_asserted
from kg_service.owlapi import run_owlapi_check
from kg_service.validation import check_hermit, check_shacl

ONTOLOGY = ROOT / "ontology"


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "ontology"
    shutil.copytree(ONTOLOGY, target)
    knowledge = target / "ks-knowledge.ttl"
    text = knowledge.read_text(encoding="utf-8")
    assert old in text
    knowledge.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_real_ontology_conforms_to_the_shapes() -> None:
    assert check_shacl(parse_asserted(ONTOLOGY), ONTOLOGY) == []


@pytest.mark.parametrize("old,new,node,rule", [
    ("    ks:recommends_intervention ks:massage ;\n", "", "rec-knee-synovitis-massage", "exactly one intervention"),
    ("    ks:has_dosage_form ks:oral-solution ;\n", "", "calcium-gluconate-oral-solution", "dosage form"),
    ("    ks:requires_medical_supervision true ;\n    ks:qualifier \"under medical guidance\" ;\n"
     "    ks:stated_benefit \"to help relieve pain\" ;\n    ks:has_evidence ks:ev-rec-knee-synovitis-acupuncture-1 .",
     "    ks:stated_benefit \"to help relieve pain\" ;\n    ks:has_evidence ks:ev-rec-knee-synovitis-acupuncture-1 .",
     "rec-knee-synovitis-acupuncture", "medical supervision"),
])
def test_shapes_reject_a_broken_copy_with_a_clear_message(tmp_path: Path, old: str, new: str, node: str,
                                                          rule: str) -> None:
    target = broken_copy(tmp_path, old, new)
    problems = check_shacl(parse_asserted(target), target)
    assert any(node in p and rule in p for p in problems), problems


def test_hermit_finds_the_ontology_consistent_and_a_contradiction_inconsistent(tmp_path: Path) -> None:
    assert check_hermit(ONTOLOGY) == []
    target = broken_copy(tmp_path, "ks:rest a owl:NamedIndividual , ks:LifestyleIntervention ;",
                         "ks:rest a owl:NamedIndividual , ks:LifestyleIntervention , ks:Cause ;")
    problems = check_hermit(target)
    assert problems and "inconsistent" in problems[0]


def test_owlapi_parses_everything_in_the_owl2_dl_profile() -> None:
    report = run_owlapi_check(ONTOLOGY / "ks-knowledge.ttl", ONTOLOGY)
    assert report.counts["unparsed_triples"] == 0 and report.counts["guessed_declarations"] == 0
    assert report.counts["profile_violations"] == 0, report.violations
    assert report.counts["individuals"] > 150 and report.counts["logical_axioms"] > 1000


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg_service.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


@pytest.mark.parametrize("fmt,rdflib_format", [("ttl", "turtle"), ("xml", "xml"), ("jsonld", "json-ld"), ("nt", "nt")])
def test_export_writes_the_merged_ontology(tmp_path: Path, fmt: str, rdflib_format: str) -> None:
    out = tmp_path / f"ks.{fmt}"
    assert run_cli("export", "--format", fmt, "-o", str(out)).returncode == 0
    exported = Graph().parse(out, format=rdflib_format)
    source = parse_asserted(ONTOLOGY)
    # everything but the two module headers, which become one merged header
    assert len(exported) >= len(source) - 30 and len(exported) <= len(source)
    if fmt == "xml":
        report = run_owlapi_check(out, ONTOLOGY)
        assert report.ok and report.counts["individuals"] > 150
        import owlready2

        world = owlready2.World()
        onto = world.get_ontology(out.as_uri()).load()
        assert len(list(onto.individuals())) == report.counts["individuals"]


def test_validate_command_reports_ok_and_fails_on_a_broken_copy(tmp_path: Path) -> None:
    good = run_cli("validate")
    assert good.returncode == 0 and "ontology is valid" in good.stdout and "FAIL" not in good.stdout
    target = broken_copy(tmp_path, '    ks:has_dosage_form ks:chewable-tablet ;\n', "")
    bad = run_cli("validate", "--ontology", str(target), "--no-reasoner")
    assert bad.returncode == 1
    assert "[FAIL] SHACL" in bad.stdout and "compound-calcium-carbonate-chewable-tablets" in bad.stdout
