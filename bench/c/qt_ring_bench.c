/* Ring throughput measured in C: one producer thread pushing 64-byte event
 * records, the calling thread consuming them in batches, as the drain loop
 * does.  Benchmark-only: built into bench/c's extension, not the core. */
#include "qt_ring_bench.h"

#include <string.h>

#include "market/qt_events.h"
#include "ring_head_reference.h"

typedef struct {
    qt_ring *r;
    uint64_t n;
    uint32_t batch;
} producer_args;

static void produce(void *p) {
    producer_args *a = (producer_args *)p;
    qt_event ev[64];
    memset(ev, 0, sizeof(ev));
    uint32_t batch = a->batch > 64 ? 64 : a->batch;
    for (uint64_t i = 0; i < a->n; i += batch) {
        for (uint32_t j = 0; j < batch; j++) ev[j].seq = i + j;
        /* wait for room: the figure is lossless throughput */
        while (!qt_ring_has_room(a->r, batch)) qt_cpu_relax();
        qt_ring_push_n(a->r, ev, batch);
    }
    qt_ring_close(a->r);
}

int qt_ring_bench(uint64_t n, uint64_t capacity, uint32_t batch, qt_ring_bench_result *out) {
    memset(out, 0, sizeof(*out));
    if (batch == 0) batch = 1;
    qt_ring *r = qt_ring_create(capacity, sizeof(qt_event), QT_RING_DROP);
    if (!r) return -1;
    producer_args args = {r, n - n % batch, batch};
    qt_thread th;
    int64_t t0 = qt_monotonic_ns();
    if (qt_thread_start(&th, produce, &args) != 0) {
        qt_ring_destroy(r);
        return -1;
    }
    uint64_t received = 0, checksum = 0;
    for (;;) {
        uint64_t ready = qt_ring_wait(r, 100000000LL, 1000);
        if (ready == 0 && qt_ring_closed(r) && qt_ring_available(r) == 0) break;
        uint64_t k = 4096;
        const qt_event *ev = (const qt_event *)qt_ring_peek(r, &k);
        for (uint64_t i = 0; i < k; i++) checksum += ev[i].seq;
        qt_ring_release(r, k);
        received += k;
    }
    int64_t t1 = qt_monotonic_ns();
    qt_thread_join(&th);
    out->seconds = (double)(t1 - t0) * 1e-9;
    out->received = received;
    out->dropped = qt_ring_dropped(r);
    out->sent = args.n;
    out->checksum = checksum;
    qt_ring_destroy(r);
    return 0;
}

/* The same measurement over ring_head_reference.h, the baseline: the same
 * loop with the reference's functions. */
typedef struct {
    head_ring *r;
    uint64_t n;
    uint32_t batch;
} reference_args;

static void produce_reference(void *p) {
    reference_args *a = (reference_args *)p;
    qt_event ev[64];
    memset(ev, 0, sizeof(ev));
    uint32_t batch = a->batch > 64 ? 64 : a->batch;
    for (uint64_t i = 0; i < a->n; i += batch) {
        for (uint32_t j = 0; j < batch; j++) ev[j].seq = i + j;
        while (!head_ring_has_room(a->r, batch)) qt_cpu_relax();
        head_ring_push_n(a->r, ev, batch);
    }
    head_ring_close(a->r);
}

int qt_ring_bench_reference(uint64_t n, uint64_t capacity, uint32_t batch, qt_ring_bench_result *out) {
    memset(out, 0, sizeof(*out));
    if (batch == 0) batch = 1;
    head_ring *r = head_ring_create(capacity, sizeof(qt_event), HEAD_RING_DROP);
    if (!r) return -1;
    reference_args args = {r, n - n % batch, batch};
    qt_thread th;
    int64_t t0 = qt_monotonic_ns();
    if (qt_thread_start(&th, produce_reference, &args) != 0) {
        head_ring_destroy(r);
        return -1;
    }
    uint64_t received = 0, checksum = 0;
    for (;;) {
        uint64_t ready = head_ring_wait(r, 100000000LL, 1000);
        if (ready == 0 && head_ring_closed(r) && head_ring_available(r) == 0) break;
        uint64_t k = 4096;
        const qt_event *ev = (const qt_event *)head_ring_peek(r, &k);
        for (uint64_t i = 0; i < k; i++) checksum += ev[i].seq;
        head_ring_release(r, k);
        received += k;
    }
    int64_t t1 = qt_monotonic_ns();
    qt_thread_join(&th);
    out->seconds = (double)(t1 - t0) * 1e-9;
    out->received = received;
    out->dropped = head_ring_dropped(r);
    out->sent = args.n;
    out->checksum = checksum;
    head_ring_destroy(r);
    return 0;
}
