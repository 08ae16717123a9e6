"""The simple constraints of the compiled shapes evaluated in one pass over an Oxigraph store.

Oxigraph answers the grouped checks of :mod:`cptkg.shacl.compiler` with one look-up per focus
node and constraint (about 1.5 µs of CPU each: 50,000 payer policies times some 40 look-ups
is most of a validation at 1M triples). Reading the in-memory store's quads in index order and
judging each value in Python costs about as much per quad as one look-up (0.6 µs to read a
quad, the rest to gather it), but there are fewer quads than look-ups: at 1M generated
triples the scan takes 161 of the 188 shipped constraints, and the whole validation drops
from 6.4 s to 5.6 s of CPU (``benchmarks/bench_validate_scale.py``); on the on-disk store
(RocksDB, slower for both) from 27.6 s to 22.9 s. What is evaluated here:

* components: ``sh:minCount``, ``sh:maxCount``, ``sh:hasValue``, ``sh:in`` (term equality
  with the list's members as the store writes them: ``"01"^^xsd:integer`` is stored as
  ``"1"``), ``sh:nodeKind``, ``sh:datatype`` (a literal of the datatype whose lexical form the
  compiled check also tests, such as ``xsd:date``, is tested by that same SPARQL expression,
  once per distinct literal), ``sh:class`` (the value's ``rdf:type`` within the subclass
  closure; a literal is never an instance), ``sh:minLength`` and ``sh:maxLength``;
* shapes: a root shape's own constraints (its focus node is the value) and those of its
  property shapes whose ``sh:path`` is an IRI; property shapes nested deeper, other paths and
  every other component stay in SPARQL;
* logical constraints (``sh:not``, ``sh:and``, ``sh:or``, ``sh:xone``) of a root shape itself
  whose shapes read the focus node's own values only (:func:`logic_source`: the components
  above, counts and ``sh:hasValue`` on IRI paths, nested logical constraints): the payer
  policy's eight such constraints cost 0.54 s of CPU as a query at 1M triples;
* targets: every target the compiler translates (classes with their subclasses, nodes,
  subjects and objects of a predicate).

The store's quads come grouped by subject; a subject met again later (its triples spread over
several graphs) is evaluated anew from all its quads. The results are the rows the compiled
queries would give (focus node, value), one per distinct value, for
:func:`cptkg.shacl.sparql_runner.validate_engine` to turn into findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pyoxigraph as ox
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, SH, XSD
from rdflib.term import Node

from cptkg.engines.oxigraph_terms import canonical_terms, to_rdflib
from cptkg.gc_tuning import collector_paused
from cptkg.shacl.compiler import (
    INTEGER_DERIVED,
    NON_VALIDATING,
    WELL_FORMED_CHECKED,
    Check,
    CompiledShapes,
    datatype_violation,
)

#: The constraint components evaluated by the scan (on the shapes :func:`scannable` accepts).
SCANNED: frozenset[URIRef] = frozenset(
    {
        SH.MinCountConstraintComponent,
        SH.MaxCountConstraintComponent,
        SH.HasValueConstraintComponent,
        SH.InConstraintComponent,
        SH.NodeKindConstraintComponent,
        SH.DatatypeConstraintComponent,
        SH.ClassConstraintComponent,
        SH.MinLengthConstraintComponent,
        SH.MaxLengthConstraintComponent,
    }
)

#: The logical components, scanned on a root shape's focus node when :func:`logic_source`
#: can write their test.
LOGICAL: frozenset[URIRef] = frozenset(
    {
        SH.NotConstraintComponent,
        SH.AndConstraintComponent,
        SH.OrConstraintComponent,
        SH.XoneConstraintComponent,
    }
)

#: The parameters of the components whose test of one value :meth:`_Scan.value_test` gives.
_VALUE_PARAMETERS: dict[URIRef, URIRef] = {
    SH["in"]: SH.InConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH["class"]: SH.ClassConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
}
_LOGICAL_PARAMETERS: dict[URIRef, URIRef] = {
    SH["not"]: SH.NotConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
}

#: Distinct literals per query when their well-formedness is asked of the store.
LITERAL_CHUNK = 500

_RDF_TYPE = ox.NamedNode(str(RDF.type))
_EMPTY: frozenset[Any] = frozenset()
_PENDING = object()  # a datatype test waiting for the store's answer

Row = dict[str, Node | None]
OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal


@runtime_checkable
class QuadSource(Protocol):
    """An engine whose quads can be read without SPARQL (the embedded Oxigraph engine)."""

    def quads(
        self,
        subject: ox.NamedNode | ox.BlankNode | None = None,
        predicate: ox.NamedNode | None = None,
        object: OxTerm | None = None,  # noqa: A002
    ) -> Iterator[ox.Quad]:
        """The quads matching a pattern (None: any), in every graph."""
        ...

    def query(self, sparql: str, bindings: Any = None) -> Any:
        """Run a SPARQL query over the union of the graphs."""
        ...


def scannable(check: Check, compiled: CompiledShapes) -> bool:
    """Whether the scan evaluates ``check``: a component of :data:`SCANNED`, on its root shape
    or on a property shape of the root with an IRI path, with the root's own focus nodes; or
    a component of :data:`LOGICAL` on the root shape itself that :func:`logic_source` writes."""
    if (
        check.parameter is None
        or check.root not in compiled.targets
        or check.focus != compiled.targets[check.root]
    ):
        return False
    if check.component in LOGICAL:
        if check.path is not None:
            return False  # a value node's conformance reads the value's own values
        try:
            logic_source(compiled.shapes, check.component, check.parameter, {}, lambda p: 0, None)
        except NotLocal:
            return False
        return True
    return check.component in SCANNED and (check.path is None or isinstance(check.path, URIRef))


class NotLocal(Exception):
    """A shape's conformance needs more than the focus node's own values."""


def logic_source(
    g: Graph,
    component: URIRef,
    arg: Node,
    names: dict[str, Any],
    slot_of: Callable[[URIRef], int],
    scan: _Scan | None,
) -> str:
    """A Python expression, true when the focus node ``f`` with values ``b`` (a :data:`Block`:
    ``b[slot_of(p)]`` holds its objects of ``p``) violates the logical constraint
    ``component`` ``arg``, as :meth:`cptkg.shacl.compiler.Compiler.conforms_expr` decides it.
    The source holds slot numbers, counts and names only: each constant and value test is
    put in ``names`` (without ``scan``, placeholders: the source only tells whether it can be
    written). Raises :class:`NotLocal` when a shape reads anything else: another path form,
    the values' own values, a component the scan does not judge, or a datatype whose lexical
    form only the store can test."""
    return _LogicWriter(g, names, slot_of, scan).violation(component, arg, 0)


class _LogicWriter:
    """The writer of :func:`logic_source`'s expression (methods rather than nested functions
    calling each other, which would make reference cycles holding the scan)."""

    def __init__(
        self,
        g: Graph,
        names: dict[str, Any],
        slot_of: Callable[[URIRef], int],
        scan: _Scan | None,
    ) -> None:
        self.g = g
        self.names = names
        self.slot_of = slot_of
        self.scan = scan

    def name(self, obj: Any) -> str:
        key = f"_c{len(self.names)}"
        self.names[key] = obj
        return key

    def violation(self, component: URIRef, arg: Node, depth: int) -> str:
        if component == SH.NotConstraintComponent:
            return self.conforms(arg, depth)
        members = [self.conforms(m, depth) for m in Collection(self.g, arg)]  # type: ignore[arg-type]
        if component == SH.OrConstraintComponent:
            return f"not ({' or '.join(members) or 'False'})"
        if component == SH.AndConstraintComponent:
            return f"not ({' and '.join(members) or 'True'})"
        return f"({' + '.join(members) or '0'}) != 1"

    def conforms(self, shape: Node, depth: int) -> str:
        g, scan = self.g, self.scan
        if depth > 10:
            raise NotLocal("shapes nested too deeply")
        if (shape, SH.deactivated, Literal(True)) in g:
            return "True"
        path = g.value(shape, SH.path)
        if path is not None and not isinstance(path, URIRef):
            raise NotLocal("a path other than an IRI")
        values = f"b[{self.slot_of(path)}]" if path is not None else None
        terms: list[str] = []
        for p, o in g.predicate_objects(shape):
            if p in NON_VALIDATING:
                continue
            if p in (SH.minCount, SH.maxCount) and values is not None:
                n = int(o)  # type: ignore[call-overload]
                if p == SH.minCount:
                    terms.append(
                        f"(len(set({values})) >= {n:d})"
                        if n > 1
                        else f"bool({values})"
                        if n
                        else "True"
                    )
                else:
                    terms.append(f"(len(set({values})) <= {n:d})" if n else f"(not {values})")
            elif p == SH.hasValue:
                term = self.name(scan.canonical[o] if scan is not None else o)
                terms.append(f"({term} in {values})" if values is not None else f"(f == {term})")
            elif p in _LOGICAL_PARAMETERS and values is None:
                terms.append(f"(not {self.violation(_LOGICAL_PARAMETERS[p], o, depth + 1)})")
            elif p == SH.property and values is None:
                terms.append(self.conforms(o, depth + 1))
            elif p in _VALUE_PARAMETERS and not (p == SH.datatype and o in WELL_FORMED_CHECKED):
                test = self.name(
                    scan.value_test(_VALUE_PARAMETERS[p], o) if scan is not None else o
                )
                terms.append(f"all(map({test}, {values}))" if values is not None else f"{test}(f)")
            else:
                raise NotLocal(f"{p} is not judged on the focus node's own values")
        return "(" + " and ".join(terms) + ")" if terms else "True"


@dataclass(eq=False)
class _Plan:
    """One scanned check: ``kind`` "min" / "max" (a count of values), "has" (a value
    present) or "value" (each value by ``test``: True, False or :data:`_PENDING`)."""

    check: Check
    kind: str
    count: int = 0
    term: OxTerm | None = None
    test: Callable[[OxTerm], Any] | None = None
    #: the root shape's plans this one is among (set by :class:`_Root`)
    owner: _Root | None = None
    #: values whose test waits for the store -> the focus nodes that have them
    waiting: dict[OxTerm, list[OxTerm]] = field(default_factory=dict)

    def wait(self, value: OxTerm, focus: OxTerm) -> None:
        found = self.waiting.get(value)
        if found is None:
            self.waiting[value] = [focus]
        else:
            found.append(focus)


#: (plans a value fails, plans whose test of it waits for the store)
Verdict = tuple[tuple[_Plan, ...], tuple[_Plan, ...]]
_OK: Verdict = ((), ())


def _verdict(plans: list[_Plan], v: OxTerm) -> Verdict:
    failing: tuple[_Plan, ...] = ()
    pending: tuple[_Plan, ...] = ()
    for plan in plans:
        ok = plan.test(v)  # type: ignore[misc]
        if ok is False:
            failing += (plan,)
        elif ok is _PENDING:
            pending += (plan,)
    return (failing, pending) if failing or pending else _OK


@dataclass(eq=False)
class _Counts:
    """The count plans of one root on one slot: none fails with ``lo`` to ``hi`` values."""

    slot: int
    plans: list[_Plan] = field(default_factory=list)
    lo: int = 0
    hi: float = float("inf")

    def proven(self, raw: int) -> bool:
        """Whether ``raw`` quads (distinct values or not) show every plan satisfied: a count
        of one or none is exact, more can hold repeats (a triple stated in two graphs)."""
        return self.lo <= raw <= self.hi and (raw <= 1 or self.lo <= 1)


@dataclass(eq=False)
class _Root:
    """The root shapes of one focus set (their targets as the scan recognises the focus
    nodes: the same classes, nodes and subjects), and their plans: a payer policy is one
    block evaluated once for the many shapes that target payer policies."""

    classes: set[ox.NamedNode]
    nodes: set[OxTerm]
    subjects_of: list[int]  #: slots of the predicates of its sh:targetSubjectsOf
    counts: list[_Counts] = field(default_factory=list)
    has: list[tuple[int | None, _Plan]] = field(default_factory=list)
    #: value tests of the focus node itself (the root is a node shape)
    own: list[_Plan] = field(default_factory=list)
    #: logical constraints of the root itself, and the function telling which of them
    #: (indexes) a focus node violates, given its block (:meth:`_Scan.write_judge`)
    logic: list[_Plan] = field(default_factory=list)
    judge: Callable[[Block, OxTerm], list[int]] | None = None
    #: raw count pattern of a block -> the count slots it does not prove satisfied
    proven: dict[tuple[int, ...], list[_Counts]] = field(default_factory=dict)

    def targets(self) -> tuple[frozenset[OxTerm], frozenset[OxTerm], frozenset[int]]:
        """What makes a node a focus node of these shapes."""
        return frozenset(self.classes), frozenset(self.nodes), frozenset(self.subjects_of)

    def unproven(self, pattern: tuple[int, ...]) -> list[_Counts]:
        found = self.proven.get(pattern)
        if found is None:
            found = self.proven[pattern] = [c for c in self.counts if not c.proven(pattern[c.slot])]
        return found


#: a subject's values: the objects of each needed predicate, by slot
Block = list[list[OxTerm]]
#: (slot, value, verdict) of the values of a block failing or waiting on some test
Flags = list[tuple[int, OxTerm, Verdict]]
Found = tuple[Check, OxTerm, OxTerm | None]


#: The verdicts kept per slot; beyond it, values (mostly distinct ones: identifiers, texts,
#: links) are judged again when they recur rather than kept in an ever larger table.
MEMO_LIMIT = 4096
#: The nodes whose types are kept; beyond it, a node's types are read again if it is asked
#: about again. The values of ``sh:class`` tests that recur (payers, codes, documents) are
#: few; the many others (the versions a policy supersedes: 240,000 at 5M triples) are each
#: asked about once, and a table of them all made the scan 3% slower per million triples.
TYPES_LIMIT = 4096


class _Scan:
    """One scan: the plans, the types of the values ``sh:class`` tests, the values'
    verdicts, the rows found."""

    def __init__(
        self, source: QuadSource, compiled: CompiledShapes, subclasses: dict[URIRef, set[URIRef]]
    ) -> None:
        self.source = source
        self.compiled = compiled
        self.subclasses = subclasses
        #: the types of the nodes asked about (:meth:`types_of`); a focus node's own types
        #: come with its block, in slot :attr:`type_slot`
        self.types: dict[OxTerm, frozenset[OxTerm]] = {}
        self.type_slot = 0
        self.queries = 0
        self.canonical: dict[Node, OxTerm] = {}
        self.slots: dict[ox.NamedNode, int] = {}
        #: the value tests on each slot (of every root) and their verdicts by value
        self.tests: list[list[_Plan]] = []
        self.memos: list[dict[OxTerm, Verdict] | None] = []
        #: root shape -> its focus set's _Root (shared by the roots of the same focus set)
        self.roots: dict[Node, _Root] = {}
        self.plans: list[_Plan] = []

    # ---- plans
    def prepare(self, checks: list[Check]) -> None:
        """The slots, roots and plans of ``checks``."""
        self.canonical = canonical_terms(_constants(self.compiled, checks))
        self.type_slot = self.slot_of(RDF.type)
        for check in checks:
            root = self.roots.get(check.root)
            if root is None:
                root = self.roots[check.root] = self.root(check.root)
                for other in self.roots.values():
                    if other is not root and other.targets() == root.targets():
                        root = self.roots[check.root] = other
                        break
            plan = self.plan(check)
            plan.owner = root
            self.plans.append(plan)
            slot = self.slot_of(check.path) if check.path is not None else None  # type: ignore[arg-type]
            if plan.kind in ("min", "max"):
                counts = next((c for c in root.counts if c.slot == slot), None)
                if counts is None:
                    counts = _Counts(slot)  # type: ignore[arg-type]
                    root.counts.append(counts)
                counts.plans.append(plan)
                if plan.kind == "min":
                    counts.lo = max(counts.lo, plan.count)
                else:
                    counts.hi = min(counts.hi, plan.count)
            elif plan.kind == "has":
                root.has.append((slot, plan))
            elif plan.kind == "logic":
                root.logic.append(plan)
            elif slot is None:
                root.own.append(plan)
            else:
                self.tests[slot].append(plan)
        for root in _distinct_roots(self.roots):
            if root.logic:  # after every other plan: its shapes' paths may add slots
                root.judge = self.write_judge(root.logic)
        self.memos = [{} if tests else None for tests in self.tests]

    def slot_of(self, p: URIRef) -> int:
        """The slot of predicate ``p`` in every block (a new one, without value tests yet, the
        first time)."""
        key = ox.NamedNode(str(p))
        found = self.slots.get(key)
        if found is None:
            found = self.slots[key] = len(self.slots)
            self.tests.append([])
        return found

    def write_judge(self, plans: list[_Plan]) -> Callable[[Block, OxTerm], list[int]]:
        """One function telling which of ``plans`` (logical constraints, by index) a focus
        node ``f`` with block ``b`` violates: the tests of :func:`logic_source` in sequence,
        about 0.2 µs each, where nested closures would cost a call per shape."""
        g = self.compiled.shapes
        names: dict[str, Any] = {}
        lines = ["def judge(b, f):", "    out = []"]
        for i, plan in enumerate(plans):
            check = plan.check
            cond = logic_source(g, check.component, check.parameter, names, self.slot_of, self)  # type: ignore[arg-type]
            lines += [f"    if {cond}:", f"        out.append({i:d})"]
        lines.append("    return out")
        exec(compile("\n".join(lines), "<cptkg.shacl.scan logical constraints>", "exec"), names)  # noqa: S102
        return names.pop("judge")  # type: ignore[no-any-return]  # its globals need not hold it

    def closure(self, cls: URIRef) -> set[ox.NamedNode]:
        """``cls`` and its subclasses, as pyoxigraph IRIs."""
        return {ox.NamedNode(str(c)) for c in self.subclasses.get(cls, set()) | {cls}}

    def root(self, root: Node) -> _Root:
        g = self.compiled.shapes
        classes: set[ox.NamedNode] = set()
        for cls in g.objects(root, SH.targetClass):
            classes |= self.closure(cls)  # type: ignore[arg-type]
        if (root, RDF.type, RDFS.Class) in g or (root, RDF.type, OWL.Class) in g:
            classes |= self.closure(root)  # type: ignore[arg-type]
        nodes = {self.canonical[n] for n in g.objects(root, SH.targetNode)}
        for p in g.objects(root, SH.targetObjectsOf):
            nodes |= {q.object for q in self.source.quads(None, ox.NamedNode(str(p)), None)}
        subjects_of = [
            self.slot_of(p)  # type: ignore[arg-type]
            for p in g.objects(root, SH.targetSubjectsOf)
        ]
        return _Root(classes, nodes, subjects_of)

    def plan(self, check: Check) -> _Plan:
        arg = check.parameter
        comp = check.component
        if comp == SH.MinCountConstraintComponent:
            return _Plan(check, "min", count=int(arg))  # type: ignore[call-overload]
        if comp == SH.MaxCountConstraintComponent:
            return _Plan(check, "max", count=int(arg))  # type: ignore[call-overload]
        if comp == SH.HasValueConstraintComponent:
            return _Plan(check, "has", term=self.canonical[arg])  # type: ignore[index]
        if comp in LOGICAL:
            return _Plan(check, "logic")
        return _Plan(check, "value", test=self.value_test(comp, arg))  # type: ignore[arg-type]

    def value_test(self, comp: URIRef, arg: Node) -> Callable[[OxTerm], Any]:
        """A test of one value node by component ``comp`` with parameter ``arg``: True when it
        conforms, False when not, :data:`_PENDING` when the store must tell (the lexical
        form of a literal of the right datatype)."""
        if comp == SH.InConstraintComponent:
            members = Collection(self.compiled.shapes, arg)  # type: ignore[arg-type]
            allowed = {self.canonical[m] for m in members}
            return allowed.__contains__
        if comp == SH.NodeKindConstraintComponent:
            kinds = _NODE_KINDS[arg]  # type: ignore[index]
            return lambda v: isinstance(v, kinds)
        if comp == SH.ClassConstraintComponent:
            classes = self.closure(arg)  # type: ignore[arg-type]
            types, types_of = self.types, self.types_of
            return lambda v: not classes.isdisjoint(types.get(v) or types_of(v))
        if comp == SH.DatatypeConstraintComponent:
            return _datatype_test(arg)  # type: ignore[arg-type]
        n = int(arg)  # type: ignore[call-overload]
        if comp == SH.MinLengthConstraintComponent:
            return lambda v: not isinstance(v, ox.BlankNode) and len(v.value) >= n
        return lambda v: not isinstance(v, ox.BlankNode) and len(v.value) <= n

    def types_of(self, node: OxTerm) -> frozenset[OxTerm]:
        """The ``rdf:type`` objects of ``node`` in every graph (none for a literal), read
        from the store when asked about (kept for :data:`TYPES_LIMIT` nodes): only the values
        of ``sh:class`` tests are, about one in a hundred nodes of a generated graph, where
        reading every type in advance cost 13% of the scan."""
        found = self.types.get(node)
        if found is None:
            found = (
                _EMPTY
                if isinstance(node, ox.Literal)
                else frozenset(q.object for q in self.source.quads(node, _RDF_TYPE, None))
            )
            if len(self.types) < TYPES_LIMIT:
                self.types[node] = found
        return found

    def release(self) -> None:
        """Break the reference cycles among the plans, roots and value tests (a plan names its
        root, a root its plans, a value test or a root's judge this scan), so that the scan
        and what it holds are freed by reference counting as soon as it ends: after a pass
        over 5M triples a million objects, which would otherwise wait for a full pass of the
        cyclic collector (0.85 s) and keep the engine alive until then."""
        for plan in self.plans:
            plan.owner = None
            plan.test = None
        for root in self.roots.values():
            root.judge = None

    # ---- evaluation
    def verdict(self, slot: int, v: OxTerm) -> Verdict:
        """The verdict of the value tests on ``slot`` for ``v`` (each value judged once)."""
        memo = self.memos[slot]
        assert memo is not None
        found = memo.get(v)
        if found is None:
            found = _verdict(self.tests[slot], v)
            if len(memo) < MEMO_LIMIT:
                memo[v] = found
        return found

    @staticmethod
    def evaluate(
        root: _Root,
        focus: OxTerm,
        block: Block,
        pattern: tuple[int, ...],
        flags: Flags,
        out: list[Found],
    ) -> None:
        """Add to ``out`` the violations of ``root``'s plans by ``focus``, whose values are
        ``block`` (``pattern``: how many quads each slot holds; ``flags``: the values failing
        or waiting on a test); record the values waiting for the store."""
        for counts in root.unproven(pattern) if root.counts else ():
            n = len(set(block[counts.slot]))
            for plan in counts.plans:
                if n < plan.count if plan.kind == "min" else n > plan.count:
                    out.append((plan.check, focus, None))
        for slot, plan in root.has:
            if plan.term not in (block[slot] if slot is not None else (focus,)):
                out.append((plan.check, focus, None))
        for plan in root.own:
            ok = plan.test(focus)  # type: ignore[misc]
            if ok is _PENDING:
                plan.wait(focus, focus)
            elif not ok:
                out.append((plan.check, focus, None))
        if root.judge is not None:
            for i in root.judge(block, focus):
                out.append((root.logic[i].check, focus, None))
        for _slot, v, (failing, pending) in flags:
            for plan in failing:
                if plan.owner is root:
                    out.append((plan.check, focus, v))
            for plan in pending:
                if plan.owner is root:
                    plan.wait(v, focus)

    def resolve_pending(self, out: list[Found]) -> None:
        """The datatype tests left to the store: each distinct literal asked once per
        datatype, with the compiled check's own expression."""
        by_datatype: dict[Node, set[OxTerm]] = {}
        for plan in self.plans:
            if plan.waiting:
                by_datatype.setdefault(plan.check.parameter, set()).update(plan.waiting)  # type: ignore[arg-type]
        failing: dict[Node, set[OxTerm]] = {}
        for dt, literals in by_datatype.items():
            cond = datatype_violation(dt, "?value")
            ordered = sorted(literals, key=str)
            bad = failing.setdefault(dt, set())
            for start in range(0, len(ordered), LITERAL_CHUNK):
                chunk = ordered[start : start + LITERAL_CHUNK]
                rows = " ".join(f"({v} {i})" for i, v in enumerate(chunk))
                result = self.source.query(
                    f"SELECT ?_i WHERE {{ VALUES (?value ?_i) {{ {rows} }} FILTER ({cond}) }}"
                )
                self.queries += 1
                bad.update(chunk[int(row[0])] for row in result.rows)
        for plan in self.plans:
            node = plan.check.path is None
            for v in plan.waiting.keys() & failing.get(plan.check.parameter, set()):  # type: ignore[arg-type]
                out.extend((plan.check, f, None if node else v) for f in plan.waiting[v])


_NODE_KINDS: dict[Node, tuple[type, ...]] = {
    SH.IRI: (ox.NamedNode,),
    SH.BlankNode: (ox.BlankNode,),
    SH.Literal: (ox.Literal,),
    SH.BlankNodeOrIRI: (ox.BlankNode, ox.NamedNode),
    SH.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal),
    SH.IRIOrLiteral: (ox.NamedNode, ox.Literal),
}


