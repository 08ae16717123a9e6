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
from dataclasses import dataclass, field

from cptkg.catalog import get_query
from cptkg.engines.base import Engine, SelectResult, Term
from cptkg.query import bind_params, check_code, run_stored
from cptkg.results import short

NOT_AVAILABLE = "not available in source"

#: Section titles, in order; tests check that a report has every one.
SECTIONS = (
    "Summary & Overview",
    "Billing Code Overview",
    "Clinical & Coding Specifications",
    "Clinical Context",
    "Coding Specifications",
    "Payer Landscape",
    "Utilization & Payment Benchmarks",
    "Sources",
    "Knowledge Gaps",
)


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


def _v(row: dict[str, Term | None], key: str, default: str = "") -> str:
    term = row.get(key)
    return default if term is None else str(term)


def _rows(
    engine: Engine, name: str, params: dict[str, str] | None = None
) -> list[dict[str, Term | None]]:
    result = run_stored(engine, name, params, check_values=False)
    assert isinstance(result, SelectResult), f"{name} is not a SELECT query"
    return result.as_dicts()


def _or_na(text: str) -> str:
    return text if text.strip() else NOT_AVAILABLE


def build_report(engine: Engine, code: str = "64866") -> Report:
    """Run the stored queries for CPT ``code`` and assemble the overview.

    Raises ParameterError (exit 2 on the command line) when the graph has no procedure
    billed with ``code``.
    """
    spec = get_query("code-overview").param("code")
    assert spec is not None
    term = bind_params(get_query("code-overview"), {"code": code})[spec.variable]
    check_code(engine, spec, term, described=True)
    p = {"code": code}

    overview = _rows(engine, "code-overview", p)[0]
    payers = _rows(engine, "payers")
    considerations = _rows(engine, "coverage-considerations", p)
    sites = _rows(engine, "sites-of-service", p)
    sources = _rows(engine, "sources")
    descriptor = _v(overview, "descriptor")

    doc = next((s for s in sources if _v(s, "kind") == "source document"), None)
    subtitle = (
        f"Regenerated from the cptkg knowledge graph by running its stored queries. "
        f"Source: {_v(doc, 'title') if doc else 'unknown'}"
        + (f" (SHA-256 {_v(doc, 'sha256')})." if doc and _v(doc, "sha256") else ".")
        + f" Where the source gives no data, this overview says \u201c{NOT_AVAILABLE}\u201d."
    )

    # --- Summary & Overview
    summary = Section("Summary & Overview")
    summary.blocks.append(Paragraph(_or_na(_v(overview, "definition"))))
    if _v(overview, "procedureNote"):
        summary.blocks.append(Paragraph(_v(overview, "procedureNote")))
    if payers:
        names = [_v(r, "payerName") for r in payers]
        summary.blocks.append(Paragraph("Key payers discussed: " + ", ".join(names) + "."))
    labels = list(dict.fromkeys(_v(r, "label") for r in considerations))
    if labels:
        summary.blocks.append(Bullets(labels))

    # --- Billing Code Overview
    billing = Section("Billing Code Overview")
    billing.blocks.append(
        Table(
            ["Field", "Value"],
            [
                ["CPT code", _v(overview, "notation")],
                ["Descriptor", descriptor],
                ["Short descriptor", _or_na(_v(overview, "shortDescriptor"))],
                ["Code system", f"{_v(overview, 'codeSystem')} ({_v(overview, 'fhirSystem')})"],
                ["Service type", _or_na(_v(overview, "serviceType"))],
                [
                    "Typical site of service",
                    _or_na(
                        "; ".join(f"{_v(s, 'posName')} (POS {_v(s, 'posCode')})" for s in sites)
                    ),
                ],
            ],
        )
    )
    billing.blocks.append(
        Table(
            ["POS", "Place of service", "Setting in the source", "Note"],
            [
                [_v(s, "posCode"), _v(s, "posName"), _v(s, "setting"), _v(s, "statusNote")]
                for s in sites
            ],
            caption="Sites of service (CMS place-of-service codes)",
        )
    )
    related = _rows(engine, "related-codes", p)
    billing.blocks.append(
        Table(
            ["Code", "Descriptor"],
            [[_v(r, "notation"), _v(r, "descriptor")] for r in related],
            caption="Related codes",
        )
    )
    techniques = _rows(engine, "techniques", p)
    billing.blocks.append(
        Table(
            ["Technique", "Definition"],
            [[_v(r, "label"), _v(r, "definition")] for r in techniques],
            caption="Technique variants",
        )
    )

    # --- Clinical & Coding Specifications
    specs = Section("Clinical & Coding Specifications")
    clinical = Section("Clinical Context", level=3)
    indications = _rows(engine, "indications", p)
    clinical.blocks.append(
        Table(
            ["Indication", "ICD-10-CM", "Title", "Mapping note"],
            [
                [
                    _v(r, "indicationLabel"),
                    _v(r, "icd10cm"),
                    _v(r, "icd10cmTitle"),
                    _v(r, "mappingNote"),
                ]
                for r in indications
            ],
            caption="Indications and ICD-10-CM codes",
            wide=True,
        )
    )
    findings = _rows(engine, "clinical-findings", p)
    clinical.blocks.append(
        Table(
            ["Finding", "ICD-10-CM", "Title"],
            [
                [_v(r, "findingLabel"), _v(r, "icd10cm", "\u2014"), _v(r, "icd10cmTitle")]
                for r in findings
            ],
            caption="Presenting findings",
        )
    )
    evaluations = _rows(engine, "preoperative-evaluations", p)
    clinical.blocks.append(Paragraph("Diagnostic evaluation before surgery:"))
    clinical.blocks.append(
        Bullets(
            [
                _v(r, "evaluationLabel")
                + (f" \u2014 {_v(r, 'purpose')}" if _v(r, "purpose") else "")
                for r in evaluations
            ]
        )
    )
    team = _rows(engine, "care-team", p)
    clinical.blocks.append(Paragraph("Care team:"))
    clinical.blocks.append(Bullets([_v(r, "roleLabel") for r in team]))
    anatomy = _rows(engine, "anatomy", p)
    clinical.blocks.append(
        Table(
            ["Role", "Structure", "UBERON", "Match", "FMA", "Basis"],
            [
                [
                    _v(r, "roleLabel"),
                    _v(r, "structureLabel"),
                    short(r.get("uberon")),
                    _v(r, "uberonMatch"),
                    short(r.get("fma")),
                    "source document"
                    if _v(r, "quote")
                    else (_v(r, "statusNote") or _v(r, "source")),
                ]
                for r in anatomy
            ],
            caption="Anatomy involved",
            wide=True,
        )
    )
    workflow = _rows(engine, "perioperative-workflow", p)
    clinical.blocks.append(Paragraph("Perioperative workflow, in order:"))
    clinical.blocks.append(
        Bullets([f"{_v(r, 'stepLabel')} ({_v(r, 'phase')})" for r in workflow], ordered=True)
    )
    outcomes = _rows(engine, "expected-outcomes", p)
    for r in outcomes:
        frame = (
            f"{_v(r, 'fromMonths')}\u2013{_v(r, 'toMonths')} months"
            if _v(r, "fromMonths") and _v(r, "toMonths")
            else "time frame " + NOT_AVAILABLE
        )
        cond = f"; {_v(r, 'condition')}" if _v(r, "condition") else ""
        clinical.blocks.append(
            Paragraph(f"Expected outcome: {_v(r, 'outcomeLabel')} over {frame}{cond}")
        )

    coding = Section("Coding Specifications", level=3)
    tables = _rows(engine, "source-tables")
    for t in tables:
        rows_n = t.get("dataRows")
        empty = rows_n is not None and str(rows_n) in ("0", "00")
        coding.blocks.append(
            Paragraph(
                f"The source document's {_v(t, 'tableLabel')} (columns: {_v(t, 'columns')}) "
                + (
                    f"has no data rows: modifiers are {NOT_AVAILABLE}."
                    if empty
                    else f"has {rows_n} data rows."
                )
            )
        )
    modifiers = _rows(engine, "modifiers", p)
    coding.blocks.append(
        Table(
            ["Modifier", "Description", "When to Use", "Basis"],
            [
                [
                    _v(r, "modifierCode"),
                    _v(r, "modifierName"),
                    _v(r, "whenToUse"),
                    _v(r, "basisLabel"),
                ]
                for r in modifiers
            ],
            caption="Modifiers that may apply, with the basis of each",
            wide=True,
        )
        if modifiers
        else Paragraph(f"Modifier guidance: {NOT_AVAILABLE}.")
    )

    # --- Payer Landscape
    payer = Section("Payer Landscape")
    matrix = _rows(engine, "payer-matrix", p)
    payer.blocks.append(
        Table(
            [
                "Payer",
                "Policy",
                "Coverage",
                "Prior authorization",
                "Site of service",
                "Documentation",
                "Criteria",
                "Effective date",
                "Evidence",
            ],
            [
                [
                    _v(r, "payerName"),
                    _v(r, "policyLabel"),
                    _v(r, "coverage"),
                    _v(r, "priorAuthorization"),
                    _v(r, "siteOfServiceRestriction"),
                    _v(r, "documentation"),
                    _v(r, "criteria"),
                    _v(r, "effectiveDate"),
                    _v(r, "evidence"),
                ]
                for r in matrix
            ],
            caption="Payer matrix",
            wide=True,
        )
    )
    criteria = [
        f"{_v(r, 'policyLabel')}: {_v(r, 'criteriaText')}" for r in matrix if _v(r, "criteriaText")
    ]
    if criteria:
        payer.blocks.append(Paragraph("Medical-necessity criteria stated in payer documents:"))
        payer.blocks.append(Bullets(criteria))
    payer.blocks.append(Paragraph("Coverage considerations stated in the source document:"))
    payer.blocks.append(
        Bullets(
            [
                _v(r, "label") + (f" (affects: {_v(r, 'affects')})" if _v(r, "affects") else "")
                for r in considerations
            ]
        )
    )
    documents = _rows(engine, "payer-documents")
    payer.blocks.append(
        Table(
            ["Payer", "Document", "Evidence", "Note"],
            [
                [_v(r, "payerName"), _v(r, "title"), _v(r, "evidence"), _v(r, "statusNote")]
                for r in documents
            ],
            caption="Payer policy documents found",
            wide=True,
        )
    )

    # --- Benchmarks
    bench = Section("Utilization & Payment Benchmarks")
    benchmarks = _rows(engine, "benchmarks", p)
    bench.blocks.append(
        Table(
            ["Benchmark", "Metric", "Value", "Period", "Note"],
            [
                [
                    _v(r, "label"),
                    _v(r, "metric"),
                    _v(r, "volume") or _v(r, "paymentAmount") or NOT_AVAILABLE,
                    _v(r, "period") or NOT_AVAILABLE,
                    _v(r, "statusNote"),
                ]
                for r in benchmarks
            ],
        )
        if benchmarks
        else Paragraph(f"Benchmarks: {NOT_AVAILABLE}.")
    )

    # --- Sources
    src = Section("Sources")
    src.blocks.append(
        Bullets(
            [
                f"{_v(s, 'kind')}: {_v(s, 'title') or _v(s, 'label')}"
                + (f" [{_v(s, 'identifier')}]" if _v(s, "identifier") else "")
                + (f" (SHA-256 {_v(s, 'sha256')})" if _v(s, "sha256") else "")
                + (f" \u2014 section {_v(s, 'sectionOrder')}" if _v(s, "sectionOrder") else "")
                for s in sources
            ]
        )
    )

    # --- Knowledge Gaps
    gaps_section = Section("Knowledge Gaps")
    gaps = _rows(engine, "knowledge-gaps")
    counts = Counter((_v(g, "area"), _v(g, "question"), _v(g, "gap")) for g in gaps)
    gaps_section.blocks.append(
        Paragraph(
            f"{len(gaps)} open points, derived from the graph (answers not stated in source, "
            "empty source tables, payers without a verified policy document, status and "
            "mapping notes)."
        )
    )
    gaps_section.blocks.append(
        Table(
            ["Area", "Question", "Gap", "Records"],
            [[a, q, g, str(n)] for (a, q, g), n in sorted(counts.items())],
            caption="Summary",
        )
    )
    gaps_section.blocks.append(
        Table(
            ["Area", "Record", "Question", "Gap", "Detail"],
            [
                [
                    _v(g, "area"),
                    _v(g, "subjectLabel"),
                    _v(g, "question"),
                    _v(g, "gap"),
                    _v(g, "detail"),
                ]
                for g in gaps
            ],
            caption="Every gap",
            wide=True,
        )
    )

    title = f"CPT {_v(overview, 'notation')}: {descriptor}"
    return Report(
        title,
        subtitle,
        [summary, billing, specs, clinical, coding, payer, bench, src, gaps_section],
    )


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Text safe inside Markdown paragraphs and table cells (one line, specials escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"\s*\n\s*", " ", text))


