"""The run's tables (markdown) and chart (PNG): throughput ratios per path, time to ready against triples."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from throughput import BARE, OURS, OXIGRAPH, RAW, RDFLIB_EP

LIGHT = "/sparql light: labels LIMIT 10"
# About 5 ms of engine time a query (interventions_for_cause was, until 769cd84 made its evidence OPTIONAL start
# from the cause: now about 1 ms, and HTTP-bound).
QUERY_BOUND = ("/sparql recommendations",)
# Goals of issue 7, as ratios of one run.
FRIENDLY_VS_OXIGRAPH, HEALTHZ_VS_BARE, SPARQL_VS_OXIGRAPH, SPARQL_VS_RDFLIB = 1.0, 0.8, 0.5, 5.0
READY_VS_OXIGRAPH, RSS_VS_OXIGRAPH, RESTART_S, SEARCH_P50_MS, TWO_WORKERS = 1.5, 1.5, 2.0, 5.0, 1.6


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def size_label(size: int) -> str:
    return f"{size:,}" if size else "real ontology"


def search_p50(ours: dict[str, Any]) -> float | None:
    """The search p50 of a scale row, None when no answer was timed."""
    search = ours.get("search") or {}
    if search.get("mode") != "sequential" and not search.get("ok"):
        return None
    return search.get("p50_ms")


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


class Cells:
    """The throughput cells indexed by (workload, target, concurrency)."""

    def __init__(self, cells: Iterable[dict[str, Any]]) -> None:
        self.cells = list(cells)
        self.by_key = {(c["workload"], c["target"], c["concurrency"]): c for c in self.cells}
        self.workloads = list(dict.fromkeys(c["workload"] for c in self.cells))
        self.group = {c["workload"]: c["group"] for c in self.cells}

    def failed(self, workload: str, target: str, level: int) -> int:
        """Answers that were not 2xx/3xx, or never came (timeouts, resets), in that cell's wrk runs."""
        cell = self.by_key.get((workload, target, level)) or {}
        return sum((cell.get("errors") or {}).values())

    def rps(self, workload: str, target: str, level: int) -> tuple[float | None, bool]:
        """req/s, and whether it is a sequential (c1) figure standing in for this concurrency."""
        cell = self.by_key.get((workload, target, level))
        if cell is not None:
            return cell.get("rps"), cell.get("mode") == "sequential"
        cell = self.by_key.get((workload, target, 1))
        if cell is not None and cell.get("mode") == "sequential":
            return cell.get("rps"), True
        return None, False

    def levels(self, workload: str) -> list[int]:
        """The wrk concurrencies of a workload (a sequential figure stands in at each of them)."""
        levels = {c["concurrency"] for c in self.cells if c["workload"] == workload and c.get("mode") == "wrk"}
        return sorted(levels) or [1]

    def rows(self, workload: str) -> dict[str, Any]:
        return {c["target"]: c["rows"] for c in self.cells if c["workload"] == workload}

    def error(self, workload: str, target: str) -> str:
        """Why a target's probe of a workload gave no rows (its first cell that says)."""
        return next((c.get("error") or "no rows" for c in self.cells
                     if c["workload"] == workload and c["target"] == target and c.get("rows") is None), "no rows")


def ratio_rows(cells: Cells) -> list[dict[str, Any]]:
    """One row per workload and concurrency: req/s per target and ours ÷ peer."""
    out = []
    for work in cells.workloads:
        group = cells.group[work]
        for level in cells.levels(work):
            row: dict[str, Any] = {"workload": work, "group": group, "concurrency": level}
            for target in (RAW, BARE, OURS, OXIGRAPH, RDFLIB_EP):
                value, sequential = cells.rps(work, target, level)
                if value is not None:
                    row[target] = value
                    row[f"{target} sequential"] = sequential
            if group == "sparql":
                row["ours/Oxigraph"] = ratio(row.get(OURS), row.get(OXIGRAPH))
                row["ours/rdflib-endpoint"] = ratio(row.get(OURS), row.get(RDFLIB_EP))
            elif group == "friendly":
                row["compared with"] = "Oxigraph server, light query"
                row["ours/Oxigraph"] = ratio(row.get(OURS), cells.rps(LIGHT, OXIGRAPH, level)[0])
            elif work == "/healthz":
                row["compared with"] = "bare FastAPI"
                row["ours/bare FastAPI"] = ratio(row.get(OURS), cells.rps(f"{BARE} fixed bytes", BARE, level)[0])
            out.append(row)
    return out


