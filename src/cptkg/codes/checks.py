"""Code-aware checks of a graph against the code-system releases: every ICD-10-CM and
place-of-service code a graph uses or declares must exist in the release in force, a
diagnosis used where a billable code is needed must be billable, and a declared code's
descriptor must be the release's, verbatim.

:func:`check_graph` is the entry point for every path where codes enter (validation of the
shipped graph, of new files, of CSV intake): it returns one :class:`CodeProblem` per code and
use, each with its rule, severity and message; :func:`check_engine` does the same for the
graph an engine holds, reading what the checks need with one SELECT. :func:`add_to_validation`
merges the problems into a SHACL :class:`~cptkg.shacl.report.ValidationResult` as plain
findings (the report graph gets them only when it is read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import SH, SKOS
from rdflib.term import Node

from cptkg.codes.entry import CodeEntry
from cptkg.codes.index import CodeIndex, normalise_notation, open_index
from cptkg.codes.releases import ICD10CM, POS, Release, release_for
from cptkg.engines.base import Engine, SelectResult
from cptkg.errors import CptkgError
from cptkg.namespaces import CPTKG, KG
from cptkg.shacl.report import Finding, ValidationResult

T = TypeVar("T")

#: Base of the rule IRIs of the code checks.
RULE_BASE = "https://w3id.org/cptkg/rule/"

#: Rule names.
NOT_IN_RELEASE = "code-not-in-release"
NOT_BILLABLE = "code-not-billable"
DESCRIPTOR_DIFFERS = "descriptor-differs"
BILLABLE_FLAG_DIFFERS = "billable-flag-differs"
RELEASE_NOT_IN_FORCE = "release-not-in-force"

#: Properties whose values are codes used: (system, whether a billable code is needed).
CODE_USES: dict[URIRef, tuple[str, bool]] = {
    CPTKG.supportingDiagnosis: (ICD10CM, True),
    CPTKG.diagnosisCode: (ICD10CM, True),
    CPTKG.supportingDiagnosisCategory: (ICD10CM, False),
    CPTKG.allowedPlaceOfService: (POS, True),
    CPTKG.placeOfService: (POS, True),
}
#: Classes of declared codes and their system.
CODE_CLASSES: dict[URIRef, str] = {CPTKG.ICD10CMCode: ICD10CM, CPTKG.PlaceOfServiceCode: POS}
#: Local-name prefixes of code IRIs (``kg:icd10cm-G51.0``, ``kg:pos-21``).
IRI_PREFIXES: dict[str, str] = {ICD10CM: str(KG) + "icd10cm-", POS: str(KG) + "pos-"}
#: How many distinct codes not in their release are given the closest codes of the release.
SUGGESTED_CODES = 20
_SYSTEM_NAMES = {ICD10CM: "ICD-10-CM", POS: "place-of-service"}
#: The properties the checks read, looked up once (a namespace's attribute look-up is slow).
_NOTATION, _PREF_LABEL = SKOS.notation, SKOS.prefLabel
_EFFECTIVE, _BILLABLE = CPTKG.effectiveDate, CPTKG.billable


@dataclass(frozen=True)
class CodeProblem:
    """One problem with one code in one place of the graph."""

    rule: str
    severity: str  #: "Violation" or "Info"
    message: str
    system: str
    notation: str
    #: the node using the code (a policy, indication, ...) or the code node declared
    subject: Node
    #: the property through which the code is used (None: the code node itself)
    predicate: URIRef | None
    code: Node
    release: str
    suggestions: tuple[str, ...] = field(default=())

    @property
    def rule_iri(self) -> URIRef:
        """The rule as an IRI."""
        return URIRef(RULE_BASE + self.rule)


class CodeTriples:
    """The triples the code checks read (:func:`code_triples_query`), indexed for the few
    look-ups the checks make: the same answers as an rdflib Graph holding them, without
    building one."""

    def __init__(self, triples: Iterable[tuple[Node, Node, Node]]) -> None:
        """``triples``: a triple given more than once (from several named graphs) counts
        once."""
        self._objects: dict[tuple[Node, Node], list[Node]] = {}
        self._pairs: dict[Node, list[tuple[Node, Node]]] = {}
        for s, p, o in dict.fromkeys(triples):
            self._objects.setdefault((s, p), []).append(o)
            self._pairs.setdefault(p, []).append((s, o))

    def __len__(self) -> int:
        return sum(len(objects) for objects in self._objects.values())

    def value(self, subject: Node, predicate: Node) -> Node | None:
        """One value of ``predicate`` on ``subject`` (None: none)."""
        found = self._objects.get((subject, predicate))
        return found[0] if found else None

    def objects(self, subject: Node, predicate: Node) -> Iterator[Node]:
        """The values of ``predicate`` on ``subject``."""
        return iter(self._objects.get((subject, predicate), ()))

    def subject_objects(self, predicate: Node) -> Iterator[tuple[Node, Node]]:
        """The (subject, object) pairs of ``predicate``."""
        return iter(self._pairs.get(predicate, ()))

    def subjects(self, predicate: Node, obj: Node) -> Iterator[Node]:
        """The subjects with ``predicate`` ``obj``."""
        return (s for s, o in self._pairs.get(predicate, ()) if o == obj)


#: What the code checks read: an rdflib Graph, or the triples read from an engine.
CodeSource = Graph | CodeTriples


def notation_of(graph: CodeSource, code: Node, system: str) -> str | None:
    """The notation of a code node: its ``skos:notation``, else its IRI's local name."""
    value = graph.value(code, _NOTATION)
    if value is not None:
        return str(value)
    prefix = IRI_PREFIXES[system]
    if isinstance(code, URIRef) and str(code).startswith(prefix):
        return str(code)[len(prefix) :]
    return None


