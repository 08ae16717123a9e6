"""rdflib's SPARQL grammar, built when a query text must be parsed rather than when rdflib's
SPARQL package is imported; pyparsing's parts that only a grammar needs, imported with it.

Importing ``rdflib.plugins.sparql`` runs its ``parser`` module, which builds the whole SPARQL
grammar with pyparsing (about 30 ms, a fifth of ``import rdflib``), even when every query is
already prepared (:mod:`cptkg.sparql_cache`). Importing this module first registers that
module so that its code runs on first use instead: calling its ``parseQuery`` or
``parseUpdate`` (the names rdflib's processor imports from it) or reading any other of its
names builds it, once, exactly as the import would have. When rdflib's SPARQL package is
already imported, nothing changes.

rdflib's SPARQL evaluation also imports pyparsing (for seven names: its result and parser
element classes, a parse exception, three helpers), and pyparsing's package imports all of
pyparsing: ``pyparsing.testing`` (with ``unittest``), ``pyparsing.common`` (a library of
ready-made expressions) and more, about 13 ms. :func:`defer_pyparsing` imports the package
with only the modules those names live in; reading any other name of the package (or
building the grammar) runs the package's own ``__init__`` then, once, which imports the rest
exactly as ``import pyparsing`` would have. It is done only for a final pyparsing 3 release
(whose ``__version__`` is the version its installed metadata names) and only when pyparsing
is not imported yet; the package's other modules stand in ``sys.modules`` meanwhile, so that
importing one (``import pyparsing.testing``) completes the package first.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

from cptkg.diskcache import distribution_versions

#: The module of rdflib's SPARQL grammar.
GRAMMAR = "rdflib.plugins.sparql.parser"


class DeferredModule(types.ModuleType):
    """A module whose code runs when a name it does not have yet is read (for a stand-in of a
    module of a deferred package, ``__path__`` too)."""

    def __getattr__(self, name: str) -> Any:
        build = self.__dict__.get("_cptkg_build")
        if build is None or (name == "__path__" and not self.__dict__.get("_cptkg_part")):
            raise AttributeError(name)  # the import system asks: not a package
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
            complete_pyparsing()  # the grammar uses all of pyparsing
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


#: The names of pyparsing that rdflib's SPARQL modules other than the grammar read, and the
#: module of pyparsing each lives in.
PYPARSING_NAMES = {
    "ParseResults": "results",
    "ParserElement": "core",
    "TokenConverter": "core",
    "ParseException": "exceptions",
    "DelimitedList": "core",
    "original_text_for": "helpers",
    "rest_of_line": "helpers",
}


def defer_pyparsing() -> bool:
    """Import pyparsing's package with only the modules of :data:`PYPARSING_NAMES`, the rest
    imported when any other name is read; True when done, False when pyparsing is imported
    already, is not a final 3.x release, or cannot be imported so (then nothing changed)."""
    if "pyparsing" in sys.modules:
        return False
    version = distribution_versions(["pyparsing"])["pyparsing"]
    if not re.fullmatch(r"3\.\d+\.\d+", version):
        return False
    spec = importlib.util.find_spec("pyparsing")
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)
    sys.modules["pyparsing"] = package
    try:
        core = importlib.import_module("pyparsing.core")
        for name in ("__diag__", "__compat__"):  # as pyparsing's __init__, before its helpers
            setattr(package, name, getattr(core, name))
        for name, part in PYPARSING_NAMES.items():
            setattr(package, name, getattr(importlib.import_module(f"pyparsing.{part}"), name))
    except Exception:  # noqa: BLE001 - another layout: let `import pyparsing` do it all
        for loaded in [m for m in sys.modules if m == "pyparsing" or m.startswith("pyparsing.")]:
            del sys.modules[loaded]
        return False
    package.__version__ = version  # type: ignore[attr-defined]
    # The package's other modules get stand-ins in sys.modules: importing one of them
    # (``import pyparsing.testing``) finds its stand-in, whose first use completes the package
    # (which imports the module itself, once, as a plain import would) and then answers from
    # the module; without them the module would be loaded apart from its package.
    stand_ins = {name: DeferredModule(name) for name in _other_modules(package)}

    def build() -> types.ModuleType:
        if type(package) is DeferredModule:
            for name, stand_in in stand_ins.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]
            package.__class__ = types.ModuleType
            del package._cptkg_build  # type: ignore[attr-defined]
            loader.exec_module(package)
        return package

    def build_part(name: str) -> types.ModuleType:
        build()
        return importlib.import_module(name)

    for name, stand_in in stand_ins.items():
        stand_in._cptkg_part = True  # type: ignore[attr-defined]
        stand_in._cptkg_build = functools.partial(build_part, name)  # type: ignore[attr-defined]
        sys.modules[name] = stand_in
    package._cptkg_build = build  # type: ignore[attr-defined]
    package.__class__ = DeferredModule
    return True


def _other_modules(package: types.ModuleType) -> list[str]:
    """The modules and packages of ``package`` not imported yet."""
    names = []
    for directory in package.__path__:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py") and entry.is_file():
                stem = entry.name[:-3]
            elif entry.is_dir() and os.path.isfile(os.path.join(entry.path, "__init__.py")):
                stem = entry.name
            else:
                continue
            name = f"{package.__name__}.{stem}"
            if stem.isidentifier() and stem != "__init__" and name not in sys.modules:
                names.append(name)
    return sorted(set(names))


def complete_pyparsing() -> None:
    """Run pyparsing's own ``__init__`` now if :func:`defer_pyparsing` deferred it."""
    package = sys.modules.get("pyparsing")
    if type(package) is DeferredModule:
        package._cptkg_build()  # type: ignore[attr-defined]


def pyparsing_complete() -> bool:
    """Whether pyparsing's package is imported in full in this process."""
    package = sys.modules.get("pyparsing")
    return package is not None and type(package) is not DeferredModule


def grammar_built() -> bool:
    """Whether rdflib's grammar has been built in this process."""
    module = sys.modules.get(GRAMMAR)
    return module is not None and type(module) is not DeferredModule


defer_grammar()
defer_pyparsing()
