"""Pretty Turtle written in one pass over a graph, byte for byte as rdflib's ``turtle``
serializer lays it out (prefixes in use, subjects grouped with ``;`` and ``,``, blank nodes
referenced once written inline as ``[ … ]``, well-formed RDF lists as ``( … )``).

rdflib's serializer asks the store for every subject's triples and writes token by token;
:func:`pretty_turtle` indexes the triples once, formats every term once and joins strings,
which is several times faster on large graphs. Terms are named and ordered by rdflib's own
rules (``compute_qname``, term ordering, ``Literal._literal_n3``), so escaping, language tags
and datatypes come out exactly as rdflib writes them.
"""

from __future__ import annotations

import re

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

_INDENT = "    "
_TYPE, _LABEL, _NIL, _FIRST, _REST = RDF.type, RDFS.label, RDF.nil, RDF.first, RDF.rest
#: A ``%`` not followed by two hex digits must be escaped in a local name.
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class _Names:
    """Prefixed names as rdflib's Turtle serializer forms them; records the prefixes used."""

    def __init__(self, manager: NamespaceManager) -> None:
        self.manager = manager
        self.used: dict[str, URIRef] = {}
        self.rewrite: dict[str, str] = {}
        self.cache: dict[tuple[Node, bool], str | None] = {}
        #: namespace -> its IRI, made once
        self.namespaces: dict[str, URIRef] = {}
        #: how many times a prefix may have been generated (names not found may exist now)
        self.generations = 0

    def pname(self, uri: Node, generate: bool) -> str | None:
        """``prefix:local`` for ``uri`` or None (no prefix, or a local name rdflib cannot
        write); a predicate (``generate``) in an unbound namespace gets a new ``nsN`` prefix."""
        if not isinstance(uri, URIRef):
            return None
        key = (uri, generate)
        if key in self.cache:
            return self.cache[key]
        out = self._pname(uri, generate)
        if generate and out is not None:
            # a prefix may have been generated: names not found before may exist now
            self.cache = {k: v for k, v in self.cache.items() if v is not None}
            self.generations += 1
        self.cache[key] = out
        return out

    def _pname(self, uri: URIRef, generate: bool) -> str | None:
        try:
            prefix, namespace, local = self.manager.compute_qname(uri, generate=generate)
        except Exception:  # rdflib raises KeyError/ValueError/... for "no prefixed name"
            pfx = self.manager.store.prefix(uri)
            if pfx is None:
                return None
            prefix, namespace, local = pfx, uri, ""
        local = _LONE_PERCENT.sub("\\%", local.replace("(", r"\(").replace(")", r"\)"))
        if local.endswith("."):
            return None
        iri = self.namespaces.get(namespace)
        if iri is None:
            iri = self.namespaces[namespace] = URIRef(namespace)
        return f"{self._use(prefix, iri)}:{local}"

    def _use(self, prefix: str, namespace: URIRef) -> str:
        if (prefix and prefix[0] == "_") or self.used.get(prefix, namespace) != namespace:
            if prefix not in self.rewrite:
                p = "p" + prefix
                while p in self.used:
                    p = "p" + p
                self.rewrite[prefix] = p
            prefix = self.rewrite.get(prefix, prefix)
        self.used[prefix] = namespace
        return prefix


