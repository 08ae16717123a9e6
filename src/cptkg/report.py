"""The overview of a code, regenerated from the graph alone by running the stored queries.

:func:`build_report` runs the catalog's queries on an Engine and assembles a document model
(sections of paragraphs, lists and tables) that follows the source document's sections;
:func:`render_markdown` and :func:`render_html` write it. Every value is escaped for the
output format; the HTML is one self-contained file (inline CSS, no scripts, no fetches).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cptkg.catalog import get_query
from cptkg.engines.base import Engine, SelectResult, Term
from cptkg.query import bind_params, check_code, run_stored
from cptkg.results import short

NOT_AVAILABLE = "not available in source"
#: The label of cptkg:applicability-stated-by-code, the basis that needs no remark.
STATED_BY_CODE = "stated by code in the source"


@dataclass
class Paragraph:
    text: str


@dataclass
class Bullets:
    items: list[str]
    ordered: bool = False


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    wide: bool = False


@dataclass
class Section:
    title: str
    level: int = 2
    blocks: list[Paragraph | Bullets | Table] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]


Row = dict[str, Term | None]
Block = Paragraph | Bullets | Table
#: A table column: its header, and the row variable it shows or a function of the row.
Column = tuple[str, str | Callable[[Row], str]]


def _v(row: Row | None, key: str, default: str = "") -> str:
    term = None if row is None else row.get(key)
    return default if term is None else str(term)


def _or_na(text: str) -> str:
    return text if text.strip() else NOT_AVAILABLE


def _cells(rows: list[Row], columns: Sequence[Column]) -> list[list[str]]:
    return [[_v(r, c) if isinstance(c, str) else c(r) for _, c in columns] for r in rows]


@dataclass
class _Facts:
    """The engine and code a report is built for, and the query results sections share."""

    engine: Engine
    code: str
    overview: Row
    sources: list[Row]
    considerations: list[Row]
    sites: list[Row]

    def rows(self, name: str, *, per_code: bool = True) -> list[Row]:
        """The rows of stored query ``name``, run for this code when ``per_code``."""
        params = {"code": self.code} if per_code else None
        result = run_stored(self.engine, name, params, check_values=False)
        assert isinstance(result, SelectResult), f"{name} is not a SELECT query"
        return result.as_dicts()

    def table(
        self,
        name: str,
        columns: Sequence[Column],
        caption: str = "",
        *,
        wide: bool = False,
        per_code: bool = True,
    ) -> Table:
        """A table of stored query ``name``'s rows, one column per ``columns`` entry."""
        return Table(
            [h for h, _ in columns],
            _cells(self.rows(name, per_code=per_code), columns),
            caption,
            wide,
        )


def _summary(f: _Facts) -> list[Block]:
    blocks: list[Block] = [Paragraph(_or_na(_v(f.overview, "definition")))]
    if _v(f.overview, "procedureNote"):
        blocks.append(Paragraph(_v(f.overview, "procedureNote")))
    payers = f.rows("payers", per_code=False)
    if payers:
        names = ", ".join(_v(r, "payerName") for r in payers)
        blocks.append(Paragraph(f"Key payers discussed: {names}."))
    labels = list(dict.fromkeys(_v(r, "label") for r in f.considerations))
    if labels:
        blocks.append(Bullets(labels))
    return blocks


def _billing(f: _Facts) -> list[Block]:
    o, sites = f.overview, f.sites
    typical = "; ".join(f"{_v(s, 'posName')} (POS {_v(s, 'posCode')})" for s in sites)
    return [
        Table(
            ["Field", "Value"],
            [
                ["CPT code", _v(o, "notation")],
                ["CPT short descriptor", _or_na(_v(o, "shortDescriptor"))],
                ["Title in the source document", _v(o, "descriptor")],
                ["Code system", f"{_v(o, 'codeSystem')} ({_v(o, 'fhirSystem')})"],
                ["Service type", _or_na(_v(o, "serviceType"))],
                ["Typical site of service", _or_na(typical)],
            ],
        ),
        Table(
            ["POS", "Place of service", "Setting in the source", "Note"],
            _cells(sites, [("", "posCode"), ("", "posName"), ("", "setting"), ("", "statusNote")]),
            caption="Sites of service (CMS place-of-service codes)",
        ),
        f.table(
            "related-codes",
            [("Code", "notation"), ("Short descriptor", "descriptor")],
            "Related codes",
        ),
        f.table(
            "techniques",
            [("Technique", "label"), ("Definition", "definition")],
            "Technique variants",
        ),
    ]


def _anatomy_basis(r: Row) -> str:
    return "source document" if _v(r, "quote") else (_v(r, "statusNote") or _v(r, "source"))


