"""A compact, cached index of one code-system release: look-up by notation in constant time.

The index is an SQLite file built from the release's source file (:mod:`cptkg.codes.build`)
on first use and kept in the cache directory (``$CPTKG_CACHE_DIR``, else
``$XDG_CACHE_HOME/cptkg``, else ``~/.cache/cptkg``) under a name holding the release version,
the version of the package that ships the file and the file's SHA-256, so an index built
from another file is never used. Codes are keyed by notation (a B-tree primary key: a
look-up reads the same two or three pages whether the release holds 50 or 100,000 codes).
Chapters and blocks are kept apart from codes, since a block may share a code's notation.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from cptkg.cache import cache_dir
from cptkg.codes.entry import CodeEntry
from cptkg.codes.releases import ICD10CM, Release
from cptkg.errors import CptkgError

SCHEMA_VERSION = "1"
#: Most notations bound into one ``IN`` list (SQLite allows 999 host parameters at least).
BATCH = 500
_UNDOTTED = re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{1,4}")

_SCHEMA = """
CREATE TABLE codes (notation TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL,
                    parent TEXT, billable INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE groups_ (notation TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL,
                      parent TEXT, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX codes_parent ON codes(parent);
"""


#: (path, size, mtime) -> SHA-256 already read in this process
_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """The SHA-256 of ``path``, remembered per (path, size, mtime) in the cache directory (and
    in this process, so a repeated look-up costs one ``stat``)."""
    stat = path.stat()
    key = str(path.resolve())
    seen = (key, stat.st_size, stat.st_mtime_ns)
    if seen in _DIGESTS:
        return _DIGESTS[seen]
    _DIGESTS[seen] = digest = _stamped_sha256(path, key, [stat.st_size, stat.st_mtime_ns])
    return digest


def _stamped_sha256(path: Path, key: str, mark: list[int]) -> str:
    stamp = cache_dir() / "code-systems" / "sha256-stamps.json"
    try:
        stamps = json.loads(stamp.read_text("utf-8"))
    except (OSError, ValueError):
        stamps = {}
    known = stamps.get(key)
    if isinstance(known, dict) and known.get("mark") == mark:
        return str(known["sha256"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    stamps[key] = {"mark": mark, "sha256": digest}
    try:
        _atomic_write(stamp, json.dumps(stamps, indent=1).encode("utf-8"))
    except OSError:
        pass  # a read-only cache only costs rehashing next time
    return digest


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def normalise_notation(system: str, text: str) -> str:
    """``text`` as the release writes notations: trimmed, upper case, ICD-10-CM with its dot
    (``g5131`` -> ``G51.31``); a trailing ``-`` (whole category) is dropped."""
    code = text.strip().upper().rstrip("-").strip()
    if system == ICD10CM and _UNDOTTED.fullmatch(code):
        code = code[:3] + "." + code[3:]
    return code


class CodeIndex:
    """Read access to one release's index."""

    def __init__(self, release: Release, path: Path) -> None:
        self.release = release
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._db.execute("PRAGMA cache_size = -32768")  # keep read pages: up to 32 MiB
        self.meta: dict[str, str] = dict(self._db.execute("SELECT key, value FROM meta"))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __len__(self) -> int:
        return int(self.meta.get("codes", "0"))

    def get(self, notation: str) -> CodeEntry | None:
        """The code (or else chapter / block) with exactly this notation, or None."""
        row = self._db.execute(
            "SELECT notation, kind, label, parent, billable FROM codes WHERE notation = ?",
            (notation,),
        ).fetchone()
        if row is None:
            row = self._db.execute(
                "SELECT notation, kind, label, parent, 0 FROM groups_ WHERE notation = ?",
                (notation,),
            ).fetchone()
        return _entry(row) if row else None

    def get_many(self, notations: Iterable[str]) -> dict[str, CodeEntry]:
        """:meth:`get` of every notation in ``notations`` at once (a few ``IN`` queries of
        at most :data:`BATCH` notations each): the entries found, keyed by notation."""
        wanted = sorted(set(notations))
        found: dict[str, CodeEntry] = {}
        for table, billable in (("codes", "billable"), ("groups_", "0")):
            rest = [n for n in wanted if n not in found]
            for start in range(0, len(rest), BATCH):
                chunk = rest[start : start + BATCH]
                marks = ", ".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT notation, kind, label, parent, {billable} FROM {table} "
                    f"WHERE notation IN ({marks})",
                    chunk,
                )
                for row in rows:
                    found[str(row[0])] = _entry(row)
        return found

    def lookup(self, text: str) -> CodeEntry | None:
        """:meth:`get` after :func:`normalise_notation`."""
        return self.get(normalise_notation(self.release.system, text))

    def parent(self, entry: CodeEntry) -> CodeEntry | None:
        """The entry above ``entry`` (a block's parent is its chapter)."""
        if entry.parent is None:
            return None
        if entry.is_group or entry.kind == "category":
            row = self._db.execute(
                "SELECT notation, kind, label, parent, 0 FROM groups_ WHERE notation = ?",
                (entry.parent,),
            ).fetchone()
            return _entry(row) if row else None
        return self.get(entry.parent)

    def ancestors(self, entry: CodeEntry) -> list[CodeEntry]:
        """Every entry above ``entry``, nearest first, up to its chapter."""
        found: list[CodeEntry] = []
        current = self.parent(entry)
        while current is not None:
            found.append(current)
            current = self.parent(current)
        return found

    def children(self, entry: CodeEntry) -> list[CodeEntry]:
        """The codes directly below a code, in release order."""
        if entry.is_group:
            return []
        rows = self._db.execute(
            "SELECT notation, kind, label, parent, billable FROM codes WHERE parent = ? "
            "ORDER BY seq",
            (entry.notation,),
        )
        return [_entry(r) for r in rows]

    def billable_under(self, notation: str, limit: int | None = None) -> list[CodeEntry]:
        """The billable codes at or below the code ``notation``, in release order."""
        sql = (
            "SELECT notation, kind, label, parent, billable FROM codes "
            "WHERE notation >= ? AND notation < ? AND billable = 1 ORDER BY seq"
        )
        args: tuple[object, ...] = (notation, notation + "\uffff")
        if limit is not None:
            sql += " LIMIT ?"
            args = (*args, limit)
        return [_entry(r) for r in self._db.execute(sql, args)]

    def count_billable_under(self, notation: str) -> int:
        """How many billable codes lie at or below the code ``notation``."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM codes WHERE notation >= ? AND notation < ? AND billable = 1",
            (notation, notation + "\uffff"),
        ).fetchone()
        return int(row[0])

    def search(self, text: str, limit: int = 50) -> list[CodeEntry]:
        """Codes whose notation starts with, or whose descriptor contains, ``text``."""
        prefix = normalise_notation(self.release.system, text)
        rows = self._db.execute(
            "SELECT notation, kind, label, parent, billable FROM codes "
            "WHERE (notation >= ? AND notation < ?) OR label LIKE ? ESCAPE '\\' "
            "ORDER BY seq LIMIT ?",
            (prefix, prefix + "\uffff", "%" + _like_escape(text.strip()) + "%", limit),
        )
        return [_entry(r) for r in rows]

    def suggest(self, text: str, count: int = 5) -> list[CodeEntry]:
        """Billable codes closest to the notation ``text``: those sharing the longest prefix
        with it first, then the most similar."""
        wanted = normalise_notation(self.release.system, text)
        candidates: list[CodeEntry] = []
        for end in range(len(wanted), 0, -1):
            candidates = self.billable_under(wanted[:end], limit=2000)
            if len(candidates) >= count:
                break
        if len(candidates) <= count:
            return sorted(candidates, key=lambda e: _closeness(wanted, e.notation))
        # the shared prefix and the first differing character decide most places: the
        # similarity ratio is computed only for the candidates that may be kept
        ranked = sorted(candidates, key=lambda e: _prefix_closeness(wanted, e.notation))
        last = _prefix_closeness(wanted, ranked[count - 1].notation)
        kept = [e for e in ranked if _prefix_closeness(wanted, e.notation) <= last]
        return sorted(kept, key=lambda e: _closeness(wanted, e.notation))[:count]

    def entries(self) -> Iterable[CodeEntry]:
        """Every chapter, block and code, groups first, each in release order."""
        for row in self._db.execute(
            "SELECT notation, kind, label, parent, 0 FROM groups_ ORDER BY seq"
        ):
            yield _entry(row)
        for row in self._db.execute(
            "SELECT notation, kind, label, parent, billable FROM codes ORDER BY seq"
        ):
            yield _entry(row)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix_closeness(wanted: str, notation: str) -> tuple[int, int]:
    common = len(os.path.commonprefix([wanted, notation]))
    if common < len(wanted) and common < len(notation):
        gap = abs(ord(wanted[common]) - ord(notation[common]))
    else:
        gap = 0
    return (-common, gap)


def _closeness(wanted: str, notation: str) -> tuple[int, int, float, str]:
    common, gap = _prefix_closeness(wanted, notation)
    ratio = difflib.SequenceMatcher(None, wanted, notation).ratio()
    return (common, gap, -ratio, notation)


def _entry(row: tuple[object, ...]) -> CodeEntry:
    notation, kind, label, parent, billable = row
    return CodeEntry(
        notation=str(notation),
        kind=str(kind),
        label=str(label),
        parent=None if parent is None else str(parent),
        billable=bool(billable),
    )


def index_path(release: Release) -> Path:
    """Where the index of ``release`` built from its current source file is kept."""
    digest = file_sha256(release.file_path())
    dist = release.distribution_version or "project"
    name = f"{release.system}-{release.version}-{dist}-{digest[:16]}-v{SCHEMA_VERSION}.sqlite"
    return cache_dir() / "code-systems" / name


def write_index(release: Release, path: Path) -> None:
    """Build the index of ``release`` from its source file into ``path`` (atomically)."""
    from cptkg.codes.build import read_release

    groups, codes = read_release(release)
    write_entries(release, path, groups, codes)


def write_entries(
    release: Release, path: Path, groups: list[CodeEntry], codes: list[CodeEntry]
) -> None:
    """Write an index of ``groups`` and ``codes`` (release order) of ``release`` to ``path``."""
    source = release.file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO groups_ VALUES (?, ?, ?, ?, ?)",
            ((g.notation, g.kind, g.label, g.parent, i) for i, g in enumerate(groups)),
        )
        db.executemany(
            "INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?)",
            (
                (c.notation, c.kind, c.label, c.parent, int(c.billable), i)
                for i, c in enumerate(codes)
            ),
        )
        meta = {
            "system": release.system,
            "version": release.version,
            "label": release.label,
            "file_name": release.file_name,
            "sha256": file_sha256(source),
            "distribution": release.distribution or "",
            "distribution_version": release.distribution_version or "",
            "codes": str(len(codes)),
            "billable": str(sum(c.billable for c in codes)),
            "schema": SCHEMA_VERSION,
        }
        db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        db.commit()
    finally:
        db.close()
    os.replace(tmp, path)


_OPEN: dict[Path, CodeIndex] = {}


def open_index(release: Release) -> CodeIndex:
    """The index of ``release``, built first if the cache does not hold it yet."""
    path = index_path(release)
    if path in _OPEN:
        return _OPEN[path]
    if not path.is_file():
        try:
            write_index(release, path)
        except OSError as exc:
            raise CptkgError(
                f"cannot build the {release.label} index in {path.parent}: {exc}",
                hint="set CPTKG_CACHE_DIR to a writable directory",
            ) from None
    index = CodeIndex(release, path)
    _OPEN[path] = index
    return index
