/* C-level checks of the feature engine, meant for the sanitizer builds:
 * agent-slot recycling (hash deletion) against a brute-force ranking, the
 * two-pass fallback for returns off the exact grid, extreme inputs (no
 * undefined behaviour), exact zeros, bad configuration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qt_features.h"

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
        CHECK(qt_fe_on_trade(fe, &e, out) == 1);
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
        CHECK(qt_fe_on_trade(fe, &e, out) == 1);
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
        qt_event e = trade(T0 + i, prices[i % 4], i % 2 ? INT32_MAX : 0, INT32_MIN, INT32_MAX, (uint8_t)(i % 256));
        CHECK(qt_fe_on_trade(fe, &e, out) == 1);
        for (int k = 0; k < QT_FE_NUM_MODEL; k++) CHECK(!isinf(out[k]));
    }
    CHECK(out[QT_FE_VOLATILITY_100] > 0 && !isnan(out[QT_FE_VOLUME_ZSCORE_100]));
    /* a price beyond 2^53 units, negative or absent: dropped and counted */
    qt_event bad = trade(T0 + 1000, ((int64_t)1 << 53) + 1, 1, 1, 2, 2);
    CHECK(qt_fe_on_trade(fe, &bad, out) == 0);
    bad.price = -5;
    CHECK(qt_fe_on_trade(fe, &bad, out) == 0);
    bad.price = QT_PRICE_NONE;
    CHECK(qt_fe_on_trade(fe, &bad, out) == 0);
    qt_fe_get_counters(fe, &c);
    CHECK(c.invalid == 3);
    /* timestamps far from today, both signs */
    qt_fe_reset(fe);
    int64_t far[3] = {-4000000000000000000LL, -1, 4000000000000000000LL};
    for (int i = 0; i < 3; i++) {
        qt_event e = trade(far[i], 100, 1, 1, 2, 2);
        CHECK(qt_fe_on_trade(fe, &e, out) == 1);
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
        qt_fe_on_trade(fe, &e, out);
    }
    CHECK(out[QT_FE_VOLATILITY_100] == 0.0 && out[QT_FE_SHARPE_20] == 0.0);
    CHECK(out[QT_FE_BB_POSITION] == 0.5 && out[QT_FE_VOLUME_ZSCORE_100] == 0.0);
    CHECK(out[QT_FE_VOLUME_WEIGHTED_RETURN] == 0.0 && out[QT_FE_VOLATILITY_RATIO_10 + 3] == 0.0);
    qt_fe_destroy(fe);
}

static void test_book_ofi(void) {
    qt_fe *fe = make_engine();
    double out[QT_FE_NUM_FEATURES];
    qt_book_top t;
    memset(&t, 0, sizeof t);
    t.bb = QT_PRICE_NONE;
    t.ba = QT_PRICE_NONE;
    qt_fe_on_book_event(fe, &t, T0); /* empty */
    t.bb = 100;
    t.ba = 101;
    t.qb = 5;
    t.qa = 7;
    qt_fe_on_book_event(fe, &t, T0); /* valid, but found invalid: no term */
    for (int i = 0; i < 10; i++) {
        t.qb += 1; /* bid grows by one at the same price: e = +1 */
        qt_fe_on_book_event(fe, &t, T0 + 1);
    }
    qt_event e = trade(T0 + 2, 100, 1, 1, 2, 2);
    CHECK(qt_fe_on_trade(fe, &e, out) == 1);
    CHECK(out[QT_FE_OFI_10] == 10.0 && isnan(out[QT_FE_OFI_10 + 1]));
    CHECK(out[QT_FE_SPREAD] == 0.5 && out[QT_FE_SPREAD_TICKS] == 1.0);
    CHECK(out[QT_FE_BOOK_UPDATE_RATE] == 1.2);
    t.ba = 100; /* locked */
    qt_fe_on_book_event(fe, &t, T0 + 3);
    CHECK(qt_fe_on_trade(fe, &e, out) == 1);
    CHECK(isnan(out[QT_FE_SPREAD]) && isnan(out[QT_FE_MICROPRICE_DEV]) && out[QT_FE_OFI_10] == 10.0);
    qt_fe_destroy(fe);
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
    test_bad_config();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("features: all checks passed\n");
    return 0;
}
