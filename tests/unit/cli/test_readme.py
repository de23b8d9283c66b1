"""The README's quick start is the contract with a new user: exactly two
commands, and CI runs the second one verbatim."""

from __future__ import annotations

import argparse
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]  # tests/unit/cli/ -> the repository


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


def _commands_and_aliases() -> tuple[list[str], dict[str, str]]:
    """The command names, and each alias -> its command (argparse lists a
    command's name before its aliases, all mapping to one parser)."""
    from quantumtrader.cli import build_parser

    (sub,) = [a for a in build_parser()._actions if a.dest == "command"]
    names: dict[int, str] = {}
    aliases: dict[str, str] = {}
    for name, parser in sub.choices.items():
        if id(parser) in names:
            aliases[name] = names[id(parser)]
        else:
            names[id(parser)] = name
    return list(names.values()), aliases


def test_cli_reference_covers_every_command() -> None:
    if not (ROOT / "README.md").exists():
        pytest.skip("not running from a checkout")
    commands, aliases = _commands_and_aliases()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = readme.split("## CLI reference", 1)[1].split("\n## ", 1)[0]
    for name in commands:
        assert f"`quantumtrader {name}" in reference, f"README CLI reference lacks `{name}`"
    # an alias (an old name kept for scripts) is mentioned once, in its command's row
    for alias, name in aliases.items():
        assert reference.count(f"`quantumtrader {alias}`") == 1, f"README: alias `{alias}` not mentioned once"
        row = _reference_row(name)
        assert f"`quantumtrader {alias}`" in row, f"README: alias `{alias}` not in `{name}`'s row"


def _command_parsers() -> dict[str, argparse.ArgumentParser]:
    """``"features"`` -> its parser; commands with subcommands by both words (``"import binance"``);
    aliases left out (they share their command's parser and row)."""
    from quantumtrader.cli import build_parser

    def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not found:
            return {}
        first: dict[int, tuple[str, argparse.ArgumentParser]] = {}
        for name, p in found[0].choices.items():
            first.setdefault(id(p), (name, p))
        return dict(first.values())

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
