"""The caches a result-cache miss still profits from never serve a stale or foreign entry:
prepared SPARQL queries (cptkg.sparql_cache) and parsed graphs (cptkg.graph_cache). One byte
changed in a query text, a data file, a shape or the ontology gives the new answer; a corrupt
or forged entry is ignored and replaced; ``CPTKG_NO_CACHE=1`` writes nothing."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH

from cptkg import graph_cache, sparql_cache
from cptkg.catalog import load_catalog
from cptkg.engines.base import SelectResult, bind_query
from cptkg.engines.rdflib_engine import RdflibEngine
from cptkg.load import load_ontology, load_shapes, load_union
from cptkg.paths import ontology_file, shapes_files
from cptkg.query import bind_params
from cptkg.shacl.prepared_queries import sorted_prologue
from intake_helpers import copy_project

#: Values for the stored queries' required parameters.
REQUIRED = {
    "payer-policy": {"payer": "Aetna"},
    "policies-as-of": {"asOf": "2025-06-30"},
    "search-labels": {"text": "nerve"},
}
EX = "http://example.org/"


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    """An empty cache directory of the test's own, the in-process memory of prepared queries
    emptied (so entries are read from disk)."""
    home = tmp_path / "cache"
    monkeypatch.setenv("CPTKG_CACHE_DIR", str(home))
    monkeypatch.delenv("CPTKG_NO_CACHE", raising=False)
    sparql_cache.forget()
    yield home
    sparql_cache.forget()


def _entries(cache_home: Path, kind: str) -> list[Path]:
    directory = cache_home / kind
    return sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []


def _rows(result: object) -> list[tuple[object, ...]]:
    assert isinstance(result, SelectResult)
    return result.rows


def _small() -> Graph:
    g = Graph()
    g.add((URIRef(EX + "a"), URIRef(EX + "p"), Literal(1)))
    g.add((URIRef(EX + "b"), URIRef(EX + "p"), Literal(2)))
    return g


# ------------------------------------------------------------------ prepared queries
def test_every_stored_query_answers_the_same_from_its_kept_translation(cache_home):
    graph = load_union()
    engine = RdflibEngine(graph)
    for name, stored in load_catalog().items():
        bindings = bind_params(stored, REQUIRED.get(name))
        expected = graph.query(bind_query(stored.text, bindings))
        fresh = engine.query(stored.text, bindings)  # parsed, translated and kept
        sparql_cache.forget()
        kept = engine.query(stored.text, bindings)  # read back from disk
        if expected.type == "SELECT":
            want = [tuple(row) for row in expected]
            assert _rows(fresh) == want, name
            assert _rows(kept) == want, name
        else:
            assert fresh == kept == expected.askAnswer, name
    assert len(_entries(cache_home, "algebra")) == len(load_catalog())


def test_one_changed_byte_of_the_text_is_another_entry(cache_home):
    engine = RdflibEngine(_small())
    one = "SELECT ?s WHERE { ?s <http://example.org/p> 1 }"
    assert _rows(engine.query(one)) == [(URIRef(EX + "a"),)]
    sparql_cache.forget()
    assert _rows(engine.query(one.replace("1 }", "2 }"))) == [(URIRef(EX + "b"),)]
    assert len(_entries(cache_home, "algebra")) == 2


def test_the_key_holds_the_namespaces_the_base_and_rdflib(monkeypatch):
    import rdflib

    text = "SELECT ?s WHERE { ?s ex:p 1 }"
    key = sparql_cache.query_key(text, None, (("ex", EX),))
    assert sparql_cache.query_key(text, None, (("ex", EX + "x/"),)) != key
    assert sparql_cache.query_key(text, "http://base/", (("ex", EX),)) != key
    monkeypatch.setattr(rdflib, "__version__", "0.0.0")
    assert sparql_cache.query_key(text, None, (("ex", EX),)) != key


def test_a_prefix_of_the_graph_changes_what_a_query_means(cache_home):
    g = _small()
    g.bind("ex", EX)
    text = "SELECT ?s WHERE { ?s ex:p 1 }"
    assert _rows(RdflibEngine(g).query(text)) == [(URIRef(EX + "a"),)]
    other = _small()
    other.bind("ex", "http://example.org/other/")
    assert _rows(RdflibEngine(other).query(text)) == []


def test_parameter_values_share_one_entry_and_each_gets_its_answer(cache_home):
    engine = RdflibEngine(_small())
    text = "SELECT ?o WHERE { ?s <http://example.org/p> ?o }"
    for name in ("a", "b", "a"):
        sparql_cache.forget()
        rows = _rows(engine.query(text, {"s": URIRef(EX + name)}))
        assert rows == [(Literal(1 if name == "a" else 2),)]
    rows = _rows(engine.query(text, {"s": Literal("not a subject")}))
    assert rows == []
    assert len(_entries(cache_home, "algebra")) == 1


def test_a_corrupt_or_forged_translation_is_ignored_and_replaced(cache_home):
    engine = RdflibEngine(_small())
    text = "SELECT ?s WHERE { ?s <http://example.org/p> ?o FILTER(?o > 1) }"
    assert _rows(engine.query(text)) == [(URIRef(EX + "b"),)]
    (entry,) = _entries(cache_home, "algebra")
    good = entry.read_bytes()
    forged = json.loads(good)

    def rename_operators(node: object) -> None:
        if isinstance(node, list):
            if node and node[0] == "E" and node[2] is not None:
                node[2] = "system"  # not an rdflib operator: refused
            for item in node:
                rename_operators(item)

    rename_operators(forged)
    assert json.dumps(forged) != good.decode("utf-8")
    for bad in (b"", good[: len(good) // 2], b"[1, 2", json.dumps(forged).encode()):
        entry.write_bytes(bad)
        sparql_cache.forget()
        assert _rows(engine.query(text)) == [(URIRef(EX + "b"),)]
        assert entry.read_bytes() == good  # replaced by the right translation


def test_a_syntax_error_is_still_a_query_error(cache_home):
    from cptkg.engines.base import QueryError

    with pytest.raises(QueryError, match="syntax"):
        RdflibEngine(_small()).query("SELECT ?s WHERE { ?s ")
    assert _entries(cache_home, "algebra") == []


def test_pyshacl_prefix_lines_in_any_order_are_one_text():
    body = "SELECT $this WHERE { $this a ex:C }"
    a = "PREFIX ex: <http://example.org/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    b = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nPREFIX ex: <http://example.org/>\n"
    assert sorted_prologue(a + body) == sorted_prologue(b + body) == a + body
    twice = "PREFIX ex: <http://example.org/b/>\nPREFIX ex: <http://example.org/a/>\n" + body
    assert sorted_prologue(twice) == twice  # the last declaration wins: order kept


# ------------------------------------------------------------------ parsed graphs
@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    home = copy_project(tmp_path / "home")
    monkeypatch.setenv("CPTKG_HOME", str(home))
    return home


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_one_changed_byte_of_a_data_file_gives_the_new_graph(project, cache_home):
    aetna = URIRef("https://w3id.org/cptkg/id/payer-aetna")
    first = RdflibEngine.from_sources()
    assert (aetna, RDFS.label, Literal("Aetna")) in first.graph
    again = RdflibEngine.from_sources()  # read back
    assert set(again.graph) == set(first.graph)
    assert set(again.dataset.quads()) == set(first.dataset.quads())  # type: ignore[union-attr]
    assert len(_entries(cache_home, "graphs")) == 1
    _replace_once(project / "data" / "payers.ttl", 'rdfs:label "Aetna"', 'rdfs:label "Aetnb"')
    changed = RdflibEngine.from_sources()
    assert (aetna, RDFS.label, Literal("Aetnb")) in changed.graph
    assert (aetna, RDFS.label, Literal("Aetna")) not in changed.graph
    assert len(_entries(cache_home, "graphs")) == 2


def test_one_changed_byte_of_a_shape_or_the_ontology_gives_the_new_graph(project, cache_home):
    messages = {str(m) for m in load_shapes().objects(None, SH.message)}
    shape = next(f for f in shapes_files() if "sh:message" in f.read_text(encoding="utf-8"))
    message = next(m for m in sorted(messages) if m in shape.read_text(encoding="utf-8"))
    assert {str(m) for m in load_shapes().objects(None, SH.message)} == messages  # kept
    _replace_once(shape, message, message + "!")
    assert message + "!" in {str(m) for m in load_shapes().objects(None, SH.message)}

    labels = {str(o) for o in load_ontology().objects(None, RDFS.label)}
    label = sorted(labels)[0]
    assert ontology_file().is_relative_to(project)
    _replace_once(ontology_file(), f'"{label}"', f'"{label}x"')
    assert label + "x" in {str(o) for o in load_ontology().objects(None, RDFS.label)}


def test_a_corrupt_or_foreign_graph_entry_is_ignored_and_never_run(project, cache_home):
    expected = set(load_ontology())
    (entry,) = _entries(cache_home, "graphs")
    marker = cache_home / "ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    good = entry.read_bytes()
    for bad in (b"", good[: len(good) // 2], pickle.dumps(Payload()), pickle.dumps([1, 2])):
        entry.write_bytes(bad)
        assert set(load_ontology()) == expected
        assert not marker.exists()
        assert entry.read_bytes() != bad  # replaced


def test_a_load_that_warns_is_not_kept(project, cache_home, caplog, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "@prefix ex: <http://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'ex:a ex:p "x"^^xsd:integer .\n',
        encoding="utf-8",
    )
    for _ in range(2):
        caplog.clear()
        RdflibEngine.from_sources([bad], include_ontology=False)
        assert "ill-typed literal" in caplog.text
    assert _entries(cache_home, "graphs") == []


def test_no_cache_writes_nothing(project, cache_home, monkeypatch):
    monkeypatch.setenv("CPTKG_NO_CACHE", "1")
    engine = RdflibEngine.from_sources()
    load_shapes()
    assert _rows(engine.query("SELECT ?s WHERE { ?s a ?c } LIMIT 1"))
    assert not cache_home.exists()


def test_the_unpickler_builds_only_graph_classes():
    assert all(module.startswith("rdflib.") for module, _name in graph_cache.ALLOWED)
    with pytest.raises(pickle.UnpicklingError):
        graph_cache.GraphUnpickler(__import__("io").BytesIO(pickle.dumps(Path("x")))).load()


# ------------------------------------------------------------------ the deferred grammar
GRAMMAR_SCRIPT = """
import sys
from cptkg.sparql_grammar import grammar_built
from cptkg.engines.rdflib_engine import RdflibEngine
from rdflib import Graph, URIRef, Literal
g = Graph()
g.add((URIRef("http://example.org/a"), URIRef("http://example.org/p"), Literal(1)))
rows = RdflibEngine(g).query(sys.argv[1]).rows
print(len(rows), grammar_built())
"""


def _grammar_run(cache_home: Path, text: str) -> str:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CPTKG_")}
    env["CPTKG_CACHE_DIR"] = str(cache_home)
    proc = subprocess.run(
        [sys.executable, "-c", GRAMMAR_SCRIPT, text],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_grammar_is_built_only_to_parse_a_new_text(cache_home):
    text = "SELECT ?s WHERE { ?s <http://example.org/p> ?o }"
    assert _grammar_run(cache_home, text) == "1 True"  # parsed: the grammar was needed
    assert _grammar_run(cache_home, text) == "1 False"  # prepared from the cache
    assert _grammar_run(cache_home, text + " ") == "1 True"  # another text


def test_rdflib_parses_as_before_with_the_grammar_deferred():
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parser import parseQuery

    query = prepareQuery("SELECT ?o WHERE { <http://example.org/a> <http://example.org/p> ?o }")
    assert [row[0] for row in _small().query(query)] == [Literal(1)]
    assert parseQuery("ASK { ?s ?p ?o }")
    with pytest.raises(Exception, match="Expected"):
        parseQuery("SELECT ?s WHERE {")


# ------------------------------------------------------------------ query headers
def test_a_kept_header_is_read_back_and_a_changed_byte_is_another_entry(cache_home):
    from cptkg.catalog import read_header

    text = "#+ summary: One line\n#+ tags:\n#+   - payer\nSELECT * WHERE { ?s ?p ?o }\n"
    first = read_header(text)
    assert first.values == {"summary": "One line", "tags": ["payer"]}
    (entry,) = _entries(cache_home, "headers")
    assert read_header(text) == first
    changed = read_header(text.replace("payer", "payes"))
    assert changed.values["tags"] == ["payes"]
    moved = read_header("\n" + text)  # the same lines one file line lower
    assert moved.lines == {k: v + 1 for k, v in first.lines.items()}
    assert len(_entries(cache_home, "headers")) == 3
    for bad in (b"", b"[]", b'{"values": {}, "lines": {"summary": "x"}}'):
        entry.write_bytes(bad)
        assert read_header(text) == first


def test_a_large_graph_is_not_kept(project, cache_home, monkeypatch):
    monkeypatch.setattr(graph_cache, "MAX_SOURCE_BYTES", 100)
    assert len(load_ontology()) > 0
    assert _entries(cache_home, "graphs") == []


def test_no_two_lists_of_key_parts_share_a_digest():
    from cptkg.diskcache import digest

    assert digest(["a\0", "b"]) != digest(["a", "\0b"]) != digest(["a\0b"])
    assert digest(["ab", ""]) != digest(["a", "b"]) != digest(["ab"])


def test_a_file_changed_while_it_is_parsed_is_not_kept(project, cache_home):
    path = ontology_file()

    def build() -> Graph:
        graph = Graph().parse(path)
        path.write_text(path.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
        return graph

    graph_cache.cached("ontology", [path], build, lambda kept: True)
    assert _entries(cache_home, "graphs") == []
