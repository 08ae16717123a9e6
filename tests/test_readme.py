"""The README and docs/ hold what they promise: the CI command, a Python example that runs
and prints what the README shows, and links that lead to files of the checkout."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def test_readme_has_the_ci_test_command():
    """``.ci/run`` greps this line and runs it."""
    lines = README.read_text("utf-8").splitlines()
    assert "python -m pip install -e '.[test]' && python -m pytest -q" in lines


def test_readme_python_example_prints_what_the_readme_shows():
    text = README.read_text("utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    shown = re.search(r"prints\n\n```text\n(.*?)```", text, re.S)
    assert code and shown
    proc = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == shown.group(1)


def test_relative_links_lead_to_files():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
