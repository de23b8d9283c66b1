/* See qt_fe_bench.h. */
#include "qt_fe_bench.h"

#include <string.h>

#include "platform/qt_atomic.h"
#include "market/qt_ring.h"

typedef struct {
    qt_ring *ring;
    const qt_event *ev;
    size_t n;
    double rate;
    uint64_t late;
} producer_args;

/* Sleeping is coarse (tens of microseconds): sleep while the next push is
 * far, spin the last stretch, so the pace holds at 10,000 records/s. */
#define SPIN_BEFORE_NS 80000

static void produce(void *p) {
    producer_args *a = (producer_args *)p;
    if (a->rate <= 0) {
        for (size_t i = 0; i < a->n;) {
            uint32_t k = a->n - i < 64 ? (uint32_t)(a->n - i) : 64;
            while (!qt_ring_has_room(a->ring, k)) qt_cpu_relax();
            qt_ring_push_n(a->ring, &a->ev[i], k);
            i += k;
        }
    } else {
        double period = 1e9 / a->rate;
        int64_t t0 = qt_monotonic_ns();
        for (size_t i = 0; i < a->n; i++) {
            int64_t due = t0 + (int64_t)(period * (double)i);
            int64_t now = qt_monotonic_ns();
            if (due - now > SPIN_BEFORE_NS) qt_sleep_ns(due - now - SPIN_BEFORE_NS);
            while ((now = qt_monotonic_ns()) < due) qt_cpu_relax();
            if (now - due > (int64_t)period) a->late++;
            while (!qt_ring_has_room(a->ring, 1)) qt_cpu_relax();
            qt_ring_push(a->ring, &a->ev[i]);
        }
    }
    qt_ring_close(a->ring);
}

int qt_fe_bench_ring(qt_fe *fe, const qt_event *ev, size_t n, double rate, uint64_t capacity,
                     uint32_t spin_iters, int64_t *lat_ns, size_t lat_cap, qt_fe_bench_result *out) {
    memset(out, 0, sizeof *out);
    qt_ring *ring = qt_ring_create(capacity, sizeof(qt_event), QT_RING_DROP);
    if (!ring) return -1;
    producer_args args = {ring, ev, n, rate, 0};
    qt_fe_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.lat_ns = lat_ns;
    sink.lat_cap = lat_cap;
    qt_fe_counters before, after;
    qt_fe_get_counters(fe, &before);
    qt_thread th;
    int64_t t0 = qt_monotonic_ns();
    if (qt_thread_start(&th, produce, &args) != 0) {
        qt_ring_destroy(ring);
        return -1;
    }
    int status = QT_FE_DRAIN_DONE;
    while (status != QT_FE_DRAIN_CLOSED)
        out->records += qt_fe_drain_ring(fe, ring, &sink, UINT64_MAX, -1, spin_iters, &status);
    out->seconds = (double)(qt_monotonic_ns() - t0) * 1e-9;
    qt_thread_join(&th);
    qt_fe_get_counters(fe, &after);
    out->rows = after.rows - before.rows;
    out->lat_n = sink.lat_n;
    out->late = args.late;
    qt_ring_destroy(ring);
    return 0;
}