def _outcome(r: Row) -> Paragraph:
    frame = (
        f"{_v(r, 'fromMonths')}\u2013{_v(r, 'toMonths')} months"
        if _v(r, "fromMonths") and _v(r, "toMonths")
        else "time frame " + NOT_AVAILABLE
    )
    cond = f"; {_v(r, 'condition')}" if _v(r, "condition") else ""
    return Paragraph(f"Expected outcome: {_v(r, 'outcomeLabel')} over {frame}{cond}")


def _clinical(f: _Facts) -> list[Block]:
    evaluations = [
        _v(r, "evaluationLabel") + (f" \u2014 {_v(r, 'purpose')}" if _v(r, "purpose") else "")
        for r in f.rows("preoperative-evaluations")
    ]
    workflow = [
        f"{_v(r, 'stepLabel')} ({_v(r, 'phase')})" for r in f.rows("perioperative-workflow")
    ]
    return [
        f.table(
            "indications",
            [
                ("Indication", "indicationLabel"),
                ("ICD-10-CM", "icd10cm"),
                ("Title", "icd10cmTitle"),
                ("Mapping note", "mappingNote"),
            ],
            "Indications and ICD-10-CM codes",
            wide=True,
        ),
        f.table(
            "clinical-findings",
            [
                ("Finding", "findingLabel"),
                ("ICD-10-CM", lambda r: _v(r, "icd10cm", "\u2014")),
                ("Title", "icd10cmTitle"),
            ],
            "Presenting findings",
        ),
        Paragraph("Diagnostic evaluation before surgery:"),
        Bullets(evaluations),
        Paragraph("Care team:"),
        Bullets([_v(r, "roleLabel") for r in f.rows("care-team")]),
        f.table(
            "anatomy",
            [
                ("Role", "roleLabel"),
                ("Structure", "structureLabel"),
                ("UBERON", lambda r: short(r.get("uberon"))),
                ("Match", "uberonMatch"),
                ("FMA", lambda r: short(r.get("fma"))),
                ("Basis", _anatomy_basis),
            ],
            "Anatomy involved",
            wide=True,
        ),
        Paragraph("Perioperative workflow, in order:"),
        Bullets(workflow, ordered=True),
        *(_outcome(r) for r in f.rows("expected-outcomes")),
    ]


def _source_table(t: Row) -> Paragraph:
    rows_n = t.get("dataRows")
    empty = rows_n is not None and str(rows_n) in ("0", "00")
    content = (
        f"has no data rows: modifiers are {NOT_AVAILABLE}." if empty else f"has {rows_n} data rows."
    )
    return Paragraph(
        f"The source document's {_v(t, 'tableLabel')} (columns: {_v(t, 'columns')}) " + content
    )


def _coding(f: _Facts) -> list[Block]:
    blocks: list[Block] = [_source_table(t) for t in f.rows("source-tables", per_code=False)]
    modifiers = f.table(
        "modifiers",
        [
            ("Modifier", "modifierCode"),
            ("Description", "modifierName"),
            ("When to Use", "whenToUse"),
            ("Basis", "basisLabel"),
        ],
        "Modifiers that may apply, with the basis of each",
        wide=True,
    )
    blocks.append(
        modifiers if modifiers.rows else Paragraph(f"Modifier guidance: {NOT_AVAILABLE}.")
    )
    return blocks


def _applicability_notes(matrix: list[Row]) -> list[Block]:
    """One line per code-applicability basis other than "stated by code", naming its policies."""
    by_basis: dict[str, list[str]] = {}
    for r in matrix:
        basis = _v(r, "codeApplicability")
        if basis != STATED_BY_CODE:
            by_basis.setdefault(basis, []).append(_v(r, "policyLabel"))
    if not by_basis:
        return []
    return [
        Paragraph("Policies whose source does not name the code by number:"),
        Bullets([f"{basis}: {'; '.join(labels)}" for basis, labels in by_basis.items()]),
    ]


