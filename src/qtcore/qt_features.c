/* Incremental feature engine, spec qt-features/1.  See qt_features.h for the
 * exactness argument; the comments here say why the pieces look as they do. */
#include "qt_features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qt_atomic.h"
#include "qt_civil_date.h"
#include "qt_ring.h"

#define TWO53 9007199254740992.0              /* 2^53 */
#define INV_TWO53 (1.0 / 9007199254740992.0)  /* 2^-53, exact */
#define TWO64 18446744073709551616.0          /* 2^64 */
/* Prices beyond 2^53 units are not exact doubles; nothing real is there. */
#define FE_MAX_PRICE ((int64_t)1 << 53)
#define GK_K 0.3862943611198906 /* 2 ln 2 - 1 */

/* ---------------------------------------------------------------- 128 bits */

/* Two's-complement 128-bit integer as a (lo, hi) pair: exact sums of squares
 * without a compiler extension. */
typedef struct fe_i128 {
    uint64_t lo;
    uint64_t hi;
} fe_i128;

static inline fe_i128 i128_zero(void) {
    fe_i128 z = {0, 0};
    return z;
}

static inline void i128_add(fe_i128 *a, fe_i128 b) {
    uint64_t lo = a->lo + b.lo;
    a->hi = a->hi + b.hi + (lo < a->lo);
    a->lo = lo;
}

static inline void i128_sub(fe_i128 *a, fe_i128 b) {
    uint64_t lo = a->lo - b.lo;
    a->hi = a->hi - b.hi - (a->lo < b.lo);
    a->lo = lo;
}

static inline fe_i128 i128_neg(fe_i128 a) {
    fe_i128 r;
    r.lo = ~a.lo + 1;
    r.hi = ~a.hi + (r.lo == 0);
    return r;
}

static inline int i128_is_zero(fe_i128 a) { return (a.lo | a.hi) == 0; }

/* Full 64x64 -> 128 unsigned product through 32-bit halves. */
static inline fe_i128 u128_mul64(uint64_t a, uint64_t b) {
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    fe_i128 r;
    r.lo = (mid << 32) | (uint32_t)p00;
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

static inline uint64_t u64_abs(int64_t x) { return x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x; }

/* x^2 for |x| < 2^63. */
static inline fe_i128 i128_square(int64_t x) {
    uint64_t a = u64_abs(x);
    return u128_mul64(a, a);
}

/* n * a for a non-negative a and a small n. */
static inline fe_i128 u128_mul_small(fe_i128 a, uint32_t n) {
    fe_i128 r = u128_mul64(a.lo, n);
    r.hi += a.hi * n;
    return r;
}

/* Signed value to double (within one rounding of the true value's
 * representable neighbours: hi*2^64 is exact for |hi| < 2^53). */
static inline double i128_to_double(fe_i128 a) {
    if (a.hi == 0) return (double)a.lo;
    if ((int64_t)a.hi < 0) {
        fe_i128 m = i128_neg(a);
        return -((double)m.hi * TWO64 + (double)m.lo);
    }
    return (double)a.hi * TWO64 + (double)a.lo;
}

/* An integer-valued double of magnitude < 2^127 to 128 bits, exactly. */
static inline fe_i128 i128_from_integral_double(double x) {
    double a = x < 0 ? -x : x;
    uint64_t hi = (uint64_t)(a * (1.0 / TWO64)); /* truncation = floor, exact scaling */
    double lo = a - (double)hi * TWO64;           /* exact: a's bits above 2^64 removed */
    fe_i128 r = {(uint64_t)lo, hi};
    return x < 0 ? i128_neg(r) : r;
}

/* Exact N*sum(x^2) - sum(x)^2 (>= 0), the numerator of N^2 * pstd^2. */
static inline fe_i128 var_numerator(int64_t s1, fe_i128 s2, uint32_t n) {
    fe_i128 d = u128_mul_small(s2, n);
    i128_sub(&d, i128_square(s1));
    return d;
}

/* sample std (ddof=1) in the units of x; exactly 0 iff all values equal. */
static inline double std_from_sums(int64_t s1, fe_i128 s2, uint32_t n) {
    fe_i128 d = var_numerator(s1, s2, n);
    if (i128_is_zero(d)) return 0.0;
    return sqrt(i128_to_double(d) / ((double)n * (double)(n - 1)));
}

static inline double safe_div(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    return b != 0.0 ? a / b : 0.0;
}

/* ---------------------------------------------------------- calendar math */

static int32_t yyyymmdd_from_days(int64_t z) {
    int64_t y;
    int m, d;
    qt_civil_from_days(z, &y, &m, &d);
    return (int32_t)(y * 10000 + (int64_t)m * 100 + d);
}

static int valid_yyyymmdd(int64_t v) {
    int64_t y = v / 10000, m = (v / 100) % 100, d = v % 100;
    return v > 0 && y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* ------------------------------------------------------- per-trade history */

#define HIST 512 /* >= 501: p_(t-100) and W_500 */
#define HMASK (HIST - 1)

enum { TB_BIG = 1, TB_BUYER_CHANGED = 2, TB_SELLER_CHANGED = 4 };

/* One trade as the windows need it: one cache line, so the few lagged
 * trades read per update cost one line each. */
typedef struct fe_trade {
    int64_t P;  /* price units */
    double p;   /* price */
    int64_t R;  /* r * 2^53 (0 when TB_BIG or the session's first trade) */
    double r;   /* one-trade return (0 for the first trade) */
    fe_i128 QR; /* fl(q*r) * 2^53 (0 when TB_BIG) */
    int32_t q;
    int32_t ti; /* trades in the 60-second window at this trade */
    uint16_t bslot, sslot;
    int8_t s;
    uint8_t bits;
    uint8_t _pad[2];
} fe_trade;
_Static_assert(sizeof(fe_trade) == 64, "one cache line per trade");

/* ------------------------------------------------- whole-second windows */

#define SECS 64 /* > the longest window (60 s) */

typedef struct fe_secwin {
    int64_t tag[SECS];
    int64_t cnt[SECS];
    int64_t total;
    int64_t head; /* latest second seen */
    int32_t k;    /* window length in seconds */
    int32_t empty;
} fe_secwin;

static void secwin_clear(fe_secwin *w, int32_t k) {
    for (int i = 0; i < SECS; i++) {
        w->tag[i] = INT64_MIN;
        w->cnt[i] = 0;
    }
    w->total = 0;
    w->head = 0;
    w->k = k;
    w->empty = 1;
}

/* Move the window's end to second s (>= head): seconds below s-k+1 leave. */
static inline void secwin_advance(fe_secwin *w, int64_t s) {
    if (w->empty) {
        w->head = s;
        w->empty = 0;
        return;
    }
    if (s <= w->head) return;
    if (s - w->head >= w->k) {
        for (int i = 0; i < SECS; i++) {
            w->tag[i] = INT64_MIN;
            w->cnt[i] = 0;
        }
        w->total = 0;
    } else {
        for (int64_t x = w->head - w->k + 1; x <= s - w->k; x++) {
            int b = (int)(x & (SECS - 1));
            if (w->tag[b] == x) {
                w->total -= w->cnt[b];
                w->cnt[b] = 0;
                w->tag[b] = INT64_MIN;
            }
        }
    }
    w->head = s;
}

static inline void secwin_add(fe_secwin *w, int64_t s) {
    secwin_advance(w, s);
    int b = (int)(s & (SECS - 1));
    if (w->tag[b] != s) {
        w->tag[b] = s;
        w->cnt[b] = 0;
    }
    w->cnt[b]++;
    w->total++;
}

/* ----------------------------------------------------------- agent ranking */

/* Agents present in W_500 (as buyer or seller) are at most 2*500; slots are
 * recycled when an agent leaves both sides of the window, so a fixed pool
 * serves any number of agent ids. */
#define AGENT_SLOTS 1024
#define AGENT_MAP 2048
#define AGENT_MAP_BITS 11

typedef struct fe_rank {
    int64_t vol[AGENT_SLOTS];  /* volume in W_500 on this side */
    int64_t last[AGENT_SLOTS]; /* index of the latest trade in W_500 on this side */
    int32_t cnt[AGENT_SLOTS];  /* trades in W_500 on this side */
    int32_t cnt20[AGENT_SLOTS]; /* trades in W_20 on this side */
    int16_t pos[AGENT_SLOTS];  /* position in order[] */
    int16_t order[AGENT_SLOTS]; /* present agents, best first */
    int32_t len;
} fe_rank;

typedef struct fe_agents {
    int32_t map_key[AGENT_MAP];
    int16_t map_slot[AGENT_MAP]; /* -1: empty */
    int32_t slot_id[AGENT_SLOTS];
    int16_t free_slots[AGENT_SLOTS];
    int32_t n_free;
    fe_rank buy, sell;
} fe_agents;

static void agents_clear(fe_agents *ag) {
    for (int i = 0; i < AGENT_MAP; i++) ag->map_slot[i] = -1;
    for (int i = 0; i < AGENT_SLOTS; i++) ag->free_slots[i] = (int16_t)(AGENT_SLOTS - 1 - i);
    ag->n_free = AGENT_SLOTS;
    ag->buy.len = 0;
    ag->sell.len = 0;
}

static inline uint32_t agent_hash(int32_t id) {
    return ((uint32_t)id * 2654435761u) >> (32 - AGENT_MAP_BITS);
}

static int agent_slot(fe_agents *ag, int32_t id) {
    uint32_t i = agent_hash(id);
    while (ag->map_slot[i] >= 0) {
        if (ag->map_key[i] == id) return ag->map_slot[i];
        i = (i + 1) & (AGENT_MAP - 1);
    }
    if (ag->n_free == 0) return -1; /* impossible: at most 1000 agents live */
    int s = ag->free_slots[--ag->n_free];
    ag->map_key[i] = id;
    ag->map_slot[i] = (int16_t)s;
    ag->slot_id[s] = id;
    ag->buy.vol[s] = ag->sell.vol[s] = 0;
    ag->buy.cnt[s] = ag->sell.cnt[s] = 0;
    ag->buy.cnt20[s] = ag->sell.cnt20[s] = 0;
    return s;
}

/* Linear-probing deletion with backward shift (no tombstones, so lookups
 * stay short however long the session). */
static void agent_free(fe_agents *ag, int s) {
    int32_t id = ag->slot_id[s];
    uint32_t i = agent_hash(id);
    while (ag->map_key[i] != id || ag->map_slot[i] != s) i = (i + 1) & (AGENT_MAP - 1);
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & (AGENT_MAP - 1);
        if (ag->map_slot[j] < 0) break;
        uint32_t home = agent_hash(ag->map_key[j]);
        /* move j into the hole i unless its home lies cyclically in (i, j] */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            ag->map_key[i] = ag->map_key[j];
            ag->map_slot[i] = ag->map_slot[j];
            i = j;
        }
    }
    ag->map_slot[i] = -1;
    ag->free_slots[ag->n_free++] = (int16_t)s;
}

