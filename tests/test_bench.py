"""The benchmark harness runs end to end at its smallest size and writes its table and chart.

It starts every target for real (our service, the Oxigraph server, rdflib-endpoint, the calibration apps)
and drives them with wrk, for one second per cell. No timing is asserted: figures on a shared CI machine
mean nothing; what is checked is that every target answered and the outputs name them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


def test_distinct_wrk_runs_never_repeat_a_path() -> None:
    """Rounds and concurrency levels run wrk again on the same workload: a path seen in an earlier run would be
    answered by our result cache, not by the engine, and inflate ours against peers that cache nothing."""
    sys.path.insert(0, str(ROOT / "bench"))
    import wrk

    seen: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        before, after = "/sparql?query=SELECT%20*%20%7B%7D%0A%23%20", "%0A"
        url = f"http://127.0.0.1:{server.server_port}/"
        runs = [wrk.run(url, 2, 1, distinct=(before, after)) for _ in range(2)]
    finally:
        server.shutdown()
        server.server_close()
    assert all(r.ok > 0 for r in runs) and len(seen) >= sum(r.ok for r in runs)
    assert all(p.startswith(before) and p.endswith(after) for p in seen)
    assert len(set(seen)) == len(seen), "a path of one wrk run came again"
