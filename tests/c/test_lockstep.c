/* The lockstep gate (qt_pl_lockstep.h) behind the real ProfitDLL callback
 * entry points, installed as the feed's consumer:
 *  1. lockstep: a "DLL thread" calls the entry points (book edits, trades,
 *     order callbacks); each callback runs the pipeline inline and waits for
 *     the decision thread / order thread to acknowledge.  Both consumers
 *     sleep at chosen records and check that the market did not move
 *     meanwhile (the feed's callback counters stand still and name exactly
 *     the record being handled); a decision ring of 4 slots never drops;
 *     every record is taken inline; the counters add up;
 *  2. release() during a wait ends it at once and for good;
 *  3. a wait longer than the timeout releases the gate and is counted;
 *  4. the feed's consumer slot: removal waits for a callback still inside
 *     the consumer; a consumer without functions is refused; drain takes
 *     what was pushed before installing; close stops the inline runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_atomic.h"
#include "market/qt_events.h"
#include "features/qt_features.h"
#include "profitdll/qt_profitdll_feed.h"
#include "pipeline/qt_pipeline.h"
#include "pipeline/qt_pl_lockstep.h"
#include "market/qt_ring.h"

#include "qt_check.h"

#define ID_WDO 1
#define TRADES 600
#define ORDER_EVERY 7
#define MS 1000000LL

static uint16_t W_WDO[16], W_F[4];

static uint16_t *u16(const char *s, uint16_t *buf) {
    size_t i = 0;
    for (; s[i]; i++) buf[i] = (uint16_t)(unsigned char)s[i];
    buf[i] = 0;
    return buf;
}

static TAssetID asset(void) {
    TAssetID a;
    a.ticker = W_WDO;
    a.exchange = W_F;
    a.feed = 0;
    return a;
}

static int32_t QT_PROFITDLL_CALL fake_free(void *p, int32_t size) {
    (void)size;
    free(p);
    return NL_OK;
}

static void *price_array(int n, double worst, double step) {
    int32_t size = 8 + n * 16 + 4;
    uint8_t *p = malloc((size_t)size);
    memcpy(p, &n, 4);
    memcpy(p + 4, &size, 4);
    for (int i = 0; i < n; i++) {
        qt_profitdll_price_book_entry e = {worst + step * i, 10 + i, 1 + i};
        memcpy(p + 8 + i * 16, &e, 16);
    }
    uint32_t fl = OB_LAST_PACKET;
    memcpy(p + 8 + n * 16, &fl, 4);
    return p;
}

static uint64_t rng_state;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/* The session as the DLL would call back: trades numbered 1000 + t, an
 * order callback after every ORDER_EVERY-th trade. */
static void session(int trades) {
    rng_state = 7;
    uint16_t date[32];
    qt_profitdll_on_state(QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTED);
    qt_profitdll_on_price_book(asset(), QT_PROFITDLL_BA_FULL_BOOK, 0, 0, 0, 0, 0.0,
                               price_array(5, 5002.5, -0.5), price_array(5, 4998.0, 0.5));
    for (int t = 0; t < trades; t++) {
        int books = 1 + (int)(rnd() % 4);
        for (int b = 0; b < books; b++)
            qt_profitdll_on_price_book(asset(), QT_PROFITDLL_BA_EDIT, (int)(rnd() % 5), (int)(rnd() % 2),
                                       1 + (int32_t)(rnd() % 60), 1, 0.0, NULL, NULL);
        int buy = (int)(rnd() % 2);
        int ms = t * 211;
        char text[32];
        snprintf(text, sizeof text, "03/11/2026 10:%02d:%02d.%03d", ms / 60000 % 60, ms / 1000 % 60,
                 ms % 1000);
        qt_profitdll_on_trade(asset(), u16(text, date), (uint32_t)(1000 + t), buy ? 5000.5 : 5000.0, 0.0,
                              1 + (int32_t)(rnd() % 20), 1, 2, buy ? 2 : 3, 0);
        if (t % ORDER_EVERY == 0) {
            TConnectorOrderIdentifier o;
            memset(&o, 0, sizeof o);
            o.LocalOrderID = 1 + t / ORDER_EVERY;
            qt_profitdll_on_order(o);
        }
    }
}

