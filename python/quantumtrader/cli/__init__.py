"""The ``quantumtrader`` command: one module per subcommand (paper, backtest,
live, kill, demo, synth, import_, audit, features, record, train, validate,
agents), each parsing its arguments, calling the library and printing; the
work itself lives in the library packages."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from quantumtrader import __version__
from quantumtrader.output_path import clear_interrupt, note_interrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantumtrader",
        description="QuantumTrader: B3 futures market-data core, features, models and trading.",
    )
    parser.add_argument("--version", action="version", version=f"quantumtrader {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # each command module registers itself; imports stay local so `--help` is fast
    from quantumtrader.cli.agents import add_agents_parser
    from quantumtrader.cli.audit import add_audit_parser
    from quantumtrader.cli.backtest import add_backtest_parser
    from quantumtrader.cli.demo import add_demo_parser
    from quantumtrader.cli.features import add_features_parser
    from quantumtrader.cli.import_ import add_import_parser
    from quantumtrader.cli.kill import add_kill_parser
    from quantumtrader.cli.live import add_live_parser
    from quantumtrader.cli.paper import add_paper_parser
    from quantumtrader.cli.record import add_record_parser
    from quantumtrader.cli.synth import add_synth_parser
    from quantumtrader.cli.train import add_train_parser
    from quantumtrader.cli.validate import add_validate_parser

    add_paper_parser(sub)
    add_backtest_parser(sub)
    add_live_parser(sub)
    add_kill_parser(sub)
    add_demo_parser(sub)
    add_import_parser(sub)
    add_audit_parser(sub)
    add_synth_parser(sub)
    add_features_parser(sub)
    add_record_parser(sub)
    add_train_parser(sub)
    add_validate_parser(sub)
    add_agents_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    clear_interrupt()
    own_handler = (threading.current_thread() is threading.main_thread()
                   and signal.getsignal(signal.SIGINT) is signal.default_int_handler)  # not when ignored
    if own_handler:
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        # Ctrl-C: commands write through output_path.atomic_output, so
        # nothing that looks finished is left behind; 130 = 128 + SIGINT.
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    finally:
        if own_handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _on_sigint(signum: int, frame: object) -> None:
    note_interrupt()
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
