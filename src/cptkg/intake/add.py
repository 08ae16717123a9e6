"""Add a new or revised payer policy to the workspace's ``data/policies/``: validate, then write
atomically. Without a workspace nothing is written (the reference graph is read-only).

``plan_add`` reads and validates the new data in the context of the graph and decides the
target file; ``apply_add`` writes it:

1. take an exclusive lock (``<workspace>/.cptkg/add.lock``, ``fcntl.flock``: the kernel releases it
   when the process dies, so a killed add never leaves a stale lock),
2. write the Turtle to a temporary file in ``<workspace>/.cptkg/staging/`` (same file system as
   ``data/``), flush and fsync it,
3. parse that temporary file back and validate it once more in the context of the graph as
   it is *now* (another add may have finished since the plan was made),
4. ``os.replace`` it to ``data/policies/<name>.ttl`` (a new file; existing files are never
   rewritten) and fsync the directory.

``data/`` changes by exactly one rename, so a crash or kill at any moment leaves it as it was
before or as it is after; nothing temporary is ever created inside ``data/``.

File name: ``<payer>-<identifier>-<effective date or 'undated'>.ttl`` (the identifier without
a repeated payer prefix; ``-2``, ``-3`` … if the name is taken).

Versions: a policy whose ``dcterms:identifier`` (or IRI) is already in the graph with other
content is a conflict. ``new_version=True`` (``cptkg add --new-version``) turns it into a new
dated version instead: IRI ``kg:policy-<identifier>-<date>``, identifier
``<identifier>@<date>`` (``@v2`` … when undated) and ``cptkg:supersedes`` the latest existing
version. The old version stays as it is.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from cptkg import paths as _paths
from cptkg.errors import CptkgError, InputError
from cptkg.export import canonical_graph
from cptkg.gc_tuning import fewer_collections
from cptkg.intake.context import ContextProvider, shipped_context
from cptkg.intake.diff import describe_changes
from cptkg.intake.reading import DEFAULT_MAX_BYTES, NewData, check_encodable, read_new
from cptkg.intake.report import IntakeReport
from cptkg.intake.validation import validate_new_data
from cptkg.namespaces import CPTKG, KG, bind_prefixes
from cptkg.turtle import pretty_turtle

#: Crash points for tests: set CPTKG_TEST_CRASH_AT to one of these to SIGKILL the process there.
CRASH_POINTS = ("after-lock", "after-temp-write", "before-replace", "after-replace")


class AddError(CptkgError):
    """The policy cannot be added (lock held, target exists, I/O error)."""


def _crash_point(name: str) -> None:
    """Test hook: kill this process (SIGKILL, no clean-up) at crash point ``name``."""
    if os.environ.get("CPTKG_TEST_CRASH_AT") == name or (
        name == "before-replace" and os.environ.get("CPTKG_TEST_CRASH_BEFORE_REPLACE") == "1"
    ):
        os.kill(os.getpid(), signal.SIGKILL)


def slug(text: str) -> str:
    """Lower-case, ASCII letters/digits/dots separated by single hyphens."""
    s = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return re.sub(r"-{2,}", "-", s) or "policy"


def _local(iri: URIRef) -> str:
    s = str(iri)
    return s[len(str(KG)) :] if s.startswith(str(KG)) else re.split(r"[/#]", s)[-1]


# ----------------------------------------------------------------------------- plan


@dataclass
class AddPlan:
    """What ``cptkg add`` would do."""

    new: NewData
    report: IntakeReport
    target: Path
    content: bytes
    policies: list[URIRef]
    #: (new version IRI, the version it supersedes) created by new_version=True
    versions: list[tuple[URIRef, URIRef]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context: ContextProvider | None = None

    @property
    def conforms(self) -> bool:
        return self.report.conforms

    @property
    def nothing_to_add(self) -> bool:
        return bool(self.policies) and set(self.report.unchanged) == set(self.policies)


def policies_dir() -> Path:
    """``data/policies/`` of the active workspace (absolute); CptkgError saying how to make a
    workspace when there is none."""
    return _paths.require_workspace("add policies to").policies_dir


def target_name(g: Graph, policies: list[URIRef]) -> str:
    """``<payer>-<identifier>-<effective date|undated>`` (+ ``-and-N-more`` for several)."""
    first = policies[0]
    payer = g.value(first, CPTKG.payer)
    payer_slug = (
        slug(_local(payer).removeprefix("payer-")) if isinstance(payer, URIRef) else "payer"
    )
    ident = g.value(first, DCTERMS.identifier)
    id_slug = slug(str(ident).split("@", 1)[0]) if ident is not None else slug(_local(first))
    id_slug = id_slug.removeprefix(payer_slug + "-")
    eff = g.value(first, CPTKG.effectiveDate)
    date = str(eff) if eff is not None and re.match(r"^\d{4}-\d{2}-\d{2}$", str(eff)) else "undated"
    name = f"{payer_slug}-{id_slug}-{date}"
    if len(policies) > 1:
        name += f"-and-{len(policies) - 1}-more"
    return name


#: The longest file-name stem derived from data (file systems allow 255 bytes per name).
MAX_STEM = 120


def bounded_stem(name: str, limit: int = MAX_STEM) -> str:
    """``name`` when at most ``limit`` characters; otherwise its start cut and a short hash of
    the whole name appended, so distinct long names stay distinct."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return name[: limit - len(digest) - 1].rstrip("-.") + "-" + digest


