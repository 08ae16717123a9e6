"""``cptkg serve`` and :class:`cptkg.server.OxigraphServer`: a real oxigraph serve on
127.0.0.1, preloaded, that stops cleanly on Ctrl-C / SIGTERM and leaves no process behind."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cptkg.engines.remote import RemoteEngine
from cptkg.engines.settings import DEFAULT_GRAPH_IRI
from cptkg.errors import EndpointError
from cptkg.server import OxigraphServer, free_port
from server_support import wait_gone

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.server


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


class CliServer:
    """``python -m cptkg serve ...`` as a subprocess, its stdout read line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if k != "CPTKG_HOME"}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cptkg", "serve", *args],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, prefix: str, seconds: float = 60.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(
            f"no line starting {prefix!r}; got {self.seen}; "
            f"stderr: {self.proc.stderr.read() if self.proc.poll() is not None else '(running)'}"
        )

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def cli_server():
    started: list[CliServer] = []

    def start(*args: str, **kwargs) -> CliServer:
        server = CliServer(*args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cli_serve_answers_then_stops_cleanly(cli_server, oxigraph_binary, shipped_union, sig):
    port = free_port()
    server = cli_server("--port", str(port))
    loaded = server.wait_for("Loaded ")
    assert f"Loaded {len(shipped_union)} triples into graph <{DEFAULT_GRAPH_IRI}>" == loaded
    assert server.wait_for("SPARQL query endpoint: ") == (
        f"SPARQL query endpoint: http://127.0.0.1:{port}/query"
    )
    assert server.wait_for("Browser UI: ") == f"Browser UI: http://127.0.0.1:{port}/"
    oxigraph = children_of(server.proc.pid)
    assert len(oxigraph) == 1, oxigraph
    assert "oxigraph" in Path(f"/proc/{oxigraph[0]}/cmdline").read_bytes().decode()

    url = f"http://127.0.0.1:{port}/query"
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    named = RemoteEngine(url, default_graph=DEFAULT_GRAPH_IRI, timeout=10)
    assert named.query(count).rows[0][0].toPython() == len(shipped_union)
    plain = RemoteEngine(url, default_graph=None, timeout=10)  # the browser UI's view
    assert plain.query(count).rows[0][0].toPython() == len(shipped_union)

    server.proc.send_signal(sig)
    assert server.proc.wait(timeout=20) == 0
    assert wait_gone(oxigraph[0]), "the oxigraph child outlived cptkg serve"
    assert port_closed(port)
    assert "Traceback" not in server.proc.stderr.read()


def test_cli_serve_on_a_busy_port_exits_2(oxigraph_binary, run_cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run_cli("serve", "--port", str(port))
    assert r.returncode == 2
    assert f"port {port}" in r.stderr and "already in use" in r.stderr
    assert "hint: choose another port" in r.stderr


def test_cli_serve_given_files_only(cli_server, oxigraph_binary, tmp_path):
    data = tmp_path / "one.ttl"
    data.write_text("<http://example.org/s> <http://example.org/p> 'o' .\n", "utf-8")
    server = cli_server("--port", "0", str(data))
    assert server.wait_for("Loaded ") == f"Loaded 1 triples into graph <{DEFAULT_GRAPH_IRI}>"
    url = server.wait_for("SPARQL query endpoint: ").split(": ", 1)[1]
    assert RemoteEngine(url, timeout=10).query("ASK { ?s <http://example.org/p> 'o' }") is True
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=20) == 0


def test_server_context_manager_leaves_no_process(oxigraph_binary):
    with OxigraphServer(0, binary=oxigraph_binary) as server:
        pid = server.pid
        assert pid is not None and server.running()
        assert server.query_url.startswith("http://127.0.0.1:")
        assert RemoteEngine(server.query_url, timeout=5).query("ASK { ?s ?p ?o }") is False
    assert wait_gone(pid)
    assert server.stop() == server.process.returncode  # stopping twice is harmless
    assert port_closed(server.port)


def test_server_location_persists_between_runs(oxigraph_binary, tmp_path, shipped_union):
    store = tmp_path / "store"
    with OxigraphServer(0, binary=oxigraph_binary, location=store) as server:
        server.load(shipped_union)
    with OxigraphServer(0, binary=oxigraph_binary, location=store) as server:
        engine = RemoteEngine(server.query_url, default_graph=DEFAULT_GRAPH_IRI, timeout=10)
        n = engine.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0]
    assert n.toPython() == len(shipped_union)


def test_server_that_cannot_start_reports_why(tmp_path):
    fake = tmp_path / "oxigraph"
    fake.write_text("#!/bin/sh\necho 'Error: cannot open the store' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(EndpointError) as info:
        OxigraphServer(0, binary=str(fake), startup_timeout=10).start()
    assert "exited with code 3" in str(info.value)
    assert "cannot open the store" in str(info.value)


def test_server_start_is_bounded_in_time(tmp_path):
    fake = tmp_path / "oxigraph"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    start = time.monotonic()
    server = OxigraphServer(0, binary=str(fake), startup_timeout=1.0)
    with pytest.raises(EndpointError, match="did not answer within 1 s"):
        server.start()
    assert time.monotonic() - start < 10
    assert not server.running()


def test_server_dies_with_a_killed_parent(oxigraph_binary):
    """If the Python process is SIGKILLed (no cleanup runs), Linux still stops oxigraph."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux-only")
    code = (
        "import time; from cptkg.server import OxigraphServer\n"
        "s = OxigraphServer(0).start(); print(s.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
        child = int(line)
        assert not wait_gone(child, 0.2)
        parent.kill()
        parent.wait(timeout=10)
        assert wait_gone(child, 10), "oxigraph survived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


@pytest.mark.parametrize(("ci", "outcome", "code"), [("1", "1 error", 1), ("", "1 skipped", 0)])
def test_missing_oxigraph_fails_in_ci_and_skips_elsewhere(ci, outcome, code):
    """The server fixture must not let CI pass by skipping every server test."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CPTKG_HOME")}
    env.update({"CPTKG_OXIGRAPH": "/nonexistent/oxigraph", "CI": ci})
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_serve.py::test_server_context_manager_leaves_no_process",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert outcome in r.stdout and r.returncode == code, r.stdout[-2000:]
    assert "oxigraph server binary is not installed" in r.stdout
