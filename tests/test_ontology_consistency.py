"""The ontology, the shapes and the data say the same thing about each property and concept.

* Every ``owl:DatatypeProperty`` has one ``rdfs:range``; every ``sh:datatype`` a shape gives
  for that property's path equals it; every literal of the property in the ontology, data/
  and the valid fixtures has that datatype (``rdf:langString``: a language tag;
  ``xsd:string``: a plain string without one).
* Every ontology property that carries a literal in data/ is declared an
  ``owl:DatatypeProperty``.
* No two concepts of the graph's own vocabulary are ``skos:exactMatch`` the same external
  concept (exactMatch is transitive: that would make them equivalent to each other).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path

from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, URIRef
from rdflib.namespace import SH, XSD

from cptkg.load import load_union, parse_file
from cptkg.namespaces import CPTKG
from shape_helpers import ontology_graph, shapes_graph

VALID_DIR = Path(__file__).resolve().parent / "data" / "valid"


@cache
def literal_graph() -> Graph:
    """Ontology + data/ + every valid fixture: all the literals that must match the ranges."""
    g = load_union(include_ontology=True)
    for path in sorted(VALID_DIR.glob("*.ttl")):
        g += parse_file(path)
    return g


def datatype_properties() -> dict[URIRef, list[URIRef]]:
    onto = ontology_graph()
    return {
        p: sorted(onto.objects(p, RDFS.range))
        for p in onto.subjects(RDF.type, OWL.DatatypeProperty)
        if isinstance(p, URIRef)
    }


def literal_type(lit: Literal) -> URIRef:
    """The literal's datatype as RDF 1.1 defines it (plain strings are xsd:string)."""
    if lit.language:
        return RDF.langString
    return lit.datatype or XSD.string


def short(term: URIRef) -> str:
    for prefix, ns in (("cptkg:", str(CPTKG)), ("xsd:", str(XSD)), ("rdf:", str(RDF))):
        if str(term).startswith(ns):
            return prefix + str(term)[len(ns) :]
    return str(term)


def test_ontology_declares_datatype_properties():
    assert len(datatype_properties()) > 20, "suspiciously few datatype properties"


def test_every_datatype_property_has_one_range():
    bad = {
        short(p): [short(r) for r in rs] for p, rs in datatype_properties().items() if len(rs) != 1
    }
    assert not bad, f"datatype properties without exactly one rdfs:range: {bad}"


def test_shape_datatypes_match_ontology_ranges():
    shapes = shapes_graph()
    ranges = datatype_properties()
    checked = 0
    drift = []
    for shape, path in shapes.subject_objects(SH.path):
        if path not in ranges:
            continue
        for dt in shapes.objects(shape, SH.datatype):
            checked += 1
            if [dt] != ranges[path]:
                drift.append(
                    f"{short(path)}: shape {shape} says {short(dt)}, "
                    f"ontology range {[short(r) for r in ranges[path]]}"
                )
    assert checked > 10, "suspiciously few shapes give a datatype for a datatype property"
    assert not drift, "shape datatypes differ from ontology ranges:\n" + "\n".join(drift)


def test_literals_match_ontology_ranges():
    g = literal_graph()
    ranges = datatype_properties()
    drift: dict[str, set[str]] = defaultdict(set)
    checked = 0
    for prop, rs in ranges.items():
        for s, lit in g.subject_objects(prop):
            checked += 1
            if not isinstance(lit, Literal):
                drift[short(prop)].add(f"{s} has a non-literal value {lit}")
            elif [literal_type(lit)] != rs:
                drift[short(prop)].add(
                    f"{s}: {short(literal_type(lit))} literal, range {[short(r) for r in rs]}"
                )
    assert checked > 100, "suspiciously few literals checked"
    assert not drift, "literals that do not match their property's range:\n" + "\n".join(
        f"{p}: {sorted(v)[:3]}" for p, v in sorted(drift.items())
    )


def test_literal_valued_ontology_properties_are_datatype_properties():
    g = load_union(include_ontology=False)
    declared = set(datatype_properties())
    used = {
        p
        for _s, p, o in g
        if isinstance(o, Literal) and isinstance(p, URIRef) and str(p).startswith(str(CPTKG))
    }
    assert used, "no cptkg literal-valued property found in data/"
    assert not used - declared, (
        f"properties with literal values not declared owl:DatatypeProperty: "
        f"{sorted(short(p) for p in used - declared)}"
    )


def test_no_two_own_concepts_exact_match_one_external_concept():
    onto = ontology_graph()
    by_target: dict[URIRef, set[URIRef]] = defaultdict(set)
    for s, o in onto.subject_objects(SKOS.exactMatch):
        if str(s).startswith(str(CPTKG)):
            by_target[o].add(s)
    assert by_target, "no skos:exactMatch mapping found in the ontology"
    shared = {str(t): sorted(short(s) for s in ss) for t, ss in by_target.items() if len(ss) > 1}
    assert not shared, (
        f"concepts made equivalent by sharing an exactMatch (use skos:closeMatch): {shared}"
    )
