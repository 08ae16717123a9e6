"""Virtuoso Open Source as a second real SPARQL server for the tests, imported by conftest.py.

* :class:`VirtuosoServer`: ``virtuoso-t +foreground`` with an ini of its own, a throw-away
  database directory and free 127.0.0.1 ports; stopped (and, on request, killed) by PID, and
  restartable on the same database (to see what survived a kill).
* ``virtuoso_binary``: the path of ``virtuoso-t`` (Debian ``virtuoso-opensource-7``); a
  missing binary FAILS when ``$CI`` is set (``.ci/run`` installs it) and skips otherwise.
* ``virtuoso_server``: one server for the whole session; tests write to distinct named graphs.

A new database has the ``dba`` account with password ``dba``: the Graph Store Protocol write
URL ``/sparql-graph-crud-auth`` and SPARQL Update at ``/sparql-auth`` take it by HTTP digest
authentication (:data:`DBA`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cptkg.server import free_port
from server_support import require_binary, wait_gone

#: The binary of Debian's virtuoso-opensource-7 package.
BINARY = "virtuoso-t"
#: The account every new Virtuoso database has: (user, password).
DBA = ("dba", "dba")
STARTUP_TIMEOUT = 90.0

_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
ThreadsPerQuery = 1
MaxClientConnections = 8

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
ServerThreads = 4
MaxClientConnections = 8
Charset = UTF-8

[SPARQL]
; the package's 10,000-row cap would cut large answers short without an error
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""


def find_virtuoso() -> str | None:
    """The ``virtuoso-t`` executable, or None."""
    return shutil.which(BINARY)


class VirtuosoServer:
    """A child ``virtuoso-t`` on free 127.0.0.1 ports with its own database directory
    (removed by :meth:`stop` unless given). ``buffers``: the ini's NumberOfBuffers (8 KiB
    pages of cache; the benchmark gives more)."""

    def __init__(self, binary: str, directory: Path | None = None, *, buffers: int = 10000) -> None:
        self.binary = binary
        self._own_dir = directory is None
        self.directory = (
            Path(tempfile.mkdtemp(prefix="cptkg-virtuoso-")) if directory is None else directory
        )
        self.http_port = free_port()
        self.sql_port = free_port()
        self.buffers = buffers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def query_url(self) -> str:
        """The SPARQL endpoint (queries; anonymous)."""
        return self.base_url + "/sparql"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def ini(self) -> Path:
        return self.directory / "virtuoso.ini"

    def log_text(self) -> str:
        path = self.directory / "virtuoso.log"
        return path.read_text("utf-8", "replace")[-3000:] if path.is_file() else ""

    def start(self) -> VirtuosoServer:
        """Start the server (a new database on first start) and wait until it answers."""
        self.ini.write_text(
            _INI.format(
                d=self.directory,
                sql_port=self.sql_port,
                http_port=self.http_port,
                buffers=self.buffers,
                dirty=self.buffers * 3 // 4,
            ),
            "utf-8",
        )
        out = open(self.directory / "stdout.log", "ab")  # noqa: SIM115 - kept by the child
        try:
            self.process = subprocess.Popen(
                [self.binary, "+foreground", "+configfile", str(self.ini)],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            out.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"virtuoso-t exited with {self.process.returncode}:\n{self.log_text()}"
                )
            if self.answers():
                return self
            time.sleep(0.25)
        self.kill()
        raise RuntimeError(f"virtuoso-t did not answer within {STARTUP_TIMEOUT:g} s")

    def answers(self) -> bool:
        """True when the SPARQL endpoint answers an ASK."""
        url = self.query_url + "?" + urllib.parse.urlencode({"query": "ASK {}"})
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self, *, remove: bool = True) -> None:
        """SIGTERM by PID (SIGKILL after 30 s), then remove the database directory."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if remove and self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL by PID: no checkpoint, no clean shutdown."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def restart(self) -> VirtuosoServer:
        """Start again on the same database (after :meth:`kill` or :meth:`stop` without
        removal): Virtuoso replays its transaction log."""
        (self.directory / "virtuoso.lck").unlink(missing_ok=True)
        return self.start()

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets open but answers nothing."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture(scope="session")
def virtuoso_binary() -> str:
    """virtuoso-t; fails in CI, skips elsewhere when it is missing."""
    return require_binary(
        find_virtuoso(),
        "Virtuoso is not installed (Debian: apt-get install virtuoso-opensource; "
        ".ci/run installs it)",
    )


@pytest.fixture(scope="session")
def virtuoso_server(virtuoso_binary):
    """One Virtuoso for the whole session (tests use distinct named graphs)."""
    server = VirtuosoServer(virtuoso_binary).start()
    pid = server.pid
    assert pid is not None
    try:
        yield server
    finally:
        server.stop()
        assert wait_gone(pid), f"virtuoso-t (pid {pid}) is still running after stop()"


@pytest.fixture
def own_virtuoso(virtuoso_binary):
    """A Virtuoso of the test's own (the test may kill and restart it)."""
    server = VirtuosoServer(virtuoso_binary).start()
    try:
        yield server
    finally:
        server.stop()
