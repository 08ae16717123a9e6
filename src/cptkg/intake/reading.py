"""Reading new data: RDF files parsed into one graph, with the file and line of each subject
(and of each property, for messages), refused before parsing when too large."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS
from rdflib.term import Node

from cptkg import paths as _paths
from cptkg.errors import InputError
from cptkg.gc_tuning import fewer_collections
from cptkg.load import parse_file, quiet_rdflib
from cptkg.namespaces import CPTKG, bind_prefixes
from cptkg.textsafe import describe, printable, unsafe_characters

#: Files larger than this are refused before parsing (``--max-bytes`` raises it).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def check_size(path: Path, max_bytes: int | None) -> None:
    """Refuse ``path`` before parsing when it is larger than ``max_bytes``."""
    if max_bytes is None or max_bytes <= 0:
        return
    try:
        size = path.stat().st_size
    except OSError:
        return  # the parser reports a missing file with its own message
    if size > max_bytes:
        raise InputError(
            f"{_paths.display_path(path)}: file is {size / 2**20:.1f} MiB, larger than the "
            f"{max_bytes / 2**20:.1f} MiB intake limit; refused without parsing",
            hint="a payer policy file is normally a few kB: check that this is the right file, "
            "or raise the limit with --max-bytes BYTES",
        )


def check_encodable(new: NewData) -> None:
    """Refuse (InputError, nothing written) a term of the new data that cannot be written as
    UTF-8 (a lone surrogate such as ``\\ud800``), naming where it is."""
    for s, p, o in new.graph:
        for term in (s, p, o):
            try:
                str(term).encode("utf-8")
                if isinstance(term, Literal) and term.language:
                    term.language.encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = str(term)[exc.start : exc.end]
                where = new.location(s, p) or ", ".join(_paths.display_path(f) for f in new.files)
                raise InputError(
                    f"{where}: {ascii(bad)[1:-1]} in {ascii(str(term)[:60])} cannot be written "
                    "as UTF-8 (a lone surrogate); refused, nothing written",
                    hint="write the character itself (a \\U escape for characters beyond "
                    "U+FFFF), not a surrogate half",
                ) from None


#: Properties whose text is one line (a name, an identifier, a code): no tab, no line break.
SINGLE_LINE = frozenset(
    {
        DCTERMS.identifier,
        DCTERMS.title,
        RDFS.label,
        SKOS.prefLabel,
        SKOS.altLabel,
        SKOS.notation,
        CPTKG.versionLabel,
    }
)
#: The rule named when a text holds an unsafe character (:mod:`cptkg.textsafe`).
CONTROL_CHARACTER_RULE = "intake:text-control-character"
#: At most this many unsafe characters are listed in one refusal.
LISTED = 20


def check_text_safe(new: NewData) -> None:
    """Refuse (InputError, nothing written) new data holding an unsafe character
    (:mod:`cptkg.textsafe`: a control, bidi override or isolate, zero-width character) in an
    IRI or a literal; tab and line breaks are accepted in multi-line texts (quotes, criteria,
    notes, comments), not in IRIs nor in :data:`SINGLE_LINE` properties. Each is named with
    its ``file:line`` (or row and column), escaped."""
    found: list[str] = []
    # terms already found safe, without and with layout allowed (IRIs repeat in every row)
    safe: set[Node] = set()
    safe_in_layout: set[Node] = set()
    for s, p, o in new.graph:
        for term in (s, p, o):
            layout = isinstance(term, Literal) and p not in SINGLE_LINE
            seen = safe_in_layout if layout else safe
            if term in seen:
                continue
            bad = unsafe_characters(str(term), allow_layout=layout)
            if not bad:
                seen.add(term)
                continue
            where = new.location(s, p) or ", ".join(_paths.display_path(f) for f in new.files)
            kind = "text" if isinstance(term, Literal) else "IRI"
            chars = ", ".join(sorted({describe(c) for _i, c in bad}))
            found.append(
                f'{where}: {chars} in the {kind} "{printable(str(term)[:60])}" of {new.short(p)}'
            )
            break
    found.sort(key=_by_place)
    if not found:
        return
    more = f"\n  ... and {len(found) - LISTED} more" if len(found) > LISTED else ""
    raise InputError(
        f"{len(found)} text(s) hold a control, bidirectional or invisible character "
        f"(rule {CONTROL_CHARACTER_RULE}); refused, nothing written:\n  "
        + "\n  ".join(found[:LISTED])
        + more,
        hint="delete the character (copying from a PDF or a web page often brings them in); "
        "tab and line breaks are accepted only in long texts such as quotes and criteria",
    )


def _by_place(message: str) -> tuple[str, int, str]:
    """Sort key of ``file:line: ...`` messages: file, then line as a number."""
    head = message.split(": ", 1)[0]
    file, _, line = head.rpartition(":")
    return (file, int(line), message) if line.isdigit() else (head, 0, message)


@dataclass
class NewData:
    """New data read from files (or built from a spreadsheet), with where each subject is."""

    graph: Graph
    files: list[Path]
    #: subject -> "file:line" (or "file row N") where it is described
    where: dict[Node, str] = field(default_factory=dict)
    #: optional (subject, path) -> "file row N, column C" locator (spreadsheet intake)
    locate: Callable[[Node | None, Node | None], str | None] | None = None

    #: file display name -> its lines (RDF files), to find a property's line
    lines: dict[str, list[str]] = field(default_factory=dict)
    #: the graph's prefixes, read once for :meth:`location`
    _prefixes: list[tuple[str, str]] | None = field(default=None, init=False, repr=False)

    def location(
        self, subject: Node | None, path: Node | None = None, value: Node | None = None
    ) -> str | None:
        """Where ``subject`` (and, when found, its ``path`` property, and that property's
        ``value`` when it is an IRI) is written."""
        if self.locate is not None:
            loc = self.locate(subject, path)
            if loc:
                return loc
        where = self.where.get(subject) if subject is not None else None
        if where and isinstance(path, URIRef) and ":" in where:
            shown, _, line = where.rpartition(":")
            found = self._term_line(shown, int(line) if line.isdigit() else 0, path)
            if found and isinstance(value, URIRef):
                found = self._term_line(shown, found, value, within=path) or found
            if found:
                return f"{shown}:{found}"
        return where

    def short(self, term: Node) -> str:
        """``term`` as a prefixed name when one of the graph's prefixes fits, else ``<IRI>``."""
        if not isinstance(term, URIRef):
            return str(term)
        return min(self._forms(term), key=len)

    def _forms(self, term: URIRef) -> list[str]:
        if self._prefixes is None:
            self._prefixes = [(p, str(ns)) for p, ns in self.graph.namespaces() if p]
        forms = [f"<{term}>"]
        for p, ns in self._prefixes:
            if str(term).startswith(ns):
                forms.append(f"{p}:{str(term)[len(ns) :]}")
        return forms

    def _term_line(
        self, shown: str, start: int, term: URIRef, within: URIRef | None = None
    ) -> int | None:
        """The first line from ``start`` of the subject block starting there that writes
        ``term``; with ``within`` (the property ``term`` is a value of), only up to the next
        property of the block."""
        lines = self.lines.get(shown)
        if not lines or start < 1:
            return None
        forms = self._forms(term)
        pattern = _term_pattern(tuple(forms))
        for number in range(start, len(lines) + 1):
            text = lines[number - 1]
            if number > start and text[:1].strip() and not text.startswith("#"):
                break  # the next subject's block
            if any(f in text for f in forms) and pattern.search(text):
                return number
            if within is not None and number > start and text.rstrip().endswith((";", ".")):
                break  # the end of the property's values
        return None


