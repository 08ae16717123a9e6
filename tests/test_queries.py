"""The stored query catalog: every query has a header and a golden result, and matches it."""

from __future__ import annotations

import re

import pytest
import yaml

from cptkg.catalog import (
    QueryCatalogError,
    load_catalog,
    parse_header,
    parse_query,
    query_files,
)
from cptkg.engines.base import SelectResult, mask_comments_and_strings
from cptkg.engines.rdflib_engine import RdflibEngine
from cptkg.query import run_stored
from goldens import GOLDEN_PARAMS, golden_path, normal_result, read_golden, write_golden

QUERY_FILES = query_files()
NAMES = [p.stem for p in QUERY_FILES]


@pytest.fixture(scope="module")
def engine(shipped_union):
    return RdflibEngine(shipped_union)


def test_catalog_is_not_empty(project_root):
    assert (project_root / "queries").is_dir()
    assert len(QUERY_FILES) >= 20, "queries/ must hold the stored query catalog"


@pytest.mark.parametrize("path", QUERY_FILES, ids=NAMES)
def test_query_has_header_and_kebab_case_name(path):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", path.stem), f"{path.name}: not kebab-case"
    text = path.read_text("utf-8")
    assert text.startswith("#+ summary:"), f"{path.name}: must start with '#+ summary:'"
    q = parse_query(path)
    assert len(q.summary) > 10
    assert q.tags, f"{path.name}: no '#+ tags:'"


@pytest.mark.parametrize("path", QUERY_FILES, ids=NAMES)
def test_select_queries_end_in_order_by(path):
    masked = mask_comments_and_strings(path.read_text("utf-8"))
    if re.search(r"\bSELECT\b", masked, re.I):
        last = masked.strip().splitlines()[-1]
        assert re.match(r"\s*ORDER BY\b", last, re.I), f"{path.name}: SELECT must end in ORDER BY"
    assert "GROUP_CONCAT" not in masked.upper(), "GROUP_CONCAT order is engine-dependent"


@pytest.mark.parametrize("path", QUERY_FILES, ids=NAMES)
def test_query_has_a_golden_file(path):
    assert golden_path(path.stem).is_file(), (
        f"no golden result tests/expected/{path.stem}.json; run pytest --update-goldens"
    )


def test_no_golden_without_a_query():
    from goldens import EXPECTED

    orphans = sorted(p.stem for p in EXPECTED.glob("*.json") if p.stem not in NAMES)
    assert not orphans, f"golden files for queries that do not exist: {orphans}"


def test_required_params_have_golden_params():
    for q in load_catalog().values():
        for spec in q.params:
            if spec.required:
                assert spec.name in GOLDEN_PARAMS.get(q.name, {}), (
                    f"{q.name} needs {spec.name}: add it to GOLDEN_PARAMS in tests/goldens.py"
                )


@pytest.mark.parametrize("name", NAMES)
def test_query_result_equals_golden(name, engine, request):
    params = GOLDEN_PARAMS.get(name, {})
    result = run_stored(engine, name, params)
    assert isinstance(result, SelectResult)
    if request.config.getoption("--update-goldens"):
        write_golden(name, params, result)
    assert golden_path(name).is_file(), f"missing golden for {name}"
    golden_params, expected = read_golden(name)
    assert golden_params == params
    assert normal_result(result) == normal_result(expected)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("check-")])
def test_quality_check_passes_on_shipped_graph(name, engine):
    result = run_stored(engine, name)
    assert isinstance(result, SelectResult)
    assert result.rows == [], f"{name} found problems: {result.as_dicts()}"


def test_main_questions_return_rows(engine):
    """The questions an analyst brings are answered on the shipped graph (not empty)."""
    for name in (
        "code-overview",
        "related-codes",
        "anatomy",
        "indications",
        "clinical-findings",
        "preoperative-evaluations",
        "care-team",
        "perioperative-workflow",
        "expected-outcomes",
        "sites-of-service",
        "modifiers",
        "payer-matrix",
        "benchmarks",
        "coverage-considerations",
        "knowledge-gaps",
        "provenance",
        "sources",
    ):
        assert len(run_stored(engine, name)) > 0, name


