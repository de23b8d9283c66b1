"""The promotion gate of the original plan: a model is promoted only if its out-of-sample trading
evaluation has win rate > 55 %, annualised Sharpe > 1.5, maximum drawdown < 5 % of capital and a
deflated-Sharpe probability > 0.95 (all strict).

:func:`check_gate` reads a report dict with the keys of ``TradingReport.to_dict()``
(``trades``, ``win_rate``, ``sharpe``, ``max_drawdown``) plus ``deflated_sharpe_probability``
(computed by the caller for the number of configurations tried). A metric that is missing,
None or NaN fails with a reason; a report with no trades fails with the single reason
"no trades". Each failure is one line naming the metric, its value and the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GATE", "GateResult", "GateThresholds", "check_gate"]


@dataclass(frozen=True)
class GateThresholds:
    """Strict bounds: win_rate > min_win_rate, sharpe > min_sharpe, max_drawdown < max_drawdown,
    deflated_sharpe_probability > min_deflated_sharpe_probability."""

    min_win_rate: float = 0.55
    min_sharpe: float = 1.5
    max_drawdown: float = 0.05
    min_deflated_sharpe_probability: float = 0.95

    def __post_init__(self) -> None:
        for name in ("min_win_rate", "min_sharpe", "max_drawdown", "min_deflated_sharpe_probability"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"gate threshold {name} must be a finite number, got {value!r}")


GATE = GateThresholds()


@dataclass(frozen=True)
class GateResult:
    passed: bool
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failures": list(self.failures)}


def _number(report: Mapping[str, Any], key: str) -> float | None:
    """The report's value as a float, or None when missing, None, NaN or not a number."""
    value = report.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _limit_pct(x: float) -> str:
    return f"{x * 100:g}%"


def check_gate(report: Mapping[str, Any], thresholds: GateThresholds = GATE) -> GateResult:
    """Apply the gate to ``report``; ``failures`` lists one line per failed criterion, e.g.
    ``"win rate 51.2% <= 55%"``, ``"Sharpe 1.20 <= 1.5"``, ``"max drawdown 6.1% >= 5%"``,
    ``"deflated Sharpe probability 0.812 <= 0.95"``, in that order."""
    trades = _number(report, "trades")
    if trades is not None and trades <= 0:
        return GateResult(False, ["no trades"])
    t = thresholds
    failures: list[str] = []

    win_rate = _number(report, "win_rate")
    if win_rate is None:
        failures.append("win rate undefined (no trades)")
    elif not win_rate > t.min_win_rate:
        failures.append(f"win rate {_pct(win_rate)} <= {_limit_pct(t.min_win_rate)}")

    sharpe = _number(report, "sharpe")
    if sharpe is None:
        failures.append("Sharpe undefined (fewer than 2 sessions or no variance of daily P&L)")
    elif not sharpe > t.min_sharpe:
        failures.append(f"Sharpe {sharpe:.2f} <= {t.min_sharpe:g}")

    drawdown = _number(report, "max_drawdown")
    if drawdown is None:
        failures.append("max drawdown undefined (missing from the report)")
    elif not drawdown < t.max_drawdown:
        failures.append(f"max drawdown {_pct(drawdown)} >= {_limit_pct(t.max_drawdown)}")

    dsr = _number(report, "deflated_sharpe_probability")
    if dsr is None:
        if "deflated_sharpe_probability" not in report:
            reason = "missing from the report"
        else:
            reason = "fewer than 2 trades or no variance of per-trade P&L"
        failures.append(f"deflated Sharpe probability undefined ({reason})")
    elif not dsr > t.min_deflated_sharpe_probability:
        failures.append(f"deflated Sharpe probability {dsr:.3f} <= {t.min_deflated_sharpe_probability:g}")

    return GateResult(not failures, failures)
