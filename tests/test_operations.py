"""Operations: health, readiness with version and size, Prometheus metrics."""

from __future__ import annotations

import httpx


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["backend"] == "oxigraph"
    assert ready["triples"] == ready["asserted_triples"] + ready["inferred_triples"] > 3000
    assert len(ready["version"]) == 16


def test_readiness_in_front_of_fastapi_is_the_routes_answer(client: httpx.Client) -> None:
    """A plain GET /readyz is answered before FastAPI (api.common.CachedAnswers), a cross-origin one by the route:
    the same document, valid against the route's model, and counted under the same route."""
    from kg_service.api.models import Readiness

    front = client.get("/readyz")
    routed = client.get("/readyz", headers={"Origin": "https://example.org"})
    assert front.status_code == routed.status_code == 200
    assert "access-control-allow-origin" in routed.headers and "access-control-allow-origin" not in front.headers
    assert front.json() == routed.json()
    assert front.content == Readiness.model_validate_json(routed.content).model_dump_json().encode()
    assert front.headers["content-type"] == "application/json"
    head = client.head("/readyz")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(front.content))
    metrics = client.get("/metrics").text
    assert 'kg_http_requests_total{method="GET",route="/readyz",status="200"}' in metrics


def test_metrics_count_requests_and_stored_query_durations(client: httpx.Client) -> None:
    client.get("/api/causes/cold-exposure/mechanisms", params={"limit": 7})
    text = client.get("/metrics").text
    assert 'kg_http_requests_total{method="GET",route="/api/causes/{cause_id}/mechanisms",status="200"}' in text
    assert 'kg_stored_query_duration_seconds_count{query="mechanisms_for_cause"}' in text
