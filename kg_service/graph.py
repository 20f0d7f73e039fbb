"""Load `ontology/` (and any extra `--data` RDF) into an asserted graph and an inferred graph, persisted in an
on-disk Oxigraph store under the pair's content version.

Who does what: the Oxigraph CLI (or pyoxigraph) loads the --data files straight into the on-disk store and
pyoxigraph parses the modules into it (about 10x rdflib's parser); the store holds the graphs every process
queries; `kg_service.inference` computes the OWL 2 RL closure (owlrl on the schema, compiled
instance rules on the individuals); rdflib stays the API of validation, export and the rdflib backend
(`parse_asserted`, `LoadedGraph.asserted` / `.inferred`). Nothing here knows HTTP.

A store is built in a temporary directory beside its final place and renamed there only once complete (its
`meta.json` written last), so a build killed half way is never opened: the next start builds again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, XSD

from kg_service.backends.terms import resource_from_ntriples, to_oxigraph, to_rdflib

if TYPE_CHECKING:
    from kg_service.inference import ClosureWritten

KS = Namespace("https://w3id.org/knee-soreness/")
OA = Namespace("http://www.w3.org/ns/oa#")
OBO = Namespace("http://purl.obolibrary.org/obo/")
OBOINOWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")

# The one prefix table: Turtle/RDF-XML bindings and the inline JSON-LD context of every RDF answer and export.
PREFIXES = {"ks": str(KS), "owl": str(OWL), "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD),
            "skos": "http://www.w3.org/2004/02/skos/core#", "dcterms": "http://purl.org/dc/terms/",
            "prov": "http://www.w3.org/ns/prov#", "oa": str(OA), "obo": str(OBO), "oboInOwl": str(OBOINOWL)}

ASSERTED_GRAPH = URIRef(KS["graph/asserted"])
INFERRED_GRAPH = URIRef(KS["graph/inferred"])
PUBLIC_GRAPHS = (ASSERTED_GRAPH, INFERRED_GRAPH)
PUBLIC_GRAPH_IRIS = tuple(str(g) for g in PUBLIC_GRAPHS)

# Turtle is the edited source; RDF/XML (.owl) is read too, e.g. a module a curator saved from Protégé.
MODULE_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".owl": ox.RdfFormat.RDF_XML}
MODULE_SUFFIXES = {".ttl": "turtle", ".owl": "xml"}  # the same, as rdflib format names
# Extra RDF for `kg-service serve --data FILE...`, loaded into the asserted graph.
DATA_FORMATS = {".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS, ".ttl": ox.RdfFormat.TURTLE,
                ".owl": ox.RdfFormat.RDF_XML, ".rdf": ox.RdfFormat.RDF_XML}
SOURCES_DIR = "sources"
SOURCE_TEXT = Path(SOURCES_DIR) / "knee-night-soreness.txt"  # the first article, served at /api/source
SOURCE_DOCUMENT = URIRef(KS["source-article"])
_DECLARES_ONTOLOGY = ("owl:Ontology", str(OWL.Ontology))
META_FILE = "meta.json"  # written last into a store directory: its presence means the build completed
RULES_FILE = "closure-rules.json"  # the compiled rules the store's closure was made with (for a later edit)
_ASSERTED_NODE = ox.NamedNode(str(ASSERTED_GRAPH))
_INFERRED_NODE = ox.NamedNode(str(INFERRED_GRAPH))
# Internal graphs of an on-disk store (never public: every query names its dataset, the public graphs only).
_MODULES_NODE = ox.NamedNode("urn:kg-service:modules")
_SHARED_NODE = ox.NamedNode("urn:kg-service:modules-also-in-data")
# Derived triples the inferred graph leaves out as trivia but a rule reads (see kg_service.inference): kept in
# stores built with --data, whose closure a curator's edit maintains instead of recomputing.
_PREMISES_NODE = ox.NamedNode("urn:kg-service:inference-premises")
_RDF_TYPE = ox.NamedNode(str(RDF.type))

log = logging.getLogger("kg_service.graph")


class OntologyLoadError(Exception):
    """The ontology directory cannot be parsed into a graph (a file is missing or malformed)."""


def is_module(path: Path) -> bool:
    """A knowledge module: a *.ttl / *.owl file of ontology/ that declares an owl:Ontology and is not a SHACL
    shapes file (shapes.ttl, *-shapes.ttl). The rule lets a curator add an article by adding files."""
    if path.suffix not in MODULE_FORMATS or path.name.endswith("shapes.ttl") or not path.is_file():
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    return any(marker in text for marker in _DECLARES_ONTOLOGY)


def ontology_files(ontology_dir: Path) -> list[Path]:
    """Every module of the ontology directory, by name."""
    files = sorted(p for p in Path(ontology_dir).iterdir() if is_module(p)) if Path(ontology_dir).is_dir() else []
    if not files:
        raise OntologyLoadError(f"no ontology module (a .ttl or .owl file declaring an owl:Ontology) in "
                                f"{ontology_dir}")
    return files


def source_files(ontology_dir: Path) -> list[Path]:
    """Every source document's text (ontology/sources/*), the files evidence offsets point into."""
    folder = Path(ontology_dir) / SOURCES_DIR
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def _digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _cached_digest(store_dir: Path, data_files: Sequence[Path]) -> str:
    """The --data files' digest, remembered by (path, size, mtime) in the store directory: a restart does not
    read a million triples just to learn they did not change (an edit changes the size or the mtime)."""
    if not data_files:
        return _digest(data_files)
    key = json.dumps([[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in data_files])
    cache = store_dir.expanduser() / "data-digests.json"
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        known[key] = _digest(data_files)
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(dict(list(known.items())[-32:])))
            os.replace(partial, cache)
    return known[key]


