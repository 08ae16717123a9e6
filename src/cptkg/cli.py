"""The ``cptkg`` command line: a thin argparse layer over the package API.

Each subcommand lives in its own module ``cptkg.commands.<name>`` exposing
``register(subparsers)`` (adds its subparser and ``set_defaults(func=run)``) and
``run(args) -> int``. To add a command, write the module and append its name to
:data:`COMMAND_MODULES`. Command modules import heavy libraries (rdflib, pyshacl) inside
``run`` only, so ``cptkg --help`` stays fast.

Exit codes (see :mod:`cptkg.errors`): 0 success / conforms, 1 does not conform,
2 error. Every :class:`~cptkg.errors.CptkgError` is printed as ``cptkg: error: ...``
(plus ``hint: ...``) on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from cptkg.commands.common import add_workspace_option, workspace_option
from cptkg.errors import EXIT_ERROR, CptkgError
from cptkg.gc_tuning import fewer_collections, to_oldest_generation
from cptkg.process_exit import end_with_teardown, end_without_teardown, set_exit_code
from cptkg.textsafe import printable
from cptkg.version import __version__
from cptkg.workspace import using_workspace

#: Subcommand modules under ``cptkg.commands``, in help order. Append new commands here.
COMMAND_MODULES: list[str] = [
    "validate",
    "export",
    "stats",
    "push",
    "serve",
    "generate",
    "queries",
    "query",
    "sparql",
    "report",
    "code",
    "add",
    "import_csv",
    "diff",
    "crd",
    "init",
]


def command_module(argv: Sequence[str]) -> str | None:
    """The module of the command ``argv`` names: its first word, when only options without a
    separate value (``--help``, ``--opt=value``) come before it; else None (a top-level option
    may take the next word as its value, so only the full parser can tell)."""
    for arg in argv:
        if not arg.startswith("-"):
            module = arg.replace("-", "_")
            return module if module in COMMAND_MODULES else None
        if arg not in ("-h", "--help", "--version") and "=" not in arg:
            return None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every command of COMMAND_MODULES registered (``only``: just
    that module's command, so a run imports the one command module it needs)."""
    parser = argparse.ArgumentParser(
        prog="cptkg",
        description="Clinical-coding knowledge graph for CPT 64866: validate, query, export.",
        epilog="exit codes: 0 ok / conforms, 1 does not conform, 2 error. The graph is the "
        "reference graph shipped with cptkg plus your workspace's data (--workspace DIR, "
        "$CPTKG_HOME, or the current directory; `cptkg init DIR` makes one).",
    )
    parser.add_argument("--version", action="version", version=f"cptkg {__version__}")
    add_workspace_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES if only is None else [only]:
        module = importlib.import_module(f"cptkg.commands.{name}")
        module.register(subparsers)
    for command_parser in subparsers.choices.values():
        add_workspace_option(command_parser, top_level=False)
    return parser


def _print_error(err: CptkgError) -> None:
    print(f"cptkg: error: {printable(err.message, multiline=True)}", file=sys.stderr)
    if err.hint:
        print(f"hint: {printable(err.hint, multiline=True)}", file=sys.stderr)


def run() -> None:
    """The ``cptkg`` console command and ``python -m cptkg``: :func:`main` on ``sys.argv``,
    the process then ended without the interpreter's teardown
    (:mod:`cptkg.process_exit`)."""
    end_without_teardown()
    try:
        code = main()
    except BaseException:
        end_with_teardown()  # an escaping exception ends the process the usual way
        raise
    set_exit_code(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    The command runs with fewer cyclic garbage-collector passes
    (:func:`cptkg.gc_tuning.fewer_collections`): importing rdflib and reading a graph allocate
    many containers and few cycles, and the default passes cost about a tenth of a short
    command such as ``cptkg query NAME``. At its end, what it left alive (mostly the modules
    it imported) joins the oldest generation in one step
    (:func:`cptkg.gc_tuning.to_oldest_generation`) rather than by a young-generation pass
    over all of it once the usual thresholds are back (about 10 ms); it is still collected by
    the next full pass."""
    with fewer_collections():
        try:
            return _main(argv)
        finally:
            to_oldest_generation()


def _main(argv: Sequence[str] | None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_module(arguments))
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # --help, --version, usage errors (argparse exits with 2)
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        with using_workspace(workspace_option(args)):
            return int(func(args))
    except CptkgError as err:
        _print_error(err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("cptkg: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # a bug: say so in one line unless debugging is asked for
        if os.environ.get("CPTKG_DEBUG"):
            raise
        print(f"cptkg: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(
            "hint: this is a bug in cptkg; rerun with CPTKG_DEBUG=1 for a traceback",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    run()
