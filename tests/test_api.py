"""The friendly REST API, called over HTTP as an app developer would, on every backend (embedded Oxigraph,
rdflib, and a real Oxigraph server behind --backend remote): the parity test of the REST API."""

from __future__ import annotations

import httpx
import pytest

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"].endswith("/" + slug) and body["status"] == status and body["detail"]
    return body


def test_causes_list_has_all_seven_causes_with_ids_and_kinds(backend_client: httpx.Client) -> None:
    body = backend_client.get("/api/causes").json()
    assert body["total"] == len(body["items"]) == 7
    by_label = {i["label"]: i for i in body["items"]}
    assert by_label["osteoarthritis"]["type"] == "disease-or-disorder"
    assert by_label["cold exposure"]["type"] == "environmental-factor"
    for item in body["items"]:
        assert item["category"] == "cause"
        assert item["iri"].endswith("/" + item["id"])


def test_limit_and_offset_page_through_the_same_list(backend_client: httpx.Client) -> None:
    full = backend_client.get("/api/causes").json()["items"]
    first = backend_client.get("/api/causes", params={"limit": 3}).json()
    rest = backend_client.get("/api/causes", params={"limit": 10, "offset": 3}).json()
    assert first["total"] == rest["total"] == len(full)
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in full]


def test_every_recommendation_carries_evidence_that_is_the_exact_source_span(backend_client: httpx.Client,
                                                                              source_text: str) -> None:
    causes = backend_client.get("/api/causes").json()["items"]
    seen = 0
    for cause in causes:
        for item in backend_client.get(f"/api/causes/{cause['id']}/interventions").json()["items"]:
            assert item["evidence"], f"{item['recommendation']} has no evidence"
            for ev in item["evidence"]:
                assert source_text[ev["start"]:ev["end"]] == ev["quote"]
                assert ev["source"].endswith("/source-article")
                seen += 1
    assert seen > 20


def test_qualifiers_are_as_written_and_supervision_follows_them(backend_client: httpx.Client) -> None:
    items = {i["id"]: i for i in backend_client.get("/api/causes/osteoarthritis/interventions").json()["items"]}
    injection = items["sodium-hyaluronate-injection"]
    assert "In some cases" in injection["qualifiers"] and injection["requires_medical_supervision"] is True
    assert items["rest"]["requires_medical_supervision"] is False and items["rest"]["qualifier"] is None
    synovitis = {i["id"]: i for i in backend_client.get("/api/causes/knee-synovitis/interventions").json()["items"]}
    assert synovitis["local-immobilization"]["qualifier"] == "may be necessary"
    assert synovitis["massage"]["qualifiers"] == ["can also be used", "under medical guidance"]  # in the text's order
    assert synovitis["massage"]["qualifier"] == "can also be used; under medical guidance"


def test_shared_intervention_is_one_entity_under_several_causes(backend_client: httpx.Client) -> None:
    causes = backend_client.get("/api/interventions/rest/causes").json()["items"]
    assert {c["id"] for c in causes} == {"muscle-fatigue", "calcium-deficiency", "osteoarthritis", "knee-synovitis"}
    assert len({c["recommendation"] for c in causes}) == 4


def test_intervention_filters_by_kind_and_supervision(backend_client: httpx.Client) -> None:
    drugs = backend_client.get("/api/interventions", params={"type": "drug"}).json()["items"]
    assert drugs and all(d["type"] == "drug" for d in drugs)
    supervised = backend_client.get("/api/interventions", params={"requires_medical_supervision": "true"}).json()["items"]
    unsupervised = backend_client.get("/api/interventions", params={"requires_medical_supervision": "false"}).json()["items"]
    assert {d["id"] for d in drugs} <= {s["id"] for s in supervised}
    assert "rest" in {u["id"] for u in unsupervised} and "rest" not in {s["id"] for s in supervised}
    everything = backend_client.get("/api/interventions", params={"limit": 500}).json()
    assert everything["total"] == len({i["id"] for i in supervised + unsupervised})


