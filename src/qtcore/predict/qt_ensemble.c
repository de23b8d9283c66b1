/* The compiled ensemble and its per-instrument predictor (see
 * qt_ensemble.h for the contract). */
#include "predict/qt_ensemble.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int qt_ensemble_open(qt_ensemble *e, const char *const *paths, const double *weights, size_t n_models,
                     const int32_t *index, size_t n_features, char *err, size_t errcap) {
    memset(e, 0, sizeof *e);
    if (err && errcap) err[0] = '\0';
    if (n_models < 1 || n_models > QT_ENS_MAX_MODELS) {
        if (err && errcap)
            snprintf(err, errcap, "an ensemble holds 1 to %d models, got %zu", QT_ENS_MAX_MODELS, n_models);
        return -1;
    }
    if (n_features < 1 || n_features > QT_ENS_MAX_FEATURES) {
        if (err && errcap)
            snprintf(err, errcap, "feature_index must name 1 to %d columns, got %zu", QT_ENS_MAX_FEATURES,
                     n_features);
        return -1;
    }
    for (size_t j = 0; j < n_features; j++) {
        if (index[j] < 0 || index[j] >= QT_FE_NUM_FEATURES) {
            if (err && errcap)
                snprintf(err, errcap, "feature_index[%zu] = %d is not a column of the %d-feature vector", j,
                         (int)index[j], QT_FE_NUM_FEATURES);
            return -1;
        }
        e->index[j] = index[j];
    }
    double sum = 0.0;
    for (size_t m = 0; m < n_models; m++) {
        if (!(isfinite(weights[m]) && weights[m] >= 0.0)) {
            if (err && errcap) snprintf(err, errcap, "weight %zu is %g: weights must be finite and >= 0", m,
                                        weights[m]);
            return -1;
        }
        sum += weights[m];
    }
    if (!(sum > 0.0 && isfinite(sum))) {
        if (err && errcap) snprintf(err, errcap, "the weights sum to %g: at least one must be > 0", sum);
        return -1;
    }
    e->n_features = (uint32_t)n_features;
    for (size_t m = 0; m < n_models; m++) {
        qt_model *md = &e->model[m];
        if (qt_model_open(md, paths[m], err, errcap) != 0) {
            qt_ensemble_close(e);
            return -1;
        }
        e->n_models = (uint32_t)m + 1;
        e->weight[m] = weights[m] / sum;
        if ((size_t)md->num_feature != n_features || md->num_class != QT_ENS_NUM_CLASS) {
            if (err && errcap) {
                if (md->num_class != QT_ENS_NUM_CLASS)
                    snprintf(err, errcap, "%s: the model has %d classes, an ensemble needs 3 (sell, hold, buy)",
                             paths[m], (int)md->num_class);
                else
                    snprintf(err, errcap, "%s: the model takes %d features, feature_index names %zu", paths[m],
                             (int)md->num_feature, n_features);
            }
            qt_ensemble_close(e);
            return -1;
        }
    }
    return 0;
}

void qt_ensemble_close(qt_ensemble *e) {
    for (uint32_t m = 0; m < e->n_models; m++) qt_model_close(&e->model[m]);
    memset(e, 0, sizeof *e);
}

int qt_ensemble_predict(const qt_ensemble *e, const double *features, qt_ens_scratch *s, double *out) {
    for (uint32_t j = 0; j < e->n_features; j++) {
        if (isnan(features[e->index[j]])) {
            for (int c = 0; c < QT_ENS_NUM_CLASS; c++) out[c] = NAN;
            return 0;
        }
    }
    for (int c = 0; c < QT_ENS_NUM_CLASS; c++) out[c] = 0.0;
    for (uint32_t m = 0; m < e->n_models; m++) {
        qt_model_predict_row(&e->model[m], features, e->index, s->entries, s->probs);
        for (int c = 0; c < QT_ENS_NUM_CLASS; c++) out[c] += e->weight[m] * s->probs[c];
    }
    return 1;
}

/* ------------------------------------------------------------ predictor */

static inline void bump(qt_atomic_u64 *c) { qt_store_relaxed(c, qt_load_relaxed(c) + 1); }

int qt_predictor_init(qt_predictor *p, const qt_ensemble *e, const qt_sampler_config *sampler) {
    qt_sampler_config every;
    memset(&every, 0, sizeof every);
    every.kind = QT_SAMPLER_EVERY;
    qt_sampler s;
    if (qt_sampler_init(&s, sampler ? sampler : &every) != 0) return -1;
    memset(p, 0, sizeof *p);
    p->ens = e;
    p->sampler = s;
    qt_predictor_reset(p);
    return 0;
}

