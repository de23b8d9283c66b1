# cython: freethreading_compatible=False
"""The C event-log writer, validator and header parser (qt_evlog.h) for
``quantumtrader.eventlog``, which is the API to use.  Byte buffers in, plain
Python values out; C work runs without the GIL.  Errors come out as
ValueError / OSError / MemoryError with the C message; the Python layer
adds the file name."""
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset, strlen

from crc32c cimport qt_crc32c_hardware, qt_crc32c_update, qt_crc32c_update_portable, qt_crc32c_use_hardware
from events cimport QT_EVENT_SIZE, qt_event
from evlog cimport (
    QT_EVLOG_CALENDAR_LEN, QT_EVLOG_DEFAULT_HEADER_SIZE, QT_EVLOG_EARG, QT_EVLOG_EDICT, QT_EVLOG_EFAILED,
    QT_EVLOG_EIO, QT_EVLOG_ENOMEM, QT_EVLOG_ESEQ, QT_EVLOG_FIXED_SIZE, QT_EVLOG_INSTRUMENT_LEN,
    QT_EVLOG_MAX_HEADER_SIZE, QT_EVLOG_MAX_NAME_BYTES, QT_EVLOG_MIN_HEADER_SIZE, QT_EVLOG_SOURCE_LEN,
    QT_EVLOG_TAIL_CHECKSUM, QT_EVLOG_TAIL_NONE, QT_EVLOG_TAIL_PARTIAL, QT_EVLOG_TAIL_SEQUENCE,
    QT_EVLOG_TAIL_ZERO, QT_EVLOG_VERSION, qt_evlog_append, qt_evlog_close, qt_evlog_error,
    qt_evlog_find_dictionary, qt_evlog_flush, qt_evlog_header, qt_evlog_last_error, qt_evlog_open_write,
    qt_evlog_parse_header, qt_evlog_records_written, qt_evlog_set_agents, qt_evlog_validate,
    qt_evlog_writer, qt_evlog_writer_header,
)

VERSION = QT_EVLOG_VERSION
FIXED_SIZE = QT_EVLOG_FIXED_SIZE
DEFAULT_HEADER_SIZE = QT_EVLOG_DEFAULT_HEADER_SIZE
MIN_HEADER_SIZE = QT_EVLOG_MIN_HEADER_SIZE
MAX_HEADER_SIZE = QT_EVLOG_MAX_HEADER_SIZE
MAX_NAME_BYTES = QT_EVLOG_MAX_NAME_BYTES
# Longest UTF-8 encoding each string field takes (one byte is the NUL).
INSTRUMENT_MAX_BYTES = QT_EVLOG_INSTRUMENT_LEN - 1
CALENDAR_MAX_BYTES = QT_EVLOG_CALENDAR_LEN - 1
SOURCE_MAX_BYTES = QT_EVLOG_SOURCE_LEN - 1

TAIL_REASONS = {
    QT_EVLOG_TAIL_NONE: "",
    QT_EVLOG_TAIL_PARTIAL: "partial record",
    QT_EVLOG_TAIL_CHECKSUM: "checksum",
    QT_EVLOG_TAIL_SEQUENCE: "sequence",
    QT_EVLOG_TAIL_ZERO: "zero-filled",
}


def crc32c(const uint8_t[::1] data, uint32_t crc=0, bint portable=False):
    """CRC-32C of ``data`` (continuing ``crc``); ``portable`` forces the table path."""
    cdef size_t n = data.shape[0]
    cdef const void *p = <const void *>&data[0] if n else <const void *>NULL
    cdef uint32_t r
    with nogil:
        r = qt_crc32c_update_portable(crc, p, n) if portable else qt_crc32c_update(crc, p, n)
    return r


def crc32c_hardware():
    """True when CRC-32C runs on the CPU's crc32 instruction."""
    return bool(qt_crc32c_hardware())


def crc32c_use_hardware(bint on):
    """Tests and benchmarks: False forces the portable table path process-wide."""
    qt_crc32c_use_hardware(on)


