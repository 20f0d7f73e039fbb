"""The release artefact: the schema and knowledge modules merged into one ontology, in one RDF format.

One owl:Ontology header (the merged ontology's IRI and version IRI, carrying the knowledge module's annotations)
and no owl:imports: the imported schema is inside. Prefixes are bound so RDF/XML and Turtle read like Protégé's.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from kg_service.graph import KS, PREFIXES, parse_asserted

ONTOLOGY_IRI = URIRef(KS["ontology"])
VERSION_IRI = URIRef(KS["releases/0.1.0/ontology"])
SCHEMA_IRI, KNOWLEDGE_IRI = URIRef(KS["schema"]), URIRef(KS["knowledge"])
MODULE_HEADER_ONLY = {RDF.type, OWL.imports, OWL.versionIRI}  # what stays with the modules, not the merge
MERGED_TITLE = "Knee-soreness ontology (schema and knowledge modules merged)"
MERGED_LABEL = "Knee-soreness ontology"
# RDF/XML through rdflib's plain writer (blank nodes by rdf:nodeID), not pretty-xml: in two of four fresh-clone CI
# runs of 2026-12-02 the pretty-xml file read back with OWL lists counted twice (tests/test_export.py).
SERIALIZERS = {"ttl": "turtle", "xml": "xml", "jsonld": "json-ld", "nt": "nt"}


def merged_ontology(ontology_dir: Path) -> Graph:
    """Schema + knowledge under the one header `ks:ontology`, versioned `releases/0.1.0/ontology`."""
    modules = parse_asserted(ontology_dir)
    merged = Graph()
    for prefix, namespace in PREFIXES.items():
        merged.bind(prefix, namespace)
    for s, p, o in modules:
        if s not in (SCHEMA_IRI, KNOWLEDGE_IRI):
            merged.add((s, p, o))
    merged.add((ONTOLOGY_IRI, RDF.type, OWL.Ontology))
    merged.add((ONTOLOGY_IRI, OWL.versionIRI, VERSION_IRI))
    for p, o in modules.predicate_objects(KNOWLEDGE_IRI):
        if p in MODULE_HEADER_ONLY:
            continue
        if p == RDFS.label:
            o = Literal(MERGED_LABEL)
        elif p == DCTERMS.title:
            o = Literal(MERGED_TITLE)
        merged.add((ONTOLOGY_IRI, p, o))
    return merged


def export_ontology(ontology_dir: Path, fmt: str) -> bytes:
    """The merged ontology as `ttl`, `xml` (RDF/XML), `jsonld` (context embedded, nothing fetched) or `nt`."""
    if fmt not in SERIALIZERS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(SERIALIZERS)}")
    graph = merged_ontology(ontology_dir)
    if fmt == "jsonld":
        return graph.serialize(format="json-ld", context=PREFIXES, auto_compact=True, encoding="utf-8")
    return graph.serialize(format=SERIALIZERS[fmt], encoding="utf-8")
