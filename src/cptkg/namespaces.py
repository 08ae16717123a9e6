"""RDF namespaces used across cptkg, and a helper that binds their prefixes on a graph."""

from __future__ import annotations

from rdflib import Graph, Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD

#: Vocabulary (classes and properties) of the cptkg ontology.
CPTKG = Namespace("https://w3id.org/cptkg/ontology#")
#: Instances (codes, payers, policies, ...).
KG = Namespace("https://w3id.org/cptkg/id/")
#: Base of the named-graph IRIs: one named graph per source file.
GRAPH_BASE = "https://w3id.org/cptkg/graph/"
SCHEMA = Namespace("https://schema.org/")
#: UBERON terms, e.g. ``UBERON["0001647"]`` (facial nerve).
UBERON = Namespace("http://purl.obolibrary.org/obo/UBERON_")
#: OBO PURL base, bound to the ``obo`` prefix.
OBO = Namespace("http://purl.obolibrary.org/obo/")

#: Prefix -> namespace, in the order they are bound.
PREFIXES: dict[str, Namespace] = {
    "cptkg": CPTKG,
    "kg": KG,
    "skos": Namespace(str(SKOS)),
    "dcterms": Namespace(str(DCTERMS)),
    "prov": Namespace(str(PROV)),
    "schema": SCHEMA,
    "sh": Namespace(str(SH)),
    "xsd": Namespace(str(XSD)),
    "owl": Namespace(str(OWL)),
    "rdfs": Namespace(str(RDFS)),
    "rdf": Namespace(str(RDF)),
    "obo": OBO,
}

__all__ = [
    "CPTKG",
    "DCTERMS",
    "GRAPH_BASE",
    "KG",
    "OBO",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SH",
    "SKOS",
    "UBERON",
    "XSD",
    "bind_prefixes",
]


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on ``graph`` (overriding clashing ones) and return it."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)
    return graph
