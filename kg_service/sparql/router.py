"""/sparql: the SPARQL 1.1 Protocol endpoint (query operation only), in front of the worker pool.

A request is read strictly (protocol.py), pre-checked (prechecks.py), negotiated (negotiation.py), looked up
in the version-keyed cache, and otherwise run by the state's runner (executor.py) off the event loop, so a
slow query never stalls other requests. A client that disconnects cancels its query.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request, Response

from kg_service.api.common import get_state, not_modified, remember_answer
from kg_service.errors import UnacceptableFormat
from kg_service.sparql import results as fmt
from kg_service.sparql.budget import ClientBudget
from kg_service.sparql.disconnect import SCOPE_KEY as CLIENT_GONE
from kg_service.sparql.executor import Cancelled, PoolClosed, QueryControl, failure_to_problem
from kg_service.sparql.negotiation import choose
from kg_service.sparql.prechecks import precheck
from kg_service.sparql.protocol import QueryRequest, read_query_request
from kg_service.sparql.results import Limits, Serialized
from kg_service.sparql.service_description import query_page, service_description
from kg_service.sparql.worker import Failure, Job, execute
from kg_service.state import ServiceState

router = APIRouter(tags=["SPARQL"])
MAX_CACHED_BODY = 256 * 1024
CACHE_BUDGET_BYTES = 32 * 1024 * 1024
TRUNCATED_HEADER = "X-Result-Truncated"
DISCONNECT_POLL_S = 0.1
MIN_TIMEOUT_S = 0.5

RESPONSES = {200: {"description": "Query results (SELECT/ASK) or an RDF graph (CONSTRUCT/DESCRIBE), or, with no "
                                  "query, the SPARQL 1.1 Service Description.",
                   "content": {m: {} for m in (*fmt.SOLUTION_FORMATS, *fmt.GRAPH_FORMATS, "text/html")}}}


class ResultsCache:
    """Recent /sparql answers of one graph version, least recently used evicted beyond a byte budget
    (distinct queries are unbounded in number; memory is not)."""

    def __init__(self, budget: int = CACHE_BUDGET_BYTES) -> None:
        self.entries: OrderedDict[str, Serialized] = OrderedDict()
        self.budget = budget
        self.size = 0

    def get(self, key: str) -> Serialized | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Serialized) -> None:
        if len(entry.body) > MAX_CACHED_BODY or key in self.entries:
            return
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.size > self.budget:
            _, evicted = self.entries.popitem(last=False)
            self.size -= len(evicted.body)


def _results_cache(state: ServiceState) -> ResultsCache:
    """The version's results cache, one derived slot of the state's cache (emptied when that part is full)."""
    return state.cache.derived("sparql-results", ResultsCache)


def _etag(state: ServiceState, job: Job) -> str:
    key = "\x00".join([job.query, job.media_type, *job.default_graphs, "|", *job.named_graphs])
    return f'"{state.version}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"'


def _describe_service(request: Request, state: ServiceState, wanted: QueryRequest) -> Response:
    settings = state.settings
    media = choose([fmt.TURTLE, fmt.JSONLD, fmt.NTRIPLES, fmt.RDFXML, "text/html"], fmt.TURTLE,
                   request.headers.get("accept"), wanted.format, settings.max_accept_ranges)
    headers = {"Vary": "Accept"}  # one URL, several representations
    if media == "text/html":
        return Response(query_page(), media_type="text/html; charset=utf-8", headers=headers)
    graph = service_description(str(request.url.replace(query="")))
    if media == fmt.JSONLD:
        body = graph.serialize(format="json-ld", auto_compact=True).encode()
    else:
        body = graph.serialize(format=fmt.RDFLIB_GRAPH_FORMATS[media], encoding="utf-8")
    return Response(body, media_type=media, headers=headers)


def _sparql_threads(request: Request) -> CapacityLimiter:
    """Threads that wait on the worker pool get their own limiter: queued /sparql queries must never use up
    the threads the friendly endpoints answer from (anyio's default pool has 40)."""
    limiter = getattr(request.app.state, "sparql_threads", None)
    if limiter is None:
        settings = request.app.state.settings
        limiter = CapacityLimiter(settings.worker_count + settings.queue_size + 1)
        request.app.state.sparql_threads = limiter
    return limiter


def _client_budget(request: Request) -> ClientBudget:
    """One budget per app, kept across reloads (a reload must not hand every client a fresh minute)."""
    budget = getattr(request.app.state, "client_budget", None)
    if budget is None:
        settings = request.app.state.settings
        budget = request.app.state.client_budget = ClientBudget(settings.client_budget_s,
                                                                exempt=settings.client_budget_exempt)
    return budget


async def _run(request: Request, runner, job: Job, timeout: float):
    """Run off the event loop, within the client's budget of worker time; stop the query if the client goes away."""
    budget = _client_budget(request)
    client = request.client.host if request.client else "unknown"
    budget.check(client)
    cancel = QueryControl()
    started = time.monotonic()
    try:
        return await _run_cancellable(request, runner, job, timeout, cancel)
    finally:
        budget.charge(client, cancel.worker_seconds or time.monotonic() - started)


def _run_bounded(state: ServiceState, job: Job) -> Serialized:
    """A query whose text bounds its work (sparql/bounded.py), answered at once by this process's own store:
    the same checks, dataset, writers and errors as in a worker, without the round trip."""
    answer = execute(state.bounded, job)
    stats = getattr(state.runner, "stats", None)
    if stats is not None:
        stats.answered_in_process += 1
    if isinstance(answer, Failure):
        raise failure_to_problem(answer)
    return answer


async def _run_cancellable(request: Request, runner, job: Job, timeout: float, cancel: QueryControl):
    watched: asyncio.Event | None = request.scope.get(CLIENT_GONE)  # set by ClientDisconnectWatch

    async def gone() -> bool:
        return watched.is_set() if watched is not None else await request.is_disconnected()

    if getattr(runner, "asynchronous", False):  # the worker pool: awaited on the event loop, no thread, no task
        return await runner.run_async(job, timeout, cancel, gone)
    # A blocking runner (the remote store): in a thread of its own limiter, its cancel flag set from here.
    task = asyncio.ensure_future(to_thread.run_sync(runner.run, job, timeout, cancel,
                                                    limiter=_sparql_threads(request)))
    while not task.done():
        done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL_S)
        if not done and await gone():
            cancel.set()
    return task.result()


