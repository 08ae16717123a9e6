"""Code systems: the ICD-10-CM FY2026 and CMS place-of-service indexes, the code checks, the
shipped codes against their releases, ``cptkg code`` and the release as a named graph."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from cptkg.codes import checks
from cptkg.codes.index import normalise_notation, open_index
from cptkg.codes.releases import ICD10CM, ICD10CM_FY2026, POS, POS_20240502, release_for
from cptkg.namespaces import CPTKG, KG, PROV


@pytest.fixture(scope="module")
def icd():
    return open_index(ICD10CM_FY2026)


@pytest.fixture(scope="module")
def pos():
    return open_index(POS_20240502)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the package's importlib.resources use
def test_index_holds_the_whole_release(icd):
    import simple_icd_10_cm as package

    entries = list(icd.entries())
    assert len(entries) == len(package.get_all_codes())
    assert icd.meta["sha256"] == hashlib.sha256(ICD10CM_FY2026.file_path().read_bytes()).hexdigest()
    assert icd.meta["distribution_version"] == "1.5.0"
    assert icd.meta["file_name"] == "icd10c-tabular-April-1-2026.xml"
    kinds = {e.kind for e in entries}
    assert kinds == {"chapter", "block", "category", "subcategory", "extension"}
    # billable = no children, for every code
    sample = [e for e in entries if not e.is_group][::997]
    for e in sample:
        assert e.billable == (not icd.children(e)), e


def test_known_codes(icd):
    g511 = icd.lookup("G51.1")
    assert g511 is not None and g511.label == "Geniculate ganglionitis" and g511.billable
    assert icd.lookup("g511") == g511
    s045 = icd.lookup("S04.5")
    assert s045 is not None and not s045.billable and s045.label == "Injury of facial nerve"
    assert icd.count_billable_under("S04.5") == 9
    assert "S04.52XS" in [e.notation for e in icd.billable_under("S04.5")]
    for category in ("G51.3", "H02.23"):
        entry = icd.lookup(category)
        assert entry is not None and not entry.billable
    for billable in ("S04.52XS", "H02.233", "G51.31", "C07", "D11.0", "D33.3", "Q87.0", "G52.7"):
        entry = icd.lookup(billable)
        assert entry is not None and entry.billable, billable
    for missing in ("G51.99", "Z99.9", "S04.5XXA"):
        assert icd.lookup(missing) is None
    assert [a.notation for a in icd.ancestors(g511)] == ["G51", "G50-G59", "6"]
    assert normalise_notation(ICD10CM, " g51.3- ") == "G51.3"


def test_suggestions_are_the_closest_real_codes(icd):
    assert [e.notation for e in icd.suggest("G51.99")][:2] == ["G51.9", "G51.8"]
    assert all(e.notation.startswith("Z99") for e in icd.suggest("Z99.9"))
    assert all(e.notation.startswith("S04.5") for e in icd.suggest("S04.5XXA"))


def test_pos_code_set(pos):
    assert len(pos) == 52
    assert pos.lookup("21").label == "Inpatient Hospital"
    assert pos.lookup("98") is None


def test_release_in_force_on_a_date():
    assert release_for(ICD10CM, dt.date(2026, 5, 1)) == (ICD10CM_FY2026, None)
    release, note = release_for(ICD10CM, dt.date(2025, 3, 1))
    assert release == ICD10CM_FY2026
    assert note is not None and "2025-03-01" in note and "FY2026" in note
    assert release_for(POS, None) == (POS_20240502, None)


def _policy(*, diagnoses=(), categories=(), pos=(), effective: str | None = None) -> Graph:
    g = Graph()
    policy = KG["policy-test"]
    g.add((policy, RDF.type, CPTKG.PayerPolicy))
    if effective:
        g.add((policy, CPTKG.effectiveDate, Literal(effective, datatype=URIRef(str(XSD_DATE)))))
    for code in diagnoses:
        g.add((policy, CPTKG.supportingDiagnosis, KG[f"icd10cm-{code}"]))
    for code in categories:
        g.add((policy, CPTKG.supportingDiagnosisCategory, KG[f"icd10cm-{code}"]))
    for code in pos:
        g.add((policy, CPTKG.allowedPlaceOfService, KG[f"pos-{code}"]))
    return g


XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"


def test_real_billable_codes_conform():
    g = _policy(diagnoses=["G51.1", "S04.52XS", "H02.233", "G51.31"], pos=["21", "24"])
    assert checks.check_graph(g) == []


@pytest.mark.parametrize("code", ["G51.99", "Z99.9", "S04.5XXA"])
def test_code_not_in_release(code):
    (problem,) = checks.check_graph(_policy(diagnoses=[code]))
    assert problem.rule == checks.NOT_IN_RELEASE and problem.severity == "Violation"
    assert f"{code} is not in ICD-10-CM FY2026" in problem.message
    assert problem.suggestions and "closest codes" in problem.message
    assert problem.subject == KG["policy-test"] and problem.predicate == CPTKG.supportingDiagnosis


def test_g51_99_suggests_g51_9_then_g51_8():
    (problem,) = checks.check_graph(_policy(diagnoses=["G51.99"]))
    assert problem.suggestions[:2] == ("G51.9", "G51.8")


@pytest.mark.parametrize("code,count", [("S04.5", 9), ("G51.3", 4), ("H02.23", 10)])
def test_category_where_billable_code_needed(code, count):
    (problem,) = checks.check_graph(_policy(diagnoses=[code]))
    assert problem.rule == checks.NOT_BILLABLE
    assert "not a billable code" in problem.message and f"{count} billable codes" in problem.message
    assert problem.suggestions and all(s.startswith(code) for s in problem.suggestions)


def test_whole_category_listed_on_purpose():
    assert checks.check_graph(_policy(categories=["G51.3", "S04.5"])) == []
    (problem,) = checks.check_graph(_policy(categories=["G51.99"]))
    assert problem.rule == checks.NOT_IN_RELEASE


def test_pos_not_in_code_set():
    (problem,) = checks.check_graph(_policy(pos=["98"]))
    assert problem.rule == checks.NOT_IN_RELEASE and problem.system == POS
    assert "98 is not in CMS Place of Service" in problem.message


def test_policy_dated_outside_the_release_gets_a_note():
    problems = checks.check_graph(_policy(diagnoses=["G51.1"], effective="2025-01-15"))
    assert [p.rule for p in problems] == [checks.RELEASE_NOT_IN_FORCE]
    assert problems[0].severity == "Info"


def test_descriptor_and_billable_drift_is_a_violation():
    g = Graph()
    code = KG["icd10cm-H02.23C"]
    g.add((code, RDF.type, CPTKG.ICD10CMCode))
    g.add((code, SKOS.notation, Literal("H02.23C")))
    g.add((code, SKOS.prefLabel, Literal("Paralytic lagophthalmos unspecified eye", lang="en")))
    g.add((code, CPTKG.billable, Literal(False)))
    rules = sorted(p.rule for p in checks.check_graph(g))
    assert rules == [checks.BILLABLE_FLAG_DIFFERS, checks.DESCRIPTOR_DIFFERS]


def test_every_shipped_code_matches_its_release(shipped_union, icd, pos):
    """Every ICD-10-CM and POS code in data/ is in its release, verbatim, billable, cited."""
    g = shipped_union
    assert checks.check_graph(g) == []
    cases = [
        (CPTKG.ICD10CMCode, icd, KG["codeset-icd10cm-fy2026"]),
        (CPTKG.PlaceOfServiceCode, pos, KG["codeset-cms-pos-20240502"]),
    ]
    for cls, index, source in cases:
        codes = set(g.subjects(RDF.type, cls))
        assert codes
        for code in codes:
            entry = index.lookup(str(g.value(code, SKOS.notation)))
            assert entry is not None and entry.billable, code
            assert [str(label) for label in g.objects(code, SKOS.prefLabel)] == [entry.label]
            assert set(g.objects(code, PROV.wasDerivedFrom)) == {source}, code
    assert (
        str(g.value(KG["codeset-icd10cm-fy2026"], CPTKG.sha256))
        == hashlib.sha256(ICD10CM_FY2026.file_path().read_bytes()).hexdigest()
    )
    assert (
        str(g.value(KG["codeset-cms-pos-20240502"], CPTKG.sha256))
        == hashlib.sha256(POS_20240502.file_path().read_bytes()).hexdigest()
    )


def test_validation_result_gets_code_problems(shipped_union):
    from cptkg.shacl.pyshacl_runner import validate

    g = _policy(diagnoses=["G51.99"])
    base = validate(Graph())
    merged = checks.add_to_validation(base, checks.check_graph(g))
    assert not merged.conforms
    assert [f.message for f in merged.violations][0].startswith("ICD-10-CM code G51.99")


def test_release_as_named_graph():
    from cptkg.codes.rdf import write_nquads

    out = io.StringIO()
    count = write_nquads(POS_20240502, out)
    ds = Dataset()
    ds.parse(data=out.getvalue(), format="nquads")
    graph = ds.graph(URIRef(POS_20240502.graph_iri))
    assert len(graph) == count
    assert graph.value(KG["pos-21"], SKOS.prefLabel) == Literal("Inpatient Hospital", lang="en")


def test_cli_code_lookups(run_cli):
    r = run_cli("code", "G51.1")
    assert r.returncode == 0 and "Geniculate ganglionitis" in r.stdout and "billable" in r.stdout
    r = run_cli("code", "S04.5")
    assert r.returncode == 0 and "not billable: 9 billable codes" in r.stdout
    assert "S04.52XS" in r.stdout
    r = run_cli("code", "G51.99")
    assert r.returncode == 2 and "G51.9 " in r.stderr and "not a code of" in r.stderr
    r = run_cli("code", "H02.239", "--format", "json")  # no policy lists it since the
    # Aetna bulletins' inferred diagnosis links were removed; a clinical finding does
    assert r.returncode == 0 and "finding-inability-to-close-eye" in r.stdout


def test_stored_check_finds_category_and_unreleased_codes(shipped_union):
    from cptkg.engines.rdflib_engine import RdflibEngine
    from cptkg.query import run_stored

    g = Graph()
    g += shipped_union
    policy = KG["policy-aetna-cpb-0366"]
    category = KG["icd10cm-H02.23"]
    g.add((category, RDF.type, CPTKG.ICD10CMCode))
    g.add((category, SKOS.notation, Literal("H02.23")))
    g.add((category, CPTKG.billable, Literal(False)))
    g.add((category, PROV.wasDerivedFrom, KG["codeset-icd10cm-fy2026"]))
    invented = KG["icd10cm-G51.99"]
    g.add((invented, RDF.type, CPTKG.ICD10CMCode))
    g.add((invented, SKOS.notation, Literal("G51.99")))
    g.add((policy, CPTKG.supportingDiagnosis, category))
    g.add((policy, CPTKG.supportingDiagnosis, invented))
    rows = run_stored(RdflibEngine(g), "check-policy-diagnosis-codes").as_dicts()
    assert [(str(r["icd10cm"]), str(r["problem"])) for r in rows] == [
        ("G51.99", "not derived from an ICD-10-CM release"),
        ("H02.23", "not billable"),
    ]


def test_used_code_triples_describe_real_codes_only():
    from cptkg.codes.rdf import used_code_triples

    g = _policy(diagnoses=["G51.1", "G51.99"], pos=["21", "98"])
    found = used_code_triples(g)
    assert found.value(KG["icd10cm-G51.1"], SKOS.prefLabel) == Literal(
        "Geniculate ganglionitis", lang="en"
    )
    assert (KG["icd10cm-G51.1"], RDF.type, CPTKG.ICD10CMCode) in found
    assert (KG["pos-21"], RDF.type, CPTKG.PlaceOfServiceCode) in found
    assert not list(found.triples((KG["icd10cm-G51.99"], None, None)))
    assert not list(found.triples((KG["pos-98"], None, None)))
    assert checks.check_graph(g + found) == checks.check_graph(g)


def test_unwritable_cache_is_a_clear_error(tmp_path, monkeypatch):
    from cptkg.codes import index as index_module
    from cptkg.errors import CptkgError

    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    monkeypatch.setenv("CPTKG_CACHE_DIR", str(blocked))
    with pytest.raises(CptkgError, match="cannot build") as err:
        index_module.open_index(POS_20240502)
    assert "CPTKG_CACHE_DIR" in (err.value.hint or "")


@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_code_triples_through_an_engine_hold_what_the_checks_read(engine, shipped_union, tmp_path):
    """One SELECT through the engine's query interface gives the checks the same answer
    as the whole graph, on every engine."""
    from cptkg.engines import open_graph
    from cptkg.engines.settings import GraphSettings

    drifted = _policy(diagnoses=["G51.99", "S04.5"], pos=["98"], effective="2026-05-01")
    code = KG["icd10cm-G51.0"]
    drifted.add((code, SKOS.prefLabel, Literal("Bell palsy", lang="en")))
    drifted.add((KG["policy-other"], CPTKG.supportingDiagnosisCategory, KG["icd10cm-G51.7"]))
    whole = Graph()
    whole += shipped_union
    whole += drifted
    file = tmp_path / "drifted.nt"
    file.write_text(drifted.serialize(format="nt"), encoding="utf-8")
    graph = open_graph(GraphSettings(engine=engine))
    graph.load([file])
    small = checks.code_triples(graph)
    assert len(small) < len(whole) / 10
    expected = checks.check_graph(whole)
    assert {p.rule for p in expected} == {
        checks.NOT_IN_RELEASE,
        checks.NOT_BILLABLE,
        checks.DESCRIPTOR_DIFFERS,
    }
    assert checks.check_graph(small) == expected
    assert checks.check_engine(graph) == expected
    # alongside other work (in a thread of its own on Oxigraph, after it on rdflib)
    seen: list[object] = []
    done, problems = checks.check_engine_during(graph, lambda: seen.append(graph) or "done")
    assert (done, problems, seen) == ("done", expected, [graph])
    assert graph.parallel_queries() >= 1 if engine == "oxigraph" else graph.parallel_queries() == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_code_checks_alongside_a_failing_validation_fail_with_its_error(
    tmp_path, monkeypatch, workers
):
    """The work's error propagates whether the checks ran beside it in a thread or not."""
    from cptkg.engines.oxigraph_engine import OxigraphEngine

    file = tmp_path / "p.nt"
    file.write_text(_policy(diagnoses=["G51.99"]).serialize(format="nt"), encoding="utf-8")
    engine = OxigraphEngine.from_paths([file], include_ontology=False, progress=False)
    monkeypatch.setattr(engine, "parallel_queries", lambda: workers)

    def failing() -> None:
        raise RuntimeError("validation failed")

    with pytest.raises(RuntimeError, match="validation failed"):
        checks.check_engine_during(engine, failing)
    done, problems = checks.check_engine_during(engine, lambda: 7)
    assert done == 7 and [p.rule for p in problems] == [checks.NOT_IN_RELEASE]


