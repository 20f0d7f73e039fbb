"""The OWL 2 RL closure of the asserted graph, fast enough for a million triples.

owlrl (pure Python, every OWL 2 RL rule over every triple) takes about 3 ms a triple: 264 s for 83k. The
ontology's size is in its individuals, not its schema, so the work is split:

* the schema part (classes, properties, class expressions, the ontology headers: every triple whose subject
  is not an individual) goes through owlrl itself, which derives the schema-level facts (subclass and
  subproperty hierarchies, inherited domains and ranges, ...) exactly as before;
* the individuals' triples go through the OWL 2 RL instance rules that this schema can fire, compiled from
  that schema closure: cax-sco, prp-dom, prp-rng, prp-spo1, prp-inv1/2, prp-trp, prp-symp, prp-spo2
  (property chains), run to a fixpoint over the triples whose predicate takes part in a rule.

A construct those rules do not cover (owl:someValuesFrom, owl:hasValue, owl:sameAs between individuals, a
functional property with two values, ...) sends the whole graph through owlrl instead, so the answer is
never smaller than owlrl's; `tests/test_inference.py` checks both ways give the same triples on the real
ontology.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator

import owlrl
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg_service.backends.terms import to_oxigraph, to_rdflib

log = logging.getLogger("kg_service.inference")

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]

KS_NAMESPACE = "https://w3id.org/knee-soreness/"
# Closure triples that say nothing a user asked about (owl:Thing membership, reflexive sameAs, ...).
TRIVIAL_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual, RDFS.Class, OWL.Class}
TRIVIAL_PREDICATES = {OWL.sameAs, OWL.differentFrom, OWL.equivalentClass, OWL.equivalentProperty}
# rdf:type objects that make a subject part of the schema (a class, a property, a class expression...).
_VOCABULARIES = (str(OWL), str(RDFS), str(RDF))
_INDIVIDUAL_TYPES = {str(OWL.NamedIndividual), str(OWL.Thing)}
# Schema constructs whose instance rules are not compiled here: their presence means owlrl on everything.
_UNCOMPILED = {OWL.someValuesFrom, OWL.allValuesFrom, OWL.hasValue, OWL.intersectionOf, OWL.oneOf,
               OWL.maxCardinality, OWL.maxQualifiedCardinality, OWL.hasKey, OWL.complementOf,
               OWL.InverseFunctionalProperty, OWL.sameAs, OWL.differentFrom}

RDF_TYPE = ox.NamedNode(str(RDF.type))
_SCHEMA_PREDICATES = [ox.NamedNode(str(p)) for p in (
    RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.inverseOf, OWL.propertyChainAxiom,
    OWL.equivalentClass, OWL.equivalentProperty, OWL.unionOf, OWL.intersectionOf, OWL.disjointWith,
    OWL.onProperty, OWL.members, OWL.imports)]


def is_trivial(s, p, o) -> bool:
    """The trivia filter of the served inferred graph (rdflib terms)."""
    if isinstance(s, Literal):
        return True
    if p in TRIVIAL_PREDICATES or (p == RDF.type and (o in TRIVIAL_OBJECTS or isinstance(o, BNode))):
        return True  # owl:Thing membership, membership of anonymous class expressions (unionOf domains)
    if isinstance(s, URIRef) and not str(s).startswith(KS_NAMESPACE):
        return True  # closure facts about OWL/RDF vocabulary or external terms
    return s == o and not isinstance(s, BNode)  # reflexive subClassOf / subPropertyOf


_TRIVIAL_OBJECTS_OX = {ox.NamedNode(str(o)) for o in TRIVIAL_OBJECTS}
_TRIVIAL_PREDICATES_OX = {ox.NamedNode(str(p)) for p in TRIVIAL_PREDICATES}


def is_trivial_term(s, p, o) -> bool:
    """is_trivial on pyoxigraph terms, without turning a million derived triples into rdflib terms first."""
    if isinstance(s, ox.Literal):
        return True
    if p in _TRIVIAL_PREDICATES_OX or (p == RDF_TYPE and (o in _TRIVIAL_OBJECTS_OX or isinstance(o, ox.BlankNode))):
        return True
    if isinstance(s, ox.NamedNode) and not s.value.startswith(KS_NAMESPACE):
        return True
    return s == o and not isinstance(s, ox.BlankNode)


def owlrl_closure(asserted: Graph) -> Graph:
    """owlrl's OWL 2 RL closure, minus what was asserted and minus trivia: the reference semantics."""
    closure = Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False,
                           datatype_axioms=False).expand(closure)
    inferred = Graph()
    for s, p, o in closure:
        if (s, p, o) not in asserted and not is_trivial(s, p, o):
            inferred.add((s, p, o))
    return inferred


class _Uncompiled(Exception):
    """The graph uses a construct whose instance rules are not compiled: owlrl must see all of it."""