def _free_target(directory: Path, stem: str) -> Path:
    stem = bounded_stem(stem)
    candidate = directory / f"{stem}.ttl"
    n = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{n}.ttl"
        n += 1
    return candidate


def _versions_of(ctx: ContextProvider, base: str) -> list[URIRef]:
    """Existing policies whose identifier is ``base`` or ``base@…``."""
    found = {iri for _lit, iri in ctx.policies_with_identifier([base])}
    versions = getattr(ctx, "policy_versions", None)
    if callable(versions):
        found |= {iri for _lit, iri in versions([base])}
    return sorted(found, key=str)


def _head(ctx: ContextProvider, versions: list[URIRef]) -> URIRef:
    """The latest version: not superseded by another, latest effective date."""
    desc = Graph()
    for t in ctx.describe(versions):
        desc.add(t)
    superseded = {o for v in versions for o in desc.objects(v, CPTKG.supersedes)}
    heads = [v for v in versions if v not in superseded] or versions
    return max(heads, key=lambda v: (str(desc.value(v, CPTKG.effectiveDate) or ""), str(v)))


def make_new_versions(
    g: Graph, ctx: ContextProvider
) -> tuple[list[tuple[URIRef, URIRef]], list[str]]:
    """Rewrite, in ``g``, each policy that collides with an existing one (same IRI or same
    identifier) into a new dated version that supersedes the latest existing version."""
    made: list[tuple[URIRef, URIRef]] = []
    notes: list[str] = []
    for pol in sorted(set(g.subjects(RDF.type, CPTKG.PayerPolicy)), key=str):
        if not isinstance(pol, URIRef):
            continue
        ident = g.value(pol, DCTERMS.identifier)
        base = str(ident).split("@", 1)[0] if ident is not None else None
        versions = _versions_of(ctx, base) if base else []
        if any(True for _ in ctx.types_of([pol])) and pol not in versions:
            versions.append(pol)
        if not versions:
            notes.append(f"{_local(pol)}: not in the graph yet, added as a new policy")
            continue
        head = _head(ctx, versions)
        eff = g.value(pol, CPTKG.effectiveDate)
        suffix = str(eff) if eff is not None else f"v{len(versions) + 1}"
        base = base or _local(head).removeprefix("policy-")
        new_iri = URIRef(f"{KG}policy-{slug(base)}-{slug(suffix)}")
        n = 2
        while any(True for _ in ctx.types_of([new_iri])):
            new_iri = URIRef(f"{KG}policy-{slug(base)}-{slug(suffix)}-{n}")
            n += 1
        for s, p, o in list(g):
            if s == pol or o == pol:
                g.remove((s, p, o))
                g.add((new_iri if s == pol else s, p, new_iri if o == pol else o))
        g.set((new_iri, DCTERMS.identifier, Literal(f"{base}@{suffix}")))
        if (new_iri, CPTKG.supersedes, None) not in g:
            g.add((new_iri, CPTKG.supersedes, head))
        made.append((new_iri, head))
        notes.append(
            f"{_local(pol)} becomes new version {_local(new_iri)} (identifier {base}@{suffix}), "
            f"superseding {_local(head)}, which is kept"
        )
    return made, notes


