"""The risk engine: every order passes :meth:`RiskEngine.check` before it is
journaled and sent (cancels never come here: they always pass).

A verdict approves the request (its limit/stop prices rounded to the tick,
in the verdict's ``request``) or denies it with a :class:`DenialReason` and a
one-line detail; every denial is counted here (``denials``) and journaled by
the caller (ExecutionEngine.submit).  Times are arguments: ``exch_ns`` is the
exchange time of the latest trade (UTC ns), ``wall_ns`` the monotonic clock
that ``on_trade`` / ``on_market_activity`` are given too, so a backtest and
the live loop run the same code.  Not thread-safe: the runner serialises
every call.

Which order is which.  An order *reduces* when its purpose reduces (exit,
stop loss, take profit, flatten), it is on the side opposite the position
of ``ctx.position`` and no larger than it: it cannot increase |position|.
Any other order (an entry, or a "reducing" purpose that would open or grow a
position) is checked as an entry.

States (the interpretation of "on breach: REDUCING, then HALTED"):
- ACTIVE: every check below applies to entries.
- REDUCING, entered when the net day P&L (realized + unrealized - fees,
  from ``ctx.day_pnl_brl`` or :meth:`on_pnl`) falls to ``-daily_loss_limit_brl``
  or ``max_drawdown_brl`` below its intraday peak (which starts at 0):
  only reducing orders pass; entries are denied with the breach's reason
  (``daily_loss`` / ``max_drawdown``), a reducing purpose that would grow the
  position with ``reducing``.  The exits are left to the signal and the
  bracket stops (the kill switch is the hard stop).
- HALTED, entered from REDUCING once :meth:`on_pnl` reports the whole
  portfolio flat, for the rest of the day (a new engine starts the next
  day): only flatten orders pass (``halted``).
- killed (:meth:`kill`, the kill switch): only flatten orders pass
  (``kill_switch``); :meth:`should_flatten` says so, and the runner cancels
  everything and flattens.

Checks of an entry, in order (the first failure is the reason): order state
unknown since a ring overflow or a lost venue until :meth:`on_reconciled`
(``order_state_unknown``); feed down: gap record, ring drop, connection lost,
until :meth:`on_feed` reports it back (``feed_down``); no market activity for
``stale_after_s`` (``stale_data``); outside the session given by
:meth:`set_session` or a ticker phase other than continuous trading
(``phase``); in the session's last ``no_entry_last_minutes`` or past the
flatten time (``closing``); more than ``max_order_size`` (``max_order_size``);
the position with every working order of that side and this one beyond
``max_position`` (``max_position``); ``max_orders_per_minute`` orders already
sent in the last 60 s (``order_rate``); the margin of its contracts more than
the capital plus the day's P&L less the margin in use (``margin``); a limit
or stop price more than ``price_band_ticks`` ticks from the last trade
(``price_band``).  Every order, reducing or not: a price that is missing,
not a positive integer, or given to a market order (``bad_price``) or
outside the day's limits from the daily callback (``daily_limits``); the same
order (ticker, side, quantity, type, prices, purpose) approved within
``duplicate_window_ms`` (``duplicate``).  Prices round to the tick in the
non-aggressive direction: a buy limit down, a sell limit up, a buy stop up,
a sell stop down.  An unknown ticker or a quantity that is not a whole
number >= 1 is ``bad_request``.

Session times: the broker closes positions out ``closeout_minutes_before_close``
before the session's close; the engine wants them flat
``flatten_minutes_before_closeout`` before that (:meth:`should_flatten`), and
takes no entries from the earlier of that moment and
``no_entry_last_minutes`` before the close.  Without :meth:`set_session` for a
ticker, its entries are denied (``phase``)."""

from __future__ import annotations

import enum
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from quantumtrader.data.events import Phase
from quantumtrader.execution.orders import OrderPurpose, OrderRequest, OrderType, Side
from quantumtrader.instruments import InstrumentSpec
from quantumtrader.risk.config import RiskConfig

__all__ = ["DenialReason", "RiskContext", "RiskEngine", "RiskState", "RiskVerdict"]

_MINUTE_NS = 60_000_000_000


