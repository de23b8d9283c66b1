/* The feature engine's configuration, lifecycle and sessions: qt_fe_create
 * (checks and copies the configuration), reset, destroy, the accessors, and
 * what happens at a new local date (every window, the agent ranking and the
 * book cleared; the day's session hours looked up).  See qt_features.h for
 * the contract; the engine's state is in qt_fe_internal.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_atomic.h"
#include "features/qt_fe_internal.h"

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

/* ---------------------------------------------------------------- sessions */

static void book_clear(qt_fe *fe) {
    qt_book_clear(fe->book);
    fe->q_bid = fe->q_ask = QT_PRICE_NONE;
    fe->q_bid_qty = fe->q_ask_qty = 0;
    fe->q_valid = 0;
    fe->ofi_n = fe->ofi10 = fe->ofi50 = fe->ofi100 = 0;
    qt_fe_secwin_clear(&fe->book10, 10);
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
    fe_gk_clear(&fe->gk);
    qt_fe_secwin_clear(&fe->trades60, 60);
    qt_fe_agents_clear(&fe->ag);
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

void qt_fe_session_start(qt_fe *fe, int64_t day) {
    session_clear(fe, fe->have_session);
    fe->have_session = 1;
    fe->day = day;
    fe->date = yyyymmdd_from_days(day);
    int64_t w = (day + 3) % 7; /* Monday 0; 1970-01-01 was a Thursday */
    fe->dow = (int32_t)(w < 0 ? w + 7 : w);
    session_hours(fe, fe->date, &fe->open_s, &fe->close_s);
    fe->c.session_resets++;
}

int32_t qt_fe_tz_offset(qt_fe *fe, int64_t ts) {
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
