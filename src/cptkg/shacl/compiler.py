"""SHACL Core shapes compiled to SPARQL, run by :mod:`cptkg.shacl.sparql_runner`.

pySHACL stays the reference validator; the compiled checks give the same results (focus node,
path, source shape, severity, constraint component, value) in a fraction of the time on large
graphs, without an rdflib copy of the data. Each constraint of each shape becomes one SPARQL
SELECT whose rows are the violations (zero rows = pass), in the manner of ODK's
``*-violation.sparql`` checks.

The constraint components the compiler translates are the keys of :data:`COMPONENTS`, one
:class:`Component` each (its parameters and its SPARQL builder), like pySHACL's
``CONSTRAINT_PARAMETERS_MAP``; :data:`CLAIMED` is that key set and :data:`UNCLAIMED` the SHACL
Core components outside it. To add a component, write its builder (a value-node test, or a
whole query plus an inline form) and add one entry to :data:`COMPONENTS`; the W3C core tests
of that component then run on the compiled validator (``tests/test_w3c_shacl.py``).

Besides the components: targets (``sh:targetClass`` with the ``rdfs:subClassOf*`` closure
read from the store, implicit class targets, ``sh:targetNode``, ``sh:targetSubjectsOf``,
``sh:targetObjectsOf``), every SHACL path form, ``sh:severity``, ``sh:message`` and
``sh:deactivated``. A root shape using anything else (an unclaimed component, a SPARQL-based
target, a blank node as a constant...) is left whole to pySHACL on its focus nodes:
:attr:`CompiledShapes.fallback` says which and why, naming the component.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, SH, XSD
from rdflib.term import Node

from cptkg.engines.base import WHERE_OPEN, mask_comments_and_strings
from cptkg.namespaces import bind_prefixes
from cptkg.shacl.report import PATH_OPERATORS, short_name

TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)

#: The SPARQL the checks are written in: ``oxigraph`` wraps the OPTIONAL groups of SHACL-SPARQL
#: constraints in Oxigraph's ``LATERAL`` (:func:`lateral_optionals`), ``sparql11`` keeps to
#: standard SPARQL 1.1 for any other server, spelled as Virtuoso evaluates it too
#: (:func:`standard_spelling`).
DIALECT_LATERAL = "oxigraph"
DIALECT_STANDARD = "sparql11"
DIALECTS = (DIALECT_LATERAL, DIALECT_STANDARD)

#: Lexical forms rdflib accepts for common XSD datatypes (checked by sh:datatype).
_LEXICAL = {
    XSD.integer: r"^[+-]?[0-9]+$",
    XSD.decimal: r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    XSD.boolean: r"^(true|false|1|0)$",
}
#: Integer-derived datatypes with their value ranges. Oxigraph's store canonicalises these
#: literals to xsd:integer ("5"^^xsd:positiveInteger is stored as "5"^^xsd:integer), so the
#: compiled check accepts xsd:integer within the range: a plain integer in range where a
#: derived type is required is the one case it cannot tell apart (pySHACL flags it).
_INTEGER_RANGES: dict[URIRef, tuple[int | None, int | None]] = {
    XSD.nonNegativeInteger: (0, None),
    XSD.positiveInteger: (1, None),
    XSD.nonPositiveInteger: (None, 0),
    XSD.negativeInteger: (None, -1),
    XSD.long: (-(2**63), 2**63 - 1),
    XSD.int: (-(2**31), 2**31 - 1),
    XSD.short: (-(2**15), 2**15 - 1),
    XSD.byte: (-128, 127),
    XSD.unsignedLong: (0, 2**64 - 1),
    XSD.unsignedInt: (0, 2**32 - 1),
    XSD.unsignedShort: (0, 2**16 - 1),
    XSD.unsignedByte: (0, 255),
}
#: Datatypes whose well-formedness is checked with a SPARQL cast.
_CAST = {XSD.date, XSD.dateTime, XSD.double, XSD.float}
#: The integer-derived datatypes, for which :func:`datatype_violation` accepts xsd:integer.
INTEGER_DERIVED: frozenset[URIRef] = frozenset(_INTEGER_RANGES)
#: The datatypes whose :func:`datatype_violation` test looks beyond the literal's datatype
#: (its lexical form or value); for any other, a literal of the datatype passes.
WELL_FORMED_CHECKED: frozenset[URIRef] = frozenset({*_LEXICAL, *_INTEGER_RANGES, *_CAST})

_NODEKIND_VIOLATION = {
    SH.IRI: "!isIRI({v})",
    SH.BlankNode: "!isBlank({v})",
    SH.Literal: "!isLiteral({v})",
    SH.BlankNodeOrIRI: "isLiteral({v})",
    SH.BlankNodeOrLiteral: "isIRI({v})",
    SH.IRIOrLiteral: "isBlank({v})",
}

#: Every SHACL Core constraint component with its parameters (SHACL 1.0 section 4), the
#: first parameter of each being the one a constraint is counted by. The compiler claims
#: the subset in :data:`COMPONENTS`.
CORE_COMPONENTS: dict[URIRef, tuple[URIRef, ...]] = {
    SH.ClassConstraintComponent: (SH["class"],),
    SH.DatatypeConstraintComponent: (SH.datatype,),
    SH.NodeKindConstraintComponent: (SH.nodeKind,),
    SH.MinCountConstraintComponent: (SH.minCount,),
    SH.MaxCountConstraintComponent: (SH.maxCount,),
    SH.MinExclusiveConstraintComponent: (SH.minExclusive,),
    SH.MinInclusiveConstraintComponent: (SH.minInclusive,),
    SH.MaxExclusiveConstraintComponent: (SH.maxExclusive,),
    SH.MaxInclusiveConstraintComponent: (SH.maxInclusive,),
    SH.MinLengthConstraintComponent: (SH.minLength,),
    SH.MaxLengthConstraintComponent: (SH.maxLength,),
    SH.PatternConstraintComponent: (SH.pattern, SH.flags),
    SH.LanguageInConstraintComponent: (SH.languageIn,),
    SH.UniqueLangConstraintComponent: (SH.uniqueLang,),
    SH.EqualsConstraintComponent: (SH.equals,),
    SH.DisjointConstraintComponent: (SH.disjoint,),
    SH.LessThanConstraintComponent: (SH.lessThan,),
    SH.LessThanOrEqualsConstraintComponent: (SH.lessThanOrEquals,),
    SH.NotConstraintComponent: (SH["not"],),
    SH.AndConstraintComponent: (SH["and"],),
    SH.OrConstraintComponent: (SH["or"],),
    SH.XoneConstraintComponent: (SH.xone,),
    SH.NodeConstraintComponent: (SH.node,),
    SH.PropertyConstraintComponent: (SH.property,),
    SH.QualifiedMinCountConstraintComponent: (
        SH.qualifiedValueShape,
        SH.qualifiedMinCount,
        SH.qualifiedValueShapesDisjoint,
    ),
    SH.QualifiedMaxCountConstraintComponent: (
        SH.qualifiedValueShape,
        SH.qualifiedMaxCount,
        SH.qualifiedValueShapesDisjoint,
    ),
    SH.ClosedConstraintComponent: (SH.closed, SH.ignoredProperties),
    SH.HasValueConstraintComponent: (SH.hasValue,),
    SH.InConstraintComponent: (SH["in"],),
    SH.SPARQLConstraintComponent: (SH.sparql,),
}

#: A shape's metadata and its path: what a shape says besides constraints and targets.
SHAPE_ANNOTATIONS = frozenset(
    {
        RDF.type,
        RDFS.label,
        RDFS.comment,
        SH.message,
        SH.severity,
        SH.name,
        SH.description,
        SH.order,
        SH.group,
        SH.defaultValue,
        SH.deactivated,
        SH.path,
    }
)
#: Shape properties that are not constraint parameters: metadata, targets and the path.
NON_VALIDATING = frozenset(
    {
        *SHAPE_ANNOTATIONS,
        SH.prefixes,
        SH.select,  # read through sh:sparql (a shape may be its own SPARQL constraint)
        SH.target,
        *TARGET_PREDICATES,
    }
)


class NotCompilable(Exception):
    """A shape uses something the compiler does not translate."""


@dataclass
class Check:
    """One compiled constraint: a SELECT whose rows (?this, ?value, ...) are violations."""

    shape: Node
    root: Node
    component: URIRef
    sparql: str
    path: Node | None
    severity: Node
    messages: list[Literal]
    value_is_focus: bool = False
    #: the focus pattern (binding ``?this``) the check applies to, when it can be grouped
    target: str | None = None
    #: an expression true when the bound ``?this`` violates the constraint (for a group)
    condition: str | None = None
    #: a pattern binding the violations (``?value`` when there is one) of the bound ``?this``
    branch: str | None = None
    #: (SPARQL path, kind, test): a test of each value ``?value`` (kind ``value``), at most
    #: one value (``max1``) or at least one (``min1``): merged per path within a group
    on_path: tuple[str, str, str] | None = None
    #: the value of the component's (first) parameter: the class, the list, the count...
    parameter: Node | None = None
    #: the pattern binding ``?this`` to the focus nodes of the check's shape (its root's
    #: target for the root and the root's property shapes, their value nodes deeper down)
    focus: str = ""

    @property
    def groupable(self) -> bool:
        """Whether the check can be evaluated in a :class:`CheckGroup`."""
        return self.target is not None and self.condition is not None and self.branch is not None


@dataclass
class CheckGroup:
    """The checks that apply to one focus set, evaluated together: ``sparql`` selects the
    focus nodes violating at least one of them, in one pass over the focus set;
    :func:`violation_query` then finds which constraints (and values) for those nodes only."""

    target: str
    checks: list[Check]
    sparql: str


@dataclass
class CompiledShapes:
    """All checks of a shapes graph, and the root shapes left to pySHACL.

    ``checks`` are every compiled constraint, each with a SELECT of its own; validation runs
    them as ``groups`` (one query per focus set) plus the ``single`` checks that cannot be
    grouped (SHACL-SPARQL constraints, cardinalities above :data:`INLINE_COUNT_LIMIT`)."""

    checks: list[Check]
    fallback: dict[Node, str]  # root shape -> reason
    shapes: Graph
    targets: dict[Node, str]  # root shape -> SPARQL pattern binding ?this
    dialect: str = DIALECT_LATERAL
    groups: list[CheckGroup] = field(default_factory=list)
    single: list[Check] = field(default_factory=list)

    @property
    def queries(self) -> int:
        """The number of queries a validation starts with (one per group and single check;
        a group with violations adds one per :data:`VIOLATION_CHUNK` focus nodes)."""
        return len(self.groups) + len(self.single)


@dataclass(frozen=True)
class Site:
    """Where a shape's constraints apply: ``target`` binds ``?this`` to the focus nodes,
    ``path`` is the shape's SPARQL property path (``None`` for a node shape)."""

    target: str
    path: str | None

    @property
    def values(self) -> str:
        """A group binding ``?this`` and each of its value nodes ``?value``."""
        pattern = f"{self.target} ?this {self.path} ?value"
        return f"{{ SELECT DISTINCT ?this ?value WHERE {{ {pattern} }} }}"


