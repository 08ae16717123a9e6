"""The user cache directory and the entries kept in it.

Every cache of cptkg (command results, translated SPARQL queries, parsed RDF files) lives
under :func:`cache_dir`, one file per entry, named by the SHA-256 of everything the entry was
computed from, so an entry is either exactly right or not found. Entries are written
atomically (a reader sees the old file or the new one), read back as bytes, and a missing,
truncated or unreadable entry is a miss. ``CPTKG_NO_CACHE=1`` bypasses them all; deleting the
directory is always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

#: Set to a non-empty value other than 0 to neither read nor write any cache entry.
ENV_NO_CACHE = "CPTKG_NO_CACHE"
#: Where the caches live (default: ``$XDG_CACHE_HOME/cptkg`` or ``~/.cache/cptkg``).
ENV_CACHE_DIR = "CPTKG_CACHE_DIR"


def cache_dir() -> Path:
    """``$CPTKG_CACHE_DIR``, else ``$XDG_CACHE_HOME/cptkg``, else ``~/.cache/cptkg``."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "cptkg"


def enabled() -> bool:
    """False when ``$CPTKG_NO_CACHE`` asks to bypass every cache."""
    return os.environ.get(ENV_NO_CACHE, "").strip() in ("", "0")


def file_digest(path: Path) -> str:
    """The SHA-256 of the content of ``path``."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


#: Kept source digests (:func:`source_digest`), the most recently written.
SOURCE_DIGESTS_KEPT = 8
#: A digest is kept only when every file is older than this (nanoseconds): file times advance
#: in clock ticks, so a file written again within a tick of its last change could keep its
#: times (git's "racily clean" entries); after this long, any write moves them.
SETTLED_NS = 2 * 10**9


@functools.cache
def code_digest() -> str:
    """One SHA-256 over the source files of the cptkg package (names and contents), so an
    edited module invalidates every entry computed by cptkg's code (once a process, see
    :func:`source_digest`)."""
    return source_digest(Path(__file__).resolve().parent)


def source_digest(root: Path) -> str:
    """The SHA-256 over the names and contents of the ``*.py`` files under ``root``.

    Reading them costs about 7 ms for cptkg's 98 modules, on every command, so the digest is
    kept under ``cache_dir()/code``, keyed by every file's name, size, inode, and modification
    and change times: a file cannot be written, replaced or renamed without one of them
    moving (the change time is set by the kernel, not by a user), so a kept digest is read
    back only for the very files it was computed from (the rule ``--store`` uses for its
    sources); otherwise it is computed again. Files changed less than :data:`SETTLED_NS` ago
    are not kept: a second write within the same clock tick could leave their times as
    they were."""
    names: list[str] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        base = os.path.relpath(directory, root)
        names += [f if base == "." else f"{base}/{f}" for f in files if f.endswith(".py")]
    names.sort()
    stats = hashlib.sha256()
    newest = 0
    for name in names:
        st = os.stat(os.path.join(root, name))
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        stats.update(
            f"{name}\0{st.st_size}\0{st.st_ino}\0{st.st_dev}\0{st.st_mtime_ns}\0"
            f"{st.st_ctime_ns}\n".encode("utf-8", "surrogateescape")
        )
    kept_at = entry_path("code", stats.hexdigest(), ".sha256")
    kept = read_entry(kept_at)
    if kept is not None and len(kept) == 64 and all(c in b"0123456789abcdef" for c in kept):
        return kept.decode("ascii")
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode("utf-8", "surrogateescape") + b"\0")
        with open(os.path.join(root, name), "rb") as fh:
            h.update(fh.read() + b"\0")
    found = h.hexdigest()
    if newest < time.time_ns() - SETTLED_NS and write_entry(kept_at, found.encode("ascii")):
        prune(kept_at.parent, SOURCE_DIGESTS_KEPT)
    return found


#: rdflib's term classes, which every pickled cache holds.
RDFLIB_TERMS: frozenset[tuple[str, str]] = frozenset(
    {("rdflib.term", "URIRef"), ("rdflib.term", "BNode"), ("rdflib.term", "Literal")}
)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only the classes :attr:`allowed` names (module, name): an
    entry naming any other is refused (UnpicklingError), never run. Each pickled cache
    subclasses it with its own classes."""

    allowed: frozenset[tuple[str, str]] = frozenset()

    def find_class(self, module: str, name: str) -> type:
        """The class ``module.name`` when allowed; UnpicklingError otherwise."""
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(f"{module}.{name} is not a class this cache holds")
        return super().find_class(module, name)  # type: ignore[no-any-return]