def validate(const uint8_t[::1] region):
    """Scan the records region of a log (bytes after the header).  Returns
    ``(valid_records, reason)`` with reason one of TAIL_REASONS' values."""
    cdef uint64_t n = region.shape[0], valid = 0
    cdef int reason = QT_EVLOG_TAIL_NONE
    if n:
        with nogil:
            valid = qt_evlog_validate(&region[0], n, &reason)
    return valid, TAIL_REASONS[reason]


cdef str _msg(const qt_evlog_error *e):
    return (<bytes>e.msg).decode("utf-8", "replace")


def parse_header(const uint8_t[::1] buf):
    """Check the fixed header at the start of ``buf`` and return its fields
    (strings still UTF-8 bytes).  ValueError with the reason otherwise."""
    cdef qt_evlog_header h
    cdef qt_evlog_error err
    cdef size_t n = buf.shape[0]
    cdef uint8_t empty = 0
    if qt_evlog_parse_header(&buf[0] if n else &empty, n, &h, &err) != 0:
        raise ValueError(_msg(&err))
    return _header_dict(&h)


cdef dict _header_dict(const qt_evlog_header *h):
    return dict(
        version=h.version,
        header_size=h.header_size,
        record_size=h.record_size,
        price_unit=h.price_unit,
        tick_size=h.tick_size,
        qty_scale=h.qty_scale,
        created_ns=h.created_ns,
        instrument=<bytes>h.instrument,
        calendar_version=<bytes>h.calendar_version,
        source=<bytes>h.source,
    )


def read_dictionary(const uint8_t[::1] buf):
    """The current agent dictionary of a whole header (``buf`` holds at
    least header_size bytes): ``(names as bytes, generation)``."""
    cdef qt_evlog_header h
    cdef qt_evlog_error err
    cdef uint64_t off, gen
    cdef uint32_t count, nbytes, i, ln
    cdef size_t n = buf.shape[0]
    cdef uint8_t empty = 0
    if qt_evlog_parse_header(&buf[0] if n else &empty, n, &h, &err) != 0:
        raise ValueError(_msg(&err))
    if qt_evlog_find_dictionary(&buf[0], n, &h, &off, &count, &nbytes, &gen, &err) != 0:
        raise ValueError(_msg(&err))
    # find_dictionary checked that the entries exactly fill nbytes
    names = []
    cdef const uint8_t[::1] entries = buf[off:off + nbytes]
    cdef uint64_t p = 0
    for i in range(count):
        ln = entries[p] | (<uint32_t>entries[p + 1] << 8)
        names.append(bytes(entries[p + 2:p + 2 + ln]))
        p += 2 + ln
    return names, gen


cdef _raise_writer_error(int rc, const qt_evlog_error *e):
    msg = _msg(e)
    if rc == QT_EVLOG_EIO:
        raise OSError(e.sys_errno, msg)
    if rc == QT_EVLOG_EFAILED:
        raise OSError(e.sys_errno, "event-log writer unusable after an earlier error: " + msg)
    if rc == QT_EVLOG_ENOMEM:
        raise MemoryError(msg)
    raise ValueError(msg)


cdef void _put_string(char *dst, size_t cap, bytes value, str field) except *:
    if <size_t>len(value) >= cap:
        raise ValueError(f"{field} is {len(value)} bytes of UTF-8, the log stores at most {cap - 1}")
    if b"\0" in value:
        raise ValueError(f"{field} contains a NUL character")
    memset(dst, 0, cap)
    if len(value):
        memcpy(dst, <const char *>value, len(value))


