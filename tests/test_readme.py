"""The README's examples, run as a newcomer would run them, against a live server."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess

import httpx
from conftest import ROOT, RunningServer

README = (ROOT / "README.md").read_text(encoding="utf-8")
DEFAULT_URL = "http://127.0.0.1:8000"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def curl_commands() -> list[list[str]]:
    """Each block's curl commands (comments dropped), in order."""
    return [[line for line in block.splitlines() if line.startswith("curl ")] for block in blocks("bash")]


def run_curl(command: str, url: str) -> tuple[int, str]:
    args = shlex.split(command.replace(DEFAULT_URL, url)) + ["-w", "\n%{http_code}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_the_readme_names_the_two_commands() -> None:
    # one line that works on a fresh Debian/Ubuntu (PEP 668): a venv and a non-editable install (test_packaging.py)
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/kg-service serve" in README
    assert "bash .ci/run" in README and "pip install -e '.[test]' && pytest" in README


def test_curl_examples_answer(server: RunningServer) -> None:
    examples, errors = curl_commands()
    assert len(examples) >= 7
    for command in examples:
        status, body = run_curl(command, server.url)
        assert status == 200 and body.strip(), command
    status, body = run_curl(errors[0], server.url)
    assert status == 404 and '"suggestions"' in body and "osteoarthritis" in body


def test_sparqlwrapper_example_prints_the_osteoarthritis_interventions(server: RunningServer) -> None:
    (code,) = blocks("python")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code.replace(DEFAULT_URL, server.url), "README.md", "exec"), {})
    lines = output.getvalue().splitlines()
    assert any(line.startswith("ibuprofen sustained-release capsules | follow medical advice") for line in lines)
    assert any("In some cases" in line for line in lines) and len(lines) >= 7


def test_counts_table_matches_the_ontology(client: httpx.Client) -> None:
    stats = client.get("/api/queries/ontology_statistics").json()["bindings"][0]
    table = dict(re.findall(r"^\| ([a-z ]+) \| (\d+) \|$", README, flags=re.MULTILINE))
    names = {"classes": "classes", "object properties": "object_properties",
             "datatype properties": "datatype_properties", "individuals": "individuals",
             "recommendations": "recommendations", "evidence spans": "evidence_spans",
             "mappings to standard vocabularies": "mappings",
             "relations with their own text evidence": "text_relations", "curated relations": "curated_relations",
             "curated entities": "curated_entities"}
    assert {k: int(v) for k, v in table.items()} == {k: int(stats[v]["value"]) for k, v in names.items()}


def test_protege_can_open_the_ontology_by_url(server: RunningServer, tmp_path) -> None:
    """What Protégé's Open from URL reads: the OWL API parses it with no unparsed triple, in OWL 2 DL."""
    from kg_service.owlapi import run_owlapi_check

    url = re.search(r"Open from URL…\* `(http://127.0.0.1:8000/ontology\?format=xml)`", README).group(1)
    document = tmp_path / "ontology.owl"
    document.write_bytes(httpx.get(url.replace(DEFAULT_URL, server.url), timeout=30).content)
    report = run_owlapi_check(document, ROOT / "ontology")
    assert report.ok and report.counts["individuals"] > 150
