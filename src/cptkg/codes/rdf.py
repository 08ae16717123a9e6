"""A code-system release as its own named graph, written as N-Quads for a store.

Each code becomes ``kg:<system>-<notation>`` (the IRIs the shipped data uses) with
``skos:notation``, ``skos:prefLabel`` (verbatim, ``@en``), ``skos:inScheme``, ``skos:broader``,
``cptkg:billable`` and ``prov:wasDerivedFrom`` the release; chapters and blocks are
``skos:Concept`` nodes ``kg:<system>-chapter-<n>`` / ``kg:<system>-block-<range>``. All of it
sits in the release's graph (:attr:`~cptkg.codes.releases.Release.graph_iri`), so a later
release can be loaded beside it.
"""

from __future__ import annotations

from typing import TextIO

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, SKOS, XSD

from cptkg.codes.checks import CODE_USES, notation_of
from cptkg.codes.entry import CodeEntry
from cptkg.codes.index import normalise_notation, open_index
from cptkg.codes.releases import ICD10CM, Release, latest
from cptkg.namespaces import CPTKG, KG

_CLASSES = {ICD10CM: CPTKG.ICD10CMCode, "pos": CPTKG.PlaceOfServiceCode}
_SCHEMES = {ICD10CM: KG["cs-icd10cm"], "pos": KG["cs-pos"]}


def entry_iri(release: Release, entry: CodeEntry) -> URIRef:
    """The IRI of a code, chapter or block of ``release``."""
    if entry.kind == "chapter":
        return KG[f"{release.system}-chapter-{entry.notation}"]
    if entry.kind == "block":
        return KG[f"{release.system}-block-{entry.notation}"]
    return KG[f"{release.system}-{entry.notation}"]


def write_nquads(release: Release, out: TextIO) -> int:
    """Write ``release`` as N-Quads in its named graph to ``out``; return the quad count."""
    index = open_index(release)
    graph = URIRef(release.graph_iri).n3()
    source = URIRef(release.source_iri).n3()
    scheme = _SCHEMES[release.system].n3()
    true, false = Literal(True).n3(), Literal(False).n3()
    parents: dict[str, CodeEntry] = {}
    count = 0
    for entry in index.entries():
        s = entry_iri(release, entry).n3()
        cls = SKOS.Concept if entry.is_group else _CLASSES[release.system]
        triples = [
            (RDF.type.n3(), URIRef(cls).n3()),
            (SKOS.notation.n3(), Literal(entry.notation).n3()),
            (SKOS.prefLabel.n3(), Literal(entry.label, lang="en").n3()),
            (SKOS.inScheme.n3(), scheme),
            (PROV.wasDerivedFrom.n3(), source),
        ]
        if not entry.is_group:
            triples.append((CPTKG.billable.n3(), true if entry.billable else false))
        parent = index.parent(entry) if entry.parent is not None else None
        if parent is not None:
            triples.append((SKOS.broader.n3(), entry_iri(release, parent).n3()))
        parents[entry.notation] = entry
        for p, o in triples:
            out.write(f"{s} {p} {o} {graph} .\n")
        count += len(triples)
    out.write(
        f"{source} {URIRef(str(CPTKG) + 'sha256').n3()} "
        f"{Literal(index.meta.get('sha256', ''), datatype=XSD.string).n3()} {graph} .\n"
    )
    return count + 1


def used_code_triples(graph: Graph) -> Graph:
    """The newest releases' description of every code ``graph`` uses (through
    :data:`~cptkg.codes.checks.CODE_USES`) that the release holds: type, notation, descriptor,
    scheme, billable flag and source. Added to the validation context of new data, it lets a
    policy cite any real code (``G51.1``) without declaring it; codes not in the release get
    nothing and are reported by the checks."""
    found = Graph()
    for predicate, (system, _billable) in CODE_USES.items():
        release = latest(system)
        index = open_index(release)
        for code in set(graph.objects(None, predicate)):
            notation = notation_of(graph, code, system)
            entry = index.get(normalise_notation(system, notation)) if notation else None
            if entry is None or entry.is_group or not isinstance(code, URIRef):
                continue
            found.add((code, RDF.type, _CLASSES[system]))
            found.add((code, SKOS.notation, Literal(entry.notation)))
            found.add((code, SKOS.prefLabel, Literal(entry.label, lang="en")))
            found.add((code, SKOS.inScheme, _SCHEMES[system]))
            found.add((code, PROV.wasDerivedFrom, URIRef(release.source_iri)))
            if system == ICD10CM:
                found.add((code, CPTKG.billable, Literal(entry.billable)))
    return found