class RiskState(enum.Enum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class DenialReason(enum.StrEnum):
    MAX_POSITION = "max_position"
    MAX_ORDER_SIZE = "max_order_size"
    ORDER_RATE = "order_rate"
    DAILY_LOSS = "daily_loss"
    MAX_DRAWDOWN = "max_drawdown"
    REDUCING = "reducing"
    HALTED = "halted"
    KILL_SWITCH = "kill_switch"
    PHASE = "phase"
    CLOSING = "closing"
    PRICE_BAND = "price_band"
    DAILY_LIMITS = "daily_limits"
    BAD_PRICE = "bad_price"
    DUPLICATE = "duplicate"
    MARGIN = "margin"
    STALE_DATA = "stale_data"
    FEED_DOWN = "feed_down"
    ORDER_STATE_UNKNOWN = "order_state_unknown"
    BAD_REQUEST = "bad_request"


@dataclass(frozen=True)
class RiskContext:
    position: int                 # signed net contracts of the request's instrument
    working_buy: int = 0          # contracts of its working buy orders
    working_sell: int = 0
    # net day P&L of the portfolio (realized + unrealized - fees); None: the last on_pnl's
    day_pnl_brl: Decimal | None = None
    open_margin_brl: Decimal = Decimal(0)   # margin the open positions hold


@dataclass(frozen=True)
class RiskVerdict:
    approved: bool
    request: OrderRequest          # approved: as it must be sent (prices on the tick)
    reason: DenialReason | None
    detail: str


_R = DenialReason


class _Denied(Exception):
    def __init__(self, reason: DenialReason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


class RiskEngine:
    def __init__(self, config: RiskConfig | None, instruments: Mapping[str, InstrumentSpec]) -> None:
        self.config = config or RiskConfig()
        self.instruments = {t.upper(): s for t, s in instruments.items()}
        self._session: dict[str, tuple[int, int]] = {}
        self._phase: dict[str, int] = {}
        self._last_trade: dict[str, tuple[int, int]] = {}     # ticker -> (price, exch_ns)
        self._limits: dict[str, tuple[int, int]] = {}
        self._activity_ns: int | None = None
        self._feed_down: str | None = None
        self._unknown: str | None = None
        self._killed: str | None = None
        self._state = RiskState.ACTIVE
        self._breach: tuple[DenialReason, str] | None = None
        self._pnl = Decimal(0)
        self._peak = Decimal(0)
        self._sent: deque[int] = deque()
        self._recent: dict[tuple[Any, ...], int] = {}
        self.denials: Counter[DenialReason] = Counter()
        self.last_denial: tuple[DenialReason, str] | None = None
        self._checks = 0
        self._approved = 0
        self._ignored: Counter[str] = Counter()

    # ------------------------------------------------------------ state
    @property
    def state(self) -> RiskState:
        return self._state

    @property
    def killed(self) -> bool:
        return self._killed is not None

    @property
    def counters(self) -> dict[str, Any]:
        return {
            "checks": self._checks, "approved": self._approved, "denied": sum(self.denials.values()),
            "denials": {str(r): n for r, n in self.denials.items()}, "state": self._state.value,
            "breach": None if self._breach is None else f"{self._breach[0]}: {self._breach[1]}",
            "killed": self._killed, "feed_down": self._feed_down, "order_state_unknown": self._unknown,
            "day_pnl_brl": str(self._pnl), "peak_pnl_brl": str(self._peak), "ignored": dict(self._ignored),
        }

    def status(self) -> dict[str, Any]:
        """What a dashboard shows: ``state`` ("killed" over the others),
        ``detail`` (why: the kill, the breach, the feed, the order state, else
        the last denial) and ``denials`` by reason."""
        if self._killed is not None:
            state, detail = "killed", self._killed
        else:
            state = self._state.value
            if self._breach is not None:
                detail = self._breach[1]
            elif self._feed_down is not None:
                detail = f"feed down: {self._feed_down}"
            elif self._unknown is not None:
                detail = f"order state unknown: {self._unknown}"
            elif self.last_denial is not None:
                detail = f"last denial {self.last_denial[0]}: {self.last_denial[1]}"
            else:
                detail = ""
        return {"state": state, "detail": detail, "denials": {str(r): n for r, n in self.denials.items()}}

    def kill(self, why: str) -> None:
        """Only flatten orders pass from now on (the kill switch)."""
        if self._killed is None:
            self._killed = str(why) or "kill switch"

    # ------------------------------------------------------------ inputs
    def set_session(self, ticker: str, open_ns: int, close_ns: int) -> None:
        """The day's continuous session of ``ticker``, UTC ns (from the trading calendar)."""
        if not (isinstance(open_ns, int) and isinstance(close_ns, int)) or close_ns <= open_ns:
            raise ValueError(f"{ticker}: session close {close_ns} is not after its open {open_ns}")
        self._session[ticker.upper()] = (open_ns, close_ns)

    def on_trade(self, ticker: str, price: int, exch_ns: int, wall_ns: int) -> None:
        if isinstance(price, bool) or not isinstance(price, int) or price <= 0:
            self._ignored["bad_trade_price"] += 1
            return
        self._last_trade[ticker.upper()] = (price, exch_ns)
        self.on_market_activity(wall_ns)

    def on_phase(self, ticker: str, phase_code: int, exch_ns: int) -> None:
        """A ticker-state callback (ProfitDLL codes, data.events.Phase); a
        code that is not an integer is counted and ignored (an unknown
        integer is kept: it is not continuous trading)."""
        if isinstance(phase_code, bool) or not isinstance(phase_code, int):
            self._ignored["bad_phase"] += 1
            return
        self._phase[ticker.upper()] = int(phase_code)

    def on_daily_limits(self, ticker: str, low: int, high: int) -> None:
        """The day's price limits (price units) from the daily callback; a
        pair that is not 0 < low <= high is counted and ignored."""
        if not (isinstance(low, int) and isinstance(high, int)) or low <= 0 or high < low:
            self._ignored["bad_daily_limits"] += 1
            return
        self._limits[ticker.upper()] = (low, high)

    def on_feed(self, ok: bool, why: str) -> None:
        """The feed dropped (gap record, ring drop, connection lost) or is back."""
        self._feed_down = None if ok else (str(why) or "feed down")

    def on_market_activity(self, wall_ns: int) -> None:
        if self._activity_ns is None or wall_ns > self._activity_ns:
            self._activity_ns = wall_ns

    def on_order_state_unknown(self, why: str) -> None:
        self._unknown = str(why) or "order state unknown"

    def on_reconciled(self) -> None:
        self._unknown = None

    def on_pnl(self, day_pnl_brl: Decimal, position_total: int) -> None:
        """The portfolio's net day P&L and its total |contracts| (after each
        fill or mark): may breach a limit, and ends REDUCING once flat."""
        self._update_pnl(day_pnl_brl)
        if self._state is RiskState.REDUCING and position_total == 0:
            self._state = RiskState.HALTED

    def should_flatten(self, ticker: str, exch_ns: int) -> bool:
        """Killed, or the flatten time before the broker's close-out has come."""
        if self._killed is not None:
            return True
        times = self._times(ticker.upper())
        return times is not None and exch_ns >= times[2]

    # ------------------------------------------------------------ the check
    def check(self, req: OrderRequest, ctx: RiskContext, *, exch_ns: int, wall_ns: int) -> RiskVerdict:
        self._checks += 1
        if ctx.day_pnl_brl is not None:
            self._update_pnl(ctx.day_pnl_brl)
        try:
            sent = self._check(req, ctx, exch_ns, wall_ns)
        except _Denied as d:
            self.denials[d.reason] += 1
            self.last_denial = (d.reason, d.detail)
            return RiskVerdict(False, req, d.reason, d.detail)
        self._approved += 1
        self._sent_since(wall_ns - _MINUTE_NS).append(wall_ns)
        self._recent[_key(sent)] = wall_ns
        return RiskVerdict(True, sent, None, "")

    def _check(self, req: OrderRequest, ctx: RiskContext, exch_ns: int, wall_ns: int) -> OrderRequest:
        cfg = self.config
        ticker = req.ticker.upper() if isinstance(req.ticker, str) else ""
        spec = self.instruments.get(ticker)
        if spec is None:
            raise _Denied(_R.BAD_REQUEST, f"unknown instrument {req.ticker!r}")
        q = req.quantity
        if isinstance(q, bool) or not isinstance(q, int) or q < 1:
            raise _Denied(_R.BAD_REQUEST, f"quantity {q!r}: not a whole number of contracts >= 1")
        for what, value, kind in (("side", req.side, Side), ("order type", req.order_type, OrderType),
                                  ("purpose", req.purpose, OrderPurpose)):
            if not isinstance(value, kind):
                raise _Denied(_R.BAD_REQUEST, f"{what} {value!r} is not a {kind.__name__}")
        pos = ctx.position
        reduces = (req.purpose.reduces and pos != 0 and req.side.sign == -_sign(pos) and q <= abs(pos))
        flatten = reduces and req.purpose is OrderPurpose.FLATTEN

        if self._killed is not None and not flatten:
            raise _Denied(_R.KILL_SWITCH, f"killed: {self._killed}")
        if self._state is RiskState.HALTED and not flatten:
            raise _Denied(_R.HALTED, f"halted for the day after {self._breach_text()}")
        if self._state is RiskState.REDUCING and not reduces:
            if req.purpose is OrderPurpose.ENTRY and self._breach is not None:
                raise _Denied(self._breach[0], f"reducing only: {self._breach[1]}")
            raise _Denied(_R.REDUCING, f"reducing only ({self._breach_text()}): {req.purpose.value} "
                          f"{req.side.name} {q} would not reduce position {pos}")

        req = self._prices(req, spec)
        if not reduces:
            self._entry(req, spec, ctx, exch_ns, wall_ns)
        self._prune(wall_ns)
        last = self._recent.get(_key(req))
        if last is not None and wall_ns - last < cfg.duplicate_window_ms * 1_000_000:
            raise _Denied(_R.DUPLICATE, f"the same order was approved {(wall_ns - last) / 1e6:.0f} ms "
                          f"ago (window {cfg.duplicate_window_ms} ms)")
        return req

    def _entry(self, req: OrderRequest, spec: InstrumentSpec, ctx: RiskContext, exch_ns: int,
               wall_ns: int) -> None:
        cfg = self.config
        ticker = spec.ticker.upper()
        if self._unknown is not None:
            raise _Denied(_R.ORDER_STATE_UNKNOWN, f"order state unknown: {self._unknown}")
        if self._feed_down is not None:
            raise _Denied(_R.FEED_DOWN, f"feed down: {self._feed_down}")
        if self._activity_ns is None:
            raise _Denied(_R.STALE_DATA, "no market data yet")
        idle_s = (wall_ns - self._activity_ns) / 1e9
        if idle_s > cfg.stale_after_s:
            raise _Denied(_R.STALE_DATA, f"no market data for {idle_s:.1f} s "
                          f"(stale_after_s {cfg.stale_after_s:g})")
        times = self._times(ticker)
        if times is None:
            raise _Denied(_R.PHASE, f"{ticker}: no session times (set_session)")
        open_ns, close_ns, _flatten_ns, cutoff_ns = times
        if not (open_ns <= exch_ns < close_ns):
            raise _Denied(_R.PHASE, f"{ticker}: exchange time {exch_ns} outside the session")
        phase = self._phase.get(ticker)
        if phase is not None and phase != Phase.OPEN:
            raise _Denied(_R.PHASE, f"{ticker}: phase {_phase_name(phase)}, not continuous trading")
        if exch_ns >= cutoff_ns:
            raise _Denied(_R.CLOSING, f"{ticker}: {(close_ns - exch_ns) / _MINUTE_NS:.1f} min to the "
                          "close: no entries now")
        if req.quantity > cfg.max_order_size:
            raise _Denied(_R.MAX_ORDER_SIZE, f"{req.quantity} contracts > max_order_size "
                          f"{cfg.max_order_size}")
        if req.side is Side.BUY:
            projected = ctx.position + ctx.working_buy + req.quantity
        else:
            projected = ctx.position - ctx.working_sell - req.quantity
        if abs(projected) > cfg.max_position:
            raise _Denied(_R.MAX_POSITION, f"position {ctx.position}, working {ctx.working_buy} buy / "
                          f"{ctx.working_sell} sell, and this {req.side.name} {req.quantity} could reach "
                          f"{projected}: beyond max_position {cfg.max_position}")
        if len(self._sent_since(wall_ns - _MINUTE_NS)) >= cfg.max_orders_per_minute:
            raise _Denied(_R.ORDER_RATE, f"{cfg.max_orders_per_minute} orders in the last minute "
                          "(max_orders_per_minute)")
        margin = cfg.margin_per_contract_brl.get(spec.root.upper())
        if margin is None:
            raise _Denied(_R.MARGIN, f"no margin_per_contract_brl for {spec.root}")
        need = margin * req.quantity
        free = cfg.capital_brl + self._pnl - ctx.open_margin_brl
        if need > free:
            raise _Denied(_R.MARGIN, f"margin {need} BRL > free {free} BRL (capital {cfg.capital_brl}, "
                          f"day P&L {self._pnl}, in use {ctx.open_margin_brl})")
        for what, price in (("price", req.price), ("stop price", req.stop_price)):
            if price is None:
                continue
            last = self._last_trade.get(ticker)
            if last is None:
                raise _Denied(_R.STALE_DATA, f"{ticker}: no trade yet to check the {what} against")
            band = cfg.price_band_ticks * spec.tick
            if abs(price - last[0]) > band:
                raise _Denied(_R.PRICE_BAND, f"{what} {price} is {abs(price - last[0])} units from the "
                              f"last trade {last[0]} (band {cfg.price_band_ticks} ticks = {band})")

    def _prices(self, req: OrderRequest, spec: InstrumentSpec) -> OrderRequest:
        """Present, positive, integer, on the tick and inside the day's limits."""
        def bad(detail: str) -> _Denied:
            return _Denied(_R.BAD_PRICE, detail)

        kind = req.order_type
        if kind is OrderType.MARKET:
            if req.price is not None or req.stop_price is not None:
                raise bad("a market order carries no price")
            return req
        if kind not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            raise bad(f"order type {kind!r} is not market, limit or stop-limit")
        if kind is OrderType.LIMIT and req.stop_price is not None:
            raise bad("a limit order carries no stop price")
        wanted = [("price", req.price)]
        if kind is OrderType.STOP_LIMIT:
            wanted.append(("stop price", req.stop_price))
        for what, value in wanted:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise bad(f"{kind.name.lower()} {what} {value!r}: not a positive whole number of price units")
        buy = req.side is Side.BUY
        assert req.price is not None  # checked above: every limit and stop-limit has one
        price = spec.round_to_tick(req.price, down=buy)
        stop = None if req.stop_price is None else spec.round_to_tick(req.stop_price, down=not buy)
        limits = self._limits.get(spec.ticker.upper())
        if limits is not None:
            for what, value in (("price", price), ("stop price", stop)):
                if value is not None and not (limits[0] <= value <= limits[1]):
                    raise _Denied(_R.DAILY_LIMITS, f"{what} {value} outside the day's limits "
                                  f"{limits[0]}..{limits[1]}")
        if price != req.price or stop != req.stop_price:
            req = replace(req, price=price, stop_price=stop)
        return req

    # ------------------------------------------------------------ helpers
    def _update_pnl(self, pnl: Decimal) -> None:
        if not isinstance(pnl, Decimal) or not pnl.is_finite():
            self._ignored["bad_pnl"] += 1
            return
        self._pnl = pnl
        self._peak = max(self._peak, pnl)
        if self._state is not RiskState.ACTIVE:
            return
        cfg = self.config
        if pnl <= -cfg.daily_loss_limit_brl:
            self._breach = (_R.DAILY_LOSS, f"day P&L {pnl} BRL <= -{cfg.daily_loss_limit_brl} "
                            "(daily_loss_limit_brl)")
            self._state = RiskState.REDUCING
        elif self._peak - pnl >= cfg.max_drawdown_brl:
            self._breach = (_R.MAX_DRAWDOWN, f"day P&L {pnl} BRL is {self._peak - pnl} below its peak "
                            f"{self._peak} (max_drawdown_brl {cfg.max_drawdown_brl})")
            self._state = RiskState.REDUCING

    def _breach_text(self) -> str:
        return "a breach" if self._breach is None else self._breach[1]

    def _times(self, ticker: str) -> tuple[int, int, int, int] | None:
        """(open, close, flatten time, no-entry time) of ``ticker``'s session."""
        s = self._session.get(ticker)
        if s is None:
            return None
        cfg = self.config
        closeout = s[1] - cfg.closeout_minutes_before_close * _MINUTE_NS
        flatten = closeout - cfg.flatten_minutes_before_closeout * _MINUTE_NS
        cutoff = min(flatten, s[1] - cfg.no_entry_last_minutes * _MINUTE_NS)
        return s[0], s[1], flatten, cutoff

    def _sent_since(self, since_ns: int) -> deque[int]:
        while self._sent and self._sent[0] <= since_ns:
            self._sent.popleft()
        return self._sent

    def _prune(self, wall_ns: int) -> None:
        if len(self._recent) > 256:
            horizon = wall_ns - self.config.duplicate_window_ms * 1_000_000
            self._recent = {k: t for k, t in self._recent.items() if t > horizon}


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _key(req: OrderRequest) -> tuple[Any, ...]:
    return (req.ticker.upper(), req.side, req.quantity, req.order_type, req.price, req.stop_price,
            req.purpose)


def _phase_name(code: int) -> str:
    try:
        return f"{Phase(code).name.lower()} ({code})"
    except ValueError:
        return f"unknown ({code})"
