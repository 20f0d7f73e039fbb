"""A question -> its reading -> one stored query with bound parameters -> the REST API's typed items.

Everything the answer says comes from a stored query's rows (through the same functions the REST
routes use); this module only decides which query, and declines when the text does not answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg_service.api import answers
from kg_service.api.common import entity_ref, evidence_list, group_rows, local_id
from kg_service.api.models import PathStep
from kg_service.ask.intents import Choice, alternative, choose, describe, is_yes_no
from kg_service.ask.language import IntentSpec, Language, load_language
from kg_service.ask.linking import SUBJECT_CATEGORIES, Link, Linker, Reading
from kg_service.ask.models import (
    Answer,
    AskResponse,
    CauseWithEvidence,
    Interpretation,
    Mention,
    PathItem,
    RecommendationItem,
    StatedItem,
)
from kg_service.backends.remote import term_to_sparql, with_values
from kg_service.graph import KS
from kg_service.state import ServiceState

MAX_SUGGESTIONS = 5
CONTEXT_KEY = ("ask", "context")


@dataclass(frozen=True)
class AskContext:
    """What answering needs beyond the state, built once per graph version."""

    language: Language
    linker: Linker
    kinds: frozenset[str]
    default_symptom: Link | None


def context(state: ServiceState) -> AskContext:
    """The language, the linker and the kinds of intervention, once per graph version."""
    def build() -> AskContext:
        language = load_language()
        kinds = frozenset(str(r["slug"]) for r in state.catalog.select(state.backend, "intervention_types"))
        hits = state.search.search(language.default_symptom, {"symptom"}, limit=1)
        default = None
        if hits:
            info = state.search.entities[hits[0].entity]
            default = Link(0, 0, info.iri, hits[0].matched, info.category, info.type, 1.0, hits[0].score)
        return AskContext(language, Linker(state.search, language), kinds, default)

    return state.cache.derived(CONTEXT_KEY, build)


# -- items ------------------------------------------------------------------------------------------

def _entity_evidence(state: ServiceState, iri: str) -> list:
    """The spans that state an entity (stored query evidence_for)."""
    return evidence_list(state.catalog.select(state.backend, "evidence_for", {"node": local_id(iri)}))


def _recommendations(state: ServiceState, query: str, params: dict[str, str]) -> list:
    items = answers.recommended_items(state, query, params)
    rows = state.catalog.select(state.backend, query, params)
    conditions = {local_id(r["recommendation"]): r["condition"] for r in rows if "condition" in r}
    if not conditions:
        return items
    return [RecommendationItem(**item.model_dump(), for_condition=entity_ref(state, conditions[item.recommendation])
                               if item.recommendation in conditions else None) for item in items]


def _chains(state: ServiceState, source: str, target: str) -> list[list[PathStep]]:
    """The chains /api/paths gives, as its steps: each hop with its own evidence, hedge and provenance."""
    return [[PathStep(**entity_ref(state, iri).model_dump(), relation=hop.relation if hop else None,
                      **(answers.asserted_fields(answers.stated_edge(state, hop.stated)) if hop else {}))
             for iri, hop in path]
            for path in answers.causal_paths(state, source, target)]


def _paths(state: ServiceState, params: dict[str, str]) -> list[PathItem]:
    """Each chain with the evidence of its steps (each hop's own where the graph has it, else the spans of the
    entities along it)."""
    items = []
    for steps in _chains(state, str(KS[params["from"]]), str(KS[params["to"]])):
        spans = [e for step in steps for e in (getattr(step, "evidence", None) or [])]
        if not spans:
            spans = [e for step in steps[:-1] for e in _entity_evidence(state, step.iri)]
        evidence = {(e.start, e.end): e for e in spans}
        items.append(PathItem(label=" → ".join(s.label for s in steps), steps=steps,
                              evidence=[evidence[k] for k in sorted(evidence)]))
    return items


def _stated(state: ServiceState, query: str, params: dict[str, str]) -> list[StatedItem]:
    rows = state.catalog.select(state.backend, query, params)
    items = []
    for iri, group in group_rows(rows).items():
        via_iris = list(dict.fromkeys(str(r[k]) for r in group for k in ("mechanism", "cause") if k in r
                                      and str(r[k]) != iri))
        relation = next((local_id(r["relation"]) for r in group if "relation" in r), None)
        items.append(StatedItem(**entity_ref(state, iri).model_dump(), relation=relation,
                                via=[entity_ref(state, v) for v in via_iris], evidence=evidence_list(group)))
    return items


def _details(state: ServiceState, query: str, params: dict[str, str]) -> list:
    if params:
        return [answers.entity_detail(state, next(iter(params.values())))]
    rows = state.catalog.select(state.backend, query, params)
    return [answers.entity_detail(state, local_id(iri)) for iri in group_rows(rows)]


def _run_once(state: ServiceState, spec: IntentSpec, params: dict[str, str]) -> list:
    """The stored query of the intent, its rows turned into the REST API's items (answers.py does the turning)."""
    if spec.answer == "recommendations":
        return _recommendations(state, spec.query, params)
    if spec.answer == "mechanisms":
        return answers.mechanisms_for_cause(state, params["cause"])
    if spec.answer == "causes":
        causes = [c.model_dump() for c in answers.causes_of_symptom(state, params["symptom"])]
        # The cause's own evidence where the REST item carries none of the cause -> symptom edge.
        return [CauseWithEvidence(**{**c, "evidence": c.get("evidence") or _entity_evidence(state, c["iri"])})
                for c in causes]
    if spec.answer == "paths":
        return _paths(state, params)
    if spec.answer == "stated":
        return _stated(state, spec.query, params)
    if spec.answer == "details":
        return _details(state, spec.query, params)
    raise ValueError(f"intent {spec.name}: unknown answer kind {spec.answer}")