def content_version(ontology_dir: Path, data_files: Sequence[Path] = (), data_digest: str | None = None) -> str:
    """A short hash of every module, source document and --data file, so any edit changes the ETag."""
    ontology = _digest([*ontology_files(ontology_dir), *source_files(ontology_dir)])
    data = data_digest if data_digest is not None else _digest(data_files)
    return hashlib.sha256(f"{ontology} {data}".encode()).hexdigest()[:16] if data_files else ontology[:16]


def parse_asserted(ontology_dir: Path) -> Graph:
    """The modules as one rdflib graph (validation and export); a syntax error names the file and line."""
    graph = Graph()
    for path in ontology_files(ontology_dir):
        try:
            graph.parse(path, format=MODULE_SUFFIXES[path.suffix])
        except Exception as exc:  # rdflib raises several unrelated types for bad Turtle
            raise OntologyLoadError(f"{path.name}: {exc}") from exc
    return graph


def document_texts(ontology_dir: Path, graph: Graph | ox.Store) -> dict[str, str]:
    """Each source document's IRI -> its text: the ks:SourceDocument whose `dcterms:source` names a file
    under ontology/sources/ (e.g. "ontology/sources/knee-night-soreness.txt")."""
    if isinstance(graph, Graph):
        pairs = [(str(s), str(o)) for s in graph.subjects(RDF.type, KS.SourceDocument)
                 for o in graph.objects(s, DCTERMS.source)]
    else:
        documents = [q.subject for q in graph.quads_for_pattern(None, ox.NamedNode(str(RDF.type)),
                                                                ox.NamedNode(str(KS.SourceDocument)), _ASSERTED_NODE)]
        pairs = [(d.value, q.object.value) for d in documents
                 for q in graph.quads_for_pattern(d, ox.NamedNode(str(DCTERMS.source)), None, _ASSERTED_NODE)]
    texts = {}
    for document, name in sorted(pairs):
        path = Path(ontology_dir) / SOURCES_DIR / Path(name.split(f"{SOURCES_DIR}/", 1)[-1]).name
        if path.is_file():
            texts[document] = path.read_text(encoding="utf-8")
    return texts


@dataclass(frozen=True)
class StoreEdit:
    """How a store was made from the one served before it (a curator's edit): that store's directory, and the
    entities (IRIs, blank node ids) whose triples changed, in either public graph. What is derived per entity
    (the search rows) is then derived again for those alone."""

    base: Path
    entities: frozenset[str]


class LoadedGraph:
    """The ontology as the service serves it: the store holding the asserted and inferred graphs, the source
    documents, and the version. `asserted` / `inferred` are rdflib views, built from the store on first use."""

    def __init__(self, store: ox.Store, version: str, ontology_dir: Path, documents: dict[str, str],
                 counts: tuple[int, int], store_path: Path | None = None, data_files: Sequence[Path] = (),
                 edit: StoreEdit | None = None) -> None:
        self.store = store
        self.version = version
        self.ontology_dir = ontology_dir
        self.documents = documents
        self.asserted_count, self.inferred_count = counts
        self.store_path = store_path
        self.data_files = tuple(data_files)
        self.edit = edit
        main = documents.get(str(SOURCE_DOCUMENT))
        self.source_text = main if main is not None else next(iter(documents.values()), "")

    def text_of(self, document: object) -> str:
        """The text a document's evidence offsets count into; the first article's when none is named (a span
        without oa:hasSource), "" for a document whose text is not in ontology/sources/."""
        return self.source_text if document is None else self.documents.get(str(document), "")

    @property
    def triple_count(self) -> int:
        return self.asserted_count + self.inferred_count

    def _rdflib(self, graph: ox.NamedNode) -> Graph:
        view = Graph()
        for quad in self.store.quads_for_pattern(None, None, None, graph):
            view.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return view

    @cached_property
    def asserted(self) -> Graph:
        return self._rdflib(_ASSERTED_NODE)

    @cached_property
    def inferred(self) -> Graph:
        return self._rdflib(_INFERRED_NODE)

    def nquads(self) -> bytes:
        """Both public graphs as N-Quads: the form a remote store is loaded from."""
        quads = (q for g in (_ASSERTED_NODE, _INFERRED_NODE) for q in self.store.quads_for_pattern(None, None, None, g))
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""


