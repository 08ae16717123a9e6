"""The synthetic graph generator: conforming by construction, deterministic, streaming, and
its seeded violations are exactly the ones pySHACL reports (listed in the manifest)."""

from __future__ import annotations

import io
import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from cptkg.generate import CODE_KINDS, POLICY_KINDS, SYN, generate, manifest_path_for
from cptkg.load import load_dataset, union_graph
from cptkg.namespaces import CPTKG
from cptkg.shacl.pyshacl_runner import validate
from scale_helpers import finding_keys, generate_small


def _with_shipped(shipped_union: Graph, path) -> Graph:
    data = Graph()
    data += shipped_union
    data += union_graph(load_dataset([path], include_ontology=False))
    return data


def test_generated_graph_conforms_under_pyshacl(tmp_path, shipped_union):
    res = generate_small(tmp_path, codes=3, payers=3, versions=2)
    assert res.triples > 300 and res.expected == []
    result = validate(_with_shipped(shipped_union, res.path))
    assert result.conforms, result.to_text()
    assert result.results == []


def test_every_synthetic_resource_is_marked_and_namespaced(tmp_path):
    res = generate_small(tmp_path, codes=3, payers=2, versions=2)
    g = Graph().parse(res.path, format="nt")
    assert len(g) == res.triples
    subjects = set(g.subjects())
    assert subjects and all(str(s).startswith(SYN) for s in subjects)
    marked = set(g.subjects(CPTKG.synthetic, Literal(True, datatype=XSD.boolean)))
    assert marked == subjects
    assert len(set(g.subjects(None, CPTKG.PayerPolicy))) == 3 * 2 * 2


def test_deterministic_for_a_seed(tmp_path):
    a = generate(tmp_path / "a.nt", codes=3, payers=3, versions=2, seed=5, invalid_rate=0.3)
    b = generate(tmp_path / "b.nt", codes=3, payers=3, versions=2, seed=5, invalid_rate=0.3)
    c = generate(tmp_path / "c.nt", codes=3, payers=3, versions=2, seed=6, invalid_rate=0.3)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.path.read_bytes() != c.path.read_bytes()


def test_turtle_and_ntriples_hold_the_same_graph(tmp_path):
    nt = generate_small(tmp_path, rate=0.2, fmt="nt")
    ttl = generate_small(tmp_path, rate=0.2, fmt="ttl")
    g1 = Graph().parse(nt.path, format="nt")
    g2 = Graph().parse(ttl.path, format="turtle")
    assert len(g1) == nt.triples == ttl.triples
    assert isomorphic(g1, g2)


def test_seeded_violations_match_the_manifest(tmp_path, shipped_union):
    res = generate_small(tmp_path, rate=0.2)
    manifest = json.loads(manifest_path_for(res.path).read_text())
    kinds = {e["kind"] for e in manifest["expected"]}
    assert kinds == set(POLICY_KINDS) | set(CODE_KINDS), "every kind of violation is seeded"
    expected = {
        (
            URIRef(e["focus_node"]),
            URIRef(e["path"]) if e["path"] else None,
            URIRef(e["source_shape"]),
            e["severity"],
        )
        for e in manifest["expected"]
    }
    result = validate(_with_shipped(shipped_union, res.path))
    assert finding_keys(result) == expected
    assert not result.conforms


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path / "x.nt", codes=0)
    with pytest.raises(ValueError):
        generate(tmp_path / "x.nt", invalid_rate=1.5)


def test_cli_generate_writes_graph_and_manifest(tmp_path, capsys):
    from cptkg.cli import main

    out = tmp_path / "g.ttl"
    rc = main(["generate", "--codes", "2", "--payers", "2", "--versions", "2", "-o", str(out)])
    assert rc == 0
    assert out.is_file() and manifest_path_for(out).is_file()
    assert len(Graph().parse(out)) == json.loads(manifest_path_for(out).read_text())["triples"]
    err = capsys.readouterr().err
    assert "triples" in err and "\r" not in err  # no progress bar when stderr is not a TTY


def test_progress_is_silent_when_not_a_terminal():
    from cptkg.progress import Progress

    buf = io.StringIO()
    with Progress("work", total=10, stream=buf) as bar:
        for _ in range(10):
            bar.update()
    assert buf.getvalue() == ""


def test_progress_draws_when_forced(monkeypatch):
    from cptkg.progress import Progress

    monkeypatch.setenv("CPTKG_PROGRESS", "1")
    buf = io.StringIO()
    with Progress("work", total=4, unit="items", stream=buf) as bar:
        bar.update(4)
    assert "work" in buf.getvalue() and "100.0%" in buf.getvalue()