@dataclass(frozen=True)
class Query:
    """A compiled constraint's SELECT; ``messages`` replace the shape's own when given."""

    sparql: str
    value_is_focus: bool = False
    messages: tuple[Literal, ...] | None = None
    #: see :attr:`Check.condition` and :attr:`Check.branch` (both or neither)
    condition: str | None = None
    branch: str | None = None
    on_path: tuple[str, str, str] | None = None


#: (compiler, shape, parameter value, value-node variable) -> an expression true when the
#: value node VIOLATES the constraint.
ValueTest = Callable[["Compiler", Node, Node, str], str]
#: (compiler, shape, parameter value, site) -> the SELECT of the violations, or None (no check).
QueryBuilder = Callable[["Compiler", Node, Node, Site], Query | None]
#: (compiler, shape, parameter value, focus variable, SPARQL path or None) -> an expression
#: true when the focus node CONFORMS (used inside sh:or / sh:and / sh:not / sh:xone).
InlineBuilder = Callable[["Compiler", Node, Node, str, str | None], str]


@dataclass(frozen=True)
class Component:
    """How one constraint component compiles: either ``value`` (a test of each value node,
    wrapped by the compiler for node shapes, property shapes and inline shapes), or ``query``
    and ``inline``. ``property_only`` components raise on node shapes."""

    parameters: tuple[URIRef, ...]
    value: ValueTest | None = None
    query: QueryBuilder | None = None
    inline: InlineBuilder | None = None
    property_only: bool = False


# --------------------------------------------------------------------------- helpers
def _n3(t: Node) -> str:
    if isinstance(t, BNode):
        raise NotCompilable("blank node used as a constant")
    return t.n3()


def _list(g: Graph, head: Node) -> list[Node]:
    return list(Collection(g, head))


def _int(n: Node) -> int:
    try:
        return int(n)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise NotCompilable(f"{n} is not an integer") from None


