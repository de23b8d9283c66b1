"""The README's quick start is the contract with a new user: exactly two
commands, and CI runs the second one verbatim."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "quick start has no sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_two_commands() -> None:
    if not (ROOT / "README.md").exists():
        pytest.skip("not running from a checkout")
    cmds = _quick_start_commands()
    assert len(cmds) == 2
    assert cmds[0].startswith("pip install . && quantumtrader ")
    assert cmds[1].startswith("pip install '.[test]' && ")


def test_ci_runs_the_readme_test_command() -> None:
    if not (ROOT / ".ci" / "run").exists():
        pytest.skip("not running from a checkout")
    test_cmd = _quick_start_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # CI may add pytest flags, but must install the same way and run pytest
    install, run = test_cmd.split(" && ")
    assert install in ci
    assert run in ci


def test_cli_reference_covers_every_command() -> None:
    if not (ROOT / "README.md").exists():
        pytest.skip("not running from a checkout")
    from quantumtrader.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = readme.split("## CLI reference", 1)[1].split("\n## ", 1)[0]
    for name in sub.choices:
        assert f"`quantumtrader {name}" in reference, f"README CLI reference lacks `{name}`"
