"""Reload `ontology/` atomically: build and check a whole new state, swap it in, retire the old one later.

A broken ontology (syntax error, SHACL violation, HermiT inconsistency) is rejected with its report and
the old graph keeps serving; requests already holding the old state finish on it.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from kg_service.graph import OntologyLoadError, current_version, load_graph
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

    The checks (rdflib, SHACL, and HermiT and the OWL API on Java) run in a thread while the new store is built
    in a child process and the new state's search index is read: side by side instead of one after the other.
    Nothing of the new version is served before they pass."""
    from kg_service.validation import validate_ontology

    with holder.reload_lock:
        previous = holder.current
        if current_version(settings.ontology_dir, settings.data_files, settings.store_dir) == previous.version:
            return ReloadResult(previous.version, previous.version, changed=False)
        with ThreadPoolExecutor(1, thread_name_prefix="reload-checks") as checks:
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
            report = checking.result()
        if not report.ok:
            new_state.close()
            raise ReloadRejected(report.render())
        new_state.search.wait()  # no request of the new version waits for its search index
        holder.swap(new_state)
        # In-flight requests may still hold the old state (and its workers): retire it after they can finish.
        grace = settings.query_timeout_s + 2
        threading.Timer(grace, previous.close).start()
        log.info("reloaded ontology %s -> %s", previous.version, loaded.version)
        return ReloadResult(loaded.version, previous.version, changed=True)


def reload_on_signal(holder: StateHolder, settings: Settings) -> None:
    """SIGHUP handler body: like POST /admin/reload, but the report goes to the log."""
    try:
        result = reload_state(holder, settings)
        log.warning("SIGHUP reload: %s (version %s)", "reloaded" if result.changed else "unchanged", result.version)
    except ReloadRejected as exc:
        log.error("SIGHUP reload rejected; still serving %s:\n%s", holder.current.version, exc.report)
