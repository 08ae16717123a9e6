"""The shipped graph (ontology + data/) against the shipped shapes, and the shapes themselves.

* the shipped graph conforms with no result at all (no violation, no warning);
* every constraint speaks for itself: property shapes, SPARQL constraints and node shapes
  with their own constraints (sh:or, sh:sparql, …) carry an sh:message;
* every SPARQL constraint lives in its own named node shape, so sh:sourceShape names it;
* every cptkg: class used in data/ is targeted by a shape (superclasses count);
* every class and property of the ontology has a label and a definition.
"""

from __future__ import annotations

from rdflib import OWL, RDF, RDFS, SKOS, BNode, Graph, URIRef
from rdflib.namespace import SH

from cptkg.load import load_union
from cptkg.namespaces import CPTKG
from cptkg.shacl.pyshacl_runner import validate_shipped
from shape_helpers import named_shapes, own_constraints
from shape_helpers import ontology_graph as ontology
from shape_helpers import shapes_graph as shapes


def test_shipped_graph_conforms_without_any_result():
    result = validate_shipped()
    assert result.conforms, result.to_text()
    assert result.counts() == {"Violation": 0, "Warning": 0, "Info": 0, "total": 0}, (
        result.to_text()
    )


def test_shape_and_constraint_counts():
    g = shapes()
    named = named_shapes(g)
    node_shapes = {s for s in named if (s, RDF.type, SH.NodeShape) in g}
    property_shapes = named - node_shapes
    constrained = {s: own_constraints(g, s) for s in named if own_constraints(g, s)}
    n_constraints = sum(len(c) for c in constrained.values())
    sparql = list(g.subjects(RDF.type, SH.SPARQLConstraint))
    print(
        f"\nshapes: {len(named)} named ({len(node_shapes)} node, {len(property_shapes)} "
        f"property), {len(constrained)} with constraints of their own; "
        f"{n_constraints} constraint parameters; {len(sparql)} SPARQL constraints"
    )
    assert len(node_shapes) > 0 and len(property_shapes) > 0
    assert n_constraints > len(constrained) > 0
    # every property shape carries at least one constraint
    empty = sorted(str(s) for s in property_shapes if s not in constrained)
    assert not empty, f"property shapes without any constraint: {empty}"


def test_every_property_shape_is_named_and_has_a_message():
    g = shapes()
    blank = [str(p) for p in g.objects(None, SH.property) if isinstance(p, BNode)]
    assert not blank, "property shapes must be named IRIs (so sh:sourceShape identifies them)"
    missing = sorted(
        str(s) for s in g.subjects(RDF.type, SH.PropertyShape) if g.value(s, SH.message) is None
    )
    assert not missing, f"property shapes without sh:message: {missing}"


def test_every_sparql_constraint_has_a_message_and_its_own_node_shape():
    g = shapes()
    constraints = set(g.subjects(RDF.type, SH.SPARQLConstraint)) | set(g.objects(None, SH.sparql))
    assert constraints, "no SPARQL constraints found"
    for c in constraints:
        assert g.value(c, SH.message) is not None, f"SPARQL constraint {c} has no sh:message"
        assert g.value(c, SH.select) is not None, f"SPARQL constraint {c} has no sh:select"
        owners = list(g.subjects(SH.sparql, c))
        assert len(owners) == 1 and isinstance(owners[0], URIRef), (
            f"SPARQL constraint {c} must belong to exactly one named node shape"
        )
        owner = owners[0]
        assert (owner, RDF.type, SH.NodeShape) in g
        assert list(g.objects(owner, SH.property)) == [], (
            f"{owner} mixes a SPARQL constraint with property shapes: sh:sourceShape "
            "would not identify the rule"
        )
        assert len(list(g.objects(owner, SH.sparql))) == 1, f"{owner} has several sh:sparql"


def test_every_node_shape_with_own_constraints_has_a_message():
    g = shapes()
    missing = sorted(
        str(s)
        for s in named_shapes(g)
        if (s, RDF.type, SH.NodeShape) in g
        and own_constraints(g, s)
        and g.value(s, SH.message) is None
        # a node shape whose only constraint is sh:sparql takes its message from the
        # SPARQL constraint (checked above)
        and own_constraints(g, s) != [SH.sparql]
    )
    assert not missing, f"node shapes with sh:or / sh:not / … but no sh:message: {missing}"
    for s in named_shapes(g):
        if SH["or"] in own_constraints(g, s):
            assert g.value(s, SH.message) is not None, f"{s} has sh:or but no sh:message"


def _superclasses(onto: Graph, cls: URIRef) -> set[URIRef]:
    return set(onto.transitive_objects(cls, RDFS.subClassOf))


def test_every_class_used_in_data_is_targeted_by_a_shape():
    data = load_union(include_ontology=False)
    used = {o for o in data.objects(None, RDF.type) if isinstance(o, URIRef) and o in CPTKG}
    assert used, "no cptkg: classes used in data/"
    targeted = set(shapes().objects(None, SH.targetClass))
    onto = ontology()
    untargeted = sorted(str(c) for c in used if not (_superclasses(onto, c) & targeted))
    assert not untargeted, f"classes used in data/ that no shape targets: {untargeted}"


def test_every_ontology_class_and_property_has_label_and_definition():
    onto = ontology()
    terms = {
        s
        for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property)
        for s in onto.subjects(RDF.type, t)
        if isinstance(s, URIRef) and s in CPTKG
    }
    assert len(terms) > 20
    problems = []
    for t in sorted(terms):
        if onto.value(t, RDFS.label) is None:
            problems.append(f"{t}: no rdfs:label")
        if onto.value(t, SKOS.definition) is None and onto.value(t, RDFS.comment) is None:
            problems.append(f"{t}: no skos:definition or rdfs:comment")
    assert not problems, "\n".join(problems)


def test_nothing_illustrative_in_data():
    """Illustrative records (cptkg:illustrative true, evidence-illustrative) stay in tests/."""
    data = load_union(include_ontology=False)
    flagged = sorted(
        {str(s) for s, o in data.subject_objects(CPTKG.illustrative) if o.toPython() is True}
        | {str(s) for s in data.subjects(CPTKG.evidenceStatus, CPTKG["evidence-illustrative"])}
    )
    assert not flagged, f"illustrative records in data/: {flagged}"
