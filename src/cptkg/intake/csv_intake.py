"""Spreadsheet intake: payer policies kept in a CSV (one policy per row) turned into RDF and
checked like any new data (:mod:`cptkg.intake.validation`), with errors that name the row and
column.

The columns are the fields of the policy schema that have a spreadsheet column (``sh:name`` in
the policy shapes, see :mod:`cptkg.intake.schema`); a cell is converted by what its field's
shape says: controlled answers (``sh:in`` or a vocabulary class), codes, dates, text.

Layout (see README "Adding a payer policy"): UTF-8 CSV (a BOM is accepted), comma-separated,
first non-comment line is the header with exactly the columns of :func:`column_names` (any order);
lines starting with ``#`` *before* the header are comments. Row numbers are the file's line
numbers as a spreadsheet shows them (header = row 1 when there is no comment line). A blank
row is an error (it usually hides a half-pasted block). Multi-valued cells are separated by
spaces (or ``;``/``,``; a cell holding commas must be quoted, as spreadsheets do). A diagnosis
code written with a trailing ``-`` (``G51.3-``) lists the whole category on purpose:
``cptkg:supportingDiagnosisCategory`` (see :data:`CATEGORY_PROPERTIES`).

A ``policy_id`` is written in the safe alphabet :data:`POLICY_ID` (letters, digits, ``.``,
``_``, ``-``, ``@``; a letter or digit first; at most :data:`POLICY_ID_MAX` characters), and is
neither used twice in the file nor already in the graph. A cell that starts like a spreadsheet
formula (:data:`FORMULA_START`) is refused in every column, and so is a cell longer than
:data:`CELL_LIMIT` characters; each refusal names the row and the column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS, XSD
from rdflib.term import Node

from cptkg import paths as _paths
from cptkg.errors import InputError
from cptkg.gc_tuning import fewer_collections
from cptkg.intake.add import slug
from cptkg.intake.context import ContextProvider, shipped_context
from cptkg.intake.reading import (
    DEFAULT_MAX_BYTES,
    NewData,
    check_size,
    check_text_safe,
    quiet_rdflib,
)
from cptkg.intake.report import IntakeReport
from cptkg.intake.schema import Field, Schema, policy_schema
from cptkg.intake.validation import validate_new_data
from cptkg.load import load_ontology
from cptkg.namespaces import CPTKG, KG, bind_prefixes, parse_iri
from cptkg.textsafe import printable
from cptkg.triple_store import bulk_graph

#: Columns the spreadsheet fills in when blank (the shapes still require a value).
DEFAULTED = {
    "label": "'<payer>: <policy_id>'",
    "source": "the policy_document",
}
#: Columns every spreadsheet row must fill although the shapes allow a policy without them.
ALSO_REQUIRED = {"evidence_status"}
#: Fields without a column of their own: (property, the column that decides them).
DERIVED = {
    CPTKG.effectiveDateStatus: "effective_date",
    CPTKG.supportingDiagnosisCategory: "supporting_diagnoses",
}
#: Code properties whose column may list a whole category as ``<code>-``: the property
#: that records such a category.
CATEGORY_PROPERTIES = {CPTKG.supportingDiagnosis: CPTKG.supportingDiagnosisCategory}
#: Node shapes (rules about several fields) -> the column to fix.
SHAPE_COLUMN = {
    "PolicyDatesShape-order": "end_date",
    "PolicyEffectiveDateStatedShape": "effective_date",
    "PolicySiteRestrictionShape": "allowed_places_of_service",
    "PolicyCriteriaTextShape": "criteria_text",
    "PolicyIdentifierUniqueShape": "policy_id",
    "PolicySupersedesEarlierShape": "supersedes",
}
#: Longest policy identifier, in characters.
POLICY_ID_MAX = 100
#: The safe alphabet of policy identifiers: a letter or digit, then letters, digits, ``.``,
#: ``_``, ``-`` or ``@`` (``aetna-cpb-0366``, ``aetna-cpb-0366@2025-01-01``).
POLICY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
#: First characters that make a spreadsheet read a cell as a formula (``=HYPERLINK(...)``).
FORMULA_START = ("=", "+", "@", "-")
#: Longest cell, in characters (the size of the csv module's default field limit).
CELL_LIMIT = 128 * 1024
#: Columns whose cells are looked up or built by hand in :func:`convert`.
RESOLVED = {"policy_id", "label", "payer", "policy_document", "source", "supersedes"}


def columns(schema: Schema | None = None) -> list[Field]:
    """The spreadsheet columns: the policy schema's fields that have a column, in order."""
    return (schema or policy_schema()).columns


