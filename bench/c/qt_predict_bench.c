/* See qt_predict_bench.h. */
#include "qt_predict_bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_atomic.h"
#include "platform/qt_dl.h"

typedef uint64_t bst_ulong;
typedef int (*xgb_create_fn)(void *const *dmats, bst_ulong len, void **out);
typedef int (*xgb_load_fn)(void *handle, const char *fname);
typedef int (*xgb_set_param_fn)(void *handle, const char *name, const char *value);
typedef int (*xgb_predict_dense_fn)(void *handle, const char *values, const char *config, void *m,
                                    const bst_ulong **out_shape, bst_ulong *out_dim, const float **out_result);
typedef int (*xgb_free_fn)(void *handle);
typedef const char *(*xgb_last_error_fn)(void);

#define XGB_MAX_FEATURES 4096

struct qt_xgb_api {
    void *lib;
    void *booster;
    xgb_predict_dense_fn predict;
    xgb_free_fn free_booster;
    xgb_last_error_fn last_error;
    char values[160];
    float row[XGB_MAX_FEATURES];
};

static const char PREDICT_CONFIG[] =
    "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
    "\"strict_shape\": false, \"missing\": NaN}";

static void xgb_error(const qt_xgb_api *x, const char *what, char *err, size_t errcap) {
    if (err && errcap) snprintf(err, errcap, "%s: %s", what, x->last_error ? x->last_error() : "failed");
}

qt_xgb_api *qt_xgb_api_open(const char *lib_path, const char *model_json, char *err, size_t errcap) {
    qt_xgb_api *x = calloc(1, sizeof *x);
    if (!x) {
        if (err && errcap) snprintf(err, errcap, "out of memory");
        return NULL;
    }
    x->lib = qt_dl_open(lib_path, err, errcap);
    if (!x->lib) {
        free(x);
        return NULL;
    }
    xgb_create_fn create = (xgb_create_fn)qt_dl_sym(x->lib, "XGBoosterCreate");
    xgb_load_fn load = (xgb_load_fn)qt_dl_sym(x->lib, "XGBoosterLoadModel");
    xgb_set_param_fn set_param = (xgb_set_param_fn)qt_dl_sym(x->lib, "XGBoosterSetParam");
    x->predict = (xgb_predict_dense_fn)qt_dl_sym(x->lib, "XGBoosterPredictFromDense");
    x->free_booster = (xgb_free_fn)qt_dl_sym(x->lib, "XGBoosterFree");
    x->last_error = (xgb_last_error_fn)qt_dl_sym(x->lib, "XGBGetLastError");
    if (!create || !load || !set_param || !x->predict || !x->free_booster || !x->last_error) {
        if (err && errcap) snprintf(err, errcap, "%s: not XGBoost's C API (an export is missing)", lib_path);
        qt_xgb_api_close(x);
        return NULL;
    }
    if (create(NULL, 0, &x->booster) != 0) {
        xgb_error(x, "XGBoosterCreate", err, errcap);
        qt_xgb_api_close(x);
        return NULL;
    }
    if (load(x->booster, model_json) != 0) {
        xgb_error(x, model_json, err, errcap);
        qt_xgb_api_close(x);
        return NULL;
    }
    if (set_param(x->booster, "nthread", "1") != 0) {
        xgb_error(x, "XGBoosterSetParam nthread", err, errcap);
        qt_xgb_api_close(x);
        return NULL;
    }
    return x;
}

void qt_xgb_api_close(qt_xgb_api *x) {
    if (!x) return;
    if (x->booster && x->free_booster) x->free_booster(x->booster);
    if (x->lib) qt_dl_close(x->lib);
    free(x);
}

int qt_xgb_api_time_rows(qt_xgb_api *x, const double *rows, size_t n, size_t stride, const int32_t *index,
                         size_t k, int64_t *lat_ns, double *out, char *err, size_t errcap) {
    if (k == 0 || k > XGB_MAX_FEATURES) {
        if (err && errcap) snprintf(err, errcap, "%zu features: 1 to %d", k, XGB_MAX_FEATURES);
        return -1;
    }
    /* one buffer for every row, so the array interface text is fixed */
    snprintf(x->values, sizeof x->values,
             "{\"data\": [%" PRIuPTR ", false], \"shape\": [1, %zu], \"typestr\": \"<f4\", \"version\": 3}",
             (uintptr_t)x->row, k);
    for (size_t i = 0; i < n; i++) {
        const double *r = rows + i * stride;
        const bst_ulong *shape = NULL;
        bst_ulong dim = 0;
        const float *res = NULL;
        int64_t t0 = qt_monotonic_ns();
        for (size_t j = 0; j < k; j++) x->row[j] = (float)r[index[j]];
        int rc = x->predict(x->booster, x->values, PREDICT_CONFIG, NULL, &shape, &dim, &res);
        lat_ns[i] = qt_monotonic_ns() - t0;
        if (rc != 0) {
            xgb_error(x, "XGBoosterPredictFromDense", err, errcap);
            return -1;
        }
        bst_ulong size = 1;
        for (bst_ulong d = 0; d < dim; d++) size *= shape[d];
        if (size != 3) {
            if (err && errcap) snprintf(err, errcap, "the booster gave %" PRIu64 " values for one row, not 3", size);
            return -1;
        }
        for (int c = 0; c < 3; c++) out[i * 3 + c] = res[c];
    }
    return 0;
}

size_t qt_ensemble_time_rows(const qt_ensemble *e, const double *rows, size_t n, int64_t *lat_ns, double *out) {
    qt_ens_scratch scratch;
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = qt_monotonic_ns();
        int ok = qt_ensemble_predict(e, rows + i * QT_FE_NUM_FEATURES, &scratch, out + i * 3);
        lat_ns[i] = qt_monotonic_ns() - t0;
        done += (size_t)ok;
    }
    return done;
}

size_t qt_model_time_rows(const qt_ensemble *e, uint32_t model, const double *rows, size_t n, int64_t *lat_ns,
                          double *out) {
    qt_model_entry64 entries[QT_ENS_MAX_FEATURES];
    const qt_model *m = &e->model[model];
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = qt_monotonic_ns();
        int ok = qt_model_predict_row(m, rows + i * QT_FE_NUM_FEATURES, e->index, entries, out + i * 3);
        lat_ns[i] = qt_monotonic_ns() - t0;
        done += (size_t)ok;
    }
    return done;
}
