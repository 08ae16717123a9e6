"""``cptkg query NAME [--param KEY=VALUE ...] [--format ...]``: run a stored query.

Parameters are converted to typed RDF terms from the query's header (a date must be
YYYY-MM-DD, a payer a name or IRI in the graph) and bound with a VALUES block, never pasted
into the query text. Unknown query, unknown or missing parameter, or a malformed value: a
message listing the valid choices, exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands._querying import (
    add_graph_source_arguments,
    add_param_argument,
    add_result_arguments,
    write_result,
)
from cptkg.errors import EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``query`` subparser."""
    p = subparsers.add_parser(
        "query",
        help="run a stored query by name",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("name", metavar="NAME", help="stored query name (see 'cptkg queries')")
    add_param_argument(p)
    add_result_arguments(p)
    add_graph_source_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the query and write its result; return 0."""
    from cptkg.catalog import get_query
    from cptkg.engines import get_engine
    from cptkg.query import bind_params, parse_param_args, run_stored

    stored = get_query(args.name)
    params = parse_param_args(args.param)
    bind_params(stored, params)  # fail on a bad parameter before loading the graph
    engine = get_engine(args)
    write_result(run_stored(engine, stored, params), args)
    return EXIT_OK
