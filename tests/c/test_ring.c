/* Producer/consumer threads over the SPSC ring, under load, with both
 * sleep handshakes (asymmetric fence, and a seq_cst fence on each side).
 *  1. lossless run: the consumer keeps up (capacity large enough relative to
 *     its pace, it waits with the futex path), N events, every sequence
 *     number arrives once, in order; again in batches of 16 through a small
 *     ring (many wrap-arounds), where the consumer never sees part of a
 *     batch;
 *  2. drop run: the consumer is deliberately slow, the producer never
 *     blocks; received + dropped == N exactly, and the missing sequence
 *     numbers are exactly `dropped` many;
 *  3. ping-pong: one record at a time, the consumer sleeping before each
 *     with no timeout, so a lost wake-up hangs the test;
 *  4. close wakes a sleeping consumer;
 *  5. the per-slot stamp: bytes 4..7 are the ring's (pop gives 0, peek the
 *     stamp), an unpublished slot is never ready, and the 32-bit lap
 *     counter wraps without a stale slot looking published;
 *  6. lossless policy: overflow sets the sticky flag; bad arguments.
 * Runs under ThreadSanitizer in CI, and as a Windows executable under wine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/qt_events.h"
#include "market/qt_ring.h"

#include "qt_check.h"

typedef struct {
    qt_ring *r;
    uint64_t n;
    uint32_t batch;
    int slow;
    int symmetric; /* force the seq_cst-fence handshake */
    uint64_t received;
    uint64_t torn_batches; /* pops that ended inside a producer batch */
    uint64_t missing;
    uint64_t out_of_order;
} run_ctx;

static void producer(void *arg) {
    run_ctx *c = (run_ctx *)arg;
    qt_event ev[16];
    memset(ev, 0, sizeof(ev));
    if (c->batch > 16) c->batch = 16;
    for (uint64_t i = 0; i < c->n;) {
        uint32_t k = c->batch;
        if (c->n - i < k) k = (uint32_t)(c->n - i);
        for (uint32_t j = 0; j < k; j++) {
            ev[j].type = QT_EV_TRADE;
            ev[j].seq = i + j;
            ev[j].price = (int64_t)(i + j) * 3;
            ev[j].crc = 0xdeadbeefu; /* the ring's bytes: never stored */
        }
        qt_ring_push_n(c->r, ev, k); /* never blocks: drops when full */
        i += k;
    }
    qt_ring_close(c->r);
}

