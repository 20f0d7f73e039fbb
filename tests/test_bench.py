"""The benchmark harness runs end to end at its smallest size and writes its table and chart.

It starts every target for real (our service, the Oxigraph server, rdflib-endpoint, the calibration apps)
and drives them with wrk, for one second per cell. No timing is asserted: figures on a shared CI machine
mean nothing; what is checked is that every target answered and the outputs name them all.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

TARGETS = ("raw ASGI", "bare FastAPI", "ours", "Oxigraph server", "rdflib-endpoint")


def test_harness_writes_its_table_and_chart_with_every_target(tmp_path) -> None:
    command = [sys.executable, "bench/run.py", "--sizes", "10000", "--duration", "1", "--rounds", "1",
               "--concurrency", "16", "--queries", "interventions_for_cause", "--friendly", "/api/causes",
               "--no-restart", "--skip-workers", "--output", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]

    [result_json] = tmp_path.glob("*.json")
    result = json.loads(result_json.read_text())
    cells = result["throughput"]["cells"]
    assert {c["target"] for c in cells} == set(TARGETS)
    for cell in cells:  # every target answered its probe and was measured (0 req/s can be a slow second)
        assert cell["probe_status"] == 200, cell
        assert cell["mode"] in ("wrk", "sequential") and cell["rps"] is not None, cell
    sparql = [c for c in cells if c["workload"] == "/sparql interventions_for_cause"]
    assert {c["target"] for c in sparql} == {"ours", "Oxigraph server", "rdflib-endpoint"}
    assert len({c["rows"] for c in sparql}) == 1 and sparql[0]["rows"] > 0  # the same answer everywhere

    sizes = {row["size"]: row for row in result["scale"]}
    assert set(sizes) == {0, 10_000}
    for row in sizes.values():
        assert row["oxigraph"]["ready_s"] > 0 and row["rdflib"]["parse_s"] > 0
        assert row["ours"].get("ready_s", 0) > 0 or "skipped" in row["ours"]
    assert sizes[0]["ours"]["triples"] == sizes[0]["rdflib"]["triples"]  # peers load what ours serves

    table = result_json.with_suffix(".md").read_text()
    for name in (*TARGETS, "ours ÷ Oxigraph", "ours ÷ rdflib-endpoint", "## Goals", "## Scale", "10,000"):
        assert name in table, name
    chart = result_json.with_suffix(".png").read_bytes()
    assert chart.startswith(b"\x89PNG") and len(chart) > 10_000
