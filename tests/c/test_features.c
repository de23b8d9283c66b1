/* C-level checks of the feature engine, meant for the sanitizer builds:
 * agent-slot recycling (hash deletion) against a brute-force ranking, the
 * two-pass fallback for returns off the exact grid, extreme inputs (no
 * undefined behaviour), exact zeros, bad configuration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/qt_features.h"
#include "market/qt_ring.h"

static int failures = 0;
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#define T0 1794571200000000000LL /* 2026-11-13 09:00 local (12:00 UTC) */

static qt_fe *make_engine(void) {
    qt_fe_tz_transition tz = {0, -3 * 3600, 0};
    qt_fe_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.tick_size = 0.5;
    cfg.price_unit = 0.5;
    cfg.tz = &tz;
    cfg.n_tz = 1;
    cfg.default_open_s = 9 * 3600;
    cfg.default_close_s = 18 * 3600;
    return qt_fe_create(&cfg);
}

static qt_event trade(int64_t ts, int64_t price, int32_t qty, int32_t buy, int32_t sell, uint8_t code) {
    qt_event e;
    memset(&e, 0, sizeof e);
    e.type = QT_EV_TRADE;
    e.exch_ns = ts;
    e.price = price;
    e.qty = qty;
    e.a = buy;
    e.b = sell;
    e.code = code;
    return e;
}

/* rank of `who` among the agents of agents[lo..hi] by (volume, latest), -1 if not in the top 5 */
static int brute_rank(const int32_t *agents, const int32_t *qty, int64_t lo, int64_t hi, int32_t who,
                      int *top_count, const int32_t *recent, int n_recent) {
    static int32_t id[1024];
    static int64_t vol[1024], last[1024];
    int na = 0;
    for (int64_t i = lo; i <= hi; i++) {
        int k = 0;
        while (k < na && id[k] != agents[i]) k++;
        if (k == na) {
            id[na] = agents[i];
            vol[na] = 0;
            na++;
        }
        vol[k] += qty[i];
        last[k] = i;
    }
    int top[5], nt = 0;
    for (int r = 0; r < 5 && r < na; r++) {
        int best = -1;
        for (int k = 0; k < na; k++) {
            int used = 0;
            for (int j = 0; j < nt; j++) used |= top[j] == k;
            if (used) continue;
            if (best < 0 || vol[k] > vol[best] || (vol[k] == vol[best] && last[k] > last[best])) best = k;
        }
        top[nt++] = best;
    }
    *top_count = 0;
    for (int j = 0; j < nt; j++) {
        int seen = 0;
        for (int i = 0; i < n_recent; i++) seen |= recent[i] == id[top[j]];
        *top_count += seen;
    }
    for (int j = 0; j < nt; j++)
        if (id[top[j]] == who) return j;
    return -1;
}

static void test_ranking_with_slot_recycling(void) {
    qt_fe *fe = make_engine();
    CHECK(fe != NULL);
    enum { N = 20000 };
    static int32_t buy[N], sell[N], qty[N];
    double out[QT_FE_NUM_FEATURES];
    int checked = 0;
    for (int i = 0; i < N; i++) {
        /* phases: few agents (ties), then a flood of fresh ids (recycling) */
        int fresh = (i / 2500) % 2 == 1;
        buy[i] = fresh ? (int32_t)(rnd() & 0x7fffffff) - (int32_t)(rnd() & 0x3fffffff) : (int32_t)(rnd() % 7);
        sell[i] = fresh ? (int32_t)(rnd() % 600) * 7919 : (int32_t)(rnd() % 5) + 100;
        qty[i] = 1 + (int32_t)(rnd() % 3);
        qt_event e = trade(T0 + (int64_t)i * 100000000LL, 10700 + (int64_t)(rnd() % 5), qty[i], buy[i], sell[i],
                           (uint8_t)(2 + rnd() % 2));
        CHECK(qt_fe_on_event(fe, &e, out) == 1);
        if (i >= 499 && (i % 37 == 0 || (i % 2500) < 3)) {
            int lo20 = i >= 19 ? i - 19 : 0, cnt;
            int rb = brute_rank(buy, qty, i - 499, i, buy[i], &cnt, buy + lo20, i - lo20 + 1);
            for (int k = 0; k < 5; k++) CHECK(out[QT_FE_TOP_BUYER_0_ACTIVE + k] == (double)(rb == k));
            CHECK(out[QT_FE_TOP_BUYERS_COUNT] == cnt);
            int rs = brute_rank(sell, qty, i - 499, i, sell[i], &cnt, sell + lo20, i - lo20 + 1);
            for (int k = 0; k < 5; k++) CHECK(out[QT_FE_TOP_SELLER_0_ACTIVE + k] == (double)(rs == k));
            CHECK(out[QT_FE_TOP_SELLERS_COUNT] == cnt);
            checked++;
        }
    }
    CHECK(checked > 500);
    qt_fe_destroy(fe);
}

