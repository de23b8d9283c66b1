# Typed interface to the C core headers, shared by the Cython modules.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "qt_events.h" nogil:
    enum: QT_EVENT_SIZE
    enum: QT_ORDER_UPDATE_SIZE
    ctypedef struct qt_event:
        uint8_t type
        uint8_t flags
        uint16_t instrument
        uint32_t crc
        uint64_t seq
        int64_t recv_ns
        int64_t exch_ns
        int64_t price
        int32_t qty
        uint8_t code
        uint8_t side
        uint16_t aux
        int64_t ref
        int32_t a
        int32_t b


cdef extern from "qt_atomic.h" nogil:
    int64_t qt_monotonic_ns()
    int64_t qt_utc_ns()
    uint64_t qt_thread_id()


cdef extern from "qt_ring.h" nogil:
    ctypedef enum qt_ring_policy:
        QT_RING_DROP
        QT_RING_LOSSLESS
    ctypedef struct qt_ring:
        pass
    qt_ring *qt_ring_create(uint64_t capacity, uint32_t slot_size, qt_ring_policy policy)
    void qt_ring_destroy(qt_ring *r)
    int qt_ring_push_n(qt_ring *r, const void *recs, uint32_t n)
    int qt_ring_push(qt_ring *r, const void *rec)
    uint64_t qt_ring_available(qt_ring *r)
    uint64_t qt_ring_pop(qt_ring *r, void *out, uint64_t max)
    uint64_t qt_ring_wait(qt_ring *r, int64_t timeout_ns, uint32_t spin_iters)
    void qt_ring_close(qt_ring *r)
    uint64_t qt_ring_capacity(const qt_ring *r)
    uint64_t qt_ring_dropped(qt_ring *r)
    uint64_t qt_ring_pushed(qt_ring *r)
    uint64_t qt_ring_popped(qt_ring *r)
    int qt_ring_overflowed(qt_ring *r)
    int qt_ring_closed(qt_ring *r)


cdef extern from "qt_ring_bench.h" nogil:
    ctypedef struct qt_ring_bench_result:
        double seconds
        uint64_t sent, received, dropped, checksum
    int qt_ring_bench(uint64_t n, uint64_t capacity, uint32_t batch, qt_ring_bench_result *out)


cdef extern from "qt_features.h" nogil:
    enum: QT_FE_NUM_MODEL
    enum: QT_FE_NUM_BOOK
    enum: QT_FE_NUM_FEATURES
    ctypedef struct qt_book_top:
        int64_t bb, ba
        int64_t qb, qa
        int64_t bid_depth[3]
        int64_t ask_depth[3]
        int32_t bid_levels, ask_levels
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
        const qt_fe_tz_transition *tz
        size_t n_tz
        const qt_fe_session_hours *sessions
        size_t n_sessions
        int32_t default_open_s
        int32_t default_close_s
    ctypedef struct qt_fe_counters:
        uint64_t trades, rows, ts_regressions, ts_missing, edits, after_hours, invalid
        uint64_t session_resets, book_events, recomputations, skipped_records
    ctypedef struct qt_fe:
        pass
    qt_fe *qt_fe_create(const qt_fe_config *cfg)
    void qt_fe_destroy(qt_fe *fe)
    void qt_fe_reset(qt_fe *fe)
    int qt_fe_on_trade(qt_fe *fe, const qt_event *trade, double *out)
    void qt_fe_on_book_event(qt_fe *fe, const qt_book_top *top, int64_t ts_ns)
    void qt_fe_on_session(qt_fe *fe, int32_t yyyymmdd)
    void qt_fe_run(qt_fe *fe, const qt_event *ev, size_t n, double *out_matrix, int64_t *out_ts,
                   int64_t *out_trade_number, size_t *rows)
    void qt_fe_run_timed(qt_fe *fe, const qt_event *ev, size_t n, double *scratch_row, int64_t *lat_ns)
    void qt_fe_get_counters(const qt_fe *fe, qt_fe_counters *out)
    size_t qt_fe_memory_bytes(const qt_fe *fe)
