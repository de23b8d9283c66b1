# cython: freethreading_compatible=False
"""The book audit of a log for Python: feeds event arrays through a C price book and
accumulates the consistency statistics of ``qt_audit.h`` (trades against the
touch they met, crossed books, spreads).  The loop runs in C without the GIL;
Python only hands over chunks of a log."""
from libc.stdint cimport int64_t, uint8_t, uint64_t

from book cimport qt_book, qt_book_create, qt_book_deepest, qt_book_destroy
from events cimport QT_EVENT_SIZE, qt_event
from audit cimport QT_EV__COUNT, qt_audit_apply, qt_audit_stats, qt_audit_stats_init

import numpy as np

from quantumtrader.data.events import EVENT_DTYPE, EventType


cdef class BookAudit:
    """One book (``tick_units`` price units per tick) and the statistics of
    everything fed to it so far.  The default capacity is far above a B3
    book's depth because full-depth crypto captures reach thousands of levels
    per side (the Binance capture: 5,170); a level refused for capacity is
    counted in ``book_rejects``."""
    cdef qt_book *_book
    cdef qt_audit_stats _st

    def __cinit__(self, int64_t tick_units=1, unsigned capacity=65536):
        if tick_units <= 0:
            raise ValueError(f"tick_units must be positive, got {tick_units}")
        self._book = qt_book_create(tick_units, capacity)
        if self._book == NULL:
            raise MemoryError("cannot create the price book")
        qt_audit_stats_init(&self._st)

    def __dealloc__(self):
        if self._book != NULL:
            qt_book_destroy(self._book)
            self._book = NULL

    def feed(self, events) -> None:
        """Apply EVENT_DTYPE records in order."""
        arr = np.ascontiguousarray(events)
        if arr.dtype != EVENT_DTYPE:
            raise TypeError(f"expected EVENT_DTYPE records, got {arr.dtype}")
        cdef uint64_t n = arr.shape[0]
        if n == 0:
            return
        cdef const uint8_t[::1] raw = arr.view(np.uint8).reshape(-1)
        with nogil:
            qt_audit_apply(self._book, <const qt_event *>&raw[0], n, &self._st)

    @property
    def deepest(self) -> tuple[int, int]:
        """(bids, asks): the most levels each side of the book has held."""
        return qt_book_deepest(self._book, 0), qt_book_deepest(self._book, 1)

    @property
    def stats(self) -> dict:
        """The statistics as a dict (fields of ``qt_audit_stats``; record
        counts per type under ``by_type`` keyed by event-type name)."""
        s = self._st
        by_type = {}
        for t in range(QT_EV__COUNT):
            if s.by_type[t]:
                try:
                    name = EventType(t).name
                except ValueError:
                    name = str(t)
                by_type[name] = s.by_type[t]
        return {
            "records": s.records,
            "by_type": by_type,
            "trades": s.trades,
            "trade_qty": s.trade_qty,
            "trade_notional": s.trade_notional,
            "trades_at_touch": s.trades_at_touch,
            "trades_inside": s.trades_inside,
            "trades_outside": s.trades_outside,
            "trades_without_book": s.trades_without_book,
            "trades_skipped": s.trades_skipped,
            "first_outside_index": s.first_outside_index,
            "price_min": s.price_min,
            "price_max": s.price_max,
            "first_exch_ns": s.first_exch_ns,
            "last_exch_ns": s.last_exch_ns,
            "book_events": s.book_events,
            "book_rejects": s.book_rejects,
            "crossed_events": s.crossed_events,
            "locked_events": s.locked_events,
            "first_crossed_index": s.first_crossed_index,
            "spread_samples": s.spread_samples,
            "spread_sum": s.spread_sum,
            "spread_max": s.spread_max,
        }
