"""benchmarks/bench_validate_scale.py runs (tiny scale; its figures are not asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from cptkg.load import shipped_files

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_validate_scale", BENCHMARKS / "bench_validate_scale.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_child_measures_grouped_and_per_constraint_validation():
    bench = _script()
    out = bench.run_child([str(f) for f in shipped_files()])
    assert "error" not in out, out.get("error")
    assert out["triples"] > 1000
    assert 0 < out["queries"] < out["per_constraint_query_count"] == out["constraints"]
    assert out["results"] == out["per_constraint_rows"] == 0  # the shipped graph conforms
    whats = ("bulk_load", "load", "validate", "validate_without_scan", "per_constraint_queries")
    for what in (*whats, "turtle_report"):
        assert out[what]["wall"] > 0 and out[what]["cpu"] >= 0
    assert out["scan_agrees"] and 0 < out["scanned"] < out["constraints"]
