"""Stores behind one small interface, chosen by name (the shape of rdflib's plugin registry)."""

from __future__ import annotations

from kg_service.backends.base import Backend, BackendError, Bindings, Row
from kg_service.graph import LoadedGraph
from kg_service.settings import Settings

__all__ = ["Backend", "BackendError", "Bindings", "Row", "create_backend"]


def create_backend(settings: Settings, loaded: LoadedGraph) -> Backend:
    """Build the backend the settings name, over the loaded graph (remote ones ignore it)."""
    if settings.backend == "oxigraph":
        from kg_service.backends.oxigraph import OxigraphBackend

        return OxigraphBackend(loaded)
    if settings.backend == "rdflib":
        from kg_service.backends.rdflib_memory import RdflibBackend

        return RdflibBackend(loaded)
    if settings.backend == "remote":
        from kg_service.backends.remote import RemoteBackend

        if not settings.endpoint:
            raise ValueError("the remote backend needs --endpoint URL (or KG_ENDPOINT)")
        return RemoteBackend(settings.endpoint, timeout_s=settings.query_timeout_s)
    raise ValueError(f"unknown backend {settings.backend!r}")