def goals(rows: list[dict[str, Any]], scale_rows: list[dict[str, Any]], calibration: dict[str, Any],
          workers: dict[str, Any] | None = None) -> list[str]:
    """Each goal of issue 7 this run can speak to: met or missed, and by how much."""
    lines = []

    def check(name: str, values: list[tuple[str, float | None]], bound: float, above: bool = True) -> None:
        known = [(w, v) for w, v in values if v is not None]
        if not known:
            lines.append(f"| {name} | not measured | |")
            return
        worst = min(known, key=lambda x: x[1]) if above else max(known, key=lambda x: x[1])
        met = sum(1 for _, v in known if (v >= bound if above else v <= bound))
        verdict = "met" if met == len(known) else f"missed on {len(known) - met} of {len(known)}"
        lines.append(f"| {name} | {verdict} | worst {fmt(worst[1])} ({worst[0]}) |")

    at16 = [r for r in rows if r["concurrency"] == 16] or rows
    check(f"friendly cached answers >= {FRIENDLY_VS_OXIGRAPH}x Oxigraph (light query), c16",
          [(r["workload"], r.get("ours/Oxigraph")) for r in at16 if r["group"] == "friendly"], FRIENDLY_VS_OXIGRAPH)
    check(f"/healthz within 20 % of bare FastAPI (ratio >= {HEALTHZ_VS_BARE}), c16",
          [(r["workload"], r.get("ours/bare FastAPI")) for r in at16 if r["workload"] == "/healthz"], HEALTHZ_VS_BARE)
    check(f"/sparql distinct >= {SPARQL_VS_OXIGRAPH}x Oxigraph, c16",
          [(r["workload"], r.get("ours/Oxigraph")) for r in at16 if r["group"] == "sparql"], SPARQL_VS_OXIGRAPH)
    check(f"/sparql distinct >= {SPARQL_VS_RDFLIB:g}x rdflib-endpoint, c16",
          [(r["workload"], r.get("ours/rdflib-endpoint")) for r in at16 if r["group"] == "sparql"], SPARQL_VS_RDFLIB)
    measured = [s for s in scale_rows if isinstance(s.get("ours"), dict) and "ready_s" in s["ours"]]
    check(f"ready <= {READY_VS_OXIGRAPH}x the Oxigraph CLI (load + serve)",
          [(size_label(s["size"]), ratio(s["ours"]["ready_s"], s["oxigraph"]["ready_s"])) for s in measured],
          READY_VS_OXIGRAPH, above=False)
    check(f"restart on unchanged data < {RESTART_S:g} s",
          [(size_label(s["size"]), s["ours"].get("restart_ready_s")) for s in measured], RESTART_S, above=False)
    check(f"peak RSS <= {RSS_VS_OXIGRAPH}x the Oxigraph server",
          [(size_label(s["size"]), ratio(s["ours"]["peak_rss_mb"], s["oxigraph"]["peak_rss_mb"])) for s in measured],
          RSS_VS_OXIGRAPH, above=False)
    check(f"/api/search p50 < {SEARCH_P50_MS:g} ms (goal at 1M)",
          [(size_label(s["size"]), search_p50(s["ours"])) for s in measured], SEARCH_P50_MS, above=False)
    if workers:
        # Goal 5 is about a query-bound mix: more workers help only where the engine is the limit; the light
        # query is answered by the HTTP process itself (sparql/bounded.py), so more server processes help there.
        check(f"2 SPARQL workers >= {TWO_WORKERS}x one, query-bound /sparql, c16",
              [(k, v) for k, v in workers["ratios"].items() if k in QUERY_BOUND], TWO_WORKERS)
        if workers.get("process_ratios"):
            check(f"2 server processes >= {TWO_WORKERS}x one, HTTP-bound /sparql (light), c16",
                  [(k, v) for k, v in workers["process_ratios"].items() if k == LIGHT], TWO_WORKERS)
        if workers.get("processes_vs_oxigraph"):  # the same goal as /sparql above, with both cores in use
            check(f"/sparql distinct >= {SPARQL_VS_OXIGRAPH}x Oxigraph with --processes 2 (both cores), c16",
                  list(workers["processes_vs_oxigraph"].items()), SPARQL_VS_OXIGRAPH)
    head = ["| goal (issue 7) | this run | |", "|---|---|---|"]
    if calibration.get("headroom") is not None:
        near = calibration["near_ceiling"]
        verdict = "yes" if not near else f"yes but for {len(near)}"
        detail = f"raw ASGI {fmt(calibration['raw_rps'])} req/s at c{calibration['concurrency']}"
        detail += ("; within 2x of it (the web server or wrk may be the limit there: floors, not costs): "
                   + ", ".join(f"{name} ({fmt(r)}x)" for name, r in near)) if near else \
            f" = {fmt(calibration['headroom'])}x the fastest path measured ({calibration['fastest']})"
        head.append(f"| calibration: raw ASGI >= 2x every measured path | {verdict} | {detail} |")
    return head + lines


