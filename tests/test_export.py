"""Export: every format round-trips to an isomorphic graph, and output is byte-stable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from cptkg.errors import InputError
from cptkg.export import export
from cptkg.formats import normalize_format
from cptkg.load import load_dataset, union_graph

TRIPLE_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}
ALL_FORMATS = [*TRIPLE_FORMATS, "trig"]

#: blank-node structures rdflib's own JSON-LD serialiser gets wrong (cycles), a list,
#: multi-line and language-tagged literals, a namespace without a bound prefix.
TRICKY_TRIG = """
@prefix ex: <http://example.org/> .
ex:g1 {
  ex:a ex:p [ ex:q 1 ; ex:r [ ex:s "x"@en ] ] ;
       ex:list ( 1 2 "three" ) ;
       ex:d "1.30"^^<http://www.w3.org/2001/XMLSchema#decimal> ;
       <http://other.example/pp> "line one\\n  indented \\"quoted\\" é" .
  _:c1 ex:t _:c2 . _:c2 ex:t _:c1 .
  _:self ex:t _:self .
}
ex:g2 { ex:a ex:p [ ex:q 1 ] . }
ex:top ex:p ex:o .
"""


@pytest.fixture
def tricky(tmp_path):
    f = tmp_path / "tricky.trig"
    f.write_text(TRICKY_TRIG, encoding="utf-8")
    return load_dataset([f], include_ontology=False)


def parse_back(data: bytes, fmt: str):
    if fmt == "trig":
        ds = Dataset()
        ds.parse(data=data, format="trig")
        return ds
    return Graph().parse(data=data, format=TRIPLE_FORMATS[fmt])


def assert_same_dataset(original: Dataset, copy: Dataset) -> None:
    orig_graphs = {g.identifier: g for g in original.graphs() if len(g)}
    copy_graphs = {g.identifier: g for g in copy.graphs() if len(g)}
    assert set(orig_graphs) == set(copy_graphs)
    for gid, g in orig_graphs.items():
        assert isomorphic(g, copy_graphs[gid]), gid


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_round_trip_shipped_graph(shipped_dataset, shipped_union, fmt):
    back = parse_back(export(shipped_dataset, fmt), fmt)
    if fmt == "trig":
        assert_same_dataset(shipped_dataset, back)
    else:
        assert len(back) == len(shipped_union)
        assert isomorphic(back, shipped_union)


@pytest.mark.parametrize("fmt", [*ALL_FORMATS, "nq"])
def test_round_trip_blank_nodes_lists_and_literals(tricky, fmt):
    data = export(tricky, fmt)
    if fmt in ("trig", "nq"):
        back = Dataset()
        back.parse(data=data, format="trig" if fmt == "trig" else "nquads")
        assert_same_dataset(tricky, back)
    else:
        assert isomorphic(parse_back(data, fmt), union_graph(tricky))


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_export_is_deterministic_in_process(tricky, fmt):
    assert export(tricky, fmt) == export(tricky, fmt)


def test_trig_has_one_block_per_source_file(shipped_dataset):
    back = parse_back(export(shipped_dataset, "trig"), "trig")
    ids = {str(g.identifier) for g in back.graphs() if len(g)}
    assert "https://w3id.org/cptkg/graph/ontology/cptkg" in ids
    assert any(i.startswith("https://w3id.org/cptkg/graph/data/") for i in ids)


def test_turtle_uses_project_prefixes(shipped_dataset):
    text = export(shipped_dataset, "ttl").decode()
    assert "@prefix cptkg: <https://w3id.org/cptkg/ontology#> ." in text
    assert "@prefix kg: <https://w3id.org/cptkg/id/> ." in text


def test_plain_graph_exports_too():
    g = Graph()
    g.add((URIRef("http://example.org/a"), URIRef("http://example.org/p"), URIRef("http://x/")))
    assert export(g, "nt") == b"<http://example.org/a> <http://example.org/p> <http://x/> .\n"
    assert isomorphic(union_graph(parse_back(export(g, "trig"), "trig")), g)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("ttl", "turtle"),
        ("Turtle", "turtle"),
        ("ntriples", "nt"),
        ("json-ld", "json-ld"),
        ("jsonld", "json-ld"),
        ("trig", "trig"),
    ],
)
def test_format_aliases(alias, canonical):
    assert normalize_format(alias) == canonical


def test_unknown_format_lists_valid_ones():
    with pytest.raises(InputError, match="unknown export format 'rdfxml'") as exc:
        export(Graph(), "rdfxml")
    for name in ("ttl", "nt", "jsonld", "trig"):
        assert name in exc.value.hint


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_cli_export_identical_across_processes(run_cli, fmt):
    """Two separate processes with different hash seeds give identical bytes."""
    first = run_cli("export", "--format", fmt, env={"PYTHONHASHSEED": "1"}, text=False)
    second = run_cli("export", "--format", fmt, env={"PYTHONHASHSEED": "2"}, text=False)
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout) > 1000


def test_cli_export_to_file_is_atomic_and_equal_to_stdout(run_cli, tmp_path):
    out = tmp_path / "graph.nt"
    out.write_text("old content\n")
    proc = run_cli("export", "--format", "nt", "-o", str(out), text=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    assert out.read_bytes() == run_cli("export", "--format", "nt", text=False).stdout
    assert [p.name for p in tmp_path.iterdir()] == ["graph.nt"]  # no temp file left


def test_cli_export_to_missing_directory_fails_cleanly(run_cli, tmp_path):
    proc = run_cli("export", "-o", str(tmp_path / "no" / "such" / "dir.ttl"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("cptkg: error:")
    assert "Traceback" not in proc.stderr


def test_python_dash_m_and_console_script_agree(project_root):
    """The installed ``cptkg`` script runs the same main() as ``python -m cptkg``."""
    script = os.path.join(os.path.dirname(sys.executable), "cptkg")
    if not os.path.exists(script):
        pytest.skip("console script not installed next to the interpreter")
    a = subprocess.run([script, "export", "-f", "nt"], cwd=project_root, capture_output=True)
    b = subprocess.run(
        [sys.executable, "-m", "cptkg", "export", "-f", "nt"], cwd=project_root, capture_output=True
    )
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout
