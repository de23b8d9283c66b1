/* The decision-point sampler (see qt_sampler.h for the contract). */
#include "predict/qt_sampler.h"

#include <math.h>
#include <string.h>

int qt_sampler_init(qt_sampler *s, const qt_sampler_config *cfg) {
    switch (cfg->kind) {
    case QT_SAMPLER_EVERY:
        break;
    case QT_SAMPLER_CUSUM:
        if (!(isfinite(cfg->threshold) && cfg->threshold > 0.0)) return -1;
        if (cfg->volatility_index < 0 || cfg->volatility_index >= QT_SAMPLER_NUM_FEATURES) return -1;
        if (cfg->log_return_index < 0 || cfg->log_return_index >= QT_SAMPLER_NUM_FEATURES) return -1;
        break;
    case QT_SAMPLER_TIME:
        if (cfg->interval_ns <= 0) return -1;
        break;
    default:
        return -1;
    }
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->cfg._pad = 0;
    return 0;
}

void qt_sampler_reset(qt_sampler *s) {
    s->s_pos = 0.0;
    s->s_neg = 0.0;
    s->next_ns = 0;
    s->rows = 0;
    s->fired = 0;
}

static int cusum(qt_sampler *s, const double *f) {
    double r = f[s->cfg.log_return_index];
    if (isnan(r)) {
        s->s_pos = 0.0;
        s->s_neg = 0.0;
        return 0;
    }
    double up = s->s_pos + r, down = s->s_neg + r;
    s->s_pos = up > 0.0 ? up : 0.0;
    s->s_neg = down < 0.0 ? down : 0.0;
    double sigma = f[s->cfg.volatility_index];
    if (isnan(sigma) || sigma <= 0.0) return 0;
    double h = s->cfg.threshold * sigma;
    int fire = 0;
    if (s->s_pos >= h) {
        s->s_pos = 0.0;
        fire = 1;
    }
    if (s->s_neg <= -h) {
        s->s_neg = 0.0;
        fire = 1;
    }
    return fire;
}

static int grid(qt_sampler *s, int64_t ts) {
    if (ts < s->next_ns) return 0;
    int64_t k = ts / s->cfg.interval_ns + 1; /* ts >= 0 here */
    s->next_ns = k <= INT64_MAX / s->cfg.interval_ns ? k * s->cfg.interval_ns : INT64_MAX;
    return 1;
}

int qt_sampler_step(qt_sampler *s, const double *features, int64_t ts) {
    int fire;
    switch (s->cfg.kind) {
    case QT_SAMPLER_CUSUM:
        fire = cusum(s, features);
        break;
    case QT_SAMPLER_TIME:
        fire = grid(s, ts);
        break;
    default:
        fire = 1;
        break;
    }
    s->rows++;
    s->fired += (uint64_t)fire;
    return fire;
}

size_t qt_sampler_select(qt_sampler *s, const double *features, const int64_t *ts, size_t n,
                         uint8_t *out) {
    size_t fired = 0;
    for (size_t i = 0; i < n; i++) {
        int f = qt_sampler_step(s, features + i * QT_SAMPLER_NUM_FEATURES, ts ? ts[i] : 0);
        out[i] = (uint8_t)f;
        fired += (size_t)f;
    }
    return fired;
}
