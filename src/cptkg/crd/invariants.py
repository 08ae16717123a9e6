"""The invariants of CRD's ``ext-coverage-information`` (crd-ci-q1..q9 of
``CoverageInformation.fsh``) and its cardinalities and required bindings, checked on the
extension's FHIR JSON form.

Where an invariant's FHIRPath and its description differ, the stricter reading is checked:
crd-ci-q3 both ways ("if and only if", the expression tests one direction), crd-ci-q4 for
``no-auth`` as well as the expression's ``noauth``, crd-ci-q7 for each reason (the expression
accepts a text on any one reason).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cptkg.crd.spec import KEY_PARTS, PARTS, REQUIRED_PARTS, SINGLE_PARTS, VALUE_SETS

#: The codes of CRDCoverageAssertionReasons (a reason coding with one of them needs no text).
ASSERTION_REASON_CODES = frozenset(
    {
        "gold-card",
        "no-member-found",
        "no-active-coverage",
        "coverage-not-found",
        "auth-out-network",
        "technical",
    }
)

Ext = dict[str, Any]


def part_values(ext: Ext, url: str) -> list[Any]:
    """The values (``value[x]``) of the extension's parts named ``url``."""
    out = []
    for sub in ext.get("extension", []):
        if sub.get("url") == url:
            out.extend(v for k, v in sub.items() if k.startswith("value"))
    return out


def _has(ext: Ext, url: str) -> bool:
    return any(sub.get("url") == url for sub in ext.get("extension", []))


def _coded(ext: Ext, parts: tuple[str, ...], code: str) -> bool:
    return any(code in part_values(ext, p) for p in parts)


def q1(ext: Ext) -> bool:
    """Questionnaire is only allowed when doc-needed exists."""
    return not _has(ext, "questionnaire") or _has(ext, "doc-needed")


def q2(ext: Ext) -> bool:
    """If covered is 'not-covered', 'pa-needed' must not exist."""
    return "not-covered" not in part_values(ext, "covered") or not _has(ext, "pa-needed")


def q3(ext: Ext) -> bool:
    """'info-needed' exists if and only if covered, pa-needed or doc-needed is 'conditional'."""
    return _coded(ext, KEY_PARTS, "conditional") == _has(ext, "info-needed")


def q4(ext: Ext) -> bool:
    """If 'pa-needed' is 'satisfied', 'no-auth' (FSH: 'noauth') or 'not-covered',
    'doc-purpose' cannot be 'withpa'."""
    if not any(
        v in ("satisfied", "noauth", "no-auth", "not-covered")
        for v in part_values(ext, "pa-needed")
    ):
        return True
    return "withpa" not in part_values(ext, "doc-purpose")


def q5(ext: Ext) -> bool:
    """'satisfied-pa-id' exists if and only if 'pa-needed' is 'satisfied'."""
    return ("satisfied" in part_values(ext, "pa-needed")) == _has(ext, "satisfied-pa-id")


def q6(ext: Ext) -> bool:
    """If 'info-needed' is OTH, a reason must be given."""
    return "OTH" not in part_values(ext, "info-needed") or _has(ext, "reason")


def q7(ext: Ext) -> bool:
    """A reason whose coding is not from the coverage-assertion-reasons value set has text."""
    for reason in part_values(ext, "reason"):
        codings = reason.get("coding", [])
        from_value_set = bool(codings) and all(
            c.get("code") in ASSERTION_REASON_CODES for c in codings
        )
        if not reason.get("text") and not from_value_set:
            return False
    return True


def q8(ext: Ext) -> bool:
    """If doc-purpose is present with a value other than 'conditional', a reason is given."""
    purposes = part_values(ext, "doc-purpose")
    return not any(p != "conditional" for p in purposes) or _has(ext, "reason")


def q9(ext: Ext) -> bool:
    """If covered, pa-needed or doc-needed is 'indeterminate', a reason is given."""
    return not _coded(ext, KEY_PARTS, "indeterminate") or _has(ext, "reason")


#: Invariant id -> check.
INVARIANTS: dict[str, Callable[[Ext], bool]] = {
    "crd-ci-q1": q1,
    "crd-ci-q2": q2,
    "crd-ci-q3": q3,
    "crd-ci-q4": q4,
    "crd-ci-q5": q5,
    "crd-ci-q6": q6,
    "crd-ci-q7": q7,
    "crd-ci-q8": q8,
    "crd-ci-q9": q9,
}


def structure_errors(ext: Ext) -> list[str]:
    """Cardinality and binding errors: an unknown part, a required part missing, a single
    part repeated, a code outside its part's value set."""
    errors: list[str] = []
    urls = [sub.get("url") for sub in ext.get("extension", [])]
    errors += [f"unknown part {u!r}" for u in urls if u not in PARTS]
    errors += [f"missing part {p!r}" for p in REQUIRED_PARTS if p not in urls]
    errors += [f"part {p!r} more than once" for p in SINGLE_PARTS if urls.count(p) > 1]
    for part, allowed in VALUE_SETS.items():
        errors += [
            f"{part} {v!r} not in its value set" for v in part_values(ext, part) if v not in allowed
        ]
    return errors


def violations(ext: Ext) -> list[str]:
    """Every broken invariant id and structure error of one coverage-information extension."""
    return [name for name, check in INVARIANTS.items() if not check(ext)] + structure_errors(ext)
