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

A curator's edit that leaves the compiled rules and the schema's own facts as they were (an individual's
assertion, an axiom annotation's target) is maintained, not recomputed: the rules run on the triples that
changed, deleting what followed from the removed ones and deriving again what still follows (DRed: over-delete,
re-derive, insert), with the store's indexes as the join tables. For that the store keeps, beside the served
inferred graph, the derived triples the served graph leaves out as trivia (owl:Thing membership, membership of
anonymous class expressions) when a rule reads them: they are premises of served triples.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

import owlrl
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg_service.backends.terms import resource_from_ntriples, to_oxigraph, to_rdflib

log = logging.getLogger("kg_service.inference")

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]
# The instance rules run on terms written in N-Triples ("<iri>", "_:id", '"text"@en'): Oxigraph hands a graph's
# triples over as N-Triples text faster than it makes term objects, and strings hash fast.
Text = tuple[str, str, str]

KS_NAMESPACE = "https://w3id.org/knee-soreness/"
# Closure triples that say nothing a user asked about (owl:Thing membership, reflexive sameAs, ...).
TRIVIAL_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual, RDFS.Class, OWL.Class}
TRIVIAL_PREDICATES = {OWL.sameAs, OWL.differentFrom, OWL.equivalentClass, OWL.equivalentProperty}
# rdf:type objects that make a subject part of the schema (a class, a property, a class expression...).
_VOCABULARIES = (str(OWL), str(RDFS), str(RDF))
_INDIVIDUAL_TYPES = {str(OWL.NamedIndividual), str(OWL.Thing)}
_STATEMENT_TYPES = {str(OWL.Axiom), str(OWL.Annotation)}  # reification: nodes about a statement
# Schema constructs whose instance rules are not compiled here: their presence means owlrl on everything.
_UNCOMPILED = {OWL.someValuesFrom, OWL.allValuesFrom, OWL.hasValue, OWL.intersectionOf, OWL.oneOf,
               OWL.maxCardinality, OWL.maxQualifiedCardinality, OWL.hasKey, OWL.complementOf,
               OWL.InverseFunctionalProperty, OWL.sameAs, OWL.differentFrom}

RDF_TYPE = ox.NamedNode(str(RDF.type))
TYPE = str(RDF_TYPE)
_SCHEMA_PREDICATES = [ox.NamedNode(str(p)) for p in (
    RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.inverseOf, OWL.propertyChainAxiom,
    OWL.equivalentClass, OWL.equivalentProperty, OWL.unionOf, OWL.intersectionOf, OWL.disjointWith,
    OWL.onProperty, OWL.members, OWL.imports)]
_SCHEMA_PREDICATE_SET = set(_SCHEMA_PREDICATES)


def is_trivial(s, p, o) -> bool:
    """The trivia filter of the served inferred graph (rdflib terms)."""
    if isinstance(s, Literal):
        return True
    if p in TRIVIAL_PREDICATES or (p == RDF.type and (o in TRIVIAL_OBJECTS or isinstance(o, BNode))):
        return True  # owl:Thing membership, membership of anonymous class expressions (unionOf domains)
    if isinstance(s, URIRef) and not str(s).startswith(KS_NAMESPACE):
        return True  # closure facts about OWL/RDF vocabulary or external terms
    return s == o and not isinstance(s, BNode)  # reflexive subClassOf / subPropertyOf


_TRIVIAL_OBJECTS_TEXT = {f"<{o}>" for o in TRIVIAL_OBJECTS}
_TRIVIAL_PREDICATES_TEXT = {f"<{p}>" for p in TRIVIAL_PREDICATES}
_KS_TEXT = f"<{KS_NAMESPACE}"