def column_names(schema: Schema | None = None) -> list[str]:
    """The column names of the spreadsheet, in template order."""
    return [f.name for f in columns(schema) if f.name is not None]


def header(schema: Schema | None = None) -> str:
    """The header line of the spreadsheet (and the whole template file, without newline)."""
    return ",".join(column_names(schema))


def required(field: Field) -> bool:
    """Must every row fill this column?"""
    name = field.name or ""
    return (field.required and name not in DEFAULTED) or name in ALSO_REQUIRED


def answers_text(field: Field, answers: Sequence[URIRef]) -> str:
    """The short answers of a controlled-answer column: ``required | not-required | …``."""
    names = " | ".join(short_answer(a) for a in answers)
    return names + (" (several allowed)" if field.multi else "")


def what(field: Field, answers: Sequence[URIRef] | None = None) -> str:
    """What a column holds, for error hints; ``answers`` default to the field's ``sh:in``."""
    answers = field.answers if answers is None else answers
    text = field.description
    if answers:
        listed = answers_text(field, answers)
        text = f"{text}: {listed}" if text else listed
    if field.name in DEFAULTED:
        text += f"; blank = {DEFAULTED[field.name]}"
    return text


def property_columns(schema: Schema | None = None) -> dict[Node, str]:
    """property -> column, to put SHACL findings back on the spreadsheet."""
    out: dict[Node, str] = {f.path: f.name for f in columns(schema) if f.name is not None}
    out.update(DERIVED)
    return out


def short_answer(concept: URIRef) -> str:
    """An answer's IRI name without its group prefix (``pa-required`` -> ``required``)."""
    return str(concept).rsplit("#", 1)[-1].split("-", 1)[-1]


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
    #: property -> column (see :func:`property_columns`)
    columns: dict[Node, str] = field(default_factory=dict)

    def locate(self, subject: Node | None, path: Node | None) -> str | None:
        row = self.rows.get(subject) if subject is not None else None
        if row is None:
            return None
        col = self.columns.get(path) if path is not None else None
        return f"{self.file} row {row}" + (f", column {col}" if col else "")


def answers_of(field: Field, ontology: Graph) -> list[URIRef]:
    """The controlled answers of a field: its ``sh:in`` list, or the concepts the ontology
    defines for its ``sh:class`` (a vocabulary such as cptkg:EvidenceStatus); [] otherwise."""
    if field.answers:
        return list(field.answers)
    if field.cls is None:
        return []
    found = ontology.subjects(RDF.type, field.cls)
    return sorted((c for c in found if isinstance(c, URIRef)), key=str)


def vocabulary(answers: list[URIRef], ontology: Graph) -> dict[str, URIRef]:
    """Accepted spellings of each answer: the IRI's name with and without its group prefix
    (``pa-required``, ``required``), the skos:notation and the prefLabel."""
    out: dict[str, URIRef] = {}
    for concept in answers:
        local = str(concept).rsplit("#", 1)[-1]
        keys = {local, short_answer(concept)}
        for t in (ontology.value(concept, SKOS.notation), ontology.value(concept, SKOS.prefLabel)):
            if t is not None:
                keys.add(str(t))
        for k in keys:
            out.setdefault(k.lower(), concept)
    return out


def _split(cell: str) -> list[str]:
    return [x for x in re.split(r"[\s;,]+", cell.strip()) if x]


#: Schemes of the IRIs a cell may hold written bare (without ``<>``): anything else with a
#: colon (``ICD:G51.0``, ``Aetna:CPB``) is a typo or an unknown prefix, not an IRI.
BARE_IRI_SCHEMES = ("http://", "https://", "urn:")


