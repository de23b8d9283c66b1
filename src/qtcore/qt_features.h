/* Incremental feature engine: spec `qt-features/1` (shared/spec/features.md),
 * the 65 model features plus the 12 book features, evaluated at every trade.
 *
 * The same engine computes features for live trading, replay and training
 * sets, so the numbers are the contract.  Every window update is O(1) (the
 * agent ranking is O(displacement) in a sorted array, O(A) worst case) and
 * nothing is allocated after qt_fe_create.
 *
 * Exactness: every rolling sum is an exact integer sum, so there is no drift
 * and no periodic recomputation, and a window's std is exactly 0 if and only
 * if its values are all equal (N*sum(x^2) - sum(x)^2 == 0 in integers).
 *   - prices and quantities are integers (price units, contracts);
 *   - a one-trade return r = p_i/p_(i-1) - 1 computed in double is always a
 *     multiple of 2^-53 when |r| <= 1 (Sterbenz: fl(ratio) - 1 is exact for
 *     ratio in [0.5, 2], and below 0.5 the result lands in the 2^-53 grid),
 *     so R = r * 2^53 is an exact int64 and R^2 fits 128 bits;
 *   - q*r is taken as the double fl(q*r) (what a plain implementation
 *     sums), again a multiple of 2^-53, summed exactly in 128 bits.
 * 128-bit sums are a portable (lo, hi) pair, no compiler extension.  A
 * return with |r| > 1 (the price more than doubled between two trades: bad
 * data) is outside that grid; windows holding one are computed two-pass from
 * the stored doubles (counted in `recomputations`).
 *
 * Threading: an engine belongs to one thread (the drain loop). */
#ifndef QT_FEATURES_H
#define QT_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "qt_events.h"

#define QT_FE_SPEC_VERSION "qt-features/1"
#define QT_FE_NUM_MODEL 65
#define QT_FE_NUM_BOOK 12
#define QT_FE_NUM_FEATURES 77

