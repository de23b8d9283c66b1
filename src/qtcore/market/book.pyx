# cython: freethreading_compatible=False
"""The L2 price book of the core (``qt_book.h``) for Python: replays,
tests, research.  The live path applies events in C; this wrapper feeds
numpy event arrays in bulk (GIL released), reads the book and its counters,
and hands the C book to other extension modules as a PyCapsule.

Prices are integer price units, as in the event records; an empty side has
best price ``PRICE_NONE`` (``quantumtrader.data.events.PRICE_NONE``) and qty 0."""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

from cpython.pycapsule cimport PyCapsule_New

from book cimport (
    QT_BOOK_APPLIED, QT_BOOK_CROSSED, QT_BOOK_DEFAULT_CAPACITY, QT_BOOK_EVENT, QT_BOOK_LOCKED,
    QT_BOOK_MAX_CAPACITY, QT_BOOK_REASON_SHIFT, QT_BOOK_REJECTED, QT_BOOK_REJ__COUNT, QT_BOOK_VALID,
    qt_book, qt_book_apply, qt_book_apply_n, qt_book_best_price, qt_book_best_qty, qt_book_capacity,
    qt_book_check, qt_book_clear, qt_book_counters, qt_book_create, qt_book_deepest, qt_book_depth,
    qt_book_destroy, qt_book_get_counters, qt_book_in_snapshot, qt_book_levels, qt_book_reject_name,
    qt_book_size, qt_book_state, qt_book_tick_units,
)
from events cimport QT_EVENT_SIZE, qt_event

import numpy as np

from quantumtrader.data.events import EVENT_DTYPE

APPLIED = QT_BOOK_APPLIED
REJECTED = QT_BOOK_REJECTED
BOOK_EVENT = QT_BOOK_EVENT
REASON_SHIFT = QT_BOOK_REASON_SHIFT
DEFAULT_CAPACITY = QT_BOOK_DEFAULT_CAPACITY
MAX_CAPACITY = QT_BOOK_MAX_CAPACITY
# Reject reasons by code (index 0: not rejected), as in qt_book.h.
REJECT_REASONS = tuple(qt_book_reject_name(i).decode() for i in range(QT_BOOK_REJ__COUNT))

_CHECK_PROBLEMS = {1: "array outside its buffer or above capacity", 2: "prices not strictly ordered",
                   3: "qty <= 0", 4: "count < 0", 5: "price missing or off tick", 6: "padding not zero"}


def reject_reason(unsigned result) -> str:
    """The reason name of an ``apply_one`` result ("" if it was not rejected)."""
    return REJECT_REASONS[(result >> QT_BOOK_REASON_SHIFT) & 0xff] if result & QT_BOOK_REJECTED else ""


def _event_bytes(events) -> object:
    """A 1-D contiguous EVENT_DTYPE array as a flat uint8 view; refuses
    anything else (a wrong dtype would be read as garbage records)."""
    arr = np.ascontiguousarray(events)
    if arr.dtype != EVENT_DTYPE:
        raise TypeError(f"events must have quantumtrader.data.events.EVENT_DTYPE, got {arr.dtype}")
    return arr.reshape(-1).view(np.uint8)


