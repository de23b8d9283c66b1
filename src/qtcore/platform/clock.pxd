# Typed interface to qt_atomic.h's clocks and thread id.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "platform/qt_atomic.h" nogil:
    int64_t qt_monotonic_ns()
    int64_t qt_utc_ns()
    uint64_t qt_thread_id()
