"""One version: package metadata, ``cptkg.__version__``, CLI and ontology agree."""

import tomllib

from rdflib import OWL, RDF, Graph

import cptkg


def test_version_comes_from_pyproject(project_root):
    meta = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    assert cptkg.__version__ == meta["project"]["version"]


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