static inline int rank_better(const fe_rank *rk, int a, int b) {
    return rk->vol[a] > rk->vol[b] || (rk->vol[a] == rk->vol[b] && rk->last[a] > rk->last[b]);
}

static inline void rank_promote(fe_rank *rk, int s) {
    int p = rk->pos[s];
    while (p > 0 && rank_better(rk, s, rk->order[p - 1])) {
        rk->order[p] = rk->order[p - 1];
        rk->pos[rk->order[p]] = (int16_t)p;
        p--;
    }
    rk->order[p] = (int16_t)s;
    rk->pos[s] = (int16_t)p;
}

static inline void rank_demote(fe_rank *rk, int s) {
    int p = rk->pos[s];
    while (p + 1 < rk->len && rank_better(rk, rk->order[p + 1], s)) {
        rk->order[p] = rk->order[p + 1];
        rk->pos[rk->order[p]] = (int16_t)p;
        p++;
    }
    rk->order[p] = (int16_t)s;
    rk->pos[s] = (int16_t)p;
}

/* Trade `idx` of this side leaves W_500. */
static inline void rank_leave(fe_rank *rk, int s, int32_t q) {
    rk->vol[s] -= q;
    if (--rk->cnt[s] == 0) {
        for (int p = rk->pos[s]; p + 1 < rk->len; p++) {
            rk->order[p] = rk->order[p + 1];
            rk->pos[rk->order[p]] = (int16_t)p;
        }
        rk->len--;
    } else {
        rank_demote(rk, s);
    }
}

/* Trade `idx` (the newest) enters W_500 on this side. */
static inline void rank_enter(fe_rank *rk, int s, int32_t q, int64_t idx) {
    if (rk->cnt[s]++ == 0) {
        rk->order[rk->len] = (int16_t)s;
        rk->pos[s] = (int16_t)rk->len;
        rk->len++;
    }
    rk->vol[s] += q;
    rk->last[s] = idx;
    rk->cnt20[s]++;
    rank_promote(rk, s);
}

static inline int rank_top_count20(const fe_rank *rk) {
    int k = rk->len < 5 ? rk->len : 5, c = 0;
    for (int i = 0; i < k; i++) c += rk->cnt20[rk->order[i]] > 0;
    return c;
}

/* ----------------------------------------------------------------- engine */