def test_drug_detail_has_class_dosage_form_route_and_mappings(backend_client: httpx.Client) -> None:
    drug = backend_client.get("/api/interventions/ibuprofen-sustained-release-capsules").json()
    assert drug["drug"]["drug_class"]["id"] == "nsaid"
    assert drug["drug"]["dosage_form"]["label"] == "sustained-release capsule"
    assert drug["drug"]["route"]["label"] == "oral"
    # a product is not its molecule: ChEBI's ibuprofen is a related match, ATC's ibuprofen a close one
    assert {"match": "relatedMatch", "iri": "http://purl.obolibrary.org/obo/CHEBI_5855"} in drug["mappings"]
    assert {"match": "closeMatch", "iri": "http://purl.bioontology.org/ontology/ATC/M01AE01"} in drug["mappings"]
    assert "ibuprofen" in drug["related_synonyms"]  # the molecule names the product only loosely


def test_causes_of_symptom_marks_direct_links_asserted(backend_client: httpx.Client) -> None:
    items = backend_client.get("/api/symptoms/nocturnal-knee-soreness/causes").json()["items"]
    assert {i["id"] for i in items} >= {"meniscal-injury", "osteoporosis", "calcium-deficiency"}
    assert all(i["relation"] in ("asserted", "inferred") for i in items)
    assert next(i for i in items if i["id"] == "osteoporosis")["relation"] == "asserted"


def test_mechanisms_carry_triggers_and_evidence(backend_client: httpx.Client, source_text: str) -> None:
    items = backend_client.get("/api/causes/knee-synovitis/mechanisms").json()["items"]
    assert [i["id"] for i in items] == ["synovial-congestion-and-edema"]
    assert items[0]["triggers"][0]["id"] == "daytime-physical-activity"
    for ev in items[0]["evidence"]:
        assert source_text[ev["start"]:ev["end"]] == ev["quote"]


def test_paths_follow_the_chain_through_osteoporosis(backend_client: httpx.Client) -> None:
    body = backend_client.get("/api/paths", params={"from": "calcium-deficiency", "to": "nocturnal-knee-soreness"}).json()
    chains = [[step["id"] for step in path] for path in body["paths"]]
    assert ["calcium-deficiency", "nocturnal-knee-soreness"] in chains
    assert ["calcium-deficiency", "osteoporosis", "nocturnal-knee-soreness"] in chains
    assert all(c[0] == "calcium-deficiency" and c[-1] == "nocturnal-knee-soreness" for c in chains)
    assert [len(c) for c in chains] == sorted(len(c) for c in chains)


@pytest.mark.parametrize("text,expected", [("synov", "knee-synovitis"), ("meniscus", "meniscal-injury"),
                                           ("osteoartritis", "osteoarthritis"), ("OSTEOPOROSIS", "osteoporosis"),
                                           ("oedema", "synovial-congestion-and-edema"), ("NSAIDs", "nsaid")])
def test_search_finds_what_people_type(backend_client: httpx.Client, text: str, expected: str) -> None:
    body = backend_client.get("/api/search", params={"q": text}).json()
    assert body["query"] == text
    ids = [r["id"] for r in body["results"]]
    assert expected in ids[:3], ids
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_type_filter_keeps_one_category(backend_client: httpx.Client) -> None:
    results = backend_client.get("/api/search", params={"q": "calcium", "type": "intervention"}).json()["results"]
    assert results and all(r["category"] == "intervention" for r in results)
    assert "calcium-deficiency" not in [r["id"] for r in results]


def test_unknown_id_is_404_problem_with_suggestions(backend_client: httpx.Client) -> None:
    body = problem(backend_client.get("/api/causes/osteoarthritus"), 404, "unknown-id")
    assert body["suggestions"][0]["id"] == "osteoarthritis"
    body = problem(backend_client.get("/api/causes/rest/interventions"), 404, "unknown-id")
    assert "/api/interventions/rest" in body["detail"]


@pytest.mark.parametrize("url,params", [("/api/causes", {"limit": "0"}), ("/api/causes", {"limit": "many"}),
                                         ("/api/interventions", {"type": "surgery"}),
                                         ("/api/interventions", {"requires_medical_supervision": "maybe"}),
                                         ("/api/search", {"q": ""}), ("/api/search", {"q": "x", "type": "planet"}),
                                         ("/api/queries/interventions_for_cause", {"cause": "a b"}),
                                         ("/api/queries/interventions_for_cause", {}),
                                         ("/api/queries/interventions_for_cause", {"cause": "rest", "extra": "1"})])
