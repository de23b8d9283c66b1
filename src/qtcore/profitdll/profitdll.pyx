# cython: freethreading_compatible=False
"""The ProfitDLL binding: loads Nelogica's ProfitDLL64.dll (or the bundled
simulator, same ABI), resolves every export the system uses at load time,
starts the session with the core's C callback entry points, and wraps each
request export.

- Every request releases the GIL while the DLL runs.
- Every NResult is checked: an error raises its own exception class (a
  subclass of ``quantumtrader.adapters.profitdll.errors.ProfitDLLError``).
- Strings go to the DLL as UTF-16LE (``PWideChar``), never ``wchar_t``.
- Orders are always sent as ``TConnectorSendOrder`` Version 1.
- Market data never passes through Python on the DLL's thread: the
  callbacks (``qt_profitdll_callbacks.c``) fill the market and order rings;
  :class:`MarketReader` consumes the market ring on the caller's thread.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid
from libc.stdint cimport int32_t, int64_t, intptr_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

import atexit

import numpy as np

from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN
from quantumtrader.data.events import EVENT_DTYPE
from quantumtrader.adapters.profitdll.errors import LibraryLoadError, check_nresult, error_for

from clock cimport qt_monotonic_ns
from events cimport QT_EVENT_SIZE, qt_event
from profitdll cimport (
    QT_PROFITDLL_CB__COUNT, QT_PROFITDLL_TICKER_MAX, TAssetID, TConnectorAccountIdentifier, TConnectorAssetIdentifier,
    TConnectorCancelAllOrders, TConnectorCancelOrder, TConnectorChangeOrder, TConnectorOrderIdentifier,
    TConnectorOrderOut, TConnectorSendOrder, TConnectorTradingAccountPosition, TConnectorZeroPosition,
    TSystemTime, qt_profitdll_api, qt_profitdll_api_load, qt_profitdll_api_login, qt_profitdll_api_required_count,
    qt_profitdll_api_required_name, qt_profitdll_api_symbol, qt_profitdll_api_unload, qt_profitdll_decode, qt_profitdll_decode_flush,
    qt_profitdll_decoder, qt_profitdll_decoder_init, qt_profitdll_feed_add_instrument, qt_profitdll_feed_attach,
    qt_profitdll_feed_clear_progress, qt_profitdll_feed_counters, qt_profitdll_feed_detach, qt_profitdll_feed_get_counters,
    qt_profitdll_feed_instruments, qt_profitdll_feed_reset, qt_profitdll_consumer, qt_profitdll_feed_set_consumer, qt_profitdll_feed_set_utc_offset, qt_profitdll_feed_utc_offset,
    qt_profitdll_on_daily, qt_profitdll_on_history_trade, qt_profitdll_on_history_trade_v2, qt_profitdll_on_offer_book,
    qt_profitdll_on_order, qt_profitdll_on_price_book, qt_profitdll_on_progress, qt_profitdll_on_state, qt_profitdll_on_ticker_state,
    qt_profitdll_on_tiny_book, qt_profitdll_on_trade, qt_profitdll_on_trade_v2, qt_profitdll_parse_date,
    qt_profitdll_ticker_request_fn, qt_profitdll_wchar,
)
from profitdll cimport TConnectorOrder, qt_profitdll_EnumerateAllOrders_fn  # enumerate_orders
from ring cimport qt_ring, qt_ring_pop, qt_ring_wait

QT_TIME_NONE = -(1 << 63)
assert QT_PROFITDLL_CB__COUNT == 12, "profitdll.pxd qt_profitdll_feed_counters.calls length"

#: Callback kinds in the order of qt_profitdll_cb (qt_profitdll_feed.h).
CALLBACK_NAMES = (
    "state", "trade", "trade_v2", "history_trade", "history_trade_v2", "daily", "price_book",
    "offer_book", "tiny_book", "ticker_state", "progress", "order",
)
ALL_INSTRUMENTS = 0xFFFF

#: Version 1 numbering of TConnectorSendOrder (Version 0 differs: never sent).
SIDE_BUY = 1
SIDE_SELL = 2
ORDER_MARKET = 1
ORDER_LIMIT = 2
ORDER_STOP_LIMIT = 4
POSITION_DAY_TRADE = 1
POSITION_CONSOLIDATED = 2

# SimCounters of profitdll_sim.h, in declaration order (uint64 each).
SIM_COUNTER_NAMES = (
    "records_replayed", "records_skipped", "records_invalid", "trades_delivered",
    "book_actions_delivered", "full_book_packets", "offer_book_delivered", "tiny_book_delivered",
    "daily_delivered", "phases_delivered", "history_trades_delivered", "drops",
    "records_lost_in_drops", "trades_lost_in_drops", "malformed_injected", "arrays_allocated",
    "arrays_freed", "free_pointer_errors", "forbidden_calls", "order_notifications",
    "replay_done", "state_callbacks", "early_order_callbacks", "early_callback_timeouts",
    "state_entries_written", "state_entries_restored", "state_write_errors", "state_restore_errors",
)

ctypedef int32_t (*sim_str_fn)(const char *) noexcept nogil
ctypedef int32_t (*sim_str2_fn)(const char *, const char *) noexcept nogil
ctypedef int32_t (*sim_str3_fn)(const char *, const char *, const char *) noexcept nogil
ctypedef int32_t (*sim_double_fn)(double) noexcept nogil
ctypedef int32_t (*sim_int_fn)(int32_t) noexcept nogil
ctypedef int32_t (*sim_void_fn)() noexcept nogil
ctypedef int32_t (*sim_buf_fn)(void *, int32_t) noexcept nogil
ctypedef int32_t (*sim_u64_fn)(uint64_t) noexcept nogil
ctypedef int32_t (*sim_reject_fn)(int32_t, double, const char *) noexcept nogil


def required_exports():
    """Names of the exports resolved at load time (a library lacking any of
    them is refused before login)."""
    return tuple(qt_profitdll_api_required_name(i).decode() for i in range(qt_profitdll_api_required_count()))


def monotonic_ns():
    """The core's monotonic clock (the one ``recv_ns`` is taken from)."""
    return qt_monotonic_ns()


