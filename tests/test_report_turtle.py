"""The Turtle report writer (cptkg.shacl.report.turtle_text): any graph, read back the same."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SH, XSD

from cptkg.shacl.report import stable_bnode_labels, turtle_text

EX = Namespace("http://example.org/")


def test_turtle_text_reads_back_as_the_same_graph():
    g = Graph()
    g.bind("ex", EX)
    g.bind("sh", SH)
    report, shared, a, b, path = BNode(), BNode(), BNode(), BNode(), BNode()
    g.add((report, RDF.type, SH.ValidationReport))
    g.add((report, SH.result, shared))
    g.add((EX.other, EX.points, shared))  # referenced twice: written with a label
    g.add((shared, SH.resultPath, path))  # referenced once: written inline
    g.add((path, SH.inversePath, EX.p))
    g.add((a, EX.next, b))  # a cycle of blank nodes, each referenced once
    g.add((b, EX.next, a))
    g.add((shared, SH.resultMessage, Literal('say "hi"\nand\\go', lang="en")))
    g.add((shared, SH.value, Literal("5", datatype=XSD.integer)))
    g.add((shared, SH.focusNode, URIRef("http://example.org/a.b-")))  # not a safe local name
    g.add((shared, SH.sourceShape, URIRef("http://example.org/shape/x%20y")))
    text = turtle_text(g, stable_bnode_labels(g))
    assert isomorphic(Graph().parse(data=text, format="turtle"), g)
    assert text == turtle_text(g, stable_bnode_labels(g))
    assert "ex:points" in text and "sh:inversePath ex:p" in text


def test_turtle_text_of_an_empty_graph_parses():
    g = Graph()
    assert len(Graph().parse(data=turtle_text(g, {}), format="turtle")) == 0
