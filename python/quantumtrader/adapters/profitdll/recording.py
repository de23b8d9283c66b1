"""A recording session (the job of ``quantumtrader record``): a venue's
callbacks into daily event logs.  Steps: :func:`plan_recording` (which
library, tickers, credentials; a one-line :class:`RecordSetupError` when the
arguments cannot work), :func:`open_connection`, :func:`record_session`
(until the end of the replay, ``duration`` or Ctrl-C), :func:`summary_lines`.

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

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from quantumtrader.adapters.profitdll.connection import (
    ConnectionTimeoutError,
    LoginRejectedError,
    ProfitConnection,
)
from quantumtrader.adapters.profitdll.credentials import CredentialsError, ProfitCredentials
from quantumtrader.adapters.profitdll.errors import ProfitDLLError
from quantumtrader.adapters.profitdll.library import profit_dll_path, simulator_path
from quantumtrader.adapters.profitdll.recorder import Recorder, RecordingSummary
from quantumtrader.calendar import CalendarError, UnknownInstrumentError, root_of
from quantumtrader.data.eventlog import read_event_log
from quantumtrader.data.events import TIME_NONE
from quantumtrader.progress import status_line

# The simulator checks only that user and password are not empty.
SIMULATOR_CREDENTIALS = ProfitCredentials("simulator", "simulator", "simulator", source="simulator")


class RecordSetupError(Exception):
    """The recording cannot start as asked (one line, said before anything is loaded or recorded)."""


def same_instrument(ticker: str, log_instrument: str) -> bool:
    """``WIN``, ``WINFUT``, ``WINZ26`` name one instrument; other names compare whole."""
    try:
        return root_of(ticker) == root_of(log_instrument)
    except UnknownInstrumentError:
        return ticker.strip().upper() == log_instrument.strip().upper()


def _log_first_day(path: str):
    with read_event_log(path) as lg:
        ex = lg.events["exch_ns"]
        dated = ex[ex != TIME_NONE]
        header = lg.header
        first = int(dated[0]) if len(dated) else None
    return header, first


@dataclass
class RecordingPlan:
    """What a recording loads, subscribes and plays."""

    venue: str  # "sim" or "profitdll"
    library: str  # the DLL or the simulator library
    tickers: list[str]
    credentials: ProfitCredentials | None  # None: the environment or the keyring
    source: str  # the logs' header source
    replay: str | None = None  # --venue sim: the log the simulator plays
    replay_header: Any = None
    day: Any = None  # the date tickers resolve on (the replayed log's first), None for today


def plan_recording(venue: str, tickers: list[str] | None, replay: str | None, dll: str | None,
                   cal: Any) -> RecordingPlan:
    """Raises RecordSetupError, or LibraryNotFoundError, EventLogError,
    OSError (the library or the log cannot be found or read)."""
    if venue == "sim":
        path = dll if dll else simulator_path()
        if replay is None:
            raise RecordSetupError("--venue sim needs --replay LOG")
        replay_header, first_ns = _log_first_day(replay)
        if tickers is None:  # a B3 log plays under the contract current on its first day
            try:
                tickers = [root_of(replay_header.instrument)]
            except UnknownInstrumentError:
                tickers = [replay_header.instrument]
        if len(tickers) != 1:
            raise RecordSetupError("the simulator plays one instrument: give one --ticker")
        if not same_instrument(tickers[0], replay_header.instrument):
            raise RecordSetupError(
                f"--ticker {tickers[0]} is not the instrument of {replay} "
                f"({replay_header.instrument}): its prices would be recorded under another contract "
                "(leave --ticker out to take the log's)"
            )
        day = cal.local_date_of_ns(first_ns) if first_ns is not None else None
        return RecordingPlan(venue, path, tickers, SIMULATOR_CREDENTIALS, f"profitdll-sim:{replay}",
                             replay, replay_header, day)
    if replay:
        raise RecordSetupError("--replay is for --venue sim")
    if not tickers:
        raise RecordSetupError("--venue profitdll needs --ticker (e.g. --ticker WDO)")
    path = profit_dll_path(dll)
    return RecordingPlan(venue, path, list(tickers), None, f"profitdll:{path}")


def open_connection(plan: RecordingPlan, ring: int, offer_book: bool, cal: Any) -> ProfitConnection:
    """Load the library (raises LibraryLoadError or OSError); nobody is logged in yet."""
    return ProfitConnection(plan.library, credentials=plan.credentials, drop_invalid=False,
                            market_capacity=ring, offer_book=offer_book, calendar=cal)


def record_session(conn: ProfitConnection, plan: RecordingPlan, out: str, *, speed: float = 0.0,
                   duration: float | None = None, backfill: bool = True, timeout: float = 60.0,
                   cal: Any) -> tuple[Recorder | None, str]:
    """Log in, subscribe, record into ``out`` until the replay has been
    played, ``duration`` seconds or Ctrl-C; the connection is closed on
    return (no callback after it).  Returns the recorder (None when
    recording never started) and why it stopped early ("" when it did not)."""
    recorder: Recorder | None = None
    failure = ""
    sim = plan.venue == "sim"
    try:
        if sim:
            ticker = conn.resolve(plan.tickers[0], plan.day)
            conn.dll.sim_set_replay_log(plan.replay)
            conn.dll.sim_set_speed(speed)
            conn.dll.sim_set_ticker(ticker, "F")
            conn.dll.sim_set_auto_start(False)  # every subscription is in place before the first record
        conn.connect(timeout)
        kw = {}
        if plan.replay_header is not None:
            kw = dict(price_unit=plan.replay_header.price_unit, tick_size=plan.replay_header.tick_size)
        subs = [conn.subscribe(name, date=plan.day, **kw) for name in plan.tickers]
        recorder = Recorder(conn, out, source=plan.source)
        if sim:
            conn.dll.sim_start_replay()
        elif backfill:
            now = dt.datetime.now(cal.tz)
            # a short recording does not wait two minutes for a history that does not come
            history_timeout = 120.0 if duration is None else min(120.0, max(10.0, duration))
            for sub in subs:
                if cal.is_session(now.date(), sub.root):
                    n = conn.backfill(sub, timeout=history_timeout,
                                      on_progress=lambda p: logging.info("history %d%%", p))
                    logging.info("backfilled %d trades of %s", n, sub.ticker)
        t_end = None if duration is None else time.monotonic() + duration

        def stop() -> bool:
            if t_end is not None and time.monotonic() >= t_end:
                return True
            return sim and conn.dll.sim_counters()["replay_done"] == 1

        with status_line("recording ...") as show:
            shown = [0.0]

            def stop_and_show() -> bool:
                now = time.monotonic()
                if now - shown[0] >= 0.25:
                    shown[0] = now
                    show(status_text(recorder, conn))
                return stop()

            recorder.run(stop_and_show)
    except KeyboardInterrupt:
        logging.info("interrupted: closing")
    except (CredentialsError, LoginRejectedError, ConnectionTimeoutError, ProfitDLLError,
            CalendarError) as exc:
        failure = str(exc)
    finally:
        conn.close()  # no callback after this returns
    return recorder, failure


def status_text(recorder: Recorder, conn: ProfitConnection) -> str:
    tickers = ", ".join(s.ticker for s in conn.subscriptions.values())
    return (f"recording {tickers}: {recorder.records_read:,} records, "
            f"{conn.counters['records_dropped']:,} ring drops, {recorder.gaps:,} feed gaps")


def summary_lines(s: RecordingSummary) -> list[str]:
    lines = [f"{rec.ticker}: {rec.records} records -> {', '.join(rec.files) or '(nothing)'}"
             for rec in s.instruments.values()]
    kinds = ", ".join(f"{k.lower()} {v}" for k, v in sorted(s.by_type.items()))
    lines.append(f"read {s.records_read} records in {s.seconds:.1f} s ({kinds})")
    lines.append(f"ring drops {s.ring_dropped}, feed gaps {s.gaps}, invalid (kept, flagged) {s.invalid}")
    return lines
