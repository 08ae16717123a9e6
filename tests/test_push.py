"""``cptkg push``: Graph Store PUT or one SPARQL Update replaces a named graph on a
real oxigraph serve; a failed push leaves the old graph whole; credentials never leak."""

from __future__ import annotations

import base64

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from cptkg.engines.remote import EndpointLayout, RemoteEngine, derive_layout
from cptkg.engines.settings import DEFAULT_GRAPH_IRI
from cptkg.errors import EndpointError
from cptkg.push import push_graph, send, update_request
from server_support import stub_endpoint

EX = "http://example.org/cptkg-push/"


def graph_of(n: int, tag: str) -> Graph:
    g = Graph()
    for i in range(n):
        g.add((URIRef(f"{EX}{tag}{i}"), URIRef(EX + "value"), Literal(i)))
        g.add((URIRef(f"{EX}{tag}{i}"), URIRef(EX + "note"), Literal(f'{tag} "{i}" }} #')))
    return g


def graph_at(server, iri: str) -> Graph:
    """The content of named graph ``iri`` on the server (CONSTRUCT through the protocol)."""
    engine = RemoteEngine(server.query_url, default_graph=iri, use_env_credentials=False)
    result = engine.query("CONSTRUCT WHERE { ?s ?p ?o }")
    assert isinstance(result, Graph)
    return result


def by_value(g: Graph) -> Graph:
    """``g`` with every literal replaced by its engine-neutral value (tests/goldens.py):
    Oxigraph stores 1.30 as 1.3 and xsd:positiveInteger / nonNegativeInteger as xsd:integer,
    so a round trip through it keeps values, not lexical forms or derived integer types."""
    from goldens import normal

    out = Graph()
    for s, p, o in g:
        out.add((s, p, Literal(repr(normal(o))) if isinstance(o, Literal) else o))
    return out


pytestmark = pytest.mark.server


@pytest.mark.parametrize("method", ["gsp", "update"])
@pytest.mark.parametrize("body_format", ["nt", "ttl"])
def test_push_replaces_the_named_graph(oxigraph_server, method, body_format):
    iri = f"{EX}graph/replace-{method}-{body_format}"
    layout = derive_layout(oxigraph_server.query_url)
    a, b = graph_of(5, "a"), graph_of(3, "b")
    first = push_graph(a, layout, iri, method=method, body_format=body_format)
    assert (first.method, first.triples) == (method, len(a))
    assert isomorphic(graph_at(oxigraph_server, iri), a)
    push_graph(b, layout, iri, method=method, body_format=body_format)
    assert isomorphic(graph_at(oxigraph_server, iri), b)  # replaced, no leftovers of a


def test_push_leaves_other_graphs_alone(oxigraph_server):
    layout = derive_layout(oxigraph_server.query_url)
    keep, other = f"{EX}graph/keep", f"{EX}graph/other"
    push_graph(graph_of(4, "k"), layout, keep)
    push_graph(graph_of(2, "o"), layout, other, method="update")
    assert isomorphic(graph_at(oxigraph_server, keep), graph_of(4, "k"))