def distribution_versions(names: Iterable[str]) -> dict[str, str]:
    """``name -> version`` of installed distributions, read from the names of their
    ``*.dist-info`` directories on ``sys.path`` (no ``importlib.metadata``: it is slow to
    import); "missing" for one not found."""
    wanted = {_normal(n): n for n in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.listdir(entry or ".")
        except OSError:
            continue
        for item in listing:
            if not item.endswith(".dist-info"):
                continue
            dist, _, version = item[: -len(".dist-info")].partition("-")
            key = _normal(dist)
            if key in wanted and wanted[key] not in found:
                found[wanted[key]] = version
    return {n: found.get(n, "missing") for n in wanted.values()}


def _normal(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def digest(parts: Iterable[str | bytes]) -> str:
    """The SHA-256 of ``parts`` (text as UTF-8), each preceded by its length, so that no two
    different lists of parts share a digest (whatever bytes a part holds)."""
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode("utf-8", "surrogateescape")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def entry_path(kind: str, key: str, suffix: str) -> Path:
    """The file of the entry ``key`` (a hex digest) of the cache ``kind``."""
    return cache_dir() / kind / f"{key}{suffix}"


def read_entry(path: Path) -> bytes | None:
    """The bytes of the entry at ``path``; None when there is none, it cannot be read or the
    caches are bypassed."""
    if not enabled():
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def json_object(data: bytes | None) -> dict[str, Any] | None:
    """The JSON object an entry's bytes hold; None when there are none, they are not JSON or
    not an object (a torn or foreign entry)."""
    if data is None:
        return None
    try:
        entry = json.loads(data)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def write_entry(path: Path, data: bytes) -> bool:
    """Keep ``data`` at ``path`` atomically (a temporary file renamed over it; not synced to
    disk: an entry lost or torn by a crash is only a miss); False (and nothing written) when
    the caches are bypassed or the directory cannot be written (a cache that cannot be written
    only costs recomputing)."""
    if not enabled():
        return False
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False
    return True


def prune(directory: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently written entries of ``directory`` (a cache of
    query texts would otherwise grow with every distinct ad-hoc query)."""
    try:
        entries = [e for e in os.scandir(directory) if e.is_file() and not e.name.startswith(".")]
    except OSError:
        return
    if len(entries) <= keep:
        return
    entries.sort(key=_written, reverse=True)
    for entry in entries[keep:]:
        try:
            os.unlink(entry.path)
        except OSError:
            pass


def _written(entry: os.DirEntry[str]) -> int:
    """When ``entry`` was last written; -1 when it is gone (another process pruned it)."""
    try:
        return entry.stat().st_mtime_ns
    except OSError:
        return -1


class StderrWatch:
    """A context that notes whether anything was written to ``sys.stderr`` inside it (a
    warning or a note): such a run is not cached, since a cached answer would not repeat it."""

    def __init__(self) -> None:
        self.written = False
        self._stream: TextIO | None = None

    def __enter__(self) -> StderrWatch:
        self._stream = sys.stderr
        sys.stderr = _Tee(self._stream, self)  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stream is not None
        sys.stderr = self._stream


class _Tee:
    """``stream`` with every write marking ``watch``."""

    def __init__(self, stream: TextIO, watch: StderrWatch) -> None:
        self._stream = stream
        self._watch = watch

    def write(self, text: str) -> int:
        if text:
            self._watch.written = True
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)
