"""Seeded graphs in the ontology's own shape, for measuring load, closure, search and queries at scale.

The template is every individual the knowledge module(s) of `ontology/` declare (causes, mechanisms,
symptoms, interventions, recommendations, evidence with its blank-node selectors, mappings) together with
every triple about it; each copy renames those individuals (`ks:osteoarthritis` -> `ks:osteoarthritis-g17`)
and their blank nodes, and appends a seeded made-up word to their labels and synonyms so that search sees a
vocabulary, not one name repeated. Schema terms, external mapping IRIs and source documents (with their
text) are shared, so every evidence span of every copy still points at a real document and its offsets
still hold. Copies are written until N triples; the last copy is cut at N.

    python bench/generate.py --triples 1000000 --seed 1 -o /tmp/kg-1m.nt
    kg-service serve --data /tmp/kg-1m.nt           # the service: ontology/ plus the generated data
    oxigraph load --location /tmp/ox --file /tmp/kg-1m.nt   # the Oxigraph CLI on the same data

The output holds only the copies (N-Triples, one per line), not the ontology itself; `--with-ontology`
prepends the asserted modules of `ontology/` so a peer loading one file gets what the service serves.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kg_service.backends.terms import to_oxigraph
from kg_service.graph import KS, parse_asserted

SUFFIX = "\x00"  # where a copy's "-g17" goes in a template line
WORD = "\ue000"  # where a copy's made-up word goes inside a name literal (a private-use letter: N-Triples
# writes it as it is, where it would escape a control character and the marker would never be replaced)
NAME_PREDICATES = {RDFS.label, URIRef("http://www.geneontology.org/formats/oboInOwl#hasExactSynonym"),
                   URIRef("http://www.geneontology.org/formats/oboInOwl#hasRelatedSynonym")}
SOURCE_DOCUMENT = KS["SourceDocument"]
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "be", "do", "fu", "gra", "pe", "sa", "ti", "ul"]


def template(ontology_dir: Path) -> list[str]:
    """The knowledge individuals' triples as N-Triples lines with SUFFIX / WORD markers."""
    graph = parse_asserted(ontology_dir)
    individuals = {s for s in graph.subjects(RDF.type, OWL.NamedIndividual)
                   if isinstance(s, URIRef) and str(s).startswith(str(KS))
                   and (s, RDF.type, SOURCE_DOCUMENT) not in graph}
    def signature(node) -> tuple:
        """What a blank node says, its own blank nodes left out: orders siblings the same in every parse."""
        return tuple(sorted((str(p), str(o)) for p, o in graph.predicate_objects(node) if not isinstance(o, BNode)))

    def ordered(subject) -> list:
        return sorted(graph.predicate_objects(subject),
                      key=lambda po: (str(po[0]), signature(po[1]) if isinstance(po[1], BNode) else (str(po[1]),)))

    # Blank nodes hanging off an individual (evidence targets and selectors) are copied with it, named in the
    # order they are reached from the sorted individuals, so the same ontology gives the same file.
    subjects: list = sorted(individuals)
    labels: dict = {}
    index = 0
    while index < len(subjects):
        for _, obj in ordered(subjects[index]):
            if isinstance(obj, BNode) and obj not in labels:
                labels[obj] = f"b{len(labels)}"
                subjects.append(obj)
        index += 1

    def term(node, name: bool = False) -> str:
        if isinstance(node, BNode):
            return f"_:{labels[node]}{SUFFIX}"
        if node in individuals:
            return f"<{node}{SUFFIX}>"
        if name and isinstance(node, Literal):
            node = Literal(f"{node}{WORD}", lang=node.language, datatype=node.datatype)
        return str(to_oxigraph(node))  # N-Triples syntax: one line, escaped

    lines = []
    for subject in subjects:
        for predicate, obj in ordered(subject):
            lines.append(f"{term(subject)} {term(predicate)} {term(obj, predicate in NAME_PREDICATES)} .\n")
    return lines


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def generate(ontology_dir: Path, triples: int, seed: int) -> Iterator[str]:
    """N-Triples lines: copies 1, 2, ... of the template until `triples` lines."""
    lines = template(ontology_dir)
    rng = random.Random(seed)
    written, copy = 0, 0
    while written < triples:
        copy += 1
        suffix, word = f"-g{copy}", " " + made_up_word(rng)
        for line in lines[: triples - written]:
            yield line.replace(SUFFIX, suffix).replace(WORD, word)
        written += min(len(lines), triples - written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, required=True, help="how many triples to write")
    parser.add_argument("--seed", type=int, default=1, help="seed of the made-up words (same seed, same file)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the N-Triples file to write")
    parser.add_argument("--ontology", type=Path, default=ROOT / "ontology", help="the ontology to replicate")
    parser.add_argument("--with-ontology", action="store_true",
                        help="prepend the asserted modules of --ontology (for a peer that loads one file)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with open(args.output, "w", encoding="utf-8") as out:
        if args.with_ontology:
            out.write(parse_asserted(args.ontology).serialize(format="nt"))
        out.writelines(generate(args.ontology, args.triples, args.seed))
    print(f"wrote {args.triples} generated triples to {args.output} in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
