"""A non-editable install works: the wheel carries the ontology, the stored queries, the templates and the
vendored front-end code, and serves from a virtual environment outside the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port

LEFT_OUT = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "node_modules", "test-artifacts",
                                  "__pycache__", ".pytest_cache", ".hypothesis", ".venv", "bench")


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Iterator[Path]:
    """The wheel built from a copy of the checkout, installed into a fresh venv (system site-packages give the
    dependencies, for speed; kg_service itself must come from the wheel)."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(work / "dist")],
                   check=True, timeout=300, capture_output=True)
    (wheel,) = (work / "dist").glob("kg_service-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(work / "venv")], check=True, timeout=120)
    subprocess.run([str(work / "venv/bin/python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=300, capture_output=True)
    yield work / "venv"


def test_the_package_comes_from_the_wheel_with_its_data(venv: Path) -> None:
    done = subprocess.run([str(venv / "bin/python"), "-c",
                           "import kg_service.settings as s; print(s.__file__); print(s.Settings().ontology_dir)"],
                          capture_output=True, text=True, check=True, cwd=venv.parent, timeout=60)
    module, ontology = done.stdout.split()
    assert module.startswith(str(venv)) and ontology.startswith(str(venv))
    assert (Path(ontology) / "ks-knowledge.ttl").is_file()


def test_the_installed_service_serves_the_ui_and_the_api(venv: Path, client: httpx.Client) -> None:
    port = free_port()
    log = venv.parent / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(venv / "bin/kg-service"), "serve", "--port", str(port), "--workers", "1",
                                    "--log-level", "warning"], cwd=venv.parent, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()
            try:
                ready = httpx.get(url + "/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert ready.json()["version"] == client.get("/readyz").json()["version"]  # the same ontology
        assert httpx.get(url + "/api/causes").json()["total"] == client.get("/api/causes").json()["total"]
        home = httpx.get(url + "/", headers={"Accept": "text/html"})
        assert home.status_code == 200 and '<svg class="diagram"' in home.text
        assert httpx.get(url + "/static/vendor/yasgui/yasgui.min.js").status_code == 200
        assert httpx.get(url + "/api/queries/interventions_for_cause", params={"cause": "osteoarthritis"}).json()[
            "bindings"]
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_missing_ontology_is_one_line_that_says_where_and_how(venv: Path, tmp_path: Path) -> None:
    empty = tmp_path / "my-ontology"
    empty.mkdir()
    done = subprocess.run([str(venv / "bin/kg-service"), "serve", "--ontology", str(empty), "--port", str(free_port())],
                          check=False, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(empty) in lines[0] and "--ontology DIR" in lines[0], done.stderr
