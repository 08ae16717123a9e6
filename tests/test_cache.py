"""The result cache (cptkg.cache) never serves a stale answer: one byte changed in a data file,
a query file or a shape gives the new result on the next run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from cptkg import cache
from cptkg.engines.base import SelectResult
from intake_helpers import ROOT, copy_project, run_cptkg


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory) -> Path:
    """One cache directory for the module (the code-system index is built once)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def project(tmp_path) -> Path:
    home = copy_project(tmp_path / "home")
    shutil.copytree(ROOT / "queries", home / "queries")
    return home


def _run(home: Path, cache_home: Path, *args: str, **env: str):
    return run_cptkg(
        *args, env={"CPTKG_HOME": str(home), "CPTKG_CACHE_DIR": str(cache_home), **env}
    )


def _entries(cache_home: Path, kind: str) -> list[Path]:
    return sorted((cache_home / "results").glob(f"{kind}-*.json"))


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_query_result_is_cached_and_renewed_when_a_data_file_changes(project, cache_home):
    first = _run(project, cache_home, "query", "payer-matrix", "-f", "csv")
    assert first.returncode == 0, first.stderr
    assert len(_entries(cache_home, "query")) == 1
    again = _run(project, cache_home, "query", "payer-matrix", "-f", "csv")
    assert again.stdout == first.stdout
    # the cached answer is what is printed: a forged entry with the same inputs shows up
    entry = _entries(cache_home, "query")[0]
    data = json.loads(entry.read_text(encoding="utf-8"))
    data["value"]["rows"] = data["value"]["rows"][:1]
    entry.write_text(json.dumps(data), encoding="utf-8")
    forged = _run(project, cache_home, "query", "payer-matrix", "-f", "csv")
    assert len(forged.stdout.splitlines()) == 2

    _replace_once(project / "data" / "payers.ttl", 'rdfs:label "Aetna"', 'rdfs:label "Aetnb"')
    changed = _run(project, cache_home, "query", "payer-matrix", "-f", "csv")
    assert changed.returncode == 0, changed.stderr
    assert "Aetnb" in changed.stdout and "Aetna," not in changed.stdout
    assert len(changed.stdout.splitlines()) == len(first.stdout.splitlines())
    assert len(_entries(cache_home, "query")) == 1  # the entry was replaced, not added


def test_query_result_is_renewed_when_the_query_file_changes(project, cache_home):
    first = _run(project, cache_home, "query", "payer-matrix", "-f", "csv")
    assert first.stdout.startswith("payerName,")
    query = project / "queries" / "payer-matrix.rq"
    query.write_text(
        query.read_text(encoding="utf-8").replace("payerName", "payerNamf"), encoding="utf-8"
    )
    changed = _run(project, cache_home, "query", "payer-matrix", "-f", "csv")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.startswith("payerNamf,")


def test_validation_report_is_renewed_when_data_or_a_shape_changes(project, cache_home):
    ok = _run(project, cache_home, "validate")
    assert ok.returncode == 0, ok.stderr
    assert len(_entries(cache_home, "validate")) == 1
    assert _run(project, cache_home, "validate").stdout == ok.stdout

    _replace_once(
        project / "data" / "policies" / "aetna.ttl",
        "cptkg:coverage cptkg:coverage-conditional",
        "cptkg:coverage cptkg:coverage-conditionaX",
    )
    bad = _run(project, cache_home, "validate")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "coverage-conditionaX" in bad.stdout

    # one byte of the violated constraint's message, as printed, changed in its shape file
    printed = next(
        line.split("[Violation] ", 1)[1].split(" | ", 1)[0]
        for line in bad.stdout.splitlines()
        if "[Violation]" in line
    )
    shape_file, word = next(
        (f, w)
        for f in sorted((project / "ontology" / "shapes").glob("*.ttl"))
        for w in printed.split()
        if len(w) > 4 and w.isalpha() and printed in f.read_text(encoding="utf-8")
    )
    _replace_once(shape_file, printed, printed.replace(word, word[:-1] + "X", 1))
    renamed = _run(project, cache_home, "validate")
    assert renamed.returncode == 1
    assert printed.replace(word, word[:-1] + "X", 1) in renamed.stdout


def test_no_cache_bypasses_it(project, tmp_path):
    home = tmp_path / "nocache"
    run = _run(project, home, "query", "payers", "-f", "csv", CPTKG_NO_CACHE="1")
    assert run.returncode == 0, run.stderr
    assert not (home / "results").exists()


