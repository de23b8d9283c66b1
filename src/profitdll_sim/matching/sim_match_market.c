/* Replayed market records in the matching engine: books (the engine's L2
 * view, the queue positions and takes it bounds), trades (resting orders
 * filled, stop-limits triggered), phases, daily limits and sessions.  See
 * sim_matching.h for the model. */
#include <string.h>

#include "matching/sim_match_internal.h"

/* ---- market events -------------------------------------------------------- */

/* After a book change: cut the volume ahead of resting orders to what the
 * level now displays (remembering the cut as credit), and forget takes the
 * level no longer shows. */
static void after_book_change(sim_match *e, inst_state *in) {
    if (in->head < 0 && in->n_take == 0) return;
    for (int side = 0; side < 2; side++) {
        int need = 0;
        for (int32_t i = in->head; i >= 0 && !need; i = e->slots[i].next)
            need = is_resting(&e->slots[i]) && qside(&e->slots[i].o) == side;
        for (uint32_t k = 0; k < in->n_take && !need; k++) need = in->take[k].side == side;
        if (!need) continue;
        uint32_t n = sim_engine_copy_side(e, in, side);
        for (int32_t i = in->head; i >= 0; i = e->slots[i].next) {
            order_slot *s = &e->slots[i];
            if (!is_resting(s) || qside(&s->o) != side) continue;
            sim_queue_level_shown(&s->queue, sim_engine_level_in_scratch(e, n, side, s->o.price), e->now, e->window);
        }
        for (uint32_t k = 0; k < in->n_take;) {
            take_entry *t = &in->take[k];
            if (t->side == side) {
                int64_t lvl = sim_engine_level_in_scratch(e, n, side, t->price);
                if (t->qty > lvl) t->qty = lvl;
                if (t->qty <= 0) {
                    *t = in->take[--in->n_take];
                    continue;
                }
            }
            k++;
        }
    }
}

static void apply_book(sim_match *e, inst_state *in, const qt_event *ev) {
    unsigned r = qt_book_apply(in->book, ev);
    if (r & QT_BOOK_REJECTED) {
        e->c.book_rejected++;
        return;
    }
    in->depth_seen = 1;
    if (r & QT_BOOK_EVENT) after_book_change(e, in);
}

/* TINY_BOOK: the side becomes that one level (a one-sided full book). */
static void apply_tiny(sim_match *e, inst_state *in, const qt_event *ev) {
    if (in->depth_seen) {
        e->c.events_ignored++;
        return;
    }
    if (ev->side > 1 || (ev->flags & QT_F_INVALID)) {
        e->c.events_bad++;
        return;
    }
    qt_event x;
    memset(&x, 0, sizeof x);
    x.type = QT_EV_SNAPSHOT_BEGIN;
    x.side = ev->side;
    x.a = -1;
    x.price = QT_PRICE_NONE;
    qt_book_apply(in->book, &x);
    if (ev->price != QT_PRICE_NONE && ev->qty > 0) {
        x.type = QT_EV_L2_LEVEL;
        x.price = ev->price;
        x.qty = ev->qty;
        if (qt_book_apply(in->book, &x) & QT_BOOK_REJECTED) e->c.book_rejected++;
    }
    x.type = QT_EV_SNAPSHOT_END;
    x.price = QT_PRICE_NONE;
    x.qty = 0;
    x.flags = QT_F_LAST;
    if (qt_book_apply(in->book, &x) & QT_BOOK_EVENT) after_book_change(e, in);
}

typedef struct trade_arg {
    int qs;
    int64_t price;
} trade_arg;

static int want_in_trade(const order_slot *s, const void *arg) {
    const trade_arg *t = arg;
    if (!is_resting(s) || qside(&s->o) != t->qs) return 0;
    return t->qs == QT_SIDE_BUY ? s->o.price >= t->price : s->o.price <= t->price;
}

/* Price priority (best for its side first), then time priority. */
static int pick_before(const sim_match *e, int qs, int32_t a, int32_t b) {
    const order_slot *x = &e->slots[a], *y = &e->slots[b];
    if (x->o.price != y->o.price) return qs == QT_SIDE_BUY ? x->o.price > y->o.price : x->o.price < y->o.price;
    return x->prio < y->prio;
}

