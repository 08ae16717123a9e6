"""Loading: one named graph per source file, clear errors with file:line on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, URIRef

from cptkg import paths
from cptkg.errors import CptkgError, InputError, ParseError
from cptkg.load import (
    expand_paths,
    load_dataset,
    load_ontology,
    parse_file,
    union_graph,
)
from cptkg.namespaces import GRAPH_BASE

EX = "http://example.org/"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def named_graph_ids(ds: Dataset) -> set[str]:
    return {str(g.identifier) for g in ds.graphs() if len(g)}


# --------------------------------------------------------------------- shipped graph


def test_shipped_graph_has_one_named_graph_per_source_file(shipped_dataset, project_root):
    data_files = sorted((project_root / "data").rglob("*.ttl"))
    data_files = [f for f in data_files if "templates" not in f.relative_to(project_root).parts]
    assert data_files, "no data/**/*.ttl file: the shipped graph would be empty"
    expected = {GRAPH_BASE + "ontology/cptkg"} | {
        GRAPH_BASE + f.relative_to(project_root).with_suffix("").as_posix() for f in data_files
    }
    assert named_graph_ids(shipped_dataset) == expected


def test_each_named_graph_matches_its_file(shipped_dataset, project_root):
    for f in paths.data_files():
        g = shipped_dataset.graph(URIRef(paths.graph_iri(f)))
        assert len(g) == len(Graph().parse(f, format="turtle")), f


def test_union_graph_is_plain_graph_with_all_triples(shipped_dataset, shipped_union):
    assert type(shipped_union) is Graph
    distinct = {(s, p, o) for s, p, o, _ in shipped_dataset.quads((None, None, None, None))}
    assert len(shipped_union) == len(distinct) > 0
    # SPARQL UPDATE works on the union (rdflib's Dataset.update does not)
    g = Graph()
    g += shipped_union
    g.update(f'INSERT DATA {{ <{EX}a> <{EX}b> "c" }}')
    assert (URIRef(EX + "a"), URIRef(EX + "b"), Literal("c")) in g


def test_load_ontology_is_only_the_ontology_file(project_root):
    g = load_ontology()
    assert len(g) == len(Graph().parse(project_root / "ontology" / "cptkg.ttl"))


def test_templates_are_excluded(tmp_path, monkeypatch):
    write(tmp_path / "ontology" / "cptkg.ttl", f"<{EX}o> a <{EX}Ontology> .\n")
    write(tmp_path / "data" / "a.ttl", f"<{EX}a> <{EX}p> 1 .\n")
    write(tmp_path / "data" / "policies" / "x.ttl", f"<{EX}x> <{EX}p> 2 .\n")
    write(tmp_path / "data" / "templates" / "policy.ttl", f"<{EX}t> <{EX}p> 3 .\n")
    monkeypatch.setenv("CPTKG_HOME", str(tmp_path))
    assert paths.project_root() == tmp_path.resolve()
    ds = load_dataset()
    assert named_graph_ids(ds) == {
        GRAPH_BASE + "ontology/cptkg",
        GRAPH_BASE + "data/a",
        GRAPH_BASE + "data/policies/x",
    }
    # walking the data directory explicitly skips templates too
    assert [p.name for p in expand_paths([tmp_path / "data"])] == ["a.ttl", "x.ttl"]


def test_bad_cptkg_home_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CPTKG_HOME", str(tmp_path))
    with pytest.raises(CptkgError, match="CPTKG_HOME") as exc:
        paths.project_root()
    assert exc.value.hint


# --------------------------------------------------------------------- given files


def test_external_file_gets_external_graph_iri(tmp_path):
    f = write(tmp_path / "new-policy.ttl", f"<{EX}a> <{EX}p> <{EX}b> .\n")
    ds = load_dataset([f], include_ontology=False)
    assert named_graph_ids(ds) == {GRAPH_BASE + "external/new-policy"}


def test_given_files_are_loaded_with_the_ontology_by_default(tmp_path):
    f = write(tmp_path / "x.ttl", f"<{EX}a> <{EX}p> <{EX}b> .\n")
    ds = load_dataset([f])
    assert named_graph_ids(ds) == {GRAPH_BASE + "external/x", GRAPH_BASE + "ontology/cptkg"}


def test_all_formats_by_extension(tmp_path):
    files = [
        write(tmp_path / "a.ttl", f"<{EX}a> <{EX}p> 1 .\n"),
        write(tmp_path / "b.nt", f'<{EX}b> <{EX}p> "x" .\n'),
        write(tmp_path / "c.jsonld", f'{{"@id": "{EX}c", "{EX}p": "y"}}'),
        write(tmp_path / "d.json", f'{{"@id": "{EX}d", "{EX}p": "z"}}'),
    ]
    ds = load_dataset(files, include_ontology=False)
    assert named_graph_ids(ds) == {GRAPH_BASE + f"external/{n}" for n in "abcd"}
    assert len(union_graph(ds)) == 4


def test_trig_and_nquads_keep_their_graphs(tmp_path):
    trig = write(
        tmp_path / "q.trig",
        f"<{EX}g1> {{ <{EX}a> <{EX}p> 1 }}\n<{EX}top> <{EX}p> 2 .\n",
    )
    nq = write(tmp_path / "r.nq", f'<{EX}a> <{EX}p> "3" <{EX}g2> .\n')
    ds = load_dataset([trig, nq], include_ontology=False)
    # named graphs kept; default-graph triples of the TriG file go to the file's graph
    assert named_graph_ids(ds) == {EX + "g1", EX + "g2", GRAPH_BASE + "external/q"}


def test_directory_is_walked(tmp_path):
    write(tmp_path / "d" / "one.ttl", f"<{EX}a> <{EX}p> 1 .\n")
    write(tmp_path / "d" / "sub" / "two.nt", f'<{EX}b> <{EX}p> "2" .\n')
    write(tmp_path / "d" / "README.md", "not rdf")
    ds = load_dataset([tmp_path / "d"], include_ontology=False)
    assert named_graph_ids(ds) == {GRAPH_BASE + "external/one", GRAPH_BASE + "external/two"}


def test_empty_file_loads_as_empty_graph(tmp_path):
    f = write(tmp_path / "empty.ttl", "")
    assert len(union_graph(load_dataset([f], include_ontology=False))) == 0
    assert len(parse_file(f)) == 0


# --------------------------------------------------------------------- errors


def test_missing_path_is_input_error_naming_it(tmp_path):
    missing = tmp_path / "nope.ttl"
    with pytest.raises(InputError, match="nope.ttl: no such file"):
        load_dataset([missing], include_ontology=False)
    with pytest.raises(InputError, match="nope.ttl"):
        parse_file(missing)


def test_unknown_extension_is_input_error(tmp_path):
    f = write(tmp_path / "x.rdfx", "whatever")
    with pytest.raises(InputError, match="unknown RDF file format") as exc:
        load_dataset([f], include_ontology=False)
    assert ".ttl" in exc.value.hint


@pytest.mark.parametrize(
    ("name", "text", "line", "fmt"),
    [
        ("bad.ttl", f"@prefix ex: <{EX}> .\n\nex:a ex:b ex:c ;\n  ex:d .\n", 4, "Turtle"),
        ("unbound.ttl", f"<{EX}a> <{EX}b> 1 .\nzz:a <{EX}b> 2 .\n", 2, "Turtle"),
        ("bad.nt", f"<{EX}a> <{EX}b> <{EX}c> .\n\n<{EX}a> <{EX}b> .\n", 3, "N-Triples"),
        ("bad.jsonld", '{\n  "@id": "http://example.org/a",\n  "x": \n}\n', 4, "JSON-LD"),
        ("bad.trig", f"<{EX}g> {{\n <{EX}a> <{EX}b> }}\n", 2, "TriG"),
    ],
)
def test_syntax_error_reports_file_and_line(tmp_path, name, text, line, fmt):
    f = write(tmp_path / name, text)
    with pytest.raises(ParseError) as exc:
        load_dataset([f], include_ontology=False)
    err = exc.value
    assert err.line == line
    assert f"{name}:{line}: {fmt} syntax error" in err.message
    assert err.hint


def test_non_utf8_file_is_parse_error(tmp_path):
    f = tmp_path / "latin1.ttl"
    f.write_bytes(f'<{EX}a> <{EX}b> "caf'.encode() + b"\xe9" + b'" .\n')
    with pytest.raises(ParseError, match="UTF-8"):
        parse_file(f)