def _datatype_test(dt: URIRef) -> Callable[[OxTerm], Any]:
    """sh:datatype ``dt`` on one value, as :func:`~cptkg.shacl.compiler.datatype_violation`
    decides it: the store's integer canonicalisation accepted for integer-derived types."""
    wanted = ox.NamedNode(str(dt))
    checked = dt in WELL_FORMED_CHECKED
    accepted = {wanted}
    if dt in INTEGER_DERIVED:
        accepted.add(ox.NamedNode(str(XSD.integer)))

    def test(v: OxTerm) -> Any:
        if not isinstance(v, ox.Literal) or v.datatype not in accepted:
            return False
        return _PENDING if checked else True

    return test


def _distinct_roots(roots: dict[Node, _Root]) -> list[_Root]:
    """Each focus set's :class:`_Root` once."""
    return list({id(r): r for r in roots.values()}.values())


def _constants(compiled: CompiledShapes, checks: list[Check]) -> set[Node]:
    g = compiled.shapes
    out: set[Node] = set()
    for check in checks:
        if check.component == SH.HasValueConstraintComponent:
            out.add(check.parameter)  # type: ignore[arg-type]
        elif check.component == SH.InConstraintComponent:
            out.update(Collection(g, check.parameter))  # type: ignore[arg-type]
        elif check.component in LOGICAL:
            out.update(_logic_constants(g, check.parameter))  # type: ignore[arg-type]
    for root in {c.root for c in checks}:
        out.update(g.objects(root, SH.targetNode))
    return out


