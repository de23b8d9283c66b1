/* Producer/consumer threads over the SPSC ring, under load.
 *  1. lossless run: the consumer keeps up (capacity large enough relative to
 *     its pace, it waits with the futex path), N events, every sequence
 *     number arrives once, in order;
 *  2. drop run: the consumer is deliberately slow, the producer never
 *     blocks; received + dropped == N exactly, and the missing sequence
 *     numbers are exactly `dropped` many;
 *  3. lossless policy: overflow sets the sticky flag;
 *  4. close wakes a sleeping consumer.
 * Runs under ThreadSanitizer in CI. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qt_events.h"
#include "qt_ring.h"

#include "qt_check.h"

typedef struct {
    qt_ring *r;
    uint64_t n;
    uint32_t batch;
    int slow;
    uint64_t received;
    uint64_t missing;
    uint64_t out_of_order;
} run_ctx;

static void *producer(void *arg) {
    run_ctx *c = (run_ctx *)arg;
    qt_event ev[16];
    memset(ev, 0, sizeof(ev));
    for (uint64_t i = 0; i < c->n;) {
        uint32_t k = c->batch;
        if (c->n - i < k) k = (uint32_t)(c->n - i);
        for (uint32_t j = 0; j < k; j++) {
            ev[j].type = QT_EV_TRADE;
            ev[j].seq = i + j;
            ev[j].price = (int64_t)(i + j) * 3;
        }
        qt_ring_push_n(c->r, ev, k); /* never blocks: drops when full */
        i += k;
    }
    qt_ring_close(c->r);
    return NULL;
}

static void *consumer(void *arg) {
    run_ctx *c = (run_ctx *)arg;
    qt_event buf[256];
    uint64_t expect = 0;
    for (;;) {
        uint64_t ready = qt_ring_wait(c->r, 1000000000LL, 200);
        if (ready == 0 && qt_ring_closed(c->r) && qt_ring_available(c->r) == 0) break;
        uint64_t got = qt_ring_pop(c->r, buf, c->slow ? 1 : 256);
        for (uint64_t i = 0; i < got; i++) {
            if (buf[i].seq < expect || buf[i].price != (int64_t)buf[i].seq * 3) c->out_of_order++;
            c->missing += buf[i].seq - expect;
            expect = buf[i].seq + 1;
        }
        c->received += got;
        if (c->slow) {
            volatile uint64_t spin = 0;
            for (int k = 0; k < 2000; k++) spin += (uint64_t)k;
        }
    }
    c->missing += c->n - expect;
    return NULL;
}

static void run(uint64_t n, uint64_t cap, uint32_t batch, int slow, run_ctx *out) {
    run_ctx c = {0};
    c.r = qt_ring_create(cap, sizeof(qt_event), QT_RING_DROP);
    CHECK(c.r != NULL);
    c.n = n;
    c.batch = batch;
    c.slow = slow;
    pthread_t tp, tc;
    pthread_create(&tc, NULL, consumer, &c);
    pthread_create(&tp, NULL, producer, &c);
    pthread_join(tp, NULL);
    pthread_join(tc, NULL);
    *out = c;
}

int main(int argc, char **argv) {
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    run_ctx c;

    /* 1: consumer keeps up (producer batches of 1: the DLL callback case) */
    run(n, 1u << 22, 1, 0, &c);
    CHECK(c.out_of_order == 0);
    printf("keep-up: n=%llu received=%llu dropped=%llu\n", (unsigned long long)n,
           (unsigned long long)c.received, (unsigned long long)qt_ring_dropped(c.r));
    CHECK(qt_ring_dropped(c.r) == 0);
    CHECK(c.received == n);
    CHECK(c.missing == 0);
    qt_ring_destroy(c.r);

    /* 2: slow consumer, small ring: drops are counted exactly */
    uint64_t n2 = n / 4;
    run(n2, 1024, 1, 1, &c);
    uint64_t dropped = qt_ring_dropped(c.r);
    printf("slow: n=%llu received=%llu dropped=%llu missing=%llu\n", (unsigned long long)n2,
           (unsigned long long)c.received, (unsigned long long)dropped, (unsigned long long)c.missing);
    CHECK(c.out_of_order == 0);
    CHECK(dropped > 0);
    CHECK(c.received + dropped == n2);
    CHECK(c.missing == dropped);
    CHECK(qt_ring_pushed(c.r) == c.received);
    CHECK(!qt_ring_overflowed(c.r));
    qt_ring_destroy(c.r);

    /* 3: lossless policy marks overflow */
    qt_ring *r = qt_ring_create(4, QT_ORDER_UPDATE_SIZE, QT_RING_LOSSLESS);
    CHECK(r != NULL);
    qt_order_update ou;
    memset(&ou, 0, sizeof(ou));
    for (int i = 0; i < 4; i++) CHECK(qt_ring_push(r, &ou) == 1);
    CHECK(!qt_ring_overflowed(r));
    CHECK(qt_ring_push(r, &ou) == 0);
    CHECK(qt_ring_overflowed(r));
    qt_ring_destroy(r);

    /* 4: bad arguments */
    CHECK(qt_ring_create(0, 64, QT_RING_DROP) == NULL);
    CHECK(qt_ring_create(16, 12, QT_RING_DROP) == NULL);
    r = qt_ring_create(5, 64, QT_RING_DROP);
    CHECK(qt_ring_capacity(r) == 8);
    qt_ring_destroy(r);

    printf("test_ring: ok\n");
    return 0;
}
