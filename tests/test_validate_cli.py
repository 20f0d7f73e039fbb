"""`kg-service validate`: exit 0 and a readable OK report on the real ontology; a non-zero exit and a report that
names the problem, where it is and how to fix it, on a broken copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from ontology_copies import edited_copy


def validate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg_service.cli", "validate", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, check=False)


def test_validate_passes_on_the_real_ontology_with_every_check() -> None:
    done = validate()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "OK: all 8 checks passed"
    checks = [line for line in lines if line.startswith("[ok  ]")]
    assert len(checks) == 8 and not any("FAIL" in line for line in lines)
    assert any("HermiT" in line and "individuals" in line for line in checks)
    assert any("OWL API" in line and "axioms" in line for line in checks)


def test_validate_fails_on_a_broken_copy_and_says_where_and_how_to_fix(tmp_path: Path) -> None:
    broken = edited_copy(tmp_path, "ks-knowledge.ttl", "    ks:has_dosage_form ks:chewable-tablet ;\n", "")
    done = validate("--ontology", str(broken), "--no-reasoner")
    assert done.returncode == 1
    report = done.stdout
    assert "[FAIL] 6. SHACL" in report and report.splitlines()[-1].startswith("FAILED: 1 of")
    assert "where: ks:compound-calcium-carbonate-chewable-tablets ks:has_dosage_form" in report
    assert "what:  a drug needs exactly one dosage form" in report
    assert "fix:" in report and "skipped: --no-reasoner" in report


def test_validate_reports_a_moved_evidence_span_with_the_right_offsets(tmp_path: Path) -> None:
    broken = edited_copy(tmp_path, "ks-knowledge.ttl", 'oa:start "2324"^^xsd:nonNegativeInteger',
                         'oa:start "2325"^^xsd:nonNegativeInteger')
    done = validate("--ontology", str(broken), "--no-reasoner")
    assert done.returncode == 1
    assert "[FAIL] 4. every evidence span is the exact source text" in done.stdout
    assert "where: ks:ev-local-immobilization-1" in done.stdout
    assert "set oa:start 2324 and oa:end 2361" in done.stdout


def test_validate_reports_a_syntax_error_with_the_file(tmp_path: Path) -> None:
    broken = edited_copy(tmp_path, "ks-schema.ttl", "ks:Symptom a owl:Class ;", "ks:Symptom a owl:Class ,, ;")
    done = validate("--ontology", str(broken), "--no-reasoner")
    assert done.returncode == 1
    assert "[FAIL] 1. rdflib parses every Turtle file" in done.stdout and "ks-schema.ttl" in done.stdout