def _logic_constants(g: Graph, arg: Node) -> set[Node]:
    """The ``sh:hasValue`` and ``sh:in`` constants of the shapes a logical constraint names."""
    out: set[Node] = set()
    stack, seen = [arg], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in g.predicate_objects(node):
            if p == SH.hasValue:
                out.add(o)
            elif p == SH["in"]:
                out.update(Collection(g, o))  # type: ignore[arg-type]
            elif p in _LOGICAL_PARAMETERS or p in (SH.property, RDF.first, RDF.rest):
                stack.append(o)
    return out


def scan_checks(
    source: QuadSource,
    compiled: CompiledShapes,
    checks: list[Check],
    subclasses: dict[URIRef, set[URIRef]],
) -> tuple[list[tuple[Check, Row]], int]:
    """The violation rows (``this``, ``value``) of ``checks`` (each :func:`scannable`), read in
    one pass over ``source``'s quads, and the number of SPARQL queries it took."""
    if not checks:
        return [], 0
    scan = _Scan(source, compiled, subclasses)
    try:
        scan.prepare(checks)
        out = _scan_store(scan)
        scan.resolve_pending(out)
    finally:
        scan.release()
    rows: list[tuple[Check, Row]] = []
    terms: dict[OxTerm, Node | None] = {}
    unique = {(id(check), focus, value): (check, focus, value) for check, focus, value in out}
    for check, focus, value in unique.values():
        rows.append((check, {"this": _term(terms, focus), "value": _term(terms, value)}))
    return rows, scan.queries


