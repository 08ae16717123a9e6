"""Every command's ``--help`` says what each option does, in plain text: every option and
argument has a help text, no RST markup (double backticks), no internal notes."""

from __future__ import annotations

import argparse
import re

import pytest

from cptkg.cli import COMMAND_MODULES, build_parser


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


COMMANDS = _subparsers()


def test_every_command_module_is_walked():
    assert len(COMMANDS) == len(COMMAND_MODULES)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_help(name):
    missing = [
        "/".join(a.option_strings) or a.dest
        for a in COMMANDS[name]._actions
        if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()
    ]
    assert not missing, f"cptkg {name}: no help text for {missing}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_is_plain_text(name):
    text = COMMANDS[name].format_help()
    assert "``" not in text, f"cptkg {name} --help has RST double backticks"
    assert not re.search(r"\bissues?\b", text, re.I), f"cptkg {name} --help mentions an issue"
    assert ":mod:" not in text and ":func:" not in text and ":class:" not in text


def test_top_level_help_lists_every_command(run_cli):
    r = run_cli("--help")
    assert r.returncode == 0
    for name in COMMANDS:
        assert name in r.stdout
