"""Knee-soreness knowledge-graph service: an OWL 2 ontology served over SPARQL, REST and linked data."""

__version__ = "0.1.0"