def path_sparql(g: Graph, path: Node, depth: int = 0) -> str:
    """A SHACL path as a SPARQL property path."""
    if depth > 20:
        raise NotCompilable("path too deep")
    if isinstance(path, URIRef):
        return path.n3()
    if g.value(path, RDF.first) is not None:
        return "(" + "/".join(path_sparql(g, p, depth + 1) for p in _list(g, path)) + ")"
    for pred, fmt in PATH_OPERATORS:
        inner = g.value(path, pred)
        if inner is not None:
            return "(" + fmt.format(path_sparql(g, inner, depth + 1)) + ")"
    alt = g.value(path, SH.alternativePath)
    if alt is not None:
        return "(" + "|".join(path_sparql(g, p, depth + 1) for p in _list(g, alt)) + ")"
    raise NotCompilable("unknown path form")


# --------------------------------------------------------------------------- value tests
def _datatype(c: Compiler, shape: Node, dt: Node, v: str) -> str:
    return datatype_violation(dt, v)


def datatype_violation(dt: Node, v: str) -> str:
    """An expression true when the value in ``v`` violates ``sh:datatype dt``: not a literal,
    another datatype, or (for the datatypes in :data:`WELL_FORMED_CHECKED`) an ill-formed one."""
    if dt in _INTEGER_RANGES:
        lo, hi = _INTEGER_RANGES[dt]  # type: ignore[index]
        ok = " && ".join(
            r
            for r in (
                f"{v} >= {lo}" if lo is not None else "",
                f"{v} <= {hi}" if hi is not None else "",
            )
            if r
        )
        return (
            f"!isLiteral({v}) || (datatype({v}) != {_n3(dt)} && datatype({v}) != {_n3(XSD.integer)})"  # noqa: E501
            f" || !COALESCE({ok}, false)"
        )
    cond = f"!isLiteral({v}) || datatype({v}) != {_n3(dt)}"
    if dt in _LEXICAL:
        cond += f' || !regex(str({v}), "{_LEXICAL[dt]}")'.replace("\\", "\\\\")  # type: ignore[index]
    elif dt in _CAST:
        cond += f" || !COALESCE(isLiteral({_n3(dt)}(str({v}))), false)"
    return cond


def _class(c: Compiler, shape: Node, cls: Node, v: str) -> str:
    return f"NOT EXISTS {{ {c.instance_of(v, cls)} }}"


def _in(c: Compiler, shape: Node, lst: Node, v: str) -> str:
    cond = " || ".join(f"sameTerm({v}, {_n3(m)})" for m in _list(c.g, lst)) or "false"
    return f"!({cond})"


def _pattern(c: Compiler, shape: Node, pat: Node, v: str) -> str:
    flags = c.g.value(shape, SH.flags)
    fl = f", {Literal(str(flags)).n3()}" if flags is not None else ""
    return f"isBlank({v}) || !regex(str({v}), {Literal(str(pat)).n3()}{fl})"


def _node_kind(c: Compiler, shape: Node, kind: Node, v: str) -> str:
    if kind not in _NODEKIND_VIOLATION:
        raise NotCompilable(f"sh:nodeKind {kind}")
    return _NODEKIND_VIOLATION[kind].format(v=v)  # type: ignore[index]


def _min_length(c: Compiler, shape: Node, n: Node, v: str) -> str:
    return f"isBlank({v}) || strlen(str({v})) < {_int(n)}"


def _max_length(c: Compiler, shape: Node, n: Node, v: str) -> str:
    return f"isBlank({v}) || strlen(str({v})) > {_int(n)}"


def _range(op: str) -> ValueTest:
    def test(c: Compiler, shape: Node, bound: Node, v: str) -> str:
        return f"!COALESCE({v} {op} {_n3(bound)}, false)"

    return test


def _language_in(c: Compiler, shape: Node, lst: Node, v: str) -> str:
    langs = [str(x) for x in _list(c.g, lst)]
    cond = " || ".join(f'langMatches(lang({v}), "{x}")' for x in langs) or "false"
    return f"!isLiteral({v}) || !({cond})"


def _not(c: Compiler, shape: Node, arg: Node, v: str) -> str:
    return c.conforms_expr(arg, v)


def _and(c: Compiler, shape: Node, arg: Node, v: str) -> str:
    return "!(" + (" && ".join(c.conforms_expr(m, v) for m in _list(c.g, arg)) or "true") + ")"


def _or(c: Compiler, shape: Node, arg: Node, v: str) -> str:
    return "!(" + (" || ".join(c.conforms_expr(m, v) for m in _list(c.g, arg)) or "false") + ")"


def _xone(c: Compiler, shape: Node, arg: Node, v: str) -> str:
    ones = " + ".join(f"IF({c.conforms_expr(m, v)}, 1, 0)" for m in _list(c.g, arg)) or "0"
    return f"(({ones}) != 1)"


# --------------------------------------------------------------------------- whole queries
def _focus_condition(condition: str | None) -> dict[str, str | None]:
    """The group form of a check whose violations are focus nodes without a value."""
    if condition is None:
        return {}
    return {"condition": condition, "branch": f"FILTER ({condition})"}


def _count_condition(c: Compiler, path: str | None, n: int, negate: bool) -> str | None:
    """``EXISTS`` (``NOT EXISTS`` when ``negate``) ``n`` distinct values of the bound ``?this``
    on ``path``; None above :data:`INLINE_COUNT_LIMIT` (such a check stays on its own)."""
    try:
        pattern = _distinct_values(c, "?this", path, n)
    except NotCompilable:
        return None
    return f"{'NOT ' if negate else ''}EXISTS {{ {pattern} }}"


def _min_count_query(c: Compiler, shape: Node, n: Node, site: Site) -> Query | None:
    count = _int(n)
    if count == 0:
        return None
    group = _focus_condition(_count_condition(c, site.path, count, negate=True))
    if count == 1:
        return Query(
            f"SELECT DISTINCT ?this WHERE {{ {site.target} "
            f"FILTER NOT EXISTS {{ ?this {site.path} ?_v }} }}",
            on_path=(site.path, "min1", ""),  # type: ignore[arg-type]
            **group,  # type: ignore[arg-type]
        )
    return Query(
        f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {site.target} }} }} "
        f"OPTIONAL {{ ?this {site.path} ?_v }} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?_v) < {count})",  # noqa: E501
        **group,  # type: ignore[arg-type]
    )


#: The largest count an inline (sh:or/sh:and/...) cardinality is compiled for: "n distinct
#: values" is a join of n value variables, pairwise distinct.
INLINE_COUNT_LIMIT = 5


def _distinct_values(c: Compiler, f: str, path: str | None, n: int) -> str:
    """A pattern matching when ``f`` has at least ``n`` distinct values on ``path``."""
    if n > INLINE_COUNT_LIMIT:
        raise NotCompilable(f"a count above {INLINE_COUNT_LIMIT} inside a logical constraint")
    xs = [c.new_var() for _ in range(n)]
    distinct = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(xs, 2)]
    pattern = " . ".join(f"{f} {path} {x}" for x in xs)
    return pattern + (f" FILTER ({' && '.join(distinct)})" if distinct else "")


