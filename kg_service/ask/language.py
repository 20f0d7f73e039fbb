"""The question vocabulary and the intents, read from vocabulary.yaml and intents.yaml beside this module."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from kg_service.catalog import SAFE_LOADER

HERE = Path(__file__).resolve().parent
# A word of a cue pattern, and whether it is left open (`treat\w*`); skips escapes such as \b and \w.
_PATTERN_WORD = re.compile(r"(?<![\\a-z])([a-z]{2,})(\\w\*|\?)?")


@dataclass(frozen=True)
class Cue:
    pattern: re.Pattern[str]
    weight: float

    @cached_property
    def vocabulary(self) -> tuple[frozenset[str], tuple[str, ...]]:
        return pattern_vocabulary(self.pattern)

    def explains(self, word: str) -> bool:
        """Whether the pattern spells this word out (so a match does not make "chocolate" a cue word)."""
        words, prefixes = self.vocabulary
        return word in words or word.startswith(prefixes)


def pattern_vocabulary(pattern: re.Pattern[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """The words a pattern spells out, and the stems it leaves open with `\\w*` (`treat\\w*`)."""
    words, prefixes = set(), set()
    for word, suffix in _PATTERN_WORD.findall(pattern.pattern):
        if suffix == "?":  # forms? spells "forms" and "form"
            words.add(word[:-1])
        (prefixes if suffix and suffix != "?" else words).add(word)
    return frozenset(words), tuple(sorted(prefixes))


@dataclass(frozen=True)
class IntentSpec:
    """One intent: the stored query that answers it, its slots, its parameters and its cues."""

    name: str
    summary: str
    query: str
    answer: str
    params: dict[str, str]
    requires: dict[str, float] = field(default_factory=dict)
    excludes: tuple[str, ...] = ()
    cue_slots: tuple[str, ...] = ()
    cues: tuple[Cue, ...] = ()
    suggest: tuple[str, ...] = ()
    otherwise: str | None = None  # the intent to try when this one's query finds nothing
    strict: bool = False          # any unknown word declines


@dataclass(frozen=True)
class Language:
    lay_terms: dict[tuple[str, ...], tuple[str, ...]]
    kinds: dict[tuple[str, ...], str]
    supervision: dict[tuple[str, ...], str]
    partial_aspects: dict[str, re.Pattern[str]]
    unstated_aspects: dict[str, re.Pattern[str]]
    stopwords: frozenset[str]
    generic_words: frozenset[str]
    function_words: frozenset[str]
    negations: frozenset[str]
    intents: tuple[IntentSpec, ...]
    fallback: dict[str, str]
    default_symptom: str
    examples: tuple[str, ...]

    @cached_property
    def cue_words(self) -> frozenset[str]:
        """Every word the cue patterns spell out ("mechanism", "treatment"...), so misspellings of them are read."""
        return frozenset(w for i in self.intents for c in i.cues for w in c.vocabulary[0])

    @cached_property
    def cue_stems(self) -> frozenset[str]:
        """The open stems of the cue patterns (`treat\\w*` gives "treat")."""
        return frozenset(s for i in self.intents for c in i.cues for s in c.vocabulary[1])

    def spells(self, word: str) -> bool:
        """Whether some cue or aspect pattern spells this word out (a word or an open stem such as `affect\\w*`)."""
        return any(cue.explains(word) for cue in self._all_cues)

    @cached_property
    def _all_cues(self) -> tuple[Cue, ...]:
        cues = [c for i in self.intents for c in i.cues]
        return (*cues, *(Cue(p, 0) for p in (*self.partial_aspects.values(), *self.unstated_aspects.values())))

    def explains(self, word: str, text: str) -> bool:
        """Whether a cue or aspect pattern that matches the question spells this word out (a pattern
        "does ... cause" matching "does chocolate cause" does not explain "chocolate")."""
        return any(cue.explains(word) and cue.pattern.search(text) for cue in self._all_cues)

    def intent(self, name: str) -> IntentSpec:
        return next(i for i in self.intents if i.name == name)

    @property
    def max_phrase(self) -> int:
        return max(len(p) for p in (*self.lay_terms, *self.kinds, *self.supervision))


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(text.lower().split())


def _words(values: list) -> frozenset[str]:
    """A YAML list of words; a bare yes/no/on/off would load as a boolean, so it must be quoted."""
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"quote these words in the YAML file: {[v for v in values if not isinstance(v, str)]}")
    return frozenset(values)


def load_language(vocabulary: Path = HERE / "vocabulary.yaml", intents: Path = HERE / "intents.yaml") -> Language:
    vocab = yaml.load(vocabulary.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    spec = yaml.load(intents.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    kinds = {_phrase(word): slug for slug, words in vocab["intervention_kinds"].items() for word in words or ()}
    supervision = {_phrase(word): value for value, words in vocab["supervision"].items() for word in words}
    parsed = tuple(IntentSpec(
        name=i["name"], summary=i.get("summary", ""), query=i["query"], answer=i["answer"],
        params=dict(i.get("params") or {}), requires=dict(i.get("requires") or {}),
        excludes=tuple(i.get("excludes") or ()), cue_slots=tuple(i.get("cue_slots") or ()),
        otherwise=i.get("otherwise"), strict=bool(i.get("strict")),
        suggest=tuple(i.get("suggest") or ()),
        cues=tuple(Cue(re.compile(c["pattern"]), float(c.get("weight", 1))) for c in i.get("cues") or ()))
        for i in spec["intents"])
    return Language(
        lay_terms={_phrase(k): _phrase(v) for k, v in vocab["lay_terms"].items()},
        kinds=kinds, supervision=supervision,
        partial_aspects={k: re.compile(v) for k, v in vocab["aspects"]["partial"].items()},
        unstated_aspects={k: re.compile(v) for k, v in vocab["aspects"]["unstated"].items()},
        stopwords=_words(vocab["stopwords"]) | _words(vocab["generic_words"]),
        generic_words=_words(vocab["generic_words"]),
        function_words=_words(vocab["function_words"]), negations=_words(vocab["negations"]),
        intents=parsed, fallback=dict(spec["fallback"]),
        default_symptom=spec["default_symptom"], examples=tuple(spec["examples"]))
