"""``quantumtrader demo``: a tour of the data half on its embedded defaults
(:mod:`quantumtrader.runners.demo`), in ``--workdir`` or a temporary folder.

Exit status: 0 when every market replayed consistently, 1 when one did not
or a capture could not be imported, 2 on bad arguments."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from quantumtrader.runners.demo import DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_SIGNAL, run_demo_job


def add_demo_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo",
        help="a tour of the data half on embedded defaults: synthetic session -> event log -> order book "
        "-> features -> the default model",
        description="Generate a seeded synthetic WDO session into an event log, replay it through "
        "the C order book, print the book and trade statistics, compute the 77 features of "
        "every trade with the C feature engine, and run the shipped model (models/default, compiled "
        "for this machine on first use) at its decision points of that fresh day.",
    )
    p.add_argument("--workdir", type=Path, default=None,
                   help="where the event logs go, created when missing (default: a temporary folder, removed "
                   "at the end)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f">= 0 (default {DEFAULT_SEED})")
    p.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"sessions, >= 1 (default {DEFAULT_DAYS})")
    p.add_argument("--signal", type=float, default=DEFAULT_SIGNAL,
                   help=f"planted order-flow signal strength, 0 to 2 (default {DEFAULT_SIGNAL})")
    p.add_argument("--real", type=Path, default=None, metavar="DIR",
                   help="also import and replay the real captures in DIR (e.g. shared/data/real)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from quantumtrader.cli.synth import calendar_error, synth_argument_error

    why = synth_argument_error(args.days, args.seed, args.signal) or calendar_error(args.days)
    if why is None and args.real is not None and not args.real.is_dir():
        why = f"--real {args.real}: not a folder"
    if why is None and args.workdir is not None:
        why = _workdir_error(args.workdir)
    if why is not None:
        print(f"quantumtrader demo: error: {why}", file=sys.stderr)
        return 2
    job = dict(seed=args.seed, days=args.days, signal=args.signal, real=args.real)
    if args.workdir is not None:
        return run_demo_job(args.workdir, keep=True, **job)
    with tempfile.TemporaryDirectory(prefix="quantumtrader-demo-") as tmp:
        return run_demo_job(Path(tmp), **job)


def _workdir_error(workdir: Path) -> str | None:
    """Why the event logs cannot go to ``--workdir`` (created when missing)."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return f"--workdir {workdir}: cannot create it ({e.strerror or e})"
    if not os.access(workdir, os.W_OK | os.X_OK):
        return f"--workdir {workdir}: folder is not writable"
    return None
