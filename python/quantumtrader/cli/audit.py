"""``quantumtrader audit LOG...`` (old name ``replay``, kept as an alias):
the book audit of event logs (:mod:`quantumtrader.data.audit`), one report
table per log; ``--check`` turns an inconsistent book into exit status 1,
``--check-trades`` also trades that printed outside the touch."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.console import Console

from quantumtrader.data.audit import audit_event_log, report_table
from quantumtrader.data.eventlog import EventLogError


def add_audit_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "audit",
        aliases=["replay"],  # the command's name before `replay` came to mean only playing a log
        help="audit an event log through the order book and print book and trade statistics",
        description="Play an event log through the C order book and print book and trade "
        "statistics, including whether every trade met the touch and the book never crossed.",
    )
    p.add_argument("log", nargs="+", help="event log(s) written by import, synth or record")
    p.add_argument("--check", action="store_true",
                   help="exit with status 1 when a book record was refused or the book crossed")
    p.add_argument("--check-trades", action="store_true",
                   help="with --check, also fail when a trade printed outside the touch it met "
                   "(right for synthetic and single-feed data, not for batched crypto depth streams)")
    p.set_defaults(func=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    console = Console()
    status = 0
    for path in args.log:
        try:
            report = audit_event_log(path)
        except (OSError, EventLogError) as exc:
            # the name the user typed: `audit`, or `replay` in an old script
            print(f"quantumtrader {args.command}: error: {path}: {exc}", file=sys.stderr)
            return 2
        console.print(report_table(report))
        if args.check and not (report.consistent if args.check_trades else report.book_consistent):
            status = 1
    return status
