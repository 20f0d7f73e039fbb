"""A search index over labels and synonyms, built once per graph version from a stored query.

It finds what people type: any case, partial words ("synov"), word forms ("meniscus" for "meniscal")
and small typos ("osteoartritis"), best match first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from kg_service.backends.base import Row

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


@dataclass(frozen=True)
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


class SearchIndex:
    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self.entities: dict[str, EntityInfo] = {
            e.entity: EntityInfo(e.entity, e.label, e.type, e.category, e.provenance) for e in self.entries}
        # Every category and kind slug, the values the `type` filter accepts.
        self.kinds: list[str] = sorted({e.category for e in self.entries} | {e.type for e in self.entries})

    @classmethod
    def build(cls, rows: Iterable[Row]) -> SearchIndex:
        """Rows of the `search_index` stored query: ?entity ?label ?category ?type ?provenance ?name ?synonym."""
        entries = []
        for row in rows:
            name = str(row["name"])
            norm = normalize(name)
            words = tuple(norm.split())
            entries.append(Entry(entity=str(row["entity"]), label=str(row["label"]), category=str(row["category"]),
                                 type=str(row["type"]), name=name,
                                 provenance=str(row["provenance"]) if "provenance" in row else None, is_synonym=str(row.get("synonym", "false")) == "true",
                                 normalized=norm, words=words, stems=tuple(stem(w) for w in words)))
        return cls(entries)

    def _score(self, query: str, query_words: list[str], entry: Entry) -> float:
        if query == entry.normalized:
            return EXACT_SYNONYM if entry.is_synonym else EXACT
        if all(any(w.startswith(q) for w in entry.words) for q in query_words):
            return WORD_PREFIX
        query_stems = [stem(q) for q in query_words]
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

    def search(self, text: str, types: set[str] | None = None, limit: int = 10) -> list[Hit]:
        """Best hits first; `types` keeps entities whose category or kind is one of them."""
        query = normalize(text)
        if not query:
            return []
        query_words = query.split()
        best: dict[str, Hit] = {}
        for entry in self.entries:
            if types and entry.category not in types and entry.type not in types:
                continue
            score = self._score(query, query_words, entry)
            if score <= 0:
                continue
            # Ties go to what people search for (causes, interventions...), then to the shorter name.
            if entry.category not in PRIMARY_CATEGORIES:
                score -= SECONDARY_PENALTY
            score = round(score - min(len(entry.normalized), 200) / 100_000, 5)
            current = best.get(entry.entity)
            if current is None or score > current.score:
                best[entry.entity] = Hit(entry.entity, score, entry.name)
        return sorted(best.values(), key=lambda h: (-h.score, self.entities[h.entity].label))[:limit]
