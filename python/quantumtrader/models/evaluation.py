"""Trading evaluation of a model's signal at its decision points, with B3 costs, and the deflated Sharpe.

Contract of :func:`evaluate_trades`
-----------------------------------
Inputs are one entry per decision point, in time order (``entry_ns`` non-decreasing):
the decision time and price (``entry_price``, int64 price units), the time and price at
which its label resolved (``exit_ns``/``exit_price``: the triple barrier's exit), the
signal ``side`` (int8: +1 buy, -1 sell, 0 none) and the ``session`` (YYYYMMDD).

- One contract at a time, never overlapping: a decision point with a non-zero side
  opens a trade only if no trade is open, i.e. its ``entry_ns`` is strictly after the
  open trade's ``exit_ns``; signals while a trade is open are skipped.
- Prices in points are ``units * price_unit``. The entry fills ``slippage_ticks`` ticks
  against the trade (buy higher, sell lower), the exit likewise (buy exits lower, sell
  exits higher). ``gross`` P&L is at the filled prices (slippage included):
  ``side * (exit_fill - entry_fill) * point_value``; fees are ``fee_per_contract_brl``
  on each side (2 per trade); ``net = gross - fees``. ``slippage_brl`` reports what the
  slippage cost, already inside gross.
- A trade is a win when its net P&L is > 0. ``profit_factor`` = sum of net gains / sum of
  net losses (inf with gains and no loss, NaN with neither).
- Daily P&L: net P&L of the trades entered in each session, over every session present
  in ``session`` (a session with decision points and no trade is a zero day). ``sharpe``
  = mean / std (ddof 1) of daily P&L / capital times sqrt(252), NaN with fewer than 2
  sessions or zero variance. ``sharpe_per_trade`` = mean / std (ddof 1) of per-trade net
  P&L, not annualised (the SR the deflated Sharpe takes), NaN with fewer than 2 trades.
  ``skew`` and ``kurtosis`` are the sample moments of per-trade net P&L (kurtosis not
  in excess: 3 for a normal), NaN with fewer than 3 trades or zero variance.
- Equity starts at ``capital_brl`` and moves by each trade's net P&L at its exit;
  ``max_drawdown`` = the largest fall from a running peak of that curve (start
  included), as a fraction of ``capital_brl``; 0 with no trades.

:meth:`TradingReport.to_dict` is JSON-safe: NaN and inf become ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from quantumtrader.calendar import default_calendar

__all__ = [
    "TradingCosts",
    "TradingReport",
    "costs_for",
    "deflated_sharpe_probability",
    "evaluate_trades",
    "expected_max_sharpe",
    "signal_from_proba",
]

EULER_GAMMA = 0.5772156649015329
TRADING_DAYS_PER_YEAR = 252


def _positive(name: str, value: float, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {value!r}")
    return value


@dataclass(frozen=True)
class TradingCosts:
    """Costs of one contract: tick size (points), BRL per point, fee per contract per side, slippage."""

    tick_size: float
    point_value_brl: float
    fee_per_contract_brl: float
    slippage_ticks: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tick_size", _positive("tick_size", self.tick_size))
        object.__setattr__(self, "point_value_brl", _positive("point_value_brl", self.point_value_brl))
        fee = _positive("fee_per_contract_brl", self.fee_per_contract_brl, allow_zero=True)
        object.__setattr__(self, "fee_per_contract_brl", fee)
        slip = _positive("slippage_ticks", self.slippage_ticks, allow_zero=True)
        object.__setattr__(self, "slippage_ticks", slip)


def costs_for(
    root: str, fee_per_contract_brl: float | None = None, slippage_ticks: float = 1.0
) -> TradingCosts:
    """The costs of ``root`` (or a ticker of it): tick size and point value from the B3 calendar,
    the fee from ``fee_per_contract_brl`` or the B3 fee table (``portfolio/b3_fees.toml``: its
    latest day-trade fee plus the broker's, per contract and side; dated and editable).

    Raises ValueError (one line) for an instrument the calendar does not know, or one the fee
    table has no fee for when none is given."""
    from quantumtrader.portfolio.fees import default_fee_table

    spec = default_calendar().instrument(root)  # UnknownInstrumentError is a one-line ValueError
    if fee_per_contract_brl is None:
        fee_per_contract_brl = float(default_fee_table().fee(spec.root, day_trade=True))
    return TradingCosts(spec.tick_size, spec.point_value, fee_per_contract_brl, slippage_ticks)


def signal_from_proba(proba: npt.ArrayLike, min_confidence: float) -> npt.NDArray[np.int8]:
    """Side per row from (n, 3) sell/hold/buy probabilities: -1 (sell) or +1 (buy) when the argmax
    class is sell or buy and its probability is >= ``min_confidence``; else 0. A row with NaN
    (not predicted) gives 0. Ties between classes go to the lowest index (sell before hold)."""
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"proba must be shaped (n, 3) (sell, hold, buy), got {p.shape}")
    confidence = _positive("min_confidence", min_confidence, allow_zero=True)
    if confidence > 1:
        raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence!r}")
    side = np.zeros(p.shape[0], dtype=np.int8)
    if p.shape[0] == 0:
        return side
    predicted = ~np.isnan(p).any(axis=1)
    best = np.argmax(np.where(predicted[:, None], p, 0.0), axis=1)
    top = p[np.arange(p.shape[0]), best]
    fire = predicted & (best != 1) & (top >= confidence)
    side[fire] = (best[fire] - 1).astype(np.int8)
    return side


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class TradingReport:
    """Result of :func:`evaluate_trades` (see the module docstring for every definition)."""

    trades: int
    wins: int
    win_rate: float
    net_pnl_brl: float
    gross_pnl_brl: float
    fees_brl: float
    slippage_brl: float
    profit_factor: float
    sharpe: float
    sharpe_per_trade: float
    skew: float
    kurtosis: float
    max_drawdown: float
    max_drawdown_brl: float
    days: int
    capital_brl: float
    trade_index: npt.NDArray[np.int64] = field(repr=False)  # decision point of each trade
    trade_side: npt.NDArray[np.int8] = field(repr=False)
    trade_pnl_brl: npt.NDArray[np.float64] = field(repr=False)  # net, per trade
    equity_t_ns: npt.NDArray[np.int64] = field(repr=False)  # exit time of each trade
    equity_brl: npt.NDArray[np.float64] = field(repr=False)  # capital after each trade

    def deflated_sharpe_probability(self, n_trials: int = 1, sr_variance: float = 0.0) -> float:
        """:func:`deflated_sharpe_probability` of this report's per-trade Sharpe (NaN if undefined)."""
        return deflated_sharpe_probability(
            self.sharpe_per_trade, self.trades, self.skew, self.kurtosis, n_trials, sr_variance
        )

    def to_dict(self, curves: bool = True) -> dict[str, Any]:
        """JSON-safe dict (NaN/inf -> None); ``curves`` adds the per-trade and equity arrays as lists."""
        out: dict[str, Any] = {
            name: _json_safe(getattr(self, name))
            for name in (
                "trades",
                "wins",
                "win_rate",
                "net_pnl_brl",
                "gross_pnl_brl",
                "fees_brl",
                "slippage_brl",
                "profit_factor",
                "sharpe",
                "sharpe_per_trade",
                "skew",
                "kurtosis",
                "max_drawdown",
                "max_drawdown_brl",
                "days",
                "capital_brl",
            )
        }
        if curves:
            out["trade_index"] = [int(v) for v in self.trade_index]
            out["trade_side"] = [int(v) for v in self.trade_side]
            out["trade_pnl_brl"] = [float(v) for v in self.trade_pnl_brl]
            out["equity_t_ns"] = [int(v) for v in self.equity_t_ns]
            out["equity_brl"] = [float(v) for v in self.equity_brl]
        return out


def _int_array(name: str, values: npt.ArrayLike, m: int | None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    if m is not None and arr.size != m:
        raise ValueError(f"{name} has {arr.size} entries, expected one per decision point ({m})")
    return arr.astype(np.int64)


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def evaluate_trades(
    entry_ns: npt.ArrayLike,
    entry_price: npt.ArrayLike,
    exit_ns: npt.ArrayLike,
    exit_price: npt.ArrayLike,
    side: npt.ArrayLike,
    session: npt.ArrayLike,
    costs: TradingCosts,
    price_unit: float,
    capital_brl: float = 100_000.0,
) -> TradingReport:
    """Trade ``side`` at the decision points with one contract and B3 costs (module docstring).

    Raises ValueError (one line) on lengths that differ, decision points out of time order,
    a signalled point whose exit precedes its entry or whose prices are not > 0, or sides
    other than -1/0/+1."""
    t_in = _int_array("entry_ns", entry_ns, None)
    m = t_in.size
    p_in = _int_array("entry_price", entry_price, m)
    t_out = _int_array("exit_ns", exit_ns, m)
    p_out = _int_array("exit_price", exit_price, m)
    sd = _int_array("side", side, m)
    sess = _int_array("session", session, m)
    unit = _positive("price_unit", price_unit)
    capital = _positive("capital_brl", capital_brl)
    if m > 1 and np.any(np.diff(t_in) < 0):
        raise ValueError("entry_ns must be non-decreasing (decision points in time order)")
    if np.any((sd < -1) | (sd > 1)):
        raise ValueError("side must be -1 (sell), 0 (none) or +1 (buy)")
    signalled = np.flatnonzero(sd != 0)
    if np.any(t_out[signalled] < t_in[signalled]):
        k = int(signalled[np.argmax(t_out[signalled] < t_in[signalled])])
        raise ValueError(f"decision point {k} exits before it enters")
    if np.any(p_in[signalled] <= 0) or np.any(p_out[signalled] <= 0):
        raise ValueError("entry and exit prices of signalled decision points must be > 0")

    # Non-overlapping trades: jump from each trade to the first signal strictly after its exit.
    taken: list[int] = []
    pos = 0
    signal_ns = t_in[signalled]
    while pos < signalled.size:
        k = int(signalled[pos])
        taken.append(k)
        pos = int(np.searchsorted(signal_ns, t_out[k], side="right"))
    idx = np.asarray(taken, dtype=np.int64)

    slip_points = costs.slippage_ticks * costs.tick_size
    trade_side = sd[idx].astype(np.int8)
    entry_fill = p_in[idx] * unit + trade_side * slip_points
    exit_fill = p_out[idx] * unit - trade_side * slip_points
    gross = trade_side * (exit_fill - entry_fill) * costs.point_value_brl
    fees = np.full(idx.size, 2.0 * costs.fee_per_contract_brl)
    net = gross - fees
    n_trades = int(idx.size)
    wins = int((net > 0).sum())
    gains, losses = float(net[net > 0].sum()), float(-net[net < 0].sum())
    no_loss = math.inf if gains > 0 else math.nan
    profit_factor = gains / losses if losses > 0 else no_loss

    days, day_of = np.unique(sess, return_inverse=True)
    daily = np.bincount(day_of[idx], weights=net, minlength=days.size) / capital
    sharpe = math.nan
    if days.size >= 2 and daily.std(ddof=1) > 0:
        sharpe = float(daily.mean() / daily.std(ddof=1) * math.sqrt(TRADING_DAYS_PER_YEAR))
    sharpe_per_trade = skew = kurtosis = math.nan
    if n_trades >= 2 and net.std(ddof=1) > 0:
        sharpe_per_trade = float(net.mean() / net.std(ddof=1))
        if n_trades >= 3:
            skew = float(stats.skew(net))
            kurtosis = float(stats.kurtosis(net, fisher=True) + 3.0)

    equity = capital + np.cumsum(net)
    peak = np.maximum.accumulate(np.concatenate(([capital], equity)))[1:]
    drawdown_brl = float(np.max(peak - equity)) if n_trades else 0.0

    return TradingReport(
        trades=n_trades,
        wins=wins,
        win_rate=_ratio(wins, n_trades),
        net_pnl_brl=float(net.sum()),
        gross_pnl_brl=float(gross.sum()),
        fees_brl=float(fees.sum()),
        slippage_brl=float(2.0 * slip_points * costs.point_value_brl * n_trades),
        profit_factor=profit_factor,
        sharpe=sharpe,
        sharpe_per_trade=sharpe_per_trade,
        skew=skew,
        kurtosis=kurtosis,
        max_drawdown=drawdown_brl / capital,
        max_drawdown_brl=drawdown_brl,
        days=int(days.size),
        capital_brl=capital,
        trade_index=idx,
        trade_side=trade_side,
        trade_pnl_brl=net.astype(np.float64),
        equity_t_ns=t_out[idx],
        equity_brl=equity.astype(np.float64),
    )


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` independent trials whose true SR is 0 and
    whose estimated SRs have variance ``sr_variance`` (Bailey & López de Prado 2014, eq. 2):
    sqrt(V) * ((1 - gamma) * Z^-1(1 - 1/N) + gamma * Z^-1(1 - 1/(N e))), gamma the
    Euler-Mascheroni constant. 0 for one trial."""
    if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    variance = _positive("sr_variance", sr_variance, allow_zero=True)
    if n_trials == 1:
        return 0.0
    n = float(n_trials)
    z1 = stats.norm.ppf(1.0 - 1.0 / n)
    z2 = stats.norm.ppf(1.0 - 1.0 / (n * math.e))
    return math.sqrt(variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def deflated_sharpe_probability(
    sr: float, n_obs: int, skew: float, kurtosis: float, n_trials: int, sr_variance: float
) -> float:
    """Probability that the true Sharpe ratio exceeds what the best of ``n_trials`` would show by
    luck (Bailey & López de Prado 2014, "The Deflated Sharpe Ratio", eq. 2 and the PSR):

        SR0 = expected_max_sharpe(n_trials, sr_variance)      (0 when n_trials == 1: plain PSR)
        DSR = Z((sr - SR0) * sqrt(n_obs - 1) / sqrt(1 - skew * sr + (kurtosis - 1) / 4 * sr**2))

    ``sr`` is per observation (per trade here), not annualised, like ``sr_variance`` (the
    variance of the SRs across the trials); ``kurtosis`` is not in excess (3 for a normal).
    Returns NaN when sr, skew or kurtosis is NaN, n_obs < 2, or the variance term is <= 0."""
    if isinstance(n_obs, bool) or int(n_obs) != n_obs:
        raise ValueError(f"n_obs must be an integer, got {n_obs!r}")
    benchmark = expected_max_sharpe(n_trials, sr_variance)
    values = (sr, skew, kurtosis)
    if n_obs < 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        return math.nan
    denominator = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr
    if denominator <= 0:
        return math.nan
    z = (sr - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(denominator)
    return float(stats.norm.cdf(z))
