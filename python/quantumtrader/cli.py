"""The ``quantumtrader`` command."""

from __future__ import annotations

import argparse
import sys

from quantumtrader import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantumtrader",
        description="QuantumTrader: B3 futures market-data core, features, models and trading.",
    )
    parser.add_argument("--version", action="version", version=f"quantumtrader {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from quantumtrader.importers.command import add_import_parser

    add_import_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
