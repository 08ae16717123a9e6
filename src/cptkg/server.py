"""Start and stop a real local SPARQL server: ``oxigraph serve`` on 127.0.0.1.

:class:`OxigraphServer` runs the ``oxigraph`` binary (PyPI package ``oxigraph``) as a child
process in its own process group, waits (bounded) until it answers SPARQL, and stops it with
SIGTERM, then SIGKILL after a grace period, so no process is left behind. On Linux the child
also gets SIGTERM if the Python process dies without cleaning up (``PR_SET_PDEATHSIG``).
It is a context manager, used by ``cptkg serve`` and by the tests::

    with OxigraphServer(port=0) as server:      # 0: a free loopback port
        server.load(graph)                      # GSP PUT into DEFAULT_GRAPH_IRI
        RemoteEngine(server.query_url, default_graph=DEFAULT_GRAPH_IRI).query("ASK {}")

The store is in memory unless ``location`` (a directory) is given. The server runs with
``--union-default-graph``, so ad-hoc queries in the browser UI see the loaded named graph;
cptkg's own queries name their graph with the protocol's ``default-graph-uri`` anyway.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from rdflib import Graph

from cptkg.engines.remote import derive_layout
from cptkg.engines.settings import DEFAULT_GRAPH_IRI, DEFAULT_PORT
from cptkg.errors import EndpointError
from cptkg.push import PushResult, push_graph

#: The loopback address the server binds to (never a public interface).
HOST = "127.0.0.1"
#: Seconds to wait for the server to answer after start.
STARTUP_TIMEOUT = 30.0
#: Seconds between SIGTERM and SIGKILL.
STOP_GRACE = 5.0


#: Environment variable naming the oxigraph executable to use instead of the installed one.
ENV_OXIGRAPH = "CPTKG_OXIGRAPH"


def find_oxigraph() -> str | None:
    """Path of the ``oxigraph`` executable: ``$CPTKG_OXIGRAPH`` if set (None when that is not
    an executable file), else the one next to this Python, else the one on PATH."""
    override = os.environ.get(ENV_OXIGRAPH)
    if override:
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    here = Path(sys.executable).parent / "oxigraph"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which("oxigraph")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    """True when something already listens on 127.0.0.1:``port`` (or it cannot be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as oxigraph (Rust std) does
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec function asking Linux to SIGTERM the child when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)

    return preexec


