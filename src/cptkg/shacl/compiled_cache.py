"""Compiled shapes (:func:`cptkg.shacl.compiler.compile_shapes`) kept on disk, so that a
validation does not compile the same shapes again (12 ms of a 200 ms ``cptkg validate`` of the
shipped graph; reading them back costs about 4).

An entry is keyed by the SHA-256 of everything the compilation reads: every triple of the
shapes graph (blank nodes by their ids, so that the checks name the very nodes of the graph
they are used with), the class hierarchy (the subclass closure read from the data), the SPARQL
dialect, cptkg's source, rdflib's and Python's versions. A different shapes graph, hierarchy or
code is another key: a kept compilation is exactly what compiling again would give, or it is
not found. Entries are pickles of the checks only, read back through an unpickler that builds
nothing but the compiler's two data classes and rdflib's terms (an entry naming anything else
is refused and the shapes are compiled again); a truncated or unreadable entry is a miss. Under
``cache_dir()/compiled``, the :data:`KEEP` most recent; ``CPTKG_NO_CACHE=1`` bypasses them.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
from typing import Any

from rdflib import Graph, URIRef

from cptkg import diskcache
from cptkg.shacl.compiler import Check, CheckGroup, CompiledShapes, compile_shapes

#: Entries kept on disk (the most recently written).
KEEP = 8
#: Format of the entries; bumped when their layout changes.
LAYOUT = "1"

#: The only classes an entry may name: the compiler's checks and rdflib's terms.
ALLOWED: frozenset[tuple[str, str]] = diskcache.RDFLIB_TERMS | {("cptkg.shacl.compiler", "Check")}


class CheckUnpickler(diskcache.RestrictedUnpickler):
    """An unpickler that builds only the classes of :data:`ALLOWED`."""

    allowed = ALLOWED


def compilation_key(shapes: Graph, subclasses: dict[URIRef, set[URIRef]], dialect: str) -> str:
    """The SHA-256 of everything :func:`compile_shapes` reads (see the module's docstring)."""
    import rdflib

    h = hashlib.sha256()
    for part in ("compiled", LAYOUT, dialect, rdflib.__version__, sys.version):
        h.update(part.encode("utf-8") + b"\0")
    h.update(diskcache.code_digest().encode("ascii") + b"\0")
    lines = sorted(f"{s.n3()} {p.n3()} {o.n3()}" for s, p, o in shapes)
    h.update("\n".join(lines).encode("utf-8") + b"\0")
    hierarchy = sorted(
        f"{c.n3()} {' '.join(sorted(s.n3() for s in subs))}" for c, subs in subclasses.items()
    )
    h.update("\n".join(hierarchy).encode("utf-8"))
    return h.hexdigest()


def cached_compile(
    shapes: Graph, subclasses: dict[URIRef, set[URIRef]], dialect: str
) -> CompiledShapes:
    """``compile_shapes(shapes, subclasses, dialect)``, read back when kept, else compiled and
    kept (a compilation with shapes left to pySHACL included)."""
    if not diskcache.enabled():
        return compile_shapes(shapes, subclasses, dialect)
    key = compilation_key(shapes, subclasses, dialect)
    path = diskcache.entry_path("compiled", key, ".pickle")
    data = diskcache.read_entry(path)
    if data is not None:
        kept = _decode(data, shapes, dialect)
        if kept is not None:
            return kept
    compiled = compile_shapes(shapes, subclasses, dialect)
    if diskcache.write_entry(path, _encode(compiled)):
        diskcache.prune(path.parent, KEEP)
    return compiled


def _encode(compiled: CompiledShapes) -> bytes:
    """The checks of ``compiled``; its groups and single checks as indexes into them."""
    position = {id(c): i for i, c in enumerate(compiled.checks)}
    value = {
        "checks": compiled.checks,
        "groups": [
            (g.target, [position[id(c)] for c in g.checks], g.sparql) for g in compiled.groups
        ],
        "single": [position[id(c)] for c in compiled.single],
        "fallback": list(compiled.fallback.items()),
        "targets": list(compiled.targets.items()),
    }
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _decode(data: bytes, shapes: Graph, dialect: str) -> CompiledShapes | None:
    """What :func:`_encode` wrote, with ``shapes``; None for anything else."""
    try:
        value: Any = CheckUnpickler(io.BytesIO(data)).load()
        checks = value["checks"]
        if not (isinstance(checks, list) and all(type(c) is Check for c in checks)):
            return None
        groups = [
            CheckGroup(str(target), [checks[i] for i in members], str(sparql))
            for target, members, sparql in value["groups"]
        ]
        single = [checks[i] for i in value["single"]]
        fallback = {node: str(reason) for node, reason in value["fallback"]}
        targets = {node: str(pattern) for node, pattern in value["targets"]}
    except Exception:  # noqa: BLE001 - truncated, foreign or refused: a miss
        return None
    return CompiledShapes(checks, fallback, shapes, targets, dialect, groups, single)
