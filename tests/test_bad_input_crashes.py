"""Bad input never crashes and never half-writes: lone surrogates, over-long identifiers,
ill-typed dates, endless streams, byte-order marks, staging leftovers and external JSON-LD
contexts each end in a clear message naming the file (exit 1 or 2), never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intake_helpers import INTAKE, copy_project, run_cptkg, tree_digest

VALID = (INTAKE / "valid-policy.ttl").read_text(encoding="utf-8")
ID = '"example-cigna-64866"'


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def cptkg(home: Path, *args: str):
    if args and args[0] == "add":  # the intake fixtures are illustrative records
        args = (*args, "--allow-illustrative")
    return run_cptkg(*args, env={"CPTKG_HOME": str(home)})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return next(n for n, t in enumerate(text.splitlines(), start=1) if needle in t)


def test_add_refuses_identifier_with_lone_surrogate_and_writes_nothing(home, tmp_path):
    text = VALID.replace(ID, '"example-\\ud800-64866"')
    new = write(tmp_path / "surrogate-id.ttl", text)
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", str(new))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"surrogate-id.ttl:{line_of(text, 'ud800')}:" in proc.stderr
    assert "\\ud800" in proc.stderr and "nothing written" in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert tree_digest(home / "data") == before


def test_add_refuses_label_with_lone_surrogate_instead_of_altering_it(home, tmp_path):
    text = VALID.replace('rdfs:label "', 'rdfs:label "x\\uDC00y', 1)
    new = write(tmp_path / "surrogate-label.ttl", text)
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", str(new))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"surrogate-label.ttl:{line_of(text, 'uDC00')}:" in proc.stderr
    assert "\\udc00" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree_digest(home / "data") == before


def test_add_of_300_character_identifier_writes_a_bounded_file_name(home, tmp_path):
    new = write(tmp_path / "long-id.ttl", VALID.replace(ID, '"' + "a" * 300 + '"'))
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", str(new))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    added = set(tree_digest(home / "data")) - set(before)
    assert len(added) == 1
    name = Path(added.pop()).name
    assert name.startswith("cigna-aaaa") and len(name.encode()) <= 255
    assert "a" * 300 in (home / "data" / "policies" / name).read_text(encoding="utf-8")


def test_add_of_one_megabyte_identifier_never_fails_on_the_file_name(home, tmp_path):
    new = write(tmp_path / "huge-id.ttl", VALID.replace(ID, '"' + "b" * 1_000_000 + '"'))
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", "--dry-run", str(new))
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "File name too long" not in proc.stderr
    assert tree_digest(home / "data") == before


@pytest.mark.parametrize(
    ("engine", "date"),
    [
        ("rdflib", "2024-02-30"),
        ("rdflib", "2024-13-01"),
        ("rdflib", "2025-1-1"),
        ("rdflib", ""),
        ("oxigraph", "2024-02-30"),
    ],
)
def test_validate_data_file_with_invalid_date_prints_no_traceback(home, engine, date):
    text = VALID.replace('"2025-01-01"^^xsd:date', f'"{date}"^^xsd:date', 1)
    assert text != VALID
    write(home / "data" / "policies" / "bad-date.ttl", text)
    proc = cptkg(home, "validate", "--engine", engine)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Failed to convert" not in proc.stderr
    assert "effectiveDate" in proc.stdout
    if engine == "rdflib":
        line = line_of(text, f'"{date}"^^xsd:date')
        assert f'data/policies/bad-date.ttl:{line}: "{date}" is not a valid xsd:date' in (
            proc.stderr
        )


def test_validate_of_link_to_endless_device_is_refused(home, tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    link = tmp_path / "endless.ttl"
    os.symlink("/dev/zero", link)
    proc = cptkg(home, "validate", str(link))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "endless.ttl: not a regular file" in proc.stderr
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr


def test_validate_refuses_file_growing_past_limit_while_read(tmp_path):
    from cptkg.errors import InputError
    from cptkg.load import parse_file

    big = write(tmp_path / "big.nt", "<http://e/a> <http://e/p> <http://e/o> .\n" * 100)
    with pytest.raises(InputError, match="big.nt: larger than"):
        parse_file(big, max_bytes=1000)


def test_turtle_with_byte_order_mark_is_accepted(home, tmp_path):
    new = tmp_path / "bom.ttl"
    new.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    proc = cptkg(home, "validate", str(new))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "bom.ttl: 27 triple(s)" in proc.stdout


def test_add_removes_staging_files_left_by_killed_adds(home):
    staging = home / ".cptkg" / "staging"
    staging.mkdir(parents=True)
    leftover = staging / ".cigna-example-cigna-64866-2025-01-01.abc123.tmp.ttl"
    leftover.write_text("# half-written by a killed add\n", encoding="utf-8")
    proc = cptkg(home, "add", str(INTAKE / "valid-policy.ttl"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(staging.iterdir()) == []


@pytest.mark.parametrize(
    "context",
    [
        '"http://127.0.0.1:9/context.jsonld"',
        '[{"ex": "http://example.org/"}, "file:///etc/passwd"]',
        '{"@import": "https://example.org/ctx.jsonld"}',
    ],
)
def test_jsonld_with_external_context_is_refused_without_fetching(home, tmp_path, context):
    doc = write(
        tmp_path / "policy.jsonld",
        '{\n  "@context": ' + context + ',\n  "@id": "http://example.org/a",\n'
        '  "http://example.org/p": "x"\n}\n',
    )
    proc = cptkg(home, "validate", str(doc))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "policy.jsonld:2: JSON-LD @context refers to the external document" in proc.stderr
    assert "never fetched" in proc.stderr and "Traceback" not in proc.stderr


def test_validate_refuses_label_with_lone_surrogate_like_add(home, tmp_path):
    text = VALID.replace('rdfs:label "', 'rdfs:label "x\\uDC00y', 1)
    new = write(tmp_path / "surrogate-label.ttl", text)
    proc = cptkg(home, "validate", str(new))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"surrogate-label.ttl:{line_of(text, 'uDC00')}:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_malformed_language_tag_in_a_data_file_names_file_and_line(home):
    text = VALID.replace('"@en', '"@123', 1)
    assert text != VALID
    write(home / "data" / "policies" / "bad-tag.ttl", text)
    proc = cptkg(home, "validate")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    line = line_of(text, '"@123')
    assert f"data/policies/bad-tag.ttl:{line}: malformed language tag '123'" in proc.stderr
    assert "intake:language-tag" in proc.stderr
