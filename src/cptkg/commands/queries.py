"""``cptkg queries [--format table|json]``: the stored queries, their summaries and parameters."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cptkg.commands.common import format_options, write_output
from cptkg.errors import EXIT_OK
from cptkg.formats import CATALOG_FORMATS
from cptkg.tables import text_table


def register(subparsers: Any) -> None:
    """Add the ``queries`` subparser."""
    p = subparsers.add_parser(
        "queries",
        help="list the stored queries (queries/*.rq): name, summary, parameters",
        parents=[format_options(CATALOG_FORMATS, "table")],
    )
    p.add_argument("--tag", metavar="TAG", help="only queries with this tag")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the catalog; return 0."""
    from cptkg.catalog import load_catalog  # rdflib: only when a command runs

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
    rows: list[tuple[str, str]] = []
    for q in catalog:
        rows.append((q.name, q.summary))
        if q.params:
            rows.append(("", "params: " + ", ".join(s.describe() for s in q.params)))
    lines = text_table(rows)
    lines.append(f"({len(catalog)} queries; run one with 'cptkg query NAME [--param KEY=VALUE]')")
    write_output(("\n".join(lines) + "\n").encode("utf-8"), None)
    return EXIT_OK
