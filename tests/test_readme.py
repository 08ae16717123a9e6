"""The README and docs/ hold what they promise: the CI command, Python examples that run and
print what the README shows, the real output of the tour's table in 100 columns, the exit
codes, and links that lead to files of the checkout."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def test_readme_has_the_ci_test_command():
    """``.ci/run`` greps this line and runs it."""
    lines = README.read_text("utf-8").splitlines()
    assert "python -m pip install -e '.[test]' && python -m pytest -q" in lines


def python_examples() -> list[tuple[str, str | None]]:
    """Every ```python block of the README, with the ```text block shown after it as what it
    prints (None when it shows none)."""
    text = README.read_text("utf-8")
    blocks = re.finditer(r"```python\n(.*?)```(?:\n\nprints\n\n```text\n(.*?)```)?", text, re.S)
    return [(m.group(1), m.group(2)) for m in blocks]


def test_readme_has_python_examples_with_their_output():
    examples = python_examples()
    assert len(examples) >= 2
    assert all(shown is not None for _code, shown in examples)
    assert any("from cptkg import KnowledgeGraph" in code for code, _shown in examples)


@pytest.mark.parametrize("index", range(len(python_examples())))
def test_readme_python_example_prints_what_the_readme_shows(index):
    code, shown = python_examples()[index]
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == shown


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("CPTKG_HOME", "COLUMNS")}


def _console(command: str) -> str:
    """The output the README shows after ``$ command`` in a console block."""
    text = README.read_text("utf-8")
    start = text.index(f"$ {command}\n") + len(command) + 3
    end = min(i for i in (text.find("\n$ ", start - 1), text.find("```", start)) if i >= 0)
    return text[start:end].rstrip("\n") + "\n"


def test_readme_python_one_liner_works():
    line = next(
        line for line in README.read_text("utf-8").splitlines() if line.startswith("$ python -c")
    )
    command = line.removeprefix("$ ")
    proc = subprocess.run(
        shlex.split(command), capture_output=True, text=True, cwd=ROOT, env=_env(), check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "from cptkg import KnowledgeGraph" in command
    assert proc.stdout == _console(command)


def test_readme_payer_matrix_in_100_columns_is_real(run_cli):
    shown = _console("COLUMNS=100 cptkg query payer-matrix | head -n 26")
    proc = run_cli("query", "payer-matrix", env={"COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 100
    assert "".join(proc.stdout.splitlines(keepends=True)[:26]) == shown


def test_readme_exit_codes_cover_every_command_that_validates():
    text = README.read_text("utf-8")
    table = text[text.index("## Exit codes") :]
    for command in ("validate", "import-csv", "add", "code", "diff"):
        assert f"`{command}`" in table, command


def test_validate_on_a_directory_of_new_data_says_what_to_do(run_cli, tmp_path):
    new = tmp_path / "new"
    new.mkdir()
    shutil.copy(ROOT / "tests" / "data" / "intake" / "valid-policy.ttl", new)
    proc = run_cli("validate", str(new))
    assert proc.returncode == 2
    assert "is a directory" in proc.stderr
    assert f"hint: name its files, e.g. {new}/*.ttl" in proc.stderr
    assert run_cli("validate", str(new / "valid-policy.ttl")).returncode == 0


def test_relative_links_lead_to_files():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
