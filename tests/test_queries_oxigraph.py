"""The same stored queries, bound the same way, give the golden results on Oxigraph too."""

from __future__ import annotations

import pytest

from cptkg.catalog import load_catalog, query_files
from cptkg.engines.base import SelectResult
from cptkg.query import bind_params
from goldens import GOLDEN_PARAMS, normal_result, read_golden

pytest.importorskip("pyoxigraph")

NAMES = [p.stem for p in query_files()]


@pytest.fixture(scope="module")
def oxigraph():
    """The real engine over the shipped graph (ontology + data/), as ``--engine oxigraph``."""
    from cptkg.engines.oxigraph_engine import OxigraphEngine

    return OxigraphEngine.from_paths(progress=False)


@pytest.mark.parametrize("name", NAMES)
def test_oxigraph_matches_golden(oxigraph, name):
    query = load_catalog()[name]
    params = GOLDEN_PARAMS.get(name, {})
    result = oxigraph.query(query.text, bind_params(query, params))
    assert isinstance(result, SelectResult)
    _golden_params, expected = read_golden(name)
    assert normal_result(result) == normal_result(expected)


def test_oxigraph_payer_by_name_and_iri(oxigraph):
    from cptkg.query import run_stored

    by_name = run_stored(oxigraph, "payer-policy", {"payer": "unitedhealthcare"})
    by_iri = run_stored(oxigraph, "payer-policy", {"payer": "kg:payer-uhc"})
    assert len(by_name) == 1
    assert normal_result(by_name) == normal_result(by_iri)
