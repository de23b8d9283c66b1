# cython: freethreading_compatible=False
"""The incremental feature engine of the core (spec ``qt-features/1``): 77
features (65 model + 12 book) at every trade, the same numbers for live
trading, replay and training sets.

The engine owns the instrument's L2 book: every record (trades and book
records alike) goes through one C call, :c:func:`qt_fe_on_event`, and the
drain loop (:meth:`FeatureEngine.drain` over an event array or a mapped event
log, :meth:`FeatureEngine.drain_ring` over the market ring) runs it without
the GIL, storing feature vectors in a preallocated :class:`FeatureBatch` and
calling an optional C decision hook at every trade.  Python only builds the
engine from its tables (time zone, session hours) and takes filled
batches."""
import datetime as _dt
import functools
import zoneinfo

import numpy as np

from quantumtrader.calendar import EXCHANGE_TZ

from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid, PyCapsule_New
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memset

from book cimport qt_book, qt_book_best_price, qt_book_best_qty, qt_book_levels
from events cimport qt_event
from features cimport (
    QT_FE_DRAIN_CLOSED, QT_FE_DRAIN_DONE, QT_FE_DRAIN_FULL, QT_FE_DRAIN_IDLE, QT_FE_DRAIN_STOPPED,
    QT_FE_NUM_BOOK, QT_FE_NUM_FEATURES, QT_FE_NUM_MODEL, qt_fe, qt_fe_book, qt_fe_config, qt_fe_counters,
    qt_fe_create, qt_fe_destroy, qt_fe_drain, qt_fe_drain_ring, qt_fe_get_counters, qt_fe_hook,
    qt_fe_memory_bytes, qt_fe_on_event, qt_fe_reset, qt_fe_session_hours, qt_fe_sink, qt_fe_tz_transition,
)
from ring cimport qt_ring

N_FEATURES = QT_FE_NUM_FEATURES
N_MODEL_FEATURES = QT_FE_NUM_MODEL
N_BOOK_FEATURES = QT_FE_NUM_BOOK

_TZ_DTYPE = np.dtype([("utc_ns_from", "<i8"), ("offset_s", "<i4"), ("_pad", "<i4")])
_SESSION_DTYPE = np.dtype([("date", "<i4"), ("open_s", "<i4"), ("close_s", "<i4")])


@functools.lru_cache(maxsize=8)
def tz_transitions(zone: str = EXCHANGE_TZ, start_year: int = 1970, end_year: int = 2100):
    """The UTC-offset changes of ``zone`` between ``start_year`` and
    ``end_year`` from the tz database, as ``(utc_ns_from, offset_seconds)``
    pairs (the first pair holds the offset in force at the start).  Found by
    sampling every day and bisecting to the second, since zoneinfo does not
    expose its transition list."""
    tz = zoneinfo.ZoneInfo(zone)

    def offset(t: int) -> int:
        return int(_dt.datetime.fromtimestamp(t, tz).utcoffset().total_seconds())

    t0 = int(_dt.datetime(start_year, 1, 1, tzinfo=_dt.UTC).timestamp())
    t1 = int(_dt.datetime(end_year, 1, 1, tzinfo=_dt.UTC).timestamp())
    out = [(t0 * 1_000_000_000, offset(t0))]
    prev_t, prev_off = t0, out[0][1]
    for t in range(t0 + 86400, t1 + 1, 86400):
        off = offset(t)
        if off != prev_off:
            lo, hi = prev_t, t  # offset(lo) == prev_off, offset(hi) == off
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == prev_off:
                    lo = mid
                else:
                    hi = mid
            out.append((hi * 1_000_000_000, off))
            prev_off = off
        prev_t = t
    return tuple(out)


