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


cdef extern from "qt_profit_csv.h" nogil:
    enum: QT_PCSV_FIELDS
    enum: QT_PCSV_MAX_AGENT_LEN
    enum: QT_PCSV_REASON_COUNT
    enum: QT_PCSV_DONE
    enum: QT_PCSV_OUT_FULL
    enum: QT_PCSV_NEED_DATE
    enum: QT_PCSV_NEED_AGENT
    enum: QT_PCSV_ERROR
    ctypedef struct qt_pcsv:
        pass
    ctypedef struct qt_pcsv_issue:
        int64_t line
        int32_t reason
    ctypedef struct qt_pcsv_counters:
        uint64_t lines, rows, trades, sessions, after_hours, blank, bad
        uint64_t reasons[12]
    ctypedef struct qt_pcsv_result:
        size_t consumed, n_events, n_issues
        int32_t need_date
        size_t agent_off, agent_len
    qt_pcsv *qt_pcsv_create(const char *ticker, size_t ticker_len, double price_unit, uint32_t max_listed)
    void qt_pcsv_destroy(qt_pcsv *p)
    int qt_pcsv_add_agent(qt_pcsv *p, const char *name, size_t len, int32_t id)
    int32_t qt_pcsv_agent_id(const qt_pcsv *p, const char *name, size_t len)
    int qt_pcsv_set_date(qt_pcsv *p, int32_t yyyymmdd, const int32_t *offsets)
    void qt_pcsv_set_position(qt_pcsv *p, int64_t next_line, uint64_t next_seq)
    int64_t qt_pcsv_next_line(const qt_pcsv *p)
    uint64_t qt_pcsv_next_seq(const qt_pcsv *p)
    void qt_pcsv_get_counters(const qt_pcsv *p, qt_pcsv_counters *out)
    int qt_pcsv_parse(qt_pcsv *p, const char *buf, size_t len, int final, qt_event *out, size_t out_cap,
                      qt_pcsv_issue *issues, size_t issue_cap, qt_pcsv_result *res)
    int64_t qt_pcsv_days_from_civil(int32_t y, int32_t m, int32_t d)