static qt_fe_config fe_config(void) {
    static const qt_fe_tz_transition tz = {0, -3 * 3600, 0};
    qt_fe_config c;
    memset(&c, 0, sizeof c);
    c.tick_size = 0.5;
    c.price_unit = 0.5;
    c.tz = &tz;
    c.n_tz = 1;
    c.default_open_s = 9 * 3600;
    c.default_close_s = 18 * 3600;
    return c;
}

static uint64_t calls(int cb) {
    qt_profitdll_feed_counters c;
    qt_profitdll_feed_get_counters(&c);
    return c.calls[cb];
}

typedef struct world {
    qt_ring *market, *orders;
    qt_pl *pl;
    qt_pl_lockstep *ls;
} world;

static world make_world(uint64_t decision_capacity, int64_t timeout_ns) {
    world w;
    w.market = qt_ring_create(1 << 16, QT_EVENT_SIZE, QT_RING_DROP);
    w.orders = qt_ring_create(1 << 10, QT_ORDER_UPDATE_SIZE, QT_RING_LOSSLESS);
    CHECK(w.market && w.orders);
    qt_profitdll_feed_detach();
    CHECK(qt_profitdll_feed_reset() == 0);
    qt_profitdll_feed_set_accessors(NULL, fake_free, NULL, NULL);
    qt_profitdll_feed_set_utc_offset(-180);
    CHECK(qt_profitdll_feed_add_instrument(W_WDO, ID_WDO, 0.5) == 0);
    CHECK(qt_profitdll_feed_attach(w.market, w.orders) == 0);
    qt_pl_config pc;
    memset(&pc, 0, sizeof pc);
    pc.utc_offset_min = -180;
    pc.decision_capacity = decision_capacity;
    w.pl = qt_pl_create(&pc);
    CHECK(w.pl);
    qt_fe_config fc = fe_config();
    CHECK(qt_pl_add_instrument(w.pl, ID_WDO, &fc) == 0);
    w.ls = qt_pl_lockstep_create(w.pl, w.market, w.orders, timeout_ns);
    CHECK(w.ls);
    return w;
}

static void end_world(world *w) {
    CHECK(qt_profitdll_feed_set_consumer(NULL) == 0);
    qt_pl_lockstep_close(w->ls);
    qt_profitdll_feed_detach();
    qt_pl_lockstep_destroy(w->ls);
    qt_pl_destroy(w->pl);
    qt_ring_destroy(w->market);
    qt_ring_destroy(w->orders);
}

/* ---- 1. lockstep ---- */
typedef struct side {
    world *w;
    qt_atomic_u32 done;   /* set by the main thread: end once empty */
    qt_atomic_u64 handled;
    qt_atomic_u64 moved;  /* the market moved while this side held a record */
    qt_atomic_u64 wrong;  /* the record handled is not the one the DLL is inside */
} side;

static void decision_thread(void *arg) {
    side *s = (side *)arg;
    uint8_t slot[QT_PL_DECISION_SIZE];
    for (;;) {
        uint64_t got = qt_pl_wait_decision(s->w->pl, slot, 1, 20 * MS, 0);
        if (!got) {
            if (qt_pl_decisions_closed(s->w->pl)) return;
            continue;
        }
        const qt_pl_decision *d = (const qt_pl_decision *)slot;
        uint64_t before = calls(QT_PROFITDLL_CB_TRADE) + calls(QT_PROFITDLL_CB_PRICE_BOOK);
        /* the DLL's thread is inside this very trade's callback */
        if (calls(QT_PROFITDLL_CB_TRADE) != (uint64_t)(d->trade_number - 1000 + 1))
            qt_fetch_add_relaxed(&s->wrong, 1);
        if (d->decision_seq % 16 == 0) qt_sleep_ns(2 * MS); /* a slow decision */
        if (calls(QT_PROFITDLL_CB_TRADE) + calls(QT_PROFITDLL_CB_PRICE_BOOK) != before)
            qt_fetch_add_relaxed(&s->moved, 1);
        qt_fetch_add_relaxed(&s->handled, 1);
        qt_pl_lockstep_ack_decisions(s->w->ls, d->decision_seq);
    }
}

