"""Spreadsheet intake: payer policies kept in a CSV (one policy per row) turned into RDF and
checked like any new data (:mod:`cptkg.intake.core`), with errors that name the row and column.

Layout (see README "Adding a payer policy"): UTF-8 CSV (a BOM is accepted), comma-separated,
first non-comment line is the header with exactly the columns of :data:`COLUMNS` (any order);
lines starting with ``#`` *before* the header are comments. Row numbers are the file's line
numbers as a spreadsheet shows them (header = row 1 when there is no comment line). A blank
row is an error (it usually hides a half-pasted block). Multi-valued cells are separated by
spaces (or ``;``/``,``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS, XSD
from rdflib.term import Node

from cptkg import paths as _paths
from cptkg.errors import InputError
from cptkg.intake.context import ContextProvider, shipped_context
from cptkg.intake.core import (
    DEFAULT_MAX_BYTES,
    IntakeReport,
    NewData,
    _quiet_rdflib,
    check_size,
    validate_new_data,
)
from cptkg.namespaces import CPTKG, KG, PREFIXES, bind_prefixes

#: (column, required?, what it holds) in template order.
COLUMNS: list[tuple[str, bool, str]] = [
    (
        "policy_id",
        True,
        "identifier of this policy version (dcterms:identifier), e.g. "
        "aetna-cpb-0366 or aetna-cpb-0366@2025-01-01 for a revised version",
    ),
    ("label", False, "title (rdfs:label); default '<payer>: <policy_id>'"),
    ("payer", True, "payer by name (Aetna), slug (aetna) or IRI (kg:payer-aetna); must exist"),
    ("cpt_codes", True, "procedure codes, e.g. 64866 64868; must exist in the graph"),
    (
        "code_applicability",
        True,
        "what the link to the codes rests on: stated-by-code | inferred-from-text | not-confirmed",
    ),
    ("version", False, "version label as the payer gives it"),
    ("effective_date", False, "YYYY-MM-DD; blank = not stated in source"),
    ("end_date", False, "YYYY-MM-DD; blank = open-ended"),
    ("last_reviewed", False, "YYYY-MM-DD"),
    ("retrieved", False, "YYYY-MM-DD, the day the source was read"),
    ("coverage", True, "covered | not-covered | conditional | not-stated"),
    ("prior_authorization", True, "required | not-required | conditional | not-stated"),
    ("site_of_service_restriction", True, "restricted | not-restricted | not-stated"),
    ("allowed_places_of_service", False, "CMS POS codes, e.g. 21 22 (needed if restricted)"),
    (
        "documentation_required",
        True,
        "clinical | admin | patient | none | not-stated (several allowed)",
    ),
    ("documentation_text", False, "what documentation, in words"),
    ("medical_necessity_criteria", True, "stated | none | not-stated"),
    ("criteria_text", False, "the criteria, in words (needed if stated)"),
    ("supporting_diagnoses", False, "ICD-10-CM codes, e.g. G51.0 H02.239"),
    ("modifiers", False, "modifiers, e.g. 22 50"),
    ("policy_document", False, "kg:document-… or its identifier (CPB 0366); must exist"),
    (
        "source",
        False,
        "prov:wasDerivedFrom: the policy document or another source in the graph "
        "(kg:… IRI or document identifier); blank = the policy_document",
    ),
    ("supersedes", False, "identifier or IRI of the earlier version (graph or same file)"),
    (
        "evidence_status",
        True,
        "source-document | public-copy | third-party-copy | "
        "code-not-confirmed | none-found | illustrative",
    ),
    ("status_note", False, "what is and is not verified, in words"),
]
COLUMN_NAMES = [c for c, _r, _w in COLUMNS]
HEADER = ",".join(COLUMN_NAMES)

# answer columns: column -> (property, vocabulary class, multi-valued?)
_ANSWERS: dict[str, tuple[URIRef, URIRef, bool]] = {
    "coverage": (CPTKG.coverage, CPTKG.CoverageStatus, False),
    "prior_authorization": (CPTKG.priorAuthorization, CPTKG.PriorAuthorizationStatus, False),
    "site_of_service_restriction": (
        CPTKG.siteOfServiceRestriction,
        CPTKG.SiteOfServiceRestrictionStatus,
        False,
    ),
    "documentation_required": (CPTKG.documentationRequired, CPTKG.DocumentationStatus, True),
    "medical_necessity_criteria": (CPTKG.medicalNecessityCriteria, CPTKG.CriteriaStatus, False),
    "evidence_status": (CPTKG.evidenceStatus, CPTKG.EvidenceStatus, False),
    "code_applicability": (CPTKG.codeApplicabilityBasis, CPTKG.CodeApplicabilityBasis, False),
}
_DATES = {
    "effective_date": CPTKG.effectiveDate,
    "end_date": CPTKG.endDate,
    "last_reviewed": CPTKG.lastReviewed,
    "retrieved": CPTKG.retrieved,
}
# code columns: column -> (property, IRI prefix, pattern, what)
_CODES: dict[str, tuple[URIRef, str, str, str]] = {
    "cpt_codes": (
        CPTKG.appliesToCode,
        "cpt-",
        r"^[0-9]{4}[0-9A-Z]$",
        "CPT code (4 digits + digit/letter)",
    ),
    "allowed_places_of_service": (
        CPTKG.allowedPlaceOfService,
        "pos-",
        r"^[0-9]{2}$",
        "CMS place-of-service code (2 digits)",
    ),
    "supporting_diagnoses": (
        CPTKG.supportingDiagnosis,
        "icd10cm-",
        r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$",
        "ICD-10-CM code (e.g. G51.0, S04.51XA)",
    ),
    "modifiers": (CPTKG.policyModifier, "modifier-", r"^[0-9A-Z]{2}$", "modifier (2 characters)"),
}
#: property -> column, to put SHACL findings back on the spreadsheet
PROPERTY_COLUMN: dict[Node, str] = {
    RDFS.label: "label",
    DCTERMS.identifier: "policy_id",
    CPTKG.payer: "payer",
    CPTKG.versionLabel: "version",
    CPTKG.effectiveDateStatus: "effective_date",
    CPTKG.documentationText: "documentation_text",
    CPTKG.criteriaText: "criteria_text",
    CPTKG.policyDocument: "policy_document",
    PROV.wasDerivedFrom: "source",
    CPTKG.supersedes: "supersedes",
    CPTKG.statusNote: "status_note",
    **{prop: col for col, prop in _DATES.items()},
    **{prop: col for col, (prop, _c, _m) in _ANSWERS.items()},
    **{prop: col for col, (prop, _p, _r, _w) in _CODES.items()},
}
_SHAPE_COLUMN = {
    "PolicyDatesShape-order": "end_date",
    "PolicyEffectiveDateStatedShape": "effective_date",
    "PolicySiteRestrictionShape": "allowed_places_of_service",
    "PolicyCriteriaTextShape": "criteria_text",
    "PolicyIdentifierUniqueShape": "policy_id",
    "PolicySupersedesEarlierShape": "supersedes",
}


@dataclass
class CellError:
    """A problem found while reading the spreadsheet, at a row and (optional) column."""

    row: int
    column: str | None
    message: str
    hint: str = ""

    def text(self, file: str) -> str:
        where = f"{file} row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


class CsvError(InputError):
    """The spreadsheet cannot be turned into RDF: one or more row/column errors (exit 2)."""

    def __init__(self, file: str, errors: list[CellError]) -> None:
        lines = [e.text(file) for e in errors]
        super().__init__(
            f"{file}: {len(errors)} problem(s) in the spreadsheet, nothing converted:\n  "
            + "\n  ".join(lines),
            hint="fix the cells named above; the template is data/templates/policy-template.csv",
        )
        self.file = file
        self.errors = errors


@dataclass
class CsvResult:
    """The RDF made from a spreadsheet, and which row each policy came from."""

    graph: Graph
    rows: dict[Node, int] = field(default_factory=dict)
    file: str = ""

    def locate(self, subject: Node | None, path: Node | None) -> str | None:
        row = self.rows.get(subject) if subject is not None else None
        if row is None:
            return None
        col = PROPERTY_COLUMN.get(path) if path is not None else None
        return f"{self.file} row {row}" + (f", column {col}" if col else "")


def _vocab(ontology: Graph, cls: URIRef) -> dict[str, URIRef]:
    """Accepted spellings of each answer of vocabulary ``cls``: the IRI's name without its
    group prefix (``pa-required`` -> ``required``), the skos:notation and the prefLabel."""
    out: dict[str, URIRef] = {}
    for concept in ontology.subjects(RDF.type, cls):
        if not isinstance(concept, URIRef):
            continue
        local = str(concept).rsplit("#", 1)[-1]
        keys = {local, local.split("-", 1)[-1]}
        for t in (ontology.value(concept, SKOS.notation), ontology.value(concept, SKOS.prefLabel)):
            if t is not None:
                keys.add(str(t))
        for k in keys:
            out.setdefault(k.lower(), concept)
    return out


def _short_answers(vocab: dict[str, URIRef]) -> str:
    names = sorted({str(c).rsplit("#", 1)[-1].split("-", 1)[-1] for c in vocab.values()})
    return ", ".join(names)


def _split(cell: str) -> list[str]:
    return [x for x in re.split(r"[\s;,]+", cell.strip()) if x]


def _expand(cell: str) -> URIRef | None:
    s = cell.strip()
    if s.startswith("<") and s.endswith(">"):
        return URIRef(s[1:-1])
    if s.startswith(("http://", "https://", "urn:")):
        return URIRef(s)
    if ":" in s and s.split(":", 1)[0] in PREFIXES:
        prefix, local = s.split(":", 1)
        return URIRef(str(PREFIXES[prefix]) + local)
    return None


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return re.sub(r"-{2,}", "-", s)


def policy_iri(policy_id: str) -> URIRef:
    """``kg:policy-<slug of the identifier>`` (``@`` becomes ``-``)."""
    return URIRef(f"{KG}policy-{slug(policy_id)}")


def decode_csv(data: bytes, file: str) -> str:
    """UTF-8 (with or without BOM) or an error naming the byte offset and row."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 4].hex(" ")
        raise CsvError(
            file,
            [
                CellError(
                    row,
                    None,
                    f"not UTF-8: byte offset {exc.start} (bytes {bad}) cannot be decoded",
                    "save the spreadsheet as 'CSV UTF-8'",
                )
            ],
        ) from None


