/* Feature-engine latency measured in C: a producer thread pushes event
 * records into a market ring (as fast as it takes them, or paced at a given
 * rate), the calling thread drains it through the feature engine with a
 * timer per decision point (ring pop to complete feature vector).
 * Benchmark-only: built into bench/c's extension, not the core. */
#ifndef QT_FE_BENCH_H
#define QT_FE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "features/qt_features.h"

typedef struct qt_fe_bench_result {
    double seconds;     /* from the first push to the ring closed and drained */
    uint64_t records;   /* records drained */
    uint64_t rows;      /* feature vectors computed */
    uint64_t lat_n;     /* latencies written to lat_ns */
    uint64_t late;      /* paced: pushes that started more than one period late */
} qt_fe_bench_result;

/* ev[0..n) through a ring of `capacity` slots at `rate` records per second
 * (0: unpaced, the tight loop).  lat_ns[0..lat_cap) gets the per-vector
 * latencies.  0 on success, -1 if the ring or thread cannot be made. */
int qt_fe_bench_ring(qt_fe *fe, const qt_event *ev, size_t n, double rate, uint64_t capacity,
                     uint32_t spin_iters, int64_t *lat_ns, size_t lat_cap, qt_fe_bench_result *out);

#endif
