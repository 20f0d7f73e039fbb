"""One settings object for the whole service; every limit is a named, env-overridable setting (KG_*)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
BUNDLED_ROOT = Path(__file__).resolve().parent / "bundled"  # ontology/ and queries/ as shipped in the wheel


def data_dir(name: str) -> Path:
    """A checkout's own `ontology/` or `queries/` (what a curator edits), else the copy bundled in the package."""
    checkout = PROJECT_ROOT / name
    return checkout if checkout.is_dir() or not (BUNDLED_ROOT / name).is_dir() else BUNDLED_ROOT / name


BackendName = Literal["oxigraph", "rdflib", "remote"]


class Settings(BaseSettings):
    """Paths, backend choice, limits and tokens. Read from `KG_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="KG_", extra="ignore")

    ontology_dir: Path = Field(default_factory=lambda: data_dir("ontology"),
                               description="Directory holding the Turtle modules.")
    queries_dir: Path = Field(default_factory=lambda: data_dir("queries"),
                              description="Directory holding the stored queries (*.rq).")
    backend: BackendName = Field("oxigraph", description="Store that answers queries.")
    endpoint: str | None = Field(None, description="SPARQL endpoint URL for the remote backend.")
    data_files: list[Path] = Field([], description="Extra RDF (N-Triples, N-Quads, Turtle) loaded into the "
                                   "asserted graph, included in the closure and the version (serve --data).")
    store_dir: Path = Field(CACHE_HOME / "kg-service" / "store", description="Where the on-disk store (asserted "
                            "and inferred graphs) is kept under its content version; an unchanged ontology "
                            "reopens it instead of parsing and inferring again.")

    # The SPARQL endpoint's limits (see research/sparql-security.md for why each exists).
    query_timeout_s: float = Field(10.0, gt=0, description="Wall-clock deadline per user query.")
    worker_count: int = Field(2, ge=1, description="Worker processes that run user SPARQL.")
    queue_size: int = Field(64, ge=0, description="Queries that may wait for a worker before 503.")
    queue_timeout_s: float = Field(30.0, gt=0, description="How long a query may wait for a free worker before 503.")
    worker_memory_mb: int = Field(1024, ge=128, description="RLIMIT_AS of each worker process.")
    worker_niceness: int = Field(10, ge=0, le=19, description="CPU niceness of the workers (the HTTP process "
                                 "keeps priority, so /healthz stays fast while a query burns).")
    bounded_max_solutions: int = Field(1000, ge=0, description="A query that is one triple pattern with "
                                       "LIMIT + OFFSET at most this (see sparql/bounded.py) runs at once in the "
                                       "HTTP process instead of a worker; 0 sends every query to the workers.")
    max_query_chars: int = Field(16_384, ge=64, description="Longest accepted query text.")
    max_body_bytes: int = Field(65_536, ge=256, description="Largest accepted request body.")
    max_nesting_depth: int = Field(24, ge=4, description="Deepest accepted bracket nesting in a query.")
    max_triple_patterns: int = Field(80, ge=1, description="Most triple patterns (about) in one query.")
    max_operators: int = Field(1000, ge=1, description="Most operators in one query (long chains crash engines).")
    client_budget_s: float = Field(60.0, ge=0, description="Worker-seconds per minute one client address may use "
                                   "on /sparql before 429 (0 turns the budget off).")
    client_budget_exempt: list[str] = Field(["127.0.0.1", "::1"], description="Client addresses without a budget: "
                                            "the machine itself (operators, local notebooks, the load test); "
                                            "behind a local reverse proxy the address is X-Forwarded-For's.")
    max_result_rows: int = Field(10_000, ge=1, description="Rows returned before a result is truncated.")
    max_result_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="Bytes returned before truncation.")
    max_accept_ranges: int = Field(32, ge=1, description="Media ranges of an Accept header that are read.")

    admin_token: str | None = Field(None, description="Bearer token for POST /admin/reload; unset disables it.")
    cors_origins: list[str] = Field(["*"], description="Origins allowed to read from browsers.")
    skip_reasoner_on_reload: bool = Field(False, description="Skip the HermiT check when reloading.")
    follow_reloads_s: float = Field(0.0, ge=0, description="How often a server process looks whether another "
                                    "process of the same service reloaded (serve --processes N sets 1 s); 0: "
                                    "never, a lone process hears of every reload itself.")
