"""A seeded, bounded fuzz of ``cptkg add``: mutants of the valid intake fixtures (a triple
dropped, a datatype changed, an IRI swapped, a date broken, an identifier duplicated, a control
character inserted, a language tag malformed, ...) each go through the command line's entry
point (:func:`cptkg.cli.main`, in this process so that 60 mutants stay within a minute) against
a scratch copy of the project. For every mutant: no traceback and no internal error, an exit
code of the documented contract (0 added, 1 does not conform, 2 refused input), and data/
byte-identical after every refused add (an accepted add is undone before the next mutant)."""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cptkg.cli import main
from intake_helpers import INTAKE, ROOT, copy_project, tree_digest

SEED = 11
COUNT = 60
FIXTURES = [
    INTAKE / "valid-policy.ttl",
    INTAKE / "revised-policy.ttl",
    ROOT / "tests" / "data" / "valid" / "payer-policy-single-answers.ttl",
    ROOT / "tests" / "data" / "valid" / "payer-policy-silent-source.ttl",
]
BAD_DATES = ["2025-02-30", "2025-13-01", "2025-1-1", "", "yesterday", "2025-01-01T00:00:00"]
UNSAFE = ["\\u0000", "\\u001b[31m", "\\u202e", "\\u200b", "\\u2067", "\\u0085", "\\ud800"]
BAD_TAGS = ["@123", "@en-", "@-en", "@e_n", "@en--gb", "@"]
IRIS = [
    "kg:cpt-99999",
    "kg:payer-nobody",
    "kg:pos-99",
    "kg:icd10cm-Z99.99",
    "cptkg:coverage-maybe",
    "kg:source-overview",
    "<http://example.org/x>",
    "kg:policy-aetna-cpb-0366",
]
DATATYPES = ["xsd:integer", "xsd:string", "xsd:dateTime", "xsd:boolean", "rdf:langString"]


def _property_lines(lines: list[str]) -> list[int]:
    """Indexes of the lines that hold one ``property value ;`` of a subject block."""
    return [i for i, t in enumerate(lines) if t.startswith("    ") and t.rstrip().endswith(";")]


def drop_triple(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    del lines[rng.choice(_property_lines(lines))]
    return "\n".join(lines) + "\n"


def change_datatype(text: str, rng: random.Random) -> str:
    typed = re.findall(r'"[^"\n]*"\^\^xsd:\w+', text)
    if typed:
        old = rng.choice(typed)
        return text.replace(old, old.rsplit("^^", 1)[0] + "^^" + rng.choice(DATATYPES), 1)
    return text.replace(" true ", ' "true" ', 1)


def swap_iri(text: str, rng: random.Random) -> str:
    values = re.findall(r"(?<=[ ,]) ?(kg:[\w.-]+|cptkg:[\w-]+)(?= [;,.])", text)
    old = rng.choice(values)
    return re.sub(rf"(?<=[ ,]){re.escape(old)}(?= [;,.])", rng.choice(IRIS), text, count=1)


def break_date(text: str, rng: random.Random) -> str:
    dates = re.findall(r'"\d{4}-\d{2}-\d{2}"', text)
    if not dates:
        added = f' ;\n    cptkg:effectiveDate "{rng.choice(BAD_DATES)}"^^xsd:date ;\n'
        return text.replace(" ;\n", added, 1)
    return text.replace(rng.choice(dates), f'"{rng.choice(BAD_DATES)}"', 1)


def duplicate_id(text: str, rng: random.Random) -> str:
    ident = re.search(r'dcterms:identifier "([^"]*)"', text)
    if ident is None:
        return text
    if rng.random() < 0.5:  # an identifier the graph already has
        return text.replace(ident.group(0), 'dcterms:identifier "aetna-cpb-0366"', 1)
    block = text[text.index("\nkg:") + 1 :]
    twin = re.sub(r"^kg:([\w.-]+)", r"kg:\1-twin", block, count=1)
    return text + "\n" + twin


def insert_control(text: str, rng: random.Random) -> str:
    literals = [m.start() + 1 for m in re.finditer(r' "[^"\n]{2,}"', text)]
    at = rng.choice(literals) + 1
    return text[:at] + rng.choice(UNSAFE) + text[at:]


def malform_tag(text: str, rng: random.Random) -> str:
    if '"@en' not in text:
        text = text.replace('" ;', '"@en ;', 1)
    return text.replace('"@en', '"' + rng.choice(BAD_TAGS), 1)


def truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) // 3, len(text))]


MUTATIONS: list[Callable[[str, random.Random], str]] = [
    drop_triple,
    change_datatype,
    swap_iri,
    break_date,
    duplicate_id,
    insert_control,
    malform_tag,
    truncate,
]


def mutants() -> list[tuple[str, str]]:
    """(name, Turtle text) of :data:`COUNT` seeded mutants; every mutation kind is used."""
    rng = random.Random(SEED)
    texts = {f: f.read_text(encoding="utf-8") for f in FIXTURES}
    out = []
    for n in range(COUNT):
        fixture = FIXTURES[n % len(FIXTURES)]
        mutate = MUTATIONS[n % len(MUTATIONS)]
        text = texts[fixture]
        for _ in range(1 + (rng.random() < 0.3)):  # now and then two mutations at once
            text = mutate(text, rng)
            mutate = rng.choice(MUTATIONS)
        out.append((f"{n:02d}-{fixture.stem}-{MUTATIONS[n % len(MUTATIONS)].__name__}", text))
    return out


MUTANTS = mutants()


def test_the_mutants_differ_from_their_fixture_and_from_each_other():
    texts = [t for _n, t in MUTANTS]
    originals = {f.read_text(encoding="utf-8") for f in FIXTURES}
    assert len(texts) == COUNT and not originals & set(texts)
    assert len(set(texts)) > COUNT * 0.75


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """A scratch copy of the project, a pristine copy of its data/, and data/'s digest."""
    base = tmp_path_factory.mktemp("fuzz")
    home = copy_project(base / "project")
    pristine = base / "pristine-data"
    shutil.copytree(home / "data", pristine)
    return home, pristine, tree_digest(home / "data")


@pytest.mark.parametrize(("name", "text"), MUTANTS, ids=[n for n, _t in MUTANTS])
def test_mutant_add_keeps_the_contract(project, tmp_path, monkeypatch, capsys, name, text):
    home, pristine, digest = project
    monkeypatch.setenv("CPTKG_HOME", str(home))
    for var in ("CPTKG_SOURCES", "CPTKG_DEBUG", "CPTKG_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    new = tmp_path / f"{name}.ttl"
    new.write_text(text, encoding="utf-8", errors="surrogatepass")
    code = main(["add", "--allow-illustrative", str(new)])
    out, err = capsys.readouterr()
    try:
        assert code in (0, 1, 2), out + err
        assert "Traceback" not in err and "internal error" not in err, err
        if code != 0:
            assert tree_digest(home / "data") == digest, f"refused add ({code}) changed data/"
    finally:
        if tree_digest(home / "data") != digest:  # an accepted add: undo it
            shutil.rmtree(home / "data")
            shutil.copytree(pristine, home / "data")
