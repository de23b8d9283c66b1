"""A seeded synthetic WDO/WIN-like market with a planted, tunable order-flow signal.

Models and agents are tested on it: with ``signal > 0`` order-flow imbalance
predicts the next minutes' mid-price return and a model should learn that;
with ``signal = 0`` the mid is a martingale independent of everything a
model can observe, so nothing may be learnable.

The model, per session (all randomness from ``numpy.random.default_rng``
seeded by ``(seed, day index)``, so a seed gives identical arrays and a
longer run repeats the days of a shorter one):

* **Clock and activity.**  Regular-session hours come from the trading
  calendar (local ``America/Sao_Paulo``).  Activity per second is an
  intraday U-shape (busy open and close, a lunch dip) times a three-state
  Markov regime (quiet x0.4, normal, burst x2.8; mean stays of 6, 10 and
  1.5 minutes) times a few decaying news spikes.  Timestamps are whole
  milliseconds.
* **Order flow.**  Aggressive orders arrive as a Poisson process with that
  intensity; each hits one or more passive counterparties (a cluster of
  trades in the same millisecond at one price).  The aggressor side is
  persistent: P(buy) = 0.5 + 0.35 tanh(1.2 F) with F an Ornstein-Uhlenbeck
  process (5-minute time constant).  Quantities are log-normal (mean about
  5 contracts).  Brokers come from a skewed (Zipf-like) list, aggressors and
  passive sides with different weights; ~0.3 % of trades are crosses (code
  1, one broker on both sides) and each session opens with an auction print
  (code 4).
* **Mid price.**  The book shows a one-tick spread between mid steps (two
  ticks for the one action inside a step), so the mid lives on the half-tick
  grid and moves in
  steps of one tick at Poisson times whose rate follows activity^0.7 (daily
  volatility about 0.7 % for WDO).  A step is up with probability
  ``0.5 + 0.5 * clip(signal * G * I, -0.9, 0.9)``, where ``I`` in [-1, 1] is
  the order-flow imbalance of the aggressive flow, signed volume over volume
  with a 60-second exponential memory, taken at the end of the previous
  second.  With ``signal = 0`` steps are fair coin flips independent of the
  flow, the book and the brokers: the mid is a martingale.  Because F is
  persistent, the imbalance seen now carries into the next minutes, which
  is what makes the signal learnable at horizons of minutes.  ``G`` is
  1.63 / sqrt(mean steps per 5 minutes) (0.22 for WDO), so that for any
  instrument ``signal = 1`` gives a correlation of roughly 0.25-0.45 between
  the last 50 trades' signed volume and the next 5-minute mid return (about
  0.5 at ``signal = 2``); the drift also adds variance, about +30 % to the
  5-minute standard deviation at ``signal = 1``.
* **Book.**  ``levels`` price levels per side, quantities log-normal and
  mean-reverting to a depth profile through background adds and cancels
  (as many as make the session's book events ``book_events_per_trade`` (6)
  per trade, spread like activity, more near the touch; a background update
  never empties a level).  Every trade executes at the
  touch (buys at the ask, sells at the bid), so ``bid <= price <= ask``
  holds before it, and is followed by the update that removes its quantity
  from that level; when a queue is too short for a trade, a replenishing
  update adds to it first.  A mid step is four price-book actions in one
  millisecond (after an optional sweep trade at the touch): the touch level
  on the losing side is deleted before the new best level is added at the
  same price on the other side, then the far levels are trimmed and
  extended, so the book is never crossed nor locked even action by action.
  Queue sizes are independent of the coming steps, so book imbalance
  carries no signal either.
* **One book event per price-book action.**  ProfitDLL reports a B3 book
  change as one PriceBook callback per action (add, edit, delete), and the
  feature spec counts one book event per callback.  So every level change
  of this market is its own message (each ``L2_LEVEL`` record outside the
  opening snapshot is flagged ``LAST``), stamped in whole milliseconds like
  the live book records (the DLL's server clock): replayed through the
  ProfitDLL simulator, a synthetic log produces exactly the records, and so
  exactly the 77 features, that the log gives in batch.  (Imported captures
  of other venues keep their exchange's grouping: one exchange message, all
  its level changes, is one book event.)
* **Caveats for labels.**  Trade prices bounce between bid and ask: a label
  built from trade prices shows the usual half-spread reversal (lower after
  a buy) even at ``signal = 0``; mid-price labels have no such effect.  A
  sweep trade and the step it causes share one timestamp (as in real feeds,
  the trade arrives before the book message), so anchor a label at the mid
  after every event of the trade's timestamp, not at the mid between the
  trade and its book message.

Event conventions (``src/qtcore/market/qt_events.h``): per session a
``QT_EV_SESSION`` (``ref`` = YYYYMMDD), then a snapshot at the open
(``SNAPSHOT_BEGIN`` side 2, ``L2_LEVEL`` bids then asks best first,
``SNAPSHOT_END`` flagged LAST), then ``L2_LEVEL`` updates (one per message,
each flagged LAST; ``qty`` the new aggregate, 0 deletes, ``b`` the
order count) and ``QT_EV_TRADE`` records (``ref`` the session's trade
number, ``a``/``b`` buy/sell broker ids = indexes into ``agents``, ``code``
2 buy / 3 sell aggression, 1 cross, 4 auction).  Prices are in the
instrument's price unit; ``recv_ns`` is ``exch_ns`` plus a small latency,
non-decreasing; ``seq`` runs 1, 2, ... over the whole log.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quantumtrader.calendar import TradingCalendar, default_calendar, to_date
from quantumtrader.data.events import EVENT_DTYPE, PRICE_NONE, EventFlag, EventType, TradeType

SYNTH_MODEL = "qt-synth/1"
DEFAULT_START = dt.date(2026, 11, 3)

# --signal: 0 (none: the mid is a martingale) up to 2, the strength the
# generator is calibrated for (this module: rank correlation of
# order-flow imbalance with the next 5 minutes' return about 0.5 at 2).
SIGNAL_RANGE = (0.0, 2.0)
MIN_TRADES_PER_DAY = 100  # the generator's floor
# one session is generated in memory: peak RSS 0.25 GB at 60,000 trades and
# 0.68 GB at 200,000 (about 3 kB per trade with its book events), so five
# times WIN's default activity (about 1.6 GB) is the most a session may hold
MAX_TRADES_PER_DAY = 500_000

Progress = Callable[[int, int], None]

BROKERS = (
    "XP", "BTG Pactual", "Itau BBA", "Genial", "Clear", "Bradesco", "Safra", "UBS BB", "Goldman Sachs",
    "Morgan Stanley", "JP Morgan", "Santander", "Orama", "Ativa", "Nova Futura", "Terra", "Agora",
    "Necton", "Modal", "Credit Suisse", "BGC Liquidez", "Tullett Prebon", "Mirae", "Guide", "Inter",
    "Toro", "Citigroup", "Merrill Lynch", "Banco do Brasil", "Capital",
)


@dataclass(frozen=True)
class RootProfile:
    """Market parameters of one instrument family (prices in points)."""

    start_price: float
    daily_vol: float  # fraction of price per session
    trades_per_day: int
    level_qty: float  # typical touch queue, contracts
    overnight_vol: float


PROFILES = {
    "WDO": RootProfile(start_price=5500.0, daily_vol=0.007, trades_per_day=60_000, level_qty=150.0,
                       overnight_vol=0.004),
    "WIN": RootProfile(start_price=125_000.0, daily_vol=0.011, trades_per_day=100_000, level_qty=80.0,
                       overnight_vol=0.006),
}

# Signal gain, per sqrt(mid steps in 5 minutes): the drift a given imbalance
# produces over 5 minutes then has the same size relative to the 5-minute
# noise for every instrument (0.22 per step for WDO's ~55 steps).
_GAIN_5MIN = 1.63
_FLOW_TAU_S = 300.0
_IMBALANCE_TAU_S = 60.0
_CROSS_PROB = 0.003
_SWEEP_PROB = 0.75
_STEP_ACTIONS = 4  # a mid step: delete the touch, add the new touch, trim the far level, extend


@dataclass(frozen=True)
class SynthParams:
    days: int
    seed: int
    signal: float
    start_date: dt.date
    instrument: str
    trades_per_day: int
    book_events_per_trade: float = 6.0
    levels: int = 15

    def describe(self) -> str:
        return (
            f"synth {SYNTH_MODEL} seed={self.seed} signal={self.signal:g} days={self.days} "
            f"start={self.start_date.isoformat()} instrument={self.instrument} "
            f"trades_per_day={self.trades_per_day} book_events_per_trade={self.book_events_per_trade:g} "
            f"levels={self.levels}"
        )


@dataclass
class SyntheticMarket:
    """A generated market: the events and what a log header needs."""

    params: SynthParams
    events: np.ndarray
    agents: list[str]
    instrument: str
    price_unit: float
    tick_size: float
    calendar_version: str
    sessions: list[dt.date] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.params.describe()


def _validated(
    days: int, seed: int, signal: float, start_date: Any, instrument: str, trades_per_day: int | None,
    book_events_per_trade: float, levels: int, cal: TradingCalendar,
) -> SynthParams:
    if not isinstance(days, int | np.integer) or isinstance(days, bool) or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    signal = float(signal)
    if not math.isfinite(signal):
        raise ValueError(f"signal must be finite, got {signal!r}")
    root = cal.instrument(instrument).root  # raises a clear error for unknown instruments
    if root not in PROFILES:
        raise ValueError(f"no synthetic market profile for {root} (have {', '.join(PROFILES)})")
    tpd = PROFILES[root].trades_per_day if trades_per_day is None else int(trades_per_day)
    if tpd < 100:
        raise ValueError(f"trades_per_day must be >= 100, got {tpd}")
    if not book_events_per_trade >= 5.0:
        raise ValueError("book_events_per_trade must be >= 5")
    if not 5 <= levels <= 50:
        raise ValueError("levels must be between 5 and 50")
    start = DEFAULT_START if start_date is None else to_date(start_date)
    return SynthParams(int(days), int(seed), signal, start, instrument.upper(), tpd,
                       float(book_events_per_trade), int(levels))


def _agent_weights(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like broker weights in a random order (a different favourite each use)."""
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w[rng.permutation(n)] / w.sum()