cdef bytes _w(object s, str what):
    """A str as NUL-terminated UTF-16LE bytes (PWideChar)."""
    if not isinstance(s, str):
        raise TypeError(f"{what} must be str, got {type(s).__name__}")
    if "\0" in s:
        raise ValueError(f"{what} contains a NUL character")
    return (s + "\0").encode("utf-16-le", "surrogatepass")


cdef inline const qt_profitdll_wchar *_p(bytes b):
    return <const qt_profitdll_wchar *><const char *>b


cdef str _from_w(const qt_profitdll_wchar *s, int32_t n):
    if s == NULL or n <= 0:
        return ""
    return (<const char *>s)[:2 * n].decode("utf-16-le", "replace")


cdef int32_t _collect_order(const TConnectorOrder *o, intptr_t param) noexcept with gil:
    """EnumerateAllOrders' callback: only note the order's identifiers (a
    request function must not be called inside a DLL callback)."""
    cdef list ids = <list><void *>param
    cdef const qt_profitdll_wchar *cl
    cdef int32_t n = 0
    try:
        cl = o.OrderID.ClOrderID
        if cl != NULL:
            while cl[n] != 0 and n < 4096:
                n += 1
        ids.append((o.OrderID.LocalOrderID, _from_w(cl, n)))
        return 1
    except BaseException:
        return 0  # stop the enumeration; enumerate_orders sees the list cut short


cdef qt_ring *_ring_ptr(object ring) except NULL:
    cap = ring.capsule()
    cdef qt_ring *r = <qt_ring *>PyCapsule_GetPointer(cap, b"qt_ring")
    if r == NULL:
        raise ValueError("not a core ring")
    return r


# ---------------------------------------------------------------- feed state

def register_instrument(str ticker, int instrument_id, double price_unit):
    """Map ``ticker`` (as the DLL names it, e.g. ``"WDOZ25"``) to an
    instrument id and its price unit, before subscribing it.  Registering the
    same ticker again with the same id and unit is harmless."""
    b = _w(ticker, "ticker")
    if not 0 <= instrument_id < ALL_INSTRUMENTS:
        raise ValueError(f"instrument id must be in 0..{ALL_INSTRUMENTS - 1}, got {instrument_id}")
    if len(ticker) == 0 or len(ticker) > QT_PROFITDLL_TICKER_MAX:
        raise ValueError(f"ticker must have 1..{QT_PROFITDLL_TICKER_MAX} characters, got {ticker!r}")
    rc = qt_profitdll_feed_add_instrument(_p(b), <uint16_t>instrument_id, price_unit)
    if rc == -1:
        raise ValueError(f"invalid instrument registration {ticker!r} -> {instrument_id} "
                         f"(price unit {price_unit})")
    if rc == -2:
        raise ValueError("the instrument table is full")
    if rc == -3:
        raise ValueError(f"ticker {ticker!r} is already registered with another id or price unit")


def registered_instruments():
    return qt_profitdll_feed_instruments()


def set_utc_offset(int minutes):
    """Minutes east of UTC of the DLL's local times (V2 trades, order
    updates).  Sao Paulo: -180."""
    if not -14 * 60 <= minutes <= 14 * 60:
        raise ValueError(f"UTC offset out of range: {minutes} minutes")
    qt_profitdll_feed_set_utc_offset(minutes)


def utc_offset():
    return qt_profitdll_feed_utc_offset()


def feed_counters():
    """The callbacks' counters (a snapshot; see qt_profitdll_feed.h)."""
    cdef qt_profitdll_feed_counters c
    qt_profitdll_feed_get_counters(&c)
    return dict(
        calls={CALLBACK_NAMES[i]: c.calls[i] for i in range(QT_PROFITDLL_CB__COUNT)},
        records=c.records, records_dropped=c.records_dropped, gaps_reported=c.gaps_reported,
        invalid=c.invalid, unknown_instrument=c.unknown_instrument,
        foreign_thread_calls=c.foreign_thread_calls, detached_calls=c.detached_calls,
        bad_arrays=c.bad_arrays, arrays_freed=c.arrays_freed, free_errors=c.free_errors,
        levels_truncated=c.levels_truncated, translate_errors=c.translate_errors,
        history_trades=c.history_trades, history_done=c.history_done,
        order_updates=c.order_updates, order_detail_errors=c.order_detail_errors,
        order_ring_lost=c.order_ring_lost, venue_lost=c.venue_lost, clock_errors=c.clock_errors,
        history_progress=c.history_progress, callback_thread=c.callback_thread,
        conn_state=[c.conn_state[i] for i in range(4)],
    )


