/* Latency model of the matching engine: see sim_latency.h for the contract. */
#include "matching/sim_latency.h"

#include <stdlib.h>

int sim_latency_init(sim_latency *q, int64_t latency_ns, uint32_t capacity) {
    q->latency = latency_ns;
    q->n = 0;
    q->capacity = capacity;
    q->seq = 0;
    q->heap = calloc(capacity, sizeof *q->heap);
    return q->heap ? 0 : -1;
}

void sim_latency_free(sim_latency *q) {
    free(q->heap);
    q->heap = NULL;
}

static void heap_swap(sim_command *h, uint32_t a, uint32_t b) {
    sim_command t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static int cmd_before(const sim_command *a, const sim_command *b) {
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

void sim_latency_send(sim_latency *q, int64_t now, sim_command c) {
    c.due = now > INT64_MAX - q->latency ? INT64_MAX : now + q->latency;
    c.seq = ++q->seq;
    uint32_t i = q->n++;
    q->heap[i] = c;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!cmd_before(&q->heap[i], &q->heap[p])) break;
        heap_swap(q->heap, i, p);
        i = p;
    }
}

int sim_latency_pop_due(sim_latency *q, int64_t t, sim_command *out) {
    if (q->n == 0 || q->heap[0].due > t) return 0;
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->n];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && cmd_before(&q->heap[l], &q->heap[m])) m = l;
        if (r < q->n && cmd_before(&q->heap[r], &q->heap[m])) m = r;
        if (m == i) break;
        heap_swap(q->heap, i, m);
        i = m;
    }
    return 1;
}
