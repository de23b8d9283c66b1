"""The ProfitDLL connection manager: login, readiness, subscriptions,
reconnection, history backfill and shutdown, on top of the binding
(:class:`quantumtrader.qtcore.profitdll.ProfitDLL`).

Everything the DLL says arrives through the market ring, in order, on the
thread that calls :meth:`ProfitConnection.poll`: connection states
(CONN_STATE records) drive the state machine here, market data passes
through to the caller.  Nothing runs on the DLL's thread but the C
callbacks.

- Readiness: login connected (0,0), market data connected (2,4), market
  login valid (3,0), and with routing the broker connected (1,5).  A
  rejected login raises :class:`LoginRejectedError` at once.
- Contracts: ``"WDO"`` / ``"WIN"`` resolve to the current contract of the
  trading calendar (``TradingCalendar.current_contract``); a full ticker
  (``"WDOF26"``) is used as given.
- A market-data drop (state 2 leaving 4) is a feed gap: the callbacks put a
  FEED_GAP record (reason DISCONNECT) in the stream, :attr:`feed_status`
  turns ``DROPPED``, and when the state returns to 4 every subscription is
  made again.  Ticker phases (halts, auctions) are market data, not drops.
- Backfill (:meth:`backfill`): today's trades from the session open via
  GetHistoryTrades; live records arriving meanwhile are held back, and the
  caller gets the history first, then the live stream without the trades
  the history already covered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from quantumtrader.adapters.profitdll.credentials import ProfitCredentials, load_credentials
from quantumtrader.adapters.profitdll.errors import DuplicateResourceError, ProfitDLLError
from quantumtrader.adapters.profitdll.order_updates import read_order_updates
from quantumtrader.calendar import CalendarError, TradingCalendar, default_calendar, root_of
from quantumtrader.data.events import EVENT_DTYPE, EventFlag, EventType, GapReason
from quantumtrader.qtcore import profitdll
from quantumtrader.qtcore.ring import Ring

__all__ = [
    "ConnectionState",
    "ConnectionTimeoutError",
    "FeedGap",
    "FeedStatus",
    "LoginRejectedError",
    "ProfitConnection",
    "Subscription",
    "resolve_ticker",
    "utc_offset_minutes",
]

log = logging.getLogger(__name__)

ALL_INSTRUMENTS = profitdll.ALL_INSTRUMENTS

_LOGIN_RESULTS = {0: "connected", 1: "invalid login", 2: "invalid password", 3: "password blocked",
                  4: "password expired", 200: "internal error"}
_ROUTING_RESULTS = {0: "disconnected", 1: "connecting", 2: "connected", 3: "broker disconnected",
                    4: "broker connecting", 5: "broker connected"}
_MARKET_RESULTS = {0: "disconnected", 1: "connecting", 2: "waiting", 3: "not logged in", 4: "connected"}
_MARKET_LOGIN_RESULTS = {0: "valid", 1: "invalid"}
_CONN_NAMES = ("login", "routing", "market data", "market login")
_RESULT_NAMES = (_LOGIN_RESULTS, _ROUTING_RESULTS, _MARKET_RESULTS, _MARKET_LOGIN_RESULTS)


class LoginRejectedError(ConnectionError):
    """The DLL refused the login (bad user/password/activation key...)."""

    def __init__(self, conn_type: int, result: int) -> None:
        self.conn_type = conn_type
        self.result = result
        what = _RESULT_NAMES[conn_type].get(result, f"result {result}") if 0 <= conn_type < 4 else "?"
        super().__init__(f"ProfitDLL {_CONN_NAMES[conn_type]} rejected: {what} ({result})")


class ConnectionTimeoutError(TimeoutError):
    """The connection did not become ready (or history did not complete) in time."""


class FeedStatus(enum.Enum):
    DISCONNECTED = "disconnected"  # before login / after close
    CONNECTING = "connecting"      # logged in, not ready yet
    LIVE = "live"
    DROPPED = "dropped"            # market data lost; re-subscribes when it returns
    CLOSED = "closed"


@dataclasses.dataclass
class ConnectionState:
    """Last result of each of the DLL's four connection types (None: not yet)."""

    login: int | None = None
    routing: int | None = None
    market_data: int | None = None
    market_login: int | None = None

    def update(self, conn_type: int, result: int) -> None:
        name = ("login", "routing", "market_data", "market_login")[conn_type]
        setattr(self, name, result)

    @property
    def market_ready(self) -> bool:
        return self.login == 0 and self.market_data == 4 and self.market_login == 0

    @property
    def routing_ready(self) -> bool:
        return self.routing == 5

    def describe(self) -> str:
        parts = []
        for i, v in enumerate((self.login, self.routing, self.market_data, self.market_login)):
            text = "-" if v is None else _RESULT_NAMES[i].get(v, str(v))
            parts.append(f"{_CONN_NAMES[i]}={text}")
        return ", ".join(parts)