static void test_returns_off_the_grid_and_extremes(void) {
    qt_fe *fe = make_engine();
    double out[QT_FE_NUM_FEATURES];
    qt_fe_counters c;
    /* prices jump by x3 and back: |r| > 1, computed two-pass while in the window */
    for (int i = 0; i < 300; i++) {
        int64_t price = (i == 50) ? 30000 : 10000 + (i % 3);
        qt_event e = trade(T0 + i * 1000000000LL, price, 1 + i % 4, 1, 2, 2);
        CHECK(qt_fe_on_event(fe, &e, out) == 1);
        if (i >= 201) {
            CHECK(isfinite(out[QT_FE_VOLATILITY_100]) && out[QT_FE_VOLATILITY_100] > 0);
            CHECK(isfinite(out[QT_FE_VOLUME_WEIGHTED_RETURN]));
        }
    }
    qt_fe_get_counters(fe, &c);
    CHECK(c.recomputations > 0);
    /* the extreme ends of every input: no overflow, no NaN where a value is due */
    qt_fe_reset(fe);
    int64_t prices[4] = {1, (int64_t)1 << 53, 1, 2};
    for (int i = 0; i < 260; i++) {
        qt_event e = trade(T0 + i, prices[i % 4], i % 2 ? INT32_MAX : 1, INT32_MIN, INT32_MAX, (uint8_t)(i % 256));
        CHECK(qt_fe_on_event(fe, &e, out) == 1);
        for (int k = 0; k < QT_FE_NUM_MODEL; k++) CHECK(!isinf(out[k]));
    }
    CHECK(out[QT_FE_VOLATILITY_100] > 0 && !isnan(out[QT_FE_VOLUME_ZSCORE_100]));
    /* a price beyond 2^53 units, negative or absent: dropped and counted */
    qt_event bad = trade(T0 + 1000, ((int64_t)1 << 53) + 1, 1, 1, 2, 2);
    CHECK(qt_fe_on_event(fe, &bad, out) == 0);
    bad.price = -5;
    CHECK(qt_fe_on_event(fe, &bad, out) == 0);
    bad.price = QT_PRICE_NONE;
    CHECK(qt_fe_on_event(fe, &bad, out) == 0);
    qt_fe_get_counters(fe, &c);
    CHECK(c.invalid == 3);
    /* timestamps far from today, both signs */
    qt_fe_reset(fe);
    int64_t far[3] = {-4000000000000000000LL, -1, 4000000000000000000LL};
    for (int i = 0; i < 3; i++) {
        qt_event e = trade(far[i], 100, 1, 1, 2, 2);
        CHECK(qt_fe_on_event(fe, &e, out) == 1);
        CHECK(out[QT_FE_HOUR] >= 0 && out[QT_FE_HOUR] < 24 && out[QT_FE_DAY_OF_WEEK] >= 0 &&
              out[QT_FE_DAY_OF_WEEK] < 7);
    }
    qt_fe_destroy(fe);
}

