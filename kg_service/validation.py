"""`kg-service validate`: every check a curator's edit must pass, each usable on its own from tests.

Each check returns a list of problems (empty when it passes), written for a curator: what, where, how to fix.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from kg_service.graph import KS, OA, SOURCE_TEXT, OntologyLoadError, parse_asserted
from kg_service.settings import PROJECT_ROOT, Settings

SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "knee-night-soreness.txt"
DECLARATION_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                     OWL.NamedIndividual, OWL.Ontology}
NOT_DECLARED = ("graph/", "releases/", "shapes/")  # service graph names, version IRIs, SHACL shape names
SOURCE_DOCUMENT = URIRef(KS["source-article"])


@dataclass
class CheckResult:
    name: str
    problems: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class ValidationReport:
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(not r.problems for r in self.results)

    def render(self) -> str:
        lines = []
        for result in self.results:
            status = "ok  " if not result.problems else "FAIL"
            lines.append(f"[{status}] {result.name}" + (f" ({result.note})" if result.note else ""))
            lines += [f"       - {p}" for p in result.problems[:25]]
            if len(result.problems) > 25:
                lines.append(f"       ... and {len(result.problems) - 25} more")
        lines.append("ontology is valid" if self.ok else "ontology has problems (see FAIL lines above)")
        return "\n".join(lines)


def check_declarations(graph: Graph) -> list[str]:
    """Every project IRI used anywhere is declared with an OWL type (so Protégé does not guess)."""
    declared = {s for s, o in graph.subject_objects(RDF.type) if o in DECLARATION_TYPES}
    skip_objects_of = {OWL.versionIRI, OWL.imports}
    used: set[URIRef] = set()
    for s, p, o in graph:
        for term in (s, p) + ((o,) if p not in skip_objects_of else ()):
            if isinstance(term, URIRef) and str(term).startswith(str(KS)):
                used.add(term)
    return [f"{t} is used but not declared (add `a owl:NamedIndividual` / owl:Class / a property type)"
            for t in sorted(used - declared) if not str(t)[len(str(KS)):].startswith(NOT_DECLARED)]


def check_labels(graph: Graph) -> list[str]:
    """Every declared class, property and individual has an rdfs:label (Protégé renders by label)."""
    subjects = {s for s, o in graph.subject_objects(RDF.type) if o in DECLARATION_TYPES - {OWL.Ontology}}
    return [f"{s} has no rdfs:label" for s in sorted(subjects) if isinstance(s, URIRef)
            and graph.value(s, RDFS.label) is None]


def check_evidence_spans(graph: Graph, text: str) -> list[str]:
    """Each TextPositionSelector's span of the source is exactly its sibling quote, between its prefix and suffix."""
    problems = []
    for evidence, target in graph.subject_objects(OA.hasTarget):
        quotes = [s for s in graph.objects(target, OA.hasSelector) if (s, RDF.type, OA.TextQuoteSelector) in graph]
        positions = [s for s in graph.objects(target, OA.hasSelector)
                     if (s, RDF.type, OA.TextPositionSelector) in graph]
        if len(quotes) != 1 or len(positions) != 1:
            problems.append(f"{evidence}: needs one quote selector and one position selector")
            continue
        exact = str(graph.value(quotes[0], OA.exact))
        prefix, suffix = str(graph.value(quotes[0], OA.prefix) or ""), str(graph.value(quotes[0], OA.suffix) or "")
        start, end = int(graph.value(positions[0], OA.start)), int(graph.value(positions[0], OA.end))
        if text[start:end] != exact:
            problems.append(f"{evidence}: text[{start}:{end}] is {text[start:end]!r}, not the quote {exact!r} "
                            f"(the quote is at {text.find(exact)})")
        elif not text[:start].endswith(prefix) or not text[end:].startswith(suffix):
            problems.append(f"{evidence}: prefix/suffix do not surround the span {start}-{end}")
    return problems


def check_source_copy(graph: Graph, ontology_dir: Path, corpus: Path = SHARED_CORPUS) -> list[str]:
    """The project's copy of the article is byte-identical to the corpus and matches its recorded sha256."""
    copy = ontology_dir / SOURCE_TEXT
    if not copy.is_file():
        return [f"missing {copy}"]
    data = copy.read_bytes()
    problems = []
    recorded = str(graph.value(SOURCE_DOCUMENT, DCTERMS.identifier) or "")
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if recorded != actual:
        problems.append(f"ks:source-article dcterms:identifier is {recorded!r} but the copy is {actual}")
    if corpus.is_file() and corpus.read_bytes() != data:
        problems.append(f"{copy} differs from {corpus}: restore the byte-identical copy")
    return problems