@dataclasses.dataclass(frozen=True)
class Subscription:
    ticker: str          # as the DLL names it, e.g. "WDOZ25"
    exchange: str        # "F" BMF futures
    instrument_id: int   # qt_event.instrument of its records
    root: str            # "WDO"
    price_unit: float
    tick_size: float
    offer_book: bool


@dataclasses.dataclass(frozen=True)
class FeedGap:
    reason: GapReason
    instrument: int   # ALL_INSTRUMENTS for the whole feed
    lost: int         # records lost, -1 unknown
    seq: int
    recv_ns: int


def utc_offset_minutes(calendar: TradingCalendar, when: dt.datetime | None = None) -> int:
    """Minutes east of UTC of the exchange's local time at ``when`` (now)."""
    now = when or dt.datetime.now(dt.UTC)
    off = now.astimezone(calendar.tz).utcoffset()
    assert off is not None
    return int(off.total_seconds() // 60)


def resolve_ticker(root_or_ticker: str, date: Any, calendar: TradingCalendar, roll_days: int = 0) -> str:
    """``"WDO"``/``"WIN"`` (any family the calendar knows) -> the current
    contract's code on ``date``; a full contract code passes through."""
    name = root_or_ticker.strip().upper()
    if not name:
        raise ValueError("empty ticker")
    if root_of(name) == name and name in calendar.instruments:
        return calendar.current_contract(date, name, roll_days).code
    return name


def _local_text(ns: int, calendar: TradingCalendar) -> str:
    t = dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).astimezone(calendar.tz)
    return t.strftime("%d/%m/%Y %H:%M:%S")


