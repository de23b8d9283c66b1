"""Train/live parity through the real ProfitDLL path: a synthetic log's 77
features computed in batch (the ``features`` path: event log -> C drain)
equal, bit for bit, the features of what the simulator library delivers for
the same log through the DLL's callbacks -> the binding's C entry points ->
the market ring -> date decoding -> the same C drain; for one instrument,
and for two logs replayed at once under their own tickers (WDO and WIN),
merged by time.  Also: book records carry the DLL's server clock, and a
clean log's daily limits are valid prices (none flagged invalid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from profitdll_support import (
    LOG_DAY,
    SIM_CREDENTIALS,
    configure_sim,
    drain_replay,
    log_expectations,
    same_trades,
    sim_connection,
    tops_at_trades,
    trades_of,
)

from quantumtrader.adapters.profitdll.connection import ConnectionTimeoutError, ProfitConnection
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.adapters.profitdll.simulator import set_replay_logs
from quantumtrader.data.eventlog import read_event_log
from quantumtrader.data.events import EventFlag, EventType
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.features.engine_setup import build_engine
from quantumtrader.qtcore.features import DRAIN_DONE, FeatureBatch

BOOK = (EventType.PRICE_BOOK, EventType.L2_LEVEL, EventType.SNAPSHOT_BEGIN, EventType.SNAPSHOT_END)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short synthetic sessions: two WDO days (the second day's limits come from the first day's
    close) and one WIN day on the WDO log's first date."""
    d = tmp_path_factory.mktemp("parity")
    out = {"WDO": d / "wdo.qtlog", "WIN": d / "win.qtlog"}
    write_synthetic_log(out["WDO"], days=2, seed=31, signal=0.5, trades_per_day=700, levels=10)
    write_synthetic_log(out["WIN"], days=1, seed=32, signal=0.5, instrument="WINFUT", trades_per_day=700,
                        levels=10)
    return out


def features_of(events: np.ndarray, instrument: str, unit: float, tick: float) -> tuple[np.ndarray, ...]:
    """The C feature engine (calendar hours, as the ``features`` command) over ``events``."""
    engine, _ = build_engine(instrument, unit, tick)
    batch = FeatureBatch(int(np.count_nonzero(events["type"] == EventType.TRADE)) + 1)
    done, status = engine.drain(np.ascontiguousarray(events), batch, 0)
    assert status == DRAIN_DONE and done == len(events)
    n = batch.rows
    return batch.ts[:n].copy(), batch.trade_number[:n].copy(), batch.matrix[:n].copy(), engine.counters


def batch_features(log: Path) -> tuple[np.ndarray, ...]:
    with read_event_log(log) as lg:
        ev = lg.events.copy()
        h = lg.header
    return features_of(ev, h.instrument, h.price_unit, h.tick_size)


def assert_same_features(live: tuple, batch: tuple) -> None:
    (ts1, tn1, m1, c1), (ts2, tn2, m2, c2) = live, batch
    assert len(tn2) > 500
    np.testing.assert_array_equal(tn1, tn2)
    np.testing.assert_array_equal(ts1, ts2)
    assert m1.shape == m2.shape == (len(tn2), 77)
    np.testing.assert_array_equal(np.isnan(m1), np.isnan(m2))
    np.testing.assert_array_equal(m1.view(np.int64), m2.view(np.int64))  # bit for bit
    # the same book events: the OFI terms and the update rate are not equal by accident
    for k in ("book_events", "rows", "session_resets"):
        assert c1[k] == c2[k], k
    assert c1["book_rejected"] == 0 and c1["book_untimed"] == 0
    finite = np.isfinite(m2[:, 73:77]).mean()
    assert finite > 0.8  # ofi_10/50/100 and book_update_rate are defined on most rows


@pytest.mark.parametrize("trades_v2", [True, False], ids=["trades-v2", "trades-v1"])
def test_synthetic_log_gives_the_same_77_features_live_and_in_batch(logs: dict[str, Path],
                                                                   trades_v2: bool) -> None:
    """V2 trades carry a SYSTEMTIME, V1 trades a date string: both to the millisecond."""
    conn = sim_connection(logs["WDO"], trades_v2=trades_v2)
    try:
        got = drain_replay(conn)
        c = conn.counters
        sim = conn.dll.sim_counters()
    finally:
        conn.close()
    # a clean log: nothing invalid on either side (second-day limits are on the tick grid)
    assert c["invalid"] == 0 and conn.invalid_dropped == 0 and sim["records_invalid"] == 0
    assert c["clock_errors"] == 0 and c["records_dropped"] == 0
    # one callback per price-book action: one book event per callback, as the spec counts
    batch = batch_features(logs["WDO"])
    exp = log_expectations(logs["WDO"])
    assert_same_features(features_of(got, "WDOFUT", exp["unit"], exp["tick_units"] * exp["unit"]), batch)
    assert batch[3]["book_events"] == sim["book_actions_delivered"] + 2  # plus the two opening snapshots


