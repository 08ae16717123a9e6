"""``cptkg generate --codes N --payers M --versions K -o FILE``: a synthetic policy graph.

Writes N-Triples (``.nt``) or Turtle (``.ttl``) as a stream, deterministic for a ``--seed``,
every resource under ``https://w3id.org/cptkg/id/synthetic/`` and marked
``cptkg:synthetic true``. About 21 triples per policy (N x M x K policies): ``--size 1m``
is ``--codes 100 --payers 100 --versions 5``. ``--invalid-rate R`` breaks a share R of the
policies and codes, every kind of violation in turn, and lists the expected validation
results in ``FILE.manifest.json``. Load and validate it together with the shipped graph:
``cptkg validate --engine oxigraph data/ FILE``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cptkg.commands.common import description
from cptkg.errors import EXIT_OK, InputError
from cptkg.progress import Progress


def register(subparsers: Any) -> None:
    """Add the ``generate`` subparser."""
    p = subparsers.add_parser(
        "generate",
        help="write a synthetic policy graph of any size (for benchmarks and tests)",
        description=description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--codes", type=int, help="number of synthetic CPT codes (default 10)")
    p.add_argument("--payers", type=int, help="number of synthetic payers (default 10)")
    p.add_argument("--versions", type=int, help="policy versions per payer and code (default 5)")
    p.add_argument("--size", metavar="PRESET", help="10k, 100k, 1m or 10m (sets the three counts)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--invalid-rate",
        type=float,
        default=0.0,
        metavar="R",
        help="share of policies and codes given one seeded violation (0..1, default 0)",
    )
    p.add_argument("--format", choices=["nt", "ttl"], help="default: from the file extension")
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="file to write (.nt or .ttl)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate; print a one-line summary on stderr."""
    from cptkg.generate import PRESETS, generate, parse_size  # rdflib: only when a command runs

    codes, payers, versions = PRESETS["10k"]
    if args.size:
        try:
            codes, payers, versions = parse_size(args.size)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    codes = args.codes if args.codes is not None else codes
    payers = args.payers if args.payers is not None else payers
    versions = args.versions if args.versions is not None else versions
    total = codes * payers * versions
    try:
        with Progress("generate", total=total, unit="policies") as bar:
            result = generate(
                args.output,
                codes=codes,
                payers=payers,
                versions=versions,
                seed=args.seed,
                invalid_rate=args.invalid_rate,
                fmt=args.format,
                progress=bar.update,
            )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise InputError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    print(
        f"wrote {result.path}: {result.triples} triples, {result.policies} policies, "
        f"{len(result.expected)} expected validation result(s) in {result.manifest_path}",
        file=sys.stderr,
    )
    return EXIT_OK
