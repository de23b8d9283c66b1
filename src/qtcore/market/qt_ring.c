#include "market/qt_ring.h"

#include <stdlib.h>

/* aligned_alloc is missing from mingw's CRT: over-allocate and align by hand. */
static void *alloc_aligned(size_t size, void **base) {
    *base = calloc(1, size + QT_CACHE_LINE);
    if (!*base) return NULL;
    return (void *)(((uintptr_t)*base + QT_CACHE_LINE - 1) & ~(uintptr_t)(QT_CACHE_LINE - 1));
}

qt_ring *qt_ring_create(uint64_t capacity, uint32_t slot_size, qt_ring_policy policy) {
    if (capacity < 2 || capacity > (1ull << 36) || slot_size == 0 || slot_size % 8 != 0) return NULL;
    uint64_t cap = 2;
    while (cap < capacity) cap <<= 1;
    void *rbase, *sbase;
    qt_ring *r = (qt_ring *)alloc_aligned(sizeof(qt_ring), &rbase);
    if (!r) return NULL;
    uint8_t *slots = (uint8_t *)alloc_aligned((size_t)(cap * slot_size), &sbase);
    if (!slots) {
        free(rbase);
        return NULL;
    }
    r->ring_alloc = rbase;
    r->slots_alloc = sbase;
    r->slots = slots;
    r->mask = cap - 1;
    while ((1ull << r->lap_shift) < cap) r->lap_shift++;
    r->asymmetric = (uint32_t)qt_heavy_fence_init();
    r->slot_size = slot_size;
    r->policy = (uint32_t)policy;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->dropped, 0);
    atomic_init(&r->overflowed, 0);
    atomic_init(&r->wake_seq, 0);
    atomic_init(&r->sleeping, 0);
    atomic_init(&r->closed, 0);
    atomic_init(&r->sleeps, 0);
    return r;
}

void qt_ring_destroy(qt_ring *r) {
    if (!r) return;
    free(r->slots_alloc);
    free(r->ring_alloc);
}

void qt_ring_notify(qt_ring *r) {
    qt_fetch_add_relaxed(&r->wake_seq, 1u);
    qt_wake_all_u32(&r->wake_seq);
}

uint64_t qt_ring_pop(qt_ring *r, void *out, uint64_t max) {
    uint8_t *dst = (uint8_t *)out;
    uint64_t total = 0;
    while (total < max) {
        uint64_t n = max - total;
        const void *src = qt_ring_peek(r, &n);
        if (n == 0) break;
        uint8_t *out_rec = dst + total * r->slot_size;
        memcpy(out_rec, src, (size_t)(n * r->slot_size));
        qt_ring_release(r, n);
        /* the stamps are the ring's, not the record's */
        for (uint64_t i = 0; i < n; i++) memset(out_rec + i * r->slot_size + QT_RING_STAMP_OFFSET, 0, 4);
        total += n;
    }
    return total;
}

uint64_t qt_ring_wait(qt_ring *r, int64_t timeout_ns, uint32_t spin_iters) {
    uint64_t n;
    for (uint32_t i = 0; i < spin_iters; i++) {
        if ((n = qt_ring_available(r)) != 0) return n;
        if (qt_ring_closed(r)) return 0;
        /* back off a little between polls: every poll of the next stamp
         * pulls over the line the producer is writing; letting a few
         * records accumulate costs ~100 ns of latency and saves transfers */
        for (int k = 0; k < 8; k++) qt_cpu_relax();
    }
    int64_t deadline = timeout_ns < 0 ? -1 : qt_monotonic_ns() + timeout_ns;
    for (;;) {
        uint32_t seen = qt_load_acquire(&r->wake_seq);
        /* Dekker handshake, see qt_ring_push_n */
        atomic_store_explicit(&r->sleeping, 1u, memory_order_seq_cst);
        if (r->asymmetric) qt_heavy_fence();
        else (void)atomic_load_explicit(qt_ring_stamp_(r, r->ready_end), memory_order_seq_cst);
        if ((n = qt_ring_available(r)) != 0 || qt_ring_closed(r)) {
            qt_store_relaxed(&r->sleeping, 0u);
            return n;
        }
        int64_t left = -1;
        if (deadline >= 0) {
            left = deadline - qt_monotonic_ns();
            if (left <= 0) {
                qt_store_relaxed(&r->sleeping, 0u);
                return 0;
            }
        }
        qt_fetch_add_relaxed(&r->sleeps, 1u);
        qt_wait_u32(&r->wake_seq, seen, left);
        qt_store_relaxed(&r->sleeping, 0u);
        if ((n = qt_ring_available(r)) != 0) return n;
        if (qt_ring_closed(r)) return 0;
    }
}

void qt_ring_close(qt_ring *r) {
    qt_store_release(&r->closed, 1u);
    qt_fence_seq_cst();
    qt_ring_notify(r);
}