static const uint32_t RW[6] = {5, 10, 20, 50, 100, 200}; /* return windows */
enum { RW5, RW10, RW20, RW50, RW100, RW200, NRW };
static const uint32_t QW[4] = {10, 20, 50, 100}; /* quantity windows */
#define GK_BARS 20
#define OFI_HIST 128

struct qt_fe {
    void *raw; /* what malloc returned (the struct is cache-line aligned in it) */

    /* configuration */
    double tick_size, unit, inv_unit;
    double qty_scale; /* volume-valued outputs are divided by it (when != 1) */
    int unit_divides; /* price = units / inv_unit (see qt_price_to_double) */
    qt_fe_tz_transition *tz;
    size_t n_tz, tz_idx;
    qt_fe_session_hours *sessions; /* sorted by date */
    size_t n_sessions;
    int32_t default_open_s, default_close_s;

    /* clock */
    int64_t latest_ts;
    int have_clock;
    int placed; /* the second below was placed in the current session */
    uint64_t placed_ns;
    int64_t placed_sec, placed_local;

    /* session */
    int have_session;
    int64_t day; /* local days since 1970-01-01 */
    int32_t date, open_s, close_s, dow;
    int64_t n; /* trades of the session */
    int32_t prev_b, prev_s;
    int64_t cum_signed;

    /* rolling sums (exact) */
    int64_t rs1[NRW];
    fe_i128 rs2[NRW];
    int32_t rbig[NRW];
    int64_t ps5, ps20, ps50;
    fe_i128 ps2_20;
    int64_t qs[4], sqs[4];
    fe_i128 qs2[4]; /* [0] unused: no std over W_10(q) */
    fe_i128 qr20;
    int32_t bchg100, schg100;
    int64_t ti200;

    /* Garman-Klass bars */
    int have_bar;
    int64_t bar_minute;
    double bo, bh, bl, bc;
    double gk_terms[GK_BARS];
    int64_t gk_n;
    double gk_value;

    /* book: the quote after the latest book event (for the OFI terms) */
    qt_book *book;
    int64_t q_bid, q_ask, q_bid_qty, q_ask_qty;
    int q_valid;
    int64_t ofi[OFI_HIST];
    int64_t ofi_n, ofi10, ofi50, ofi100;

    qt_fe_counters c;

    fe_secwin trades60, book10;
    fe_agents ag;
    fe_trade hist[HIST];
    double scratch[QT_FE_NUM_FEATURES]; /* rows the drain sink does not keep */
};

static inline fe_trade *H(qt_fe *fe, int64_t i) { return &fe->hist[i & HMASK]; }

static inline double to_price(const qt_fe *fe, int64_t units) {
    return fe->unit_divides ? (double)units / fe->inv_unit : (double)units * fe->unit;
}

static inline double qty_out(const qt_fe *fe, int64_t x) {
    return fe->qty_scale == 1.0 ? (double)x : (double)x / fe->qty_scale;
}

static void book_clear(qt_fe *fe) {
    qt_book_clear(fe->book);
    fe->q_bid = fe->q_ask = QT_PRICE_NONE;
    fe->q_bid_qty = fe->q_ask_qty = 0;
    fe->q_valid = 0;
    fe->ofi_n = fe->ofi10 = fe->ofi50 = fe->ofi100 = 0;
    secwin_clear(&fe->book10, 10);
}

/* clear_book is 0 only for the first session after a reset: book records
 * that came before any clock (untimed) are then kept, not thrown away by
 * the first timed record. */
static void session_clear(qt_fe *fe, int clear_book) {
    fe->n = 0;
    fe->prev_b = fe->prev_s = 0;
    fe->cum_signed = 0;
    for (int k = 0; k < NRW; k++) {
        fe->rs1[k] = 0;
        fe->rs2[k] = i128_zero();
        fe->rbig[k] = 0;
    }
    fe->ps5 = fe->ps20 = fe->ps50 = 0;
    fe->ps2_20 = i128_zero();
    for (int k = 0; k < 4; k++) {
        fe->qs[k] = fe->sqs[k] = 0;
        fe->qs2[k] = i128_zero();
    }
    fe->qr20 = i128_zero();
    fe->bchg100 = fe->schg100 = 0;
    fe->ti200 = 0;
    fe->have_bar = 0;
    fe->gk_n = 0;
    fe->gk_value = NAN;
    secwin_clear(&fe->trades60, 60);
    agents_clear(&fe->ag);
    if (clear_book) book_clear(fe);
}

static void session_hours(qt_fe *fe, int32_t date, int32_t *open_s, int32_t *close_s) {
    size_t lo = 0, hi = fe->n_sessions;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fe->sessions[mid].date < date) lo = mid + 1;
        else hi = mid;
    }
    if (lo < fe->n_sessions && fe->sessions[lo].date == date) {
        *open_s = fe->sessions[lo].open_s;
        *close_s = fe->sessions[lo].close_s;
    } else {
        *open_s = fe->default_open_s;
        *close_s = fe->default_close_s;
    }
}

static void session_start(qt_fe *fe, int64_t day) {
    session_clear(fe, fe->have_session);
    fe->have_session = 1;
    fe->day = day;
    fe->date = yyyymmdd_from_days(day);
    int64_t w = (day + 3) % 7; /* Monday 0; 1970-01-01 was a Thursday */
    fe->dow = (int32_t)(w < 0 ? w + 7 : w);
    session_hours(fe, fe->date, &fe->open_s, &fe->close_s);
    fe->c.session_resets++;
}

static int32_t tz_offset(qt_fe *fe, int64_t ts) {
    if (fe->n_tz == 0) return 0;
    size_t i = fe->tz_idx;
    const qt_fe_tz_transition *t = fe->tz;
    if (ts >= t[i].utc_ns_from && (i + 1 == fe->n_tz || ts < t[i + 1].utc_ns_from)) return t[i].offset_s;
    size_t lo = 0, hi = fe->n_tz; /* first entry with from > ts */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t[mid].utc_ns_from <= ts) lo = mid + 1;
        else hi = mid;
    }
    fe->tz_idx = lo == 0 ? 0 : lo - 1;
    return t[fe->tz_idx].offset_s;
}

/* The engine's clock never goes back: the time a record gets is its own or
 * the latest seen, whichever is later (the latest when it has none).  0 when
 * there is no time at all yet. */
static inline int clock_peek(const qt_fe *fe, int64_t ts, int64_t *eff) {
    if (ts == QT_TIME_NONE) {
        if (!fe->have_clock) return 0;
        *eff = fe->latest_ts;
        return 1;
    }
    *eff = fe->have_clock && ts < fe->latest_ts ? fe->latest_ts : ts;
    return 1;
}

/* A record that is part of the stream moves the clock (and is counted when
 * its own time was missing or earlier). */
