"""GET /api/ask and `kg-service ask`, called as a user would, against the live server.

Every question of tests/data/ask-questions*.json and of the shared public sample is one test (scored by
tests/ask_eval.py, which also prints the per-category accuracy the README reports).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import httpx
import pytest
from ask_eval import failures, load_questions
from conftest import ROOT

QUESTIONS = load_questions()
PROBLEM = "application/problem+json"


def ask(client: httpx.Client, question: str) -> dict:
    response = client.get("/api/ask", params={"q": question})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("question", [
    pytest.param(q, id=f"{q['set']}-{q['id']}",
                 marks=[pytest.mark.xfail(reason=q["known_gap"], strict=True)] if q.get("known_gap") else [])
    for q in QUESTIONS])
def test_question(client: httpx.Client, source_text: str, question: dict) -> None:
    body = ask(client, question["q"])
    assert not failures(question, body, source_text), json.dumps(body["interpretation"], indent=1)


def test_items_are_the_rest_endpoints_items(client: httpx.Client) -> None:
    body = ask(client, "What helps knee synovitis at night?")
    assert body["interpretation"]["query"] == "interventions_for_cause"
    assert body["interpretation"]["parameters"] == {"cause": "knee-synovitis"}
    rest = client.get("/api/causes/knee-synovitis/interventions").json()
    assert body["answer"]["items"] == rest["items"] and body["answer"]["total"] == rest["total"]


@pytest.mark.parametrize("question", ["Which medicines does the article name for osteoarthritis?",
                                      "Why are my knees sore at night?", "How does cold exposure cause knee soreness?",
                                      "What is acupuncture recommended for?", "calcium supplements for lack of calcium",
                                      "What kind of exercise does the article recommend?"])
def test_the_bound_sparql_runs_on_the_endpoint_and_gives_the_items(client: httpx.Client, question: str) -> None:
    """The interpretation's SPARQL, pasted into /sparql, returns the rows the answer was built from."""
    body = ask(client, question)
    interpretation = body["interpretation"]
    response = client.post("/sparql", data={"query": interpretation["sparql"]},
                           headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    ids = {b["entity"]["value"].rsplit("/", 1)[-1] for b in response.json()["results"]["bindings"]}
    assert ids == {i["id"] for i in body["answer"]["items"]}
    if all(isinstance(v, str) for v in interpretation["parameters"].values()):
        stored = client.get(f"/api/queries/{interpretation['query']}", params=interpretation["parameters"]).json()
        assert ids == {b["entity"]["value"].rsplit("/", 1)[-1] for b in stored["bindings"]}
    else:  # a parameter with several values: one VALUES row each
        values = next(v for v in interpretation["parameters"].values() if isinstance(v, list))
        assert interpretation["sparql"].count(") (") == len(values) - 1


def test_the_interpretation_says_how_the_words_were_read(client: httpx.Client) -> None:
    body = ask(client, "why do my knees ache when I sleep")
    interpretation = body["interpretation"]
    assert interpretation["intent"] == "causes_of_symptom" and "why" in interpretation["cues"]
    assert "ache -> soreness" in interpretation["rewrites"]
    assert [m["entity"]["id"] for m in interpretation["entities"]] == ["nocturnal-knee-soreness"]
    typo = ask(client, "osteoartritis medication")["interpretation"]
    assert "osteoartritis -> osteoarthritis" in typo["rewrites"]
    assert typo["parameters"] == {"condition": "osteoarthritis", "type": "drug"}


@pytest.mark.parametrize("question", ["What is the weather tomorrow?", "does chocolate cause knee pain",
                                      "What are the side effects of diclofenac?"])
def test_a_declined_question_suggests_questions_that_are_answered(client: httpx.Client, question: str) -> None:
    body = ask(client, question)
    assert body["understood"] is False and body["answer"]["items"] == [] and body["answer"]["total"] == 0
    assert body["answer"]["note"] and len(body["suggestions"]) >= 3
    for suggestion in body["suggestions"]:
        answered = ask(client, suggestion)
        assert answered["understood"] and answered["answer"]["items"], suggestion


@pytest.mark.parametrize("question", ["osteoartritis medication", "What is acupuncture recommended for?",
                                      "meniscus tear", "What triggers knee synovitis?"])
def test_every_suggestion_is_a_question_it_answers(client: httpx.Client, question: str) -> None:
    suggestions = ask(client, question)["suggestions"]
    assert suggestions and question not in suggestions
    for suggestion in suggestions:
        assert ask(client, suggestion)["understood"], suggestion


def test_a_question_the_text_answers_in_part_gets_only_what_it_says(client: httpx.Client) -> None:
    body = ask(client, "What dose of ibuprofen should I take?")
    assert body["understood"] and "no dose" in body["answer"]["note"]
    assert {i["qualifier"] for i in body["answer"]["items"]} == {"follow medical advice"}
    assert not re.search(r"\d+ ?(mg|milligram|ml|tablets? a day)", json.dumps(body["answer"]), flags=re.IGNORECASE)


@pytest.mark.parametrize(("params", "what"), [({}, "Field required"), ({"q": ""}, "at least 1 character"),
                                               ({"q": "   "}, "pattern"), ({"q": "why " * 100}, "at most 300")])
def test_bad_questions_are_problems(client: httpx.Client, params: dict, what: str) -> None:
    response = client.get("/api/ask", params=params)
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"].endswith("/invalid-parameter") and what in body["detail"]


def test_openapi_documents_the_question_and_the_answer(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/ask"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["q"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    model = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert {"question", "understood", "interpretation", "answer", "suggestions"} <= model["properties"].keys()
    interpretation = spec["components"]["schemas"]["Interpretation"]["properties"]
    assert {"intent", "query", "parameters", "sparql"} <= interpretation.keys()


def test_no_entity_id_is_written_in_the_question_code(client: httpx.Client) -> None:
    """Entities are found through the search index, so a second article needs no code change."""
    rows = client.get("/api/queries/search_index").json()["bindings"]
    ids = {r["entity"]["value"].rsplit("/", 1)[-1] for r in rows}
    files = [*(ROOT / "kg_service" / "ask").glob("*.py"), ROOT / "kg_service" / "api" / "ask.py"]
    code = "\n".join(line for p in files for line in p.read_text().splitlines()
                     if "examples=" not in line)  # OpenAPI examples document, they decide nothing
    assert not [i for i in ids if re.search(rf"['\"]{re.escape(i)}['\"]", code)]


def comparable(body: dict) -> dict:
    """The answer with each item's qualifiers in one order (the store returns a recommendation's rows in any order)."""
    for item in body["answer"]["items"]:
        item["qualifiers"] = sorted(item.get("qualifiers", []))
        item.pop("qualifier", None)
    return body


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg_service.cli", "ask", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, check=False)


def test_the_cli_answers_as_text_and_as_the_api_json(client: httpx.Client) -> None:
    text = run_cli("osteoartritis medication")
    assert text.returncode == 0, text.stderr
    assert "ibuprofen sustained-release capsules (follow medical advice" in text.stdout
    assert "“Patients should follow medical advice to take oral medications" in text.stdout
    as_json = run_cli("--json", "osteoartritis medication")
    assert comparable(json.loads(as_json.stdout)) == comparable(ask(client, "osteoartritis medication"))
    declined = run_cli("does chocolate cause knee pain?")
    assert declined.returncode == 1 and "chocolate" in declined.stdout and "You could ask:" in declined.stdout
