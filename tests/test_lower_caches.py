"""The caches a result-cache miss still profits from never serve a stale or foreign entry:
prepared SPARQL queries (cptkg.sparql_cache), parsed graphs (cptkg.graph_cache) and compiled
shapes (cptkg.shacl.compiled_cache). One byte changed in a query text, a data file, a shape or
the ontology gives the new answer; a corrupt
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
from cptkg.load import load_ontology, load_shapes, load_union, shipped_files
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


def _forged_pickle(marker: Path) -> bytes:
    """A pickle that, if loaded by a plain unpickler, runs ``touch marker``."""

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    return pickle.dumps(Payload())


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
    files = len(shipped_files())
    assert len(_entries(cache_home, "parsed")) == files  # one entry per source file
    _replace_once(project / "data" / "payers.ttl", 'rdfs:label "Aetna"', 'rdfs:label "Aetnb"')
    changed = RdflibEngine.from_sources()
    assert (aetna, RDFS.label, Literal("Aetnb")) in changed.graph
    assert (aetna, RDFS.label, Literal("Aetna")) not in changed.graph
    assert len(_entries(cache_home, "parsed")) == files + 1


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

    good = entry.read_bytes()
    for bad in (b"", good[: len(good) // 2], _forged_pickle(marker), pickle.dumps([1, 2])):
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
    assert _entries(cache_home, "parsed") == []


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


PYPARSING_STATE = """
import sys
import pyparsing, pyparsing.core
names = sorted(n for n in vars(pyparsing) if n not in ("__builtins__", "__cached__"))
print(pyparsing.__version__, len(pyparsing.core._builtin_exprs), "unittest" in sys.modules)
print(names)
"""

DEFERRED_PYPARSING = """
import sys
from cptkg.sparql_grammar import pyparsing_complete
from cptkg.engines.rdflib_engine import RdflibEngine
from rdflib import Graph, URIRef, Literal
g = Graph()
g.add((URIRef("http://example.org/a"), URIRef("http://example.org/p"), Literal(1)))
rows = RdflibEngine(g).query(sys.argv[1]).rows
common = sys.modules.get("pyparsing.common")  # a stand-in until pyparsing is complete
loaded = common is not None and "__file__" in vars(common)
print(len(rows), pyparsing_complete(), "unittest" in sys.modules, loaded)
if sys.argv[2] == "complete":
    import pyparsing
    pyparsing.Word  # any other name: pyparsing's own __init__ runs
    assert pyparsing_complete()
    exec(sys.argv[3])
"""


def _python(cache_home: Path, *args: str) -> str:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CPTKG_")}
    env["CPTKG_CACHE_DIR"] = str(cache_home)
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_prepared_query_runs_without_pyparsing_s_test_and_common_parts(cache_home):
    text = "SELECT ?s WHERE { ?s <http://example.org/p> ?o }"
    # parsed: the grammar, and so all of pyparsing, was needed
    assert _python(cache_home, "-c", DEFERRED_PYPARSING, text, "") == "1 True True True"
    assert _python(cache_home, "-c", DEFERRED_PYPARSING, text, "") == "1 False False False"


SUBMODULE_FIRST = """
import sys
from cptkg.sparql_grammar import pyparsing_complete
import rdflib.plugins.sparql.evaluate
assert not pyparsing_complete()
import pyparsing.testing
from pyparsing.common import pyparsing_common
import pyparsing
assert pyparsing_complete()
assert pyparsing.testing is pyparsing.pyparsing_test and pyparsing.common is pyparsing_common
assert type(sys.modules["pyparsing.testing"]).__name__ == "module"
exec(sys.argv[1])
"""


def test_importing_a_module_of_the_deferred_pyparsing_completes_it_first(cache_home):
    assert _python(cache_home, "-c", SUBMODULE_FIRST, PYPARSING_STATE) == _python(
        cache_home, "-c", PYPARSING_STATE
    )


def test_pyparsing_completed_later_is_pyparsing_imported_at_once(cache_home):
    text = "SELECT ?s WHERE { ?s <http://example.org/p> ?o }"
    _python(cache_home, "-c", DEFERRED_PYPARSING, text, "")  # the query prepared and kept
    completed = _python(cache_home, "-c", DEFERRED_PYPARSING, text, "complete", PYPARSING_STATE)
    first, rest = completed.split("\n", 1)
    assert first == "1 False False False"
    assert rest == _python(cache_home, "-c", PYPARSING_STATE)


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
    assert len(RdflibEngine.from_sources().graph) > 0
    assert _entries(cache_home, "parsed") == []


# ------------------------------------------------------------------ parsed source files
#: Files of every RDF format the loader reads, with prefixes that clash with the project's
#: (rdflib then binds ``kg1``), a default graph and named graphs, blank nodes and typed,
#: language-tagged and plain literals.
MIXED_FORMATS = {
    "a.trig": """@prefix kg: <http://example.org/other#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:s ex:p "1"^^xsd:integer , "x"@en-GB , "plain" , [ ex:q "0.50"^^xsd:decimal ] .
