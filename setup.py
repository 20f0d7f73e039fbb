"""Build step: ship ontology/ and queries/ inside the wheel as kg_service/bundled/, so a non-editable install
(`pip install .`, a wheel, pipx) serves the same ontology as a checkout. Everything else is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("ontology", "queries")


class BuildWithOntology(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "kg_service" / "bundled"
        for name in BUNDLED:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("*.tmp", "*~", "__pycache__"))


setup(cmdclass={"build_py": BuildWithOntology})
