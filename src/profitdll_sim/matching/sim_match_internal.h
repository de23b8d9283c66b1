/* Private to the matching engine (sim_matching.c, sim_match_exchange.c,
 * sim_match_market.c): its state and the functions its parts share.  Not a
 * contract: sim_matching.h is.  The engine is split the hftbacktest way:
 *   sim_matching.c       the public API: create, commands, getters
 *   sim_match_exchange.c what happens at the exchange: commands executed,
 *                        liquidity taken, orders queued, filled, triggered,
 *                        and every update emitted
 *   sim_match_market.c   replayed market records: books, trades, phases,
 *                        limits, sessions
 * and its models, one per file with its contract: sim_latency (when a
 * command reaches the exchange), sim_queue (where a resting order stands in
 * its level), sim_fees (what a fill costs). */
#ifndef SIM_MATCH_INTERNAL_H
#define SIM_MATCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "market/qt_book.h"
#include "market/qt_events.h"
#include "matching/sim_latency.h"
#include "matching/sim_matching.h"
#include "matching/sim_queue.h"

#define TAKE_CAP 256 /* remembered takes per instrument */
#define MAX_INSTRUMENTS 256

enum { PC_OPEN = 0, PC_AUCTION = 1, PC_HALT = 2, PC_CLOSED = 3 };

typedef struct take_entry {
    int64_t price;
    int64_t qty;
    int side; /* qt side of the book level taken from */
} take_entry;

typedef struct inst_state {
    sim_match_instrument cfg;
    qt_book *book;
    int phase;
    int depth_seen; /* a depth event arrived: ignore TINY_BOOK from now on */
    int64_t max_limit, min_limit, last_price;
    int32_t head, tail; /* working list (slot indices) in time priority */
    uint32_t n_take;
    take_entry take[TAKE_CAP];
} inst_state;

typedef struct order_slot {
    sim_match_order o;
    int64_t prio;         /* time priority: smaller is earlier */
    sim_queue_pos queue;  /* where it stands at its price (sim_queue.h) */
    int64_t value_units;  /* sum of fill price * qty, units */
    int32_t prev, next;   /* working list links */
    uint32_t inst;        /* index into e->inst */
    uint8_t used;
    uint8_t in_list;
    uint8_t accepted; /* the exchange has it (ACCEPTED sent) */
    uint8_t finished; /* terminal status */
} order_slot;

typedef struct pos_state {
    int64_t net;
    double open_cost;      /* signed sum of qty * price (units) of the open position */
    double realized_units; /* realized P&L in price units x contracts */
    double fees;
    int64_t buy_qty, sell_qty, fills;
} pos_state;

struct sim_match {
    sim_match_config cfg; /* instruments pointer cleared: the copy is in inst */
    char prefix[SIM_MATCH_PREFIX_MAX + 1];
    size_t prefix_len;
    inst_state *inst;
    uint32_t n_inst;
    order_slot *slots;
    uint32_t max_orders;
    sim_latency lat; /* commands in flight (sim_latency.h) */
    pos_state *pos;
    uint32_t max_accounts;
    int64_t *lv_price, *lv_qty; /* level scratch, one book side */
    uint32_t lv_cap;
    int32_t *pick; /* order scratch, max_orders */
    int64_t now, window;
    int64_t next_id, event_id, prio_seq;
    uint32_t working;
    int in_callback;
    sim_match_counters c;
};

/* ---- small helpers ------------------------------------------------------ */

static inline int qside(const sim_match_order *o) { return o->side == SIM_MATCH_BUY ? QT_SIDE_BUY : QT_SIDE_SELL; }

static inline int phase_class(int phase) {
    switch (phase) {
    case QT_PHASE_OPEN: return PC_OPEN;
    case QT_PHASE_AUCTION:
    case QT_PHASE_PRE_OPENING:
    case QT_PHASE_PRE_CLOSING: return PC_AUCTION;
    case QT_PHASE_CLOSED: return PC_CLOSED;
    default: return PC_HALT;
    }
}

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static inline double to_real(const inst_state *in, int64_t units) {
    return qt_price_to_double(units, in->cfg.price_unit);
}

static inline int find_inst(const sim_match *e, uint16_t id) {
    for (uint32_t i = 0; i < e->n_inst; i++)
        if (e->inst[i].cfg.instrument == id) return (int)i;
    return -1;
}

static inline order_slot *slot_of(const sim_match *e, int64_t id) {
    if (id <= 0 || id >= e->next_id) return NULL;
    order_slot *s = &e->slots[(uint64_t)(id - 1) % e->max_orders];
    return s->used && s->o.local_id == id ? s : NULL;
}

/* A stop-limit not yet triggered waits; everything else in the list rests. */
static inline int is_resting(const order_slot *s) { return s->in_list && s->o.triggered; }

static inline uint8_t working_status(const order_slot *s) {
    if (!s->accepted) return SIM_MATCH_ST_PENDING_NEW;
    return s->o.cum_qty > 0 ? SIM_MATCH_ST_PARTIALLY_FILLED : SIM_MATCH_ST_NEW;
}

static inline int on_tick(const inst_state *in, int64_t p) { return p % in->cfg.tick_units == 0; }

/* Also rejects QT_PRICE_NONE (INT64_MIN). */
static inline int sane_price(int64_t p) { return p >= -SIM_MATCH_MAX_PRICE && p <= SIM_MATCH_MAX_PRICE; }

static inline int outside_limits(const inst_state *in, int64_t p) {
    return (in->max_limit != QT_PRICE_NONE && p > in->max_limit) ||
           (in->min_limit != QT_PRICE_NONE && p < in->min_limit);
}

/* ---- sim_match_exchange.c ------------------------------------------------ */

/* One update of order s to config.on_update (the order's state is final). */
void sim_engine_emit(sim_match *e, order_slot *s, int kind, int reason, int64_t last_price, int64_t last_qty);
void sim_engine_reject(sim_match *e, order_slot *s, int reason);
void sim_engine_expire(sim_match *e, order_slot *s);
void sim_engine_change_rejected(sim_match *e, order_slot *s, int reason);
/* A fill of qty at price: the order, the position, the fees, the update. */
void sim_engine_fill(sim_match *e, order_slot *s, int64_t price, int64_t qty);
/* Take what the other side displays (and we have not taken), up to the
 * order's limit. */
void sim_engine_take_liquidity(sim_match *e, order_slot *s);
/* Trigger the stop-limits the last price has reached. */
void sim_engine_check_triggers(sim_match *e, inst_state *in);
/* Run every command due by t, each at its own due time; then now = t. */
void sim_engine_run_due(sim_match *e, int64_t t);
/* One book side best first into the level scratch (returns the count), and
 * the quantity at a price in it. */
uint32_t sim_engine_copy_side(sim_match *e, const inst_state *in, int side);
int64_t sim_engine_level_in_scratch(const sim_match *e, uint32_t n, int side, int64_t price);
/* The instrument's working orders passing `want`, into e->pick in time
 * priority; returns the count. */
uint32_t sim_engine_collect(sim_match *e, const inst_state *in, int (*want)(const order_slot *, const void *),
                            const void *arg);
int sim_engine_want_resting(const order_slot *s, const void *arg);

#endif
