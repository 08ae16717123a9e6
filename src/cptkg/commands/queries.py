"""``cptkg queries [--tag [TAG]] [--format table|json]``: the stored queries, their summaries
and parameters.

``--tag TAG`` lists only the queries with that tag (an unknown tag: exit 2, with the known
ones); ``--tag`` alone lists the tags and the queries carrying each.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from cptkg.commands.common import (
    description,
    format_options,
    max_width_options,
    table_width,
    write_output,
)
from cptkg.errors import EXIT_OK
from cptkg.formats import CATALOG_FORMATS
from cptkg.tables import text_table


def register(subparsers: Any) -> None:
    """Add the ``queries`` subparser."""
    p = subparsers.add_parser(
        "queries",
        help="list the stored queries (queries/*.rq): name, summary, parameters",
        description=description(__doc__),
        parents=[
            format_options(CATALOG_FORMATS, "table", "table (default, for people) or json"),
            max_width_options(),
        ],
    )
    p.add_argument(
        "--tag",
        metavar="TAG",
        nargs="?",
        const="",
        default=None,
        help="only the queries with this tag; without TAG: list the tags",
    )
    p.set_defaults(func=run)


def _write_table(rows: list[tuple[str, str]], footer: str, args: argparse.Namespace) -> None:
    lines = text_table(rows, max_width=table_width(args.max_width))
    lines.append(footer)
    write_output(("\n".join(lines) + "\n").encode("utf-8"), None)


def run(args: argparse.Namespace) -> int:
    """Print the catalog (or its tags); return 0."""
    from cptkg.catalog import catalog_tags, load_catalog, queries_tagged  # rdflib: lazily

    full = load_catalog()
    if args.tag == "":
        tags = catalog_tags(full)
        if args.format == "json":
            write_output((json.dumps(tags, indent=2) + "\n").encode("utf-8"), None)
        else:
            _write_table(
                [(tag, ", ".join(names)) for tag, names in tags.items()],
                f"({len(tags)} tags; list a tag's queries with 'cptkg queries --tag TAG')",
                args,
            )
        return EXIT_OK
    catalog = queries_tagged(full, args.tag) if args.tag else list(full.values())
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
    _write_table(
        rows, f"({len(catalog)} queries; run one with 'cptkg query NAME [--param KEY=VALUE]')", args
    )
    return EXIT_OK