def check_graph(graph: CodeSource, *, on: dt.date | None = None) -> list[CodeProblem]:
    """Problems of every code ``graph`` uses (through :data:`CODE_USES`) or declares (nodes
    of :data:`CODE_CLASSES`), checked against the release in force on the using subject's
    ``cptkg:effectiveDate`` (else ``on``, else the newest release).

    Each distinct code is looked up once per release (in batches) and judged once per
    release and kind of use, and the closest codes of a code not in its release are found
    once per distinct code, for the first :data:`SUGGESTED_CODES` such codes only (in order
    of system and notation)."""
    checker = _Checker(graph, on)
    for predicate, (system, needs_billable) in CODE_USES.items():
        for subject, code in graph.subject_objects(predicate):
            checker.add_use(subject, predicate, code, system, needs_billable)
    for cls, system in CODE_CLASSES.items():
        for code in set(graph.subjects(RDF.type, cls)):
            checker.add_use(code, None, code, system, False)
    checker.run()
    return sorted(checker.problems, key=_sort_key)


def code_triples_query() -> str:
    """The SELECT of the triples :func:`check_graph` reads, as ``?s ?p ?o``: every code use
    (through :data:`CODE_USES`), the ``skos:notation`` of every used or declared code, every
    ``cptkg:effectiveDate`` (the checks read those of the codes' users and of declared
    codes), and the types, descriptors and billable flags of every declared code node
    (:data:`CODE_CLASSES`). One scan per property and no join but with the few distinct
    codes; no VALUES (rdflib parses and evaluates those slowly) and no DISTINCT over the
    rows (:class:`CodeTriples` drops repeated ones)."""
    uses = "|".join(u.n3() for u in CODE_USES)
    declared = " UNION ".join(f"{{ ?s a {c.n3()} }}" for c in CODE_CLASSES)
    codes = f"{{ SELECT DISTINCT ?s WHERE {{ {{ ?x {uses} ?s }} UNION {declared} }} }}"
    notation, effective = _NOTATION.n3(), _EFFECTIVE.n3()
    read = ", ".join(p.n3() for p in (RDF.type, _PREF_LABEL, _BILLABLE))
    branches = [f"{{ ?s {u.n3()} ?o . BIND({u.n3()} AS ?p) }}" for u in CODE_USES]
    branches.append(f"{{ {codes} ?s {notation} ?o . BIND({notation} AS ?p) }}")
    branches.append(f"{{ ?s {effective} ?o . BIND({effective} AS ?p) }}")
    branches.append(f"{{ {{ {declared} }} ?s ?p ?o . FILTER(?p IN ({read})) }}")
    return "SELECT ?s ?p ?o WHERE {\n  " + "\n  UNION ".join(branches) + "\n}"


