"""The forkserver the SPARQL workers fork from: importing this module costs nothing, so `kg-service serve`
starts it first, and the forkserver's own imports run on the other core while the app's are read."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

WORKER_MODULE = "kg_service.sparql.worker"  # imported once by the forkserver, inherited by every worker
PRELOAD = [WORKER_MODULE]
# rdflib's SPARQL parser and engine: only the rdflib backend's workers use them (worker.harden_process); the
# Oxigraph backend's workers never do, and a start no longer waits for their import.
RDFLIB_PRELOAD = [*PRELOAD, "rdflib.plugins.sparql"]


def forkserver_context(backend: str | None = None) -> Any:
    """The forkserver context; the first call that starts the server decides what it preloads."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(RDFLIB_PRELOAD if backend == "rdflib" else PRELOAD)
    return context


def warm_up_workers(backend: str | None = None) -> None:
    """Start the forkserver (it imports what workers need) in the background: the pool's
    workers then fork from it at once. Called again, it does nothing."""
    forkserver_context(backend)
    from multiprocessing import forkserver

    threading.Thread(target=forkserver.ensure_running, name="forkserver-start", daemon=True).start()
