/* Private to the feature engine: the engine's state (struct qt_fe) and the
 * declarations its parts share.  Not installed, not part of the contract:
 * qt_features.h is the contract.  The engine is split by responsibility:
 *   qt_fe_int128.h   exact 128-bit integer arithmetic (header only)
 *   qt_fe_window.h/.c  per-trade history, whole-second windows, return
 *                    statistics, Garman-Klass bars
 *   qt_fe_agents.h/.c  agent ranking over W_500
 *   qt_fe_session.c  configuration, lifecycle, local dates and sessions
 *   qt_features.c    the engine: a record in, the 77 features out
 *   qt_fe_drain.c    the drain loop (an array or the market ring -> sink)
 * What the trade path calls is static inline (here or in the headers
 * above), so splitting the engine costs no call per trade. */
#ifndef QT_FE_INTERNAL_H
#define QT_FE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "market/qt_book.h"
#include "platform/qt_civil_date.h"
#include "features/qt_fe_agents.h"
#include "features/qt_fe_int128.h"
#include "features/qt_fe_window.h"
#include "features/qt_features.h"

/* Prices beyond 2^53 units are not exact doubles; nothing real is there. */
#define FE_MAX_PRICE ((int64_t)1 << 53)

/* the return windows W_5 .. W_200 (their lengths: RW in qt_features.c) */
enum { RW5, RW10, RW20, RW50, RW100, RW200, NRW };
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
    fe_gk gk;

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

/* qt_fe_session.c: a new local date (days since 1970-01-01) starts a
 * session; the UTC offset in seconds at ts (moves the table cursor). */
void qt_fe_session_start(qt_fe *fe, int64_t day);
int32_t qt_fe_tz_offset(qt_fe *fe, int64_t ts);

/* qt_features.c: a trade record; 1 when its 77 features were written to
 * out, 0 when it is not part of the stream (qt_fe_on_event for trades). */
int qt_fe_on_trade(qt_fe *fe, const qt_event *ev, double *out);

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
    *local_sec = *utc_sec + qt_fe_tz_offset(fe, ts);
    int64_t day = qt_floor_div(*local_sec, 86400);
    if (!fe->have_session || day != fe->day) qt_fe_session_start(fe, day);
    fe->placed = 1;
    fe->placed_ns = (uint64_t)*utc_sec * 1000000000u; /* modulo 2^64, like the test above */
    fe->placed_sec = *utc_sec;
    fe->placed_local = *local_sec;
}

#endif