static inline void clock_commit(qt_fe *fe, int64_t ts, int64_t eff) {
    if (ts == QT_TIME_NONE) fe->c.ts_missing++;
    else if (ts < eff) fe->c.ts_regressions++;
    fe->latest_ts = eff;
    fe->have_clock = 1;
}

static inline int clock_take(qt_fe *fe, int64_t ts, int64_t *eff) {
    if (!clock_peek(fe, ts, eff)) return 0;
    clock_commit(fe, ts, *eff);
    return 1;
}

/* UTC and local whole seconds of ts; a new local date starts a session. */
static inline void clock_place(qt_fe *fe, int64_t ts, int64_t *utc_sec, int64_t *local_sec) {
    /* Records come several per second: within the second placed last (UTC
     * offsets change on whole seconds) nothing needs computing again. */
    if (fe->placed && (uint64_t)ts - fe->placed_ns < 1000000000u) {
        *utc_sec = fe->placed_sec;
        *local_sec = fe->placed_local;
        return;
    }
    *utc_sec = qt_floor_div(ts, 1000000000);
    *local_sec = *utc_sec + tz_offset(fe, ts);
    int64_t day = qt_floor_div(*local_sec, 86400);
    if (!fe->have_session || day != fe->day) session_start(fe, day);
    fe->placed = 1;
    fe->placed_ns = (uint64_t)*utc_sec * 1000000000u; /* modulo 2^64, like the test above */
    fe->placed_sec = *utc_sec;
    fe->placed_local = *local_sec;
}

/* --------------------------------------------------------------- lifecycle */

static int cmp_sessions(const void *a, const void *b) {
    int32_t x = ((const qt_fe_session_hours *)a)->date, y = ((const qt_fe_session_hours *)b)->date;
    return (x > y) - (x < y);
}

static int hours_ok(int32_t open_s, int32_t close_s) {
    return open_s >= 0 && close_s > open_s && close_s <= 86400;
}

/* The book checks prices against the tick when the tick is a whole number
 * of price units; otherwise it checks nothing (1 unit). */
static int64_t book_tick_units(double tick_size, double price_unit) {
    double r = tick_size / price_unit;
    if (!(r >= 1.0) || r > 1e12) return 1;
    double k = floor(r + 0.5);
    return fabs(r - k) <= 1e-9 * k ? (int64_t)k : 1;
}

qt_fe *qt_fe_create(const qt_fe_config *cfg) {
    if (!cfg || !(cfg->tick_size > 0) || !(cfg->price_unit > 0) || !isfinite(cfg->tick_size) ||
        !isfinite(cfg->price_unit) || !hours_ok(cfg->default_open_s, cfg->default_close_s))
        return NULL;
    if (!(cfg->qty_scale >= 0) || !isfinite(cfg->qty_scale)) return NULL;
    if (cfg->book_capacity > QT_BOOK_MAX_CAPACITY) return NULL;
    if ((cfg->n_tz && !cfg->tz) || (cfg->n_sessions && !cfg->sessions)) return NULL;
    for (size_t i = 1; i < cfg->n_tz; i++)
        if (cfg->tz[i].utc_ns_from <= cfg->tz[i - 1].utc_ns_from) return NULL;
    for (size_t i = 0; i < cfg->n_tz; i++)
        if (cfg->tz[i].offset_s <= -86400 || cfg->tz[i].offset_s >= 86400) return NULL;
    for (size_t i = 0; i < cfg->n_sessions; i++)
        if (!valid_yyyymmdd(cfg->sessions[i].date) ||
            !hours_ok(cfg->sessions[i].open_s, cfg->sessions[i].close_s))
            return NULL;

    void *raw = malloc(sizeof(qt_fe) + QT_CACHE_LINE);
    if (!raw) return NULL;
    qt_fe *fe = (qt_fe *)(((uintptr_t)raw + QT_CACHE_LINE - 1) & ~(uintptr_t)(QT_CACHE_LINE - 1));
    memset(fe, 0, sizeof *fe);
    fe->raw = raw;
    fe->tick_size = cfg->tick_size;
    fe->unit = cfg->price_unit;
    fe->inv_unit = 1.0 / cfg->price_unit;
    double r = (double)(int64_t)(fe->inv_unit + 0.5);
    fe->unit_divides = cfg->price_unit < 1.0 && r == fe->inv_unit;
    fe->qty_scale = cfg->qty_scale == 0 ? 1.0 : cfg->qty_scale;
    fe->default_open_s = cfg->default_open_s;
    fe->default_close_s = cfg->default_close_s;
    fe->book = qt_book_create(book_tick_units(cfg->tick_size, cfg->price_unit), cfg->book_capacity);
    if (!fe->book) goto fail;
    if (cfg->n_tz) {
        fe->tz = malloc(cfg->n_tz * sizeof *fe->tz);
        if (!fe->tz) goto fail;
        memcpy(fe->tz, cfg->tz, cfg->n_tz * sizeof *fe->tz);
        fe->n_tz = cfg->n_tz;
    }
    if (cfg->n_sessions) {
        fe->sessions = malloc(cfg->n_sessions * sizeof *fe->sessions);
        if (!fe->sessions) goto fail;
        memcpy(fe->sessions, cfg->sessions, cfg->n_sessions * sizeof *fe->sessions);
        fe->n_sessions = cfg->n_sessions;
        qsort(fe->sessions, fe->n_sessions, sizeof *fe->sessions, cmp_sessions);
        for (size_t i = 1; i < fe->n_sessions; i++)
            if (fe->sessions[i].date == fe->sessions[i - 1].date) goto fail;
    }
    qt_fe_reset(fe);
    return fe;
fail:
    qt_fe_destroy(fe);
    return NULL;
}

void qt_fe_destroy(qt_fe *fe) {
    if (!fe) return;
    qt_book_destroy(fe->book);
    free(fe->tz);
    free(fe->sessions);
    free(fe->raw);
}

void qt_fe_reset(qt_fe *fe) {
    memset(&fe->c, 0, sizeof fe->c);
    fe->have_clock = 0;
    fe->latest_ts = 0;
    fe->placed = 0;
    fe->tz_idx = 0;
    fe->have_session = 0;
    fe->day = 0;
    fe->date = 0;
    session_clear(fe, 1);
}

/* The book's arrays: two sides of 2 * capacity levels (price, qty, count),
 * staging included; see qt_book.c. */
#define FE_BOOK_LEVEL_BYTES 24

size_t qt_fe_memory_bytes(const qt_fe *fe) {
    return sizeof(qt_fe) + QT_CACHE_LINE + fe->n_tz * sizeof *fe->tz + fe->n_sessions * sizeof *fe->sessions +
           (size_t)qt_book_capacity(fe->book) * 2 * 2 * 2 * FE_BOOK_LEVEL_BYTES;
}