/* Column indices of the output vector (spec order; 0-based). */
enum qt_fe_feature {
    QT_FE_VOLATILITY_10 = 0,
    QT_FE_VOLATILITY_20 = 1,
    QT_FE_VOLATILITY_50 = 2,
    QT_FE_VOLATILITY_100 = 3,
    QT_FE_VOLATILITY_RATIO_10 = 4,
    QT_FE_VOLATILITY_RATIO_20 = 5,
    QT_FE_VOLATILITY_RATIO_50 = 6,
    QT_FE_VOLATILITY_RATIO_100 = 7,
    QT_FE_VOLATILITY_GK = 8,
    QT_FE_BB_POSITION = 9,
    QT_FE_RETURNS_1 = 10,
    QT_FE_RETURNS_2 = 11,
    QT_FE_RETURNS_5 = 12,
    QT_FE_RETURNS_10 = 13,
    QT_FE_RETURNS_20 = 14,
    QT_FE_RETURNS_50 = 15,
    QT_FE_RETURNS_100 = 16,
    QT_FE_LOG_RETURNS_1 = 17,
    QT_FE_LOG_RETURNS_5 = 18,
    QT_FE_LOG_RETURNS_20 = 19,
    QT_FE_ORDER_FLOW_IMBALANCE_10 = 20,
    QT_FE_ORDER_FLOW_IMBALANCE_20 = 21,
    QT_FE_ORDER_FLOW_IMBALANCE_50 = 22,
    QT_FE_ORDER_FLOW_IMBALANCE_100 = 23,
    QT_FE_CUMULATIVE_SIGNED_VOLUME = 24,
    QT_FE_SIGNED_VOLUME = 25,
    QT_FE_VOLUME_WEIGHTED_RETURN = 26,
    QT_FE_AGENT_TURNOVER = 27,
    QT_FE_VOLUME_RATIO_20 = 28,
    QT_FE_VOLUME_RATIO_50 = 29,
    QT_FE_VOLUME_RATIO_100 = 30,
    QT_FE_VOLUME_ZSCORE_20 = 31,
    QT_FE_VOLUME_ZSCORE_50 = 32,
    QT_FE_VOLUME_ZSCORE_100 = 33,
    QT_FE_TRADE_INTENSITY = 34,
    QT_FE_TRADE_INTENSITY_RATIO = 35,
    QT_FE_MA_5_20_RATIO = 36,
    QT_FE_MA_20_50_RATIO = 37,
    QT_FE_MOMENTUM_5_20 = 38,
    QT_FE_MOMENTUM_20_50 = 39,
    QT_FE_SHARPE_5 = 40,
    QT_FE_SHARPE_20 = 41,
    QT_FE_TIME_NORMALIZED = 42,
    QT_FE_TOP_BUYER_0_ACTIVE = 43,
    QT_FE_TOP_BUYER_1_ACTIVE = 44,
    QT_FE_TOP_BUYER_2_ACTIVE = 45,
    QT_FE_TOP_BUYER_3_ACTIVE = 46,
    QT_FE_TOP_BUYER_4_ACTIVE = 47,
    QT_FE_TOP_SELLER_0_ACTIVE = 48,
    QT_FE_TOP_SELLER_1_ACTIVE = 49,
    QT_FE_TOP_SELLER_2_ACTIVE = 50,
    QT_FE_TOP_SELLER_3_ACTIVE = 51,
    QT_FE_TOP_SELLER_4_ACTIVE = 52,
    QT_FE_TOP_BUYERS_COUNT = 53,
    QT_FE_TOP_SELLERS_COUNT = 54,
    QT_FE_BUYER_CHANGED = 55,
    QT_FE_SELLER_CHANGED = 56,
    QT_FE_IS_BUYER_AGGRESSOR = 57,
    QT_FE_IS_SELLER_AGGRESSOR = 58,
    QT_FE_MINUTE = 59,
    QT_FE_HOUR = 60,
    QT_FE_DAY_OF_WEEK = 61,
    QT_FE_IS_OPENING_30MIN = 62,
    QT_FE_IS_CLOSING_30MIN = 63,
    QT_FE_IS_LUNCH_HOUR = 64,
    /* book features */
    QT_FE_SPREAD = 65,
    QT_FE_SPREAD_TICKS = 66,
    QT_FE_MICROPRICE_DEV = 67,
    QT_FE_BOOK_IMBALANCE_1 = 68,
    QT_FE_BOOK_IMBALANCE_5 = 69,
    QT_FE_BOOK_IMBALANCE_10 = 70,
    QT_FE_DEPTH_BID_5 = 71,
    QT_FE_DEPTH_ASK_5 = 72,
    QT_FE_OFI_10 = 73,
    QT_FE_OFI_50 = 74,
    QT_FE_OFI_100 = 75,
    QT_FE_BOOK_UPDATE_RATE = 76,
};

/* The top of the book after one applied book event, from the book owner.
 * Prices in price units, QT_PRICE_NONE for an empty side; depth[k] is the
 * summed quantity of the best 1, 5, 10 levels (fewer if the side has fewer). */
typedef struct qt_book_top {
    int64_t bb, ba;
    int64_t qb, qa;
    int64_t bid_depth[3], ask_depth[3];
    int32_t bid_levels, ask_levels;
} qt_book_top;

/* From utc_ns_from on (until the next entry), local = UTC + offset_s.
 * Sorted by utc_ns_from; before the first entry its offset applies. */
typedef struct qt_fe_tz_transition {
    int64_t utc_ns_from;
    int32_t offset_s;
    int32_t _pad;
} qt_fe_tz_transition;

/* Regular-session hours of one local date, seconds since local midnight. */
typedef struct qt_fe_session_hours {
    int32_t date; /* YYYYMMDD */
    int32_t open_s;
    int32_t close_s;
} qt_fe_session_hours;