def check_shacl(graph: Graph, ontology_dir: Path) -> list[str]:
    """The shapes in ontology/shapes.ttl, with RDFS inference so subclass members are targeted too."""
    from pyshacl import validate

    shapes = ontology_dir / "shapes.ttl"
    if not shapes.is_file():
        return [f"missing {shapes}"]
    conforms, report, _ = validate(graph, shacl_graph=Graph().parse(shapes), inference="rdfs",
                                   abort_on_first=False, allow_warnings=True)
    if conforms:
        return []
    sh = "http://www.w3.org/ns/shacl#"
    problems = []
    for result in report.subjects(RDF.type, URIRef(sh + "ValidationResult")):
        focus = report.value(result, URIRef(sh + "focusNode"))
        path = report.value(result, URIRef(sh + "resultPath"))
        message = report.value(result, URIRef(sh + "resultMessage"))
        problems.append(f"{focus}: {message}" + (f" [path {path}]" if isinstance(path, URIRef) else ""))
    return sorted(problems)


def merged_rdfxml(ontology_dir: Path, directory: Path) -> Path:
    from kg_service.export import export_ontology

    path = directory / "ks-merged.owl"
    path.write_bytes(export_ontology(ontology_dir, "xml"))
    return path


def check_hermit(ontology_dir: Path) -> list[str]:
    """owlready2 loads the merged RDF/XML and HermiT (Java) finds it consistent with no unsatisfiable class."""
    import owlready2

    with tempfile.TemporaryDirectory() as tmp:
        world = owlready2.World()
        world.get_ontology(merged_rdfxml(ontology_dir, Path(tmp)).as_uri()).load()
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return ["HermiT: the ontology is inconsistent (look for an individual in two disjoint classes, or a "
                    "functional property with two values)"]
        unsatisfiable = [str(c) for c in world.inconsistent_classes() if str(c) != "owl.Nothing"]
        return [f"HermiT: class {c} is unsatisfiable" for c in unsatisfiable]


def check_owlapi(ontology_dir: Path) -> list[str]:
    """The OWL API (Protégé's library) parses everything and finds no OWL 2 DL profile violation."""
    from kg_service.owlapi import run_owlapi_check

    knowledge = ontology_dir / "ks-knowledge.ttl"
    report = run_owlapi_check(knowledge, ontology_dir)
    problems = [f"OWL API: unparsed triple {t}" for t in report.unparsed]
    problems += [f"OWL API: OWL 2 DL profile violation: {v}" for v in report.violations]
    if not report.ok and not problems:
        problems.append(f"OWL API: {report.counts}")
    return problems


def validate_ontology(settings: Settings, reasoner: bool = True) -> ValidationReport:
    ontology_dir = settings.ontology_dir
    try:
        graph = parse_asserted(ontology_dir)
    except OntologyLoadError as exc:
        return ValidationReport([CheckResult("every module parses", [str(exc)])])
    text = (ontology_dir / SOURCE_TEXT).read_text(encoding="utf-8") if (ontology_dir / SOURCE_TEXT).is_file() else ""
    checks: list[tuple[str, Callable[[], list[str]]]] = [
        ("every project IRI is declared", lambda: check_declarations(graph)),
        ("every class, property and individual has a label", lambda: check_labels(graph)),
        ("every evidence span is the exact text", lambda: check_evidence_spans(graph, text)),
        ("the source copy is byte-identical", lambda: check_source_copy(graph, ontology_dir)),
        ("SHACL shapes conform", lambda: check_shacl(graph, ontology_dir)),
    ]
    if reasoner:
        checks += [("HermiT: consistent, no unsatisfiable class", lambda: check_hermit(ontology_dir)),
                   ("OWL API: no unparsed triple, OWL 2 DL profile", lambda: check_owlapi(ontology_dir))]
    results = [CheckResult("every module parses", note=f"{len(graph)} triples")]
    for name, check in checks:
        try:
            results.append(CheckResult(name, check()))
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a failed check, with its reason
            results.append(CheckResult(name, [f"could not run: {type(exc).__name__}: {exc}"]))
    return ValidationReport(results)
