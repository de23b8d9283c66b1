"""Live trading (``quantumtrader live --config live.toml``) on the Windows host
next to Nelogica's ``ProfitDLL64.dll``: the same trading node as paper and
backtest, on the real DLL with routing.  The session runs until its
instruments' close (from the trading calendar), Ctrl-C, or the kill switch
(``quantumtrader kill RUN_DIR``); stopping cancels working orders and
flattens (``[session] flatten_on_exit``), then writes the report.

A run folder whose journal exists is resumed: after a crash, run the same
command; the journal is reconciled with the DLL's positions and orders and a
difference stops the session before it trades."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from quantumtrader.calendar import default_calendar
from quantumtrader.risk import KillSwitch
from quantumtrader.runners.config import TradingConfig
from quantumtrader.runners.model import load_trading_model
from quantumtrader.runners.node import TradingNode
from quantumtrader.runners.paper import KILL_FILE, PaperRun
from quantumtrader.runners.report import report_console, write_report
from quantumtrader.runners.venues import VenueError, open_profitdll, profitdll_library

__all__ = ["run_live"]

_AFTER_CLOSE_S = 300  # the node stays up this long after the close for late order updates


def run_live(run_dir: Path, config: TradingConfig, *, allow_unvalidated: bool = False, dashboard: Any = None,
             console: Console | None = None) -> PaperRun:
    """One live session in ``run_dir`` (created; resumed when its journal
    exists).  Raises VenueError, BundleError, ReconciliationError and the
    connection's errors (one line each); Ctrl-C ends it early."""
    console = console or Console()
    profitdll_library(config.profitdll)  # a missing DLL or account is said before anything else
    calendar = default_calendar()
    today = dt.datetime.now(calendar.tz).date()
    if not calendar.is_session(today):
        raise VenueError(f"no B3 session today ({today}: {calendar.why_closed(today)})")
    bundle = load_trading_model(config.model.path, allow_unvalidated=allow_unvalidated
                                or config.model.allow_unvalidated)
    run_dir.mkdir(parents=True, exist_ok=True)
    conn, account = open_profitdll(config.profitdll, config.instruments.tickers, day=today, calendar=calendar)
    t0 = time.perf_counter()
    try:
        node = TradingNode(connection=conn, bundle=bundle, config=config, run_dir=run_dir, venue="live",
                           account=account, password=conn.routing_password, trading_day=today,
                           calendar=calendar, dashboard=dashboard,
                           kill_switch=KillSwitch(run_dir / KILL_FILE))
        close_ns = max(calendar.session_bounds_utc_ns(today, spec.root)[1]
                       for spec in node.instruments.values())
        end_ns = close_ns + _AFTER_CLOSE_S * 1_000_000_000

        def closed() -> bool:
            time.sleep(0.25)
            return time.time_ns() >= end_ns

        result, interrupted = node.run_until(closed)
    finally:
        conn.close()
    paths = write_report(result, run_dir / "report")
    report_console(result, console)
    return PaperRun(result, paths, interrupted, time.perf_counter() - t0)
