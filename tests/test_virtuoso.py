"""Virtuoso Open Source (Debian virtuoso-opensource 7.2) as the second real SPARQL server.

On one Virtuoso started for the session (tests/virtuoso_support.py), each graph in a named
graph of its own: ``cptkg push`` replaces a graph (Graph Store PUT with digest credentials
from the environment, and SPARQL Update); every stored query answers as on the embedded
graph; ``report --endpoint`` and ``validate --endpoint`` print what the embedded commands
print; validation on the server (the shapes compiled to standard SPARQL 1.1) equals pySHACL
on the shipped graph, on all invalid fixtures and on a generated graph with seeded
violations. Faults (wrong credentials, the server killed mid-push, no answer in time) exit
2 with a clear message and leave the old graph whole.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from cptkg.engines.remote import RemoteEngine, derive_layout
from cptkg.engines.settings import Credentials
from cptkg.push import push_graph
from goldens import GOLDEN_PARAMS, normal_result
from scale_helpers import generate_small, value_key
from virtuoso_support import DBA

pytestmark = pytest.mark.virtuoso

HERE = Path(__file__).resolve().parent
INVALID = sorted((HERE / "data" / "invalid").glob("*.ttl"))
GRAPH = "http://example.org/cptkg-test/virtuoso/"
DIGEST = {
    "CPTKG_ENDPOINT_USER": DBA[0],
    "CPTKG_ENDPOINT_PASSWORD": DBA[1],
    "CPTKG_ENDPOINT_AUTH": "digest",
}
EX = "http://example.org/cptkg-test/"


def _creds() -> Credentials:
    return Credentials(DBA[0], DBA[1], "digest")


def _push(server, graph: Graph, iri: str, method: str = "gsp") -> None:
    result = push_graph(
        graph, derive_layout(server.query_url), iri, method=method, credentials=_creds()
    )
    assert result.triples == len(graph)


def _remote(server, iri: str) -> RemoteEngine:
    return RemoteEngine(server.query_url, default_graph=iri, use_env_credentials=False)


def _fetch(server, iri: str) -> Graph:
    graph = _remote(server, iri).query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert isinstance(graph, Graph)
    return graph


def _names() -> list[str]:
    from cptkg.catalog import query_files

    return [p.stem for p in query_files()]


def _finding_keys(result, *, messages: bool = False) -> set[tuple]:
    """What a finding reports: focus, path, value, shape, component, severity (and with
    ``messages`` its message; the compiled validator fills a message's {?value} in its own
    way, so messages are compared with the embedded compiled validator, not pySHACL)."""
    return {
        (
            f.focus_node,
            f.path,
            value_key(f.value),
            f.source_shape,
            f.constraint_component,
            f.severity,
            f.message if messages else None,
        )
        for f in result.results
    }


def _with(base: Graph, *paths: Path) -> Graph:
    from cptkg.load import load_dataset, union_graph

    g = Graph()
    g += base
    g += union_graph(load_dataset(list(paths), include_ontology=False))
    return g


# --------------------------------------------------------------------------- the shipped graph


@pytest.fixture(scope="module")
def shipped_on_virtuoso(virtuoso_server, shipped_union):
    iri = GRAPH + "shipped"
    _push(virtuoso_server, shipped_union, iri)
    return _remote(virtuoso_server, iri)


@pytest.fixture(scope="module")
def embedded():
    from cptkg.engines import open_graph

    return open_graph()


def test_remote_engine_speaks_standard_sparql_to_virtuoso(shipped_on_virtuoso):
    """Virtuoso rejects LATERAL: the compiled shapes go out as standard SPARQL 1.1."""
    assert shipped_on_virtuoso.sparql_dialect() == "sparql11"


@pytest.mark.parametrize("name", _names())
def test_stored_query_equals_embedded(name, embedded, shipped_on_virtuoso):
    from cptkg.query import run_stored

    params = GOLDEN_PARAMS.get(name, {})
    local = run_stored(embedded, name, params)
    remote = run_stored(shipped_on_virtuoso, name, params)
    assert normal_result(remote) == normal_result(local)


def test_check_queries_find_the_same_defects_on_virtuoso(virtuoso_server, shipped_union):
    """The quality checks answer empty on the shipped graph: here every one has its defect."""
    from cptkg.engines.rdflib_engine import RdflibEngine
    from cptkg.query import run_stored
    from test_queries_checks import DEFECTS, PREFIXES

    g = Graph()
    g += shipped_union
    for turtle, _node in DEFECTS.values():
        g.parse(data=PREFIXES + turtle, format="turtle")
    iri = GRAPH + "checks"
    _push(virtuoso_server, g, iri)
    remote = _remote(virtuoso_server, iri)
    for name, (_turtle, node) in sorted(DEFECTS.items()):
        local = run_stored(RdflibEngine(g), name)
        on_server = run_stored(remote, name)
        assert normal_result(on_server) == normal_result(local), name
        found = {str(t) for row in on_server.rows for t in row if t is not None}
        assert any(v.endswith("/" + node) for v in found), name


def test_report_on_the_endpoint_prints_what_the_embedded_report_prints(
    virtuoso_server, shipped_on_virtuoso, run_cli
):
    local = run_cli("report", "64866")
    graph = shipped_on_virtuoso.default_graph
    remote = run_cli("report", "64866", "--endpoint", virtuoso_server.query_url, "--graph", graph)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and local.stdout.strip()


# --------------------------------------------------------------------------- push


def test_push_replaces_the_graph(virtuoso_server, run_cli, tmp_path):
    """Graph Store PUT, then SPARQL Update, each replacing what the previous push wrote."""
    iri = GRAPH + "push"
    first = tmp_path / "first.ttl"
    first.write_text(f'<{EX}old> <{EX}p> "only in the first push" .\n', "utf-8")
    second = tmp_path / "second.ttl"
    second.write_text(f'<{EX}new> <{EX}p> "second" .\n<{EX}new> <{EX}q> <{EX}other> .\n', "utf-8")
    url = virtuoso_server.query_url
    for path, method in ((first, "gsp"), (second, "gsp"), (first, "update"), (second, "update")):
        r = run_cli(
            "push", str(path), "--endpoint", url, "--graph", iri, "--method", method, env=DIGEST
        )
        assert r.returncode == 0, r.stderr
        assert isomorphic(_fetch(virtuoso_server, iri), Graph().parse(path)), (path.name, method)
    assert (
        "Graph Store Protocol PUT"
        in run_cli("push", str(second), "--endpoint", url, "--graph", iri, env=DIGEST).stdout
    )


def test_push_of_the_shipped_graph_by_the_command_line(virtuoso_server, shipped_union, run_cli):
    iri = GRAPH + "cli-shipped"
    r = run_cli("push", "--endpoint", virtuoso_server.query_url, "--graph", iri, env=DIGEST)
    assert r.returncode == 0, r.stderr
    assert f"pushed {len(shipped_union)} triples" in r.stdout
    assert isomorphic(_fetch(virtuoso_server, iri), shipped_union)


# --------------------------------------------------------------------------- validation


def test_validate_endpoint_prints_what_validate_prints_on_the_shipped_graph(
    virtuoso_server, shipped_on_virtuoso, run_cli
):
    """`cptkg validate` (pySHACL on the embedded graph) and `cptkg validate --endpoint`
    (compiled SHACL on Virtuoso) print the same report, byte for byte."""
    graph = shipped_on_virtuoso.default_graph
    local = run_cli("validate", "--format", "json")
    remote = run_cli(
        "validate", "--endpoint", virtuoso_server.query_url, "--graph", graph, "--format", "json"
    )
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout


def test_validate_on_virtuoso_equals_pyshacl_on_every_invalid_fixture(
    virtuoso_server, shipped_union
):
    """All invalid fixtures in one graph with the shipped one: the same findings as pySHACL,
    and each fixture's broken shape among the findings on its own nodes."""
    from cptkg.shacl.pyshacl_runner import validate

    data = _with(shipped_union, *INVALID)
    iri = GRAPH + "invalid-fixtures"
    _push(virtuoso_server, data, iri)
    remote = _remote(virtuoso_server, iri).validate()
    reference = validate(data)
    assert _finding_keys(remote) == _finding_keys(reference)
    assert remote.conforms is reference.conforms is False
    shapes_on = {}
    for f in remote.results:
        shapes_on.setdefault(f.focus_node, set()).add(str(f.source_shape).rsplit("#", 1)[-1])
    for fixture in INVALID:
        broken = fixture.read_text("utf-8").split("shape:", 1)[1].split()[0]
        own = set(Graph().parse(fixture).subjects())
        found = set().union(*(shapes_on.get(n, set()) for n in own))
        assert broken in found, (fixture.name, broken, found)


