"""A search index over labels and synonyms, built once per graph version from a stored query.

It finds what people type: any case, partial words ("synov"), word forms ("meniscus" for "meniscal")
and small typos ("osteoartritis"), best match first.

At a million triples there are over a hundred thousand names, too many to score one by one per request. So
each way of matching has an index that yields every name that could match that way (exact names, word
prefixes and stem prefixes through a sorted vocabulary, substrings through character trigrams, typos through
rapidfuzz over the distinct words and over the names of about the query's length), and the ways are tried
best first: each name's score is the same as a full scan would give, so the answers are the same, and a
search stops as soon as `limit` entities are found in better ways than anything left could give.
"""

from __future__ import annotations

import bisect
import gc
import heapq
import logging
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain

from rapidfuzz import fuzz, process

from kg_service.backends.base import Row

log = logging.getLogger("kg_service.search")

_NON_WORD = re.compile(r"[^a-z0-9]+")
# Endings folded so that word forms meet: meniscus/meniscal, oedema/edema handled by synonyms.
_SUFFIXES = ("ations", "ation", "ities", "ity", "ness", "ing", "ous", "ies", "ial", "al", "us", "es", "ic",
             "ed", "s", "y", "e")

# Scores for each way a query can match a name; the best one wins per entity.
EXACT, EXACT_SYNONYM, WORD_PREFIX, STEM, SUBSTRING = 1.0, 0.95, 0.9, 0.85, 0.75
FUZZY_FLOOR = 80  # rapidfuzz similarity (0-100) below which a typo match is not a match
FUZZY_WEIGHT = 0.7
PRIMARY_CATEGORIES = {"cause", "symptom", "intervention", "mechanism"}
SECONDARY_PENALTY = 0.02


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _NON_WORD.sub(" ", folded).strip()


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class EntityInfo:
    """What the service knows of an entity without a query: its label, kind, category and provenance."""

    iri: str
    label: str
    type: str
    category: str
    provenance: str | None = None  # "text" or "curated"


@dataclass(frozen=True, slots=True)
class Entry:
    """One searchable name of an entity."""

    entity: str
    label: str
    category: str
    type: str
    provenance: str | None
    name: str
    is_synonym: bool
    normalized: str
    words: tuple[str, ...]
    stems: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    entity: str
    score: float
    matched: str


