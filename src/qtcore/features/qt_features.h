/* Incremental feature engine: spec `qt-features/1` (shared/spec/features.md),
 * the 65 model features plus the 12 book features, evaluated at every trade.
 *
 * One implementation for live trading, replay and training sets: records go
 * through qt_fe_on_event one by one, in the order they arrived, either from
 * an array (an event log mapped in memory: qt_fe_drain) or from the market
 * ring (qt_fe_drain_ring).  The engine owns the instrument's L2 book
 * (qt_book): book records are applied to it, trades are evaluated against
 * it.  The drain loop stores vectors in a caller's preallocated sink and
 * calls a decision hook (the predictor) at each trade; no allocation and no
 * Python after qt_fe_create.
 *
 * Cost per trade: O(1) for every window (a few lagged trades read from a
 * 512-trade history ring), O(displacement) for the agent ranking in a sorted
 * array (O(A) worst case, A agents in the window); per book record: the
 * book's own cost plus O(1) for the OFI terms and the 10-second window.
 *
 * Exactness: every rolling sum is an exact integer sum, so nothing drifts
 * however long the session (no periodic recomputation is needed: there is no
 * residue to clear), and a window's std is exactly 0 if and only if its
 * values are all equal (N*sum(x^2) - sum(x)^2 == 0 in integers).
 *   - prices and quantities are integers (price units, contracts);
 *   - a one-trade return r = p_i/p_(i-1) - 1 computed in double is always a
 *     multiple of 2^-53 when |r| <= 1 (fl(ratio) has an ulp of 2^-53 or
 *     2^-52 in [0.5, 2), where fl(ratio) - 1 is exact by Sterbenz; below 0.5
 *     the difference rounds onto the 2^-53 grid of (-1, -0.5]), so
 *     R = r * 2^53 is an exact int64 and R^2 fits 128 bits;
 *   - q*r is taken as the double fl(q*r) (what a plain implementation
 *     sums), again a multiple of 2^-53, summed exactly in 128 bits.
 * 128-bit sums are a portable (lo, hi) pair, no compiler extension.  A
 * return with |r| > 1 (the price more than doubled between two trades: bad
 * data) is outside that grid; windows holding one are computed two-pass from
 * the stored doubles (counted in `recomputations`).  Where the spec's
 * formula cancels (microprice_dev, bb_position) the engine evaluates an
 * algebraically identical form that does not.
 *
 * Clock and sessions: one clock for all records, never going back (a record
 * without exchange time, or with an earlier one, takes the latest time seen,
 * counted).  A record whose local date (tz table) differs from the session's
 * starts a new session: every window, the agent ranking and the book are
 * cleared before it is applied.  Session markers are not needed for that.
 *
 * Threading: an engine belongs to one thread (the drain loop). */
#ifndef QT_FEATURES_H
#define QT_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "market/qt_book.h"
#include "market/qt_events.h"

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
    double qty_scale;  /* integer qty = real qty * qty_scale (event log header); 0 means 1 */
    const qt_fe_tz_transition *tz; /* copied; may be NULL (n_tz 0: UTC) */
    size_t n_tz;
    const qt_fe_session_hours *sessions; /* copied, any order; may be NULL */
    size_t n_sessions;
    int32_t default_open_s; /* hours of dates missing from `sessions` */
    int32_t default_close_s;
    uint32_t book_capacity; /* levels per side of the engine's book; 0: QT_BOOK_DEFAULT_CAPACITY */
} qt_fe_config;

typedef struct qt_fe_counters {
    uint64_t trades;          /* trade records received (all of them) */
    uint64_t rows;            /* feature vectors computed (decision points) */
    uint64_t ts_regressions;  /* timestamps earlier than the latest, taken as the latest */
    uint64_t ts_missing;      /* records without exchange time, taken as the latest */
    uint64_t edits;           /* corrected trades (QT_F_EDIT): counted, no row, no state change */
    uint64_t after_hours;     /* QT_F_AFTER_HOURS trades: not part of the stream */
    uint64_t invalid;         /* dropped: QT_F_INVALID, no or non-positive price or qty, no clock */
    uint64_t session_resets;  /* state resets at a new local date */
    uint64_t book_records;    /* records handed to the book */
    uint64_t book_rejected;   /* of which the book refused (see qt_book counters) */
    uint64_t book_events;     /* book events (records that completed a level change) */
    uint64_t book_untimed;    /* book events before any clock: applied, not in book_update_rate */
    uint64_t recomputations;  /* window stats computed from the buffer (|r| > 1 in the window) */
    uint64_t skipped_records; /* records of other types (session markers, phases, ...) */
} qt_fe_counters;

typedef struct qt_fe qt_fe;

/* NULL on bad configuration (tick/unit not positive, close <= open, hours
 * outside a day) or out of memory.  The engine owns an L2 book (qt_book)
 * with tick_units = tick_size / price_unit when that is a whole number, else
 * 1; every book record goes into it and the book features read it. */