def test_a_run_that_writes_to_stderr_is_not_cached(project, cache_home, tmp_path):
    odd = tmp_path / "odd.ttl"
    odd.write_text(
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        '<http://example.org/a> <http://example.org/b> "x"^^xsd:integer .\n',
        encoding="utf-8",
    )
    home = tmp_path / "warned"
    run = _run(project, home, "query", "payers", "--data", str(odd), "-f", "csv")
    assert run.returncode == 0, run.stderr
    assert "ill-typed" in run.stderr
    assert not list((home / "results").glob("query-*.json"))


def test_select_results_round_trip_term_for_term():
    rows = [
        (URIRef("http://example.org/a"), Literal("x"), Literal("1", datatype=XSD.integer)),
        (BNode("b1"), Literal("hé", lang="fr"), None),
        (None, Literal("s", datatype=XSD.string), Literal("abc", datatype=XSD.integer)),
    ]
    result = SelectResult(["s", "label", "n"], rows)
    back = cache.decode_select(json.loads(json.dumps(cache.encode_select(result))))
    assert back.variables == result.variables
    assert back.rows == result.rows
    for row, orig in zip(back.rows, rows, strict=True):
        for t, o in zip(row, orig, strict=True):
            assert type(t) is type(o)
            if isinstance(o, Literal):
                assert (t.datatype, t.language) == (o.datatype, o.language)


def test_the_key_covers_cptkg_code_and_library_versions():
    versions = cache.distribution_versions(["rdflib", "pyshacl", "no-such-distribution"])
    assert versions["rdflib"] == "7.6.0"
    assert versions["pyshacl"] == "0.40.1"
    assert versions["no-such-distribution"] == "missing"
    assert len(cache.code_digest()) == 64


def test_validation_is_renewed_when_the_quotes_source_document_goes_or_changes(
    project, cache_home, tmp_path
):
    source = ROOT.parent / "shared" / "source" / "cpt-64866-overview.txt"
    if not source.is_file():
        pytest.skip(f"{source} not found: the shared source folder is expected beside the checkout")
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(source, sources / source.name)
    env = {"CPTKG_SOURCES": str(sources)}
    first = _run(project, cache_home, "validate", **env)
    assert first.returncode == 0 and "warning" not in first.stderr, first.stderr
    assert len(_entries(cache_home, "validate")) == 1  # checked against the document: kept

    # the document changed: its SHA-256 no longer matches, the run says so (not served cached)
    (sources / source.name).write_bytes(source.read_bytes() + b"\n")
    changed = _run(project, cache_home, "validate", **env)
    assert "were not checked" in changed.stderr, changed.stderr
    # the document gone: the same warning, again not a cached silence
    (sources / source.name).unlink()
    gone = _run(project, cache_home, "validate", **env)
    assert "were not checked" in gone.stderr, gone.stderr
    # a report served from the cache repeats its warnings
    assert len(_entries(cache_home, "validate")) == 1
    again = _run(project, cache_home, "validate", **env)
    assert again.stderr == gone.stderr and again.stdout == gone.stdout


def test_a_result_computed_while_an_input_changes_is_not_kept(tmp_path, monkeypatch):
    """A file edited while the result is computed: the result may have read either version,
    so nothing is kept under the key made before, and the next read misses."""
    monkeypatch.setenv("CPTKG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CPTKG_NO_CACHE", raising=False)
    data = tmp_path / "data.ttl"
    data.write_text("<urn:a> <urn:b> 1 .\n", encoding="utf-8")

    def compute_while_editing() -> str:
        data.write_text("<urn:a> <urn:b> 2 .\n", encoding="utf-8")
        return "answer"

    key = cache.result_key("test", ["edit"], [data])
    assert cache.cached(key, compute_while_editing, lambda v: v, str) == "answer"
    assert not key.still_current()
    assert cache.read(key) is None
    assert cache.read(cache.result_key("test", ["edit"], [data])) is None
    # unchanged inputs: kept and served
    again = cache.result_key("test", ["edit"], [data])
    assert cache.cached(again, lambda: "kept", lambda v: v, str) == "kept"
    assert cache.read(again) == "kept"


def test_prune_survives_entries_another_process_removed(tmp_path, monkeypatch):
    """Two commands pruning one cache directory: an entry listed by one and deleted by the
    other before it is looked at is not an error (it once made `cptkg validate` fail)."""
    import os
    import time

    from cptkg import diskcache

    for i in range(6):
        (tmp_path / f"{i}.json").write_text("{}", encoding="utf-8")
        stamp = time.time_ns() - (10 - i) * 10**9
        os.utime(tmp_path / f"{i}.json", ns=(stamp, stamp))
    listed = os.scandir

    def racing_scandir(path):  # the other process deletes two entries after they are listed
        entries = list(listed(path))
        (tmp_path / "5.json").unlink()
        (tmp_path / "0.json").unlink()
        return iter(entries)

    monkeypatch.setattr(diskcache.os, "scandir", racing_scandir)
    diskcache.prune(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.json", "4.json"]
