"""Reload `ontology/` atomically: build and check a whole new state, swap it in, retire the old one later.

A broken ontology (syntax error, SHACL violation, HermiT inconsistency) is rejected with its report and
the old graph keeps serving; requests already holding the old state finish on it. A reload is announced beside
the store, so that the other processes of a `serve --processes N` follow it (`follow_reloads`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from kg_service.graph import OntologyLoadError, current_version, load_graph, store_home
from kg_service.settings import Settings
from kg_service.state import StateHolder, build_state

log = logging.getLogger("kg_service.reload")


class ReloadRejected(Exception):
    """The new ontology failed its checks; `report` says what and where."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


@dataclass(frozen=True)
class ReloadResult:
    version: str
    previous_version: str
    changed: bool


def reload_state(holder: StateHolder, settings: Settings) -> ReloadResult:
    """Load, validate and swap; raise ReloadRejected and keep the old state on any failure.

    The checks (rdflib, SHACL, and HermiT and the OWL API on Java) run in a process of their own while the new
    store is built and the new state's search index is read: side by side, and on another core than this
    process's Python work (in a thread they took turns with the search index for the GIL: seconds at 1M).
    Nothing of the new version is served before they pass."""
    from kg_service.sparql.forkserver import forkserver_context
    from kg_service.validation import validate_ontology

    with holder.reload_lock:
        previous = holder.current
        if current_version(settings.ontology_dir, settings.data_files, settings.store_dir) == previous.version:
            return ReloadResult(previous.version, previous.version, changed=False)
        with ProcessPoolExecutor(1, mp_context=forkserver_context()) as checks:
            checking = checks.submit(validate_ontology, settings, reasoner=not settings.skip_reasoner_on_reload)
            try:
                # The version being served stays on disk (requests and workers still read it) and, when --data
                # is unchanged, the new store starts from a copy of it: only the modules are parsed again.
                loaded = load_graph(settings.ontology_dir, settings.data_files, settings.store_dir,
                                    keep_versions=[previous.version])
            except OntologyLoadError as exc:
                raise ReloadRejected(f"the ontology does not load: {exc}") from exc
            if loaded.version == previous.version:  # edited back while the checks ran
                return ReloadResult(loaded.version, previous.version, changed=False)
            new_state = build_state(settings, loaded)  # its search index is read in the background meanwhile
            try:
                report = checking.result()
            except BrokenProcessPool as exc:  # the checks' process died (killed, out of memory): nothing is proven
                new_state.close()
                raise ReloadRejected(f"the checks could not run to the end: {exc}") from exc
        if not report.ok:
            new_state.close()
            raise ReloadRejected(report.render())
        new_state.search.wait()  # no request of the new version waits for its search index
        holder.swap(new_state)
        # In-flight requests may still hold the old state (and its workers): retire it after they can finish.
        grace = settings.query_timeout_s + 2
        threading.Timer(grace, previous.close).start()
        log.info("reloaded ontology %s -> %s", previous.version, loaded.version)
        _announce(settings, loaded.version)
        return ReloadResult(loaded.version, previous.version, changed=True)


def _announcement(settings: Settings) -> Path:
    return store_home(settings.ontology_dir, settings.data_files, settings.store_dir) / "reloaded"


def _announce(settings: Settings, version: str) -> None:
    """Write the version just swapped in beside the store (atomically), for the other processes to follow."""
    path = _announcement(settings)
    with contextlib.suppress(OSError):  # a read-only store directory: the other processes are not told
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(version, encoding="utf-8")
        os.replace(partial, path)


def follow_reloads(holder: StateHolder, settings: Settings, stop: threading.Event) -> None:
    """Every `follow_reloads_s`, until `stop`: when another process announced a version this one does not serve,
    reload too (the store of that version is on disk already: it is opened, not built). Each announced version
    is tried once; a rejection is logged and the old version keeps serving."""
    path, tried = _announcement(settings), None
    while not stop.wait(settings.follow_reloads_s):
        try:
            announced = path.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if announced in (holder.current.version, tried):
            continue
        tried = announced
        try:
            result = reload_state(holder, settings)
            log.warning("followed a reload announced by another process: %s (version %s)",
                        "reloaded" if result.changed else "unchanged", result.version)
        except ReloadRejected as exc:
            log.error("a reload announced by another process was rejected here; still serving %s:\n%s",
                      holder.current.version, exc.report)
        except Exception:  # noqa: BLE001 - the follower must outlive any one failed reload
            log.exception("following a reload failed; still serving %s", holder.current.version)


def reload_on_signal(holder: StateHolder, settings: Settings) -> None:
    """SIGHUP handler body: like POST /admin/reload, but the report goes to the log."""
    try:
        result = reload_state(holder, settings)
        log.warning("SIGHUP reload: %s (version %s)", "reloaded" if result.changed else "unchanged", result.version)
    except ReloadRejected as exc:
        log.error("SIGHUP reload rejected; still serving %s:\n%s", holder.current.version, exc.report)
