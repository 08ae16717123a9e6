"""An on-disk Oxigraph store (``--store DIR``) is used as it is while loaded from the same
files, and refused (or rebuilt, visibly, when asked) when it was loaded from others."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest

from cptkg.engines.oxigraph_engine import SOURCES_FILE, OxigraphEngine, StoreMismatch
from intake_helpers import INTAKE, ROOT, run_cptkg
from scale_helpers import generate_small


def _open(files: list[Path], store: Path, **kw: bool) -> OxigraphEngine:
    engine = OxigraphEngine.from_paths(files, include_ontology=False, store_dir=store, **kw)
    return engine


@pytest.fixture
def built(tmp_path) -> tuple[Path, Path, int]:
    res = generate_small(tmp_path, codes=2, payers=2, versions=2)
    store = tmp_path / "store"
    engine = _open([res.path], store, progress=False)
    n = len(engine)
    engine.close()
    return res.path, store, n


def test_the_record_names_every_source_with_its_hash(built):
    path, store, _n = built
    record = json.loads((store / SOURCES_FILE).read_text(encoding="utf-8"))
    assert record["cptkg"]
    (entry,) = record["files"]
    assert entry["path"] == str(path.resolve())
    assert len(entry["sha256"]) == 64
    assert entry["size"] == path.stat().st_size


def test_an_unchanged_store_is_used_as_it_is(built, monkeypatch):
    path, store, n = built

    def no_load(*_a, **_k):
        raise AssertionError("the store was loaded again")

    monkeypatch.setattr(OxigraphEngine, "load_file", no_load)
    engine = _open([path], store, progress=False)
    assert len(engine) == n
    engine.close()


def test_a_touched_file_with_the_same_content_is_still_the_same(built, monkeypatch):
    path, store, n = built
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    monkeypatch.setattr(OxigraphEngine, "load_file", lambda *a, **k: pytest.fail("reloaded"))
    engine = _open([path], store, progress=False)
    assert len(engine) == n
    engine.close()
    record = json.loads((store / SOURCES_FILE).read_text(encoding="utf-8"))
    assert record["files"][0]["mtime_ns"] == 1_000_000_000  # brought up to date


def test_a_changed_file_is_refused_even_with_its_size_and_mtime_kept(built):
    path, store, _n = built
    st = path.stat()
    data = bytearray(path.read_bytes())
    i = data.index(b"synthetic")
    data[i] = ord("S")  # one byte, same size
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(StoreMismatch, match="changed since the store was loaded") as err:
        _open([path], store, progress=False)
    assert "--rebuild-store" in (err.value.hint or "")


def test_a_store_of_other_files_is_refused_naming_them(built, tmp_path):
    path, store, _n = built
    other = tmp_path / "other.ttl"
    shutil.copy(INTAKE / "valid-policy.ttl", other)
    with pytest.raises(StoreMismatch) as err:
        _open([other], store, progress=False)
    assert "other.ttl is not in the store" in err.value.message
    assert f"{path.resolve()} is in the store but was not given" in err.value.message


def test_rebuild_clears_and_reloads_with_a_warning(built, tmp_path, caplog):
    _path, store, n = built
    other = tmp_path / "other.ttl"
    shutil.copy(INTAKE / "valid-policy.ttl", other)
    with caplog.at_level(logging.WARNING, logger="cptkg.store"):
        engine = _open([other], store, progress=False, rebuild=True)
    assert 0 < len(engine) < n
    engine.close()
    assert "rebuilding the store" in caplog.text and "other.ttl" in caplog.text
    record = json.loads((store / SOURCES_FILE).read_text(encoding="utf-8"))
    assert [f["path"] for f in record["files"]] == [str(other.resolve())]


def test_a_store_without_a_complete_load_record_is_refused(built):
    path, store, _n = built
    (store / SOURCES_FILE).unlink()  # as an interrupted load leaves it
    with pytest.raises(StoreMismatch, match="no record of a complete load"):
        _open([path], store, progress=False)


def test_a_store_of_another_cptkg_version_is_refused(built):
    path, store, _n = built
    record = store / SOURCES_FILE
    data = json.loads(record.read_text(encoding="utf-8"))
    data["cptkg"] = "0.0.1"
    record.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StoreMismatch, match="loaded by cptkg 0.0.1"):
        _open([path], store, progress=False)


def test_files_added_to_a_store_are_recorded(built, tmp_path):
    path, store, n = built
    extra = tmp_path / "extra.ttl"
    shutil.copy(INTAKE / "valid-policy.ttl", extra)
    engine = _open([path], store, progress=False)
    engine.load([extra])
    engine.close()
    with pytest.raises(StoreMismatch, match="extra.ttl is in the store but was not given"):
        _open([path], store, progress=False)
    engine = _open([path, extra], store, progress=False)
    assert len(engine) > n
    engine.close()


def test_the_cli_refuses_a_store_of_other_files_with_exit_2(tmp_path):
    store = tmp_path / "store"
    first = run_cptkg("query", "payers", "--engine", "oxigraph", "--store", str(store))
    assert first.returncode == 0, first.stderr
    other = tmp_path / "other.ttl"
    shutil.copy(INTAKE / "valid-policy.ttl", other)
    args = ("query", "payers", "--engine", "oxigraph", "--store", str(store))
    args += ("--data", str(ROOT / "data"), "--data", str(other))
    refused = run_cptkg(*args)
    assert refused.returncode == 2
    assert "the store was not loaded from these files" in refused.stderr
    assert "other.ttl is not in the store" in refused.stderr
    assert "--rebuild-store" in refused.stderr
    rebuilt = run_cptkg(*args, "--rebuild-store")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilding the store" in rebuilt.stderr
    again = run_cptkg(*args)  # the rebuilt store is now the store of these files
    assert again.returncode == 0, again.stderr
    assert again.stdout == rebuilt.stdout and "rebuilding" not in again.stderr
