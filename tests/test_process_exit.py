"""The console command ends without the interpreter's teardown (cptkg.process_exit): what it
printed is all there, its exit status is kept, exit handlers still run, what a command kept
is never freed, and called as a library nothing changes. The console entry point runs in a
child process only: armed in the test process it would end pytest."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

from cptkg.process_exit import keep

ROOT = Path(__file__).resolve().parent.parent
INVALID = sorted((ROOT / "tests" / "data" / "invalid").glob("*.ttl"))


#: Children with buffered standard streams, as a console has them on a pipe (this machine
#: sets PYTHONUNBUFFERED, under which nothing would wait in a buffer).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False, env=ENV
    )


def test_a_large_output_through_a_pipe_is_complete():
    """Turtle of the whole graph, flushed before the process ends."""
    console = subprocess.run(
        [sys.executable, "-m", "cptkg", "export", "-f", "nt"],
        capture_output=True,
        cwd=ROOT,
        check=False,
        env=ENV,
    )
    library = _child(
        "import sys; from cptkg.cli import main; sys.exit(main(['export', '-f', 'nt']))"
    )
    assert console.returncode == library.returncode == 0
    assert len(console.stdout) > 100_000
    assert console.stdout.decode("utf-8") == library.stdout


def test_exit_status_is_kept():
    nonconforming = subprocess.run(
        [sys.executable, "-m", "cptkg", "validate", str(INVALID[0])],
        capture_output=True,
        cwd=ROOT,
        check=False,
        env=ENV,
    )
    usage = subprocess.run(
        [sys.executable, "-m", "cptkg", "no-such-command"],
        capture_output=True,
        cwd=ROOT,
        check=False,
        env=ENV,
    )
    assert (nonconforming.returncode, usage.returncode) == (1, 2)


def test_an_escaping_exception_ends_the_usual_way():
    proc = _child(
        "import cptkg.cli as cli\n"
        "def boom():\n"
        "    raise RuntimeError('boom')\n"
        "cli.main = boom\n"
        "cli.run()\n"
    )
    assert proc.returncode == 1
    assert "RuntimeError: boom" in proc.stderr


def test_exit_handlers_run_and_kept_objects_are_never_freed(tmp_path):
    """A handler registered during the command runs; an object kept is not freed (its
    ``__del__`` never runs), one not kept is; the last words printed are not lost."""
    code = (
        "import atexit, os\n"
        "import cptkg.cli as cli\n"
        "from cptkg.process_exit import keep\n"
        "class Thing:\n"
        "    def __init__(self, name):\n"
        "        self.name = name\n"
        "    def __del__(self, write=os.write):\n"
        "        write(2, (self.name + ' freed\\n').encode())\n"
        "def command():\n"
        f"    atexit.register(lambda: open({str(tmp_path / 'handler')!r}, 'w').close())\n"
        "    keep(Thing('kept'))\n"
        "    Thing('dropped')\n"
        "    print('done', end='')\n"
        "    return 1\n"
        "cli.main = command\n"
        "cli.run()\n"
    )
    proc = _child(code)
    assert proc.returncode == 1
    assert proc.stdout == "done"
    assert (tmp_path / "handler").exists()
    assert "dropped freed" in proc.stderr and "kept freed" not in proc.stderr


def test_keep_holds_nothing_when_called_as_a_library():
    class Thing:
        pass

    thing = Thing()
    ref = weakref.ref(thing)
    keep(thing)
    del thing
    gc.collect()
    assert ref() is None
