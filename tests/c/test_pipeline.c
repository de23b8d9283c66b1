/* The live pipeline (qt_pipeline.h) behind the real ProfitDLL callback entry
 * points, for two instruments interleaved in one market ring:
 *  1. reference: the same callback sequence into a ring, popped, decoded
 *     (qt_profitdll_decode), split by instrument, each through its own engine
 *     with qt_fe_drain (the batch path);
 *  2. live: a "DLL thread" calls the entry points while this thread runs
 *     qt_pl_run and a decision thread waits on the decision ring; every
 *     posted vector equals the reference row of its instrument bit for bit,
 *     stage timestamps are ordered, decision_seq has no hole;
 *  3. control records (CONN_STATE, FEED_GAP, PHASE) reach the control ring
 *     decoded; a registered ticker without an engine is counted and
 *     dropped; a gap marks books suspect until the next full book;
 *  4. hooks: a filter (sampler) and a decide that posts and stops;
 *  5. a parent whose EXT is cut off by the end of a peek batch (batch 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_atomic.h"
#include "market/qt_events.h"
#include "features/qt_features.h"
#include "profitdll/qt_profitdll_decode.h"
#include "profitdll/qt_profitdll_feed.h"
#include "pipeline/qt_pipeline.h"
#include "market/qt_ring.h"

#include "qt_check.h"

#define ID_WDO 1
#define ID_WIN 2
#define ID_OTHER 9 /* registered with the feed, no engine in the pipeline */
#define TRADES 3000
#define MAX_REC 200000

static uint16_t W_WDO[16], W_WIN[16], W_OTHER[16], W_F[4];

static uint16_t *u16(const char *s, uint16_t *buf) {
    size_t i = 0;
    for (; s[i]; i++) buf[i] = (uint16_t)(unsigned char)s[i];
    buf[i] = 0;
    return buf;
}

static TAssetID asset(uint16_t *ticker) {
    TAssetID a;
    a.ticker = ticker;
    a.exchange = W_F;
    a.feed = 0;
    return a;
}

static int32_t QT_PROFITDLL_CALL fake_free(void *p, int32_t size) {
    (void)size;
    free(p);
    return NL_OK;
}

/* A price-book array of n levels, worst to best (as the DLL keeps them). */
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

typedef struct market_def {
    uint16_t *ticker;
    double tick; /* = price unit here */
    double mid;  /* a price between two ticks' levels: bid = mid - tick/2 */
} market_def;

static const market_def WDO = {W_WDO, 0.5, 5000.25};
static const market_def WIN = {W_WIN, 5.0, 130002.5};

static void full_book(const market_def *m) {
    double bid = m->mid - m->tick / 2, ask = m->mid + m->tick / 2;
    qt_profitdll_on_price_book(asset(m->ticker), QT_PROFITDLL_BA_FULL_BOOK, 0, 0, 0, 0, 0.0,
                          price_array(5, ask + 4 * m->tick, -m->tick),
                          price_array(5, bid - 4 * m->tick, m->tick));
}

/* The whole session, as the DLL would call back: the same sequence for the
 * same seed.  Two instruments interleaved, one unknown to the pipeline. */
static void session(void) {
    rng_state = 42;
    uint16_t date[32];
    qt_profitdll_on_state(QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTED);
    qt_profitdll_on_ticker_state(asset(W_WDO), u16("03/11/2026 09:00:00.000", date), QT_PHASE_OPEN);
    full_book(&WDO);
    full_book(&WIN);
    for (int t = 0; t < TRADES; t++) {
        const market_def *m = rnd() % 3 == 0 ? &WIN : &WDO;
        TAssetID a = asset(m->ticker);
        int books = 1 + (int)(rnd() % 8);
        for (int b = 0; b < books; b++) {
            int side = (int)(rnd() % 2), pos = (int)(rnd() % 5);
            qt_profitdll_on_price_book(a, QT_PROFITDLL_BA_EDIT, pos, side, 1 + (int32_t)(rnd() % 60), 1, 0.0,
                                  NULL, NULL);
        }
        int buy = (int)(rnd() % 2);
        double price = m->mid + (buy ? m->tick / 2 : -m->tick / 2);
        int ms = t * 137;
        char text[32];
        snprintf(text, sizeof text, "03/11/2026 10:%02d:%02d.%03d", ms / 60000 % 60,
                 ms / 1000 % 60, ms % 1000);
        qt_profitdll_on_trade(a, u16(text, date), (uint32_t)(1000 + t), price, 0.0,
                         1 + (int32_t)(rnd() % 20), (int32_t)(rnd() % 7), (int32_t)(rnd() % 7),
                         buy ? 2 : 3, 0);
        if (t % 97 == 0)
            qt_profitdll_on_trade(asset(W_OTHER), u16(text, date), (uint32_t)t, 10.0, 0.0, 1, 1, 2, 2,
                             0);
        if (t == TRADES / 2) { /* a drop and a reconnection, then fresh full books */
            qt_profitdll_on_state(QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTING);
            qt_profitdll_on_state(QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTED);
            qt_profitdll_on_trade(asset(W_WDO), u16(text, date), 999999, WDO.mid + 0.25, 0.0, 1, 1,
                             2, 2, 0); /* a decision on a suspect book */
            full_book(&WDO);
            full_book(&WIN);
        }
    }
    qt_profitdll_on_ticker_state(asset(W_WIN), u16("03/11/2026 18:00:00.000", date), QT_PHASE_CLOSED);
}