typedef struct qt_fe_config {
    double tick_size;  /* price, e.g. 0.5 (WDO), 5 (WIN) */
    double price_unit; /* price of one price unit (qt_price_to_double) */
    const qt_fe_tz_transition *tz; /* copied; may be NULL (n_tz 0: UTC) */
    size_t n_tz;
    const qt_fe_session_hours *sessions; /* copied, any order; may be NULL */
    size_t n_sessions;
    int32_t default_open_s; /* hours of dates missing from `sessions` */
    int32_t default_close_s;
} qt_fe_config;

typedef struct qt_fe_counters {
    uint64_t trades;          /* trade records received (all of them) */
    uint64_t rows;            /* feature vectors written */
    uint64_t ts_regressions;  /* timestamps earlier than the latest, taken as the latest */
    uint64_t ts_missing;      /* records without exchange time, taken as the latest */
    uint64_t edits;           /* corrected trades (QT_F_EDIT): counted, no row, no state change */
    uint64_t after_hours;     /* QT_F_AFTER_HOURS trades: not part of the stream */
    uint64_t invalid;         /* dropped: QT_F_INVALID, no/non-positive price, negative qty, no clock */
    uint64_t session_resets;  /* state resets at a new local date */
    uint64_t book_events;     /* book events applied (qt_fe_on_book_event) */
    uint64_t recomputations;  /* window stats computed from the buffer (|r| > 1 in the window) */
    uint64_t skipped_records; /* records of other types seen by qt_fe_run */
} qt_fe_counters;

typedef struct qt_fe qt_fe;

/* NULL on bad configuration (tick/unit not positive, close <= open, hours
 * outside a day) or out of memory. */
qt_fe *qt_fe_create(const qt_fe_config *cfg);
void qt_fe_destroy(qt_fe *fe);
/* Back to the freshly created state: session state, clock and counters. */
void qt_fe_reset(qt_fe *fe);

/* One trade record (QT_EV_TRADE layout).  Writes the 77 features to out and
 * returns 1, or returns 0 and writes nothing for a record that is not part
 * of the stream (edit, after-hours, invalid; see the counters). */
int qt_fe_on_trade(qt_fe *fe, const qt_event *trade, double *out);

/* One applied book event: the top of the book after it and its exchange
 * time (QT_TIME_NONE: the latest seen).  The caller calls this only for
 * records that changed at least one level (spec: a record that changes no
 * level is not a book event). */
void qt_fe_on_book_event(qt_fe *fe, const qt_book_top *top, int64_t ts_ns);

/* A session marker (QT_EV_SESSION): a local date other than the current
 * session's starts a new session now. */
void qt_fe_on_session(qt_fe *fe, int32_t yyyymmdd);

/* Runs a batch of records: trades produce rows (out_matrix row-major, 77
 * columns; out_ts gets the effective clock of the trade, out_trade_number
 * its `ref`), session markers start sessions, other types are skipped
 * (counted) until the book is wired in.  The outputs must hold one row per
 * trade record of `ev` (n rows always suffice).  *rows gets the count. */
void qt_fe_run(qt_fe *fe, const qt_event *ev, size_t n, double *out_matrix, int64_t *out_ts,
               int64_t *out_trade_number, size_t *rows);

/* Like qt_fe_run over trade records only, every output written to one
 * scratch row, with qt_monotonic_ns() around each qt_fe_on_trade call:
 * lat_ns[i] gets the latency of ev[i] (0 for non-trade records). */
void qt_fe_run_timed(qt_fe *fe, const qt_event *ev, size_t n, double *scratch_row, int64_t *lat_ns);

void qt_fe_get_counters(const qt_fe *fe, qt_fe_counters *out);
/* Bytes the engine holds (constant after creation). */
size_t qt_fe_memory_bytes(const qt_fe *fe);

#endif
