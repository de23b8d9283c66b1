"""``quantumtrader paper``: the main job.  Paper-trade a session through the
ProfitDLL simulator with the whole pipeline (:mod:`quantumtrader.runners.paper`):
by default the bundled synthetic WDO day with the shipped model and the
specialist agents (processes over ipc), at 500x.

Exit status: 0 the session ran to its end, 1 the journal and the venue
disagree (a resumed run) or the session failed, 2 bad input, 130 Ctrl-C
(working orders canceled, the position flattened, the report written)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from quantumtrader.cli.arguments import not_negative
from quantumtrader.cli.trading import (
    add_agents_flags,
    add_config_flag,
    add_model_flags,
    agents_overrides,
    error,
    interrupted_status,
    run_trading_job,
)

PROG = "quantumtrader paper"


def add_paper_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "paper",
        help="the main job: paper-trade a session through the ProfitDLL simulator with the default model",
        description="Replay a session through the ProfitDLL simulator at an accelerated pace and trade it "
        "with the whole pipeline: order book, 77 features, the model's ensemble, signal, risk limits, "
        "orders with stop-loss/take-profit brackets, fills, positions and P&L in BRL with B3 fees, all "
        "journaled (SQLite) in the run folder. Without --replay: the bundled synthetic WDO day. A run "
        "folder that holds a journal is resumed (after a crash: run the same command again). "
        "`quantumtrader kill RUN_DIR` cancels everything and flattens.",
    )
    p.add_argument("--replay", type=Path, metavar="LOG", default=None,
                   help="event log of one session to replay (default: the bundled synthetic session)")
    p.add_argument("--speed", type=not_negative, default=None, metavar="X",
                   help="replay pace, times real time (default: [simulator] speed, 500; "
                   "0 = as fast as possible)")
    add_model_flags(p)
    add_agents_flags(p)
    add_config_flag(p)
    p.add_argument("--out", type=Path, metavar="DIR", default=None,
                   help="run folder: journal, venue state, kill file, report (default: "
                   "quantumtrader-runs/paper-<time> here)")
    p.add_argument("--no-dashboard", action="store_true",
                   help="periodic log lines instead of the live terminal dashboard")
    p.set_defaults(func=run_paper_command)


def run_paper_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from quantumtrader.output_path import folder_problem
    from quantumtrader.runners.config import load_trading_config
    from quantumtrader.runners.dashboard import Dashboard
    from quantumtrader.runners.paper import default_run_dir, run_paper

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    console = Console()
    run_dir = args.out or default_run_dir("paper")
    problem = folder_problem(run_dir)
    if problem:
        error(PROG, problem)
        return 2
    if args.replay is not None and not args.replay.is_file():
        error(PROG, f"--replay {args.replay}: no such file")
        return 2
    config = None

    def session() -> Any:
        nonlocal config
        config = load_trading_config(args.config).with_agents(agents_overrides(args))
        tty = console.is_terminal and not args.no_dashboard
        dashboard = Dashboard(console=console if tty else None)
        console.print(f"paper trading into {run_dir} (Ctrl-C ends the session: cancel, flatten, report)")
        return run_paper(run_dir, config, replay=args.replay, speed=args.speed, model=args.model,
                         allow_unvalidated=args.allow_unvalidated or None, dashboard=dashboard,
                         console=console)

    run, status = run_trading_job(PROG, session)
    if run is None:
        return status or 2
    console.print(f"report: {run.report.get('report.html', run_dir / 'report')}")
    console.print(f"journal: {run_dir / config.journal.path}")
    stop = interrupted_status(PROG, run)
    if stop is not None:
        return stop
    return 1 if run.result.counters.get("errors") else 0
