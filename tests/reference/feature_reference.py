"""Slow, readable reference implementation of feature spec ``qt-features/1``.

Written straight from ``/work/shared/spec/features.md`` to check the C engine
against; it shares no code with it.  Every window is recomputed from its raw
values at every trade (plain lists, ``math.fsum``, two-pass standard deviations),
so there is nothing to drift and nothing clever to get wrong.  Speed is not a
goal.

Readings of the spec where it leaves room (each is also in the report of the
change that added this file):

* One clock for all events: a trade's or book event's timestamp earlier than
  the latest timestamp seen (of either kind) is taken as that latest one and
  counted in ``timestamps_clamped``.  One clock keeps "book events applied before
  trade t in the window" and "a new local date" consistent across both streams.
* A corrected trade (``is_edit=True``, ProfitDLL ``bEdit``) is counted in
  ``edits_seen`` and produces no row; it touches no state (windows, clock,
  session).  The spec says it "does not change features already emitted" and
  features are evaluated "at every trade"; an edit is a correction of a trade
  already evaluated, not a new trade.
* A book record that changes no level is not a book event: it touches nothing,
  not even the clock.  The record's level changes are judged against the book it
  would apply to, which is the empty book when its timestamp starts a new local
  date.
* CKS OFI: ``bb_(n-1)`` etc. are the best levels of the book the event found
  (the book just before it), whether or not the event before it produced a term.
* The 12 book features are computed whenever the ``qt77`` set is asked for; with
  no book event yet in the session the book is empty, so spreads are NaN,
  imbalances and depths 0, OFI NaN and the update rate 0, exactly per the rules.
* Session hours are one (open, close) pair for every date (no trading calendar
  here); trades before open or after close that reach the stream are evaluated
  like any other (``time_normalized`` clips).  After-hours trades are dropped by
  the caller (``reference.profit_export``), as the spec puts it upstream.
* Sums are ``math.fsum`` (correctly rounded) and agent volumes exact, so the
  reference is at least as accurate as any engine it checks.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction
from zoneinfo import ZoneInfo

from quantumtrader.features.schema import QT65_NAMES, QT77_NAMES

NAN = math.nan
NS_PER_SECOND = 1_000_000_000

RANKING_WINDOW = 500
TRADE_HISTORY = RANKING_WINDOW  # the longest window over trades
TRADE_INTENSITY_SECONDS = 60
BOOK_UPDATE_SECONDS = 10
GK_BARS = 20
GK_MIN_BARS = 5
OFI_LONGEST = 100

BID = 0  # same codes as quantumtrader.data.events.Side
ASK = 1


# ---------------------------------------------------------------- arithmetic


def safe_div(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return NAN
    if b == 0:
        return 0.0
    return a / b


def mean(values: Sequence[float] | None) -> float:
    if values is None:
        return NAN
    return math.fsum(values) / len(values)


def _all_equal(values: Sequence[float]) -> bool:
    return all(v == values[0] for v in values)


def _two_pass_std(values: Sequence[float] | None, ddof: int) -> float:
    """Two-pass standard deviation, exactly 0 iff all values are equal.

    The equality test is needed: the float mean of equal values need not equal
    them (ten 0.1 sum to 0.9999999999999999), and then the deviations are not 0."""
    if values is None or len(values) <= ddof:
        return NAN
    if _all_equal(values):
        return 0.0
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (len(values) - ddof))


def std(values: Sequence[float] | None) -> float:
    """Sample standard deviation (ddof=1)."""
    return _two_pass_std(values, 1)


def pstd(values: Sequence[float] | None) -> float:
    """Population standard deviation (ddof=0)."""
    return _two_pass_std(values, 0)


def window_sum(values: Sequence[float] | None) -> float:
    return NAN if values is None else math.fsum(values)


def _flag(condition: bool) -> float:
    return 1.0 if condition else 0.0


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class TradeRecord:
    """One trade of the session, with the per-trade values the windows are taken of."""

    price: float
    qty: float  # contracts; fractional quantities (crypto captures) are accepted
    buy_agent: Hashable
    sell_agent: Hashable
    sign: int  # s_i
    ret: float | None  # r_i; None for the session's first trade
    buyer_changed: int
    seller_changed: int
    trade_intensity: float


@dataclass
class MinuteBar:
    key: tuple[date, int, int]  # local (date, hour, minute)
    open: float
    high: float
    low: float
    close: float

    def add(self, price: float) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price


@dataclass(frozen=True)
class BestLevels:
    bb: float
    qb: float
    ba: float
    qa: float


@dataclass
class SessionState:
    """Everything that resets at the first event of a new local date."""

    local_date: date | None = None
    trade_count: int = 0
    trades: deque[TradeRecord] = field(default_factory=lambda: deque(maxlen=TRADE_HISTORY))
    cumulative_signed_volume: Fraction = Fraction(0)  # exact, however long the session
    trade_seconds: deque[int] = field(default_factory=deque)  # sec(ts) of trades in the 60 s window
    completed_bars: deque[MinuteBar] = field(default_factory=lambda: deque(maxlen=GK_BARS))
    current_bar: MinuteBar | None = None
    bids: dict[float, float] = field(default_factory=dict)  # price -> aggregated qty
    asks: dict[float, float] = field(default_factory=dict)
    book_event_count: int = 0
    book_event_seconds: deque[int] = field(default_factory=deque)  # sec(ts) of book events, 10 s window
    ofi_terms: deque[float] = field(default_factory=lambda: deque(maxlen=OFI_LONGEST))


def best_levels(bids: dict[float, float], asks: dict[float, float]) -> BestLevels | None:
    """The best bid and ask, or None when the book is not valid (a side empty, or bb >= ba)."""
    if not bids or not asks:
        return None
    bb = max(bids)
    ba = min(asks)
    if bb >= ba:
        return None
    return BestLevels(bb, bids[bb], ba, asks[ba])


def cks_ofi_term(before: BestLevels, after: BestLevels) -> float:
    """Order-flow-imbalance term e_n of Cont, Kukanov and Stoikov."""
    return (
        (after.qb if after.bb >= before.bb else 0.0)
        - (before.qb if after.bb <= before.bb else 0.0)
        - (after.qa if after.ba <= before.ba else 0.0)
        + (before.qa if after.ba >= before.ba else 0.0)
    )


def rank_agents(agents_and_qty: Sequence[tuple[Hashable, float]]) -> list[Hashable]:
    """Agents by summed quantity, largest first; a tie goes to the agent whose latest
    trade in the window is more recent (so ids' numbering does not matter)."""
    volume: dict[Hashable, Fraction | int] = {}
    latest: dict[Hashable, int] = {}
    for position, (agent, qty) in enumerate(agents_and_qty):
        # Exact sums: a tie must be a tie whatever the order of addition.
        volume[agent] = volume.get(agent, 0) + (qty if isinstance(qty, int) else Fraction(qty))
        latest[agent] = position
    return sorted(volume, key=lambda agent: (-volume[agent], -latest[agent]))


def _seconds_since_midnight(local: datetime | time) -> int:
    """Whole seconds since local midnight (fractions dropped)."""
    return local.hour * 3600 + local.minute * 60 + local.second


def _check_levels(levels: Iterable[tuple[float, float]], side_name: str) -> dict[float, float]:
    book: dict[float, float] = {}
    for price, qty in levels:
        price, qty = float(price), float(qty)
        if not math.isfinite(price) or not math.isfinite(qty) or qty < 0:
            raise ValueError(f"bad {side_name} level: price {price!r}, qty {qty!r}")
        if price in book:
            raise ValueError(f"{side_name} price {price!r} appears twice in one book state")
        if qty > 0:  # a zero-quantity level is not a level
            book[price] = qty
    return book


# ---------------------------------------------------------------- the engine


class ReferenceFeatures:
    """Feed trades and book events in arrival order; get one feature vector per trade.

    ``feature_set`` is ``"qt77"`` (65 model features then the 12 book features) or
    ``"qt65"``.  Prices are floats in points; ``ts`` is int nanoseconds UTC."""

    def __init__(
        self,
        tick_size: float,
        session_open: time,
        session_close: time,
        tz: str = "America/Sao_Paulo",
        feature_set: str = "qt77",
    ) -> None:
        if not tick_size > 0:
            raise ValueError(f"tick_size must be positive, got {tick_size!r}")
        if feature_set not in ("qt65", "qt77"):
            raise ValueError(f"feature_set must be 'qt65' or 'qt77', got {feature_set!r}")
        self.tick_size = float(tick_size)
        self.open_seconds = _seconds_since_midnight(session_open)
        self.close_seconds = _seconds_since_midnight(session_close)
        if self.close_seconds <= self.open_seconds:
            raise ValueError(f"session close {session_close} is not after open {session_open}")
        self.tz = ZoneInfo(tz)
        self.feature_set = feature_set
        self.names: tuple[str, ...] = QT77_NAMES if feature_set == "qt77" else QT65_NAMES
        self.session = SessionState()
        self.latest_ts: int | None = None
        self.timestamps_clamped = 0
        self.edits_seen = 0
        self.sessions_started = 0

    # -------------------------------------------------------- clock, sessions

    def _effective_ts(self, ts: int) -> int:
        return ts if self.latest_ts is None or ts >= self.latest_ts else self.latest_ts

    def _commit_clock(self, ts: int) -> int:
        effective = self._effective_ts(ts)
        if effective != ts:
            self.timestamps_clamped += 1
        self.latest_ts = effective
        return effective

    def _local(self, ts: int) -> datetime:
        return datetime.fromtimestamp(ts // NS_PER_SECOND, tz=self.tz)

    def _enter_date(self, local_date: date) -> None:
        if self.session.local_date != local_date:
            self.session = SessionState(local_date=local_date)
            self.sessions_started += 1

    # -------------------------------------------------------- book events

    def on_book(
        self, ts: int, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]]
    ) -> bool:
        """One book event given as the full book after it: (price, qty) levels of each side,
        any order.  Returns whether it was a book event (it changed a level)."""
        new_bids = _check_levels(bids, "bid")
        new_asks = _check_levels(asks, "ask")
        return self._apply_book_record(ts, lambda _b, _a: (new_bids, new_asks))

    def on_book_levels(self, ts: int, changes: Iterable[tuple[int, float, float]]) -> bool:
        """One book event given as level changes (side 0 bid / 1 ask, price, new aggregated
        qty; qty 0 deletes the level), all applied together.  Returns whether it was a book
        event."""
        changes = [(int(side), float(price), float(qty)) for side, price, qty in changes]
        for side, price, qty in changes:
            if side not in (BID, ASK) or not math.isfinite(price) or not math.isfinite(qty) or qty < 0:
                raise ValueError(f"bad level change: side {side!r}, price {price!r}, qty {qty!r}")

        def apply(bids: dict[float, float], asks: dict[float, float]):
            bids, asks = dict(bids), dict(asks)
            for side, price, qty in changes:
                book = bids if side == BID else asks
                if qty == 0:
                    book.pop(price, None)
                else:
                    book[price] = qty
            return bids, asks

        return self._apply_book_record(ts, apply)

    def _apply_book_record(self, ts: int, apply) -> bool:
        effective = self._effective_ts(ts)
        local_date = self._local(effective).date()
        if local_date == self.session.local_date:
            before_bids, before_asks = self.session.bids, self.session.asks
        else:
            before_bids, before_asks = {}, {}  # the new session starts with an empty book
        after_bids, after_asks = apply(before_bids, before_asks)
        if after_bids == before_bids and after_asks == before_asks:
            return False  # changes no level: not a book event

        effective = self._commit_clock(ts)
        self._enter_date(local_date)
        s = self.session
        found = best_levels(s.bids, s.asks)
        s.bids, s.asks = after_bids, after_asks
        left = best_levels(s.bids, s.asks)
        if found is not None and left is not None and found != left:
            s.ofi_terms.append(cks_ofi_term(found, left))
        s.book_event_count += 1
        second = effective // NS_PER_SECOND
        s.book_event_seconds.append(second)
        # No later trade has an earlier second, so older entries can never count again.
        self._trim_seconds(s.book_event_seconds, second, BOOK_UPDATE_SECONDS)
        return True

    @staticmethod
    def _trim_seconds(seconds: deque[int], now_second: int, window: int) -> None:
        while seconds and seconds[0] < now_second - (window - 1):
            seconds.popleft()

    # -------------------------------------------------------- trades

    def on_trade(
        self,
        ts: int,
        price: float,
        qty: float,
        buy_agent: Hashable,
        sell_agent: Hashable,
        trade_type: int,
        *,
        is_edit: bool = False,
    ) -> list[float] | None:
        """Apply one trade and return its feature vector (in ``self.names`` order).

        A corrected trade (``is_edit``) is counted and returns None."""
        price = float(price)
        if not (math.isfinite(price) and price > 0):
            raise ValueError(f"trade price must be finite and positive, got {price!r}")
        if not (math.isfinite(qty) and qty > 0):
            raise ValueError(f"trade qty must be finite and positive, got {qty!r}")
        if is_edit:
            self.edits_seen += 1
            return None

        ts = self._commit_clock(int(ts))
        local = self._local(ts)
        self._enter_date(local.date())
        s = self.session
        second = ts // NS_PER_SECOND

        previous = s.trades[-1] if s.trades else None
        sign = 1 if trade_type == 2 else -1 if trade_type == 3 else 0
        s.trade_seconds.append(second)
        self._trim_seconds(s.trade_seconds, second, TRADE_INTENSITY_SECONDS)
        s.trades.append(
            TradeRecord(
                price=price,
                qty=qty,
                buy_agent=buy_agent,
                sell_agent=sell_agent,
                sign=sign,
                ret=None if previous is None else price / previous.price - 1,
                buyer_changed=0 if previous is None else int(buy_agent != previous.buy_agent),
                seller_changed=0 if previous is None else int(sell_agent != previous.sell_agent),
                trade_intensity=len(s.trade_seconds) / TRADE_INTENSITY_SECONDS,
            )
        )
        s.trade_count += 1
        s.cumulative_signed_volume += sign * Fraction(qty)
        self._update_minute_bars(local, price)

        features = self._model_features(local, trade_type)
        if self.feature_set == "qt77":
            features.update(self._book_features(second))
        assert set(features) == set(self.names)
        return [features[name] for name in self.names]

    def _update_minute_bars(self, local: datetime, price: float) -> None:
        s = self.session
        key = (local.date(), local.hour, local.minute)
        if s.current_bar is not None and s.current_bar.key == key:
            s.current_bar.add(price)
            return
        if s.current_bar is not None:
            s.completed_bars.append(s.current_bar)  # its minute ended before this trade's minute
        s.current_bar = MinuteBar(key, price, price, price, price)

    # -------------------------------------------------------- windows

    def window(self, n: int, attribute: str) -> list | None:
        """W_n(x): the last n values of a per-trade quantity, trade t included; None while the
        session has fewer (a return is missing for the session's first trade)."""
        if len(self.session.trades) < n:
            return None
        values = [getattr(record, attribute) for record in list(self.session.trades)[-n:]]
        if any(v is None for v in values):
            return None
        return values

    def _price_back(self, n: int) -> float:
        """p_(t-n), or NaN when the session has no such trade."""
        trades = self.session.trades
        return trades[-1 - n].price if len(trades) > n else NAN

    # -------------------------------------------------------- the 65

    def _model_features(self, local: datetime, trade_type: int) -> dict[str, float]:
        f: dict[str, float] = {}
        f.update(self._volatility_features())
        f.update(self._return_features())
        f.update(self._order_flow_features())
        f.update(self._volume_features())
        f.update(self._technical_features(local))
        f.update(self._microstructure_features(trade_type))
        f.update(self._temporal_features(local))
        return f

    def _volatility_features(self) -> dict[str, float]:
        f: dict[str, float] = {}
        volatility = {n: std(self.window(n, "ret")) for n in (10, 20, 50, 100, 200)}
        for n in (10, 20, 50, 100):
            f[f"volatility_{n}"] = volatility[n]
        for n, m in ((10, 20), (20, 50), (50, 100), (100, 200)):
            f[f"volatility_ratio_{n}"] = safe_div(volatility[n], volatility[m])
        f["volatility_gk"] = self._garman_klass()
        prices = self.window(20, "price")
        if prices is None:
            f["bb_position"] = NAN
        else:
            m, s = mean(prices), pstd(prices)
            p_t = self.session.trades[-1].price
            f["bb_position"] = 0.5 if s == 0 else (p_t - (m - 2 * s)) / (4 * s)
        return f

    def _garman_klass(self) -> float:
        bars = list(self.session.completed_bars)  # the last min(20, n) completed bars
        if len(bars) < GK_MIN_BARS:
            return NAN
        terms = [
            0.5 * math.log(bar.high / bar.low) ** 2
            - (2 * math.log(2) - 1) * math.log(bar.close / bar.open) ** 2
            for bar in bars
        ]
        return math.sqrt(max(0.0, mean(terms)))

    def _return_features(self) -> dict[str, float]:
        f: dict[str, float] = {}
        p_t = self.session.trades[-1].price
        for n in (1, 2, 5, 10, 20, 50, 100):
            f[f"returns_{n}"] = p_t / self._price_back(n) - 1
        for n in (1, 5, 20):
            f[f"log_returns_{n}"] = self._log_return(n)
        return f

    def _log_return(self, n: int) -> float:
        """ln(p_t / p_(t-n)); NaN when p_(t-n) does not exist."""
        back = self._price_back(n)
        return NAN if math.isnan(back) else math.log(self.session.trades[-1].price / back)

    def _order_flow_features(self) -> dict[str, float]:
        f: dict[str, float] = {}
        s = self.session
        for n in (10, 20, 50, 100):
            signed = self.window(n, "sign")
            qtys = self.window(n, "qty")
            signed_sum = (
                NAN if signed is None else math.fsum(si * q for si, q in zip(signed, qtys, strict=True))
            )
            f[f"order_flow_imbalance_{n}"] = safe_div(signed_sum, window_sum(qtys))
        t = s.trades[-1]
        f["cumulative_signed_volume"] = float(s.cumulative_signed_volume)
        f["signed_volume"] = float(t.sign * t.qty)
        returns = self.window(20, "ret")
        if returns is None:
            f["volume_weighted_return"] = NAN
        else:
            qtys = self.window(20, "qty")
            f["volume_weighted_return"] = safe_div(
                math.fsum(q * r for q, r in zip(qtys, returns, strict=True)), math.fsum(qtys)
            )
        f["agent_turnover"] = (
            mean(self.window(100, "buyer_changed")) + mean(self.window(100, "seller_changed"))
        ) / 2
        return f

    def _volume_features(self) -> dict[str, float]:
        f: dict[str, float] = {}
        t = self.session.trades[-1]
        for n in (20, 50, 100):
            f[f"volume_ratio_{n}"] = safe_div(t.qty, mean(self.window(n, "qty")))
        for n in (20, 50, 100):
            qtys = self.window(n, "qty")
            f[f"volume_zscore_{n}"] = safe_div(t.qty - mean(qtys), std(qtys))
        f["trade_intensity"] = t.trade_intensity
        f["trade_intensity_ratio"] = safe_div(t.trade_intensity, mean(self.window(200, "trade_intensity")))
        return f

    def _technical_features(self, local: datetime) -> dict[str, float]:
        f: dict[str, float] = {}
        f["ma_5_20_ratio"] = mean(self.window(5, "price")) / mean(self.window(20, "price"))
        f["ma_20_50_ratio"] = mean(self.window(20, "price")) / mean(self.window(50, "price"))
        f["momentum_5_20"] = self._log_return(5) - (5 / 20) * self._log_return(20)
        f["momentum_20_50"] = self._log_return(20) - (20 / 50) * self._log_return(50)
        for n in (5, 20):
            returns = self.window(n, "ret")
            f[f"sharpe_{n}"] = safe_div(mean(returns), std(returns))
        local_t = _seconds_since_midnight(local)
        position = (local_t - self.open_seconds) / (self.close_seconds - self.open_seconds)
        f["time_normalized"] = min(1.0, max(0.0, position))
        return f

    def _microstructure_features(self, trade_type: int) -> dict[str, float]:
        f: dict[str, float] = {}
        s = self.session
        t = s.trades[-1]
        for role, agent_attr, own_agent in (
            ("buyer", "buy_agent", t.buy_agent),
            ("seller", "sell_agent", t.sell_agent),
        ):
            window_500 = self.window(RANKING_WINDOW, agent_attr)
            if window_500 is None:
                for k in range(5):
                    f[f"top_{role}_{k}_active"] = NAN
                f[f"top_{role}s_count"] = NAN
                continue
            qtys = self.window(RANKING_WINDOW, "qty")
            ranking = rank_agents(list(zip(window_500, qtys, strict=True)))
            for k in range(5):
                f[f"top_{role}_{k}_active"] = _flag(len(ranking) > k and ranking[k] == own_agent)
            recent_agents = set(self.window(20, agent_attr))
            f[f"top_{role}s_count"] = float(len(set(ranking[:5]) & recent_agents))
        f["buyer_changed"] = float(t.buyer_changed)
        f["seller_changed"] = float(t.seller_changed)
        f["is_buyer_aggressor"] = _flag(trade_type == 2)
        f["is_seller_aggressor"] = _flag(trade_type == 3)
        return f

    def _temporal_features(self, local: datetime) -> dict[str, float]:
        local_t = _seconds_since_midnight(local)
        half_hour = 30 * 60
        return {
            "minute": float(local.minute),
            "hour": float(local.hour),
            "day_of_week": float(local.weekday()),
            "is_opening_30min": _flag(self.open_seconds <= local_t < self.open_seconds + half_hour),
            "is_closing_30min": _flag(self.close_seconds - half_hour <= local_t < self.close_seconds),
            "is_lunch_hour": _flag(12 * 3600 <= local_t < 13 * 3600),
        }

    # -------------------------------------------------------- the 12 book features

    def _book_features(self, trade_second: int) -> dict[str, float]:
        s = self.session
        f: dict[str, float] = {}
        best = best_levels(s.bids, s.asks)
        if best is None:
            f["spread"] = f["spread_ticks"] = f["microprice_dev"] = NAN
        else:
            f["spread"] = best.ba - best.bb
            f["spread_ticks"] = (best.ba - best.bb) / self.tick_size
            microprice = (best.ba * best.qb + best.bb * best.qa) / (best.qb + best.qa)
            f["microprice_dev"] = (microprice - (best.ba + best.bb) / 2) / self.tick_size
        bid_qtys = [s.bids[p] for p in sorted(s.bids, reverse=True)]  # best (highest) first
        ask_qtys = [s.asks[p] for p in sorted(s.asks)]  # best (lowest) first
        for depth in (1, 5, 10):
            qb, qa = math.fsum(bid_qtys[:depth]), math.fsum(ask_qtys[:depth])
            f[f"book_imbalance_{depth}"] = safe_div(qb - qa, qb + qa)
        f["depth_bid_5"] = math.fsum(bid_qtys[:5])
        f["depth_ask_5"] = math.fsum(ask_qtys[:5])
        terms = list(s.ofi_terms)
        for n in (10, 50, 100):
            f[f"ofi_{n}"] = math.fsum(terms[-n:]) if len(terms) >= n else NAN
        self._trim_seconds(s.book_event_seconds, trade_second, BOOK_UPDATE_SECONDS)
        f["book_update_rate"] = len(s.book_event_seconds) / BOOK_UPDATE_SECONDS
        return f

    # -------------------------------------------------------- introspection

    def buffer_sizes(self) -> dict[str, int]:
        """Sizes of every per-session buffer, to check that none grows past its window."""
        s = self.session
        return {
            "trades": len(s.trades),
            "trade_seconds": len(s.trade_seconds),
            "completed_bars": len(s.completed_bars),
            "bids": len(s.bids),
            "asks": len(s.asks),
            "book_event_seconds": len(s.book_event_seconds),
            "ofi_terms": len(s.ofi_terms),
        }
