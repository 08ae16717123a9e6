"""Validate new data (a new or revised payer policy) *in the context of the graph*.

The new file is not validated alone, and the whole graph is not re-validated either. A small
*validation graph* is built from

* the new data,
* the *context slice* of the graph the new data needs: the ``rdf:type`` of every IRI the new
  data mentions, the full description of the policies it supersedes and of existing resources
  it adds statements to, and the policies that already use one of its ``dcterms:identifier``s,
* the code-system releases' description of every real ICD-10-CM and place-of-service code
  the new data uses without declaring it (:func:`cptkg.codes.rdf.used_code_triples`), so a
  policy may cite any code of the release (``G51.1``) that the graph does not hold yet,

and it is validated for the new data's subjects (the focus nodes) with the shipped ontology
(class hierarchy and controlled vocabularies) and shapes (:func:`shacl_results`): the shapes
compiled to SPARQL run on an in-memory Oxigraph copy of it and tell which focus nodes have any
result at all; pySHACL, the reference validator, then validates those nodes only, so every
finding reported is pySHACL's own. The cost therefore grows linearly with the size of the new
data, not with the size of the graph, provided the context store answers
:class:`~cptkg.intake.context.ContextProvider` look-ups by index (an rdflib Graph and a SPARQL
store do).

Each problem is reported with the rule broken (the shape), the offending value, where it is
(``file:line`` or ``file row N, column C``) and what to do; problems are grouped by policy.
Every code the new data uses or declares is also checked against its release
(:func:`cptkg.codes.checks.check_graph`: not in the release, a category where a billable code
is needed, a descriptor that differs); an ``sh:class`` result about a code the release does
not hold is reported once, as the code problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from cptkg import paths as _paths
from cptkg.codes.checks import RELEASE_NOT_IN_FORCE, CodeProblem, add_to_validation, check_graph
from cptkg.codes.rdf import used_code_triples
from cptkg.errors import InputError
from cptkg.gc_tuning import fewer_collections
from cptkg.intake.checks import (
    existing_policy_changed,
    hidden_by_ill_typed,
    ill_typed,
    ill_typed_problem,
    untyped_resource,
)
from cptkg.intake.context import CachedInstances, ContextProvider, Triple, shipped_context
from cptkg.intake.hints import code_problem_hint, hint_for
from cptkg.intake.quotes import check_new
from cptkg.intake.reading import DEFAULT_MAX_BYTES, NewData, policies, read_new
from cptkg.intake.report import IntakeReport, Problem
from cptkg.intake.schema import read_schema
from cptkg.load import load_ontology, load_shapes, shipped_files
from cptkg.namespaces import CPTKG, bind_prefixes
from cptkg.shacl.pyshacl_runner import conforming_result, validate_focus
from cptkg.shacl.report import Finding, ValidationResult, short_name
from cptkg.shacl.screened import flagged_focus_nodes

#: Problems sort by severity within a policy.
SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


def _iris(triples: Iterable[Triple]) -> set[URIRef]:
    out: set[URIRef] = set()
    for s, _p, o in triples:
        if isinstance(s, URIRef):
            out.add(s)
        if isinstance(o, URIRef):
            out.add(o)
    return out


def _po(g: Graph, s: Node) -> set[tuple[Node, Node]]:
    return {(p, o) for p, o in g.predicate_objects(s) if not isinstance(o, BNode)}


def context_slice(
    new: Graph, ctx: ContextProvider, triples: Sequence[Triple] | None = None
) -> tuple[Graph, list[tuple[URIRef, Graph]], list[URIRef]]:
    """The context slice the new data needs, from a fixed number of batched look-ups
    (whatever the size of the new data). ``triples``: the triples of ``new``, when already
    listed. Returns (slice, changed existing policies as (iri, old description), unchanged
    existing policies)."""
    out = Graph()
    listed = triples if triples is not None else list(new)
    new_subjects = {s for s, _p, _o in listed if isinstance(s, URIRef)}
    typed: set[Node] = set()
    for iri, cls in ctx.types_of(_iris(listed)):
        out.add((iri, RDF.type, cls))
        typed.add(iri)
    new_policies = set(policies(new))
    # existing resources the new data describes again, and what supersedes needs: the
    # earlier version's payer and dates
    existing = sorted((s for s in new_subjects if s in typed), key=str)
    superseded = {o for o in new.objects(None, CPTKG.supersedes) if isinstance(o, URIRef)}
    wanted = set(existing) | (superseded - new_subjects)
    described: dict[Node, list[Triple]] = {}
    for t in ctx.describe(sorted(wanted, key=str)):
        described.setdefault(t[0], []).append(t)
    changed: list[tuple[URIRef, Graph]] = []
    unchanged: list[URIRef] = []
    merge = superseded - new_subjects
    for s in existing:
        old = Graph()
        for t in described.get(s, []):
            old.add(t)
        is_policy = (s, RDF.type, CPTKG.PayerPolicy) in old
        if is_policy and s in new_policies:
            if _po(old, s) == _po(new, s):
                unchanged.append(s)
            else:
                changed.append((s, old))
                continue  # validate the new description on its own; reported separately
        merge.add(s)
    for s in sorted(merge, key=str):
        for t in described.get(s, []):
            out.add(t)
    # real codes of the releases the new data uses without describing them
    for t in used_code_triples(new):
        if t[0] not in new_subjects:
            out.add(t)
    # existing policies with one of the new identifiers
    ids = {str(o) for o in new.objects(None, DCTERMS.identifier) if isinstance(o, Literal)}
    for lit, iri in ctx.policies_with_identifier(sorted(ids)):
        if iri in new_policies:
            continue
        out.add((iri, RDF.type, CPTKG.PayerPolicy))
        out.add((iri, DCTERMS.identifier, lit))
    return out, changed, unchanged


def build_validation_graph(
    new: Graph, ctx: ContextProvider
) -> tuple[Graph, list[tuple[URIRef, Graph]], list[URIRef]]:
    """New data + the context slice (:func:`context_slice`). Returns (graph, changed
    existing policies as (iri, old description), unchanged existing policies)."""
    context, changed, unchanged = context_slice(new, ctx)
    return _union(new, context), changed, unchanged


def _union(*graphs: Graph) -> Graph:
    out = Graph()
    for g in graphs:
        out += g
    return out


def shacl_results(
    graphs: Sequence[Iterable[Triple]],
    focus: Sequence[URIRef],
    shapes: Graph,
    ontology: Graph,
    prefixes: Graph | None = None,
) -> ValidationResult:
    """pySHACL's validation of ``focus`` in the union of ``graphs`` (the new data and its
    context, as Graphs or lists of triples), run only on the focus nodes the compiled shapes
    flag (:func:`cptkg.shacl.screened.flagged_focus_nodes`); none flagged: a conforming
    result. ``prefixes`` holds the namespace bindings findings are shown with."""
    data = Graph()
    for prefix, nsiri in (
        prefixes if prefixes is not None else bind_prefixes(Graph())
    ).namespaces():
        data.bind(prefix, nsiri, override=True, replace=True)
    flagged = flagged_focus_nodes(graphs, shapes, ontology, focus)
    if flagged is not None and not flagged:
        return conforming_result(data, shapes, ontology)
    for g in graphs:
        for t in g:
            data.add(t)
    nodes = focus if flagged is None else [s for s in focus if s in flagged]
    return validate_focus(data, shapes, ontology, nodes)


@fewer_collections()
def validate_new_data(
    new: NewData,
    context: ContextProvider | None = None,
    *,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
) -> IntakeReport:
    """Validate ``new`` in the context of the graph (default: the shipped graph)."""
    ctx = context if context is not None else shipped_context()
    shapes = shapes if shapes is not None else load_shapes()
    ontology = ontology if ontology is not None else load_ontology()
    schema = read_schema(shapes, CPTKG.PayerPolicy)
    triples = list(new.graph)
    focus = sorted({s for s, _p, _o in triples if isinstance(s, URIRef)}, key=str)
    bad_literals = ill_typed(triples)
    context, changed, unchanged = context_slice(new.graph, ctx, triples)
    if bad_literals:  # pySHACL cannot compare ill-typed literals (sh:lessThanOrEquals)
        dropped_triples = set(bad_literals)
        triples = [t for t in triples if t not in dropped_triples]
    prefixes = Graph()
    for prefix, nsiri in new.graph.namespaces():
        prefixes.bind(prefix, nsiri, override=False)
    bind_prefixes(prefixes)
    if not focus:
        raise InputError(
            f"{', '.join(_paths.display_path(f) for f in new.files) or 'new data'}: "
            "no resource with an IRI found (only blank nodes)",
            hint="give the policy an IRI, e.g. kg:policy-<payer>-<identifier>",
        )
    code_problems = check_graph(new.graph)
    notes = list(dict.fromkeys(p.message for p in code_problems if p.rule == RELEASE_NOT_IN_FORCE))
    code_problems = [p for p in code_problems if p.rule != RELEASE_NOT_IN_FORCE]
    found = shacl_results([triples, context], focus, shapes, ontology, prefixes)
    result = add_to_validation(found, code_problems)
    ns = result.namespaces
    by_finding = {_code_key(p.subject, p.predicate, p.code, p.rule_iri): p for p in code_problems}
    pols = policies(new.graph)
    pset = set(pols)
    known = CachedInstances(ctx)

    problems = [ill_typed_problem(t, shapes, ns, new, pset) for t in bad_literals]
    dropped = {(s, p) for s, p, _o in bad_literals}
    for f in result.results:
        if hidden_by_ill_typed(f, dropped):
            continue  # the date is there but ill-typed: already reported
        subject = f.focus_node
        path = f.path if isinstance(f.path, URIRef) else None
        code = by_finding.get(_code_key(subject, path, f.value, f.source_shape))
        if code is not None:
            problems.append(code_problem(code, f, new, pset, ns))
            continue
        problems.append(
            Problem(
                severity=f.severity,
                rule=f.shape_text or short_name(f.source_shape, ns),
                message=f.message,
                subject=subject,
                policy=subject if subject in pset else None,
                path=f.path_text,
                value=short_name(f.value, ns) if f.value is not None else None,
                where=new.location(subject, path),
                hint=hint_for(f, known, ns, schema),
                finding=f,
            )
        )
    labels = getattr(ctx, "graph", None) or ontology
    source_of = getattr(ctx, "source_of", None)
    for iri, old in changed:
        src = source_of(iri) if callable(source_of) else None
        problems.append(existing_policy_changed(iri, old, new, labels, ns, schema, src))
    problems += [
        untyped_resource(s, new, ns)
        for s in focus
        if (s, RDF.type, None) not in new.graph and (s, RDF.type, None) not in context
    ]
    quote_problems, quote_notes = check_new(new, ctx, ns)  # quotes against their documents
    problems += quote_problems
    notes += quote_notes
    problems.sort(
        key=lambda p: (str(p.policy or "~"), SEVERITY_ORDER.get(p.severity, 3), p.path, p.rule)
    )
    return IntakeReport(
        new=new,
        validation=result,
        problems=problems,
        policies=pols,
        unchanged=unchanged,
        context_triples=len(context - new.graph),
        notes=notes,
    )


def _code_key(
    subject: Node | None, path: Node | None, value: Node | None, rule: Node | None
) -> tuple[Node | None, ...]:
    return (subject, path, value, rule)


def code_problem(
    p: CodeProblem, finding: Finding, new: NewData, policies: set[URIRef], ns: Graph
) -> Problem:
    """A :class:`~cptkg.codes.checks.CodeProblem` as an intake Problem, at the line (or row
    and column) where the code is written."""
    return Problem(
        severity=p.severity,
        rule=f"codes:{p.rule}",
        message=p.message,
        subject=p.subject,
        policy=p.subject if p.subject in policies else None,
        path=short_name(p.predicate, ns) if p.predicate is not None else "",
        value=short_name(p.code, ns),
        where=new.location(p.subject, p.predicate, p.code),
        hint=code_problem_hint(p),
        finding=finding,
    )


def validate_files(
    paths: Iterable[Path | str],
    context: ContextProvider | None = None,
    *,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> IntakeReport:
    """Read new RDF files and validate them in the context of the graph."""
    new = read_new(paths, max_bytes=max_bytes)
    return validate_new_data(new, context, shapes=shapes, ontology=ontology)


def is_shipped(path: Path | str) -> bool:
    """True if ``path`` is one of the files of the shipped graph (or a directory of them)."""
    try:
        p = Path(path).resolve()
        shipped = {f.resolve() for f in shipped_files(include_ontology=True, include_shapes=True)}
        root = _paths.project_root().resolve()
    except Exception:  # noqa: BLE001 - no project: nothing is shipped
        return False
    if p.is_dir():
        return p == root or p.is_relative_to(root / "data") or p.is_relative_to(root / "ontology")
    return p in shipped