def _expand(cell: str) -> URIRef | None:
    """The IRI a cell holds (:func:`~cptkg.namespaces.parse_iri`), bare only with one of
    :data:`BARE_IRI_SCHEMES`; None when the cell is not an IRI."""
    text = cell.strip()
    iri = parse_iri(text)
    if iri is None or text.startswith("<") or str(iri) != text:
        return iri  # <…>, a prefixed name, or nothing
    return iri if text.startswith(BARE_IRI_SCHEMES) else None


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
        raise CsvError(file, [CellError(first + 1, None, "no header row", f"expected: {header()}")])
    csv.field_size_limit(max(len(body) + 1, csv.field_size_limit()))  # cells checked below
    reader = csv.reader(io.StringIO(body, newline=""))
    try:
        first_row = next(reader)
    except csv.Error as exc:
        raise CsvError(file, [CellError(first + 1, None, f"CSV syntax: {exc}")]) from None
    header_cells = [h.strip() for h in first_row]
    names = column_names()
    errors: list[CellError] = []
    missing = [c for c in names if c not in header_cells]
    extra = [h for h in header_cells if h not in names]
    dupes = sorted({h for h in header_cells if header_cells.count(h) > 1})
    if missing:
        errors.append(CellError(first + 1, None, "missing column(s): " + ", ".join(missing)))
    if extra:
        errors.append(CellError(first + 1, None, "unknown column(s): " + ", ".join(extra)))
    if dupes:
        errors.append(CellError(first + 1, None, "duplicate column(s): " + ", ".join(dupes)))
    if errors:
        errors[-1].hint = f"the header must be exactly: {header()}"
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
            if len(record) != len(header_cells):
                errors.append(cell_count_error(row_no, header_cells, record))
                continue
            errors += [
                CellError(
                    row_no,
                    name,
                    f"cell of {len(cell):,} characters, longer than the {CELL_LIMIT:,} limit",
                    "a policy cell is normally a few hundred characters: check for a "
                    "missing closing quote",
                )
                for name, cell in zip(header_cells, record, strict=True)
                if len(cell) > CELL_LIMIT
            ]
            rows.append((row_no, dict(zip(header_cells, (c.strip() for c in record), strict=True))))
    except csv.Error as exc:
        errors.append(CellError(first + 1 + reader.line_num, None, f"CSV syntax: {exc}"))
    if errors:
        raise CsvError(file, errors)
    if not rows:
        raise CsvError(file, [CellError(first + 1, None, "no policy rows below the header")])
    return rows


def cell_count_error(row: int, header_cells: list[str], record: list[str]) -> CellError:
    """The error of a row with more or fewer cells than the header; when the extra cells are
    exactly one code column's codes split at unquoted commas (``G51.1,G51.8``), it names
    that column."""
    extra = len(record) - len(header_cells)
    message = f"{len(record)} cells, but the header has {len(header_cells)} columns"
    found: list[tuple[str, str]] = []
    if extra > 0:
        codes = {f.name: f.code for f in columns() if f.code is not None and f.multi}
        for i, name in enumerate(header_cells):
            kind = codes.get(name)
            parts = [c.strip().upper() for c in record[i : i + extra + 1]]
            if kind is not None and all(re.match(kind.pattern, c.rstrip("-")) for c in parts if c):
                found.append((name, ",".join(record[i : i + extra + 1])))
    if len(found) == 1:
        name, cell = found[0]
        return CellError(
            row,
            name,
            f"{message}: the commas in {cell!r} split the codes into cells of their own",
            f"separate the codes by spaces ({' '.join(cell.split(','))}), or quote the cell "
            f'("{cell}")',
        )
    return CellError(row, None, message, "check for an unquoted comma or a missing cell")


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


def _source(cell: str, ctx: ContextProvider) -> URIRef | None:
    """The IRI a ``source`` cell holds, or the policy document it names."""
    return _expand(cell) or _document(cell, ctx)


def _iri(cell: str, _ctx: ContextProvider) -> URIRef | None:
    """The IRI a cell holds (:func:`_expand`), as a look-up :func:`convert` asks once per cell."""
    return _expand(cell)


#: Where a cell's problems go: ``err(column, message, hint)``.
ErrorSink = Callable[[str, str, str], None]


