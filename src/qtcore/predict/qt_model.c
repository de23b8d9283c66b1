/* A compiled tree model (see qt_model.h for the contract). */
#include "predict/qt_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "platform/qt_dl.h"

_Static_assert(sizeof(qt_model_entry32) == 4, "tl2cgen float32 entry");
_Static_assert(sizeof(qt_model_entry64) == 8, "tl2cgen float64 entry");

typedef int32_t (*get_i32_fn)(void);
typedef void (*get_num_class_fn)(int32_t *out);
typedef const char *(*get_str_fn)(void);

static const char *const EXPORTS[] = {
    "predict", "get_num_target", "get_num_class", "get_num_feature", "get_threshold_type",
    "get_leaf_output_type",
};
enum { N_EXPORTS = sizeof EXPORTS / sizeof EXPORTS[0] };

/* 1 float64, 0 float32, -1 anything else (NULL included). */
static int float_type(const char *t) {
    if (!t) return -1;
    if (strcmp(t, "float64") == 0) return 1;
    if (strcmp(t, "float32") == 0) return 0;
    return -1;
}

static int refuse(qt_model *m, void *lib, char *err, size_t errcap, const char *path, const char *why,
                  long long value) {
    if (err && errcap) snprintf(err, errcap, "%s: %s%lld", path, why, value);
    if (lib) qt_dl_close(lib);
    memset(m, 0, sizeof *m);
    return -1;
}

int qt_model_open(qt_model *m, const char *path, char *err, size_t errcap) {
    memset(m, 0, sizeof *m);
    if (err && errcap) err[0] = '\0';
    void *lib = qt_dl_open(path, err, errcap);
    if (!lib) return -1; /* qt_dl_open's message names the path and the OS's reason */
    void *sym[N_EXPORTS];
    for (int i = 0; i < N_EXPORTS; i++) {
        sym[i] = qt_dl_sym(lib, EXPORTS[i]);
        if (!sym[i]) {
            if (err && errcap)
                snprintf(err, errcap, "%s: not a tl2cgen model library (no export %s)", path, EXPORTS[i]);
            qt_dl_close(lib);
            return -1;
        }
    }
    /* object pointers -> function pointers without a cast (as qt_profitdll_api.c) */
    qt_model_predict_fn predict;
    get_i32_fn num_target, num_feature;
    get_num_class_fn num_class;
    get_str_fn threshold_type, leaf_type;
    memcpy(&predict, &sym[0], sizeof predict);
    memcpy(&num_target, &sym[1], sizeof num_target);
    memcpy(&num_class, &sym[2], sizeof num_class);
    memcpy(&num_feature, &sym[3], sizeof num_feature);
    memcpy(&threshold_type, &sym[4], sizeof threshold_type);
    memcpy(&leaf_type, &sym[5], sizeof leaf_type);

    int32_t targets = num_target();
    if (targets != 1)
        return refuse(m, lib, err, errcap, path, "a model with one target is needed, it has ", targets);
    int32_t classes = 0;
    num_class(&classes); /* one target: one value */
    if (classes < 1 || classes > QT_MODEL_MAX_CLASS)
        return refuse(m, lib, err, errcap, path, "unsupported number of classes: ", classes);
    int32_t features = num_feature();
    if (features < 1 || features > QT_MODEL_MAX_FEATURES)
        return refuse(m, lib, err, errcap, path, "unsupported number of features: ", features);
    const char *tt = threshold_type(), *lt = leaf_type();
    int t64 = float_type(tt), l64 = float_type(lt);
    if (t64 < 0 || l64 < 0) {
        if (err && errcap)
            snprintf(err, errcap, "%s: unsupported %s type \"%.32s\" (float32 or float64 expected)", path,
                     t64 < 0 ? "threshold" : "leaf output", t64 < 0 ? (tt ? tt : "") : (lt ? lt : ""));
        qt_dl_close(lib);
        return -1;
    }
    m->lib = lib;
    m->predict = predict;
    m->num_feature = features;
    m->num_class = classes;
    m->threshold_f64 = t64;
    m->leaf_f64 = l64;
    return 0;
}

void qt_model_close(qt_model *m) {
    if (m->lib) qt_dl_close(m->lib);
    memset(m, 0, sizeof *m);
}

size_t qt_model_entry_size(const qt_model *m) {
    return m->threshold_f64 ? sizeof(qt_model_entry64) : sizeof(qt_model_entry32);
}

int qt_model_predict_row(const qt_model *m, const double *x, const int32_t *index, void *entries,
                         double *out) {
    int32_t nf = m->num_feature, nc = m->num_class;
    if (m->threshold_f64) {
        qt_model_entry64 *e = (qt_model_entry64 *)entries;
        for (int32_t j = 0; j < nf; j++) {
            double v = x[index ? index[j] : j];
            if (isnan(v)) goto nan_row;
            /* scikit-learn compares float32(x) with its double thresholds */
            e[j].fvalue = (double)(float)v;
        }
    } else {
        qt_model_entry32 *e = (qt_model_entry32 *)entries;
        for (int32_t j = 0; j < nf; j++) {
            double v = x[index ? index[j] : j];
            if (isnan(v)) goto nan_row;
            e[j].fvalue = (float)v;
        }
    }
    if (m->leaf_f64) {
        for (int32_t k = 0; k < nc; k++) out[k] = 0.0;
        m->predict(entries, 0, out);
    } else {
        float r[QT_MODEL_MAX_CLASS];
        for (int32_t k = 0; k < nc; k++) r[k] = 0.0f;
        m->predict(entries, 0, r);
        for (int32_t k = 0; k < nc; k++) out[k] = (double)r[k];
    }
    return 1;
nan_row:
    for (int32_t k = 0; k < nc; k++) out[k] = NAN;
    return 0;
}
