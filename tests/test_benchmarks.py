"""The benchmarks in ``benchmarks/`` run (tiny scale; the figures themselves are not asserted)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from cptkg.load import shipped_files

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_script(name: str) -> ModuleType:
    """A benchmark script imported as a module (it lives outside the package)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_intake_smoke(capsys):
    bench_intake = load_script("bench_intake")
    assert bench_intake.main(["--scale", "3", "--runs", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["big_triples"] >= 3 * doc["shipped_triples"] * 0.99


def test_bench_runs_as_a_script_from_anywhere(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--sizes" in proc.stdout


def test_bench_child_processes_measure_the_shipped_graph(tmp_path):
    """The driver's child-process call: each engine measured in its own process."""
    bench = load_script("bench")
    new_file = tmp_path / "new-policy.ttl"
    new_file.write_text(bench.NEW_POLICY, encoding="utf-8")
    files = [str(f) for f in shipped_files()]
    common = ["--files", *files, "--repeat", "1", "--workdir", str(tmp_path)]
    raw = bench.run_child("raw", common)
    assert "error" not in raw, raw.get("error")
    ours = bench.run_child("oxigraph", [*common, "--new-file", str(new_file)])
    assert "error" not in ours, ours.get("error")
    assert set(raw["queries"]) == set(ours["queries"]) and len(ours["queries"]) >= 20
    assert ours["triples"] > 1000 and ours["new_file"] > 0
    assert set(ours["paired"]) == set(ours["queries"])
    assert all(v["cptkg"] > 0 and v["raw"] > 0 for v in ours["paired"].values())
    assert bench.over_target(0.020, 0.010) and not bench.over_target(0.014, 0.010)
    assert not bench.over_target(0.004, 0.001)  # 4x, but within 5 ms


def test_bench_store_compares_a_loaded_store_with_memory(tmp_path):
    from scale_helpers import generate_small

    res = generate_small(tmp_path, codes=2, payers=2, versions=2)
    out = tmp_path / "store.json"
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_store.py"), "--graph", str(res.path)]
        + ["--store", str(tmp_path / "store"), "--runs", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["memory"]["queries"] > 0 and doc["store"]["queries"] > 0
    assert doc["memory"]["scan"] > 0 and doc["store"]["scan"] > 0
    assert doc["runs"]["store"][0]["results"] == doc["runs"]["memory"][0]["results"]


def test_cold_start_times_the_three_commands_paired():
    cold_start = load_script("cold_start")
    times = cold_start.measure(1, "data-change")
    assert set(times) == {"import rdflib", "cptkg query payer-matrix", "cptkg validate"}
    assert all(len(v) == 1 and v[0].wall > 0 and v[0].cpu > 0 for v in times.values())
    table = cold_start.summary(times)
    assert table["import rdflib"]["ratio_cpu"] == 1.0


def test_cold_start_runs_a_baseline_tree_in_the_same_rounds():
    cold_start = load_script("cold_start")
    src = Path(cold_start.__file__).resolve().parent.parent / "src"
    times = cold_start.measure(1, "result-miss", baseline=src)
    baseline = {"cptkg query payer-matrix (baseline)", "cptkg validate (baseline)"}
    assert set(times) == {"import rdflib", "cptkg query payer-matrix", "cptkg validate"} | baseline
    assert all(len(v) == 1 and v[0].cpu > 0 for v in times.values())
    commands = cold_start.commands(src, Path("/c"))
    assert commands["cptkg validate (baseline)"][1] == {
        "PYTHONPATH": str(src),
        "CPTKG_CACHE_DIR": "/c",
    }
    assert commands["cptkg validate"][1] == {}


def test_bench_intake_new_data_smoke(capsys):
    bench_intake = load_script("bench_intake")
    args = ["--new-data", "--rows", "3", "--triples", "40", "--runs", "1", "--json"]
    assert bench_intake.main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["rows"] for r in doc["import_csv"]] == [3]
    assert [r["engine"] for r in doc["validate_nt"]] == ["rdflib", "oxigraph"]
    assert all(r["triples"] >= 40 and r["policies"] == 2 for r in doc["validate_nt"])
    assert len(doc["load_before"]) == len(doc["load_after"]) == 3


def test_bench_query_parts_smoke(capsys):
    """Both splits are measured and every query left beside the scan is listed, the
    SHACL-SPARQL constraints among them."""
    bench = load_script("bench_query_parts")
    assert bench.main(["--size", "10k", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "| logic scanned |" in out and "| logic queried |" in out
    listed = [line for line in out.splitlines() if line.startswith("| sh:")]
    assert any("sh:SPARQLConstraintComponent (shape:PolicyDatesShape-order)" in x for x in listed)
    assert not any("sh:OrConstraintComponent" in x for x in listed)  # scanned
