"""``cptkg add FILE ... [--dry-run] [--new-version]``: validate new payer-policy data in the
context of the graph, then write it to the workspace's ``data/policies/`` atomically, only if
it conforms. The workspace is ``--workspace DIR``, ``$CPTKG_HOME`` or the current directory
(or one above it); make one with ``cptkg init DIR``. The path written is printed in full.

Exit 0 written (or, with --dry-run, would be written; or already in the graph), 1 the new
data does not conform (report printed, nothing written), 2 error (bad input, lock held, no
workspace).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cptkg.commands.common import description, format_options, max_bytes_options, report_text
from cptkg.errors import EXIT_NONCONFORMING, EXIT_OK
from cptkg.formats import INTAKE_REPORT_FORMATS


def register(subparsers: Any) -> None:
    """Add the ``add`` subparser."""
    p = subparsers.add_parser(
        "add",
        help="validate a new payer policy in context and add it to the workspace's data/policies/",
        description=description(__doc__),
        parents=[
            format_options(
                INTAKE_REPORT_FORMATS, "text", "report format: text (default, for people) or json"
            ),
            max_bytes_options("files"),
        ],
    )
    p.add_argument(
        "paths", nargs="+", metavar="FILE", help="new policy file(s): .ttl .nt .jsonld .trig"
    )
    p.add_argument(
        "--dry-run", "-n", action="store_true", help="show what would change; write nothing"
    )
    p.add_argument(
        "--new-version",
        action="store_true",
        help="a policy already in the graph (same IRI or identifier) becomes a new dated "
        "version that supersedes the latest one, instead of a conflict",
    )
    p.add_argument("--show", action="store_true", help="with --dry-run, also print the Turtle")
    p.add_argument(
        "--allow-illustrative",
        action="store_true",
        help="accept records marked cptkg:illustrative (demos and tests in a scratch copy only; "
        "refused by default so examples never enter data/)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Plan, report, and (unless --dry-run) write."""
    from cptkg.intake.add import apply_add, plan_add, summary  # rdflib: only when a command runs
    from cptkg.intake.reading import DEFAULT_MAX_BYTES

    max_bytes = args.max_bytes if args.max_bytes is not None else DEFAULT_MAX_BYTES
    plan = plan_add(
        args.paths,
        new_version=args.new_version,
        max_bytes=max_bytes,
        allow_illustrative=args.allow_illustrative,
    )
    out = sys.stdout
    if not plan.conforms:
        out.write(report_text(plan.report, args.format))
        print("cptkg: nothing written: the new data does not conform", file=sys.stderr)
        return EXIT_NONCONFORMING
    if args.format == "json":
        out.write(plan.report.to_json())
    elif plan.report.problems:  # warnings only
        out.write(plan.report.to_text())
    if plan.nothing_to_add:
        print("Nothing to add: every policy is already in the graph with the same content.")
        return EXIT_OK
    if args.dry_run:
        text = summary(plan, dry_run=True)
        if args.format != "json":
            out.write(text)
            if args.show:
                out.write("\n" + plan.content.decode("utf-8"))
        else:
            sys.stderr.write(text)
        return EXIT_OK
    # checked again under the lock against the graph as it is then, not the plan's context
    # (read before the lock: a concurrent add may have written the same policies since)
    plan.target = apply_add(plan)
    text = summary(plan, dry_run=False)
    (sys.stderr if args.format == "json" else out).write(text)
    return EXIT_OK
