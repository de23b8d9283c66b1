/* TEST FIXTURE, not a model: a hand-written shared library exporting the
 * ABI of a tl2cgen-generated model (see src/qtcore/predict/qt_model.h), with
 * outputs test_predict.c knows by heart.  Built in variants by
 * tests/c/meson.build through these macros:
 *   FIXTURE_F64        float64 entries and result (a scikit-learn library);
 *                      default float32 (an XGBoost library)
 *   FIXTURE_A_FEATURE  the column tree A reads (default 0)
 *   FIXTURE_NUM_TARGET / FIXTURE_NUM_CLASS / FIXTURE_NUM_FEATURE
 *                      what the getters say (default 1 / 3 / 3)
 *   FIXTURE_NO_PREDICT leave predict() out (a library missing an export)
 *
 * Two "trees", averaged, like a forest: tree A on column a: < 0.5 gives
 * (0.625, 0.25, 0.125), else (0.125, 0.25, 0.625); tree B on column 1: < 0
 * gives (0.75, 0.25, 0), else (0, 0.25, 0.75).  As tl2cgen does, leaves are
 * added into result (+=), and only with pred_margin == 0 is the sum
 * divided by the number of trees: a caller that does not zero the result
 * or asks for margins gets visibly wrong numbers.  A missing entry
 * (missing == -1) adds 100 to class 0.  All values are dyadic: exact in
 * float32 and float64. */
#include <stdint.h>

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

#ifdef FIXTURE_F64
typedef double real;
#define TYPE_NAME "float64"
#else
typedef float real;
#define TYPE_NAME "float32"
#endif
#ifndef FIXTURE_A_FEATURE
#define FIXTURE_A_FEATURE 0
#endif
#ifndef FIXTURE_NUM_TARGET
#define FIXTURE_NUM_TARGET 1
#endif
#ifndef FIXTURE_NUM_CLASS
#define FIXTURE_NUM_CLASS 3
#endif
#ifndef FIXTURE_NUM_FEATURE
#define FIXTURE_NUM_FEATURE 3
#endif

union Entry {
    int missing;
    real fvalue;
    int qvalue;
};

EXPORT int32_t get_num_target(void);
EXPORT void get_num_class(int32_t *out);
EXPORT int32_t get_num_feature(void);
EXPORT const char *get_threshold_type(void);
EXPORT const char *get_leaf_output_type(void);

int32_t get_num_target(void) { return FIXTURE_NUM_TARGET; }
void get_num_class(int32_t *out) {
    for (int i = 0; i < FIXTURE_NUM_TARGET; i++) out[i] = FIXTURE_NUM_CLASS;
}
int32_t get_num_feature(void) { return FIXTURE_NUM_FEATURE; }
const char *get_threshold_type(void) { return TYPE_NAME; }
const char *get_leaf_output_type(void) { return TYPE_NAME; }

#ifndef FIXTURE_NO_PREDICT
EXPORT void predict(union Entry *data, int pred_margin, real *result);

void predict(union Entry *data, int pred_margin, real *result) {
    static const real a_low[3] = {0.625, 0.25, 0.125}, a_high[3] = {0.125, 0.25, 0.625};
    static const real b_neg[3] = {0.75, 0.25, 0.0}, b_pos[3] = {0.0, 0.25, 0.75};
    const union Entry *a = &data[FIXTURE_A_FEATURE], *b = &data[1];
    const real *la = a->missing != -1 && a->fvalue < (real)0.5 ? a_low : a_high;
    const real *lb = b->missing != -1 && b->fvalue < (real)0 ? b_neg : b_pos;
    for (int k = 0; k < 3 && k < FIXTURE_NUM_CLASS; k++) result[k] += la[k] + lb[k];
    for (int j = 0; j < FIXTURE_NUM_FEATURE; j++)
        if (data[j].missing == -1) result[0] += (real)100;
    if (!pred_margin)
        for (int k = 0; k < FIXTURE_NUM_CLASS; k++) result[k] /= (real)2;
}
#endif
