"""The payer-policy schema, read from the SHACL shapes: one source for every policy field.

A *field* is a property shape of a node shape targeting the class (``cptkg:PayerPolicy``)
that carries SHACL's non-validating ``sh:order``. Its other annotations say

* ``sh:name``: the spreadsheet column (fields without one have no column),
* ``rdfs:label``: how an analyst reads the field (``prior authorization``),
* ``sh:description``: what the field holds, for the spreadsheet template,

and its constraints answer the rest: cardinality (``sh:minCount`` / ``sh:maxCount``), the
controlled answers (``sh:in``), the class of the values (``sh:class``: a code class makes
it a code field, see :data:`CODE_KINDS`), the datatype. The spreadsheet layout, intake's
hints, ``diff``'s fields and the generator's answers are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rdflib import RDFS, Graph, URIRef
from rdflib.namespace import SH, SKOS
from rdflib.term import Literal, Node

from cptkg import paths as _paths
from cptkg.load import load_shapes
from cptkg.namespaces import CPTKG


@dataclass(frozen=True)
class CodeKind:
    """A kind of code a field holds, and how such a code is written and added."""

    cls: URIRef
    #: IRI local-name prefix under ``kg:`` (``cpt-`` for ``kg:cpt-64866``)
    prefix: str
    #: the notation pattern of the code class's own shape (``sh:pattern`` on skos:notation)
    pattern: str
    #: what such a code looks like, for messages
    what: str
    #: the data file that holds the codes of this kind
    home: str


#: Code classes: (IRI prefix, what such a code looks like, the data file holding them). The
#: notation pattern is read from the code class's shape (ontology/shapes/codes.ttl).
CODE_KINDS: dict[URIRef, tuple[str, str, str]] = {
    CPTKG.CPTCode: (
        "cpt-",
        "CPT code (five characters: four digits then a digit or capital letter, e.g. 64866)",
        "data/procedure.ttl",
    ),
    CPTKG.ICD10CMCode: (
        "icd10cm-",
        "ICD-10-CM code (a letter, a digit, a digit or letter, then optionally a dot and 1-4 "
        "characters, e.g. G51.0 or S04.51XA)",
        "data/diagnosis-codes.ttl",
    ),
    CPTKG.PlaceOfServiceCode: (
        "pos-",
        "CMS place-of-service code (two digits, e.g. 21 or 24)",
        "data/places-of-service.ttl",
    ),
    CPTKG.ModifierCode: (
        "modifier-",
        "modifier (two characters, digits or capital letters, e.g. 22 or LT)",
        "data/modifiers.ttl",
    ),
}


@dataclass(frozen=True)
class Field:
    """One field of the schema: a property shape and its annotations."""

    shape: URIRef
    path: URIRef
    order: float
    label: str
    #: spreadsheet column (``sh:name``); None: the field has no column
    name: str | None
    description: str
    min_count: int
    max_count: int | None
    datatype: URIRef | None
    #: the controlled answers (``sh:in``), in the shape's order
    answers: tuple[URIRef, ...]
    #: the class the values must have (``sh:class``)
    cls: URIRef | None
    #: set when ``cls`` is a code class
    code: CodeKind | None

    @property
    def required(self) -> bool:
        """The shape requires a value (``sh:minCount`` 1 or more)."""
        return self.min_count >= 1

    @property
    def multi(self) -> bool:
        """The field may hold several values (no ``sh:maxCount 1``)."""
        return self.max_count != 1


@dataclass(frozen=True)
class Schema:
    """The fields of one target class, in ``sh:order``."""

    target: URIRef
    fields: tuple[Field, ...]

    @property
    def columns(self) -> list[Field]:
        """The fields that are spreadsheet columns, in order."""
        return [f for f in self.fields if f.name is not None]

    @property
    def column_names(self) -> list[str]:
        """The spreadsheet header, as a list of column names."""
        return [f.name for f in self.fields if f.name is not None]

    def column(self, name: str) -> Field:
        """The field of spreadsheet column ``name`` (KeyError if none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def by_path(self, path: Node | None) -> Field | None:
        """The field of property ``path``, or None."""
        return next((f for f in self.fields if f.path == path), None)

    def by_shape(self, shape: Node | None) -> Field | None:
        """The field of property shape ``shape``, or None."""
        return next((f for f in self.fields if f.shape == shape), None)


def _int(value: Node | None) -> int | None:
    return int(value.toPython()) if isinstance(value, Literal) else None


def _text(value: Node | None) -> str:
    return str(value) if value is not None else ""


def notation_pattern(shapes: Graph, cls: URIRef) -> str | None:
    """The ``sh:pattern`` the shapes require of the skos:notation of a ``cls`` code."""
    for node in sorted(shapes.subjects(SH.targetClass, cls), key=str):
        for prop in shapes.objects(node, SH.property):
            if shapes.value(prop, SH.path) == SKOS.notation:
                pattern = shapes.value(prop, SH.pattern)
                if pattern is not None:
                    return str(pattern)
    return None


def code_kind(shapes: Graph, cls: URIRef | None) -> CodeKind | None:
    """The :class:`CodeKind` of code class ``cls`` (None if ``cls`` is not a code class)."""
    if cls is None or cls not in CODE_KINDS:
        return None
    pattern = notation_pattern(shapes, cls)
    if pattern is None:
        return None
    prefix, what, home = CODE_KINDS[cls]
    return CodeKind(cls, prefix, pattern, what, home)


def read_schema(shapes: Graph, target: URIRef) -> Schema:
    """The fields of ``target`` (a class) declared in ``shapes``."""
    fields: list[Field] = []
    seen: set[Node] = set()
    for node in sorted(shapes.subjects(SH.targetClass, target), key=str):
        for shape in shapes.objects(node, SH.property):
            order = shapes.value(shape, SH.order)
            path = shapes.value(shape, SH.path)
            if shape in seen or order is None or not isinstance(path, URIRef):
                continue
            if not isinstance(shape, URIRef):
                continue
            seen.add(shape)
            members = shapes.value(shape, SH["in"])
            cls = shapes.value(shape, SH["class"])
            cls = cls if isinstance(cls, URIRef) else None
            datatype = shapes.value(shape, SH.datatype)
            name = shapes.value(shape, SH.name)
            fields.append(
                Field(
                    shape=shape,
                    path=path,
                    order=float(order.toPython()) if isinstance(order, Literal) else 0.0,
                    label=_text(shapes.value(shape, RDFS.label)) or str(name or path),
                    name=str(name) if name is not None else None,
                    description=_text(shapes.value(shape, SH.description)),
                    min_count=_int(shapes.value(shape, SH.minCount)) or 0,
                    max_count=_int(shapes.value(shape, SH.maxCount)),
                    datatype=datatype if isinstance(datatype, URIRef) else None,
                    answers=tuple(m for m in shapes.items(members) if isinstance(m, URIRef))
                    if members is not None
                    else (),
                    cls=cls,
                    code=code_kind(shapes, cls),
                )
            )
    fields.sort(key=lambda f: (f.order, str(f.shape)))
    return Schema(target, tuple(fields))


def policy_schema() -> Schema:
    """The payer-policy schema of the project's shapes (read once per shapes directory)."""
    return _schema_in(_paths.shapes_dir())


@cache
def _schema_in(shapes_dir: Path) -> Schema:
    return read_schema(load_shapes(), CPTKG.PayerPolicy)
