"""``cptkg diff OLD NEW``: what changed between two policy versions, in words.

OLD and NEW are files (.ttl .nt .jsonld .trig; several policies are paired by identifier) or
policies of the graph by identifier (``aetna-cpb-0366``), prefixed name or IRI. Exit 0 compared
(with or without differences), 2 error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cptkg.commands.common import description
from cptkg.errors import EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``diff`` subparser."""
    p = subparsers.add_parser(
        "diff",
        help="compare two policy versions field by field (files or policies of the graph)",
        description=description(__doc__),
    )
    p.add_argument("old", metavar="OLD", help="file or policy (identifier, kg:name, IRI)")
    p.add_argument("new", metavar="NEW", help="file or policy (identifier, kg:name, IRI)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the comparison."""
    from cptkg.intake.context import shipped_context  # rdflib: only when a command runs
    from cptkg.intake.diff import diff_sides, resolve_side

    ctx = shipped_context()
    old = resolve_side(args.old, ctx.graph)
    new = resolve_side(args.new, ctx.graph)
    sys.stdout.write(diff_sides(old, new, ctx.graph))
    return EXIT_OK