def cell_values(
    f: Field,
    cell: str,
    vocab: dict[str, URIRef] | None,
    err: ErrorSink,
) -> list[Node]:
    """The RDF values of one cell of column ``f``, by what the field's shape says: controlled
    answers (``vocab``), codes, a typed literal (a date...) or text; errors go to ``err``."""
    col = f.name or ""
    if not cell:
        return []
    cells = _split(cell) if f.multi else [cell]
    out: list[Node] = []
    if vocab is not None:
        for v in cells:
            concept = vocab.get(v.lower())
            if concept is None:
                names = ", ".join(sorted({short_answer(c) for c in vocab.values()}))
                err(col, f"{v!r} is not an answer of this column", "use one of: " + names)
            else:
                out.append(concept)
        return out
    if f.code is not None:
        for code in cells:
            iri = _expand(code)
            if iri is None:
                code = code.upper()
                if not re.match(f.code.pattern, code):
                    err(col, f"{code!r} is not a well-formed {f.code.what}", "")
                    continue
                iri = URIRef(f"{KG}{f.code.prefix}{code}")
            out.append(iri)
        return out
    # a text or a typed value (a date...) is the whole cell, never split
    if f.datatype in (None, XSD.string):
        return [Literal(cell)]
    if f.datatype == RDF.langString:
        return [Literal(cell, lang="en")]
    with quiet_rdflib():
        lit = Literal(cell, datatype=f.datatype)
    if f.datatype == XSD.date and (
        not re.match(r"^\d{4}-\d{2}-\d{2}$", cell) or getattr(lit, "ill_typed", False)
    ):
        err(col, f"{cell!r} is not a date", "write it as YYYY-MM-DD, e.g. 2025-01-01")
        return []
    if getattr(lit, "ill_typed", False):
        err(col, f"{cell!r} is not a valid {f.datatype.n3()}", "")
        return []
    return [lit]


def policy_id_problem(pid: str) -> tuple[str, str] | None:
    """(message, hint) when ``pid`` is not a safe policy identifier (:data:`POLICY_ID`)."""
    hint = (
        "use letters, digits, '.', '_', '-' and '@' only, starting with a letter or digit, "
        f"at most {POLICY_ID_MAX} characters (e.g. aetna-cpb-0366 or aetna-cpb-0366@2025-01-01)"
    )
    if len(pid) > POLICY_ID_MAX:
        return f"identifier of {len(pid):,} characters, longer than {POLICY_ID_MAX}", hint
    if pid.startswith(FORMULA_START):
        return f"{printable(ascii_shown(pid))} starts like a spreadsheet formula", hint
    if not POLICY_ID.fullmatch(pid):
        bad = sorted({c for c in pid if not POLICY_ID.fullmatch("a" + c)})
        listed = " ".join(printable(repr(c)) for c in bad)
        return (
            f"{printable(ascii_shown(pid))} holds character(s) outside the safe alphabet: {listed}",
            hint,
        )
    return None


def ascii_shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message, cut after ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def formula_cells(row: int, cells: dict[str, str]) -> list[CellError]:
    """The cells of a row that start like a spreadsheet formula (:data:`FORMULA_START`:
    ``=``, ``+``, ``@``; ``-`` only in ``policy_id``, where :func:`policy_id_problem` says it)."""
    return [
        CellError(
            row,
            name,
            f"{printable(ascii_shown(cell))} starts like a spreadsheet formula ({cell[0]!r})",
            "write the text without a leading =, + or @ (spreadsheet formulas are never "
            "policy data)",
        )
        for name, cell in cells.items()
        if name != "policy_id" and cell.startswith(FORMULA_START[:3])
    ]


def short_iri(iri: URIRef) -> str:
    """``kg:local`` for an IRI of the graph's namespace, else ``<IRI>``."""
    text = str(iri)
    return f"kg:{text[len(KG) :]}" if text.startswith(str(KG)) else iri.n3()


def existing_ids(first_row: dict[str, int], ctx: ContextProvider) -> list[CellError]:
    """A row error for each identifier (-> its row) that a policy of the graph already has,
    naming that policy and its file."""
    source_of = getattr(ctx, "source_of", None)
    errors = []
    for lit, iri in ctx.policies_with_identifier(sorted(first_row)):
        src = source_of(iri) if callable(source_of) else None
        where = f" ({src})" if src else ""
        errors.append(
            CellError(
                first_row[str(lit)],
                "policy_id",
                f"{str(lit)!r} is already the identifier of {short_iri(iri)}{where} in the graph",
                "a revision takes a new identifier (<id>@YYYY-MM-DD) and names the old one "
                "in the supersedes column",
            )
        )
    return errors