def _min_count_inline(c: Compiler, shape: Node, n: Node, f: str, path: str | None) -> str:
    count = _int(n)
    return f"EXISTS {{ {_distinct_values(c, f, path, count)} }}" if count > 0 else "true"


def _max_count_query(c: Compiler, shape: Node, n: Node, site: Site) -> Query:
    count = _int(n)
    return Query(
        f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {site.target} }} }} "
        f"?this {site.path} ?_v }} GROUP BY ?this HAVING (COUNT(DISTINCT ?_v) > {count})",
        on_path=(site.path, "max1", "") if count == 1 else None,  # type: ignore[arg-type]
        **_focus_condition(_count_condition(c, site.path, count + 1, negate=False)),  # type: ignore[arg-type]
    )


def _max_count_inline(c: Compiler, shape: Node, n: Node, f: str, path: str | None) -> str:
    return f"NOT EXISTS {{ {_distinct_values(c, f, path, _int(n) + 1)} }}"


def _has_value_query(c: Compiler, shape: Node, hv: Node, site: Site) -> Query:
    if site.path is None:
        cond = f"!sameTerm(?this, {_n3(hv)})"
    else:
        cond = f"NOT EXISTS {{ ?this {site.path} {_n3(hv)} }}"
    return Query(
        f"SELECT DISTINCT ?this WHERE {{ {site.target} FILTER ({cond}) }}",
        **_focus_condition(cond),  # type: ignore[arg-type]
    )


def _has_value_inline(c: Compiler, shape: Node, hv: Node, f: str, path: str | None) -> str:
    if path is None:
        return f"sameTerm({f}, {_n3(hv)})"
    return f"EXISTS {{ {f} {path} {_n3(hv)} }}"


def _pair(op: str) -> tuple[QueryBuilder, InlineBuilder]:
    """sh:lessThan / sh:lessThanOrEquals: each value ``op`` each value of the other property."""

    def query(c: Compiler, shape: Node, other: Node, site: Site) -> Query:
        branch = (
            f"?this {site.path} ?value . ?this {_n3(other)} ?_o "
            f"FILTER (!COALESCE(?value {op} ?_o, false))"
        )
        return Query(
            f"SELECT DISTINCT ?this ?value WHERE {{ {site.values} ?this {_n3(other)} ?_o "
            f"FILTER (!COALESCE(?value {op} ?_o, false)) }}",
            condition=f"!({inline(c, shape, other, '?this', site.path)})",
            branch=branch,
        )

    def inline(c: Compiler, shape: Node, other: Node, f: str, path: str | None) -> str:
        x, o = c.new_var(), c.new_var()
        return (
            f"NOT EXISTS {{ {f} {path} {x} . {f} {_n3(other)} {o} "
            f"FILTER (!COALESCE({x} {op} {o}, false)) }}"
        )

    return query, inline


def _sparql_query(c: Compiler, shape: Node, sc: Node, site: Site) -> Query | None:
    """A SHACL-SPARQL SELECT constraint, ``$this`` pre-bound by joining the focus nodes first,
    ``$PATH`` substituted and ``sh:prefixes`` declarations honoured."""
    g = c.g
    if (sc, SH.deactivated, Literal(True)) in g:
        return None
    select = g.value(sc, SH.select)
    if select is None:
        raise NotCompilable("SPARQL constraint without sh:select")
    text = str(select)
    prefixes = [
        f"PREFIX {g.value(decl, SH.prefix)}: <{g.value(decl, SH.namespace)}>"
        for pnode in g.objects(sc, SH.prefixes)
        for decl in _declarations(g, pnode)
    ]
    if site.path is not None:
        text = text.replace("$PATH", site.path)
    text = re.sub(r"\$this\b", "?this", text)
    if re.search(r"\$(currentShape|shapesGraph)\b", text):
        raise NotCompilable("$currentShape / $shapesGraph in a SPARQL constraint")
    pattern = site.target if site.path is None else f"{site.target} ?this {site.path} []"
    masked = mask_comments_and_strings(text)
    m = WHERE_OPEN.search(masked)
    if m is None:
        raise NotCompilable("SPARQL constraint without WHERE")
    end = _group_end(masked, m.end() - 1)
    if end is not None and (
        unbound := _this_where_unbound(masked[m.end() : end], c.dialect == DIALECT_LATERAL)
    ):
        raise NotCompilable(unbound)
    if (
        c.dialect == DIALECT_LATERAL
        and end is not None
        and _binds_this_first(masked, m.end(), end, pattern)
    ):
        # the focus nodes as a last filter: the body's own first patterns, usually far
        # fewer than the focus nodes, are matched first (see _binds_this_first)
        text = text[:end] + f"\n  FILTER EXISTS {{ {pattern} }}\n" + text[end:]
    else:
        focus = f"{{ SELECT DISTINCT ?this WHERE {{ {pattern} }} }}"
        text = text[: m.end()] + "\n  " + focus + "\n" + text[m.end() :]
    if c.dialect == DIALECT_LATERAL:
        text = lateral_optionals(text)
    messages = sorted(g.objects(sc, SH.message), key=str) or sorted(
        g.objects(shape, SH.message), key=str
    )
    return Query(
        "\n".join(prefixes + [text]),
        value_is_focus=site.path is None,
        messages=tuple(messages),  # type: ignore[arg-type]
    )