static qt_fe_config fe_config(double tick) {
    static const qt_fe_tz_transition tz = {0, -3 * 3600, 0};
    qt_fe_config c;
    memset(&c, 0, sizeof c);
    c.tick_size = tick;
    c.price_unit = tick;
    c.tz = &tz;
    c.n_tz = 1;
    c.default_open_s = 9 * 3600;
    c.default_close_s = 18 * 3600;
    return c;
}

static void start_feed(qt_ring *r) {
    qt_profitdll_feed_detach();
    CHECK(qt_profitdll_feed_reset() == 0);
    qt_profitdll_feed_set_accessors(NULL, fake_free, NULL, NULL);
    qt_profitdll_feed_set_utc_offset(-180);
    CHECK(qt_profitdll_feed_add_instrument(W_WDO, ID_WDO, WDO.tick) == 0);
    CHECK(qt_profitdll_feed_add_instrument(W_WIN, ID_WIN, WIN.tick) == 0);
    CHECK(qt_profitdll_feed_add_instrument(W_OTHER, ID_OTHER, 0.01) == 0);
    CHECK(qt_profitdll_feed_attach(r, NULL) == 0);
}

/* ---- 1. the batch reference ---- */
typedef struct reference {
    double *rows;
    int64_t *trade_number;
    size_t n;
} reference;
static reference ref[3]; /* by instrument id */

static void build_reference(void) {
    qt_ring *r = qt_ring_create(1 << 18, QT_EVENT_SIZE, QT_RING_DROP);
    start_feed(r);
    session();
    qt_profitdll_feed_detach();
    static qt_event raw[MAX_REC], dec[MAX_REC + 1], mine[MAX_REC];
    uint64_t n = qt_ring_pop(r, raw, MAX_REC);
    CHECK(n > 0 && n < MAX_REC && qt_ring_dropped(r) == 0);
    qt_profitdll_decoder d;
    qt_profitdll_decoder_init(&d, -180);
    uint64_t w = qt_profitdll_decode(&d, raw, n, dec);
    w += qt_profitdll_decode_flush(&d, dec + w);
    for (int id = ID_WDO; id <= ID_WIN; id++) {
        size_t k = 0;
        for (uint64_t i = 0; i < w; i++)
            if (dec[i].instrument == id) mine[k++] = dec[i];
        qt_fe_config c = fe_config(id == ID_WDO ? WDO.tick : WIN.tick);
        qt_fe *fe = qt_fe_create(&c);
        qt_fe_sink s;
        memset(&s, 0, sizeof s);
        s.capacity = TRADES + 8;
        s.matrix = malloc(s.capacity * QT_FE_NUM_FEATURES * sizeof(double));
        s.trade_number = malloc(s.capacity * sizeof(int64_t));
        s.every = 1;
        int st;
        CHECK(qt_fe_drain(fe, mine, k, &s, &st) == k && st == QT_FE_DRAIN_DONE);
        ref[id].rows = s.matrix;
        ref[id].trade_number = s.trade_number;
        ref[id].n = s.rows;
        qt_fe_destroy(fe);
        CHECK(s.rows > 500);
    }
    qt_ring_destroy(r);
}

/* ---- 2. live, threaded ---- */
static qt_ring *live_ring;

static void dll_thread(void *arg) {
    (void)arg;
    session();
    qt_ring_close(live_ring);
}