class _Rules:
    """The instance rules one schema closure fires, as lookup tables keyed by class or property."""

    def __init__(self, schema: Graph) -> None:
        for construct in _UNCOMPILED:
            if next(schema.triples((None, construct, None)), None) or next(schema.triples((None, None, construct)),
                                                                            None):
                raise _Uncompiled(f"the schema uses {construct}")
        ox_ = to_oxigraph
        self.superclasses: dict[ox.NamedNode, set] = defaultdict(set)
        for c, d in schema.subject_objects(RDFS.subClassOf):
            if c != d:
                self.superclasses[ox_(c)].add(ox_(d))
        self.superproperties: dict[ox.NamedNode, set] = defaultdict(set)
        for p, q in schema.subject_objects(RDFS.subPropertyOf):
            if p != q:
                self.superproperties[ox_(p)].add(ox_(q))
        self.domains: dict[ox.NamedNode, set] = defaultdict(set)
        for p, c in schema.subject_objects(RDFS.domain):
            self.domains[ox_(p)].add(ox_(c))
        self.ranges: dict[ox.NamedNode, set] = defaultdict(set)
        for p, c in schema.subject_objects(RDFS.range):
            self.ranges[ox_(p)].add(ox_(c))
        self.inverses: dict[ox.NamedNode, set] = defaultdict(set)
        for p, q in schema.subject_objects(OWL.inverseOf):
            self.inverses[ox_(p)].add(ox_(q))
            self.inverses[ox_(q)].add(ox_(p))
        self.transitive = {ox_(p) for p in schema.subjects(RDF.type, OWL.TransitiveProperty)}
        self.symmetric = {ox_(p) for p in schema.subjects(RDF.type, OWL.SymmetricProperty)}
        self.functional = {ox_(p) for p in schema.subjects(RDF.type, OWL.FunctionalProperty)}
        self.chains: list[tuple[ox.NamedNode, list[ox.NamedNode]]] = []
        for q, head in schema.subject_objects(OWL.propertyChainAxiom):
            steps = list(schema.items(head))
            if len(steps) != 2:
                raise _Uncompiled("a property chain that is not two steps long")
            self.chains.append((ox_(q), [ox_(s) for s in steps]))
        self.chain_steps = {step for _, steps in self.chains for step in steps}

    def property_rules(self) -> set[ox.NamedNode]:
        """Every property an instance rule reads (its triples are all the closure needs to see)."""
        return (set(self.superproperties) | set(self.domains) | set(self.ranges) | set(self.inverses)
                | self.transitive | self.symmetric | self.functional | self.chain_steps)

    def written(self) -> set[ox.NamedNode]:
        """Every property an instance rule can write."""
        out = set(self.property_rules()) | {q for _, qs in self.superproperties.items() for q in qs}
        out |= {q for qs in self.inverses.values() for q in qs} | {q for q, _ in self.chains}
        return out


def _is_individual(types: set[str]) -> bool:
    """A subject typed by a domain class (ks:Cause, oa:SpecificResource) and by no OWL/RDF(S) meta-class."""
    domain = [t for t in types if not t.startswith(_VOCABULARIES)]
    meta = [t for t in types if t.startswith(_VOCABULARIES) and t not in _INDIVIDUAL_TYPES]
    return bool(domain) and not meta


def _quads_about(store: ox.Store, graph: ox.NamedNode, subject) -> Iterator[Triple]:
    for quad in store.quads_for_pattern(subject, None, None, graph):
        yield quad.subject, quad.predicate, quad.object


def _quads(store: ox.Store, graph: ox.NamedNode, predicate=None) -> Iterator[Triple]:
    for quad in store.quads_for_pattern(None, predicate, None, graph):
        yield quad.subject, quad.predicate, quad.object


def _instance_closure(rules: _Rules, facts: set[Triple], asserted: set[Triple]) -> set[Triple]:
    """The instance rules to a fixpoint (semi-naive: each new triple is joined once)."""
    by_subject: dict[tuple, set] = defaultdict(set)  # (predicate, subject) -> objects, for chains/transitivity
    by_object: dict[tuple, set] = defaultdict(set)  # (predicate, object) -> subjects
    known = set(facts)
    pending = list(facts)
    derived: set[Triple] = set()
    joined = rules.transitive | rules.chain_steps
    first_steps = defaultdict(list)
    second_steps = defaultdict(list)
    for q, (p1, p2) in rules.chains:
        first_steps[p1].append((q, p2))
        second_steps[p2].append((q, p1))

    def add(triple: Triple) -> None:
        if triple not in known:
            known.add(triple)
            pending.append(triple)
            derived.add(triple)

    while pending:
        s, p, o = pending.pop()
        if p == RDF_TYPE:
            for d in rules.superclasses.get(o, ()):
                add((s, p, d))
            continue
        for q in rules.superproperties.get(p, ()):
            add((s, q, o))
        for c in rules.domains.get(p, ()):
            add((s, RDF_TYPE, c))
        if not isinstance(o, ox.Literal):
            for c in rules.ranges.get(p, ()):
                add((o, RDF_TYPE, c))
            for q in rules.inverses.get(p, ()):
                add((o, q, s))
            if p in rules.symmetric:
                add((o, p, s))
        if p in joined and not isinstance(o, ox.Literal):
            by_subject[(p, s)].add(o)
            by_object[(p, o)].add(s)
            if p in rules.transitive:
                for z in list(by_subject.get((p, o), ())):
                    add((s, p, z))
                for x in list(by_object.get((p, s), ())):
                    add((x, p, o))
            for q, p2 in first_steps.get(p, ()):  # s p o, o p2 z => s q z
                for z in list(by_subject.get((p2, o), ())):
                    add((s, q, z))
            for q, p1 in second_steps.get(p, ()):  # x p1 s, s p o => x q o
                for x in list(by_object.get((p1, s), ())):
                    add((x, q, o))
    for p in rules.functional:
        values: dict = defaultdict(set)
        for s, q, o in known:
            if q == p:
                values[s].add(o)
        if any(len(v) > 1 for v in values.values()):
            raise _Uncompiled(f"functional property {p} with two values (owl:sameAs follows)")
    return derived - asserted


