# Typed interface to qt_audit.h (the book audit of a log), cimported by audit.pyx.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from book cimport qt_book
from events cimport qt_event


cdef extern from "market/qt_audit.h" nogil:
    enum: QT_EV__COUNT
    ctypedef struct qt_audit_stats:
        uint64_t records
        uint64_t by_type[QT_EV__COUNT]
        uint64_t trades
        uint64_t trade_qty
        double trade_notional
        uint64_t trades_at_touch
        uint64_t trades_inside
        uint64_t trades_outside
        uint64_t trades_without_book
        uint64_t trades_skipped
        int64_t first_outside_index
        int64_t price_min
        int64_t price_max
        int64_t first_exch_ns
        int64_t last_exch_ns
        uint64_t book_events
        uint64_t book_rejects
        uint64_t crossed_events
        uint64_t locked_events
        int64_t first_crossed_index
        uint64_t spread_samples
        int64_t spread_sum
        int64_t spread_max
    void qt_audit_stats_init(qt_audit_stats *st)
    uint64_t qt_audit_apply(qt_book *book, const qt_event *ev, uint64_t n, qt_audit_stats *st)