def test_add_to_validation_conforms_as_shacl_says():
    """SHACL 3.6.1: sh:conforms is false with any result; the exit code follows violations."""
    from rdflib.namespace import SH

    from cptkg.shacl.pyshacl_runner import validate

    base = validate(Graph())
    notes = checks.check_graph(_policy(diagnoses=["G51.1"], effective="2025-01-15"))
    merged = checks.add_to_validation(base, notes)
    assert merged.conforms and not merged.shacl_conforms
    [report] = merged.report_graph.subjects(RDF.type, SH.ValidationReport)
    assert merged.report_graph.value(report, SH.conforms) == Literal(False)
    assert [f.severity for f in merged.results] == ["Info"]


def test_class_result_explained_by_the_code_check_is_reported_once():
    from cptkg.load import load_ontology, load_shapes
    from cptkg.shacl.pyshacl_runner import validate

    g = _policy(diagnoses=["G51.99"])
    result = validate(g, shapes=load_shapes(), ontology=load_ontology())
    assert any(f.value == KG["icd10cm-G51.99"] for f in result.results)
    merged = checks.add_to_validation(result, checks.check_graph(g))
    about = [f for f in merged.results if f.value == KG["icd10cm-G51.99"]]
    assert [str(f.source_shape) for f in about] == [checks.RULE_BASE + checks.NOT_IN_RELEASE]
    assert len(merged.report_graph) < len(result.report_graph) + 10