def _needs_canonical_order(g: Graph, prefixes: Graph) -> bool:
    """Whether the Turtle of ``g`` depends on the order of its triples: blank nodes get
    canonical labels, and a predicate without a prefix in ``prefixes`` gets a generated one
    (``ns1``, ``ns2`` … in the order the predicates come)."""
    predicates = set()
    for s, p, o in g:
        if isinstance(s, BNode) or isinstance(o, BNode):
            return True
        predicates.add(p)
    manager = prefixes.namespace_manager
    for p in predicates:
        try:
            manager.compute_qname(p, generate=False)
        except Exception:  # rdflib raises KeyError/ValueError/... for "no prefixed name"
            return True
    return False


@fewer_collections()
def serialize_new(g: Graph, sources: list[Path]) -> bytes:
    """The Turtle written to data/policies/: a header comment, then the triples."""
    prefixes = canonical_graph(Graph(), namespaces_from=bind_prefixes(Graph()))
    if _needs_canonical_order(g, prefixes):
        body = pretty_turtle(canonical_graph(g, namespaces_from=prefixes))
    else:  # the same text, without copying and sorting the triples first
        body = pretty_turtle(g, prefixes.namespace_manager)
    header = [f"# Added by `cptkg add` on {_dt.date.today().isoformat()}."]
    for src in sources:
        try:
            digest = hashlib.sha256(src.read_bytes()).hexdigest()
            header.append(f"# Source: {src.name} (sha256 {digest})")
        except OSError:
            header.append(f"# Source: {src.name}")
    return ("\n".join(header) + "\n").encode("utf-8") + body.encode("utf-8", "replace")


def plan_add(
    paths: list[Path | str] | None = None,
    *,
    new: NewData | None = None,
    context: ContextProvider | None = None,
    new_version: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    allow_illustrative: bool = False,
) -> AddPlan:
    """Read (or take) the new data, optionally make new versions, validate, choose the target."""
    target_dir = policies_dir()  # no workspace: refused before anything is read
    ctx = context if context is not None else shipped_context()
    if new is None:
        new = read_new(paths or [], max_bytes=max_bytes)
    policies = sorted(
        (p for p in new.graph.subjects(RDF.type, CPTKG.PayerPolicy) if isinstance(p, URIRef)),
        key=str,
    )
    shown = ", ".join(_paths.display_path(f) for f in new.files) or "the new data"
    if not policies:
        raise InputError(
            f"{shown}: no policy found (no resource of type cptkg:PayerPolicy)",
            hint="`cptkg add` adds payer policies; add payers and codes to data/*.ttl by hand",
        )
    illustrative = sorted(
        str(s) for s, o in new.graph.subject_objects(CPTKG.illustrative) if o == Literal(True)
    ) + sorted(
        str(s) for s in new.graph.subjects(CPTKG.evidenceStatus, CPTKG["evidence-illustrative"])
    )
    if illustrative and not allow_illustrative:
        raise InputError(
            f"{shown}: {illustrative[0]} is marked illustrative; illustrative data never enters "
            "data/ (nothing written)",
            hint="validate it with `cptkg validate FILE`; to add a real policy, remove "
            "cptkg:illustrative and give its real evidence status (--allow-illustrative is for "
            "demos and tests in a scratch copy of the project)",
        )
    versions: list[tuple[URIRef, URIRef]] = []
    notes: list[str] = []
    if new_version:
        versions, notes = make_new_versions(new.graph, ctx)
        for new_iri, _old in versions:
            if new_iri not in new.where:
                new.where[new_iri] = shown
        policies = sorted(
            (p for p in new.graph.subjects(RDF.type, CPTKG.PayerPolicy) if isinstance(p, URIRef)),
            key=str,
        )
    check_encodable(new)
    report = validate_new_data(new, ctx)
    target = _free_target(target_dir, target_name(new.graph, policies))
    return AddPlan(
        new=new,
        report=report,
        target=target,
        content=serialize_new(new.graph, new.files),
        policies=policies,
        versions=versions,
        notes=notes,
        context=ctx,
    )


# ----------------------------------------------------------------------------- apply