def test_bad_input_is_a_422_problem_that_says_what_is_wrong(backend_client: httpx.Client, url: str, params: dict) -> None:
    body = problem(backend_client.get(url, params=params), 422, "invalid-parameter")
    assert body.get("hint") or body.get("errors")


def test_unknown_route_and_query_are_404_problems(backend_client: httpx.Client) -> None:
    problem(backend_client.get("/api/nothing-here"), 404, "not-found")
    problem(backend_client.get("/api/queries/drop_everything"), 404, "not-found")


def test_responses_carry_the_graph_version_as_etag_and_honour_if_none_match(backend_client: httpx.Client) -> None:
    version = backend_client.get("/readyz").json()["version"]
    first = backend_client.get("/api/causes/osteoarthritis/interventions")
    assert version in first.headers["etag"]
    again = backend_client.get("/api/causes/osteoarthritis/interventions", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    changed = backend_client.get("/api/causes/osteoarthritis/interventions", headers={"If-None-Match": '"stale"'})
    assert changed.status_code == 200 and changed.json() == first.json()


def test_stored_queries_are_listed_with_sparql_and_typed_parameters(backend_client: httpx.Client) -> None:
    queries = {q["name"]: q for q in backend_client.get("/api/queries").json()}
    q = queries["interventions_for_cause"]
    assert "SELECT" in q["sparql"] and q["parameters"][0] == {
        "name": "cause", "type": "id", "required": True, "description": "Identifier of the cause (or symptom).",
        "example": "osteoarthritis", "enum": None}
    run = backend_client.get("/api/queries/interventions_for_cause", params={"cause": "cold-exposure"}).json()
    labels = {row["label"]["value"] for row in run["bindings"]}
    assert labels == {"soaking the feet before bedtime", "keeping warm"}


def test_parameters_are_bound_as_terms_not_text(backend_client: httpx.Client) -> None:
    """An injection attempt through a stored-query parameter is just an id that matches nothing."""
    hostile = 'x> ?p ?o } UNION { ?s ?p ?o } #'
    response = backend_client.get("/api/queries/interventions_for_cause", params={"cause": hostile})
    problem(response, 422, "invalid-parameter")
    response = backend_client.get("/api/queries/entities_of_category", params={"category": 'cause" } UNION { ?s ?p ?o } #'})
    assert response.status_code == 200 and response.json()["bindings"] == []


def test_openapi_documents_each_operation_with_its_stored_query(backend_client: httpx.Client) -> None:
    spec = backend_client.get("/openapi.json").json()
    operation = spec["paths"]["/api/causes/{cause_id}/interventions"]["get"]
    assert "queries/interventions_for_cause.rq" in operation["description"]
    assert operation["x-sparql"].strip().startswith("PREFIX")
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "$ref" in schema  # a typed response model, not an untyped object
    assert backend_client.get("/docs").status_code == 200


def test_cors_allows_reads_from_other_origins_without_credentials(backend_client: httpx.Client) -> None:
    response = backend_client.get("/api/causes", headers={"Origin": "https://yasgui.example"})
    assert response.headers["access-control-allow-origin"] in ("*", "https://yasgui.example")
    assert "access-control-allow-credentials" not in response.headers


def test_libyaml_reads_every_query_header_and_the_ask_vocabulary_as_pyyaml_does() -> None:
    """The catalog and the question vocabulary are read with libyaml's parser (a restart reads every header): it must
    give the same data as PyYAML's own parser, for every file the service reads YAML from."""
    from pathlib import Path

    import yaml
    from conftest import ROOT

    import kg_service.catalog as catalog

    assert catalog.SAFE_LOADER is yaml.CSafeLoader  # PyYAML's wheels carry libyaml here
    fast = catalog.Catalog.load(ROOT / "queries")
    pure_loader, catalog.SAFE_LOADER = catalog.SAFE_LOADER, yaml.SafeLoader
    try:
        pure = catalog.Catalog.load(ROOT / "queries")
    finally:
        catalog.SAFE_LOADER = pure_loader
    assert len(fast.queries) >= 30 and fast.queries == pure.queries
    for name in ("vocabulary.yaml", "intents.yaml"):
        text = (Path(catalog.__file__).parent / "ask" / name).read_text(encoding="utf-8")
        assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text)
