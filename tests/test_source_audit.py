"""Audits of data/ against the shared source document and the verified identifier reference.

The project cites the overview document rather than copying it; CI checks it out beside the
repository as ``<root>/../shared/`` (``source/cpt-64866-overview.txt`` and
``reference/identifiers.md``). These audits skip, saying why, when that folder is absent.

* every ``cptkg:quote`` in data/ occurs verbatim in the overview document;
* the ``cptkg:sha256`` of ``kg:source-overview`` is the SHA-256 of that file;
* every UBERON IRI, ICD-10-CM, place-of-service and modifier notation in data/ appears in the
  reference (ICD ranges and shorthand expanded by :func:`expand_icd_cell`, tested below);
* every CPT notation in data/ appears in the reference's CPT table with a verified descriptor.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SKOS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from cptkg.load import load_union
from cptkg.namespaces import CPTKG, KG, UBERON

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SOURCE = SHARED / "source" / "cpt-64866-overview.txt"
REFERENCE = SHARED / "reference" / "identifiers.md"


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(
            f"{path} not found: the shared source/reference folder is expected beside the "
            f"checkout at {SHARED} (CI provides it); source audits cannot run without it"
        )
    return path


@cache
def data_graph() -> Graph:
    """data/ only (the ontology's own vocabulary is not audited against the reference)."""
    return load_union(include_ontology=False)


def notations(cls: URIRef) -> dict[str, URIRef]:
    g = data_graph()
    out = {}
    for s in g.subjects(RDF.type, cls):
        for n in g.objects(s, SKOS.notation):
            out[str(n)] = s
    return out


# --------------------------------------------------------------------------- reference parsing


def sections(markdown: str) -> dict[str, str]:
    """``## Title`` -> body text."""
    parts = re.split(r"^## +(.+)$", markdown, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def table_rows(body: str) -> list[list[str]]:
    """Data rows of the first Markdown table in ``body`` (header and separator skipped)."""
    rows = []
    lines = [ln.strip() for ln in body.splitlines() if ln.strip().startswith("|")]
    for ln in lines[2:]:
        rows.append([c.strip() for c in ln.strip("|").split("|")])
    return rows


def section(title_start: str) -> str:
    secs = sections(REFERENCE.read_text(encoding="utf-8"))
    matches = [body for title, body in secs.items() if title.startswith(title_start)]
    assert len(matches) == 1, f"reference has no single section starting {title_start!r}"
    return matches[0]


_ICD = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
_DASH = r"\s*[–-]\s*"  # en dash or hyphen


def expand_icd_cell(code_cell: str, title: str = "") -> set[str]:
    """Expand the ICD-10-CM shorthand of the reference's code column.

    * ``G51.0``: itself.
    * ``H02.231–H02.239``: a range of codes that differ only in the last character, from
      the first to the last inclusive (digits or letters). Taken literally: the range's
      endpoints are given, not which codes in between exist in ICD-10-CM.
    * ``H02.23A/B/C``: a stem followed by slash-separated alternatives for its last
      character(s), each replacing as many trailing characters as it has: H02.23A,
      H02.23B, H02.23C.
    * ``S04.50XA / S04.51XA / S04.52XA`` with title "(D = subsequent, S = sequela)":
      the full codes listed, plus each with its seventh character replaced by every
      letter the title's ``X = …`` legend gives (D, S).
    """
    codes: set[str] = set()
    for part in re.split(r",|\s/\s", code_cell):
        part = part.strip().strip("`")
        if not part:
            continue
        m = re.fullmatch(f"({_ICD}){_DASH}({_ICD})", part)
        if m:
            first, last = m.groups()
            assert len(first) == len(last) and first[:-1] == last[:-1], f"odd range {part!r}"
            lo, hi = first[-1], last[-1]
            alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            codes |= {first[:-1] + c for c in alphabet[alphabet.index(lo) : alphabet.index(hi) + 1]}
            continue
        m = re.fullmatch(f"({_ICD})((?:/[0-9A-Z]+)+)", part)
        if m:
            first, rest = m.groups()
            alts = rest.split("/")[1:]
            k = len(alts[0])
            assert all(len(a) == k for a in alts), f"odd alternatives {part!r}"
            codes |= {first} | {first[:-k] + a for a in alts}
            continue
        assert re.fullmatch(_ICD, part), f"cannot read ICD-10-CM cell part {part!r}"
        codes.add(part)
    legend = re.findall(r"\b([A-Z]) = [a-z]", title)
    if legend:
        codes |= {c[:-1] + letter for c in list(codes) if len(c) == 8 for letter in legend}
    return codes


def test_expand_icd_cell_plain_and_range():
    assert expand_icd_cell("G51.0") == {"G51.0"}
    assert expand_icd_cell("C07") == {"C07"}
    assert expand_icd_cell("H02.231–H02.239, H02.23A/B/C") == {
        *(f"H02.23{d}" for d in range(1, 10)),
        "H02.23A",
        "H02.23B",
        "H02.23C",
    }
    assert expand_icd_cell("H02.231-H02.233") == {"H02.231", "H02.232", "H02.233"}


def test_expand_icd_cell_seventh_character_legend():
    cell = "S04.50XA / S04.51XA / S04.52XA"
    title = (
        "Injury of facial nerve, unspecified / right / left side, initial encounter "
        "(D = subsequent, S = sequela)"
    )
    assert expand_icd_cell(cell, title) == {
        f"S04.5{side}X{seventh}" for side in "012" for seventh in "ADS"
    }
    # without the legend only the listed codes
    assert expand_icd_cell(cell) == {"S04.50XA", "S04.51XA", "S04.52XA"}


def test_expand_icd_cell_rejects_what_it_cannot_read():
    with pytest.raises(AssertionError):
        expand_icd_cell("Bell's palsy")


@cache
def reference_icd() -> dict[str, str]:
    """Code -> title (the row's title; shared by every code a row expands to)."""
    out = {}
    for code_cell, title, *_ in table_rows(section("ICD-10-CM")):
        for c in expand_icd_cell(code_cell, title):
            out[c] = title
    return out


@cache
def reference_uberon() -> dict[str, str]:
    return {row[0]: row[1] for row in table_rows(section("Anatomy"))}


@cache
def reference_pos() -> dict[str, str]:
    return {row[0]: row[1] for row in table_rows(section("CMS Place of Service"))}


@cache
def reference_modifiers() -> dict[str, str]:
    text = " ".join(section("Modifiers").split("\n\n")[0:3])
    body = " ".join(text.split())
    body = body[body.index("22 ") :]
    body = body.split("Which of these")[0].rstrip(". ")
    out = {}
    for item in body.split("·"):
        item = item.strip().rstrip(".")
        code, _, name = item.partition(" ")
        assert re.fullmatch(r"[0-9A-Z]{2}", code), f"cannot read modifier item {item!r}"
        out[code] = name
    return out


@cache
def reference_cpt() -> dict[str, tuple[str, str]]:
    """CPT code -> (descriptor, status); a cell may list several codes."""
    out = {}
    for code_cell, descriptor, status in table_rows(section("CPT code family")):
        for code in re.findall(r"\b[0-9]{4}[0-9A-Z]\b", code_cell):
            out[code] = (descriptor, status)
    return out


def test_audits_skip_with_a_reason_when_shared_is_absent(tmp_path):
    with pytest.raises(pytest.skip.Exception, match="shared source/reference folder"):
        _require(tmp_path / "shared" / "reference" / "identifiers.md")


def test_reference_tables_parse():
    _require(REFERENCE)
    assert len(reference_uberon()) == 10
    assert set(reference_pos()) == {"19", "21", "22", "24"}
    mods = reference_modifiers()
    assert {"22", "59", "62", "80", "AS", "LT", "RT", "XE", "XS", "XP", "XU"} <= set(mods)
    assert len(mods) == 27
    icd = reference_icd()
    assert {"G51.0", "C07", "R29.810", "H02.23C", "S04.52XS", "S04.50XD", "Q87.0"} <= set(icd)
    cpt = reference_cpt()
    assert cpt["64866"] == ("Anastomosis; facial-spinal accessory", "verified")
    assert "unverified" in cpt["64907"][1]


# --------------------------------------------------------------------------- audits


def test_every_quote_occurs_verbatim_in_the_source():
    text = _require(SOURCE).read_text(encoding="utf-8")
    quotes = sorted({str(q) for q in data_graph().objects(None, CPTKG.quote)})
    assert quotes, "no cptkg:quote in data/"
    missing = [q for q in quotes if q not in text]
    assert not missing, "quotes not found verbatim in the overview document:\n" + "\n".join(
        f"  {q!r}" for q in missing
    )


def test_source_document_sha256_matches_the_file():
    digest = hashlib.sha256(_require(SOURCE).read_bytes()).hexdigest()
    recorded = data_graph().value(KG["source-overview"], CPTKG.sha256)
    assert recorded is not None, "kg:source-overview has no cptkg:sha256"
    assert str(recorded) == digest


def test_uberon_iris_are_in_the_reference():
    _require(REFERENCE)
    g = data_graph()
    used = {
        str(t)[len(str(UBERON)) :]
        for triple in g
        for t in triple
        if isinstance(t, URIRef) and str(t).startswith(str(UBERON))
    }
    assert used, "no UBERON IRI in data/"
    unknown = sorted(used - set(reference_uberon()))
    assert not unknown, f"UBERON terms not in the identifier reference: {unknown}"


def test_uberon_labels_match_the_reference():
    """A structure's exactMatch term is the one the reference names (label comparison)."""
    _require(REFERENCE)
    g = data_graph()
    ref = reference_uberon()
    wrong = []
    for s, o in g.subject_objects(SKOS.exactMatch):
        if not str(o).startswith(str(UBERON)):
            continue
        labels = {str(lbl).lower() for p in (RDFS.label, SKOS.altLabel) for lbl in g.objects(s, p)}
        ref_label = ref[str(o)[len(str(UBERON)) :]].lower()
        if not any(ref_label in lbl or lbl in ref_label for lbl in labels):
            wrong.append(f"{s}: labels {sorted(labels)} vs UBERON label {ref_label!r}")
    assert not wrong, "\n".join(wrong)


def test_icd10cm_notations_are_in_the_reference():
    _require(REFERENCE)
    used = notations(CPTKG.ICD10CMCode)
    assert used
    unknown = sorted(set(used) - set(reference_icd()))
    assert not unknown, f"ICD-10-CM codes not in the identifier reference: {unknown}"


def test_place_of_service_notations_and_names_match_the_reference():
    _require(REFERENCE)
    used = notations(CPTKG.PlaceOfServiceCode)
    assert used
    ref = reference_pos()
    unknown = sorted(set(used) - set(ref))
    assert not unknown, f"place-of-service codes not in the identifier reference: {unknown}"
    g = data_graph()
    wrong = [
        f"{n}: {g.value(s, SKOS.prefLabel)!s} != {ref[n]}"
        for n, s in used.items()
        if str(g.value(s, SKOS.prefLabel)) != ref[n]
    ]
    assert not wrong, wrong


def test_modifier_notations_are_in_the_reference():
    _require(REFERENCE)
    used = notations(CPTKG.ModifierCode)
    assert used
    unknown = sorted(set(used) - set(reference_modifiers()))
    assert not unknown, f"modifiers not in the identifier reference: {unknown}"


def test_cpt_notations_are_in_the_reference_with_verified_descriptors():
    _require(REFERENCE)
    used = notations(CPTKG.CPTCode)
    assert "64866" in used
    ref = reference_cpt()
    unknown = sorted(set(used) - set(ref))
    assert not unknown, f"CPT codes not in the reference's CPT table: {unknown}"
    g = data_graph()
    problems = []
    for n, s in sorted(used.items()):
        descriptor, status = ref[n]
        if not status.startswith("verified"):
            problems.append(f"{n}: the reference marks its descriptor {status!r}")
            continue
        labels = {str(x) for p in (SKOS.prefLabel, SKOS.altLabel) for x in g.objects(s, p)}
        if descriptor not in labels:
            problems.append(f"{n}: descriptor {descriptor!r} not among its labels {labels}")
    assert not problems, "\n".join(problems)


def test_single_icd10cm_titles_match_the_reference():
    """Rows that name one code give its title: the data's prefLabel must be that title."""
    _require(REFERENCE)
    g = data_graph()
    used = notations(CPTKG.ICD10CMCode)
    wrong = []
    for code_cell, title, *_ in table_rows(section("ICD-10-CM")):
        if re.fullmatch(_ICD, code_cell) and code_cell in used:
            label = g.value(used[code_cell], SKOS.prefLabel)
            if not isinstance(label, Literal) or str(label) != title:
                wrong.append(f"{code_cell}: {label!s} != {title}")
    assert not wrong, wrong


# --------------------------------------------------------------------------- payer documents

_NOT_CONFIRMED = re.compile(r"not confirmed|does not show", re.I)


@cache
def reference_documents() -> list[tuple[str, str, str]]:
    """(payer, document, what it says that bears on 64866) rows of the payer-documents table."""
    return [
        (row[0], row[1], row[2])
        for row in table_rows(section("Payer policy documents"))
        if len(row) >= 3
    ]


def reference_document_row(identifier: str) -> tuple[str, str, str]:
    """The one reference row whose document cell names the identifier's number (CPB 0366 ->
    '0366', ANC.00008, CDG.007, MPG065)."""
    key = identifier.split()[-1]
    rows = [r for r in reference_documents() if re.search(rf"\b{re.escape(key)}\b", r[1])]
    assert len(rows) == 1, f"{identifier}: {len(rows)} reference rows name {key!r}"
    return rows[0]


def basis_supported_by(what: str, code: str) -> URIRef:
    """The code-applicability basis a reference row supports for ``code``: not confirmed when it
    says so, stated by code when it names the code, otherwise inferred from the text."""
    if _NOT_CONFIRMED.search(what):
        return CPTKG["applicability-not-confirmed"]
    if re.search(rf"\b{code}\b", what):
        return CPTKG["applicability-stated-by-code"]
    return CPTKG["applicability-inferred-from-text"]


def test_basis_supported_by_reads_the_reference_wording():
    assert basis_supported_by("64866 not confirmed in either", "64866").endswith("not-confirmed")
    assert basis_supported_by("does not show that it names 64866", "64866").endswith(
        "not-confirmed"
    )
    assert basis_supported_by("nerve anastomoses considered medically necessary", "64866").endswith(
        "inferred-from-text"
    )
    assert basis_supported_by("lists 64866 as covered", "64866").endswith("stated-by-code")


def test_policy_documents_carry_the_basis_the_reference_supports():
    _require(REFERENCE)
    g = data_graph()
    docs = sorted(g.subjects(RDF.type, CPTKG.PolicyDocument))
    assert docs
    wrong = []
    rows_used = set()
    for doc in docs:
        row = reference_document_row(str(g.value(doc, DCTERMS.identifier)))
        rows_used.add(row)
        what = row[2]
        expected = basis_supported_by(what, "64866")
        found = g.value(doc, CPTKG.codeApplicabilityBasis)
        if found != expected:
            wrong.append(f"{doc}: {found} but the reference supports {expected} ({what!r})")
    assert not wrong, "\n".join(wrong)
    found_rows = [r for r in reference_documents() if "none found" not in r[1]]
    assert set(found_rows) == rows_used, "reference documents with no record in data/"


def test_policies_carry_the_basis_of_their_source():
    """A policy read from a payer document shares the document's basis; a policy from the
    overview document is stated by code only because the overview names the code."""
    _require(SOURCE)
    g = data_graph()
    overview = SOURCE.read_text(encoding="utf-8")
    policies = sorted(g.subjects(RDF.type, CPTKG.PayerPolicy))
    assert policies
    wrong = []
    for pol in policies:
        basis = g.value(pol, CPTKG.codeApplicabilityBasis)
        doc = g.value(pol, CPTKG.policyDocument)
        if doc is not None:
            expected = g.value(doc, CPTKG.codeApplicabilityBasis)
        else:
            codes = [str(g.value(c, SKOS.notation)) for c in g.objects(pol, CPTKG.appliesToCode)]
            named = all(re.search(rf"\b{c}\b", overview) for c in codes)
            expected = CPTKG[
                "applicability-stated-by-code" if named else "applicability-not-confirmed"
            ]
        if basis != expected:
            wrong.append(f"{pol}: {basis}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_policy_diagnoses_are_named_by_their_document():
    """A supporting diagnosis enters a policy only when the reference's reading of its document
    names that ICD-10-CM code (an inference from a bulletin's title is not enough)."""
    _require(REFERENCE)
    g = data_graph()
    unsupported = []
    for pol, dx in g.subject_objects(CPTKG.supportingDiagnosis):
        notation = str(g.value(dx, SKOS.notation))
        doc = g.value(pol, CPTKG.policyDocument)
        what = ""
        if doc is not None:
            what = reference_document_row(str(g.value(doc, DCTERMS.identifier)))[2]
        if not re.search(rf"(?<![\w.]){re.escape(notation)}(?![\w.])", what):
            unsupported.append(f"{pol}: {notation}")
    assert not unsupported, f"diagnoses the policy's source does not name: {unsupported}"
