# Typed interface to qt_book.h, cimported by book.pyx and the modules that hold a book.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from events cimport qt_event


cdef extern from "market/qt_book.h" nogil:
    enum: QT_BOOK_DEFAULT_CAPACITY
    enum: QT_BOOK_MAX_CAPACITY
    enum: QT_BOOK_APPLIED
    enum: QT_BOOK_REJECTED
    enum: QT_BOOK_EVENT
    enum: QT_BOOK_REASON_SHIFT
    enum: QT_BOOK_VALID
    enum: QT_BOOK_LOCKED
    enum: QT_BOOK_CROSSED
    enum: QT_BOOK_REJ__COUNT
    ctypedef struct qt_book_counters:
        uint64_t applied
        uint64_t rejected
        uint64_t ignored
        uint64_t book_events
        uint64_t snapshots
        uint64_t snapshots_abandoned
        uint64_t rejected_by[11]  # QT_BOOK_REJ__COUNT; index it, never copy it whole
    ctypedef struct qt_book_quote:
        int64_t bid, ask
        int64_t bid_qty, ask_qty
        uint32_t bid_levels, ask_levels
    ctypedef struct qt_book:
        pass
    qt_book *qt_book_create(int64_t tick_units, uint32_t capacity)
    void qt_book_destroy(qt_book *b)
    unsigned qt_book_apply(qt_book *b, const qt_event *ev)
    uint64_t qt_book_apply_n(qt_book *b, const qt_event *ev, uint64_t n)
    void qt_book_clear(qt_book *b)
    int64_t qt_book_best_price(const qt_book *b, int side)
    int64_t qt_book_best_qty(const qt_book *b, int side)
    uint32_t qt_book_size(const qt_book *b, int side)
    void qt_book_get_quote(const qt_book *b, qt_book_quote *out)
    uint32_t qt_book_levels(const qt_book *b, int side, uint32_t n, int64_t *prices, int64_t *qtys,
                            int32_t *counts)
    int64_t qt_book_depth(const qt_book *b, int side, uint32_t n)
    unsigned qt_book_state(const qt_book *b)
    void qt_book_get_counters(const qt_book *b, qt_book_counters *out)
    int qt_book_in_snapshot(const qt_book *b)
    int64_t qt_book_tick_units(const qt_book *b)
    uint32_t qt_book_capacity(const qt_book *b)
    uint32_t qt_book_deepest(const qt_book *b, int side)
    const char *qt_book_reject_name(int reason)
    int qt_book_check(const qt_book *b)
