"""Triple-barrier labels and their average uniqueness (López de Prado, AFML ch. 3-4).

Contract of :func:`triple_barrier`
----------------------------------
Inputs are the engine's rows of one or more sessions, in order, and the decision
points chosen by the sampler:

- ``ts`` int64 (n,): UTC ns of each row's trade, non-decreasing.
- ``price`` int64 (n,): the trade price in the instrument's price units, > 0.
- ``session`` int64 (n,): the session (local date YYYYMMDD) of each row, non-decreasing.
- ``events`` int64 (m,): row indices of the decision points, strictly increasing.
- ``sigma`` float64 (m,): the recent volatility at each event (``cfg.volatility_feature``,
  log-price units per ``cfg.volatility_period_s`` seconds).

For an event at row i (time t0, price p0) the barrier width in log price is
``w = sigma * sqrt(horizon_s / volatility_period_s)``; the upper barrier is
``ln p0 + profit_take * w`` and the lower one ``ln p0 - stop_loss * w``. The
label looks at the rows j > i of the same session with ``ts[j] <= t0 + horizon``
(the horizon cut at the session's last row) in order: the first row whose
``ln price >= upper`` gives +1 (buy), the first whose ``ln price <= lower`` gives
-1 (sell), whichever comes first (one row cannot touch both, as upper > lower);
if none does, the label is 0 (hold) and the exit is the last of those rows
(the vertical barrier). ``log_return = ln price[exit] - ln p0``.

An event is invalid (``valid`` False, label 0, ``exit_index`` -1, ``exit_ns`` -1,
``log_return`` NaN) when sigma is NaN, infinite or <= 0, or when no later row of
its session lies within the horizon (the last row of a session, or a gap longer
than the horizon): there is then no price path to label.

Cost: O((n + m) log L) time for L the longest horizon window in rows, with one
sparse table of running maxima and one of minima per session (O(n_s log L)
float64 memory for a session of n_s rows); every event of a session is
resolved at once by binary lifting over those tables, so there is no Python loop
over events. ``bench/`` times it on a month of rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["BarrierConfig", "Labels", "average_uniqueness", "triple_barrier"]


@dataclass(frozen=True)
class BarrierConfig:
    """Barrier multiples and horizon of the triple-barrier labels.

    ``profit_take`` and ``stop_loss`` are multiples of the barrier width, ``horizon_s``
    the vertical barrier in seconds, ``volatility_feature`` the feature that gives sigma
    and ``volatility_period_s`` the period that feature is measured over (60 s for
    ``volatility_gk``, one-minute bars). All numbers must be positive and finite."""

    # defaults: 1.5 widths over 15 minutes, so a move pays more than the round
    # trip's costs (two ticks of slippage and fees: bench/ and README, "Models")
    profit_take: float = 1.5
    stop_loss: float = 1.5
    horizon_s: float = 900.0
    volatility_feature: str = "volatility_gk"
    volatility_period_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("profit_take", "stop_loss", "horizon_s", "volatility_period_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"barrier {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"barrier {name} must be positive and finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not isinstance(self.volatility_feature, str) or not self.volatility_feature:
            raise ValueError(
                f"barrier volatility_feature must be a feature name, got {self.volatility_feature!r}"
            )
        from quantumtrader.features.schema import schema_for

        if self.volatility_feature not in schema_for("qt77").names:
            raise ValueError(f"volatility_feature {self.volatility_feature!r} is not a feature of the engine")

    @property
    def width_scale(self) -> float:
        """sqrt(horizon_s / volatility_period_s): the factor from sigma to the barrier width."""
        return math.sqrt(self.horizon_s / self.volatility_period_s)

    @property
    def horizon_ns(self) -> int:
        return round(self.horizon_s * 1e9)


@dataclass(frozen=True)
class Labels:
    """Per-event results of :func:`triple_barrier`, all shaped (m,).

    ``label`` int8 in {-1, 0, +1}; ``exit_index`` int64 row of the touch or of the
    vertical barrier; ``exit_ns`` int64 its ts; ``log_return`` float64 from the
    event's price to the exit price; ``valid`` bool. Invalid events carry label 0,
    exit -1 and log_return NaN."""

    label: npt.NDArray[np.int8]
    exit_index: npt.NDArray[np.int64]
    exit_ns: npt.NDArray[np.int64]
    log_return: npt.NDArray[np.float64]
    valid: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.label.shape[0])


def _as_1d(name: str, values: npt.ArrayLike, dtype: type) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if dtype is np.int64 and arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=dtype)


def _first_crossing(
    table: list[np.ndarray], start: np.ndarray, stop: np.ndarray, level: np.ndarray, upward: bool
) -> np.ndarray:
    """First row j in [start, stop] with value >= level (upward) or <= level (downward).

    ``table[k][j]`` is the max (upward) or min (downward) of rows j .. j + 2**k - 1.
    Binary lifting: from the highest level down, skip a whole block of 2**k rows when
    it fits before ``stop`` and none of its rows crosses; the greedy skips build the
    longest prefix without a crossing, so ``pos`` ends on the first crossing, or past
    ``stop`` when there is none (returned as -1)."""
    pos = start.copy()
    for k in range(len(table) - 1, -1, -1):
        block = 1 << k
        fits = pos + block - 1 <= stop
        idx = np.where(fits, pos, 0)
        extreme = table[k][idx]
        no_cross = extreme < level if upward else extreme > level
        pos = np.where(fits & no_cross, pos + block, pos)
    return np.where(pos <= stop, pos, -1)


def _sparse_table(values: np.ndarray, levels: int, reduce: np.ufunc) -> list[np.ndarray]:
    table = [values]
    for k in range(1, levels):
        prev = table[-1]
        half = 1 << (k - 1)
        table.append(reduce(prev[:-half], prev[half:]) if prev.size > half else prev[:0])
    return table


def triple_barrier(
    ts: npt.ArrayLike,
    price: npt.ArrayLike,
    session: npt.ArrayLike,
    events: npt.ArrayLike,
    sigma: npt.ArrayLike,
    cfg: BarrierConfig,
) -> Labels:
    """Label each event with the first barrier its price path touches (see the module docstring).

    Raises ValueError (one line) on inputs that break the contract: lengths differ,
    ts or session decreasing, a price <= 0, events not strictly increasing or out of range."""
    ts_a = _as_1d("ts", ts, np.int64)
    price_a = _as_1d("price", price, np.int64)
    session_a = _as_1d("session", session, np.int64)
    events_a = _as_1d("events", events, np.int64)
    sigma_a = _as_1d("sigma", sigma, np.float64)
    n, m = ts_a.size, events_a.size
    if price_a.size != n or session_a.size != n:
        raise ValueError(
            f"ts, price and session must have one entry per row: {n}, {price_a.size}, {session_a.size}"
        )
    if sigma_a.size != m:
        raise ValueError(f"sigma must have one entry per event: {m} events, {sigma_a.size} sigmas")
    if n and np.any(np.diff(ts_a) < 0):
        raise ValueError("ts must be non-decreasing (rows in engine order)")
    if n and np.any(np.diff(session_a) < 0):
        raise ValueError("session must be non-decreasing (rows in engine order)")
    if n and np.any(price_a <= 0):
        raise ValueError(f"price must be > 0 (row {int(np.argmax(price_a <= 0))})")
    if m and (events_a[0] < 0 or events_a[-1] >= n):
        raise ValueError(f"event row indices must be within [0, {n}), got {events_a.min()}..{events_a.max()}")
    if m > 1 and np.any(np.diff(events_a) <= 0):
        raise ValueError("events must be strictly increasing row indices")

    label = np.zeros(m, dtype=np.int8)
    exit_index = np.full(m, -1, dtype=np.int64)
    log_return = np.full(m, np.nan, dtype=np.float64)
    valid = np.zeros(m, dtype=np.bool_)
    if m == 0:
        return Labels(label, exit_index, exit_index.copy(), log_return, valid)

    log_price = np.log(price_a.astype(np.float64))
    # Last row of each event's session, and the last row within its horizon.
    session_last = np.searchsorted(session_a, session_a[events_a], side="right") - 1
    horizon_end = np.searchsorted(ts_a, ts_a[events_a] + cfg.horizon_ns, side="right") - 1
    stop = np.minimum(session_last, horizon_end)
    start = events_a + 1
    with np.errstate(invalid="ignore"):
        sigma_ok = np.isfinite(sigma_a) & (sigma_a > 0)
    ok = sigma_ok & (start <= stop)

    width = np.where(ok, sigma_a, 0.0) * cfg.width_scale
    p0 = log_price[events_a]
    upper = p0 + cfg.profit_take * width
    lower = p0 - cfg.stop_loss * width

    # One pass per session keeps the sparse tables at the size of a session.
    ev_session = session_a[events_a]
    bounds = np.flatnonzero(np.diff(ev_session)) + 1
    for lo_e, hi_e in zip(np.r_[0, bounds], np.r_[bounds, m], strict=True):
        sel = np.arange(lo_e, hi_e)[ok[lo_e:hi_e]]
        if sel.size == 0:
            continue
        first_row = int(np.searchsorted(session_a, ev_session[lo_e], side="left"))
        last_row = int(session_last[lo_e])
        values = log_price[first_row : last_row + 1]
        s, e = start[sel] - first_row, stop[sel] - first_row
        levels = int(np.max(e - s + 1)).bit_length()
        up = _first_crossing(_sparse_table(values, levels, np.maximum), s, e, upper[sel], upward=True)
        down = _first_crossing(_sparse_table(values, levels, np.minimum), s, e, lower[sel], upward=False)
        big = np.iinfo(np.int64).max
        up_key, down_key = np.where(up >= 0, up, big), np.where(down >= 0, down, big)
        touched = np.minimum(up_key, down_key)
        label[sel] = np.where(touched == big, 0, np.where(up_key < down_key, 1, -1))
        exit_index[sel] = np.where(touched == big, e, touched) + first_row
        valid[sel] = True

    exit_ns = np.full(m, -1, dtype=np.int64)
    exit_ns[valid] = ts_a[exit_index[valid]]
    log_return[valid] = log_price[exit_index[valid]] - p0[valid]
    return Labels(label, exit_index, exit_ns, log_return, valid)


def average_uniqueness(
    start_index: npt.ArrayLike, exit_index: npt.ArrayLike, n_rows: int
) -> npt.NDArray[np.float64]:
    """Average uniqueness of each label over its rows (AFML 4.4).

    Label k spans rows ``start_index[k] .. exit_index[k]`` inclusive. The concurrency
    c_t of row t is the number of labels whose span covers t; the weight of label k
    is the mean of 1 / c_t over its rows, in (0, 1] (1 for a label that shares no row).
    Computed with cumulative sums in O(n_rows + m). Raises ValueError when a span is
    empty (exit < start) or outside [0, n_rows)."""
    s = _as_1d("start_index", start_index, np.int64)
    e = _as_1d("exit_index", exit_index, np.int64)
    if s.size != e.size:
        raise ValueError(f"start_index and exit_index differ in length: {s.size} != {e.size}")
    if isinstance(n_rows, bool) or int(n_rows) != n_rows or n_rows < 0:
        raise ValueError(f"n_rows must be a non-negative integer, got {n_rows!r}")
    n_rows = int(n_rows)
    if s.size == 0:
        return np.zeros(0, dtype=np.float64)
    if np.any(e < s):
        k = int(np.argmax(e < s))
        raise ValueError(f"label {k} ends before it starts: rows {int(s[k])}..{int(e[k])}")
    if s.min() < 0 or e.max() >= n_rows:
        raise ValueError(f"label rows must lie within [0, {n_rows}), got {int(s.min())}..{int(e.max())}")
    delta = np.bincount(s, minlength=n_rows + 1) - np.bincount(e + 1, minlength=n_rows + 1)
    concurrency = np.cumsum(delta[:-1])
    inverse = np.zeros(n_rows, dtype=np.float64)
    covered = concurrency > 0
    inverse[covered] = 1.0 / concurrency[covered]
    cumulative = np.concatenate(([0.0], np.cumsum(inverse)))
    return (cumulative[e + 1] - cumulative[s]) / (e - s + 1).astype(np.float64)