# ------------------------------------------------------------------------------------------------ building

def _load_modules(store: ox.Store, ontology_dir: Path, track: bool = False) -> None:
    """The modules into the asserted graph. With `track` (a store that also holds --data), each module triple is
    recorded in an internal graph, and in another when the data holds it too, so that a reload can take the
    old modules out of the asserted graph and keep the data's (see `_swap_modules`)."""
    triples = _module_triples(ontology_dir)
    if track:
        store.extend(ox.Quad(*t, _MODULES_NODE) for t in triples)
        store.extend(ox.Quad(*t, _SHARED_NODE) for t in triples if ox.Quad(*t, _ASSERTED_NODE) in store)
    store.extend(ox.Quad(*t, _ASSERTED_NODE) for t in triples)


Changes = tuple[list[tuple], list[tuple]]  # asserted triples (removed, added)


def _swap_modules(store: ox.Store, ontology_dir: Path) -> Changes:
    """In a copy of a built store: the old modules' triples out of the asserted graph (not those the --data
    files hold too), the new modules' in; returns what the asserted graph lost and gained. The data's parse is
    kept: a curator's edit does not re-read it. The new modules' blank nodes that say what a served one said
    (under the same parent) take its name (`_stable_blank_nodes`), so an unchanged class expression or axiom
    annotation is no change at all, and the closure can be maintained instead of recomputed."""
    old = [(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, _MODULES_NODE)]
    new = _as_stored(_module_triples(ontology_dir))
    pairs = _stable_blank_nodes(old, new)
    new = [tuple(pairs.get(term, term) for term in t) for t in new]
    old_set, new_set = set(old), set(new)
    return _apply_module_diff(store, old_set - new_set, new_set - old_set)


def _apply_module_diff(store: ox.Store, removed: set[tuple], added: set[tuple]) -> Changes:
    """Module triples out and in, the asserted graph keeping what the --data files hold too; returns what the
    asserted graph lost and gained."""
    shared = {(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, _SHARED_NODE)}
    lost, gained = [], []
    for t in removed:
        store.remove(ox.Quad(*t, _MODULES_NODE))
        if t in shared:  # the data holds it too: it stays asserted
            store.remove(ox.Quad(*t, _SHARED_NODE))
        else:
            store.remove(ox.Quad(*t, _ASSERTED_NODE))
            lost.append(t)
    for t in added:
        if ox.Quad(*t, _ASSERTED_NODE) in store:  # not an old module's (those differ): the data's
            store.add(ox.Quad(*t, _SHARED_NODE))
        else:
            store.add(ox.Quad(*t, _ASSERTED_NODE))
            gained.append(t)
        store.add(ox.Quad(*t, _MODULES_NODE))
    return lost, gained


def _data_format(path: Path) -> ox.RdfFormat:
    fmt = DATA_FORMATS.get(path.suffix)
    if fmt is None:
        raise OntologyLoadError(f"{path}: unknown RDF format (use .nt, .nq, .ttl, .owl or .rdf)")
    return fmt


def _load_data(store: ox.Store, data_files: Sequence[Path]) -> None:
    for path in data_files:
        fmt = _data_format(path)
        try:
            if fmt == ox.RdfFormat.N_QUADS:  # every quad joins the asserted graph, whatever graph it names
                store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, _ASSERTED_NODE)
                                  for q in ox.parse(path=path, format=fmt))
            else:
                store.bulk_load(path=path, format=fmt, base_iri=path.resolve().as_uri(), to_graph=_ASSERTED_NODE)
        except (SyntaxError, ValueError, OSError) as exc:
            raise OntologyLoadError(f"{path.name}: {exc}") from exc


def infer_into(store: ox.Store, track: bool = False, changes: Changes | None = None,
               previous: dict | None = None) -> ClosureWritten:
    """Make the inferred graph the closure of the asserted graph. With `track` (a store holding --data, which a
    curator's edit copies), the premises a later maintenance needs are kept; with `changes` since a closure made
    with the rules `previous` (kept in RULES_FILE), that closure is maintained (kg_service.inference.write_closure)."""
    from kg_service.inference import write_closure

    return write_closure(store, _ASSERTED_NODE, _INFERRED_NODE, _PREMISES_NODE if track else None, changes, previous)


def build_store(store: ox.Store, ontology_dir: Path, data_files: Sequence[Path] = ()) -> tuple[int, int]:
    """Parse the data and the modules into the asserted graph and infer; (asserted, inferred) triple counts."""
    _load_data(store, data_files)
    _load_modules(store, ontology_dir, track=bool(data_files))
    return _asserted_count(store), infer_into(store, track=bool(data_files)).inferred


def _asserted_count(store: ox.Store) -> int:
    # Counted by the engine: at a million triples 0.3 s, against 0.9 s to iterate the other graphs in Python.
    answer = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {_ASSERTED_NODE} {{ ?s ?p ?o }} }}")
    return int(next(iter(answer))["n"].value)  # type: ignore[index]


