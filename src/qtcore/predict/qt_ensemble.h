/* The compiled ensemble and the per-instrument predictor that runs it
 * inside the drain loop.
 *
 * Ensemble: 1..QT_ENS_MAX_MODELS compiled models (qt_model.h), each with a
 * weight (finite, >= 0, normalised at open to sum 1; the sum must be > 0),
 * and the feature index map: model column j reads features[index[j]] of the
 * engine's 77-vector (0 <= index[j] < 77; k = n_features columns, in model
 * order).  Every model must take exactly k features and give 3 classes,
 * in the order 0 = sell, 1 = hold, 2 = buy.  For one 77-vector:
 *   - any NaN among the k model features: not predicted, out[0..2] = NaN;
 *   - else out[c] = sum_m weight_m * p_m[c], p_m the model's probabilities
 *     (its library's predict(), result zeroed before every call).
 * The ensemble is read-only after qt_ensemble_open: any number of threads
 * may predict with it, each with its own entries scratch.
 *
 * Predictor: one per instrument (or per drain loop) = its sampler state
 * (qt_sampler.h) + a pointer to the shared ensemble + scratch + counters.
 *   pipeline hook (qt_pl_hook of qt_pipeline.h, see qt_predictor_pl_hook):
 *     filter: counts the row, steps the sampler with ts = the clock of the
 *       instrument's engine when one is set (qt_predictor_set_engine: the
 *       very ts the batch path stores, so live decision points equal the
 *       training ones bit for bit), else the trade's exchange time, never
 *       going back (a trade without one or with an earlier one takes the
 *       latest trade time seen; book records do not move this clock, so a
 *       trade timed before the book record ahead of it can differ from the
 *       engine's clock at a time-grid point);
 *     decide: output[0..2] zeroed; NaN in the model features: counted
 *       (nan_rows), QT_PL_SKIP; else output[0..2] = the probabilities,
 *       action = argmax - 1 (-1 sell, 0 hold, +1 buy; the first of equal
 *       maxima), counted (predicted), QT_PL_POST.
 *   drain hook (qt_fe_hook of qt_features.h, see qt_predictor_fe_hook): the
 *     same per row with the engine's clock as ts; the last prediction
 *     (output, action, ts, trade number) is kept in the predictor; it
 *     never stops the drain.
 * Counters: rows (rows the hook saw), fired (of which the sampler chose),
 * nan_rows (of which had NaN in the model features), predicted (the rest).
 * Written by the predictor's thread only (relaxed stores), read from any.
 *
 * No allocation, no lock, no Python in predict or in the hooks.  A
 * predictor belongs to the one thread that runs its hook; give each
 * instrument its own (a predictor installed for all instruments would share
 * one sampler state between them). */
#ifndef QT_ENSEMBLE_H
#define QT_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "features/qt_features.h"
#include "pipeline/qt_pipeline.h"
#include "platform/qt_atomic.h"
#include "predict/qt_model.h"
#include "predict/qt_sampler.h"

#define QT_ENS_MAX_MODELS 4
#define QT_ENS_NUM_CLASS 3
#define QT_ENS_MAX_FEATURES QT_FE_NUM_FEATURES

typedef struct qt_ensemble {
    qt_model model[QT_ENS_MAX_MODELS];
    double weight[QT_ENS_MAX_MODELS]; /* normalised */
    uint32_t n_models;
    uint32_t n_features;
    int32_t index[QT_ENS_MAX_FEATURES];
} qt_ensemble;

/* Scratch for one row's entries (8 bytes per entry fits both types). */
typedef struct qt_ens_scratch {
    qt_model_entry64 entries[QT_ENS_MAX_FEATURES];
    double probs[QT_MODEL_MAX_CLASS];
} qt_ens_scratch;

/* Opens paths[0..n_models) with their weights and the index map.  0, or -1
 * with a one-line reason in err (the offending path or argument named);
 * nothing is left open then. */
int qt_ensemble_open(qt_ensemble *e, const char *const *paths, const double *weights, size_t n_models,
                     const int32_t *index, size_t n_features, char *err, size_t errcap);
void qt_ensemble_close(qt_ensemble *e);

/* One 77-vector: 1 and out[0..3) the weighted probabilities, or 0 and NaN
 * (a NaN among the model features). */
int qt_ensemble_predict(const qt_ensemble *e, const double *features, qt_ens_scratch *scratch,
                        double *out);

typedef struct qt_predict_counters {
    uint64_t rows, fired, nan_rows, predicted;
} qt_predict_counters;

typedef struct qt_predictor {
    const qt_ensemble *ens;
    qt_sampler sampler;
    const qt_fe *engine; /* pipeline: the instrument's engine (its clock), or NULL */
    int64_t clock_ns;     /* pipeline without an engine: latest trade time seen */
    int have_clock;
    int16_t last_action; /* drain hook: the last prediction */
    int64_t last_ts;
    int64_t last_trade_number;
    double last_output[QT_ENS_NUM_CLASS];
    qt_atomic_u64 rows, fired, nan_rows, predicted;
    qt_ens_scratch scratch;
} qt_predictor;

/* A fresh predictor of `e` with its own sampler (NULL config: every row
 * fires).  0, or -1 for a bad sampler configuration. */
int qt_predictor_init(qt_predictor *p, const qt_ensemble *e, const qt_sampler_config *sampler);
/* The engine whose clock the pipeline filter reads (NULL: the trades'
 * own times).  The engine must outlive its use by the predictor. */
void qt_predictor_set_engine(qt_predictor *p, const qt_fe *engine);
/* Fresh sampler state, clock, last prediction and counters. */
void qt_predictor_reset(qt_predictor *p);
void qt_predictor_get_counters(const qt_predictor *p, qt_predict_counters *out);

/* The hooks (user = the predictor). */
int qt_predictor_pl_filter(void *user, const qt_pl_decision *d, const double *features,
                           const qt_event *trade);
int qt_predictor_pl_decide(void *user, qt_pl_decision *d, const double *features, const qt_event *trade);
int qt_predictor_fe_decide(void *user, const double *features, const qt_event *trade, int64_t ts);
/* The hook structs with `p` as user data. */
void qt_predictor_pl_hook(qt_predictor *p, qt_pl_hook *out);
void qt_predictor_fe_hook(qt_predictor *p, qt_fe_hook *out);

#endif
