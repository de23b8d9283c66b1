/* Pipeline latency and throughput measured in C (bench/bench_pipeline.py):
 * a producer thread pushes raw market records (as the callbacks leave them:
 * RAW_DATE parents with their EXT, several instruments interleaved) into a
 * new ring, as fast as it takes them; the calling thread runs qt_pl_run
 * with a decide hook that records, per decision point, the ns from the
 * loop taking the trade record to the hook being called with its vector.
 * The hook posts nothing (the decision ring is not part of the figure).
 * Benchmark-only: built into bench/c's extension, not the core. */
#ifndef QT_PL_BENCH_H
#define QT_PL_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/qt_pipeline.h"

typedef struct qt_pl_bench_result {
    double seconds;   /* from the first push to the ring closed and drained */
    uint64_t records; /* records taken (EXT included) */
    uint64_t rows;    /* feature rows, all instruments */
    uint64_t lat_n;   /* latencies written */
} qt_pl_bench_result;

/* ev[0..n) through a ring of `capacity` slots into `pl` (its hooks are
 * replaced by the timing hook).  0 on success, -1 if the ring or the
 * thread cannot be made. */
int qt_pl_bench_ring(qt_pl *pl, const qt_event *ev, size_t n, uint64_t capacity,
                     uint32_t spin_iters, int64_t *lat_ns, size_t lat_cap, qt_pl_bench_result *out);

#endif
