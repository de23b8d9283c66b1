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