cdef class PriceBook:
    """Aggregated L2 book of one instrument, both sides.

    ``tick_units``: tick size in price units; prices off the tick are
    rejected.  ``capacity``: levels per side, allocated once; inserts beyond
    it are rejected and counted (see ``counters``)."""

    cdef qt_book *_b
    cdef bint _busy

    def __cinit__(self, int64_t tick_units=1, int64_t capacity=QT_BOOK_DEFAULT_CAPACITY):
        if tick_units < 1:
            raise ValueError(f"tick_units must be >= 1, got {tick_units}")
        if capacity < 1 or capacity > QT_BOOK_MAX_CAPACITY:
            raise ValueError(f"capacity must be 1..{QT_BOOK_MAX_CAPACITY}, got {capacity}")
        self._b = qt_book_create(tick_units, <uint32_t>capacity)
        if self._b == NULL:
            raise MemoryError("cannot allocate the price book")

    def __dealloc__(self):
        if self._b != NULL:
            qt_book_destroy(self._b)
            self._b = NULL

    # A bulk apply() runs without the GIL: another Python thread must not
    # update or copy the book meanwhile (scalar reads are merely stale).
    cdef inline void _not_busy(self) except *:
        if self._busy:
            raise RuntimeError("PriceBook is being updated by apply() in another thread")

    def apply(self, events) -> int:
        """Apply an array of EVENT_DTYPE records in order (the C loop runs
        without the GIL).  Records of non-book types are ignored.  Returns
        the number of book events they completed."""
        self._not_busy()
        cdef const uint8_t[::1] raw = _event_bytes(events)
        cdef uint64_t n = raw.shape[0] // QT_EVENT_SIZE
        cdef uint64_t done
        if n == 0:
            return 0
        self._busy = True
        try:
            with nogil:
                done = qt_book_apply_n(self._b, <const qt_event *>&raw[0], n)
        finally:
            self._busy = False
        return done

    def apply_one(self, record) -> int:
        """Apply one record (an EVENT_DTYPE scalar or one-element array).
        Returns the result bits: APPLIED, REJECTED, BOOK_EVENT, with the
        reject reason code in bits 8-15 (see ``reject_reason``)."""
        self._not_busy()
        cdef const uint8_t[::1] raw = _event_bytes(record)
        if raw.shape[0] != QT_EVENT_SIZE:
            raise ValueError(f"apply_one takes one record, got {raw.shape[0] // QT_EVENT_SIZE}")
        return qt_book_apply(self._b, <const qt_event *>&raw[0])

    cdef int _side(self, side) except -1:
        if side != 0 and side != 1:
            raise ValueError(f"side must be 0 (buy) or 1 (sell), got {side!r}")
        return side

    @property
    def best_bid(self) -> int:
        return qt_book_best_price(self._b, 0)

    @property
    def best_ask(self) -> int:
        return qt_book_best_price(self._b, 1)

    @property
    def bid_qty(self) -> int:
        return qt_book_best_qty(self._b, 0)

    @property
    def ask_qty(self) -> int:
        return qt_book_best_qty(self._b, 1)

    def size(self, side: int) -> int:
        """Number of levels of a side."""
        return qt_book_size(self._b, self._side(side))

    def levels(self, side: int, n: int | None = None):
        """The best ``n`` levels of a side (all if None), best first, as
        (prices int64, qtys int64, counts int32) numpy arrays."""
        self._not_busy()
        cdef int s = self._side(side)
        cdef uint32_t size = qt_book_size(self._b, s)
        if n is None or n > size:
            n = size
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        prices = np.empty(n, dtype=np.int64)
        qtys = np.empty(n, dtype=np.int64)
        counts = np.empty(n, dtype=np.int32)
        cdef int64_t[::1] p = prices
        cdef int64_t[::1] q = qtys
        cdef int32_t[::1] c = counts
        if n > 0:
            qt_book_levels(self._b, s, <uint32_t>n, &p[0], &q[0], &c[0])
        return prices, qtys, counts

    def depth(self, side: int, n: int) -> int:
        """Summed qty of the best ``n`` levels of a side (fewer if it has fewer)."""
        self._not_busy()
        cdef int s = self._side(side)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return qt_book_depth(self._b, s, <uint32_t>min(n, 0xFFFFFFFF))

    @property
    def is_valid(self) -> bool:
        """Both sides non-empty and best bid < best ask."""
        return bool(qt_book_state(self._b) & QT_BOOK_VALID)

    @property
    def is_locked(self) -> bool:
        return bool(qt_book_state(self._b) & QT_BOOK_LOCKED)

    @property
    def is_crossed(self) -> bool:
        return bool(qt_book_state(self._b) & QT_BOOK_CROSSED)

    @property
    def in_snapshot(self) -> int:
        """Sides a full book is being staged for: bit 0 bids, bit 1 asks."""
        return qt_book_in_snapshot(self._b)

    @property
    def tick_units(self) -> int:
        return qt_book_tick_units(self._b)

    @property
    def capacity(self) -> int:
        return qt_book_capacity(self._b)

    @property
    def deepest(self) -> tuple[int, int]:
        """(bids, asks): the most levels each side has held, a full book
        being built included: the capacity this stream needs (unless
        ``counters["rejected_capacity"]`` says it needed more)."""
        return qt_book_deepest(self._b, 0), qt_book_deepest(self._b, 1)

    @property
    def counters(self) -> dict:
        """applied, rejected (total), rejected_<reason> for every reason,
        ignored (other record types), book_events, snapshots,
        snapshots_abandoned."""
        cdef qt_book_counters c
        qt_book_get_counters(self._b, &c)
        out = dict(applied=c.applied, rejected=c.rejected, ignored=c.ignored, book_events=c.book_events,
                   snapshots=c.snapshots, snapshots_abandoned=c.snapshots_abandoned)
        for i in range(1, QT_BOOK_REJ__COUNT):
            out["rejected_" + REJECT_REASONS[i]] = c.rejected_by[i]
        return out

    def check(self) -> None:
        """Full consistency check (O(size)); raises RuntimeError naming the
        first problem found."""
        self._not_busy()
        cdef int code = qt_book_check(self._b)
        if code:
            where = ("staging " if code >= 32 else "") + ("asks" if (code >> 4) & 1 else "bids")
            raise RuntimeError(f"price book inconsistent: {where}: {_CHECK_PROBLEMS.get(code & 15, code)}")

    def clear(self) -> None:
        """Empty both sides and drop an open full book or L2 message
        (session reset).  Counters are kept."""
        self._not_busy()
        qt_book_clear(self._b)

    def capsule(self):
        """The C book as a PyCapsule named "qt_book", for other extension
        modules of the core (the feature engine).  The capsule does not own
        the book: keep this object alive while it is used."""
        return PyCapsule_New(<void *>self._b, b"qt_book", NULL)

    def __repr__(self) -> str:
        return (f"PriceBook(tick_units={self.tick_units}, capacity={self.capacity}, "
                f"bids={self.size(0)}, asks={self.size(1)})")
