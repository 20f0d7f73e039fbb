"""Reload: POST /admin/reload and SIGHUP swap in an edited ontology atomically; a broken one is rejected
with a readable report while the old graph keeps serving; a valid reload under load fails no request."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, RunningServer, start_server, stop_server

TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def editable(tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    """A server over a private copy of ontology/ that the test edits."""
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    running = start_server(tmp_path, "--ontology", str(ontology), env={"KG_ADMIN_TOKEN": TOKEN})
    yield running, ontology
    stop_server(running)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_reload_needs_the_bearer_token(editable) -> None:
    running, _ = editable
    with running.client() as client:
        missing = client.post("/admin/reload")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
        assert missing.json()["type"].endswith("/unauthorized")
        assert client.post("/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code == 403
        unchanged = client.post("/admin/reload", headers=AUTH)
        assert unchanged.status_code == 200 and unchanged.json()["status"] == "unchanged"


@pytest.mark.parametrize("broken,expected", [
    ("syntax", "ks-knowledge.ttl"),
    ("shacl", "recommends_intervention"),
    ("inconsistent", "inconsistent"),
])
def test_broken_ontology_is_rejected_and_the_old_graph_keeps_serving(editable, broken: str, expected: str) -> None:
    running, ontology = editable
    knowledge = ontology / "ks-knowledge.ttl"
    with running.client() as client:
        before = client.get("/readyz").json()["version"]
        if broken == "syntax":
            knowledge.write_text(knowledge.read_text() + "\nks:oops ks:has_evidence .\n")
        elif broken == "shacl":
            edit(knowledge, "    ks:recommends_intervention ks:massage ;\n", "")
        else:  # a cause that is also an intervention: the schema makes the two disjoint
            knowledge.write_text(knowledge.read_text() + "\nks:rest a ks:Cause .\n")
        response = client.post("/admin/reload", headers=AUTH)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["type"].endswith("/reload-rejected") and expected.lower() in body["report"].lower()
        assert client.get("/readyz").json()["version"] == before
        assert client.get("/api/interventions/massage/causes").json()["total"] == 1


def test_valid_reload_under_load_fails_no_request(editable) -> None:
    running, ontology = editable
    failures: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        with running.client() as client:
            while not stop.is_set():
                for url in ("/api/causes/knee-synovitis/interventions", "/api/search?q=massage", "/readyz"):
                    try:
                        response = client.get(url)
                        if response.status_code != 200:
                            failures.append(f"{url} {response.status_code}")
                    except httpx.HTTPError as exc:
                        failures.append(f"{url} {exc!r}")

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        with running.client(timeout=120) as client:
            before = client.get("/readyz").json()["version"]
            old_etag = client.get("/api/interventions/massage").headers["etag"]
            edit(ontology / "ks-knowledge.ttl", 'rdfs:label "massage"@en', 'rdfs:label "therapeutic massage"@en')
            response = client.post("/admin/reload", headers=AUTH)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "reloaded" and response.json()["previous_version"] == before
            after = client.get("/readyz").json()["version"]
            assert after != before == response.json()["previous_version"]
            detail = client.get("/api/interventions/massage")
            assert detail.json()["label"] == "therapeutic massage" and detail.headers["etag"] != old_etag
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []


def test_sighup_reloads(editable) -> None:
    running, ontology = editable
    with running.client() as client:
        before = client.get("/readyz").json()["version"]
        edit(ontology / "ks-knowledge.ttl", 'rdfs:label "acupuncture"@en', 'rdfs:label "needle acupuncture"@en')
        running.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and client.get("/readyz").json()["version"] == before:
            time.sleep(0.3)
        assert client.get("/readyz").json()["version"] != before
        assert client.get("/api/interventions/acupuncture").json()["label"] == "needle acupuncture"


def _process_and_version(url: str) -> tuple[str, str]:
    """Which server process a fresh connection reached (its pid in /metrics) and the version it serves, both asked
    on that one connection."""
    with httpx.Client(base_url=url, timeout=10) as client:
        metrics = client.get("/metrics").text
        pid = next(line.split('"')[1] for line in metrics.splitlines() if line.startswith("kg_server_process{"))
        return pid, client.get("/readyz").json()["version"]


def test_every_process_of_serve_processes_follows_a_reload(tmp_path: Path) -> None:
    """`serve --processes 2`: POST /admin/reload reaches one process; the other follows it (announced beside the
    store), so no connection is answered from the old version for long."""
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    running = start_server(tmp_path, "--ontology", str(ontology), "--processes", "2", "--workers", "1",
                           env={"KG_ADMIN_TOKEN": TOKEN, "KG_SKIP_REASONER_ON_RELOAD": "true"})
    try:
        seen: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(seen) < 2 and time.monotonic() < deadline:
            started, version = _process_and_version(running.url)
            seen[started] = version
        assert len(seen) == 2, "connections never reached the second process"
        old = next(iter(seen.values()))
        edit(ontology / "ks-knowledge.ttl", 'rdfs:label "massage"@en', 'rdfs:label "therapeutic massage"@en')
        reloaded = httpx.post(running.url + "/admin/reload", headers=AUTH, timeout=120).json()
        assert reloaded["status"] == "reloaded" and reloaded["previous_version"] == old
        deadline = time.monotonic() + 60
        while set(seen.values()) != {reloaded["version"]} and time.monotonic() < deadline:
            started, version = _process_and_version(running.url)
            seen[started] = version
        assert set(seen.values()) == {reloaded["version"]}, seen
        with httpx.Client(base_url=running.url) as client:
            for _ in range(6):  # whichever process answers
                assert client.get("/api/interventions/massage").json()["label"] == "therapeutic massage"
    finally:
        stop_server(running)
