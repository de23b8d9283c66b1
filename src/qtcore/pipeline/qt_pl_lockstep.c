/* The lockstep gate (qt_pl_lockstep.h).
 *
 * Waits and acknowledgements meet on one 32-bit word, `epoch`: an
 * acknowledgement (or a release) stores its value, then bumps the epoch and
 * wakes; a waiter reads the epoch before it checks its condition and sleeps
 * only while the epoch still has that value, so an acknowledgement that
 * lands between the check and the sleep is never missed. */
#include "pipeline/qt_pl_lockstep.h"

#include <stdlib.h>
#include <string.h>

/* How long a waiting callback spins before it sleeps (see wait_for). */
#define QT_PL_LS_SPIN_NS 300000

struct qt_pl_lockstep {
    qt_pl *pl;
    qt_ring *market;
    qt_ring *orders;
    int64_t timeout_ns;
    qt_profitdll_consumer consumer;
    void *alloc; /* what calloc returned */
    /* written by the consumers, read by the callback thread */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u64 decisions_acked;
    qt_atomic_u64 orders_acked;
    qt_atomic_u32 epoch;
    qt_atomic_u32 released; /* qt_pl_ls_released */
    /* inline runs: a small futex lock (0 free, 1 held, 2 held with waiters) */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u32 run_lock;
    qt_atomic_u32 closed;
    /* counters: relaxed read-modify-writes (a second callback thread is rare
     * but allowed) */
    QT_ALIGNED(QT_CACHE_LINE) qt_atomic_u64 inline_runs, records, stopped_runs, decision_waits,
        decisions_waited, order_waits, order_updates_waited, wait_ns, max_wait_ns, timeouts;
};

qt_pl_lockstep *qt_pl_lockstep_create(qt_pl *pl, qt_ring *market, qt_ring *orders, int64_t timeout_ns) {
    if (!pl || !market || market->slot_size != QT_EVENT_SIZE || timeout_ns <= 0) return NULL;
    if (orders && orders->slot_size != QT_ORDER_UPDATE_SIZE) return NULL;
    /* calloc's alignment is not enough for the QT_ALIGNED members */
    void *mem = calloc(1, sizeof(qt_pl_lockstep) + QT_CACHE_LINE);
    if (!mem) return NULL;
    uintptr_t at = ((uintptr_t)mem + QT_CACHE_LINE - 1) & ~(uintptr_t)(QT_CACHE_LINE - 1);
    qt_pl_lockstep *ls = (qt_pl_lockstep *)at;
    ls->alloc = mem;
    ls->pl = pl;
    ls->market = market;
    ls->orders = orders;
    ls->timeout_ns = timeout_ns;
    ls->consumer.after_market = qt_pl_lockstep_after_market;
    ls->consumer.after_order = qt_pl_lockstep_after_order;
    ls->consumer.user = ls;
    return ls;
}

void qt_pl_lockstep_destroy(qt_pl_lockstep *ls) {
    if (ls) free(ls->alloc);
}

const qt_profitdll_consumer *qt_pl_lockstep_consumer(qt_pl_lockstep *ls) { return &ls->consumer; }

/* ------------------------------------------------------------ inline runs */

static void run_lock(qt_pl_lockstep *ls) {
    uint32_t expected = 0;
    if (atomic_compare_exchange_strong_explicit(&ls->run_lock, &expected, 1u, memory_order_acquire,
                                                memory_order_relaxed))
        return;
    while (atomic_exchange_explicit(&ls->run_lock, 2u, memory_order_acquire) != 0)
        qt_wait_u32(&ls->run_lock, 2u, -1);
}

static void run_unlock(qt_pl_lockstep *ls) {
    if (atomic_exchange_explicit(&ls->run_lock, 0u, memory_order_release) == 2u)
        qt_wake_all_u32(&ls->run_lock);
}

static inline void add(qt_atomic_u64 *c, uint64_t n) { qt_fetch_add_relaxed(c, n); }

/* Under the run lock: the pipeline over the ring, at most max records. */
static uint64_t run_locked(qt_pl_lockstep *ls, uint64_t max) {
    int status = QT_PL_DONE;
    uint64_t n = qt_pl_run(ls->pl, ls->market, max, 0, 0, &status);
    add(&ls->inline_runs, 1);
    add(&ls->records, n);
    if (status == QT_PL_STOPPED) add(&ls->stopped_runs, 1);
    return n;
}

/* ------------------------------------------------------------ waits */

static void set_released(qt_pl_lockstep *ls, uint32_t why) {
    uint32_t expected = QT_PL_LS_ENGAGED;
    atomic_compare_exchange_strong_explicit(&ls->released, &expected, why, memory_order_acq_rel,
                                            memory_order_acquire);
    atomic_fetch_add_explicit(&ls->epoch, 1u, memory_order_acq_rel);
    qt_wake_all_u32(&ls->epoch);
}

/* Sleep until *acked >= target, the gate is released, or the timeout
 * (which releases it).  Counts the wait when there was one. */