def test_failed_gsp_put_leaves_the_old_graph_whole(oxigraph_server):
    """A PUT whose body breaks half-way is refused as a whole: graph A is untouched."""
    iri = f"{EX}graph/atomic-gsp"
    layout = derive_layout(oxigraph_server.query_url)
    a = graph_of(6, "a")
    push_graph(a, layout, iri)
    body = graph_of(50, "new").serialize(format="nt").encode()
    broken = body[: len(body) // 2] + b'\n<http://broken> <http://x> "unterminated .\n'
    with pytest.raises(EndpointError) as info:
        send(
            "PUT",
            layout.store_url(iri),
            broken,
            "application/n-triples",
            10,
            None,
            what="Graph Store Protocol PUT",
        )
    assert "HTTP 400" in str(info.value) and "nothing was changed" in str(info.value)
    assert isomorphic(graph_at(oxigraph_server, iri), a)


def test_failed_update_leaves_the_old_graph_whole(oxigraph_server):
    """DROP + INSERT DATA is one request: if any part is bad, the DROP does not happen."""
    iri = f"{EX}graph/atomic-update"
    layout = derive_layout(oxigraph_server.query_url)
    a = graph_of(6, "a")
    push_graph(a, layout, iri, method="update")
    bad = update_request(graph_of(20, "new"), iri) + "; INSERT DATA { <http://x> }"
    assert layout.update is not None
    with pytest.raises(EndpointError, match="HTTP 400"):
        send(
            "POST",
            layout.update,
            bad.encode(),
            "application/sparql-update",
            10,
            None,
            what="SPARQL Update",
        )
    assert isomorphic(graph_at(oxigraph_server, iri), a)


def test_push_to_a_failing_store_changes_nothing_on_the_real_server(oxigraph_server):
    """Graph A on the real server; a push whose store answers 500 fails (exit 2 path) and A
    stays whole there."""
    iri = f"{EX}graph/atomic-stub"
    real = derive_layout(oxigraph_server.query_url)
    a = graph_of(5, "a")
    push_graph(a, real, iri)
    with stub_endpoint(status=500, body=b"disk full", content_type="text/plain") as stub:
        layout = EndpointLayout(query=oxigraph_server.query_url, store=stub.url + "/store")
        with pytest.raises(EndpointError) as info:
            push_graph(graph_of(9, "b"), layout, iri, method="gsp")
    assert "HTTP 500" in str(info.value) and "disk full" in str(info.value)
    assert f"{stub.url}/store?graph=" in str(info.value)
    assert isomorphic(graph_at(oxigraph_server, iri), a)


def test_auto_falls_back_to_update_only_when_there_is_no_graph_store(oxigraph_server):
    iri = f"{EX}graph/fallback"
    real = derive_layout(oxigraph_server.query_url)
    with stub_endpoint(status=405, body=b"no GSP here", content_type="text/plain") as stub:
        layout = EndpointLayout(query=real.query, update=real.update, store=stub.url + "/store")
        result = push_graph(graph_of(3, "f"), layout, iri)
        assert [r["method"] for r in stub.requests] == ["PUT"]
    assert result.method == "update"
    assert isomorphic(graph_at(oxigraph_server, iri), graph_of(3, "f"))
    # a 500 is not "no Graph Store Protocol": no fallback, the error is reported
    with stub_endpoint(status=500, body=b"boom", content_type="text/plain") as stub:
        layout = EndpointLayout(query=real.query, update=real.update, store=stub.url + "/s")
        with pytest.raises(EndpointError, match="HTTP 500"):
            push_graph(graph_of(1, "g"), layout, iri)
    assert isomorphic(graph_at(oxigraph_server, iri), graph_of(3, "f"))


def test_push_without_a_write_url_says_what_to_pass():
    layout = derive_layout("http://127.0.0.1:9/some/sparql/path")
    with pytest.raises(EndpointError) as info:
        push_graph(graph_of(1, "x"), layout, DEFAULT_GRAPH_IRI)
    assert "--store-endpoint" in (info.value.hint or "")


def test_push_credentials_are_sent_from_env_and_never_shown(monkeypatch):
    monkeypatch.setenv("CPTKG_ENDPOINT_USER", "bob")
    monkeypatch.setenv("CPTKG_ENDPOINT_PASSWORD", "Pw-7711-secret")
    with stub_endpoint(status=401, body=b"who is Pw-7711-secret?", echo_headers=True) as stub:
        layout = EndpointLayout(query=stub.url + "/query", store=stub.url + "/store")
        with pytest.raises(EndpointError) as info:
            push_graph(graph_of(1, "x"), layout, DEFAULT_GRAPH_IRI)
        sent = stub.requests[0]["headers"]
    token = base64.b64encode(b"bob:Pw-7711-secret").decode()
    assert sent["Authorization"] == f"Basic {token}"
    shown = str(info.value) + (info.value.hint or "")
    assert "HTTP 401" in shown
    assert "Pw-7711-secret" not in shown and token not in shown


# --------------------------------------------------------------------------- the CLI


def test_cli_push_loads_the_shipped_graph(oxigraph_server, run_cli, shipped_union):
    iri = f"{EX}graph/cli"
    r = run_cli("push", "--endpoint", oxigraph_server.query_url, "--graph", iri)
    assert r.returncode == 0, r.stderr
    assert f"pushed {len(shipped_union)} triples into graph <{iri}>" in r.stdout
    assert "Graph Store Protocol PUT" in r.stdout
    on_server = graph_at(oxigraph_server, iri)
    assert len(on_server) == len(shipped_union)
    assert isomorphic(by_value(on_server), by_value(shipped_union))


def test_cli_push_endpoint_from_environment(oxigraph_server, run_cli, tmp_path):
    iri = f"{EX}graph/cli-env"
    f = tmp_path / "small.ttl"
    f.write_text(graph_of(2, "e").serialize(format="turtle"), "utf-8")
    r = run_cli(
        "push",
        str(f),
        "--method",
        "update",
        env={"CPTKG_ENDPOINT": oxigraph_server.query_url, "CPTKG_GRAPH": iri},
    )
    assert r.returncode == 0, r.stderr
    assert "SPARQL Update" in r.stdout
    assert isomorphic(graph_at(oxigraph_server, iri), graph_of(2, "e"))


def test_cli_push_connection_refused_exits_2(run_cli):
    from cptkg.server import free_port

    url = f"http://127.0.0.1:{free_port()}/query"
    r = run_cli("push", "--endpoint", url, "--timeout", "5")
    assert r.returncode == 2
    assert "connection refused" in r.stderr and url.rsplit("/", 1)[0] + "/store" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_push_http_500_exits_2_without_leaking_the_password(oxigraph_server, run_cli):
    iri = f"{EX}graph/cli-500"
    push_graph(graph_of(3, "a"), derive_layout(oxigraph_server.query_url), iri)
    with stub_endpoint(status=500, body=b"oops Pw-99-secret", echo_headers=True) as stub:
        r = run_cli(
            "push",
            "--endpoint",
            stub.url + "/query",
            "--graph",
            iri,
            env={"CPTKG_ENDPOINT_USER": "u", "CPTKG_ENDPOINT_PASSWORD": "Pw-99-secret"},
        )
    assert r.returncode == 2
    assert "HTTP 500" in r.stderr and stub.url in r.stderr
    assert "Pw-99-secret" not in r.stderr + r.stdout
    assert base64.b64encode(b"u:Pw-99-secret").decode() not in r.stderr
    assert isomorphic(graph_at(oxigraph_server, iri), graph_of(3, "a"))


def test_cli_push_refuses_credentials_in_the_url(run_cli):
    r = run_cli("push", "--endpoint", "http://me:Pw-url-secret@127.0.0.1:9/query")
    assert r.returncode == 2
    assert "contains credentials" in r.stderr and "Pw-url-secret" not in r.stderr


def test_cli_push_without_endpoint_exits_2(run_cli):
    r = run_cli("push", env={"CPTKG_ENDPOINT": ""})
    assert r.returncode == 2 and "no endpoint given" in r.stderr
