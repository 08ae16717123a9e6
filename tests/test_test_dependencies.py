"""Every third-party module the tests import comes with the package or its ``test`` extra,
so ``pip install -e '.[test]'`` runs the whole suite without a skip for a missing module."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement such as ``PyYAML==6.0.3``."""
    bare = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", bare).lower()


def _imported_modules() -> dict[str, str]:
    """{top-level module: first test file importing it} for every import of the tests."""
    local = {p.stem for p in TESTS.glob("*.py")} | {"cptkg"}
    found: dict[str, str] = {}
    for path in sorted(TESTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in local and top not in sys.stdlib_module_names:
                    found.setdefault(top, path.name)
    return found


def test_test_imports_are_declared_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for r in project["optional-dependencies"]["test"]}
    providers = packages_distributions()
    modules = _imported_modules()
    assert "pytest" in modules and "rdflib" in modules and "yaml" in modules
    undeclared = {
        module: (where, providers.get(module, ["(not installed)"]))
        for module, where in modules.items()
        if not {_name(d) for d in providers.get(module, [])} & declared
    }
    assert not undeclared, f"test imports missing from dependencies / the test extra: {undeclared}"
