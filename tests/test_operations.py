"""Operations: health, readiness with version and size, Prometheus metrics."""

from __future__ import annotations

import httpx


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["backend"] == "oxigraph"
    assert ready["triples"] == ready["asserted_triples"] + ready["inferred_triples"] > 3000
    assert len(ready["version"]) == 16


def test_metrics_count_requests_and_stored_query_durations(client: httpx.Client) -> None:
    client.get("/api/causes/cold-exposure/mechanisms", params={"limit": 7})
    text = client.get("/metrics").text
    assert 'kg_http_requests_total{method="GET",route="/api/causes/{cause_id}/mechanisms",status="200"}' in text
    assert 'kg_stored_query_duration_seconds_count{query="mechanisms_for_cause"}' in text