def infer(asserted: Graph) -> Graph:
    """The served closure of an rdflib graph (rdflib in, rdflib out): what `load_graph` stores as inferred."""
    from kg_service.inference import store_closure

    store = ox.Store()
    store.extend(ox.Quad(*map(to_oxigraph, t), _ASSERTED_NODE) for t in asserted)  # type: ignore[misc]
    inferred = Graph()
    for triple in store_closure(store, _ASSERTED_NODE):
        inferred.add(tuple(map(to_rdflib, triple)))  # type: ignore[arg-type]
    return inferred


def store_home(ontology_dir: Path, data_files: Sequence[Path], store_dir: Path) -> Path:
    """The folder of the store versions of one ontology directory (and --data set), as `load_graph` names it."""
    return _store_home(Path(store_dir).expanduser().resolve(), Path(ontology_dir).resolve(),
                       [Path(p).resolve() for p in data_files])


def _store_home(store_dir: Path, ontology_dir: Path, data_files: Sequence[Path]) -> Path:
    """One folder per ontology directory (and --data set): its versions, and builds under way."""
    key = hashlib.sha256("\n".join(str(p) for p in [ontology_dir, *data_files]).encode()).hexdigest()[:12]
    return store_dir / f"{ontology_dir.parent.name}-{ontology_dir.name}-{key}"


def _open_complete(path: Path) -> tuple[ox.Store, dict] | None:
    meta_path = path / META_FILE
    if not meta_path.is_file():
        return None
    try:
        return ox.Store.read_only(str(path)), json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None


def _remove_stale(home: Path, keep: set[str]) -> None:
    """Builds whose process is gone (a kill -9 half way) and versions no longer served."""
    for entry in home.iterdir():
        if entry.name in keep:
            continue
        if entry.name.startswith(".build-"):
            pid = int(entry.name.split("-")[1])
            if _alive(pid):
                continue
        if entry.is_file():
            entry.unlink(missing_ok=True)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a build's process still runs. A build killed with its server is a zombie until something reaps it
    (in a container, PID 1 may never do so): a zombie builds nothing and counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _data_digest(data_files: Sequence[Path], store_dir: Path | None) -> str:
    return _digest(data_files) if store_dir is None else _cached_digest(Path(store_dir), data_files)


def current_version(ontology_dir: Path, data_files: Sequence[Path] = (), store_dir: Path | None = None) -> str:
    """The version `load_graph` would load now, without loading anything (a reload that finds it unchanged)."""
    data_files = [Path(p).resolve() for p in data_files]
    return content_version(Path(ontology_dir).resolve(), data_files, _data_digest(data_files, store_dir))


def load_graph(ontology_dir: Path, data_files: Sequence[Path] = (), store_dir: Path | None = None,
               keep_versions: Sequence[str] = ()) -> LoadedGraph:
    """Read `ontology/` (and `data_files`) and build what the service serves.

    With `store_dir`, the store lives on disk under its version: an unchanged ontology opens the finished store
    read-only in well under a second; a changed one is built beside it and renamed into place when complete.
    Without, the store is in memory (the query CLI, tests and tools that load once)."""
    ontology_dir = Path(ontology_dir).resolve()
    data_files = [Path(p).resolve() for p in data_files]
    for path in data_files:
        if not path.is_file():
            raise OntologyLoadError(f"--data file {path} does not exist")
    data_digest = _data_digest(data_files, store_dir)
    version = content_version(ontology_dir, data_files, data_digest)
    if store_dir is None:
        store = ox.Store()
        counts = build_store(store, ontology_dir, data_files)
        return LoadedGraph(store, version, ontology_dir, document_texts(ontology_dir, store), counts, None,
                           data_files)
    home = _store_home(Path(store_dir).expanduser().resolve(), ontology_dir, data_files)
    home.mkdir(parents=True, exist_ok=True)
    final = home / version
    opened = _open_complete(final)
    if opened is None:
        _build_in_child(home, final, ontology_dir, data_files, data_digest, _reusable(home, data_digest, keep_versions))
        opened = _open_complete(final)
        if opened is None:
            raise OntologyLoadError(f"the store built at {final} cannot be opened")
    _remove_stale(home, {version, *keep_versions})
    store, meta = opened
    edit = None
    if meta.get("from") and meta.get("changed_entities") is not None:
        edit = StoreEdit(home / meta["from"], frozenset(meta["changed_entities"]))
    return LoadedGraph(store, version, ontology_dir, document_texts(ontology_dir, store),
                       (meta["asserted"], meta["inferred"]), final, data_files, edit)


def _reusable(home: Path, data_digest: str, versions: Sequence[str]) -> Path | None:
    """A finished store of the same --data files (the one being served first): a curator's edit of the modules
    then starts from a copy of it instead of parsing the data again."""
    for version in versions:
        meta_path = home / version / META_FILE
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        if meta.get("data") and meta.get("data_digest") == data_digest:
            return home / version
    return None


