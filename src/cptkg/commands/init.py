"""``cptkg init DIR``: make DIR a workspace for your own payer policies and stored queries.

Creates DIR/cptkg.toml, DIR/data/policies/ (where `cptkg add` writes) and DIR/queries/ (your
own stored queries, listed by `cptkg queries`). Inside DIR every command reads the reference
graph shipped with cptkg plus DIR/data/**/*.ttl. Nothing existing is overwritten.
Exit 0 created, 2 error (DIR is already a workspace, is a file, or is inside the installed
package).
"""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands.common import description
from cptkg.errors import EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``init`` subparser."""
    p = subparsers.add_parser(
        "init",
        help="make a workspace for your own policies and queries (cptkg.toml, data/policies/)",
        description=description(__doc__),
    )
    p.add_argument("directory", metavar="DIR", help="the workspace directory (created if missing)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Create the workspace and say what was made."""
    from cptkg.paths import check_outside_package  # rdflib names: only when a command runs
    from cptkg.workspace import init_workspace

    ws, made = init_workspace(check_outside_package(args.directory, "make a workspace"))
    print(f"Workspace {ws.root}")
    for path in made:
        print(f"  created {path}" + ("/" if path.is_dir() else ""))
    print(
        f"Next: cd {ws.root} && cptkg add POLICY.ttl (writes {ws.policies_dir}/...); "
        "`cptkg validate` there checks the reference graph plus your data."
    )
    return EXIT_OK