class _Reads:
    """The triples of one graph by predicate, each predicate read from the store once: turning a stored quad into
    Python terms costs about a microsecond, and the closure needs the rdf:type triples and every rule's triples
    several times (a million triples: 1.8 million reads without this, 0.8 million with)."""

    def __init__(self, store: ox.Store, graph: ox.NamedNode) -> None:
        self.store, self.graph = store, graph
        self.by_predicate: dict[ox.NamedNode, list[Triple]] = {}

    def __call__(self, predicate: ox.NamedNode) -> list[Triple]:
        found = self.by_predicate.get(predicate)
        if found is None:
            found = self.by_predicate[predicate] = list(_quads(self.store, self.graph, predicate))
        return found


def store_closure(store: ox.Store, graph: ox.NamedNode) -> list[Triple]:
    """The inferred triples (trivia filtered) of the asserted triples in `graph` of `store`."""
    reads = _Reads(store, graph)
    types: dict = defaultdict(set)
    for s, _, o in reads(RDF_TYPE):
        types[s].add(o.value if isinstance(o, ox.NamedNode) else "")
    individuals = {s for s, ts in types.items() if _is_individual(ts)}
    schema = _schema(store, graph, individuals, {s for s in types if s not in individuals})
    try:
        return _compiled_closure(store, graph, schema, reads)
    except _Uncompiled as exc:
        log.warning("inference: %s; running owlrl over the whole graph (slow)", exc)
        whole = Graph()
        for s, p, o in _quads(store, graph):
            whole.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
        return [tuple(map(to_oxigraph, t)) for t in owlrl_closure(whole)]  # type: ignore[misc]


def _schema(store: ox.Store, graph: ox.NamedNode, individuals: set, typed: set) -> Graph:
    """Every triple about a non-individual: a subject typed by an OWL/RDF(S) meta-class, or the subject of an
    OWL or RDFS schema statement, and the blank nodes (lists, class expressions) they reach."""
    subjects = set(typed)
    for predicate in _SCHEMA_PREDICATES:
        subjects.update(s for s, _, _ in _quads(store, graph, predicate))
    stack = [s for s in subjects if s not in individuals]
    seen = set(stack)
    schema = Graph()
    while stack:
        subject = stack.pop()
        for s, p, o in _quads_about(store, graph, subject):
            schema.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
            if isinstance(o, ox.BlankNode) and o not in seen and o not in individuals:
                seen.add(o)
                stack.append(o)
    return schema


def _compiled_closure(store: ox.Store, graph: ox.NamedNode, schema: Graph, reads: _Reads) -> list[Triple]:
    schema_inferred = owlrl_closure(schema)
    full_schema = schema + schema_inferred
    rules = _Rules(full_schema)
    facts: set[Triple] = set()
    for p in rules.property_rules():
        facts.update(reads(p))
    for s, p, o in reads(RDF_TYPE):
        if o in rules.superclasses:
            facts.add((s, p, o))
    # The schema closure's own facts take part too (owlrl's fixpoint is closed under these rules).
    facts.update(tuple(map(to_oxigraph, t)) for t in schema_inferred)  # type: ignore[misc]
    asserted_written: set[Triple] = set()
    for p in rules.written() | {RDF_TYPE}:
        asserted_written.update(reads(p))
    derived = _instance_closure(rules, facts, asserted_written)
    # The schema part was closed alone: what it derived may be asserted among the individuals' triples.
    out = {t for t in (tuple(map(to_oxigraph, t)) for t in schema_inferred)
           if next(store.quads_for_pattern(*t, graph), None) is None}
    for triple in derived:
        if not is_trivial_term(*triple):
            out.add(triple)
    return list(out)  # type: ignore[arg-type]


def triples_of(items: Iterable[Triple], graph: ox.NamedNode) -> Iterator[ox.Quad]:
    for s, p, o in items:
        yield ox.Quad(s, p, o, graph)