static void order_thread(void *arg) {
    side *s = (side *)arg;
    qt_order_update u;
    for (;;) {
        if (!qt_ring_wait(s->w->orders, 20 * MS, 0)) {
            if (qt_load_acquire(&s->done) && qt_ring_available(s->w->orders) == 0) return;
            continue;
        }
        CHECK(qt_ring_pop(s->w->orders, &u, 1) == 1);
        uint64_t before = calls(QT_PROFITDLL_CB_TRADE);
        if (calls(QT_PROFITDLL_CB_ORDER) != qt_ring_popped(s->w->orders) ||
            u.local_id != (int64_t)qt_ring_popped(s->w->orders))
            qt_fetch_add_relaxed(&s->wrong, 1);
        if (u.local_id % 5 == 0) qt_sleep_ns(2 * MS);
        if (calls(QT_PROFITDLL_CB_TRADE) != before) qt_fetch_add_relaxed(&s->moved, 1);
        qt_fetch_add_relaxed(&s->handled, 1);
        qt_pl_lockstep_ack_orders(s->w->ls, qt_ring_popped(s->w->orders));
    }
}

static void session_thread(void *arg) { session(*(int *)arg); }

static void test_lockstep(void) {
    world w = make_world(4, 10000 * MS); /* 4 decision slots: the gate keeps them from filling */
    CHECK(qt_profitdll_feed_set_consumer(qt_pl_lockstep_consumer(w.ls)) == 0);
    side ds, os;
    memset(&ds, 0, sizeof ds);
    memset(&os, 0, sizeof os);
    ds.w = os.w = &w;
    qt_thread dt, ot, dll;
    CHECK(qt_thread_start(&dt, decision_thread, &ds) == 0);
    CHECK(qt_thread_start(&ot, order_thread, &os) == 0);
    int trades = TRADES;
    CHECK(qt_thread_start(&dll, session_thread, &trades) == 0);
    qt_thread_join(&dll);
    CHECK(qt_profitdll_feed_set_consumer(NULL) == 0);
    qt_pl_lockstep_counters c;
    qt_pl_lockstep_get_counters(w.ls, &c);
    qt_pl_close(w.pl);
    qt_store_release(&os.done, 1u);
    qt_thread_join(&dt);
    qt_thread_join(&ot);

    qt_pl_counters pc;
    qt_pl_get_counters(w.pl, &pc);
    qt_profitdll_feed_counters fc;
    qt_profitdll_feed_get_counters(&fc);
    uint64_t orders = TRADES / ORDER_EVERY + (TRADES % ORDER_EVERY != 0);
    CHECK(fc.records > 0 && fc.records_dropped == 0);
    /* every record taken inline, by the callbacks themselves */
    CHECK(qt_ring_available(w.market) == 0 && c.records == qt_ring_pushed(w.market));
    CHECK(pc.records == c.records && c.inline_runs > TRADES);
    CHECK(pc.rows > TRADES / 2 && pc.decisions == pc.rows && pc.decisions_dropped == 0);
    CHECK(qt_load_relaxed(&ds.handled) == pc.decisions);
    CHECK(qt_load_relaxed(&os.handled) == orders && fc.order_updates == orders);
    CHECK(qt_load_relaxed(&ds.wrong) == 0 && qt_load_relaxed(&os.wrong) == 0);
    CHECK(qt_load_relaxed(&ds.moved) == 0 && qt_load_relaxed(&os.moved) == 0);
    /* decisions and order updates were waited for (an acknowledgement that
     * beats the callback thread to its check needs no wait) */
    CHECK(c.decisions_posted == pc.decisions && c.decisions_acked == pc.decisions);
    CHECK(c.decision_waits >= 1 && c.decision_waits <= c.decisions_waited &&
          c.decisions_waited <= pc.decisions);
    CHECK(c.orders_pushed == orders && c.orders_acked == orders);
    CHECK(c.order_waits >= 1 && c.order_waits <= c.order_updates_waited &&
          c.order_updates_waited <= orders);
    CHECK(c.timeouts == 0 && c.released == QT_PL_LS_ENGAGED && c.stopped_runs == 0);
    CHECK(c.wait_ns > 0 && c.max_wait_ns <= c.wait_ns);
    end_world(&w);
    printf("lockstep: %llu records inline in %llu runs, %llu decisions and %llu order updates "
           "waited for (%.1f ms waiting)\n",
           (unsigned long long)c.records, (unsigned long long)c.inline_runs,
           (unsigned long long)c.decisions_waited, (unsigned long long)c.order_updates_waited,
           (double)c.wait_ns / 1e6);
}