static void test_exact_zero_after_volatility(void) {
    qt_fe *fe = make_engine();
    double out[QT_FE_NUM_FEATURES];
    for (int i = 0; i < 2000; i++) {
        int64_t price = i < 1500 ? 10000 + (int64_t)(rnd() % 41) : 10017;
        qt_event e = trade(T0 + i * 10000000LL, price, i < 1500 ? 1 + (int32_t)(rnd() % 90) : 4, 1, 2, 3);
        qt_fe_on_event(fe, &e, out);
    }
    CHECK(out[QT_FE_VOLATILITY_100] == 0.0 && out[QT_FE_SHARPE_20] == 0.0);
    CHECK(out[QT_FE_BB_POSITION] == 0.5 && out[QT_FE_VOLUME_ZSCORE_100] == 0.0);
    CHECK(out[QT_FE_VOLUME_WEIGHTED_RETURN] == 0.0 && out[QT_FE_VOLATILITY_RATIO_10 + 3] == 0.0);
    qt_fe_destroy(fe);
}

/* one L2 level change closing its message */
static qt_event level(int64_t ts, int side, int64_t price, int32_t qty) {
    qt_event e;
    memset(&e, 0, sizeof e);
    e.type = QT_EV_L2_LEVEL;
    e.flags = QT_F_LAST;
    e.exch_ns = ts;
    e.side = (uint8_t)side;
    e.price = price;
    e.qty = qty;
    return e;
}

static void test_book_ofi(void) {
    qt_fe *fe = make_engine();
    double out[QT_FE_NUM_FEATURES];
    qt_fe_counters c;
    qt_event e = level(T0, 0, 100, 5);
    qt_fe_on_event(fe, &e, out); /* bids only: invalid book */
    e = level(T0, 1, 101, 7);
    qt_fe_on_event(fe, &e, out); /* valid now, but found invalid: no term */
    for (int i = 0; i < 10; i++) {
        e = level(T0 + 1, 0, 100, 6 + i); /* bid grows by one at the same price: e = +1 */
        qt_fe_on_event(fe, &e, out);
    }
    e = level(T0 + 1, 0, 100, 15); /* the same quantity again: changes no level, not a book event */
    qt_fe_on_event(fe, &e, out);
    qt_fe_get_counters(fe, &c);
    CHECK(c.book_events == 12 && c.book_records == 13);
    qt_event t = trade(T0 + 2, 100, 1, 1, 2, 2);
    CHECK(qt_fe_on_event(fe, &t, out) == 1);
    CHECK(out[QT_FE_OFI_10] == 10.0 && isnan(out[QT_FE_OFI_50]));
    CHECK(out[QT_FE_SPREAD] == 0.5 && out[QT_FE_SPREAD_TICKS] == 1.0);
    CHECK(out[QT_FE_BOOK_UPDATE_RATE] == 1.2);
    CHECK(out[QT_FE_DEPTH_BID_5] == 15.0 && out[QT_FE_DEPTH_ASK_5] == 7.0);
    e = level(T0 + 3, 1, 100, 7); /* ask at 100: locked */
    qt_fe_on_event(fe, &e, out);
    CHECK(qt_fe_on_event(fe, &t, out) == 1);
    CHECK(isnan(out[QT_FE_SPREAD]) && isnan(out[QT_FE_MICROPRICE_DEV]) && out[QT_FE_OFI_10] == 10.0);
    CHECK(out[QT_FE_DEPTH_ASK_5] == 14.0 && out[QT_FE_BOOK_IMBALANCE_1] == (15.0 - 7.0) / 22.0);
    /* 11 seconds later the 10-second window is empty */
    t.exch_ns = T0 + 11 * 1000000000LL;
    CHECK(qt_fe_on_event(fe, &t, out) == 1 && out[QT_FE_BOOK_UPDATE_RATE] == 0.0);
    /* the next local date: book and OFI start empty */
    e = level(T0 + 86400LL * 1000000000LL, 0, 100, 3);
    qt_fe_on_event(fe, &e, out);
    t.exch_ns = T0 + 86400LL * 1000000000LL;
    CHECK(qt_fe_on_event(fe, &t, out) == 1);
    CHECK(isnan(out[QT_FE_SPREAD]) && isnan(out[QT_FE_OFI_10]) && out[QT_FE_DEPTH_BID_5] == 3.0 &&
          out[QT_FE_DEPTH_ASK_5] == 0.0 && out[QT_FE_BOOK_IMBALANCE_10] == 1.0 && out[QT_FE_BOOK_UPDATE_RATE] == 0.1);
    qt_fe_destroy(fe);
}