@router.api_route("/sparql", methods=["GET", "HEAD", "POST"], responses=RESPONSES,
                  summary="SPARQL 1.1 query endpoint (read-only)")
async def sparql(request: Request) -> Response:
    """W3C SPARQL 1.1 Protocol, query operation: `query` by GET, form POST or `application/sparql-query` POST;
    `default-graph-uri` / `named-graph-uri` select among the public graphs (asserted, inferred); results by
    `Accept` (q-values) or `format` (json, xml, csv, tsv, ttl, jsonld, nt, rdfxml or a media type). With no
    query: the SPARQL 1.1 Service Description (Turtle, JSON-LD, N-Triples, RDF/XML), or a form for browsers.

    * Read-only and local: SERVICE, LOAD, updates, `\\u` escapes and graphs other than the public ones are refused
      (400); `update=` / `application/sparql-update` get 403.
    * Every query has a deadline (503 `query-timeout` with `Retry-After`); `timeout=<seconds>` may shorten it (to 0.5 s at least).
      When all workers are busy the answer is 503 `overloaded` at once.
    * Each client address may use `client_budget_s` seconds of worker time a minute; past it, 429
      `client-budget-spent` with `Retry-After` (answers already cached still come).
    * Relative IRIs resolve against `https://w3id.org/knee-soreness/`; an extension function is 400
      `unsupported-function`.
    * A result over the row or byte limit is cut between rows and stays a complete document; the response then
      carries `X-Result-Truncated: rows=N` (or `bytes=N`) and a `Warning: 199` header. Page with LIMIT/OFFSET.
    * Responses carry an `ETag` (graph version + request); `If-None-Match` gives 304."""
    state = get_state(request)
    wanted = await read_query_request(request, state.settings.max_body_bytes)
    if wanted.query is None:
        return _describe_service(request, state, wanted)
    return await answer_query(request, wanted)


async def answer_query(request: Request, wanted: QueryRequest) -> Response:
    """The answer to one query request: the route's, and the ASGI front's (front.py) for plain GETs."""
    try:
        return await _answer(request, get_state(request), wanted)
    except PoolClosed:  # a reload swapped the graph while the query waited: answer from the new version
        return await _answer(request, get_state(request), wanted)


async def _answer(request: Request, state: ServiceState, wanted: QueryRequest) -> Response:
    settings = state.settings
    scanned = precheck(wanted.query, settings.max_query_chars, settings.max_nesting_depth,
                       settings.max_triple_patterns, settings.max_operators,
                       settings.bounded_max_solutions if state.bounded is not None else 0)
    if scanned.form in ("select", "ask"):
        offered, default = list(fmt.SOLUTION_FORMATS), fmt.JSON_RESULTS
    else:
        offered, default = list(fmt.GRAPH_FORMATS), fmt.TURTLE
    try:
        media = choose(offered, default, request.headers.get("accept"), wanted.format, settings.max_accept_ranges)
    except UnacceptableFormat as problem:
        problem.detail = f"{problem.detail} A {scanned.form.upper()} query answers in: {', '.join(offered)}."
        raise
    job = Job(query=wanted.query, media_type=media,
              limits=Limits(rows=settings.max_result_rows, bytes=settings.max_result_bytes),
              default_graphs=wanted.default_graphs, named_graphs=wanted.named_graphs, normalized=scanned.normalized,
              prechecked=True, from_default=scanned.from_default, from_named=scanned.from_named)
    etag = _etag(state, job)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    results = _results_cache(state)
    cached = results.get(etag)
    if cached is None:
        # A `timeout` parameter may shorten the deadline, never lengthen it, nor go below a floor: a deadline
        # that every query misses would make each request a worker kill and respawn (~0.2 s of CPU).
        timeout = settings.query_timeout_s
        if wanted.timeout is not None:
            timeout = min(max(wanted.timeout, MIN_TIMEOUT_S), timeout)
        if scanned.bound is not None:  # only set when this state has an engine for it
            cached = _run_bounded(state, job)
        else:
            try:
                cached = await _run(request, state.runner, job, timeout)
            except Cancelled:
                return Response(status_code=499)  # nobody is listening; the worker was stopped
        results.put(etag, cached)
    if cached.truncated:
        headers[TRUNCATED_HEADER] = cached.truncated
        headers["Warning"] = f'199 kg-service "result truncated at {cached.truncated}; add LIMIT/OFFSET to page"'
    content_type = media + ("; charset=utf-8" if media.startswith("text/") else "")
    if request.method == "HEAD":
        return Response(status_code=200, media_type=content_type,
                        headers={**headers, "Content-Length": str(len(cached.body))})
    return remember_answer(request, state, Response(cached.body, media_type=content_type, headers=headers))
