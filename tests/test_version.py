"""One version: package metadata, ``cptkg.__version__``, CLI and ontology agree."""

import re
import tomllib

from rdflib import OWL, RDF, Graph

import cptkg


def test_pyproject_reads_the_one_version_from_the_package(project_root):
    meta = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in meta["project"]
    assert "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cptkg.version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", cptkg.__version__)


def test_version_read_without_package_metadata(project_root):
    """Start-up does not pay for importlib.metadata: the version is a plain assignment."""
    for name in ("__init__.py", "version.py"):
        source = (project_root / "src" / "cptkg" / name).read_text(encoding="utf-8")
        assert "importlib" not in source
    source = (project_root / "src" / "cptkg" / "version.py").read_text(encoding="utf-8")
    assert f'__version__: str = "{cptkg.__version__}"' in source


def test_ontology_version_info_equals_package_version(project_root):
    g = Graph().parse(project_root / "ontology" / "cptkg.ttl", format="turtle")
    ontologies = list(g.subjects(RDF.type, OWL.Ontology))
    assert len(ontologies) == 1, f"expected one owl:Ontology, found {ontologies}"
    infos = [str(v) for v in g.objects(ontologies[0], OWL.versionInfo)]
    assert infos == [cptkg.__version__]


def test_cli_version(run_cli):
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"cptkg {cptkg.__version__}"
