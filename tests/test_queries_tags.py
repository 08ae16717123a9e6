"""``cptkg queries --tag``: alone it lists the tags; with a tag, that tag's queries; an
unknown tag exits 2 naming the known ones."""

from __future__ import annotations

import json

from cptkg.catalog import catalog_tags, load_catalog

NO_COLUMNS = {"COLUMNS": ""}


def test_tag_alone_lists_every_tag_with_its_queries(run_cli):
    tags = catalog_tags(load_catalog())
    assert "payer" in tags and "check" in tags
    r = run_cli("queries", "--tag", env=NO_COLUMNS)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == list(tags)
    assert lines[-1].startswith(f"({len(tags)} tags")
    data = json.loads(run_cli("queries", "--tag", "-f", "json").stdout)
    assert data == tags


def test_tag_lists_only_its_queries(run_cli):
    r = run_cli("queries", "--tag", "check", "-f", "json")
    assert r.returncode == 0, r.stderr
    names = [q["name"] for q in json.loads(r.stdout)]
    assert names == catalog_tags(load_catalog())["check"]
    assert all(name.startswith("check-") for name in names)


def test_unknown_tag_exits_2_with_the_known_tags(run_cli):
    r = run_cli("queries", "--tag", "payr")
    assert r.returncode == 2
    assert "unknown tag 'payr'" in r.stderr
    assert "did you mean payer" in r.stderr
    for tag in catalog_tags(load_catalog()):
        assert tag in r.stderr
