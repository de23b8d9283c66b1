"""``quantumtrader live --config live.toml``: trade on the Windows host with
Nelogica's ProfitDLL (:mod:`quantumtrader.runners.live`); see the README's
"Live trading on Windows".  Exit status: 0 the session ended at the close,
1 the journal and the venue disagree or the session failed, 2 bad input or
no connection, 130 Ctrl-C (orders canceled, position flattened, report)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from quantumtrader.cli.trading import (
    add_agents_flags,
    add_config_flag,
    agents_overrides,
    error,
    interrupted_status,
    run_trading_job,
)

PROG = "quantumtrader live"


def add_live_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "live", help="trade live with Nelogica's ProfitDLL on the Windows host",
        description="Log in to ProfitDLL with routing (credentials from QT_PROFIT_KEY, QT_PROFIT_USER, "
        "QT_PROFIT_PASSWORD, QT_PROFIT_ROUTING_PASSWORD or the OS keyring), subscribe the configured "
        "instruments and trade them with the configured model until the close, Ctrl-C or the kill switch.")
    add_config_flag(p, required=True)
    p.add_argument("--allow-unvalidated", action="store_true",
                   help="trade a bundle the promotion gate has not passed (refused otherwise)")
    add_agents_flags(p)
    p.add_argument("--out", type=Path, metavar="DIR", default=None,
                   help="run folder: journal, kill file, report "
                   "(default: quantumtrader-runs/live-<time> here)")
    p.set_defaults(func=run_live_command)


def run_live_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from quantumtrader.output_path import folder_problem
    from quantumtrader.runners.config import load_trading_config
    from quantumtrader.runners.dashboard import Dashboard
    from quantumtrader.runners.live import run_live
    from quantumtrader.runners.paper import default_run_dir

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    console = Console()
    run_dir = args.out or default_run_dir("live")
    problem = folder_problem(run_dir)
    if problem:
        error(PROG, problem)
        return 2
    def session() -> Any:
        config = load_trading_config(args.config).with_agents(agents_overrides(args))
        dashboard = Dashboard(console=console if console.is_terminal else None)
        return run_live(run_dir, config, allow_unvalidated=args.allow_unvalidated, dashboard=dashboard,
                        console=console)

    run, status = run_trading_job(PROG, session)
    if run is None:
        return status or 2
    return interrupted_status(PROG, run) or 0