def clear_history_progress():
    """Forget the last Progress value (call before a history request)."""
    qt_profitdll_feed_clear_progress()


def feed_reset():
    """Forget instruments, counters and sequence numbers (between sessions)."""
    if qt_profitdll_feed_reset() != 0:
        raise RuntimeError("cannot reset the feed while rings are attached (a session is open)")


def attach_rings(market, orders=None):
    """Attach the rings the callbacks fill (the DLL session does this itself;
    exposed for tests that call the entry points directly)."""
    cdef qt_ring *m = _ring_ptr(market)
    cdef qt_ring *o = _ring_ptr(orders) if orders is not None else NULL
    if qt_profitdll_feed_attach(m, o) != 0:
        raise ValueError("market ring needs 64-byte slots, order ring 256-byte slots")


def detach_rings():
    qt_profitdll_feed_detach()


cdef object _consumer = None  # the installed consumer capsule: alive while the callbacks may use it


def set_consumer(consumer):
    """Install the feed's consumer: a PyCapsule named "qt_profitdll_consumer"
    (``quantumtrader.qtcore.pipeline.Lockstep.capsule()``), told by the
    callbacks on the DLL's thread after each market-data callback and each
    order update; ``None`` removes it.  Returns once no callback is still
    inside the previous consumer (the GIL is released meanwhile): release a
    lockstep before removing it, or this waits for its current wait to time
    out.  Never from inside a callback."""
    global _consumer
    cdef const qt_profitdll_consumer *c = NULL
    if consumer is not None:
        if not PyCapsule_IsValid(consumer, b"qt_profitdll_consumer"):
            raise TypeError("consumer must be a PyCapsule named 'qt_profitdll_consumer' (Lockstep.capsule()) "
                            "or None")
        c = <const qt_profitdll_consumer *>PyCapsule_GetPointer(consumer, b"qt_profitdll_consumer")
    cdef int rc
    with nogil:
        rc = qt_profitdll_feed_set_consumer(c)
    if rc != 0:
        raise ValueError("the consumer has neither an after_market nor an after_order function")
    _consumer = consumer  # the previous one is released only now that no callback is inside it


def installed_consumer():
    """The consumer capsule installed by :func:`set_consumer`, or None."""
    return _consumer


def callback_address(str name):
    """Address of a callback entry point (for tests calling them through
    ctypes from a thread, as the DLL would)."""
    table = {
        "state": <size_t>&qt_profitdll_on_state,
        "trade": <size_t>&qt_profitdll_on_trade,
        "trade_v2": <size_t>&qt_profitdll_on_trade_v2,
        "history_trade": <size_t>&qt_profitdll_on_history_trade,
        "history_trade_v2": <size_t>&qt_profitdll_on_history_trade_v2,
        "daily": <size_t>&qt_profitdll_on_daily,
        "price_book": <size_t>&qt_profitdll_on_price_book,
        "offer_book": <size_t>&qt_profitdll_on_offer_book,
        "tiny_book": <size_t>&qt_profitdll_on_tiny_book,
        "ticker_state": <size_t>&qt_profitdll_on_ticker_state,
        "progress": <size_t>&qt_profitdll_on_progress,
        "order": <size_t>&qt_profitdll_on_order,
    }
    return table[name]


def parse_date(str text, int utc_offset_min=EXCHANGE_UTC_OFFSET_MIN):
    """A DLL date string ("DD/MM/YYYY HH:mm:SS.ZZZ", local) as UTC ns, or None."""
    b = _w(text, "text")
    cdef int64_t t = qt_profitdll_parse_date(<const uint16_t *>_p(b), len(text), utc_offset_min)
    return None if t == QT_TIME_NONE else t


# ------------------------------------------------------------ market reader

cdef class MarketReader:
    """Consumer of the market ring: pops records (without the GIL) and
    resolves the raw date strings the callbacks left in EXT records into
    ``exch_ns``.  One reader per ring; one thread uses it."""

    cdef qt_ring *_r
    cdef object _ring
    cdef qt_profitdll_decoder _dec
    cdef qt_event *_raw
    cdef uint64_t _cap

    def __cinit__(self, ring, int utc_offset_min=EXCHANGE_UTC_OFFSET_MIN, uint64_t batch=65536):
        self._ring = ring  # keeps the C ring alive
        self._r = _ring_ptr(ring)
        if batch == 0:
            raise ValueError("batch must be >= 1")
        self._cap = batch
        self._raw = <qt_event *>malloc(batch * QT_EVENT_SIZE)
        if self._raw == NULL:
            raise MemoryError()
        qt_profitdll_decoder_init(&self._dec, utc_offset_min)

    def __dealloc__(self):
        free(self._raw)

    def read(self, uint64_t max_records=0):
        """Up to ``max_records`` (default: the batch size) decoded records
        ready now, as an ``EVENT_DTYPE`` array (possibly empty)."""
        if max_records == 0 or max_records > self._cap:
            max_records = self._cap
        out = np.empty(max_records + 1, dtype=EVENT_DTYPE)
        cdef qt_event *o = <qt_event *><size_t>out.ctypes.data
        cdef uint64_t n, w
        with nogil:
            n = qt_ring_pop(self._r, self._raw, max_records)
            w = qt_profitdll_decode(&self._dec, self._raw, n, o)
        return out[:w]

    def wait(self, double timeout_s=-1.0, uint32_t spin=2000):
        """Block without the GIL until records are ready (or the timeout);
        returns how many are ready."""
        cdef int64_t t = -1 if timeout_s < 0 else <int64_t>(timeout_s * 1e9)
        cdef uint64_t n
        with nogil:
            n = qt_ring_wait(self._r, t, spin)
        return n

    def flush(self):
        """End of stream: a record still waiting for its date comes out
        without it."""
        out = np.empty(1, dtype=EVENT_DTYPE)
        cdef uint64_t w = qt_profitdll_decode_flush(&self._dec, <qt_event *><size_t>out.ctypes.data)
        return out[:w]

    property utc_offset_min:
        def __get__(self):
            return self._dec.utc_offset_min

        def __set__(self, int minutes):
            self._dec.utc_offset_min = minutes

    @property
    def counters(self):
        return dict(dates=self._dec.dates, bad_dates=self._dec.bad_dates,
                    missing_ext=self._dec.missing_ext, orphan_ext=self._dec.orphan_ext)