@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_cli_validate_reports_drifted_shipped_codes_on_every_engine(tmp_path, engine):
    """`cptkg validate` (the whole graph) runs the code checks on every engine."""
    from intake_helpers import copy_project, run_cptkg

    home = copy_project(tmp_path / "project")
    codes = home / "data" / "diagnosis-codes.ttl"
    text = codes.read_text(encoding="utf-8")
    assert 'skos:prefLabel "Bell\'s palsy"@en' in text
    codes.write_text(text.replace('"Bell\'s palsy"@en', '"Bell palsy"@en'), encoding="utf-8")
    proc = run_cptkg("validate", "--engine", engine, env={"CPTKG_HOME": str(home)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "ICD-10-CM code G51.0: descriptor 'Bell palsy' differs from ICD-10-CM FY2026" in (
        proc.stdout
    )
    # the shapes alone: the drifted descriptor is no SHACL violation
    shacl = run_cptkg("validate", "--engine", engine, "--shacl-only", env={"CPTKG_HOME": str(home)})
    assert shacl.returncode == 0, shacl.stdout + shacl.stderr
    assert shacl.stdout == "Validation: conforms (0 violation(s), 0 warning(s), 0 info)\n"


def test_shacl_only_is_the_shapes_report_through_the_api_and_refused_for_new_data(tmp_path):
    """`KnowledgeGraph.validate(shacl_only=True)` is the engine's SHACL result alone; new data
    checked in context has no SHACL-only form (the command says to add --no-context)."""
    from cptkg import KnowledgeGraph
    from intake_helpers import run_cptkg

    kg = KnowledgeGraph()
    shacl = kg.validate(shacl_only=True)
    assert [f.statement() for f in shacl.results] == [
        f.statement() for f in kg.engine.validate().results
    ]
    proc = run_cptkg("validate", "--shacl-only", "tests/data/intake/unknown-payer.ttl")
    assert proc.returncode == 2
    assert "--shacl-only applies to a graph validated whole" in proc.stderr
    assert "--no-context" in proc.stderr


def _checked_report():
    """A SHACL result with an ``sh:class`` result the code checks explain, merged with code
    problems of every kind: a blank-node policy, an unknown code, a category, a date no
    release is in force on, a drifted descriptor."""
    from rdflib import BNode

    from cptkg.load import load_ontology, load_shapes
    from cptkg.shacl.pyshacl_runner import validate

    unknown = [f"Q00.{i:03d}" for i in range(30)]  # enough results that order is no accident
    g = _policy(diagnoses=["G51.99", "S04.5", *unknown], pos=["98"], effective="2025-01-15")
    blank = BNode()
    g.add((blank, RDF.type, CPTKG.PayerPolicy))
    g.add((blank, CPTKG.supportingDiagnosis, KG["icd10cm-Z99.9"]))
    code = KG["icd10cm-G51.0"]
    g.add((code, RDF.type, CPTKG.ICD10CMCode))
    g.add((code, SKOS.prefLabel, Literal('Bell "palsy"\n', lang="en")))
    result = validate(g, shapes=load_shapes(), ontology=load_ontology())
    return result, checks.add_to_validation(result, checks.check_graph(g))


def test_added_code_findings_give_the_same_report_with_or_without_the_graph():
    """The Turtle report written from the findings is the one written from the report graph
    they make; the graph states every finding once and sh:conforms false."""
    from rdflib.namespace import SH

    from cptkg.shacl.report import ValidationResult

    result, merged = _checked_report()
    rules = {str(f.source_shape).removeprefix(checks.RULE_BASE) for f in merged.results}
    assert {checks.NOT_IN_RELEASE, checks.NOT_BILLABLE, checks.RELEASE_NOT_IN_FORCE} <= rules
    assert checks.DESCRIPTOR_DIFFERS in rules
    written = merged.to_turtle()
    graph = merged.report_graph  # built now, from the findings
    assert len(list(graph.subjects(RDF.type, SH.ValidationResult))) == len(merged.results)
    [report] = graph.subjects(RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms) == Literal(False)
    again = ValidationResult(merged.conforms, merged.results, graph, merged.namespaces)
    assert again.to_turtle() == written == merged.to_turtle()
    assert merged.report_graph is graph
    assert Graph().parse(data=written, format="turtle").isomorphic(graph)
    # the explained sh:class result is replaced by the code problem, in the graph too
    unknown = KG["icd10cm-G51.99"]
    assert any(f.value == unknown for f in result.results)
    about = [f for f in merged.results if f.value == unknown]
    assert [str(f.source_shape) for f in about] == [checks.RULE_BASE + checks.NOT_IN_RELEASE]
    assert len(list(graph.subjects(SH.value, unknown))) == 1


def test_a_code_use_in_two_named_graphs_is_one_problem(tmp_path):
    """Oxigraph answers a triple once per named graph holding it; the checks count it once."""
    from cptkg.engines.oxigraph_engine import OxigraphEngine

    g = _policy(diagnoses=["G51.99"])
    files = []
    for name in ("a.nt", "b.nt"):
        files.append(tmp_path / name)
        files[-1].write_text(g.serialize(format="nt"), encoding="utf-8")
    engine = OxigraphEngine.from_paths(files, include_ontology=False, progress=False)
    problems = checks.check_engine(engine)
    assert problems == checks.check_graph(g)
    assert [p.rule for p in problems] == [checks.NOT_IN_RELEASE]


def test_validate_restores_the_garbage_collector_thresholds(tmp_path, monkeypatch):
    """The command collects garbage less often while it works, in process too, and restores
    the thresholds after."""
    import gc

    from cptkg.cli import main

    monkeypatch.setenv("CPTKG_PROGRESS", "0")
    out = tmp_path / "report.txt"
    before = gc.get_threshold()
    assert main(["validate", "--engine", "oxigraph", "-o", str(out)]) == 0
    assert gc.get_threshold() == before and gc.isenabled()
    assert out.read_text(encoding="utf-8").startswith("Validation: conforms")
