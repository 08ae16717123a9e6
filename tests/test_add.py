"""``cptkg add``: only conforming data is written, as a new file, atomically; a crash or kill at
any moment leaves data/ as before or as after. Every test works on a copy of the project
(CPTKG_HOME=tmp_path); the real data/ is never touched."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from intake_helpers import INTAKE, ROOT, copy_project, run_cptkg, tree_digest

NEW_FILE = "data/policies/cigna-example-cigna-64866-2025-01-01.ttl"
BAD_INPUTS = {
    # file: exit code
    "date-not-a-date.ttl": 1,
    "date-in-words.ttl": 1,
    "end-before-effective.ttl": 1,
    "unknown-payer.ttl": 1,
    "cpt-not-five-characters.ttl": 1,
    "cpt-not-in-graph.ttl": 1,
    "icd10cm-malformed.ttl": 1,
    "unknown-place-of-service.ttl": 1,
    "unknown-modifier.ttl": 1,
    "prior-authorization-unanswered.ttl": 1,
    "duplicate-identifier.ttl": 1,
    "syntax-error.ttl": 2,
    "not-rdf.ttl": 2,
    "empty.ttl": 2,
}


@pytest.fixture(scope="module", autouse=True)
def real_data_untouched():
    before = tree_digest(ROOT / "data")
    yield
    assert tree_digest(ROOT / "data") == before, "a test modified the real data/"


@pytest.fixture
def home(tmp_path):
    return copy_project(tmp_path / "project")


def cptkg(home, *args, env=None, timeout=120):
    if args and args[0] == "add":  # the intake fixtures are illustrative records
        args = (*args, "--allow-illustrative")
    return run_cptkg(*args, env={"CPTKG_HOME": str(home), **(env or {})}, timeout=timeout)


def test_add_writes_a_new_file_that_keeps_the_graph_conforming(home):
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", str(INTAKE / "valid-policy.ttl"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Wrote {home.resolve() / NEW_FILE}" in proc.stdout
    after = tree_digest(home / "data")
    assert set(after) - set(before) == {NEW_FILE.removeprefix("data/")}
    assert all(after[k] == v for k, v in before.items())  # no existing file changed
    assert cptkg(home, "validate").returncode == 0
    text = (home / NEW_FILE).read_text(encoding="utf-8")
    assert text.startswith("# Added by `cptkg add`") and "example-cigna-64866" in text
    assert list((home / ".cptkg" / "staging").iterdir()) == []
    # adding the same again: nothing to add, nothing written
    again = cptkg(home, "add", str(INTAKE / "valid-policy.ttl"))
    assert again.returncode == 0 and "Nothing to add" in again.stdout
    assert tree_digest(home / "data") == after


def test_dry_run_shows_target_and_writes_nothing(home):
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", "--dry-run", "--show", str(INTAKE / "valid-policy.ttl"))
    assert proc.returncode == 0, proc.stderr
    assert (
        f"Would write {home.resolve() / NEW_FILE}: 27 triple(s), 1 policy(ies): "
        "example-cigna-64866" in proc.stdout
    )
    assert "kg:policy-example-cigna-64866 a cptkg:PayerPolicy" in proc.stdout
    assert tree_digest(home / "data") == before
    assert not (home / ".cptkg").exists()


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_writes_nothing(home, name):
    before = tree_digest(home / "data")
    proc = cptkg(home, "add", str(INTAKE / name))
    assert proc.returncode == BAD_INPUTS[name], proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert name in proc.stdout + proc.stderr  # names the file (and line)
    assert tree_digest(home / "data") == before


def test_file_without_policy_is_refused(home, tmp_path):
    f = tmp_path / "payer.ttl"
    f.write_text(
        "@prefix kg: <https://w3id.org/cptkg/id/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'kg:payer-aetna rdfs:comment "x" .\n',
        encoding="utf-8",
    )
    proc = cptkg(home, "add", str(f))
    assert proc.returncode == 2 and "no policy found" in proc.stderr


def test_large_file_is_refused_before_parsing(home, tmp_path):
    f = tmp_path / "big.ttl"
    f.write_bytes(b"# padding\n" * 3000)
    proc = cptkg(home, "add", "--max-bytes", "1000", str(f))
    assert proc.returncode == 2 and "larger than" in proc.stderr


def test_revision_is_a_new_version_and_the_old_one_is_kept(home):
    assert cptkg(home, "add", str(INTAKE / "valid-policy.ttl")).returncode == 0
    old_bytes = (home / NEW_FILE).read_bytes()
    before = tree_digest(home / "data")
    # same IRI and identifier, changed content: a conflict unless asked for a new version
    conflict = cptkg(home, "add", str(INTAKE / "revised-policy.ttl"))
    assert conflict.returncode == 1
    assert "intake:ExistingPolicyChanged" in conflict.stdout
    assert "prior authorization: required → not required" in conflict.stdout
    assert tree_digest(home / "data") == before
    proc = cptkg(home, "add", "--new-version", str(INTAKE / "revised-policy.ttl"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "identifier example-cigna-64866@2026-01-01" in proc.stdout
    assert "prior authorization: required → not required" in proc.stdout
    new_file = home / "data/policies/cigna-example-cigna-64866-2026-01-01.ttl"
    assert (home / NEW_FILE).read_bytes() == old_bytes  # old version kept as it was
    text = new_file.read_text(encoding="utf-8")
    assert "cptkg:supersedes kg:policy-example-cigna-64866" in text
    assert '"example-cigna-64866@2026-01-01"' in text
    assert cptkg(home, "validate").returncode == 0
    diff = cptkg(home, "diff", "example-cigna-64866", "example-cigna-64866@2026-01-01")
    assert diff.returncode == 0 and "end date: 2025-12-31 → 2026-12-31" in diff.stdout


# ------------------------------------------------------------------ atomicity


def test_failing_replace_leaves_data_unchanged(home, monkeypatch):
    from cptkg.intake import add as add_mod

    monkeypatch.setenv("CPTKG_HOME", str(home))
    before = tree_digest(home / "data")
    plan = add_mod.plan_add([INTAKE / "valid-policy.ttl"], allow_illustrative=True)
    assert plan.conforms

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(add_mod.os, "replace", boom)
    with pytest.raises(OSError):
        add_mod.apply_add(plan)
    assert tree_digest(home / "data") == before
    assert list((home / ".cptkg" / "staging").iterdir()) == []  # temp file cleaned up


@pytest.mark.parametrize(
    "point,state",
    [
        ("after-lock", "before"),
        ("after-temp-write", "before"),
        ("before-replace", "before"),
        ("after-replace", "after"),
    ],
)
def test_kill_at_any_point_leaves_before_or_after(home, tmp_path, point, state):
    before = tree_digest(home / "data")
    ref = copy_project(tmp_path / "reference")
    assert cptkg(ref, "add", str(INTAKE / "valid-policy.ttl")).returncode == 0
    after = tree_digest(ref / "data")
    proc = cptkg(home, "add", str(INTAKE / "valid-policy.ttl"), env={"CPTKG_TEST_CRASH_AT": point})
    assert proc.returncode == -9, (proc.returncode, proc.stderr)  # SIGKILL: no clean-up ran
    got = tree_digest(home / "data")
    assert got == (before if state == "before" else after)
    # the lock died with the process: the next add works
    retry = cptkg(home, "add", str(INTAKE / "valid-policy.ttl"))
    assert retry.returncode == 0, retry.stderr
    assert tree_digest(home / "data") == after


def test_crash_before_replace_env_var(home):
    before = tree_digest(home / "data")
    proc = cptkg(
        home,
        "add",
        str(INTAKE / "valid-policy.ttl"),
        env={"CPTKG_TEST_CRASH_BEFORE_REPLACE": "1"},
    )
    assert proc.returncode == -9
    assert tree_digest(home / "data") == before


def test_concurrent_add_is_refused_while_locked(home, monkeypatch):
    from cptkg.intake.add import add_lock

    monkeypatch.setenv("CPTKG_HOME", str(home))
    before = tree_digest(home / "data")
    with add_lock():
        proc = cptkg(home, "add", str(INTAKE / "valid-policy.ttl"))
    assert proc.returncode == 2
    assert "another `cptkg add` is running" in proc.stderr and f"pid {os.getpid()}" in proc.stderr
    assert tree_digest(home / "data") == before


def test_two_racing_adds_write_one_file(home):
    results = []

    def run():
        results.append(cptkg(home, "add", str(INTAKE / "valid-policy.ttl")))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.returncode for r in results)
    assert codes in ([0, 0], [0, 2]), [r.stderr for r in results]
    added = [p for p in (home / "data" / "policies").iterdir() if "example" in p.name]
    assert len(added) == 1
    assert cptkg(home, "validate").returncode == 0


def test_add_refuses_illustrative_records_by_default(home):
    """Examples never enter data/: without --allow-illustrative, exit 2 and nothing written."""
    before = tree_digest(home / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPTKG_")}
    env["CPTKG_HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "cptkg", "add", str(INTAKE / "valid-policy.ttl")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "marked illustrative" in proc.stderr
    assert "policy-example-cigna-64866" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree_digest(home / "data") == before


def test_add_checks_again_against_the_graph_read_under_the_lock(home, monkeypatch):
    """`cptkg add` validates the file again in the graph as it is once the lock is held, not
    in the context its plan was made in (which a concurrent add may have outdated: two
    racing adds then both wrote the same policy)."""
    import argparse

    from cptkg.commands import add as add_command
    from cptkg.intake import add as intake_add

    monkeypatch.setenv("CPTKG_HOME", str(home))
    first = intake_add.plan_add([INTAKE / "valid-policy.ttl"], allow_illustrative=True)
    real_plan = intake_add.plan_add

    def planned_then_raced(*args, **kwargs):  # the other add writes after this plan is made
        plan = real_plan(*args, **kwargs)
        intake_add.apply_add(first)
        return plan

    monkeypatch.setattr(intake_add, "plan_add", planned_then_raced)
    args = argparse.Namespace(
        paths=[str(INTAKE / "valid-policy.ttl")],
        new_version=False,
        max_bytes=None,
        allow_illustrative=True,
        format="text",
        dry_run=False,
        show=False,
    )
    with pytest.raises(intake_add.AddError, match="added to the graph meanwhile"):
        add_command.run(args)
    added = [p for p in (home / "data" / "policies").iterdir() if "example" in p.name]
    assert len(added) == 1
