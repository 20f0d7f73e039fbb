"""Typed response models: they validate what the API returns and are the OpenAPI schemas apps read."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Relation = Literal["asserted", "inferred"]
Provenance = Literal["text", "curated"]


class Evidence(BaseModel):
    """An exact span of the source text: `source_text[start:end] == quote` (Unicode code points)."""

    quote: str = Field(examples=["Calcium is a major component of bone."])
    start: int = Field(ge=0, examples=[949])
    end: int = Field(ge=0, examples=[986])
    source: str = Field(description="IRI of the source document.",
                        examples=["https://w3id.org/knee-soreness/source-article"])


class SourceDocument(BaseModel):
    """A document the evidence spans point into: its text is served at `text`."""

    id: str = Field(examples=["source-article"])
    iri: str = Field(examples=["https://w3id.org/knee-soreness/source-article"])
    label: str | None = Field(None, description="Its title.",
                              examples=["What causes knee soreness in women at night during sleep?"])
    file: str = Field(description="The file under ontology/sources/ its text is read from.",
                      examples=["ontology/sources/knee-night-soreness.txt"])
    characters: int = Field(ge=0, description="Length of its text in Unicode code points (evidence offsets count "
                                              "these).")
    evidence_spans: int = Field(ge=0, description="How many evidence spans point into it.")
    text: str = Field(description="Where its text is served.", examples=["/api/source?document=source-article"])


class Support(BaseModel):
    """Where one relation comes from: the text (evidence, hedge as written) or curation (reference)."""

    provenance: Provenance | None = Field(None, description="text: the source text states it (see evidence); "
                                                            "curated: background a curator added (see reference).")
    reference: list[str] = Field(default_factory=list, description="Curated only: IRIs of what supports it "
                                                                   "(e.g. an ATC class).")
    qualifier: str | None = Field(None, description="The hedge the text states the relation with, as written.",
                                  examples=["may lead to"])
    holds_when: str | None = Field(None, description="The condition the text gives for it, as written.",
                                   examples=["When fatigue reaches a certain level"])
    evidence: list[Evidence] = Field(default_factory=list, description="The span(s) of the text that state it.")


class EdgeEnds(BaseModel):
    subject: str = Field(examples=["calcium-deficiency"])
    relation: str = Field(examples=["leads_to_condition"])
    object: str = Field(examples=["osteoporosis"])


class StatedEdge(Support, EdgeEnds):
    """One asserted relation between two entities (ids), with its own evidence."""


class InferredSupport(Support):
    inferred: bool = Field(False, description="true: the reasoner derived this relation; `via` lists the "
                                              "asserted relations it comes from.")
    via: list[StatedEdge] = Field(default_factory=list)


class EntityRef(BaseModel):
    id: str = Field(description="The IRI's local name: stable and URL-safe.", examples=["osteoarthritis"])
    iri: str = Field(examples=["https://w3id.org/knee-soreness/osteoarthritis"])
    label: str = Field(examples=["osteoarthritis"])
    type: str = Field(description="Slug of the most specific class (e.g. drug, disease-or-disorder, mechanism).",
                      examples=["disease-or-disorder"])
    category: str = Field(description="Slug of the top-level category (cause, intervention, mechanism, symptom...).",
                          examples=["cause"])


class EntityItem(EntityRef):
    provenance: Provenance | None = Field(None, description="text: named by the source text; curated: background "
                                                            "a curator added (see /api/entities/{id}).")
    requires_medical_supervision: bool | None = Field(
        None, description="Interventions only: whether any recommendation of it needs a physician.")


class Mapping(BaseModel):
    match: Literal["exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch"]
    iri: str = Field(examples=["http://purl.obolibrary.org/obo/HP_0005086"])


class DrugDetails(BaseModel):
    drug_class: EntityRef
    dosage_form: EntityRef
    route: EntityRef
    relations: list[StatedEdge] = Field(default_factory=list,
                                        description="has_drug_class, has_dosage_form and has_route with where each "
                                                    "comes from: the text (evidence) or curation (reference, e.g. "
                                                    "the ATC class behind 'non-steroidal anti-inflammatory drug').")


class EntityDetail(EntityRef):
    definition: str | None = None
    provenance: Provenance | None = Field(None, description="text: named by the source text (see evidence); "
                                                            "curated: background a curator added (see reference).")
    reference: list[str] = Field(default_factory=list, description="Curated only: what supports it.")
    synonyms: list[str] = Field(default_factory=list, description="Exact synonyms: the same thing.")
    broad_synonyms: list[str] = Field(default_factory=list, description="Names of something broader.")
    narrow_synonyms: list[str] = Field(default_factory=list, description="Names of something narrower.")
    related_synonyms: list[str] = Field(default_factory=list)
    relations: list[StatedEdge] = Field(default_factory=list,
                                        description="Its asserted relations to other entities, each with its "
                                                    "provenance and evidence.")
    mappings: list[Mapping] = Field(default_factory=list, description="SKOS mappings to standard vocabularies.")
    evidence: list[Evidence] = Field(default_factory=list)
    drug: DrugDetails | None = Field(None, description="Drugs only: class, dosage form and route.")


class RecommendedItem(EntityRef):
    """An intervention advised for a cause (or a cause an intervention is advised for), as the text says it."""

    recommendation: str = Field(description="Id of the recommendation node.",
                                examples=["rec-osteoarthritis-ibuprofen-sustained-release-capsules"])
    qualifier: str | None = Field(None, description="The text's own hedge, e.g. 'as directed by a physician'.",
                                  examples=["follow medical advice"])
    qualifiers: list[str] = Field(default_factory=list)
    requires_medical_supervision: bool
    stated_benefit: str | None = None
    applies_when: str | None = None
    relation: Relation = Field("asserted", description="Recommendations are always stated by the text.")
    provenance: Provenance | None = "text"
    inferred: bool = False
    evidence: list[Evidence]


class MechanismItem(InferredSupport, EntityRef):
    """A mechanism of the cause; `evidence` and `qualifier` are those of the cause -> mechanism edge (for an
    inferred one, the evidence of the edges in `via`)."""

    relation: Relation = Field(description="Whether the cause -> mechanism link is stated or inferred.")
    triggers: list[EntityRef] = Field(default_factory=list)


class CauseItem(InferredSupport, EntityRef):
    """A cause of the symptom; `evidence` and `qualifier` are those of the cause -> symptom edge (for an inferred
    one, the evidence of the chain of edges in `via`)."""

    relation: Relation = Field(description="asserted: the text links cause and symptom directly; inferred: "
                                           "through a chain such as calcium deficiency -> osteoporosis.")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(ge=0, description="Number of items before limit/offset.")
    limit: int
    offset: int


class SearchResult(EntityRef):
    score: float = Field(ge=0, le=1)
    matched: str = Field(description="The label or synonym that matched.")
    provenance: Provenance | None = Field(None, description="text: named by the source text; curated: background "
                                                            "a curator added (see /api/entities/{id}).")


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]


class PathStep(Support, EntityRef):
    """One step of a chain; relation, evidence and qualifier are those of the edge from the previous step."""

    relation: str | None = Field(None, description="The relation from the previous step to this one.")
    inferred: bool = Field(False, description="Paths walk asserted edges only, so every step is stated.")


class PathsResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: EntityRef = Field(alias="from")
    to: EntityRef
    paths: list[list[PathStep]]


class QueryParameter(BaseModel):
    name: str
    type: str
    required: bool
    description: str
    example: str | None = None
    enum: list[str] | None = None


class StoredQueryInfo(BaseModel):
    name: str
    summary: str
    description: str
    form: str
    tags: list[str]
    sparql: str
    parameters: list[QueryParameter]


class QueryRunResponse(BaseModel):
    query: str
    variables: list[str]
    bindings: list[dict[str, dict[str, str]]] = Field(
        description="Rows in the SPARQL 1.1 JSON results shape: {var: {type, value, datatype?, xml:lang?}}.")
    boolean: bool | None = Field(None, description="ASK queries only.")


class Readiness(BaseModel):
    status: Literal["ready"]
    version: str
    backend: str
    triples: int
    asserted_triples: int
    inferred_triples: int