def _trigrams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(len(text) - 2)}


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """While an index is built: a million small objects that live as long as it does, with no cycle among them,
    which the cyclic collector would otherwise walk again and again as they are made. Reference counting still
    frees whatever is dropped meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _entries(rows: list[dict[str, str]]) -> list[Entry]:
    """Rows of plain strings (`SearchIndex._load` converts any other) as entries."""
    entries = []
    append = entries.append
    stems: dict[str, str] = {}  # a vocabulary is small next to its names: stem each word once
    for row in rows:
        name = row["name"]
        norm = normalize(name)
        words = tuple(norm.split())
        for word in words:
            if word not in stems:
                stems[word] = stem(word)
        append(Entry(row["entity"], row["label"], row["category"], row["type"], row.get("provenance"), name,
                     row.get("synonym", "false") == "true", norm, words, tuple([stems[w] for w in words])))
    return entries


class SearchIndex:
    """Entities by IRI (labels, kinds: ready at once) and the name index behind `search` (built in a background
    thread when asked: a few seconds at a million triples, which a restart need not wait for)."""

    def __init__(self, rows: Iterable[Row] | Callable[[], Iterable[Row]], background: bool = False,
                 deferred: bool = False) -> None:
        """`rows`, or a function that gives them (with `background`, called off the caller's thread: at a million
        triples the `search_index` query takes seconds, and the service is ready before it ends). `deferred`: the
        thread starts at `start()` or at the first reader, whichever comes first (a starting server defers it
        until its app is built: the index's Python work would otherwise hold the GIL against the start-up)."""
        self._loaded = threading.Event()  # entities and kinds are known
        self._indexed = threading.Event()  # the name index is built
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        if background:
            self._thread = threading.Thread(target=self._load, args=(rows,), name="search-index", daemon=True)
            if not deferred:
                self.start()
        else:
            self._load(rows)
            if self._failure is not None:
                raise self._failure

    def _load(self, rows: Iterable[Row] | Callable[[], Iterable[Row]]) -> None:
        try:
            found = list(rows() if callable(rows) else rows)
            with _cyclic_gc_paused():
                if found and not all(isinstance(v, str) for v in found[0].values()):
                    found = [{k: str(v) for k, v in row.items()} for row in found]
                self._entities = {r["entity"]: EntityInfo(r["entity"], r["label"], r["type"], r["category"],
                                                          r.get("provenance")) for r in found}
                # Every category and kind slug, the values the `type` filter accepts.
                self._kinds = sorted({r["category"] for r in found} | {r["type"] for r in found})
                self._loaded.set()
                self._index_names(found)
        except BaseException as exc:  # kept and raised to every reader: never a reader left waiting
            self._failure = exc
            log.exception("building the search index failed")
        finally:
            self._loaded.set()
            self._indexed.set()

    def start(self) -> None:
        """Start reading the rows in the background, if that is still to be done."""
        with self._start_lock:
            if self._thread is not None and self._thread.ident is None:
                self._thread.start()

    def _ready(self, event: threading.Event) -> None:
        self.start()  # a reader never waits for a thread nobody started
        event.wait()
        if self._failure is not None:
            raise RuntimeError(f"the search index could not be built: {self._failure}") from self._failure

    @property
    def entities(self) -> dict[str, EntityInfo]:
        self._ready(self._loaded)
        return self._entities

    @property
    def kinds(self) -> list[str]:
        self._ready(self._loaded)
        return self._kinds

    @property
    def indexed(self) -> bool:
        """The name index is built and a search runs at once (no wait, no error)."""
        return self._indexed.is_set() and self._failure is None

    def wait(self) -> None:
        """Until the name index is built (at once unless it was built in the background)."""
        self._ready(self._indexed)

    def _index_names(self, rows: list[dict[str, str]]) -> None:
        self.entries = _entries(rows)
        # Entries in the order of their final rank within one way of matching (score, then entity label):
        # a posting list in that order lets a search stop after the first `limit` entities.
        entities = self._entities  # set by `_load` before this runs (the property would wait on an event per entry)
        rank = [(self._penalty(e), entities[e.entity].label, e.entity) for e in self.entries]
        order = sorted(range(len(self.entries)), key=rank.__getitem__)
        self._order = order
        self._position = {i: n for n, i in enumerate(order)}
        by_name: dict[str, list[int]] = defaultdict(list)
        by_word: dict[str, list[int]] = defaultdict(list)
        by_stem: dict[str, list[int]] = defaultdict(list)
        by_trigram: dict[str, list[int]] = defaultdict(list)
        entries = self.entries
        for i in order:
            entry = entries[i]
            norm = entry.normalized
            by_name[norm].append(i)
            for word in set(entry.words):  # each posting list stays in rank order: one append per entry
                by_word[word].append(i)
            for word_stem in set(entry.stems):
                by_stem[word_stem].append(i)
            for gram in _trigrams(norm):
                by_trigram[gram].append(i)
        self._by_name, self._by_word, self._by_stem, self._by_trigram = by_name, by_word, by_stem, by_trigram
        self._words, self._stems = sorted(by_word), sorted(by_stem)
        self._long_words = [w for w in self._words if len(w) >= 4]
        self._names_by_length: dict[int, list[str]] = defaultdict(list)
        for name in by_name:
            self._names_by_length[len(name)].append(name)

    @staticmethod
    def _penalty(entry: Entry) -> float:
        """What the rank loses for a secondary category and a longer name (the same within one way)."""
        secondary = SECONDARY_PENALTY if entry.category not in PRIMARY_CATEGORIES else 0.0
        return round(secondary + min(len(entry.normalized), 200) / 100_000, 5)

    def _merged(self, postings: list[list[int]]) -> Iterator[int]:
        """Entry indices of several posting lists, in rank order, each once."""
        last = -1
        for i in heapq.merge(*postings, key=self._position.__getitem__):
            if i != last:
                last = i
                yield i

    def _with_prefix(self, vocabulary: list[str], table: dict[str, list[int]], prefix: str) -> list[list[int]]:
        start = bisect.bisect_left(vocabulary, prefix)
        lists = []
        for word in vocabulary[start:]:
            if not word.startswith(prefix):
                break
            lists.append(table[word])
        return lists

    def _prefixed(self, vocabulary: list[str], table: dict[str, list[int]], prefixes: list[str]) -> Iterable[int]:
        """Entries with a word starting with each of `prefixes`, in rank order. For several, the intersection of
        each one's entries: two common words would otherwise walk every entry of the rarer one, one by one."""
        per_prefix = sorted((self._with_prefix(vocabulary, table, p) for p in dict.fromkeys(prefixes)),
                            key=lambda lists: sum(map(len, lists)))
        if len(per_prefix) == 1:
            return self._merged(per_prefix[0])
        common = set(chain.from_iterable(per_prefix[0]))
        for lists in per_prefix[1:]:
            if not common:
                break
            common.intersection_update(chain.from_iterable(lists))
        return sorted(common, key=self._position.__getitem__)

    def _fuzzy(self, query: str, query_words: list[str]) -> list[int]:
        """Entries spelled nearly like the query (the whole name, or for a one-word query any word of it), in the
        order of their final rank, so that `search` stops after `limit` entities as in the other ways."""
        similarity: dict[int, float] = {}

        def keep(entries: list[int], score: float) -> None:
            for i in entries:
                if similarity.get(i, 0.0) < score:
                    similarity[i] = score

        # Similarity >= FUZZY_FLOOR needs a length within [2/3, 3/2] of the query's (Indel distance).
        low, high = (len(query) * 2 + 2) // 3, (len(query) * 3) // 2
        for length in range(low, high + 1):
            names = self._names_by_length.get(length)
            if names:
                for name, score, _ in process.extract(query, names, scorer=fuzz.ratio, score_cutoff=FUZZY_FLOOR,
                                                      limit=None):
                    keep(self._by_name[name], score)
        if len(query_words) == 1 and len(query) >= 4:
            for word, score, _ in process.extract(query, self._long_words, scorer=fuzz.ratio,
                                                  score_cutoff=FUZZY_FLOOR, limit=None):
                keep(self._by_word[word], score)
        entries = self.entries
        return sorted(similarity, key=lambda i: self._rank(self._hit(FUZZY_WEIGHT * similarity[i] / 100, entries[i])))

    def _candidates(self, query: str, query_words: list[str],
                    query_stems: list[str]) -> Iterator[tuple[float, Iterable[int]]]:
        """(best score this way can give, entries that may match this way), best way first. Each way yields
        every entry that matches it (and maybe others, which `search` skips), so none is missed."""
        yield EXACT, self._by_name.get(query, ())
        yield WORD_PREFIX, self._prefixed(self._words, self._by_word, query_words)
        yield STEM, self._prefixed(self._stems, self._by_stem, query_stems)
        grams = _trigrams(query)
        if grams:
            lists = sorted((self._by_trigram.get(g, []) for g in grams), key=len)
            common = set(lists[0]).intersection(*lists[1:]) if lists[0] else set()
            yield SUBSTRING, sorted(common, key=self._position.__getitem__)
        else:  # one or two letters: a substring of a name only through a word of it (or a scan of the few names)
            yield SUBSTRING, (i for i in self._order if query in self.entries[i].normalized)
        yield FUZZY_WEIGHT, self._fuzzy(query, query_words)

    @classmethod
    def build(cls, rows: Iterable[Row] | Callable[[], Iterable[Row]], background: bool = False,
              deferred: bool = False) -> SearchIndex:
        """Rows of the `search_index` stored query: ?entity ?label ?category ?type ?provenance ?name ?synonym."""
        return cls(rows, background, deferred)



    @staticmethod
    def _score(query: str, query_words: list[str], query_stems: list[str], entry: Entry) -> float:
        if query == entry.normalized:
            return EXACT_SYNONYM if entry.is_synonym else EXACT
        if all(any(w.startswith(q) for w in entry.words) for q in query_words):
            return WORD_PREFIX
        if all(any(s == q or s.startswith(q) for s in entry.stems) for q in query_stems):
            return STEM
        if query in entry.normalized:
            return SUBSTRING
        # Typos: the whole name, or (for a one-word query) any single word of it, nearly spelled alike.
        similarity = fuzz.ratio(query, entry.normalized)
        if len(query_words) == 1 and len(query) >= 4:
            similarity = max([similarity, *(fuzz.ratio(query, w) for w in entry.words if len(w) >= 4)])
        if similarity >= FUZZY_FLOOR:
            return FUZZY_WEIGHT * similarity / 100
        return 0.0

    @staticmethod
    def _hit(score: float, entry: Entry) -> Hit:
        """The ranked hit of an entry that matched with `score`."""
        # Ties go to what people search for (causes, interventions...), then to the shorter name.
        if entry.category not in PRIMARY_CATEGORIES:
            score -= SECONDARY_PENALTY
        score = round(score - min(len(entry.normalized), 200) / 100_000, 5)
        return Hit(entry.entity, score, entry.name)

    def search(self, text: str, types: set[str] | None = None, limit: int = 10) -> list[Hit]:
        """Best hits first; `types` keeps entities whose category or kind is one of them."""
        query = normalize(text)
        if not query:
            return []
        self._ready(self._indexed)
        query_words = query.split()
        query_stems = [stem(q) for q in query_words]
        best: dict[str, Hit] = {}
        for way, candidates in self._candidates(query, query_words, query_stems):
            # Entities already found in a better way keep their place; stop once `limit` are certain.
            if len(best) >= limit and min(h.score for h in best.values()) > way:
                break
            settled = len(best)
            for i in candidates:
                entry = self.entries[i]
                if types and entry.category not in types and entry.type not in types:
                    continue
                raw = self._score(query, query_words, query_stems, entry)
                same_way = raw == way or (way == EXACT and raw == EXACT_SYNONYM) or (way == FUZZY_WEIGHT and 0 < raw <= way)
                if not same_way:
                    continue  # it matches another way (or none): that way's candidates include it
                hit = self._hit(raw, entry)
                current = best.get(entry.entity)
                if current is None or hit.score > current.score:
                    best[entry.entity] = hit
                # Within one way the candidates come in rank order: the rest rank lower.
                if way != EXACT and len(best) - settled >= limit:
                    break
        return sorted(best.values(), key=self._rank)[:limit]

    def _rank(self, hit: Hit) -> tuple[float, str, str]:
        """The order of hits (called once the index is built): best score, then label, then IRI."""
        return -hit.score, self._entities[hit.entity].label, hit.entity

    def scan(self, text: str, types: set[str] | None = None, limit: int = 10) -> list[Hit]:
        """The same search by scoring every name (the reference the indexed search is tested against)."""
        query = normalize(text)
        if not query:
            return []
        self._ready(self._indexed)
        query_words = query.split()
        query_stems = [stem(q) for q in query_words]
        best: dict[str, Hit] = {}
        for entry in self.entries:
            if types and entry.category not in types and entry.type not in types:
                continue
            raw = self._score(query, query_words, query_stems, entry)
            if raw <= 0:
                continue
            hit, current = self._hit(raw, entry), best.get(entry.entity)
            if current is None or hit.score > current.score:
                best[entry.entity] = hit
        return sorted(best.values(), key=self._rank)[:limit]