def calibration(cells: Cells, level: int = 16) -> dict[str, Any]:
    """The raw ASGI app's rate against every other path at the same concurrency: a path within 2x of it is
    at the HTTP server's (uvicorn's) own ceiling or near wrk's, so its figure is a floor, not a measurement
    of that path's own cost."""
    raw = cells.rps(f"{RAW} fixed bytes", RAW, level)[0]
    measured = sorted(((c["rps"], f"{c['target']} {c['workload']}") for c in cells.cells
                       if c["target"] not in (RAW, BARE) and c["concurrency"] == level and c.get("rps")),
                      reverse=True)
    near = [(name, ratio(raw, rps)) for rps, name in measured if raw and raw < 2 * rps]
    return {"concurrency": level, "raw_rps": raw, "fastest": measured[0][1] if measured else "",
            "headroom": ratio(raw, measured[0][0]) if measured else None, "near_ceiling": near}


def throughput_table(rows: list[dict[str, Any]], cells: Cells) -> list[str]:
    lines = [("| path | c | ours | Oxigraph server | rdflib-endpoint | ours ÷ Oxigraph | ours ÷ rdflib-endpoint "
             "| rows (ours/Ox/rdflib) |"), "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        def val(target: str, r: dict[str, Any] = r) -> str:
            if target not in r:
                return "–"
            failed = cells.failed(r["workload"], target, r["concurrency"])
            return (fmt(r[target]) + (" (seq.)" if r.get(f"{target} sequential") else "")
                    + (f" ({failed:,} failed)" if failed else ""))

        calibration_target = RAW if RAW in r else BARE if BARE in r else None
        ours = f"{fmt(r[calibration_target])} ({calibration_target})" if calibration_target else val(OURS)
        vs_ox = r.get("ours/Oxigraph")
        note = ""
        if r["group"] == "friendly":
            note = " (vs light)"
        elif r["workload"] == "/healthz":
            vs_ox, note = r.get("ours/bare FastAPI"), " (vs bare FastAPI)"
        counts = cells.rows(r["workload"])
        rows_text = "/".join(fmt(counts.get(t)) for t in (OURS, OXIGRAPH, RDFLIB_EP)) if r["group"] == "sparql" else ""
        answered = {counts[t] for t in (OURS, OXIGRAPH, RDFLIB_EP) if counts.get(t) is not None}
        if r["group"] == "sparql" and len(answered) > 1:
            rows_text += " **differ**"
        unanswered = [t for t in (OURS, OXIGRAPH, RDFLIB_EP) if t in counts and counts[t] is None]
        if r["group"] == "sparql" and unanswered:  # a probe that timed out or failed: no rows to compare
            rows_text += " (no answer: " + ", ".join(f"{t}, {cells.error(r['workload'], t)}" for t in unanswered) + ")"
        lines.append(f"| {r['workload']} | {r['concurrency']} | {ours} | {val(OXIGRAPH)} | {val(RDFLIB_EP)} | "
                     f"{fmt(vs_ox)}{note if vs_ox is not None else ''} | {fmt(r.get('ours/rdflib-endpoint'))} "
                     f"| {rows_text} |")
    return lines


def search_cell(ours: dict[str, Any]) -> str:
    search = ours.get("search") or {}
    seq = " (seq.)" if search.get("mode") == "sequential" else ""
    first = f" (first {fmt(search['first_ms'])})" if search.get("first_ms") is not None else ""
    return f"{fmt(search_p50(ours))}{seq}{first}"


def scale_table(scale_rows: list[dict[str, Any]]) -> list[str]:
    lines = [("| generated triples | ours: triples served | ours ready s | ours restart s | Oxigraph CLI load + serve s "
             "| ours ÷ Oxigraph | rdflib parse s | ours peak RSS MB | Oxigraph peak RSS MB | RSS ratio "
             "| /api/search p50 ms (first answer) |"), "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in scale_rows:
        if "skipped" in s:
            lines.append(f"| {size_label(s['size'])} | skipped: {s['skipped']} |" + " |" * 9)
            continue
        ours, ox, rd = s.get("ours", {}), s["oxigraph"], s.get("rdflib", {})
        if "skipped" in ours:
            ours_cells = f"skipped: {ours['skipped']} | – | – "
        else:
            ours_cells = f"{fmt(ours['triples'])} | {fmt(ours['ready_s'])} | {fmt(ours.get('restart_ready_s'))} "
        lines.append(
            f"| {size_label(s['size'])} | {ours_cells}| {fmt(ox['load_s'])} + {fmt(ox['serve_ready_s'])} = {fmt(ox['ready_s'])} "
            f"| {fmt(ratio(ours.get('ready_s'), ox['ready_s']))} | {fmt(rd.get('parse_s'))} "
            f"| {fmt(ours.get('peak_rss_mb'))} | {fmt(ox['peak_rss_mb'])} "
            f"| {fmt(ratio(ours.get('peak_rss_mb'), ox['peak_rss_mb']))} "
            f"| {search_cell(ours)} |")
    return lines


def workers_table(workers: dict[str, Any] | None) -> list[str]:
    if not workers:
        return []
    labels = workers["labels"]
    by = {(c["workload"], c["target"]): c for c in workers["cells"]}
    processes = workers.get("process_ratios") or {}
    versus = workers.get("processes_vs_oxigraph") or {}
    shown = [*labels, OXIGRAPH] if versus else labels
    head = "| distinct /sparql, c16 | " + " | ".join(f"{label} req/s" for label in shown) + " | 2 workers ÷ 1 |"
    rule = "|---|" + "---:|" * (len(shown) + 1)
    if processes:
        head += " 2 processes ÷ 1 |"
        rule += "---:|"
    if versus:
        head += " 2 processes ÷ Oxigraph |"
        rule += "---:|"
    lines = [head, rule]
    for name, value in workers["ratios"].items():
        cells = [fmt(by.get((name, label), {}).get("rps")) for label in shown] + [fmt(value)]
        if processes:
            cells.append(fmt(processes.get(name)))
        if versus:
            cells.append(fmt(versus.get(name)))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def remote_table(scale_rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for s in scale_rows:
        hop = s.get("remote_hop")
        if not hop:
            continue
        lines += [(f"Remote hop at {s['size']:,} generated triples (ours `--backend remote` in front of the Oxigraph "
                  f"server vs that server directly; ours ready in {hop['ours_remote_ready_s']} s, peak RSS "
                   f"{fmt(hop.get('ours_remote_peak_rss_mb'))} MB):"), "",
                  ("| /sparql, each request distinct | ours remote c1 req/s (p50 ms) | Oxigraph c1 req/s (p50 ms) "
                  "| hop cost p50 ms | ours remote c16 req/s (p50 ms) | Oxigraph c16 req/s (p50 ms) | ratio c16 |"),
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, q in hop["queries"].items():
            def cell(key: str, q: dict = q) -> str:
                c = q.get(key) or {}
                if c.get("mode") == "not run":
                    return f"failed: {c.get('probe_status') or 'no answer'} after {fmt(c.get('probe_ms'))} ms"
                seq = " (seq.)" if c.get("mode") == "sequential" else ""
                return f"{fmt(c.get('rps'))}{seq} ({fmt(c.get('p50_ms'))})"

            o16, x16 = q.get("ours --backend remote c16", {}), q.get("Oxigraph server c16", {})
            lines.append(f"| {name} | {cell('ours --backend remote c1')} | {cell('Oxigraph server c1')} "
                         f"| {fmt(q.get('hop_cost_p50_ms_c1'))} | {cell('ours --backend remote c16')} "
                         f"| {cell('Oxigraph server c16')} | {fmt(ratio(o16.get('rps'), x16.get('rps')))} |")
        lines.append("")
    return lines


def markdown(report: dict[str, Any]) -> str:
    cells = Cells(report.get("throughput", {}).get("cells", []))
    rows = ratio_rows(cells)
    scale_rows = report.get("scale", [])
    calib = calibration(cells) if cells.cells else {}
    cfg = report.get("throughput", {}).get("config", {})
    code = report["machine"].get("service_root", {}).get("code") or report["machine"]["code"]
    lines = [f"# Benchmark {report['date']}", "",
             f"`{report['command']}` — ours at code {code['commit']}"
             + (f" + uncommitted {', '.join(code['uncommitted_service_files'])}" if code["uncommitted_service_files"]
                else "") + f"; {report['machine']['cpus']} cores shared by client and servers; wall "
             f"{report['wall_s']} s.", ""]
    if cells.cells:
        lines += [(f"wrk -t{cfg.get('threads')} -d{cfg.get('duration_s')}s (stored queries outside the sweep: "
                   f"-d{cfg.get('query_duration_s')}s), median of {cfg.get('rounds')} rounds "
                  "(targets interleaved, each run after the server is idle again); req/s counts 2xx answers only; "
                  "/sparql requests each carry a unique comment, so no cache answers them; "
                  "(seq.) = one answer took longer than "
                  f"{cfg.get('slow_s')} s, so measured one request after another."), "",
                  "## Goals", "", *goals(rows, scale_rows, calib, report.get("workers")), "",
                  "## Throughput (req/s)", "", *throughput_table(rows, cells), ""]
        if report.get("workers"):
            lines += ["## One SPARQL worker against two, one server process against two", "",
                      ("The same interleaved rounds also measure the Oxigraph server (it uses both cores): the last "
                       "column is ours with two server processes against it."), "", *workers_table(report["workers"]), ""]
    if scale_rows:
        lines += ["## Scale", "",
                  ("Peers load the ontology's asserted and inferred graphs (N-Quads) plus the generated file (Oxigraph: "
                   "into the asserted graph, where ours puts it); ours "
                  "loads ontology/ plus `--data FILE` and computes its closure. Ready = process start to the first "
                  "ready answer (ours: /readyz 200). Peak RSS = VmHWM summed over the process tree after the same "
                  "light-query load (wrk c16); the real ontology's row comes from the throughput run's servers (peak RSS "
                  "after all of that run's load, ours and Oxigraph alike)."), "", *scale_table(scale_rows), "", *remote_table(scale_rows)]
    return "\n".join(lines) + "\n"


def readme_summary(report: dict[str, Any], chart_path: str) -> str:
    """The README's Performance body: goals, the key paths at every concurrency, the stored queries in brief,
    scale, and the chart."""
    cells = Cells(report.get("throughput", {}).get("cells", []))
    rows = ratio_rows(cells)
    scale_rows = report.get("scale", [])
    code = report["machine"].get("service_root", {}).get("code") or report["machine"]["code"]
    swept = [r for r in rows if r["group"] != "sparql" or len(cells.levels(r["workload"])) > 1]
    stored = [r for r in rows if r["group"] == "sparql" and len(cells.levels(r["workload"])) == 1]
    lines = [(f"Latest run: `{report['command']}`, {report['date']}, code {code['commit']}, "
             f"{report['wall_s']:.0f} s in all (`bench/results/{report['date']}.md`)."), "",
             f"![Throughput ratios and time to ready]({chart_path})", "",
             *goals(rows, scale_rows, calibration(cells) if cells.cells else {}, report.get("workers")), "",
             ("Throughput, req/s (ours ÷ Oxigraph for cached answers is against its light query; for `/healthz`, "
             "against bare FastAPI):"), "", *throughput_table(swept, cells), ""]
    if stored:
        def spread(key: str, bound: float) -> str:
            values = sorted(r[key] for r in stored if r.get(key) is not None)
            if not values:
                return "–"
            return (f"{fmt(values[0])}–{fmt(values[-1])} (median {fmt(values[len(values) // 2])}; "
                    f"{sum(v >= bound for v in values)} of {len(values)} at >= {bound:g})")

        level = stored[0]["concurrency"]
        lines += [(f"The other {len(stored)} stored queries at c{level}, each request distinct: ours ÷ Oxigraph "
                  f"{spread('ours/Oxigraph', SPARQL_VS_OXIGRAPH)}; ours ÷ rdflib-endpoint "
                  f"{spread('ours/rdflib-endpoint', SPARQL_VS_RDFLIB)}. Per query: the results file."), ""]
    if report.get("workers"):
        lines += ["One SPARQL worker process against two (`--workers`), and one server process against two "
                  "(`--processes`, each with two workers), and the latter against the Oxigraph server, same run:", "",
                  *workers_table(report["workers"]), ""]
    if scale_rows:
        lines += ["Scale (ready = process start to the first ready answer; peak RSS summed over the process tree):",
                  "", *scale_table(scale_rows), "", *remote_table(scale_rows)]
    return "\n".join(lines).rstrip() + "\n"


def chart(report: dict[str, Any], path: Path) -> None:
    """Two panels: ours ÷ peer throughput per path (log), time to ready against triples (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = Cells(report.get("throughput", {}).get("cells", []))
    rows = [r for r in ratio_rows(cells) if r["concurrency"] == 16 and r["group"] in ("friendly", "sparql")
            or r["workload"] == "/healthz" and r["concurrency"] == 16]
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, max(5, 0.32 * len(rows) + 2)),
                                      gridspec_kw={"width_ratios": [1.6, 1]})
    names = [r["workload"].replace(" (cached)", " [cached]") for r in rows]
    y = range(len(rows))
    ox = [r.get("ours/Oxigraph") or r.get("ours/bare FastAPI") or float("nan") for r in rows]
    rd = [r.get("ours/rdflib-endpoint") or float("nan") for r in rows]
    bars_ox = left.barh([i - 0.2 for i in y], ox, height=0.4, label="ours ÷ Oxigraph server (cached: vs its light query; /healthz: ÷ bare FastAPI)")
    bars_rd = left.barh([i + 0.2 for i in y], rd, height=0.4, label="ours ÷ rdflib-endpoint")
    for bars, values in ((bars_ox, ox), (bars_rd, rd)):
        left.bar_label(bars, labels=["" if math.isnan(v) else fmt(v) for v in values], fontsize=6, padding=2)
    left.set_yticks(list(y), names, fontsize=7)
    left.invert_yaxis()
    left.set_xscale("log")
    for bound, style in ((SPARQL_VS_OXIGRAPH, ":"), (1.0, "-"), (SPARQL_VS_RDFLIB, "--")):
        left.axvline(bound, color="grey", linestyle=style, linewidth=0.8)
    left.set_xlabel("throughput ratio at 16 connections (wrk), log scale; lines at 0.5, 1, 5")
    left.set_title("Throughput, ours ÷ peer, one run")
    left.legend(fontsize=7, loc="lower right")

    series: dict[str, list[tuple[int, float]]] = {"ours (kg-service serve)": [], "ours, restart": [],
                                                  "Oxigraph CLI (load + serve)": [], "rdflib (parse)": []}
    for s in report.get("scale", []):
        ours, ox, rd = s.get("ours") or {}, s.get("oxigraph") or {}, s.get("rdflib") or {}
        triples = ours.get("triples") or rd.get("triples")
        if not triples:
            continue
        if "ready_s" in ours:
            series["ours (kg-service serve)"].append((triples, ours["ready_s"]))
            if ours.get("restart_ready_s"):
                series["ours, restart"].append((triples, ours["restart_ready_s"]))
        if "ready_s" in ox:
            series["Oxigraph CLI (load + serve)"].append((triples, ox["ready_s"]))
        if "parse_s" in rd:
            series["rdflib (parse)"].append((rd["triples"], rd["parse_s"]))
    for label, points in series.items():
        if points:
            xs, ys = zip(*sorted(points))
            right.plot(xs, ys, marker="o", label=label)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("triples served")
    right.set_ylabel("seconds to ready")
    right.set_title("Time to ready against triples")
    right.grid(True, which="both", linewidth=0.3)
    right.legend(fontsize=8)
    fig.suptitle(f"kg-service benchmark {report['date']} (code {report['machine']['code']['commit']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
