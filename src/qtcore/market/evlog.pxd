# Typed interface to qt_evlog.h, cimported by evlog.pyx.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from events cimport qt_event


cdef extern from "market/qt_evlog.h" nogil:
    enum: QT_EVLOG_VERSION
    enum: QT_EVLOG_FIXED_SIZE
    enum: QT_EVLOG_DEFAULT_HEADER_SIZE
    enum: QT_EVLOG_MIN_HEADER_SIZE
    enum: QT_EVLOG_MAX_HEADER_SIZE
    enum: QT_EVLOG_INSTRUMENT_LEN
    enum: QT_EVLOG_CALENDAR_LEN
    enum: QT_EVLOG_SOURCE_LEN
    enum: QT_EVLOG_MAX_NAME_BYTES
    ctypedef struct qt_evlog_header:
        char magic[8]
        uint32_t version
        uint32_t header_size
        uint32_t record_size
        uint32_t header_crc
        double price_unit
        double tick_size
        double qty_scale
        int64_t created_ns
        uint8_t reserved[72]
        char instrument[64]
        char calendar_version[64]
        char source[768]
    ctypedef struct qt_evlog_error:
        int code
        int sys_errno
        uint64_t index
        char msg[256]
    ctypedef struct qt_evlog_writer:
        pass
    enum qt_evlog_status:
        QT_EVLOG_OK
        QT_EVLOG_EIO
        QT_EVLOG_EARG
        QT_EVLOG_ESEQ
        QT_EVLOG_EDICT
        QT_EVLOG_ENOMEM
        QT_EVLOG_EFAILED
        QT_EVLOG_EMAGIC
        QT_EVLOG_EVERSION
        QT_EVLOG_ECORRUPT
        QT_EVLOG_ETRUNC
    enum qt_evlog_tail:
        QT_EVLOG_TAIL_NONE
        QT_EVLOG_TAIL_PARTIAL
        QT_EVLOG_TAIL_CHECKSUM
        QT_EVLOG_TAIL_SEQUENCE
        QT_EVLOG_TAIL_ZERO
    qt_evlog_writer *qt_evlog_open_write(const char *path, const qt_evlog_header *h, qt_evlog_error *err)
    int qt_evlog_append(qt_evlog_writer *w, const qt_event *ev, uint64_t n)
    int qt_evlog_set_agents(qt_evlog_writer *w, uint32_t count, const char *const *names,
                            const uint16_t *lens)
    int qt_evlog_flush(qt_evlog_writer *w, int sync)
    int qt_evlog_close(qt_evlog_writer *w)
    uint64_t qt_evlog_records_written(const qt_evlog_writer *w)
    const qt_evlog_header *qt_evlog_writer_header(const qt_evlog_writer *w)
    const qt_evlog_error *qt_evlog_last_error(const qt_evlog_writer *w)
    uint32_t qt_evlog_record_crc(const qt_event *ev)
    uint64_t qt_evlog_validate(const void *region, uint64_t nbytes, int *reason)
    int qt_evlog_parse_header(const void *buf, size_t len, qt_evlog_header *out, qt_evlog_error *err)
    int qt_evlog_find_dictionary(const void *buf, size_t len, const qt_evlog_header *h,
                                 uint64_t *entries_offset, uint32_t *count, uint32_t *nbytes,
                                 uint64_t *generation, qt_evlog_error *err)
