"""`kg-service validate`: every check a curator's edit must pass, each usable on its own from tests.

Each `check_*` function returns a list of `Problem`s (empty when the check passes), each saying what is wrong,
where (file, node) and how to fix it. `validate_ontology` runs them all and collects a `ValidationReport`.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from kg_service.graph import (
    KS,
    OA,
    SOURCE_TEXT,
    OntologyLoadError,
    ontology_files,
    parse_asserted,
)
from kg_service.settings import PROJECT_ROOT, Settings

SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "knee-night-soreness.txt"
SHAPES_FILE = "shapes.ttl"
SOURCE_DOCUMENT = URIRef(KS["source-article"])
DECLARATION_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                     OWL.NamedIndividual, OWL.Ontology}
SERVICE_GRAPHS = str(KS) + "graph/"  # named graphs of the service, not ontology terms
# An ontology's version IRI and its imports name documents, not entities: OWL 2 has nothing to declare them as.
ONTOLOGY_DOCUMENT_PREDICATES = {OWL.versionIRI, OWL.imports, OWL.priorVersion, OWL.backwardCompatibleWith,
                                OWL.incompatibleWith}
SH = "http://www.w3.org/ns/shacl#"
PREFIXES = {"ks": str(KS), "oa": str(OA), "obo": "http://purl.obolibrary.org/obo/", "owl": str(OWL),
            "rdfs": str(RDFS), "rdf": str(RDF), "sh": SH, "xsd": "http://www.w3.org/2001/XMLSchema#",
            "dcterms": str(DCTERMS), "skos": "http://www.w3.org/2004/02/skos/core#",
            "oboInOwl": "http://www.geneontology.org/formats/oboInOwl#"}


def short(term: object) -> str:
    """`ks:osteoarthritis` rather than the full IRI: the form a curator searches the Turtle for."""
    text = str(term)
    for prefix, namespace in PREFIXES.items():
        if text.startswith(namespace) and text != namespace:
            return f"{prefix}:{text[len(namespace):]}"
    return f"<{text}>" if isinstance(term, URIRef) else text


@dataclass(frozen=True)
class Problem:
    """One failed check: what is wrong, where, and how to fix it."""

    what: str
    where: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} -- fix: {self.fix}"


@dataclass
class CheckResult:
    number: int
    name: str
    problems: list[Problem] = field(default_factory=list)
    note: str = ""  # counts or timings that show the check really ran


@dataclass
class ValidationReport:
    ontology_dir: Path
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(not r.problems for r in self.results)

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.results for p in r.problems]

    def render(self, limit: int = 40) -> str:
        lines = [f"kg-service validate {self.ontology_dir}"]
        for r in self.results:
            status = "ok  " if not r.problems else "FAIL"
            lines.append(f"[{status}] {r.number}. {r.name}" + (f" ({r.note})" if r.note else ""))
            for problem in r.problems[:limit]:
                lines += [f"       - where: {problem.where}", f"         what:  {problem.what}",
                          f"         fix:   {problem.fix}"]
            if len(r.problems) > limit:
                lines.append(f"       ... and {len(r.problems) - limit} more problems of this kind")
        failed = [r for r in self.results if r.problems]
        if failed:
            lines.append(f"FAILED: {len(failed)} of {len(self.results)} checks found "
                         f"{sum(len(r.problems) for r in failed)} problems (see the FAIL lines above)")
        else:
            lines.append(f"OK: all {len(self.results)} checks passed")
        return "\n".join(lines)


# 1. syntax -----------------------------------------------------------------------------------------------------

def check_parse(ontology_dir: Path) -> list[Problem]:
    """rdflib parses every Turtle file in the ontology directory (modules and shapes) and both modules exist."""
    problems = []
    try:
        ontology_files(ontology_dir)
    except OntologyLoadError as exc:
        problems.append(Problem(str(exc), str(ontology_dir), "restore ks-schema.ttl and ks-knowledge.ttl"))
    for path in sorted(ontology_dir.glob("*.ttl")) + sorted(ontology_dir.glob("*.owl")):
        try:
            Graph().parse(path, format="turtle" if path.suffix == ".ttl" else "xml")
        except Exception as exc:  # noqa: BLE001 - rdflib raises several unrelated types for bad syntax
            problems.append(Problem(f"does not parse: {exc}".replace("\n", " ")[:600], path.name,
                                    "correct the syntax at the line the parser names"))
    return problems


# 2. declarations -----------------------------------------------------------------------------------------------

def check_declarations(graph: Graph) -> list[Problem]:
    """Every project IRI that is used is declared with an OWL type, so Protégé and the OWL API need not guess."""
    declared = {s for s, o in graph.subject_objects(RDF.type) if o in DECLARATION_TYPES}
    used: dict[URIRef, tuple] = {}
    for s, p, o in graph:
        terms = [s, p]
        if p not in ONTOLOGY_DOCUMENT_PREDICATES:
            terms.append(o.datatype if isinstance(o, Literal) else o)
        for term in terms:
            if isinstance(term, URIRef) and str(term).startswith(str(KS)) and not str(term).startswith(SERVICE_GRAPHS):
                used.setdefault(term, (s, p, o))
    return [Problem(f"is used (e.g. in `{short(s)} {short(p)} {short(o)}`) but never declared",
                    short(term),
                    "declare it: `a owl:NamedIndividual , <its class>` for an individual, or `a owl:Class` / "
                    "`owl:ObjectProperty` / `owl:DatatypeProperty` / `owl:AnnotationProperty` -- or correct a "
                    "misspelt IRI")
            for term, (s, p, o) in sorted(used.items()) if term not in declared]


# 3. labels -----------------------------------------------------------------------------------------------------

def check_labels(graph: Graph) -> list[Problem]:
    """Every declared class, property and individual (ours and reused external terms) has an rdfs:label."""
    entities = {s for s, o in graph.subject_objects(RDF.type)
                if o in DECLARATION_TYPES - {OWL.Ontology} and isinstance(s, URIRef)}
    return [Problem("has no rdfs:label, so Protégé shows its bare IRI", short(s),
                    'add `rdfs:label "..."@en` (for an external term, its label in the source ontology)')
            for s in sorted(entities) if graph.value(s, RDFS.label) is None]


# 4. evidence spans ---------------------------------------------------------------------------------------------

def check_evidence_spans(graph: Graph, text: str) -> list[Problem]:
    """Each TextPositionSelector's span of the source text (Python slicing, Unicode code points) is exactly its
    sibling TextQuoteSelector's oa:exact, and the quote's oa:prefix / oa:suffix are the text right around it."""
    problems = []
    for evidence, target in sorted(graph.subject_objects(OA.hasTarget)):
        where = short(evidence)
        selectors = list(graph.objects(target, OA.hasSelector))
        quotes = [s for s in selectors if (s, RDF.type, OA.TextQuoteSelector) in graph]
        positions = [s for s in selectors if (s, RDF.type, OA.TextPositionSelector) in graph]
        if len(quotes) != 1 or len(positions) != 1:
            problems.append(Problem(f"has {len(quotes)} quote and {len(positions)} position selectors", where,
                                    "give its oa:hasTarget exactly one oa:TextQuoteSelector and one "
                                    "oa:TextPositionSelector"))
            continue
        quote, position = quotes[0], positions[0]
        try:
            start, end = int(graph.value(position, OA.start)), int(graph.value(position, OA.end))
        except (TypeError, ValueError):
            problems.append(Problem("its position selector lacks an integer oa:start or oa:end", where,
                                    "set oa:start and oa:end as xsd:nonNegativeInteger code-point offsets"))
            continue
        exact = str(graph.value(quote, OA.exact) or "")
        prefix, suffix = str(graph.value(quote, OA.prefix) or ""), str(graph.value(quote, OA.suffix) or "")
        found = text.find(exact) if exact else -1
        if text[start:end] != exact:
            hint = (f"the quote is at {found}..{found + len(exact)}: set oa:start {found} and oa:end "
                    f"{found + len(exact)}" if found >= 0 else
                    "the quote is not in the source text at all: copy it from sources/knee-night-soreness.txt")
            problems.append(Problem(f"text[{start}:{end}] is {text[start:end]!r}, not its oa:exact quote "
                                    f"{exact!r}", where, hint))
        elif not text[:start].endswith(prefix):
            problems.append(Problem(f"oa:prefix {prefix!r} is not the text before the span at {start} "
                                    f"({text[max(0, start - len(prefix)):start]!r})", where,
                                    f"set oa:prefix to the {len(prefix)} characters before oa:start"))
        elif not text[end:].startswith(suffix):
            problems.append(Problem(f"oa:suffix {suffix!r} is not the text after the span at {end} "
                                    f"({text[end:end + len(suffix)]!r})", where,
                                    f"set oa:suffix to the {len(suffix)} characters after oa:end"))
    return problems


# 5. the source copy --------------------------------------------------------------------------------------------

def check_source_copy(graph: Graph, ontology_dir: Path, corpus: Path = SHARED_CORPUS) -> list[Problem]:
    """The project's copy of the article is byte-identical to the shared corpus (when that file exists) and its
    sha256 is the `dcterms:identifier "sha256:..."` of ks:source-article."""
    copy = ontology_dir / SOURCE_TEXT
    if not copy.is_file():
        return [Problem("the source text is missing", str(copy), f"copy {corpus} there, byte for byte")]
    data = copy.read_bytes()
    problems = []
    if corpus.is_file() and corpus.read_bytes() != data:
        problems.append(Problem(f"differs from the corpus file {corpus}", str(SOURCE_TEXT),
                                f"restore it: cp {corpus} {copy} (evidence offsets refer to that text)"))
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    recorded = [str(v) for v in graph.objects(SOURCE_DOCUMENT, DCTERMS.identifier) if str(v).startswith("sha256:")]
    if recorded != [actual]:
        problems.append(Problem(f"dcterms:identifier is {recorded or 'missing'}, but the copy's hash is {actual}",
                                short(SOURCE_DOCUMENT),
                                f'set exactly one `dcterms:identifier "{actual}"` on ks:source-article'))
    return problems


# 6. SHACL ------------------------------------------------------------------------------------------------------

def check_shacl(graph: Graph, shapes_path: Path) -> list[Problem]:
    """The asserted modules conform to `ontology/shapes.ttl` (pyshacl; the shapes reach subclass members through
    rdfs:subClassOf in the data, so no inference is run -- see the comment at the top of shapes.ttl)."""
    from pyshacl import validate

    if not shapes_path.is_file():
        return [Problem("the SHACL shapes file is missing", str(shapes_path), "restore ontology/shapes.ttl")]
    conforms, report, _ = validate(graph, shacl_graph=Graph().parse(shapes_path, format="turtle"),
                                   inference="none", abort_on_first=False, allow_warnings=True)
    if conforms:
        return []
    problems = set()
    for result in report.subjects(RDF.type, URIRef(SH + "ValidationResult")):
        focus = report.value(result, URIRef(SH + "focusNode"))
        path = report.value(result, URIRef(SH + "resultPath"))
        value = report.value(result, URIRef(SH + "value"))
        message = str(report.value(result, URIRef(SH + "resultMessage")) or "violates a shape")
        component = str(report.value(result, URIRef(SH + "sourceConstraintComponent")) or "")
        rule = component.removeprefix(SH).removesuffix("ConstraintComponent")
        rule = "sparql" if rule == "SPARQL" else rule[:1].lower() + rule[1:]  # the sh: keyword in shapes.ttl
        where = short(focus)
        if isinstance(path, URIRef):
            where += f" {short(path)}"
        elif isinstance(path, BNode):  # a sequence path such as ( oa:hasTarget oa:hasSelector )
            where += " " + "/".join(short(step) for step in Collection(report, path))
        if value is not None:
            message = message.replace(str(value), short(value))
            where += f" (value {short(value)})"
        for prefix, namespace in PREFIXES.items():  # other IRIs a SPARQL constraint's message names
            message = message.replace(namespace, f"{prefix}:")
        fix = f"{message.split('; ', 1)[1] if '; ' in message else 'see the message'} [shapes.ttl rule sh:{rule}]"
        message = message.split("; ", 1)[0]
        problems.add(Problem(message, where, fix))
    return sorted(problems, key=str)


# 7. owlready2 + HermiT -----------------------------------------------------------------------------------------

@dataclass
class HermitResult:
    consistent: bool
    unsatisfiable: list[str]
    classes: int
    individuals: int
    seconds: float


def merged_rdfxml(ontology_dir: Path, directory: Path) -> Path:
    """The merged export as RDF/XML: what owlready2 (which does not read Turtle) loads."""
    from kg_service.export import export_ontology

    path = directory / "knee-soreness-merged.owl"
    path.write_bytes(export_ontology(ontology_dir, "xml"))
    return path


def run_hermit(ontology_dir: Path) -> HermitResult:
    """Load the merged RDF/XML into a fresh owlready2 World and classify it with HermiT (Java)."""
    import owlready2

    with tempfile.TemporaryDirectory() as tmp:
        world = owlready2.World()
        ontology = world.get_ontology(merged_rdfxml(ontology_dir, Path(tmp)).as_uri()).load()
        classes, individuals = len(list(ontology.classes())), len(list(ontology.individuals()))
        started = time.monotonic()
        try:
            owlready2.sync_reasoner(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return HermitResult(False, [], classes, individuals, time.monotonic() - started)
        seconds = time.monotonic() - started
        unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
        return HermitResult(True, unsatisfiable, classes, individuals, seconds)


def hermit_problems(result: HermitResult) -> list[Problem]:
    if not result.consistent:
        return [Problem("HermiT finds the ontology inconsistent", "the merged ontology",
                        "look for an individual typed with two disjoint classes (e.g. both a ks:Cause and a "
                        "ks:Intervention), or a functional property given two different values; open "
                        "ks-knowledge.ttl in Protégé and run HermiT > Explain inconsistency")]
    return [Problem("is unsatisfiable (equivalent to owl:Nothing): nothing can be a member", short(URIRef(c)),
                    "find the disjointness or restriction it contradicts (Protégé: HermiT, then Explain)")
            for c in result.unsatisfiable]


def check_hermit(ontology_dir: Path) -> list[Problem]:
    """owlready2 loads the merged ontology and HermiT finds it consistent with no unsatisfiable class."""
    return hermit_problems(run_hermit(ontology_dir))


# 8. OWL API ----------------------------------------------------------------------------------------------------

def owlapi_problems(report) -> list[Problem]:
    problems = [Problem(f"the OWL API could not turn this triple into an axiom: {t}", "ks-knowledge.ttl / "
                        "ks-schema.ttl", "declare the terms it uses, or replace the construct with OWL 2 DL")
                for t in report.unparsed]
    if report.unparsed_triples > len(report.unparsed):
        problems.append(Problem(f"{report.unparsed_triples} unparsed triples in all", "the modules",
                                "fix the ones listed above and run again"))
    problems += [Problem(f"OWL 2 DL profile violation: {v}", "the modules",
                         "Protégé cannot reason over this; change the axiom so it stays in OWL 2 DL "
                         "(e.g. declare the term, do not use a transitive property in a cardinality restriction)")
                 for v in report.violations]
    if report.profile_violations > len(report.violations):
        problems.append(Problem(f"{report.profile_violations} OWL 2 DL violations in all", "the modules",
                                "fix the ones listed above and run again"))
    return problems


def check_owlapi(ontology_dir: Path) -> list[Problem]:
    """The OWL API opens ks-knowledge.ttl as Protégé does (schema import resolved through catalog-v001.xml):
    no unparsed triple and no OWL 2 DL profile violation."""
    from kg_service.owlapi import run_owlapi_check

    return owlapi_problems(run_owlapi_check(ontology_dir / "ks-knowledge.ttl"))


Checked = tuple[list[Problem], str]  # a check's problems and a note (counts, timings) for the report


# all together --------------------------------------------------------------------------------------------------

def validate_ontology(settings: Settings, reasoner: bool = True) -> ValidationReport:
    """Run every check on `settings.ontology_dir`; with `reasoner`, also HermiT and the OWL API (need Java)."""
    ontology_dir = Path(settings.ontology_dir).resolve()
    results = [CheckResult(1, "rdflib parses every Turtle file", check_parse(ontology_dir))]
    try:
        graph = parse_asserted(ontology_dir)
    except OntologyLoadError:
        return ValidationReport(ontology_dir, results)  # nothing else can run on an unparsable module
    results[0].note = f"{len(graph)} triples in the modules"
    text_path = ontology_dir / SOURCE_TEXT
    text = text_path.read_text(encoding="utf-8") if text_path.is_file() else ""

    def spans() -> Checked:
        return check_evidence_spans(graph, text), f"{len(set(graph.objects(None, OA.hasTarget)))} spans"

    def hermit() -> Checked:
        result = run_hermit(ontology_dir)
        return hermit_problems(result), (f"{result.classes} classes, {result.individuals} individuals; "
                                         f"HermiT {result.seconds:.1f} s")

    def owlapi() -> Checked:
        from kg_service.owlapi import run_owlapi_check

        report = run_owlapi_check(ontology_dir / "ks-knowledge.ttl")
        c = report.counts
        return owlapi_problems(report), (
            f"{c['axioms']} axioms ({c['logical_axioms']} logical), {c['classes']} classes, "
            f"{c['object_properties']} object / {c['data_properties']} data / {c['annotation_properties']} "
            f"annotation properties, {c['individuals']} individuals")

    checks: list[tuple[str, Callable[[], Checked | list[Problem]]]] = [
        ("every project IRI used is declared", lambda: check_declarations(graph)),
        ("every class, property and individual has an rdfs:label", lambda: check_labels(graph)),
        ("every evidence span is the exact source text", spans),
        ("the source copy is byte-identical and its sha256 recorded", lambda: check_source_copy(graph, ontology_dir)),
        ("SHACL shapes (ontology/shapes.ttl) conform", lambda: check_shacl(graph, ontology_dir / SHAPES_FILE)),
    ]
    if reasoner:
        checks += [("owlready2 loads it; HermiT: consistent, no unsatisfiable class", hermit),
                   ("OWL API (Protégé's library): no unparsed triple, no OWL 2 DL violation", owlapi)]
    for number, (name, check) in enumerate(checks, start=2):
        note = ""
        try:
            outcome = check()
            problems, note = outcome if isinstance(outcome, tuple) else (outcome, "")
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a failed check, with its reason
            problems = [Problem(f"could not run: {type(exc).__name__}: {exc}"[:1500], name,
                                "install what it needs (Java: default-jdk-headless, libowlapi-java; see .ci/run) "
                                "or fix the error shown")]
        results.append(CheckResult(number, name, problems, note))
    if not reasoner:
        results.append(CheckResult(len(results) + 1, "HermiT and the OWL API", note="skipped: --no-reasoner"))
    return ValidationReport(ontology_dir, results)
