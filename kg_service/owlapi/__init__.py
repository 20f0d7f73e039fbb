"""The OWL API check: compile OwlApiCheck.java once (cached by its hash) against Debian's libowlapi-java and run it.

The OWL API is what Protégé is built on, so "the OWL API parses it with no unparsed triples and no OWL 2 DL
profile violation" is the offline stand-in for "it opens cleanly in Protégé".
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kg_service.graph import KS

JAVA_SOURCE = Path(__file__).with_name("OwlApiCheck.java")
JAR_DIR = Path("/usr/share/java")
# The OWL API distribution jar and the libraries it needs at run time (Debian's libowlapi-java dependencies).
JARS = ["owlapi-distribution", "guava", "caffeine", "commons-codec", "commons-io", "commons-rdf-api",
        "commons-rdf-simple", "hppcrt", "jackson-annotations", "jackson-core", "jackson-databind", "jsr305",
        "slf4j-api", "slf4j-nop", "xz", "atinject-jsr330-api", "commons-logging", "httpclient", "httpcore",
        "jsonld-java"]
CACHE = Path.home() / ".cache" / "kg-service" / "owlapi"
TIMEOUT_S = 300


class OwlApiUnavailable(Exception):
    """Java or libowlapi-java is not installed (`.ci/run` installs both)."""


@dataclass
class OwlApiReport:
    counts: dict[str, int]
    unparsed: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.counts.get("unparsed_triples", 1) == 0 and self.counts.get("profile_violations", 1) == 0


def classpath() -> str:
    jars = []
    for name in JARS:
        jar = JAR_DIR / f"{name}.jar"
        if jar.exists():
            jars.append(str(jar))
    rdf4j = sorted(JAR_DIR.glob("rdf4j*.jar"))
    jars += [str(j) for j in rdf4j]
    if not any("owlapi-distribution" in j for j in jars):
        raise OwlApiUnavailable("libowlapi-java is not installed (apt-get install libowlapi-java)")
    return ":".join(jars)


def compiled_class_dir() -> Path:
    if not shutil.which("javac") or not shutil.which("java"):
        raise OwlApiUnavailable("Java is not installed (apt-get install default-jdk-headless)")
    digest = hashlib.sha256(JAVA_SOURCE.read_bytes()).hexdigest()[:12]
    target = CACHE / digest
    if not (target / "OwlApiCheck.class").exists():
        target.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["javac", "-nowarn", "-cp", classpath(), "-d", str(target), str(JAVA_SOURCE)],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        if done.returncode != 0:
            raise OwlApiUnavailable(f"OwlApiCheck.java does not compile: {done.stderr.strip()[-2000:]}")
    return target


def module_mappings(ontology_dir: Path) -> list[str]:
    """Offline resolution of the schema import, as catalog-v001.xml gives Protégé."""
    schema = next((p for p in (ontology_dir / "ks-schema.ttl", ontology_dir / "ks-schema.owl") if p.exists()), None)
    if schema is None:
        return []
    return [f"{KS['schema']}={schema}", f"{KS['releases/0.1.0/schema']}={schema}"]


def _run(mode: str, source: Path, *extra: str) -> OwlApiReport:
    classes = compiled_class_dir()
    done = subprocess.run(["java", "-cp", f"{classes}:{classpath()}", "OwlApiCheck", mode, str(source), *extra],
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"the OWL API failed to load {source.name}: {done.stderr.strip()[-2000:]}")
    report = OwlApiReport(counts={})
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        if line.startswith("unparsed: "):
            report.unparsed.append(line[len("unparsed: "):])
        elif line.startswith("violation: "):
            report.violations.append(line[len("violation: "):])
        elif key == "saved":
            report.saved.append(value)
        elif value.isdigit():
            report.counts[key] = int(value)
    return report


def run_owlapi_check(source: Path, ontology_dir: Path | None = None) -> OwlApiReport:
    """Load `source` (a module or the merged export) and report unparsed triples and DL profile violations."""
    return _run("check", source, *module_mappings(ontology_dir or source.parent))


def owlapi_roundtrip(source: Path, out_dir: Path, ontology_dir: Path | None = None) -> OwlApiReport:
    """Load and save every module of the imports closure as RDF/XML (.owl) and Turtle (.ttl), as Protégé does."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return _run("roundtrip", source, str(out_dir), *module_mappings(ontology_dir or source.parent))
