"""``cptkg code CODE [--format text|json]``: look up an ICD-10-CM or place-of-service code.

Prints the code's descriptor (verbatim from the release), whether it is billable, the
chapter, block and categories above it, the billable codes below a category, and which
policies, indications, findings and sites of service of the shipped graph use it. An unknown
code exits 2 with the closest codes of the release. ``--export-graph FILE`` writes the whole
release as N-Quads in its own named graph (for a store). Exit 0 found, 2 unknown / error.
"""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands.common import description, write_output
from cptkg.errors import EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``code`` subparser."""
    p = subparsers.add_parser(
        "code",
        help="look up an ICD-10-CM or place-of-service code in its release and in the graph",
        description=description(__doc__),
    )
    p.add_argument("code", metavar="CODE", nargs="?", help="e.g. G51.1, S04.5, G51.3-, 21")
    p.add_argument(
        "--system",
        choices=["icd10cm", "pos"],
        help="code system (default: pos for two digits, else icd10cm)",
    )
    p.add_argument(
        "--format",
        "-f",
        choices=["text", "json"],
        default="text",
        help="text (default, for people) or json (one object with every field)",
    )
    p.add_argument(
        "--export-graph",
        metavar="FILE",
        help="write the newest release of --system (default icd10cm) as N-Quads to FILE",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Look the code up (or export the release) and print the result; return 0."""
    from cptkg.errors import InputError

    if args.export_graph:
        return _export(args)
    if not args.code:
        raise InputError("give a CODE to look up (or --export-graph FILE)")
    from cptkg.codes.lookup import describe
    from cptkg.load import load_union

    report = describe(args.code, load_union(), args.system)
    write_output(report.render(args.format).encode("utf-8"), None)
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    import sys

    from cptkg.codes.rdf import write_nquads
    from cptkg.codes.releases import latest

    release = latest(args.system or "icd10cm")
    with open(args.export_graph, "w", encoding="utf-8") as out:
        count = write_nquads(release, out)
    print(f"wrote {count} quads of {release.label} in <{release.graph_iri}>", file=sys.stderr)
    return EXIT_OK
