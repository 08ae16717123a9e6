"""``cptkg import-csv FILE.csv [-o OUT.ttl]``: turn a policy spreadsheet into RDF and check it
in the context of the graph, like ``cptkg validate``; errors name the row and the column.

The layout is data/templates/policy-template.csv (its columns: docs/intake.md).
Exit 0 converted and conforms (Turtle written to OUT or standard output), 1 converted but does
not conform (report printed, nothing written), 2 the spreadsheet cannot be read or converted
(encoding, header, blank row, bad date, unknown answer, ...: every row/column listed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cptkg import paths
from cptkg.commands.common import (
    description,
    format_options,
    max_bytes_options,
    report_text,
    write_output,
)
from cptkg.errors import EXIT_NONCONFORMING, EXIT_OK, InputError
from cptkg.formats import INTAKE_REPORT_FORMATS


def register(subparsers: Any) -> None:
    """Add the ``import-csv`` subparser."""
    p = subparsers.add_parser(
        "import-csv",
        help="convert a policy spreadsheet (CSV) to RDF and validate it in context",
        description=description(__doc__),
        parents=[
            format_options(
                INTAKE_REPORT_FORMATS, "text", "report format: text (default, for people) or json"
            ),
            max_bytes_options("files"),
        ],
    )
    p.add_argument("path", metavar="FILE.csv", help="the spreadsheet, saved as CSV UTF-8")
    p.add_argument("-o", "--output", metavar="OUT.ttl", help="write the Turtle here (atomically)")
    p.set_defaults(func=run)


def check_output(output: str) -> None:
    """Refuse (InputError, exit 2) an ``-o`` path inside the graph's data directory, naming a
    directory, or in a directory that does not exist: before anything is read or written."""
    path = Path(output)
    shown = paths.display_path(path)
    target = path.resolve()
    data = paths.data_dir().resolve()
    if target == data or target.is_relative_to(data):
        raise InputError(
            f"-o/--output {shown}: inside the graph's data directory ({paths.display_path(data)})"
            "; import-csv never writes into the graph, nothing written",
            hint=f"write the Turtle elsewhere (-o {path.name}), then bring it in with "
            f"`cptkg add {path.name}`, which checks it and refuses illustrative data",
        )
    if path.is_dir():
        raise InputError(
            f"-o/--output {shown}: is a directory; nothing written",
            hint=f"name the Turtle file to write, e.g. -o {shown.rstrip('/')}/policies.ttl",
        )
    if not target.parent.is_dir():
        raise InputError(
            f"-o/--output {shown}: the directory {paths.display_path(target.parent)} does not "
            "exist; nothing written",
            hint="create the directory first, or name a file in an existing directory",
        )


def run(args: argparse.Namespace) -> int:
    """Convert, validate, write the Turtle only if it conforms."""
    if args.output and args.output != "-":
        check_output(args.output)
    from cptkg.intake.add import serialize_new  # rdflib: only when a command runs
    from cptkg.intake.csv_intake import import_csv
    from cptkg.intake.reading import DEFAULT_MAX_BYTES

    max_bytes = args.max_bytes if args.max_bytes is not None else DEFAULT_MAX_BYTES
    new, report = import_csv(args.path, max_bytes=max_bytes)
    text = report_text(report, args.format)
    if not report.conforms:
        sys.stdout.write(text)
        print("cptkg: nothing written: the spreadsheet's policies do not conform", file=sys.stderr)
        return EXIT_NONCONFORMING
    data = serialize_new(new.graph, new.files).replace(b"`cptkg add`", b"`cptkg import-csv`", 1)
    if args.output and args.output != "-":
        write_output(data, args.output)
        sys.stdout.write(text)
        written = Path(args.output).resolve()
        print(f"Wrote {written}: {len(new.graph)} triple(s), {len(report.policies)} policy(ies)")
    else:
        write_output(data, None)
        sys.stderr.write(text)
    return EXIT_OK