def _activity(n_sec: int, local_open_s: int, rng: np.random.Generator) -> np.ndarray:
    """Relative activity per second of the session (mean 1)."""
    x = np.arange(n_sec, dtype=np.float64)
    local = local_open_s + x
    u = (0.6 + 1.4 * np.exp(-x / 1800.0) + 0.9 * np.exp(-(n_sec - x) / 2400.0)
         - 0.25 * np.exp(-0.5 * ((local - 12.5 * 3600) / 2400.0) ** 2))
    # Markov regimes: quiet / normal / burst, drawn as sojourns.
    mult = np.array([0.4, 1.0, 2.8])
    mean_stay = np.array([360.0, 600.0, 90.0])
    nxt = np.array([[0.0, 0.85, 0.15], [0.6, 0.0, 0.4], [0.2, 0.8, 0.0]])
    regime = np.empty(n_sec)
    s, t = 1, 0
    while t < n_sec:
        stay = max(1, int(rng.exponential(mean_stay[s])))
        regime[t:t + stay] = mult[s]
        t += stay
        s = int(rng.choice(3, p=nxt[s]))
    news = np.ones(n_sec)
    for start in rng.integers(0, n_sec, size=int(rng.integers(1, 4))):
        k = np.arange(n_sec - start)
        news[start:] += 3.0 * np.exp(-k / 60.0)
    a = u * regime * news
    return a / a.mean()