def read_rows(text: str, file: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: cell}) for each data row; header and layout checked strictly."""
    lines = text.splitlines(keepends=True)
    first = 0
    while first < len(lines) and lines[first].lstrip().startswith("#"):
        first += 1
    body = "".join(lines[first:])
    if not body.strip():
        raise CsvError(file, [CellError(first + 1, None, "no header row", f"expected: {HEADER}")])
    reader = csv.reader(io.StringIO(body, newline=""))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CsvError(file, [CellError(first + 1, None, f"CSV syntax: {exc}")]) from None
    header = [h.strip() for h in header]
    errors: list[CellError] = []
    missing = [c for c in COLUMN_NAMES if c not in header]
    extra = [h for h in header if h not in COLUMN_NAMES]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if missing:
        errors.append(CellError(first + 1, None, "missing column(s): " + ", ".join(missing)))
    if extra:
        errors.append(CellError(first + 1, None, "unknown column(s): " + ", ".join(extra)))
    if dupes:
        errors.append(CellError(first + 1, None, "duplicate column(s): " + ", ".join(dupes)))
    if errors:
        errors[-1].hint = f"the header must be exactly: {HEADER}"
        raise CsvError(file, errors)
    rows: list[tuple[int, dict[str, str]]] = []
    start = first + 1 + reader.line_num  # physical line of the next record
    try:
        for record in reader:
            row_no = start
            start = first + 1 + reader.line_num
            if not any(cell.strip() for cell in record):
                errors.append(
                    CellError(row_no, None, "blank row", "delete it; blank rows are not skipped")
                )
                continue
            if len(record) != len(header):
                errors.append(
                    CellError(
                        row_no,
                        None,
                        f"{len(record)} cells, but the header has {len(header)} columns",
                        "check for an unquoted comma or a missing cell",
                    )
                )
                continue
            rows.append((row_no, dict(zip(header, (c.strip() for c in record), strict=True))))
    except csv.Error as exc:
        errors.append(CellError(first + 1 + reader.line_num, None, f"CSV syntax: {exc}"))
    if errors:
        raise CsvError(file, errors)
    if not rows:
        raise CsvError(file, [CellError(first + 1, None, "no policy rows below the header")])
    return rows


def _payer(cell: str, ctx: ContextProvider) -> URIRef | None:
    iri = _expand(cell)
    if iri is not None:
        return iri
    known = ctx.instances_of(CPTKG.Payer, 10_000)
    for p, label in known:
        local = str(p).removeprefix(f"{KG}payer-")
        names = {local.lower(), (label or "").lower()}
        names |= {str(o).lower() for _, pred, o in ctx.describe([p]) if pred == SKOS.altLabel}
        if cell.lower() in names:
            return p
    return None


def _document(cell: str, ctx: ContextProvider) -> URIRef | None:
    iri = _expand(cell)
    if iri is not None:
        return iri
    for d, label in ctx.instances_of(CPTKG.PolicyDocument, 10_000):
        ident = None
        for t in ctx.describe([d]):
            if t[1] == DCTERMS.identifier:
                ident = str(t[2])
        if cell.lower() in (
            (ident or "").lower(),
            (label or "").lower(),
            str(d).removeprefix(str(KG)),
        ):
            return d
    return None


def convert(text: str, file: str, ctx: ContextProvider, ontology: Graph) -> CsvResult:
    """Turn the CSV text into RDF, or raise CsvError listing every row/column problem."""
    rows = read_rows(text, file)
    vocabs = {col: _vocab(ontology, cls) for col, (_p, cls, _m) in _ANSWERS.items()}
    g = Graph()
    bind_prefixes(g)
    result = CsvResult(g, file=file)
    errors: list[CellError] = []
    ids_in_file: dict[str, URIRef] = {}
    for row_no, cells in rows:
        pid = cells["policy_id"]
        if pid:
            if pid in ids_in_file:
                errors.append(
                    CellError(row_no, "policy_id", f"{pid!r} is already used in this file")
                )
            ids_in_file[pid] = policy_iri(pid)
    for row_no, cells in rows:

        def err(col: str, msg: str, hint: str = "", _row: int = row_no) -> None:
            errors.append(CellError(_row, col, msg, hint))

        for col, required, what in COLUMNS:
            if required and not cells[col]:
                err(col, "blank, but an answer is required", what)
        pid = cells["policy_id"]
        if not pid:
            continue
        pol = policy_iri(pid)
        result.rows[pol] = row_no
        g.add((pol, RDF.type, CPTKG.PayerPolicy))
        g.add((pol, DCTERMS.identifier, Literal(pid)))
        payer = None
        if cells["payer"]:
            payer = _payer(cells["payer"], ctx)
            if payer is None:
                names = ", ".join(f"{label or p}" for p, label in ctx.instances_of(CPTKG.Payer, 20))
                err(
                    "payer",
                    f"unknown payer {cells['payer']!r}",
                    f"add the payer to data/payers.ttl first, or use a known payer: {names}",
                )
            else:
                g.add((pol, CPTKG.payer, payer))
        label = cells["label"]
        if not label:
            payer_label = next(
                (lab for p, lab in ctx.instances_of(CPTKG.Payer, 10_000) if p == payer), None
            )
            label = f"{payer_label or cells['payer']}: {pid}"
        g.add((pol, RDFS.label, Literal(label)))
        if cells["version"]:
            g.add((pol, CPTKG.versionLabel, Literal(cells["version"])))
        for col, prop in _DATES.items():
            value = cells[col]
            if not value:
                continue
            with _quiet_rdflib():
                lit = Literal(value, datatype=XSD.date)
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", value) or getattr(lit, "ill_typed", False):
                err(col, f"{value!r} is not a date", "write it as YYYY-MM-DD, e.g. 2025-01-01")
                continue
            g.add((pol, prop, lit))
        if not cells["effective_date"]:
            g.add((pol, CPTKG.effectiveDateStatus, CPTKG["value-not-stated"]))
        for col, (prop, _cls, multi) in _ANSWERS.items():
            values = _split(cells[col]) if multi else ([cells[col]] if cells[col] else [])
            for v in values:
                concept = vocabs[col].get(v.lower())
                if concept is None:
                    err(
                        col,
                        f"{v!r} is not an answer of this column",
                        "use one of: " + _short_answers(vocabs[col]),
                    )
                else:
                    g.add((pol, prop, concept))
            if not multi and len(values) > 1:
                err(col, "only one answer allowed")
        for col, (prop, prefix, pattern, what) in _CODES.items():
            for code in _split(cells[col]):
                iri = _expand(code)
                if iri is None:
                    code = code.upper()
                    if not re.match(pattern, code):
                        err(col, f"{code!r} is not a well-formed {what}")
                        continue
                    iri = URIRef(f"{KG}{prefix}{code}")
                g.add((pol, prop, iri))
        for col, prop in (
            ("documentation_text", CPTKG.documentationText),
            ("criteria_text", CPTKG.criteriaText),
            ("status_note", CPTKG.statusNote),
        ):
            if cells[col]:
                g.add((pol, prop, Literal(cells[col], lang="en")))
        doc = None
        if cells["policy_document"]:
            doc = _document(cells["policy_document"], ctx)
            if doc is None:
                err(
                    "policy_document",
                    f"unknown policy document {cells['policy_document']!r}",
                    "use kg:document-… or the identifier of a cptkg:PolicyDocument in "
                    "data/payers.ttl",
                )
            else:
                g.add((pol, CPTKG.policyDocument, doc))
        if cells["source"]:
            src = _expand(cells["source"]) or _document(cells["source"], ctx)
            if src is None:
                err(
                    "source",
                    f"unknown source {cells['source']!r}",
                    "use the kg:… IRI of a policy document, document section or code set",
                )
            else:
                g.add((pol, PROV.wasDerivedFrom, src))
        elif doc is not None:
            g.add((pol, PROV.wasDerivedFrom, doc))
        else:
            err(
                "source",
                "blank, and no policy_document either",
                "name where the policy was read (kg:document-…), for prov:wasDerivedFrom",
            )
        if cells["supersedes"]:
            old = _expand(cells["supersedes"]) or ids_in_file.get(cells["supersedes"])
            if old is None:
                found = [iri for _l, iri in ctx.policies_with_identifier([cells["supersedes"]])]
                old = found[0] if found else None
            if old is None:
                err(
                    "supersedes",
                    f"no policy with identifier {cells['supersedes']!r} in the graph or this file",
                )
            else:
                g.add((pol, CPTKG.supersedes, old))
    if errors:
        raise CsvError(file, errors)
    return result


def csv_to_new_data(
    path: Path | str,
    context: ContextProvider | None = None,
    *,
    ontology: Graph | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> NewData:
    """Read a policy spreadsheet into :class:`~cptkg.intake.NewData` (row/column locator set)."""
    from cptkg.load import load_ontology

    p = Path(path)
    shown = _paths.display_path(p)
    if not p.is_file():
        raise InputError(f"{shown}: no such file", hint="check the path")
    check_size(p, max_bytes)
    data = p.read_bytes()
    if not data.strip():
        raise InputError(
            f"{shown}: empty file, no header and no policy rows",
            hint=f"start from data/templates/policy-template.csv ({HEADER})",
        )
    text = decode_csv(data, shown)
    ctx = context if context is not None else shipped_context()
    ontology = ontology if ontology is not None else load_ontology()
    result = convert(text, shown, ctx, ontology)
    where = {s: f"{shown} row {row}" for s, row in result.rows.items()}
    return NewData(graph=result.graph, files=[p], where=where, locate=result.locate)


def import_csv(
    path: Path | str,
    context: ContextProvider | None = None,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> tuple[NewData, IntakeReport]:
    """Convert and validate in the context of the graph; SHACL findings name row and column."""
    from cptkg.load import load_ontology

    ctx = context if context is not None else shipped_context()
    ontology = load_ontology()
    new = csv_to_new_data(path, ctx, ontology=ontology, max_bytes=max_bytes)
    report = validate_new_data(new, ctx, ontology=ontology)
    for prob in report.problems:  # node-level shapes: name the column they are about
        if prob.where and ", column" not in prob.where and prob.subject in new.where:
            col = _SHAPE_COLUMN.get(prob.rule.split(":", 1)[-1])
            if col:
                prob.where = f"{prob.where}, column {col}"
    return new, report


def template_text() -> str:
    """The empty template: the header line only."""
    return HEADER + "\n"