# ------------------------------------------------------------- the library

cdef object _session_owner = None  # the ProfitDLL whose session is open (callbacks are global)


def _finalize_at_exit():
    # The DLL's thread must stop before the interpreter frees the rings.
    owner = _session_owner
    if owner is not None:
        try:
            owner.finalize()
        except Exception:
            pass


atexit.register(_finalize_at_exit)


cdef void _account(TConnectorAccountIdentifier *a, object account, list keep) except *:
    acc = _w(account.account_id, "account_id")
    sub = _w(getattr(account, "sub_account_id", "") or "", "sub_account_id")
    keep.append(acc)
    keep.append(sub)
    memset(a, 0, sizeof(TConnectorAccountIdentifier))
    a.Version = 0
    a.BrokerID = int(account.broker_id)
    a.AccountID = <qt_profitdll_wchar *>_p(acc)
    a.SubAccountID = <qt_profitdll_wchar *>_p(sub)


cdef void _asset(TConnectorAssetIdentifier *a, str ticker, str exchange, list keep) except *:
    t = _w(ticker, "ticker")
    e = _w(exchange, "exchange")
    keep.append(t)
    keep.append(e)
    memset(a, 0, sizeof(TConnectorAssetIdentifier))
    a.Version = 0
    a.Ticker = <qt_profitdll_wchar *>_p(t)
    a.Exchange = <qt_profitdll_wchar *>_p(e)
    a.FeedType = 0


cdef object _systemtime(TSystemTime t):
    return (t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds)