const qt_book *qt_fe_book(const qt_fe *fe) { return fe->book; }

void qt_fe_get_counters(const qt_fe *fe, qt_fe_counters *out) { *out = fe->c; }

/* ------------------------------------------------------------------ trades */

/* mean and sample std of W_N(r) for return window k, in return units. */
static void rstats(qt_fe *fe, int k, double *mean, double *sd) {
    uint32_t n = RW[k];
    if (fe->rbig[k] == 0) {
        *mean = (double)fe->rs1[k] / n * INV_TWO53;
        *sd = std_from_sums(fe->rs1[k], fe->rs2[k], n) * INV_TWO53;
        return;
    }
    /* a return beyond the exact grid is in the window: two-pass */
    fe->c.recomputations++;
    double s = 0.0, ss = 0.0;
    for (int64_t i = fe->n - n + 1; i <= fe->n; i++) s += H(fe, i)->r;
    double m = s / n;
    int equal = 1;
    double r0 = H(fe, fe->n)->r;
    for (int64_t i = fe->n - n + 1; i <= fe->n; i++) {
        double d = H(fe, i)->r - m;
        ss += d * d;
        equal &= H(fe, i)->r == r0;
    }
    *mean = m;
    *sd = equal ? 0.0 : sqrt(ss / (n - 1));
}

static void gk_complete_bar(qt_fe *fe) {
    double hl = log(fe->bh / fe->bl), co = log(fe->bc / fe->bo);
    fe->gk_terms[fe->gk_n % GK_BARS] = 0.5 * hl * hl - GK_K * co * co;
    fe->gk_n++;
    if (fe->gk_n < 5) return;
    int64_t m = fe->gk_n < GK_BARS ? fe->gk_n : GK_BARS;
    double s = 0.0;
    for (int64_t i = fe->gk_n - m; i < fe->gk_n; i++) s += fe->gk_terms[i % GK_BARS];
    double mean = s / (double)m;
    fe->gk_value = sqrt(mean > 0.0 ? mean : 0.0);
}

static void gk_update(qt_fe *fe, int64_t local_sec, double p) {
    int64_t minute = qt_floor_div(local_sec, 60);
    if (fe->have_bar && minute == fe->bar_minute) {
        if (p > fe->bh) fe->bh = p;
        if (p < fe->bl) fe->bl = p;
        fe->bc = p;
        return;
    }
    if (fe->have_bar) gk_complete_bar(fe);
    fe->have_bar = 1;
    fe->bar_minute = minute;
    fe->bo = fe->bh = fe->bl = fe->bc = p;
}

/* The 12 book features from the book as it stands now. */
static void book_features(const qt_fe *fe, double *out) {
    int64_t bq[10], aq[10];
    uint32_t nb = qt_book_levels(fe->book, QT_SIDE_BUY, 10, NULL, bq, NULL);
    uint32_t na = qt_book_levels(fe->book, QT_SIDE_SELL, 10, NULL, aq, NULL);
    static const uint32_t DEPTHS[3] = {1, 5, 10};
    int64_t db[3], da[3], sb = 0, sa = 0;
    for (uint32_t k = 0, d = 0; k < 10; k++) {
        if (k < nb) sb += bq[k];
        if (k < na) sa += aq[k];
        if (k + 1 == DEPTHS[d]) {
            db[d] = sb;
            da[d] = sa;
            d++;
        }
    }
    if (nb && na) {
        int64_t bid_p = qt_book_best_price(fe->book, QT_SIDE_BUY), ask_p = qt_book_best_price(fe->book, QT_SIDE_SELL);
        if (bid_p < ask_p) {
            /* the spread from the integer difference: exact, no decimal noise
             * of two large prices subtracted */
            double spread = to_price(fe, ask_p - bid_p);
            double ticks = spread / fe->tick_size;
            out[QT_FE_SPREAD] = spread;
            out[QT_FE_SPREAD_TICKS] = ticks;
            /* microprice - mid = (ba - bb)(qb - qa) / (2 (qb + qa)) exactly:
             * the spec's form subtracts two nearly equal prices and keeps
             * only ~1e-9 of relative accuracy; this one loses nothing */
            out[QT_FE_MICROPRICE_DEV] = ticks * (double)(bq[0] - aq[0]) / (2.0 * (double)(bq[0] + aq[0]));
        } else {
            out[QT_FE_SPREAD] = out[QT_FE_SPREAD_TICKS] = out[QT_FE_MICROPRICE_DEV] = NAN;
        }
    } else {
        out[QT_FE_SPREAD] = out[QT_FE_SPREAD_TICKS] = out[QT_FE_MICROPRICE_DEV] = NAN;
    }
    /* imbalances: the quantity scale cancels */
    for (int k = 0; k < 3; k++)
        out[QT_FE_BOOK_IMBALANCE_1 + k] = db[k] + da[k] ? (double)(db[k] - da[k]) / (double)(db[k] + da[k]) : 0.0;
    out[QT_FE_DEPTH_BID_5] = qty_out(fe, db[1]);
    out[QT_FE_DEPTH_ASK_5] = qty_out(fe, da[1]);
    out[QT_FE_OFI_10] = fe->ofi_n >= 10 ? qty_out(fe, fe->ofi10) : NAN;
    out[QT_FE_OFI_50] = fe->ofi_n >= 50 ? qty_out(fe, fe->ofi50) : NAN;
    out[QT_FE_OFI_100] = fe->ofi_n >= 100 ? qty_out(fe, fe->ofi100) : NAN;
    out[QT_FE_BOOK_UPDATE_RATE] = (double)fe->book10.total / 10.0;
}

