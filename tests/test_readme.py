"""The README's quick start is the contract with a new user: exactly two
commands, and CI runs the second one verbatim."""

from __future__ import annotations

import argparse
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


def _command_parsers() -> dict[str, argparse.ArgumentParser]:
    """``"features"`` -> its parser; commands with subcommands by both words (``"import binance"``)."""
    from quantumtrader.cli import build_parser

    def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return dict(found[0].choices) if found else {}

    out: dict[str, argparse.ArgumentParser] = {}
    for name, parser in subcommands(build_parser()).items():
        nested = subcommands(parser)
        out.update({f"{name} {sub}": p for sub, p in nested.items()} if nested else {name: parser})
    return out


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"}


def _reference_row(command: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = readme.split("## CLI reference", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in reference.splitlines() if line.startswith(f"| `quantumtrader {command} ")
            or line.startswith(f"| `quantumtrader {command}`")]
    assert len(rows) == 1, f"README CLI reference: {len(rows)} rows for `{command}`"
    return rows[0]


# Rows another developer rewrites (issue 8, import/synth/demo); strict: once their rows
# list every flag this marker must go, or the suite fails.
COMMANDS = sorted(_command_parsers()) if (ROOT / "README.md").exists() else []


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_reference_lists_every_flag_of_the_parser_and_no_other(command: str) -> None:
    row = _reference_row(command)
    listed = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", row))
    flags = _flags(_command_parsers()[command])
    assert flags - listed == set(), f"README row of `{command}` lacks {sorted(flags - listed)}"
    unknown = sorted(listed - flags)
    assert unknown == [], f"README row of `{command}` names flags that do not exist: {unknown}"