def convert(text: str, file: str, ctx: ContextProvider, ontology: Graph) -> CsvResult:
    """Turn the CSV text into RDF, or raise CsvError listing every row/column problem."""
    rows = read_rows(text, file)
    schema = policy_schema()
    cols = columns(schema)
    answers = {f: answers_of(f, ontology) if f.code is None else [] for f in cols}
    vocabs = {
        f.name: vocabulary(answers[f], ontology)
        for f in cols
        if f.name is not None and f.name not in RESOLVED and answers[f]
    }
    triples: list[tuple[Node, Node, Node]] = []
    add = triples.append
    errors: list[CellError] = []
    ids_in_file: dict[str, URIRef] = {}
    first_row: dict[str, int] = {}
    looked_up: dict[tuple[Callable[[str, ContextProvider], URIRef | None], str], URIRef | None] = {}

    def resolved(
        look_up: Callable[[str, ContextProvider], URIRef | None], cell: str
    ) -> URIRef | None:
        """``look_up(cell, ctx)``, asked once per distinct cell of the file."""
        key = (look_up, cell)
        if key not in looked_up:
            looked_up[key] = look_up(cell, ctx)
        return looked_up[key]

    #: column -> (cell, category values?) -> its values, for cells without a problem
    known: dict[str, dict[tuple[str, bool], list[Node]]] = {}
    rows_of: dict[Node, int] = {}

    def values(
        f: Field, cell: str, vocab: dict[str, URIRef] | None, err: ErrorSink, whole: bool
    ) -> list[Node]:
        """``cell_values(f, cell, vocab, err)``, worked out once per distinct cell of a
        column (``whole``: the column's category values) unless the cell has a problem."""
        column = known.setdefault(f.name or "", {})
        found = column.get((cell, whole))
        if found is None:
            before = len(errors)
            found = cell_values(f, cell, vocab, err)
            if len(errors) == before:
                column[(cell, whole)] = found
        return found

    split_codes: dict[str, tuple[str, str]] = {}

    def categories_and_codes(cell: str) -> tuple[str, str]:
        """A code cell split into its ``<code>-`` categories and its codes (once per cell)."""
        found = split_codes.get(cell)
        if found is None:
            listed = _split(cell)
            found = split_codes[cell] = (
                " ".join(c.removesuffix("-") for c in listed if c.endswith("-")),
                " ".join(c for c in listed if not c.endswith("-")),
            )
        return found

    payer_labels: dict[URIRef | None, str | None] = {}

    def payer_label(payer: URIRef | None) -> str | None:
        """The label of ``payer`` among the graph's payers (asked once per payer)."""
        if payer not in payer_labels:
            payer_labels[payer] = next(
                (lab for p, lab in ctx.instances_of(CPTKG.Payer, 10_000) if p == payer), None
            )
        return payer_labels[payer]

    # per column: what is checked and added for each row, worked out once
    must_fill = [(f.name or "", f) for f in cols if required(f)]
    cell_columns = [
        (
            f,
            f.name,
            f.path,
            CATEGORY_PROPERTIES.get(f.path) if f.code is not None else None,
            vocabs.get(f.name),
        )
        for f in cols
        if f.name is not None and f.name not in RESOLVED
    ]
    a_type, policy_class, identifier, label_of = (
        RDF.type,
        CPTKG.PayerPolicy,
        DCTERMS.identifier,
        RDFS.label,
    )
    payer_of, date_status, not_stated = (
        CPTKG.payer,
        CPTKG.effectiveDateStatus,
        CPTKG["value-not-stated"],
    )
    document_of, derived_from, supersedes = (
        CPTKG.policyDocument,
        PROV.wasDerivedFrom,
        CPTKG.supersedes,
    )

    for row_no, cells in rows:
        errors += formula_cells(row_no, cells)
        pid = cells["policy_id"]
        if not pid:
            continue
        problem = policy_id_problem(pid)
        if problem:
            errors.append(CellError(row_no, "policy_id", *problem))
        elif pid in first_row:
            errors.append(
                CellError(
                    row_no,
                    "policy_id",
                    f"{pid!r} is already used in this file, in row {first_row[pid]}",
                    "give each policy (and each version) its own identifier",
                )
            )
        else:
            first_row[pid] = row_no
        ids_in_file[pid] = policy_iri(pid)
    errors += existing_ids(first_row, ctx)
    for row_no, cells in rows:

        def err(col: str, msg: str, hint: str = "", _row: int = row_no) -> None:
            errors.append(CellError(_row, col, msg, hint))

        for name, f in must_fill:
            if not cells[name]:
                err(name, "blank, but an answer is required", what(f, answers[f]))
        pid = cells["policy_id"]
        if not pid:
            continue
        pol = ids_in_file[pid]
        rows_of[pol] = row_no
        add((pol, a_type, policy_class))
        add((pol, identifier, Literal(pid)))
        payer = None
        if cells["payer"]:
            payer = resolved(_payer, cells["payer"])
            if payer is None:
                names = ", ".join(f"{label or p}" for p, label in ctx.instances_of(CPTKG.Payer, 20))
                err(
                    "payer",
                    f"unknown payer {cells['payer']!r}",
                    f"add the payer to data/payers.ttl first, or use a known payer: {names}",
                )
            else:
                add((pol, payer_of, payer))
        label = cells["label"]
        if not label:
            label = f"{payer_label(payer) or cells['payer']}: {pid}"
        add((pol, label_of, Literal(label)))
        for f, name, path, whole, vocab in cell_columns:
            cell = cells[name]
            if whole is not None:
                categories, cell = categories_and_codes(cell)
                for value in values(f, categories, None, err, True):
                    add((pol, whole, value))
            for value in values(f, cell, vocab, err, False):
                add((pol, path, value))
        if not cells["effective_date"]:
            add((pol, date_status, not_stated))
        doc = None
        if cells["policy_document"]:
            doc = resolved(_document, cells["policy_document"])
            if doc is None:
                err(
                    "policy_document",
                    f"unknown policy document {cells['policy_document']!r}",
                    "use kg:document-… or the identifier of a cptkg:PolicyDocument in "
                    "data/payers.ttl",
                )
            else:
                add((pol, document_of, doc))
        if cells["source"]:
            src = resolved(_source, cells["source"])
            if src is None:
                err(
                    "source",
                    f"unknown source {cells['source']!r}",
                    "use the kg:… IRI of a policy document, document section or code set",
                )
            else:
                add((pol, derived_from, src))
        elif doc is not None:
            add((pol, derived_from, doc))
        else:
            err(
                "source",
                "blank, and no policy_document either",
                "name where the policy was read (kg:document-…), for prov:wasDerivedFrom",
            )
        if cells["supersedes"]:
            old = resolved(_iri, cells["supersedes"]) or ids_in_file.get(cells["supersedes"])
            if old is None:
                found = [iri for _l, iri in ctx.policies_with_identifier([cells["supersedes"]])]
                old = found[0] if found else None
            if old is None:
                err(
                    "supersedes",
                    f"no policy with identifier {cells['supersedes']!r} in the graph or this file",
                )
            else:
                add((pol, supersedes, old))
    if errors:
        raise CsvError(file, sorted(errors, key=lambda e: e.row))
    g = bulk_graph(triples)
    bind_prefixes(g)
    return CsvResult(g, rows_of, file=file, columns=property_columns(schema))