/* book records without exchange time (ProfitDLL price-book callbacks carry
 * none): before any clock they are applied and kept by the first session;
 * later they take the latest time */
static void test_untimed_book_records(void) {
    qt_fe *fe = make_engine();
    double out[QT_FE_NUM_FEATURES];
    qt_fe_counters c;
    qt_event e = level(QT_TIME_NONE, 0, 100, 5);
    qt_fe_on_event(fe, &e, out);
    e = level(QT_TIME_NONE, 1, 102, 5);
    qt_fe_on_event(fe, &e, out);
    qt_event t = trade(T0, 101, 1, 1, 2, 2);
    CHECK(qt_fe_on_event(fe, &t, out) == 1);
    CHECK(out[QT_FE_SPREAD] == 1.0 && out[QT_FE_BOOK_UPDATE_RATE] == 0.0);
    e = level(QT_TIME_NONE, 1, 102, 9);
    qt_fe_on_event(fe, &e, out);
    CHECK(qt_fe_on_event(fe, &t, out) == 1);
    CHECK(out[QT_FE_BOOK_UPDATE_RATE] == 0.1 && out[QT_FE_DEPTH_ASK_5] == 9.0);
    qt_fe_get_counters(fe, &c);
    CHECK(c.book_untimed == 2 && c.book_events == 3 && c.ts_missing == 1 && c.session_resets == 1);
    qt_fe_destroy(fe);
}

/* --------------------------------------------------------- the drain loop */

typedef struct hook_state {
    int calls, stop_at;
    double first_vol_ratio;
    int64_t last_ts;
} hook_state;

static int count_hook(void *user, const double *features, const qt_event *trade, int64_t ts) {
    hook_state *h = (hook_state *)user;
    (void)trade;
    h->calls++;
    h->last_ts = ts;
    if (h->calls == 1) h->first_vol_ratio = features[QT_FE_VOLUME_RATIO_20];
    return h->stop_at && h->calls == h->stop_at;
}

/* a session: snapshot, then per trade a few book messages */
static size_t make_stream(qt_event *ev, size_t cap, int trades) {
    size_t n = 0;
    for (int i = 0; i < trades && n + 8 < cap; i++) {
        int64_t ts = T0 + (int64_t)i * 250000000LL;
        for (int k = 0; k < 5; k++) ev[n++] = level(ts, k & 1, (k & 1) ? 10002 + (int64_t)(rnd() % 3) : 10000 - (int64_t)(rnd() % 3), 1 + (int32_t)(rnd() % 50));
        ev[n++] = trade(ts, 10000 + (int64_t)(rnd() % 3), 1 + (int32_t)(rnd() % 9), (int32_t)(rnd() % 7),
                        (int32_t)(rnd() % 7), (uint8_t)(2 + rnd() % 2));
        ev[n - 1].ref = i;
    }
    return n;
}

