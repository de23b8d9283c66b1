# cython: freethreading_compatible=False
"""The incremental feature engine of the core (spec ``qt-features/1``): 77
features (65 model + 12 book) at every trade, the same numbers for live
trading, replay and training sets.

The hot path (drain loop) calls the C engine directly through
:meth:`FeatureEngine.capsule`; this wrapper builds it from Python tables (time
zone, session hours), runs event arrays through it without the GIL and reads
its counters."""
import datetime as _dt
import functools
import zoneinfo

import numpy as np

from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.string cimport memset

from qt_core cimport (
    QT_FE_NUM_BOOK, QT_FE_NUM_FEATURES, QT_FE_NUM_MODEL, qt_book_top, qt_event, qt_fe, qt_fe_config,
    qt_fe_counters, qt_fe_create, qt_fe_destroy, qt_fe_get_counters, qt_fe_memory_bytes,
    qt_fe_on_book_event, qt_fe_on_session, qt_fe_on_trade, qt_fe_reset, qt_fe_run, qt_fe_run_timed,
    qt_fe_session_hours, qt_fe_tz_transition,
)

N_FEATURES = QT_FE_NUM_FEATURES
N_MODEL_FEATURES = QT_FE_NUM_MODEL
N_BOOK_FEATURES = QT_FE_NUM_BOOK
EXCHANGE_TZ = "America/Sao_Paulo"

_TZ_DTYPE = np.dtype([("utc_ns_from", "<i8"), ("offset_s", "<i4"), ("_pad", "<i4")])
_SESSION_DTYPE = np.dtype([("date", "<i4"), ("open_s", "<i4"), ("close_s", "<i4")])
_COUNTER_NAMES = ("trades", "rows", "ts_regressions", "ts_missing", "edits", "after_hours", "invalid",
                  "session_resets", "book_events", "recomputations", "skipped_records")


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


