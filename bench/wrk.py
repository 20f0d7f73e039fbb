"""wrk (the C load generator, Debian package `wrk`) driven from Python: one run, one JSON summary.

A Python client saturates near 1.5-1.9k req/s on this machine, below what the servers serve, so every
throughput figure of the harness comes from wrk. Each run gets a small generated Lua script that prints
wrk's summary as one JSON line; a "distinct" run also builds every request's path in Lua with a unique
piece in it (a SPARQL comment, a throw-away parameter), so no result cache can answer it. The piece starts
with a tag of its own run: rounds and concurrency levels run the same script again, and without the tag their
paths would repeat the earlier runs' paths, which a result cache of the server then answers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

WRK = "wrk"
MARK = "WRKJSON "

_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    MARK, summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""

# Threads get an id in setup(); request() appends "<run>x<id>x<counter>" between the two halves of the path.
_DISTINCT = r"""
local before, after = %(before)s .. %(run)s .. "x", %(after)s
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, before .. tid .. "x" .. counter .. after)
end
"""


@dataclass
class WrkResult:
    """wrk's summary of one run; rps counts only answers with a 2xx/3xx status."""

    requests: int
    duration_s: float
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def ok(self) -> int:
        return max(0, self.requests - self.errors.get("status", 0))

    @property
    def rps(self) -> float:
        return round(self.ok / self.duration_s, 1) if self.duration_s else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok, "rps": self.rps}


def available() -> bool:
    return shutil.which(WRK) is not None


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def lua_script(headers: dict[str, str], distinct: tuple[str, str] | None) -> str:
    """The script of one run: headers, the JSON summary, and for a distinct run the path builder (its paths
    tagged with a new random run tag each time, so no two scripts make the same path)."""
    lines = [f"MARK = {_lua_string(MARK)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    if distinct is not None:
        lines.append(_DISTINCT % {"before": _lua_string(distinct[0]), "after": _lua_string(distinct[1]),
                                  "run": _lua_string(uuid.uuid4().hex[:12])})
    lines.append(_DONE)
    return "\n".join(lines)


def run(url: str, connections: int, duration_s: float, *, threads: int = 2, headers: dict[str, str] | None = None,
        distinct: tuple[str, str] | None = None, timeout_s: float = 10.0) -> WrkResult:
    """`wrk -t{threads} -c{connections} -d{duration}` on url (scheme://host:port/path?query).

    With `distinct=(before, after)`, the request path is before + "<run>x<thread>x<n>" + after (url's own path
    is then ignored), so every request differs, from every other run's too."""
    threads = max(1, min(threads, connections))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(headers or {}, distinct))
    try:
        command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s", f"--timeout={timeout_s:g}s",
                   "-s", script.name, url]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + timeout_s + 30,
                              check=False)
    finally:
        Path(script.name).unlink(missing_ok=True)
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            data = json.loads(line[len(MARK):])
            def us(key: str, data: dict = data) -> float:
                return round(data[key] / 1000, 3)

            return WrkResult(requests=data["requests"], duration_s=data["duration_us"] / 1e6,
                             errors={k: data[k] for k in ("connect", "read", "write", "status", "timeout")},
                             p50_ms=us("p50_us"), p90_ms=us("p90_us"), p99_ms=us("p99_us"), max_ms=us("max_us"),
                             mean_ms=round(data["mean_us"] / 1000, 3))
    raise RuntimeError(f"wrk gave no summary (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout[-400:]}")
