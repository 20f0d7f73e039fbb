"""The release artefact: schema and knowledge modules merged into one ontology, in one RDF format.

One owl:Ontology header (the merged ontology's IRI and version IRI, with the knowledge module's
annotations), no owl:imports (the imported module is inside), prefixes bound for readable RDF/XML.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from kg_service.graph import KS, OA, OBO, OBOINOWL, parse_asserted

ONTOLOGY_IRI = URIRef(KS["ontology"])
VERSION_IRI = URIRef(KS["releases/0.1.0/ontology"])
MODULES = (URIRef(KS["schema"]), URIRef(KS["knowledge"]))
FORMATS = {"ttl": "turtle", "xml": "xml", "jsonld": "json-ld", "nt": "nt"}  # plain RDF/XML: lossless for OWL lists
JSONLD_CONTEXT = {"ks": str(KS), "owl": str(OWL), "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD),
                  "skos": str(SKOS), "dcterms": str(DCTERMS), "oa": str(OA), "obo": str(OBO),
                  "oboInOwl": str(OBOINOWL), "prov": "http://www.w3.org/ns/prov#"}


def merged_ontology(ontology_dir: Path) -> Graph:
    modules = parse_asserted(ontology_dir)
    merged = Graph()
    for prefix, namespace in JSONLD_CONTEXT.items():
        merged.bind(prefix, namespace)
    knowledge_header = list(modules.predicate_objects(MODULES[1]))
    for s, p, o in modules:
        if s in MODULES:
            continue
        merged.add((s, p, o))
    merged.add((ONTOLOGY_IRI, RDF.type, OWL.Ontology))
    merged.add((ONTOLOGY_IRI, OWL.versionIRI, VERSION_IRI))
    for p, o in knowledge_header:
        if p in (RDF.type, OWL.imports, OWL.versionIRI):
            continue
        if p == RDFS.label:
            o = Literal("Knee-soreness ontology")
        if p == DCTERMS.title:
            o = Literal("Knee-soreness ontology (schema and knowledge, merged)")
        merged.add((ONTOLOGY_IRI, p, o))
    return merged


def export_ontology(ontology_dir: Path, fmt: str) -> bytes:
    """The merged ontology serialized as ttl, xml (RDF/XML), jsonld (inline context) or nt."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    graph = merged_ontology(ontology_dir)
    if fmt == "jsonld":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True).encode()
    return graph.serialize(format=FORMATS[fmt], encoding="utf-8")