def pretty_turtle(g: Graph, manager: NamespaceManager | None = None) -> str:
    """``g`` as Turtle, identical to ``g.serialize(format="turtle")`` when ``manager`` is
    ``g``'s namespace manager (the default); another manager supplies the prefixes. Like
    rdflib, binds a generated ``nsN`` prefix in the manager for a predicate that has none."""
    names = _Names(manager if manager is not None else g.namespace_manager)
    props: dict[Node, dict[Node, list[Node]]] = {}
    refs: dict[Node, int] = {}
    pname = names.pname
    named: set[Node] = set()  # nodes whose prefix is registered (until a prefix is generated)
    generations = 0
    for s, p, o in g:
        by_pred = props.get(s)
        if by_pred is None:
            props[s] = {p: [o]}
        else:
            objects = by_pred.get(p)
            if objects is None:
                by_pred[p] = [o]
            else:
                objects.append(o)
        refs[o] = refs.get(o, 0) + 1
        # register the prefixes in use (rdflib prints only those), in rdflib's order
        if s not in named:
            pname(s, False)
            named.add(s)
        if p not in named and p != _TYPE:
            pname(p, True)
            if names.generations != generations:
                generations = names.generations
                named.clear()
            named.add(p)
        if o not in named:
            pname(o, False)
            if isinstance(o, Literal) and o.datatype:
                pname(o.datatype, False)
            named.add(o)

    labels: dict[tuple[Node, bool], str] = {}

    def qname_of_datatype(datatype: URIRef) -> str | None:
        return pname(datatype, False)

    def label(node: Node, verb: bool) -> str:
        key = (node, verb)
        out = labels.get(key)
        if out is None:
            if node == _NIL:
                out = "()"
            elif verb and node == _TYPE:
                out = "a"
            elif isinstance(node, Literal):
                out = node._literal_n3(use_plain=True, qname_callback=qname_of_datatype)
            else:
                out = pname(node, verb) or node.n3()
            labels[key] = out
        return out

    def value(s: Node, p: Node) -> Node | None:
        objects = props.get(s, {}).get(p)
        return objects[0] if objects else None

    def is_list(node: Node) -> bool:
        if value(node, _FIRST) is None:
            return False
        item: Node | None = node
        while item:
            if item != _NIL and sum(len(v) for v in props.get(item, {}).values()) != 2:
                return False
            item = value(item, _REST)
        return True

    serialized: set[Node] = set()
    out: list[str] = []
    write = out.append
    depth = 0

    orders: dict[tuple[Node, ...], list[Node]] = {}

    def predicate_order(by_pred: dict[Node, list[Node]]) -> list[Node]:
        """rdf:type, rdfs:label, then the other predicates sorted (once per predicate set)."""
        key = tuple(by_pred)
        order = orders.get(key)
        if order is None:
            first = [p for p in (_TYPE, _LABEL) if p in by_pred]
            order = orders[key] = first + sorted(p for p in by_pred if p not in first)
        return order

    def predicate_list(subject: Node) -> None:
        nonlocal depth
        by_pred = props.get(subject, {})
        for i, p in enumerate(predicate_order(by_pred)):
            if i:
                write(" ;\n" + _INDENT * (depth + 1) + label(p, True))
            else:
                write(" " + label(p, True))
            objects = by_pred[p]
            depth += 1  # rdflib indents one level more in every object list
            if len(objects) == 1 and not isinstance(objects[0], BNode):
                write(" " + label(objects[0], False))
            else:
                objects = sorted(objects)
                obj(objects[0], False)
                for o in objects[1:]:
                    write(",\n" + _INDENT * (depth + 1))
                    obj(o, True)
            depth -= 1

    def obj(node: Node, newline: bool) -> None:
        nonlocal depth
        if not isinstance(node, BNode) or node in serialized or refs.get(node, 0) > 1:
            write(label(node, False) if newline else " " + label(node, False))
            return
        if not newline:
            write(" ")
        if is_list(node):
            write("(")
            depth += 1
            item: Node | None = node
            while item:
                member = value(item, _FIRST)
                if member is not None:
                    obj(member, False)
                    serialized.add(item)
                item = value(item, _REST)
            depth -= 1
            write(" )")
        else:
            serialized.add(node)
            depth += 1
            write("[")
            predicate_list(node)
            write(" ]")
            depth -= 1

    top = sorted(s for s in g.subjects(_TYPE, RDFS.Class))
    seen = set(top)
    rest = sorted((isinstance(s, BNode), refs.get(s, 0), s) for s in props if s not in seen)
    head = [f"@prefix {prefix}: <{iri}> .\n" for prefix, iri in sorted(names.used.items())]
    for subject in top + [s for _b, _r, s in rest]:
        if subject in serialized:
            continue
        serialized.add(subject)
        if isinstance(subject, BNode) and refs.get(subject, 0) == 0:
            write("\n[]")
        else:
            write("\n" + label(subject, False))
        predicate_list(subject)
        write(" .\n")
    return "".join(head) + "".join(out) + "\n"
