"""A slow, readable reference of features.md (`qt-features/1`) used only to
check the C engine: each feature is computed from its definition at one row,
over plain arrays, with numpy's two-pass mean/std.  Nothing here is
incremental; nothing here is shared with the engine."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field

import numpy as np

EXCHANGE_TZ = zoneinfo.ZoneInfo("America/Sao_Paulo")
NAN = math.nan

# column names of qt65 in spec order (the real list lives in
# quantumtrader.features.schema; this copy only labels test failures)
QT65 = (
    [f"volatility_{n}" for n in (10, 20, 50, 100)]
    + [f"volatility_ratio_{n}" for n in (10, 20, 50, 100)]
    + ["volatility_gk", "bb_position"]
    + [f"returns_{n}" for n in (1, 2, 5, 10, 20, 50, 100)]
    + [f"log_returns_{n}" for n in (1, 5, 20)]
    + [f"order_flow_imbalance_{n}" for n in (10, 20, 50, 100)]
    + ["cumulative_signed_volume", "signed_volume", "volume_weighted_return", "agent_turnover"]
    + [f"volume_ratio_{n}" for n in (20, 50, 100)]
    + [f"volume_zscore_{n}" for n in (20, 50, 100)]
    + ["trade_intensity", "trade_intensity_ratio", "ma_5_20_ratio", "ma_20_50_ratio", "momentum_5_20",
       "momentum_20_50", "sharpe_5", "sharpe_20", "time_normalized"]
    + [f"top_buyer_{k}_active" for k in range(5)]
    + [f"top_seller_{k}_active" for k in range(5)]
    + ["top_buyers_count", "top_sellers_count", "buyer_changed", "seller_changed", "is_buyer_aggressor",
       "is_seller_aggressor", "minute", "hour", "day_of_week", "is_opening_30min", "is_closing_30min",
       "is_lunch_hour"]
)
BOOK12 = ["spread", "spread_ticks", "microprice_dev", "book_imbalance_1", "book_imbalance_5",
          "book_imbalance_10", "depth_bid_5", "depth_ask_5", "ofi_10", "ofi_50", "ofi_100",
          "book_update_rate"]
QT77 = QT65 + BOOK12
assert len(QT65) == 65 and len(QT77) == 77

STD_DERIVED = ("volatility", "bb_position", "volume_zscore", "sharpe")
FLAG_OR_COUNT = tuple(n for n in QT77 if n.startswith(("top_", "is_", "buyer_changed", "seller_changed"))) + (
    "minute", "hour", "day_of_week")


def safe_div(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return NAN
    return a / b if b != 0 else 0.0


@dataclass
class Session:
    """One session's trades, in stream order (ts already monotone)."""

    ts: np.ndarray  # int64 ns UTC
    price: np.ndarray  # float prices
    qty: np.ndarray
    buy: np.ndarray
    sell: np.ndarray
    code: np.ndarray
    open_s: int = 9 * 3600
    close_s: int = 18 * 3600
    _pre: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        sec = self.ts // 1_000_000_000
        # local clock: the session is one local date, so one offset per hour is plenty
        hours = np.unique(sec // 3600)
        off = {h: int(dt.datetime.fromtimestamp(int(h) * 3600, EXCHANGE_TZ).utcoffset().total_seconds())
               for h in hours}
        local = sec + np.array([off[h] for h in sec // 3600], dtype=np.int64)
        s = np.where(self.code == 2, 1, np.where(self.code == 3, -1, 0))
        # trades in each trade's 60-second window (arrival order: later trades of the same second excluded)
        idx = np.arange(len(sec))
        ti = idx - np.searchsorted(sec, sec - 59, side="left") + 1
        minute = local // 60
        bar_start = np.flatnonzero(np.r_[True, np.diff(minute) != 0])
        bar_end = np.r_[bar_start[1:], len(minute)]
        self._pre = dict(sec=sec, local=local, s=s, csv=np.cumsum(s * self.qty), ti=ti,
                         bar_of=np.cumsum(np.r_[True, np.diff(minute) != 0]) - 1,
                         bar_o=self.price[bar_start], bar_c=self.price[bar_end - 1],
                         bar_h=np.maximum.reduceat(self.price, bar_start),
                         bar_l=np.minimum.reduceat(self.price, bar_start))

    def __len__(self) -> int:
        return len(self.ts)


def _std(x: np.ndarray, ddof: int) -> float:
    return float(np.std(x, ddof=ddof))


def _rank(agents: np.ndarray, qty: np.ndarray) -> list:
    """Agents of a window ranked by volume, ties to the latest in the window."""
    vol: dict = {}
    last: dict = {}
    for j, (ag, q) in enumerate(zip(agents.tolist(), qty.tolist(), strict=True)):
        vol[ag] = vol.get(ag, 0) + q
        last[ag] = j
    return sorted(vol, key=lambda ag: (-vol[ag], -last[ag]))


def features_at(S: Session, i: int) -> np.ndarray:
    """The 65 model features at trade i (0-based) of the session."""
    pre = S._pre
    n = i + 1  # trades of the session so far
    lo = max(0, i - 500)
    p = S.price[lo : i + 1]
    q = S.qty[lo : i + 1].astype(np.float64)
    s = pre["s"][lo : i + 1]
    m = len(p)  # p[-1] is p_t
    r = p[1:] / p[:-1] - 1.0  # r[-1] is r_t

    def W(x: np.ndarray, N: int) -> np.ndarray:
        return x[-N:]

    def vol(N: int) -> float:
        return _std(W(r, N), 1) if n >= N + 1 else NAN

    f: dict = {}
    for N in (10, 20, 50, 100):
        f[f"volatility_{N}"] = vol(N)
    for N, M in ((10, 20), (20, 50), (50, 100), (100, 200)):
        f[f"volatility_ratio_{N}"] = safe_div(vol(N), vol(M))

    # Garman-Klass over completed one-minute bars
    b = pre["bar_of"][i]
    done = list(range(max(0, b - 20), b))
    if len(done) >= 5:
        terms = [0.5 * math.log(pre["bar_h"][k] / pre["bar_l"][k]) ** 2
                 - (2 * math.log(2) - 1) * math.log(pre["bar_c"][k] / pre["bar_o"][k]) ** 2 for k in done]
        f["volatility_gk"] = math.sqrt(max(0.0, float(np.mean(terms))))
    else:
        f["volatility_gk"] = NAN
    if n >= 20:
        mu, sd = float(np.mean(W(p, 20))), _std(W(p, 20), 0)
        f["bb_position"] = 0.5 if sd == 0 else (p[-1] - (mu - 2 * sd)) / (4 * sd)
    else:
        f["bb_position"] = NAN

    def lag(N: int) -> float:
        return p[m - 1 - N] if n >= N + 1 else NAN

    for N in (1, 2, 5, 10, 20, 50, 100):
        f[f"returns_{N}"] = p[-1] / lag(N) - 1
    for N in (1, 5, 20):
        f[f"log_returns_{N}"] = math.log(p[-1] / lag(N)) if n >= N + 1 else NAN
    for N in (10, 20, 50, 100):
        f[f"order_flow_imbalance_{N}"] = safe_div(float(np.sum(W(s * q, N))), float(np.sum(W(q, N)))) \
            if n >= N else NAN
    f["cumulative_signed_volume"] = float(pre["csv"][i])
    f["signed_volume"] = float(s[-1] * q[-1])
    f["volume_weighted_return"] = safe_div(float(np.sum(W(q[1:] * r, 20))), float(np.sum(W(q, 20)))) \
        if n >= 21 else NAN
    if n >= 100:
        bc = (S.buy[i - 99 : i + 1] != S.buy[i - 100 : i]).astype(float) if i >= 100 else \
            np.r_[0.0, (S.buy[1 : i + 1] != S.buy[:i]).astype(float)]
        sc = (S.sell[i - 99 : i + 1] != S.sell[i - 100 : i]).astype(float) if i >= 100 else \
            np.r_[0.0, (S.sell[1 : i + 1] != S.sell[:i]).astype(float)]
        f["agent_turnover"] = (float(np.mean(bc)) + float(np.mean(sc))) / 2
    else:
        f["agent_turnover"] = NAN
    for N in (20, 50, 100):
        if n >= N:
            mu = float(np.mean(W(q, N)))
            f[f"volume_ratio_{N}"] = safe_div(q[-1], mu)
            f[f"volume_zscore_{N}"] = safe_div(q[-1] - mu, _std(W(q, N), 1))
        else:
            f[f"volume_ratio_{N}"] = f[f"volume_zscore_{N}"] = NAN
    ti = pre["ti"][: i + 1] / 60.0
    f["trade_intensity"] = float(ti[-1])
    f["trade_intensity_ratio"] = safe_div(float(ti[-1]), float(np.mean(ti[-200:]))) if n >= 200 else NAN
    f["ma_5_20_ratio"] = float(np.mean(W(p, 5)) / np.mean(W(p, 20))) if n >= 20 else NAN
    f["ma_20_50_ratio"] = float(np.mean(W(p, 20)) / np.mean(W(p, 50))) if n >= 50 else NAN
    f["momentum_5_20"] = math.log(p[-1] / lag(5)) - (5 / 20) * math.log(p[-1] / lag(20)) if n >= 21 else NAN
    f["momentum_20_50"] = math.log(p[-1] / lag(20)) - (20 / 50) * math.log(p[-1] / lag(50)) \
        if n >= 51 else NAN
    for N in (5, 20):
        f[f"sharpe_{N}"] = safe_div(float(np.mean(W(r, N))), _std(W(r, N), 1)) if n >= N + 1 else NAN
    local_t = int(pre["local"][i] % 86400)
    f["time_normalized"] = min(1.0, max(0.0, (local_t - S.open_s) / (S.close_s - S.open_s)))

    if n >= 500:
        for side, agents in (("buyer", S.buy), ("seller", S.sell)):
            ranked = _rank(agents[i - 499 : i + 1], S.qty[i - 499 : i + 1])
            for k in range(5):
                f[f"top_{side}_{k}_active"] = float(k < len(ranked) and ranked[k] == agents[i])
            recent = set(agents[max(0, i - 19) : i + 1].tolist())
            f[f"top_{side}s_count"] = float(sum(ag in recent for ag in ranked[:5]))
    else:
        for side in ("buyer", "seller"):
            for k in range(5):
                f[f"top_{side}_{k}_active"] = NAN
            f[f"top_{side}s_count"] = NAN
    f["buyer_changed"] = float(i > 0 and S.buy[i] != S.buy[i - 1])
    f["seller_changed"] = float(i > 0 and S.sell[i] != S.sell[i - 1])
    f["is_buyer_aggressor"] = float(S.code[i] == 2)
    f["is_seller_aggressor"] = float(S.code[i] == 3)
    f["minute"] = float(local_t // 60 % 60)
    f["hour"] = float(local_t // 3600)
    f["day_of_week"] = float(dt.datetime.fromtimestamp(int(pre["sec"][i]), EXCHANGE_TZ).weekday())
    f["is_opening_30min"] = float(S.open_s <= local_t < S.open_s + 1800)
    f["is_closing_30min"] = float(S.close_s - 1800 <= local_t < S.close_s)
    f["is_lunch_hour"] = float(12 * 3600 <= local_t < 13 * 3600)
    return np.array([f[name] for name in QT65])


def compare(got: np.ndarray, want: np.ndarray, names: list, rel: float = 1e-9,
            rel_std: float = 1e-9) -> list:
    """Mismatches as readable strings: NaN positions, flags and counts exact,
    the rest to a relative tolerance (no absolute floor: an expected 0 must
    be exactly 0)."""
    got = np.atleast_2d(got)
    want = np.atleast_2d(want)
    out = []
    for j, name in enumerate(names):
        a, b = got[:, j], want[:, j]
        nan_bad = np.isnan(a) != np.isnan(b)
        both = ~np.isnan(a) & ~np.isnan(b)
        if name in FLAG_OR_COUNT:
            bad = both & (a != b)
        else:
            tol = rel_std if name.startswith(STD_DERIVED) else rel
            bad = both & ~(np.abs(a - b) <= tol * np.abs(b))
        for k in np.flatnonzero(nan_bad | bad)[:3]:
            out.append(f"{name} row {k}: got {a[k]!r} want {b[k]!r}")
    return out