def _payer_landscape(f: _Facts) -> list[Block]:
    matrix = f.rows("payer-matrix")
    columns: list[Column] = [
        ("Payer", "payerName"),
        ("Policy", "policyLabel"),
        ("Code applicability", "codeApplicability"),
        ("Coverage", "coverage"),
        ("Prior authorization", "priorAuthorization"),
        ("Site of service", "siteOfServiceRestriction"),
        ("Documentation", "documentation"),
        ("Criteria", "criteria"),
        ("Effective date", "effectiveDate"),
        ("Evidence", "evidence"),
    ]
    blocks: list[Block] = [
        Table([h for h, _ in columns], _cells(matrix, columns), "Payer matrix", wide=True)
    ]
    blocks += _applicability_notes(matrix)
    criteria = [
        f"{_v(r, 'policyLabel')}: {_v(r, 'criteriaText')}" for r in matrix if _v(r, "criteriaText")
    ]
    if criteria:
        blocks += [
            Paragraph("Medical-necessity criteria stated in payer documents:"),
            Bullets(criteria),
        ]
    considerations = [
        _v(r, "label") + (f" (affects: {_v(r, 'affects')})" if _v(r, "affects") else "")
        for r in f.considerations
    ]
    return blocks + [
        Paragraph("Coverage considerations stated in the source document:"),
        Bullets(considerations),
        f.table(
            "payer-documents",
            [
                ("Payer", "payerName"),
                ("Document", "title"),
                ("Code applicability", "codeApplicability"),
                ("Evidence", "evidence"),
                ("Note", "statusNote"),
            ],
            "Payer policy documents found",
            wide=True,
            per_code=False,
        ),
    ]


def _benchmarks(f: _Facts) -> list[Block]:
    table = f.table(
        "benchmarks",
        [
            ("Benchmark", "label"),
            ("Metric", "metric"),
            ("Value", lambda r: _v(r, "volume") or _v(r, "paymentAmount") or NOT_AVAILABLE),
            ("Period", lambda r: _v(r, "period") or NOT_AVAILABLE),
            ("Note", "statusNote"),
        ],
    )
    return [table if table.rows else Paragraph(f"Benchmarks: {NOT_AVAILABLE}.")]


def _source_line(s: Row) -> str:
    return (
        f"{_v(s, 'kind')}: {_v(s, 'title') or _v(s, 'label')}"
        + (f" [{_v(s, 'identifier')}]" if _v(s, "identifier") else "")
        + (f" (SHA-256 {_v(s, 'sha256')})" if _v(s, "sha256") else "")
        + (f" \u2014 section {_v(s, 'sectionOrder')}" if _v(s, "sectionOrder") else "")
    )


def _sources(f: _Facts) -> list[Block]:
    return [Bullets([_source_line(s) for s in f.sources])]


def _knowledge_gaps(f: _Facts) -> list[Block]:
    gaps = f.rows("knowledge-gaps", per_code=False)
    counts = Counter((_v(g, "area"), _v(g, "question"), _v(g, "gap")) for g in gaps)
    return [
        Paragraph(
            f"{len(gaps)} open points, derived from the graph (answers not stated in source, "
            "empty source tables, payers without a verified policy document, status and "
            "mapping notes)."
        ),
        Table(
            ["Area", "Question", "Gap", "Records"],
            [[a, q, g, str(n)] for (a, q, g), n in sorted(counts.items())],
            caption="Summary",
        ),
        Table(
            ["Area", "Record", "Question", "Gap", "Detail"],
            _cells(
                gaps,
                [("", "area"), ("", "subjectLabel"), ("", "question"), ("", "gap"), ("", "detail")],
            ),
            caption="Every gap",
            wide=True,
        ),
    ]


#: The report's sections in order: title, heading level, and what builds the section's blocks.
SECTION_BUILDERS: tuple[tuple[str, int, Callable[[_Facts], list[Block]]], ...] = (
    ("Summary & Overview", 2, _summary),
    ("Billing Code Overview", 2, _billing),
    ("Clinical & Coding Specifications", 2, lambda f: []),
    ("Clinical Context", 3, _clinical),
    ("Coding Specifications", 3, _coding),
    ("Payer Landscape", 2, _payer_landscape),
    ("Utilization & Payment Benchmarks", 2, _benchmarks),
    ("Sources", 2, _sources),
    ("Knowledge Gaps", 2, _knowledge_gaps),
)

#: Section titles, in order; tests check that a report has every one.
SECTIONS = tuple(title for title, _, _ in SECTION_BUILDERS)


def _subtitle(sources: list[Row]) -> str:
    doc = next((s for s in sources if _v(s, "kind") == "source document"), None)
    return (
        "Regenerated from the cptkg knowledge graph by running its stored queries. "
        f"Source: {_v(doc, 'title') if doc else 'unknown'}"
        + (f" (SHA-256 {_v(doc, 'sha256')})." if doc and _v(doc, "sha256") else ".")
        + f" Where the source gives no data, this overview says \u201c{NOT_AVAILABLE}\u201d."
    )


