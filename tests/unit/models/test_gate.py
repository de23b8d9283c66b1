"""The promotion gate: each criterion fails by name, with its value and threshold; NaN fails."""

from __future__ import annotations

import math

import pytest

from quantumtrader.models.gate import GATE, GateThresholds, check_gate

PASSING = {
    "trades": 120,
    "win_rate": 0.60,
    "sharpe": 2.1,
    "max_drawdown": 0.02,
    "deflated_sharpe_probability": 0.99,
}


def test_a_report_meeting_every_criterion_passes() -> None:
    result = check_gate(PASSING)
    assert result.passed and result.failures == []
    assert result.to_dict() == {"passed": True, "failures": []}


def test_thresholds_are_the_original_plans() -> None:
    limits = (GATE.min_win_rate, GATE.min_sharpe, GATE.max_drawdown, GATE.min_deflated_sharpe_probability)
    assert limits == (0.55, 1.5, 0.05, 0.95)
    with pytest.raises(ValueError, match="min_sharpe"):
        GateThresholds(min_sharpe=math.nan)


@pytest.mark.parametrize(
    ("key", "value", "failure"),
    [
        ("win_rate", 0.512, "win rate 51.2% <= 55%"),
        ("win_rate", 0.55, "win rate 55.0% <= 55%"),  # strict
        ("sharpe", 1.2, "Sharpe 1.20 <= 1.5"),
        ("max_drawdown", 0.061, "max drawdown 6.1% >= 5%"),
        ("max_drawdown", 0.05, "max drawdown 5.0% >= 5%"),
        ("deflated_sharpe_probability", 0.8123, "deflated Sharpe probability 0.812 <= 0.95"),
    ],
)
def test_each_failed_criterion_is_named(key: str, value: float, failure: str) -> None:
    result = check_gate({**PASSING, key: value})
    assert not result.passed
    assert result.failures == [failure]


def test_all_failures_are_listed_in_order() -> None:
    report = {
        "trades": 10,
        "win_rate": 0.4,
        "sharpe": -0.3,
        "max_drawdown": 0.2,
        "deflated_sharpe_probability": 0.1,
    }
    assert check_gate(report).failures == [
        "win rate 40.0% <= 55%",
        "Sharpe -0.30 <= 1.5",
        "max drawdown 20.0% >= 5%",
        "deflated Sharpe probability 0.100 <= 0.95",
    ]


def test_no_trades_fails_with_one_reason() -> None:
    report = {"trades": 0, "win_rate": None, "sharpe": None, "max_drawdown": 0.0}
    result = check_gate(report)
    assert not result.passed and result.failures == ["no trades"]


def test_nan_or_missing_metrics_fail_with_a_reason() -> None:
    result = check_gate({**PASSING, "sharpe": math.nan, "deflated_sharpe_probability": None})
    assert result.failures == [
        "Sharpe undefined (fewer than 2 sessions or no variance of daily P&L)",
        "deflated Sharpe probability undefined (fewer than 2 trades or no variance of per-trade P&L)",
    ]
    missing = dict(PASSING)
    del missing["deflated_sharpe_probability"]
    assert check_gate(missing).failures == ["deflated Sharpe probability undefined (missing from the report)"]


def test_custom_thresholds() -> None:
    lenient = GateThresholds(
        min_win_rate=0.5, min_sharpe=1.0, max_drawdown=0.1, min_deflated_sharpe_probability=0.9
    )
    assert check_gate({**PASSING, "win_rate": 0.52, "sharpe": 1.2}, lenient).passed