cdef class FeatureEngine:
    """Feature engine of one instrument.

    ``tick_size`` and ``price_unit`` are prices (WDO: 0.5, 0.5); trade prices
    given to the engine are integers in price units.  ``tz_transitions``:
    ``(utc_ns_from, offset_seconds)`` pairs (default: America/Sao_Paulo from
    the tz database).  ``sessions``: ``{date: (open, close)}`` with dates as
    ``YYYYMMDD`` ints, ``datetime.date`` or ISO strings and hours as
    ``"HH:MM"``, ``datetime.time`` or seconds; other dates get
    ``default_open``/``default_close``.
    """

    cdef qt_fe *_fe
    cdef readonly double tick_size
    cdef readonly double price_unit

    def __cinit__(self, double tick_size, double price_unit, tz_transitions=None, sessions=None,
                  default_open="09:00", default_close="18:00"):
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
        cdef const uint8_t[::1] tz_bytes = tz.view(np.uint8) if len(tz) else None
        cdef const uint8_t[::1] sess_bytes = sess.view(np.uint8) if len(sess) else None
        cfg.tz = <const qt_fe_tz_transition *>&tz_bytes[0] if len(tz) else NULL
        cfg.n_tz = len(tz)
        cfg.sessions = <const qt_fe_session_hours *>&sess_bytes[0] if len(sess) else NULL
        cfg.n_sessions = len(sess)
        cfg.default_open_s = seconds_of_day(default_open)
        cfg.default_close_s = seconds_of_day(default_close)
        self._fe = qt_fe_create(&cfg)
        if self._fe == NULL:
            raise ValueError(
                "invalid feature-engine configuration: tick_size and price_unit must be positive, "
                "every session needs 0 <= open < close <= 24:00 and a valid date (no duplicates), "
                "time-zone offsets must be within a day")
        self.tick_size = tick_size
        self.price_unit = price_unit

    def __dealloc__(self):
        if self._fe != NULL:
            qt_fe_destroy(self._fe)
            self._fe = NULL

    def capsule(self):
        """The C engine as a PyCapsule named "qt_fe" (for the drain loop).
        The capsule does not own it: keep this object alive while used."""
        return PyCapsule_New(<void *>self._fe, b"qt_fe", NULL)

    def reset(self):
        """Back to the freshly created state: session, clock, counters."""
        qt_fe_reset(self._fe)

    def on_trade(self, int64_t ts_ns, int64_t price, int qty, int buy_agent, int sell_agent,
                 int trade_type, int64_t trade_number=0, int flags=0):
        """One trade (price in price units).  Returns the 77 features, or
        None when the trade is not part of the stream (edit, after-hours,
        invalid: see :attr:`counters`)."""
        cdef qt_event ev
        memset(&ev, 0, sizeof(ev))
        ev.type = 1
        ev.flags = <uint8_t>flags
        ev.exch_ns = ts_ns
        ev.price = price
        ev.qty = qty
        ev.code = <uint8_t>trade_type
        ev.ref = trade_number
        ev.a = buy_agent
        ev.b = sell_agent
        out = np.empty(QT_FE_NUM_FEATURES, dtype=np.float64)
        cdef double[::1] o = out
        if qt_fe_on_trade(self._fe, &ev, &o[0]):
            return out
        return None

    def on_book_event(self, int64_t ts_ns, int64_t bb, int64_t ba, int64_t qb, int64_t qa,
                      bid_depth, ask_depth, int bid_levels=0, int ask_levels=0):
        """One applied book event: the top of the book after it (prices in
        units, ``PRICE_NONE`` for an empty side) and the summed quantities of
        the best 1, 5, 10 levels of each side."""
        cdef qt_book_top top
        memset(&top, 0, sizeof(top))
        top.bb, top.ba, top.qb, top.qa = bb, ba, qb, qa
        if len(bid_depth) != 3 or len(ask_depth) != 3:
            raise ValueError("bid_depth and ask_depth are the sums of the best 1, 5, 10 levels (3 values)")
        for k in range(3):
            top.bid_depth[k] = bid_depth[k]
            top.ask_depth[k] = ask_depth[k]
        top.bid_levels, top.ask_levels = bid_levels, ask_levels
        qt_fe_on_book_event(self._fe, &top, ts_ns)

    def on_session(self, date):
        """A session marker: a local date other than the current one starts
        a new session."""
        qt_fe_on_session(self._fe, _yyyymmdd(date))

    def run(self, events):
        """Run an EVENT_DTYPE array through the engine in C without the GIL.
        Returns ``(ts, trade_number, matrix)``: one row per trade that is
        part of the stream, ``matrix`` of shape ``(rows, 77)``."""
        cdef const uint8_t[::1] buf = _event_bytes(events)
        cdef size_t n = buf.shape[0] // 64
        n_trades = int(np.count_nonzero(events["type"] == 1)) if n else 0
        matrix = np.empty((n_trades, QT_FE_NUM_FEATURES), dtype=np.float64)
        ts = np.empty(n_trades, dtype=np.int64)
        tn = np.empty(n_trades, dtype=np.int64)
        cdef size_t rows = 0
        if n_trades == 0:
            if n:  # session markers and skipped records still count
                with nogil:
                    qt_fe_run(self._fe, <const qt_event *>&buf[0], n, NULL, NULL, NULL, &rows)
            return ts, tn, matrix
        cdef double[:, ::1] m = matrix
        cdef int64_t[::1] t = ts
        cdef int64_t[::1] r = tn
        with nogil:
            qt_fe_run(self._fe, <const qt_event *>&buf[0], n, &m[0, 0], &t[0], &r[0], &rows)
        return ts[:rows], tn[:rows], matrix[:rows]

    def run_timed(self, events):
        """Benchmark helper: every trade through qt_fe_on_trade into one
        scratch row, timed in C.  Returns the per-record latencies in ns
        (0 for non-trade records)."""
        cdef const uint8_t[::1] buf = _event_bytes(events)
        cdef size_t n = buf.shape[0] // 64
        lat = np.zeros(n, dtype=np.int64)
        scratch = np.empty(QT_FE_NUM_FEATURES, dtype=np.float64)
        cdef int64_t[::1] l = lat
        cdef double[::1] s = scratch
        if n:
            with nogil:
                qt_fe_run_timed(self._fe, <const qt_event *>&buf[0], n, &s[0], &l[0])
        return lat

    @property
    def counters(self) -> dict:
        cdef qt_fe_counters c
        qt_fe_get_counters(self._fe, &c)
        return dict(trades=c.trades, rows=c.rows, ts_regressions=c.ts_regressions, ts_missing=c.ts_missing,
                    edits=c.edits, after_hours=c.after_hours, invalid=c.invalid,
                    session_resets=c.session_resets, book_events=c.book_events,
                    recomputations=c.recomputations, skipped_records=c.skipped_records)

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the C engine (fixed at creation)."""
        return qt_fe_memory_bytes(self._fe)


def _event_bytes(events):
    if not isinstance(events, np.ndarray) or events.dtype.itemsize != 64 or events.dtype.names is None \
            or "price" not in events.dtype.names:
        raise TypeError("events must be a numpy array of EVENT_DTYPE records")
    from quantumtrader.events import EVENT_DTYPE
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"events dtype {events.dtype} is not EVENT_DTYPE")
    return np.ascontiguousarray(events).reshape(-1).view(np.uint8)
