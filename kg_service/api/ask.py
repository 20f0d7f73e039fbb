"""/api/ask: a plain-English question, answered by one stored query with the evidence behind each item."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from kg_service.api.common import State, cached_response
from kg_service.ask.answering import ask
from kg_service.ask.models import MAX_QUESTION_CHARS, AskResponse

router = APIRouter(prefix="/api", tags=["ask"])


@router.get("/ask", response_model=AskResponse, summary="Answer a plain-English question from the stored queries",
            responses={422: {"description": "q is missing, empty or too long (application/problem+json)."}})
def ask_question(request: Request, state: State,
                 q: str = Query(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S",
                                description="The question, in plain English: lay words, typos and keywords are fine.",
                                examples=["What helps knee synovitis at night?"])) -> Response:
    """Maps the question to one stored query of `queries/` (see `interpretation`: intent, query, parameters and
    the bound SPARQL, which runs as is on `/sparql`) and answers with the REST API's typed items (labels,
    qualifiers, need for a physician, exact evidence spans). A question the text does not answer gets
    `understood: false`, no items, a `note` saying why, and `suggestions` of questions it does answer."""
    return cached_response(request, state, lambda: ask(state, q))
