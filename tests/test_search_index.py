"""The search index built off the caller's thread: the service is ready before the `search_index` rows are in
(seconds at a million triples); readers wait for them, and a failure reaches every reader instead of a hang."""

from __future__ import annotations

import threading

import pytest

from kg_service.search import SearchIndex

ROW = {"entity": "https://w3id.org/knee-soreness/knee-synovitis", "label": "knee synovitis", "category": "cause",
       "type": "cause", "provenance": "text", "name": "knee synovitis", "synonym": "false"}


def test_rows_given_by_a_function_in_the_background_are_waited_for() -> None:
    release = threading.Event()

    def rows() -> list[dict[str, str]]:
        release.wait(5)
        return [ROW]

    index = SearchIndex.build(rows, background=True)  # returns at once, before the rows exist
    found: list = []
    reader = threading.Thread(target=lambda: found.append([h.entity for h in index.search("synov", limit=5)]))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive()  # the search waits for the rows
    release.set()
    reader.join(5)
    assert found == [[ROW["entity"]]]
    assert index.entities[ROW["entity"]].label == "knee synovitis" and "cause" in index.kinds


def test_a_failure_to_read_the_rows_reaches_every_reader() -> None:
    def rows() -> list[dict[str, str]]:
        raise ValueError("the store is gone")

    index = SearchIndex.build(rows, background=True)
    for read in (lambda: index.entities, lambda: index.kinds, index.wait, lambda: index.search("synov")):
        with pytest.raises(RuntimeError, match="the store is gone"):
            read()
    with pytest.raises(ValueError):
        SearchIndex.build(rows)  # in the caller's thread: the error itself
    import gc

    with pytest.raises(KeyError):
        SearchIndex.build([{"entity": "urn:x:no-label"}])  # fails while the cyclic collector is paused...
    assert gc.isenabled()  # ...which runs again


def test_rows_as_text_are_the_rows_terms_lexical_forms() -> None:
    """Oxigraph's `select_text` (the search index's fast path, which skips rdflib terms) gives every stored
    SELECT's rows as `select` gives them, each term as its lexical form; its `select_json` (/api/queries/{name})
    gives them in the SPARQL JSON shape exactly as the service's own writer does."""
    from conftest import ROOT

    from kg_service.backends.terms import json_term

    from kg_service.backends.oxigraph import OxigraphBackend
    from kg_service.catalog import Catalog
    from kg_service.graph import load_graph

    catalog, backend = Catalog.load(ROOT / "queries"), OxigraphBackend(load_graph(ROOT / "ontology"))
    as_set = lambda rows: sorted(sorted(row.items()) for row in rows)
    answered = 0
    for query in catalog.queries.values():
        if query.form != "select":
            continue
        params = {p.name: p.example for p in query.params if p.example is not None}
        as_text = catalog.select_text(backend, query.name, params)
        as_terms = catalog.select(backend, query.name, params)
        assert as_set(as_text) == as_set([{k: str(v) for k, v in row.items()} for row in as_terms]), query.name
        # and the SPARQL JSON shape /api/queries/{name} serves, Oxigraph's writer against the service's own
        as_json = backend.select_json(query.text, query.bind(params))
        written = [{k: json_term(v) for k, v in row.items()} for row in as_terms]
        assert as_set([{k: tuple(sorted(v.items())) for k, v in r.items()} for r in as_json]) == \
            as_set([{k: tuple(sorted(v.items())) for k, v in r.items()} for r in written]), query.name
        answered += bool(as_text)
    assert answered > 25 and catalog.select_text(backend, "search_index")


def test_a_deferred_index_is_read_at_start_or_by_its_first_reader() -> None:
    """A starting server defers the rows until its app is built; a reader that comes first starts them itself."""
    calls: list[int] = []

    def rows() -> list[dict[str, str]]:
        calls.append(1)
        return [ROW]

    waiting = SearchIndex.build(rows, background=True, deferred=True)
    assert calls == []  # nothing read yet
    assert [h.entity for h in waiting.search("synov", limit=5)] == [ROW["entity"]] and calls == [1]
    started = SearchIndex.build(rows, background=True, deferred=True)
    started.start()
    started.wait()
    started.start()  # a second start is a no-op
    assert calls == [1, 1] and "cause" in started.kinds


