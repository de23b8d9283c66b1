"""The connection a trading node runs on: the ProfitDLL simulator replaying
event logs (backtest at full speed, paper paced) or Nelogica's DLL (live).
The node sees the same ``ProfitConnection`` either way: the simulator and the
real DLL are two venues of one binding."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from quantumtrader.adapters.profitdll.connection import ProfitConnection
from quantumtrader.adapters.profitdll.credentials import ProfitCredentials
from quantumtrader.adapters.profitdll.simulator import library_path, set_replay_logs
from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN, TradingCalendar, default_calendar
from quantumtrader.data.eventlog import EventLogError, read_event_log
from quantumtrader.data.events import EventType
from quantumtrader.runners.config import ProfitDLLConfig, SimulatorConfig

__all__ = [
    "SIM_ACCOUNT",
    "ReplayLog",
    "VenueError",
    "open_profitdll",
    "open_simulator",
    "replay_log",
]

# The simulator's account (sim_session.c) and credentials: it accepts any, and
# nothing secret exists to leak.
SIM_ACCOUNT = SimpleNamespace(broker_id=1, account_id="SIM0001", sub_account_id="")
SIM_CREDENTIALS = ProfitCredentials("simulator", "paper", "paper", "paper", source="simulator")


class VenueError(RuntimeError):
    """The venue cannot be set up (one line)."""


@dataclass(frozen=True)
class ReplayLog:
    """An event log to replay, and what the node needs to know of it."""

    path: Path
    root: str              # "WDO", from the log's instrument name
    price_unit: float
    tick_size: float
    days: tuple[dt.date, ...]  # its sessions, in order


def replay_log(path: str | os.PathLike[str]) -> ReplayLog:
    """Read a log's header and session dates (VenueError: unreadable, no session)."""
    p = Path(path)
    try:
        with read_event_log(p, verify=False) as log:
            header = log.header
            ev = log.events
            sessions = ev["ref"][ev["type"] == EventType.SESSION]
            days = tuple(dt.date(int(r) // 10000, int(r) // 100 % 100, int(r) % 100)
                         for r in np.unique(sessions))
    except (EventLogError, OSError) as e:
        raise VenueError(f"{p}: {e}") from None
    except ValueError as e:
        raise VenueError(f"{p}: bad session record ({e})") from None
    if not days:
        raise VenueError(f"{p}: no session in the log (no SESSION record)")
    return ReplayLog(p, header.instrument[:3].upper(), header.price_unit, header.tick_size, days)


def open_simulator(logs: list[ReplayLog], day: dt.date, sim: SimulatorConfig, *, speed: float,
                   state_file: Path | None = None, calendar: TradingCalendar | None = None,
                   connect_timeout_s: float = 30.0) -> ProfitConnection:
    """A routing session on the simulator library replaying ``logs`` (one
    per instrument; the order engine trades the first), logged in and
    subscribed for ``day``; the replay waits for ``dll.sim_start_replay()``."""
    calendar = calendar or default_calendar()
    try:
        conn = ProfitConnection(str(library_path()), credentials=SIM_CREDENTIALS, routing=True,
                                calendar=calendar, utc_offset_min=EXCHANGE_UTC_OFFSET_MIN)
    except (FileNotFoundError, OSError) as e:
        raise VenueError(f"the ProfitDLL simulator cannot be loaded: {e}") from None
    dll = conn.dll
    tickers = [conn.resolve(log.root, day) for log in logs]
    set_replay_logs(dll, [(log.path, t) for log, t in zip(logs, tickers, strict=True)])
    # every setting explicitly: the simulator's configuration is process-wide and
    # outlives a session (a test, an earlier run in this process)
    dll.sim_set_speed(speed)
    dll.sim_set_auto_start(False)
    dll.sim_set_utc_offset_minutes(EXCHANGE_UTC_OFFSET_MIN)
    dll.sim_set_book_packet_levels(32)
    dll.sim_set_phase_schedule("")
    dll.sim_set_login_result(0)
    dll.sim_set_callback_delay_us(0)
    dll.sim_set_order_latency_us(sim.order_latency_us)
    dll.sim_set_early_order_callback(0.0)  # in lockstep a SendOrder must not wait for its callbacks
    dll.sim_reject_orders(0, 0.0)
    dll.sim_set_seed(sim.seed)
    dll.sim_set_state_file(None if state_file is None else str(state_file))
    conn.connect(connect_timeout_s)
    for log in logs:
        conn.subscribe(log.root, date=day, price_unit=log.price_unit, tick_size=log.tick_size)
    return conn


def profitdll_library(cfg: ProfitDLLConfig) -> str:
    """The DLL a live session loads, checked before anything else is done
    (VenueError naming the key or the variables to set)."""
    from quantumtrader.adapters.profitdll.library import DLL_FOLDER_ENV, DLL_PATH_ENV, profit_dll_path

    if not cfg.library and not os.environ.get(DLL_PATH_ENV) and not os.environ.get(DLL_FOLDER_ENV):
        raise VenueError(f"[profitdll] library: no ProfitDLL configured: set it, or {DLL_PATH_ENV} (the DLL) "
                         f"or {DLL_FOLDER_ENV} (its folder)")
    if not cfg.account_id:
        raise VenueError("[profitdll] account_id: give the trading account")
    try:
        return profit_dll_path(cfg.library or None)
    except (FileNotFoundError, ValueError) as e:
        raise VenueError(f"[profitdll] library: {e}") from None


def open_profitdll(cfg: ProfitDLLConfig, tickers: tuple[str, ...], *, day: dt.date,
                   calendar: TradingCalendar | None = None) -> tuple[ProfitConnection, Any]:
    """Nelogica's DLL with routing, logged in (credentials from the
    environment or the keyring) and subscribed to ``tickers`` for ``day``;
    returns the connection and the account to trade."""
    conn = ProfitConnection(profitdll_library(cfg), routing=True, calendar=calendar)
    conn.connect(cfg.connect_timeout_s)
    for t in tickers:
        conn.subscribe(t, date=day)
    account = SimpleNamespace(broker_id=cfg.broker_id, account_id=cfg.account_id,
                              sub_account_id=cfg.sub_account_id)
    return conn, account