void qt_predictor_set_engine(qt_predictor *p, const qt_fe *engine) { p->engine = engine; }

void qt_predictor_reset(qt_predictor *p) {
    qt_sampler_reset(&p->sampler);
    p->clock_ns = 0;
    p->have_clock = 0;
    p->last_action = 0;
    p->last_ts = 0;
    p->last_trade_number = 0;
    for (int c = 0; c < QT_ENS_NUM_CLASS; c++) p->last_output[c] = NAN;
    qt_store_relaxed(&p->rows, 0);
    qt_store_relaxed(&p->fired, 0);
    qt_store_relaxed(&p->nan_rows, 0);
    qt_store_relaxed(&p->predicted, 0);
}

void qt_predictor_get_counters(const qt_predictor *p, qt_predict_counters *out) {
    /* the counters are never written through this pointer; the cast only
     * drops const for C11's atomic_load on pre-C17 compilers */
    qt_predictor *q = (qt_predictor *)p;
    out->rows = qt_load_relaxed(&q->rows);
    out->fired = qt_load_relaxed(&q->fired);
    out->nan_rows = qt_load_relaxed(&q->nan_rows);
    out->predicted = qt_load_relaxed(&q->predicted);
}

/* Counts the row and steps the sampler: 1 if it fired. */
static inline int select_row(qt_predictor *p, const double *features, int64_t ts) {
    bump(&p->rows);
    if (!qt_sampler_step(&p->sampler, features, ts)) return 0;
    bump(&p->fired);
    return 1;
}

/* Predicts a chosen row into out[3]: the action (-1, 0, +1), or 2 for a
 * NaN row (counted). */
static inline int predict_row(qt_predictor *p, const double *features, double *out) {
    if (!qt_ensemble_predict(p->ens, features, &p->scratch, out)) {
        bump(&p->nan_rows);
        return 2;
    }
    bump(&p->predicted);
    int best = 0;
    for (int c = 1; c < QT_ENS_NUM_CLASS; c++)
        if (out[c] > out[best]) best = c;
    return best - 1;
}

int qt_predictor_pl_filter(void *user, const qt_pl_decision *d, const double *features,
                           const qt_event *trade) {
    (void)trade;
    qt_predictor *p = (qt_predictor *)user;
    if (p->engine) {
        p->clock_ns = qt_fe_clock(p->engine);
    } else if (d->exch_ns != QT_TIME_NONE && (!p->have_clock || d->exch_ns > p->clock_ns)) {
        p->clock_ns = d->exch_ns;
        p->have_clock = 1;
    }
    return select_row(p, features, p->clock_ns);
}

int qt_predictor_pl_decide(void *user, qt_pl_decision *d, const double *features, const qt_event *trade) {
    (void)trade;
    qt_predictor *p = (qt_predictor *)user;
    double out[QT_ENS_NUM_CLASS];
    int action = predict_row(p, features, out);
    if (action == 2) {
        for (int c = 0; c < QT_PL_OUTPUTS; c++) d->output[c] = 0.0;
        return QT_PL_SKIP;
    }
    for (int c = 0; c < QT_ENS_NUM_CLASS; c++) d->output[c] = out[c];
    d->action = (int16_t)action;
    return QT_PL_POST;
}

int qt_predictor_fe_decide(void *user, const double *features, const qt_event *trade, int64_t ts) {
    qt_predictor *p = (qt_predictor *)user;
    if (!select_row(p, features, ts)) return 0;
    double out[QT_ENS_NUM_CLASS];
    int action = predict_row(p, features, out);
    if (action == 2) return 0;
    for (int c = 0; c < QT_ENS_NUM_CLASS; c++) p->last_output[c] = out[c];
    p->last_action = (int16_t)action;
    p->last_ts = ts;
    p->last_trade_number = trade ? trade->ref : 0;
    return 0;
}

void qt_predictor_pl_hook(qt_predictor *p, qt_pl_hook *out) {
    out->filter = qt_predictor_pl_filter;
    out->filter_user = p;
    out->decide = qt_predictor_pl_decide;
    out->decide_user = p;
}

void qt_predictor_fe_hook(qt_predictor *p, qt_fe_hook *out) {
    out->fn = qt_predictor_fe_decide;
    out->user = p;
}
