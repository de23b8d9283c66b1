"""``quantumtrader synth``: write a seeded synthetic market as an event log
and print what was generated.

The log is generated session by session into a hidden file beside ``--out``
and renamed over it only when every session is written
(``quantumtrader.output_path``), so Ctrl-C or an error leaves no log that
replays as if complete, and an existing log is replaced whole or not at
all.  A bar counts the sessions on a terminal; logs and pipes stay quiet.

Exit status: 0 written, 2 bad arguments (nothing written), 1 the log could
not be written."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from quantumtrader.output_path import atomic_output, is_output_error

# --signal: 0 (none: the mid is a martingale) up to 2, the strength the
# generator is calibrated for (quantumtrader.data.synth: rank correlation of
# order-flow imbalance with the next 5 minutes' return about 0.5 at 2).
SIGNAL_RANGE = (0.0, 2.0)
MIN_TRADES_PER_DAY = 100  # the generator's floor (quantumtrader.data.synth)
# one session is generated in memory: peak RSS 0.25 GB at 60,000 trades and
# 0.68 GB at 200,000 (about 3 kB per trade with its book events), so five
# times WIN's default activity (about 1.6 GB) is the most a session may hold
MAX_TRADES_PER_DAY = 500_000

Progress = Callable[[int, int], None]


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


def write_synth_log(out: str | os.PathLike[str], days: int, seed: int, signal: float,
                    start_date: Any = None, instrument: str = "WDOFUT", *,
                    trades_per_day: int | None = None, progress: Progress | None = None) -> Any:
    """Generate into a partial file and rename it to ``out`` when complete;
    ``progress(sessions done, sessions)`` after each session.  Returns the
    generator's summary (``quantumtrader.data.synth.SynthSummary``) naming ``out``.
    Raises ValueError (bad arguments, or output_path.OutputPathError for a
    bad ``out``) or OSError."""
    import numpy as np

    from quantumtrader.calendar import default_calendar
    from quantumtrader.data.eventlog import EventLogWriter
    from quantumtrader.data.events import EventType
    from quantumtrader.data.synth import SynthSummary, _header, count_book_messages, iter_market_days

    cal = default_calendar()
    days_iter = iter_market_days(days, seed, signal, start_date, instrument, calendar=cal,
                                 trades_per_day=trades_per_day)
    n_ev = n_tr = n_book = 0
    sessions = []
    with atomic_output(out) as partial:
        writer = None
        try:
            # the same header and counts as quantumtrader.data.synth.write_synthetic_log, one session at
            # a time so the bar moves and Ctrl-C is taken between sessions' writes
            for params, day, ev in days_iter:
                if writer is None:
                    writer = EventLogWriter(partial, _header(params, cal))
                writer.append(ev)
                sessions.append(day)
                n_ev += len(ev)
                n_tr += int(np.count_nonzero(ev["type"] == EventType.TRADE))
                n_book += count_book_messages(ev)
                if progress is not None:
                    progress(len(sessions), days)
        finally:
            if writer is not None:
                writer.close()
        size = os.path.getsize(partial)
    return SynthSummary(os.fspath(out), len(sessions), sessions, n_ev, n_tr, n_book, size)


def run_synth(args: argparse.Namespace) -> int:
    from quantumtrader.progress import progress_bar

    why = synth_argument_error(args.days, args.seed, args.signal, args.trades_per_day)
    why = why or calendar_error(args.days, args.start_date, args.instrument)
    if why is not None:
        print(f"quantumtrader synth: error: {why}", file=sys.stderr)
        return 2
    try:
        with progress_bar(f"synth {args.instrument}", args.days) as show:
            s = write_synth_log(args.out, args.days, args.seed, args.signal, args.start_date,
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

