/* See qt_pl_bench.h. */
#include "qt_pl_bench.h"

#include <string.h>

#include "platform/qt_atomic.h"
#include "market/qt_ring.h"

typedef struct producer_args {
    qt_ring *ring;
    const qt_event *ev;
    size_t n;
} producer_args;

static void produce(void *p) {
    producer_args *a = (producer_args *)p;
    for (size_t i = 0; i < a->n;) {
        uint32_t k = a->n - i < 64 ? (uint32_t)(a->n - i) : 64;
        while (!qt_ring_has_room(a->ring, k)) qt_cpu_relax();
        qt_ring_push_n(a->ring, &a->ev[i], k);
        i += k;
    }
    qt_ring_close(a->ring);
}

typedef struct timing {
    int64_t *lat;
    size_t cap, n;
} timing;

static int time_decision(void *user, qt_pl_decision *d, const double *features,
                         const qt_event *trade) {
    (void)features, (void)trade;
    timing *t = (timing *)user;
    if (t->n < t->cap) t->lat[t->n++] = qt_monotonic_ns() - d->taken_ns;
    return QT_PL_SKIP;
}

int qt_pl_bench_ring(qt_pl *pl, const qt_event *ev, size_t n, uint64_t capacity,
                     uint32_t spin_iters, int64_t *lat_ns, size_t lat_cap, qt_pl_bench_result *out) {
    memset(out, 0, sizeof *out);
    qt_ring *ring = qt_ring_create(capacity, sizeof(qt_event), QT_RING_DROP);
    if (!ring) return -1;
    timing t = {lat_ns, lat_cap, 0};
    qt_pl_hook hook = {NULL, NULL, time_decision, &t};
    qt_pl_set_hook(pl, QT_PROFITDLL_ALL_INSTRUMENTS, &hook);
    producer_args args = {ring, ev, n};
    qt_pl_counters before, after;
    qt_pl_get_counters(pl, &before);
    qt_thread th;
    int64_t t0 = qt_monotonic_ns();
    if (qt_thread_start(&th, produce, &args) != 0) {
        qt_ring_destroy(ring);
        return -1;
    }
    int status = QT_PL_DONE;
    while (status != QT_PL_CLOSED) out->records += qt_pl_run(pl, ring, UINT64_MAX, -1, spin_iters, &status);
    qt_pl_flush(pl);
    out->seconds = (double)(qt_monotonic_ns() - t0) * 1e-9;
    qt_thread_join(&th);
    qt_pl_get_counters(pl, &after);
    out->rows = after.rows - before.rows;
    out->lat_n = t.n;
    qt_pl_set_hook(pl, QT_PROFITDLL_ALL_INSTRUMENTS, NULL);
    qt_ring_destroy(ring);
    return 0;
}
