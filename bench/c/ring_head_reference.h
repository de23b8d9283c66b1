/* Baseline for the ring benchmark: qt_ring as it was before per-slot
 * publication (commit df778bf), renamed, kept only to be measured against
 * in the same run.  The producer publishes by a seq_cst store of the shared
 * head index and the consumer reads that index to learn what is ready, so a
 * record moves two cache lines between the cores (the slot and the index's
 * line) where qt_ring now moves one.  Same capacity, drop, spin-then-sleep
 * and wake-up rules as qt_ring.  Not part of the core. */
#ifndef RING_HEAD_REFERENCE_H
#define RING_HEAD_REFERENCE_H

#include <string.h>

#include "platform/qt_atomic.h"

#ifndef HEAD_RING_PREFETCH
#define HEAD_RING_PREFETCH 8
#endif

typedef enum head_ring_policy { HEAD_RING_DROP = 0, HEAD_RING_LOSSLESS = 1 } head_ring_policy;

typedef struct head_ring {
    /* producer's cache line */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u64 head; /* next slot to write; published */
    uint64_t tail_cache;                          /* producer's view of tail */
    qt_atomic_u64 dropped;                        /* records refused because the ring was full */
    qt_atomic_u32 overflowed;                     /* sticky: a lossless ring lost a record */
    /* consumer's cache line */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u64 tail; /* next slot to read */
    uint64_t head_cache;                          /* consumer's view of head */
    /* sleeping consumer handshake */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u32 wake_seq;
    qt_atomic_u32 sleeping;
    qt_atomic_u32 closed;
    qt_atomic_u64 sleeps; /* how often the consumer actually went to sleep */
    /* read-only after creation */
    QT_ALIGNED(QT_CACHE_LINE) uint64_t mask;
    uint32_t slot_size;
    uint32_t policy;
    uint8_t *slots;
    void *slots_alloc; /* what calloc returned for the slots */
    void *ring_alloc;  /* what calloc returned for this struct */
} head_ring;

/* capacity: rounded up to a power of two (>= 2).  slot_size: bytes per
 * record, a multiple of 8.  Returns NULL on bad arguments or no memory. */
head_ring *head_ring_create(uint64_t capacity, uint32_t slot_size, head_ring_policy policy);
void head_ring_destroy(head_ring *r);

/* Wake a sleeping consumer.  Push calls this itself; exposed for close(). */
void head_ring_notify(head_ring *r);

/* Producer: copy n records (all or none).  Returns 1 if stored, 0 if the
 * ring had no room (counted in dropped, or marks a lossless ring overflowed). */
QT_INLINE int head_ring_push_n(head_ring *r, const void *recs, uint32_t n) {
    uint64_t head = qt_load_relaxed(&r->head);
    uint64_t cap = r->mask + 1;
    if (QT_UNLIKELY(head + n - r->tail_cache > cap)) {
        r->tail_cache = qt_load_acquire(&r->tail);
        if (head + n - r->tail_cache > cap) {
            qt_store_relaxed(&r->dropped, qt_load_relaxed(&r->dropped) + n);
            if (r->policy == HEAD_RING_LOSSLESS) qt_store_release(&r->overflowed, 1u);
            return 0;
        }
    }
    const uint8_t *src = (const uint8_t *)recs;
#if defined(__GNUC__) || defined(__clang__)
    /* Ask for ownership of a slot a few records ahead: the consumer read it
     * last time round, so the store would otherwise wait for that line. */
    __builtin_prefetch(r->slots + ((head + n + HEAD_RING_PREFETCH) & r->mask) * r->slot_size, 1, 3);
#endif
    if (QT_LIKELY(r->slot_size == 64)) {
        for (uint32_t i = 0; i < n; i++)
            memcpy(r->slots + (((head + i) & r->mask) << 6), src + ((size_t)i << 6), 64);
    } else {
        for (uint32_t i = 0; i < n; i++)
            memcpy(r->slots + ((head + i) & r->mask) * r->slot_size, src + (size_t)i * r->slot_size,
                   r->slot_size);
    }
    /* Dekker handshake with head_ring_wait: the consumer stores `sleeping`
     * then re-reads head; we store head then read `sleeping`.  Both stores
     * are sequentially consistent (one XCHG on x86, cheaper than a separate
     * fence), so one side always sees the other and no wake-up is lost. */
    atomic_store_explicit(&r->head, head + n, memory_order_seq_cst);
    if (QT_UNLIKELY(atomic_load_explicit(&r->sleeping, memory_order_seq_cst))) head_ring_notify(r);
    return 1;
}

QT_INLINE int head_ring_push(head_ring *r, const void *rec) { return head_ring_push_n(r, rec, 1); }

/* Producer: is there room for n records now?  (For producers that may wait,
 * e.g. a replay running "as fast as the consumer takes it".) */
QT_INLINE int head_ring_has_room(head_ring *r, uint32_t n) {
    uint64_t head = qt_load_relaxed(&r->head);
    if (head + n - r->tail_cache <= r->mask + 1) return 1;
    r->tail_cache = qt_load_acquire(&r->tail);
    return head + n - r->tail_cache <= r->mask + 1;
}

/* Consumer: number of records ready to read. */
QT_INLINE uint64_t head_ring_available(head_ring *r) {
    uint64_t tail = qt_load_relaxed(&r->tail);
    if (r->head_cache == tail) r->head_cache = qt_load_acquire(&r->head);
    return r->head_cache - tail;
}

/* Consumer: zero-copy access.  Returns a pointer to up to *n contiguous
 * ready records (stops at the wrap point); release them with
 * head_ring_release once processed. */
QT_INLINE const void *head_ring_peek(head_ring *r, uint64_t *n) {
    uint64_t tail = qt_load_relaxed(&r->tail);
    uint64_t avail = head_ring_available(r);
    uint64_t idx = tail & r->mask;
    uint64_t contig = r->mask + 1 - idx;
    if (avail > contig) avail = contig;
    if (avail > *n) avail = *n;
    *n = avail;
    return r->slots + idx * r->slot_size;
}

QT_INLINE void head_ring_release(head_ring *r, uint64_t n) {
    qt_store_release(&r->tail, qt_load_relaxed(&r->tail) + n);
}

/* Consumer: copy up to max records into out; returns how many. */
uint64_t head_ring_pop(head_ring *r, void *out, uint64_t max);

/* Consumer: wait until a record is ready, the ring is closed, or timeout_ns
 * passes (<0: no limit).  Spins spin_iters times first, then sleeps.
 * Returns the number of ready records (0 on timeout or close). */
uint64_t head_ring_wait(head_ring *r, int64_t timeout_ns, uint32_t spin_iters);

/* Producer or owner: no more records will come; wakes the consumer. */
void head_ring_close(head_ring *r);

QT_INLINE uint64_t head_ring_capacity(const head_ring *r) { return r->mask + 1; }
QT_INLINE uint64_t head_ring_dropped(head_ring *r) { return qt_load_relaxed(&r->dropped); }
QT_INLINE uint64_t head_ring_pushed(head_ring *r) { return qt_load_relaxed(&r->head); }
QT_INLINE uint64_t head_ring_popped(head_ring *r) { return qt_load_relaxed(&r->tail); }
QT_INLINE int head_ring_overflowed(head_ring *r) { return (int)qt_load_acquire(&r->overflowed); }
QT_INLINE int head_ring_closed(head_ring *r) { return (int)qt_load_acquire(&r->closed); }

#endif
