"""The on-disk store: kept under its content version, reopened (not rebuilt) on an unchanged ontology, rebuilt
on a changed one, never served half built (a build killed with SIGKILL is redone at the next start), and a
curator's edit with --data reuses the data's parse."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port, start_server, stop_server

from kg_service.backends import create_backend
from kg_service.catalog import Catalog
from kg_service.graph import META_FILE, OntologyLoadError, load_graph
from kg_service.settings import Settings
from kg_service.state import search_rows

sys.path.insert(0, str(ROOT / "bench"))
from generate import main as generate


def _copy_ontology(tmp_path: Path) -> Path:
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    return ontology


def _versions(store: Path) -> dict[str, Path]:
    return {p.name: p for p in store.glob("*/*") if (p / META_FILE).is_file()}


def _relabel(ontology: Path, old: str, new: str) -> None:
    knowledge = ontology / "ks-knowledge.ttl"
    text = knowledge.read_text(encoding="utf-8")
    assert old in text
    knowledge.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_unchanged_ontology_reopens_its_store_and_a_changed_one_rebuilds(tmp_path: Path) -> None:
    ontology, store = _copy_ontology(tmp_path), tmp_path / "store"
    first = load_graph(ontology, store_dir=store)
    built_at = (first.store_path / META_FILE).stat().st_mtime_ns
    again = load_graph(ontology, store_dir=store)
    assert again.store_path == first.store_path and (again.store_path / META_FILE).stat().st_mtime_ns == built_at
    assert (again.asserted_count, again.inferred_count) == (first.asserted_count, first.inferred_count)
    assert _shape(again.inferred) == _shape(load_graph(ontology).inferred)  # the closure of a fresh load

    _relabel(ontology, 'rdfs:label "massage"@en', 'rdfs:label "therapeutic massage"@en')
    changed = load_graph(ontology, store_dir=store, keep_versions=[first.version])
    assert changed.version != first.version and set(_versions(store)) == {first.version, changed.version}
    labels = {str(o) for s, p, o in changed.asserted if str(s).endswith("/massage") and str(p).endswith("#label")}
    assert labels == {"therapeutic massage"}
    load_graph(ontology, store_dir=store)  # the old version is no longer kept: removed
    assert set(_versions(store)) == {changed.version}


def test_an_edit_with_data_starts_from_the_served_store_and_gives_the_same_graph(tmp_path: Path) -> None:
    ontology, store = _copy_ontology(tmp_path), tmp_path / "store"
    data = tmp_path / "copies.nt"
    generate(["--triples", "3000", "--seed", "2", "-o", str(data)])
    served = load_graph(ontology, [data], store_dir=store)
    catalog = Catalog.load(ROOT / "queries")
    search_rows(catalog, create_backend(Settings(), served), served)  # listed whole, kept beside the store
    # An annotation changes no inferred triple: the served store's copy is edited in place, also inside blank nodes
    # (the hedge of an axiom annotation, matched to the served store's blank node). What an axiom annotation is
    # about, or a new type, may change the closure: the store is rebuilt from the data's parse, and its closure
    # maintained (only the edit's consequences computed: the rules are the same).
    edits = [('rdfs:label "acupuncture"@en', 'rdfs:label "needle acupuncture"@en', {"added": 1, "removed": 1}),
             ('ks:hedge "may be caused by" .', 'ks:hedge "can be caused by" .', {"added": 1, "removed": 1}),
             (' ;\n    ks:hedge "can be caused by" .', ' .', {"added": 0, "removed": 1}),
             ('owl:annotatedSource ks:cold-exposure ;', 'owl:annotatedSource ks:muscle-fatigue ;', None),
             ('rdfs:label "needle acupuncture"@en', 'rdfs:label "needle acupuncture"@en ; a ks:Extra', None),
             # the inferred graph of the served copy is updated, not rewritten: what no longer follows goes
             ("    ks:has_drug_class ks:nsaid ;\n", "    ks:has_drug_class ks:viscosupplement ;\n", None)]
    for old, new, in_place in edits:
        _relabel(ontology, old, new)
        edited = load_graph(ontology, [data], store_dir=store, keep_versions=[served.version])
        meta = json.loads((edited.store_path / META_FILE).read_text())
        assert meta["from"] == served.version and meta.get("edited") == in_place, (new, meta)
        assert in_place or meta["closure_maintained"], (new, meta)
        fresh = load_graph(ontology, [data])  # parsed and inferred from scratch, in memory
        assert (edited.asserted_count, edited.inferred_count) == (fresh.asserted_count, fresh.inferred_count), new
        for graph in ("asserted", "inferred"):
            assert _shape(getattr(edited, graph)) == _shape(getattr(fresh, graph)), (new, graph)
        # The search rows: the served store's, with those of the entities the edit changed asked again.
        assert edited.edit is not None and edited.edit.base == served.store_path and edited.edit.entities, new
        backend = create_backend(Settings(), edited)
        row = lambda r: tuple(sorted(r.items()))  # noqa: E731
        assert sorted(map(row, search_rows(catalog, backend, edited))) == sorted(
            map(row, catalog.select_text(backend, "search_index"))), new
        served = edited


def _shape(graph) -> tuple:
    """The ground triples, and the blank-node ones with each blank node blanked out (isomorphism checking is
    too slow on thousands of axiom-annotation blank nodes)."""
    from collections import Counter

    from rdflib import BNode

    ground = {t for t in graph if not any(isinstance(x, BNode) for x in t)}
    blanked = Counter(tuple("_" if isinstance(x, BNode) else x for x in t) for t in graph) - Counter(ground)
    return ground, blanked


def test_a_build_killed_half_way_is_never_served_and_the_next_start_rebuilds(tmp_path: Path) -> None:
    store, data = tmp_path / "store", tmp_path / "copies.nt"
    generate(["--triples", "10000", "--seed", "4", "-o", str(data)])
    expected = load_graph(ROOT / "ontology", [data])
    args = ["--data", str(data), "--store-dir", str(store)]
    port = free_port()
    with open(tmp_path / "killed.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "kg_service.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port), *args], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not list(store.glob("*/.build-*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)  # mid-build: the store directory exists, its build is not finished
    process.wait(timeout=10)
    half = list(store.glob("*/.build-*"))
    assert half and not _versions(store), "the build was not caught half way"
    running = start_server(tmp_path, *args)
    try:
        with running.client() as client:
            ready = client.get("/readyz").json()
            assert (ready["asserted_triples"], ready["inferred_triples"]) == (expected.asserted_count,
                                                                              expected.inferred_count)
            assert client.get("/api/causes/osteoarthritis-g3/interventions").json()["total"] > 0
        assert not any(p.exists() for p in half)  # the dead build's leftovers are removed
        assert list(_versions(store)) == [expected.version]
    finally:
        stop_server(running)
    # And a restart on the unchanged ontology opens that store as it is.
    built_at = (_versions(store)[expected.version] / META_FILE).stat().st_mtime_ns
    running = start_server(tmp_path, *args)
    try:
        assert httpx.get(running.url + "/readyz").json()["version"] == expected.version
        assert (_versions(store)[expected.version] / META_FILE).stat().st_mtime_ns == built_at
    finally:
        stop_server(running)
    assert os.listdir(store)


def test_data_in_every_format_is_built_on_disk_as_in_memory_and_a_bad_file_is_named(tmp_path: Path) -> None:
    """--data is loaded straight into the on-disk store (the Oxigraph CLI for triple formats, pyoxigraph for
    N-Quads): the same graphs, blank nodes included, as the in-memory build, and a syntax error names its file."""
    turtle, nquads = tmp_path / "extra.ttl", tmp_path / "extra.nq"
    turtle.write_text('@prefix ks: <https://w3id.org/knee-soreness/> .\n@prefix oa: <http://www.w3.org/ns/oa#> .\n'
                      'ks:extra-note a ks:Extra ; oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "night" ] .\n'
                      '<relative-note> a ks:Extra .\n', encoding="utf-8")
    nquads.write_text('<https://w3id.org/knee-soreness/quad-note> <http://www.w3.org/2000/01/rdf-schema#label> '
                      '"a quad" <https://example.org/any-graph> .\n_:b <https://w3id.org/knee-soreness/x> _:b .\n',
                      encoding="utf-8")
    data = [turtle, nquads]
    on_disk, in_memory = load_graph(ROOT / "ontology", data, store_dir=tmp_path / "store"), load_graph(ROOT / "ontology", data)
    assert (on_disk.asserted_count, on_disk.inferred_count) == (in_memory.asserted_count, in_memory.inferred_count)
    for graph in ("asserted", "inferred"):
        assert _shape(getattr(on_disk, graph)) == _shape(getattr(in_memory, graph)), graph
    subjects = {str(s) for s in on_disk.asserted.subjects()}
    assert turtle.parent.joinpath("relative-note").as_uri() in subjects  # resolved against the file, as in memory
    assert "https://w3id.org/knee-soreness/quad-note" in subjects  # a quad's graph name is not kept

    broken = tmp_path / "broken.nt"
    broken.write_text("<https://example.org/a> <https://example.org/b> .\n", encoding="utf-8")
    with pytest.raises(OntologyLoadError, match=r"^broken.nt: Parser error at line 1 "):
        load_graph(ROOT / "ontology", [broken], store_dir=tmp_path / "store2")
    assert not _versions(tmp_path / "store2") and not list((tmp_path / "store2").glob("*/.build-*"))
