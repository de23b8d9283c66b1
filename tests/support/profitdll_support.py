"""Shared set-up of the binding's tests: a synthetic WDO session, the
simulator configured explicitly (its configuration is process-wide and other
test modules use it too), a connected ProfitConnection, and the log's
expectations (trades, top of book at each trade, final book)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from quantumtrader.adapters.profitdll.connection import ProfitConnection
from quantumtrader.adapters.profitdll.credentials import ProfitCredentials
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN
from quantumtrader.data.eventlog import read_event_log
from quantumtrader.data.events import EventFlag, EventType
from quantumtrader.qtcore import profitdll
from quantumtrader.qtcore.book import PriceBook

SIM_CREDENTIALS = ProfitCredentials("sim-key", "sim-user", "sim-password", "sim-routing", source="test")
LOG_DAY = "2026-11-03"  # first session of the synthetic market (its default start)
TICKER = "WDOZ26"       # WDO contract current on that day
BOOK_TYPES = (EventType.PRICE_BOOK, EventType.L2_LEVEL, EventType.SNAPSHOT_BEGIN, EventType.SNAPSHOT_END)


SIM_SEED = 0x51D0DE5EED  # the simulator library's own default


def configure_sim(dll: profitdll.ProfitDLL, log: Path | str | None, *, speed: float = 0.0,
                  login_result: int = 0, delay_us: int = 0, ticker: str = TICKER) -> None:
    """Every Sim* option these tests rely on, set explicitly."""
    dll.sim_set_replay_log(str(log) if log is not None else None)
    dll.sim_set_speed(speed)
    dll.sim_set_auto_start(False)  # the replay starts once every subscription is in place
    dll.sim_set_book_packet_levels(32)
    dll.sim_set_phase_schedule("")
    dll.sim_set_login_result(login_result)
    dll.sim_set_utc_offset_minutes(EXCHANGE_UTC_OFFSET_MIN)
    dll.sim_set_callback_delay_us(delay_us)
    dll.sim_set_ticker(ticker, "F")
    # settings an earlier session of this process may have left (the simulator's
    # configuration is process-wide): no broker state file, no injected rejections,
    # and one seed, which a broker state file records and a restart must match
    dll.sim_set_state_file(None)
    dll.sim_reject_orders(0, 0.0)
    dll.sim_set_seed(SIM_SEED)


def sim_connection(log: Path | str, *, routing: bool = False, ring: int = 1 << 20, drop_invalid: bool = True,
                   delay_us: int = 0, price_unit: float | None = None, trades_v2: bool = True
                   ) -> ProfitConnection:
    """Logged in, WDO subscribed, replay not started yet."""
    conn = ProfitConnection(simulator_path(), credentials=SIM_CREDENTIALS, routing=routing,
                            market_capacity=ring, drop_invalid=drop_invalid,
                            utc_offset_min=EXCHANGE_UTC_OFFSET_MIN, trades_v2=trades_v2)
    configure_sim(conn.dll, log, delay_us=delay_us)
    conn.connect(10.0)
    conn.subscribe("WDO", date=LOG_DAY, price_unit=price_unit)
    return conn


def drain_replay(conn: ProfitConnection, timeout: float = 30.0, on_batch=None) -> np.ndarray:
    """Start the replay and poll until it has been played and drained."""
    conn.dll.sim_start_replay()
    out = []
    deadline = time.monotonic() + timeout
    while True:
        recs = conn.poll(0.02)
        if len(recs):
            out.append(recs)
            if on_batch is not None:
                on_batch(recs)
        elif conn.dll.sim_counters()["replay_done"]:
            recs = conn.poll(0.0)
            if len(recs) == 0:
                break
            out.append(recs)
        assert time.monotonic() < deadline, "replay did not finish"
    return np.concatenate(out)


def trades_of(ev: np.ndarray, history: bool | None = None) -> np.ndarray:
    t = ev[ev["type"] == EventType.TRADE]
    if history is not None:
        is_h = (t["flags"] & EventFlag.HISTORY) != 0
        t = t[is_h] if history else t[~is_h]
    return t


def same_trades(got: np.ndarray, want: np.ndarray) -> None:
    """Trades equal field by field; the DLL's dates carry milliseconds."""
    assert len(got) == len(want)
    for f in ("price", "qty", "ref", "a", "b", "code"):
        np.testing.assert_array_equal(got[f], want[f], err_msg=f)
    np.testing.assert_array_equal(got["exch_ns"], want["exch_ns"] // 1_000_000 * 1_000_000)


def log_expectations(path: Path | str) -> dict:
    """The log's trades, its top of book before each trade and its final book."""
    with read_event_log(path) as lg:
        ev = lg.events.copy()
        unit, tick = lg.header.price_unit, lg.header.tick_size
    return dict(events=ev, trades=trades_of(ev), unit=unit, tick_units=round(tick / unit),
                **tops_at_trades(ev, round(tick / unit)))


def tops_at_trades(ev: np.ndarray, tick_units: int) -> dict:
    """The whole book (every level's price and qty) before each trade and at
    the end, rebuilt with the C book."""
    book = PriceBook(tick_units)
    is_trade = np.flatnonzero(ev["type"] == EventType.TRADE)
    tops = []
    prev = 0
    for i in is_trade:
        book.apply(ev[prev:i])
        prev = i
        tops.append(book_sides(book))
    book.apply(ev[prev:])
    return dict(tops=tops, final=book_sides(book), book_counters=book.counters)


def book_sides(book: PriceBook) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(price, qty) of every level of both sides, best first."""
    out = []
    for side in (0, 1):
        p, q, _ = book.levels(side)
        out.append(list(zip(p.tolist(), q.tolist(), strict=True)))
    return out[0], out[1]
