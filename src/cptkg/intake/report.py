"""The outcome of intake: each problem in the new data (the rule broken, the value, where it is,
what to do), grouped by policy, rendered as text, JSON or the SHACL report in Turtle."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from cptkg import paths as _paths
from cptkg.intake.reading import NewData
from cptkg.shacl.report import Finding, ValidationResult, short_name
from cptkg.textsafe import printable

#: Namespace of the checks intake makes itself (beside the SHACL shapes).
INTAKE = "https://w3id.org/cptkg/intake#"


@dataclass
class Problem:
    """One problem in the new data: the rule broken, the value, where, what to do."""

    severity: str
    rule: str  #: shape (or intake check) as prefixed name
    message: str
    subject: Node | None
    policy: Node | None  #: the policy the problem belongs to (None: another resource)
    path: str
    value: str | None
    where: str | None
    hint: str
    finding: Finding | None = None

    def to_dict(self, ns: Graph) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "subject": short_name(self.subject, ns) if self.subject is not None else None,
            "policy": short_name(self.policy, ns) if self.policy is not None else None,
            "path": self.path or None,
            "value": self.value,
            "where": self.where,
            "what_to_do": self.hint,
        }


@dataclass
class IntakeReport:
    """Outcome of :func:`validate_new_data`."""

    new: NewData
    validation: ValidationResult
    problems: list[Problem]
    policies: list[URIRef]
    #: policies of the new data already in the graph with the same content (nothing to add)
    unchanged: list[URIRef] = field(default_factory=list)
    context_triples: int = 0
    #: what the reader should know about how the data was checked (e.g. which code-system
    #: release checked a policy dated before it), not problems of the data
    notes: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(p.severity == "Violation" for p in self.problems)

    @property
    def ns(self) -> Graph:
        return self.validation.namespaces

    def counts(self) -> dict[str, int]:
        c = {"Violation": 0, "Warning": 0, "Info": 0}
        for p in self.problems:
            c[p.severity] = c.get(p.severity, 0) + 1
        c["total"] = len(self.problems)
        return c

    def groups(self) -> list[tuple[Node | None, list[Problem]]]:
        """Problems grouped by policy (policies first, in order; other resources last)."""
        order = {p: i for i, p in enumerate(self.policies)}
        groups: dict[Node | None, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault(p.policy, []).append(p)
        return sorted(
            groups.items(), key=lambda kv: (kv[0] is None, order.get(kv[0], 10**6), str(kv[0]))
        )

    def policy_title(self, policy: Node) -> str:
        ident = self.new.graph.value(policy, DCTERMS.identifier)
        where = self.new.location(policy)
        parts = ["Policy"]
        if ident is not None:
            parts.append(f'"{ident}"')
        parts.append(short_name(policy, self.ns))
        if where:
            parts.append(f"({where})")
        return " ".join(parts)

    def to_text(self) -> str:
        c = self.counts()
        status = "conforms" if self.conforms else "does NOT conform"
        files = ", ".join(_paths.display_path(f) for f in self.new.files) or "(new data)"
        lines = [
            f"Validation: {status} ({c['Violation']} violation(s), {c['Warning']} warning(s), "
            f"{c['Info']} info)",
            f"New data: {files}: {len(self.new.graph)} triple(s), {len(self.policies)} "
            f"policy(ies); checked in the context of the graph ({self.context_triples} context "
            "triple(s) used). Only problems in the new data are listed.",
        ]
        for pol in self.unchanged:
            lines.append(
                f"Note: {short_name(pol, self.ns)} is already in the graph with the same content."
            )
        lines += [f"Note: {n}" for n in self.notes]
        for policy, problems in self.groups():
            lines.append("")
            if policy is None:
                lines.append("Other resources in the new data")
            else:
                lines.append(self.policy_title(policy))
            for p in problems:
                lines.append(f"  [{p.severity}] {p.message}")
                lines.append(f"      rule:  {p.rule}")
                if p.subject is not None and p.subject != policy:
                    lines.append(f"      resource: {short_name(p.subject, self.ns)}")
                if p.path:
                    lines.append(f"      property: {p.path}")
                if p.value is not None:
                    lines.append(f"      value: {p.value}")
                if p.where:
                    lines.append(f"      where: {p.where}")
                lines.append(f"      what to do: {p.hint}")
        return printable("\n".join(lines), multiline=True) + "\n"

    def to_dict(self) -> dict[str, Any]:
        base = self.validation.to_dict()
        hints = {id(p.finding): p for p in self.problems if p.finding is not None}
        for r, f in zip(base["results"], self.validation.results, strict=True):
            p = hints.get(id(f))
            if p is not None:
                r["what_to_do"] = p.hint
                r["where"] = p.where
        base["conforms"] = self.conforms
        base["counts"] = self.counts()
        base["mode"] = "in-context"
        base["files"] = [_paths.display_path(f) for f in self.new.files]
        base["problems"] = [p.to_dict(self.ns) for p in self.problems]
        base["notes"] = list(self.notes)
        base["policies"] = [
            {
                "policy": short_name(pol, self.ns),
                "problems": [p.to_dict(self.ns) for p in probs],
            }
            for pol, probs in self.groups()
            if pol is not None
        ]
        # intake checks are not SHACL results: list them too
        for p in self.problems:
            if p.finding is None:
                base["results"].append(
                    {
                        "focus_node": p.subject.n3() if p.subject is not None else None,
                        "path": p.path or None,
                        "value": p.value,
                        "source_shape": f"<{INTAKE}{p.rule.split(':', 1)[-1]}>",
                        "constraint_component": None,
                        "severity": p.severity,
                        "message": p.message,
                        "what_to_do": p.hint,
                        "where": p.where,
                    }
                )
        return base

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def to_turtle(self) -> str:
        return self.validation.to_turtle()

    def render(self, fmt: str) -> str:
        return {"json": self.to_json, "turtle": self.to_turtle}.get(fmt, self.to_text)()
