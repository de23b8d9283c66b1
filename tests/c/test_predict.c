/* The predict module: the sampler against hand-computed sequences, compiled
 * models and the ensemble against the TEST FIXTURE libraries of
 * fixture_tl2cgen_model.c (known outputs), the predictor's hooks.
 * argv: a scratch path for a non-library file, then the fixture libraries
 * in tests/c/meson.build's order: f32, f64, no_predict, two_targets,
 * two_classes, four_features. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict/qt_ensemble.h"
#include "predict/qt_model.h"
#include "predict/qt_sampler.h"
#include "qt_check.h"

#define NF QT_FE_NUM_FEATURES
enum { LIB_F32, LIB_F64, LIB_NO_PREDICT, LIB_TWO_TARGETS, LIB_TWO_CLASSES, LIB_FOUR_FEATURES, N_LIBS };
static char lib_path[N_LIBS][4096];
static char text_path[4096];

static void absolute(char *out, size_t cap, const char *arg) {
#if defined(_WIN32)
    /* LoadLibraryExW's restricted search needs a fully qualified path */
    CHECK(_fullpath(out, arg, cap) != NULL);
#else
    snprintf(out, cap, "%s", arg);
#endif
}

/* ------------------------------------------------------------ sampler */

enum { V = QT_FE_VOLATILITY_GK, R = QT_FE_LOG_RETURNS_1 };

static void row(double *f, double r, double sigma) {
    for (int j = 0; j < NF; j++) f[j] = 1.0;
    f[R] = r;
    f[V] = sigma;
}

static void test_sampler_every(void) {
    qt_sampler s;
    qt_sampler_config c = {.kind = QT_SAMPLER_EVERY};
    CHECK(qt_sampler_init(&s, &c) == 0);
    double f[3 * NF];
    for (int i = 0; i < 3; i++) row(f + i * NF, NAN, NAN);
    int64_t ts[3] = {5, 4, 3};
    uint8_t out[3];
    CHECK(qt_sampler_select(&s, f, ts, 3, out) == 3);
    CHECK(out[0] == 1 && out[1] == 1 && out[2] == 1 && s.rows == 3 && s.fired == 3);
}

static void test_sampler_cusum(void) {
    qt_sampler s;
    qt_sampler_config c = {.kind = QT_SAMPLER_CUSUM, .threshold = 2.0, .volatility_index = V,
                           .log_return_index = R};
    CHECK(qt_sampler_init(&s, &c) == 0);
    /* h * sigma = 1 while sigma = 0.5 */
    static const struct {
        double r, sigma;
        int fire;
        double s_pos, s_neg; /* after the row */
    } seq[] = {
        {NAN, 0.5, 0, 0.0, 0.0},    /* first trade of the session */
        {0.5, 0.5, 0, 0.5, 0.0},    /* s+ 0.5 */
        {0.625, 0.5, 1, 0.0, 0.0},  /* s+ 1.125 >= 1: fire, s+ cleared */
        {-0.375, 0.5, 0, 0.0, -0.375},
        {-0.75, 0.5, 1, 0.0, 0.0},  /* s- -1.125 <= -1: fire, s- cleared */
        {0.25, NAN, 0, 0.25, 0.0},  /* sigma NaN: no fire, sums kept */
        {0.5, 0.0, 0, 0.75, 0.0},   /* sigma 0: no fire, sums kept */
        {0.25, -1.0, 0, 1.0, 0.0},  /* sigma < 0: no fire */
        {0.0, 0.5, 1, 0.0, 0.0},    /* s+ 1.0 == h*sigma: fires (>=) */
        {0.875, 0.5, 0, 0.875, 0.0},
        {NAN, 0.5, 0, 0.0, 0.0},    /* new session: both sums reset */
        {0.25, 0.5, 0, 0.25, 0.0},  /* 0.875 + 0.25 would have fired */
        /* both sides at once: build s+ 0.5, s- -0.25 with no sigma, then a
         * small sigma: fires once, both cleared, and not again */
        {0.0, NAN, 0, 0.25, 0.0},
        {0.25, NAN, 0, 0.5, 0.0},
        {-0.25, NAN, 0, 0.25, -0.25},
        {0.0, 0.0625, 1, 0.0, 0.0}, /* h*sigma 0.125: s+ 0.25 and s- -0.25 cross */
        {0.0, 0.0625, 0, 0.0, 0.0},
    };
    int n = (int)(sizeof seq / sizeof seq[0]), fired = 0;
    double f[NF];
    for (int i = 0; i < n; i++) {
        row(f, seq[i].r, seq[i].sigma);
        int got = qt_sampler_step(&s, f, 1000 + i);
        if (got != seq[i].fire || s.s_pos != seq[i].s_pos || s.s_neg != seq[i].s_neg) {
            fprintf(stderr, "cusum row %d: fire %d s+ %g s- %g\n", i, got, s.s_pos, s.s_neg);
            CHECK(0);
        }
        fired += got;
    }
    CHECK(s.rows == (uint64_t)n && s.fired == (uint64_t)fired && fired == 4);
    /* select over the same rows after reset: the same decisions */
    qt_sampler_reset(&s);
    CHECK(s.rows == 0 && s.s_pos == 0.0 && s.s_neg == 0.0);
    double *m = (double *)malloc(sizeof(double) * NF * (size_t)n);
    uint8_t *out = (uint8_t *)malloc((size_t)n);
    CHECK(m && out);
    for (int i = 0; i < n; i++) row(m + i * NF, seq[i].r, seq[i].sigma);
    CHECK(qt_sampler_select(&s, m, NULL, (size_t)n, out) == 4);
    for (int i = 0; i < n; i++) CHECK(out[i] == seq[i].fire);
    free(m);
    free(out);
}

