"""Read a release's source file into chapters, blocks and codes (verbatim descriptors).

ICD-10-CM is read through the public API of the pinned package ``simple-icd-10-cm``, which
parses the CMS tabular file it ships and derives the 7th-character codes from the tabular's
``sevenChrDef`` rules (descriptor: the code's descriptor, a comma, the extension's text, as in
the CMS code file). A code is billable when nothing lies below it. The CMS place-of-service
code set is read from its FHIR CodeSystem XML (``concept/code`` and ``concept/display``).
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from typing import Any

from cptkg.codes.entry import CodeEntry
from cptkg.codes.releases import ICD10CM, POS, Release
from cptkg.errors import CptkgError

_FHIR = "{http://hl7.org/fhir}"


def read_release(release: Release) -> tuple[list[CodeEntry], list[CodeEntry]]:
    """(groups, codes) of ``release``, each in release order."""
    if release.system == ICD10CM:
        return read_icd10cm(release)
    if release.system == POS:
        return [], read_fhir_codesystem(release)
    raise CptkgError(f"no reader for code system {release.system!r}")


def read_icd10cm(release: Release) -> tuple[list[CodeEntry], list[CodeEntry]]:
    """Chapters and blocks, and every code, of an ICD-10-CM release shipped by
    simple-icd-10-cm (the installed package must ship ``release.file_name``)."""
    with warnings.catch_warnings():
        # the package reads its data with importlib.resources' deprecated read_text
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd

    release.file_path()  # the package must ship exactly this file
    groups: list[CodeEntry] = []
    codes: list[CodeEntry] = []
    chapters = [c for c in icd.get_all_codes(with_dots=True) if icd.is_chapter(c)]

    def walk(name: str, kind: str, parent: str | None) -> None:
        as_group = kind in ("chapter", "block")
        label = icd.get_description(name, prioritize_blocks=as_group)
        children = icd.get_children(name, prioritize_blocks=as_group)
        if as_group:
            groups.append(CodeEntry(name, kind, label, parent, False))
        else:
            codes.append(CodeEntry(name, kind, label, parent, not children))
        for child in children:
            walk(child, _child_kind(icd, name, kind, child), name)

    for chapter in chapters:
        walk(chapter, "chapter", None)
    return groups, codes


def _child_kind(icd: Any, parent: str, parent_kind: str, child: str) -> str:
    """The kind of ``child`` listed under ``parent``: under a chapter or block, a block when
    its parent read as a block is ``parent`` (block B99 holds category B99), else a category."""
    if parent_kind in ("chapter", "block"):
        if (
            child != parent
            and icd.is_block(child)
            and icd.get_parent(child, prioritize_blocks=True) == parent
        ):
            return "block"
        return "category"
    return "extension" if icd.is_extended_subcategory(child) else "subcategory"


def read_fhir_codesystem(release: Release) -> list[CodeEntry]:
    """The concepts of a FHIR CodeSystem XML file (all billable: the code set is flat)."""
    root = ET.parse(release.file_path()).getroot()
    version = root.find(f"{_FHIR}version")
    found = version.get("value") if version is not None else None
    if found != release.version:
        raise CptkgError(
            f"{release.file_name}: CodeSystem.version is {found!r}, expected {release.version!r}"
        )
    codes = []
    for concept in root.iter(f"{_FHIR}concept"):
        code = concept.find(f"{_FHIR}code")
        display = concept.find(f"{_FHIR}display")
        if code is None or display is None:
            continue
        codes.append(CodeEntry(code.get("value", ""), "code", display.get("value", ""), None, True))
    return codes
