"""``quantumtrader record``: record a venue's callbacks into daily event logs.

    quantumtrader record --venue sim --ticker WDO --out DIR --replay LOG
    quantumtrader record --venue profitdll --ticker WDO --ticker WIN --out DIR --dll PATH

``--venue sim`` loads the bundled simulator (or ``--dll``) and plays
``--replay LOG`` (the log's own instrument, served under the contract
current on the log's first day), at ``--speed`` (0 = as fast as the
callbacks return); recording ends when the log has been played.  The
ticker is the log's unless ``--ticker`` is given, and a ``--ticker`` of
another instrument than the log's is refused (WDO prices recorded under a
WIN contract would be a wrong log that looks right).
``--venue profitdll`` (``profit``, its old name, is accepted) loads
ProfitDLL64.dll (``--dll``, ``$QT_PROFITDLL_PATH`` or ``$QT_PROFITDLL_DIR``),
logs in with the credentials of the environment or the keyring, backfills
today's trades and records until ``--duration`` seconds have passed or
Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from quantumtrader.adapters.profitdll.connection import (
    ConnectionTimeoutError,
    LoginRejectedError,
    ProfitConnection,
)
from quantumtrader.adapters.profitdll.credentials import CredentialsError, ProfitCredentials
from quantumtrader.adapters.profitdll.errors import LibraryLoadError, ProfitDLLError
from quantumtrader.adapters.profitdll.library import LibraryNotFoundError, profit_dll_path, simulator_path
from quantumtrader.adapters.profitdll.recorder import Recorder, RecordingSummary
from quantumtrader.calendar import CalendarError, UnknownInstrumentError, default_calendar, root_of
from quantumtrader.data.eventlog import EventLogError, read_event_log
from quantumtrader.data.events import TIME_NONE
from quantumtrader.progress import status_line

__all__ = ["add_record_parser", "run_record"]

VENUES = ("sim", "profitdll")
VENUE_ALIASES = {"profit": "profitdll"}  # old scripts' value

# The simulator checks only that user and password are not empty.
SIMULATOR_CREDENTIALS = ProfitCredentials("simulator", "simulator", "simulator", source="simulator")


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
    p.add_argument("--speed", type=_not_negative, default=0.0,
                   help="--venue sim: replay speed (0 = as fast as possible, 1 = real time)")
    p.add_argument("--duration", type=_positive, default=None,
                   help="stop after this many seconds, > 0 (--venue profitdll: default until Ctrl-C)")
    p.add_argument("--no-backfill", action="store_true",
                   help="--venue profitdll: do not request today's earlier trades")
    p.add_argument("--offer-book", action="store_true", help="also record the offer book (orders)")
    p.add_argument("--ring", type=int, default=1 << 20, help="market ring capacity (records)")
    p.add_argument("--timeout", type=_positive, default=60.0, help="seconds to wait for the login")
    p.set_defaults(func=run_record)


def _venue(text: str) -> str:
    """``profit``, the flag's value before the adapter was named ``profitdll``, still works."""
    return VENUE_ALIASES.get(text, text)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _not_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _check_out_folder(out: str) -> str | None:
    """Why ``--out`` cannot hold the daily logs, or None.  Checked before the
    library is loaded or anyone logs in: the folder (created if missing)
    must be a folder that can be written."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        return f"--out {out} is a file: give a folder"
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"--out {out}: {existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"--out {out}: folder {existing} is not writable"
    return None


def _same_instrument(ticker: str, log_instrument: str) -> bool:
    """``WIN``, ``WINFUT``, ``WINZ26`` name one instrument; other names compare whole."""
    try:
        return root_of(ticker) == root_of(log_instrument)
    except UnknownInstrumentError:
        return ticker.strip().upper() == log_instrument.strip().upper()


def _fail(msg: str) -> int:
    print(f"quantumtrader record: error: {msg}", file=sys.stderr)
    return 2


def _log_first_day(path: str):
    with read_event_log(path) as lg:
        ex = lg.events["exch_ns"]
        dated = ex[ex != TIME_NONE]
        header = lg.header
        first = int(dated[0]) if len(dated) else None
    return header, first


def run_record(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    problem = _check_out_folder(args.out)
    if problem:
        return _fail(problem)
    cal = default_calendar()
    replay_header = None
    day: Any = None
    try:
        if args.venue == "sim":
            path = args.dll if args.dll else simulator_path()
            if args.replay is None:
                return _fail("--venue sim needs --replay LOG")
            replay_header, first_ns = _log_first_day(args.replay)
            if args.ticker is None:  # a B3 log plays under the contract current on its first day
                try:
                    args.ticker = [root_of(replay_header.instrument)]
                except UnknownInstrumentError:
                    args.ticker = [replay_header.instrument]
            if len(args.ticker) != 1:
                return _fail("the simulator plays one instrument: give one --ticker")
            if not _same_instrument(args.ticker[0], replay_header.instrument):
                return _fail(
                    f"--ticker {args.ticker[0]} is not the instrument of {args.replay} "
                    f"({replay_header.instrument}): its prices would be recorded under another contract "
                    "(leave --ticker out to take the log's)"
                )
            if first_ns is not None:
                day = cal.local_date_of_ns(first_ns)
            creds = SIMULATOR_CREDENTIALS
            source = f"profitdll-sim:{args.replay}"
        else:
            if args.replay:
                return _fail("--replay is for --venue sim")
            if not args.ticker:
                return _fail("--venue profitdll needs --ticker (e.g. --ticker WDO)")
            path = profit_dll_path(args.dll)
            creds = None  # environment or keyring
            source = f"profitdll:{path}"
        conn = ProfitConnection(path, credentials=creds, drop_invalid=False, market_capacity=args.ring,
                                offer_book=args.offer_book, calendar=cal)
    except (LibraryNotFoundError, LibraryLoadError, EventLogError, OSError, CalendarError) as exc:
        return _fail(str(exc))

    recorder: Recorder | None = None
    failure = ""
    try:
        if args.venue == "sim":
            ticker = conn.resolve(args.ticker[0], day)
            conn.dll.sim_set_replay_log(args.replay)
            conn.dll.sim_set_speed(args.speed)
            conn.dll.sim_set_ticker(ticker, "F")
            conn.dll.sim_set_auto_start(False)  # every subscription is in place before the first record
        conn.connect(args.timeout)
        kw = {}
        if replay_header is not None:
            kw = dict(price_unit=replay_header.price_unit, tick_size=replay_header.tick_size)
        subs = [conn.subscribe(name, date=day, **kw) for name in args.ticker]
        recorder = Recorder(conn, args.out, source=source)
        if args.venue == "sim":
            conn.dll.sim_start_replay()
        elif not args.no_backfill:
            now = dt.datetime.now(cal.tz)
            # a short recording does not wait two minutes for a history that does not come
            history_timeout = 120.0 if args.duration is None else min(120.0, max(10.0, args.duration))
            for sub in subs:
                if cal.is_session(now.date(), sub.root):
                    n = conn.backfill(sub, timeout=history_timeout,
                                      on_progress=lambda p: logging.info("history %d%%", p))
                    logging.info("backfilled %d trades of %s", n, sub.ticker)
        t_end = None if args.duration is None else time.monotonic() + args.duration

        def stop() -> bool:
            if t_end is not None and time.monotonic() >= t_end:
                return True
            return args.venue == "sim" and conn.dll.sim_counters()["replay_done"] == 1

        with status_line("recording ...") as show:
            shown = [0.0]

            def stop_and_show() -> bool:
                now = time.monotonic()
                if now - shown[0] >= 0.25:
                    shown[0] = now
                    show(_status_text(recorder, conn))
                return stop()

            recorder.run(stop_and_show)
    except KeyboardInterrupt:
        logging.info("interrupted: closing")
    except (CredentialsError, LoginRejectedError, ConnectionTimeoutError, ProfitDLLError,
            CalendarError) as exc:
        failure = str(exc)
    finally:
        conn.close()  # no callback after this returns
    if recorder is None:
        return _fail(failure or "interrupted before recording started")
    _print_summary(recorder.close())  # what was received is kept, even after a failure
    if failure:
        print(f"quantumtrader record: stopped: {failure}", file=sys.stderr)
        return 1
    return 0


def _status_text(recorder: Recorder, conn: ProfitConnection) -> str:
    tickers = ", ".join(s.ticker for s in conn.subscriptions.values())
    return (f"recording {tickers}: {recorder.records_read:,} records, "
            f"{conn.counters['records_dropped']:,} ring drops, {recorder.gaps:,} feed gaps")


def _print_summary(s: RecordingSummary) -> None:
    for rec in s.instruments.values():
        print(f"{rec.ticker}: {rec.records} records -> {', '.join(rec.files) or '(nothing)'}")
    kinds = ", ".join(f"{k.lower()} {v}" for k, v in sorted(s.by_type.items()))
    print(f"read {s.records_read} records in {s.seconds:.1f} s ({kinds})")
    print(f"ring drops {s.ring_dropped}, feed gaps {s.gaps}, invalid (kept, flagged) {s.invalid}")