static void wait_for(qt_pl_lockstep *ls, qt_atomic_u64 *acked, uint64_t target, qt_atomic_u64 *waits,
                     qt_atomic_u64 *waited) {
    uint64_t from = qt_load_acquire(acked);
    if (from >= target || qt_load_acquire(&ls->released)) return;
    int64_t t0 = qt_monotonic_ns();
    int64_t deadline = t0 + ls->timeout_ns;
    /* Spin first, briefly: the consumer usually answers within a few hundred
     * microseconds, and waking a thread that went to sleep costs about as much
     * again on a virtual machine (a backtest makes this hand-over twice per
     * decision and once per order update). */
    while (qt_monotonic_ns() - t0 < QT_PL_LS_SPIN_NS) {
        if (qt_load_acquire(acked) >= target || qt_load_acquire(&ls->released)) break;
        for (int k = 0; k < 16; k++) qt_cpu_relax();
    }
    for (;;) {
        uint32_t epoch = qt_load_acquire(&ls->epoch);
        if (qt_load_acquire(acked) >= target || qt_load_acquire(&ls->released)) break;
        int64_t now = qt_monotonic_ns();
        if (now >= deadline) {
            add(&ls->timeouts, 1);
            set_released(ls, QT_PL_LS_TIMED_OUT);
            break;
        }
        qt_wait_u32(&ls->epoch, epoch, deadline - now);
    }
    uint64_t took = (uint64_t)(qt_monotonic_ns() - t0);
    add(waits, 1);
    add(waited, target - from);
    add(&ls->wait_ns, took);
    uint64_t max = qt_load_relaxed(&ls->max_wait_ns);
    while (took > max && !atomic_compare_exchange_weak_explicit(&ls->max_wait_ns, &max, took,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed)) {
    }
}

static void ack(qt_pl_lockstep *ls, qt_atomic_u64 *acked, uint64_t value) {
    uint64_t cur = qt_load_relaxed(acked);
    do {
        if (value <= cur) return; /* nothing new: nobody to wake */
    } while (!atomic_compare_exchange_weak_explicit(acked, &cur, value, memory_order_release,
                                                    memory_order_relaxed));
    atomic_fetch_add_explicit(&ls->epoch, 1u, memory_order_acq_rel);
    qt_wake_all_u32(&ls->epoch);
}

/* ------------------------------------------------------------ the consumer */

void qt_pl_lockstep_after_market(void *user) {
    qt_pl_lockstep *ls = (qt_pl_lockstep *)user;
    if (qt_load_acquire(&ls->closed)) return;
    run_lock(ls);
    if (qt_load_acquire(&ls->closed)) {
        run_unlock(ls);
        return;
    }
    run_locked(ls, UINT64_MAX);
    run_unlock(ls);
    wait_for(ls, &ls->decisions_acked, qt_pl_posted_seq(ls->pl), &ls->decision_waits,
             &ls->decisions_waited);
}

void qt_pl_lockstep_after_order(void *user) {
    qt_pl_lockstep *ls = (qt_pl_lockstep *)user;
    if (!ls->orders || qt_load_acquire(&ls->closed)) return;
    wait_for(ls, &ls->orders_acked, qt_ring_pushed(ls->orders), &ls->order_waits,
             &ls->order_updates_waited);
}

void qt_pl_lockstep_ack_decisions(qt_pl_lockstep *ls, uint64_t decision_seq) {
    ack(ls, &ls->decisions_acked, decision_seq);
}

void qt_pl_lockstep_ack_orders(qt_pl_lockstep *ls, uint64_t count) { ack(ls, &ls->orders_acked, count); }

void qt_pl_lockstep_release(qt_pl_lockstep *ls) { set_released(ls, QT_PL_LS_RELEASED); }

int qt_pl_lockstep_released(const qt_pl_lockstep *ls) {
    return (int)qt_load_acquire(&((qt_pl_lockstep *)ls)->released);
}

uint64_t qt_pl_lockstep_drain(qt_pl_lockstep *ls) {
    run_lock(ls);
    uint64_t n = 0;
    if (!qt_load_acquire(&ls->closed)) {
        uint64_t ready = qt_ring_available(ls->market);
        if (ready) n = run_locked(ls, ready);
    }
    run_unlock(ls);
    return n;
}

void qt_pl_lockstep_close(qt_pl_lockstep *ls) {
    qt_pl_lockstep_release(ls);
    qt_store_release(&ls->closed, 1u);
    run_lock(ls); /* an inline run in progress finishes first */
    run_unlock(ls);
}

void qt_pl_lockstep_get_counters(const qt_pl_lockstep *ls, qt_pl_lockstep_counters *out) {
    qt_pl_lockstep *p = (qt_pl_lockstep *)ls; /* atomics are read through non-const pointers */
    memset(out, 0, sizeof(*out));
    out->inline_runs = qt_load_relaxed(&p->inline_runs);
    out->records = qt_load_relaxed(&p->records);
    out->stopped_runs = qt_load_relaxed(&p->stopped_runs);
    out->decision_waits = qt_load_relaxed(&p->decision_waits);
    out->decisions_waited = qt_load_relaxed(&p->decisions_waited);
    out->order_waits = qt_load_relaxed(&p->order_waits);
    out->order_updates_waited = qt_load_relaxed(&p->order_updates_waited);
    out->wait_ns = qt_load_relaxed(&p->wait_ns);
    out->max_wait_ns = qt_load_relaxed(&p->max_wait_ns);
    out->timeouts = qt_load_relaxed(&p->timeouts);
    out->decisions_acked = qt_load_acquire(&p->decisions_acked);
    out->orders_acked = qt_load_acquire(&p->orders_acked);
    out->decisions_posted = qt_pl_posted_seq(p->pl);
    out->orders_pushed = p->orders ? qt_ring_pushed(p->orders) : 0;
    out->released = (int32_t)qt_load_acquire(&p->released);
    out->closed = (int32_t)qt_load_acquire(&p->closed);
}