def is_trivial_text(s: str, p: str, o: str) -> bool:
    """is_trivial on N-Triples terms, without turning a million derived triples into rdflib terms first."""
    if s[0] == '"':
        return True
    if p in _TRIVIAL_PREDICATES_TEXT or (p == TYPE and (o in _TRIVIAL_OBJECTS_TEXT or o.startswith("_:"))):
        return True
    if s[0] == "<" and not s.startswith(_KS_TEXT):
        return True
    return s == o and not s.startswith("_:")


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
    """The instance rules one schema closure fires, as lookup tables keyed by class or property (N-Triples)."""

    _MAPS = ("superclasses", "superproperties", "domains", "ranges", "inverses")
    _SETS = ("transitive", "symmetric", "functional")

    def __init__(self, tables: dict) -> None:
        """From `tables()` (as `from_schema` makes them, or as a store kept them beside its closure)."""
        self.superclasses: dict[str, set] = defaultdict(set)
        self.superproperties: dict[str, set] = defaultdict(set)
        self.domains: dict[str, set] = defaultdict(set)
        self.ranges: dict[str, set] = defaultdict(set)
        self.inverses: dict[str, set] = defaultdict(set)
        for name in self._MAPS:
            getattr(self, name).update({key: set(values) for key, values in tables[name].items()})
        self.transitive, self.symmetric, self.functional = (set(tables[name]) for name in self._SETS)
        self.chains: list[tuple[str, list[str]]] = [(q, list(steps)) for q, steps in tables["chains"]]
        self.chain_steps = {step for _, steps in self.chains for step in steps}
        self.first_steps: dict[str, list[tuple[str, str]]] = defaultdict(list)  # p1 -> (q, p2) of q = p1 o p2
        self.second_steps: dict[str, list[tuple[str, str]]] = defaultdict(list)  # p2 -> (q, p1)
        for q, (p1, p2) in self.chains:
            self.first_steps[p1].append((q, p2))
            self.second_steps[p2].append((q, p1))
        # The same rules read backwards (what a triple can follow from), for re-deriving after a deletion.
        self.subclasses, self.subproperties = _inverted(self.superclasses), _inverted(self.superproperties)
        self.with_domain, self.with_range = _inverted(self.domains), _inverted(self.ranges)
        self.chains_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for q, (p1, p2) in self.chains:
            self.chains_of[q].append((p1, p2))
        named = {key for name in self._MAPS for key, values in getattr(self, name).items() for key in (key, *values)}
        named |= self.transitive | self.symmetric | self.functional | {q for q, _ in self.chains} | self.chain_steps
        self.terms = {text: resource_from_ntriples(text) for text in named}
        self.terms[TYPE] = RDF_TYPE

    @classmethod
    def from_schema(cls, schema: Graph) -> _Rules:
        for construct in _UNCOMPILED:
            if next(schema.triples((None, construct, None)), None) or next(schema.triples((None, None, construct)),
                                                                            None):
                raise _Uncompiled(f"the schema uses {construct}")
        ox_ = lambda term: str(to_oxigraph(term))  # each term in N-Triples
        tables: dict = {name: defaultdict(list) for name in cls._MAPS}
        for predicate, name in ((RDFS.subClassOf, "superclasses"), (RDFS.subPropertyOf, "superproperties"),
                                (RDFS.domain, "domains"), (RDFS.range, "ranges"), (OWL.inverseOf, "inverses")):
            for x, y in schema.subject_objects(predicate):
                if x != y or predicate in (RDFS.domain, RDFS.range, OWL.inverseOf):
                    tables[name][ox_(x)].append(ox_(y))
                    if predicate == OWL.inverseOf:
                        tables[name][ox_(y)].append(ox_(x))
        for name, kind in zip(cls._SETS, (OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.FunctionalProperty)):
            tables[name] = [ox_(p) for p in schema.subjects(RDF.type, kind)]
        tables["chains"] = []
        for q, head in schema.subject_objects(OWL.propertyChainAxiom):
            steps = list(schema.items(head))
            if len(steps) != 2:
                raise _Uncompiled("a property chain that is not two steps long")
            tables["chains"].append((ox_(q), [ox_(s) for s in steps]))
        return cls(tables)

    def tables(self) -> dict:
        """The rules as JSON-ready lists, sorted: what `__init__` takes back."""
        tables: dict = {name: {k: sorted(v) for k, v in sorted(getattr(self, name).items()) if v}
                        for name in self._MAPS}
        tables.update({name: sorted(getattr(self, name)) for name in self._SETS})
        tables["chains"] = sorted(self.chains)
        return tables

    def digest(self) -> str:
        """What the rules are, as one hash: equal digests, equal closures of equal asserted triples."""
        return hashlib.sha256(json.dumps(self.tables(), sort_keys=True).encode()).hexdigest()

    def property_rules(self) -> set[str]:
        """Every property an instance rule reads (its triples are all the closure needs to see)."""
        return (set(self.superproperties) | set(self.domains) | set(self.ranges) | set(self.inverses)
                | self.transitive | self.symmetric | self.functional | self.chain_steps)

    def written(self) -> set[str]:
        """Every property an instance rule can write."""
        out = set(self.property_rules()) | {q for _, qs in self.superproperties.items() for q in qs}
        out |= {q for qs in self.inverses.values() for q in qs} | {q for q, _ in self.chains}
        return out


