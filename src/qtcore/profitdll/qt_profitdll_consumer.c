/* The feed's consumer slot (qt_profitdll_consumer.h, qt_profitdll_feed.h).
 *
 * Removal must not return while a callback is still running the removed
 * consumer's code (its owner frees it next).  A callback announces itself in
 * `inside` before it reads the slot, and the setter empties the slot before
 * it reads `inside` (both sequentially consistent): either the callback sees
 * the empty slot, or the setter sees the callback and waits for it to leave.
 * The last callback out wakes a waiting setter. */
#include "profitdll/qt_profitdll_consumer.h"

_Atomic(const qt_profitdll_consumer *) qt_profitdll_consumer_slot_ = NULL;

static qt_atomic_u32 inside;   /* callbacks between announcing and leaving */
static qt_atomic_u32 removing; /* a setter is waiting for `inside` to drain */
static qt_atomic_u32 setter;   /* serialises setters */

/* A setter's wait is cut into slices: a wake-up is an optimisation, the
 * re-check is what counts. */
#define REMOVE_SLICE_NS 1000000LL

void qt_profitdll_consumer_call_(int order) {
    atomic_fetch_add_explicit(&inside, 1u, memory_order_seq_cst);
    const qt_profitdll_consumer *c =
        atomic_load_explicit(&qt_profitdll_consumer_slot_, memory_order_seq_cst);
    if (c) {
        void (*fn)(void *) = order ? c->after_order : c->after_market;
        if (fn) fn(c->user);
    }
    if (atomic_fetch_sub_explicit(&inside, 1u, memory_order_seq_cst) == 1u &&
        atomic_load_explicit(&removing, memory_order_seq_cst))
        qt_wake_all_u32(&inside);
}

int qt_profitdll_feed_set_consumer(const qt_profitdll_consumer *c) {
    if (c && !c->after_market && !c->after_order) return -1;
    while (atomic_exchange_explicit(&setter, 1u, memory_order_acquire)) qt_sleep_ns(REMOVE_SLICE_NS);
    /* empty the slot first: a replacement never waits on its own calls */
    atomic_store_explicit(&removing, 1u, memory_order_seq_cst);
    const qt_profitdll_consumer *old =
        atomic_exchange_explicit(&qt_profitdll_consumer_slot_, NULL, memory_order_seq_cst);
    if (old) {
        for (;;) {
            uint32_t n = atomic_load_explicit(&inside, memory_order_seq_cst);
            if (n == 0) break;
            qt_wait_u32(&inside, n, REMOVE_SLICE_NS);
        }
    }
    atomic_store_explicit(&removing, 0u, memory_order_seq_cst);
    if (c) atomic_store_explicit(&qt_profitdll_consumer_slot_, c, memory_order_seq_cst);
    atomic_store_explicit(&setter, 0u, memory_order_release);
    return 0;
}