ex:g { ex:s ex:p kg:o , "2025-01-31"^^xsd:date . }
""",
    "b.nq": '<http://example.org/s> <http://example.org/p> "y" <http://example.org/h> .\n'
    '_:b1 <http://example.org/p> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n',
    "c.jsonld": """{"@context": {"ex": "http://example.org/", "sch": "https://schema.org/"},
 "@id": "ex:t", "sch:name": [{"@value": "n", "@language": "de"}, "m"]}""",
    "d.ttl": """@prefix : <http://example.org/empty#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:s ex:p "01"^^xsd:integer , "1e0"^^xsd:double , "x"^^ex:unknown .
""",
}


def _term_slots(term: object) -> tuple[object, ...]:
    return (
        type(term),
        str(term),
        getattr(term, "_language", None),
        getattr(term, "_datatype", None),
        getattr(term, "_value", None),
        getattr(term, "_ill_typed", None),
        hash(term),
        term.n3(),  # type: ignore[attr-defined]
    )


def _same_load(engine: RdflibEngine, files: list[Path] | None, **flags: bool) -> None:
    """``engine`` holds what load_dataset and union_graph make of ``files``: the same triples
    (blank nodes up to renaming), terms equal slot for slot, the same prefixes, the same named
    graphs."""
    from rdflib import BNode
    from rdflib.compare import isomorphic

    from cptkg.load import load_dataset, union_graph

    ds = load_dataset(files, **flags)
    union = union_graph(ds)
    assert len(engine.graph) == len(union)
    assert isomorphic(engine.graph, union)
    named = {_term_slots(t) for triple in engine.graph for t in triple if type(t) is not BNode}
    assert named == {_term_slots(t) for triple in union for t in triple if type(t) is not BNode}
    assert sorted(engine.graph.namespaces()) == sorted(union.namespaces())
    kept = engine.dataset
    assert kept is not None
    assert sorted(kept.namespaces()) == sorted(ds.namespaces())
    assert {c.identifier for c in kept.graphs()} == {c.identifier for c in ds.graphs()}
    for graph in ds.graphs():
        assert isomorphic(kept.graph(graph.identifier), graph), graph.identifier


def test_the_graph_read_back_is_the_graph_parsed(project, cache_home, tmp_path):
    for flags in ({}, {"include_shapes": True}):
        _same_load(RdflibEngine.from_sources(**flags), None, **flags)  # parsed and kept
        _same_load(RdflibEngine.from_sources(**flags), None, **flags)  # read back
    files = []
    for name, text in MIXED_FORMATS.items():
        files.append(tmp_path / name)
        files[-1].write_text(text, encoding="utf-8")
    for _ in range(2):  # with the JSON-LD file: loaded as one Dataset, not kept
        _same_load(RdflibEngine.from_sources(files), files)
    assert len(_entries(cache_home, "parsed")) == len(shipped_files(include_shapes=True))
    others = [f for f in files if f.suffix != ".jsonld"]
    for _ in range(2):
        _same_load(RdflibEngine.from_sources(others), others)
    kept = len(shipped_files(include_shapes=True)) + len(others)
    assert len(_entries(cache_home, "parsed")) == kept


def test_prefixes_bound_by_a_parser_s_own_namespace_manager_are_noticed(tmp_path):
    from cptkg.load import parse_source

    # rdflib's JSON-LD parser binds the context's prefixes through a graph of its own
    source = tmp_path / "c.jsonld"
    source.write_text(MIXED_FORMATS["c.jsonld"], encoding="utf-8")
    parsed = parse_source(source)
    assert not parsed.replayable
    with pytest.raises(graph_cache.Unencodable):
        graph_cache.encode_file(parsed)
    turtle = tmp_path / "d.ttl"
    turtle.write_text(MIXED_FORMATS["d.ttl"], encoding="utf-8")
    assert parse_source(turtle).replayable


def test_only_a_changed_file_is_parsed_again(project, cache_home, monkeypatch):
    import cptkg.load

    parsed: list[str] = []
    parse = cptkg.load.parse_source

    def counting(path: Path) -> graph_cache.ParsedFile:
        parsed.append(path.name)
        return parse(path)

    monkeypatch.setattr(cptkg.load, "parse_source", counting)
    RdflibEngine.from_sources()
    assert len(parsed) == len(shipped_files())
    parsed.clear()
    RdflibEngine.from_sources()
    assert parsed == []
    _replace_once(project / "data" / "payers.ttl", 'rdfs:label "Aetna"', 'rdfs:label "Aetnb"')
    engine = RdflibEngine.from_sources()
    assert parsed == ["payers.ttl"]
    _same_load(engine, None)


def test_a_corrupt_or_forged_parsed_file_is_ignored_and_replaced(project, cache_home, tmp_path):
    import hashlib

    source = tmp_path / "one.ttl"
    source.write_text(
        '@prefix ex: <http://example.org/> .\nex:a ex:p "x"@en , ex:b .\n', encoding="utf-8"
    )
    from cptkg.load import parsed_source

    expected, key = parsed_source(source)
    assert key is not None
    (entry,) = _entries(cache_home, "parsed")
    good = entry.read_bytes()
    check, body = good.split(b"\n", 1)

    def signed(text: str) -> bytes:
        data = text.encode("utf-8")
        return hashlib.sha256(data).hexdigest().encode("ascii") + b"\n" + data

    forged = [
        b"",
        good[: len(good) // 2],  # torn
        check + b"\n" + body.replace(b"http://example.org/b", b"http://example.org/c"),
        signed('{"terms": ["http://example.org/a"], "graphs": [["g", [0, 0, 5]]], "binds": []}'),
        signed('{"terms": [["l", "x"], "p", "o"], "graphs": [["g", [0, 1, 2]]], "binds": []}'),
        signed('{"terms": [["pickle", "x"]], "graphs": [], "binds": []}'),
        signed('{"terms": [], "graphs": [], "binds": [["ex", 1, true, false]]}'),
        signed("[]"),
    ]
    for bad in forged:
        entry.write_bytes(bad)
        assert graph_cache.kept_file(key) is None
        assert parsed_source(source) == (expected, key)
        assert entry.read_bytes() == good  # replaced


def test_a_literal_that_would_not_come_back_equal_is_not_kept(project, cache_home, tmp_path):
    source = tmp_path / "html.ttl"
    source.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
        'ex:a ex:p "<b>x</b>"^^rdf:HTML .\n',  # its value is a DOM fragment: equal to itself only
        encoding="utf-8",
    )
    assert len(RdflibEngine.from_sources([source], include_ontology=False).graph) == 1
    assert _entries(cache_home, "parsed") == []


def test_a_query_does_not_build_the_dataset(project, cache_home, monkeypatch):
    import cptkg.engines.rdflib_engine as rdflib_engine

    built: list[int] = []
    fill = rdflib_engine.fill_dataset

    def counting(*args: object) -> object:
        built.append(1)
        return fill(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(rdflib_engine, "fill_dataset", counting)
    engine = RdflibEngine.from_sources()
    assert _rows(engine.query("SELECT ?s WHERE { ?s a ?c } LIMIT 1"))
    assert built == []
    assert b"GRAPH" in engine.export("trig") or b"{" in engine.export("trig")
    engine.context()
    assert built == [1]


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


def test_a_corrupt_or_foreign_union_entry_is_ignored_and_never_run(project, cache_home):
    expected = set(RdflibEngine.from_sources().graph)
    (entry,) = _entries(cache_home, "graphs")
    marker = cache_home / "ran"

    good = entry.read_bytes()
    for bad in (
        b"",
        good[: len(good) // 2],
        _forged_pickle(marker),
        pickle.dumps((Graph(), (1, 2))),  # another shape
        pickle.dumps((Graph(), ("a", "b"))),  # parsed files it is not kept for
        pickle.dumps(Graph()),
    ):
        entry.write_bytes(bad)
        assert set(RdflibEngine.from_sources().graph) == expected
        assert not marker.exists()
        assert entry.read_bytes() != bad  # replaced


def test_the_dataset_of_a_kept_graph_is_the_parsed_one_or_an_error(project, cache_home):
    import shutil

    from cptkg.errors import InputError

    RdflibEngine.from_sources()
    shutil.rmtree(cache_home / "parsed")  # the union kept, the parsed files gone
    engine = RdflibEngine.from_sources()
    _same_load(engine, None)  # parsed again: the files are the ones kept
    shutil.rmtree(cache_home / "parsed")
    engine = RdflibEngine.from_sources()
    _replace_once(project / "data" / "payers.ttl", 'rdfs:label "Aetna"', 'rdfs:label "Aetnb"')
    with pytest.raises(InputError, match="payers.ttl: changed while cptkg was using the graph"):
        engine.context()


@pytest.mark.filterwarnings("ignore:Serializing weird numerical")  # n3() of "x"^^xsd:double
def test_terms_come_back_equal_slot_for_slot_or_the_file_is_not_kept():
    from rdflib import BNode
    from rdflib.namespace import XSD

    s, p = URIRef(EX + "s"), URIRef(EX + "p")
    objects = [
        Literal("plain"),
        Literal("x", lang="EN-us"),
        Literal("0.50", datatype=XSD.decimal),
        Literal("01", datatype=XSD.integer),
        Literal("-0.0", datatype=XSD.double),
        Literal("1", datatype=XSD.boolean),
        Literal("2025-01-31", datatype=XSD.date),
        Literal("P1D", datatype=XSD.duration),
        Literal("x", datatype=URIRef(EX + "unknown")),
        URIRef(EX + "o"),
        BNode("b1"),
    ]
    parsed = graph_cache.ParsedFile(
        ((URIRef(EX + "g"), tuple((s, p, o) for o in objects)),), (("ex", EX, True, False),)
    )
    again = graph_cache.decode_file(graph_cache.encode_file(parsed))
    assert again is not None and again.binds == parsed.binds
    assert [_term_slots(o) for _s, _p, o in again.graphs[0][1]] == [_term_slots(o) for o in objects]
    for value in ("1", "x"):  # a well-typed and an ill-typed double come back as they were
        one = graph_cache.ParsedFile(
            ((URIRef(EX + "g"), ((s, p, Literal(value, datatype=XSD.double)),)),), ()
        )
        back = graph_cache.decode_file(graph_cache.encode_file(one))
        assert back is not None
        assert _term_slots(back.graphs[0][1][0][2]) == _term_slots(one.graphs[0][1][0][2])
    nan = graph_cache.ParsedFile(
        ((URIRef(EX + "g"), ((s, p, Literal("NaN", datatype=XSD.double)),)),), ()
    )
    with pytest.raises(graph_cache.Unencodable):  # its value is not equal to itself
        graph_cache.encode_file(nan)


def test_a_source_file_changed_while_it_is_parsed_is_not_kept(project, cache_home):
    from cptkg.load import parse_source

    path = project / "data" / "payers.ttl"

    def parse() -> graph_cache.ParsedFile:
        parsed = parse_source(path)
        path.write_text(path.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
        return parsed

    parsed, key = graph_cache.cached_file(path, parse)
    assert key is None and parsed.graphs
    assert _entries(cache_home, "parsed") == []


# ------------------------------------------------------------------ compiled shapes
def _compilation(compiled: object) -> tuple[object, ...]:
    """Everything a compilation holds but the shapes graph."""
    from cptkg.shacl.compiler import CompiledShapes

    assert isinstance(compiled, CompiledShapes)
    return (
        compiled.checks,
        [(g.target, g.checks, g.sparql) for g in compiled.groups],
        compiled.single,
        compiled.fallback,
        compiled.targets,
        compiled.dialect,
    )


@pytest.fixture
def hierarchy() -> dict[URIRef, set[URIRef]]:
    """The class hierarchy of the shipped graph."""
    from cptkg.engines.oxigraph_engine import OxigraphEngine
    from cptkg.shacl.sparql_runner import subclass_closure

    return subclass_closure(OxigraphEngine.from_triples(load_union()))


def test_kept_compilation_is_a_fresh_one(cache_home, hierarchy):
    from cptkg.shacl.compiled_cache import cached_compile
    from cptkg.shacl.compiler import DIALECT_LATERAL, DIALECT_STANDARD, compile_shapes

    shapes = load_shapes()
    for dialect in (DIALECT_LATERAL, DIALECT_STANDARD):
        fresh = compile_shapes(shapes, hierarchy, dialect)
        assert _compilation(cached_compile(shapes, hierarchy, dialect)) == _compilation(fresh)
        kept = cached_compile(shapes, hierarchy, dialect)  # read back
        assert _compilation(kept) == _compilation(fresh)
        assert kept.shapes is shapes
        # the groups hold the very checks of the list, as a compilation does
        listed = {id(c) for c in kept.checks}
        assert all(id(c) in listed for g in kept.groups for c in g.checks)
    assert len(_entries(cache_home, "compiled")) == 2


def test_changed_shapes_or_hierarchy_are_compiled_again(cache_home, hierarchy):
    from cptkg.shacl.compiled_cache import cached_compile
    from cptkg.shacl.compiler import DIALECT_LATERAL, compile_shapes

    shapes = load_shapes()  # a new graph each call: changing it changes no other test's
    before = cached_compile(shapes, hierarchy, DIALECT_LATERAL)
    count = next(iter(shapes.subject_objects(SH.maxCount)))
    shapes.set((count[0], SH.maxCount, Literal(int(count[1]) + 5)))
    after = cached_compile(shapes, hierarchy, DIALECT_LATERAL)
    assert _compilation(after) == _compilation(compile_shapes(shapes, hierarchy, DIALECT_LATERAL))
    assert _compilation(after) != _compilation(before)
    fewer = {cls: set() for cls in hierarchy}  # no subclasses: sh:class checks differ
    assert _compilation(cached_compile(shapes, fewer, DIALECT_LATERAL)) == _compilation(
        compile_shapes(shapes, fewer, DIALECT_LATERAL)
    )
    assert len(_entries(cache_home, "compiled")) == 3


def test_corrupt_or_forged_compilation_is_ignored_and_replaced(cache_home, hierarchy):
    from cptkg.shacl.compiled_cache import cached_compile
    from cptkg.shacl.compiler import DIALECT_LATERAL, compile_shapes

    shapes = load_shapes()
    expected = _compilation(compile_shapes(shapes, hierarchy, DIALECT_LATERAL))
    cached_compile(shapes, hierarchy, DIALECT_LATERAL)
    [entry] = _entries(cache_home, "compiled")
    good = entry.read_bytes()
    marker = cache_home / "ran"
    for bad in (
        b"",
        good[: len(good) // 2],
        _forged_pickle(marker),
        pickle.dumps({"checks": [1, 2], "groups": [], "single": [], "fallback": [], "targets": []}),
        pickle.dumps(Graph()),  # a class an entry may not name
    ):
        entry.write_bytes(bad)
        assert _compilation(cached_compile(shapes, hierarchy, DIALECT_LATERAL)) == expected
        assert not marker.exists()
        assert entry.read_bytes() != bad  # replaced


def test_no_cache_keeps_no_compilation(cache_home, hierarchy, monkeypatch):
    from cptkg.shacl.compiled_cache import cached_compile
    from cptkg.shacl.compiler import DIALECT_LATERAL

    monkeypatch.setenv("CPTKG_NO_CACHE", "1")
    cached_compile(load_shapes(), hierarchy, DIALECT_LATERAL)
    assert _entries(cache_home, "compiled") == []


# ------------------------------------------------------------------ cptkg's own source digest
def _plain_digest(root: Path) -> str:
    """The SHA-256 over names and contents, computed without any kept entry."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


