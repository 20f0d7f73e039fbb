"""The per-version cache: a derived structure is computed once per key, and neither part grows without bound
when clients ask for ever new URLs or questions (each is emptied when full and recomputed on demand)."""

from __future__ import annotations

from kg_service.state import VersionCache


def test_a_derived_structure_is_computed_once_per_key() -> None:
    cache, calls = VersionCache(), []
    for _ in range(3):
        assert cache.derived(("causal_hops",), lambda: calls.append(1) or {"a": [1]}) == {"a": [1]}
    assert calls == [1] and cache.peek(("causal_hops",)) == {"a": [1]} and cache.peek(("other",)) is None


def test_bodies_and_derived_values_stay_bounded() -> None:
    cache = VersionCache(max_bodies=8, max_derived=8)
    for i in range(100):
        cache.keep_body((f"/api/search?q={i}", "", "application/json", ""), str(i).encode())
        cache.derived(("ask", "answered", f"question {i}"), lambda: True)
    assert len(cache._bodies) <= 8 and len(cache._derived) <= 8
    assert cache.body(("/api/search?q=99", "", "application/json", "")) == b"99"  # the newest is kept
    assert cache.body(("/api/search?q=0", "", "application/json", "")) is None