static int on_trade(qt_fe *fe, const qt_event *ev, double *out) {
    fe->c.trades++;
    if (ev->flags & QT_F_INVALID) {
        fe->c.invalid++;
        return 0;
    }
    if (ev->flags & QT_F_AFTER_HOURS) {
        fe->c.after_hours++;
        return 0;
    }
    /* A correction of an earlier trade: the rows already emitted stand and
     * it is not a new trade of the stream, so it neither emits nor moves any
     * window (nor the clock). */
    if (ev->flags & QT_F_EDIT) {
        fe->c.edits++;
        return 0;
    }
    const int64_t P = ev->price;
    const int32_t q = ev->qty;
    int64_t ts, usec, lsec;
    if (P == QT_PRICE_NONE || P <= 0 || P > FE_MAX_PRICE || q <= 0 || !clock_take(fe, ev->exch_ns, &ts)) {
        fe->c.invalid++;
        return 0;
    }
    clock_place(fe, ts, &usec, &lsec);

    const int64_t n = ++fe->n;
    fe_trade *t = H(fe, n);
    const double p = to_price(fe, P);
    const int8_t s = ev->code == 2 ? 1 : ev->code == 3 ? -1 : 0;
    const int64_t sq = (int64_t)s * q;
    const int32_t b = ev->a, a = ev->b;

    /* ---- the record of trade n */
    t->P = P;
    t->p = p;
    t->q = q;
    t->s = s;
    t->bits = 0;
    t->R = 0;
    t->r = 0.0;
    t->QR = i128_zero();
    if (n >= 2) {
        double r = p / H(fe, n - 1)->p - 1.0;
        t->r = r;
        double x = r * TWO53;
        /* |r| <= 1 is on the 2^-53 grid; the equality re-checks it */
        if (r <= 1.0 && (double)(int64_t)x == x) {
            t->R = (int64_t)x;
            t->QR = i128_from_integral_double(((double)q * r) * TWO53);
        } else {
            t->bits |= TB_BIG;
        }
        if (b != fe->prev_b) t->bits |= TB_BUYER_CHANGED;
        if (a != fe->prev_s) t->bits |= TB_SELLER_CHANGED;
    }
    fe->prev_b = b;
    fe->prev_s = a;
    fe->cum_signed += sq;
    secwin_add(&fe->trades60, usec);
    t->ti = (int32_t)fe->trades60.total;

    /* ---- windows over returns (defined from trade 2) */
    if (n >= 2) {
        const fe_i128 R2 = i128_square(t->R);
        const int big = (t->bits & TB_BIG) != 0;
        for (int k = 0; k < NRW; k++) {
            fe->rs1[k] += t->R;
            i128_add(&fe->rs2[k], R2);
            fe->rbig[k] += big;
            if (n - (int64_t)RW[k] >= 2) {
                const fe_trade *o = H(fe, n - RW[k]);
                fe->rs1[k] -= o->R;
                i128_sub(&fe->rs2[k], i128_square(o->R));
                fe->rbig[k] -= (o->bits & TB_BIG) != 0;
            }
        }
        i128_add(&fe->qr20, t->QR);
        if (n - 20 >= 2) i128_sub(&fe->qr20, H(fe, n - 20)->QR);
    }

    /* ---- windows over prices, quantities, flags (defined from trade 1) */
    fe->ps5 += P;
    if (n > 5) fe->ps5 -= H(fe, n - 5)->P;
    fe->ps20 += P;
    i128_add(&fe->ps2_20, i128_square(P));
    if (n > 20) {
        int64_t o = H(fe, n - 20)->P;
        fe->ps20 -= o;
        i128_sub(&fe->ps2_20, i128_square(o));
    }
    fe->ps50 += P;
    if (n > 50) fe->ps50 -= H(fe, n - 50)->P;
    const fe_i128 q2 = i128_square(q);
    for (int k = 0; k < 4; k++) {
        fe->qs[k] += q;
        fe->sqs[k] += sq;
        if (k) i128_add(&fe->qs2[k], q2);
        if (n > (int64_t)QW[k]) {
            const fe_trade *o = H(fe, n - QW[k]);
            fe->qs[k] -= o->q;
            fe->sqs[k] -= (int64_t)o->s * o->q;
            if (k) i128_sub(&fe->qs2[k], i128_square(o->q));
        }
    }
    fe->bchg100 += (t->bits & TB_BUYER_CHANGED) != 0;
    fe->schg100 += (t->bits & TB_SELLER_CHANGED) != 0;
    if (n > 100) {
        const fe_trade *o = H(fe, n - 100);
        fe->bchg100 -= (o->bits & TB_BUYER_CHANGED) != 0;
        fe->schg100 -= (o->bits & TB_SELLER_CHANGED) != 0;
    }
    fe->ti200 += t->ti;
    if (n > 200) fe->ti200 -= H(fe, n - 200)->ti;

    /* ---- agent ranking over W_500, presence in W_20 */
    fe_agents *ag = &fe->ag;
    if (n > 20) {
        const fe_trade *o = H(fe, n - 20);
        ag->buy.cnt20[o->bslot]--;
        ag->sell.cnt20[o->sslot]--;
    }
    if (n > 500) {
        const fe_trade *o = H(fe, n - 500);
        rank_leave(&ag->buy, o->bslot, o->q);
        rank_leave(&ag->sell, o->sslot, o->q);
        if (ag->buy.cnt[o->bslot] == 0 && ag->sell.cnt[o->bslot] == 0) agent_free(ag, o->bslot);
        if (o->sslot != o->bslot && ag->buy.cnt[o->sslot] == 0 && ag->sell.cnt[o->sslot] == 0)
            agent_free(ag, o->sslot);
    }
    int bslot = agent_slot(ag, b), sslot = agent_slot(ag, a);
    if (bslot < 0 || sslot < 0) bslot = sslot = 0; /* unreachable: the pool holds every live agent */
    t->bslot = (uint16_t)bslot;
    t->sslot = (uint16_t)sslot;
    rank_enter(&ag->buy, bslot, q, n);
    rank_enter(&ag->sell, sslot, q, n);

    gk_update(fe, lsec, p);

    /* ================================================== the feature vector */
    double mean_r[NRW], sd_r[NRW];
    for (int k = 0; k < NRW; k++) {
        if (n >= (int64_t)RW[k] + 1) rstats(fe, k, &mean_r[k], &sd_r[k]);
        else mean_r[k] = sd_r[k] = NAN;
    }
    /* volatility */
    for (int k = 0; k < 4; k++) {
        out[QT_FE_VOLATILITY_10 + k] = sd_r[RW10 + k];
        out[QT_FE_VOLATILITY_RATIO_10 + k] = safe_div(sd_r[RW10 + k], sd_r[RW20 + k]);
    }
    out[QT_FE_VOLATILITY_GK] = fe->gk_n >= 5 ? fe->gk_value : NAN;
    if (n >= 20) {
        /* (p - (m - 2s)) / (4s) with m = S/20, s = sqrt(D)/20: the same as
         * (20p - S + 2 sqrt(D)) / (4 sqrt(D)), whose first term is an exact
         * integer, so nothing cancels at the price level */
        fe_i128 d = var_numerator(fe->ps20, fe->ps2_20, 20);
        if (i128_is_zero(d)) {
            out[QT_FE_BB_POSITION] = 0.5;
        } else {
            double root = sqrt(i128_to_double(d));
            out[QT_FE_BB_POSITION] = ((double)(20 * P - fe->ps20) + 2.0 * root) / (4.0 * root);
        }
    } else {
        out[QT_FE_BB_POSITION] = NAN;
    }
    /* returns */
    static const int RET_LAGS[7] = {1, 2, 5, 10, 20, 50, 100};
    for (int k = 0; k < 7; k++)
        out[QT_FE_RETURNS_1 + k] = n > RET_LAGS[k] ? p / H(fe, n - RET_LAGS[k])->p - 1.0 : NAN;
    double l1 = n > 1 ? log(p / H(fe, n - 1)->p) : NAN;
    double l5 = n > 5 ? log(p / H(fe, n - 5)->p) : NAN;
    double l20 = n > 20 ? log(p / H(fe, n - 20)->p) : NAN;
    double l50 = n > 50 ? log(p / H(fe, n - 50)->p) : NAN;
    out[QT_FE_LOG_RETURNS_1] = l1;
    out[QT_FE_LOG_RETURNS_1 + 1] = l5;
    out[QT_FE_LOG_RETURNS_1 + 2] = l20;
    /* order flow */
    for (int k = 0; k < 4; k++)
        out[QT_FE_ORDER_FLOW_IMBALANCE_10 + k] =
            n >= (int64_t)QW[k] ? safe_div((double)fe->sqs[k], (double)fe->qs[k]) : NAN;
    out[QT_FE_CUMULATIVE_SIGNED_VOLUME] = qty_out(fe, fe->cum_signed);
    out[QT_FE_SIGNED_VOLUME] = qty_out(fe, sq);
    if (n >= 21) {
        double num;
        if (fe->rbig[RW20] == 0) {
            num = i128_to_double(fe->qr20) * INV_TWO53;
        } else {
            fe->c.recomputations++;
            num = 0.0;
            for (int64_t i = n - 19; i <= n; i++) num += (double)H(fe, i)->q * H(fe, i)->r;
        }
        out[QT_FE_VOLUME_WEIGHTED_RETURN] = safe_div(num, (double)fe->qs[1]);
    } else {
        out[QT_FE_VOLUME_WEIGHTED_RETURN] = NAN;
    }
    out[QT_FE_AGENT_TURNOVER] =
        n >= 100 ? ((double)fe->bchg100 / 100.0 + (double)fe->schg100 / 100.0) / 2.0 : NAN;
    /* volume */
    for (int k = 1; k < 4; k++) {
        uint32_t N = QW[k];
        if (n >= (int64_t)N) {
            double mean = (double)fe->qs[k] / N;
            double sd = std_from_sums(fe->qs[k], fe->qs2[k], N);
            out[QT_FE_VOLUME_RATIO_20 + k - 1] = safe_div((double)q, mean);
            /* q - mean as (N q - S) / N: an exact integer, one rounding */
            out[QT_FE_VOLUME_ZSCORE_20 + k - 1] = safe_div((double)((int64_t)N * q - fe->qs[k]) / N, sd);
        } else {
            out[QT_FE_VOLUME_RATIO_20 + k - 1] = out[QT_FE_VOLUME_ZSCORE_20 + k - 1] = NAN;
        }
    }
    out[QT_FE_TRADE_INTENSITY] = (double)t->ti / 60.0;
    /* ti / mean(W_200(ti)) with the 1/60 cancelled: one rounding */
    out[QT_FE_TRADE_INTENSITY_RATIO] = n >= 200 ? safe_div((double)t->ti * 200.0, (double)fe->ti200) : NAN;
    /* technical */
    out[QT_FE_MA_5_20_RATIO] = n >= 20 ? ((double)fe->ps5 / 5.0) / ((double)fe->ps20 / 20.0) : NAN;
    out[QT_FE_MA_20_50_RATIO] = n >= 50 ? ((double)fe->ps20 / 20.0) / ((double)fe->ps50 / 50.0) : NAN;
    out[QT_FE_MOMENTUM_5_20] = l5 - (5.0 / 20.0) * l20;
    out[QT_FE_MOMENTUM_20_50] = l20 - (20.0 / 50.0) * l50;
    out[QT_FE_SHARPE_5] = safe_div(mean_r[RW5], sd_r[RW5]);
    out[QT_FE_SHARPE_20] = safe_div(mean_r[RW20], sd_r[RW20]);
    const int64_t local_t = lsec - fe->day * 86400;
    double tn = (double)(local_t - fe->open_s) / (double)(fe->close_s - fe->open_s);
    out[QT_FE_TIME_NORMALIZED] = tn < 0.0 ? 0.0 : tn > 1.0 ? 1.0 : tn;
    /* microstructure */
    if (n >= 500) {
        for (int k = 0; k < 5; k++) {
            out[QT_FE_TOP_BUYER_0_ACTIVE + k] = k < ag->buy.len && ag->buy.order[k] == bslot;
            out[QT_FE_TOP_SELLER_0_ACTIVE + k] = k < ag->sell.len && ag->sell.order[k] == sslot;
        }
        out[QT_FE_TOP_BUYERS_COUNT] = rank_top_count20(&ag->buy);
        out[QT_FE_TOP_SELLERS_COUNT] = rank_top_count20(&ag->sell);
    } else {
        for (int k = 0; k < 12; k++) out[QT_FE_TOP_BUYER_0_ACTIVE + k] = NAN;
    }
    out[QT_FE_BUYER_CHANGED] = (t->bits & TB_BUYER_CHANGED) != 0;
    out[QT_FE_SELLER_CHANGED] = (t->bits & TB_SELLER_CHANGED) != 0;
    out[QT_FE_IS_BUYER_AGGRESSOR] = ev->code == 2;
    out[QT_FE_IS_SELLER_AGGRESSOR] = ev->code == 3;
    /* temporal */
    out[QT_FE_MINUTE] = (double)((local_t / 60) % 60);
    out[QT_FE_HOUR] = (double)(local_t / 3600);
    out[QT_FE_DAY_OF_WEEK] = fe->dow;
    out[QT_FE_IS_OPENING_30MIN] = local_t >= fe->open_s && local_t < fe->open_s + 1800;
    out[QT_FE_IS_CLOSING_30MIN] = local_t >= fe->close_s - 1800 && local_t < fe->close_s;
    out[QT_FE_IS_LUNCH_HOUR] = local_t >= 12 * 3600 && local_t < 13 * 3600;

    /* book: book events before this trade within its 10-second window */
    secwin_advance(&fe->book10, usec);
    book_features(fe, out);

    fe->c.rows++;
    return 1;
}

