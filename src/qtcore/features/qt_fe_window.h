/* Private to the feature engine (qt_features.c and its qt_fe_*.c parts; not
 * installed, not part of the qt_features.h contract).
 *
 * The engine's rolling windows, apart from the sums kept in the engine
 * itself:
 *   - fe_trade, the per-trade history: one 64-byte record per trade in a
 *     ring of HIST (512) trades, enough for every lag and W_500 (trade i of
 *     the session is hist[i & HMASK]);
 *   - fe_secwin, counts over whole seconds: the number of items whose second
 *     lies in [head - k + 1, head], for k < SECS (trade intensity over 60 s,
 *     book update rate over 10 s).  The end only moves forward;
 *   - return statistics of W_N(r) from the exact sums (std exactly 0 iff all
 *     returns are equal), or two-pass from the stored doubles when a return
 *     off the 2^-53 grid (|r| > 1) is in the window;
 *   - fe_gk, Garman-Klass over the last GK_BARS completed one-minute bars of
 *     local time (defined from 5 bars).
 *
 * What runs per trade is static inline here (it must stay inlinable into
 * the engine's trade path); what runs once a minute or on bad data is in
 * qt_fe_window.c. */
#ifndef QT_FE_WINDOW_H
#define QT_FE_WINDOW_H

#include <math.h>
#include <stdint.h>

#include "platform/qt_civil_date.h"
#include "features/qt_fe_int128.h"

/* ------------------------------------------------------- per-trade history */

#define HIST 512 /* >= 501: p_(t-100) and W_500 */
#define HMASK (HIST - 1)

enum { TB_BIG = 1, TB_BUYER_CHANGED = 2, TB_SELLER_CHANGED = 4 };

/* One trade as the windows need it: one cache line, so the few lagged
 * trades read per update cost one line each. */
typedef struct fe_trade {
    int64_t P;  /* price units */
    double p;   /* price */
    int64_t R;  /* r * 2^53 (0 when TB_BIG or the session's first trade) */
    double r;   /* one-trade return (0 for the first trade) */
    fe_i128 QR; /* fl(q*r) * 2^53 (0 when TB_BIG) */
    int32_t q;
    int32_t ti; /* trades in the 60-second window at this trade */
    uint16_t bslot, sslot;
    int8_t s;
    uint8_t bits;
    uint8_t _pad[2];
} fe_trade;
_Static_assert(sizeof(fe_trade) == 64, "one cache line per trade");

static inline const fe_trade *fe_hist_at(const fe_trade *hist, int64_t i) { return &hist[i & HMASK]; }

/* ------------------------------------------------- whole-second windows */

#define SECS 64 /* > the longest window (60 s) */

typedef struct fe_secwin {
    int64_t tag[SECS];
    int64_t cnt[SECS];
    int64_t total;
    int64_t head; /* latest second seen */
    int32_t k;    /* window length in seconds */
    int32_t empty;
} fe_secwin;

void qt_fe_secwin_clear(fe_secwin *w, int32_t k);

/* Move the window's end to second s (>= head): seconds below s-k+1 leave. */
static inline void secwin_advance(fe_secwin *w, int64_t s) {
    if (w->empty) {
        w->head = s;
        w->empty = 0;
        return;
    }
    if (s <= w->head) return;
    if (s - w->head >= w->k) {
        for (int i = 0; i < SECS; i++) {
            w->tag[i] = INT64_MIN;
            w->cnt[i] = 0;
        }
        w->total = 0;
    } else {
        for (int64_t x = w->head - w->k + 1; x <= s - w->k; x++) {
            int b = (int)(x & (SECS - 1));
            if (w->tag[b] == x) {
                w->total -= w->cnt[b];
                w->cnt[b] = 0;
                w->tag[b] = INT64_MIN;
            }
        }
    }
    w->head = s;
}

static inline void secwin_add(fe_secwin *w, int64_t s) {
    secwin_advance(w, s);
    int b = (int)(s & (SECS - 1));
    if (w->tag[b] != s) {
        w->tag[b] = s;
        w->cnt[b] = 0;
    }
    w->cnt[b]++;
    w->total++;
}

/* -------------------------------------------------------- return windows */

/* W_len(r) of the trades (n - len, n] when the window holds a return off
 * the exact grid: two-pass from the stored doubles. */
void qt_fe_return_stats_two_pass(const fe_trade *hist, int64_t n, uint32_t len, double *mean, double *sd);

/* mean and sample std of W_len(r) ending at trade n, in return units, from
 * the exact sums s1 = sum(R), s2 = sum(R^2) (R = r * 2^53) unless `big`
 * returns off the grid are in the window (then two-pass, counted in
 * *recomputations). */
static inline void fe_return_stats(const fe_trade *hist, int64_t n, uint32_t len, int64_t s1, fe_i128 s2,
                                   int32_t big, uint64_t *recomputations, double *mean, double *sd) {
    if (big == 0) {
        *mean = (double)s1 / len * INV_TWO53;
        *sd = std_from_sums(s1, s2, len) * INV_TWO53;
        return;
    }
    (*recomputations)++;
    qt_fe_return_stats_two_pass(hist, n, len, mean, sd);
}

/* ------------------------------------------------------- Garman-Klass bars */

#define GK_BARS 20
#define GK_K 0.3862943611198906 /* 2 ln 2 - 1 */

typedef struct fe_gk {
    int have_bar;
    int64_t bar_minute;
    double bo, bh, bl, bc;
    double terms[GK_BARS];
    int64_t n;   /* bars completed */
    double value; /* NAN until 5 bars */
} fe_gk;

static inline void fe_gk_clear(fe_gk *g) {
    g->have_bar = 0;
    g->n = 0;
    g->value = NAN;
}

/* The current bar is complete (a trade of a later minute came). */
void qt_fe_gk_complete_bar(fe_gk *g);

/* A trade at price p, local second local_sec. */
static inline void fe_gk_update(fe_gk *g, int64_t local_sec, double p) {
    int64_t minute = qt_floor_div(local_sec, 60);
    if (g->have_bar && minute == g->bar_minute) {
        if (p > g->bh) g->bh = p;
        if (p < g->bl) g->bl = p;
        g->bc = p;
        return;
    }
    if (g->have_bar) qt_fe_gk_complete_bar(g);
    g->have_bar = 1;
    g->bar_minute = minute;
    g->bo = g->bh = g->bl = g->bc = p;
}

#endif
