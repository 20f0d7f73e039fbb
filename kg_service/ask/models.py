"""The /api/ask response: the question, how it was read (intent, stored query, bound SPARQL), the answer
as the REST API's own typed items, and questions to ask next."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kg_service.api.models import (
    CauseItem,
    EntityDetail,
    EntityRef,
    Evidence,
    MechanismItem,
    PathStep,
    RecommendedItem,
)

MAX_QUESTION_CHARS = 300  # one question, not a document: longer ones are refused with a problem (422)
AnswerKind = Literal["recommendations", "mechanisms", "causes", "paths", "stated", "details", "none"]


class Mention(BaseModel):
    """A piece of the question linked to an entity through the search index."""

    text: str = Field(description="The words of the question (after lay words were rewritten).",
                      examples=["osteoartritis"])
    matched: str = Field(description="The label or synonym they matched.", examples=["osteoarthritis"])
    entity: EntityRef


class Interpretation(BaseModel):
    intent: str | None = Field(None, description="What the question asks, e.g. interventions_for_cause.",
                               examples=["interventions_for_cause"])
    query: str | None = Field(None, description="The stored query (queries/NAME.rq, /api/queries/NAME) that answers it.",
                              examples=["interventions_for_cause"])
    parameters: dict[str, str | list[str]] = Field(
        default_factory=dict, examples=[{"cause": "knee-synovitis"}],
        description="Its parameters, as ids and values; a list runs the query once per value (a VALUES row each).")
    sparql: str | None = Field(None, description="The stored query with its parameters bound as a trailing "
                                                 "VALUES block: paste it into /sparql to get the same rows.")
    entities: list[Mention] = Field(default_factory=list)
    cues: list[str] = Field(default_factory=list, description="The words that chose the intent.")
    rewrites: list[str] = Field(default_factory=list,
                                description="Lay words and typos read as the ontology's words, e.g. 'ache -> soreness'.")
    unknown_words: list[str] = Field(default_factory=list,
                                     description="Words that are neither in the graph nor in the question vocabulary.")
    explanation: str = Field("", description="One sentence saying how the question was read.")


class PathItem(BaseModel):
    """One chain of stated causal links, with the evidence of the steps along it."""

    label: str = Field(examples=["calcium deficiency → osteoporosis → knee soreness at night during sleep"])
    steps: list[PathStep]
    evidence: list[Evidence] = Field(default_factory=list)


class StatedItem(EntityRef):
    """An entity with the relation that brought it into the answer and the spans that state it."""

    relation: str | None = Field(None, description="e.g. triggers, leads_to_condition, named as a cause.")
    via: list[EntityRef] = Field(default_factory=list, description="Triggers: the mechanisms and causes they set off.")
    evidence: list[Evidence] = Field(default_factory=list)


class CauseWithEvidence(CauseItem):
    """A cause of the symptom (as /api/symptoms/{id}/causes), always with evidence: that of the cause -> symptom
    relation where the graph has it, else the spans that name the cause."""

    evidence: list[Evidence] = Field(default_factory=list)


class RecommendationItem(RecommendedItem):
    """A recommendation (as /api/causes/{id}/interventions) with the condition it is for."""

    for_condition: EntityRef | None = Field(None, description="The cause or symptom the advice is for.")


AnswerItem = RecommendationItem | RecommendedItem | MechanismItem | CauseWithEvidence | PathItem | StatedItem | EntityDetail


class Answer(BaseModel):
    kind: AnswerKind = Field(description="Which typed items follow.")
    items: list[AnswerItem] = Field(default_factory=list)
    total: int = Field(ge=0)
    note: str | None = Field(None, description="What the text does not say, or why the question was declined.")


class AskResponse(BaseModel):
    question: str
    understood: bool = Field(description="false: the text cannot answer this; no items, see suggestions.")
    interpretation: Interpretation
    answer: Answer
    suggestions: list[str] = Field(default_factory=list, description="Questions the service can answer.")