typedef struct consumer {
    qt_pl *pl;
    uint8_t *slots;
    uint64_t n, cap;
} consumer;

static void decision_thread(void *arg) {
    consumer *c = (consumer *)arg;
    uint32_t sz = qt_pl_decision_slot_size(c->pl);
    while (!qt_pl_decisions_closed(c->pl)) {
        uint64_t got = qt_pl_wait_decision(c->pl, c->slots + c->n * sz, c->cap - c->n, 50000000,
                                           200);
        c->n += got;
        CHECK(c->n < c->cap);
    }
}

static void test_live(void) {
    live_ring = qt_ring_create(1 << 18, QT_EVENT_SIZE, QT_RING_DROP);
    start_feed(live_ring);
    qt_pl_config pc;
    memset(&pc, 0, sizeof pc);
    pc.utc_offset_min = -180;
    pc.decision_capacity = 1 << 13;
    pc.decision_vector = 1;
    qt_pl *pl = qt_pl_create(&pc);
    CHECK(pl);
    qt_fe_config cw = fe_config(WDO.tick), cn = fe_config(WIN.tick);
    CHECK(qt_pl_add_instrument(pl, ID_WDO, &cw) == 0);
    CHECK(qt_pl_add_instrument(pl, ID_WIN, &cn) == 0);
    CHECK(qt_pl_add_instrument(pl, ID_WIN, &cn) == -3);
    CHECK(qt_pl_add_instrument(pl, QT_PROFITDLL_ALL_INSTRUMENTS, &cn) == -1);
    consumer cons = {pl, NULL, 0, 2 * TRADES + 64};
    uint32_t sz = qt_pl_decision_slot_size(pl);
    CHECK(sz == QT_PL_DECISION_SIZE + QT_PL_VECTOR_SIZE);
    cons.slots = malloc(cons.cap * sz);
    qt_thread dll, dt;
    CHECK(qt_thread_start(&dt, decision_thread, &cons) == 0);
    CHECK(qt_thread_start(&dll, dll_thread, NULL) == 0);
    int st = -1;
    uint64_t taken = 0;
    while (st != QT_PL_CLOSED) taken += qt_pl_run(pl, live_ring, UINT64_MAX, -1, 500, &st);
    qt_pl_flush(pl);
    qt_pl_close(pl);
    qt_thread_join(&dll);
    qt_thread_join(&dt);
    qt_profitdll_feed_detach();
    CHECK(qt_ring_dropped(live_ring) == 0);
    CHECK(taken == qt_ring_pushed(live_ring));

    qt_pl_counters c;
    qt_pl_get_counters(pl, &c);
    CHECK(c.records == taken && c.instruments == 2);
    CHECK(c.rows == ref[ID_WDO].n + ref[ID_WIN].n);
    CHECK(c.decisions == c.rows && c.decisions_dropped == 0 && c.filtered == 0);
    CHECK(cons.n == c.decisions);
    /* the OTHER ticker's trades: TRADES / 97 + 1 of them */
    CHECK(c.unknown_records == TRADES / 97 + 1 && c.last_unknown == ID_OTHER);
    CHECK(c.missing_ext == 0 && c.orphan_ext == 0 && c.bad_dates == 0);
    CHECK(c.gaps == 1);

    /* every posted vector equals its instrument's batch row, bit for bit */
    size_t next[3] = {0, 0, 0};
    uint64_t suspect = 0;
    for (uint64_t i = 0; i < cons.n; i++) {
        const qt_pl_decision *d = (const qt_pl_decision *)(cons.slots + i * sz);
        const double *v = (const double *)(cons.slots + i * sz + QT_PL_DECISION_SIZE);
        CHECK(d->instrument == ID_WDO || d->instrument == ID_WIN);
        CHECK(d->decision_seq == i + 1);
        reference *r = &ref[d->instrument];
        size_t k = next[d->instrument]++;
        CHECK(k < r->n);
        CHECK(d->row == k + 1);
        CHECK(d->trade_number == r->trade_number[k]);
        CHECK(memcmp(v, r->rows + k * QT_FE_NUM_FEATURES, QT_FE_NUM_FEATURES * sizeof(double)) == 0);
        CHECK(d->exch_ns != QT_TIME_NONE && d->qty > 0 && d->price > 0);
        CHECK(d->recv_ns > 0 && d->recv_ns <= d->taken_ns && d->taken_ns <= d->decoded_ns &&
              d->decoded_ns <= d->features_ns && d->features_ns <= d->decided_ns);
        if (d->flags & QT_PL_D_BOOK_SUSPECT) {
            suspect++;
            CHECK(d->trade_number == 999999);
        }
    }
    CHECK(next[ID_WDO] == ref[ID_WDO].n && next[ID_WIN] == ref[ID_WIN].n);
    CHECK(suspect == 1);

    /* control records, decoded, in ring order */
    qt_event ctl[64];
    uint64_t nc = qt_pl_pop_controls(pl, ctl, 64);
    CHECK(nc == c.controls && c.controls_dropped == 0);
    CHECK(nc == 6); /* connected, phase, connecting + gap, connected, phase */
    CHECK(ctl[0].type == QT_EV_CONN_STATE && ctl[0].b == QT_PROFITDLL_MARKET_CONNECTED);
    CHECK(ctl[1].type == QT_EV_PHASE && ctl[1].instrument == ID_WDO &&
          ctl[1].exch_ns != QT_TIME_NONE && !(ctl[1].flags & QT_F_RAW_DATE));
    CHECK(ctl[2].type == QT_EV_CONN_STATE && ctl[2].b == QT_PROFITDLL_MARKET_CONNECTING);
    CHECK(ctl[3].type == QT_EV_FEED_GAP && ctl[3].a == QT_GAP_DISCONNECT &&
          ctl[3].instrument == QT_PROFITDLL_ALL_INSTRUMENTS);
    CHECK(ctl[4].type == QT_EV_CONN_STATE);
    CHECK(ctl[5].type == QT_EV_PHASE && ctl[5].instrument == ID_WIN && ctl[5].code == QT_PHASE_CLOSED);
    qt_pl_instrument_counters ic;
    CHECK(qt_pl_get_instrument_counters(pl, ID_WDO, &ic) == 0 && ic.rows == ref[ID_WDO].n &&
          !ic.book_suspect);
    CHECK(qt_pl_get_instrument_counters(pl, ID_OTHER, &ic) == -1);
    CHECK(qt_pl_wait_decision(pl, cons.slots, 1, 0, 0) == 0 && qt_pl_decisions_closed(pl));
    qt_pl_destroy(pl);
    qt_ring_destroy(live_ring);
    free(cons.slots);
    printf("live: %llu records, %llu decisions equal to the batch rows\n",
           (unsigned long long)taken, (unsigned long long)cons.n);
}

