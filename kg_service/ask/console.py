"""`kg-service ask "..."`: the same answers as GET /api/ask, computed in this process, as text or JSON."""

from __future__ import annotations

import json
from typing import TextIO

from kg_service.ask.models import MAX_QUESTION_CHARS, AskResponse
from kg_service.settings import Settings
from kg_service.state import ServiceState


def local_state(settings: Settings) -> ServiceState:
    """The graph, store, stored queries and search index, without the /sparql worker pool a question never uses."""
    from kg_service.state import build_state

    return build_state(settings, sparql_workers=False)


def render_text(response: AskResponse) -> str:
    """The answer as a person reads it: how the question was read, each item with its qualifier and quotes."""
    interpretation, answer = response.interpretation, response.answer
    lines = [f"Q: {response.question}", interpretation.explanation]
    if interpretation.query:
        params = " ".join(f"{k}={v}" for k, v in interpretation.parameters.items())
        lines.append(f"Stored query: {interpretation.query} {params}".rstrip())
    if interpretation.rewrites:
        lines.append("Read: " + "; ".join(interpretation.rewrites))
    lines.append("")
    for number, item in enumerate(answer.items, 1):
        data = item.model_dump()
        extras = [data["qualifier"]] if data.get("qualifier") else []
        if data.get("requires_medical_supervision"):
            extras.append("needs a physician")
        if data.get("for_condition"):
            extras.append(f"for {data['for_condition']['label']}")
        if data.get("applies_when"):
            extras.append(data["applies_when"])
        if data.get("relation") and data.get("relation") not in ("asserted",):
            extras.append(data["relation"])
        drug = data.get("drug")
        if drug:
            extras.append(f"{drug['drug_class']['label']}, {drug['dosage_form']['label']}, {drug['route']['label']}")
        lines.append(f"{number}. {data['label']}" + (f" ({'; '.join(extras)})" if extras else ""))
        lines += [f"   “{e['quote']}” [{e['start']}-{e['end']}]" for e in data.get("evidence", [])]
    if answer.note:
        lines += ["", f"Note: {answer.note}"]
    if not response.understood and response.suggestions:
        lines += ["", "You could ask:", *(f"  - {s}" for s in response.suggestions)]
    return "\n".join(lines) + "\n"


def run_ask(settings: Settings, question: str, as_json: bool, out: TextIO) -> int:
    """Answer one question; exit status 0 answered, 1 declined, 2 no question."""
    import sys

    from kg_service.ask.answering import ask

    if not question.strip() or len(question) > MAX_QUESTION_CHARS:
        print(f"error: ask one question of 1 to {MAX_QUESTION_CHARS} characters, e.g. \"What helps knee synovitis?\"",
              file=sys.stderr)
        return 2
    state = local_state(settings)
    try:
        response = ask(state, question)
    finally:
        state.close()
    out.write(json.dumps(response.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n" if as_json
              else render_text(response))
    return 0 if response.understood else 1