static void consumer(void *arg) {
    run_ctx *c = (run_ctx *)arg;
    qt_event buf[256];
    uint64_t expect = 0;
    for (;;) {
        uint64_t ready = qt_ring_wait(c->r, 1000000000LL, 200);
        if (ready == 0 && qt_ring_closed(c->r) && qt_ring_available(c->r) == 0) break;
        uint64_t got = qt_ring_pop(c->r, buf, c->slow ? 1 : 256);
        if (!c->slow && got % c->batch != 0) c->torn_batches++;
        for (uint64_t i = 0; i < got; i++) {
            if (buf[i].seq < expect || buf[i].price != (int64_t)buf[i].seq * 3 || buf[i].crc != 0)
                c->out_of_order++;
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
}

static void run(uint64_t n, uint64_t cap, uint32_t batch, int slow, int symmetric, run_ctx *out) {
    run_ctx c = {0};
    c.r = qt_ring_create(cap, sizeof(qt_event), QT_RING_DROP);
    CHECK(c.r != NULL);
    if (symmetric) c.r->asymmetric = 0;
    c.n = n;
    c.batch = batch;
    c.slow = slow;
    c.symmetric = symmetric;
    qt_thread tp, tc;
    CHECK(qt_thread_start(&tc, consumer, &c) == 0);
    CHECK(qt_thread_start(&tp, producer, &c) == 0);
    qt_thread_join(&tp);
    qt_thread_join(&tc);
    *out = c;
}

/* 3: ping-pong, the consumer asleep before every record */
typedef struct {
    qt_ring *r;
    uint32_t n;
    uint32_t got;
    uint32_t bad;
} pingpong_ctx;

static void pingpong_consumer(void *arg) {
    pingpong_ctx *c = (pingpong_ctx *)arg;
    qt_event ev;
    for (;;) {
        uint64_t ready = qt_ring_wait(c->r, -1, 0); /* no timeout: a lost wake-up hangs here */
        if (ready == 0) {
            if (qt_ring_closed(c->r) && qt_ring_available(c->r) == 0) break;
            continue;
        }
        if (ready != 1 || qt_ring_pop(c->r, &ev, 1) != 1 || ev.seq != c->got) c->bad++;
        c->got++;
    }
}

static void pingpong(uint32_t n, int symmetric) {
    pingpong_ctx c = {0};
    c.r = qt_ring_create(8, sizeof(qt_event), QT_RING_DROP);
    CHECK(c.r != NULL);
    if (symmetric) c.r->asymmetric = 0;
    c.n = n;
    qt_thread tc;
    CHECK(qt_thread_start(&tc, pingpong_consumer, &c) == 0);
    qt_event ev;
    memset(&ev, 0, sizeof ev);
    for (uint32_t i = 0; i < n; i++) {
        /* wait until the consumer took the last one, so it goes back to sleep */
        while (qt_ring_popped(c.r) != i) qt_cpu_relax();
        ev.seq = i;
        CHECK(qt_ring_push(c.r, &ev) == 1);
    }
    while (qt_ring_popped(c.r) != n) qt_cpu_relax();
    qt_ring_close(c.r);
    qt_thread_join(&tc);
    printf("ping-pong (%s): %u records, consumer slept %llu times\n", c.r->asymmetric ? "asymmetric" : "seq_cst",
           n, (unsigned long long)qt_load_relaxed(&c.r->sleeps));
    CHECK(c.bad == 0);
    CHECK(c.got == n);
    qt_ring_destroy(c.r);
}

/* 4: close wakes a consumer sleeping with no timeout */
typedef struct {
    qt_ring *r;
    int woken_by_close;
} close_ctx;

static void close_waiter(void *arg) {
    close_ctx *c = (close_ctx *)arg;
    c->woken_by_close = qt_ring_wait(c->r, -1, 0) == 0 && qt_ring_closed(c->r);
}

static void close_wakes(void) {
    qt_ring *r = qt_ring_create(8, sizeof(qt_event), QT_RING_DROP);
    CHECK(r != NULL);
    close_ctx c = {r, 0};
    qt_thread t;
    CHECK(qt_thread_start(&t, close_waiter, &c) == 0);
    while (qt_load_relaxed(&r->sleeps) == 0) qt_sleep_ns(1000000);
    qt_ring_close(r);
    qt_thread_join(&t);
    CHECK(c.woken_by_close);
    qt_ring_destroy(r);
}

/* 5: the stamp in bytes 4..7 */
static void stamps(void) {
    qt_ring *r = qt_ring_create(4, sizeof(qt_event), QT_RING_DROP);
    CHECK(r != NULL);
    qt_event ev, out;
    memset(&ev, 0, sizeof ev);
    ev.type = QT_EV_TRADE;
    ev.crc = 0xffffffffu;
    CHECK(qt_ring_available(r) == 0);
    CHECK(qt_ring_push(r, &ev) == 1);
    uint64_t k = 8;
    const qt_event *p = (const qt_event *)qt_ring_peek(r, &k);
    CHECK(k == 1 && p->type == QT_EV_TRADE && p->crc == 1); /* lap 0, stamped 1 */
    CHECK(qt_ring_pop(r, &out, 4) == 1 && out.crc == 0 && out.type == QT_EV_TRADE);
    qt_ring_destroy(r);

    /* Lap counter wrap: start four laps before 2^32 with every slot
     * holding the previous lap's stamp, as a long-running ring would. */
    r = qt_ring_create(4, sizeof(qt_event), QT_RING_DROP);
    CHECK(r != NULL && r->lap_shift == 2);
    uint64_t start = ((1ull << 32) - 4) << 2;
    atomic_store(&r->head, start);
    atomic_store(&r->tail, start);
    r->tail_cache = r->ready_end = start;
    for (uint64_t pos = start - 4; pos < start; pos++) atomic_store(qt_ring_stamp_(r, pos), qt_ring_lap_(r, pos));
    for (uint64_t i = 0; i < 64; i++) {
        CHECK(qt_ring_available(r) == 0); /* a stale stamp never looks published */
        ev.seq = i;
        ev.price = (int64_t)i * 7;
        CHECK(qt_ring_push(r, &ev) == 1);
        CHECK(qt_ring_available(r) == 1);
        CHECK(qt_ring_pop(r, &out, 1) == 1 && out.seq == i && out.price == (int64_t)i * 7 && out.crc == 0);
    }
    CHECK(qt_ring_lap_(r, qt_ring_pushed(r)) == 13); /* the counter went through 0 */
    qt_ring_destroy(r);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0); /* a hang (lost wake-up) shows where */
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    run_ctx c;

    /* the platform's choice first (asymmetric where the heavy fence works),
     * then seq_cst forced */
    printf("heavy fence %s\n", qt_heavy_fence_init() ? "available" : "unavailable: seq_cst handshake");
    for (int symmetric = 0; symmetric <= 1; symmetric++) {
        const char *mode = symmetric || !qt_heavy_fence_init() ? "seq_cst" : "asymmetric";
        /* 1: consumer keeps up (producer batches of 1: the DLL callback case) */
        run(n, 1u << 22, 1, 0, symmetric, &c);
        printf("keep-up (%s): n=%llu received=%llu dropped=%llu\n", mode, (unsigned long long)n,
               (unsigned long long)c.received, (unsigned long long)qt_ring_dropped(c.r));
        CHECK(c.out_of_order == 0);
        CHECK(qt_ring_dropped(c.r) == 0);
        CHECK(c.received == n);
        CHECK(c.missing == 0);
        qt_ring_destroy(c.r);

        /* 1b: batches of 16 through a small ring: wrap-arounds, whole batches */
        run(n - n % 16, 1u << 16, 16, 0, symmetric, &c);
        printf("keep-up batch 16 (%s): received=%llu dropped=%llu torn=%llu\n", mode,
               (unsigned long long)c.received, (unsigned long long)qt_ring_dropped(c.r),
               (unsigned long long)c.torn_batches);
        CHECK(c.out_of_order == 0);
        CHECK(c.torn_batches == 0);
        CHECK(c.received + qt_ring_dropped(c.r) == n - n % 16);
        CHECK(c.missing == qt_ring_dropped(c.r));
        qt_ring_destroy(c.r);

        /* 2: slow consumer, small ring: drops are counted exactly */
        uint64_t n2 = n / 4;
        run(n2, 1024, 1, 1, symmetric, &c);
        uint64_t dropped = qt_ring_dropped(c.r);
        printf("slow (%s): n=%llu received=%llu dropped=%llu missing=%llu\n", mode, (unsigned long long)n2,
               (unsigned long long)c.received, (unsigned long long)dropped, (unsigned long long)c.missing);
        CHECK(c.out_of_order == 0);
        CHECK(dropped > 0);
        CHECK(c.received + dropped == n2);
        CHECK(c.missing == dropped);
        CHECK(qt_ring_pushed(c.r) == c.received);
        CHECK(!qt_ring_overflowed(c.r));
        qt_ring_destroy(c.r);

        pingpong(n / 100 < 20000 ? (uint32_t)(n / 100) : 20000, symmetric);
    }
    close_wakes();
    stamps();

    /* 6: lossless policy marks overflow */
    qt_ring *r = qt_ring_create(4, QT_ORDER_UPDATE_SIZE, QT_RING_LOSSLESS);
    CHECK(r != NULL);
    qt_order_update ou;
    memset(&ou, 0, sizeof(ou));
    for (int i = 0; i < 4; i++) CHECK(qt_ring_push(r, &ou) == 1);
    CHECK(!qt_ring_overflowed(r));
    CHECK(qt_ring_push(r, &ou) == 0);
    CHECK(qt_ring_overflowed(r));
    qt_ring_destroy(r);

    /* 6b: bad arguments */
    CHECK(qt_ring_create(0, 64, QT_RING_DROP) == NULL);
    CHECK(qt_ring_create(16, 12, QT_RING_DROP) == NULL);
    r = qt_ring_create(5, 64, QT_RING_DROP);
    CHECK(qt_ring_capacity(r) == 8);
    qt_ring_destroy(r);

    printf("test_ring: ok\n");
    return 0;
}
