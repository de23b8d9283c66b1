"""``quantumtrader backtest --data LOG... --out DIR``: every session of the
logs through the simulator at full speed in lockstep with the trading node
(:mod:`quantumtrader.runners.backtest`); sessions in parallel processes; the
report (JSON, self-contained HTML, PNG charts) in DIR.

Exit status: 0 every session ran, 1 some failed (listed), 2 bad input."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from quantumtrader.cli.arguments import count
from quantumtrader.cli.trading import (
    add_agents_flags,
    add_config_flag,
    add_model_flags,
    agents_overrides,
    error,
    trading_errors,
)

PROG = "quantumtrader backtest"


def add_backtest_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="backtest a model on event logs through the simulator's matching engine",
        description="Replay every session of the event logs through the ProfitDLL simulator as fast as "
        "possible, in lockstep with the trading node (the same components as paper and live; queue "
        "position, latency and fees from the simulator's matching engine), sessions in parallel "
        "processes, and write the report: report.json, report.html (opens offline), PNG charts.",
    )
    p.add_argument("--data", type=Path, nargs="+", required=True, metavar="LOG",
                   help="event logs (quantumtrader synth / import / record), one or more sessions each")
    add_model_flags(p)
    add_agents_flags(p)
    add_config_flag(p)
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="new (or empty) folder for the report and each session's journal")
    p.add_argument("--jobs", type=count, default=None, metavar="N",
                   help="sessions run at once (default: the CPU count)")
    p.set_defaults(func=run_backtest_command)


def run_backtest_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from quantumtrader.output_path import folder_problem
    from quantumtrader.runners.backtest import run_backtest
    from quantumtrader.runners.report import report_console

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    for p in args.data:
        if not p.is_file():
            error(PROG, f"--data {p}: no such file")
            return 2
        if args.out.exists() and args.out.resolve() == p.resolve():
            error(PROG, f"--out {args.out} is an input: give a new folder")
            return 2
    problem = folder_problem(args.out)
    if problem:
        error(PROG, problem)
        return 2
    if args.out.exists() and any(args.out.iterdir()):
        error(PROG, f"--out {args.out} exists and is not an empty folder: give a new one")
        return 2
    if args.jobs == 0:
        error(PROG, "--jobs must be >= 1")
        return 2
    console = Console()
    try:
        run = run_backtest(args.data, args.out, model=args.model, allow_unvalidated=args.allow_unvalidated,
                           config_path=args.config, jobs=args.jobs, agents=agents_overrides(args))
    except (*trading_errors(), ValueError) as e:
        error(PROG, e)
        return 2
    for f in run.failures:
        error(PROG, f)
    if run.result is None:
        return 1 if run.failures else 2
    report_console(run.result, console)
    rate = run.events / run.wall_s if run.wall_s > 0 else 0.0
    console.print(f"{len(run.days)} session(s), {run.events:,} events in {run.wall_s:.1f} s "
                  f"({rate / 1e6:.2f}M events/s across processes)")
    console.print(f"report: {run.report.get('report.html', args.out)}")
    return 1 if run.failures else 0