def render_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown."""
    out = [f"# {md_escape(report.title)}", "", f"_{md_escape(report.subtitle)}_", ""]
    for section in report.sections:
        out += ["#" * section.level + " " + md_escape(section.title), ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                out += [md_escape(block.text), ""]
            elif isinstance(block, Bullets):
                if not block.items:
                    out += [f"_{NOT_AVAILABLE}_", ""]
                    continue
                for i, item in enumerate(block.items, start=1):
                    out.append(
                        f"{i}. {md_escape(item)}" if block.ordered else f"- {md_escape(item)}"
                    )
                out.append("")
            else:
                if block.caption:
                    out += [f"**{md_escape(block.caption)}**", ""]
                if not block.rows:
                    out += [f"_None in the graph: {NOT_AVAILABLE}._", ""]
                    continue
                out.append("| " + " | ".join(md_escape(h) for h in block.headers) + " |")
                out.append("|" + "|".join("---" for _ in block.headers) + "|")
                for row in block.rows:
                    out.append("| " + " | ".join(md_escape(c) for c in row) + " |")
                out.append("")
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
            if isinstance(block, Paragraph):
                out.append(f"<p>{_h(block.text)}</p>")
            elif isinstance(block, Bullets):
                tag = "ol" if block.ordered else "ul"
                if not block.items:
                    out.append(f'<p class="na"><em>{NOT_AVAILABLE}</em></p>')
                    continue
                out.append(
                    f"<{tag}>" + "".join(f"<li>{_h(i)}</li>" for i in block.items) + f"</{tag}>"
                )
            else:
                if not block.rows:
                    if block.caption:
                        out.append(f"<p><strong>{_h(block.caption)}</strong></p>")
                    out.append(f"<p><em>None in the graph: {NOT_AVAILABLE}.</em></p>")
                    continue
                out.append('<div class="scroll"><table>')
                if block.caption:
                    out.append(f"<caption>{_h(block.caption)}</caption>")
                out.append(
                    "<thead><tr>" + "".join(_cell(h, "th") for h in block.headers) + "</tr></thead>"
                )
                out.append("<tbody>")
                for row in block.rows:
                    out.append("<tr>" + "".join(_cell(c) for c in row) + "</tr>")
                out.append("</tbody></table></div>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(report: Report, fmt: str = "md") -> str:
    """``md`` or ``html``."""
    if fmt == "html":
        return render_html(report)
    if fmt == "md":
        return render_markdown(report)
    raise ValueError(f"unknown report format {fmt!r}; use md or html")
