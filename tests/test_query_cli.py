"""`kg-service query` as a user runs it: every output format, @file queries, and the same refusals as /sparql."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from rdflib import Graph, Literal, Namespace
from rdflib.namespace import RDFS

from kg_service.graph import LoadedGraph, load_graph
from kg_service.query_cli import run_query
from kg_service.settings import Settings

KS = Namespace("https://w3id.org/knee-soreness/")
PREFIXES = f"PREFIX ks: <{KS}>\nPREFIX rdfs: <{RDFS}>\n"
CAUSES = PREFIXES + "SELECT ?cause ?label WHERE { ?cause a ks:Cause ; rdfs:label ?label } ORDER BY ?label"


@pytest.fixture(scope="module")
def loaded() -> LoadedGraph:
    return load_graph(ROOT / "ontology")


def run(loaded: LoadedGraph, query: str, output_format: str = "table", backend: str = "oxigraph") -> tuple[int, str]:
    out = io.StringIO()
    status = run_query(Settings(backend=backend), query, output_format, out, loaded=loaded)
    return status, out.getvalue()


def test_table_is_aligned_with_compact_names_and_a_row_count(loaded: LoadedGraph) -> None:
    status, text = run(loaded, CAUSES)
    lines = text.splitlines()
    assert status == 0 and lines[0].split() == ["cause", "label"] and set(lines[1]) <= {"-", " "}
    row = next(line for line in lines if line.startswith("ks:osteoarthritis "))
    assert row.split(None, 1)[1].strip() == "osteoarthritis"
    assert lines[-1] == f"({len(lines) - 3} rows)"


@pytest.mark.parametrize("backend", ["oxigraph", "rdflib"])
def test_json_csv_and_tsv_agree(loaded: LoadedGraph, backend: str) -> None:
    _, as_json = run(loaded, CAUSES, "json", backend)
    labels = [b["label"]["value"] for b in json.loads(as_json)["results"]["bindings"]]
    assert "osteoarthritis" in labels and labels == sorted(labels)
    _, as_csv = run(loaded, CAUSES, "csv", backend)
    table = list(csv.reader(io.StringIO(as_csv)))
    assert table[0] == ["cause", "label"] and [r[1] for r in table[1:]] == labels
    _, as_tsv = run(loaded, CAUSES, "tsv", backend)
    assert f'<{KS.osteoarthritis}>\t"osteoarthritis"@en' in as_tsv.splitlines()


def test_ask_construct_and_describe(loaded: LoadedGraph) -> None:
    assert run(loaded, PREFIXES + "ASK { ks:osteoarthritis a ks:Cause }") == (0, "true\n")
    status, turtle = run(loaded, PREFIXES + "CONSTRUCT { ?c rdfs:label ?l } WHERE { ?c a ks:Cause ; rdfs:label ?l }",
                         "ttl")
    assert status == 0
    assert (KS.osteoarthritis, RDFS.label, Literal("osteoarthritis", lang="en")) in Graph().parse(data=turtle)
    status, table = run(loaded, PREFIXES + "DESCRIBE ks:osteoarthritis")
    assert status == 0 and table.splitlines()[0].split() == ["subject", "predicate", "object"]
    assert any(line.split()[:2] == ["ks:osteoarthritis", "rdfs:label"] for line in table.splitlines())


def test_query_from_a_file(loaded: LoadedGraph, tmp_path: Path) -> None:
    path = tmp_path / "causes.rq"
    path.write_text(CAUSES, encoding="utf-8")
    assert run(loaded, f"@{path}", "csv") == run(loaded, CAUSES, "csv")


@pytest.mark.parametrize("query,status,message", [
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", 1, "SERVICE"),
    ("SELECT * FROM <file:///etc/hostname> WHERE { ?s ?p ?o }", 1, "file:///etc/hostname"),
    ("DROP ALL", 1, "read-only"),
    ("SELECT ?x\nWHERE {\n ?x ?y }", 1, "line 3"),
    ("SELECT * WHERE " + "{" * 40 + "}" * 40, 1, "deep"),
    ("@/nonexistent/query.rq", 2, "cannot read"),
])
def test_refusals_and_errors_exit_nonzero_with_a_message(loaded: LoadedGraph, capsys, query: str, status: int,
                                                         message: str) -> None:
    assert run(loaded, query) == (status, "")
    assert message in capsys.readouterr().err


def test_a_format_that_does_not_fit_the_query_form_is_a_usage_error(loaded: LoadedGraph, capsys) -> None:
    assert run(loaded, PREFIXES + "DESCRIBE ks:osteoarthritis", "csv") == (2, "")
    assert "ttl" in capsys.readouterr().err
    assert run(loaded, "ASK {}", "ttl")[0] == 2


def test_the_installed_command(tmp_path: Path) -> None:
    path = tmp_path / "ask.rq"
    path.write_text(PREFIXES + "ASK { ks:osteoarthritis rdfs:label ?l }", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "kg_service.cli", "query", f"@{path}", "--format", "json"],
                          check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["boolean"] is True
    refused = subprocess.run([sys.executable, "-m", "kg_service.cli", "query", "LOAD <http://127.0.0.1:9/x>"],
                             check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert refused.returncode == 1 and "read-only" in refused.stderr and refused.stdout == ""
