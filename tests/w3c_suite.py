"""The W3C SPARQL 1.0 and 1.1 syntax test suites, offline: the rdflib sdist on PyPI vendors them
(test/data/suites/w3c/). Fetched once with pip (a pinned version and hash) into a cache directory; the
manifests are read with rdflib. `python3 tests/w3c_suite.py` fetches them (what .ci/run does first).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

RDFLIB_SDIST = "rdflib==7.6.0"
SDIST_NAME = "rdflib-7.6.0.tar.gz"
SDIST_SHA256 = "6c831288d5e4a5a7ece85d0ccde9877d512a3d0f02d7c06455d00d6d0ea379df"
SUITES = "rdflib-7.6.0/test/data/suites/w3c/"
SUITE_DIRS = ("dawg-data-r2", "sparql11")  # SPARQL 1.0 (DAWG) and 1.1; syntax tests are in many manifests
SUFFIXES = (".ttl", ".rq", ".ru")
CACHE = Path(os.environ.get("KG_W3C_CACHE", Path.home() / ".cache" / "kg-service" / "w3c"))
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"


@dataclass(frozen=True)
class SyntaxTest:
    name: str  # e.g. syntax-sparql2/syntax-dataset-01.rq
    kind: str  # the manifest's type: PositiveSyntaxTest11, NegativeUpdateSyntaxTest11, ...
    text: str

    @property
    def positive(self) -> bool:
        return self.kind.startswith("Positive")

    @property
    def update(self) -> bool:
        return "Update" in self.kind


def suite_dir() -> Path:
    """The extracted suites, fetched and checked against the pinned hash on first use."""
    root = CACHE / SUITES
    complete = CACHE / f"{SDIST_NAME}.extracted"
    if complete.exists():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / SDIST_NAME
    if not archive.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", RDFLIB_SDIST, "--no-binary", ":all:", "--no-deps",
                        "--disable-pip-version-check", "-q", "-d", str(CACHE)], check=True, timeout=300)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        archive.unlink()
        raise RuntimeError(f"{SDIST_NAME} has sha256 {digest}, expected {SDIST_SHA256}")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(SUFFIXES) and any(
            m.name.startswith(SUITES + d + "/") for d in SUITE_DIRS)]
        tar.extractall(CACHE, members=members, filter="data")
    complete.touch()
    return root


def syntax_tests() -> list[SyntaxTest]:
    """Every approved syntax test of the manifests (positive/negative, query/update, SPARQL 1.0 and 1.1)."""
    from rdflib import Graph, Namespace
    from rdflib.namespace import RDF

    mf = Namespace(MF)
    found = []
    root = suite_dir()
    for manifest in sorted(p for d in SUITE_DIRS for p in (root / d).glob("*/manifest.ttl")):
        directory = manifest.parent.name
        graph = Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
        for test, kind in graph.subject_objects(RDF.type):
            kind_name = str(kind).rsplit("#", 1)[-1]
            if "Syntax" not in kind_name:
                continue
            approval = str(graph.value(test, Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")
                                       .approval) or "")
            if approval.endswith("Withdrawn"):
                continue
            action = Path(str(graph.value(test, mf.action)).removeprefix("file://"))
            found.append(SyntaxTest(f"{directory}/{action.name}", kind_name,
                                    action.read_text(encoding="utf-8")))
    return sorted(found, key=lambda t: t.name)


if __name__ == "__main__":
    print(f"{len(syntax_tests())} W3C SPARQL syntax tests in {suite_dir()}")
