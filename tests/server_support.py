"""Fixtures and helpers for the SPARQL-server tests, imported by conftest.py.

* ``oxigraph_binary``: the path of ``oxigraph``; a missing binary FAILS when ``$CI`` is set
  and skips (with the reason) otherwise.
* ``oxigraph_server``: one real ``oxigraph serve`` on a free 127.0.0.1 port for the session,
  started *without* ``--union-default-graph`` so that only the protocol's
  ``default-graph-uri`` parameter makes a pushed named graph visible; stopped afterwards,
  and the test session checks the process is gone.
* ``fresh_server``: a server of its own for a test that kills it.
* :func:`stub_endpoint`: a tiny loopback HTTP server answering with a fixed status, body and
  content type (optionally after a delay), recording the requests it got.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still answers kill(0): look at its state
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    """True once process ``pid`` no longer exists (bounded wait)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _process_gone(pid):
            return True
        time.sleep(0.05)
    return _process_gone(pid)


def require_binary(binary: str | None, missing: str) -> str:
    """``binary``; when it is None, the test fails in CI and is skipped elsewhere, saying
    ``missing`` (what is not installed and how to install it)."""
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(missing + "; CI is set, so this is a failure, not a skip")
        pytest.skip(missing)
    return binary


@pytest.fixture(scope="session")
def oxigraph_binary() -> str:
    """The oxigraph executable; fails in CI, skips elsewhere when it is missing."""
    from cptkg.server import find_oxigraph

    return require_binary(
        find_oxigraph(),
        "the oxigraph server binary is not installed "
        "(pip install -e '.[test]' installs the PyPI package oxigraph)",
    )


@pytest.fixture(scope="session")
def oxigraph_server(oxigraph_binary):
    """A real oxigraph serve on a free loopback port, for the whole session."""
    from cptkg.server import OxigraphServer

    server = OxigraphServer(0, binary=oxigraph_binary, union_default_graph=False)
    server.start()
    pid = server.pid
    assert pid is not None
    try:
        yield server
    finally:
        server.stop()
        assert wait_gone(pid), f"oxigraph serve (pid {pid}) is still running after stop()"


@pytest.fixture
def fresh_server(oxigraph_binary):
    """A server of the test's own (the test may kill it)."""
    from cptkg.server import OxigraphServer

    server = OxigraphServer(0, binary=oxigraph_binary, union_default_graph=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Stub:
    """What a stub endpoint answers, and what it received."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/sparql-results+json"
    delay: float = 0.0
    echo_headers: bool = False
    requests: list[dict[str, object]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def stub_endpoint(**kwargs: object) -> Iterator[Stub]:
    """Run a loopback HTTP server answering every request as ``Stub(**kwargs)`` says."""
    stub = Stub(**kwargs)  # type: ignore[arg-type]

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
            stub.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": data,
                }
            )
            if stub.delay:
                time.sleep(stub.delay)
            body = stub.body
            if stub.echo_headers:
                body += b"\n" + str(self.headers).encode()
            try:
                self.send_response(stub.status)
                self.send_header("Content-Type", stub.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