@pytest.fixture
def settled(monkeypatch):
    """Files look written long ago to :func:`source_digest` (its clock an hour ahead)."""
    import time

    from cptkg import diskcache

    ahead = time.time_ns() + 3600 * 10**9
    monkeypatch.setattr(diskcache.time, "time_ns", lambda: ahead)


def test_source_digest_is_kept_only_for_the_very_files_it_was_made_from(
    cache_home, tmp_path, settled
):
    import time

    from cptkg.diskcache import source_digest

    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "a.py").write_text("A = 1\n", encoding="utf-8")
    (root / "sub" / "b.py").write_text("B = 2\n", encoding="utf-8")
    first = source_digest(root)
    assert first == _plain_digest(root)
    assert len(_entries(cache_home, "code")) == 1
    assert source_digest(root) == first  # read back
    time.sleep(0.05)  # past a clock tick: the file's change time moves
    # same size, the modification time set back: the change time still moves
    stat = (root / "a.py").stat()
    (root / "a.py").write_text("A = 9\n", encoding="utf-8")
    os.utime(root / "a.py", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    changed = source_digest(root)
    assert changed == _plain_digest(root) != first
    (root / "sub" / "b.py").rename(root / "sub" / "c.py")
    assert source_digest(root) == _plain_digest(root) != changed
    (root / "d.py").write_text("", encoding="utf-8")
    assert source_digest(root) == _plain_digest(root)


def test_a_source_digest_of_files_just_written_is_not_kept(cache_home, tmp_path):
    from cptkg.diskcache import source_digest

    root = tmp_path / "pkg"
    root.mkdir()
    (root / "a.py").write_text("A = 1\n", encoding="utf-8")
    assert source_digest(root) == _plain_digest(root)
    assert _entries(cache_home, "code") == []  # a write in the same clock tick could follow


def test_a_kept_source_digest_that_is_no_digest_is_recomputed(cache_home, tmp_path, settled):
    from cptkg.diskcache import source_digest

    root = tmp_path / "pkg"
    root.mkdir()
    (root / "a.py").write_text("A = 1\n", encoding="utf-8")
    expected = source_digest(root)
    [entry] = _entries(cache_home, "code")
    for bad in (b"", b"not a digest", expected[:10].encode(), b"Z" * 64):
        entry.write_bytes(bad)
        assert source_digest(root) == expected
        assert entry.read_bytes() == expected.encode()


def test_no_cache_keeps_no_source_digest(cache_home, tmp_path, monkeypatch, settled):
    from cptkg.diskcache import source_digest

    monkeypatch.setenv("CPTKG_NO_CACHE", "1")
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "a.py").write_text("A = 1\n", encoding="utf-8")
    assert source_digest(root) == _plain_digest(root)
    assert _entries(cache_home, "code") == []
