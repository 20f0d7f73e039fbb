"""The OWL API check: what Protégé would see when it opens the ontology, checked offline.

The OWL API (Debian's `libowlapi-java`, the library Protégé is built on) loads the documents, and
`OwlApiCheck.java` reports triples it could not turn into axioms, declarations it had to guess, OWL 2 DL profile
violations and the counts of entities and axioms. The Java file is compiled once into a cache keyed by its hash
(never into the repository) and run with `java`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

JAVA_SOURCE = Path(__file__).with_name("OwlApiCheck.java")
JAR_DIR = Path("/usr/share/java")
# owlapi-distribution and what Debian's libowlapi-java depends on at run time (`apt-cache depends libowlapi-java`).
JARS = ("owlapi-distribution", "guava", "failureaccess", "caffeine", "commons-codec", "commons-io", "commons-logging",
        "commons-rdf-api", "commons-rdf-simple", "hppcrt", "jackson-annotations", "jackson-core", "jackson-databind",
        "jsr305", "slf4j-api", "slf4j-nop", "xz", "atinject-jsr330-api", "httpclient", "httpcore", "jsonld-java")
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kg-service" / "owlapi"
CATALOG = "catalog-v001.xml"
CATALOG_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"
TIMEOUT_S = 300


class OwlApiUnavailable(RuntimeError):
    """Java or libowlapi-java is missing (`.ci/run` installs both: default-jdk-headless, libowlapi-java)."""


class OwlApiLoadError(RuntimeError):
    """The OWL API refused to load a document (a syntax error, or an import it cannot resolve)."""


@dataclass
class OwlApiReport:
    """What the OWL API saw. `ok` is the Protégé-readiness rule: nothing unparsed, nothing outside OWL 2 DL."""

    counts: dict[str, int]
    unparsed: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)

    @property
    def unparsed_triples(self) -> int:
        return self.counts["unparsed_triples"]

    @property
    def profile_violations(self) -> int:
        return self.counts["profile_violations"]

    @property
    def ok(self) -> bool:
        return self.unparsed_triples == 0 and self.profile_violations == 0


def classpath() -> str:
    jars = [JAR_DIR / f"{name}.jar" for name in JARS]
    # rdf4j (the OWL API's Rio parsers) comes as many jars; the unversioned names are Debian's current links.
    jars = [jar for jar in jars if jar.is_file()] + sorted(j for j in JAR_DIR.glob("rdf4j-*.jar")
                                                           if not re.search(r"-\d", j.name))
    if not (JAR_DIR / "owlapi-distribution.jar").is_file():
        raise OwlApiUnavailable(f"the OWL API is not installed ({JAR_DIR}/owlapi-distribution.jar is missing): "
                                "apt-get install libowlapi-java")
    return os.pathsep.join(str(jar) for jar in jars)


def compiled_classes() -> Path:
    """The directory holding OwlApiCheck.class, compiled on first use (atomically, so parallel runs are safe)."""
    if not shutil.which("javac") or not shutil.which("java"):
        raise OwlApiUnavailable("Java is not installed: apt-get install default-jdk-headless")
    cp = classpath()
    key = hashlib.sha256(JAVA_SOURCE.read_bytes() + cp.encode()).hexdigest()[:16]
    target = CACHE_DIR / key
    if (target / "OwlApiCheck.class").is_file():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="build-", dir=CACHE_DIR))
    done = subprocess.run(["javac", "-nowarn", "-encoding", "UTF-8", "-cp", cp, "-d", str(staging), str(JAVA_SOURCE)],
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise OwlApiUnavailable(f"OwlApiCheck.java does not compile: {done.stderr.strip()[-2000:]}")
    try:
        staging.rename(target)
    except OSError:  # another process finished first; its classes are the same
        shutil.rmtree(staging, ignore_errors=True)
    return target


def catalog_mappings(directory: Path) -> dict[str, Path]:
    """IRI -> local file from `catalog-v001.xml`, the file Protégé reads to resolve imports offline."""
    catalog = directory / CATALOG
    if not catalog.is_file():
        return {}
    mappings = {}
    for entry in ET.parse(catalog).getroot().iter(f"{CATALOG_NS}uri"):
        local = directory / entry.attrib["uri"]
        if local.is_file():
            mappings[entry.attrib["name"]] = local
    return mappings


def _as_list(path_or_paths: Path | str | Iterable[Path | str]) -> list[Path]:
    if isinstance(path_or_paths, (str, os.PathLike)):
        return [Path(path_or_paths)]
    return [Path(p) for p in path_or_paths]


def _run(mode: str, sources: list[Path], *extra: str, catalog_dir: Path | None = None) -> OwlApiReport:
    args = []
    catalog_dirs = [catalog_dir] if catalog_dir else sorted({source.resolve().parent for source in sources})
    for directory in catalog_dirs:
        for iri, local in catalog_mappings(directory).items():
            args += ["--map", f"{iri}={local.resolve()}"]
    command = ["java", "-Xss8m", "-cp", f"{compiled_classes()}{os.pathsep}{classpath()}", "OwlApiCheck", mode,
               *args, *extra, *(str(s.resolve()) for s in sources)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise OwlApiLoadError(f"the OWL API could not load {', '.join(s.name for s in sources)}: "
                              f"{done.stderr.strip()[-3000:]}")
    report = OwlApiReport(counts={})
    for line in done.stdout.splitlines():
        if line.startswith("unparsed: "):
            report.unparsed.append(line.removeprefix("unparsed: "))
        elif line.startswith("violation: "):
            report.violations.append(line.removeprefix("violation: "))
        elif line.startswith("saved: "):
            report.saved.append(Path(line.removeprefix("saved: ")))
        else:
            key, _, value = line.partition("=")
            if value.isdigit():
                report.counts[key] = int(value)
    return report


def run_owlapi_check(path_or_paths: Path | str | Iterable[Path | str],
                     catalog_dir: Path | str | None = None) -> OwlApiReport:
    """Load one document or several (in order, into one manager) and report unparsed triples, guessed
    declarations, OWL 2 DL profile violations and counts. Imports resolve through the `catalog-v001.xml` in
    `catalog_dir` (default: beside each document), as in Protégé."""
    return _run("check", _as_list(path_or_paths), catalog_dir=Path(catalog_dir) if catalog_dir else None)


def owlapi_roundtrip(src: Path | str, out_dir: Path | str) -> tuple[Path, Path]:
    """Open `src` with the OWL API and save it as Protégé would, as RDF/XML and as Turtle, under `out_dir`
    (`<stem>.owl`, `<stem>.ttl`). Only `src`'s own ontology is saved, not the modules it imports."""
    src, out_dir = Path(src), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = _run("roundtrip", [src], "--out", str(out_dir.resolve()))
    rdfxml, turtle = out_dir / f"{src.stem}.owl", out_dir / f"{src.stem}.ttl"
    if not (rdfxml.is_file() and turtle.is_file()):
        raise OwlApiLoadError(f"the OWL API did not save {src.name}: {report.saved}")
    return rdfxml, turtle
