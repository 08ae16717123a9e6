"""The overview regenerated from the graph: every section, not-available markers, escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from cptkg.engines.rdflib_engine import RdflibEngine
from cptkg.query import ParameterError
from cptkg.report import (
    NOT_AVAILABLE,
    SECTIONS,
    STATED_BY_CODE,
    Paragraph,
    Report,
    Section,
    Table,
    build_report,
    render_html,
    render_markdown,
)


@pytest.fixture(scope="module")
def report(shipped_union):
    return build_report(RdflibEngine(shipped_union), "64866")


def test_markdown_has_every_section_in_order(report):
    md = render_markdown(report)
    found = [re.search(rf"^##+ {re.escape(title)}$", md, re.M) for title in SECTIONS]
    assert all(found), dict(zip(SECTIONS, found, strict=True))
    positions = [m.start() for m in found]
    assert positions == sorted(positions)
    assert md.startswith("# CPT 64866: Facial Nerve to Spinal Accessory Nerve Transfer")


def test_report_content_comes_from_the_graph(report):
    md = render_markdown(report)
    for fact in (
        "Surgical nerve transfer / facial reanimation procedure",  # service type
        "Ambulatory Surgical Center (POS 24)",
        "S04.51XA",  # ICD-10-CM for traumatic transection
        "spinal accessory nerve",
        "6–12 months",
        "Blue Cross Blue Shield",
        "8688f1dbec27f43cf59fcbb3d85a42b4f3df1915e50b064cb9fb68f2b56e2b9f",
    ):
        assert fact in md, fact


def test_billing_overview_names_the_cpt_short_descriptor_and_the_title_apart(report):
    """The graph holds CPT's short descriptor (skos:altLabel) and the source document's title
    (skos:prefLabel); the report labels each for what it is."""
    md = render_markdown(report)
    assert "| CPT short descriptor | Anastomosis; facial-spinal accessory |" in md
    title = "Facial Nerve to Spinal Accessory Nerve Transfer for Facial Reanimation"
    assert f"| Title in the source document | {title} |" in md
    assert "| Descriptor |" not in md


def test_report_says_not_available_where_the_source_does(report):
    md = render_markdown(report)
    # the empty modifier table and the missing benchmarks
    assert f"has no data rows: modifiers are {NOT_AVAILABLE}" in md
    bench = md.split("## Utilization & Payment Benchmarks")[1].split("## Sources")[0]
    assert bench.count(NOT_AVAILABLE) >= 2
    matrix = md.split("**Payer matrix**")[1].split("\n\n")[1]
    assert len(matrix.splitlines()) == 2 + 7  # header, rule, seven policy records
    assert "not stated in source" in matrix


def test_html_is_self_contained_and_well_formed(report):
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "external resource"
    assert "<script" not in page
    for title in SECTIONS:
        assert f">{title.replace('&', '&amp;')}</h" in page

    class Checker(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.tables = [], 0

        def handle_starttag(self, tag, attrs):
            if tag not in ("meta", "br", "link"):
                self.stack.append(tag)
            self.tables += tag == "table"

        def handle_endtag(self, tag):
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
            self.stack.pop()

    checker = Checker()
    checker.feed(page)
    assert checker.stack == []
    assert checker.tables >= 8
    assert "<caption>Payer matrix</caption>" in page


def test_values_are_escaped():
    nasty = 'A <b>bold</b> & "quoted" | pipe * star _u_ # hash\nnewline'
    doc = Report("T <x>", "s", [Section("S", blocks=[Paragraph(nasty), Table(["h|"], [[nasty]])])])
    page = render_html(doc)
    assert "<b>" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in page
    md = render_markdown(doc)
    assert "\\<b\\>" in md and "\\| pipe" in md and "\\*" in md
    row = [ln for ln in md.splitlines() if ln.startswith("| A")][0]
    assert row.count(" | ") == 0 and row.endswith(" |")  # one cell: the pipe is escaped


def test_unknown_code_is_an_error(shipped_union):
    with pytest.raises(ParameterError) as exc:
        build_report(RdflibEngine(shipped_union), "99999")
    assert "64866" in (exc.value.hint or "")


def _md_rows(md: str, caption: str) -> list[list[str]]:
    """The cells of the Markdown table under ``**caption**``, header first."""
    block = md.split(f"**{caption}**")[1].split("\n\n")[1]
    return [[c.strip() for c in ln.strip("|").split(" | ")] for ln in block.splitlines()]


def test_payer_matrix_shows_each_policys_code_applicability_basis(report):
    """The Aetna bulletins speak of nerve anastomoses in general: their link to 64866 is
    inferred; the overview-document records name the code."""
    rows = _md_rows(render_markdown(report), "Payer matrix")
    column = rows[0].index("Code applicability")
    basis = {r[1]: r[column] for r in rows[2:]}
    inferred = "inferred from the source's text (code not named)"
    assert basis["Aetna CPB 0366 (Paralytic Lagophthalmos Treatments): neuroplastic surgery"] == (
        inferred
    )
    aetna_0745 = "Aetna CPB 0745 (Bell's Palsy): facial surgery with cranial nerve anastomosis"
    assert basis[aetna_0745] == inferred
    stated = {label for label, b in basis.items() if b == STATED_BY_CODE}
    assert stated == {label for label in basis if "(as stated in the overview document)" in label}
    assert len(stated) == 5


def test_report_names_the_policies_whose_code_link_is_not_stated(report):
    md = render_markdown(report)
    section = md.split("## Payer Landscape")[1].split("## Utilization")[0]
    assert "Policies whose source does not name the code by number:" in section
    line = next(ln for ln in section.splitlines() if ln.startswith("- inferred from"))
    assert "Aetna CPB 0366" in line and "Aetna CPB 0745" in line
    assert "as stated in the overview document" not in line


def test_payer_documents_show_their_code_applicability_basis(report):
    rows = _md_rows(render_markdown(report), "Payer policy documents found")
    column = rows[0].index("Code applicability")
    basis = {r[1]: r[column] for r in rows[2:]}
    assert basis["Aetna Clinical Policy Bulletin 0366: Paralytic Lagophthalmos Treatments"] == (
        "inferred from the source's text (code not named)"
    )
    anthem = "Anthem ANC.00008: Cosmetic and Reconstructive Services of the Head and Neck"
    assert basis[anthem] == "not confirmed that the source names the code"


def test_html_payer_matrix_has_the_code_applicability_column(report):
    page = render_html(report)
    matrix = page.split("<caption>Payer matrix</caption>")[1].split("</table>")[0]
    assert "<th>Code applicability</th>" in matrix
    assert matrix.count("inferred from the source&#x27;s text (code not named)") == 2
