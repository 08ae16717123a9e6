"""``cptkg push [PATH ...] --endpoint URL [--graph IRI]``: load the graph into a SPARQL store.

Replaces one named graph (default https://w3id.org/cptkg/graph/cptkg) in a single request:
a Graph Store Protocol PUT, or one SPARQL Update ``DROP SILENT GRAPH; INSERT DATA`` for
stores without it. A failure leaves the old graph whole (exit 2). Update and store URLs are
derived from the query URL for Oxigraph, Fuseki, GraphDB and Virtuoso, or given explicitly.
Credentials come only from CPTKG_ENDPOINT_USER / CPTKG_ENDPOINT_PASSWORD (CPTKG_ENDPOINT_AUTH=
digest for Virtuoso).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from cptkg.commands.common import (
    description,
    endpoint_options,
    format_options,
    include_shapes_options,
    load_selected,
    paths_options,
)
from cptkg.engines.settings import (
    DEFAULT_GRAPH_IRI,
    ENV_ENDPOINT,
    ENV_GRAPH,
    ENV_STORE_ENDPOINT,
    ENV_UPDATE_ENDPOINT,
    endpoint_from_env,
    resolve_graph,
)
from cptkg.errors import EXIT_OK, InputError
from cptkg.formats import PUSH_BODY_FORMATS


def register(subparsers: Any) -> None:
    """Add the ``push`` subparser."""
    p = subparsers.add_parser(
        "push",
        help="load the graph into a SPARQL store (replaces one named graph atomically)",
        description=description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[
            paths_options("push"),
            endpoint_options(
                endpoint_help="the SPARQL query URL of the store to write to (the update "
                "and store URLs are derived from it)",
                graph_help=f"named graph to replace (default: ${ENV_GRAPH} or {DEFAULT_GRAPH_IRI})",
            ),
            format_options(
                PUSH_BODY_FORMATS, "nt", "body format of the Graph Store PUT (default: nt)"
            ),
            include_shapes_options("push"),
        ],
    )
    p.add_argument(
        "--update-endpoint",
        metavar="URL",
        help=f"SPARQL Update URL (default: ${ENV_UPDATE_ENDPOINT}, or derived from --endpoint)",
    )
    p.add_argument(
        "--store-endpoint",
        metavar="URL",
        help=f"Graph Store Protocol URL (default: ${ENV_STORE_ENDPOINT}, or derived)",
    )
    p.add_argument(
        "--method",
        choices=["auto", "gsp", "update"],
        default="auto",
        help="gsp: Graph Store PUT; update: one SPARQL Update request; auto (default): gsp, "
        "or update when the store has no Graph Store Protocol",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Push and report; return 0 (errors raise EndpointError -> exit 2)."""
    from cptkg.engines.remote import derive_layout  # rdflib: only when a command runs
    from cptkg.push import push_graph

    url = args.endpoint or endpoint_from_env()
    if not url:
        raise InputError(
            "no endpoint given",
            hint=f"pass --endpoint URL (the SPARQL query URL) or set {ENV_ENDPOINT}",
        )
    layout = derive_layout(
        url,
        update=args.update_endpoint or os.environ.get(ENV_UPDATE_ENDPOINT) or None,
        store=args.store_endpoint or os.environ.get(ENV_STORE_ENDPOINT) or None,
    )
    graph_iri = resolve_graph(args.graph) or DEFAULT_GRAPH_IRI
    if args.timeout is not None and not args.timeout > 0:
        raise InputError(f"--timeout {args.timeout:g}: must be a positive number of seconds")
    # load (and fail on bad input) before anything is sent
    graph = load_selected(args)
    result = push_graph(
        graph,
        layout,
        graph_iri,
        method=args.method,
        body_format=args.format,
        timeout=args.timeout,
    )
    how = "Graph Store Protocol PUT" if result.method == "gsp" else "SPARQL Update"
    print(
        f"pushed {result.triples} triples into graph <{result.graph}> "
        f"({how} {result.url}, HTTP {result.status})"
    )
    return EXIT_OK