def build_report(engine: Engine, code: str = "64866") -> Report:
    """Run the stored queries for CPT ``code`` and assemble the overview.

    Raises ParameterError (exit 2 on the command line) when the graph has no procedure
    billed with ``code``.
    """
    stored = get_query("code-overview")
    spec = stored.param("code")
    assert spec is not None
    check_code(engine, spec, bind_params(stored, {"code": code})[spec.variable], described=True)
    facts = _Facts(engine, code, {}, [], [], [])
    facts.overview = facts.rows("code-overview")[0]
    facts.sources = facts.rows("sources", per_code=False)
    facts.considerations = facts.rows("coverage-considerations")
    facts.sites = facts.rows("sites-of-service")
    sections = [Section(title, level, build(facts)) for title, level, build in SECTION_BUILDERS]
    title = f"CPT {_v(facts.overview, 'notation')}: {_v(facts.overview, 'descriptor')}"
    return Report(title, _subtitle(facts.sources), sections)


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Text safe inside Markdown paragraphs and table cells (one line, specials escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"\s*\n\s*", " ", text))


def markdown_table(table: Table) -> list[str]:
    """A table as Markdown lines (caption in bold above it), ending with a blank line."""
    out = [f"**{md_escape(table.caption)}**", ""] if table.caption else []
    if not table.rows:
        return out + [f"_None in the graph: {NOT_AVAILABLE}._", ""]
    out.append("| " + " | ".join(md_escape(h) for h in table.headers) + " |")
    out.append("|" + "|".join("---" for _ in table.headers) + "|")
    out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in table.rows]
    return out + [""]


def _markdown_bullets(block: Bullets) -> list[str]:
    if not block.items:
        return [f"_{NOT_AVAILABLE}_", ""]
    marks = [f"{i}." if block.ordered else "-" for i in range(1, len(block.items) + 1)]
    return [f"{m} {md_escape(item)}" for m, item in zip(marks, block.items, strict=True)] + [""]


def _markdown_block(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        return [md_escape(block.text), ""]
    if isinstance(block, Bullets):
        return _markdown_bullets(block)
    return markdown_table(block)


def render_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown."""
    out = [f"# {md_escape(report.title)}", "", f"_{md_escape(report.subtitle)}_", ""]
    for section in report.sections:
        out += ["#" * section.level + " " + md_escape(section.title), ""]
        for block in section.blocks:
            out += _markdown_block(block)
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430;
       max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #d0d7de; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { margin-top: 1.6rem; }
p.subtitle { color: #57606a; font-style: italic; }
nav ol { columns: 2; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; width: 100%; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #f6f8fa; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fbfcfd; }
td.na { color: #9a6700; font-style: italic; }
.scroll { overflow-x: auto; }
"""


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _cell(text: str, tag: str = "td") -> str:
    na = tag == "td" and ("not stated in source" in text or NOT_AVAILABLE in text)
    attr = ' class="na"' if na else ""
    return f"<{tag}{attr}>{_h(text)}</{tag}>"


def html_table(table: Table) -> list[str]:
    """A table as HTML lines (in a horizontally scrolling box, with its caption)."""
    if not table.rows:
        caption = [f"<p><strong>{_h(table.caption)}</strong></p>"] if table.caption else []
        return caption + [f"<p><em>None in the graph: {NOT_AVAILABLE}.</em></p>"]
    out = ['<div class="scroll"><table>']
    if table.caption:
        out.append(f"<caption>{_h(table.caption)}</caption>")
    out.append("<thead><tr>" + "".join(_cell(h, "th") for h in table.headers) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in table.rows]
    return out + ["</tbody></table></div>"]


def _html_block(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        return [f"<p>{_h(block.text)}</p>"]
    if isinstance(block, Bullets):
        if not block.items:
            return [f'<p class="na"><em>{NOT_AVAILABLE}</em></p>']
        tag = "ol" if block.ordered else "ul"
        return [f"<{tag}>" + "".join(f"<li>{_h(i)}</li>" for i in block.items) + f"</{tag}>"]
    return html_table(block)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS, no scripts or external links)."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(report.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_h(report.title)}</h1>",
        f'<p class="subtitle">{_h(report.subtitle)}</p>',
        "<nav><ol>",
    ]
    out += [
        f'<li><a href="#{_slug(s.title)}">{_h(s.title)}</a></li>'
        for s in report.sections
        if s.level == 2
    ]
    out.append("</ol></nav>")
    for section in report.sections:
        level = min(max(section.level, 2), 6)
        out.append(f'<h{level} id="{_slug(section.title)}">{_h(section.title)}</h{level}>')
        for block in section.blocks:
            out += _html_block(block)
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(report: Report, fmt: str = "md") -> str:
    """``md`` or ``html``."""
    if fmt == "html":
        return render_html(report)
    if fmt == "md":
        return render_markdown(report)
    raise ValueError(f"unknown report format {fmt!r}; use md or html")
