"""Conversions between rdflib terms (the service's lingua franca) and pyoxigraph terms."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier


def to_oxigraph(term: Identifier) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r}")


def resource_from_ntriples(text: str) -> ox.NamedNode | ox.BlankNode:
    """An IRI (`<iri>`) or blank node (`_:id`) written in N-Triples, as a term (no literal: a subject, a class)."""
    return ox.BlankNode(text[2:]) if text.startswith("_:") else ox.NamedNode(text[1:-1])


def to_rdflib(term: object) -> Identifier:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype), normalize=False)  # keep the lexical form as stored
    raise TypeError(f"cannot convert {term!r}")


def json_term(term: Identifier) -> dict[str, str]:
    """One term in the SPARQL 1.1 Query Results JSON shape, as the service writes it from rdflib terms (Oxigraph's
    own writer gives the same shape: `OxigraphBackend.select_json`, `sparql.results.serialize_native`)."""
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    value = {"type": "literal", "value": str(term)}
    if term.language:
        value["xml:lang"] = term.language
    elif term.datatype and term.datatype != XSD.string:
        value["datatype"] = str(term.datatype)
    return value


def from_json_term(value: dict[str, str]) -> Identifier:
    """`json_term` read back: one term of a SPARQL 1.1 Query Results JSON answer (a remote endpoint's)."""
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    if value.get("datatype") and value["datatype"] != str(XSD.string):
        return Literal(value["value"], datatype=URIRef(value["datatype"]))
    return Literal(value["value"])
