"""RDF namespaces used across cptkg, and a helper that binds their prefixes on a graph."""

from __future__ import annotations

import re

from rdflib import Graph, Namespace, URIRef
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
    "parse_iri",
]


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on ``graph`` (overriding clashing ones) and return it."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)
    return graph


_PREFIXED_NAME = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)?:([A-Za-z0-9_][A-Za-z0-9_.\-]*)?")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def parse_iri(text: str) -> URIRef | None:
    """The IRI written as ``<http://…>``, ``http://…`` (any scheme) or a prefixed name with
    one of :data:`PREFIXES` (``kg:payer-aetna``); None when ``text`` is none of these."""
    value = text.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    m = _PREFIXED_NAME.fullmatch(value)
    if m and (m.group(1) or "") in PREFIXES and "//" not in value:
        return URIRef(str(PREFIXES[m.group(1) or ""]) + (m.group(2) or ""))
    if not _SCHEME.match(value) or _IRI_FORBIDDEN.search(value):
        return None
    return URIRef(value)
