"""Build hook: the wheel carries the reference graph.

The graph's directories stay at the top of the repository (``ontology/``, ``data/``,
``queries/``); building a wheel copies them into the package as ``cptkg/_graph/``, where
:func:`cptkg.paths.reference_root` finds them in an installed package. An editable install
copies nothing: the checkout is found above the source tree. The sdist carries the
directories themselves (``MANIFEST.in``). Everything else is declared in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: Top-level directories shipped inside the package, under ``cptkg/_graph/``.
GRAPH_DIRS = ("ontology", "data", "queries")


class BuildPyWithGraph(build_py):
    """``build_py`` that also copies :data:`GRAPH_DIRS` to ``<build_lib>/cptkg/_graph/``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "cptkg" / "_graph"
        shutil.rmtree(target, ignore_errors=True)  # nothing stale from an earlier build
        for name in GRAPH_DIRS:
            shutil.copytree(
                here / name,
                target / name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"),
            )


setup(cmdclass={"build_py": BuildPyWithGraph})