/* ---- 4./5. hooks, stop, batch 1 ---- */
static int every_third(void *user, const qt_pl_decision *d, const double *f, const qt_event *t) {
    (void)user, (void)f, (void)t;
    return d->row % 3 == 0;
}

static int model(void *user, qt_pl_decision *d, const double *f, const qt_event *t) {
    int *calls = (int *)user;
    (*calls)++;
    d->output[0] = f[QT_FE_SPREAD];
    d->action = t->code == 2 ? 1 : -1;
    return *calls == 40 ? QT_PL_POST | QT_PL_STOP : QT_PL_POST;
}

static void test_hooks(void) {
    qt_ring *r = qt_ring_create(1 << 18, QT_EVENT_SIZE, QT_RING_DROP);
    start_feed(r);
    session();
    qt_profitdll_feed_detach();
    qt_pl_config pc;
    memset(&pc, 0, sizeof pc);
    pc.utc_offset_min = -180;
    pc.decision_capacity = 64;
    pc.batch = 1; /* every parent is cut from its EXT by the end of a peek */
    qt_pl *pl = qt_pl_create(&pc);
    qt_fe_config cw = fe_config(WDO.tick), cn = fe_config(WIN.tick);
    CHECK(qt_pl_add_instrument(pl, ID_WDO, &cw) == 0);
    CHECK(qt_pl_add_instrument(pl, ID_WIN, &cn) == 0);
    int calls = 0;
    qt_pl_hook h = {every_third, NULL, model, &calls};
    CHECK(qt_pl_set_hook(pl, QT_PROFITDLL_ALL_INSTRUMENTS, &h) == 0);
    CHECK(qt_pl_set_hook(pl, 77, &h) == -1);
    int st;
    qt_pl_run(pl, r, UINT64_MAX, 0, 0, &st);
    CHECK(st == QT_PL_STOPPED && calls == 40);
    qt_pl_counters c;
    qt_pl_get_counters(pl, &c);
    CHECK(c.hook_stops == 1 && c.decisions == 40);
    CHECK(c.filtered == c.rows - 40 && c.rows >= 118);
    CHECK(c.missing_ext == 0 && c.orphan_ext == 0);
    uint8_t slot[QT_PL_DECISION_SIZE];
    CHECK(qt_pl_decision_slot_size(pl) == QT_PL_DECISION_SIZE);
    for (int i = 0; i < 40; i++) {
        CHECK(qt_pl_wait_decision(pl, slot, 1, 0, 0) == 1);
        const qt_pl_decision *d = (const qt_pl_decision *)slot;
        CHECK(d->row % 3 == 0 && (d->action == 1 || d->action == -1) && d->output[0] > 0);
        CHECK(d->decision_seq == (uint64_t)i + 1);
    }
    /* resume: the rest of the ring, then no more */
    qt_pl_set_hook(pl, QT_PROFITDLL_ALL_INSTRUMENTS, NULL);
    qt_pl_run(pl, r, UINT64_MAX, 0, 0, &st);
    CHECK(st == QT_PL_IDLE);
    qt_pl_get_counters(pl, &c);
    CHECK(c.rows == ref[ID_WDO].n + ref[ID_WIN].n);
    CHECK(c.decisions > 64 && c.decisions_dropped == c.decisions - 40 - 64);
    /* stop from outside: an idle wait returns */
    qt_pl_stop(pl, r);
    qt_pl_run(pl, r, UINT64_MAX, -1, 0, &st);
    CHECK(st == QT_PL_STOPPED);
    qt_pl_clear_stop(pl);
    qt_pl_run(pl, r, UINT64_MAX, 1000000, 0, &st);
    CHECK(st == QT_PL_IDLE);
    qt_pl_destroy(pl);
    qt_ring_destroy(r);
}