def csv_to_new_data(
    path: Path | str,
    context: ContextProvider | None = None,
    *,
    ontology: Graph | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> NewData:
    """Read a policy spreadsheet into :class:`~cptkg.intake.NewData` (row/column locator set)."""
    p = Path(path)
    shown = _paths.display_path(p)
    if not p.is_file():
        raise InputError(f"{shown}: no such file", hint="check the path")
    check_size(p, max_bytes)
    data = p.read_bytes()
    if not data.strip():
        raise InputError(
            f"{shown}: empty file, no header and no policy rows",
            hint=f"start from data/templates/policy-template.csv ({header()})",
        )
    text = decode_csv(data, shown)
    ctx = context if context is not None else shipped_context()
    ontology = ontology if ontology is not None else load_ontology()
    result = convert(text, shown, ctx, ontology)
    where = {s: f"{shown} row {row}" for s, row in result.rows.items()}
    new = NewData(graph=result.graph, files=[p], where=where, locate=result.locate)
    check_text_safe(new)
    return new


@fewer_collections()
def import_csv(
    path: Path | str,
    context: ContextProvider | None = None,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> tuple[NewData, IntakeReport]:
    """Convert and validate in the context of the graph; SHACL findings name row and column."""
    ctx = context if context is not None else shipped_context()
    ontology = load_ontology()
    new = csv_to_new_data(path, ctx, ontology=ontology, max_bytes=max_bytes)
    report = validate_new_data(new, ctx, ontology=ontology)
    for prob in report.problems:  # node-level shapes: name the column they are about
        if prob.where and ", column" not in prob.where and prob.subject in new.where:
            col = SHAPE_COLUMN.get(prob.rule.split(":", 1)[-1])
            if col:
                prob.where = f"{prob.where}, column {col}"
    return new, report
