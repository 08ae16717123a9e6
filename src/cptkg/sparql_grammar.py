"""rdflib's SPARQL grammar, built when a query text must be parsed rather than when rdflib's
SPARQL package is imported.

Importing ``rdflib.plugins.sparql`` runs its ``parser`` module, which builds the whole SPARQL
grammar with pyparsing (about 30 ms, a fifth of ``import rdflib``), even when every query is
already prepared (:mod:`cptkg.sparql_cache`). Importing this module first registers that
module so that its code runs on first use instead: calling its ``parseQuery`` or
``parseUpdate`` (the names rdflib's processor imports from it) or reading any other of its
names builds it, once, exactly as the import would have. When rdflib's SPARQL package is
already imported, nothing changes.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

#: The module of rdflib's SPARQL grammar.
GRAMMAR = "rdflib.plugins.sparql.parser"


class DeferredModule(types.ModuleType):
    """A module whose code runs when a name it does not have yet is read."""

    def __getattr__(self, name: str) -> Any:
        build = self.__dict__.get("_cptkg_build")
        if build is None or name == "__path__":  # the import system asks: not a package
            raise AttributeError(name)
        return getattr(build(), name)


def defer_grammar() -> bool:
    """Register rdflib's grammar module to be built on first use; True when done, False when
    it (or rdflib's SPARQL package) is imported already or cannot be found."""
    if GRAMMAR in sys.modules or "rdflib.plugins.sparql" in sys.modules:
        return False
    spec = importlib.util.find_spec("rdflib")
    if spec is None or spec.origin is None:
        return False
    path = Path(spec.origin).parent / "plugins" / "sparql" / "parser.py"
    grammar = importlib.util.spec_from_file_location(GRAMMAR, path)
    if grammar is None or grammar.loader is None or not path.is_file():
        return False
    loader = grammar.loader
    module = importlib.util.module_from_spec(grammar)

    def build() -> types.ModuleType:
        if type(module) is DeferredModule:
            module.__class__ = types.ModuleType
            del module._cptkg_build  # type: ignore[attr-defined]
            try:
                loader.exec_module(module)
            except BaseException:
                module._cptkg_build = build  # type: ignore[attr-defined]
                module.__class__ = DeferredModule
                raise
        return module

    def parseQuery(q: str) -> Any:  # noqa: N802 - rdflib's name
        return build().parseQuery(q)

    def parseUpdate(q: str) -> Any:  # noqa: N802 - rdflib's name
        return build().parseUpdate(q)

    module.parseQuery = parseQuery  # type: ignore[attr-defined]
    module.parseUpdate = parseUpdate  # type: ignore[attr-defined]
    module._cptkg_build = build  # type: ignore[attr-defined]
    module.__class__ = DeferredModule
    sys.modules[GRAMMAR] = module
    return True


def grammar_built() -> bool:
    """Whether rdflib's grammar has been built in this process."""
    module = sys.modules.get(GRAMMAR)
    return module is not None and type(module) is not DeferredModule


defer_grammar()