static void test_sampler_time(void) {
    const int64_t S = 1000000000LL, base = 1699999980LL * S; /* a multiple of 60 s */
    qt_sampler s;
    qt_sampler_config c = {.kind = QT_SAMPLER_TIME, .interval_ns = 60 * S};
    CHECK(qt_sampler_init(&s, &c) == 0);
    static const struct {
        int64_t t;
        int fire;
    } seq[] = {
        {100 * S, 1},      /* the first row fires (next starts at 0); next = 120 s */
        {110 * S, 0},
        {120 * S - 1, 0},  /* 1 ns before the grid point */
        {120 * S, 1},      /* on it; next = 180 s */
        {121 * S, 0},
        {300 * S, 1},      /* a gap: next = 360 s, not 240 s */
        {250 * S, 0},      /* earlier time: never fires */
        {359 * S, 0},
        {360 * S + 7, 1},
    };
    double f[NF];
    row(f, NAN, NAN);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        int got = qt_sampler_step(&s, f, base + seq[i].t);
        if (got != seq[i].fire) {
            fprintf(stderr, "time row %zu: fire %d\n", i, got);
            CHECK(0);
        }
    }
    CHECK(s.next_ns == base + 420 * S);
    qt_sampler_reset(&s);
    CHECK(s.next_ns == 0 && qt_sampler_step(&s, f, base) == 1);
}

static void test_sampler_config(void) {
    qt_sampler s;
    memset(&s, 0x5a, sizeof s);
    qt_sampler_config c = {.kind = QT_SAMPLER_CUSUM, .threshold = 0.0, .volatility_index = V,
                           .log_return_index = R};
    CHECK(qt_sampler_init(&s, &c) == -1);
    c.threshold = NAN;
    CHECK(qt_sampler_init(&s, &c) == -1);
    c.threshold = INFINITY;
    CHECK(qt_sampler_init(&s, &c) == -1);
    c.threshold = 1.0;
    c.volatility_index = NF;
    CHECK(qt_sampler_init(&s, &c) == -1);
    c.volatility_index = V;
    c.log_return_index = -1;
    CHECK(qt_sampler_init(&s, &c) == -1);
    qt_sampler_config t = {.kind = QT_SAMPLER_TIME, .interval_ns = 0};
    CHECK(qt_sampler_init(&s, &t) == -1);
    qt_sampler_config k = {.kind = 7};
    CHECK(qt_sampler_init(&s, &k) == -1);
    /* refused configurations leave the sampler untouched */
    unsigned char *b = (unsigned char *)&s;
    for (size_t i = 0; i < sizeof s; i++) CHECK(b[i] == 0x5a);
}

