"""``cptkg queries [--format table|json]``: the stored queries, their summaries and parameters."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cptkg.commands._common import write_output
from cptkg.errors import EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``queries`` subparser."""
    p = subparsers.add_parser(
        "queries",
        help="list the stored queries (queries/*.rq): name, summary, parameters",
    )
    p.add_argument("--format", "-f", choices=["table", "json"], default="table")
    p.add_argument("--tag", metavar="TAG", help="only queries with this tag")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the catalog; return 0."""
    from cptkg.catalog import load_catalog

    catalog = [q for q in load_catalog().values() if not args.tag or args.tag in q.tags]
    if args.format == "json":
        data = [
            {
                "name": q.name,
                "summary": q.summary,
                "description": q.description,
                "tags": list(q.tags),
                "params": [
                    {
                        "name": s.name,
                        "type": s.type,
                        "default": s.default,
                        "required": s.required,
                        "help": s.help,
                    }
                    for s in q.params
                ],
            }
            for q in catalog
        ]
        write_output((json.dumps(data, indent=2) + "\n").encode("utf-8"), None)
        return EXIT_OK
    width = max((len(q.name) for q in catalog), default=4)
    lines = []
    for q in catalog:
        lines.append(f"{q.name.ljust(width)}  {q.summary}")
        if q.params:
            lines.append(" " * (width + 2) + "params: " + ", ".join(s.describe() for s in q.params))
    lines.append(f"({len(catalog)} queries; run one with 'cptkg query NAME [--param KEY=VALUE]')")
    write_output(("\n".join(lines) + "\n").encode("utf-8"), None)
    return EXIT_OK
