"""A curator's save from Protégé never breaks the service: the OWL API (Protégé's library) loads the modules
and saves them as RDF/XML and as Turtle, and the project, loading the saved files, answers every stored query
exactly as it answers them from the source."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from kg_service.backends import create_backend
from kg_service.catalog import Catalog
from kg_service.graph import load_graph
from kg_service.owlapi import owlapi_roundtrip
from kg_service.settings import Settings

ONTOLOGY = ROOT / "ontology"
CATALOG = Catalog.load(ROOT / "queries")
CAUSES = ["cold-exposure", "muscle-fatigue", "calcium-deficiency", "osteoarthritis", "knee-synovitis",
          "meniscal-injury", "osteoporosis"]
PARAMETERS = {
    "interventions_for_cause": [{"cause": c} for c in CAUSES] + [{"cause": "nocturnal-knee-soreness"}],
    "mechanisms_for_cause": [{"cause": c} for c in CAUSES],
    "causes_of_symptom": [{"symptom": s} for s in ("nocturnal-knee-soreness", "joint-soreness", "muscle-soreness")],
    "causes_for_intervention": [{"intervention": i} for i in ("rest", "keeping-warm", "massage")],
    "entity": [{"entity": e} for e in ("osteoarthritis", "ibuprofen-sustained-release-capsules", "nsaid")],
    "evidence_for": [{"node": n} for n in ("osteoarthritis", "rec-osteoarthritis-rest")],
    "entities_of_category": [{"category": c} for c in ("cause", "intervention", "food")],
    "entities_by_label": [{"label": "massage"}],
}


def answers(ontology_dir: Path) -> dict[str, set]:
    backend = create_backend(Settings(backend="oxigraph"), load_graph(ontology_dir))
    result = {}
    for name, query in CATALOG.queries.items():
        if query.form != "select":
            continue
        runs = PARAMETERS.get(name, [{}] if not any(p.required for p in query.params) else [])
        for params in runs:
            rows = CATALOG.select(backend, name, params)
            result[f"{name}{params}"] = {tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows}
    return result


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("protege")
    report = owlapi_roundtrip(ONTOLOGY / "ks-knowledge.ttl", out / "saved", ONTOLOGY)
    assert sorted(report.saved) == ["knowledge", "schema"] and report.ok
    return out / "saved"


@pytest.mark.parametrize("suffix", [".ttl", ".owl"])
def test_answers_are_identical_after_a_protege_save(saved: Path, tmp_path: Path, suffix: str) -> None:
    target = tmp_path / "ontology"
    (target / "sources").mkdir(parents=True)
    shutil.copy(ONTOLOGY / "sources" / "knee-night-soreness.txt", target / "sources")
    shutil.copy(saved / f"schema{suffix}", target / f"ks-schema{suffix}")
    shutil.copy(saved / f"knowledge{suffix}", target / f"ks-knowledge{suffix}")
    original, roundtripped = answers(ONTOLOGY), answers(target)
    assert len(original) > 25
    for key, rows in original.items():
        assert roundtripped[key] == rows, key
