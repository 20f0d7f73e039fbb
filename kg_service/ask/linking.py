"""Reading a question: lay words rewritten, typos corrected, entities linked through the search index.

Deterministic and explainable: every rewrite and correction is recorded, and a span of the question is
linked to an entity only when each of its words matches a word of one of the entity's names (same word,
same stem, or a near spelling) and it covers most of that name ("weather" alone does not link to "cold
weather", "calcium" alone links to nothing, "tired muscles" links to muscle fatigue).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from kg_service.ask.language import Language
from kg_service.search import SearchIndex, normalize, stem

MAX_SPAN = 6          # longest run of words looked up as one name
MAX_LOOKUPS = 60      # search-index lookups per question (a usual one needs under 20): bounds a 300-character one
MIN_COVERAGE = 0.66   # share of a name's words a span of two or more words must match
TYPO_SIMILARITY = 80  # rapidfuzz ratio (0-100) for a word of a name to match a word of the question
MIN_TYPO_LENGTH = 5   # shorter words are never corrected ("cold" is not a typo of "gold")
DISTINCT_WORD = 9     # a word this long found in the names of one entity only links to it ("exudation")
LONG_WORD = 8         # a typo is one edit (insertion, deletion, substitution, swap); two in a word this long
SUBJECT_CATEGORIES = ("cause", "symptom", "intervention", "mechanism", "trigger")
ASKING_WORDS = ("what", "which")                          # "which exercise..." asks for kinds of exercise
KIND_WORDS = ("kind", "kinds", "type", "types", "sort", "sorts", "form", "forms")  # "what kind of exercise..."


@dataclass(frozen=True)
class Link:
    start: int
    end: int          # token positions [start, end)
    entity: str       # IRI
    matched: str      # the label or synonym matched
    category: str
    type: str
    coverage: float
    score: float


@dataclass
class Reading:
    """The question as the service understood its words."""

    tokens: list[str]
    rewrites: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    kind: str | list[str] | None = None
    kind_negated: bool = False                          # "without drugs", "does not involve drugs"
    kind_words: str | None = None
    supervision: str | None = None
    supervision_words: str | None = None
    slot_tokens: set[int] = field(default_factory=set)  # tokens that gave the kind or the supervision
    named: list[Link] = field(default_factory=list)    # interventions whose names hold the word asked for

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def span_text(self, link: Link) -> str:
        return " ".join(self.tokens[link.start:link.end])

    def covered(self) -> set[int]:
        return {i for link in (*self.links, *self.named) for i in range(link.start, link.end)} | self.slot_tokens

    def first(self, *categories: str, type_: str | None = None) -> Link | None:
        return next((link for link in self.links if link.category in categories
                     and (type_ is None or link.type == type_)), None)


class Linker:
    """Built once per graph version from the search index's names."""

    def __init__(self, index: SearchIndex, language: Language) -> None:
        self.index = index
        self.language = language
        entries = [(e.entity, e.name) for e in getattr(index, "entries", ())] or \
            [(e.iri, e.label) for e in index.entities.values()]
        names = [name for _, name in entries]
        self.entities_by_stem: dict[str, dict[str, str]] = {}
        for iri, name in entries:
            for word in normalize(name).split():
                self.entities_by_stem.setdefault(stem(word), {}).setdefault(iri, name)
        # word stem -> interventions with a name holding it ("exercise" -> moderate outdoor exercise, ...)
        self.interventions_by_stem: dict[str, dict[str, str]] = {}
        for iri, name in entries:
            if index.entities[iri].category == "intervention":
                for word in normalize(name).split():
                    self.interventions_by_stem.setdefault(stem(word), {}).setdefault(iri, name)
        self.entity_words = {w for name in names for w in normalize(name).split()}
        self.entity_stems = {stem(w) for w in self.entity_words}
        vocabulary_words = {w for phrase in (*language.lay_terms, *language.kinds, *language.supervision)
                            for w in phrase}
        self.known_words = self.entity_words | vocabulary_words | language.stopwords
        # Words of questions, not of names (lay phrases such as "cold weather" hold names' words).
        self.question_words = language.stopwords | {w for phrase in (*language.kinds, *language.supervision)
                                                    for w in phrase}
        self.correctable = sorted(w for w in self.entity_words | vocabulary_words if len(w) >= MIN_TYPO_LENGTH - 1)
        # Words of the cues ("mechanism") are corrected only from one edit away: "difference" stays itself.
        self.correctable_cues = sorted(w for w in language.cue_words | language.cue_stems | language.generic_words
                                       if len(w) >= MIN_TYPO_LENGTH
                                       and (w not in language.stopwords or w in language.generic_words))

    # -- words -------------------------------------------------------------------------------------

    def _rewrite(self, words: list[str], reading: Reading) -> list[str]:
        """Lay phrases -> the ontology's words, longest phrase first."""
        out: list[str] = []
        i = 0
        longest = self.language.max_phrase
        while i < len(words):
            for n in range(min(longest, len(words) - i), 0, -1):
                phrase = tuple(words[i:i + n])
                replacement = self.language.lay_terms.get(phrase)
                if replacement is not None:
                    if replacement != phrase:
                        reading.rewrites.append(f"{' '.join(phrase)} -> {' '.join(replacement)}")
                    out.extend(replacement)
                    i += n
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def _correct(self, words: list[str], reading: Reading) -> list[str]:
        """A word nobody knows that is a near spelling of a known one is read as that one."""
        out = []
        for word in words:
            if len(word) >= MIN_TYPO_LENGTH and word not in self.known_words and not word.isdigit() \
                    and stem(word) not in self.entity_stems and not self.language.spells(word):
                edits = 1 if len(word) < LONG_WORD else 2  # "smoking" is two edits from "soaking": not a typo
                # The question's own words first ("treet" is "treat", not "tree"), then the names'.
                best = process.extractOne(word, self.correctable_cues, scorer=OSA.distance, score_cutoff=1) \
                    or process.extractOne(word, self.correctable, scorer=OSA.distance, score_cutoff=edits)
                if best is not None:
                    reading.rewrites.append(f"{word} -> {best[0]}")
                    word = best[0]
            out.append(word)
        return out

    def _known_for_linking(self, word: str) -> bool:
        return word in self.entity_words or stem(word) in self.entity_stems

    # -- entities ----------------------------------------------------------------------------------

    def _words_match(self, word: str, name_word: str) -> bool:
        return (word == name_word or stem(word) == stem(name_word)
                or (min(len(word), len(name_word)) >= MIN_TYPO_LENGTH
                    and fuzz.ratio(word, name_word) >= TYPO_SIMILARITY))

    def _coverage(self, span: list[str], name: str) -> float:
        """Share of the name's content words the span matches; 0 if a span word matches none of them."""
        function_words = self.language.function_words
        name_words = [w for w in normalize(name).split() if w not in function_words]
        span_words = [w for w in span if w not in function_words]
        if not name_words or not span_words:
            return 0.0
        unused = list(name_words)
        for word in span_words:
            match = next((n for n in unused if self._words_match(word, n)), None)
            if match is None:
                return 0.0
            unused.remove(match)
        coverage = 1 - len(unused) / len(name_words)
        if coverage == 1 or (coverage >= MIN_COVERAGE and len(span_words) >= 2):
            return coverage
        return 0.0

    def _link(self, tokens: list[str]) -> list[Link]:
        function_words = self.language.function_words
        candidates: list[Link] = []
        lookups = 0
        for start in range(len(tokens)):
            if tokens[start] in function_words or not self._known_for_linking(tokens[start]):
                continue
            for end in range(start + 1, min(start + MAX_SPAN, len(tokens)) + 1):
                last = tokens[end - 1]
                if last not in function_words and not self._known_for_linking(last):
                    break
                if last in function_words:
                    continue
                span = tokens[start:end]
                lookups += 1
                if lookups > MAX_LOOKUPS:
                    break
                for hit in self.index.search(" ".join(span), limit=5):
                    coverage = self._coverage(span, hit.matched)
                    if coverage:
                        info = self.index.entities[hit.entity]
                        candidates.append(Link(start, end, hit.entity, hit.matched, info.category, info.type,
                                               coverage, hit.score))
        for i, token in enumerate(tokens):  # a long word of one entity's names alone: "exudation"
            owners = self.entities_by_stem.get(stem(token), {})
            if len(token) >= DISTINCT_WORD and len(owners) == 1 and token not in self.question_words \
                    and not self.language.spells(token):
                (iri, name), = owners.items()
                info = self.index.entities[iri]
                candidates.append(Link(i, i + 1, iri, name, info.category, info.type, 0.5, 0.0))
        # Longest spans first, then the closest match; a token belongs to one entity at most.
        candidates.sort(key=lambda c: (-(c.end - c.start), -c.coverage, -c.score, c.start,
                                       c.category not in SUBJECT_CATEGORIES))
        chosen: list[Link] = []
        taken: set[int] = set()
        for c in candidates:
            if taken.isdisjoint(range(c.start, c.end)) and all(c.entity != l.entity for l in chosen):
                chosen.append(c)
                taken.update(range(c.start, c.end))
        return sorted(chosen, key=lambda c: c.start)

    # -- slots from the vocabulary -----------------------------------------------------------------

    def _phrase_slot(self, reading: Reading, table: dict[tuple[str, ...], str],
                     skip: set[int]) -> tuple[str | None, str | None, set[int]]:
        """The first (longest) phrase of the table among tokens not in `skip`."""
        tokens = reading.tokens
        longest = max((len(p) for p in table), default=0)
        for n in range(longest, 0, -1):
            for i in range(len(tokens) - n + 1):
                positions = set(range(i, i + n))
                if positions & skip:
                    continue
                value = table.get(tuple(tokens[i:i + n]))
                if value is not None:
                    return value, " ".join(tokens[i:i + n]), positions
        return None, None, set()

    def _asked_for(self, reading: Reading) -> list[Link]:
        """The interventions named by the word a question asks for ("which exercise", "what kind of diet"),
        when it is no entity of its own."""
        tokens, covered = reading.tokens, reading.covered()
        for i, token in enumerate(tokens):
            after_kind = i >= 2 and tokens[i - 1] == "of" and tokens[i - 2] in KIND_WORDS
            if i == 0 or i in covered or not (tokens[i - 1] in ASKING_WORDS or after_kind) \
                    or token in self.language.stopwords:
                continue
            found = self.interventions_by_stem.get(stem(token), {})
            return [Link(i, i + 1, iri, name, "intervention", self.index.entities[iri].type, 0.0, 0.0)
                    for iri, name in sorted(found.items())]
        return []

    def read(self, question: str, kinds: set[str]) -> Reading:
        reading = Reading(tokens=[])
        words = self._rewrite(normalize(question).split(), reading)
        reading.tokens = self._correct(words, reading)
        reading.links = self._link(reading.tokens)
        subject_tokens = {i for link in reading.links if link.category in SUBJECT_CATEGORIES
                          for i in range(link.start, link.end)}
        kind_table = {p: slug for p, slug in self.language.kinds.items() if slug in kinds}
        reading.kind, reading.kind_words, kind_at = self._phrase_slot(reading, kind_table, subject_tokens)
        if kind_at:
            before = reading.tokens[max(0, min(kind_at) - 3):min(kind_at)]
            reading.kind_negated = any(word in self.language.negations for word in before)
        reading.supervision, reading.supervision_words, sup_at = self._phrase_slot(
            reading, self.language.supervision, subject_tokens)
        reading.slot_tokens = kind_at | sup_at
        reading.named = self._asked_for(reading)
        return reading