def _ou(n: int, tau: float, rng: np.random.Generator) -> np.ndarray:
    phi = math.exp(-1.0 / tau)
    eps = rng.standard_normal(n) * math.sqrt(1.0 - phi * phi)
    out = np.empty(n)
    f = rng.standard_normal()
    for i, e in enumerate(eps.tolist()):
        f = phi * f + e
        out[i] = f
    return out


def _ewm_ratio(signed: np.ndarray, vol: np.ndarray, tau: float) -> np.ndarray:
    """Per-second exponentially weighted signed-volume / volume."""
    phi = math.exp(-1.0 / tau)
    out = np.zeros(len(signed))
    s = v = 0.0
    for i, (x, y) in enumerate(zip(signed.tolist(), vol.tolist(), strict=True)):
        s = phi * s + x
        v = phi * v + y
        out[i] = s / v if v > 0 else 0.0
    return out


def _lognormal_int(rng: np.random.Generator, mean: float, sigma: float, size: int, cap: int) -> np.ndarray:
    mu = math.log(mean) - 0.5 * sigma * sigma
    return np.minimum(np.ceil(rng.lognormal(mu, sigma, size)), cap).astype(np.int64)


def _order_count(qty: int) -> int:
    return 1 + qty // 6


def _simulate_day(
    p: SynthParams, day: dt.date, day_index: int, cal: TradingCalendar, first_mid_ticks: int,
    n_agents: int,
) -> tuple[list[tuple[int, ...]], int, np.ndarray]:
    """One session's records as tuples (type, flags, ms, price, qty, code, side, ref, a, b) and the
    closing mid (lower touch, in ticks).  Prices in ticks; the caller converts."""
    rng = np.random.default_rng([p.seed, day_index])
    root = cal.instrument(p.instrument).root
    prof = PROFILES[root]
    spec = cal.instrument(root)
    open_ns, close_ns = cal.session_bounds_utc_ns(day, root)
    o_local, _ = cal.session_hours(day, root)
    n_sec = int((close_ns - open_ns) // 1_000_000_000)
    act = _activity(n_sec, o_local.hour * 3600 + o_local.minute * 60, rng)
    K = p.levels

    # ---- mid steps: Poisson times, rate following activity^0.7
    price_ticks = prof.start_price / spec.tick_size
    steps_per_day = (prof.daily_vol * price_ticks) ** 2
    vol_act = act**0.7
    step_rate = vol_act * (steps_per_day / vol_act.sum())
    n_step_s = rng.poisson(step_rate)
    step_sec = np.repeat(np.arange(n_sec), n_step_s)
    n_step = len(step_sec)
    step_ms = step_sec * 1000 + rng.integers(1, 1000, size=n_step)
    # Sweeps are trades too: trades_per_day counts them, the aggressive flow makes up the rest.
    sweeps = min(_SWEEP_PROB * steps_per_day, 0.5 * p.trades_per_day)
    sweep_prob = sweeps / steps_per_day
    flow_trades = p.trades_per_day - sweeps

    # ---- aggressive flow: parents per second, clusters of child trades
    mean_cluster = 1.0 / 0.6
    parents_per_s = act * (flow_trades / mean_cluster / n_sec)
    n_par_s = rng.poisson(parents_per_s)
    par_sec = np.repeat(np.arange(n_sec), n_par_s)
    n_par = len(par_sec)
    par_ms = par_sec * 1000 + rng.integers(1, 1000, size=n_par)  # never exactly at the open
    flow = _ou(n_sec, _FLOW_TAU_S, rng)
    p_buy = 0.5 + 0.35 * np.tanh(1.2 * flow[par_sec])
    par_buy = rng.random(n_par) < p_buy
    par_size = rng.geometric(0.6, size=n_par)
    aggr_w = _agent_weights(n_agents, 1.2, rng)
    pass_w = _agent_weights(n_agents, 0.9, rng)
    par_aggr = rng.choice(n_agents, size=n_par, p=aggr_w)

    child_par = np.repeat(np.arange(n_par), par_size)
    n_child = len(child_par)
    child_ms = par_ms[child_par]
    child_buy = par_buy[child_par]
    child_qty = _lognormal_int(rng, 5.0, 1.1, n_child, 300)
    child_pass = rng.choice(n_agents, size=n_child, p=pass_w)
    child_aggr = par_aggr[child_par]
    child_cross = rng.random(n_child) < _CROSS_PROB
    child_refill = _lognormal_int(rng, prof.level_qty * 0.5, 0.6, n_child, 5000)

    # ---- imbalance of the flow (per second, 60 s memory) sets the step directions
    sv = np.zeros(n_sec)
    vv = np.zeros(n_sec)
    sec_c = child_ms // 1000
    np.add.at(sv, sec_c, np.where(child_buy, child_qty, -child_qty))
    np.add.at(vv, sec_c, child_qty)
    imb = _ewm_ratio(sv, vv, _IMBALANCE_TAU_S)
    imb_prev = np.concatenate(([0.0], imb[:-1]))

    gain = _GAIN_5MIN / math.sqrt(steps_per_day * 300.0 / n_sec)
    bias = np.clip(p.signal * gain * imb_prev[step_sec], -0.9, 0.9)
    step_up = rng.random(n_step) < 0.5 + 0.5 * bias
    step_sweep = rng.random(n_step) < sweep_prob
    step_sweep_qty = _lognormal_int(rng, 6.0, 1.0, n_step, 500)
    step_new_touch = _lognormal_int(rng, prof.level_qty * 0.6, 0.6, n_step, 5000)
    step_new_far = _lognormal_int(rng, prof.level_qty * (1 + 0.1 * K), 0.5, n_step, 20000)
    step_aggr = rng.choice(n_agents, size=n_step, p=aggr_w)
    step_pass = rng.choice(n_agents, size=n_step, p=pass_w)

    # ---- background adds / cancels, more near the touch
    n_auc = int(rng.integers(1, 6))
    n_trades = n_child + n_auc + int(np.count_nonzero(step_sweep))
    # every flow/auction trade is one book event already and every step four (one per price-book
    # action); background makes up the rest
    n_bg = max(0, math.ceil(p.book_events_per_trade * n_trades) - (n_child + n_auc + _STEP_ACTIONS * n_step))
    bg_sec = np.repeat(np.arange(n_sec), rng.multinomial(n_bg, act / act.sum()))
    bg_ms = bg_sec * 1000 + rng.integers(1, 1000, size=n_bg)
    lvl_w = 0.8 ** np.arange(K)
    bg_level = rng.choice(K, size=n_bg, p=lvl_w / lvl_w.sum())
    bg_side = rng.integers(0, 2, size=n_bg)
    bg_u = rng.random(n_bg)
    bg_delta = _lognormal_int(rng, 8.0, 0.9, n_bg, 2000)

    # ---- opening auction prints
    auc_qty = _lognormal_int(rng, 20.0, 0.8, n_auc, 1000)
    auc_buyer = rng.choice(n_agents, size=n_auc, p=pass_w)
    auc_seller = rng.choice(n_agents, size=n_auc, p=pass_w)
    auc_side = int(rng.integers(0, 2))
    auc_refill = _lognormal_int(rng, prof.level_qty * 0.5, 0.6, n_auc, 5000)

    target = prof.level_qty * (1.0 + 0.1 * np.arange(K))
    bid_q = [int(x) for x in np.maximum(1, np.round(target * rng.lognormal(-0.1, 0.45, K)))]
    ask_q = [int(x) for x in np.maximum(1, np.round(target * rng.lognormal(-0.1, 0.45, K)))]
    target_l = target.tolist()

    # ---- merge everything in time (kind: 0 step, 1 trade, 2 background; same ms keeps this order)
    times = np.concatenate([step_ms, child_ms, bg_ms])
    kinds = np.concatenate([np.zeros(n_step, np.int64), np.ones(n_child, np.int64),
                            np.full(n_bg, 2, np.int64)])
    idx = np.concatenate([np.arange(n_step), np.arange(n_child), np.arange(n_bg)])
    order = np.lexsort((idx, kinds, times))
    t_l, k_l, i_l = times[order].tolist(), kinds[order].tolist(), idx[order].tolist()

    TRADE, L2 = int(EventType.TRADE), int(EventType.L2_LEVEL)
    LAST = int(EventFlag.LAST)
    BUY_AG, SELL_AG = int(TradeType.BUY_AGGRESSION), int(TradeType.SELL_AGGRESSION)
    CROSS, AUCTION = int(TradeType.CROSS), int(TradeType.AUCTION)

    out: list[tuple[int, ...]] = []
    emit = out.append
    B = first_mid_ticks  # best bid in ticks; best ask is B + 1
    trade_no = 0

    # session marker and snapshot at the open
    ymd = day.year * 10000 + day.month * 100 + day.day
    emit((int(EventType.SESSION), 0, 0, PRICE_NONE, 0, 0, 0, ymd, 0, 0))
    emit((int(EventType.SNAPSHOT_BEGIN), 0, 0, PRICE_NONE, 0, 0, 2, 0, 2 * K, 0))
    for j in range(K):
        emit((L2, 0, 0, B - j, bid_q[j], 0, 0, 0, 0, _order_count(bid_q[j])))
    for j in range(K):
        emit((L2, 0, 0, B + 1 + j, ask_q[j], 0, 1, 0, 0, _order_count(ask_q[j])))
    emit((int(EventType.SNAPSHOT_END), LAST, 0, PRICE_NONE, 0, 0, 2, 0, 0, 0))

    def take(ms: int, side: int, qty: int, refill: int) -> None:
        """Make the touch of ``side`` (0 bid, 1 ask) able to fill ``qty``: one message if short."""
        q = bid_q if side == 0 else ask_q
        if q[0] <= qty:
            q[0] = qty + refill
            emit((L2, LAST, ms, B if side == 0 else B + 1, q[0], 0, side, 0, 0, _order_count(q[0])))

    def deplete(ms: int, side: int, qty: int) -> None:
        q = bid_q if side == 0 else ask_q
        q[0] -= qty
        emit((L2, LAST, ms, B if side == 0 else B + 1, q[0], 0, side, 0, 0, _order_count(q[0])))

    for a in range(n_auc):
        qty = int(auc_qty[a])
        take(0, auc_side, qty, int(auc_refill[a]))
        trade_no += 1
        price = B + 1 if auc_side == 1 else B
        emit((TRADE, 0, 0, price, qty, AUCTION, 0, trade_no, int(auc_buyer[a]), int(auc_seller[a])))
        deplete(0, auc_side, qty)

    c_qty = child_qty.tolist()
    c_buy = child_buy.tolist()
    c_aggr = child_aggr.tolist()
    c_pass = child_pass.tolist()
    c_cross = child_cross.tolist()
    c_refill = child_refill.tolist()
    s_up = step_up.tolist()
    s_sweep = step_sweep.tolist()
    s_sq = step_sweep_qty.tolist()
    s_nt = step_new_touch.tolist()
    s_nf = step_new_far.tolist()
    s_ag = step_aggr.tolist()
    s_pa = step_pass.tolist()
    g_lvl = bg_level.tolist()
    g_side = bg_side.tolist()
    g_u = bg_u.tolist()
    g_d = bg_delta.tolist()
    K1 = K - 1

    for ms, kind, i in zip(t_l, k_l, i_l, strict=True):
        if kind == 1:  # a trade at the touch
            qty = c_qty[i]
            if c_buy[i]:
                take(ms, 1, qty, c_refill[i])
                trade_no += 1
                if c_cross[i]:
                    emit((TRADE, 0, ms, B + 1, qty, CROSS, 0, trade_no, c_aggr[i], c_aggr[i]))
                else:
                    emit((TRADE, 0, ms, B + 1, qty, BUY_AG, 0, trade_no, c_aggr[i], c_pass[i]))
                ask_q[0] -= qty
                emit((L2, LAST, ms, B + 1, ask_q[0], 0, 1, 0, 0, 1 + ask_q[0] // 6))
            else:
                take(ms, 0, qty, c_refill[i])
                trade_no += 1
                if c_cross[i]:
                    emit((TRADE, 0, ms, B, qty, CROSS, 0, trade_no, c_aggr[i], c_aggr[i]))
                else:
                    emit((TRADE, 0, ms, B, qty, SELL_AG, 0, trade_no, c_pass[i], c_aggr[i]))
                bid_q[0] -= qty
                emit((L2, LAST, ms, B, bid_q[0], 0, 0, 0, 0, 1 + bid_q[0] // 6))
        elif kind == 2:  # background add / cancel, never emptying a level
            side, j = g_side[i], g_lvl[i]
            q = bid_q if side == 0 else ask_q
            cur = q[j]
            d = g_d[i]
            p_add = 0.5 + 0.35 * (target_l[j] - cur) / target_l[j]
            if g_u[i] >= p_add and cur > 1:
                cur -= min(d, cur - 1)
            else:
                cur += d
            q[j] = cur
            price = B - j if side == 0 else B + 1 + j
            emit((L2, LAST, ms, price, cur, 0, side, 0, 0, 1 + cur // 6))
        else:  # the mid steps one tick
            if s_up[i]:
                a_px = B + 1
                if s_sweep[i]:
                    qty = min(s_sq[i], ask_q[0])
                    trade_no += 1
                    emit((TRADE, 0, ms, a_px, qty, BUY_AG, 0, trade_no, s_ag[i], s_pa[i]))
                # delete the ask touch, then the new best bid at that price: never crossed
                emit((L2, LAST, ms, a_px, 0, 0, 1, 0, 0, 0))
                emit((L2, LAST, ms, a_px, s_nt[i], 0, 0, 0, 0, 1 + s_nt[i] // 6))
                emit((L2, LAST, ms, B - K1, 0, 0, 0, 0, 0, 0))
                emit((L2, LAST, ms, a_px + K, s_nf[i], 0, 1, 0, 0, 1 + s_nf[i] // 6))
                del ask_q[0]
                ask_q.append(s_nf[i])
                bid_q.pop()
                bid_q.insert(0, s_nt[i])
                B += 1
            else:
                if s_sweep[i]:
                    qty = min(s_sq[i], bid_q[0])
                    trade_no += 1
                    emit((TRADE, 0, ms, B, qty, SELL_AG, 0, trade_no, s_pa[i], s_ag[i]))
                emit((L2, LAST, ms, B, 0, 0, 0, 0, 0, 0))
                emit((L2, LAST, ms, B, s_nt[i], 0, 1, 0, 0, 1 + s_nt[i] // 6))
                emit((L2, LAST, ms, B + 1 + K1, 0, 0, 1, 0, 0, 0))
                emit((L2, LAST, ms, B - K, s_nf[i], 0, 0, 0, 0, 1 + s_nf[i] // 6))
                del bid_q[0]
                bid_q.append(s_nf[i])
                ask_q.pop()
                ask_q.insert(0, s_nt[i])
                B -= 1

    return out, B, np.array([open_ns, close_ns], dtype=np.int64)


def _to_events(rows: list[tuple[int, ...]], open_ns: int, tick_units: int, rng: np.random.Generator,
               seq0: int, last_recv: int) -> np.ndarray:
    arr = np.array(rows, dtype=np.int64)
    n = len(arr)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["type"] = arr[:, 0]
    ev["flags"] = arr[:, 1]
    ev["exch_ns"] = open_ns + arr[:, 2] * 1_000_000
    price = arr[:, 3]
    ev["price"] = np.where(price == PRICE_NONE, PRICE_NONE, price * tick_units)
    ev["qty"] = arr[:, 4]
    ev["code"] = arr[:, 5]
    ev["side"] = arr[:, 6]
    ev["ref"] = arr[:, 7]
    ev["a"] = arr[:, 8]
    ev["b"] = arr[:, 9]
    ev["seq"] = np.arange(seq0, seq0 + n, dtype=np.uint64)
    latency = 1_000_000 + rng.exponential(400_000.0, n).astype(np.int64)
    recv = np.maximum.accumulate(ev["exch_ns"] + latency)
    ev["recv_ns"] = np.maximum(recv, last_recv)
    return ev


def iter_market_days(
    days: int, seed: int, signal: float, start_date: Any = None, instrument: str = "WDOFUT", *,
    trades_per_day: int | None = None, book_events_per_trade: float = 6.0, levels: int = 15,
    calendar: TradingCalendar | None = None,
) -> Iterator[tuple[SynthParams, dt.date, np.ndarray]]:
    """Generate session by session: ``(params, date, events)`` with ``seq`` continuing across days."""
    cal = calendar or default_calendar()
    p = _validated(days, seed, signal, start_date, instrument, trades_per_day, book_events_per_trade,
                   levels, cal)
    root = cal.instrument(p.instrument).root
    spec = cal.instrument(root)
    prof = PROFILES[root]
    tick_units = round(spec.tick_size / spec.price_unit)
    if abs(tick_units * spec.price_unit - spec.tick_size) > 1e-9:
        raise ValueError(f"{root}: tick size {spec.tick_size} is not a whole number of price units")
    day = p.start_date
    if not cal.is_session(day, root):
        day = cal.next_session(day)
    lower_touch = round(prof.start_price / spec.tick_size)
    seq, last_recv = 1, np.iinfo(np.int64).min
    n_agents = len(BROKERS)
    for k in range(p.days):
        if k:
            day = cal.next_session(day)
            gap = np.random.default_rng([p.seed, k, 1]).normal(0.0, prof.overnight_vol)
            lower_touch = max(10, round(lower_touch * (1.0 + gap)))
        rows, lower_touch, bounds = _simulate_day(p, day, k, cal, lower_touch, n_agents)
        ev = _to_events(rows, int(bounds[0]), tick_units, np.random.default_rng([p.seed, k, 2]), seq,
                        last_recv)
        seq += len(ev)
        last_recv = int(ev["recv_ns"][-1])
        yield p, day, ev


def simulate_market(
    days: int, seed: int, signal: float, start_date: Any = None, instrument: str = "WDOFUT", *,
    trades_per_day: int | None = None, book_events_per_trade: float = 6.0, levels: int = 15,
    calendar: TradingCalendar | None = None,
) -> SyntheticMarket:
    """The whole market in memory, without needing the event-log writer."""
    cal = calendar or default_calendar()
    parts, sessions = [], []
    params: SynthParams | None = None
    for params, day, ev in iter_market_days(  # noqa: B007 (params: the last one is used below)
        days, seed, signal, start_date, instrument, trades_per_day=trades_per_day,
        book_events_per_trade=book_events_per_trade, levels=levels, calendar=cal,
    ):
        parts.append(ev)
        sessions.append(day)
    assert params is not None
    spec = cal.instrument(params.instrument)
    return SyntheticMarket(params=params, events=np.concatenate(parts), agents=list(BROKERS),
                           instrument=params.instrument, price_unit=spec.price_unit,
                           tick_size=spec.tick_size, calendar_version=cal.version, sessions=sessions)


def _header(params: SynthParams, cal: TradingCalendar) -> Any:
    from quantumtrader.data.eventlog import EventLogHeader

    spec = cal.instrument(params.instrument)
    return EventLogHeader(instrument=params.instrument, price_unit=spec.price_unit, tick_size=spec.tick_size,
                          qty_scale=1.0, calendar_version=cal.version, source=params.describe(),
                          agents=list(BROKERS))


def generate_market(
    days: int, seed: int, signal: float, start_date: Any = None, instrument: str = "WDOFUT", **kwargs: Any,
) -> tuple[Any, np.ndarray]:
    """``(EventLogHeader, events)`` of a synthetic market (see the module doc)."""
    cal = kwargs.pop("calendar", None) or default_calendar()
    m = simulate_market(days, seed, signal, start_date, instrument, calendar=cal, **kwargs)
    return _header(m.params, cal), m.events


@dataclass(frozen=True)
class SynthSummary:
    path: str
    days: int
    sessions: list[dt.date]
    events: int
    trades: int
    book_events: int
    file_bytes: int

    @property
    def book_events_per_trade(self) -> float:
        return self.book_events / self.trades if self.trades else float("nan")


def write_synthetic_log(
    path: str | os.PathLike[str], days: int, seed: int, signal: float, start_date: Any = None,
    instrument: str = "WDOFUT", *, progress: Progress | None = None, **kwargs: Any,
) -> SynthSummary:
    """Generate session by session (memory stays one day) into a partial file
    renamed to ``path`` when complete (output_path.atomic_output);
    ``progress(sessions done, sessions)`` after each session, so a bar moves
    and Ctrl-C is taken between sessions.  ``kwargs`` go to the generator
    (``trades_per_day``, ``levels``, ``calendar`` ...).  Raises ValueError
    (bad arguments, or output_path.OutputPathError for a bad ``path``) or
    OSError."""
    from quantumtrader.data.eventlog import EventLogWriter
    from quantumtrader.output_path import atomic_output

    cal = kwargs.pop("calendar", None) or default_calendar()
    days_iter = iter_market_days(days, seed, signal, start_date, instrument, calendar=cal, **kwargs)
    n_ev = n_tr = n_book = 0
    sessions: list[dt.date] = []
    with atomic_output(path) as partial:
        writer = None
        try:
            for params, day, ev in days_iter:
                if writer is None:
                    writer = EventLogWriter(partial, _header(params, cal))
                writer.append(ev)
                sessions.append(day)
                n_ev += len(ev)
                n_tr += int(np.count_nonzero(ev["type"] == EventType.TRADE))
                n_book += count_book_messages(ev)
                if progress is not None:
                    progress(len(sessions), days)
        finally:
            if writer is not None:
                writer.close()
        size = os.path.getsize(partial)
    return SynthSummary(os.fspath(path), len(sessions), sessions, n_ev, n_tr, n_book, size)


def count_book_messages(events: np.ndarray) -> int:
    """Exchange messages of L2 level changes (records flagged LAST), snapshots excluded."""
    last = (events["flags"] & EventFlag.LAST) != 0
    return int(np.count_nonzero((events["type"] == EventType.L2_LEVEL) & last))