def _inverted(table: dict[str, set]) -> dict[str, set]:
    inverted: dict[str, set] = defaultdict(set)
    for key, values in table.items():
        for value in values:
            inverted[value].add(key)
    return inverted


def _is_individual(types: set[str]) -> bool:
    """A subject typed by a domain class (ks:Cause, oa:SpecificResource) and by no OWL/RDF(S) meta-class, or an
    axiom annotation (owl:Axiom): about one statement, not the schema, its triples go with the individuals'
    (the compiled rules fire on them as owlrl does; `tests/test_inference.py` compares), so that an edit of an
    axiom annotation leaves the schema, and the rules, as they were."""
    domain = [t for t in types if not t.startswith(_VOCABULARIES) or t in _STATEMENT_TYPES]
    meta = [t for t in types if t.startswith(_VOCABULARIES) and t not in _INDIVIDUAL_TYPES | _STATEMENT_TYPES]
    return bool(domain) and not meta


def _type_names(types: Iterable) -> set[str]:
    """Terms of rdf:type objects as `_is_individual` reads them (a class expression's blank node: "")."""
    return {t.value if isinstance(t, ox.NamedNode) else "" for t in types}


def _touches_schema(store: ox.Store, graph: ox.NamedNode, removed: list[Triple], added: list[Triple]) -> bool:
    """Whether an edit may change the schema part of `graph` (and so the rules): it does not when every changed
    triple is about a subject that is an individual both before and after it, by a predicate no schema
    statement uses. (`graph` holds the edit already.)"""
    if any(p in _SCHEMA_PREDICATE_SET for _, p, _ in removed + added):
        return True
    type_changes: dict = defaultdict(lambda: (set(), set()))  # subject -> (types removed, types added)
    for triples, side in ((removed, 0), (added, 1)):
        for s, p, o in triples:
            if p == RDF_TYPE:
                type_changes[s][side].add(o)
    was_said, newly_said = {s for s, _, _ in removed}, set(added)
    for subject in {s for s, _, _ in removed + added}:
        after = {q.object for q in store.quads_for_pattern(subject, RDF_TYPE, None, graph)}
        gone, new = type_changes.get(subject, (set(), set()))
        said_now = [(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(subject, None, None, graph)]
        said_before = subject in was_said or any(t not in newly_said for t in said_now)
        # A subject with no triple (before the edit, or after it) is in no part of the graph then.
        if said_now and not _is_individual(_type_names(after)):
            return True
        if said_before and not _is_individual(_type_names((after - new) | gone)):
            return True
    return False


def _quads_about(store: ox.Store, graph: ox.NamedNode, subject) -> Iterator[Triple]:
    for quad in store.quads_for_pattern(subject, None, None, graph):
        yield quad.subject, quad.predicate, quad.object


def _quads(store: ox.Store, graph: ox.NamedNode, predicate=None) -> Iterator[Triple]:
    for quad in store.quads_for_pattern(None, predicate, None, graph):
        yield quad.subject, quad.predicate, quad.object


def _instance_closure(rules: _Rules, facts: set[Text], asserted: set[Text]) -> set[Text]:
    """The instance rules to a fixpoint (semi-naive: each new triple is joined once)."""
    by_subject: dict[tuple, set] = defaultdict(set)  # (predicate, subject) -> objects, for chains/transitivity
    by_object: dict[tuple, set] = defaultdict(set)  # (predicate, object) -> subjects
    known = set(facts)
    pending = list(facts)
    derived: set[Text] = set()
    joined = rules.transitive | rules.chain_steps
    first_steps, second_steps = rules.first_steps, rules.second_steps

    def add(triple: Text) -> None:
        if triple not in known:
            known.add(triple)
            pending.append(triple)
            derived.add(triple)

    while pending:
        s, p, o = pending.pop()
        if p == TYPE:
            for d in rules.superclasses.get(o, ()):
                add((s, p, d))
            continue
        for q in rules.superproperties.get(p, ()):
            add((s, q, o))
        for c in rules.domains.get(p, ()):
            add((s, TYPE, c))
        if o[0] != '"':  # not a literal
            for c in rules.ranges.get(p, ()):
                add((o, TYPE, c))
            for q in rules.inverses.get(p, ()):
                add((o, q, s))
            if p in rules.symmetric:
                add((o, p, s))
        if p in joined and o[0] != '"':
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
    if rules.functional:  # one pass over what is known, for every functional property at once
        values: dict = defaultdict(set)
        for s, q, o in known:
            if q in rules.functional:
                values[(q, s)].add(o)
        for (q, _), objects in values.items():
            if len(objects) > 1:
                raise _Uncompiled(f"functional property {q} with two values (owl:sameAs follows)")
    return derived - asserted


class _Reads:
    """The triples of one graph by predicate, as N-Triples text, each predicate read from the store once: Oxigraph
    writes a CONSTRUCT's answer as N-Triples faster than it makes term objects of the same quads, and
    the closure needs the rdf:type triples and every rule's triples several times (a million triples: 1.8 million
    reads without this cache, 0.8 million with)."""

    def __init__(self, store: ox.Store, graph: ox.NamedNode) -> None:
        self.store, self.graph = store, graph
        self.by_predicate: dict[str, list[Text]] = {}

    def __call__(self, predicate: str) -> list[Text]:
        """`predicate` in N-Triples (`<iri>`), as `_Rules` holds it."""
        found = self.by_predicate.get(predicate)
        if found is None:
            found = self.by_predicate[predicate] = self._read(predicate)
        return found

    def everything(self) -> list[Text]:
        return self._read("?p")

    def _read(self, predicate: str) -> list[Text]:
        answer = self.store.query(f"CONSTRUCT {{ ?s {predicate} ?o }} WHERE {{ GRAPH {self.graph} "
                                  f"{{ ?s {predicate} ?o }} }}")
        text = answer.serialize(format=ox.RdfFormat.N_TRIPLES).decode()
        # One triple a line, "S P O .": N-Triples escapes every line break inside a literal.
        return [tuple(line.split(" ", 2)) for line in text.split(" .\n") if line]  # type: ignore[misc]


def _document(triples: Iterable[Text]) -> str:
    return "".join(f"{s} {p} {o} .\n" for s, p, o in triples)


def _terms(triples: Iterable[Text]) -> list[Triple]:
    """N-Triples text back to Oxigraph terms, by Oxigraph's own parser (blank node labels kept)."""
    return [(t.subject, t.predicate, t.object)
            for t in ox.parse(_document(triples), format=ox.RdfFormat.N_TRIPLES)]


def store_closure(store: ox.Store, graph: ox.NamedNode) -> list[Triple]:
    """The inferred triples (trivia filtered) of the asserted triples in `graph` of `store`."""
    return _terms(closure_text(store, graph))


def closure_text(store: ox.Store, graph: ox.NamedNode) -> set[Text]:
    """`store_closure` as N-Triples text, which `write_closure` hands to Oxigraph without making Python objects of
    the million-triple case's 150k inferred triples."""
    return _closure(store, graph, _Reads(store, graph))[0]


@dataclass(frozen=True)
class _Compiled:
    """What the schema compiles to: the instance rules and the schema closure's own facts (N-Triples)."""

    rules: _Rules
    schema_facts: set[Text]

    @property
    def digest(self) -> str:
        facts = hashlib.sha256("\n".join(sorted(" ".join(t) for t in self.schema_facts)).encode()).hexdigest()
        return hashlib.sha256(f"{self.rules.digest()} {facts}".encode()).hexdigest()

    def to_json(self) -> dict:
        """What a store keeps beside its closure, so that an edit of its individuals needs no compiling."""
        return {"digest": self.digest, "rules": self.rules.tables(), "schema_facts": sorted(self.schema_facts)}

    @classmethod
    def from_json(cls, kept: dict) -> _Compiled:
        return cls(_Rules(kept["rules"]), {tuple(t) for t in kept["schema_facts"]})  # type: ignore[misc]

    @cached_property
    def _read_predicates(self) -> set[str]:
        return self.rules.property_rules()

    def is_premise(self, triple: Text) -> bool:
        """A rule reads this triple (kept beside the served graph when it is trivia: see the module's docstring)."""
        _, p, o = triple
        return o in self.rules.superclasses if p == TYPE else p in self._read_predicates


def _compile(store: ox.Store, graph: ox.NamedNode, reads: _Reads) -> _Compiled:
    """The schema's rules; raises _Uncompiled when the schema uses a construct they do not cover."""
    types: dict = defaultdict(set)
    for s, _, o in reads(TYPE):
        types[s].add(o[1:-1] if o[0] == "<" else "")
    individuals = {s for s, ts in types.items() if _is_individual(ts)}
    schema = _schema(store, graph, individuals, {s for s in types if s not in individuals})
    schema_inferred = owlrl_closure(schema)
    rules = _Rules.from_schema(schema + schema_inferred)
    return _Compiled(rules, {tuple(str(to_oxigraph(term)) for term in t) for t in schema_inferred})  # type: ignore


def _closure(store: ox.Store, graph: ox.NamedNode, reads: _Reads) -> tuple[set[Text], set[Text], _Compiled | None]:
    """(the served inferred triples, the trivia among the derived triples that rules read, the compiled rules or
    None when owlrl had to run over the whole graph)."""
    try:
        compiled = _compile(store, graph, reads)
        derived = _derived(compiled, reads)
    except _Uncompiled as exc:
        log.warning("inference: %s; running owlrl over the whole graph (slow)", exc)
        whole = Graph()
        for s, p, o in _quads(store, graph):
            whole.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
        return {tuple(str(to_oxigraph(term)) for term in t) for t in owlrl_closure(whole)}, set(), None  # type: ignore
    # The schema part was closed alone: what it derived may be asserted among the individuals' triples.
    schema_facts = sorted(compiled.schema_facts)
    served = {t for t, term in zip(schema_facts, _terms(schema_facts))
              if next(store.quads_for_pattern(*term, graph), None) is None}
    served |= {t for t in derived if not is_trivial_text(*t)}
    premises = {t for t in derived if is_trivial_text(*t) and compiled.is_premise(t)}
    return served, premises, compiled  # type: ignore[return-value]


def _derived(compiled: _Compiled, reads: _Reads) -> set[Text]:
    """Everything the instance rules derive from the asserted triples and the schema's facts (trivia included),
    minus what is asserted."""
    rules = compiled.rules
    facts: set[Text] = set()
    for p in rules.property_rules():
        facts.update(reads(p))
    for s, p, o in reads(TYPE):
        if o in rules.superclasses:
            facts.add((s, p, o))
    facts.update(compiled.schema_facts)  # owlrl's fixpoint is closed under these rules: its facts take part too
    asserted_written: set[Text] = set()
    for p in rules.written() | {TYPE}:
        asserted_written.update(reads(p))
    return _instance_closure(rules, facts, asserted_written)


@dataclass(frozen=True)
class ClosureWritten:
    """What `write_closure` did: the inferred graph's size, the rules to keep beside the store for a later edit
    (`_Compiled.to_json`; None: no later edit can be maintained, for want of premises or because owlrl ran
    over everything), whether only the edit's consequences were computed, and the subjects (N-Triples) of
    the inferred triples that came or went."""

    inferred: int
    rules: dict | None
    maintained: bool
    changed: frozenset[str] = frozenset()

    @property
    def digest(self) -> str | None:
        return self.rules["digest"] if self.rules else None


def write_closure(store: ox.Store, asserted: ox.NamedNode, inferred: ox.NamedNode,
                  premises: ox.NamedNode | None = None, changes: tuple[list[Triple], list[Triple]] | None = None,
                  previous: dict | None = None) -> ClosureWritten:
    """Make the `inferred` graph the closure of the `asserted` graph (and `premises`, when given, its trivia that
    rules read: a store that a later edit's closure is maintained in needs them).

    With `premises` and `changes` (the asserted triples removed and added since a closure made with the rules
    `previous`, as `ClosureWritten.rules` gave them) and the same rules now, only the changes' consequences are
    computed (`_maintain`); an edit that leaves the schema part alone (`_touches_schema`) keeps them without
    compiling anything. Otherwise the whole closure, and
    only what changed is written (a rebuild after a curator's edit starts from the served store's copy, whose
    inferred graph is nearly right). New triples without blank nodes go through `Store.bulk_load` (Rust from end
    to end); the others through `ox.parse`, which, unlike the store's loaders, keeps blank node labels (the
    inferred triples name the asserted graph's blank nodes)."""
    reads = _Reads(store, asserted)
    if premises is not None and changes is not None and previous is not None:
        try:
            if _touches_schema(store, asserted, *changes):
                compiled = _compile(store, asserted, reads)
            else:
                compiled = _Compiled.from_json(previous)
            if compiled.digest == previous["digest"]:
                changed = _maintain(store, (asserted, inferred, premises), compiled, *changes)
                return ClosureWritten(_count(store, inferred), compiled.to_json(), True, frozenset(changed))
            log.info("inference: the rules changed; computing the whole closure")
        except _Uncompiled as exc:  # a functional property with two values: owlrl's sameAs reasoning follows
            log.info("inference: %s; computing the whole closure", exc)
    served, trivia, compiled = _closure(store, asserted, reads)
    changed = _replace(store, inferred, served)
    if premises is not None:
        _replace(store, premises, trivia)
    return ClosureWritten(len(served), compiled.to_json() if compiled and premises is not None else None, False,
                          frozenset(s for s, _, _ in changed))


def _count(store: ox.Store, graph: ox.NamedNode) -> int:
    answer = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
    return int(next(iter(answer))["n"].value)  # type: ignore[index]


def _replace(store: ox.Store, graph: ox.NamedNode, new: set[Text]) -> set[Text]:
    """Make `graph` hold `new`, writing only the difference; returns the difference."""
    old = set(_Reads(store, graph).everything())
    for s, p, o in _terms(old - new):
        store.remove(ox.Quad(s, p, o, graph))
    fresh = new - old
    has_blank = lambda t: t[0].startswith("_:") or t[2].startswith("_:")
    store.bulk_extend(ox.Quad(s, p, o, graph) for s, p, o in _terms(t for t in fresh if has_blank(t)))
    ground = _document(t for t in fresh if not has_blank(t))
    if ground:
        store.bulk_load(ground, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    return (old - new) | fresh


class _Facts:
    """The facts the instance rules see, as the store holds them: asserted, the schema's, derived (served or kept
    as premises), less those `hidden` (over-deleted), plus those `extra` (derived in this maintenance)."""

    def __init__(self, store: ox.Store, graphs: tuple[ox.NamedNode, ...], schema: set[Triple]) -> None:
        self.store, self.graphs = store, graphs
        self.hidden: set[Triple] = set()
        self.extra: set[Triple] = set()
        self._by_subject: dict[tuple, set] = defaultdict(set)
        self._by_object: dict[tuple, set] = defaultdict(set)
        for triple in schema:
            self.add(triple)

    def add(self, triple: Triple) -> None:
        s, p, o = triple
        self.extra.add(triple)
        self._by_subject[(p, s)].add(o)
        self._by_object[(p, o)].add(s)

    def __contains__(self, triple: Triple) -> bool:
        if triple in self.extra:
            return True
        return triple not in self.hidden and any(ox.Quad(*triple, g) in self.store for g in self.graphs)

    def objects(self, s, p) -> Iterator:
        yield from self._by_subject.get((p, s), ())
        for g in self.graphs:
            for quad in self.store.quads_for_pattern(s, p, None, g):
                if (s, p, quad.object) not in self.hidden:
                    yield quad.object

    def subjects(self, p, o) -> Iterator:
        yield from self._by_object.get((p, o), ())
        for g in self.graphs:
            for quad in self.store.quads_for_pattern(None, p, o, g):
                if (quad.subject, p, o) not in self.hidden:
                    yield quad.subject


def _consequences(rules: _Rules, triple: Triple, facts: _Facts) -> Iterator[Triple]:
    """What one rule step derives from `triple` with `facts`: `_instance_closure`'s step, on store terms."""
    s, p, o = triple
    t, ps = rules.terms, str(p)
    if ps == TYPE:
        for d in rules.superclasses.get(str(o), ()):
            yield s, p, t[d]
        return
    for q in rules.superproperties.get(ps, ()):
        yield s, t[q], o
    for c in rules.domains.get(ps, ()):
        yield s, RDF_TYPE, t[c]
    if isinstance(o, ox.Literal):
        return
    for c in rules.ranges.get(ps, ()):
        yield o, RDF_TYPE, t[c]
    for q in rules.inverses.get(ps, ()):
        yield o, t[q], s
    if ps in rules.symmetric:
        yield o, p, s
    if ps in rules.transitive:
        for z in _resources(facts.objects(o, p)):
            yield s, p, z
        for x in facts.subjects(p, s):
            yield x, p, o
    for q, p2 in rules.first_steps.get(ps, ()):
        for z in _resources(facts.objects(o, t[p2])):
            yield s, t[q], z
    for q, p1 in rules.second_steps.get(ps, ()):
        for x in facts.subjects(t[p1], s):
            yield x, t[q], o


def _resources(terms: Iterable) -> Iterator:
    return (term for term in terms if not isinstance(term, ox.Literal))


def _derivable(rules: _Rules, triple: Triple, facts: _Facts) -> bool:
    """Whether one rule step derives `triple` from `facts`: the rules read backwards."""
    s, p, o = triple
    t, ps = rules.terms, str(p)
    if any((s, t[q], o) in facts for q in rules.subproperties.get(ps, ())):
        return True
    if ps == TYPE:
        return (any((s, p, t[c]) in facts for c in rules.subclasses.get(str(o), ()))
                or any(next(iter(facts.objects(s, t[q])), None) is not None for q in rules.with_domain.get(str(o), ()))
                or any(next(iter(facts.subjects(t[q], s)), None) is not None for q in rules.with_range.get(str(o), ())))
    if isinstance(o, ox.Literal):
        return False
    if any((o, t[q], s) in facts for q in rules.inverses.get(ps, ())):
        return True
    if ps in rules.symmetric and (o, p, s) in facts:
        return True
    if ps in rules.transitive and any((z, p, o) in facts for z in _resources(facts.objects(s, p))):
        return True
    return any((z, t[p2], o) in facts for p1, p2 in rules.chains_of.get(ps, ())
               for z in _resources(facts.objects(s, t[p1])))


def _maintain(store: ox.Store, graphs: tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode], compiled: _Compiled,
              removed: list[Triple], added: list[Triple]) -> set[str]:
    """Bring the inferred and premise graphs from the closure before an edit to the closure after it (DRed):
    everything that followed from a removed triple is set aside (over-deleted), what still follows from the
    rest is derived again, and the consequences of the added and re-derived triples are inserted. Each step
    joins through the store's indexes, so the work is that of the edit's consequences, not of the graph. Returns
    the subjects (N-Triples) of the served triples that came or went."""
    asserted, inferred, premises = graphs
    rules = compiled.rules
    schema = set(_terms(compiled.schema_facts))
    is_asserted = lambda triple: ox.Quad(*triple, asserted) in store
    was_derived = lambda triple: triple not in schema and any(
        ox.Quad(*triple, g) in store for g in (inferred, premises))
    # 1. Over-delete, joining with every fact there was (and some that were not: a larger set is only slower).
    before = _Facts(store, graphs, schema)
    for triple in removed:
        before.add(triple)
    gone: set[Triple] = set()
    pending = list(removed)
    while pending:
        for consequence in _consequences(rules, pending.pop(), before):
            if consequence not in gone and was_derived(consequence):
                gone.add(consequence)
                pending.append(consequence)
    # 2. Re-derive what still follows in one step from what is left, 3. and insert what follows from that.
    after = _Facts(store, graphs, schema)
    after.hidden = gone | set(removed)
    pending = [t for t in gone | set(removed) if not is_asserted(t) and _derivable(rules, t, after)]
    for triple in pending:
        after.add(triple)
    pending += added
    while pending:
        for consequence in _consequences(rules, pending.pop(), after):
            if consequence not in after:
                after.add(consequence)
                pending.append(consequence)
    derived = after.extra - schema
    for s, p, o in derived | set(added):  # a functional property with two values: owlrl's sameAs reasoning follows
        if str(p) in rules.functional and len(set(after.objects(s, p))) > 1:
            raise _Uncompiled(f"functional property {p} with two values (owl:sameAs follows)")
    # Write: what no longer follows (or is asserted now) out; what newly follows in, served or kept as premise.
    changed: set[str] = set()

    def put(triple: Triple, graph: ox.NamedNode, present: bool) -> None:
        quad = ox.Quad(*triple, graph)
        if (quad in store) != present:
            (store.add if present else store.remove)(quad)
            if graph == inferred:
                changed.add(str(triple[0]))

    for triple in (gone - derived) | {t for t in added if was_derived(t)}:
        put(triple, inferred, False)
        put(triple, premises, False)
    for triple in derived:
        text = tuple(map(str, triple))
        if not is_trivial_text(*text):
            put(triple, inferred, True)
        elif compiled.is_premise(text):  # type: ignore[arg-type]
            put(triple, premises, True)
    for triple in schema:  # the schema's facts are served unless asserted
        put(triple, inferred, not is_asserted(triple))
    return changed


def _schema(store: ox.Store, graph: ox.NamedNode, individuals: set[str], typed: set[str]) -> Graph:
    """Every triple about a non-individual: a subject typed by an OWL/RDF(S) meta-class, or the subject of an
    OWL or RDFS schema statement, and the blank nodes (lists, class expressions) they reach. (`individuals` and
    `typed` in N-Triples.)"""
    subjects: set = {ox.BlankNode(t[2:]) if t.startswith("_:") else ox.NamedNode(t[1:-1]) for t in typed}
    for predicate in _SCHEMA_PREDICATES:
        subjects.update(s for s, _, _ in _quads(store, graph, predicate))
    stack = [s for s in subjects if str(s) not in individuals]
    seen = set(stack)
    schema = Graph()
    while stack:
        subject = stack.pop()
        for s, p, o in _quads_about(store, graph, subject):
            schema.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
            if isinstance(o, ox.BlankNode) and o not in seen and str(o) not in individuals:
                seen.add(o)
                stack.append(o)
    return schema