def _build_in_child(home: Path, final: Path, ontology_dir: Path, data_files: Sequence[Path], data_digest: str,
                    base: Path | None) -> None:
    """`_build_on_disk` in a child process: the build's peak memory (parse buffers, the closure's working sets)
    is returned to the system when it exits instead of staying in the serving process, and the child dies with
    its parent (PR_SET_PDEATHSIG), so a killed server leaves no build running on."""
    import subprocess
    import sys

    job = json.dumps({"home": str(home), "final": str(final), "ontology_dir": str(ontology_dir),
                      "data_files": [str(p) for p in data_files], "data_digest": data_digest,
                      "base": str(base) if base else None})
    result = subprocess.run([sys.executable, "-m", "kg_service.graph", job], stderr=subprocess.PIPE,
                            preexec_fn=_die_with_parent, check=False)
    errors = result.stderr.decode("utf-8", "replace")
    if result.returncode == _LOAD_ERROR_EXIT:
        raise OntologyLoadError(errors.strip().splitlines()[-1])
    if result.returncode != 0:
        raise OntologyLoadError(f"building the store failed (exit {result.returncode}): {errors[-2000:]}")
    if errors.strip():
        log.warning("%s", errors.strip())


_LOAD_ERROR_EXIT = 3


def _libc():
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _libc()  # loaded here, not between fork and exec (a preexec_fn must not take the loader's lock)


def _die_with_parent() -> None:
    if _LIBC is not None:
        _LIBC.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL


def _child_main(job_text: str) -> int:
    import sys

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    job = json.loads(job_text)
    try:
        _build_on_disk(Path(job["home"]), Path(job["final"]), Path(job["ontology_dir"]),
                       [Path(p) for p in job["data_files"]], job["data_digest"],
                       Path(job["base"]) if job["base"] else None)
    except OntologyLoadError as exc:
        print(str(exc).replace("\n", " "), file=sys.stderr)
        return _LOAD_ERROR_EXIT
    return 0


def _oxigraph_cli() -> str | None:
    """The Oxigraph CLI (PyPI `oxigraph`) when it writes stores this pyoxigraph reads (same minor version)."""
    import subprocess

    cli = shutil.which("oxigraph")
    if cli is None:
        return None
    try:
        version = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=30,
                                 check=False).stdout.split()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        return None
    return cli if version.split(".")[:2] == ox.__version__.split(".")[:2] else None


def _data_on_disk(target: Path, data_files: Sequence[Path]) -> ox.Store:
    """A new on-disk store at `target` holding the --data files in its asserted graph, opened for writing.

    The Oxigraph CLI's loader (parallel, 3-4x pyoxigraph's bulk_load here) loads the triple formats when it is
    installed; pyoxigraph loads the rest (N-Quads, whose every quad is moved into the asserted graph) and
    everything when it is not. Whatever loads them, the closure then reads the data from this store, so a blank
    node keeps one name from load to inference."""
    import subprocess

    formats = {path: _data_format(path) for path in data_files}  # every file checked before anything loads
    cli = _oxigraph_cli() if data_files else None
    by_pyoxigraph = []
    for path, fmt in formats.items():
        if cli is None or fmt == ox.RdfFormat.N_QUADS:
            by_pyoxigraph.append(path)
            continue
        loaded = subprocess.run([cli, "load", "--location", str(target), "--file", str(path), "--format",
                                 fmt.media_type, "--base", path.resolve().as_uri(), "--graph", str(ASSERTED_GRAPH)],
                                capture_output=True, text=True, preexec_fn=_die_with_parent, check=False,
                                env={**os.environ, "RUST_BACKTRACE": "0"})
        if loaded.returncode != 0:  # "... Error while loading file /x/y.nt: Parser error at line 1 column 49: ..."
            found = re.search(r"Error while loading file .*?: (.*)", loaded.stderr)
            reason = found.group(1) if found else " ".join(loaded.stderr.split()[-40:])
            raise OntologyLoadError(f"{path.name}: {reason or f'the Oxigraph CLI exited with {loaded.returncode}'}")
    store = ox.Store(str(target))
    _load_data(store, by_pyoxigraph)
    return store


# Annotation properties OWL 2 builds in (the ontology declares its own with owl:AnnotationProperty).
_BUILT_IN_ANNOTATIONS = {str(RDFS.label), str(RDFS.comment), str(RDFS.seeAlso), str(RDFS.isDefinedBy),
                         str(OWL.deprecated), str(OWL.versionInfo), str(OWL.priorVersion),
                         str(OWL.backwardCompatibleWith), str(OWL.incompatibleWith)}


def _module_triples(ontology_dir: Path) -> list[tuple]:
    triples = []
    for path in ontology_files(ontology_dir):
        try:
            for t in ox.parse(path=path, format=MODULE_FORMATS[path.suffix], base_iri=path.resolve().as_uri()):
                triples.append((t.subject, t.predicate, t.object))
        except (SyntaxError, ValueError, OSError) as exc:
            raise OntologyLoadError(f"{path.name}: {exc}") from exc
    return triples


