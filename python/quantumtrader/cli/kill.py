"""``quantumtrader kill RUN_DIR``: the kill switch of a running paper or live
session: writes RUN_DIR/KILL; the session sees it within a fraction of a
second, cancels every working order, flattens every position and halts.
Exit status: 0 written, 2 bad input."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from quantumtrader.cli.trading import error

PROG = "quantumtrader kill"


def add_kill_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "kill", help="kill switch: a running session cancels everything, flattens and halts",
        description="Trigger the kill switch of a running paper or live session: its run folder gets a KILL "
        "file; the session cancels every working order, flattens every position and halts for the day.")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the session's run folder (its --out)")
    p.add_argument("--reason", default="kill command", help="recorded in the journal and the log")
    p.set_defaults(func=run_kill)


def run_kill(args: argparse.Namespace) -> int:
    from quantumtrader.risk import KillSwitch
    from quantumtrader.runners.paper import KILL_FILE

    if not args.run_dir.is_dir():
        error(PROG, f"{args.run_dir}: not a run folder")
        return 2
    KillSwitch(args.run_dir / KILL_FILE).trigger(args.reason)
    print(f"kill switch set: {args.run_dir / KILL_FILE}")
    return 0