def test_validate_on_virtuoso_equals_pyshacl_on_a_generated_graph(
    virtuoso_server, shipped_union, tmp_path
):
    from cptkg.generate import manifest_path_for
    from cptkg.shacl.pyshacl_runner import validate

    generated = generate_small(tmp_path, rate=0.2)
    data = _with(shipped_union, generated.path)
    iri = GRAPH + "generated"
    _push(virtuoso_server, data, iri)
    remote = _remote(virtuoso_server, iri).validate()
    reference = validate(data)
    assert _finding_keys(remote) == _finding_keys(reference)
    seeded = json.loads(manifest_path_for(generated.path).read_text())["expected"]
    assert len(seeded) > 10
    assert {(f.focus_node, f.source_shape) for f in remote.results} == {
        (URIRef(e["focus_node"]), URIRef(e["source_shape"])) for e in seeded
    }


@pytest.mark.parametrize("name", ["unknown-payer.ttl", "revised-policy.ttl"])
def test_new_file_checked_in_the_context_of_the_graph_on_virtuoso(
    name, virtuoso_server, shipped_on_virtuoso, run_cli
):
    new = HERE / "data" / "intake" / name
    local = run_cli("validate", str(new), "--format", "json")
    remote = run_cli(
        "validate",
        str(new),
        "--endpoint",
        virtuoso_server.query_url,
        "--graph",
        shipped_on_virtuoso.default_graph,
        "--format",
        "json",
    )
    assert remote.returncode == local.returncode, remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)


