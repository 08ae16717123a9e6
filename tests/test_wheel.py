"""The built wheel carries the graph: build the sdist and, from it, the wheel (``python -m
build``), install the wheel into a fresh virtualenv, and run the commands from a directory
outside the checkout: validate, query, export, report, serve and every stored query against
the served endpoint, add without a workspace (refused) and inside one made by ``cptkg init``.
Nothing under site-packages changes."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from intake_helpers import INTAKE, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.server]

#: Values for the stored queries' required parameters.
REQUIRED_PARAMS = {
    "payer-policy": ["payer=Aetna"],
    "policies-as-of": ["asOf=2025-06-30"],
    "search-labels": ["text=nerve"],
}
#: Run in the venv: every stored query of the installed catalog through the command line
#: against the endpoint; prints one ``name exit-code`` line per query.
ENDPOINT_SCRIPT = """
import json, pathlib, sys
from cptkg.catalog import load_catalog
from cptkg.cli import main
url, params, out = sys.argv[1], json.loads(sys.argv[2]), pathlib.Path(sys.argv[3])
for name in load_catalog():
    target = out / (name + ".csv")
    args = ["query", name, "--endpoint", url, "--format", "csv", "-o", str(target)]
    for value in params.get(name, []):
        args += ["--param", value]
    code = main(args)
    rows = len(target.read_text("utf-8").splitlines()) if target.is_file() else -1
    print(name, code, rows, file=sys.stderr)
"""


def tree_digest(directory: Path) -> str:
    """One SHA-256 over every file's path and bytes under ``directory``."""
    h = hashlib.sha256()
    for p in sorted(directory.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(directory).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


class Venv:
    """A virtualenv with the wheel installed; commands run in ``cwd`` with a clean env."""

    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CPTKG_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
        }
        self.env.update(
            {
                "CPTKG_CACHE_DIR": str(cache),
                "PYTHONDONTWRITEBYTECODE": "1",
                "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            }
        )

    def run(
        self, *args: str, cwd: Path, timeout: float = 300, text: bool = True
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=text,
            timeout=timeout,
        )

    def cptkg(self, *args: str, cwd: Path, text: bool = True) -> subprocess.CompletedProcess:
        return self.run(self.bin / "cptkg", *args, cwd=cwd, text=text)

    def site_packages(self) -> Path:
        proc = self.run(
            self.bin / "python",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            cwd=self.root,
        )
        assert proc.returncode == 0, proc.stderr
        return Path(proc.stdout.strip())


#: Not part of a build: left out of the copy the wheel is built from.
NOT_BUILT = (".*", "tests", "benchmarks", "docs", "build", "dist", "*.egg-info", "__pycache__")


def build(workdir: Path) -> tuple[Path, Path]:
    """The sdist and the wheel built from it, from a copy of the checkout (the build's
    egg-info and build directories never land in the checkout)."""
    source, outdir = workdir / "source", workdir / "dist"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_BUILT))
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = outdir.glob("cptkg-*.tar.gz")
    (wheel,) = outdir.glob("cptkg-*.whl")
    return sdist, wheel


def serve(venv: Venv, cwd: Path) -> tuple[subprocess.Popen, str]:
    """``cptkg serve --port 0`` and its query URL once it is ready."""
    proc = subprocess.Popen(
        [str(venv.bin / "cptkg"), "serve", "--port", "0"],
        cwd=cwd,
        env=venv.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        if line.startswith("SPARQL query endpoint: "):
            return proc, line.split(": ", 1)[1].strip()
    proc.kill()
    raise AssertionError(
        "cptkg serve did not start: " + (proc.stderr.read() if proc.stderr else "")
    )


def test_the_installed_wheel_works_outside_the_checkout(tmp_path, run_cli):
    started = time.monotonic()
    sdist, wheel = build(tmp_path / "build")
    graph_files = {
        p.relative_to(ROOT).as_posix()
        for d in ("ontology", "data", "queries")
        for p in (ROOT / d).rglob("*")
        if p.is_file()
    }
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        in_sdist = {n.removeprefix(top + "/") for n in tar.getnames()}
    assert graph_files <= in_sdist, sorted(graph_files - in_sdist)
    with zipfile.ZipFile(wheel) as zf:
        in_wheel = {n.removeprefix("cptkg/_graph/") for n in zf.namelist()}
    assert graph_files <= in_wheel, sorted(graph_files - in_wheel)
    assert "data/code-systems/cms-place-of-service-codes.xml" in in_wheel

    proc = subprocess.run(
        [sys.executable, "-m", "venv", str(tmp_path / "venv")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    venv = Venv(tmp_path / "venv", tmp_path / "cache")
    pip = venv.run(
        venv.bin / "python",
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
        f"{wheel}[server]",
        cwd=tmp_path,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    site = venv.site_packages()
    assert (site / "cptkg" / "_graph" / "ontology" / "cptkg.ttl").is_file()
    installed_before = tree_digest(site)
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    validate = venv.cptkg("validate", cwd=outside)
    assert validate.returncode == 0, validate.stdout + validate.stderr

    matrix = venv.cptkg("query", "payer-matrix", "--format", "csv", cwd=outside, text=False)
    assert matrix.returncode == 0, matrix.stderr
    in_checkout = run_cli("query", "payer-matrix", "--format", "csv", text=False)
    assert in_checkout.returncode == 0
    assert matrix.stdout == in_checkout.stdout

    ttl = venv.cptkg("export", "-f", "ttl", cwd=outside, text=False)
    assert ttl.returncode == 0, ttl.stderr
    assert ttl.stdout == run_cli("export", "-f", "ttl", text=False).stdout

    report = venv.cptkg("report", "64866", cwd=outside)
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("# CPT 64866")

    server, url = serve(venv, outside)
    try:
        names = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
        script = venv.run(
            venv.bin / "python",
            "-c",
            ENDPOINT_SCRIPT,
            url,
            json.dumps(REQUIRED_PARAMS),
            outside,
            cwd=outside,
        )
        results = [line.split() for line in script.stderr.splitlines() if line.count(" ") == 2]
        assert sorted(name for name, _code, _lines in results) == names, script.stderr
        failed = [(name, code) for name, code, _lines in results if code != "0"]
        assert not failed, script.stderr
        served_matrix = next(int(n) for name, _c, n in results if name == "payer-matrix")
        assert served_matrix == len(in_checkout.stdout.splitlines())
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0

    no_workspace = venv.cptkg(
        "add", str(INTAKE / "valid-policy.ttl"), "--allow-illustrative", cwd=outside
    )
    assert no_workspace.returncode == 2, no_workspace.stdout + no_workspace.stderr
    assert "hint: make one with `cptkg init DIR`" in no_workspace.stderr

    ws = tmp_path / "ws"
    init = venv.cptkg("init", str(ws), cwd=outside)
    assert init.returncode == 0, init.stderr
    added = venv.cptkg("add", str(INTAKE / "valid-policy.ttl"), "--allow-illustrative", cwd=ws)
    assert added.returncode == 0, added.stdout + added.stderr
    (written,) = (ws / "data" / "policies").iterdir()
    assert f"Wrote {written.resolve()}: " in added.stdout
    assert venv.cptkg("validate", cwd=ws).returncode == 0

    assert tree_digest(site) == installed_before, "a command changed the installed package"
    elapsed = time.monotonic() - started
    print(f"wheel built, installed and exercised in {elapsed:.0f} s")
