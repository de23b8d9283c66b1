"""What the trading commands (paper, backtest, live) share: the model and
configuration flags, and how their errors are reported (one line naming the
command, never a traceback)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="DIR", default=None,
                   help="model bundle to trade (default: [model] path of --config, else the shipped "
                   "models/default)")
    p.add_argument("--allow-unvalidated", action="store_true",
                   help="trade a bundle the promotion gate has not passed (refused otherwise)")


def add_config_flag(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument("--config", metavar="TOML", required=required, default=None,
                   help="trading configuration: [instruments] [model] [signal] [risk] [brackets] [journal] "
                   "[session] [simulator] [profitdll] (see the README); every key optional")


def error(prog: str, message: object) -> None:
    print(f"{prog}: error: {message}", file=sys.stderr)


def trading_errors() -> tuple[type[BaseException], ...]:
    """The one-line errors of a trading session."""
    from quantumtrader.adapters.profitdll.connection import ConnectionTimeoutError, LoginRejectedError
    from quantumtrader.adapters.profitdll.credentials import CredentialsError
    from quantumtrader.adapters.profitdll.errors import ProfitDLLError
    from quantumtrader.config_file import ConfigError
    from quantumtrader.models.bundle import BundleError
    from quantumtrader.output_path import OutputPathError
    from quantumtrader.runners.venues import VenueError

    return (ConfigError, BundleError, VenueError, OutputPathError, CredentialsError, LoginRejectedError,
            ConnectionTimeoutError, ProfitDLLError)


def print_differences(prog: str, exc: Any) -> None:
    error(prog, "the journal and the venue disagree; not trading over it:")
    for line in exc.differences:
        print(f"  - {line}", file=sys.stderr)