def _group_end(masked: str, start: int) -> int | None:
    """The index of the ``}`` closing the group opened at ``masked[start]`` (None: unclosed)."""
    depth = 0
    for i in range(start, len(masked)):
        if masked[i] == "{":
            depth += 1
        elif masked[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


#: The keyword before a group whose patterns see ``$this`` bound in the compiled form: an
#: OPTIONAL (under LATERAL, or as a left join on ``?this``) and an EXISTS / NOT EXISTS
#: (evaluated with the solution's bindings substituted).
_SEES_THIS = re.compile(r"\b(OPTIONAL|EXISTS)\s*$", re.IGNORECASE)


def _this_where_unbound(body: str, lateral: bool = True) -> str | None:
    """Why, if at all, ``$this`` (already spelled ``?this``) occurs in a group of a SHACL-SPARQL
    body (masked text inside its WHERE group) that is evaluated on its own in the compiled form:
    a plain nested group, a UNION branch, a subquery, MINUS, GRAPH, SERVICE, at any depth
    (within OPTIONAL / EXISTS too). Pre-binding substitutes ``$this`` there as well (the W3C
    tests sparql/pre-binding-002, -003, -005 and -007); the compiled form would report
    nothing, so such a constraint is left to pySHACL. Without ``lateral`` (standard SPARQL,
    where an OPTIONAL is a left join, not evaluated per solution) an OPTIONAL that holds
    ``?this`` and a ``BIND`` counts too: the BIND would not see ``?this``. None: it does not."""
    # for each open group: where it starts, and the keyword that makes it see ?this (if any)
    opened: list[tuple[int, str | None]] = []
    for m in re.finditer(r"[{}]|\?this\b", body):
        token = m.group()
        if token == "{":
            seeing = _SEES_THIS.search(body[: m.start()])
            opened.append((m.start(), seeing.group(1).upper() if seeing else None))
        elif token == "}":
            if opened:
                start, keyword = opened.pop()
                group = body[start : m.end()]
                if (
                    not lateral
                    and keyword == "OPTIONAL"
                    and re.search(r"\?this\b", group)
                    and re.search(r"\bBIND\b", group, re.IGNORECASE)
                ):
                    return "$this in an OPTIONAL with a BIND (standard SPARQL: a left join)"
        elif not all(keyword for _start, keyword in opened):
            return "$this inside a nested group other than OPTIONAL or EXISTS"
    return None


#: A nested group or parenthesised expression holding no other, in masked query text.
_NESTED = re.compile(r"\{[^{}]*\}|\([^()]*\)")
#: What can bind ``?this`` other than a triple pattern, or make the answer depend on which
#: focus node comes first.
_NOT_PLAIN = re.compile(r"\b(VALUES|BIND|SERVICE|GRAPH|LIMIT|OFFSET)\b", re.IGNORECASE)


def _binds_this_first(masked: str, body: int, end: int, pattern: str) -> bool:
    """Whether a SHACL-SPARQL body (``masked[body:end]``, its WHERE group, comments and
    strings blanked) gives the same solutions with its focus nodes applied as a last
    ``FILTER EXISTS`` as with them joined first: ``?this`` is matched by a triple pattern of
    the group before its first nested group, so every solution binds it and every nested
    group (an ``OPTIONAL`` evaluated per solution under LATERAL) sees it bound, as
    pre-binding has it. The target pattern's own variables must not occur in the query."""
    head = masked[body:end]
    while True:  # nested groups become a mark, parenthesised expressions (with theirs) go
        stripped = _NESTED.sub(lambda m: "\0" if m.group().startswith("{") else " ", head)
        if stripped == head:
            break
        head = stripped
    head = head.split("\0", 1)[0]
    if _NOT_PLAIN.search(masked) or not re.search(r"\?this\b", head):
        return False
    names = set(re.findall(r"[?$](\w+)", pattern)) - {"this"}
    return not any(re.search(rf"[?$]{re.escape(n)}\b", masked) for n in names)


def _declarations(g: Graph, node: Node) -> list[Node]:
    """The ``sh:declare`` prefix declarations of ``node`` and of what it ``owl:imports``."""
    out: list[Node] = []
    seen: set[Node] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            out.extend(g.objects(n, SH.declare))
            stack.extend(g.objects(n, OWL.imports))
    return out


def _sparql_inline(c: Compiler, shape: Node, sc: Node, f: str, path: str | None) -> str:
    raise NotCompilable("sh:sparql inside a logical constraint")


_LESS_THAN = _pair("<")
_LESS_THAN_OR_EQUALS = _pair("<=")

#: The constraint components the compiler translates, each with its parameters and builder.
#: sh:property is compiled by the compiler itself (a property shape becomes checks of its
#: own, on the value nodes of its parent), so its entry has no builder.
COMPONENTS: dict[URIRef, Component] = {
    SH.ClassConstraintComponent: Component((SH["class"],), value=_class),
    SH.DatatypeConstraintComponent: Component((SH.datatype,), value=_datatype),
    SH.NodeKindConstraintComponent: Component((SH.nodeKind,), value=_node_kind),
    SH.MinCountConstraintComponent: Component(
        (SH.minCount,), query=_min_count_query, inline=_min_count_inline, property_only=True
    ),
    SH.MaxCountConstraintComponent: Component(
        (SH.maxCount,), query=_max_count_query, inline=_max_count_inline, property_only=True
    ),
    SH.MinExclusiveConstraintComponent: Component((SH.minExclusive,), value=_range(">")),
    SH.MinInclusiveConstraintComponent: Component((SH.minInclusive,), value=_range(">=")),
    SH.MaxExclusiveConstraintComponent: Component((SH.maxExclusive,), value=_range("<")),
    SH.MaxInclusiveConstraintComponent: Component((SH.maxInclusive,), value=_range("<=")),
    SH.MinLengthConstraintComponent: Component((SH.minLength,), value=_min_length),
    SH.MaxLengthConstraintComponent: Component((SH.maxLength,), value=_max_length),
    SH.PatternConstraintComponent: Component((SH.pattern, SH.flags), value=_pattern),
    SH.LanguageInConstraintComponent: Component((SH.languageIn,), value=_language_in),
    SH.LessThanConstraintComponent: Component(
        (SH.lessThan,), query=_LESS_THAN[0], inline=_LESS_THAN[1], property_only=True
    ),
    SH.LessThanOrEqualsConstraintComponent: Component(
        (SH.lessThanOrEquals,),
        query=_LESS_THAN_OR_EQUALS[0],
        inline=_LESS_THAN_OR_EQUALS[1],
        property_only=True,
    ),
    SH.NotConstraintComponent: Component((SH["not"],), value=_not),
    SH.AndConstraintComponent: Component((SH["and"],), value=_and),
    SH.OrConstraintComponent: Component((SH["or"],), value=_or),
    SH.XoneConstraintComponent: Component((SH.xone,), value=_xone),
    SH.PropertyConstraintComponent: Component((SH.property,)),
    SH.HasValueConstraintComponent: Component(
        (SH.hasValue,), query=_has_value_query, inline=_has_value_inline
    ),
    SH.InConstraintComponent: Component((SH["in"],), value=_in),
    SH.SPARQLConstraintComponent: Component(
        (SH.sparql,), query=_sparql_query, inline=_sparql_inline
    ),
}

#: The components the compiler claims, and the SHACL Core components it leaves to pySHACL.
CLAIMED: frozenset[URIRef] = frozenset(COMPONENTS)
UNCLAIMED: frozenset[URIRef] = frozenset(CORE_COMPONENTS) - CLAIMED

#: Parameter -> the claimed component it belongs to.
PARAMETERS: dict[URIRef, URIRef] = {p: iri for iri, c in COMPONENTS.items() for p in c.parameters}


def _components_by_parameter() -> dict[URIRef, tuple[URIRef, ...]]:
    out: dict[URIRef, tuple[URIRef, ...]] = {}
    for iri, params in CORE_COMPONENTS.items():
        for p in params:
            out[p] = (*out.get(p, ()), iri)
    return out


#: Parameter -> the SHACL Core components it belongs to (to name what a shape needs).
CORE_PARAMETERS: dict[URIRef, tuple[URIRef, ...]] = _components_by_parameter()


def components_used(shapes: Graph) -> set[URIRef]:
    """The SHACL Core components whose parameters appear in ``shapes``."""
    return {
        iri for p in set(shapes.predicates()) & CORE_PARAMETERS.keys() for iri in CORE_PARAMETERS[p]
    }


# --------------------------------------------------------------------------- compiler
class Compiler:
    """Compiles the shapes of a shapes graph against a store (for subclass closures), in
    ``dialect`` (one of :data:`DIALECTS`)."""

    def __init__(
        self,
        shapes: Graph,
        subclasses: dict[URIRef, set[URIRef]],
        dialect: str = DIALECT_LATERAL,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown SPARQL dialect {dialect!r}")
        self.g = shapes
        self.subclasses = subclasses
        self.dialect = dialect
        self._vars = itertools.count()
        self._ns = bind_prefixes(Graph())
        for prefix, iri in shapes.namespaces():
            self._ns.bind(prefix, iri, override=False)
        # every declared parameter, whatever its component's type (a subclass of
        # sh:ConstraintComponent declares components too)
        self._custom_parameters = {
            p
            for _cc, param in shapes.subject_objects(SH.parameter)
            for p in shapes.objects(param, SH.path)
        }

    def new_var(self) -> str:
        """A fresh SPARQL variable."""
        return f"?_x{next(self._vars)}"

    # ---- classes
    def instance_of(self, var: str, cls: Node) -> str:
        """A pattern true when ``var`` is an instance of ``cls`` or of a subclass."""
        if not isinstance(cls, URIRef):
            raise NotCompilable("sh:class / sh:targetClass is not an IRI")
        classes = sorted(self.subclasses.get(cls, set()) | {cls}, key=str)
        if len(classes) == 1:
            return f"{var} a {classes[0].n3()} ."
        c = self.new_var()
        return f"VALUES {c} {{ {' '.join(x.n3() for x in classes)} }} {var} a {c} ."

    # ---- targets
    def target_pattern(self, shape: Node) -> str:
        """A SPARQL pattern binding ``?this`` to the focus nodes of ``shape``'s targets."""
        if (shape, SH.target, None) in self.g:
            raise NotCompilable("sh:target (SPARQL-based target)")
        parts = [
            "{ " + self.instance_of("?this", cls) + " }"
            for cls in self.g.objects(shape, SH.targetClass)
        ]
        if (shape, RDF.type, RDFS.Class) in self.g or (shape, RDF.type, OWL.Class) in self.g:
            parts.append("{ " + self.instance_of("?this", shape) + " }")
        nodes = [_n3(n) for n in self.g.objects(shape, SH.targetNode)]
        if nodes:
            parts.append("{ VALUES ?this { " + " ".join(nodes) + " } }")
        for p in self.g.objects(shape, SH.targetSubjectsOf):
            parts.append("{ SELECT DISTINCT ?this WHERE { ?this " + _n3(p) + " [] } }")
        for p in self.g.objects(shape, SH.targetObjectsOf):
            parts.append("{ SELECT DISTINCT ?this WHERE { [] " + _n3(p) + " ?this } }")
        if not parts:
            raise NotCompilable("no target")
        return " UNION ".join(parts)

    # ---- which components a shape uses
    def components_of(self, shape: Node) -> list[tuple[URIRef, Component]]:
        """The claimed components ``shape`` uses; NotCompilable names any other one."""
        used: dict[URIRef, Component] = {}
        for p in sorted(set(self.g.predicates(shape, None)), key=str):
            if p in NON_VALIDATING:
                continue
            if p in PARAMETERS:
                iri = PARAMETERS[p]
                used[iri] = COMPONENTS[iri]
            elif p in CORE_PARAMETERS:
                names = ", ".join(self._name(c) for c in CORE_PARAMETERS[p])
                raise NotCompilable(f"uses {names}")
            elif p in self._custom_parameters or str(p).startswith(str(SH)):
                raise NotCompilable(f"uses {self._name(p)}, not a SHACL Core parameter")
        return sorted(used.items(), key=lambda kv: str(kv[0]))

    def _name(self, t: Node) -> str:
        return short_name(t, self._ns)

    # ---- conformance expression of an inline shape at focus `f` (for or/and/not/xone)
    def conforms_expr(self, shape: Node, f: str, depth: int = 0) -> str:
        """An expression true when the node in ``f`` conforms to ``shape``."""
        if depth > 10:
            raise NotCompilable("shapes nested too deeply")
        g = self.g
        if (shape, SH.deactivated, Literal(True)) in g:
            return "true"
        path_node = g.value(shape, SH.path)
        path = path_sparql(g, path_node) if path_node is not None else None
        terms: list[str] = []
        for iri, comp in self.components_of(shape):
            if iri == SH.PropertyConstraintComponent:
                props = g.objects(shape, SH.property)
                terms.extend(self._inline_property(prop, f, path, depth) for prop in props)
                continue
            if comp.property_only and path is None:
                raise NotCompilable(f"{self._name(iri)} on a node shape")
            for arg in g.objects(shape, comp.parameters[0]):
                if comp.value is not None:
                    x = self.new_var() if path is not None else f
                    cond = comp.value(self, shape, arg, x)
                    terms.append(
                        f"!({cond})"
                        if path is None
                        else f"NOT EXISTS {{ {f} {path} {x} FILTER ({cond}) }}"
                    )
                elif comp.inline is not None:
                    terms.append(comp.inline(self, shape, arg, f, path))
        return "(" + (" && ".join(terms) if terms else "true") + ")"

    def _inline_property(self, prop: Node, f: str, path: str | None, depth: int) -> str:
        if path is None:
            return self.conforms_expr(prop, f, depth + 1)
        x = self.new_var()
        return f"NOT EXISTS {{ {f} {path} {x} FILTER (!{self.conforms_expr(prop, x, depth + 1)}) }}"

    # ---- checks of one shape (node or property) on the focus nodes bound by `target`
    def shape_checks(self, shape: Node, root: Node, target: str, depth: int = 0) -> list[Check]:
        """The checks of ``shape`` (and of its property shapes) on the focus nodes of ``target``."""
        g = self.g
        if (shape, SH.deactivated, Literal(True)) in g:
            return []
        if depth > 10:
            raise NotCompilable("property shapes nested too deeply")
        severity = g.value(shape, SH.severity) or SH.Violation
        messages = sorted(g.objects(shape, SH.message), key=str)
        path_node = g.value(shape, SH.path)
        site = Site(target, path_sparql(g, path_node) if path_node is not None else None)
        checks: list[Check] = []

        def add(iri: URIRef, query: Query | None, arg: Node) -> None:
            if query is not None:
                msgs = list(query.messages) if query.messages is not None else messages
                checks.append(
                    Check(
                        shape,
                        root,
                        iri,
                        query.sparql,
                        path_node,
                        severity,
                        msgs,
                        query.value_is_focus,
                        target if query.condition is not None else None,
                        query.condition,
                        query.branch,
                        query.on_path,
                        arg,
                        target,
                    )
                )

        for iri, comp in self.components_of(shape):
            if iri == SH.PropertyConstraintComponent:
                inner = self._value_target(site)
                for prop in g.objects(shape, SH.property):
                    checks.extend(self.shape_checks(prop, root, inner, depth + 1))
                continue
            if comp.property_only and site.path is None:
                raise NotCompilable(f"{self._name(iri)} on a node shape")
            for arg in g.objects(shape, comp.parameters[0]):
                if comp.value is not None:
                    add(iri, self._value_query(comp.value, shape, arg, site), arg)
                elif comp.query is not None:
                    add(iri, comp.query(self, shape, arg, site), arg)
        return checks

    def _value_query(self, test: ValueTest, shape: Node, arg: Node, site: Site) -> Query:
        """The SELECT of the value nodes failing ``test`` (a node shape's value is its focus)."""
        if site.path is None:
            cond = test(self, shape, arg, "?this")
            return Query(
                f"SELECT DISTINCT ?this WHERE {{ {site.target} FILTER ({cond}) }}",
                value_is_focus=True,
                condition=f"({cond})",
                branch=f"FILTER ({cond})",
            )
        cond = test(self, shape, arg, "?value")
        v = self.new_var()
        return Query(
            f"SELECT ?this ?value WHERE {{ {site.values} FILTER ({cond}) }}",
            condition=f"EXISTS {{ ?this {site.path} {v} FILTER ({test(self, shape, arg, v)}) }}",
            branch=f"?this {site.path} ?value FILTER ({cond})",
            on_path=(site.path, "value", cond),
        )

    def _value_target(self, site: Site) -> str:
        """The target of a shape's property shapes: its value nodes, bound to ``?this``."""
        if site.path is None:
            return site.target
        v = self.new_var()
        return (
            f"{{ SELECT ({v} AS ?this) WHERE {{ {{ SELECT DISTINCT {v} WHERE "
            f"{{ {site.target} ?this {site.path} {v} }} }} }} }}"
        )


def lateral_optionals(text: str) -> str:
    """Wrap every ``OPTIONAL { … }`` in Oxigraph's ``LATERAL { … }``.

    Oxigraph evaluates the right side of OPTIONAL on its own and then joins, so
    ``OPTIONAL { $this :p ?a . ?value :p ?b }`` (two patterns sharing no variable, as in
    the supersedes check) becomes a cross product: quadratic in the number of policies.
    Under LATERAL the group is evaluated once per left solution with its bindings
    substituted, which is the pre-binding SHACL-SPARQL itself specifies for ``$this``; the
    supersedes check drops from 0.2 s to 3 ms at 10k triples, and stays linear.
    """
    masked = mask_comments_and_strings(text)
    inserts: list[tuple[int, str]] = []
    for m in re.finditer(r"\bOPTIONAL\s*\{", masked, re.IGNORECASE):
        end = _group_end(masked, m.end() - 1)
        if end is not None:
            inserts.append((end + 1, " }"))
            inserts.append((m.start(), "LATERAL { "))
    for pos, piece in sorted(inserts, key=lambda x: x[0], reverse=True):
        text = text[:pos] + piece + text[pos:]
    return text


_SAME_TERM = re.compile(
    r"""sameTerm\(\s*(?P<var>\?\w+)\s*,\s*(?:(?P<iri><[^<>\s]*>)|(?P<lex>"(?:[^"\\]|\\.)*")"""
    r"""(?:@(?P<lang>[A-Za-z0-9-]+)|\^\^(?P<dt><[^<>\s]*>))?)\s*\)"""
)
_DATATYPE_NOT = re.compile(r"datatype\((?P<var>\?\w+)\)\s*!=\s*(?P<dt><[^<>\s]*>|xsd:\w+)")
#: "Is ?d a real date?" as written for rdflib (whose xsd:date cast of a string fails).
_DATE_AS_DATETIME = re.compile(
    r"isLiteral\(\s*xsd:dateTime\(\s*concat\(\s*str\((?P<var>\?\w+)\)\s*,\s*\"T00:00:00\"\s*\)\s*\)\s*\)"
)
_CAST_TEST = re.compile(
    r"isLiteral\(\s*(?P<cast><http://www\.w3\.org/2001/XMLSchema#(date|dateTime)>"
    r"|xsd:(date|dateTime))\s*\("
)


def standard_spelling(text: str) -> str:
    """Three tests of the compiled checks (and of SHACL-SPARQL constraints) spelled so that
    Virtuoso 7.2 evaluates them as SPARQL 1.1 specifies; the same answers on any server.

    * ``sameTerm(?v, constant)``: Virtuoso holds it only as a whole FILTER (inside ``||``,
      ``IF`` or a projection it is false, which makes every ``sh:in`` list a violation). An
      IRI is tested with ``isIRI`` and ``=``; a literal by its lexical form and its datatype
      or language tag, never by value (``"01"^^xsd:integer`` is not ``"1"^^xsd:integer``).
    * ``datatype(?v) != dt``: Virtuoso's ``datatype`` of a language-tagged literal is an error,
      not ``rdf:langString``, so ``(lang(?v) != "" || …)`` comes first (and ``!=
      rdf:langString`` is ``lang(?v) = ""``).
    * ``isLiteral(xsd:date(x))`` / ``xsd:dateTime`` (is ``x`` a valid date?): Virtuoso folds
      it to true; ``COALESCE(cast = cast, false)`` is false for an invalid value on every
      server. The rdflib spelling of "is ?d a real date", ``isLiteral(xsd:dateTime(concat(
      str(?d), "T00:00:00")))``, becomes the xsd:date test first: Virtuoso aborts the whole
      query (``22007 DT006 Cannot convert … to datetime``) on an invalid date-time cast.
    """

    def same_term(m: re.Match[str]) -> str:
        var, lexical, lang = m.group("var"), m.group("lex"), m.group("lang")
        if m.group("iri"):
            return f"(isIRI({var}) && {var} = {m.group('iri')})"
        if lang:
            return (
                f'(isLiteral({var}) && lcase(lang({var})) = "{lang.lower()}"'
                f" && str({var}) = {lexical})"
            )
        datatype = m.group("dt") or XSD.string.n3()
        return (
            f'(isLiteral({var}) && lang({var}) = "" && datatype({var}) = {datatype}'
            f" && str({var}) = {lexical})"
        )

    text = _SAME_TERM.sub(same_term, text)
    text = _DATATYPE_NOT.sub(_datatype_not, text)
    text = _DATE_AS_DATETIME.sub(r"isLiteral(xsd:date(str(\g<var>)))", text)
    return _spell_cast_tests(text)


def _datatype_not(m: re.Match[str]) -> str:
    var, dt = m.group("var"), m.group("dt")
    if dt == RDF.langString.n3():
        return f'(lang({var}) = "")'
    return f'(lang({var}) != "" || datatype({var}) != {dt})'


def _spell_cast_tests(text: str) -> str:
    """``isLiteral(xsd:T(arg))`` -> ``COALESCE(xsd:T(arg) = xsd:T(arg), false)``."""
    out: list[str] = []
    pos = 0
    masked = mask_comments_and_strings(text)
    for m in _CAST_TEST.finditer(text):
        if m.start() < pos or masked[m.start()] == " ":
            continue  # inside a string, comment or an earlier match
        depth, end = 1, None
        for i in range(m.end(), len(masked)):
            depth += {"(": 1, ")": -1}.get(masked[i], 0)
            if depth == 0:
                end = i
                break
        close = masked.find(")", end + 1) if end is not None else -1
        if end is None or masked[end + 1 : close].strip() or close == -1:
            continue
        cast = text[m.start("cast") : end + 1]
        out.append(text[pos : m.start()] + f"COALESCE({cast} = {cast}, false)")
        pos = close + 1
    return "".join(out) + text[pos:]


def roots_of(shapes: Graph) -> list[Node]:
    """Shapes with targets (the roots validation starts from), in a stable order."""
    roots: set[Node] = set()
    for p in TARGET_PREDICATES + (SH.target,):
        roots.update(shapes.subjects(p, None))
    for s in shapes.subjects(RDF.type, SH.NodeShape):
        if (s, RDF.type, RDFS.Class) in shapes or (s, RDF.type, OWL.Class) in shapes:
            roots.add(s)
    return sorted(roots, key=lambda n: (isinstance(n, BNode), str(n)))


def compile_shapes(
    shapes: Graph, subclasses: dict[URIRef, set[URIRef]], dialect: str = DIALECT_LATERAL
) -> CompiledShapes:
    """Compile every root shape of ``shapes`` (and its property shapes) into checks written
    in ``dialect`` (one of :data:`DIALECTS`)."""
    comp = Compiler(shapes, subclasses, dialect)
    checks: list[Check] = []
    fallback: dict[Node, str] = {}
    targets: dict[Node, str] = {}
    for root in roots_of(shapes):
        try:
            target = comp.target_pattern(root)
            targets[root] = target
            checks.extend(comp.shape_checks(root, root, target))
        except NotCompilable as exc:
            fallback[root] = str(exc)
    if dialect == DIALECT_STANDARD:
        for check in checks:
            check.sparql = standard_spelling(check.sparql)
    groups, single = group_checks(checks, dialect)
    return CompiledShapes(checks, fallback, shapes, targets, dialect, groups, single)


def group_checks(
    checks: list[Check], dialect: str = DIALECT_LATERAL
) -> tuple[list[CheckGroup], list[Check]]:
    """The groupable checks gathered by focus set (the same target pattern, whichever shapes
    they come from), in first-seen order, and the checks left on their own; the groups' queries
    written in ``dialect``.

    A group's query passes over its focus nodes once and keeps those violating any of its
    checks (one ``FILTER`` of the checks' conditions, in standard SPARQL 1.1), so the cost is
    one scan of the focus set plus one look-up per focus node and constraint, instead of one
    scan per constraint."""
    groups, single = _gather(checks)
    if dialect == DIALECT_STANDARD:
        for group in groups:
            group.sparql = standard_spelling(group.sparql)
    return groups, single


def _gather(checks: list[Check]) -> tuple[list[CheckGroup], list[Check]]:
    by_target: dict[str, list[Check]] = {}
    single: list[Check] = []
    for check in checks:
        if check.groupable:
            by_target.setdefault(check.target, []).append(check)  # type: ignore[arg-type]
        else:
            single.append(check)
    groups = [
        CheckGroup(
            target,
            members,
            f"SELECT ?this WHERE {{ {target}\n  FILTER (\n    "
            + "\n    || ".join(_group_conditions(members))
            + "\n  )\n}",
        )
        for target, members in by_target.items()
    ]
    return groups, single


def _group_conditions(checks: list[Check]) -> list[str]:
    """The checks' conditions, those on one path merged into one look-up of its values:
    ``EXISTS { ?this p ?value . ?this p ?_b FILTER (!sameTerm(?value, ?_b) || tests) }`` is
    at most one value and every value passing its tests, ``NOT EXISTS`` the minimum of one."""
    out: list[str] = []
    paths: dict[str, tuple[list[str], set[str]]] = {}
    for check in checks:
        if check.on_path is None:
            out.append(check.condition)  # type: ignore[arg-type]
            continue
        path, kind, test = check.on_path
        tests, kinds = paths.setdefault(path, ([], set()))
        kinds.add(kind)
        if kind == "value":
            tests.append(f"({test})")
    for path, (tests, kinds) in paths.items():
        if "max1" in kinds:
            fails = " || ".join(["!sameTerm(?value, ?_b)", *tests])
            out.append(f"EXISTS {{ ?this {path} ?value . ?this {path} ?_b FILTER ({fails}) }}")
        elif tests:
            out.append(f"EXISTS {{ ?this {path} ?value FILTER ({' || '.join(tests)}) }}")
        if "min1" in kinds:
            out.append(f"NOT EXISTS {{ ?this {path} ?_a }}")
    return out


#: Focus nodes per :func:`violation_query` (the VALUES block of the second step of a group).
VIOLATION_CHUNK = 200


def violation_query(group: CheckGroup, focus: list[Node], dialect: str = DIALECT_LATERAL) -> str:
    """The violations of ``group``'s checks on ``focus`` (IRIs or literals found by the
    group's query): rows ``?_k`` (the index of the check in ``group.checks``), ``?this`` and
    ``?value``. Oxigraph's dialect binds the focus nodes once and evaluates each check's
    branch under ``LATERAL``; the standard one repeats the VALUES block in each branch."""
    values = "VALUES ?this { " + " ".join(_n3(f) for f in focus) + " }"
    if dialect == DIALECT_LATERAL:
        branches = " UNION ".join(
            f"{{ {c.branch} BIND ({k} AS ?_k) }}" for k, c in enumerate(group.checks)
        )
        return f"SELECT DISTINCT ?_k ?this ?value WHERE {{ {values} LATERAL {{ {branches} }} }}"
    branches = "\n UNION ".join(
        f"{{ {values} {c.branch} BIND ({k} AS ?_k) }}" for k, c in enumerate(group.checks)
    )
    return standard_spelling(f"SELECT DISTINCT ?_k ?this ?value WHERE {{ {branches} }}")