def _work_dir() -> Path:
    d = _paths.require_workspace("add policies to").work_dir
    (d / "staging").mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def add_lock() -> Iterator[Path]:
    """Exclusive lock against concurrent adds (released by the kernel if the process dies)."""
    import fcntl

    lock_path = _work_dir() / "add.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
                raise AddError(
                    f"another `cptkg add` is running (lock {lock_path} held by pid {holder})",
                    hint="wait for it to finish, then run this add again",
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield lock_path
    finally:
        os.close(fd)  # closing releases the flock


def _staging_dir(target_dir: Path) -> Path:
    """A temp directory on the same file system as ``target_dir`` but outside data/."""
    staging = _work_dir() / "staging"
    if os.stat(staging).st_dev == os.stat(target_dir).st_dev:
        return staging
    return target_dir  # different file systems: rename must stay within one (rare)


def remove_stale_staging() -> list[Path]:
    """Remove what killed adds left in the staging folder; return the removed paths.

    Call it only while holding :func:`add_lock`: adds use the staging folder only under the
    lock, so whatever is there then belongs to no running add."""
    removed = []
    for leftover in sorted((_work_dir() / "staging").iterdir()):
        if leftover.is_file() or leftover.is_symlink():
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed.append(leftover)
    return removed


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def apply_add(plan: AddPlan, context: ContextProvider | None = None) -> Path:
    """Write the planned file atomically (see module docstring); return its path. The file is
    validated again under the lock in ``context``: by default the shipped graph read again
    then. Pass a context only if it shows the graph as it is under the lock (the plan's own,
    read before the lock, would miss what a concurrent add wrote meanwhile)."""
    if not plan.conforms:
        raise AddError("the new data does not conform; nothing written")
    target_dir = plan.target.parent
    if not target_dir.is_dir():
        raise AddError(
            f"{target_dir}: directory does not exist",
            hint=f"create it (mkdir -p {target_dir}) or run `cptkg init` for a new workspace",
        )
    with add_lock():
        _crash_point("after-lock")
        remove_stale_staging()
        target = plan.target
        if target.exists():  # taken since the plan was made
            target = _free_target(target_dir, target.stem)
        fd, tmp_name = tempfile.mkstemp(
            dir=_staging_dir(target_dir), prefix=f".{target.stem}.", suffix=".tmp.ttl"
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(plan.content)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            _crash_point("after-temp-write")
            # validate what was written, against the graph as it is now
            ctx = context if context is not None else shipped_context()
            again = read_new([tmp], max_bytes=None)
            again.where = {s: _paths.display_path(target) for s in again.where}
            recheck = validate_new_data(again, ctx)
            if not recheck.conforms:
                raise AddError(
                    "the file to be written no longer conforms in the context of the graph "
                    "(the graph changed since the check?); nothing written:\n" + recheck.to_text()
                )
            if recheck.unchanged and set(recheck.unchanged) >= set(plan.policies):
                raise AddError(
                    "nothing written: these policies were added to the graph meanwhile "
                    "(by a concurrent `cptkg add`?)"
                )
            _crash_point("before-replace")
            os.replace(tmp, target)
            _crash_point("after-replace")
            _fsync_dir(target_dir)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    return target


def summary(plan: AddPlan, *, dry_run: bool) -> str:
    """What was (or would be) written, in words."""
    verb = "Would write" if dry_run else "Wrote"
    lines = [
        f"{verb} {plan.target.resolve()}: {len(plan.new.graph)} triple(s), "
        f"{len(plan.policies)} policy(ies): "
        + ", ".join(str(plan.new.graph.value(p, DCTERMS.identifier) or p) for p in plan.policies)
    ]
    lines += [f"  {n}" for n in plan.notes]
    if plan.versions:
        ctx = plan.context if plan.context is not None else shipped_context()
        labels = getattr(ctx, "graph", None)
        for new_iri, old in plan.versions:
            old_g = Graph()
            for t in ctx.describe([old]):
                old_g.add(t)
            lines.append(f"  changes from {_local(old)} to {_local(new_iri)}:")
            for c in describe_changes(old_g, old, plan.new.graph, new_iri, labels):
                lines.append(f"    {c}")
    lines.append("  no existing file is modified")
    return "\n".join(lines) + "\n"