@pytest.fixture(scope="module")
def generated_index(tmp_path_factory) -> SearchIndex:
    """The search rows of the ontology plus a generated graph in its shape (bench/generate.py): copies of every
    name with made-up words, so names share words, prefixes and near spellings as they do at scale."""
    import sys

    from conftest import ROOT

    from kg_service.backends.oxigraph import OxigraphBackend
    from kg_service.catalog import Catalog
    from kg_service.graph import load_graph

    sys.path.insert(0, str(ROOT / "bench"))
    from generate import main as generate

    data = tmp_path_factory.mktemp("generated") / "copies.nt"
    generate(["--triples", "12000", "--seed", "7", "-o", str(data)])
    backend = OxigraphBackend(load_graph(ROOT / "ontology", data_files=[data]))
    return SearchIndex.build(Catalog.load(ROOT / "queries").select_text(backend, "search_index"))


def _typed(rng, name: str) -> str:
    """A query as people type one: a prefix, a word, two words, a letter dropped, swapped or replaced."""
    words = name.split()
    kind = rng.randrange(7)
    if kind == 0:
        return name[: rng.randint(1, len(name))]
    if kind == 1:
        return rng.choice(words)
    if kind == 2:
        return " ".join(rng.sample(words, min(2, len(words))))
    if kind == 3:
        return " ".join(w[: rng.randint(1, len(w))] for w in rng.sample(words, min(2, len(words))))
    i = rng.randrange(len(name))
    if kind == 4:
        return name[:i] + name[i + 1:]
    if kind == 5 and i + 1 < len(name):
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    return name[:i] + rng.choice("aeiourst") + name[i + 1:]


def test_the_indexed_search_ranks_as_scoring_every_name_does(generated_index: SearchIndex) -> None:
    """Each way of matching looks only where a match can be and stops once `limit` are certain: it must give
    the entities and scores, in the order, that scoring every name one by one gives."""
    import random

    rng = random.Random(11)
    names = sorted({entry.name for entry in generated_index.entries})
    kinds = generated_index.kinds
    copy = generated_index.entities["https://w3id.org/knee-soreness/osteoarthritis-g1"].label
    assert copy.startswith("osteoarthritis ") and copy.replace(" ", "").isalpha()  # a copy's name has its own word
    assert len(names) > 1000
    for _ in range(400):
        query = _typed(rng, rng.choice(names))
        types = {rng.choice(kinds)} if rng.random() < 0.2 else None
        limit = rng.choice((1, 3, 10, 10, 50))
        fast = [(h.entity, h.score) for h in generated_index.search(query, types, limit)]
        assert fast == [(h.entity, h.score) for h in generated_index.scan(query, types, limit)], (query, types, limit)


def test_the_search_answer_is_the_response_model_byte_for_byte(generated_index: SearchIndex) -> None:
    """/api/search writes its answer with orjson, not through its pydantic response model: the bytes must be the
    ones the model gives, over names with accents, quotes and every kind of match."""
    import random

    import orjson

    from kg_service.api.models import SearchResponse
    from kg_service.api.search import search_answer

    rng = random.Random(5)
    names = sorted({entry.name for entry in generated_index.entries})
    for query in [_typed(rng, rng.choice(names)) for _ in range(200)] + ["Ménière", 'say "knee"', "osteo\\arthritis"]:
        answer = search_answer(generated_index, query, None, 10)
        model = SearchResponse.model_validate(answer)  # the documented schema holds, score bounds included
        assert orjson.dumps(answer) == model.model_dump_json(by_alias=True).encode(), query


def test_only_a_search_the_route_answers_with_200_is_taken_in_front_of_fastapi() -> None:
    """`SearchFront` answers what FastAPI's route would answer with a 200, read as FastAPI reads it; anything
    else (a missing, long or repeated parameter, a limit FastAPI reads another way, an unknown type) goes to the
    route, which says what is wrong; and nothing while the index is still built (the event loop never waits)."""
    from starlette.requests import Request

    from kg_service.api.search import plain_search

    index = SearchIndex.build([ROW])
    request = lambda qs: Request({"type": "http", "method": "GET", "path": "/api/search",
                                  "query_string": qs.encode(), "headers": []})
    assert plain_search(request("q=synov"), index) == ("synov", None, 10)
    assert plain_search(request("q=knee%20syn&type=cause&limit=3"), index) == ("knee syn", {"cause"}, 3)
    assert plain_search(request("q=" + "x" * 200 + "&limit=100"), index) == ("x" * 200, None, 100)
    for routed in ("", "q=", "q=" + "x" * 201, "q=a&limit=0", "q=a&limit=101", "q=a&limit=05", "q=a&limit=+5",
                   "q=a&limit=five", "q=a&type=", "q=a&type=nope", "q=a&q=b", "q=a&offset=2"):
        assert plain_search(request(routed), index) is None, routed
    release = threading.Event()
    building = SearchIndex.build(lambda: [ROW] if release.wait(5) else [], background=True)
    assert plain_search(request("q=synov"), building) is None
    release.set()
    building.wait()
    assert plain_search(request("q=synov"), building) == ("synov", None, 10)