class OxigraphServer:
    """A child ``oxigraph serve`` bound to 127.0.0.1:``port`` (0 = pick a free port)."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        location: Path | str | None = None,
        binary: str | None = None,
        union_default_graph: bool = True,
        startup_timeout: float = STARTUP_TIMEOUT,
        log: Path | str | None = None,
    ) -> None:
        self.requested_port = port
        self.port = port
        self.location = Path(location) if location is not None else None
        self.binary = binary
        self.union_default_graph = union_default_graph
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log_path = Path(log) if log is not None else None
        self._log_dir: tempfile.TemporaryDirectory[str] | None = None

    # -- URLs

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; the browser UI is at ``base_url + "/"``."""
        return f"http://{HOST}:{self.port}"

    @property
    def query_url(self) -> str:
        """The SPARQL 1.1 Protocol query endpoint."""
        return f"{self.base_url}/query"

    @property
    def update_url(self) -> str:
        """The SPARQL 1.1 Update endpoint."""
        return f"{self.base_url}/update"

    @property
    def store_url(self) -> str:
        """The SPARQL 1.1 Graph Store Protocol endpoint."""
        return f"{self.base_url}/store"

    @property
    def ui_url(self) -> str:
        """The browser UI (YASGUI)."""
        return f"{self.base_url}/"

    @property
    def pid(self) -> int | None:
        """The oxigraph process id while running."""
        return self.process.pid if self.process is not None else None

    # -- life cycle

    def command(self) -> list[str]:
        """The ``oxigraph serve`` command line."""
        binary = self.binary or find_oxigraph()
        if binary is None:
            raise EndpointError(
                "the oxigraph server binary is not installed",
                hint="pip install 'cptkg[server]' (the PyPI package oxigraph provides it)",
            )
        cmd = [binary, "serve", "--bind", f"{HOST}:{self.port}"]
        if self.location is not None:
            cmd += ["--location", str(self.location)]
        if self.union_default_graph:
            cmd.append("--union-default-graph")
        return cmd

    def start(self) -> OxigraphServer:
        """Start the server and wait until it answers a SPARQL query (bounded)."""
        if self.process is not None:
            raise RuntimeError("server already started")
        if self.requested_port == 0:
            self.port = free_port()
        elif port_in_use(self.port):
            # checked first: a probe could otherwise reach whatever already listens there
            raise EndpointError(
                f"cannot start oxigraph serve: port {self.port} on {HOST} is already in use",
                hint="choose another port with --port (0 picks a free one)",
            )
        if self.location is not None:
            self.location.mkdir(parents=True, exist_ok=True)
        cmd = self.command()
        log = self._open_log()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: killpg reaches every child
                preexec_fn=_die_with_parent(),  # noqa: PLW1509
            )
        except OSError as exc:
            log.close()
            raise EndpointError(f"cannot start {cmd[0]}: {exc.strerror or exc}") from None
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _open_log(self):  # noqa: ANN202 - a binary file object
        if self._log_path is None:
            self._log_dir = tempfile.TemporaryDirectory(prefix="cptkg-oxigraph-")
            self._log_path = Path(self._log_dir.name) / "oxigraph.log"
        return open(self._log_path, "wb")  # noqa: SIM115 - handed to the child

    def log_text(self) -> str:
        """What the server wrote to stdout / stderr so far."""
        try:
            return self._log_path.read_text("utf-8", "replace") if self._log_path else ""
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        probe = self.query_url + "?query=ASK%7B%7D"
        while True:
            code = self.process.poll()
            if code is not None:
                raise self._exit_error(code)
            try:
                request = urllib.request.Request(
                    probe, headers={"Accept": "application/sparql-results+json"}
                )
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                    if response.status == 200 and self.process.poll() is None:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() >= deadline:
                raise EndpointError(
                    f"oxigraph serve on {HOST}:{self.port} did not answer within "
                    f"{self.startup_timeout:g} s"
                )
            time.sleep(0.05)

    def _exit_error(self, code: int) -> EndpointError:
        """The error for a server that exited during start-up, with oxigraph's own reason."""
        lines = [line.strip() for line in self.log_text().splitlines() if line.strip()]
        reason = next((line for line in lines if line.startswith("Error")), None)
        if reason is None and lines:
            reason = lines[-1]
        in_use = reason is not None and "in use" in reason.lower()
        if in_use:
            reason = f"port {self.port} is already in use"
        return EndpointError(
            f"oxigraph serve on {HOST}:{self.port} exited with code {code}"
            + (f": {reason[:300]}" if reason else ""),
            hint="choose another port with --port" if in_use else None,
        )

    def running(self) -> bool:
        """True while the child process is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = STOP_GRACE) -> int | None:
        """Stop the server: SIGTERM to its process group, SIGKILL after ``grace`` seconds.
        Returns the exit code (None if it was never started). Safe to call twice."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=grace)
        # the group may still hold a grandchild if oxigraph ever forks; reap it too
        self._signal_group(proc, signal.SIGKILL)
        if self._log_dir is not None:
            with contextlib.suppress(OSError):
                self._log_dir.cleanup()
            self._log_dir = None
            self._log_path = None
        return proc.returncode

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash would; for fault tests."""
        if self.process is not None and self.process.poll() is None:
            self._signal_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=STOP_GRACE)

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def __enter__(self) -> OxigraphServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- data

    def load(
        self, graph: Graph, graph_iri: str | None = None, *, timeout: float = 120.0
    ) -> PushResult:
        """Replace named graph ``graph_iri`` (default: the push graph) with ``graph``
        through the Graph Store Protocol."""
        layout = derive_layout(self.query_url)
        return push_graph(
            graph,
            layout,
            graph_iri or DEFAULT_GRAPH_IRI,
            method="gsp",
            timeout=timeout,
            use_env_credentials=False,
        )
