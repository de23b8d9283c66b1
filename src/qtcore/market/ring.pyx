# cython: freethreading_compatible=False
"""SPSC ring buffers of the core, for Python-side producers/consumers (tests,
replays, the order manager).  The hot path (DLL callbacks -> drain loop) uses
the C API directly; this wrapper exists so Python can create rings, feed
records in bulk, read counters and consume order updates."""
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from events cimport QT_EVENT_SIZE, QT_ORDER_UPDATE_SIZE
from ring cimport (
    QT_RING_DROP, QT_RING_LOSSLESS, qt_ring, qt_ring_available, qt_ring_capacity, qt_ring_close,
    qt_ring_closed, qt_ring_create, qt_ring_destroy, qt_ring_dropped, qt_ring_overflowed, qt_ring_pop,
    qt_ring_popped, qt_ring_push_n, qt_ring_pushed, qt_ring_wait,
)

EVENT_SIZE = QT_EVENT_SIZE
ORDER_UPDATE_SIZE = QT_ORDER_UPDATE_SIZE


from cpython.pycapsule cimport PyCapsule_New


cdef class Ring:
    """A single-producer single-consumer ring of fixed-size records.

    ``lossless=False`` (market data): a full ring drops the record and counts
    it in :attr:`dropped`.  ``lossless=True`` (order updates): a full ring
    sets :attr:`overflowed` for good, which the order manager treats as an
    unknown venue state.
    """

    def __cinit__(self, uint64_t capacity, uint32_t slot_size=QT_EVENT_SIZE, bint lossless=False):
        self._r = qt_ring_create(capacity, slot_size, QT_RING_LOSSLESS if lossless else QT_RING_DROP)
        if self._r == NULL:
            raise ValueError(
                f"cannot create ring: capacity={capacity} slot_size={slot_size} "
                "(slot size must be a positive multiple of 8; capacity 2..2^36)")
        self.slot_size = slot_size

    def __dealloc__(self):
        if self._r != NULL:
            qt_ring_destroy(self._r)
            self._r = NULL

    cdef qt_ring *_r
    cdef readonly uint32_t slot_size

    def capsule(self):
        """The C ring as a PyCapsule named "qt_ring", for other extension
        modules of the core (the drain loop, the DLL binding).  The capsule
        does not own the ring: keep this object alive while it is used."""
        return PyCapsule_New(<void *>self._r, b"qt_ring", NULL)

    def push_bytes(self, const uint8_t[::1] records, uint32_t batch=1):
        """Push records (a contiguous byte view, a whole number of slots).
        ``batch`` records are published at a time.  Returns how many were
        stored; the rest were refused (dropped or overflowed)."""
        cdef uint64_t n = records.shape[0] // self.slot_size
        if records.shape[0] != n * self.slot_size:
            raise ValueError(f"buffer of {records.shape[0]} bytes is not a multiple of {self.slot_size}")
        if batch == 0:
            raise ValueError("batch must be >= 1")
        cdef uint64_t i = 0, stored = 0
        cdef uint32_t k
        with nogil:
            while i < n:
                k = batch if n - i >= batch else <uint32_t>(n - i)
                if qt_ring_push_n(self._r, &records[i * self.slot_size], k):
                    stored += k
                i += k
        return stored

    def pop_bytes(self, uint8_t[::1] out):
        """Pop up to ``len(out) // slot_size`` records into ``out``; returns how many."""
        cdef uint64_t maxn = out.shape[0] // self.slot_size
        cdef uint64_t got
        if maxn == 0:
            return 0
        with nogil:
            got = qt_ring_pop(self._r, &out[0], maxn)
        return got

    def wait(self, double timeout_s=-1.0, uint32_t spin=2000):
        """Block (without the GIL) until records are ready, the ring is
        closed, or the timeout passes.  Returns the number ready."""
        cdef int64_t t = -1 if timeout_s < 0 else <int64_t>(timeout_s * 1e9)
        cdef uint64_t n
        with nogil:
            n = qt_ring_wait(self._r, t, spin)
        return n

    def close(self):
        qt_ring_close(self._r)

    @property
    def capacity(self):
        return qt_ring_capacity(self._r)

    @property
    def available(self):
        return qt_ring_available(self._r)

    @property
    def dropped(self):
        """Records refused because the ring was full."""
        return qt_ring_dropped(self._r)

    @property
    def pushed(self):
        return qt_ring_pushed(self._r)

    @property
    def popped(self):
        return qt_ring_popped(self._r)

    @property
    def overflowed(self):
        """True once a lossless ring had to refuse a record."""
        return bool(qt_ring_overflowed(self._r))

    @property
    def closed(self):
        return bool(qt_ring_closed(self._r))

