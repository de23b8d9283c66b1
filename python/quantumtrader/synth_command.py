"""``quantumtrader synth``: write a seeded synthetic market as an event log
and print what was generated."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.console import Console
from rich.table import Table


def add_synth_parser(sub: Any) -> None:
    p = sub.add_parser("synth", help="write a seeded synthetic WDO/WIN market as an event log")
    p.add_argument("--days", type=int, required=True, help="number of sessions")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--signal", type=float, required=True,
                   help="strength of the order-flow signal (0 = none: the mid is a martingale)")
    p.add_argument("--out", required=True, help="event log to write")
    p.add_argument("--start-date", default=None, help="YYYY-MM-DD; the first session on or after it")
    p.add_argument("--instrument", default="WDOFUT", help="WDOFUT, WINFUT or a contract such as WDOZ26")
    p.add_argument("--trades-per-day", type=int, default=None, help="average trades per session")
    p.set_defaults(func=run_synth)


def run_synth(args: argparse.Namespace) -> int:
    from quantumtrader.synth import write_synthetic_log

    try:
        s = write_synthetic_log(args.out, args.days, args.seed, args.signal, args.start_date,
                                args.instrument, trades_per_day=args.trades_per_day)
    except ValueError as exc:  # bad arguments: the calendar and generator errors say what is wrong
        print(f"quantumtrader synth: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the log cannot be written: no traceback, the message names the file
        print(f"quantumtrader synth: error: {exc}", file=sys.stderr)
        return 1
    rows = [
        ("sessions", f"{s.days} ({s.sessions[0]} .. {s.sessions[-1]})"),
        ("events", f"{s.events:,}"),
        ("trades", f"{s.trades:,}"),
        ("book events", f"{s.book_events:,}"),
        ("book events / trade", f"{s.book_events_per_trade:.2f}"),
        ("file", f"{s.path} ({s.file_bytes / 1e6:.1f} MB)"),
    ]
    table = Table(title=f"synthetic {args.instrument}, seed {args.seed}, signal {args.signal:g}")
    table.add_column("")
    table.add_column("", justify="right")
    for k, v in rows:
        table.add_row(k, v)
    Console().print(table)
    return 0
