"""Every competency question, answered through the REST API as an app would: resolve the subject with
/api/search, call the operation its kind names, and check the labels against `expect` and `forbid`.

Runs over every backend (embedded Oxigraph, rdflib, a real Oxigraph server behind --backend remote), so it
is also the parity test of the three stores.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from conftest import ROOT, SHARED

QUESTIONS = [
    *json.loads((SHARED / "competency-questions.json").read_text())["questions"],
    *json.loads((ROOT / "ontology" / "competency-questions.json").read_text())["questions"],
]
SUBJECT_TYPES = {  # which kind of entity the subject of each question kind is
    "interventions_for_cause": "cause", "mechanisms_for_cause": "cause", "supervised_interventions_for_cause": "cause",
    "triggers_for_cause": "cause", "causes_of_symptom": "symptom", "interventions_for_symptom": "symptom",
    "causes_for_intervention": "intervention", "drug_details": "drug", "causal_path": "cause",
}


def resolve(client: httpx.Client, text: str, type_: str | None) -> str:
    params = {"q": text, "limit": 1} | ({"type": type_} if type_ else {})
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results, f"search for {text!r} ({type_}) found nothing"
    return results[0]["id"]


def get_json(client: httpx.Client, url: str, **params) -> dict:
    response = client.get(url, params=params)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
    return response.json()


def answer_labels(client: httpx.Client, q: dict) -> list[str]:
    kind = q["kind"]
    if kind == "search":
        return [r["label"] for r in get_json(client, "/api/search", q=q["subject"])["results"]]
    if kind == "interventions_of_type":
        return [i["label"] for i in get_json(client, "/api/interventions", type=q["subject"])["items"]]
    if kind == "stored_query":
        data = get_json(client, f"/api/queries/{q['query']}", **q["params"])
        return [row["label"]["value"] for row in data["bindings"]]
    subject = resolve(client, q["subject"], q.get("subject_type", SUBJECT_TYPES.get(kind)))
    if kind == "interventions_for_cause":
        return [i["label"] for i in get_json(client, f"/api/causes/{subject}/interventions")["items"]]
    if kind == "supervised_interventions_for_cause":
        items = get_json(client, f"/api/causes/{subject}/interventions")["items"]
        return [i["label"] for i in items if i["requires_medical_supervision"]]
    if kind == "mechanisms_for_cause":
        return [i["label"] for i in get_json(client, f"/api/causes/{subject}/mechanisms")["items"]]
    if kind == "triggers_for_cause":
        items = get_json(client, f"/api/causes/{subject}/mechanisms")["items"]
        return [t["label"] for i in items for t in i["triggers"]]
    if kind == "causes_of_symptom":
        return [i["label"] for i in get_json(client, f"/api/symptoms/{subject}/causes")["items"]]
    if kind == "interventions_for_symptom":
        return [i["label"] for i in get_json(client, f"/api/symptoms/{subject}/interventions")["items"]]
    if kind == "causes_for_intervention":
        return [i["label"] for i in get_json(client, f"/api/interventions/{subject}/causes")["items"]]
    if kind == "drug_details":
        drug = get_json(client, f"/api/interventions/{subject}")["drug"]
        return [drug["drug_class"]["label"], drug["dosage_form"]["label"], drug["route"]["label"]]
    if kind == "causal_path":
        target = resolve(client, q["object"], "symptom")
        paths = get_json(client, "/api/paths", **{"from": subject, "to": target})["paths"]
        return [step["label"] for path in paths for step in path[1:-1]]
    raise AssertionError(f"unknown kind {kind}")


@pytest.mark.parametrize("question", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_competency_question(backend_client: httpx.Client, question: dict) -> None:
    labels = answer_labels(backend_client, question)
    missing = [p for p in question["expect"] if not any(re.search(p, label, re.IGNORECASE) for label in labels)]
    forbidden = [label for label in labels for p in question.get("forbid", []) if re.search(p, label, re.IGNORECASE)]
    assert not missing, f"{question['id']} {question['question']}: nothing matches {missing} in {labels}"
    assert not forbidden, f"{question['id']} {question['question']}: forbidden answers {forbidden}"