/* ------------------------------------------------------------ models */

/* The fixture's outputs (see fixture_tl2cgen_model.c): tree A on column a
 * (< 0.5 low, else high), tree B on column 1 (< 0 neg, else pos). */
static void expected(double a, double b, double *out) {
    static const double a_low[3] = {0.625, 0.25, 0.125}, a_high[3] = {0.125, 0.25, 0.625};
    static const double b_neg[3] = {0.75, 0.25, 0.0}, b_pos[3] = {0.0, 0.25, 0.75};
    const double *la = a < 0.5 ? a_low : a_high, *lb = b < 0 ? b_neg : b_pos;
    for (int k = 0; k < 3; k++) out[k] = (la[k] + lb[k]) / 2;
}

static void test_model_open_and_predict(void) {
    char err[512];
    qt_model m;
    CHECK(qt_model_open(&m, lib_path[LIB_F32], err, sizeof err) == 0);
    CHECK(m.num_feature == 3 && m.num_class == 3 && m.threshold_f64 == 0 && m.leaf_f64 == 0);
    CHECK(qt_model_entry_size(&m) == 4);
    qt_model_entry64 entries[8];
    double out[3], want[3];
    static const double rows[][3] = {{0.25, 1.0, 9.0}, {0.75, -1.0, 9.0}, {0.25, -1.0, 9.0},
                                     {0.75, 1.0, 9.0}, {0.5, 0.0, 9.0}};
    for (int rep = 0; rep < 2; rep++) /* the result is zeroed before every call */
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            CHECK(qt_model_predict_row(&m, rows[i], NULL, entries, out) == 1);
            expected(rows[i][0], rows[i][1], want);
            for (int k = 0; k < 3; k++) CHECK(out[k] == want[k]);
            CHECK(out[0] + out[1] + out[2] == 1.0);
        }
    /* a NaN anywhere in the row: NaN out, predict() not called */
    double nan_row[3] = {0.25, 1.0, NAN};
    CHECK(qt_model_predict_row(&m, nan_row, NULL, entries, out) == 0);
    CHECK(isnan(out[0]) && isnan(out[1]) && isnan(out[2]));
    /* the index map: column j reads x[index[j]] */
    double wide[6] = {7, 0.75, 7, -1.0, 7, 0.0};
    int32_t index[3] = {1, 3, 5};
    CHECK(qt_model_predict_row(&m, wide, index, entries, out) == 1);
    expected(0.75, -1.0, want);
    for (int k = 0; k < 3; k++) CHECK(out[k] == want[k]);
    qt_model_close(&m);
    CHECK(m.lib == NULL);
    qt_model_close(&m); /* closing twice is harmless */

    CHECK(qt_model_open(&m, lib_path[LIB_F64], err, sizeof err) == 0);
    CHECK(m.threshold_f64 == 1 && m.leaf_f64 == 1 && qt_model_entry_size(&m) == 8);
    double r64[3] = {9.0, -1.0, 0.25}; /* this variant's tree A reads column 2 */
    CHECK(qt_model_predict_row(&m, r64, NULL, entries, out) == 1);
    expected(0.25, -1.0, want);
    for (int k = 0; k < 3; k++) CHECK(out[k] == want[k]);
    /* values are rounded to float32 first, as scikit-learn does: just below
     * 0.5 in double is 0.5 in float, so not < 0.5 */
    double r_round[3] = {9.0, 1.0, 0.49999999999};
    CHECK(qt_model_predict_row(&m, r_round, NULL, entries, out) == 1);
    expected(0.5, 1.0, want);
    for (int k = 0; k < 3; k++) CHECK(out[k] == want[k]);
    /* a double whose low word is all ones is a value, never "missing" */
    uint64_t bits = 0x3FD00000FFFFFFFFull; /* just above 0.25 */
    double odd;
    memcpy(&odd, &bits, sizeof odd);
    double r_odd[3] = {9.0, 1.0, odd};
    CHECK(qt_model_predict_row(&m, r_odd, NULL, entries, out) == 1);
    expected(odd, 1.0, want);
    for (int k = 0; k < 3; k++) CHECK(out[k] == want[k]);
    qt_model_close(&m);
}