# --------------------------------------------------------------------------- faults


def test_wrong_credentials_exit_2_and_leave_the_graph_whole(virtuoso_server, run_cli, tmp_path):
    iri = GRAPH + "credentials"
    old = Graph().parse(data=f'<{EX}s> <{EX}p> "old" .', format="nt")
    _push(virtuoso_server, old, iri)
    new = tmp_path / "new.nt"
    new.write_text(f'<{EX}s> <{EX}p> "new" .\n', "utf-8")
    env = {**DIGEST, "CPTKG_ENDPOINT_PASSWORD": "Wrong-Pw-7731"}
    for method in ("gsp", "update"):
        r = run_cli(
            "push", str(new), "--endpoint", virtuoso_server.query_url, "--graph", iri,
            "--method", method, env=env,
        )  # fmt: skip
        assert r.returncode == 2, r.stdout
        assert "HTTP 401" in r.stderr and "nothing was changed" in r.stderr
        assert "Wrong-Pw-7731" not in r.stderr + r.stdout
        assert isomorphic(_fetch(virtuoso_server, iri), old)


class _KillingProxy:
    """A loopback TCP proxy to the server that SIGKILLs it once ``after`` bytes of requests
    have passed (a server dying in the middle of a request) and drops the connection.

    ``killed`` is set after the server has died, which a client can notice first. Each
    connection's two sockets are closed once, after both directions have ended; a direction
    that ends only shuts them down, so no thread can use a descriptor number that the
    kernel has already given to the next connection."""

    def __init__(self, server, after: int) -> None:
        self.server, self.after, self.sent = server, after, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.killed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.killed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _connection(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.server.http_port)) as upstream:
            answers = threading.Thread(
                target=self._pipe, args=(upstream, client, False), daemon=True
            )
            answers.start()
            self._pipe(client, upstream, True)
            answers.join()

    def _pipe(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while data := src.recv(65536):
                if count and not self.killed.is_set():
                    room = self.after - self.sent
                    if len(data) >= room:
                        dst.sendall(data[: max(room, 0)])
                        self.server.kill()
                        self.killed.set()
                        break
                    self.sent += len(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


def test_server_killed_mid_push_exits_2_and_the_old_graph_survives(own_virtuoso, run_cli, tmp_path):
    """Virtuoso is SIGKILLed half-way through the authenticated PUT of a large graph; after a
    restart (transaction log replayed) the graph holds exactly the old triples."""
    iri = GRAPH + "killed"
    old = Graph()
    for i in range(200):
        old.add((URIRef(f"{EX}old{i}"), URIRef(EX + "p"), Literal(i)))
    _push(own_virtuoso, old, iri)
    new = tmp_path / "new.nt"
    new.write_text(
        "".join(f'<{EX}new{i}> <{EX}p> "{"x" * 60} {i}" .\n' for i in range(10000)), "utf-8"
    )
    size = new.stat().st_size
    # the body goes once, after a body-less digest handshake: die half-way through it
    proxy = _KillingProxy(own_virtuoso, after=size // 2)
    try:
        r = run_cli(
            "push", str(new), "--endpoint", f"http://127.0.0.1:{proxy.port}/sparql",
            "--graph", iri, "--method", "gsp", env=DIGEST,
        )  # fmt: skip
    finally:
        proxy.close()
    # the proxy sets `killed` once the server is gone, which the command may see first
    assert proxy.killed.wait(30), (proxy.sent, size, r.returncode, r.stdout, r.stderr[-2000:])
    assert r.returncode == 2, r.stdout
    assert "Graph Store Protocol PUT" in r.stderr and "failed" in r.stderr
    own_virtuoso.restart()
    assert isomorphic(_fetch(own_virtuoso, iri), old)


def test_no_answer_in_time_exits_2_and_leaves_the_graph_whole(virtuoso_server, run_cli, tmp_path):
    """A server that stops answering (SIGSTOP): validate, query and push give up after
    --timeout with exit 2; the pushed graph is afterwards the old one or the new one whole."""
    iri = GRAPH + "timeout"
    old = Graph().parse(data=f'<{EX}s> <{EX}p> "old" .', format="nt")
    _push(virtuoso_server, old, iri)
    new = tmp_path / "new.nt"
    new.write_text(f'<{EX}s> <{EX}p> "new" .\n<{EX}s> <{EX}q> "new" .\n', "utf-8")
    url = virtuoso_server.query_url
    virtuoso_server.pause()
    try:
        runs = [
            run_cli("validate", "--endpoint", url, "--graph", iri, "--timeout", "1"),
            run_cli("query", "payer-matrix", "--endpoint", url, "--graph", iri, "--timeout", "1"),
            run_cli(
                "push", str(new), "--endpoint", url, "--graph", iri, "--timeout", "1", env=DIGEST
            ),
        ]
    finally:
        virtuoso_server.resume()
    for r in runs:
        assert r.returncode == 2, (r.args, r.stdout)
        assert "no answer within 1 s (timed out)" in r.stderr, r.stderr
    assert "applies the single request whole or not at all" in runs[2].stderr
    after = _fetch(virtuoso_server, iri)
    assert isomorphic(after, old) or isomorphic(after, Graph().parse(new))
