"""Remote queries: RemoteEngine against a real oxigraph serve, the equivalence of
every stored query embedded vs remote, and every fault mapped to a clear EndpointError."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from rdflib import XSD, Graph, Literal, URIRef

from cptkg.engines.base import SelectResult
from cptkg.engines.remote import (
    RemoteEngine,
    check_url,
    derive_layout,
    query_form,
    redact_url,
    scrub,
)
from cptkg.engines.settings import DEFAULT_GRAPH_IRI, Credentials, resolve_graph
from cptkg.errors import EndpointError
from server_support import stub_endpoint, wait_gone

EX = "http://example.org/cptkg-test/"
SMALL = f"""
@prefix ex: <{EX}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a rdfs:label "Alpha"@en ; ex:amount "1.30"^^xsd:decimal ; ex:next ex:b .
ex:b rdfs:label "Beta \\"quoted\\" }} # not a comment" ; ex:amount 2 .
"""


def small_graph() -> Graph:
    return Graph().parse(data=SMALL, format="turtle")


# --------------------------------------------------------------------------- pure functions


def test_redact_url_removes_user_and_password():
    assert redact_url("http://alice:s3cret@h.example:8890/sparql?x=1") == (
        "http://h.example:8890/sparql?x=1"
    )
    assert redact_url("http://127.0.0.1:7878/query") == "http://127.0.0.1:7878/query"


def test_url_with_credentials_is_refused_without_echoing_them():
    with pytest.raises(EndpointError) as info:
        check_url("http://alice:s3cret@127.0.0.1:7878/query")
    assert "s3cret" not in str(info.value) and "alice" not in str(info.value)
    assert "CPTKG_ENDPOINT_PASSWORD" in (info.value.hint or "")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/query", "127.0.0.1:7878/query", "http://"])
def test_not_an_http_url_is_refused(url):
    with pytest.raises(EndpointError, match="not an http"):
        check_url(url)


@pytest.mark.parametrize(
    ("query", "kind", "update", "store"),
    [
        (
            "http://127.0.0.1:7878/query",
            "oxigraph",
            "http://127.0.0.1:7878/update",
            "http://127.0.0.1:7878/store",
        ),
        ("http://h:3030/ds/sparql", "fuseki", "http://h:3030/ds/update", "http://h:3030/ds/data"),
        ("http://h:3030/ds/query", "fuseki", "http://h:3030/ds/update", "http://h:3030/ds/data"),
        (
            "http://h:7200/repositories/cptkg",
            "graphdb",
            "http://h:7200/repositories/cptkg/statements",
            "http://h:7200/repositories/cptkg/rdf-graphs/service",
        ),
        (
            "http://h:8890/sparql",
            "virtuoso",
            "http://h:8890/sparql-auth",
            "http://h:8890/sparql-graph-crud-auth",
        ),
        ("http://h/some/endpoint", "custom", None, None),
    ],
)
def test_layouts_are_derived_from_the_query_url(query, kind, update, store):
    layout = derive_layout(query)
    assert (layout.kind, layout.update, layout.store) == (kind, update, store)


def test_explicit_update_and_store_urls_win():
    layout = derive_layout("http://h/sparql", update="http://h/u", store="http://h/s")
    assert (layout.update, layout.store) == ("http://h/u", "http://h/s")
    assert layout.store_url(DEFAULT_GRAPH_IRI) == (
        "http://h/s?graph=https%3A%2F%2Fw3id.org%2Fcptkg%2Fgraph%2Fcptkg"
    )


def test_virtuoso_store_uses_graph_uri_parameter():
    layout = derive_layout("http://h:8890/sparql")
    assert layout.store_url("http://g/1").endswith(
        "/sparql-graph-crud-auth?graph-uri=http%3A%2F%2Fg%2F1"
    )


def test_graph_resolution(monkeypatch):
    monkeypatch.delenv("CPTKG_GRAPH", raising=False)
    assert resolve_graph(None) == DEFAULT_GRAPH_IRI
    assert resolve_graph("default") is None
    monkeypatch.setenv("CPTKG_GRAPH", "http://example.org/g")
    assert resolve_graph(None) == "http://example.org/g"
    with pytest.raises(EndpointError, match="not an absolute IRI"):
        resolve_graph("not an iri")


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("# SELECT in a comment\nPREFIX s: <http://x/SELECT>\nASK { ?s ?p ?o }", "ASK"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { { SELECT ?s ?p ?o WHERE { ?s ?p ?o } } }", "CONSTRUCT"),
        ('select ?x where { ?x ?p "ASK" }', "SELECT"),
    ],
)
def test_query_form(text, form):
    assert query_form(text) == form


def test_scrub_removes_password_and_basic_token():
    creds = Credentials("alice", "p@ss w0rd!")
    import base64

    token = base64.b64encode(b"alice:p@ss w0rd!").decode()
    text = scrub(f"failed: Authorization: Basic {token}; echo p@ss w0rd!", creds)
    assert "p@ss w0rd!" not in text and token not in text
    assert "p@ss" not in repr(creds)


# --------------------------------------------------------------------------- real server


@pytest.fixture
def small_graph_on_server(oxigraph_server):
    iri = "http://example.org/cptkg-test/graph/small"
    oxigraph_server.load(small_graph(), iri)
    return iri


@pytest.mark.server
def test_select_returns_typed_rdflib_terms(oxigraph_server, small_graph_on_server):
    engine = RemoteEngine(oxigraph_server.query_url, default_graph=small_graph_on_server)
    result = engine.query(
        f"PREFIX ex: <{EX}> SELECT ?s ?amount ?missing WHERE "
        "{ ?s ex:amount ?amount OPTIONAL { ?s ex:none ?missing } } ORDER BY ?s"
    )
    assert isinstance(result, SelectResult)
    assert result.variables == ["s", "amount", "missing"]
    assert [r[0] for r in result.rows] == [URIRef(EX + "a"), URIRef(EX + "b")]
    amount = result.rows[0][1]
    assert isinstance(amount, Literal) and amount.datatype == XSD.decimal
    assert amount.toPython() == Decimal("1.3")  # canonicalised by Oxigraph, same value
    assert result.rows[1][1] == Literal(2)
    assert result.rows[0][2] is None


@pytest.mark.server
def test_ask_and_construct(oxigraph_server, small_graph_on_server):
    engine = RemoteEngine(oxigraph_server.query_url, default_graph=small_graph_on_server)
    assert engine.query(f"ASK {{ <{EX}a> <{EX}next> <{EX}b> }}") is True
    assert engine.query(f"ASK {{ <{EX}b> <{EX}next> <{EX}a> }}") is False
    g = engine.query(
        f"CONSTRUCT {{ ?s <{EX}label> ?l }} "
        "WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
    )
    assert isinstance(g, Graph) and len(g) == 2
    assert (URIRef(EX + "b"), URIRef(EX + "label"), Literal('Beta "quoted" } # not a comment')) in g


@pytest.mark.server
def test_default_graph_uri_is_what_makes_the_named_graph_visible(
    oxigraph_server, small_graph_on_server
):
    """The fixture server runs without --union-default-graph: only the protocol parameter
    (SPARQLWrapper addDefaultGraph -> default-graph-uri) shows the pushed named graph."""
    q = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}amount> ?o }}"
    with_graph = RemoteEngine(oxigraph_server.query_url, default_graph=small_graph_on_server)
    without = RemoteEngine(oxigraph_server.query_url, default_graph=None)
    assert with_graph.query(q).rows[0][0].toPython() == 2
    assert without.query(q).rows[0][0].toPython() == 0


@pytest.mark.server
def test_parameters_are_bound_as_terms_not_text(oxigraph_server, small_graph_on_server):
    engine = RemoteEngine(oxigraph_server.query_url, default_graph=small_graph_on_server)
    q = "SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s"
    hit = engine.query(q, {"label": Literal('Beta "quoted" } # not a comment')})
    assert hit.rows == [(URIRef(EX + "b"),)]
    # a value that would break the query if pasted into its text is just a literal
    evil = engine.query(q, {"label": Literal('x" } } ; DROP ALL ; SELECT * { "')})
    assert evil.rows == []
    assert engine.query(q, {"label": Literal("Alpha", lang="en")}).rows == [(URIRef(EX + "a"),)]


# --------------------------------------------------------------------------- equivalence


def _catalog_names() -> list[str]:
    from cptkg.catalog import query_files

    return [p.stem for p in query_files()]


def test_the_stored_query_catalog_is_not_empty():
    """The equivalence test below is parametrised over the catalog: it must not pass empty."""
    assert _catalog_names(), "queries/*.rq is empty: the equivalence test would test nothing"


def _normalise(outcome):
    """Engine-neutral form (tests/goldens.py): numbers by value (Oxigraph canonicalises
    decimals, 1.30 -> 1.3), plain = xsd:string literals, blank nodes by position; graphs by
    isomorphism."""
    from goldens import normal_result

    if isinstance(outcome, bool):
        return outcome
    if isinstance(outcome, Graph):
        from rdflib.compare import to_isomorphic

        return to_isomorphic(outcome)
    assert isinstance(outcome, SelectResult)
    return normal_result(outcome)


@pytest.fixture(scope="session")
def embedded_engine():
    from cptkg.engines import open_graph

    return open_graph()


@pytest.fixture(scope="session")
def shipped_graph_on_server(oxigraph_server, shipped_union):
    """The shipped graph (ontology + data, as the embedded engine sees it) pushed with
    `push_graph` into the default push graph of the session server."""
    from cptkg.push import push_graph

    result = push_graph(
        shipped_union,
        derive_layout(oxigraph_server.query_url),
        DEFAULT_GRAPH_IRI,
        method="gsp",
        use_env_credentials=False,
    )
    assert result.triples == len(shipped_union) > 0
    return RemoteEngine(oxigraph_server.query_url, default_graph=DEFAULT_GRAPH_IRI)


@pytest.mark.server
@pytest.mark.parametrize("name", _catalog_names())
def test_stored_query_gives_the_same_answer_embedded_and_on_the_server(
    name, embedded_engine, shipped_graph_on_server
):
    from cptkg.query import run_stored
    from goldens import GOLDEN_PARAMS

    params = GOLDEN_PARAMS.get(name, {})
    local = run_stored(embedded_engine, name, params)
    remote = run_stored(shipped_graph_on_server, name, params)
    assert type(local) is type(remote)
    assert _normalise(remote) == _normalise(local)


@pytest.mark.server
def test_the_equivalence_is_not_vacuous(shipped_graph_on_server):
    """Most non-check stored queries answer with rows on the server (so equal = meaningful)."""
    from cptkg.query import run_stored
    from goldens import GOLDEN_PARAMS

    names = [n for n in _catalog_names() if not n.startswith("check-")]
    answered = [
        n
        for n in names
        if len(run_stored(shipped_graph_on_server, n, GOLDEN_PARAMS.get(n, {}))) > 0
    ]
    assert len(answered) >= len(names) * 3 // 4, sorted(set(names) - set(answered))


@pytest.mark.server
def test_remote_results_format_exactly_like_local_ones(embedded_engine, shipped_graph_on_server):
    """Same answer, same bytes: every result format of one stored query is identical."""
    from cptkg.query import run_stored
    from cptkg.results import format_result

    name = _catalog_names()[0]
    local = run_stored(embedded_engine, name)
    remote = run_stored(shipped_graph_on_server, name)
    for fmt in ("csv", "tsv", "json", "sparql-json", "table"):
        assert format_result(remote, fmt) == format_result(local, fmt), fmt


# --------------------------------------------------------------------------- faults


def test_connection_refused_names_the_endpoint():
    from cptkg.server import free_port

    url = f"http://127.0.0.1:{free_port()}/query"
    with pytest.raises(EndpointError) as info:
        RemoteEngine(url, timeout=5).query("ASK {}")
    msg = str(info.value)
    assert url in msg and "connection refused" in msg


def test_timeout_is_bounded_and_reported():
    with stub_endpoint(body=b'{"head":{},"boolean":true}', delay=3.0) as stub:
        start = time.monotonic()
        with pytest.raises(EndpointError) as info:
            RemoteEngine(stub.url + "/query", timeout=0.5).query("ASK {}")
        elapsed = time.monotonic() - start
    assert elapsed < 2.5
    assert "timed out" in str(info.value) and stub.url in str(info.value)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, "HTTP 400 Bad Request: parse error at line 1"),
        (401, "HTTP 401 Unauthorized"),
        (403, "HTTP 403 Forbidden"),
        (404, "HTTP 404 Not Found"),
        (500, "HTTP 500 Internal Server Error"),
        (503, "HTTP 503 Service Unavailable"),
    ],
)
def test_http_errors_are_named(status, expected):
    with stub_endpoint(
        status=status, body=b"parse error at line 1", content_type="text/plain"
    ) as stub:
        with pytest.raises(EndpointError) as info:
            RemoteEngine(stub.url + "/query", timeout=5).query("SELECT * WHERE { ?s ?p ?o }")
    assert expected in str(info.value)
    assert f"SPARQL endpoint {stub.url}/query" in str(info.value)


def test_malformed_json_body():
    with stub_endpoint(body=b'{"head": {"vars": ["x"]}, "results": {"bindi') as stub:
        with pytest.raises(EndpointError, match="malformed SPARQL JSON results"):
            RemoteEngine(stub.url + "/query", timeout=5).query("SELECT ?x WHERE { ?x ?p ?o }")


def test_json_that_is_not_sparql_results():
    body = json.dumps({"boolean": True}).encode()
    with stub_endpoint(body=body) as stub:
        with pytest.raises(EndpointError, match="SELECT query got no variables"):
            RemoteEngine(stub.url + "/query", timeout=5).query("SELECT ?x WHERE { ?x ?p ?o }")


def test_wrong_content_type():
    with stub_endpoint(body=b"<html>login</html>", content_type="text/html") as stub:
        with pytest.raises(EndpointError) as info:
            RemoteEngine(stub.url + "/query", timeout=5).query("SELECT ?x WHERE { ?x ?p ?o }")
    assert "content type 'text/html'" in str(info.value)
    with stub_endpoint(body=b"{}", content_type="application/sparql-results+json") as stub:
        with pytest.raises(EndpointError, match="graph query with content type"):
            RemoteEngine(stub.url + "/query", timeout=5).query("CONSTRUCT WHERE { ?s ?p ?o }")


def test_malformed_turtle_for_construct():
    with stub_endpoint(body=b"<http://a> <http://b> .", content_type="text/turtle") as stub:
        with pytest.raises(EndpointError, match="malformed turtle graph"):
            RemoteEngine(stub.url + "/query", timeout=5).query("CONSTRUCT WHERE { ?s ?p ?o }")


def test_credentials_from_env_are_sent_and_never_shown(monkeypatch):
    monkeypatch.setenv("CPTKG_ENDPOINT_USER", "alice")
    monkeypatch.setenv("CPTKG_ENDPOINT_PASSWORD", "Zq9-secret-Zq9")
    with stub_endpoint(status=500, body=b"echo: Zq9-secret-Zq9", echo_headers=True) as stub:
        with pytest.raises(EndpointError) as info:
            RemoteEngine(stub.url + "/query", timeout=5).query("ASK {}")
        sent = stub.requests[0]["headers"]
    import base64

    token = base64.b64encode(b"alice:Zq9-secret-Zq9").decode()
    assert sent.get("Authorization") == f"Basic {token}"
    shown = str(info.value) + (info.value.hint or "")
    assert "Zq9-secret-Zq9" not in shown and token not in shown
    assert "HTTP 500" in shown


@pytest.mark.server
def test_server_killed_mid_session(fresh_server):
    engine = RemoteEngine(fresh_server.query_url, timeout=5)
    assert engine.query("ASK { ?s ?p ?o }") is False
    pid = fresh_server.pid
    fresh_server.kill()
    assert wait_gone(pid)
    with pytest.raises(EndpointError) as info:
        engine.query("ASK { ?s ?p ?o }")
    assert fresh_server.query_url in str(info.value)
    assert "connection refused" in str(info.value)


# --------------------------------------------------------------------------- the CLI


@pytest.mark.server
@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "sparql-json", "table"])
def test_cli_query_on_the_endpoint_prints_the_same_bytes(shipped_graph_on_server, run_cli, fmt):
    from goldens import GOLDEN_PARAMS

    url = shipped_graph_on_server.endpoint
    params = [f"--param={k}={v}" for k, v in GOLDEN_PARAMS["payer-policy"].items()]
    local = run_cli("query", "payer-policy", *params, "--format", fmt)
    remote = run_cli("query", "payer-policy", *params, "--format", fmt, "--endpoint", url)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and remote.stdout.strip()


@pytest.mark.server
def test_cli_sparql_and_report_take_the_endpoint_from_the_environment(
    shipped_graph_on_server, run_cli
):
    env = {"CPTKG_ENDPOINT": shipped_graph_on_server.endpoint}
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    local, remote = run_cli("sparql", q, "-f", "csv"), run_cli("sparql", q, "-f", "csv", env=env)
    assert remote.returncode == 0 and remote.stdout == local.stdout
    local, remote = run_cli("report", "64866"), run_cli("report", "64866", env=env)
    assert remote.returncode == 0 and remote.stdout == local.stdout


@pytest.mark.server
def test_cli_query_graph_default_reads_the_endpoints_default_graph(
    shipped_graph_on_server, run_cli
):
    """--graph default sends no default-graph-uri: on this server (no union default graph)
    the pushed named graph is then invisible, so the payer-matrix is empty."""
    url = shipped_graph_on_server.endpoint
    r = run_cli("query", "payer-matrix", "-f", "csv", "--endpoint", url, "--graph", "default")
    assert r.returncode == 0
    assert len(r.stdout.strip().splitlines()) == 1  # the header only


def test_cli_query_on_a_dead_endpoint_exits_2(run_cli):
    from cptkg.server import free_port

    url = f"http://127.0.0.1:{free_port()}/query"
    r = run_cli("query", "payer-matrix", "--endpoint", url, "--timeout", "5")
    assert r.returncode == 2
    assert f"cptkg: error: SPARQL endpoint {url}: connection refused" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_query_never_prints_the_password(run_cli):
    env = {"CPTKG_ENDPOINT_USER": "carol", "CPTKG_ENDPOINT_PASSWORD": "Pw-cli-4242"}
    with stub_endpoint(status=401, body=b"bad Pw-cli-4242", echo_headers=True) as stub:
        r = run_cli("query", "payer-matrix", "--endpoint", stub.url + "/query", env=env)
    assert r.returncode == 2 and "HTTP 401" in r.stderr
    assert "Pw-cli-4242" not in r.stderr + r.stdout


@pytest.mark.server
def test_a_remote_graph_validates_like_the_embedded_one(oxigraph_server):
    """Validation through the query endpoint alone finds what the embedded engine finds."""
    from pathlib import Path

    from cptkg.engines import open_graph
    from cptkg.engines.settings import GraphSettings
    from cptkg.push import push_graph

    fixture = Path(__file__).parent / "data" / "invalid" / "payer-policy-coverage-unanswered.ttl"
    local = open_graph(GraphSettings(engine="oxigraph", paths=(fixture,)))
    graph_iri = "http://example.org/cptkg-test/validate"
    union = Graph().parse(data=local.export("nt"), format="nt")
    push_graph(
        union,
        derive_layout(oxigraph_server.query_url),
        graph_iri,
        method="gsp",
        use_env_credentials=False,
    )
    remote = open_graph(GraphSettings.remote(oxigraph_server.query_url, graph=graph_iri))

    def findings(engine):
        result = engine.validate()
        return sorted(
            (str(f.focus_node), str(f.source_shape), f.severity, f.message) for f in result.results
        )

    expected = findings(local)
    assert expected, "the fixture must give findings"
    assert findings(remote) == expected