qt_fe *qt_fe_create(const qt_fe_config *cfg);
void qt_fe_destroy(qt_fe *fe);
/* Back to the freshly created state: session state, book, clock, counters. */
void qt_fe_reset(qt_fe *fe);

/* The engine's book (read it, never apply to it: use qt_fe_on_event). */
const qt_book *qt_fe_book(const qt_fe *fe);

/* One record of any type, in arrival order:
 * - QT_EV_TRADE: the features of this trade go to out (77 doubles) and 1 is
 *   returned; 0 (nothing written) for a record that is not part of the
 *   stream (edit, after-hours, invalid: see the counters);
 * - book records (PRICE_BOOK, L2_LEVEL, SNAPSHOT_BEGIN/END): applied to the
 *   engine's book; one that completes a level change is a book event
 *   (book_update_rate, OFI).  A record whose time starts a new local date
 *   resets the session (book included) before it is applied;
 * - anything else (session markers, phases, ...) is counted and skipped:
 *   sessions follow the events' local dates, not markers.
 * Returns 0 for every non-trade record. */
int qt_fe_on_event(qt_fe *fe, const qt_event *ev, double *out);

/* ---------------------------------------------------------- the drain loop */

/* Decision hook: called with the feature vector at every decision point
 * (every trade that produced a row), after the row is stored.  `features`
 * holds QT_FE_NUM_FEATURES values and is valid during the call only; `ts`
 * is the engine's clock for the trade.  Return 0 to go on; anything else
 * stops the drain after this record (status QT_FE_DRAIN_STOPPED). */
typedef int (*qt_fe_decision_fn)(void *user, const double *features, const qt_event *trade, int64_t ts);

/* A hook with its user data, so a module (the compiled predictor) can hand
 * both over as one pointer: a PyCapsule named "qt_fe_hook" in Python. */
typedef struct qt_fe_hook {
    qt_fe_decision_fn fn;
    void *user;
} qt_fe_hook;

/* Where the drain loop puts what it produces.  All pointers may be NULL.
 * Rows go to `matrix` (row-major, QT_FE_NUM_FEATURES columns), `ts`,
 * `trade_number` (the trade's `ref`) and `price` (the trade's price, in the
 * instrument's price units, as recorded) for every `every`-th decision point of
 * the engine (its row counter modulo `every` is 0; 1 keeps all, 0 none),
 * while `rows < capacity`; the drain stops (QT_FE_DRAIN_FULL) before a
 * trade record when the matrix is full, so no row is lost.  `lat_ns` (when set)
 * gets, per decision point while `lat_n < lat_cap`, the nanoseconds from
 * taking the record (array or ring) to its feature vector being complete. */
typedef struct qt_fe_sink {
    double *matrix;
    int64_t *ts;
    int64_t *trade_number;
    int64_t *price;
    size_t capacity;
    size_t rows; /* rows stored so far; the caller resets it after taking them */
    uint64_t every;
    qt_fe_decision_fn hook;
    void *user;
    int64_t *lat_ns;
    size_t lat_cap;
    size_t lat_n;
} qt_fe_sink;

typedef enum qt_fe_drain_status {
    QT_FE_DRAIN_DONE = 0,    /* array consumed / ring: max_events taken */
    QT_FE_DRAIN_FULL = 1,    /* the sink's matrix is full */
    QT_FE_DRAIN_STOPPED = 2, /* the decision hook asked to stop */
    QT_FE_DRAIN_CLOSED = 3,  /* ring closed and empty: nothing more will come */
    QT_FE_DRAIN_IDLE = 4,    /* ring: nothing arrived within the wait */
} qt_fe_drain_status;

/* Runs records ev[0..n) through qt_fe_on_event (the batch path: an event log
 * mapped in memory, or any records array).  Returns how many records were
 * consumed; *status says why it stopped. */
size_t qt_fe_drain(qt_fe *fe, const qt_event *ev, size_t n, qt_fe_sink *sink, int *status);

/* The live path: takes records from the market ring (64-byte qt_event
 * slots) as they arrive, up to max_events.  When the ring is empty it waits
 * (qt_ring_wait: spin_iters polls, then sleeps) up to wait_ns (-1: until a
 * record or close; 0: return QT_FE_DRAIN_IDLE at once).  Returns how many
 * records were consumed. */
struct qt_ring;
uint64_t qt_fe_drain_ring(qt_fe *fe, struct qt_ring *ring, qt_fe_sink *sink, uint64_t max_events,
                          int64_t wait_ns, uint32_t spin_iters, int *status);

/* The engine's clock (UTC ns): the time the last record of the stream got
 * (its own, or the latest seen when it had none or an earlier one), the
 * `ts` the drain loop stores and hands to its hook; 0 before any.  A
 * pipeline hook reads it to see the very time the batch path records. */
int64_t qt_fe_clock(const qt_fe *fe);

void qt_fe_get_counters(const qt_fe *fe, qt_fe_counters *out);
/* Bytes the engine holds, its book included (constant after creation). */
size_t qt_fe_memory_bytes(const qt_fe *fe);

#endif