def test_book_records_carry_the_server_clock(logs: dict[str, Path]) -> None:
    """ProfitDLL's book callbacks have no time: the entry point stamps them with GetServerClock,
    which the simulator answers with the exchange time of the record it delivers."""
    conn = sim_connection(logs["WDO"])
    try:
        got = drain_replay(conn)
    finally:
        conn.close()
    with read_event_log(logs["WDO"]) as lg:
        ev = lg.events.copy()
    live_book = got[got["type"] == EventType.PRICE_BOOK]
    # the log's level updates outside the snapshots: one per action
    log_book = ev[(ev["type"] == EventType.L2_LEVEL) & ((ev["flags"] & EventFlag.LAST) != 0)]
    assert len(live_book) == len(log_book)
    np.testing.assert_array_equal(live_book["exch_ns"], log_book["exch_ns"])
    # every timed record of the stream: book, tiny book and trades at millisecond resolution
    for t in (*BOOK, EventType.TINY_BOOK, EventType.TRADE):
        sel = got[got["type"] == t]["exch_ns"]
        assert len(sel) and np.all(sel > 0) and np.all(sel % 1_000_000 == 0), t


def two_instrument_connection(logs: dict[str, Path]) -> ProfitConnection:
    conn = ProfitConnection(simulator_path(), credentials=SIM_CREDENTIALS, market_capacity=1 << 20,
                            utc_offset_min=-180)
    configure_sim(conn.dll, logs["WDO"])
    set_replay_logs(conn.dll, [(logs["WDO"], "WDOZ26"), (logs["WIN"], "WINZ26")])
    conn.connect(10.0)
    return conn


def test_two_logs_replay_merged_by_time_each_under_its_ticker(logs: dict[str, Path]) -> None:
    conn = two_instrument_connection(logs)
    try:
        wdo = conn.subscribe("WDO", date=LOG_DAY)
        win = conn.subscribe("WIN", date=LOG_DAY)
        assert (wdo.ticker, win.ticker) == ("WDOZ26", "WINZ26")
        got = drain_replay(conn, timeout=60)
        c = conn.counters
        sim = conn.dll.sim_counters()
    finally:
        conn.close()
    assert c["invalid"] == 0 and c["unknown_instrument"] == 0 and c["records_dropped"] == 0
    market = got[got["type"] != EventType.CONN_STATE]
    assert set(np.unique(market["instrument"]).tolist()) == {wdo.instrument_id, win.instrument_id}
    # merged by exchange time: the timed market records of both never go back
    timed = market[np.isin(market["type"], (*BOOK, EventType.TRADE))]
    assert np.all(np.diff(timed["exch_ns"]) >= 0)
    # ... and they interleave (WIN's day is WDO's first day)
    is_win = (timed["instrument"] == win.instrument_id).astype(np.int8)
    assert np.count_nonzero(np.diff(is_win)) > 100
    for name, sub in (("WDO", wdo), ("WIN", win)):
        mine = got[got["instrument"] == sub.instrument_id]
        exp = log_expectations(logs[name])
        same_trades(trades_of(mine), exp["trades"])
        book = tops_at_trades(mine, exp["tick_units"])
        assert book["tops"] == exp["tops"] and book["final"] == exp["final"]
        assert book["book_counters"]["rejected"] == 0
        # and the 77 features of each instrument equal its own log's
        assert_same_features(features_of(mine, name + "FUT", sub.price_unit, sub.tick_size),
                             batch_features(logs[name]))
    assert sim["trades_delivered"] == len(log_expectations(logs["WDO"])["trades"]) + len(
        log_expectations(logs["WIN"])["trades"])


def test_set_replay_logs_checks_its_arguments(logs: dict[str, Path]) -> None:
    same_ticker = [(logs["WDO"], "WDOZ26"), (logs["WIN"], "wdoz26")]
    for bad in ([], same_ticker, [(logs["WDO"], f"T{i}") for i in range(9)]):
        with pytest.raises(ValueError):
            set_replay_logs(object(), bad)


def test_two_logs_under_one_ticker_are_refused(logs: dict[str, Path]) -> None:
    conn = ProfitConnection(simulator_path(), credentials=SIM_CREDENTIALS, utc_offset_min=-180)
    configure_sim(conn.dll, logs["WDO"])
    conn.dll.sim_add_replay_log(str(logs["WIN"]), "WDOZ26", "F")
    try:
        with pytest.raises(ConnectionTimeoutError):  # the market data never connects
            conn.connect(2.0)
        assert "two logs served under WDOZ26:F" in conn.dll.sim_last_error()
    finally:
        conn.close()
