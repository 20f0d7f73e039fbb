"""Typed response models: they validate what the API returns and are the OpenAPI schemas apps read."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Relation = Literal["asserted", "inferred"]


class Evidence(BaseModel):
    """An exact span of the source text: `source_text[start:end] == quote` (Unicode code points)."""

    quote: str = Field(examples=["Calcium is a major component of bone."])
    start: int = Field(ge=0, examples=[949])
    end: int = Field(ge=0, examples=[986])
    source: str = Field(description="IRI of the source document.",
                        examples=["https://w3id.org/knee-soreness/source-article"])


class EntityRef(BaseModel):
    id: str = Field(description="The IRI's local name: stable and URL-safe.", examples=["osteoarthritis"])
    iri: str = Field(examples=["https://w3id.org/knee-soreness/osteoarthritis"])
    label: str = Field(examples=["osteoarthritis"])
    type: str = Field(description="Slug of the most specific class (e.g. drug, disease-or-disorder, mechanism).",
                      examples=["disease-or-disorder"])
    category: str = Field(description="Slug of the top-level category (cause, intervention, mechanism, symptom...).",
                          examples=["cause"])


class EntityItem(EntityRef):
    requires_medical_supervision: bool | None = Field(
        None, description="Interventions only: whether any recommendation of it needs a physician.")


class Mapping(BaseModel):
    match: Literal["exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch"]
    iri: str = Field(examples=["http://purl.obolibrary.org/obo/HP_0005086"])


class DrugDetails(BaseModel):
    drug_class: EntityRef
    dosage_form: EntityRef
    route: EntityRef


class EntityDetail(EntityRef):
    definition: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    related_synonyms: list[str] = Field(default_factory=list)
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
    evidence: list[Evidence]


class MechanismItem(EntityRef):
    relation: Relation = Field(description="Whether the cause -> mechanism link is stated or inferred.")
    triggers: list[EntityRef] = Field(default_factory=list)
    evidence: list[Evidence]


class CauseItem(EntityRef):
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


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]


class PathStep(EntityRef):
    relation: str | None = Field(None, description="The relation from the previous step to this one.")


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
