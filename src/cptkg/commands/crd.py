"""``cptkg crd --payer NAME [--code CODE] [--date YYYY-MM-DD]``: the payer's answers for a CPT
code as HL7 Da Vinci CRD FHIR R4 JSON.

Prints the CDS Hooks response CRD returns for an order: one card per policy and a system
action ``update`` whose resource is a ServiceRequest for the code carrying one
``ext-coverage-information`` extension per policy in force on --date (default: today, UTC;
policies whose effective date is not stated in source are included and their cards say so).
``--format service-request`` prints the ServiceRequest alone. The extension's ``date`` is the
day of the export (UTC; $SOURCE_DATE_EPOCH, if set, fixes it for reproducible output).
Mapping of the answers to CRD codes: docs/crd.md. Unknown payer or code: exit 2.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
from typing import Any

from cptkg.commands.common import (
    description,
    graph_settings,
    graph_source_options,
    open_graph_until_exit,
    output_options,
    write_output,
)
from cptkg.errors import EXIT_OK, InputError

#: What ``--format`` can print.
CRD_FORMATS: tuple[str, ...] = ("hooks", "service-request")

_REFERENCE = re.compile(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}")


def register(subparsers: Any) -> None:
    """Add the ``crd`` subparser."""
    p = subparsers.add_parser(
        "crd",
        help="a payer's answers for a code as Da Vinci CRD FHIR JSON (CDS Hooks response)",
        description=description(__doc__),
        parents=[output_options(), *graph_source_options()],
    )
    p.add_argument("--payer", required=True, help="payer name (any case) or IRI, e.g. Aetna")
    p.add_argument("--code", default="64866", help="CPT code (default 64866)")
    p.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="export the policies in force on this date (default: today, UTC)",
    )
    p.add_argument(
        "--format",
        "-f",
        choices=CRD_FORMATS,
        default="hooks",
        help="hooks: the CDS Hooks response (default); service-request: the FHIR "
        "ServiceRequest alone",
    )
    p.add_argument(
        "--coverage",
        metavar="REF",
        help="reference to the CRD client's Coverage, e.g. Coverage/123 (default: a "
        "display-only reference: cptkg does not know it)",
    )
    p.add_argument(
        "--patient",
        metavar="REF",
        help="reference to the order's Patient, e.g. Patient/123 (default: display-only)",
    )
    p.set_defaults(func=run)


def today() -> _dt.date:
    """Today in UTC, or the day of $SOURCE_DATE_EPOCH when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return _dt.datetime.fromtimestamp(int(epoch), _dt.UTC).date()
        except (ValueError, OverflowError, OSError):
            raise InputError(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix time",
                hint="set it to whole seconds since 1970-01-01, or unset it",
            ) from None
    return _dt.datetime.now(_dt.UTC).date()


def parse_date(text: str) -> _dt.date:
    """``text`` (YYYY-MM-DD) as a date; InputError otherwise."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError
        return _dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--date {text!r} is not a date", hint="expected YYYY-MM-DD, e.g. 2026-01-31"
        ) from None


def reference(option: str, text: str | None) -> dict[str, str] | None:
    """``--coverage`` / ``--patient`` as a FHIR Reference, None when not given."""
    if text is None:
        return None
    if not _REFERENCE.fullmatch(text.strip()):
        raise InputError(
            f"{option} {text!r} is not a FHIR reference",
            hint=f"give ResourceType/id, e.g. {option} "
            + ("Coverage/123" if option == "--coverage" else "Patient/123"),
        )
    return {"reference": text.strip()}


def run(args: argparse.Namespace) -> int:
    """Export and write the JSON; return 0."""
    from cptkg.crd.export import crd_export, to_json  # rdflib, fhir.resources: only now

    assertion_date = today()
    as_of = parse_date(args.date) if args.date else assertion_date
    coverage = reference("--coverage", args.coverage)
    patient = reference("--patient", args.patient)
    engine = open_graph_until_exit(graph_settings(args))
    export = crd_export(
        engine,
        args.code,
        args.payer,
        as_of=as_of,
        assertion_date=assertion_date,
        coverage=coverage,
        patient=patient,
    )
    data = export.response if args.format == "hooks" else export.service_request
    write_output(to_json(data).encode("utf-8"), args.output)
    return EXIT_OK
