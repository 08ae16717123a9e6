"""Helpers shared by the intake tests: a throw-away copy of the project and a data/ digest."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTAKE = ROOT / "tests" / "data" / "intake"


def copy_project(dest: Path) -> Path:
    """Copy ontology/ and data/ (all the graph needs) to ``dest``; return it (a CPTKG_HOME)."""
    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


def tree_digest(directory: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under ``directory`` (dot-files included)."""
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }
