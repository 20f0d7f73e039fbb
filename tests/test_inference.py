"""The fast closure (owlrl on the schema, compiled OWL 2 RL instance rules on the individuals) gives exactly the
triples owlrl's closure of the whole graph gives, on the real ontology and on a generated graph in its shape."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
from conftest import ROOT
from rdflib import Graph
from rdflib.namespace import RDFS

from kg_service.backends.terms import to_rdflib
from kg_service.graph import ASSERTED_GRAPH, KS, load_graph
from kg_service.inference import RDF_TYPE, owlrl_closure, store_closure

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


def _graph(store: ox.Store, graph: ox.NamedNode) -> set:
    return {(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, graph)}


INFERRED, PREMISES = ox.NamedNode("urn:test:inferred"), ox.NamedNode("urn:test:premises")


def _maintained_as_computed(store: ox.Store, removed: list, added: list, rules: dict | None):
    """Apply the edit to `store` and maintain its closure; check it against a full computation over the same
    asserted triples (served graph and premises). None, and nothing applied, when the edit sends the closure to
    owlrl (a functional property with two values)."""
    from kg_service.inference import write_closure

    fresh = ox.Store()
    fresh.extend(ox.Quad(*t, GRAPH) for t in (_graph(store, GRAPH) - set(removed)) | set(added))
    again = write_closure(fresh, GRAPH, INFERRED, PREMISES)
    if again.digest is None:
        return None
    for t in removed:
        store.remove(ox.Quad(*t, GRAPH))
    for t in added:
        store.add(ox.Quad(*t, GRAPH))
    written = write_closure(store, GRAPH, INFERRED, PREMISES, (removed, added), rules)
    assert not again.maintained and again.inferred == written.inferred
    for graph in (INFERRED, PREMISES):
        assert _graph(store, graph) == _graph(fresh, graph), graph
    return written


def _rules(store: ox.Store):
    from kg_service.inference import _compile, _Reads

    return _compile(store, GRAPH, _Reads(store, GRAPH)).rules


def test_a_maintained_closure_is_the_closure_computed_again(tmp_path: Path) -> None:
    """A curator's edit is maintained (over-delete, re-derive, insert) instead of recomputed: after random edits of
    the triples the rules read (types, transitive and chained relations, inverses, domains and ranges: removed,
    and added between other individuals), the inferred graph and the kept premises are those a full
    computation over the same asserted triples gives."""
    import random

    sys.path.insert(0, str(ROOT / "bench"))
    from generate import main as generate

    from kg_service.inference import _is_individual, write_closure

    data = tmp_path / "copies.nt"
    generate(["--triples", "3000", "--seed", "5", "-o", str(data)])
    store = _store(*sorted((ROOT / "ontology").glob("ks-*.ttl")), data)
    kept = write_closure(store, GRAPH, INFERRED, PREMISES).rules
    rules = _rules(store)
    read = {p for p in rules.property_rules() if p not in rules.functional}  # two values of a functional
    # property would send everything to owlrl (owl:sameAs), which no edit of a curator's should need to test here
    types: dict = defaultdict(set)
    for s, _, o in (t for t in _graph(store, GRAPH) if t[1] == RDF_TYPE):
        types[s].add(o.value if isinstance(o, ox.NamedNode) else "")
    individuals = sorted((s for s, ts in types.items() if isinstance(s, ox.NamedNode) and _is_individual(ts)), key=str)
    asserted = sorted((t for t in _graph(store, GRAPH) if t[0] in set(individuals) and (
        str(t[1]) in read or (t[1] == RDF_TYPE and str(t[2]) in rules.superclasses))), key=str)
    classes = sorted({t[2] for t in asserted if t[1] == RDF_TYPE}, key=str)
    rng, ran, maintained = random.Random(7), 0, 0
    for _ in range(8):
        relations = [t for t in asserted if t[1] != RDF_TYPE]
        removed = rng.sample(relations, 60)
        added = [(rng.choice(individuals), p, o if isinstance(o, ox.Literal) else rng.choice(individuals))
                 for _, p, o in rng.sample(relations, 60)]
        for s, p, o in rng.sample([t for t in asserted if t[1] == RDF_TYPE], 3):  # a class changed for another
            removed.append((s, p, o))
            added.append((s, p, rng.choice([c for c in classes if c != o])))
        added += [(rng.choice(individuals), RDF_TYPE, rng.choice(classes)) for _ in range(2)]  # one more class
        added = sorted((t for t in set(added) if ox.Quad(*t, GRAPH) not in store), key=str)
        removed = sorted((t for t in set(removed) if t not in added), key=str)
        written = _maintained_as_computed(store, removed, added, kept)
        if written is None:  # the edit made a functional property two-valued: owlrl on everything, skipped
            continue
        ran, maintained, kept = ran + 1, maintained + written.maintained, written.rules
        asserted = [t for t in asserted if t not in removed] + added
    assert maintained == ran >= 6  # each individual keeps a class: the schema, and so the rules, stay the same


SMALL_SCHEMA = """
@prefix : <https://w3id.org/knee-soreness/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
:Part a owl:Class . :Whole a owl:Class . :Part rdfs:subClassOf :Whole . :Other rdfs:subClassOf :Whole .
:Loose a owl:Class .
:part_of a owl:ObjectProperty, owl:TransitiveProperty .
:step a owl:ObjectProperty . :next a owl:ObjectProperty .
:two_steps a owl:ObjectProperty ; owl:propertyChainAxiom ( :step :next ) .
:held_by a owl:ObjectProperty ; rdfs:range :Whole ; rdfs:domain :Whole ; owl:inverseOf :holds .
:holds a owl:ObjectProperty .
:narrow a owl:ObjectProperty ; rdfs:subPropertyOf :held_by .
"""


def test_what_still_follows_another_way_stays_after_a_deletion() -> None:
    """For each rule, a triple derived two ways loses one way: it stays (re-derived from the other), and goes
    with the second (a schema written for it: transitivity, a property chain, range, domain, inverse, subclass and
    subproperty)."""
    from kg_service.inference import write_closure

    store = ox.Store()
    store.load(SMALL_SCHEMA, format=ox.RdfFormat.TURTLE, to_graph=GRAPH)
    a, b, c, d, e = (ox.NamedNode(str(KS[f"test-{n}"])) for n in "abcde")
    part_of, step, nxt, held_by, holds, narrow, part, other, loose = (ox.NamedNode(str(KS[n])) for n in (
        "part_of", "step", "next", "held_by", "holds", "narrow", "Part", "Other", "Loose"))
    store.extend(ox.Quad(n, RDF_TYPE, loose, GRAPH) for n in (a, b, c, d, e))  # no class above
    rules = write_closure(store, GRAPH, INFERRED, PREMISES).rules
    twice = {"transitive": ([(a, part_of, b), (b, part_of, d)], [(a, part_of, c), (c, part_of, d)]),
             "chain": ([(a, step, b), (b, nxt, d)], [(a, step, c), (c, nxt, d)]),
             "range": ([(a, held_by, d)], [(b, held_by, d)]),
             "domain and subproperty": ([(d, held_by, a)], [(d, narrow, a)]),
             "inverse": ([(a, holds, d)], [(d, held_by, a)]),
             "subclass": ([(e, RDF_TYPE, other)], [(e, RDF_TYPE, part)])}
    for name, (one_way, other_way) in twice.items():
        for removed, added in (([], one_way + other_way), (one_way, []), (other_way, []), ([], one_way + other_way)):
            written = _maintained_as_computed(store, removed, added, rules)
            assert written is not None and written.maintained, name
    two_steps, whole = ox.NamedNode(str(KS.two_steps)), ox.NamedNode(str(KS.Whole))
    assert {(a, part_of, d), (a, two_steps, d), (d, RDF_TYPE, whole), (d, holds, a), (e, RDF_TYPE, whole)} <= _graph(
        store, INFERRED)


def test_an_edit_of_the_schema_is_compiled_and_maintained_only_while_the_rules_hold() -> None:
    from kg_service.inference import write_closure

    store = _store(*sorted((ROOT / "ontology").glob("ks-*.ttl")))
    rules = write_closure(store, GRAPH, INFERRED, PREMISES).rules
    cause = ox.NamedNode(str(KS.Cause))
    # A class's label: the schema part changed, so it is compiled again, to the same rules: maintained.
    label = (cause, ox.NamedNode(str(RDFS.label)), ox.Literal("cause of soreness", language="en"))
    written = _maintained_as_computed(store, [], [label], rules)
    assert written is not None and written.maintained and written.digest == rules["digest"]
    # A new superclass for ks:Cause: every cause gets a new type, which only new rules give: computed whole.
    edit = (cause, ox.NamedNode(str(RDFS.subClassOf)), ox.NamedNode(str(KS.Extra)))
    written = _maintained_as_computed(store, [], [edit], rules)
    assert written is not None and not written.maintained and written.digest != rules["digest"]
    assert (ox.NamedNode(str(KS["osteoarthritis"])), RDF_TYPE, ox.NamedNode(str(KS.Extra))) in _graph(store, INFERRED)
