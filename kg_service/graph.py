"""Load `ontology/` into an asserted graph and an inferred graph, and give the pair a content version.

Nothing here knows HTTP: the backends and the validator build on what this module returns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import owlrl
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

KS = Namespace("https://w3id.org/knee-soreness/")
OA = Namespace("http://www.w3.org/ns/oa#")
OBO = Namespace("http://purl.obolibrary.org/obo/")
OBOINOWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
IAO_DEFINITION = OBO["IAO_0000115"]

# The one prefix table: Turtle/RDF-XML bindings and the inline JSON-LD context of every RDF answer and export.
PREFIXES = {"ks": str(KS), "owl": str(OWL), "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD),
            "skos": "http://www.w3.org/2004/02/skos/core#", "dcterms": "http://purl.org/dc/terms/",
            "prov": "http://www.w3.org/ns/prov#", "oa": str(OA), "obo": str(OBO), "oboInOwl": str(OBOINOWL)}

ASSERTED_GRAPH = URIRef(KS["graph/asserted"])
INFERRED_GRAPH = URIRef(KS["graph/inferred"])
PUBLIC_GRAPHS = (ASSERTED_GRAPH, INFERRED_GRAPH)

SCHEMA_MODULE = "ks-schema"
KNOWLEDGE_MODULE = "ks-knowledge"
# Turtle is the edited source; RDF/XML (.owl) is read too, e.g. a module a curator saved from Protégé.
MODULE_SUFFIXES = {".ttl": "turtle", ".owl": "xml"}
SOURCE_TEXT = Path("sources") / "knee-night-soreness.txt"

# Closure triples that say nothing a user asked about (owl:Thing membership, reflexive sameAs, ...).
_TRIVIAL_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual, RDFS.Class, OWL.Class}
_TRIVIAL_PREDICATES = {OWL.sameAs, OWL.differentFrom, OWL.equivalentClass, OWL.equivalentProperty}


class OntologyLoadError(Exception):
    """The ontology directory cannot be parsed into a graph (a file is missing or malformed)."""


@dataclass(frozen=True)
class LoadedGraph:
    """The ontology as the service serves it: asserted triples, inferred triples, and a version."""

    asserted: Graph
    inferred: Graph
    version: str
    source_text: str
    ontology_dir: Path

    @property
    def triple_count(self) -> int:
        return len(self.asserted) + len(self.inferred)

    def nquads(self) -> bytes:
        """Both public graphs as N-Quads: the form workers and remote stores are loaded from."""
        lines: list[str] = []
        for graph, name in ((self.asserted, ASSERTED_GRAPH), (self.inferred, INFERRED_GRAPH)):
            # rdflib's N-Triples writer escapes literals correctly; each line gains its graph name.
            for line in graph.serialize(format="nt").splitlines():
                if line.strip():
                    lines.append(f"{line.rstrip()[:-1].rstrip()} {name.n3()} .")
        return ("\n".join(lines) + "\n").encode("utf-8")


def ontology_files(ontology_dir: Path) -> list[Path]:
    """The modules, schema first (the knowledge module imports it)."""
    files = []
    for module in (SCHEMA_MODULE, KNOWLEDGE_MODULE):
        found = [ontology_dir / f"{module}{suffix}" for suffix in MODULE_SUFFIXES
                 if (ontology_dir / f"{module}{suffix}").is_file()]
        if not found:
            raise OntologyLoadError(f"missing ontology module {ontology_dir / module}.ttl")
        files.append(found[0])
    return files


def content_version(ontology_dir: Path) -> str:
    """A short hash of every source file, so any edit changes the ETag clients cache against."""
    digest = hashlib.sha256()
    for path in [*ontology_files(ontology_dir), ontology_dir / SOURCE_TEXT]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def parse_asserted(ontology_dir: Path) -> Graph:
    """Parse the modules into one graph; a syntax error names the file and line."""
    graph = Graph()
    for path in ontology_files(ontology_dir):
        try:
            graph.parse(path, format=MODULE_SUFFIXES[path.suffix])
        except Exception as exc:  # rdflib raises several unrelated types for bad Turtle
            raise OntologyLoadError(f"{path.name}: {exc}") from exc
    return graph


def infer(asserted: Graph) -> Graph:
    """The OWL 2 RL closure of the asserted graph, minus what was asserted and minus trivia."""
    closure = Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False,
                           datatype_axioms=False).expand(closure)
    inferred = Graph()
    for s, p, o in closure:
        if (s, p, o) in asserted or isinstance(s, Literal):
            continue
        if p in _TRIVIAL_PREDICATES or (p == RDF.type and (o in _TRIVIAL_OBJECTS or isinstance(o, BNode))):
            continue  # owl:Thing membership, membership of anonymous class expressions (unionOf domains)
        if isinstance(s, URIRef) and not str(s).startswith(str(KS)):
            continue  # closure facts about OWL/RDF vocabulary or external terms
        if s == o and not isinstance(s, BNode):
            continue  # reflexive subClassOf / subPropertyOf
        inferred.add((s, p, o))
    return inferred


def load_graph(ontology_dir: Path) -> LoadedGraph:
    """Read `ontology/` and build what the service serves."""
    ontology_dir = ontology_dir.resolve()
    asserted = parse_asserted(ontology_dir)
    text_path = ontology_dir / SOURCE_TEXT
    if not text_path.is_file():
        raise OntologyLoadError(f"missing source text {text_path}")
    return LoadedGraph(
        asserted=asserted,
        inferred=infer(asserted),
        version=content_version(ontology_dir),
        source_text=text_path.read_text(encoding="utf-8"),
        ontology_dir=ontology_dir,
    )