def parameter_rows(params: dict[str, str | list[str]]) -> list[dict[str, str]]:
    """One set of parameters per value of the (at most one) parameter given several values."""
    several = [(name, values) for name, values in params.items() if isinstance(values, list)]
    if not several:
        return [params]  # type: ignore[list-item]
    name, values = several[0]
    return [{**params, name: value} for value in values]


def run_intent(state: ServiceState, choice: Choice) -> list:
    """Every item, once, over each set of parameters (several for "which exercise": one per intervention)."""
    items, seen = [], set()
    for params in parameter_rows(choice.params):
        for item in _run_once(state, choice.intent, params):
            data = item.model_dump()
            key = (data.get("id"), data.get("recommendation"), data.get("label"))
            if key not in seen:
                seen.add(key)
                items.append(item)
    return items


# -- reading -> interpretation ------------------------------------------------------------------------

def _unknown_words(reading: Reading, ctx: AskContext, strict: bool = False) -> list[int]:
    """Positions of words neither linked, nor spelled out by a matching cue or aspect, nor in the vocabulary;
    `strict` also counts words of names that linked to nothing ("weather" alone, "calcium" alone)."""
    covered = reading.covered()
    known = ctx.linker.question_words if strict else ctx.linker.known_words
    return [i for i, token in enumerate(reading.tokens)
            if i not in covered and not token.isdigit() and token not in known
            and not ctx.language.explains(token, reading.text)]


def _sparql(state: ServiceState, choice: Choice) -> str | None:
    """The stored query with its parameters as a trailing VALUES block (one row per set of parameters)."""
    if choice.intent is None:
        return None
    query = state.catalog[choice.intent.query]
    if choice.intent.answer == "paths":  # the walk over causal_edges takes from/to; the query takes none
        return query.text
    rows = [query.bind(params) for params in parameter_rows(choice.params)]
    if len(rows) == 1:
        return with_values(query.text, rows[0])
    names = list(rows[0])
    values = " ".join("(" + " ".join(term_to_sparql(row[n]) for n in names) + ")" for row in rows)
    return f"{query.text}\nVALUES ({' '.join(f'?{n}' for n in names)}) {{ {values} }}\n"


def _explain(reading: Reading, choice: Choice) -> str:
    if choice.intent is None:
        return "No question the text answers was recognised."
    parts = [f"Read as {choice.intent.name} ({choice.intent.summary.lower()})"]
    if choice.cues:
        parts.append("because of " + ", ".join(repr(c) for c in choice.cues))
    if choice.used:
        parts.append("about " + ", ".join(f"{reading.span_text(l)!r} = {l.matched}" for l in choice.used))
    if choice.defaulted:
        parts.append("for the symptom the text is about")
    return " ".join(parts) + "."


# -- suggestions --------------------------------------------------------------------------------------

def _fill(template: str, values: dict[str, str]) -> str | None:
    try:
        return template.format(**values)
    except KeyError:
        return None


def suggestions(state: ServiceState, ctx: AskContext, reading: Reading, chosen: str | None,
                question: str) -> list[str]:
    """Other questions about the entities of this one (or near it) that the service answers, then examples."""
    values = {"symptom": ctx.language.default_symptom}
    for link in reading.links:
        label = state.search.entities[link.entity].label
        if link.category in ("cause", "intervention"):
            values.setdefault(link.category, label)
        if link.category in ("cause", "mechanism"):
            values.setdefault("target", label)
    if len(values) == 1:
        for token in reading.tokens:  # near misses: "calcium" alone links to nothing, but is a hint
            if token in ctx.linker.entity_words and token not in ctx.language.stopwords:
                for hit in state.search.search(token, {"cause", "intervention"}, limit=1):
                    info = state.search.entities[hit.entity]
                    values.setdefault(info.category, info.label)
    out: list[str] = []
    asked = question.strip().lower()
    for spec in ctx.language.intents:
        for template in spec.suggest if spec.name != chosen else ():
            if not any(f"{{{k}}}" in template for k in values if k != "symptom"):
                continue  # questions about the symptom alone are among the examples
            text = _fill(template, values)
            if text and text not in out and text.lower() != asked and is_answered(state, ctx, text):
                out.append(text)
            if len(out) >= MAX_SUGGESTIONS:
                return out
    out += [e for e in ctx.language.examples if e not in out and e.lower() != asked]
    return out[:MAX_SUGGESTIONS]


