"""``cptkg sparql 'SELECT …'`` or ``cptkg sparql --file q.rq``: an ad-hoc query over the graph.

SELECT and ASK results are written like ``cptkg query``'s; CONSTRUCT and DESCRIBE results
as Turtle (or ``--format nt|json-ld``). ``--param`` binds variables: typed by the file's
``#+`` header if it has one, else ``<…>`` is an IRI and anything else a plain literal.
A query with SERVICE (federation) is refused unless ``--allow-service`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
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
from cptkg.errors import EXIT_OK, InputError


def register(subparsers: Any) -> None:
    """Add the ``sparql`` subparser."""
    p = subparsers.add_parser(
        "sparql",
        help="run an ad-hoc SPARQL query over the graph",
        description=description(__doc__),
        parents=[param_options(), *result_options(), *graph_source_options()],
    )
    p.add_argument("query", nargs="?", metavar="QUERY", help="the query text ('-': read stdin)")
    p.add_argument("--file", metavar="FILE", help="read the query from FILE")
    p.add_argument(
        "--allow-service",
        action="store_true",
        help="allow SERVICE clauses (federation: the query may contact other endpoints); "
        "refused without this option",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the query and write its result; return 0."""
    if bool(args.query) == bool(args.file):
        raise InputError(
            "give the query as an argument or with --file, not both or neither",
            hint="cptkg sparql 'SELECT ?s WHERE { ?s ?p ?o } LIMIT 5'  or  "
            "cptkg sparql --file q.rq",
        )
    if args.file:
        path = Path(args.file)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{path}: no such file", hint="check the path") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
    else:
        text = sys.stdin.read() if args.query == "-" else args.query
    if not text.strip():
        raise InputError("the query is empty")
    from cptkg.query import parse_param_args, run_sparql  # rdflib: only when a command runs

    params = parse_param_args(args.param)
    write_result(
        run_sparql(
            open_graph_until_exit(graph_settings(args)),
            text,
            params,
            allow_service=args.allow_service,
        ),
        args,
    )
    return EXIT_OK
