"""``cptkg query NAME [--param KEY=VALUE ...] [--format ...]``: run a stored query.

Parameters are converted to typed RDF terms from the query's header (a date must be
YYYY-MM-DD, a payer a name or IRI in the graph) and bound with a VALUES block, never pasted
into the query text. Unknown query, unknown or missing parameter, or a malformed value: a
message listing the valid choices, exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands.common import (
    description,
    graph_settings,
    graph_source_options,
    open_graph_until_exit,
    param_options,
    result_options,
    write_result,
)
from cptkg.errors import EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``query`` subparser."""
    p = subparsers.add_parser(
        "query",
        help="run a stored query by name",
        description=description(__doc__),
        parents=[param_options(), *result_options(), *graph_source_options()],
    )
    p.add_argument("name", metavar="NAME", help="stored query name (see 'cptkg queries')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the query and write its result; return 0."""
    from cptkg import cache
    from cptkg.catalog import get_query  # rdflib: only when a command runs
    from cptkg.engines.base import SelectResult
    from cptkg.query import bind_params, parse_param_args, run_stored

    stored = get_query(args.name)
    params = parse_param_args(args.param)
    bind_params(stored, params)  # fail on a bad parameter before loading the graph
    settings = graph_settings(args)
    key = cache.graph_key("query", settings, [stored.name, *args.param], [stored.path])
    outcome = cache.cached(
        key,
        lambda: run_stored(open_graph_until_exit(settings), stored, params),
        lambda r: cache.encode_select(r) if isinstance(r, SelectResult) else None,
        cache.decode_select,
    )
    write_result(outcome, args)
    return EXIT_OK
