# Typed interface to qt_features.h, cimported by features.pyx and pipeline.pyx.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from book cimport qt_book
from events cimport qt_event
from ring cimport qt_ring


cdef extern from "features/qt_features.h" nogil:
    enum: QT_FE_NUM_MODEL
    enum: QT_FE_NUM_BOOK
    enum: QT_FE_NUM_FEATURES
    ctypedef struct qt_fe_tz_transition:
        int64_t utc_ns_from
        int32_t offset_s
    ctypedef struct qt_fe_session_hours:
        int32_t date
        int32_t open_s
        int32_t close_s
    ctypedef struct qt_fe_config:
        double tick_size
        double price_unit
        double qty_scale
        const qt_fe_tz_transition *tz
        size_t n_tz
        const qt_fe_session_hours *sessions
        size_t n_sessions
        int32_t default_open_s
        int32_t default_close_s
        uint32_t book_capacity
    ctypedef struct qt_fe_counters:
        uint64_t trades, rows, ts_regressions, ts_missing, edits, after_hours, invalid
        uint64_t session_resets, book_records, book_rejected, book_events, book_untimed
        uint64_t recomputations, skipped_records
    ctypedef struct qt_fe:
        pass
    ctypedef int (*qt_fe_decision_fn)(void *user, const double *features, const qt_event *trade,
                                      int64_t ts) noexcept
    ctypedef struct qt_fe_hook:
        qt_fe_decision_fn fn
        void *user
    ctypedef struct qt_fe_sink:
        double *matrix
        int64_t *ts
        int64_t *trade_number
        int64_t *price
        size_t capacity
        size_t rows
        uint64_t every
        qt_fe_decision_fn hook
        void *user
        int64_t *lat_ns
        size_t lat_cap
        size_t lat_n
    enum qt_fe_drain_status:
        QT_FE_DRAIN_DONE
        QT_FE_DRAIN_FULL
        QT_FE_DRAIN_STOPPED
        QT_FE_DRAIN_CLOSED
        QT_FE_DRAIN_IDLE
    qt_fe *qt_fe_create(const qt_fe_config *cfg)
    void qt_fe_destroy(qt_fe *fe)
    void qt_fe_reset(qt_fe *fe)
    const qt_book *qt_fe_book(const qt_fe *fe)
    int qt_fe_on_event(qt_fe *fe, const qt_event *ev, double *out)
    size_t qt_fe_drain(qt_fe *fe, const qt_event *ev, size_t n, qt_fe_sink *sink, int *status)
    uint64_t qt_fe_drain_ring(qt_fe *fe, qt_ring *ring, qt_fe_sink *sink, uint64_t max_events,
                              int64_t wait_ns, uint32_t spin_iters, int *status)
    int64_t qt_fe_clock(const qt_fe *fe)
    void qt_fe_get_counters(const qt_fe *fe, qt_fe_counters *out)
    size_t qt_fe_memory_bytes(const qt_fe *fe)
