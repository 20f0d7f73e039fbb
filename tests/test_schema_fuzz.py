"""Schemathesis over the service's own OpenAPI schema: generated requests to every operation must never
get a 5xx, and every response must match the documented schema (status codes, content types, bodies).
Plus a hypothesis property test of parameter binding: any string is bound as a literal, never as SPARQL.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from conftest import ROOT, RunningServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Per operation: the slowest test of the suite by far (pytest --durations shows it); 100 keeps every operation
# fuzzed with two thirds of the cases 150 gave.
SCHEMA_EXAMPLES = 100


@pytest.fixture(scope="module")
def api_schema(server: RunningServer):
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    # /admin/reload has its own tests (token, rejected ontologies, swap under load).
    return schema.exclude(path="/admin/reload")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=SCHEMA_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_schema_and_never_5xx(case) -> None:
    response = case.call(timeout=30)
    if response.status_code == 503:  # a deadline the request itself set (timeout=1e-300) is not a failure
        assert response.json()["type"].rsplit("/", 1)[1] in ("query-timeout", "overloaded"), response.text
    else:
        assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
    # A schema-valid string is not always valid SPARQL: on /sparql a 400 for a bad query is the right answer.
    excluded = [positive_data_acceptance] if case.path == "/sparql" else []
    case.validate_response(response, excluded_checks=excluded)


@pytest.fixture(scope="module")
def all_labels() -> dict[str, set[str]]:
    """label -> entities, read independently of the service: straight from the Turtle sources."""
    from rdflib.namespace import RDFS

    from kg_service.graph import parse_asserted

    graph = parse_asserted(ROOT / "ontology")
    labels: dict[str, set[str]] = {}
    for subject, label in graph.subject_objects(RDFS.label):
        labels.setdefault(str(label), set()).add(str(subject))
    return labels


SPARQL_SYNTAX = st.sampled_from(['"', "'", "\\", "\\u0022", "\\u003E", ">", "<", "{", "}", "#", "?s", " UNION ",
                                 "SERVICE <http://127.0.0.1:9/>", "\n", "\t", ") ", "FILTER(", "osteoarthritis",
                                 "rest", "knee synovitis"])


@given(value=st.one_of(st.text(max_size=40), st.lists(SPARQL_SYNTAX, max_size=8).map("".join)))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_string_matches_exactly_the_entities_with_that_label(client: httpx.Client, all_labels, value: str) -> None:
    response = client.get("/api/queries/entities_by_label", params={"label": value})
    if value == "" or len(value) > 512:
        assert response.status_code == 422
        return
    assert response.status_code == 200, response.text
    found = {row["entity"]["value"] for row in response.json()["bindings"]}
    assert found == all_labels.get(value, set())
