# Typed interface to qt_ring.h, cimported by ring.pyx and the modules that take a ring.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "market/qt_ring.h" nogil:
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
