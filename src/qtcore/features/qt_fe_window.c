/* The feature engine's rolling windows, the parts off the per-trade path
 * (see qt_fe_window.h for the contract). */
#include "features/qt_fe_window.h"

#include <math.h>

void qt_fe_secwin_clear(fe_secwin *w, int32_t k) {
    for (int i = 0; i < SECS; i++) {
        w->tag[i] = INT64_MIN;
        w->cnt[i] = 0;
    }
    w->total = 0;
    w->head = 0;
    w->k = k;
    w->empty = 1;
}

void qt_fe_return_stats_two_pass(const fe_trade *hist, int64_t n, uint32_t len, double *mean, double *sd) {
    double s = 0.0, ss = 0.0;
    for (int64_t i = n - len + 1; i <= n; i++) s += fe_hist_at(hist, i)->r;
    double m = s / len;
    int equal = 1;
    double r0 = fe_hist_at(hist, n)->r;
    for (int64_t i = n - len + 1; i <= n; i++) {
        double d = fe_hist_at(hist, i)->r - m;
        ss += d * d;
        equal &= fe_hist_at(hist, i)->r == r0;
    }
    *mean = m;
    *sd = equal ? 0.0 : sqrt(ss / (len - 1));
}

void qt_fe_gk_complete_bar(fe_gk *g) {
    double hl = log(g->bh / g->bl), co = log(g->bc / g->bo);
    g->terms[g->n % GK_BARS] = 0.5 * hl * hl - GK_K * co * co;
    g->n++;
    if (g->n < 5) return;
    int64_t m = g->n < GK_BARS ? g->n : GK_BARS;
    double s = 0.0;
    for (int64_t i = g->n - m; i < g->n; i++) s += g->terms[i % GK_BARS];
    double mean = s / (double)m;
    g->value = sqrt(mean > 0.0 ? mean : 0.0);
}