static void test_drain_array_and_ring(void) {
    enum { CAP = 9000, TRADES = 1400 };
    static qt_event ev[CAP];
    static double all[TRADES * QT_FE_NUM_FEATURES], part[TRADES * QT_FE_NUM_FEATURES];
    static int64_t ts[TRADES], tn[TRADES], lat[TRADES];
    size_t n = make_stream(ev, CAP, TRADES);
    /* record by record */
    qt_fe *a = make_engine();
    size_t rows = 0;
    for (size_t i = 0; i < n; i++)
        if (qt_fe_on_event(a, &ev[i], all + rows * QT_FE_NUM_FEATURES)) rows++;
    CHECK(rows == TRADES);
    /* one drain into a big sink: the same rows, bit for bit */
    qt_fe *b = make_engine();
    qt_fe_sink s;
    memset(&s, 0, sizeof s);
    s.matrix = part;
    s.ts = ts;
    s.trade_number = tn;
    s.capacity = TRADES;
    s.every = 1;
    s.lat_ns = lat;
    s.lat_cap = TRADES;
    int st = -1;
    CHECK(qt_fe_drain(b, ev, n, &s, &st) == n && st == QT_FE_DRAIN_DONE && s.rows == TRADES);
    CHECK(memcmp(all, part, sizeof all) == 0);
    CHECK(tn[7] == 7 && ts[TRADES - 1] == ev[n - 1].exch_ns && s.lat_n == TRADES && lat[0] >= 0);
    /* small sinks: FULL, take, go on; every 3rd row kept */
    qt_fe *c = make_engine();
    memset(&s, 0, sizeof s);
    s.matrix = part;
    s.capacity = 10;
    s.every = 3;
    size_t pos = 0, kept = 0;
    for (;;) {
        pos += qt_fe_drain(c, ev + pos, n - pos, &s, &st);
        for (size_t r = 0; r < s.rows; r++, kept++)
            CHECK(memcmp(part + r * QT_FE_NUM_FEATURES, all + kept * 3 * QT_FE_NUM_FEATURES,
                         QT_FE_NUM_FEATURES * sizeof(double)) == 0);
        s.rows = 0;
        if (st == QT_FE_DRAIN_DONE) break;
        CHECK(st == QT_FE_DRAIN_FULL);
    }
    CHECK(pos == n && kept == (TRADES + 2) / 3);
    /* the decision hook sees every vector and can stop the loop */
    qt_fe *d = make_engine();
    hook_state h = {0, 100, 0, 0};
    memset(&s, 0, sizeof s);
    s.hook = count_hook;
    s.user = &h;
    size_t used = qt_fe_drain(d, ev, n, &s, &st);
    CHECK(st == QT_FE_DRAIN_STOPPED && h.calls == 100 && ev[used - 1].type == QT_EV_TRADE && ev[used - 1].ref == 99);
    CHECK(h.first_vol_ratio != h.first_vol_ratio); /* NaN in warm-up */
    h.stop_at = 0;
    CHECK(qt_fe_drain(d, ev + used, n - used, &s, &st) == n - used && h.calls == TRADES);
    /* the ring: a producer thread pushes, the drain takes as they come */
    qt_ring *ring = qt_ring_create(1024, sizeof(qt_event), QT_RING_DROP);
    qt_fe *e = make_engine();
    memset(&s, 0, sizeof s);
    s.matrix = part;
    s.capacity = TRADES;
    s.every = 1;
    size_t pushed = 0;
    uint64_t got = 0;
    while (pushed < n || got < n) {
        while (pushed < n && qt_ring_push(ring, &ev[pushed])) pushed++;
        if (pushed == n && !qt_ring_closed(ring)) qt_ring_close(ring);
        got += qt_fe_drain_ring(e, ring, &s, UINT64_MAX, 0, 0, &st);
        if (st == QT_FE_DRAIN_CLOSED) break;
        CHECK(st == QT_FE_DRAIN_IDLE);
    }
    CHECK(got == n && st == QT_FE_DRAIN_CLOSED && s.rows == TRADES);
    CHECK(memcmp(all, part, sizeof all) == 0);
    qt_ring_destroy(ring);
    qt_fe_destroy(a);
    qt_fe_destroy(b);
    qt_fe_destroy(c);
    qt_fe_destroy(d);
    qt_fe_destroy(e);
}

static void test_bad_config(void) {
    qt_fe_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.tick_size = 0.5;
    cfg.price_unit = 0.5;
    cfg.default_open_s = 100;
    cfg.default_close_s = 100;
    CHECK(qt_fe_create(&cfg) == NULL);
    cfg.default_close_s = 200;
    qt_fe_session_hours dup[2] = {{20261113, 10, 20}, {20261113, 10, 30}};
    cfg.sessions = dup;
    cfg.n_sessions = 2;
    CHECK(qt_fe_create(&cfg) == NULL);
    cfg.n_sessions = 1;
    qt_fe *fe = qt_fe_create(&cfg);
    CHECK(fe != NULL);
    qt_fe_destroy(fe);
    CHECK(qt_fe_create(NULL) == NULL);
}

int main(void) {
    test_ranking_with_slot_recycling();
    test_returns_off_the_grid_and_extremes();
    test_exact_zero_after_volatility();
    test_book_ofi();
    test_untimed_book_records();
    test_drain_array_and_ring();
    test_bad_config();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("features: all checks passed\n");
    return 0;
}
