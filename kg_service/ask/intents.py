"""Choosing what a question asks: the intent of intents.yaml whose cues and slots fit it best."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg_service.api.common import local_id
from kg_service.ask.language import IntentSpec, Language
from kg_service.ask.linking import SUBJECT_CATEGORIES, Link, Reading

OPTIONAL_SLOT_BONUS = 0.5
YES_NO = re.compile(r"^(does|do|did|can|could|is|are|was|were|will|would|should|may|might|must|am)\b")
CAUSAL_CATEGORIES = ("cause", "trigger", "mechanism", "symptom", "intervention")


@dataclass
class Choice:
    """The chosen intent, why it was chosen, and its stored query's parameters."""

    intent: IntentSpec | None
    cues: list[str] = field(default_factory=list)
    params: dict[str, str | list[str]] = field(default_factory=dict)
    used: list[Link] = field(default_factory=list)   # the linked entities its parameters came from
    defaulted: bool = False                         # the subject was not in the question (default symptom)
    fallback: bool = False                          # chosen by the subject's category, no cue


Slot = Link | str | list[Link] | list[str]


def slots(reading: Reading) -> dict[str, Slot]:
    """Everything in the question an intent can use, by slot name."""
    found: dict[str, Slot | None] = {
        "cause": reading.first("cause"), "symptom": reading.first("symptom"),
        "intervention": reading.first("intervention"), "drug": reading.first("intervention", type_="drug"),
        "mechanism": reading.first("mechanism"), "trigger": reading.first("trigger"),
        "drug_class": reading.first("drug-class"), "origin": reading.first("cause", "trigger", "mechanism"),
        "time": reading.first("time-context"), "dosage_form": reading.first("dosage-form"),
        "route": reading.first("route"),
        "other_cause": next(iter([link for link in reading.links if link.category == "cause"][1:]), None),
        "target": reading.first("cause", "mechanism"),
        "entity": reading.first(*SUBJECT_CATEGORIES) or (reading.links[0] if reading.links else None),
        "kind": reading.kind, "supervision": reading.supervision, "named": reading.named or None,
    }
    found["condition"] = found["cause"] or found["symptom"]
    causal = [link for link in reading.links if link.category in CAUSAL_CATEGORIES]  # chain ends
    starts = [link for link in causal if link.category != "symptom"]
    if len(causal) >= 2 and starts:
        start = starts[0]
        ends = [link for link in causal if link is not start]
        found["from"] = start
        found["to"] = next((link for link in ends if link.category == "symptom"), ends[-1])
    return {k: v for k, v in found.items() if v is not None}


def _score(spec: IntentSpec, reading: Reading, available: dict[str, Slot]) -> tuple[float, list[str]]:
    if any(slot not in available for slot in spec.requires) or any(slot in available for slot in spec.excludes):
        return 0.0, []
    cue_score, cues = 0.0, []
    for cue in spec.cues:
        match = cue.pattern.search(reading.text)
        if match:
            cue_score += cue.weight
            cues.append(match.group(0).strip())
    slot_cues = [slot for slot in spec.cue_slots if slot in available]
    if not cue_score and not slot_cues:
        return 0.0, []
    slot_words = {"kind": reading.kind_words, "supervision": reading.supervision_words}
    cues += [slot_words[slot] for slot in slot_cues if slot_words.get(slot)]
    optional = sum(OPTIONAL_SLOT_BONUS for source in spec.params.values()
                   if source.endswith("?") and source[:-1] in available)
    return cue_score + sum(spec.requires.values()) + optional, cues


def bind_parameters(spec: IntentSpec, available: dict[str, Slot], default_symptom: Link | None,
                    choice: Choice) -> None:
    """Fill the stored query's parameters from the slots (`x?` optional, `x|default`, `=literal`)."""
    for param, source in spec.params.items():
        if source.startswith("="):
            choice.params[param] = source[1:]
            continue
        name = source.rstrip("?").split("|")[0]
        value = available.get(name)
        if value is None and source.endswith("|default") and default_symptom is not None:
            value, choice.defaulted = default_symptom, True
        if value is None:
            continue
        if isinstance(value, Link):
            choice.params[param] = local_id(value.entity)
            if not choice.defaulted or value is not default_symptom:
                choice.used.append(value)
        elif isinstance(value, list):  # several entities (or kinds): the query runs once for each
            choice.params[param] = [local_id(v.entity) if isinstance(v, Link) else v for v in value]
            choice.used.extend(v for v in value if isinstance(v, Link))
        else:
            choice.params[param] = value


def choose(reading: Reading, language: Language, default_symptom: Link | None) -> Choice:
    available = slots(reading)
    best: tuple[float, IntentSpec, list[str]] | None = None
    for spec in language.intents:
        score, cues = _score(spec, reading, available)
        if score and (best is None or score > best[0]):
            best = (score, spec, cues)
    if best is not None:
        choice = Choice(best[1], cues=best[2])
    else:
        subject = available.get("entity")
        if not isinstance(subject, Link):
            return Choice(None)
        spec = language.intent(language.fallback.get(subject.category, language.fallback["*"]))
        if any(slot not in available for slot in spec.requires):
            spec = language.intent(language.fallback["*"])
        choice = Choice(spec, fallback=True)
    bind_parameters(choice.intent, available, default_symptom, choice)
    return choice


def alternative(choice: Choice, reading: Reading, language: Language, default_symptom: Link | None) -> Choice | None:
    """The `otherwise` intent of an intent whose query found nothing: a chain runs from the first causal entity
    to the symptom asked about (or the default one); any other intent takes the question's slots."""
    if choice.intent is None or not choice.intent.otherwise:
        return None
    spec = language.intent(choice.intent.otherwise)
    available = slots(reading)
    if spec.answer == "paths":
        start = available.get("from") or available.get("cause")
        end = available.get("to") if "from" in available else (available.get("symptom") or default_symptom)
        if start is None or end is None or start is end:
            return None
        available.update({"from": start, "to": end})
    if any(slot not in available for slot in spec.requires):
        return None
    other = Choice(spec, cues=choice.cues, fallback=choice.fallback)
    bind_parameters(spec, available, None, other)
    return other


def describe(choice: Choice, language: Language, subject: Link) -> Choice:
    """The catch-all intent (what the graph says of the subject), for a bare name its usual intent leaves empty."""
    spec = language.intent(language.fallback["*"])
    described = Choice(spec, fallback=True)
    bind_parameters(spec, {"entity": subject}, None, described)
    return described


def is_yes_no(reading: Reading) -> bool:
    return bool(YES_NO.match(reading.text))