/* ---- 2./3. release, timeout ---- */
static void silent_thread(void *arg) {
    /* takes the decisions and never acknowledges: a consumer that died */
    world *w = (world *)arg;
    uint8_t slot[QT_PL_DECISION_SIZE];
    while (!qt_pl_decisions_closed(w->pl)) qt_pl_wait_decision(w->pl, slot, 1, 20 * MS, 0);
}

static void test_release_and_timeout(int timeout) {
    world w = make_world(1 << 12, timeout ? 100 * MS : 60000 * MS);
    CHECK(qt_profitdll_feed_set_consumer(qt_pl_lockstep_consumer(w.ls)) == 0);
    qt_thread st, dll;
    CHECK(qt_thread_start(&st, silent_thread, &w) == 0);
    int trades = 200;
    CHECK(qt_thread_start(&dll, session_thread, &trades) == 0);
    /* the DLL's thread stops at the first decision */
    int64_t t0 = qt_monotonic_ns();
    qt_pl_counters pc;
    do {
        qt_sleep_ns(MS);
        qt_pl_get_counters(w.pl, &pc);
        CHECK(qt_monotonic_ns() - t0 < 30000 * MS);
    } while (pc.decisions == 0);
    uint64_t at = calls(QT_PROFITDLL_CB_TRADE);
    qt_sleep_ns(30 * MS);
    qt_pl_lockstep_counters c;
    if (!timeout) {
        CHECK(calls(QT_PROFITDLL_CB_TRADE) == at); /* still held */
        qt_pl_lockstep_release(w.ls);
    }
    qt_thread_join(&dll); /* the session runs to its end: no wait holds it */
    qt_pl_lockstep_get_counters(w.ls, &c);
    CHECK(calls(QT_PROFITDLL_CB_TRADE) == (uint64_t)trades);
    CHECK(c.decision_waits == 1 && c.decisions_waited == 1);
    if (timeout) {
        CHECK(c.released == QT_PL_LS_TIMED_OUT && c.timeouts == 1);
        CHECK(c.max_wait_ns >= 100 * MS && c.max_wait_ns < 10000 * MS);
    } else {
        CHECK(c.released == QT_PL_LS_RELEASED && c.timeouts == 0);
    }
    /* released, the callbacks still run the pipeline inline */
    qt_pl_get_counters(w.pl, &pc);
    CHECK(c.records == qt_ring_pushed(w.market) && pc.decisions > 1);
    qt_pl_close(w.pl);
    qt_thread_join(&st);
    end_world(&w);
    printf("%s: the wait ended, the session ran to its end (%.1f ms held)\n",
           timeout ? "timeout" : "release", (double)c.max_wait_ns / 1e6);
}

/* ---- 4. the consumer slot, drain, close ---- */
static qt_atomic_u32 gate_open, inside_consumer;