def _scan_store(scan: _Scan) -> list[Found]:
    """One pass over the store: each subject's values gathered in a block (the quads come
    grouped by subject), each value judged by the tests of its predicate on arrival (once per
    distinct value), the block evaluated for every root it is a focus node of."""
    roots = _distinct_roots(scan.roots)
    by_class: dict[ox.NamedNode, list[_Root]] = {}
    by_node: dict[OxTerm, list[_Root]] = {}
    for r in roots:
        for c in r.classes:
            by_class.setdefault(c, []).append(r)
        for n in r.nodes:
            by_node.setdefault(n, []).append(r)
    by_subjects_of = [r for r in roots if r.subjects_of]
    type_slot = scan.type_slot
    slots = scan.slots
    memos = scan.memos
    tests = scan.tests
    width = len(slots)
    nothing: Block = [[] for _ in range(width)]
    zeros = (0,) * width

    def roots_of(subject: OxTerm, block: Block) -> list[_Root]:
        found: list[_Root] = []
        for t in block[type_slot]:
            found.extend(by_class.get(t, ()))
        found.extend(by_node.get(subject, ()))
        found.extend(r for r in by_subjects_of if any(block[i] for i in r.subjects_of))
        return list({id(r): r for r in found}.values()) if len(found) > 1 else found

    out: list[Found] = []
    seen: set[OxTerm] = set()
    split: set[OxTerm] = set()

    def finish(subject: OxTerm, block: Block | None, flags: Flags) -> None:
        if subject in seen:
            split.add(subject)
            return
        seen.add(subject)
        if block is None:
            block, pattern = nothing, zeros
        else:
            pattern = tuple(map(len, block))
        for r in roots_of(subject, block):
            scan.evaluate(r, subject, block, pattern, flags, out)

    current: OxTerm | None = None
    block: Block | None = None
    flags: Flags = []
    with collector_paused():
        for q in scan.source.quads(None, None, None):
            s = q.subject
            if s != current:
                if current is not None:
                    finish(current, block, flags)
                current, block, flags = s, None, []
            i = slots.get(q.predicate)  # type: ignore[call-overload]
            if i is not None:
                o = q.object
                if block is None:
                    block = [[] for _ in range(width)]
                block[i].append(o)
                memo = memos[i]
                if memo is not None:
                    verdict = memo.get(o)
                    if verdict is None:  # scan.verdict inline
                        verdict = _verdict(tests[i], o)
                        if len(memo) < MEMO_LIMIT:
                            memo[o] = verdict
                    if verdict is not _OK:
                        flags.append((i, o, verdict))
    if current is not None:
        finish(current, block, flags)
    if split:
        # subjects whose quads came in several runs (from several graphs): evaluated again
        # from all their quads (a test failed in one run failed for good, a count did not)
        out = [f for f in out if f[1] not in split]
        for subject in sorted(split, key=str):
            whole: Block = [[] for _ in range(width)]
            flags = []
            for q in scan.source.quads(subject, None, None):  # type: ignore[arg-type]
                i = slots.get(q.predicate)  # type: ignore[call-overload]
                if i is not None and q.object not in whole[i]:
                    whole[i].append(q.object)
                    if memos[i] is not None and (verdict := scan.verdict(i, q.object)) is not _OK:
                        flags.append((i, q.object, verdict))
            pattern = tuple(map(len, whole))
            for r in roots_of(subject, whole):
                scan.evaluate(r, subject, whole, pattern, flags, out)
    for node in by_node.keys() - seen - split:
        # focus nodes that are the subject of no quad (a literal, an IRI only used as object)
        for r in by_node[node]:
            scan.evaluate(r, node, nothing, zeros, [], out)
    return out


def _term(cache: dict[OxTerm, Node | None], t: OxTerm | None) -> Node | None:
    if t is None:
        return None
    found = cache.get(t)
    if found is None:
        found = cache[t] = to_rdflib(t)
    return found