def code_triples(engine: Engine) -> CodeTriples:
    """The triples :func:`check_graph` needs, read from ``engine`` with one SELECT
    (:func:`code_triples_query`), so the code checks run the same on every engine."""
    found = engine.query(code_triples_query())
    if not isinstance(found, SelectResult):
        raise CptkgError(f"the {engine.name} engine answered a SELECT without rows")
    return CodeTriples(found.rows)  # type: ignore[arg-type]


def check_engine(engine: Engine, *, on: dt.date | None = None) -> list[CodeProblem]:
    """:func:`check_graph` on the graph held by ``engine``: the rdflib engine's graph read
    directly, any other engine's through :func:`code_triples`."""
    from cptkg.engines import in_memory_graph

    graph = in_memory_graph(engine)
    return check_graph(graph if graph is not None else code_triples(engine), on=on)


def check_engine_during(
    engine: Engine, work: Callable[[], T], *, on: dt.date | None = None
) -> tuple[T, list[CodeProblem]]:
    """What ``work()`` returns, and :func:`check_engine`'s problems on ``engine``: the code
    checks run in a thread of their own while ``work`` runs (typically the engine's SHACL
    validation) when the engine evaluates queries in parallel
    (:meth:`~cptkg.engines.base.Engine.parallel_queries`), after it otherwise."""
    if engine.parallel_queries() < 2:
        done = work()
        return done, check_engine(engine, on=on)
    from concurrent.futures import ThreadPoolExecutor  # not for the default engine (start-up)

    with ThreadPoolExecutor(max_workers=1) as pool:
        problems = pool.submit(check_engine, engine, on=on)
        try:
            done = work()
        except BaseException:
            problems.cancel()
            raise
        return done, problems.result()


def _sort_key(p: CodeProblem) -> tuple[str, str, str, str]:
    return (str(p.subject), p.notation, str(p.predicate or ""), p.rule)


@dataclass(frozen=True)
class _Use:
    """One code used by a subject through a property (``predicate`` None: a declared code)."""

    subject: Node
    predicate: URIRef | None
    code: Node
    system: str
    notation: str
    needs_billable: bool
    release: Release


#: The verdict on one code in one release for one kind of use: (rule, message, suggestions,
#: entry); rule None: no problem (a declared code's descriptor and flag are checked apart).
_Verdict = tuple[str | None, str, tuple[str, ...], CodeEntry | None]