def _blank_names(triples: list[tuple], skip: Callable[[tuple], bool] = lambda t: False) -> dict | None:
    """Each blank node named by a hash of what it says, recursively (the triples `skip` accepts left out), for
    blank nodes that form trees (each the object of at most one triple, no cycle), as OWL's lists, axiom
    annotations and class expressions and the evidence selectors do. None when they do not form trees."""
    said: dict = defaultdict(list)
    referenced: Counter = Counter()
    for t in triples:
        s, p, o = t
        if isinstance(o, ox.BlankNode):
            referenced[o] += 1
        if isinstance(s, ox.BlankNode):
            said[s]  # every subject gets a name, even one whose triples are all skipped
            if not skip(t):
                said[s].append((p, o))
    if any(n > 1 for n in referenced.values()):
        return None
    names: dict = {}
    visiting: set = set()

    def name(node: ox.BlankNode) -> str:
        if node in names:
            return names[node]
        if node in visiting:
            raise RecursionError("a cycle of blank nodes")
        visiting.add(node)
        parts = sorted(f"{p} {name(o) if isinstance(o, ox.BlankNode) else o}" for p, o in said.get(node, ()))
        names[node] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return names[node]

    try:
        for node in [*said, *referenced]:
            name(node)
    except RecursionError:
        return None
    return names


def _paired_blank_nodes(old: list[tuple], new: list[tuple], annotations: set[str]) -> dict | None:
    """The new modules' blank nodes paired with the served store's, so that an edit inside blank nodes (the hedge
    of an axiom annotation) becomes a diff of triples like any other. Paired from the roots down: two blank nodes
    pair when their parents pair (or are the same IRI), under the same predicate, and they say the same once their
    annotation triples are set aside; among several such, those that say exactly the same pair first. None when a
    pairing is missing or ambiguous (the caller then rebuilds)."""
    annotation = lambda t: t[1].value in annotations and not isinstance(t[2], ox.BlankNode)  # noqa: E731
    named = [_blank_names(old), _blank_names(new), _blank_names(old, annotation), _blank_names(new, annotation)]
    if any(n is None for n in named):
        return None
    old_full, new_full, old_reduced, new_reduced = named
    old_parent = {o: (s, p) for s, p, o in old if isinstance(o, ox.BlankNode)}
    new_parent = {o: (s, p) for s, p, o in new if isinstance(o, ox.BlankNode)}
    pairs: dict = {}
    # First the blank nodes no other blank node holds (the roots, and those an IRI points to), then their children.
    old_level = [n for n in old_reduced if not isinstance(old_parent.get(n, (None,))[0], ox.BlankNode)]
    new_level = [n for n in new_reduced if not isinstance(new_parent.get(n, (None,))[0], ox.BlankNode)]
    while old_level or new_level:
        groups: dict = defaultdict(lambda: ([], []))
        for node in old_level:
            groups[(*old_parent.get(node, (None, None)), old_reduced[node])][0].append(node)
        for node in new_level:
            parent, predicate = new_parent.get(node, (None, None))
            if isinstance(parent, ox.BlankNode):
                parent = pairs[parent]  # the level above is paired whole
            groups[(parent, predicate, new_reduced[node])][1].append(node)
        for olds, news in groups.values():
            if len(olds) != len(news):
                return None
            by_full: dict = defaultdict(list)
            for node in olds:
                by_full[old_full[node]].append(node)
            unmatched = []
            for node in news:
                same = by_full.get(new_full[node])
                if same:
                    pairs[node] = same.pop()
                else:
                    unmatched.append(node)
            if len(unmatched) > 1:  # two changed blank nodes alike but for their annotations: which is which?
                return None
            if unmatched:
                pairs[unmatched[0]] = next(n for nodes in by_full.values() for n in nodes)
        old_above, new_above = set(old_level), set(new_level)
        old_level = [o for s, _, o in old if isinstance(o, ox.BlankNode) and s in old_above]
        new_level = [o for s, _, o in new if isinstance(o, ox.BlankNode) and s in new_above]
    return pairs


