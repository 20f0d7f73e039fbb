"""bench/queries.py at its smallest size: every stored query timed, and compared with a copy of queries/ (the
same rows, so the table says so). No timing is asserted."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import queries as bench_queries  # noqa: E402


def test_every_stored_query_is_timed_and_compared(tmp_path: Path) -> None:
    before = tmp_path / "before"
    shutil.copytree(ROOT / "queries", before)
    (before / "triggers.rq").write_text((before / "triggers.rq").read_text().replace("?entity ?label", "?entity", 1))
    out = tmp_path / "results"
    assert bench_queries.main(["--triples", "0", "--compare", str(before), "--out", str(out)]) == 0
    table = next(out.glob("queries-*.md")).read_text()
    names = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in table.splitlines() if line.startswith("| ")}
    assert set(names) <= set(rows)
    assert rows["triggers"].endswith("| NO |")  # a copy that projects one variable less: its rows differ
    assert all(rows[n].endswith("| yes |") for n in names if n != "triggers")
    result = json.loads(next(out.glob("queries-*.json")).read_text())
    assert all(r["ms"] is not None and r["rows"] is not None for r in result["queries"].values())