static void refused(const char *path, const char *needle) {
    char err[512];
    qt_model m;
    CHECK(qt_model_open(&m, path, err, sizeof err) == -1);
    CHECK(m.lib == NULL && strchr(err, '\n') == NULL && strstr(err, path) != NULL);
    if (!strstr(err, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err, needle);
        CHECK(0);
    }
}

static void test_model_refusals(void) {
    FILE *f = fopen(text_path, "wb");
    CHECK(f);
    fputs("not a shared library\n", f);
    fclose(f);
    refused(text_path, "cannot load");
    refused(lib_path[LIB_NO_PREDICT], "no export predict");
    refused(lib_path[LIB_TWO_TARGETS], "one target is needed, it has 2");
    remove(text_path);
}

/* ------------------------------------------------------------ ensemble */

/* With the instrument's engine set, the pipeline filter's clock is the
 * engine's (the ts the batch path stores): a book event at the grid point
 * moves it, so the trade after it, timed 1 s earlier, fires; on the trades'
 * own times it would not. */
static void test_filter_reads_the_engine_clock(const qt_ensemble *e, const double *f) {
    const int64_t S = 1000000000LL, noon = 1699963200LL * S; /* 12:00 UTC, a multiple of 60 s */
    qt_fe_config fc;
    memset(&fc, 0, sizeof fc);
    fc.tick_size = 0.5;
    fc.price_unit = 0.5;
    fc.default_open_s = 9 * 3600;
    fc.default_close_s = 18 * 3600;
    qt_fe *fe = qt_fe_create(&fc);
    CHECK(fe != NULL && qt_fe_clock(fe) == 0);
    qt_sampler_config grid = {.kind = QT_SAMPLER_TIME, .interval_ns = 60 * S};
    static qt_predictor with, without;
    CHECK(qt_predictor_init(&with, e, &grid) == 0 && qt_predictor_init(&without, e, &grid) == 0);
    qt_predictor_set_engine(&with, fe);
    qt_event t1, book, t2;
    memset(&t1, 0, sizeof t1);
    t1.type = QT_EV_TRADE;
    t1.exch_ns = noon + 10 * S;
    t1.price = 11000;
    t1.qty = 1;
    t1.code = 2;
    t1.a = 1;
    t1.b = 2;
    t2 = t1;
    t2.exch_ns = noon + 59 * S; /* before the book event ahead of it */
    memset(&book, 0, sizeof book);
    book.type = QT_EV_L2_LEVEL;
    book.flags = QT_F_LAST;
    book.exch_ns = noon + 60 * S;
    book.price = 10998;
    book.qty = 5;
    double out[QT_FE_NUM_FEATURES];
    qt_pl_decision d;
    memset(&d, 0, sizeof d);
    CHECK(qt_fe_on_event(fe, &t1, out) == 1);
    d.exch_ns = t1.exch_ns;
    CHECK(qt_predictor_pl_filter(&with, &d, f, &t1) == 1 && qt_predictor_pl_filter(&without, &d, f, &t1) == 1);
    qt_fe_on_event(fe, &book, NULL);
    CHECK(qt_fe_clock(fe) == noon + 60 * S);
    CHECK(qt_fe_on_event(fe, &t2, out) == 1 && qt_fe_clock(fe) == noon + 60 * S);
    d.exch_ns = t2.exch_ns;
    CHECK(qt_predictor_pl_filter(&with, &d, f, &t2) == 1);
    CHECK(qt_predictor_pl_filter(&without, &d, f, &t2) == 0);
    qt_fe_destroy(fe);
}

