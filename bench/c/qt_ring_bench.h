#ifndef QT_RING_BENCH_H
#define QT_RING_BENCH_H
#include "market/qt_ring.h"

typedef struct qt_ring_bench_result {
    double seconds;
    uint64_t sent, received, dropped, checksum;
} qt_ring_bench_result;

/* Push n events from a new thread, consume on this one.  0 on success. */
int qt_ring_bench(uint64_t n, uint64_t capacity, uint32_t batch, qt_ring_bench_result *out);
/* The same over ring_head_reference.h (qt_ring before per-slot publication:
 * a shared head index): the baseline measured in the same run. */
int qt_ring_bench_reference(uint64_t n, uint64_t capacity, uint32_t batch, qt_ring_bench_result *out);
#endif
