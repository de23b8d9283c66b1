/* One-row prediction latency measured in C (bench/bench_predict.py): the
 * compiled ensemble (qt_ensemble_predict, the very call the drain loop's
 * decide hook makes) next to XGBoost's own C API on the same rows.
 *
 * XGBoost side: xgboost's shared library (the one its Python package
 * ships) is opened with qt_dl_open and these entry points of its
 * include/xgboost/c_api.h are declared here, not included (the package
 * ships no headers):
 *   int XGBoosterCreate(const DMatrixHandle dmats[], bst_ulong len, BoosterHandle *out);
 *   int XGBoosterLoadModel(BoosterHandle handle, const char *fname);
 *   int XGBoosterSetParam(BoosterHandle handle, const char *name, const char *value);
 *   int XGBoosterPredictFromDense(BoosterHandle handle, const char *values, const char *config,
 *                                 DMatrixHandle m, const bst_ulong **out_shape, bst_ulong *out_dim,
 *                                 const float **out_result);
 *   int XGBoosterFree(BoosterHandle handle);
 *   const char *XGBGetLastError(void);
 * (handles are void *, bst_ulong is uint64_t; 0 = success, -1 = error).
 * The booster is loaded from the model's JSON and set to nthread = 1 (one
 * row gains nothing from a thread pool; the ensemble is single-threaded
 * too).  Per row, the model's k features are written as float32 into one
 * fixed buffer (what the caller of a float32 API has to do, so it is
 * inside the timed call) that `values` describes as a numpy array
 * interface (version 3, C order, the address as a decimal integer):
 *   {"data": [<address>, false], "shape": [1, k], "typestr": "<f4", "version": 3}
 * and `config` asks for plain probabilities from every tree:
 *   {"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0,
 *    "strict_shape": false, "missing": NaN}
 * (type 0 = the objective's output, softprob for the bundle's multi-class
 * booster; iteration_end 0 = all trees; missing NaN as xgboost's Python
 * inplace_predict passes it; m = NULL: no proxy DMatrix).  The returned
 * probabilities are summed into a checksum so no call can be optimised
 * away and the caller can compare both sides.
 *
 * Benchmark-only: built into bench/c's extension, not the core. */
#ifndef QT_PREDICT_BENCH_H
#define QT_PREDICT_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "predict/qt_ensemble.h"

typedef struct qt_xgb_api qt_xgb_api;

/* Opens xgboost's library at lib_path and loads the booster at model_json.
 * NULL with a one-line reason in err[errcap]. */
qt_xgb_api *qt_xgb_api_open(const char *lib_path, const char *model_json, char *err, size_t errcap);
void qt_xgb_api_close(qt_xgb_api *x);

/* n rows of `stride` doubles; row i's model features are
 * rows[i * stride + index[j]], j < k.  lat_ns[i] = ns of row i's
 * predict call, out[i * 3 + c] its probabilities (num_class 3).  0, or -1
 * with XGBoost's last error in err (rows done before it kept). */
int qt_xgb_api_time_rows(qt_xgb_api *x, const double *rows, size_t n, size_t stride, const int32_t *index,
                         size_t k, int64_t *lat_ns, double *out, char *err, size_t errcap);

/* The same rows through qt_ensemble_predict (all 77 columns of each row;
 * stride must be 77): lat_ns[i] and out[i * 3 + c].  Returns the rows
 * predicted (not NaN). */
size_t qt_ensemble_time_rows(const qt_ensemble *e, const double *rows, size_t n, int64_t *lat_ns, double *out);

/* The same rows through one compiled model of the ensemble alone
 * (qt_model_predict_row with the ensemble's index map). */
size_t qt_model_time_rows(const qt_ensemble *e, uint32_t model, const double *rows, size_t n, int64_t *lat_ns,
                          double *out);

#endif
