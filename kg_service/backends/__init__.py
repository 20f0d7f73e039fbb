"""Stores behind one small interface, chosen by name from a registry (the shape of rdflib's plugin registry
and Prez's `Repo`): `--backend NAME` picks one; a new store is one module and one `register` line."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

from kg_service.backends.base import Backend, BackendError, Bindings, Row

if TYPE_CHECKING:
    from kg_service.graph import LoadedGraph
    from kg_service.settings import Settings

__all__ = ["BACKENDS", "Backend", "BackendError", "Bindings", "Row", "create_backend", "register"]

# name -> "module:factory"; the factory takes (settings, loaded) and returns a Backend. Imported on first use.
BACKENDS: dict[str, str] = {}


def register(name: str, factory: str) -> None:
    BACKENDS[name] = factory


register("oxigraph", "kg_service.backends.oxigraph:OxigraphBackend.create")
register("rdflib", "kg_service.backends.rdflib_memory:RdflibBackend.create")
register("remote", "kg_service.backends.remote:RemoteBackend.create")


def create_backend(settings: Settings, loaded: LoadedGraph) -> Backend:
    """Build the backend the settings name, over the loaded graph (remote ones ignore it)."""
    try:
        module_name, attribute = BACKENDS[settings.backend].split(":")
    except KeyError:
        raise ValueError(f"unknown backend {settings.backend!r}; known: {', '.join(sorted(BACKENDS))}") from None
    factory: Callable = import_module(module_name)
    for part in attribute.split("."):
        factory = getattr(factory, part)
    return factory(settings, loaded)