static void test_ensemble(void) {
    char err[512];
    qt_ensemble e;
    const char *paths[2] = {lib_path[LIB_F32], lib_path[LIB_F64]};
    double weights[2] = {1.0, 3.0};
    int32_t index[3] = {QT_FE_SPREAD, QT_FE_RETURNS_1, QT_FE_BOOK_UPDATE_RATE};
    CHECK(qt_ensemble_open(&e, paths, weights, 2, index, 3, err, sizeof err) == 0);
    CHECK(e.n_models == 2 && e.weight[0] == 0.25 && e.weight[1] == 0.75);

    static qt_ens_scratch scratch;
    double f[NF], out[3], p32[3], p64[3];
    for (int j = 0; j < NF; j++) f[j] = NAN; /* columns outside the map may be NaN */
    f[QT_FE_SPREAD] = 0.25;
    f[QT_FE_RETURNS_1] = 1.0;
    f[QT_FE_BOOK_UPDATE_RATE] = 0.75;
    CHECK(qt_ensemble_predict(&e, f, &scratch, out) == 1);
    expected(0.25, 1.0, p32); /* f32 model: tree A on its column 0 = spread */
    expected(0.75, 1.0, p64); /* f64 model: tree A on its column 2 = book_update_rate */
    for (int k = 0; k < 3; k++) CHECK(out[k] == 0.25 * p32[k] + 0.75 * p64[k]);
    CHECK(fabs(out[0] + out[1] + out[2] - 1.0) < 1e-15);
    f[QT_FE_RETURNS_1] = NAN;
    CHECK(qt_ensemble_predict(&e, f, &scratch, out) == 0);
    CHECK(isnan(out[0]) && isnan(out[1]) && isnan(out[2]));
    f[QT_FE_RETURNS_1] = -1.0;

    /* the pipeline hook: time sampler, 60 s grid */
    const int64_t S = 1000000000LL, base = 1699999980LL * S; /* a multiple of 60 s */
    qt_sampler_config grid = {.kind = QT_SAMPLER_TIME, .interval_ns = 60 * S};
    static qt_predictor p;
    CHECK(qt_predictor_init(&p, &e, &grid) == 0);
    qt_pl_hook h;
    qt_predictor_pl_hook(&p, &h);
    CHECK(h.filter_user == &p && h.decide_user == &p);
    qt_pl_decision d;
    memset(&d, 0, sizeof d);
    d.exch_ns = base + 10 * S;
    CHECK(h.filter(h.filter_user, &d, f, NULL) == 1);
    CHECK(h.decide(h.decide_user, &d, f, NULL) == QT_PL_POST);
    expected(0.25, -1.0, p32);
    expected(0.75, -1.0, p64);
    double want[3];
    for (int k = 0; k < 3; k++) want[k] = 0.25 * p32[k] + 0.75 * p64[k];
    for (int k = 0; k < 3; k++) CHECK(d.output[k] == want[k]);
    CHECK(d.action == -1); /* (0.5625, 0.25, 0.1875): sell */
    d.exch_ns = base + 20 * S;
    CHECK(h.filter(h.filter_user, &d, f, NULL) == 0);
    d.exch_ns = QT_TIME_NONE; /* no time: the latest seen, not a fire */
    CHECK(h.filter(h.filter_user, &d, f, NULL) == 0);
    d.exch_ns = base + 60 * S;
    CHECK(h.filter(h.filter_user, &d, f, NULL) == 1);
    f[QT_FE_SPREAD] = NAN;
    d.output[0] = 9.0;
    CHECK(h.decide(h.decide_user, &d, f, NULL) == QT_PL_SKIP);
    CHECK(d.output[0] == 0.0 && d.output[1] == 0.0 && d.output[2] == 0.0);
    f[QT_FE_SPREAD] = 0.75;
    f[QT_FE_RETURNS_1] = 1.0;
    d.exch_ns = base + 120 * S;
    CHECK(h.filter(h.filter_user, &d, f, NULL) == 1);
    CHECK(h.decide(h.decide_user, &d, f, NULL) == QT_PL_POST);
    CHECK(d.action == 1); /* (0.0625, 0.25, 0.6875): buy */
    qt_predict_counters c;
    qt_predictor_get_counters(&p, &c);
    CHECK(c.rows == 5 && c.fired == 3 && c.nan_rows == 1 && c.predicted == 2);
    test_filter_reads_the_engine_clock(&e, f);

    /* the drain hook: the engine's clock; the last prediction kept */
    CHECK(qt_predictor_init(&p, &e, NULL) == 0); /* no sampler: every row */
    qt_fe_hook fh;
    qt_predictor_fe_hook(&p, &fh);
    CHECK(fh.user == &p && isnan(p.last_output[0]));
    qt_event trade;
    memset(&trade, 0, sizeof trade);
    trade.ref = 4242;
    CHECK(fh.fn(fh.user, f, &trade, base) == 0);
    CHECK(p.last_action == 1 && p.last_ts == base && p.last_trade_number == 4242);
    for (int k = 0; k < 3; k++) CHECK(p.last_output[k] == 0.25 * (k == 2 ? 0.6875 : k == 1 ? 0.25 : 0.0625) +
                                                             0.75 * (k == 2 ? 0.6875 : k == 1 ? 0.25 : 0.0625));
    f[QT_FE_SPREAD] = NAN;
    trade.ref = 4243;
    CHECK(fh.fn(fh.user, f, &trade, base + 1) == 0); /* NaN: counted, last kept */
    CHECK(p.last_trade_number == 4242);
    qt_predictor_get_counters(&p, &c);
    CHECK(c.rows == 2 && c.fired == 2 && c.nan_rows == 1 && c.predicted == 1);
    qt_predictor_reset(&p);
    qt_predictor_get_counters(&p, &c);
    CHECK(c.rows == 0 && c.fired == 0 && isnan(p.last_output[2]));
    qt_sampler_config bad = {.kind = QT_SAMPLER_TIME, .interval_ns = -1};
    CHECK(qt_predictor_init(&p, &e, &bad) == -1);
    qt_ensemble_close(&e);
    CHECK(e.n_models == 0);
}

