"""The query commands through the real command line: queries, query, sparql, report."""

from __future__ import annotations

import csv
import io
import json


def test_queries_lists_names_summaries_params(run_cli):
    r = run_cli("queries")
    assert r.returncode == 0, r.stderr
    assert "payer-matrix" in r.stdout and "Payer matrix" in r.stdout
    assert "asOf:date (required)" in r.stdout
    data = json.loads(run_cli("queries", "--format", "json").stdout)
    by_name = {q["name"]: q for q in data}
    assert by_name["payer-policy"]["params"][0]["name"] == "payer"
    assert by_name["payer-policy"]["params"][0]["required"] is True


def test_query_payer_matrix_formats(run_cli):
    table = run_cli("query", "payer-matrix")
    assert table.returncode == 0, table.stderr
    assert "not stated in source" in table.stdout and "(7 rows)" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run_cli("query", "payer-matrix", "-f", "csv").stdout)))
    assert len(rows) == 7
    assert {r["payerName"] for r in rows} == {
        "Aetna",
        "Blue Cross Blue Shield",
        "Cigna Health",
        "Medicare",
        "UnitedHealthcare",
    }
    sj = json.loads(run_cli("query", "payer-matrix", "--format", "sparql-json").stdout)
    assert len(sj["results"]["bindings"]) == 7
    tsv = run_cli("query", "payer-matrix", "-f", "tsv").stdout.splitlines()
    assert tsv[0].startswith("?payerName\t?payerType\t?policy")


def test_query_with_params(run_cli):
    r = run_cli("query", "payer-policy", "--param", "payer=cigna health", "-f", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["payerName"] for row in rows] == ["Cigna Health"]


def test_query_errors_exit_2_with_choices(run_cli):
    r = run_cli("query", "payer-matrx")
    assert r.returncode == 2
    assert "unknown query 'payer-matrx'" in r.stderr and "payer-matrix" in r.stderr
    r = run_cli("query", "policies-as-of")
    assert r.returncode == 2 and "needs parameter 'asOf'" in r.stderr
    r = run_cli("query", "policies-as-of", "-p", "asOf=2025-31-12")
    assert r.returncode == 2 and "not a date" in r.stderr and "YYYY-MM-DD" in r.stderr
    r = run_cli("query", "payer-matrix", "-p", "payer=Aetna")
    assert r.returncode == 2 and "no parameter 'payer'" in r.stderr
    r = run_cli("query", "payer-policy", "-p", "payer=Nobody")
    assert r.returncode == 2 and "Aetna" in r.stderr
    assert "Traceback" not in r.stderr


def test_query_injection_through_cli(run_cli):
    r = run_cli("query", "search-labels", "-p", 'text=x") } UNION { ?resource ?property ?value } #')
    assert r.returncode == 0, r.stderr
    assert "(0 rows)" in r.stdout


def test_sparql_adhoc(run_cli, tmp_path):
    r = run_cli(
        "sparql",
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?n WHERE { ?c skos:notation ?n FILTER(STRSTARTS(?n, '6486')) } ORDER BY ?n",
        "-f",
        "csv",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:5] == ["n", "64864", "64865", "64866", "64868"]
    q = tmp_path / "q.rq"
    q.write_text("ASK { ?s a <https://w3id.org/cptkg/ontology#Payer> }")
    r = run_cli("sparql", "--file", str(q))
    assert r.returncode == 0 and r.stdout == "true\n"
    r = run_cli("sparql", "SELECT WHERE {")
    assert r.returncode == 2 and "SPARQL" in r.stderr and "Traceback" not in r.stderr


def test_report_markdown_and_html(run_cli, tmp_path):
    r = run_cli("report", "64866")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# CPT 64866")
    assert "## Knowledge Gaps" in r.stdout
    out = tmp_path / "r.html"
    r = run_cli("report", "64866", "--format", "html", "-o", str(out))
    assert r.returncode == 0, r.stderr
    page = out.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<caption>Payer matrix</caption>" in page


def test_report_unknown_code_exit_2(run_cli):
    r = run_cli("report", "12345")
    assert r.returncode == 2
    assert "12345" in r.stderr and "64866" in r.stderr
