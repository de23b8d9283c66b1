"""What the trading commands (paper, backtest, live) share: the model and
configuration flags, and how their errors are reported (one line naming the
command, never a traceback)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def add_model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="DIR", default=None,
                   help="model bundle to trade (default: [model] path of --config, else the shipped "
                   "models/default)")
    p.add_argument("--allow-unvalidated", action="store_true",
                   help="trade a bundle the promotion gate has not passed (refused otherwise)")


def add_agents_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-agents", action="store_true",
                   help="trade the model alone, without the specialist agents ([agents] enabled = false)")
    p.add_argument("--agents-state", metavar="DIR", default=None,
                   help="learned agent states to start from, e.g. from `quantumtrader agents pretrain` "
                   "(default: [agents] state; a resumed run folder's own states come first)")
    p.add_argument("--fresh-agents", action="store_true",
                   help="an agent whose saved state is corrupt starts fresh (refused otherwise)")


def agents_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The [agents] keys the command line sets."""
    changes: dict[str, Any] = {}
    if getattr(args, "no_agents", False):
        changes["enabled"] = False
    if getattr(args, "agents_state", None):
        changes["state"] = str(args.agents_state)
    if getattr(args, "fresh_agents", False):
        changes["fresh"] = True
    return changes


def add_config_flag(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument("--config", metavar="TOML", required=required, default=None,
                   help="trading configuration: [instruments] [model] [signal] [risk] [brackets] [journal] "
                   "[session] [simulator] [agents] [profitdll] (see the README); every key optional")


def error(prog: str, message: object) -> None:
    print(f"{prog}: error: {message}", file=sys.stderr)


def trading_errors() -> tuple[type[BaseException], ...]:
    """The one-line errors of a trading session."""
    from quantumtrader.adapters.profitdll.connection import ConnectionTimeoutError, LoginRejectedError
    from quantumtrader.adapters.profitdll.credentials import CredentialsError
    from quantumtrader.adapters.profitdll.errors import ProfitDLLError
    from quantumtrader.agents.specialists import AgentConfigError, AgentStateError
    from quantumtrader.agents.team import AgentTeamError
    from quantumtrader.config_file import ConfigError
    from quantumtrader.models.bundle import BundleError
    from quantumtrader.output_path import OutputPathError
    from quantumtrader.runners.venues import VenueError

    return (ConfigError, BundleError, VenueError, OutputPathError, CredentialsError, LoginRejectedError,
            ConnectionTimeoutError, ProfitDLLError, AgentConfigError, AgentStateError, AgentTeamError)


def print_differences(prog: str, exc: Any) -> None:
    error(prog, "the journal and the venue disagree; not trading over it:")
    for line in exc.differences:
        print(f"  - {line}", file=sys.stderr)


def run_trading_job(prog: str, job: Callable[[], Any]) -> tuple[Any, int | None]:
    """``job()`` (a paper or live session) with its one-line errors: (its
    run, None), or (None, exit status) once the error is printed: 1 the
    journal and the venue disagree, 2 bad input or no connection."""
    from quantumtrader.runners.node import ReconciliationError

    try:
        return job(), None
    except ReconciliationError as e:
        print_differences(prog, e)
        return None, 1
    except trading_errors() as e:
        error(prog, e)
        return None, 2


def interrupted_status(prog: str, run: Any) -> int | None:
    """130 (said in one line) when Ctrl-C ended the session early."""
    if run.interrupted:
        print(f"{prog}: interrupted: the session was ended early", file=sys.stderr)
        return 130
    return None