class _Checker:
    def __init__(self, graph: CodeSource, on: dt.date | None) -> None:
        self.graph = graph
        self.on = on
        self.problems: list[CodeProblem] = []
        self.uses: list[_Use] = []
        self._noted: set[tuple[Node, str]] = set()
        self._indexes: dict[Release, CodeIndex] = {}
        self._releases: dict[tuple[str, dt.date | None], tuple[Release, str | None]] = {}
        #: each subject's release per system (the date read once per subject)
        self._subject_releases: dict[tuple[Node, str], Release] = {}
        self._notations: dict[tuple[Node, str], str | None] = {}
        self._entries: dict[tuple[Release, str], CodeEntry] = {}
        #: (closest codes, their text in the message), None beyond :data:`SUGGESTED_CODES`
        self._closest: dict[tuple[Release, str], tuple[tuple[str, ...], str] | None] = {}
        self._billable: dict[tuple[Release, str], tuple[int, tuple[CodeEntry, ...]]] = {}
        self._verdicts: dict[tuple[Release, str, str, bool, bool], _Verdict] = {}

    def _release(self, subject: Node, system: str) -> Release:
        known = self._subject_releases.get((subject, system))
        if known is not None:
            return known
        day = self.on
        value = self.graph.value(subject, _EFFECTIVE)
        if isinstance(value, Literal) and isinstance(value.toPython(), dt.date):
            day = value.toPython()
        found = self._releases.get((system, day))
        if found is None:
            found = self._releases[(system, day)] = release_for(system, day)
        release, note = found
        if note and (subject, system) not in self._noted:
            self._noted.add((subject, system))
            self.problems.append(
                CodeProblem(
                    RELEASE_NOT_IN_FORCE,
                    "Info",
                    note,
                    system,
                    "",
                    subject,
                    _EFFECTIVE,
                    subject,
                    release.label,
                )
            )
        self._subject_releases[(subject, system)] = release
        return release

    def _index(self, release: Release) -> CodeIndex:
        if release not in self._indexes:
            self._indexes[release] = open_index(release)
        return self._indexes[release]

    def add_use(
        self,
        subject: Node,
        predicate: URIRef | None,
        code: Node,
        system: str,
        needs_billable: bool,
    ) -> None:
        """Note one use (``predicate`` None: the declared code node ``code``)."""
        key = (code, system)
        if key in self._notations:
            notation = self._notations[key]
        else:
            notation = self._notations[key] = notation_of(self.graph, code, system)
        if notation is None:
            return  # not a code IRI of ours: the SHACL shapes report it
        release = self._release(subject, system)
        self.uses.append(_Use(subject, predicate, code, system, notation, needs_billable, release))

    def run(self) -> None:
        """Check every noted use: look-ups batched per release, each distinct code judged
        once per release and kind of use, the closest codes found once per distinct unknown
        code and for the first :data:`SUGGESTED_CODES` only."""
        distinct = {(use.release, use.system, use.notation) for use in self.uses}
        wanted: dict[Release, set[str]] = {}
        for release, system, notation in distinct:
            wanted.setdefault(release, set()).add(normalise_notation(system, notation))
        for release, notations in wanted.items():
            for notation, entry in self._index(release).get_many(notations).items():
                self._entries[(release, notation)] = entry
        unknown = sorted(
            {
                (system, notation, release.label, release)
                for release, system, notation in distinct
                if self._entry(release, system, notation) is None
            },
            key=lambda u: u[:3],
        )
        for rank, (_, notation, _, release) in enumerate(unknown):
            if rank < SUGGESTED_CODES:
                index = self._index(release)
                closest = tuple(e.notation for e in index.suggest(notation))
                described = ", ".join(_described(index, closest))
                self._closest[(release, notation)] = (closest, described)
            else:
                self._closest[(release, notation)] = None
        for use in self.uses:
            declared = use.predicate is None
            key = (use.release, use.system, use.notation, use.needs_billable, declared)
            verdict = self._verdicts.get(key)
            if verdict is None:
                verdict = self._verdicts[key] = self._judge(use, declared)
            rule, message, suggestions, entry = verdict
            if rule is not None:
                self.problems.append(
                    CodeProblem(
                        rule,
                        "Violation",
                        message,
                        use.system,
                        use.notation,
                        use.subject,
                        use.predicate,
                        use.code,
                        use.release.label,
                        suggestions,
                    )
                )
            elif declared and entry is not None:
                self._check_declared(use, entry)

    def _entry(self, release: Release, system: str, notation: str) -> CodeEntry | None:
        entry = self._entries.get((release, normalise_notation(system, notation)))
        return None if entry is None or entry.is_group else entry

    def _judge(self, use: _Use, declared: bool) -> _Verdict:
        """The verdict on ``use``'s code, which holds for every use of it in its release of
        the same kind (declared, or used where a billable code is or is not needed)."""
        entry = self._entry(use.release, use.system, use.notation)
        if entry is None:
            return (NOT_IN_RELEASE, *self._not_in_release(use), None)
        if not declared and use.needs_billable and not entry.billable:
            return (NOT_BILLABLE, *self._not_billable(use, entry), entry)
        return (None, "", (), entry)

    def _not_billable(self, use: _Use, entry: CodeEntry) -> tuple[str, tuple[str, ...]]:
        key = (use.release, entry.notation)
        if key not in self._billable:
            index = self._index(use.release)
            self._billable[key] = (
                index.count_billable_under(entry.notation),
                tuple(index.billable_under(entry.notation, limit=5)),
            )
        total, some = self._billable[key]
        listed = ", ".join(e.notation for e in some) + (", ..." if total > len(some) else "")
        where = f"{_SYSTEM_NAMES[use.system]} code {use.notation}"
        return (
            f"{where} ({entry.label}) is a category in {use.release.label}, not a billable "
            f"code: {total} billable codes lie under it ({listed}); list the billable "
            f"codes, or the whole category with cptkg:supportingDiagnosisCategory",
            tuple(e.notation for e in some),
        )

    def _check_declared(self, use: _Use, entry: CodeEntry) -> None:
        code, system, notation, release = use.code, use.system, use.notation, use.release
        for label in self.graph.objects(code, _PREF_LABEL):
            if str(label) != entry.label:
                self.problems.append(
                    CodeProblem(
                        DESCRIPTOR_DIFFERS,
                        "Violation",
                        f"{_SYSTEM_NAMES[system]} code {notation}: descriptor {str(label)!r} "
                        f"differs from {release.label}: {entry.label!r}",
                        system,
                        notation,
                        code,
                        _PREF_LABEL,
                        code,
                        release.label,
                        (entry.label,),
                    )
                )
        flag = self.graph.value(code, _BILLABLE)
        if isinstance(flag, Literal) and bool(flag.toPython()) != entry.billable:
            self.problems.append(
                CodeProblem(
                    BILLABLE_FLAG_DIFFERS,
                    "Violation",
                    f"{_SYSTEM_NAMES[system]} code {notation}: cptkg:billable {flag} differs "
                    f"from {release.label}, where it is "
                    + ("billable" if entry.billable else "not billable (a category)"),
                    system,
                    notation,
                    code,
                    _BILLABLE,
                    code,
                    release.label,
                )
            )

    def _not_in_release(self, use: _Use) -> tuple[str, tuple[str, ...]]:
        closest = self._closest[(use.release, use.notation)]
        message = f"{_SYSTEM_NAMES[use.system]} code {use.notation} is not in {use.release.label}"
        suggestions: tuple[str, ...] = ()
        if closest is None:
            message += (
                f"; closest codes are listed for the first {SUGGESTED_CODES} codes not in "
                "their release only"
            )
        elif closest[0]:
            suggestions = closest[0]
            message += "; closest codes: " + closest[1]
        return message, suggestions


