"""Parameters: typed conversion, clear errors, payer by name or IRI, dates, and injection."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from cptkg.catalog import get_query
from cptkg.engines.base import SelectResult, inject_values
from cptkg.engines.rdflib_engine import RdflibEngine
from cptkg.query import ParameterError, bind_params, run_sparql, run_stored

DATA = Path(__file__).resolve().parent / "data" / "queries"
KG = "https://w3id.org/cptkg/id/"


@pytest.fixture(scope="module")
def engine(shipped_union):
    return RdflibEngine(shipped_union)


@pytest.fixture(scope="module")
def dated_engine(shipped_union):
    """The shipped graph plus illustrative dated policies (tests/data/queries)."""
    g = Graph()
    g += shipped_union
    g.parse(DATA / "dated-policies.ttl")
    return RdflibEngine(g)


def _col(result, name):
    assert isinstance(result, SelectResult)
    return [None if r[name] is None else str(r[name]) for r in result.as_dicts()]


# ---------------------------------------------------------------- conversion and errors


def test_date_is_bound_as_xsd_date():
    b = bind_params(get_query("policies-as-of"), {"asOf": "2025-06-30"})
    assert b["_asOf"] == Literal("2025-06-30", datatype=XSD.date)
    assert b["_code"] == Literal("64866")


@pytest.mark.parametrize("bad", ["2025-02-30", "30/06/2025", "2025-6-3", "yesterday", ""])
def test_malformed_date_names_param_and_format(bad):
    with pytest.raises(ParameterError) as exc:
        bind_params(get_query("policies-as-of"), {"asOf": bad})
    assert "asOf" in exc.value.message and "not a date" in exc.value.message
    assert "YYYY-MM-DD" in (exc.value.hint or "")


def test_missing_required_parameter():
    with pytest.raises(ParameterError) as exc:
        bind_params(get_query("payer-policy"), {})
    assert "payer" in exc.value.message
    assert "--param payer=" in (exc.value.hint or "")


def test_unknown_parameter_lists_valid_ones():
    with pytest.raises(ParameterError) as exc:
        bind_params(get_query("policies-as-of"), {"date": "2025-01-01"})
    assert "date" in exc.value.message
    assert "asOf:date" in (exc.value.hint or "") and "code:code" in (exc.value.hint or "")


def test_unknown_payer_lists_payers(engine):
    with pytest.raises(ParameterError) as exc:
        run_stored(engine, "payer-policy", {"payer": "Humana"})
    assert "Humana" in exc.value.message
    assert "Aetna" in (exc.value.hint or "") and "Medicare" in (exc.value.hint or "")


def test_unknown_code_lists_codes(engine):
    with pytest.raises(ParameterError) as exc:
        run_stored(engine, "payer-matrix", {"code": "99999"})
    assert "64866" in (exc.value.hint or "")


def test_bad_iri_is_rejected():
    with pytest.raises(ParameterError, match="not an IRI"):
        bind_params(get_query("provenance"), {"subject": "not an iri"})


# ---------------------------------------------------------------- payer by name or IRI


@pytest.mark.parametrize(
    "value", ["Aetna", "aetna", "AETNA", "kg:payer-aetna", KG + "payer-aetna", f"<{KG}payer-aetna>"]
)
def test_payer_by_name_or_iri_gives_the_same_rows(engine, value):
    result = run_stored(engine, "payer-policy", {"payer": value})
    assert sorted(_col(result, "policy")) == [
        KG + "policy-aetna-64866-overview",
        KG + "policy-aetna-cpb-0366",
        KG + "policy-aetna-cpb-0745",
    ]
    assert set(_col(result, "payerName")) == {"Aetna"}


def test_payer_policy_shows_not_stated_in_source(engine):
    rows = run_stored(engine, "payer-policy", {"payer": "Medicare"}).as_dicts()
    assert len(rows) == 1
    for key in (
        "coverage",
        "priorAuthorization",
        "siteOfServiceRestriction",
        "documentation",
        "criteria",
        "effectiveDate",
    ):
        assert str(rows[0][key]) == "not stated in source", key


def test_optional_parameter_left_unbound_lists_everything(engine):
    everything = run_stored(engine, "provenance")
    one = run_stored(engine, "provenance", {"subject": "kg:indication-traumatic-transection"})
    assert len(everything) > 50
    assert _col(one, "subject") == [KG + "indication-traumatic-transection"]
    assert _col(one, "quote") == ["traumatic facial nerve transection"]
    assert _col(one, "document") == [
        "CPT 64866: Facial Nerve to Spinal Accessory Nerve Transfer for Facial Reanimation"
    ]


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2022-12-31", []),
        ("2023-01-01", ["Example v1"]),
        ("2023-12-31", ["Example v1"]),
        ("2024-01-01", ["Example v2"]),
        ("2025-06-30", ["Example v2"]),
        ("2025-07-01", ["Example v3"]),  # v3 supersedes v2, which has no end date
    ],
)
def test_policies_as_of_dates(dated_engine, as_of, expected):
    rows = run_stored(dated_engine, "policies-as-of", {"asOf": as_of}).as_dicts()
    dated = [str(r["policyLabel"]) for r in rows if str(r["payerName"]) == "Example Health Plan"]
    assert dated == expected
    assert {str(r["inForce"]) for r in rows if str(r["payerName"]) == "Example Health Plan"} <= {
        "in force"
    }


def test_undated_policies_are_flagged_not_dropped(engine):
    rows = run_stored(engine, "policies-as-of", {"asOf": "2025-06-30"}).as_dicts()
    assert len(rows) == 7
    assert {str(r["inForce"]) for r in rows} == {"unknown: effective date not stated in source"}


# ---------------------------------------------------------------- injection


ATTEMPTS = [
    'x")) } UNION { ?resource ?property ?value } #',
    "x'} } SELECT * WHERE { ?s ?p ?o } #",
    'a"\n} ; DELETE WHERE { ?s ?p ?o } #',
    '"""\n}}}\n#',
    '\\" } #',
    'trapez"}',
]


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_injection_attempt_is_just_a_literal(shipped_union, attempt):
    g = Graph()
    g += shipped_union
    before = len(g)
    engine = RdflibEngine(g)
    query = get_query("search-labels")
    bindings = bind_params(query, {"text": attempt})
    assert bindings == {"_text": Literal(attempt)}
    # The query text built for the engine holds the value only as one serialised literal.
    text = inject_values(query.text, bindings)
    assert text.count(Literal(attempt).n3()) == 1
    from rdflib.plugins.sparql import prepareQuery

    prepared = prepareQuery(text)  # still one well-formed query
    assert prepared.algebra.name == "SelectQuery"
    result = run_stored(engine, "search-labels", {"text": attempt})
    assert isinstance(result, SelectResult)
    assert result.rows == [], "the attempt matched something: it changed the query"
    assert len(g) == before


def test_injection_attempt_on_payer_changes_nothing(engine):
    with pytest.raises(ParameterError):
        run_stored(engine, "payer-policy", {"payer": 'Aetna" || true) } #'})
    # Without the graph check, the value still reaches the engine only as a literal: no rows.
    result = run_stored(
        engine, "payer-policy", {"payer": 'Aetna") || true) } #'}, check_values=False
    )
    assert len(result) == 0


def test_same_value_without_tricks_matches(engine):
    result = run_stored(engine, "search-labels", {"text": "trapez"})
    assert len(result) == 4


def test_adhoc_query_parameters(engine):
    sparql = "SELECT ?n WHERE { ?p <http://www.w3.org/2000/01/rdf-schema#label> ?n } ORDER BY ?n"
    result = run_sparql(engine, sparql, {"p": f"<{KG}payer-aetna>"})
    assert _col(result, "n") == ["Aetna"]
    assert isinstance(URIRef(KG), URIRef)
