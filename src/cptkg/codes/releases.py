"""The code-system releases cptkg knows, where each one's file comes from, and which one is in
force on a date.

A release is one version of one code system (ICD-10-CM FY2026, CMS place of service
20240502). Its source file is either a resource of a pinned PyPI package (read through
``importlib.resources``, never copied) or a file under ``data/code-systems/``. Several releases
of one system may be listed side by side; :func:`release_for` picks the one in force on a date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from cptkg import paths as _paths
from cptkg.errors import CptkgError
from cptkg.namespaces import GRAPH_BASE, KG

#: Code system keys.
ICD10CM = "icd10cm"
POS = "pos"


@dataclass(frozen=True)
class Release:
    """One release of a code system and the file it is read from."""

    system: str
    version: str
    label: str
    #: IRI of the release as a source (``prov:wasDerivedFrom`` target of its codes).
    source_iri: str
    #: Name of the release's file.
    file_name: str
    #: PyPI distribution and the package holding ``file_name`` as a resource (or None: the
    #: file is ``data/code-systems/<file_name>`` in the project).
    distribution: str | None = None
    resource_package: str | None = None
    #: First and last day the release applies to (dates of service), when known.
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    @property
    def graph_iri(self) -> str:
        """The named graph the release is materialised into."""
        return f"{GRAPH_BASE}code-systems/{self.system}/{self.version}"

    @property
    def distribution_version(self) -> str | None:
        """The installed version of the distribution shipping the file (None: project file)."""
        if self.distribution is None:
            return None
        try:
            return metadata.version(self.distribution)
        except metadata.PackageNotFoundError:
            return None

    def file_path(self) -> Path:
        """Path of the release's file on this machine; CptkgError if it is not installed."""
        path = _located_file(self)
        if path is None:
            raise CptkgError(
                f"{self.label}: source file {self.file_name} not found",
                hint=f"install the pinned package: pip install {self.distribution}"
                if self.distribution
                else "restore data/code-systems/ from the repository",
            )
        return path

    def in_force(self, day: dt.date) -> bool:
        """Whether the release applies to ``day`` (unknown bounds never exclude)."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


def _located_file(release: Release) -> Path | None:
    """The release's file: a file listed in its distribution's installed files (found without
    importing the package, whose import parses the whole release), or a project file."""
    if release.distribution is None:
        path = _paths.data_dir() / "code-systems" / release.file_name
        return path if path.is_file() else None
    key = (release.distribution, release.resource_package, release.file_name)
    if key not in _LOCATED:
        _LOCATED[key] = None
        try:
            files = metadata.distribution(release.distribution).files or []
        except metadata.PackageNotFoundError:
            files = []
        folder = (release.resource_package or "").replace(".", "/")
        for entry in files:
            if entry.name == release.file_name and str(entry.parent) == folder:
                located = Path(str(entry.locate()))
                _LOCATED[key] = located if located.is_file() else None
    return _LOCATED[key]


_LOCATED: dict[tuple[str, str | None, str], Path | None] = {}

#: The ICD-10-CM FY2026 April 1 update, as shipped by simple-icd-10-cm 1.5.0. The April update
#: applies to dates of service from 2026-04-01 to the end of federal fiscal year 2026.
ICD10CM_FY2026 = Release(
    system=ICD10CM,
    version="2026",
    label="ICD-10-CM FY2026 (April 1, 2026 update)",
    source_iri=str(KG["codeset-icd10cm-fy2026"]),
    file_name="icd10c-tabular-April-1-2026.xml",
    distribution="simple-icd-10-cm",
    resource_package="simple_icd_10_cm.data",
    valid_from=dt.date(2026, 4, 1),
    valid_until=dt.date(2026, 9, 30),
)

#: The CMS Place of Service code set as the HL7 FHIR CodeSystem version 20240502.
POS_20240502 = Release(
    system=POS,
    version="20240502",
    label="CMS Place of Service code set (version 20240502)",
    source_iri=str(KG["codeset-cms-pos-20240502"]),
    file_name="cms-place-of-service-codes.xml",
)

#: Every known release, oldest first within a system. A later release is added here beside
#: the earlier ones.
RELEASES: tuple[Release, ...] = (ICD10CM_FY2026, POS_20240502)


def releases(system: str) -> list[Release]:
    """The known releases of ``system`` whose file is available, oldest first."""
    found = []
    for release in RELEASES:
        if release.system != system:
            continue
        try:
            release.file_path()
        except CptkgError:
            continue
        found.append(release)
    return found


def latest(system: str) -> Release:
    """The newest available release of ``system``; CptkgError if none is available."""
    available = releases(system)
    if not available:
        known = [r for r in RELEASES if r.system == system]
        if known:
            known[-1].file_path()  # raises the precise "not installed" error
        raise CptkgError(f"no release of code system {system!r} is known")
    return available[-1]


def release_for(system: str, day: dt.date | None) -> tuple[Release, str | None]:
    """The release of ``system`` in force on ``day`` and a note when another one is used.

    Without a date the newest release is used (no note). When no available release is in
    force on ``day``, the one nearest in time is used and the note says so.
    """
    available = releases(system)
    if not available:
        return latest(system), None
    if day is None:
        return available[-1], None
    for release in reversed(available):
        if release.in_force(day):
            return release, None

    def distance(release: Release) -> int:
        bounds = [b for b in (release.valid_from, release.valid_until) if b is not None]
        return min((abs((b - day).days) for b in bounds), default=0)

    nearest = min(available, key=distance)
    return nearest, (
        f"no {system} release in force on {day.isoformat()} is loaded; "
        f"checked against {nearest.label}"
    )