/* ---------------------------------------------------------------- the book */

/* The Cont-Kukanov-Stoikov term of a book event, when the event changed the
 * quote and found and left the book valid. */
static inline void book_event(qt_fe *fe) {
    fe->c.book_events++;
    qt_book_quote qt;
    qt_book_get_quote(fe->book, &qt);
    int64_t bid = qt.bid, ask = qt.ask, bq = qt.bid_qty, aq = qt.ask_qty;
    int valid = bid != QT_PRICE_NONE && ask != QT_PRICE_NONE && bid < ask;
    int changed = bid != fe->q_bid || bq != fe->q_bid_qty || ask != fe->q_ask || aq != fe->q_ask_qty;
    if (changed && valid && fe->q_valid) {
        int64_t e = (bid >= fe->q_bid ? bq : 0) - (bid <= fe->q_bid ? fe->q_bid_qty : 0) -
                    (ask <= fe->q_ask ? aq : 0) + (ask >= fe->q_ask ? fe->q_ask_qty : 0);
        int64_t m = fe->ofi_n++;
        fe->ofi[m & (OFI_HIST - 1)] = e;
        fe->ofi10 += e;
        fe->ofi50 += e;
        fe->ofi100 += e;
        if (m >= 10) fe->ofi10 -= fe->ofi[(m - 10) & (OFI_HIST - 1)];
        if (m >= 50) fe->ofi50 -= fe->ofi[(m - 50) & (OFI_HIST - 1)];
        if (m >= 100) fe->ofi100 -= fe->ofi[(m - 100) & (OFI_HIST - 1)];
    }
    fe->q_bid = bid;
    fe->q_ask = ask;
    fe->q_bid_qty = bq;
    fe->q_ask_qty = aq;
    fe->q_valid = valid;
}