def _stable_blank_nodes(old: list[tuple], new: list[tuple]) -> dict:
    """The new modules' blank nodes that say exactly what a served one says (recursively), under a parent that is
    the same IRI or a paired blank node and the same predicate, paired with it; the others keep their new names
    (they are what the edit changed). Empty when the blank nodes do not form trees."""
    old_names, new_names = _blank_names(old), _blank_names(new)
    if old_names is None or new_names is None:
        return {}
    old_parent = {o: (s, p) for s, p, o in old if isinstance(o, ox.BlankNode)}
    new_parent = {o: (s, p) for s, p, o in new if isinstance(o, ox.BlankNode)}
    pairs: dict = {}
    old_level = [n for n in old_names if not isinstance(old_parent.get(n, (None,))[0], ox.BlankNode)]
    new_level = [n for n in new_names if not isinstance(new_parent.get(n, (None,))[0], ox.BlankNode)]
    while new_level:
        olds: dict = defaultdict(list)
        for node in old_level:
            olds[(*old_parent.get(node, (None, None)), old_names[node])].append(node)
        for node in new_level:
            parent, predicate = new_parent.get(node, (None, None))
            if isinstance(parent, ox.BlankNode):
                parent = pairs.get(parent)
                if parent is None:  # under a changed blank node: changed too
                    continue
            same = olds.get((parent, predicate, new_names[node]))
            if same:
                pairs[node] = same.pop()
        old_above, new_above = set(old_level), set(new_level)
        old_level = [o for s, _, o in old if isinstance(o, ox.BlankNode) and s in old_above]
        new_level = [o for s, _, o in new if isinstance(o, ox.BlankNode) and s in new_above]
    return pairs


def _as_stored(triples: list[tuple]) -> list[tuple]:
    """The triples as the store gives them back: Oxigraph keeps some literals in a canonical form (an
    xsd:nonNegativeInteger comes back as xsd:integer), so parsed and stored triples compare only after this."""
    store = ox.Store()
    store.extend(ox.Quad(*t, _MODULES_NODE) for t in triples)
    return [(q.subject, q.predicate, q.object) for q in store]


def _edit_in_place(base: Path, building: Path, ontology_dir: Path) -> dict | None:
    """A curator's edit that changes only annotations (labels, definitions, synonyms, comments, evidence text held
    by annotation properties), applied to a hard-linked copy of the served store (`Store.backup`) instead of a
    rebuild: no rule of the closure reads an annotation, so the inferred graph stays what it was, and at a million
    triples a reload takes seconds instead of a parse, a closure and a write of everything.

    Blank nodes are matched to the served store's first (`_paired_blank_nodes`), so an annotation inside them
    (the hedge of an axiom annotation) is edited in place too. Returns the store's counts, or None (nothing
    written) when the edit may change the closure: a triple whose predicate is not an annotation property, or
    one the inferred graph uses, or blank nodes that cannot be paired."""
    served = ox.Store.read_only(str(base))
    old = [(q.subject, q.predicate, q.object) for q in served.quads_for_pattern(None, None, None, _MODULES_NODE)]
    new = _as_stored(_module_triples(ontology_dir))
    annotations = _BUILT_IN_ANNOTATIONS | {q.subject.value for q in served.quads_for_pattern(
        None, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(OWL.AnnotationProperty)), _ASSERTED_NODE)
        if isinstance(q.subject, ox.NamedNode)}
    pairs = _paired_blank_nodes(old, new, annotations)
    if pairs is None:
        return None
    new = [tuple(pairs.get(term, term) for term in t) for t in new]  # in the served store's blank nodes
    old_set, new_set = set(old), set(new)
    removed, added = old_set - new_set, new_set - old_set
    predicates = {t[1] for t in removed | added}
    # One index lookup per changed predicate (listing the inferred graph's predicates read every inferred triple).
    if any(p.value not in annotations or next(served.quads_for_pattern(None, p, None, _INFERRED_NODE), None)
           for p in predicates):
        return None
    meta = json.loads((base / META_FILE).read_text())
    served.backup(str(building))
    del served
    store = ox.Store(str(building))
    lost, gained = _apply_module_diff(store, removed, added)
    changed = _changed_entities(store, [t[0] for t in lost + gained], lost)
    store.flush()
    del store
    return {"asserted": meta["asserted"] - len(lost) + len(gained), "inferred": meta["inferred"],
            "closure": meta.get("closure"), "changed_entities": changed,
            "edited": {"added": len(added), "removed": len(removed)}}


MAX_CHANGED_ENTITIES = 1000  # more, and the search rows are listed again whole (about a second at 1M triples)
_SCHEMA_TYPES = (str(OWL), str(RDFS), str(RDF))


def _changed_entities(store: ox.Store, subjects: Iterable, lost: Iterable[tuple]) -> list[str] | None:
    """The entities (IRI, or blank node id) an edit changed a triple of, in the built store; None when what is
    derived per entity must be derived again whole: a changed subject is a class or property (an entity's kind
    follows the class hierarchy), a blank node with a label (a name the search could list), or there are more
    than MAX_CHANGED_ENTITIES."""
    subjects = set(subjects)
    if len(subjects) > MAX_CHANGED_ENTITIES:
        return None
    lost_types = {(s, o) for s, p, o in lost if p == _RDF_TYPE}
    label = ox.NamedNode(str(RDFS.label))
    for subject in subjects:
        if isinstance(subject, ox.BlankNode):
            if next(store.quads_for_pattern(subject, label, None, _ASSERTED_NODE), None) is not None:
                return None
            continue
        types = {q.object for q in store.quads_for_pattern(subject, _RDF_TYPE, None, _ASSERTED_NODE)}
        types |= {o for s, o in lost_types if s == subject}
        if any(isinstance(t, ox.NamedNode) and t.value.startswith(_SCHEMA_TYPES) and t.value != str(OWL.NamedIndividual)
               for t in types):
            return None
    return sorted(subject.value for subject in subjects)