def _described(index: CodeIndex, notations: Iterable[str]) -> list[str]:
    found: list[str] = []
    for n in notations:
        entry: CodeEntry | None = index.get(n)
        found.append(f"{n} ({entry.label})" if entry else n)
    return found


def _explained(f: Finding, shown: set[tuple[Node, Node | None, Node]]) -> bool:
    """True if ``f`` is an ``sh:class`` result about a code use that a
    ``code-not-in-release`` problem already reports (the code is missing from the graph
    because it is not a code of the release)."""
    return (
        f.constraint_component == SH.ClassConstraintComponent
        and f.focus_node is not None
        and f.value is not None
        and (f.focus_node, f.path, f.value) in shown
    )


def add_to_validation(result: ValidationResult, problems: list[CodeProblem]) -> ValidationResult:
    """A copy of the :class:`~cptkg.shacl.report.ValidationResult` ``result`` with
    ``problems`` added as findings (and as ``sh:result`` nodes of its report graph, made
    when the graph is read: :meth:`~cptkg.shacl.report.ValidationResult.with_results`).

    An ``sh:class`` result about a code use that a ``code-not-in-release`` problem reports
    is replaced by that problem. As in ``result``, :attr:`conforms` is false only with a
    violation, while the report's ``sh:conforms`` (SHACL 1.0 section 3.6.1) is false with any
    result."""
    if not problems:
        return result
    shown = {(p.subject, p.predicate, p.code) for p in problems if p.rule == NOT_IN_RELEASE}
    rules = {p.rule: p.rule_iri for p in problems}  # each IRI made once
    severities = {p.severity: SH[p.severity] for p in problems}
    added = [
        Finding(
            focus_node=p.subject,
            path=p.predicate,
            value=p.code,
            source_shape=rules[p.rule],
            constraint_component=None,
            severity=p.severity,
            message=p.message,
            severity_iri=severities[p.severity],
        )
        for p in problems
    ]
    dropped = [f for f in result.results if _explained(f, shown)]
    return result.with_results(added, dropped=dropped)
