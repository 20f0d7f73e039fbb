"""Broken copies of the ontology, made the way a curator's slip would make them: one edit to the Turtle."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT

ONTOLOGY = ROOT / "ontology"


def edited_copy(tmp_path: Path, module: str, old: str, new: str) -> Path:
    """A copy of ontology/ in tmp_path with the first `old` in `module` replaced by `new` (old must be there)."""
    target = tmp_path / "ontology"
    shutil.copytree(ONTOLOGY, target)
    path = target / module
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {module}: update the test's edit"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target