cdef class Writer:
    """One open log (qt_evlog_writer).  Not thread-safe: the Python
    EventLogWriter serialises calls."""

    cdef qt_evlog_writer *_w
    cdef uint64_t _records_at_close

    def __cinit__(self, bytes path, *, bytes instrument, double price_unit, double tick_size,
                  double qty_scale, bytes calendar_version, bytes source, int64_t created_ns,
                  uint32_t header_size):
        cdef qt_evlog_header h
        cdef qt_evlog_error err
        memset(&h, 0, sizeof(h))
        _put_string(h.instrument, QT_EVLOG_INSTRUMENT_LEN, instrument, "instrument")
        _put_string(h.calendar_version, QT_EVLOG_CALENDAR_LEN, calendar_version, "calendar_version")
        _put_string(h.source, QT_EVLOG_SOURCE_LEN, source, "source")
        h.price_unit = price_unit
        h.tick_size = tick_size
        h.qty_scale = qty_scale
        h.created_ns = created_ns
        h.header_size = header_size
        cdef const char *cpath = path
        with nogil:
            self._w = qt_evlog_open_write(cpath, &h, &err)
        if self._w == NULL:
            if err.code == QT_EVLOG_EIO:
                raise OSError(err.sys_errno, _msg(&err))
            _raise_writer_error(err.code, &err)

    def __dealloc__(self):
        if self._w != NULL:
            with nogil:
                qt_evlog_close(self._w)
            self._w = NULL

    cdef qt_evlog_writer *_open(self) except NULL:
        if self._w == NULL:
            raise ValueError("event-log writer is closed")
        return self._w

    def append(self, const uint8_t[::1] records):
        """Append whole 64-byte records (a contiguous byte view)."""
        cdef qt_evlog_writer *w = self._open()
        cdef uint64_t n = records.shape[0] // QT_EVENT_SIZE
        cdef int rc
        if <uint64_t>records.shape[0] != n * QT_EVENT_SIZE:
            raise ValueError(f"{records.shape[0]} bytes is not a whole number of 64-byte records")
        if n == 0:
            return
        with nogil:
            rc = qt_evlog_append(w, <const qt_event *>&records[0], n)
        if rc != 0:
            _raise_writer_error(rc, qt_evlog_last_error(w))

    def set_agents(self, list names):
        """Replace the dictionary with ``names`` (UTF-8 bytes, index = id)."""
        cdef qt_evlog_writer *w = self._open()
        cdef uint32_t count = len(names), i
        cdef const char **ptrs = NULL
        cdef uint16_t *lens = NULL
        cdef int rc
        for i in range(count):
            if not isinstance(names[i], bytes):
                raise TypeError("agent names must be bytes")
            if len(names[i]) > QT_EVLOG_MAX_NAME_BYTES:
                raise ValueError(f"agent {i}: name of {len(names[i])} bytes exceeds {QT_EVLOG_MAX_NAME_BYTES}")
        ptrs = <const char **>malloc(sizeof(char *) * (count + 1))
        lens = <uint16_t *>malloc(sizeof(uint16_t) * (count + 1))
        if ptrs == NULL or lens == NULL:
            free(ptrs)
            free(lens)
            raise MemoryError()
        try:
            for i in range(count):
                ptrs[i] = <const char *>(<bytes>names[i])
                lens[i] = <uint16_t>len(names[i])
            rc = qt_evlog_set_agents(w, count, ptrs, lens)
        finally:
            free(ptrs)
            free(lens)
        if rc != 0:
            _raise_writer_error(rc, qt_evlog_last_error(w))

    def flush(self, bint sync=True):
        cdef qt_evlog_writer *w = self._open()
        cdef int rc
        with nogil:
            rc = qt_evlog_flush(w, sync)
        if rc != 0:
            _raise_writer_error(rc, qt_evlog_last_error(w))

    def close(self):
        """Flush (durably) and close; a second close does nothing."""
        if self._w == NULL:
            return
        cdef qt_evlog_writer *w = self._w
        cdef qt_evlog_error err
        cdef int rc
        self._w = NULL
        with nogil:
            rc = qt_evlog_flush(w, 1)
        # the writer is freed below: keep its message for the exception
        memcpy(&err, qt_evlog_last_error(w), sizeof(err))
        self._records_at_close = qt_evlog_records_written(w)
        with nogil:
            if rc != 0:
                qt_evlog_close(w)
            else:
                rc = qt_evlog_close(w)
        if rc != 0:
            if err.code == 0:
                raise OSError(f"closing the event log failed (code {rc})")
            _raise_writer_error(rc, &err)

    @property
    def closed(self):
        return self._w == NULL

    @property
    def records_written(self):
        """Records appended (after close: appended before the close)."""
        if self._w == NULL:
            return self._records_at_close
        return qt_evlog_records_written(self._w)

    @property
    def created_ns(self):
        return qt_evlog_writer_header(self._open()).created_ns

    @property
    def header_size(self):
        return qt_evlog_writer_header(self._open()).header_size
