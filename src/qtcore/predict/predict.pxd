# Typed interface of the predict module (qt_sampler.h, qt_model.h,
# qt_ensemble.h), cimported by predict.pyx.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t

from events cimport qt_event
from features cimport qt_fe, qt_fe_hook
from pipeline cimport qt_pl_decision, qt_pl_hook


cdef extern from "predict/qt_sampler.h" nogil:
    enum qt_sampler_kind:
        QT_SAMPLER_EVERY
        QT_SAMPLER_CUSUM
        QT_SAMPLER_TIME
    enum: QT_SAMPLER_NUM_FEATURES
    ctypedef struct qt_sampler_config:
        int32_t kind
        int32_t volatility_index
        int32_t log_return_index
        double threshold
        int64_t interval_ns
    ctypedef struct qt_sampler:
        qt_sampler_config cfg
        double s_pos
        double s_neg
        int64_t next_ns
        uint64_t rows
        uint64_t fired
    int qt_sampler_init(qt_sampler *s, const qt_sampler_config *cfg)
    void qt_sampler_reset(qt_sampler *s)
    int qt_sampler_step(qt_sampler *s, const double *features, int64_t ts)
    size_t qt_sampler_select(qt_sampler *s, const double *features, const int64_t *ts, size_t n,
                             uint8_t *out)


cdef extern from "predict/qt_model.h" nogil:
    enum: QT_MODEL_MAX_CLASS
    enum: QT_MODEL_MAX_FEATURES
    ctypedef struct qt_model:
        void *lib
        int32_t num_feature
        int32_t num_class
        int32_t threshold_f64
        int32_t leaf_f64
    int qt_model_open(qt_model *m, const char *path_utf8, char *err, size_t errcap)
    void qt_model_close(qt_model *m)
    size_t qt_model_entry_size(const qt_model *m)
    int qt_model_predict_row(const qt_model *m, const double *x, const int32_t *index, void *entries,
                             double *out)


cdef extern from "predict/qt_ensemble.h" nogil:
    enum: QT_ENS_MAX_MODELS
    enum: QT_ENS_NUM_CLASS
    enum: QT_ENS_MAX_FEATURES
    ctypedef struct qt_ensemble:
        qt_model model[4]
        double weight[4]
        uint32_t n_models
        uint32_t n_features
        int32_t index[77]
    ctypedef struct qt_ens_scratch:
        pass
    int qt_ensemble_open(qt_ensemble *e, const char *const *paths, const double *weights, size_t n_models,
                         const int32_t *index, size_t n_features, char *err, size_t errcap)
    void qt_ensemble_close(qt_ensemble *e)
    int qt_ensemble_predict(const qt_ensemble *e, const double *features, qt_ens_scratch *scratch,
                            double *out)
    ctypedef struct qt_predict_counters:
        uint64_t rows, fired, nan_rows, predicted
    ctypedef struct qt_predictor:
        int16_t last_action
        int64_t last_ts
        int64_t last_trade_number
        double last_output[3]
    int qt_predictor_init(qt_predictor *p, const qt_ensemble *e, const qt_sampler_config *sampler)
    void qt_predictor_set_engine(qt_predictor *p, const qt_fe *engine)
    void qt_predictor_reset(qt_predictor *p)
    void qt_predictor_get_counters(const qt_predictor *p, qt_predict_counters *out)
    void qt_predictor_pl_hook(qt_predictor *p, qt_pl_hook *out)
    void qt_predictor_fe_hook(qt_predictor *p, qt_fe_hook *out)
