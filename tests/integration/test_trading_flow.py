"""The trading loop end to end, stage by stage, named after the original
plan: one synthetic WDO session backtested through the ProfitDLL simulator
and the real binding (lockstep: the same result every run) with the shipped
model, and every stage checked against an independent computation of the
same stage from the log:

- market data reception: every trade the simulator delivered reached the
  pipeline, and each gave one feature row;
- callback -> features: each decision's feature vector (journaled) equals
  the batch feature table of the log at that trade, bit for bit;
- features -> prediction: each decision's probabilities equal the bundle's
  compiled ensemble on those features;
- signal -> execution: every entry or exit the signal decided became an
  order (or a journaled risk denial) stamped with its decision, and the
  portfolio's round trips are made of the journal's fills;
- determinism: the same session backtested again gives the same orders,
  fills and P&L."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.runners.backtest import BacktestDay, _run_day
from quantumtrader.runners.report import SessionResult

DAY = dt.date(2026, 11, 3)  # synth's default first session
CONFIG = """
[signal]
entry_threshold = 0.5
min_confidence = 0.05
[risk]
max_orders_per_minute = 120
"""


def _backtest(folder: Path, log: Path, config: Path) -> tuple[SessionResult, Path]:
    out = folder / "day"
    result = _run_day(BacktestDay(log, DAY, out), None, False, str(config))
    assert isinstance(result, SessionResult), result
    return result, out / "journal.sqlite"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("trading-flow")
    log = folder / "wdo.qtlog"
    write_synthetic_log(log, 1, 31, 1.0, trades_per_day=3000)
    config = folder / "flow.toml"
    config.write_text(CONFIG)
    result, journal = _backtest(folder / "a", log, config)
    return {"folder": folder, "log": log, "config": config, "result": result, "journal": journal}


def _rows(journal: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        return list(db.execute(sql))


def test_market_data_reception(session: dict[str, Any]) -> None:
    from quantumtrader.data.eventlog import read_event_log
    from quantumtrader.data.events import EventFlag, EventType

    with read_event_log(session["log"]) as log:
        ev = log.events
        live = (ev["flags"] & EventFlag.HISTORY) == 0
        trades = int(np.count_nonzero((ev["type"] == EventType.TRADE) & live))
        records = len(ev)
    counters = session["result"].counters
    assert counters["records_replayed"] == records
    assert counters["pipeline"]["rows"] == trades  # every trade reached the engine and made a row
    assert counters["pipeline"]["unknown_records"] == 0
    assert counters["pipeline"]["decisions_dropped"] == 0
    assert counters["decisions"] == counters["pipeline"]["decisions"] > 0


def test_callback_to_features(session: dict[str, Any]) -> None:
    from quantumtrader.models.dataset import extract_rows

    rows = extract_rows(str(session["log"]))
    by_trade = {int(t): i for i, t in enumerate(rows.trade_number)}
    decisions = _rows(session["journal"], "SELECT trade_number, features FROM decisions")
    assert decisions
    for trade_number, blob in decisions:
        live = np.frombuffer(blob, dtype=np.float64)
        batch = rows.features[by_trade[int(trade_number)]]
        assert live.shape == (77,)
        assert np.array_equal(live.view(np.uint64), batch.view(np.uint64)), f"trade {trade_number}"


def test_features_to_prediction(session: dict[str, Any]) -> None:
    from quantumtrader.runners.model import load_trading_model

    bundle = load_trading_model(None)
    decisions = _rows(session["journal"], "SELECT features, p_sell, p_hold, p_buy FROM decisions")
    x = np.stack([np.frombuffer(blob, dtype=np.float64) for blob, *_ in decisions])
    want = bundle.predict_proba(x)
    got = np.array([p for _, *p in decisions], dtype=np.float64)
    assert np.array_equal(got, want)
    assert np.allclose(got.sum(axis=1), 1.0)


def test_signal_to_execution(session: dict[str, Any]) -> None:
    journal = session["journal"]
    acted = _rows(journal, "SELECT decision_id, exch_ns, action FROM decisions "
                           "WHERE action IN ('enter_long', 'enter_short', 'exit')")
    assert acted, "the session's signal never acted: the test would prove nothing"
    sent = {d: e for d, e in _rows(journal, "SELECT decision_id, exch_ns FROM orders "
                                            "WHERE purpose IN ('entry', 'exit')")}
    denied = {d for (d,) in _rows(journal, "SELECT decision_id FROM denials "
                                           "WHERE decision_id IS NOT NULL")}
    for decision_id, exch_ns, action in acted:
        assert decision_id in sent or decision_id in denied, f"decision {decision_id} ({action}) went nowhere"
        if decision_id in sent:
            assert sent[decision_id] == exch_ns  # sent at the market moment it was decided
    # what the venue filled is what the journal holds, and the portfolio is made of it
    per_order = ("SELECT o.cum_qty, COALESCE(SUM(f.quantity), 0) FROM orders o "
                 "LEFT JOIN fills f ON f.internal_id = o.internal_id GROUP BY o.internal_id")
    for cum, total in _rows(journal, per_order):
        assert cum == total
    result: SessionResult = session["result"]
    fills = _rows(journal, "SELECT side, quantity FROM fills")
    assert result.fills == len(fills) > 0
    closed = sum(t.quantity for t in result.round_trips)
    assert closed * 2 <= sum(q for _, q in fills)


def test_backtest_is_deterministic(session: dict[str, Any]) -> None:
    again, journal = _backtest(session["folder"] / "b", session["log"], session["config"])
    first = session["journal"]
    sql = "SELECT internal_id, quantity, price, exch_ns, event_id FROM fills ORDER BY id"
    assert _rows(journal, sql) == _rows(first, sql)
    assert again.net_brl == session["result"].net_brl
    assert [(t.entry_ns, t.exit_ns, t.net_brl) for t in again.round_trips] == [
        (t.entry_ns, t.exit_ns, t.net_brl) for t in session["result"].round_trips]
