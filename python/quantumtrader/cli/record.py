"""``quantumtrader record``: record a venue's callbacks into daily event logs
(:mod:`quantumtrader.adapters.profitdll.recording`).

    quantumtrader record --venue sim --ticker WDO --out DIR --replay LOG
    quantumtrader record --venue profitdll --ticker WDO --ticker WIN --out DIR --dll PATH

Exit status: 0 recorded, 2 the recording could not start (bad arguments,
no library, an unreadable log, a login that failed before anything was
recorded), 1 stopped by an error after recording started (what was received
is kept)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from quantumtrader.cli import arguments as arg

__all__ = ["add_record_parser", "run_record"]

VENUES = ("sim", "profitdll")
VENUE_ALIASES = {"profit": "profitdll"}  # old scripts' value


def add_record_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "record",
        help="record ProfitDLL (or simulator) callbacks into daily event logs",
        description="Record every market-data callback of ProfitDLL or the bundled simulator into "
        "daily event logs (OUT/<TICKER>/<YYYY-MM-DD>.qtlog).  The writer drains the callbacks' ring "
        "on its own thread: a slow disk shows as counted ring drops, never a stalled feed.",
    )
    p.add_argument("--venue", type=_venue, choices=VENUES, required=True,
                   help="sim: the bundled simulator; profitdll: Nelogica's ProfitDLL (alias: profit)")
    p.add_argument("--ticker", action="append",
                   help="WDO / WIN (current contract) or a contract code; repeat for several "
                   "(--venue sim: default the --replay log's instrument)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--replay", help="--venue sim: the event log the simulator plays")
    p.add_argument("--dll", help="library path: ProfitDLL64.dll (or its folder) / another simulator build")
    p.add_argument("--speed", type=arg.not_negative, default=0.0,
                   help="--venue sim: replay speed (0 = as fast as possible, 1 = real time)")
    p.add_argument("--duration", type=arg.positive, default=None,
                   help="stop after this many seconds, > 0 (--venue profitdll: default until Ctrl-C)")
    p.add_argument("--no-backfill", action="store_true",
                   help="--venue profitdll: do not request today's earlier trades")
    p.add_argument("--offer-book", action="store_true", help="also record the offer book (orders)")
    p.add_argument("--ring", type=int, default=1 << 20, help="market ring capacity (records)")
    p.add_argument("--timeout", type=arg.positive, default=60.0, help="seconds to wait for the login")
    p.set_defaults(func=run_record)


def _venue(text: str) -> str:
    """``profit``, the flag's value before the adapter was named ``profitdll``, still works."""
    return VENUE_ALIASES.get(text, text)


def _fail(msg: str) -> int:
    print(f"quantumtrader record: error: {msg}", file=sys.stderr)
    return 2


def run_record(args: argparse.Namespace) -> int:
    # the adapter (and its compiled binding) loads here, not when the parser is built
    from quantumtrader.adapters.profitdll.errors import LibraryLoadError
    from quantumtrader.adapters.profitdll.library import LibraryNotFoundError
    from quantumtrader.adapters.profitdll.recording import (
        RecordSetupError,
        open_connection,
        plan_recording,
        record_session,
        summary_lines,
    )
    from quantumtrader.calendar import CalendarError, default_calendar
    from quantumtrader.data.eventlog import EventLogError
    from quantumtrader.output_path import folder_problem

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    problem = folder_problem(args.out)
    if problem:
        return _fail(problem)
    cal = default_calendar()
    try:
        plan = plan_recording(args.venue, args.ticker, args.replay, args.dll, cal)
        conn = open_connection(plan, args.ring, args.offer_book, cal)
    except RecordSetupError as exc:
        return _fail(str(exc))
    except (LibraryNotFoundError, LibraryLoadError, EventLogError, OSError, CalendarError) as exc:
        return _fail(str(exc))
    recorder, failure = record_session(conn, plan, args.out, speed=args.speed, duration=args.duration,
                                       backfill=not args.no_backfill, timeout=args.timeout, cal=cal)
    if recorder is None:
        return _fail(failure or "interrupted before recording started")
    for line in summary_lines(recorder.close()):  # what was received is kept, even after a failure
        print(line)
    if failure:
        print(f"quantumtrader record: stopped: {failure}", file=sys.stderr)
        return 1
    return 0
