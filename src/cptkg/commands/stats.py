"""``cptkg stats [PATH ...] [--format text|json]``: triples per graph, instances per class."""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands.common import format_options, paths_options, write_output
from cptkg.errors import EXIT_OK
from cptkg.formats import STATS_FORMATS


def register(subparsers: Any) -> None:
    """Add the ``stats`` subparser."""
    p = subparsers.add_parser(
        "stats",
        help="count triples per source file and instances per class",
        parents=[paths_options("count"), format_options(STATS_FORMATS, "text")],
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the statistics; return 0."""
    from cptkg.load import load_dataset  # rdflib: only when a command runs
    from cptkg.stats import compute_stats

    ds = load_dataset(args.paths, include_ontology=False) if args.paths else load_dataset()
    stats = compute_stats(ds)
    text = stats.to_json() if args.format == "json" else stats.to_text()
    write_output(text.encode("utf-8"), None)
    return EXIT_OK