/* Bad configuration and a stream through qt_pl_run_decoded. */
static void test_edges(void) {
    qt_pl_config pc;
    memset(&pc, 0, sizeof pc);
    pc.utc_offset_min = 100000;
    CHECK(qt_pl_create(&pc) == NULL);
    pc.utc_offset_min = 0;
    qt_pl *pl = qt_pl_create(&pc);
    CHECK(pl && qt_pl_decision_ring(pl) == NULL && qt_pl_control_ring(pl) != NULL);
    qt_fe_config bad = fe_config(0.0);
    CHECK(qt_pl_add_instrument(pl, 3, &bad) == -1);
    qt_fe_config ok = fe_config(0.5);
    qt_fe *fe = qt_fe_create(&ok);
    CHECK(qt_pl_add_engine(pl, 3, fe) == 0 && qt_pl_engine(pl, 3) == fe && qt_pl_engine(pl, 4) == NULL);
    for (uint16_t id = 10; id < 10 + QT_PL_MAX_INSTRUMENTS - 1; id++)
        CHECK(qt_pl_add_instrument(pl, id, &ok) == 0);
    CHECK(qt_pl_add_instrument(pl, 200, &ok) == -2);
    qt_event ev[3];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 3; i++) {
        ev[i].type = QT_EV_TRADE;
        ev[i].instrument = 3;
        ev[i].exch_ns = 1762174800000000000LL + i; /* 2026-11-03 13:00 UTC */
        ev[i].price = 10000 + i;
        ev[i].qty = 1;
        ev[i].code = 2;
    }
    ev[1].instrument = 5;
    int st;
    CHECK(qt_pl_run_decoded(pl, ev, 3, &st) == 3 && st == QT_PL_DONE);
    qt_pl_counters c;
    qt_pl_get_counters(pl, &c);
    CHECK(c.rows == 2 && c.decisions == 2 && c.unknown_records == 1 && c.last_unknown == 5);
    qt_pl_destroy(pl);
    qt_fe_counters fc;
    qt_fe_get_counters(fe, &fc); /* borrowed: still alive */
    CHECK(fc.rows == 2);
    qt_fe_destroy(fe);
}

int main(void) {
    u16("WDOZ26", W_WDO);
    u16("WINZ26", W_WIN);
    u16("PETR4", W_OTHER);
    u16("F", W_F);
    build_reference();
    test_live();
    test_hooks();
    test_edges();
    qt_profitdll_feed_detach();
    qt_profitdll_feed_reset();
    printf("pipeline: ok\n");
    return 0;
}
