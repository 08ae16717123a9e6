"""Helpers shared by the intake tests: a throw-away copy of the project, a data/ digest, and
the command line run without any CPTKG_* setting of the caller's environment."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
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


def run_cptkg(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m cptkg ARGS`` in the project root, with every ``CPTKG_*`` variable of the
    caller's environment removed and ``env`` added (unlike conftest's ``run_cli``, which only
    drops CPTKG_HOME)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("CPTKG_")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cptkg", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