cdef class ProfitDLL:
    """One loaded ProfitDLL (or simulator).  Loading resolves every export
    of :func:`required_exports`; a missing one raises LibraryLoadError naming
    it, before anything else happens.

    A session (:meth:`login` .. :meth:`finalize`) fills the attached rings;
    only one session can be open per process (the DLL's callbacks carry no
    context).  Credentials are passed through to the DLL and not kept."""

    cdef qt_profitdll_api api
    cdef readonly str path
    cdef object _market
    cdef object _orders
    cdef readonly bint logged_in
    cdef readonly bint routing

    def __cinit__(self, path):
        import os
        self.path = os.fspath(path)
        cdef char err[1024]
        bpath = self.path.encode("utf-8")
        cdef int rc = qt_profitdll_api_load(&self.api, bpath, err, sizeof(err))
        if rc != 0:
            msg = err.decode("utf-8", "replace")
            missing = ()
            if rc > 0 and "does not export: " in msg:
                missing = tuple(msg.split("does not export: ", 1)[1].split(", "))
            raise LibraryLoadError(msg, self.path, missing)

    def __dealloc__(self):
        global _session_owner
        cdef int32_t rc = 0
        if self.logged_in:
            with nogil:
                rc = self.api.DLLFinalize()
            if rc == 0:
                qt_profitdll_feed_detach()
                self.logged_in = False
        if not self.logged_in and self.api.lib != NULL:
            qt_profitdll_api_unload(&self.api)
        # a failed finalize leaves the library mapped: its thread may still call back

    def __repr__(self):
        state = "logged in" if self.logged_in else "idle"
        return f"ProfitDLL({self.path!r}, {state})"

    def has_export(self, str name):
        return qt_profitdll_api_symbol(&self.api, name.encode()) != NULL

    cdef void *_sim(self, str name) except NULL:
        cdef void *p = qt_profitdll_api_symbol(&self.api, name.encode())
        if p == NULL:
            raise LibraryLoadError(f"{self.path} does not export {name}: not the simulator",
                                   self.path, (name,))
        return p

    # ------------------------------------------------------------ session
    def login(self, str activation_key, str user, str password, *, market, orders=None,
              bint routing=False, bint trades_v2=True):
        """Start the session: DLLInitializeLogin (``routing``) or
        DLLInitializeMarketLogin, with the core's callbacks filling
        ``market`` (and ``orders``, required with routing).  The connection
        states arrive later, as CONN_STATE records in the market ring."""
        global _session_owner
        if self.logged_in:
            raise RuntimeError("already logged in: finalize() first")
        if _session_owner is not None:
            raise RuntimeError(f"another ProfitDLL session is open in this process: {_session_owner!r}")
        if routing and orders is None:
            raise ValueError("a routing session needs an order ring")
        kb = _w(activation_key, "activation key")
        ub = _w(user, "user")
        pb = _w(password, "password")
        cdef qt_ring *m = _ring_ptr(market)
        cdef qt_ring *o = _ring_ptr(orders) if orders is not None else NULL
        if qt_profitdll_feed_attach(m, o) != 0:
            raise ValueError("market ring needs 64-byte slots, order ring 256-byte slots")
        self._market = market
        self._orders = orders
        cdef const char *failed = NULL
        cdef int32_t rc
        cdef int r = routing
        cdef int v2 = trades_v2
        cdef const qt_profitdll_wchar *kp = _p(kb)
        cdef const qt_profitdll_wchar *up = _p(ub)
        cdef const qt_profitdll_wchar *pp = _p(pb)
        with nogil:
            rc = qt_profitdll_api_login(&self.api, r, v2, kp, up, pp, &failed)
        del kb, ub, pb
        call = failed.decode() if failed != NULL else "login"
        if rc != 0:
            if call in ("DLLInitializeLogin", "DLLInitializeMarketLogin"):
                # nothing started: the rings are free again
                qt_profitdll_feed_detach()
                self._market = self._orders = None
            else:
                self.logged_in = True  # started: finalize() must still run
                self.routing = routing
                _session_owner = self
            raise error_for(rc, call)
        self.logged_in = True
        self.routing = routing
        _session_owner = self

    def finalize(self):
        """DLLFinalize; once it has returned no callback can fire, and the
        rings are detached (they stay usable for draining)."""
        global _session_owner
        if not self.logged_in:
            return
        cdef int32_t rc
        with nogil:
            rc = self.api.DLLFinalize()
        if rc != 0:
            raise error_for(rc, "DLLFinalize")
        qt_profitdll_feed_detach()
        self.logged_in = False
        self._market = self._orders = None
        if _session_owner is self:
            _session_owner = None

    # ------------------------------------------------------- market data
    cdef _ticker_request(self, str call, str ticker, str exchange):
        t = _w(ticker, "ticker")
        e = _w(exchange, "exchange")
        cdef int32_t rc
        cdef qt_profitdll_ticker_request_fn fn
        if call == "SubscribeTicker":
            fn = self.api.SubscribeTicker
        elif call == "UnsubscribeTicker":
            fn = self.api.UnsubscribeTicker
        elif call == "SubscribePriceBook":
            fn = self.api.SubscribePriceBook
        elif call == "UnsubscribePriceBook":
            fn = self.api.UnsubscribePriceBook
        elif call == "SubscribeOfferBook":
            fn = self.api.SubscribeOfferBook
        else:
            fn = self.api.UnsubscribeOfferBook
        cdef const qt_profitdll_wchar *tp = _p(t)
        cdef const qt_profitdll_wchar *ep = _p(e)
        with nogil:
            rc = fn(tp, ep)
        check_nresult(rc, f"{call}({ticker}:{exchange})")

    def subscribe_ticker(self, str ticker, str exchange="F"):
        self._ticker_request("SubscribeTicker", ticker, exchange)

    def unsubscribe_ticker(self, str ticker, str exchange="F"):
        self._ticker_request("UnsubscribeTicker", ticker, exchange)

    def subscribe_price_book(self, str ticker, str exchange="F"):
        self._ticker_request("SubscribePriceBook", ticker, exchange)

    def unsubscribe_price_book(self, str ticker, str exchange="F"):
        self._ticker_request("UnsubscribePriceBook", ticker, exchange)

    def subscribe_offer_book(self, str ticker, str exchange="F"):
        self._ticker_request("SubscribeOfferBook", ticker, exchange)

    def unsubscribe_offer_book(self, str ticker, str exchange="F"):
        self._ticker_request("UnsubscribeOfferBook", ticker, exchange)

    def get_history_trades(self, str ticker, str exchange, str start, str end):
        """GetHistoryTrades with dates "DD/MM/YYYY HH:mm:SS" (local time);
        the answer arrives as history trades and progress."""
        t = _w(ticker, "ticker")
        e = _w(exchange, "exchange")
        s = _w(start, "start")
        n = _w(end, "end")
        cdef int32_t rc
        cdef const qt_profitdll_wchar *tp = _p(t)
        cdef const qt_profitdll_wchar *ep = _p(e)
        cdef const qt_profitdll_wchar *sp = _p(s)
        cdef const qt_profitdll_wchar *np_ = _p(n)
        with nogil:
            rc = self.api.GetHistoryTrades(tp, ep, sp, np_)
        check_nresult(rc, f"GetHistoryTrades({ticker}:{exchange})")

    def get_server_clock(self):
        """(TDateTime, (year, month, day, hour, minute, second, ms)) of the
        server, local time."""
        cdef double dt = 0
        cdef int32_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0, rc
        with nogil:
            rc = self.api.GetServerClock(&dt, &y, &mo, &d, &h, &mi, &s, &ms)
        check_nresult(rc, "GetServerClock")
        return dt, (y, mo, d, h, mi, s, ms)

    # ------------------------------------------------------------ orders
    def send_order(self, account, str ticker, str exchange, int side, int order_type,
                   double price, double stop_price, int64_t quantity, str password=""):
        """SendOrder with a Version 1 TConnectorSendOrder (side 1 buy / 2
        sell; type 1 market, 2 limit, 4 stop-limit; price -1 for market,
        stop_price -1 when none).  Returns the local order id (this session
        only).  The order callback may fire before this returns."""
        if side not in (SIDE_BUY, SIDE_SELL):
            raise ValueError(f"side must be 1 (buy) or 2 (sell), got {side}")
        if order_type not in (ORDER_MARKET, ORDER_LIMIT, ORDER_STOP_LIMIT):
            raise ValueError(f"order type must be 1 market, 2 limit or 4 stop-limit, got {order_type}")
        if quantity <= 0:
            raise ValueError(f"quantity must be > 0, got {quantity}")
        cdef list keep = []
        cdef TConnectorSendOrder o
        memset(&o, 0, sizeof(o))
        o.Version = 1
        _account(&o.AccountID, account, keep)
        _asset(&o.AssetID, ticker, exchange, keep)
        pw = _w(password, "password")
        o.Password = <qt_profitdll_wchar *>_p(pw)
        o.OrderType = <uint8_t>order_type
        o.OrderSide = <uint8_t>side
        o.Price = price
        o.StopPrice = stop_price
        o.Quantity = quantity
        cdef int64_t rc
        with nogil:
            rc = self.api.SendOrder(&o)
        del pw
        return check_nresult(rc, "SendOrder")

    def change_order(self, account, int64_t local_id, str cl_ord_id, double price,
                     double stop_price, int64_t quantity, str password=""):
        """SendChangeOrderV2 (Version 0 record: the only one)."""
        cdef list keep = []
        cdef TConnectorChangeOrder c
        memset(&c, 0, sizeof(c))
        _account(&c.AccountID, account, keep)
        cl = _w(cl_ord_id, "cl_ord_id")
        pw = _w(password, "password")
        c.OrderID.LocalOrderID = local_id
        c.OrderID.ClOrderID = <qt_profitdll_wchar *>_p(cl)
        c.Password = <qt_profitdll_wchar *>_p(pw)
        c.Price = price
        c.StopPrice = stop_price
        c.Quantity = quantity
        cdef int32_t rc
        with nogil:
            rc = self.api.SendChangeOrderV2(&c)
        check_nresult(rc, "SendChangeOrderV2")

    def cancel_order(self, account, int64_t local_id, str cl_ord_id, str password=""):
        cdef list keep = []
        cdef TConnectorCancelOrder c
        memset(&c, 0, sizeof(c))
        _account(&c.AccountID, account, keep)
        cl = _w(cl_ord_id, "cl_ord_id")
        pw = _w(password, "password")
        c.OrderID.LocalOrderID = local_id
        c.OrderID.ClOrderID = <qt_profitdll_wchar *>_p(cl)
        c.Password = <qt_profitdll_wchar *>_p(pw)
        cdef int32_t rc
        with nogil:
            rc = self.api.SendCancelOrderV2(&c)
        check_nresult(rc, "SendCancelOrderV2")

    def cancel_all_orders(self, account, str password=""):
        cdef list keep = []
        cdef TConnectorCancelAllOrders c
        memset(&c, 0, sizeof(c))
        _account(&c.AccountID, account, keep)
        pw = _w(password, "password")
        c.Password = <qt_profitdll_wchar *>_p(pw)
        cdef int32_t rc
        with nogil:
            rc = self.api.SendCancelAllOrdersV2(&c)
        check_nresult(rc, "SendCancelAllOrdersV2")

    def zero_position(self, account, str ticker, str exchange, double price=-1.0,
                      int position_type=POSITION_DAY_TRADE, str password=""):
        """SendZeroPositionV2 (Version 1: with PositionType).  Returns the
        local id of the zeroing order."""
        if position_type not in (POSITION_DAY_TRADE, POSITION_CONSOLIDATED):
            raise ValueError(f"position type must be 1 (day trade) or 2 (consolidated), got {position_type}")
        cdef list keep = []
        cdef TConnectorZeroPosition z
        memset(&z, 0, sizeof(z))
        z.Version = 1
        _account(&z.AccountID, account, keep)
        _asset(&z.AssetID, ticker, exchange, keep)
        pw = _w(password, "password")
        z.Password = <qt_profitdll_wchar *>_p(pw)
        z.Price = price
        z.PositionType = <uint8_t>position_type
        cdef int64_t rc
        with nogil:
            rc = self.api.SendZeroPositionV2(&z)
        return check_nresult(rc, "SendZeroPositionV2")

    def get_position(self, account, str ticker, str exchange="F",
                     int position_type=POSITION_DAY_TRADE):
        """GetPositionV2 (Version 1) as a dict."""
        cdef list keep = []
        cdef TConnectorTradingAccountPosition p
        memset(&p, 0, sizeof(p))
        p.Version = 1
        _account(&p.AccountID, account, keep)
        _asset(&p.AssetID, ticker, exchange, keep)
        p.PositionType = <uint8_t>position_type
        cdef int32_t rc
        with nogil:
            rc = self.api.GetPositionV2(&p)
        check_nresult(rc, f"GetPositionV2({ticker})")
        return dict(
            open_quantity=p.OpenQuantity, open_average_price=p.OpenAveragePrice,
            open_side=p.OpenSide, daily_average_sell_price=p.DailyAverageSellPrice,
            daily_sell_quantity=p.DailySellQuantity,
            daily_average_buy_price=p.DailyAverageBuyPrice,
            daily_buy_quantity=p.DailyBuyQuantity, daily_quantity=p.DailyQuantity,
            daily_quantity_available=p.DailyQuantityAvailable, position_type=p.PositionType,
        )

    def get_order_details(self, int64_t local_id, str cl_ord_id=""):
        """GetOrderDetails (Version 1): first call for the string lengths,
        second with buffers.  Returns a dict."""
        cl = _w(cl_ord_id, "cl_ord_id")
        cdef TConnectorOrderOut o
        memset(&o, 0, sizeof(o))
        o.Version = 1
        o.OrderID.LocalOrderID = local_id
        o.OrderID.ClOrderID = <qt_profitdll_wchar *>_p(cl)
        cdef int32_t rc
        with nogil:
            rc = self.api.GetOrderDetails(&o)
        check_nresult(rc, "GetOrderDetails")
        tb = bytearray(2 * (max(o.AssetID.TickerLength, 0) + 1))
        eb = bytearray(2 * (max(o.AssetID.ExchangeLength, 0) + 1))
        mb = bytearray(2 * (max(o.TextMessageLength, 0) + 1))
        cdef char *tp = tb
        cdef char *ep = eb
        cdef char *mp = mb
        o.AssetID.Ticker = <qt_profitdll_wchar *>tp
        o.AssetID.Exchange = <qt_profitdll_wchar *>ep
        o.TextMessage = <qt_profitdll_wchar *>mp
        with nogil:
            rc = self.api.GetOrderDetails(&o)
        check_nresult(rc, "GetOrderDetails")
        return dict(
            local_id=o.OrderID.LocalOrderID, cl_ord_id=cl_ord_id,
            broker_id=o.AccountID.BrokerID,
            account_id=_from_w(o.AccountID.AccountID, o.AccountID.AccountIDLength),
            ticker=_from_w(o.AssetID.Ticker, o.AssetID.TickerLength),
            exchange=_from_w(o.AssetID.Exchange, o.AssetID.ExchangeLength),
            quantity=o.Quantity, traded_quantity=o.TradedQuantity,
            leaves_quantity=o.LeavesQuantity, price=o.Price, stop_price=o.StopPrice,
            average_price=o.AveragePrice, side=o.OrderSide, order_type=o.OrderType,
            status=o.OrderStatus, validity_type=o.ValidityType,
            date=_systemtime(o.Date), last_update=_systemtime(o.LastUpdate),
            text=_from_w(o.TextMessage, o.TextMessageLength), event_id=o.EventID,
        )

    def enumerate_orders(self, account):
        """Every order of the account (EnumerateAllOrders, TConnectorOrder
        Version 1) as get_order_details dicts, in the DLL's order.  The
        identifiers are collected inside the enumeration callback; the
        details are asked for after it returns, since a request function
        must not be called from a DLL callback."""
        cdef qt_profitdll_EnumerateAllOrders_fn fn = <qt_profitdll_EnumerateAllOrders_fn>qt_profitdll_api_symbol(
            &self.api, b"EnumerateAllOrders")
        if fn == NULL:
            raise LibraryLoadError(f"{self.path} does not export EnumerateAllOrders", self.path,
                                   ("EnumerateAllOrders",))
        cdef list keep = []
        cdef TConnectorAccountIdentifier a
        memset(&a, 0, sizeof(a))
        _account(&a, account, keep)
        cdef list ids = []
        cdef int32_t rc
        with nogil:
            rc = fn(&a, 1, <intptr_t><void *>ids, _collect_order)
        check_nresult(rc, "EnumerateAllOrders")
        out = []
        for local_id, cl_ord_id in ids:
            d = self.get_order_details(local_id, cl_ord_id)
            d["cl_ord_id"] = cl_ord_id
            out.append(d)
        return out

    # --------------------------------------------------------- simulator
    def sim_set_replay_log(self, path):
        cdef sim_str_fn fn = <sim_str_fn>self._sim("SimSetReplayLog")
        import os
        cdef const char *p = NULL
        b = None
        if path is not None:
            b = os.fsencode(path)
            p = b
        self._sim_check(fn(p), "SimSetReplayLog")

    def sim_add_replay_log(self, path, str ticker="", str exchange="F"):
        """One more log replayed in the same session under its own ticker
        ("": the log's instrument); the logs merge by exchange time.
        sim_set_replay_log first (it also removes the added logs)."""
        cdef sim_str3_fn fn = <sim_str3_fn>self._sim("SimAddReplayLog")
        import os
        b = os.fsencode(path)
        t = ticker.encode()
        e = exchange.encode()
        self._sim_check(fn(b, t, e), "SimAddReplayLog")

    def sim_set_speed(self, double speed):
        cdef sim_double_fn fn = <sim_double_fn>self._sim("SimSetSpeed")
        self._sim_check(fn(speed), "SimSetSpeed")

    def sim_set_ticker(self, str ticker, str exchange="F"):
        cdef sim_str2_fn fn = <sim_str2_fn>self._sim("SimSetTicker")
        t = ticker.encode()
        e = exchange.encode()
        self._sim_check(fn(t, e), "SimSetTicker")

    def sim_set_phase_schedule(self, str spec):
        """"HH:MM=state,..." of synthesized phases ("" clears)."""
        cdef sim_str_fn fn = <sim_str_fn>self._sim("SimSetPhaseSchedule")
        b = spec.encode()
        self._sim_check(fn(b), "SimSetPhaseSchedule")

    def sim_set_book_packet_levels(self, int levels):
        self._sim_int("SimSetBookPacketLevels", levels)

    def sim_set_utc_offset_minutes(self, int minutes):
        self._sim_int("SimSetUtcOffsetMinutes", minutes)

    def sim_set_auto_start(self, bint on):
        self._sim_int("SimSetAutoStart", on)

    def sim_start_replay(self):
        cdef sim_void_fn fn = <sim_void_fn>self._sim("SimStartReplay")
        self._sim_check(fn(), "SimStartReplay")

    def sim_set_login_result(self, int result):
        self._sim_int("SimSetLoginResult", result)

    def sim_drop_market_data(self, int ms):
        self._sim_int("SimDropMarketData", ms)

    def sim_set_callback_delay_us(self, int us):
        self._sim_int("SimSetCallbackDelayUs", us)

    def sim_stall_callbacks(self, int ms):
        self._sim_int("SimStallCallbacks", ms)

    def sim_inject_malformed(self, int kind):
        self._sim_int("SimInjectMalformed", kind)

    def sim_inject_phase(self, int state):
        self._sim_int("SimInjectPhase", state)

    def sim_wait_replay_done(self, double timeout_s):
        """True once the log has been replayed to its end (callbacks
        returned), False on timeout."""
        cdef sim_int_fn fn = <sim_int_fn>self._sim("SimWaitReplayDone")
        cdef int32_t ms = <int32_t>(timeout_s * 1000)
        cdef int32_t rc
        with nogil:
            rc = fn(ms)
        if rc == -2147483644:  # NL_WAITING_SERVER: timed out
            return False
        self._sim_check(rc, "SimWaitReplayDone")
        return True

    def sim_set_state_file(self, path):
        """The broker state file (SimSetStateFile; None or "": none): a
        routing login records its order commands there and, when the file
        exists, rebuilds the orders and positions of the session that wrote
        it (a client killed and restarted finds its broker as it left it).
        A file of another replay fails the login."""
        cdef sim_str_fn fn = <sim_str_fn>self._sim("SimSetStateFile")
        import os
        cdef const char *p = NULL
        b = None
        if path is not None:
            b = os.fsencode(path)
            p = b
        self._sim_check(fn(p), "SimSetStateFile")

    def sim_set_order_latency_us(self, int us):
        """Order, change and cancel latency to the exchange, market time (SimSetOrderLatencyUs)."""
        self._sim_int("SimSetOrderLatencyUs", us)

    def sim_set_early_order_callback(self, double probability):
        """Probability (0..1) that an order request returns only after its
        callbacks fired (SimSetEarlyOrderCallback)."""
        cdef sim_double_fn fn = <sim_double_fn>self._sim("SimSetEarlyOrderCallback")
        self._sim_check(fn(probability), "SimSetEarlyOrderCallback")

    def sim_set_seed(self, uint64_t seed):
        """Seed of the simulator's random choices (SimSetSeed)."""
        cdef sim_u64_fn fn = <sim_u64_fn>self._sim("SimSetSeed")
        self._sim_check(fn(seed), "SimSetSeed")

    def sim_reject_orders(self, int count, double probability=0.0, str reason=""):
        """Reject the next ``count`` new orders, then each with ``probability``
        (SimRejectOrders; (0, 0) turns it off)."""
        cdef sim_reject_fn fn = <sim_reject_fn>self._sim("SimRejectOrders")
        b = reason.encode("utf-8") if reason else None
        cdef const char *p = NULL
        if b is not None:
            p = b
        self._sim_check(fn(count, probability, p), "SimRejectOrders")

    def sim_counters(self):
        cdef sim_buf_fn fn = <sim_buf_fn>self._sim("SimGetCounters")
        n = len(SIM_COUNTER_NAMES)
        buf = np.zeros(n, dtype=np.uint64)
        cdef size_t addr = buf.ctypes.data
        self._sim_check(fn(<void *>addr, <int32_t>(8 * n)), "SimGetCounters")
        return {name: int(v) for name, v in zip(SIM_COUNTER_NAMES, buf)}

    def sim_last_error(self):
        cdef sim_buf_fn fn = <sim_buf_fn>self._sim("SimGetLastError")
        cdef char buf[1024]
        fn(buf, sizeof(buf))
        return buf.decode("utf-8", "replace")

    cdef _sim_int(self, str name, int32_t value):
        """A simulator control taking one int32 (most Sim* exports)."""
        cdef sim_int_fn fn = <sim_int_fn>self._sim(name)
        self._sim_check(fn(value), name)

    def _sim_check(self, int32_t rc, str call):
        if rc < 0:
            detail = ""
            if self.has_export("SimGetLastError"):
                detail = self.sim_last_error()
            raise error_for(rc, call, detail)
