"""The fast closure (owlrl on the schema, compiled OWL 2 RL instance rules on the individuals) gives exactly the
triples owlrl's closure of the whole graph gives, on the real ontology and on a generated graph in its shape."""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
from conftest import ROOT
from rdflib import Graph

from kg_service.backends.terms import to_rdflib
from kg_service.graph import ASSERTED_GRAPH, KS, load_graph
from kg_service.inference import owlrl_closure, store_closure

GRAPH = ox.NamedNode(str(ASSERTED_GRAPH))


def _store(*files: Path) -> ox.Store:
    store = ox.Store()
    for path in files:
        fmt = ox.RdfFormat.TURTLE if path.suffix == ".ttl" else ox.RdfFormat.N_TRIPLES
        store.load(path=path, format=fmt, base_iri=path.as_uri(), to_graph=GRAPH)
    return store


def _both(store: ox.Store) -> tuple[set, set]:
    """(owlrl over every triple, the fast closure), as sets of rdflib triples of the same parse."""
    whole = Graph()
    for q in store.quads_for_pattern(None, None, None, GRAPH):
        whole.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    fast = {tuple(map(to_rdflib, t)) for t in store_closure(store, GRAPH)}
    return set(owlrl_closure(whole)), fast


def test_same_closure_as_owlrl_on_the_real_ontology() -> None:
    reference, fast = _both(_store(*sorted((ROOT / "ontology").glob("ks-*.ttl"))))
    assert len(reference) > 700  # inverses, chains, domains, ranges, transitivity: the closure is not empty
    assert fast == reference, (sorted(reference - fast)[:5], sorted(fast - reference)[:5])


def test_same_closure_as_owlrl_on_a_generated_graph(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import main as generate

    data = tmp_path / "copies.nt"
    generate(["--triples", "4000", "--seed", "3", "-o", str(data)])
    reference, fast = _both(_store(*sorted((ROOT / "ontology").glob("ks-*.ttl")), data))
    copied = KS["osteoarthritis-g1"]
    assert any(s == copied for s, _, _ in fast)  # the copies are inferred over, not only the original
    assert fast == reference, (sorted(reference - fast)[:5], sorted(fast - reference)[:5])


def test_the_served_inferred_graph_is_that_closure() -> None:
    loaded = load_graph(ROOT / "ontology")
    assert loaded.inferred_count == len(loaded.inferred) > 700
    assert not set(loaded.inferred) & set(loaded.asserted)
