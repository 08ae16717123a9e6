"""Hostile text and spreadsheets at the intake, run through the real command line: control,
bidirectional and invisible characters (refused with file:line, never printed raw), policy ids
outside the safe alphabet and formula-like cells (row and column named), ``import-csv -o``
outside the graph, malformed language tags (file and line), and supporting quotes checked
against their registered source document."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cptkg.formats import csv_cell
from cptkg.intake.quotes import normalize
from cptkg.textsafe import printable
from intake_helpers import INTAKE, ROOT, copy_project, run_cptkg, tree_digest

VALID = (INTAKE / "valid-policy.ttl").read_text(encoding="utf-8")
VALID_CSV = (INTAKE / "valid-policies.csv").read_text(encoding="utf-8")
SHARED_SOURCE = ROOT.parent / "shared" / "source"
#: Characters that must never reach a terminal raw.
RAW = ("\x00", "\x1b", "\u202e", "\u200b", "\u2066", "\x9b")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def cptkg(home: Path, *args: str, env: dict[str, str] | None = None):
    if args and args[0] == "add":  # the intake fixtures are illustrative records
        args = (*args, "--allow-illustrative")
    return run_cptkg(*args, env={"CPTKG_HOME": str(home), **(env or {})})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return next(n for n, t in enumerate(text.splitlines(), start=1) if needle in t)


def assert_clean(proc) -> None:
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out and "internal error" not in out, out
    assert not any(c in out for c in RAW), ascii(out)


# --------------------------------------------------------------------------- printable


def test_printable_escapes_controls_bidi_and_zero_width():
    assert printable("a\u202eb\u200bc\x1b[31md\x00") == "a\\u202eb\\u200bc\\u001b[31md\\u0000"
    assert printable("x\ud800") == "x\\ud800"
    assert printable("two\nlines\tand tab") == "two\\u000alines\\u0009and tab"
    assert printable("two\nlines\tand tab", multiline=True) == "two\nlines\tand tab"
    assert printable("Café – naïve “quoted”") == "Café – naïve “quoted”"
    assert printable("\U000e0001") == "\\U000e0001"


# --------------------------------------------------------------------------- control characters


@pytest.mark.parametrize(
    ("escape", "name"),
    [
        ("\\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\\u0000", "control character"),
        ("\\u001b[31m", "control character"),
        ("\\u200b", "ZERO WIDTH SPACE"),
        ("\\u2066", "LEFT-TO-RIGHT ISOLATE"),
        ("\\u009b", "control character"),
    ],
)
def test_add_refuses_label_with_unsafe_character_and_never_prints_it(home, tmp_path, escape, name):
    text = VALID.replace('rdfs:label "Cigna', f'rdfs:label "Cig{escape}na', 1)
    new = write(tmp_path / "label.ttl", text)
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", str(new))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"label.ttl:{line_of(text, 'rdfs:label')}: " in proc.stderr
    assert "intake:text-control-character" in proc.stderr and name in proc.stderr
    assert escape.split("[")[0] in proc.stderr and "nothing written" in proc.stderr
    assert_clean(proc)
    assert tree_digest(home / "data") == before


def test_tab_refused_in_identifier_but_line_breaks_accepted_in_long_text(home, tmp_path):
    text = VALID.replace('"example-cigna-64866"', '"example\\tcigna-64866"')
    proc = cptkg(home, "validate", str(write(tmp_path / "tab.ttl", text)))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"tab.ttl:{line_of(text, 'dcterms:identifier')}: \\u0009" in proc.stderr
    assert "of dcterms:identifier" in proc.stderr
    long = VALID.replace("EMG results (illustrative).", "EMG results\\n\\t(illustrative).")
    proc = cptkg(home, "validate", str(write(tmp_path / "long.ttl", long)))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_control_character_in_iri_is_refused(home, tmp_path):
    text = VALID.replace(
        "kg:policy-example-cigna-64866 a", "<https://w3id.org/cptkg/id/p\\u202eol> a"
    )
    proc = cptkg(home, "validate", str(write(tmp_path / "iri.ttl", text)))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the IRI" in proc.stderr and "\\u202e" in proc.stderr
    assert_clean(proc)


def test_query_table_escapes_control_characters_of_the_graph(tmp_path):
    data = write(
        tmp_path / "g.ttl",
        '<http://e/a> <http://www.w3.org/2000/01/rdf-schema#label> "x\\u202ey\\u001b[2Jz" .\n',
    )
    proc = run_cptkg("sparql", "--data", str(data), "SELECT ?l WHERE { ?s ?p ?l }")
    assert proc.returncode == 0, proc.stderr
    assert "x\\u202ey\\u001b[2Jz" in proc.stdout
    assert_clean(proc)


# --------------------------------------------------------------------------- CSV


def csv_with(tmp_path: Path, old: str, new: str, name: str = "bad.csv") -> Path:
    text = VALID_CSV.replace(old, new, 1)
    assert text != VALID_CSV
    return write(tmp_path / name, text)


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ('"example aetna 64866"', "' '"),
        ('"example""aetna"', "'\"'"),
        ("example<aetna>", "'<' '>'"),
        ("example#aetna", "'#'"),
        ("example/aetna", "'/'"),
        ("exämple-aetna", "'ä'"),
        ("=1+2", "starts like a spreadsheet formula"),
        ('"=HYPERLINK(""http://x"")"', "starts like a spreadsheet formula"),
        ("+cmd", "starts like a spreadsheet formula"),
        ("-2+3", "starts like a spreadsheet formula"),
        ("@SUM(A1)", "starts like a spreadsheet formula"),
        ("a" * 101, "longer than 100"),
    ],
)
def test_csv_policy_id_outside_the_safe_alphabet_names_row_and_column(tmp_path, cell, says):
    out = tmp_path / "out.ttl"
    proc = run_cptkg(
        "import-csv", str(csv_with(tmp_path, "example-aetna-64866,", cell + ",")), "-o", str(out)
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bad.csv row 3, column policy_id: " in proc.stderr and says in proc.stderr
    assert_clean(proc)
    assert not out.exists()


def test_csv_formula_in_a_text_cell_names_row_and_column(tmp_path):
    bad = csv_with(tmp_path, '"ILLUSTRATIVE EXAMPLE: Medicare', '"=HYPERLINK(""http://evil"")')
    proc = run_cptkg("import-csv", str(bad))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bad.csv row 4, column label: '=HYPERLINK" in proc.stderr
    assert "spreadsheet formula" in proc.stderr


def test_csv_cell_over_the_csv_module_limit_names_row_and_column(tmp_path):
    bad = csv_with(tmp_path, '"ILLUSTRATIVE EXAMPLE: Medicare', '"' + "x" * 200_000)
    proc = run_cptkg("import-csv", str(bad))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bad.csv row 4, column label: cell of 200,027 characters" in proc.stderr
    assert "csv.Error" not in proc.stderr and "field larger" not in proc.stderr
    assert_clean(proc)


def test_csv_id_twice_in_the_file_names_both_rows(tmp_path):
    bad = csv_with(tmp_path, "example-medicare-64866,", "example-aetna-64866,")
    proc = run_cptkg("import-csv", str(bad))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        "bad.csv row 4, column policy_id: 'example-aetna-64866' is already used in this file, "
        "in row 3" in proc.stderr
    )


def test_csv_id_already_in_the_graph_names_the_existing_file(tmp_path):
    bad = csv_with(tmp_path, "example-medicare-64866,", "aetna-cpb-0366,")
    proc = run_cptkg("import-csv", str(bad))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bad.csv row 4, column policy_id: 'aetna-cpb-0366' is already the identifier of " in (
        proc.stderr
    )
    assert "kg:policy-aetna-cpb-0366 (data/policies/aetna.ttl)" in proc.stderr


def test_csv_control_character_names_row_and_column(tmp_path):
    bad = csv_with(tmp_path, "EXAMPLE: Medicare", "EXAMPLE:\u202e Medicare")
    proc = run_cptkg("import-csv", str(bad))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bad.csv row 4, column label: \\u202e (RIGHT-TO-LEFT OVERRIDE)" in proc.stderr
    assert_clean(proc)


def test_csv_output_prefixes_formula_like_text_with_a_quote(tmp_path):
    assert csv_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert [csv_cell(t) for t in ("+1", "-2.5", "@x", "-x", "\tx", "plain")] == [
        "+1",
        "-2.5",
        "'@x",
        "'-x",
        "'\tx",
        "plain",
    ]
    data = write(
        tmp_path / "g.ttl",
        '<http://e/a> <http://e/label> "=HYPERLINK(\\"http://x\\")" .\n',
    )
    proc = run_cptkg(
        "sparql", "--data", str(data), "--format", "csv", "SELECT ?l WHERE { <http://e/a> ?p ?l }"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == '"\'=HYPERLINK(""http://x"")"'


# --------------------------------------------------------------------------- import-csv -o


@pytest.mark.parametrize("where", ["data/policies/x.ttl", "data/x.ttl", "data"])
def test_import_csv_output_inside_the_data_directory_is_refused(home, where):
    before = tree_digest(home / "data")
    proc = cptkg(home, "import-csv", str(INTAKE / "valid-policies.csv"), "-o", str(home / where))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "-o/--output" in proc.stderr and "inside the graph's data directory" in proc.stderr
    assert "cptkg add" in proc.stderr
    assert tree_digest(home / "data") == before


def test_import_csv_output_naming_a_directory_or_missing_directory_is_refused(tmp_path):
    proc = run_cptkg("import-csv", str(INTAKE / "valid-policies.csv"), "-o", str(tmp_path))
    assert proc.returncode == 2 and "-o/--output" in proc.stderr
    assert "is a directory" in proc.stderr
    missing = tmp_path / "no" / "such" / "out.ttl"
    proc = run_cptkg("import-csv", str(INTAKE / "valid-policies.csv"), "-o", str(missing))
    assert proc.returncode == 2 and "-o/--output" in proc.stderr
    assert "does not exist" in proc.stderr
    assert not (tmp_path / "no").exists()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- language tags


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("tag.ttl", VALID.replace('(illustrative)."@en', '(illustrative)."@123'), 24),
        ("tag.nt", '<http://e/a> <http://e/p> "x"@en .\n<http://e/a> <http://e/p> "y"@123 .\n', 2),
        ("tag.ttl", VALID.replace('(illustrative)."@en', '(illustrative)."@en-'), 24),
        (
            "tag.jsonld",
            '{"@id": "http://e/a",\n "http://e/p": {"@value": "x",\n  "@language": "12"}}\n',
            3,
        ),
    ],
)
def test_malformed_language_tag_names_file_and_line(home, tmp_path, name, text, line):
    new = write(tmp_path / name, text)
    before = tree_digest(home / "data")
    for command in ("validate", "add"):
        proc = cptkg(home, command, str(new))
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert f"{name}:{line}: " in proc.stderr
        assert_clean(proc)
    assert tree_digest(home / "data") == before


# --------------------------------------------------------------------------- quotes


def source_document(tmp_path: Path, text: str) -> tuple[Path, str]:
    folder = tmp_path / "sources"
    folder.mkdir(exist_ok=True)
    doc = folder / "payer-bulletin.txt"
    doc.write_text(text, encoding="utf-8")
    return folder, hashlib.sha256(doc.read_bytes()).hexdigest()


def quoted(digest: str, quote: str) -> str:
    return VALID.replace(
        "    prov:wasDerivedFrom kg:codeset-payer-documents ;",
        f'    prov:wasDerivedFrom kg:section-bulletin ;\n    cptkg:quote "{quote}" ;',
    ) + (
        "\nkg:source-bulletin a cptkg:SourceDocument ;\n"
        '    rdfs:label "payer bulletin (test)" ;\n'
        '    dcterms:title "A payer bulletin" ;\n'
        f'    cptkg:sha256 "{digest}" ;\n'
        '    dcterms:identifier "payer-bulletin.txt" .\n'
        "\nkg:section-bulletin a cptkg:DocumentSection ;\n"
        '    rdfs:label "Coverage" ;\n'
        "    dcterms:isPartOf kg:source-bulletin ;\n"
        "    cptkg:sectionOrder 1 .\n"
    )


BULLETIN = "Coverage.\nNerve transfer is covered when the paralysis\nlasted 12 months.\n"


def test_quote_found_in_its_document_conforms_whitespace_runs_as_one_space(home, tmp_path):
    folder, digest = source_document(tmp_path, BULLETIN)
    new = write(tmp_path / "q.ttl", quoted(digest, "covered when the paralysis lasted 12 months"))
    proc = cptkg(home, "validate", str(new), env={"CPTKG_SOURCES": str(folder)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not checked" not in proc.stdout + proc.stderr


def test_quote_not_in_its_document_is_a_violation_and_add_refuses(home, tmp_path):
    folder, digest = source_document(tmp_path, BULLETIN)
    text = quoted(digest, "covered when the paralysis lasted 6 months")
    new = write(tmp_path / "q.ttl", text)
    env = {"CPTKG_SOURCES": str(folder)}
    proc = cptkg(home, "validate", str(new), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "rule:  intake:quote-in-source" in proc.stdout
    assert 'The quote "covered when the paralysis lasted 6 months" does not occur' in proc.stdout
    assert "payer-bulletin.txt" in proc.stdout and "kg:policy-example-cigna-64866" in proc.stdout
    assert f"where: {new}:{line_of(text, 'cptkg:quote')}" in proc.stdout
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", str(new), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_clean(proc)
    assert tree_digest(home / "data") == before


def test_quote_unchecked_when_document_missing_or_altered_says_so(home, tmp_path):
    folder, digest = source_document(tmp_path, BULLETIN)
    new = write(tmp_path / "q.ttl", quoted(digest, "not in any document"))
    proc = cptkg(home, "validate", str(new), env={"CPTKG_SOURCES": str(tmp_path / "none")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING: 1 quote(s) citing payer-bulletin.txt were not checked" in proc.stdout
    assert "not found in" in proc.stdout and "CPTKG_SOURCES" in proc.stdout
    (folder / "payer-bulletin.txt").write_text(BULLETIN + "changed\n", encoding="utf-8")
    proc = cptkg(home, "validate", str(new), env={"CPTKG_SOURCES": str(folder)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not the registered" in proc.stdout and "not trusted" in proc.stdout


def test_quote_long_is_cut_in_the_message(home, tmp_path):
    folder, digest = source_document(tmp_path, BULLETIN)
    new = write(tmp_path / "q.ttl", quoted(digest, "z" * 500))
    proc = cptkg(home, "validate", str(new), env={"CPTKG_SOURCES": str(folder)})
    assert proc.returncode == 1
    assert "z" * 79 + "…" in proc.stdout and "z" * 81 not in proc.stdout


def test_shipped_graph_quotes_are_checked_when_the_source_is_available(home):
    if not (SHARED_SOURCE / "cpt-64866-overview.txt").is_file():
        pytest.skip(
            f"{SHARED_SOURCE} not found: the shared source folder is expected beside the checkout"
        )
    aetna = home / "data" / "policies" / "aetna.ttl"
    text = aetna.read_text(encoding="utf-8")
    aetna.write_text(text.replace("this reconstructive surgery vary", "this surgery vary"), "utf-8")
    env = {"CPTKG_SOURCES": str(SHARED_SOURCE)}
    for engine in ("rdflib", "oxigraph"):
        proc = cptkg(home, "validate", "--engine", engine, env=env)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "intake:quote-in-source" in proc.stdout
        assert "kg:policy-aetna-64866-overview" in proc.stdout


def test_shipped_graph_validation_warns_when_the_source_is_missing(home, tmp_path):
    proc = cptkg(home, "validate", env={"CPTKG_SOURCES": str(tmp_path / "none")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cptkg: warning:" in proc.stderr and "were not checked" in proc.stderr


def test_normalize_collapses_whitespace_only():
    assert normalize("  a\n\tb  c ") == "a b c"
    assert normalize("“a”") == "“a”"