/* One replayed trade against our resting orders of one side. */
static void fill_resting_side(sim_match *e, inst_state *in, int qs, const qt_event *ev) {
    trade_arg arg = {qs, ev->price};
    uint32_t n = sim_engine_collect(e, in, want_in_trade, &arg);
    if (n == 0) return;
    for (uint32_t i = 1; i < n; i++) { /* insertion sort: few orders */
        int32_t v = e->pick[i];
        uint32_t j = i;
        while (j > 0 && pick_before(e, qs, v, e->pick[j - 1])) {
            e->pick[j] = e->pick[j - 1];
            j--;
        }
        e->pick[j] = v;
    }
    int counts = sim_queue_trade_counts(qs, ev->code, e->cfg.queue_any_trade);
    int64_t q = ev->qty, budget = ev->qty, own_ahead = 0;
    for (uint32_t k = 0; k < n; k++) {
        order_slot *s = &e->slots[e->pick[k]];
        int64_t leaves = s->o.leaves_qty, f = 0;
        if (s->o.price != ev->price) { /* traded through: the whole level went first */
            sim_queue_traded_through(&s->queue);
            f = min64(leaves, budget);
        } else {
            if (counts) {
                int64_t beyond = sim_queue_trade_at_price(&s->queue, q, own_ahead, e->now);
                if (beyond > 0) f = min64(min64(beyond, leaves), budget);
            }
            own_ahead += leaves;
        }
        if (f > 0) {
            budget -= f;
            sim_engine_fill(e, s, s->o.price, f);
        }
    }
}

static void on_trade(sim_match *e, inst_state *in, const qt_event *ev) {
    if (ev->flags & (QT_F_EDIT | QT_F_HISTORY | QT_F_INVALID)) {
        e->c.events_ignored++;
        return;
    }
    if (!sane_price(ev->price) || ev->qty <= 0) {
        e->c.events_bad++;
        return;
    }
    if (phase_class(in->phase) == PC_OPEN || ev->code == 4 /* auction print */) {
        fill_resting_side(e, in, QT_SIDE_BUY, ev);
        fill_resting_side(e, in, QT_SIDE_SELL, ev);
    }
    in->last_price = ev->price;
    sim_engine_check_triggers(e, in);
}

static void expire_all(sim_match *e, inst_state *in) {
    while (in->head >= 0) sim_engine_expire(e, &e->slots[in->head]);
}

static void on_phase(sim_match *e, inst_state *in, const qt_event *ev) {
    if (ev->flags & QT_F_INVALID) {
        e->c.events_bad++;
        return;
    }
    int was_open = phase_class(in->phase) == PC_OPEN;
    in->phase = ev->code;
    int pc = phase_class(in->phase);
    if (pc == PC_CLOSED) {
        expire_all(e, in);
    } else if (pc == PC_OPEN && !was_open) {
        /* orders collected in the auction meet the book now */
        uint32_t n = sim_engine_collect(e, in, sim_engine_want_resting, NULL);
        for (uint32_t k = 0; k < n; k++) {
            order_slot *s = &e->slots[e->pick[k]];
            if (is_resting(s)) sim_engine_take_liquidity(e, s);
        }
    }
}

static void on_limits(sim_match *e, inst_state *in, const qt_event *ev) {
    int64_t hi = ev->price, lo = ev->ref;
    /* ProfitDLL sends 0 when it has no limit */
    if (hi != QT_PRICE_NONE && hi <= 0) hi = QT_PRICE_NONE;
    if (lo != QT_PRICE_NONE && lo <= 0) lo = QT_PRICE_NONE;
    if ((ev->flags & QT_F_INVALID) || (hi != QT_PRICE_NONE && lo != QT_PRICE_NONE && hi < lo)) {
        e->c.events_bad++;
        return;
    }
    in->max_limit = hi;
    in->min_limit = lo;
}

static void reset_session(sim_match *e, inst_state *in) {
    expire_all(e, in);
    qt_book_clear(in->book);
    in->n_take = 0;
    in->depth_seen = 0;
    in->max_limit = in->min_limit = in->last_price = QT_PRICE_NONE;
    in->phase = e->cfg.initial_phase;
}

int sim_match_on_event(sim_match *e, const qt_event *ev) {
    if (!e || !ev) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    e->c.events++;
    int64_t t = e->cfg.clock == SIM_MATCH_CLOCK_RECV ? ev->recv_ns : ev->exch_ns;
    if (t != QT_TIME_NONE) sim_engine_run_due(e, t > e->now ? t : e->now);
    int ix = find_inst(e, ev->instrument);
    if (ix < 0) {
        e->c.events_ignored++;
        return SIM_MATCH_OK;
    }
    inst_state *in = &e->inst[ix];
    switch (ev->type) {
    case QT_EV_TRADE: on_trade(e, in, ev); break;
    case QT_EV_PRICE_BOOK:
    case QT_EV_L2_LEVEL:
    case QT_EV_SNAPSHOT_BEGIN:
    case QT_EV_SNAPSHOT_END: apply_book(e, in, ev); break;
    case QT_EV_TINY_BOOK: apply_tiny(e, in, ev); break;
    case QT_EV_PHASE: on_phase(e, in, ev); break;
    case QT_EV_DAILY_LIMITS: on_limits(e, in, ev); break;
    case QT_EV_SESSION: reset_session(e, in); break;
    default: e->c.events_ignored++; break;
    }
    return SIM_MATCH_OK;
}