# ---------------------------------------------------------------- header parsing


def test_header_is_grlc_yaml():
    """What catalog.parse_header reads equals what a YAML reader (grlc) reads."""
    for path in QUERY_FILES:
        lines = [ln[2:] for ln in path.read_text("utf-8").splitlines() if ln.startswith("#+")]
        loaded = yaml.safe_load("\n".join(lines))

        def norm(v):
            if isinstance(v, list):
                return [norm(i) for i in v]
            if isinstance(v, dict):
                return {k: norm(x) for k, x in v.items()}
            return str(v)

        assert norm(loaded) == norm(parse_header(path.read_text("utf-8"))), path.name


def test_header_parameters_are_typed():
    q = load_catalog()["policies-as-of"]
    spec = q.param("asOf")
    assert spec is not None and spec.type == "date" and spec.required
    assert spec.variable == "_asOf"
    code = q.param("code")
    assert code is not None and code.default == "64866" and not code.required
    prov = load_catalog()["provenance"].param("subject")
    assert prov is not None and prov.optional and prov.variable == "__subject"


def test_query_without_summary_fails(tmp_path):
    bad = tmp_path / "no-header.rq"
    bad.write_text("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s\n")
    with pytest.raises(QueryCatalogError, match="summary"):
        parse_query(bad)


def test_header_naming_unused_parameter_fails(tmp_path):
    bad = tmp_path / "bad-param.rq"
    bad.write_text(
        "#+ summary: x\n#+ param_types:\n#+   - payr: payer\n"
        "SELECT ?s WHERE { ?s ?p ?_payer } ORDER BY ?s\n"
    )
    with pytest.raises(QueryCatalogError, match="payr"):
        parse_query(bad)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "#+ summary: x\n#+ tags: [a]\n#+ summary: y\n",
            r"bad\.rq, line 4: .*'summary' given twice",
        ),
        ("#+ summary: x\n#+   - code: y\n", r"bad\.rq, line 3: .*not valid YAML"),
        ("#+ just text\n", r"bad\.rq, line 2: expected '#\+ key: value' lines"),
        (
            "#+ summary: x\n#+ defaults:\n#+   d: '1'\n",
            r"bad\.rq, line 3: 'defaults' must be a list",
        ),
        ("#+ summary: x\n#+ tags:\n#+   - [a, b]\n", r"bad\.rq, line 3: 'tags' must be a list"),
    ],
)
def test_bad_header_names_file_and_line(tmp_path, header, message):
    bad = tmp_path / "bad.rq"
    bad.write_text("# a comment before the header\n" + header + "SELECT ?_d WHERE { }\n")
    with pytest.raises(QueryCatalogError, match=message):
        parse_query(bad)


def test_header_values_stay_text(tmp_path):
    """Every value is read as written (no YAML typing: true, 1.0 and dates stay text)."""
    q = tmp_path / "typed.rq"
    q.write_text(
        "#+ summary: x\n#+ description: |\n#+   two\n#+   lines\n#+ tags: a, b\n"
        "#+ defaults:\n#+   - flag: true\n#+   - n: 1.0\n#+   - day: 2025-01-01\n"
        "SELECT ?_flag ?_n ?_day WHERE { }\n"
    )
    parsed = parse_query(q)
    assert parsed.description == "two lines" and parsed.tags == ("a", "b")
    assert [p.default for p in parsed.params] == ["true", "1.0", "2025-01-01"]


def test_unknown_parameter_type_fails(tmp_path):
    bad = tmp_path / "bad-type.rq"
    bad.write_text(
        "#+ summary: x\n#+ param_types:\n#+   - d: datetime\nSELECT ?_d WHERE { } ORDER BY ?_d\n"
    )
    with pytest.raises(QueryCatalogError, match="unknown parameter type"):
        parse_query(bad)


def test_queries_readme_lists_every_query(project_root):
    readme = (project_root / "queries" / "README.md").read_text("utf-8")
    missing = [n for n in NAMES if f"[`{n}`]({n}.rq)" not in readme]
    assert not missing, f"queries/README.md does not list {missing}"
