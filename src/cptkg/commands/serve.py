"""``cptkg serve [PATH ...] [--port P] [--location DIR]``: a local SPARQL endpoint.

Starts ``oxigraph serve`` (PyPI package ``oxigraph``) bound to 127.0.0.1, loads the graph
into the named graph https://w3id.org/cptkg/graph/cptkg (also visible as the default graph),
prints the query URL and the browser UI address, and runs until Ctrl-C (or SIGTERM), which
stops the server and exits 0. The store is in memory unless --location DIR is given.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from cptkg.commands.common import (
    description,
    include_shapes_options,
    load_selected,
    paths_options,
)
from cptkg.engines.settings import DEFAULT_GRAPH_IRI, DEFAULT_PORT
from cptkg.errors import EXIT_OK, EndpointError, InputError


def register(subparsers: Any) -> None:
    """Add the ``serve`` subparser."""
    p = subparsers.add_parser(
        "serve",
        help="run a local SPARQL endpoint (oxigraph serve) preloaded with the graph",
        description=description(__doc__),
        parents=[paths_options("serve"), include_shapes_options("load")],
    )
    p.add_argument(
        "--port",
        "-p",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port on 127.0.0.1 (default: {DEFAULT_PORT}; 0 picks a free port)",
    )
    p.add_argument(
        "--location",
        metavar="DIR",
        help="keep the store in DIR (persistent; the graph is replaced on start) "
        "instead of in memory",
    )
    p.set_defaults(func=run)


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the wait loop."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Stop()


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; return 0 on Ctrl-C / SIGTERM, 2 if the server fails."""
    from cptkg.server import OxigraphServer  # rdflib: only when a command runs

    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: not a TCP port (0-65535)")
    graph = load_selected(args)
    server = OxigraphServer(args.port, location=args.location)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        server.start()
        result = server.load(graph, DEFAULT_GRAPH_IRI)
        print(f"Loaded {result.triples} triples into graph <{DEFAULT_GRAPH_IRI}>")
        print(f"SPARQL query endpoint: {server.query_url}")
        print(f"SPARQL update endpoint: {server.update_url}")
        print(f"Graph Store endpoint: {server.store_url}")
        print(f"Browser UI: {server.ui_url}")
        print(
            f"Try: cptkg query <name> --endpoint {server.query_url}   (Ctrl-C stops the server)",
            flush=True,
        )
        assert server.process is not None
        code = server.process.wait()
        raise EndpointError(
            f"oxigraph serve on {server.base_url} exited unexpectedly with code {code}"
        )
    except (KeyboardInterrupt, _Stop):
        print("stopping the SPARQL server", file=sys.stderr)
        return EXIT_OK
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
