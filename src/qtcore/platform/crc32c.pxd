# Typed interface to qt_crc32c.h (CRC-32C, hardware and portable).
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "platform/qt_crc32c.h" nogil:
    uint32_t qt_crc32c(const void *data, size_t len)
    uint32_t qt_crc32c_update(uint32_t crc, const void *data, size_t len)
    uint32_t qt_crc32c_update_portable(uint32_t crc, const void *data, size_t len)
    int qt_crc32c_hardware()
    void qt_crc32c_use_hardware(int on)
    void qt_crc32c_blocks64(const void *blocks, size_t n, unsigned zero_at, uint32_t *crcs)
