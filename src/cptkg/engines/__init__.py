"""Engine implementations of :class:`cptkg.engines.base.Engine`, and the one place that picks one.

Commands never build an engine themselves: they call :func:`get_engine` with their parsed
arguments. Issue 5 (``--endpoint URL``) and issue 6 (``--engine oxigraph``) extend
:func:`get_engine`; every engine binds parameters the same way, with
:func:`cptkg.engines.base.inject_values` (a VALUES block of ``n3()``-serialised terms first in the
outermost WHERE group), so a stored query means the same thing on every engine.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cptkg.engines.base import QueryError  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from rdflib import Graph

    from cptkg.engines.base import Engine


def get_engine(args: argparse.Namespace | None = None, graph: Graph | None = None) -> Engine:
    """The engine a command should query.

    A :class:`~cptkg.engines.remote.RemoteEngine` when the command has an ``--endpoint`` option
    and it (or ``$CPTKG_ENDPOINT``) is set; otherwise the embedded rdflib engine over
    ``graph``, or over the shipped graph (ontology + ``data/**/*.ttl``, all named graphs merged
    into one default graph) when ``graph`` is None. Options are read from ``args`` with
    ``getattr``, so commands without them keep working; ``--engine`` (issue 6) goes here.
    """
    from cptkg.engines.rdflib_engine import RdflibEngine
    from cptkg.engines.settings import endpoint_of

    if args is not None and graph is None and endpoint_of(args):
        # --endpoint / $CPTKG_ENDPOINT, if the command has it (cptkg.engines.remote only then)
        from cptkg.engines.remote import remote_engine_from_args

        remote = remote_engine_from_args(args)
        if remote is not None:
            return remote
    if getattr(args, "engine", "rdflib") == "oxigraph":  # issue 6: embedded Oxigraph
        from cptkg.engines.oxigraph_engine import engine_from_args

        return engine_from_args(args, graph)
    if graph is None:
        from cptkg.load import load_dataset, union_graph

        graph = union_graph(load_dataset())
    return RdflibEngine(graph)