# -- the whole answer ---------------------------------------------------------------------------------

def _aspect(patterns, text: str) -> str | None:
    return next((name for name, pattern in patterns.items() if pattern.search(text)), None)


def _declined_for_unknown(reading: Reading, choice: Choice, unknown: list[int], subjects: list[Link]) -> bool:
    """Unknown words decline a question when the answer would hinge on them: a yes/no question ("does
    chocolate cause..."), no subject from the graph, the thing asked for ("what vitamins..."), an intent
    chosen without a cue (a bare keyword), or a strict intent (a weak reading such as "what is ...")."""
    if not unknown:
        return False
    asked_for = {i + 1 for i, token in enumerate(reading.tokens) if token in ("what", "which")}
    return (is_yes_no(reading) or not subjects or bool(asked_for & set(unknown))
            or choice.fallback or choice.intent.strict)


@dataclass
class Outcome:
    """A question answered or declined, before it is dressed as a response."""

    reading: Reading
    choice: Choice
    unknown_words: list[str]
    understood: bool
    items: list
    note: str | None


def answer_question(state: ServiceState, ctx: AskContext, question: str) -> Outcome:
    reading = ctx.linker.read(question, set(ctx.kinds))
    if reading.kind_negated and reading.kind:  # "advice that does not involve drugs": every other kind
        reading.kind = [k for k in sorted(ctx.kinds) if k != reading.kind]
    choice = choose(reading, ctx.language, ctx.default_symptom)
    unknown = _unknown_words(reading, ctx, strict=choice.intent is not None and choice.intent.strict)
    unknown_words = [reading.tokens[i] for i in unknown]
    subjects = [link for link in choice.used if link.category in SUBJECT_CATEGORIES]
    about = ", ".join(state.search.entities[link.entity].label for link in subjects) or "this"

    def outcome(understood: bool, items: list, note: str | None) -> Outcome:
        return Outcome(reading, choice, unknown_words, understood, items, note)

    not_mentioned = ", ".join(repr(w) for w in unknown_words)
    if choice.intent is None:
        return outcome(False, [], "The text does not answer this question."
                       + (f" It does not mention {not_mentioned}." if unknown_words else ""))
    unstated = _aspect(ctx.language.unstated_aspects, reading.text)
    if unstated:
        return outcome(False, [], f"The text says nothing about {unstated} of {about}.")
    if _declined_for_unknown(reading, choice, unknown, subjects):
        return outcome(False, [], f"The text does not mention {not_mentioned}; it answers questions about "
                                  "the causes, mechanisms and advice it describes.")
    items = run_intent(state, choice)
    # A yes/no question whose query finds nothing is answered "the text does not say", not with another answer.
    other = None if items or is_yes_no(reading) else alternative(choice, reading, ctx.language, ctx.default_symptom)
    if other is not None:
        choice = other
        items = run_intent(state, choice)
    if not items and choice.fallback and subjects:  # a bare name with nothing under its usual question
        choice = describe(choice, ctx.language, subjects[0])
        items = run_intent(state, choice)
    if not items:
        stated = ", ".join(f"{k}={v if isinstance(v, str) else '|'.join(v)}" for k, v in choice.params.items()) \
            or "no parameters"
        return outcome(False, [], f"The text states nothing that answers this "
                                  f"({choice.intent.summary.lower()}: {stated}).")
    partial = _aspect(ctx.language.partial_aspects, reading.text)
    note = (f"The text gives no {partial} for {about}; below is all it says, with its own qualifiers "
            "(e.g. 'follow medical advice').") if partial else None
    return outcome(True, items, note)


def is_answered(state: ServiceState, ctx: AskContext, question: str) -> bool:
    """Whether a suggestion would be answered (remembered per graph version)."""
    return state.cache.derived(("ask", "answered", question),
                               lambda: answer_question(state, ctx, question).understood)


def ask(state: ServiceState, question: str) -> AskResponse:
    ctx = context(state)
    result = answer_question(state, ctx, question)
    reading, choice = result.reading, result.choice
    interpretation = Interpretation(
        intent=choice.intent.name if choice.intent else None,
        query=choice.intent.query if choice.intent else None,
        parameters=choice.params, sparql=_sparql(state, choice),
        entities=[Mention(text=reading.span_text(link), matched=link.matched, entity=entity_ref(state, link.entity))
                  for link in (*reading.links, *reading.named)],
        cues=choice.cues, rewrites=reading.rewrites, unknown_words=result.unknown_words,
        explanation=_explain(reading, choice))
    kind = choice.intent.answer if result.understood else "none"
    return AskResponse(question=question, understood=result.understood, interpretation=interpretation,
                       answer=Answer(kind=kind, items=result.items, total=len(result.items), note=result.note),
                       suggestions=suggestions(state, ctx, reading, interpretation.intent, question))
