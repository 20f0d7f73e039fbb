"""The forkserver the SPARQL workers fork from: importing this module costs nothing, so `kg-service serve`
starts it first, and the forkserver's own imports run on the other core while the app's are read."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

WORKER_MODULE = "kg_service.sparql.worker"  # imported once by the forkserver, inherited by every worker
# rdflib's SPARQL parser: the workers check every query with it, and the HTTP process, which never parses with
# it, no longer imports it with the worker module.
PRELOAD = [WORKER_MODULE, "rdflib.plugins.sparql"]


def forkserver_context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def warm_up_workers() -> None:
    """Start the forkserver (it imports what workers need) in the background: the pool's
    workers then fork from it at once. Called again, it does nothing."""
    forkserver_context()
    from multiprocessing import forkserver

    threading.Thread(target=forkserver.ensure_running, name="forkserver-start", daemon=True).start()
