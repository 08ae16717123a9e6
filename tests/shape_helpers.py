"""Helpers shared by the shape tests (test_shape_fixtures, test_shipped_graph): the shipped
shapes and ontology (parsed once), and which shape parameters count as constraints."""

from __future__ import annotations

from functools import cache

from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import SH

#: Parameters of a shape that are not constraints of the shape itself: targets, metadata, and
#: sh:property (the property shape reports its own results, with its own IRI).
NON_CONSTRAINT = {
    RDF.type,
    SH.targetClass,
    SH.targetNode,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.target,
    SH.property,
    SH.path,
    SH.message,
    SH.severity,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    SH.deactivated,
    RDFS.label,
    RDFS.comment,
}


@cache
def shapes_graph() -> Graph:
    from cptkg.load import load_shapes

    return load_shapes()


@cache
def ontology_graph() -> Graph:
    from cptkg.load import load_ontology

    return load_ontology()


def named_shapes(g: Graph) -> set[URIRef]:
    """Node and property shapes that are IRIs."""
    return {
        s
        for t in (SH.NodeShape, SH.PropertyShape)
        for s in g.subjects(RDF.type, t)
        if isinstance(s, URIRef)
    }


def own_constraints(g: Graph, shape: URIRef) -> list[URIRef]:
    """The constraint parameters ``shape`` carries itself, sorted."""
    return sorted(p for p in set(g.predicates(shape)) if p not in NON_CONSTRAINT)
