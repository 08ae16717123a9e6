"""Guards on queries: blank searches, long values in messages, SERVICE in ad-hoc queries."""

from __future__ import annotations

import pytest

from cptkg.catalog import get_query
from cptkg.engines.rdflib_engine import RdflibEngine
from cptkg.query import (
    SHOWN_LIMIT,
    FederationRefused,
    ParameterError,
    bind_params,
    parse_param_args,
    run_sparql,
    shown,
    to_iri,
    uses_service,
)


@pytest.fixture(scope="module")
def engine(shipped_union):
    return RdflibEngine(shipped_union)


# --------------------------------------------------------------------------- empty searches


@pytest.mark.parametrize("query", ["search-labels", "icd10cm-codes"])
@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_blank_search_text_is_refused(query, text):
    with pytest.raises(ParameterError, match="empty search text .* would match everything"):
        bind_params(get_query(query), {"text": text})


def test_search_text_with_content_is_bound():
    assert str(bind_params(get_query("search-labels"), {"text": " aetna "})["_text"]) == " aetna "


def test_cli_blank_search_exits_2(run_cli):
    r = run_cli("query", "search-labels", "--param", "text=  ")
    assert r.returncode == 2
    assert "empty search text" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


# --------------------------------------------------------------------------- long values


def test_shown_keeps_short_values_and_cuts_long_ones():
    assert shown("Aetna") == "'Aetna'"
    assert shown("x" * SHOWN_LIMIT) == repr("x" * SHOWN_LIMIT)
    long = "y" * 100_000
    text = shown(long)
    assert text == repr("y" * SHOWN_LIMIT) + "… (100,000 characters)"


LONG = "z" * 100_000


@pytest.mark.parametrize(
    "call",
    [
        lambda e: bind_params(get_query("policies-as-of"), {"asOf": LONG}),
        lambda e: bind_params(get_query("payer-policy"), {"payer": LONG}, e),
        lambda e: bind_params(get_query("search-labels"), {LONG: "x"}),
        lambda e: to_iri(LONG, "p"),
        lambda e: parse_param_args([LONG]),
        lambda e: run_sparql(e, "SELECT * WHERE { ?s ?p ?o } LIMIT 1", {"!" + LONG[1:]: "x"}),
    ],
    ids=["date", "payer", "unknown-name", "iri", "param-arg", "variable-name"],
)
def test_long_values_are_cut_in_messages(engine, call):
    with pytest.raises(ParameterError) as info:
        call(engine)
    message = str(info.value)
    assert "… (100,000 characters)" in message
    assert len(message) < 2_000


def test_cli_long_value_is_cut(run_cli):
    r = run_cli("query", "payer-policy", "--param", "payer=" + "q" * 100_000)
    assert r.returncode == 2
    assert "… (100,000 characters)" in r.stderr
    assert len(r.stderr) < 5_000


# --------------------------------------------------------------------------- SERVICE

SERVICE_QUERY = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"


@pytest.mark.parametrize(
    "sparql",
    [
        SERVICE_QUERY,
        "select * where { service silent <http://x.example/q> { ?s ?p ?o } }",
        "SELECT * WHERE {\n  Service ?endpoint { ?s ?p ?o }\n}",
    ],
)
def test_service_is_detected(sparql):
    assert uses_service(sparql)


@pytest.mark.parametrize(
    "sparql",
    [
        "SELECT * WHERE { ?s ?p 'SERVICE' } # SERVICE <http://x>",
        'SELECT * WHERE { ?s ?p """a SERVICE b""" }',
        "SELECT ?service WHERE { ?service a <http://example.org/SERVICE> }",
        "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:SERVICE ?o ; ex:service-x ?y }",
        "PREFIX service: <http://example.org/> SELECT * WHERE { ?s service:p ?o }",
    ],
)
def test_service_in_strings_comments_iris_and_names_is_not_detected(sparql):
    assert not uses_service(sparql)


def test_run_sparql_refuses_service_unless_allowed(engine):
    with pytest.raises(FederationRefused, match="federation"):
        run_sparql(engine, SERVICE_QUERY)
    # allowed: the query reaches the engine (whatever the engine then makes of the SERVICE)
    result = run_sparql(
        engine,
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1 # SERVICE only in a comment",
    )
    assert len(result.rows) == 1


def test_cli_sparql_refuses_service(run_cli):
    r = run_cli("sparql", SERVICE_QUERY)
    assert r.returncode == 2
    assert "SERVICE" in r.stderr and "refused for ad-hoc queries" in r.stderr
    assert "--allow-service" in r.stderr
    assert "syntax" not in r.stderr.lower()


def test_cli_sparql_allow_service_passes_the_query_on(run_cli):
    # the endpoint named is a closed local port: the refusal is gone, the engine reports its own
    # failure (or an empty result), never the federation refusal
    r = run_cli(
        "sparql",
        "--allow-service",
        "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    )
    assert "refused for ad-hoc queries" not in r.stderr
    assert "Traceback" not in r.stderr
