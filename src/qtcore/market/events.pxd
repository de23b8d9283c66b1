# Typed interface to qt_events.h: the 64-byte event record every module shares.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "market/qt_events.h" nogil:
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
