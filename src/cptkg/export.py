"""Serialise a Graph or Dataset to Turtle, N-Triples, JSON-LD, TriG or N-Quads, deterministically.

Two exports of the same triples give identical bytes, whatever ``PYTHONHASHSEED``:

* blank nodes are relabelled canonically (:func:`rdflib.compare.to_canonical_graph`, then
  renumbered ``b0, b1, ...`` in sorted order; per named graph for TriG / N-Quads);
* triples are inserted into a fresh graph in sorted order before rdflib's serialisers run;
* N-Triples / N-Quads lines are sorted; JSON-LD is written directly in flattened form
  (rdflib's JSON-LD serialiser loses blank-node cycles) with sorted keys, ``@graph`` sorted
  by ``@id`` and multi-valued properties sorted;
* TriG is assembled from one Turtle body per named graph, graphs sorted by IRI.

Parsing the output gives a graph isomorphic to the input (tested for every format).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rdflib import RDF, XSD, BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import ConjunctiveGraph

from cptkg.formats import normalize_format
from cptkg.namespaces import PREFIXES, bind_prefixes

_PREFIX_LINE = re.compile(r"^@prefix\s+([^:\s]*):\s*<([^>]*)>\s*\.\s*$")


def export(graph_or_dataset: Graph | Dataset, fmt: str) -> bytes:
    """Serialise ``graph_or_dataset`` in ``fmt`` (ttl|turtle, nt|ntriples, jsonld|json-ld,
    trig, nq|nquads) as UTF-8 bytes. Triple formats of a Dataset export its union; TriG and
    N-Quads keep named graphs (a plain Graph goes into the default graph)."""
    canonical = normalize_format(fmt)
    src = graph_or_dataset
    if canonical == "trig":
        return _trig(src).encode("utf-8")
    if canonical == "nquads":
        return _nquads(src).encode("utf-8")
    g = canonical_graph(_triples_of(src), namespaces_from=src)
    if canonical == "nt":
        return _ntriples(g).encode("utf-8")
    if canonical == "turtle":
        return _turtle(g).encode("utf-8")
    return _jsonld(g).encode("utf-8")


# --------------------------------------------------------------------------- helpers


def _is_multi_graph(src: Graph) -> bool:
    return isinstance(src, ConjunctiveGraph)  # Dataset is a ConjunctiveGraph subclass


def _triples_of(src: Graph) -> Graph:
    """A plain Graph of all triples of ``src`` (the union for a Dataset)."""
    if not _is_multi_graph(src):
        return src
    g = Graph()
    for s, p, o, _c in src.quads((None, None, None, None)):  # type: ignore[attr-defined]
        g.add((s, p, o))
    return g


def _named_graphs(src: Graph) -> list[tuple[URIRef | None, Graph]]:
    """(graph IRI or None for the default graph, graph) pairs, non-empty only, sorted."""
    if not _is_multi_graph(src):
        return [(None, src)] if len(src) else []
    default = getattr(src, "default_graph", None)
    if default is None:  # ConjunctiveGraph
        default = src.default_context  # type: ignore[attr-defined]
    default_id = default.identifier
    default_pairs: list[tuple[URIRef | None, Graph]] = []
    named: list[tuple[URIRef | None, Graph]] = []
    merged: dict[Any, Graph] = {}
    for s, p, o, c in src.quads((None, None, None, None)):  # type: ignore[attr-defined]
        cid = c.identifier if isinstance(c, Graph) else c
        merged.setdefault(cid, Graph()).add((s, p, o))
    for cid, g in merged.items():
        if cid is None or cid == default_id:
            default_pairs.append((None, g))
        else:
            named.append((cid, g))
    named.sort(key=lambda pair: str(pair[0]))
    return default_pairs + named


def canonical_graph(
    graph: Graph, *, namespaces_from: Graph | None = None, bnode_prefix: str = "b"
) -> Graph:
    """A copy of ``graph`` with canonical blank-node labels, triples inserted in sorted order,
    the source's prefixes and then the project's prefixes bound."""
    src = graph
    if any(isinstance(t, BNode) for triple in graph for t in triple):
        from rdflib.compare import to_canonical_graph

        canon = to_canonical_graph(graph)
        labels = sorted({t for triple in canon for t in triple if isinstance(t, BNode)})
        rename = {b: BNode(f"{bnode_prefix}{i}") for i, b in enumerate(labels)}
        src = Graph()
        for s, p, o in canon:
            src.add((rename.get(s, s), p, rename.get(o, o)))  # type: ignore[arg-type]
    out = Graph(bind_namespaces="none")
    ns_src = namespaces_from if namespaces_from is not None else graph
    project_iris = {str(ns) for ns in PREFIXES.values()}
    for prefix, ns in sorted(ns_src.namespaces()):
        if prefix and str(ns) not in project_iris and prefix not in PREFIXES:
            out.bind(prefix, ns, override=False)
    bind_prefixes(out)
    for triple in sorted(src, key=_triple_key):
        out.add(triple)
    return out


def _term_key(term: Any) -> tuple[int, str]:
    order = 0 if isinstance(term, URIRef) else 1 if isinstance(term, BNode) else 2
    return (order, term.n3())


def _triple_key(triple: tuple[Any, Any, Any]) -> tuple[tuple[int, str], ...]:
    return tuple(_term_key(t) for t in triple)


def _ntriples(g: Graph) -> str:
    text = g.serialize(format="nt", encoding="utf-8").decode("utf-8")
    lines = sorted({line for line in text.splitlines() if line.strip()})
    return "".join(line + "\n" for line in lines)


def _turtle(g: Graph) -> str:
    return g.serialize(format="turtle")


def _split_turtle(text: str) -> tuple[dict[str, str], str]:
    """Split rdflib Turtle output into its prefix declarations and its body."""
    prefixes: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        m = _PREFIX_LINE.match(line)
        if m:
            prefixes[m.group(1)] = m.group(2)
        else:
            body.append(line)
    return prefixes, "\n".join(body).strip("\n")


def _trig(src: Graph) -> str:
    # Serialise the union once so that rdflib generates its ns1, ns2... prefixes for unknown
    # namespaces a single time; every graph block then uses the same prefix map.
    ns_graph = canonical_graph(_triples_of(src), namespaces_from=src)
    _turtle(ns_graph)
    prefixes: dict[str, str] = {}
    blocks: list[str] = []
    for i, (gid, g) in enumerate(_named_graphs(src)):
        cg = canonical_graph(g, namespaces_from=ns_graph, bnode_prefix=f"g{i}b")
        p, body = _split_turtle(_turtle(cg))
        prefixes.update(p)
        # no re-indentation: it would change the content of multi-line literals
        blocks.append(body if gid is None else f"{gid.n3()} {{\n{body}\n}}")
    header = "".join(f"@prefix {k}: <{v}> .\n" for k, v in sorted(prefixes.items()))
    return header + ("\n" if header else "") + "\n\n".join(blocks) + ("\n" if blocks else "")


def _nquads(src: Graph) -> str:
    lines: set[str] = set()
    for i, (gid, g) in enumerate(_named_graphs(src)):
        cg = canonical_graph(g, bnode_prefix=f"g{i}b")
        suffix = f" {gid.n3()} ." if gid is not None else " ."
        for line in _ntriples(cg).splitlines():
            lines.add(line[: -len(" .")] + suffix if line.endswith(" .") else line)
    return "".join(line + "\n" for line in sorted(lines))


def _compact(iri: str, prefixes: list[tuple[str, str]]) -> str:
    """``prefix:local`` for ``iri`` if a prefix matches (longest namespace wins), else ``iri``."""
    for prefix, ns in prefixes:
        if iri.startswith(ns):
            local = iri[len(ns) :]
            if local and not local.startswith("//"):
                return f"{prefix}:{local}"
    return iri


def _jsonld_id(term: Any, prefixes: list[tuple[str, str]]) -> str:
    return f"_:{term}" if isinstance(term, BNode) else _compact(str(term), prefixes)


def _jsonld_value(term: Any, prefixes: list[tuple[str, str]]) -> dict[str, str]:
    if isinstance(term, (URIRef, BNode)):
        return {"@id": _jsonld_id(term, prefixes)}
    value: dict[str, str] = {"@value": str(term)}
    if term.language:
        value["@language"] = term.language
    elif term.datatype is not None and str(term.datatype) != str(XSD.string):
        value["@type"] = _compact(str(term.datatype), prefixes)
    return value


def _jsonld(g: Graph) -> str:
    """Flattened JSON-LD written directly (rdflib's serialiser drops blank-node cycles):
    one node object per subject, lexical forms kept, CURIEs for the used prefixes."""
    iris = {str(t) for triple in g for t in triple if isinstance(t, URIRef)}
    iris |= {str(o.datatype) for o in g.objects() if isinstance(o, Literal) and o.datatype}
    used = {
        p: str(ns) for p, ns in g.namespaces() if p and any(iri.startswith(str(ns)) for iri in iris)
    }
    prefixes = sorted(used.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    nodes: dict[str, dict[str, Any]] = {}
    for s, p, o in g:
        sid = _jsonld_id(s, prefixes)
        node = nodes.setdefault(sid, {"@id": sid})
        if p == RDF.type and isinstance(o, (URIRef, BNode)):
            node.setdefault("@type", []).append(_jsonld_id(o, prefixes))
        else:
            node.setdefault(_compact(str(p), prefixes), []).append(_jsonld_value(o, prefixes))
    graph = [_sort_json(nodes[k]) for k in sorted(nodes)]
    doc = {"@context": dict(sorted(used.items())), "@graph": graph}
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _sort_json(value: Any) -> Any:
    """Sort the value arrays of a node object for a stable dump."""
    return {
        k: sorted(v, key=lambda x: json.dumps(x, sort_keys=True)) if isinstance(v, list) else v
        for k, v in value.items()
    }