class ProfitConnection:
    """One ProfitDLL session.  Not thread-safe: one thread polls and calls
    the methods (the DLL's own thread only runs the C callbacks)."""

    def __init__(self, library: profitdll.ProfitDLL | str, *, credentials: ProfitCredentials | None = None,
                 routing: bool = False, calendar: TradingCalendar | None = None,
                 market_capacity: int = 1 << 20, order_capacity: int = 1 << 14, trades_v2: bool = True,
                 offer_book: bool = False, drop_invalid: bool = True, roll_days: int = 0,
                 utc_offset_min: int | None = None) -> None:
        self.dll = library if isinstance(library, profitdll.ProfitDLL) else profitdll.ProfitDLL(library)
        self._credentials = credentials
        self.routing = routing
        self.calendar = calendar or default_calendar()
        self.market_capacity = market_capacity
        self.order_capacity = order_capacity
        self.trades_v2 = trades_v2
        self.offer_book = offer_book
        self.drop_invalid = drop_invalid
        self.roll_days = roll_days
        self.utc_offset_min = utc_offset_minutes(self.calendar) if utc_offset_min is None else utc_offset_min
        self.state = ConnectionState()
        self.feed_status = FeedStatus.DISCONNECTED
        self.subscriptions: dict[int, Subscription] = {}
        self.gaps: list[FeedGap] = []
        self.reconnections = 0
        self.invalid_dropped = 0
        self.duplicates_dropped = 0
        self.market_ring: Ring | None = None
        self.order_ring: Ring | None = None
        self._reader: profitdll.MarketReader | None = None
        self._pending: list[np.ndarray] = []
        self._observed_seq = 0  # feed sequence number of the last state record the state machine took
        self._routing_password = ""

    def __repr__(self) -> str:
        subs = ", ".join(s.ticker for s in self.subscriptions.values())
        return (f"ProfitConnection({self.dll.path!r}, routing={self.routing}, "
                f"status={self.feed_status.value}, [{subs}])")

    # ------------------------------------------------------------- session
    def connect(self, timeout: float = 30.0) -> ConnectionState:
        """Log in and wait until the connection is ready (raises
        LoginRejectedError, ConnectionTimeoutError, ProfitDLLError)."""
        if self.dll.logged_in:
            raise RuntimeError("already connected")
        creds = self._credentials or load_credentials(self.routing)
        creds.require(self.routing)
        profitdll.feed_reset()  # the feed's sequence numbers start again at 1
        self._observed_seq = 0
        profitdll.set_utc_offset(self.utc_offset_min)
        self.market_ring = Ring(self.market_capacity)
        self.order_ring = Ring(self.order_capacity, 256, lossless=True) if self.routing else None
        self._reader = profitdll.MarketReader(self.market_ring, self.utc_offset_min)
        self.state = ConnectionState()
        self.feed_status = FeedStatus.CONNECTING
        log.info("ProfitDLL login (%s) with %s", "routing" if self.routing else "market data only",
                 self.dll.path)
        try:
            self.dll.login(creds.activation_key, creds.user, creds.password, market=self.market_ring,
                           orders=self.order_ring, routing=self.routing, trades_v2=self.trades_v2)
            self._routing_password = creds.routing_password
            self.wait_ready(timeout)
        except BaseException:
            # a refused or unready login leaves no session behind: connect() can be retried
            if self.dll.logged_in:
                self.dll.finalize()
            self.feed_status = FeedStatus.DISCONNECTED
            raise
        return self.state

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionTimeoutError(
                    f"ProfitDLL not ready after {timeout:g} s ({self.state.describe()})")
            self._pending.append(self._read(min(left, 0.1)))

    @property
    def routing_password(self) -> str:
        """The routing password of this session's credentials (orders need
        it; never logged: the connection's repr does not show it)."""
        return self._routing_password

    @property
    def ready(self) -> bool:
        return self.state.market_ready and (not self.routing or self.state.routing_ready)

    def close(self) -> None:
        """DLLFinalize.  Records still in the ring stay readable with :meth:`poll`."""
        if self.dll.logged_in:
            self.dll.finalize()
            log.info("ProfitDLL finalized")
        self.feed_status = FeedStatus.CLOSED

    def __enter__(self) -> ProfitConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------- subscriptions
    def resolve(self, root_or_ticker: str, date: Any = None) -> str:
        day = date if date is not None else dt.datetime.now(self.calendar.tz).date()
        return resolve_ticker(root_or_ticker, day, self.calendar, self.roll_days)

    def register(self, root_or_ticker: str, exchange: str = "F", *, date: Any = None,
                 price_unit: float | None = None, tick_size: float | None = None) -> Subscription:
        """Resolve and register an instrument without subscribing (the
        callbacks then know its ticker and price unit)."""
        ticker = self.resolve(root_or_ticker, date)
        for s in self.subscriptions.values():
            if s.ticker == ticker and s.exchange == exchange:
                return s
        spec = self.calendar.instrument(ticker)
        iid = len(self.subscriptions) + 1
        sub = Subscription(ticker, exchange, iid, spec.root,
                           spec.price_unit if price_unit is None else float(price_unit),
                           spec.tick_size if tick_size is None else float(tick_size), self.offer_book)
        profitdll.register_instrument(ticker, iid, sub.price_unit)
        self.subscriptions[iid] = sub
        return sub

    def subscribe(self, root_or_ticker: str, exchange: str = "F", *, date: Any = None,
                  price_unit: float | None = None, tick_size: float | None = None) -> Subscription:
        """Register the instrument, then subscribe trades (with tiny book,
        daily and ticker phase), the price book and, if enabled, the offer
        book."""
        sub = self.register(root_or_ticker, exchange, date=date, price_unit=price_unit, tick_size=tick_size)
        self._subscribe(sub, again=False)
        log.info("subscribed %s:%s as instrument %d", sub.ticker, sub.exchange, sub.instrument_id)
        return sub

    def _subscribe(self, sub: Subscription, again: bool) -> None:
        calls = [self.dll.subscribe_ticker, self.dll.subscribe_price_book]
        if sub.offer_book:
            calls.append(self.dll.subscribe_offer_book)
        for call in calls:
            try:
                call(sub.ticker, sub.exchange)
            except DuplicateResourceError:
                if not again:
                    raise
                log.debug("%s %s: still subscribed", call.__name__, sub.ticker)

    def unsubscribe(self, sub: Subscription) -> None:
        self.dll.unsubscribe_ticker(sub.ticker, sub.exchange)
        self.dll.unsubscribe_price_book(sub.ticker, sub.exchange)
        if sub.offer_book:
            self.dll.unsubscribe_offer_book(sub.ticker, sub.exchange)

    # ------------------------------------------------------------- stream
    def poll(self, timeout: float = 0.0, max_records: int = 65536) -> np.ndarray:
        """The records ready now (waiting up to ``timeout`` for the first),
        after the connection state has seen them.  Records flagged invalid
        are dropped and counted unless ``drop_invalid`` is False."""
        if self._pending:
            out = np.concatenate(self._pending)
            self._pending.clear()
            return out
        return self._read(timeout, max_records)

    def _read(self, timeout: float, max_records: int = 65536) -> np.ndarray:
        if self._reader is None:
            return np.empty(0, dtype=EVENT_DTYPE)
        recs = self._reader.read(max_records)
        if len(recs) == 0 and timeout > 0 and self._reader.wait(timeout):
            recs = self._reader.read(max_records)
        if len(recs) == 0:
            return recs
        if self.drop_invalid:
            bad = (recs["flags"] & EventFlag.INVALID) != 0
            n_bad = int(np.count_nonzero(bad))
            if n_bad:
                self.invalid_dropped += n_bad
                recs = recs[~bad]
        try:
            self._observe(recs)
        except BaseException:
            self._pending.append(recs)  # nothing read is lost: the next poll returns it
            raise
        return recs

    def take_pending(self) -> np.ndarray:
        """Records read while the connection came up (or held by a backfill)
        and not yet returned by :meth:`poll`, without reading the ring: a
        consumer that takes the ring over (the live pipeline) runs them first."""
        out = np.concatenate(self._pending) if self._pending else np.empty(0, dtype=EVENT_DTYPE)
        self._pending.clear()
        return out

    def observe(self, recs: np.ndarray) -> None:
        """Run records that another consumer of the market ring took (the
        live pipeline's control records) through the connection state
        machine: readiness, feed gaps, resubscription after a reconnection.
        Call it from one thread, the one that would otherwise poll.  A record
        the state machine has already taken (the pipeline runs the records
        read while logging in, :meth:`take_pending`, again) is ignored: seen
        twice, the login's "connecting" then "connected" would look like a
        drop and a return, and every instrument would be subscribed again."""
        self._observe(recs)

    def _observe(self, recs: np.ndarray) -> None:
        typ = recs["type"]
        idx = np.flatnonzero((typ == EventType.CONN_STATE) | (typ == EventType.FEED_GAP))
        for i in idx:
            e = recs[i]
            seq = int(e["seq"])  # the feed numbers its records 1, 2, ... in ring order
            if seq <= self._observed_seq:
                continue
            self._observed_seq = seq
            if e["type"] == EventType.FEED_GAP:
                gap = FeedGap(GapReason(int(e["a"])), int(e["instrument"]), int(e["qty"]), int(e["seq"]),
                              int(e["recv_ns"]))
                self.gaps.append(gap)
                log.warning("feed gap: %s, %s records lost", gap.reason.name,
                            "unknown" if gap.lost < 0 else gap.lost)
                continue
            conn_type, result = int(e["a"]), int(e["b"])
            if not 0 <= conn_type < 4:
                continue
            before = self.state.market_ready
            self.state.update(conn_type, result)
            log.info("ProfitDLL %s: %s (%d)", _CONN_NAMES[conn_type],
                     _RESULT_NAMES[conn_type].get(result, "?"), result)
            if conn_type == 0 and result != 0:
                raise LoginRejectedError(0, result)
            if conn_type == 3 and result != 0:
                raise LoginRejectedError(3, result)
            self._market_transition(before)

    def _market_transition(self, was_ready: bool) -> None:
        if self.feed_status in (FeedStatus.CLOSED, FeedStatus.DISCONNECTED):
            return
        if self.state.market_ready and self.feed_status == FeedStatus.DROPPED:
            self.reconnections += 1
            log.warning("market data back: re-subscribing %d instrument(s)", len(self.subscriptions))
            first_error: ProfitDLLError | None = None
            for sub in self.subscriptions.values():
                try:
                    self._subscribe(sub, again=True)
                except ProfitDLLError as exc:
                    log.error("re-subscribing %s failed: %s", sub.ticker, exc)
                    first_error = first_error or exc
            if first_error is not None:
                raise first_error  # still DROPPED: the next reconnection retries
            self.feed_status = FeedStatus.LIVE
        elif self.state.market_ready:
            self.feed_status = FeedStatus.LIVE
        elif was_ready or self.feed_status == FeedStatus.LIVE:
            self.feed_status = FeedStatus.DROPPED
            log.warning("market data dropped (%s)", self.state.describe())

    def order_updates(self, max_records: int = 4096) -> np.ndarray:
        """Order updates pushed by the order callback (routing sessions)."""
        if self.order_ring is None:
            raise RuntimeError("no order ring: a market-data-only session")
        return read_order_updates(self.order_ring, max_records)

    @property
    def order_state_unknown(self) -> bool:
        """True once the lossless order ring had to refuse an update."""
        return self.order_ring is not None and self.order_ring.overflowed

    # ------------------------------------------------------------ history
    def backfill(self, sub: Subscription, start_ns: int | None = None, end_ns: int | None = None,
                 timeout: float = 120.0, on_progress: Callable[[int], None] | None = None) -> int:
        """Request today's trades (session open .. now, or the given UTC ns
        span) with GetHistoryTrades and hold the live stream back until they
        have all arrived.  :meth:`poll` then returns the history trades
        first, then the held live records minus the trades the history
        covered (counted in ``duplicates_dropped``).  Returns the number of
        history trades."""
        now_ns = time.time_ns()
        if start_ns is None:
            day = dt.datetime.now(self.calendar.tz).date()
            try:
                start_ns = self.calendar.session_bounds_utc_ns(day, sub.root)[0]
            except CalendarError:  # not a session day: from local midnight
                start_ns = int(dt.datetime.combine(day, dt.time(), self.calendar.tz).timestamp() * 1e9)
        end_ns = now_ns if end_ns is None else end_ns
        start, end = _local_text(start_ns, self.calendar), _local_text(end_ns, self.calendar)
        profitdll.clear_history_progress()
        done_before = profitdll.feed_counters()["history_done"]
        log.info("history of %s from %s to %s", sub.ticker, start, end)
        self.dll.get_history_trades(sub.ticker, sub.exchange, start, end)
        history: list[np.ndarray] = []
        held: list[np.ndarray] = list(self._pending)
        self._pending.clear()
        deadline = time.monotonic() + timeout
        last_progress = -1

        def take(recs: np.ndarray) -> None:
            is_hist = (recs["type"] == EventType.TRADE) & ((recs["flags"] & EventFlag.HISTORY) != 0) & (
                recs["instrument"] == sub.instrument_id)
            history.append(recs[is_hist])
            held.append(recs[~is_hist])

        try:
            while True:
                take(self._read(0.05))
                c = profitdll.feed_counters()
                if c["history_progress"] != last_progress and c["history_progress"] >= 0:
                    last_progress = c["history_progress"]
                    if on_progress is not None:
                        on_progress(last_progress)
                if c["history_progress"] == 100 or c["history_done"] > done_before:
                    while True:  # everything pushed before the end marker
                        recs = self._read(0.0)
                        if len(recs) == 0:
                            break
                        take(recs)
                    break
                if time.monotonic() > deadline:
                    raise ConnectionTimeoutError(
                        f"history of {sub.ticker} incomplete after {timeout:g} s (progress {last_progress})")
        finally:
            hist = np.concatenate(history) if history else np.empty(0, dtype=EVENT_DTYPE)
            live = np.concatenate(held) if held else np.empty(0, dtype=EVENT_DTYPE)
            if len(hist):
                covered = int(hist["ref"].max())
                dup = ((live["type"] == EventType.TRADE) & (live["instrument"] == sub.instrument_id)
                       & ((live["flags"] & EventFlag.HISTORY) == 0) & (live["ref"] <= covered))
                self.duplicates_dropped += int(np.count_nonzero(dup))
                live = live[~dup]
            self._pending = [hist, live, *self._pending]
        return len(hist)

    # ----------------------------------------------------------- counters
    @property
    def counters(self) -> dict[str, Any]:
        c = profitdll.feed_counters()
        c.update(
            ring_dropped=self.market_ring.dropped if self.market_ring is not None else 0,
            invalid_dropped=self.invalid_dropped, duplicates_dropped=self.duplicates_dropped,
            reconnections=self.reconnections, gaps=len(self.gaps),
            decoder=self._reader.counters if self._reader is not None else {},
        )
        return c