@functools.lru_cache(maxsize=4096)
def _term_pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    """A term written in one of ``forms``, as a whole token."""
    alternatives = "|".join(map(re.escape, forms))
    return re.compile(r"(?:^|[\s;,\[\"])(?:" + alternatives + r")(?=[\s\",;.]*$|[\s\",;])")


@fewer_collections()
def read_new(paths: Iterable[Path | str], *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> NewData:
    """Parse new RDF files (.ttl, .nt, .jsonld, .trig, .nq) into one graph.

    Raises InputError / ParseError (exit 2) for a missing, too large, empty or unparsable file,
    or one holding a text that cannot be written as UTF-8.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise InputError("no file given", hint="name the new policy file(s) to check")
    g = Graph()
    bind_prefixes(g)
    where: dict[Node, str] = {}
    file_lines: dict[str, list[str]] = {}
    for f in files:
        if f.is_dir():
            raise InputError(
                f"{f}: is a directory; new data is read from the files named",
                hint=f"name its files, e.g. {f}/*.ttl (a directory is read whole only "
                "when it is part of the shipped graph: data/ or ontology/)",
            )
        if f.exists():
            _paths.rdf_format(f)  # unknown extension -> InputError before reading
        check_size(f, max_bytes)
        with quiet_rdflib():
            one = parse_file(f, max_bytes=max_bytes)
        shown = _paths.display_path(f)
        if len(one) == 0:
            raise InputError(
                f"{shown}: no triples found (the file is empty or holds only comments/prefixes)",
                hint="write the policy as RDF (see data/policies/*.ttl), or use "
                "cptkg import-csv for a spreadsheet",
            )
        for prefix, ns in one.namespaces():
            if prefix:
                g.bind(prefix, ns, override=False)
        g += one
        lines = _subject_lines(f, one)
        try:
            file_lines[shown] = f.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            pass
        for s in set(one.subjects()):
            if s not in where:
                line = lines.get(s)
                where[s] = f"{shown}:{line}" if line else shown
    new = NewData(graph=g, files=files, where=where, lines=file_lines)
    check_encodable(new)
    check_text_safe(new)
    return new


def _subject_lines(path: Path, g: Graph) -> dict[Node, int]:
    """Best effort: the line where each IRI subject is first written as a subject (the first
    term of a line, or a JSON-LD ``"@id"``), read in one pass over the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    nss = [(p, str(ns)) for p, ns in g.namespaces() if p]
    written: dict[str, Node] = {}
    for s in set(g.subjects()):
        if not isinstance(s, URIRef):
            continue
        forms = [f"<{s}>", f'"{s}"']
        for p, ns in nss:
            if str(s).startswith(ns):
                local = str(s)[len(ns) :]
                forms += [f"{p}:{local}", f'"{p}:{local}"']
        for form in forms:
            written.setdefault(form, s)
    out: dict[Node, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        m = _FIRST_TERM.match(line)
        if m is None:
            continue
        s = written.get(m.group(1))
        if s is not None and s not in out:
            out[s] = number
    return out


#: The first term of a line (or the value of a JSON-LD ``"@id"``), as written.
_FIRST_TERM = re.compile(r'^\s*(?:"@id"\s*:\s*)?(<[^>]*>|"[^"]*"|[^\s,;]+)(?=[\s,;]|$)')


def policies(g: Graph) -> list[URIRef]:
    """The payer policies (``cptkg:PayerPolicy`` IRIs) of ``g``, sorted."""
    return sorted(
        (s for s in g.subjects(RDF.type, CPTKG.PayerPolicy) if isinstance(s, URIRef)), key=str
    )