def _kept_rules(store_path: Path) -> dict | None:
    try:
        return json.loads((store_path / RULES_FILE).read_text())
    except (OSError, ValueError):
        return None


def _finish(building: Path, final: Path, meta: dict) -> None:
    """meta.json last, then the rename that makes the version visible (a store without meta is never opened)."""
    try:
        (building / META_FILE).write_text(json.dumps(meta))
        try:
            os.rename(building, final)
        except OSError:  # another process finished the same version first: use its store
            if not (final / META_FILE).is_file():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _build_on_disk(home: Path, final: Path, ontology_dir: Path, data_files: Sequence[Path], data_digest: str,
                   base: Path | None = None) -> None:
    """Build into `.build-<pid>-<id>` beside `final`, write meta.json last, then rename into place.

    The graphs are put together and closed in the on-disk store itself: the --data files loaded straight into
    it (`_data_on_disk`), or, with `base` (a finished store of the same --data), a hard-linked copy of that
    store whose modules are swapped, so a curator's edit never parses the data again. The closure reads each
    predicate's triples once (`inference._Reads`), so reading them from disk costs it little (1M triples: 9.3 s
    against 8.7 s in memory, bench/results/scale-2026-12-02T1312 and T1012), and the inferred triples are the
    only write after the load."""
    import time

    started = time.perf_counter()
    building = home / f".build-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if base is not None:
        try:
            edited = _edit_in_place(base, building, ontology_dir)
        except Exception:  # noqa: BLE001 - the in-place path is an optimization: rebuild instead
            log.exception("editing a copy of %s in place failed; rebuilding", base.name)
            edited = None
        if edited is not None:
            if (base / RULES_FILE).is_file():  # the closure is the base's: so are its rules
                shutil.copyfile(base / RULES_FILE, building / RULES_FILE)
            meta = {**edited, "ontology_dir": str(ontology_dir), "data": [str(p) for p in data_files],
                    "data_digest": data_digest, "from": base.name, "seconds": round(time.perf_counter() - started, 3)}
            _finish(building, final, meta)
            log.warning("edited a copy of the store of %s in %.1f s: %d annotation triples added, %d removed; the "
                        "closure is unchanged", base.name, time.perf_counter() - started, edited["edited"]["added"],
                        edited["edited"]["removed"])
            return
        shutil.rmtree(building, ignore_errors=True)
    try:
        changes, previous = None, None
        if base is not None:
            ox.Store.read_only(str(base)).backup(str(building))
            store = ox.Store(str(building))
            changes = _swap_modules(store, ontology_dir)
            previous = _kept_rules(base)
        else:
            store = _data_on_disk(building, data_files)
            _load_modules(store, ontology_dir, track=bool(data_files))
        loaded_at = time.perf_counter()
        closure = infer_into(store, track=bool(data_files), changes=changes, previous=previous)
        inferred = closure.inferred
        inferred_at = time.perf_counter()
        changed = None
        if changes is not None:
            subjects = [t[0] for t in changes[0] + changes[1]] + [resource_from_ntriples(s) for s in closure.changed]
            changed = _changed_entities(store, subjects, changes[0])
        if changes is not None:  # the copy's count, less what it lost, plus what it gained (no COUNT over every triple)
            asserted = json.loads((base / META_FILE).read_text())["asserted"] - len(changes[0]) + len(changes[1])
        else:
            asserted = _asserted_count(store)
        counted_at = time.perf_counter()
        store.flush()
        del store
        if closure.rules is not None:
            (building / RULES_FILE).write_text(json.dumps(closure.rules))
        meta = {"asserted": asserted, "inferred": inferred, "closure": closure.digest,
                "closure_maintained": closure.maintained, "changed_entities": changed, "ontology_dir": str(ontology_dir),
                "data": [str(p) for p in data_files], "data_digest": data_digest,
                "from": base.name if base is not None else None, "seconds": round(time.perf_counter() - started, 3),
                "load_seconds": round(loaded_at - started, 3), "closure_seconds": round(inferred_at - loaded_at, 3),
                "count_seconds": round(counted_at - inferred_at, 3),
                "write_seconds": round(time.perf_counter() - counted_at, 3)}
        _finish(building, final, meta)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    log.warning("built the store of %s in %.1f s%s (closure %s %.1f s): %d asserted + %d inferred triples",
                final.name, time.perf_counter() - started, f" from the store of {base.name}" if base else "",
                "maintained" if closure.maintained else "computed", inferred_at - loaded_at, asserted, inferred)


if __name__ == "__main__":  # the store build's child process (see _build_in_child)
    import sys

    sys.exit(_child_main(sys.argv[1]))