/* A book record: the session is placed by the time the record would get
 * (a new local date resets everything, the book included, before it is
 * applied); the clock moves only when the record completes a book event,
 * since a record that changes no level is not a book event. */
static void on_book_record(qt_fe *fe, const qt_event *ev) {
    int64_t eff, usec = 0, lsec;
    int timed = clock_peek(fe, ev->exch_ns, &eff);
    if (timed) clock_place(fe, eff, &usec, &lsec);
    fe->c.book_records++;
    unsigned r = qt_book_apply(fe->book, ev);
    if (r & QT_BOOK_REJECTED) fe->c.book_rejected++;
    if (!(r & QT_BOOK_EVENT)) return;
    if (timed) {
        clock_commit(fe, ev->exch_ns, eff);
        secwin_add(&fe->book10, usec);
    } else {
        fe->c.book_untimed++;
    }
    book_event(fe);
}

int qt_fe_on_event(qt_fe *fe, const qt_event *ev, double *out) {
    switch (ev->type) {
    case QT_EV_TRADE:
        return on_trade(fe, ev, out);
    case QT_EV_PRICE_BOOK:
    case QT_EV_L2_LEVEL:
    case QT_EV_SNAPSHOT_BEGIN:
    case QT_EV_SNAPSHOT_END:
        on_book_record(fe, ev);
        return 0;
    default:
        fe->c.skipped_records++;
        return 0;
    }
}

/* ------------------------------------------------------------ drain loop */

enum { ONE_TAKEN = 0, ONE_STOP = 1, ONE_FULL = 2 };

/* One record through the engine into the sink: ONE_TAKEN, ONE_STOP (taken,
 * and the hook asked to stop) or ONE_FULL (a trade while the matrix is
 * full: not taken, so no row is ever lost).  The latency clock starts when
 * the record is taken. */
static inline int drain_one(qt_fe *fe, const qt_event *ev, qt_fe_sink *s) {
    if (ev->type != QT_EV_TRADE) {
        qt_fe_on_event(fe, ev, NULL);
        return ONE_TAKEN;
    }
    if (s->matrix && s->rows >= s->capacity) return ONE_FULL;
    int64_t t0 = s->lat_ns && s->lat_n < s->lat_cap ? qt_monotonic_ns() : 0;
    uint64_t row = fe->c.rows;
    int keep = s->matrix && s->every && row % s->every == 0;
    double *out = keep ? s->matrix + s->rows * QT_FE_NUM_FEATURES : fe->scratch;
    if (!on_trade(fe, ev, out)) return ONE_TAKEN;
    if (t0) s->lat_ns[s->lat_n++] = qt_monotonic_ns() - t0;
    if (keep) {
        if (s->ts) s->ts[s->rows] = fe->latest_ts;
        if (s->trade_number) s->trade_number[s->rows] = ev->ref;
        s->rows++;
    }
    return s->hook && s->hook(s->user, out, ev, fe->latest_ts) != 0 ? ONE_STOP : ONE_TAKEN;
}

size_t qt_fe_drain(qt_fe *fe, const qt_event *ev, size_t n, qt_fe_sink *sink, int *status) {
    qt_fe_sink none;
    if (!sink) {
        memset(&none, 0, sizeof none);
        sink = &none;
    }
    size_t i = 0;
    int st = QT_FE_DRAIN_DONE;
    for (; i < n; i++) {
        int r = drain_one(fe, &ev[i], sink);
        if (r == ONE_TAKEN) continue;
        if (r == ONE_STOP) {
            i++;
            st = QT_FE_DRAIN_STOPPED;
        } else {
            st = QT_FE_DRAIN_FULL;
        }
        break;
    }
    if (status) *status = st;
    return i;
}

#define DRAIN_BATCH 256

uint64_t qt_fe_drain_ring(qt_fe *fe, qt_ring *ring, qt_fe_sink *sink, uint64_t max_events, int64_t wait_ns,
                          uint32_t spin_iters, int *status) {
    qt_fe_sink none;
    if (!sink) {
        memset(&none, 0, sizeof none);
        sink = &none;
    }
    uint64_t done = 0;
    int st = QT_FE_DRAIN_DONE;
    while (done < max_events) {
        uint64_t k = max_events - done < DRAIN_BATCH ? max_events - done : DRAIN_BATCH;
        const qt_event *ev = (const qt_event *)qt_ring_peek(ring, &k);
        if (k == 0) {
            if (qt_ring_closed(ring) && qt_ring_available(ring) == 0) {
                st = QT_FE_DRAIN_CLOSED;
                break;
            }
            if (wait_ns == 0 || qt_ring_wait(ring, wait_ns, spin_iters) == 0) {
                if (qt_ring_closed(ring) && qt_ring_available(ring) == 0) st = QT_FE_DRAIN_CLOSED;
                else if (wait_ns >= 0) st = QT_FE_DRAIN_IDLE;
                else continue; /* woken without a record: wait again */
                break;
            }
            continue;
        }
        uint64_t i = 0;
        int r = ONE_TAKEN;
        for (; i < k; i++) {
            r = drain_one(fe, &ev[i], sink);
            if (r == ONE_STOP) i++;
            if (r != ONE_TAKEN) break;
        }
        qt_ring_release(ring, i);
        done += i;
        if (r != ONE_TAKEN) {
            st = r == ONE_STOP ? QT_FE_DRAIN_STOPPED : QT_FE_DRAIN_FULL;
            break;
        }
    }
    if (status) *status = st;
    return done;
}
