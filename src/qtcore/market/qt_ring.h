/* Single-producer single-consumer lock-free ring of fixed-size slots.
 *
 * - capacity is a power of two; slots are allocated once at creation, never
 *   after, so a push from the DLL's callback thread never allocates or locks;
 * - publication is per slot: bytes 4..7 of every slot (qt_event.crc,
 *   qt_order_update.reserved) belong to the ring and hold the slot's stamp,
 *   the lap number of the position written there plus one.  The producer
 *   writes a record's other bytes, then its stamp with release; the
 *   consumer polls the stamp of the next slot and never reads the
 *   producer's index, so a record costs one cache-line transfer (the slot
 *   itself) instead of two (slot + index).  Whatever a producer puts in
 *   bytes 4..7 is not stored; qt_ring_pop hands them back as 0, while
 *   qt_ring_peek shows the stamp;
 * - a push of n records becomes visible all at once (stamps are written
 *   last to first), so a consumer never sees part of a batch;
 * - producer and consumer indices live on separate cache lines; the
 *   producer keeps a cached copy of the consumer's index;
 * - a full ring never blocks the producer.  QT_RING_DROP (market data):
 *   the record is dropped and counted.  QT_RING_LOSSLESS (order updates):
 *   the record cannot be stored either, but the ring is marked overflowed
 *   for good, so the owner treats the venue state as unknown and reconciles;
 * - the consumer spins briefly, then sleeps on a futex / WaitOnAddress until
 *   the producer wakes it, so an idle system does not burn a core.  The
 *   "is the consumer asleep" check costs the producer a compiler barrier
 *   where the platform has an asymmetric fence (qt_heavy_fence, paid by the
 *   consumer when it goes to sleep), a seq_cst fence elsewhere.
 */
#ifndef QT_RING_H
#define QT_RING_H

#include <string.h>

#include "platform/qt_atomic.h"

#ifndef QT_RING_PREFETCH
#define QT_RING_PREFETCH 8
#endif

/* Where the ring keeps a slot's stamp (a naturally aligned uint32). */
#define QT_RING_STAMP_OFFSET 4

typedef enum qt_ring_policy { QT_RING_DROP = 0, QT_RING_LOSSLESS = 1 } qt_ring_policy;

typedef struct qt_ring {
    /* producer's cache line */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u64 head; /* next position to write (producer's, for counters) */
    uint64_t tail_cache;                          /* producer's view of tail */
    qt_atomic_u64 dropped;                        /* records refused because the ring was full */
    qt_atomic_u32 overflowed;                     /* sticky: a lossless ring lost a record */
    /* consumer's cache line */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u64 tail; /* next slot to read */
    uint64_t ready_end;                           /* consumer: [tail, ready_end) seen stamped */
    /* sleeping consumer handshake */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u32 wake_seq;
    qt_atomic_u32 sleeping;
    qt_atomic_u32 closed;
    qt_atomic_u64 sleeps; /* how often the consumer actually went to sleep */
    /* read-only after creation */
    QT_ALIGNED(QT_CACHE_LINE) uint64_t mask;
    uint32_t lap_shift; /* log2(capacity): position >> lap_shift is the lap */
    uint32_t slot_size;
    uint32_t policy;
    uint32_t asymmetric; /* 1: producer's light fence, consumer's heavy fence before sleeping */
    uint8_t *slots;
    void *slots_alloc; /* what calloc returned for the slots */
    void *ring_alloc;  /* what calloc returned for this struct */
} qt_ring;

/* A slot's stamp and the value it holds once position pos is published
 * there (0 = never written; a stale stamp is one lap behind, never equal). */
QT_INLINE qt_atomic_u32 *qt_ring_stamp_(const qt_ring *r, uint64_t pos) {
    return (qt_atomic_u32 *)(void *)(r->slots + (pos & r->mask) * r->slot_size + QT_RING_STAMP_OFFSET);
}
QT_INLINE uint32_t qt_ring_lap_(const qt_ring *r, uint64_t pos) { return (uint32_t)(pos >> r->lap_shift) + 1u; }

/* capacity: rounded up to a power of two (>= 2).  slot_size: bytes per
 * record, a multiple of 8.  Returns NULL on bad arguments or no memory. */
qt_ring *qt_ring_create(uint64_t capacity, uint32_t slot_size, qt_ring_policy policy);
void qt_ring_destroy(qt_ring *r);

/* Wake a sleeping consumer.  Push calls this itself; exposed for close(). */
void qt_ring_notify(qt_ring *r);

/* Producer: copy n records (all or none).  Returns 1 if stored, 0 if the
 * ring had no room (counted in dropped, or marks a lossless ring overflowed). */