static void ensemble_refused(const char *const *paths, const double *w, size_t n, const int32_t *index,
                             size_t k, const char *needle) {
    char err[512];
    qt_ensemble e;
    CHECK(qt_ensemble_open(&e, paths, w, n, index, k, err, sizeof err) == -1);
    CHECK(e.n_models == 0 && strchr(err, '\n') == NULL);
    if (!strstr(err, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err, needle);
        CHECK(0);
    }
}

static void test_ensemble_refusals(void) {
    int32_t idx3[3] = {0, 1, 2}, idx4[4] = {0, 1, 2, 3}, bad_idx[3] = {0, 1, 77};
    double w1[1] = {1.0}, w2[2] = {1.0, 1.0}, neg[2] = {1.0, -0.5}, zero[2] = {0.0, 0.0};
    const char *good[2] = {lib_path[LIB_F32], lib_path[LIB_F64]};
    const char *five[5] = {good[0], good[0], good[0], good[0], good[0]};
    double w5[5] = {1, 1, 1, 1, 1};
    ensemble_refused(five, w5, 5, idx3, 3, "1 to 4 models");
    ensemble_refused(good, w2, 2, bad_idx, 3, "feature_index[2] = 77");
    ensemble_refused(good, neg, 2, idx3, 3, "weight 1 is -0.5");
    ensemble_refused(good, zero, 2, idx3, 3, "sum to 0");
    ensemble_refused(good, w2, 2, idx4, 4, "takes 3 features, feature_index names 4");
    const char *mixed[2] = {lib_path[LIB_F32], lib_path[LIB_FOUR_FEATURES]};
    ensemble_refused(mixed, w2, 2, idx3, 3, "takes 4 features");
    const char *two[1] = {lib_path[LIB_TWO_CLASSES]};
    ensemble_refused(two, w1, 1, idx3, 3, "2 classes, an ensemble needs 3");
    const char *missing[2] = {lib_path[LIB_F32], lib_path[LIB_NO_PREDICT]};
    ensemble_refused(missing, w2, 2, idx3, 3, "no export predict");
}

int main(int argc, char **argv) {
    CHECK(argc == 2 + N_LIBS);
    snprintf(text_path, sizeof text_path, "%s", argv[1]);
    for (int i = 0; i < N_LIBS; i++) absolute(lib_path[i], sizeof lib_path[i], argv[2 + i]);
    test_sampler_every();
    test_sampler_cusum();
    test_sampler_time();
    test_sampler_config();
    test_model_open_and_predict();
    test_model_refusals();
    test_ensemble();
    test_ensemble_refusals();
    printf("predict: ok\n");
    return 0;
}
