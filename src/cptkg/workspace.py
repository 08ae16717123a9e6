"""The user's workspace: a directory of the user's own policies and stored queries, read on top
of the shipped reference graph.

A workspace is a directory holding :data:`WORKSPACE_FILE` (``cptkg.toml``, made by
``cptkg init DIR``) with ``data/`` (``data/policies/`` is where ``cptkg add`` writes) and an
optional ``queries/``. A directory holding the project marker ``ontology/cptkg.ttl`` (the
checkout, or a copy of it) is a workspace too: it is then its own reference graph.

The active workspace is, in this order: the one given with :func:`using_workspace` (the
``--workspace DIR`` option), ``$CPTKG_HOME``, or the first workspace at or above the current
directory. There may be none: the graph is then the reference graph alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from cptkg.errors import CptkgError, InputError

#: The workspace's configuration file.
WORKSPACE_FILE = "cptkg.toml"
#: The file whose presence marks a directory as a full project (ontology, shapes, data).
PROJECT_MARKER = Path("ontology") / "cptkg.ttl"
#: Environment variable naming the workspace.
ENV_HOME = "CPTKG_HOME"
#: The configuration format :func:`init_workspace` writes and :func:`read_config` accepts.
CONFIG_FORMAT = 1
#: What ``cptkg init`` writes to :data:`WORKSPACE_FILE`.
CONFIG_TEXT = f"""\
# A cptkg workspace: your own payer policies (data/policies/, written by `cptkg add`) and
# stored queries (queries/*.rq), read together with the reference graph shipped with cptkg.
[workspace]
format = {CONFIG_FORMAT}
"""
#: How to make a workspace, for hints.
INIT_HINT = (
    "make one with `cptkg init DIR`, then run cptkg inside DIR (or pass --workspace DIR, "
    f"or set {ENV_HOME}=DIR)"
)

_OVERRIDE: ContextVar[Path | None] = ContextVar("cptkg_workspace", default=None)


@dataclass(frozen=True)
class Workspace:
    """A workspace directory (absolute) and how it was found."""

    root: Path
    #: ``--workspace``, ``CPTKG_HOME`` or ``current directory``.
    found_by: str

    @property
    def is_project(self) -> bool:
        """True for a full project (the checkout or a copy): its own reference graph."""
        return (self.root / PROJECT_MARKER).is_file()

    @property
    def data_dir(self) -> Path:
        """``data/``: the workspace's RDF files, all read as part of the graph."""
        return self.root / "data"

    @property
    def policies_dir(self) -> Path:
        """``data/policies/``: where ``cptkg add`` writes."""
        return self.data_dir / "policies"

    @property
    def queries_dir(self) -> Path:
        """``queries/``: the workspace's own stored queries (optional)."""
        return self.root / "queries"

    @property
    def work_dir(self) -> Path:
        """``.cptkg/``: locks and staging files of ``cptkg add``."""
        return self.root / ".cptkg"


def is_workspace(directory: Path) -> bool:
    """Whether ``directory`` holds ``cptkg.toml`` or the project marker."""
    return (directory / WORKSPACE_FILE).is_file() or (directory / PROJECT_MARKER).is_file()


def read_config(path: Path) -> dict[str, object]:
    """The ``[workspace]`` table of a ``cptkg.toml``; CptkgError naming the file when it cannot
    be read, is not TOML, or has another format."""
    import tomllib  # only for a cptkg.toml (start-up time)

    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CptkgError(f"{path}: cannot read the workspace file: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CptkgError(
            f"{path}: not a valid workspace file ({exc})",
            hint=f"fix the TOML, or write it again with `cptkg init` (format = {CONFIG_FORMAT})",
        ) from None
    table = config.get("workspace")
    if not isinstance(table, dict) or table.get("format") != CONFIG_FORMAT:
        raise CptkgError(
            f"{path}: not a cptkg workspace file (expected a [workspace] table with "
            f"format = {CONFIG_FORMAT})",
            hint="this cptkg reads workspace format 1; write the file again with `cptkg init`",
        )
    return table


def _checked(directory: Path, found_by: str) -> Workspace:
    """The workspace at ``directory``, or CptkgError saying why it is none."""
    root = directory.expanduser().resolve()
    if not is_workspace(root):
        raise CptkgError(
            f"{found_by}={directory} is not a cptkg workspace (no {WORKSPACE_FILE} or "
            f"{PROJECT_MARKER} in it)",
            hint=INIT_HINT
            + (", or point CPTKG_HOME at the cptkg project directory (the one with ontology/)"),
        )
    if (root / WORKSPACE_FILE).is_file():
        read_config(root / WORKSPACE_FILE)
    return Workspace(root, found_by)


def find_workspace() -> Workspace | None:
    """The active workspace (see module docstring), or None; CptkgError when ``--workspace``
    or ``$CPTKG_HOME`` names a directory that is not a workspace."""
    override = _OVERRIDE.get()
    if override is not None:
        return _checked(override, "--workspace")
    env = os.environ.get(ENV_HOME)
    if env:
        return _checked(Path(env), ENV_HOME)
    cwd = Path.cwd().resolve()
    for candidate in (cwd, *cwd.parents):
        if is_workspace(candidate):
            return _checked(candidate, "current directory")
    return None


@contextlib.contextmanager
def using_workspace(directory: Path | str | None) -> Iterator[None]:
    """Within the block, ``directory`` (when not None) is the active workspace."""
    if directory is None:
        yield
        return
    token = _OVERRIDE.set(Path(directory))
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def init_workspace(directory: Path | str) -> tuple[Workspace, list[Path]]:
    """Make ``directory`` a workspace: ``cptkg.toml``, ``data/policies/``, ``queries/``.

    Existing files are never overwritten; returns the workspace and the paths created.
    InputError when ``directory`` is a file or already a workspace.
    """
    root = Path(directory).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: exists and is not a directory")
    if is_workspace(root):
        raise InputError(
            f"{root}: already a workspace",
            hint="use it as it is: run cptkg inside it, or pass --workspace " + str(root),
        )
    made: list[Path] = []
    for d in (root, root / "data", root / "data" / "policies", root / "queries"):
        if not d.is_dir():
            try:
                d.mkdir(parents=True)
            except OSError as exc:
                raise InputError(f"{d}: cannot create directory: {exc.strerror or exc}") from None
            made.append(d)
    config = root / WORKSPACE_FILE
    try:
        with open(config, "x", encoding="utf-8") as fh:
            fh.write(CONFIG_TEXT)
    except OSError as exc:
        raise InputError(f"{config}: cannot write: {exc.strerror or exc}") from None
    made.append(config)
    return Workspace(root, "cptkg init"), made
