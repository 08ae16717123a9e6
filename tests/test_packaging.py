"""The packaging declared in pyproject.toml covers every source package and every graph folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRAPH_DIRS = ("ontology", "data", "queries")


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]


def test_every_source_package_is_listed() -> None:
    listed = {p for p in _setuptools()["packages"] if not p.startswith("cptkg._graph")}
    src = ROOT / "src"
    found = {".".join(init.parent.relative_to(src).parts) for init in src.rglob("__init__.py")}
    assert "cptkg.codes" in found
    assert listed == found


def test_every_graph_folder_is_mapped_and_carries_all_its_files() -> None:
    cfg = _setuptools()
    package_dir = cfg["package-dir"]
    for name in GRAPH_DIRS:
        package = f"cptkg._graph.{name}"
        assert package_dir[package] == name
        assert cfg["package-data"][package] == ["**/*"]
        # every sub-folder with an importable name is listed, so setuptools does not warn
        # that it is an unlisted namespace package
        for sub in (ROOT / name).rglob("*"):
            if sub.is_dir() and sub.name.isidentifier() and sub.name != "__pycache__":
                rel = sub.relative_to(ROOT / name).parts
                assert ".".join((package, *rel)) in cfg["packages"], sub
