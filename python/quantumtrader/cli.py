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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # each command module registers itself; imports stay local so `--help` is fast
    from quantumtrader.adapters.profitdll.record_command import add_record_parser
    from quantumtrader.data.importers.command import add_import_parser
    from quantumtrader.demo import add_demo_parser
    from quantumtrader.features.command import add_features_parser
    from quantumtrader.replay import add_replay_parser
    from quantumtrader.synth_command import add_synth_parser

    add_demo_parser(sub)
    add_import_parser(sub)
    add_replay_parser(sub)
    add_synth_parser(sub)
    add_features_parser(sub)
    add_record_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        # Ctrl-C: commands write through output_path.atomic_output, so
        # nothing that looks finished is left behind; 130 = 128 + SIGINT.
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
