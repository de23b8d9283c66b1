/* The decision-point sampler: which feature rows the model acts on.
 *
 * One implementation for training (the Cython Sampler.select over a
 * session's rows) and live trading (the pipeline / drain hooks of
 * qt_ensemble.h), so the model is called live exactly where its training
 * samples were taken.  State is per instrument; rows are given in the order
 * the engine produced them, with the engine's clock `ts` (UTC ns).
 *
 *  - EVERY: every row fires.
 *  - CUSUM (threshold h > 0, volatility feature index v, log-return feature
 *    index l, both in 0..76): r = features[l].
 *      r NaN (first trade of a session, warm-up): s+ = s- = 0, no fire.
 *      else s+ = max(0, s+ + r), s- = min(0, s- + r); sigma = features[v];
 *      sigma NaN or <= 0: no fire (the sums are kept);
 *      else both sides are checked: s+ >= h*sigma sets s+ = 0, s- <= -h*sigma
 *      sets s- = 0, and the row fires once if either crossed (a row that
 *      crosses both clears both, so it cannot fire again on a stale side).
 *  - TIME (interval_ns > 0): fires at the first row with ts >= next, then
 *      next = (ts / interval_ns + 1) * interval_ns (integer division: a
 *      grid of UTC ns anchored at the epoch).  next starts at 0, so the
 *      first row fires.  Rows with ts < 0 never fire.
 *
 * No allocation, no lock, no I/O: a qt_sampler is a plain value (copying
 * one copies its state).  One thread per sampler. */
#ifndef QT_SAMPLER_H
#define QT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

typedef enum qt_sampler_kind {
    QT_SAMPLER_EVERY = 0,
    QT_SAMPLER_CUSUM = 1,
    QT_SAMPLER_TIME = 2,
} qt_sampler_kind;

typedef struct qt_sampler_config {
    int32_t kind;             /* qt_sampler_kind */
    int32_t volatility_index; /* CUSUM: column of sigma (volatility_gk: 8) */
    int32_t log_return_index; /* CUSUM: column of r (log_returns_1: 17) */
    int32_t _pad;
    double threshold;    /* CUSUM: h, in units of sigma; finite, > 0 */
    int64_t interval_ns; /* TIME: grid step, > 0 */
} qt_sampler_config;

typedef struct qt_sampler {
    qt_sampler_config cfg;
    double s_pos; /* CUSUM sums */
    double s_neg;
    int64_t next_ns; /* TIME: the next grid point */
    uint64_t rows;   /* rows seen since init/reset */
    uint64_t fired;  /* of which fired */
} qt_sampler;

/* Number of columns of a feature row the sampler may read (the 77-vector). */
#define QT_SAMPLER_NUM_FEATURES 77

/* Checks cfg and starts from the fresh state.  0, or -1 for a bad
 * configuration (unknown kind; CUSUM threshold not finite and > 0 or an
 * index outside 0..76; TIME interval <= 0); `s` is then left untouched. */
int qt_sampler_init(qt_sampler *s, const qt_sampler_config *cfg);
/* Back to the fresh state (sums 0, next 0, counters 0); config kept. */
void qt_sampler_reset(qt_sampler *s);
/* One row: 1 if it is a decision point, else 0.  `features` holds 77
 * values. */
int qt_sampler_step(qt_sampler *s, const double *features, int64_t ts);
/* n rows in order (features row-major, 77 columns): out[i] = step of row i.
 * Returns how many fired. */
size_t qt_sampler_select(qt_sampler *s, const double *features, const int64_t *ts, size_t n,
                         uint8_t *out);

#endif