def seconds_of_day(value) -> int:
    """``"HH:MM"``, ``"HH:MM:SS"``, a ``datetime.time`` or whole seconds ->
    seconds since local midnight."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, _dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second
    parts = str(value).split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"session time {value!r} is not HH:MM or HH:MM:SS")
    h, m = int(parts[0]), int(parts[1])
    s = int(parts[2]) if len(parts) == 3 else 0
    if not (0 <= m < 60 and 0 <= s < 60 and 0 <= h * 3600 + m * 60 + s <= 86400):
        raise ValueError(f"session time {value!r} is out of range")
    return h * 3600 + m * 60 + s


def _yyyymmdd(value) -> int:
    if isinstance(value, _dt.date):
        return value.year * 10000 + value.month * 100 + value.day
    if isinstance(value, str) and "-" in value:
        d = _dt.date.fromisoformat(value)
        return d.year * 10000 + d.month * 100 + d.day
    return int(value)



DRAIN_DONE = QT_FE_DRAIN_DONE
DRAIN_FULL = QT_FE_DRAIN_FULL
DRAIN_STOPPED = QT_FE_DRAIN_STOPPED
DRAIN_CLOSED = QT_FE_DRAIN_CLOSED
DRAIN_IDLE = QT_FE_DRAIN_IDLE
DRAIN_STATUS_NAMES = {QT_FE_DRAIN_DONE: "done", QT_FE_DRAIN_FULL: "full", QT_FE_DRAIN_STOPPED: "stopped",
                      QT_FE_DRAIN_CLOSED: "closed", QT_FE_DRAIN_IDLE: "idle"}


cdef class FeatureBatch:
    """Preallocated output of the drain loop: ``capacity`` rows of 77
    features with their ``ts``, ``trade_number`` and ``price`` (the trade's
    price in the instrument's price units: training labels need it).
    ``every``: keep the vector of every N-th decision point of the engine
    (1 all, 0 none: the decision hook still sees every one).  ``latencies``: also record, for up
    to that many decision points, the ns from taking the record to its
    feature vector.  ``hook``: a PyCapsule named "qt_fe_hook" holding a C
    ``qt_fe_hook`` (function + user data) called at every decision point; its
    owner keeps it alive while the batch is used."""

    cdef qt_fe_sink _sink
    cdef readonly object matrix
    cdef readonly object ts
    cdef readonly object trade_number
    cdef readonly object price
    cdef readonly object latency_ns
    cdef object _hook_ref
    cdef bint _busy

    def __cinit__(self, size_t capacity, uint64_t every=1, size_t latencies=0, hook=None):
        memset(&self._sink, 0, sizeof(self._sink))
        self.matrix = np.empty((capacity, QT_FE_NUM_FEATURES), dtype=np.float64)
        self.ts = np.empty(capacity, dtype=np.int64)
        self.trade_number = np.empty(capacity, dtype=np.int64)
        self.price = np.empty(capacity, dtype=np.int64)
        self.latency_ns = np.empty(latencies, dtype=np.int64)
        cdef double[:, ::1] m = self.matrix
        cdef int64_t[::1] t = self.ts
        cdef int64_t[::1] r = self.trade_number
        cdef int64_t[::1] px = self.price
        cdef int64_t[::1] lat = self.latency_ns
        if capacity:
            self._sink.matrix = &m[0, 0]
            self._sink.ts = &t[0]
            self._sink.trade_number = &r[0]
            self._sink.price = &px[0]
        self._sink.capacity = capacity
        self._sink.every = every
        if latencies:
            self._sink.lat_ns = &lat[0]
            self._sink.lat_cap = latencies
        self.set_hook(hook)

    def set_hook(self, hook):
        """Install (or with None remove) the decision hook capsule."""
        cdef qt_fe_hook *h
        if hook is None:
            self._sink.hook = NULL
            self._sink.user = NULL
        else:
            if not PyCapsule_IsValid(hook, b"qt_fe_hook"):
                raise TypeError("hook must be a PyCapsule named 'qt_fe_hook' (a C qt_fe_hook)")
            h = <qt_fe_hook *>PyCapsule_GetPointer(hook, b"qt_fe_hook")
            self._sink.hook = h.fn
            self._sink.user = h.user
        self._hook_ref = hook

    @property
    def capacity(self) -> int:
        return self._sink.capacity

    @property
    def every(self) -> int:
        return self._sink.every

    @property
    def rows(self) -> int:
        """Rows stored since the last :meth:`clear`."""
        return self._sink.rows

    @property
    def full(self) -> bool:
        return self._sink.rows >= self._sink.capacity

    @property
    def latencies_recorded(self) -> int:
        return self._sink.lat_n

    def take(self):
        """``(ts, trade_number, matrix)`` of the stored rows (copies), then
        :meth:`clear` (their prices are ``price[:rows]`` until then)."""
        n = self._sink.rows
        out = (self.ts[:n].copy(), self.trade_number[:n].copy(), self.matrix[:n].copy())
        self._sink.rows = 0
        return out

    def clear(self):
        """Forget the stored rows (the arrays are reused)."""
        self._sink.rows = 0

    def clear_latencies(self):
        self._sink.lat_n = 0


cdef class FeatureEngine:
    """Feature engine of one instrument, with its L2 book.

    ``tick_size`` and ``price_unit`` are prices (WDO: 0.5, 0.5); prices in
    records are integers in price units.  ``qty_scale``: integer quantity =
    real quantity x ``qty_scale`` (the event log header's; volume-valued
    features are given in real quantity).  ``tz_transitions``:
    ``(utc_ns_from, offset_seconds)`` pairs (default: America/Sao_Paulo from
    the tz database).  ``sessions``: ``{date: (open, close)}`` with dates as
    ``YYYYMMDD`` ints, ``datetime.date`` or ISO strings and hours as
    ``"HH:MM"``, ``datetime.time`` or seconds; other dates get
    ``default_open``/``default_close``.  ``book_capacity``: levels per book
    side (0: the core's default).
    """

    cdef qt_fe *_fe
    cdef bint _busy
    cdef readonly double tick_size
    cdef readonly double price_unit
    cdef readonly double qty_scale

    def __cinit__(self, double tick_size, double price_unit, double qty_scale=1.0, tz_transitions=None,
                  sessions=None, default_open="09:00", default_close="18:00", uint32_t book_capacity=0):
        self._fe = NULL
        if tz_transitions is None:
            tz_transitions = globals()["tz_transitions"]()
        tz = np.zeros(len(tz_transitions), dtype=_TZ_DTYPE)
        for i, (t, off) in enumerate(tz_transitions):
            tz[i]["utc_ns_from"] = int(t)
            tz[i]["offset_s"] = int(off)
        if len(tz) > 1 and not np.all(np.diff(tz["utc_ns_from"]) > 0):
            raise ValueError("tz_transitions must be sorted by utc_ns_from without duplicates")
        items = list((sessions or {}).items())
        sess = np.zeros(len(items), dtype=_SESSION_DTYPE)
        for i, (date, (o, c)) in enumerate(items):
            sess[i] = (_yyyymmdd(date), seconds_of_day(o), seconds_of_day(c))
        cdef qt_fe_config cfg
        memset(&cfg, 0, sizeof(cfg))
        cfg.tick_size = tick_size
        cfg.price_unit = price_unit
        cfg.qty_scale = qty_scale
        cdef const uint8_t[::1] tz_bytes = tz.view(np.uint8) if len(tz) else None
        cdef const uint8_t[::1] sess_bytes = sess.view(np.uint8) if len(sess) else None
        cfg.tz = <const qt_fe_tz_transition *>&tz_bytes[0] if len(tz) else NULL
        cfg.n_tz = len(tz)
        cfg.sessions = <const qt_fe_session_hours *>&sess_bytes[0] if len(sess) else NULL
        cfg.n_sessions = len(sess)
        cfg.default_open_s = seconds_of_day(default_open)
        cfg.default_close_s = seconds_of_day(default_close)
        cfg.book_capacity = book_capacity
        self._fe = qt_fe_create(&cfg)
        if self._fe == NULL:
            raise ValueError(
                "invalid feature-engine configuration: tick_size, price_unit and qty_scale must be "
                "positive, every session needs 0 <= open < close <= 24:00 and a valid date (no "
                "duplicates), time-zone offsets must be within a day, book_capacity at most 4194304")
        self.tick_size = tick_size
        self.price_unit = price_unit
        self.qty_scale = qty_scale if qty_scale else 1.0

    def __dealloc__(self):
        if self._fe != NULL:
            qt_fe_destroy(self._fe)
            self._fe = NULL

    cdef inline void _claim(self) except *:
        # A drain runs without the GIL: no other thread may use the engine meanwhile.
        if self._busy:
            raise RuntimeError("FeatureEngine is draining in another thread")
        self._busy = True

    def capsule(self):
        """The C engine as a PyCapsule named "qt_fe".  The capsule does not
        own it: keep this object alive while used."""
        return PyCapsule_New(<void *>self._fe, b"qt_fe", NULL)

    def reset(self):
        """Back to the freshly created state: session, book, clock, counters."""
        self._claim()
        qt_fe_reset(self._fe)
        self._busy = False

    def on_event(self, record):
        """One record (an EVENT_DTYPE scalar or one-element array), for tests
        and tools; the hot path is :meth:`drain`.  Returns the 77 features
        for a trade that is part of the stream, else None."""
        cdef const uint8_t[::1] raw = _event_bytes(record)
        if raw.shape[0] != 64:
            raise ValueError(f"on_event takes one record, got {raw.shape[0] // 64}")
        out = np.empty(QT_FE_NUM_FEATURES, dtype=np.float64)
        cdef double[::1] o = out
        self._claim()
        try:
            got = qt_fe_on_event(self._fe, <const qt_event *>&raw[0], &o[0])
        finally:
            self._busy = False
        return out if got else None

    def on_trade(self, int64_t ts_ns, int64_t price, int qty, int buy_agent, int sell_agent,
                 int trade_type, int64_t trade_number=0, int flags=0):
        """One trade (price in price units): :meth:`on_event` of a trade record."""
        from quantumtrader.data.events import empty_events
        ev = empty_events(1)
        ev["type"] = 1
        ev["flags"] = flags
        ev["exch_ns"] = ts_ns
        ev["price"] = price
        ev["qty"] = qty
        ev["code"] = trade_type
        ev["ref"] = trade_number
        ev["a"] = buy_agent
        ev["b"] = sell_agent
        return self.on_event(ev)

    def drain(self, events, FeatureBatch batch=None, size_t start=0):
        """Run ``events[start:]`` (an EVENT_DTYPE array, e.g. a mapped event
        log) through the engine in C without the GIL, rows into ``batch``.
        Returns ``(consumed, status)``: status ``DRAIN_DONE`` (all consumed),
        ``DRAIN_FULL`` (take the batch's rows, then call again from
        ``start + consumed``) or ``DRAIN_STOPPED`` (the hook said stop)."""
        cdef const uint8_t[::1] buf = _event_bytes(events)
        cdef size_t n = buf.shape[0] // 64
        if start > n:
            raise ValueError(f"start {start} is beyond the {n} records")
        cdef qt_fe_sink *sink = NULL
        if batch is not None:
            if batch._busy:
                raise RuntimeError("FeatureBatch is in use by another drain")
            sink = &batch._sink
        cdef int status = QT_FE_DRAIN_DONE
        cdef size_t done = 0
        if start == n:
            return 0, status
        self._claim()
        if batch is not None:
            batch._busy = True
        try:
            with nogil:
                done = qt_fe_drain(self._fe, <const qt_event *>&buf[start * 64], n - start, sink, &status)
        finally:
            self._busy = False
            if batch is not None:
                batch._busy = False
        return done, status

    def drain_ring(self, ring, FeatureBatch batch=None, uint64_t max_events=2**63, double timeout_s=-1.0,
                   uint32_t spin=2000):
        """Take records from a market ring (``quantumtrader.qtcore.ring.Ring``
        of 64-byte events) as they arrive, in C without the GIL.  Waits up to
        ``timeout_s`` when the ring is empty (negative: until a record comes
        or the ring is closed).  Returns ``(consumed, status)``: ``DRAIN_DONE``
        (max_events taken), ``DRAIN_FULL``, ``DRAIN_STOPPED``,
        ``DRAIN_CLOSED`` (closed and empty) or ``DRAIN_IDLE`` (timed out)."""
        cap = ring.capsule()
        if not PyCapsule_IsValid(cap, b"qt_ring"):
            raise TypeError("ring must provide a 'qt_ring' capsule")
        if ring.slot_size != 64:
            raise ValueError(f"the ring's slots are {ring.slot_size} bytes, not 64-byte events")
        cdef qt_ring *r = <qt_ring *>PyCapsule_GetPointer(cap, b"qt_ring")
        cdef qt_fe_sink *sink = NULL
        if batch is not None:
            if batch._busy:
                raise RuntimeError("FeatureBatch is in use by another drain")
            sink = &batch._sink
        cdef int64_t wait_ns = -1 if timeout_s < 0 else <int64_t>(timeout_s * 1e9)
        cdef int status = QT_FE_DRAIN_DONE
        cdef uint64_t done = 0
        self._claim()
        if batch is not None:
            batch._busy = True
        try:
            with nogil:
                done = qt_fe_drain_ring(self._fe, r, sink, max_events, wait_ns, spin, &status)
        finally:
            self._busy = False
            if batch is not None:
                batch._busy = False
        return done, status

    def run(self, events, uint64_t every=1):
        """Batch helper: all of ``events`` through :meth:`drain` into one
        batch big enough for every trade.  Returns ``(ts, trade_number,
        matrix)`` with one row per kept decision point."""
        _event_bytes(events)
        n_trades = int(np.count_nonzero(events["type"] == 1)) if len(events) else 0
        batch = FeatureBatch(n_trades, every)
        done, status = self.drain(events, batch)
        assert status == QT_FE_DRAIN_DONE and done == len(events)
        n = batch.rows
        return batch.ts[:n], batch.trade_number[:n], batch.matrix[:n]

    def book_quote(self):
        """``(best_bid, best_ask, bid_qty, ask_qty)`` of the engine's book,
        prices in units (``PRICE_NONE`` for an empty side)."""
        cdef const qt_book *b = qt_fe_book(self._fe)
        return (qt_book_best_price(b, 0), qt_book_best_price(b, 1), qt_book_best_qty(b, 0),
                qt_book_best_qty(b, 1))

    def book_levels(self, int side, uint32_t n=10):
        """Quantities of the best ``n`` levels of a side (0 bid, 1 ask), best first."""
        qtys = np.zeros(n, dtype=np.int64)
        cdef int64_t[::1] q = qtys
        cdef uint32_t got = 0
        if n:
            got = qt_book_levels(qt_fe_book(self._fe), side, n, NULL, &q[0], NULL)
        return qtys[:got]

    @property
    def counters(self) -> dict:
        """qt_fe_counters as a dict, field for field (Cython converts the
        struct: the names are the C names; a test checks none is missing)."""
        cdef qt_fe_counters c
        qt_fe_get_counters(self._fe, &c)
        return c

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the C engine and its book (fixed at creation)."""
        return qt_fe_memory_bytes(self._fe)


def _event_bytes(events):
    if not isinstance(events, np.ndarray) or events.dtype.itemsize != 64 or events.dtype.names is None \
            or "price" not in events.dtype.names:
        raise TypeError("events must be a numpy array of EVENT_DTYPE records")
    from quantumtrader.data.events import EVENT_DTYPE
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"events dtype {events.dtype} is not EVENT_DTYPE")
    return np.ascontiguousarray(events).reshape(-1).view(np.uint8)
