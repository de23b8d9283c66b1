"""``quantumtrader synth``: write a seeded synthetic market as an event log
(:func:`quantumtrader.data.synth.write_synthetic_log`: written aside and renamed
over ``--out`` only when every session is written) and print what was
generated.  A bar counts the sessions on a terminal; logs and pipes stay
quiet.  ``synth_argument_error`` and ``calendar_error`` check the flags
shared with ``demo`` before anything is generated.

Exit status: 0 written, 2 bad arguments (nothing written), 1 the log could
not be written."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from quantumtrader.data.synth import MAX_TRADES_PER_DAY, MIN_TRADES_PER_DAY, SIGNAL_RANGE, write_synthetic_log
from quantumtrader.output_path import is_output_error


def add_synth_parser(sub: Any) -> None:
    p = sub.add_parser("synth", help="write a seeded synthetic WDO/WIN market as an event log")
    p.add_argument("--days", type=int, required=True, help="number of sessions (>= 1)")
    p.add_argument("--seed", type=int, required=True, help="random seed (>= 0)")
    p.add_argument("--signal", type=float, required=True,
                   help=f"strength of the order-flow signal, {SIGNAL_RANGE[0]:g} to {SIGNAL_RANGE[1]:g} "
                   "(0 = none: the mid is a martingale)")
    p.add_argument("--out", required=True, help="event log to write")
    p.add_argument("--start-date", default=None, help="YYYY-MM-DD; the first session on or after it")
    p.add_argument("--instrument", default="WDOFUT", help="WDOFUT, WINFUT or a contract such as WDOZ26")
    p.add_argument("--trades-per-day", type=int, default=None,
                   help=f"average trades per session ({MIN_TRADES_PER_DAY:,} to {MAX_TRADES_PER_DAY:,}; "
                   "default: the instrument's profile)")
    p.set_defaults(func=run_synth)


def synth_argument_error(days: int, seed: int, signal: float,
                         trades_per_day: int | None = None) -> str | None:
    """What is wrong with the numeric flags of ``synth`` (and ``demo``), in
    the flags' own names; None when they are fine."""
    if days < 1:
        return f"--days must be at least 1 (got {days})"
    if seed < 0:
        return f"--seed must be 0 or more (got {seed})"
    lo, hi = SIGNAL_RANGE
    if not (math.isfinite(signal) and lo <= signal <= hi):
        return f"--signal must be between {lo:g} and {hi:g} (got {signal:g})"
    if trades_per_day is not None and not MIN_TRADES_PER_DAY <= trades_per_day <= MAX_TRADES_PER_DAY:
        return (f"--trades-per-day must be between {MIN_TRADES_PER_DAY:,} and {MAX_TRADES_PER_DAY:,} "
                f"(got {trades_per_day:,})")
    return None


def calendar_error(days: int, start_date: Any = None, instrument: str = "WDOFUT") -> str | None:
    """Whether ``days`` sessions from ``start_date`` fit in the trading
    calendar, found before generating (a run past its end would fail only
    after generating every session it has)."""
    from quantumtrader.calendar import CalendarError, CalendarRangeError, default_calendar, to_date
    from quantumtrader.data.synth import DEFAULT_START

    cal = default_calendar()
    try:
        day = DEFAULT_START if start_date is None else to_date(start_date)
        root = cal.instrument(instrument).root
        if not cal.is_session(day, root):
            day = cal.next_session(day)
        for _ in range(days - 1):
            day = cal.next_session(day)
    except CalendarRangeError as e:
        return f"--days {days} from {start_date or DEFAULT_START} goes past the trading calendar ({e})"
    except (CalendarError, ValueError):
        return None  # a bad --start-date or --instrument: the generator says what is wrong
    return None


def run_synth(args: argparse.Namespace) -> int:
    from quantumtrader.progress import progress_bar

    why = synth_argument_error(args.days, args.seed, args.signal, args.trades_per_day)
    why = why or calendar_error(args.days, args.start_date, args.instrument)
    if why is not None:
        print(f"quantumtrader synth: error: {why}", file=sys.stderr)
        return 2
    try:
        with progress_bar(f"synth {args.instrument}", args.days) as show:
            s = write_synthetic_log(args.out, args.days, args.seed, args.signal, args.start_date,
                                    args.instrument, trades_per_day=args.trades_per_day, progress=show)
    except ValueError as exc:  # bad --out, or the calendar and generator: each says what is wrong
        print(f"quantumtrader synth: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the log cannot be written: no traceback, nothing left behind
        what = f"cannot write {args.out}: {exc.strerror or exc}" if is_output_error(exc, args.out) else exc
        print(f"quantumtrader synth: error: {what}", file=sys.stderr)
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

