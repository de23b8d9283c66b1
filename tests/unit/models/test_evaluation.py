"""Trading evaluation with B3 costs and the deflated Sharpe ratio, against hand-computed values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from quantumtrader.models.evaluation import (
    TradingCosts,
    costs_for,
    deflated_sharpe_probability,
    evaluate_trades,
    expected_max_sharpe,
    signal_from_proba,
)

S = 1_000_000_000
WDO = TradingCosts(tick_size=0.5, point_value_brl=10.0, fee_per_contract_brl=1.20, slippage_ticks=1.0)
EULER_GAMMA = 0.5772156649015329


def test_costs_for_reads_the_calendar_and_the_default_fee() -> None:
    wdo = costs_for("WDO")
    assert (wdo.tick_size, wdo.point_value_brl, wdo.fee_per_contract_brl, wdo.slippage_ticks) == (
        0.5,
        10.0,
        1.20,
        1.0,
    )
    win = costs_for("WINZ26", fee_per_contract_brl=0.5, slippage_ticks=2.0)
    assert (win.tick_size, win.point_value_brl, win.fee_per_contract_brl, win.slippage_ticks) == (
        5.0,
        0.2,
        0.5,
        2.0,
    )
    assert costs_for("WIN").fee_per_contract_brl == 0.30  # the fee table's day-trade fee
    with pytest.raises(ValueError, match="PETR4"):
        costs_for("PETR4")
    with pytest.raises(ValueError, match="fee_per_contract_brl"):
        TradingCosts(0.5, 10.0, -1.0)


def test_signal_from_proba() -> None:
    proba = np.array(
        [
            [0.7, 0.2, 0.1],  # sell, confident
            [0.1, 0.2, 0.7],  # buy, confident
            [0.2, 0.6, 0.2],  # hold wins -> no trade
            [0.45, 0.1, 0.45],  # tie sell/buy -> lowest index (sell) at 0.45 < 0.5 -> none
            [0.1, 0.4, 0.5],  # buy exactly at the threshold -> trade
            [np.nan, np.nan, np.nan],  # not predicted
        ]
    )
    assert signal_from_proba(proba, 0.5).tolist() == [-1, 1, 0, 0, 1, 0]
    assert signal_from_proba(proba, 0.5).dtype == np.int8
    assert signal_from_proba(proba, 0.75).tolist() == [0, 0, 0, 0, 0, 0]
    assert signal_from_proba(np.zeros((0, 3)), 0.5).shape == (0,)
    with pytest.raises(ValueError, match="min_confidence"):
        signal_from_proba(proba, 1.5)
    with pytest.raises(ValueError, match="shaped"):
        signal_from_proba(np.zeros((2, 2)), 0.5)


def _hand_case() -> dict:
    return {
        "entry_ns": np.array([0, 50, 100, 200, 400, 1000, 2000]) * S,
        "entry_price": np.array([10000, 10000, 10000, 10000, 10000, 10000, 10000]),
        "exit_ns": np.array([100, 150, 200, 300, 500, 1100, 2100]) * S,
        "exit_price": np.array([10010, 10000, 10000, 10020, 10000, 10000, 10000]),
        "side": np.array([1, -1, 1, -1, 0, 1, 0], dtype=np.int8),
        "session": np.array([1, 1, 1, 1, 1, 2, 3]) + 20240100,
    }


def test_hand_computed_trades_costs_and_risk() -> None:
    r = evaluate_trades(**_hand_case(), costs=WDO, price_unit=0.5, capital_brl=10_000.0)
    # Trade 0 buys 5000 pts (+0.5 slippage) and sells 5005 (-0.5): 4 pts * 10 = 40, fees 2.40.
    # Point 1 (open trade) and point 2 (at the exit instant) are skipped. Trade 3 sells 5000
    # (-0.5) and buys back 5010 (+0.5): -110, fees 2.40. Trade 5: flat price, -1 pt = -10.
    assert r.trade_index.tolist() == [0, 3, 5]
    assert r.trade_side.tolist() == [1, -1, 1]
    net = np.array([37.6, -112.4, -12.4])
    assert r.trade_pnl_brl == pytest.approx(net)
    assert (r.trades, r.wins, r.days) == (3, 1, 3)
    assert r.win_rate == pytest.approx(1 / 3)
    assert r.gross_pnl_brl == pytest.approx(-80.0)
    assert r.fees_brl == pytest.approx(7.2)
    assert r.slippage_brl == pytest.approx(30.0)
    assert r.net_pnl_brl == pytest.approx(-87.2)
    assert r.profit_factor == pytest.approx(37.6 / 124.8)
    daily = np.array([37.6 - 112.4, -12.4, 0.0]) / 10_000
    assert r.sharpe == pytest.approx(daily.mean() / daily.std(ddof=1) * math.sqrt(252))
    assert r.sharpe_per_trade == pytest.approx(net.mean() / net.std(ddof=1))
    dev = net - net.mean()
    m2, m3, m4 = (dev**2).mean(), (dev**3).mean(), (dev**4).mean()
    assert r.skew == pytest.approx(m3 / m2**1.5)
    assert r.kurtosis == pytest.approx(m4 / m2**2)
    assert r.equity_brl.tolist() == pytest.approx([10_037.6, 9_925.2, 9_912.8])
    assert r.equity_t_ns.tolist() == [100 * S, 300 * S, 1100 * S]
    assert r.max_drawdown_brl == pytest.approx(124.8)
    assert r.max_drawdown == pytest.approx(0.01248)
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["trades"] == 3 and d["trade_index"] == [0, 3, 5] and len(d["equity_brl"]) == 3


def test_drawdown_counts_a_loss_from_the_starting_capital() -> None:
    case = _hand_case()
    case["side"] = np.array([-1, 0, 0, 0, 0, 0, 0], dtype=np.int8)  # first trade loses 60 + 2.40
    r = evaluate_trades(**case, costs=WDO, price_unit=0.5, capital_brl=1_000.0)
    assert r.max_drawdown == pytest.approx(62.4 / 1_000.0)
    assert r.profit_factor == 0.0 and r.wins == 0


def test_no_trades_gives_nan_ratios_and_json_nulls() -> None:
    case = _hand_case()
    case["side"] = np.zeros(7, dtype=np.int8)
    r = evaluate_trades(**case, costs=WDO, price_unit=0.5)
    assert r.trades == 0 and r.net_pnl_brl == 0.0 and r.max_drawdown == 0.0
    assert math.isnan(r.win_rate) and math.isnan(r.profit_factor) and math.isnan(r.sharpe_per_trade)
    d = r.to_dict()
    assert d["win_rate"] is None and d["profit_factor"] is None and d["equity_brl"] == []
    json.dumps(d, allow_nan=False)
    empty = np.zeros(0, dtype=np.int64)
    r0 = evaluate_trades(empty, empty, empty, empty, empty, empty, costs=WDO, price_unit=0.5)
    assert r0.trades == 0 and r0.days == 0 and math.isnan(r0.sharpe)


def test_one_session_has_no_daily_sharpe_and_all_wins_an_infinite_profit_factor() -> None:
    case = _hand_case()
    case["session"] = np.full(7, 20240101)
    case["side"] = np.array([1, 0, 0, 0, 0, 0, 0], dtype=np.int8)
    r = evaluate_trades(**case, costs=WDO, price_unit=0.5)
    assert math.isnan(r.sharpe) and r.days == 1
    assert math.isinf(r.profit_factor)
    assert r.to_dict()["profit_factor"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entry_ns": np.array([5, 4, 3, 2, 1, 0, 0]) * S}, "non-decreasing"),
        ({"side": np.array([2, 0, 0, 0, 0, 0, 0])}, "side must be"),
        ({"exit_ns": np.array([-1, 150, 200, 300, 500, 1100, 2100]) * S}, "exits before it enters"),
        ({"exit_price": np.array([0, 10000, 10000, 10020, 10000, 10000, 10000])}, "must be > 0"),
        ({"session": np.array([1, 1])}, "one per decision point"),
        ({"entry_price": np.full(7, 10000.0)}, "integers"),
    ],
)
def test_bad_input_is_a_one_line_error(change: dict, message: str) -> None:
    case = _hand_case()
    case.update(change)
    with pytest.raises(ValueError, match=message):
        evaluate_trades(**case, costs=WDO, price_unit=0.5)


def test_expected_max_sharpe_matches_the_papers_example() -> None:
    # Bailey & López de Prado (2014), section 5: N = 100 trials, V[SR] = 1/2 annualised over
    # 250 days -> SR0 ~ 0.1132 per day.
    v = 0.5 / 250
    by_hand = math.sqrt(v) * (
        (1 - EULER_GAMMA) * norm.ppf(1 - 1 / 100) + EULER_GAMMA * norm.ppf(1 - 1 / (100 * math.e))
    )
    assert expected_max_sharpe(100, v) == pytest.approx(by_hand)
    assert expected_max_sharpe(100, v) == pytest.approx(0.1132, abs=5e-4)
    assert expected_max_sharpe(1, v) == 0.0


def test_deflated_sharpe_matches_the_papers_example() -> None:
    # Same example: SR 2.5 annualised (0.1581 daily), T = 1250, skew -3, kurtosis 10 -> DSR ~ 0.90.
    sr = 2.5 / math.sqrt(250)
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    z = (sr - sr0) * math.sqrt(1249) / math.sqrt(1 + 3 * sr + 9 / 4 * sr**2)
    dsr = deflated_sharpe_probability(sr, 1250, -3.0, 10.0, 100, 0.5 / 250)
    assert dsr == pytest.approx(norm.cdf(z))
    assert dsr == pytest.approx(0.90, abs=0.005)


def test_one_trial_is_the_plain_probabilistic_sharpe_ratio() -> None:
    sr, n = 0.1, 101
    psr = deflated_sharpe_probability(sr, n, 0.0, 3.0, 1, 0.0)
    assert psr == pytest.approx(norm.cdf(sr * 10 / math.sqrt(1 + 0.5 * sr**2)))
    # More trials raise the bar: the same SR is less convincing.
    assert deflated_sharpe_probability(sr, n, 0.0, 3.0, 50, 0.01) < psr


def test_deflated_sharpe_undefined_inputs() -> None:
    assert math.isnan(deflated_sharpe_probability(math.nan, 100, 0.0, 3.0, 1, 0.0))
    assert math.isnan(deflated_sharpe_probability(0.1, 1, 0.0, 3.0, 1, 0.0))
    assert math.isnan(deflated_sharpe_probability(2.0, 100, 5.0, 3.0, 1, 0.0))  # variance term <= 0
    with pytest.raises(ValueError, match="n_trials"):
        deflated_sharpe_probability(0.1, 100, 0.0, 3.0, 0, 0.0)
    with pytest.raises(ValueError, match="sr_variance"):
        deflated_sharpe_probability(0.1, 100, 0.0, 3.0, 5, -1.0)


def test_report_deflated_sharpe_uses_its_per_trade_moments() -> None:
    r = evaluate_trades(**_hand_case(), costs=WDO, price_unit=0.5)
    expected = deflated_sharpe_probability(r.sharpe_per_trade, r.trades, r.skew, r.kurtosis, 1, 0.0)
    assert r.deflated_sharpe_probability() == pytest.approx(expected)
    assert 0.0 < expected < 0.5  # a losing record
