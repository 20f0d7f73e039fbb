"""The SPARQL 1.1 Service Description of /sparql, and the page a browser gets there."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from kg_service.graph import ASSERTED_GRAPH, INFERRED_GRAPH, PREFIXES
from kg_service.sparql import results as fmt
from kg_service.web.render import render

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
FORMAT_IRIS = {fmt.JSON_RESULTS: FORMATS.SPARQL_Results_JSON, fmt.XML_RESULTS: FORMATS.SPARQL_Results_XML,
               fmt.CSV: FORMATS.SPARQL_Results_CSV, fmt.TSV: FORMATS.SPARQL_Results_TSV,
               fmt.TURTLE: FORMATS.Turtle, fmt.JSONLD: FORMATS["JSON-LD"], fmt.NTRIPLES: FORMATS["N-Triples"],
               fmt.RDFXML: FORMATS.RDF_XML}


def service_description(endpoint: str) -> Graph:
    """What the endpoint is: SPARQL 1.1 Query only (no update, no federation), its formats and its dataset."""
    graph = Graph(bind_namespaces="none")  # only the prefixes used, not rdflib's 30 defaults
    graph.bind("rdf", RDF)
    graph.bind("rdfs", RDFS)
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    for iri in FORMAT_IRIS.values():
        graph.add((service, SD.resultFormat, iri))
    dataset, default = BNode(), BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    for name in (ASSERTED_GRAPH, INFERRED_GRAPH):
        named = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, name))
    graph.add((service, RDFS.comment,
               Literal("Read-only SPARQL 1.1 Query endpoint of the knee-soreness knowledge graph. The default graph "
                       "is the union of the asserted and the inferred graph. SERVICE, LOAD and updates are refused.")))
    return graph


EXAMPLE = """PREFIX ks: <https://w3id.org/knee-soreness/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?cause ?label WHERE {
  ?cause a ks:Cause ; rdfs:label ?label .
}
ORDER BY ?label"""


def query_page(example: str = EXAMPLE) -> bytes:
    """The SPARQL editor a browser gets at /sparql: YASGUI from the service's own static folder, with a plain
    form underneath that works without JavaScript."""
    return render("sparql.html", {"title": "SPARQL editor", "endpoint": "/sparql", "example": example,
                                  "prefixes": PREFIXES})
