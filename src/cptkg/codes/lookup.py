"""Look up one code for people: its descriptor, billable or not, parents, billable codes
below it, and the policies, indications and findings of a graph that use it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from cptkg.codes.checks import CODE_USES, notation_of
from cptkg.codes.entry import CodeEntry
from cptkg.codes.index import normalise_notation, open_index
from cptkg.codes.releases import ICD10CM, POS, latest
from cptkg.errors import CptkgError

#: How many billable codes below a category are listed.
LISTED_CHILDREN = 20


class UnknownCodeError(CptkgError):
    """The code is not in the release; the message names the closest codes."""


@dataclass
class CodeReport:
    """What is known about one code: the release's entry and the graph's uses of it."""

    system: str
    release: str
    entry: CodeEntry
    parents: list[CodeEntry]
    billable_count: int
    billable_codes: list[CodeEntry]
    #: (subject IRI, subject's class local names, subject's label, property local name)
    used_by: list[tuple[str, str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "system": self.system,
            "release": self.release,
            "notation": self.entry.notation,
            "descriptor": self.entry.label,
            "kind": self.entry.kind,
            "billable": self.entry.billable,
            "parents": [{"notation": p.notation, "descriptor": p.label} for p in self.parents],
            "billable_codes_below": self.billable_count,
            "billable_codes": [
                {"notation": c.notation, "descriptor": c.label} for c in self.billable_codes
            ],
            "used_by": [
                {"subject": s, "types": t, "label": lbl, "property": p}
                for s, t, lbl, p in self.used_by
            ],
        }

    def to_text(self) -> str:
        """Readable form."""
        e = self.entry
        if self.system == POS:
            status = "in the code set"
        elif e.billable:
            status = "billable"
        elif e.is_group:
            status = f"{e.kind}, not a code"
        else:
            status = f"{e.kind}, not billable: {self.billable_count} billable codes under it"
        lines = [f"{e.notation}  {e.label}", f"  {status} ({self.release})"]
        for p in self.parents:
            lines.append(f"  in {p.kind} {p.notation}: {p.label}")
        if self.billable_codes and not e.billable:
            lines.append("  billable codes:")
            lines += [f"    {c.notation}  {c.label}" for c in self.billable_codes]
            if self.billable_count > len(self.billable_codes):
                lines.append(f"    ... and {self.billable_count - len(self.billable_codes)} more")
        if self.used_by:
            lines.append("  used in the graph by:")
            lines += [f"    {t} {s} ({lbl}) via {p}" for s, t, lbl, p in self.used_by]
        else:
            lines.append("  not used in the graph")
        return "\n".join(lines) + "\n"

    def render(self, fmt: str) -> str:
        """``json`` or text."""
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        return self.to_text()


def guess_system(text: str) -> str:
    """``pos`` for a two-digit code, else ``icd10cm``."""
    return POS if text.strip().isdigit() and len(text.strip()) == 2 else ICD10CM


def describe(text: str, graph: Graph | None = None, system: str | None = None) -> CodeReport:
    """The :class:`CodeReport` of the code ``text`` in the newest release of its system;
    UnknownCodeError (with the closest codes) when the release does not hold it."""
    system = system or guess_system(text)
    release = latest(system)
    index = open_index(release)
    notation = normalise_notation(system, text)
    entry = index.get(notation)
    if entry is None:
        close = index.suggest(notation)
        raise UnknownCodeError(
            f"{notation} is not a code of {release.label}",
            hint="closest codes: " + "; ".join(f"{c.notation} {c.label}" for c in close)
            if close
            else None,
        )
    billable = [] if entry.is_group else index.billable_under(entry.notation, LISTED_CHILDREN)
    count = 0 if entry.is_group else index.count_billable_under(entry.notation)
    report = CodeReport(system, release.label, entry, index.ancestors(entry), count, billable)
    if graph is not None:
        report.used_by = _uses(graph, system, entry.notation)
    return report


def _uses(graph: Graph, system: str, notation: str) -> list[tuple[str, str, str, str]]:
    found = set()
    for predicate, (pred_system, _billable) in CODE_USES.items():
        if pred_system != system:
            continue
        for subject, code in graph.subject_objects(predicate):
            used = notation_of(graph, code, system)
            if used is None or normalise_notation(system, used) != notation:
                continue
            types = ",".join(sorted(_local(t) for t in graph.objects(subject, RDF.type)))
            label = graph.value(subject, RDFS.label) or graph.value(subject, SKOS.prefLabel)
            found.add((str(subject), types, str(label or ""), _local(predicate)))
    return sorted(found)


def _local(term: object) -> str:
    text = str(term)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if isinstance(term, URIRef) else text
