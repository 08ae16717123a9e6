"""The package's structure, held by tests: the CLI layer is the only one that sees argparse and
the only one that imports the CLI layer, no module imports another module's private names, and
the import graph has no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "cptkg"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_cli_layer(name: str) -> bool:
    return name in ("cptkg.cli", "cptkg.__main__") or name.startswith("cptkg.commands")


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks (imports there are not run)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str) -> list[tuple[str, str | None, int, bool]]:
    """(imported module, imported name or None, line, under TYPE_CHECKING) for every import."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    guarded = _type_checking_lines(tree)
    out: list[tuple[str, str | None, int, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append((alias.name, None, node.lineno, node.lineno in guarded))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:  # `from cptkg import paths`: the module itself
                    out.append((sub, None, node.lineno, node.lineno in guarded))
                else:
                    out.append((target, alias.name, node.lineno, node.lineno in guarded))
    return out


def test_the_package_has_modules() -> None:
    assert "cptkg.cli" in MODULES and len(MODULES) > 20


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _is_cli_layer(m)))
def test_argparse_stays_in_the_cli_layer(module: str) -> None:
    text = MODULES[module].read_text(encoding="utf-8")
    used = [line for target, _n, line, _g in _imports(module) if target == "argparse"]
    assert not used, f"{module} imports argparse (line {used}); only commands/ and cli.py may"
    # a Namespace passed down is a parameter named ``args`` (``*args`` is not one)
    tree = ast.parse(text)
    takes_args = [
        f"{node.name} (line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(a.arg == "args" for a in [*node.args.args, *node.args.kwonlyargs])
    ]
    assert not takes_args, f"{module}: functions take parsed CLI arguments: {takes_args}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _is_cli_layer(m)))
def test_the_library_does_not_import_the_cli_layer(module: str) -> None:
    used = [
        f"line {line}: {target}"
        for target, _n, line, _g in _imports(module)
        if target == "cptkg.commands"
        or target.startswith("cptkg.commands.")
        or target == "cptkg.cli"
    ]
    assert not used, f"{module} imports the CLI layer ({used}); only commands/ and cli.py may"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_of_private_names(module: str) -> None:
    bad = [
        f"line {line}: {name} from {target}"
        for target, name, line, _g in _imports(module)
        if target.startswith("cptkg")
        and name is not None
        and name.startswith("_")
        and not name.startswith("__")
    ]
    assert not bad, f"{module} imports private names of other modules: {bad}"


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        deps: set[str] = set()
        for target, _name, _line, guarded in _imports(module):
            if guarded or not target.startswith("cptkg"):
                continue
            # the module named (importing a.b.c also runs a/b/__init__, but a package's
            # __init__ is not a design dependency of its submodules' users)
            if target in MODULES and target != module:
                deps.add(target)
        graph[module] = deps
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    """Every import counts, lazy ones inside functions included (only TYPE_CHECKING imports are
    left out): a cycle hidden in a function is still a cycle."""
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None