static void blocking_market(void *user) {
    (void)user;
    qt_store_release(&inside_consumer, 1u);
    while (!qt_load_acquire(&gate_open)) qt_sleep_ns(MS);
}

static qt_atomic_u32 removed;
static void remover_thread(void *arg) {
    (void)arg;
    CHECK(qt_profitdll_feed_set_consumer(NULL) == 0);
    qt_store_release(&removed, 1u);
}

static void one_trade_thread(void *arg) {
    (void)arg;
    uint16_t date[32];
    qt_profitdll_on_trade(asset(), u16("03/11/2026 10:00:00.000", date), 1, 5000.0, 0.0, 1, 1, 2, 2, 0);
}

static void test_slot(void) {
    world w = make_world(1 << 8, 1000 * MS);
    qt_profitdll_consumer none = {NULL, NULL, NULL};
    CHECK(qt_profitdll_feed_set_consumer(&none) == -1);

    /* removal waits for the callback still inside the consumer */
    qt_profitdll_consumer blocking = {blocking_market, NULL, NULL};
    CHECK(qt_profitdll_feed_set_consumer(&blocking) == 0);
    qt_thread dll, rm;
    CHECK(qt_thread_start(&dll, one_trade_thread, NULL) == 0);
    while (!qt_load_acquire(&inside_consumer)) qt_sleep_ns(MS);
    CHECK(qt_thread_start(&rm, remover_thread, NULL) == 0);
    qt_sleep_ns(30 * MS);
    CHECK(!qt_load_acquire(&removed));
    qt_store_release(&gate_open, 1u);
    qt_thread_join(&rm);
    qt_thread_join(&dll);
    CHECK(qt_load_acquire(&removed));

    /* records pushed with no consumer installed wait for a drain */
    uint64_t pushed = qt_ring_pushed(w.market);
    CHECK(pushed > 0 && qt_ring_available(w.market) == pushed);
    CHECK(qt_pl_lockstep_drain(w.ls) == pushed && qt_ring_available(w.market) == 0);
    /* installed: a callback runs the pipeline itself */
    CHECK(qt_profitdll_feed_set_consumer(qt_pl_lockstep_consumer(w.ls)) == 0);
    qt_pl_lockstep_release(w.ls); /* nobody acknowledges here */
    one_trade_thread(NULL);
    CHECK(qt_ring_available(w.market) == 0 && qt_ring_pushed(w.market) > pushed);
    /* a stopped pipeline is counted, its records stay in the ring */
    qt_pl_stop(w.pl, NULL);
    one_trade_thread(NULL);
    qt_pl_lockstep_counters c;
    qt_pl_lockstep_get_counters(w.ls, &c);
    CHECK(c.stopped_runs == 1 && qt_ring_available(w.market) > 0);
    qt_pl_clear_stop(w.pl);
    /* closed: the callbacks pass through and drain takes nothing */
    qt_pl_lockstep_close(w.ls);
    uint64_t left = qt_ring_available(w.market);
    one_trade_thread(NULL);
    CHECK(qt_ring_available(w.market) > left && qt_pl_lockstep_drain(w.ls) == 0);
    qt_pl_lockstep_get_counters(w.ls, &c);
    CHECK(c.closed && c.released == QT_PL_LS_RELEASED && c.timeouts == 0);
    /* the pipeline is its owner's again */
    int st;
    CHECK(qt_pl_run(w.pl, w.market, UINT64_MAX, 0, 0, &st) > 0 && st == QT_PL_IDLE);
    CHECK(qt_pl_lockstep_create(w.pl, w.market, w.orders, 0) == NULL);
    CHECK(qt_pl_lockstep_create(w.pl, w.orders, NULL, MS) == NULL);
    end_world(&w);
    printf("slot: removal waits for the callback inside; drain and close\n");
}

int main(void) {
    u16("WDOZ26", W_WDO);
    u16("F", W_F);
    test_lockstep();
    test_release_and_timeout(0);
    test_release_and_timeout(1);
    test_slot();
    printf("ok\n");
    return 0;
}