QT_INLINE int qt_ring_push_n(qt_ring *r, const void *recs, uint32_t n) {
    uint64_t head = qt_load_relaxed(&r->head);
    uint64_t cap = r->mask + 1;
    if (QT_UNLIKELY(head + n - r->tail_cache > cap)) {
        r->tail_cache = qt_load_acquire(&r->tail);
        if (head + n - r->tail_cache > cap) {
            qt_store_relaxed(&r->dropped, qt_load_relaxed(&r->dropped) + n);
            if (r->policy == QT_RING_LOSSLESS) qt_store_release(&r->overflowed, 1u);
            return 0;
        }
    }
    if (QT_UNLIKELY(n == 0)) return 1;
    const uint8_t *src = (const uint8_t *)recs;
#if defined(__GNUC__) || defined(__clang__)
    /* Ask for ownership of a slot a few records ahead: the consumer read it
     * last time round, so the store would otherwise wait for that line. */
    __builtin_prefetch(r->slots + ((head + n + QT_RING_PREFETCH) & r->mask) * r->slot_size, 1, 3);
#endif
    /* Everything but the stamp: the consumer may be reading that word of
     * this very slot right now, so it is written only atomically. */
    uint32_t size = r->slot_size;
    if (QT_LIKELY(size == 64)) {
        for (uint32_t i = 0; i < n; i++) {
            uint8_t *dst = r->slots + (((head + i) & r->mask) << 6);
            const uint8_t *s = src + ((size_t)i << 6);
            memcpy(dst, s, QT_RING_STAMP_OFFSET);
            memcpy(dst + 8, s + 8, 56);
        }
    } else {
        for (uint32_t i = 0; i < n; i++) {
            uint8_t *dst = r->slots + ((head + i) & r->mask) * size;
            const uint8_t *s = src + (size_t)i * size;
            memcpy(dst, s, QT_RING_STAMP_OFFSET);
            memcpy(dst + 8, s + 8, size - 8);
        }
    }
    /* Last record first: the consumer reads in order and stops at the
     * first unstamped slot, so the batch appears at once. */
    for (uint32_t i = n; --i > 0;) qt_store_release(qt_ring_stamp_(r, head + i), qt_ring_lap_(r, head + i));
    qt_store_relaxed(&r->head, head + n);
    /* Dekker handshake with qt_ring_wait: the consumer stores `sleeping`,
     * fences, then reads the stamp; we store the stamp, fence, then read
     * `sleeping`, so one side always sees the other and no wake-up is lost.
     * Our fence is a compiler barrier when the consumer's is a heavy
     * (process-wide) one, else both sides use seq_cst accesses. */
    qt_atomic_u32 *first = qt_ring_stamp_(r, head);
    uint32_t sleeping;
    if (QT_LIKELY(r->asymmetric)) {
        qt_store_release(first, qt_ring_lap_(r, head));
        qt_light_fence();
        sleeping = qt_load_relaxed(&r->sleeping);
    } else {
        atomic_store_explicit(first, qt_ring_lap_(r, head), memory_order_seq_cst);
        sleeping = atomic_load_explicit(&r->sleeping, memory_order_seq_cst);
    }
    if (QT_UNLIKELY(sleeping)) qt_ring_notify(r);
    return 1;
}

QT_INLINE int qt_ring_push(qt_ring *r, const void *rec) { return qt_ring_push_n(r, rec, 1); }

/* Producer: is there room for n records now?  (For producers that may wait,
 * e.g. a replay running "as fast as the consumer takes it".) */
QT_INLINE int qt_ring_has_room(qt_ring *r, uint32_t n) {
    uint64_t head = qt_load_relaxed(&r->head);
    if (head + n - r->tail_cache <= r->mask + 1) return 1;
    r->tail_cache = qt_load_acquire(&r->tail);
    return head + n - r->tail_cache <= r->mask + 1;
}

/* Consumer: extend the run of stamped slots after tail up to `want`
 * records (capacity at most); returns the run's length. */
QT_INLINE uint64_t qt_ring_scan_(qt_ring *r, uint64_t tail, uint64_t want) {
    uint64_t end = r->ready_end;
    if (end - tail < want) {
        uint64_t stop = tail + want;
        while (end != stop && qt_load_acquire(qt_ring_stamp_(r, end)) == qt_ring_lap_(r, end)) end++;
        r->ready_end = end;
    }
    return end - tail;
}

/* Consumer: number of records ready to read. */
QT_INLINE uint64_t qt_ring_available(qt_ring *r) {
    return qt_ring_scan_(r, qt_load_relaxed(&r->tail), r->mask + 1);
}

/* Consumer: zero-copy access.  Returns a pointer to up to *n contiguous
 * ready records (stops at the wrap point); release them with
 * qt_ring_release once processed. */
QT_INLINE const void *qt_ring_peek(qt_ring *r, uint64_t *n) {
    uint64_t tail = qt_load_relaxed(&r->tail);
    uint64_t idx = tail & r->mask;
    uint64_t contig = r->mask + 1 - idx;
    uint64_t want = *n < contig ? *n : contig;
    uint64_t avail = qt_ring_scan_(r, tail, want);
    *n = avail < want ? avail : want;
    return r->slots + idx * r->slot_size;
}

QT_INLINE void qt_ring_release(qt_ring *r, uint64_t n) {
    qt_store_release(&r->tail, qt_load_relaxed(&r->tail) + n);
}

/* Consumer: copy up to max records into out; returns how many. */
uint64_t qt_ring_pop(qt_ring *r, void *out, uint64_t max);

/* Consumer: wait until a record is ready, the ring is closed, or timeout_ns
 * passes (<0: no limit).  Spins spin_iters times first, then sleeps.
 * Returns the number of ready records (0 on timeout or close). */
uint64_t qt_ring_wait(qt_ring *r, int64_t timeout_ns, uint32_t spin_iters);

/* Producer or owner: no more records will come; wakes the consumer. */
void qt_ring_close(qt_ring *r);

QT_INLINE uint64_t qt_ring_capacity(const qt_ring *r) { return r->mask + 1; }
QT_INLINE uint64_t qt_ring_dropped(qt_ring *r) { return qt_load_relaxed(&r->dropped); }
QT_INLINE uint64_t qt_ring_pushed(qt_ring *r) { return qt_load_relaxed(&r->head); }
QT_INLINE uint64_t qt_ring_popped(qt_ring *r) { return qt_load_relaxed(&r->tail); }
QT_INLINE int qt_ring_overflowed(qt_ring *r) { return (int)qt_load_acquire(&r->overflowed); }
QT_INLINE int qt_ring_closed(qt_ring *r) { return (int)qt_load_acquire(&r->closed); }

#endif
