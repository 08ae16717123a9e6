"""The ``cptkg`` process ends without freeing, object by object, what it built.

When the interpreter shuts down it clears every module and frees every object still alive:
about 25 ms after ``import rdflib`` alone and 40 ms after ``cptkg query NAME``, measured on
this machine. A command's large data is freed earlier, when the command lets go of it:
0.4–0.8 s for an in-memory Oxigraph store of a million triples at the end of ``cptkg validate
--engine oxigraph``. None of this is needed, because the operating system takes the whole
address space back at once. Compilers skip it for the same reason: clang's driver passes
``-disable-free`` by default. Instagram's Python servers register ``os._exit`` with
:mod:`atexit` for this.

:func:`end_without_teardown` (called first by the console entry point
:func:`cptkg.cli.run`) registers a last exit handler. The exit handlers registered after it
(``logging``'s flush among them) still run first, since :mod:`atexit` runs them last in,
first out. It then flushes the standard streams and ends the process with ``os._exit``. By
then Python has already waited for every non-daemon thread, and every file cptkg writes was
closed where it was written (``with`` blocks). A command hands data it no longer needs to
:func:`keep`, instead of freeing it, only while the console entry point runs. Called as a
library (the Python API, :func:`cptkg.cli.main` in tests) nothing changes: :func:`keep` does
nothing and the interpreter ends as usual.
"""

from __future__ import annotations

import atexit
import os
import sys

from cptkg.errors import EXIT_ERROR

_state: dict[str, int | bool] = {"armed": False, "code": 0}
_kept: list[object] = []


def end_without_teardown() -> None:
    """From now on, end the process without the interpreter's teardown (module doc)."""
    if not _state["armed"]:
        _state["armed"] = True
        atexit.register(_exit_now)


def end_with_teardown() -> None:
    """Undo :func:`end_without_teardown`: the interpreter ends as usual (and frees what was
    kept), as after an exception nobody caught, whose exit status Python sets."""
    _state["armed"] = False
    _kept.clear()


def set_exit_code(code: int) -> None:
    """The exit status the process ends with."""
    _state["code"] = code


def keep(*objects: object) -> None:
    """Hold ``objects`` until the process ends, so they are never freed one by one (a large
    store); nothing is held unless :func:`end_without_teardown` was called."""
    if _state["armed"]:
        _kept.extend(objects)


def _exit_now() -> None:
    if not _state["armed"]:
        return
    code = int(_state["code"])
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said
            code = code or EXIT_ERROR
    os._exit(code)
