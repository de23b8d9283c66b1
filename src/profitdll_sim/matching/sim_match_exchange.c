/* What happens at the exchange in the matching engine: commands executed
 * when they reach it, liquidity taken, orders queued, filled and triggered,
 * and every update emitted.  See sim_matching.h for the model and the
 * update protocol; sim_match_internal.h for how the engine is split. */
#include <string.h>

#include "matching/sim_fees.h"
#include "matching/sim_match_internal.h"

/* ---- working list -------------------------------------------------------- */

static void list_remove(sim_match *e, order_slot *s) {
    if (!s->in_list) return;
    inst_state *in = &e->inst[s->inst];
    if (s->prev >= 0) e->slots[s->prev].next = s->next;
    else in->head = s->next;
    if (s->next >= 0) e->slots[s->next].prev = s->prev;
    else in->tail = s->prev;
    s->prev = s->next = -1;
    s->in_list = 0;
}

/* Append at the back: the order takes the latest time priority. */
static void list_push_back(sim_match *e, order_slot *s) {
    list_remove(e, s);
    inst_state *in = &e->inst[s->inst];
    int32_t idx = (int32_t)(s - e->slots);
    s->prev = in->tail;
    s->next = -1;
    if (in->tail >= 0) e->slots[in->tail].next = idx;
    else in->head = idx;
    in->tail = idx;
    s->in_list = 1;
    s->prio = ++e->prio_seq;
}

/* ---- book lookups ----------------------------------------------------------- */

/* Copy one side best first into the level scratch; returns the count. */
uint32_t sim_engine_copy_side(sim_match *e, const inst_state *in, int side) {
    return qt_book_levels(in->book, side, e->lv_cap, e->lv_price, e->lv_qty, NULL);
}

/* Quantity at `price` in the copied side (bids descending, asks ascending). */
int64_t sim_engine_level_in_scratch(const sim_match *e, uint32_t n, int side, int64_t price) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t p = e->lv_price[mid];
        if (p == price) return e->lv_qty[mid];
        int before = side == QT_SIDE_BUY ? p > price : p < price;
        if (before) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

static int64_t level_qty_at(sim_match *e, const inst_state *in, int side, int64_t price) {
    return sim_engine_level_in_scratch(e, sim_engine_copy_side(e, in, side), side, price);
}

static int64_t taken_at(const inst_state *in, int side, int64_t price) {
    for (uint32_t i = 0; i < in->n_take; i++)
        if (in->take[i].side == side && in->take[i].price == price) return in->take[i].qty;
    return 0;
}

static void record_take(sim_match *e, inst_state *in, int side, int64_t price, int64_t qty) {
    for (uint32_t i = 0; i < in->n_take; i++) {
        if (in->take[i].side == side && in->take[i].price == price) {
            in->take[i].qty += qty;
            return;
        }
    }
    if (in->n_take == TAKE_CAP) {
        e->c.take_untracked++;
        return;
    }
    in->take[in->n_take++] = (take_entry){price, qty, side};
}

/* ---- updates ---------------------------------------------------------------- */

void sim_engine_emit(sim_match *e, order_slot *s, int kind, int reason, int64_t last_price, int64_t last_qty) {
    sim_match_order *o = &s->o;
    const inst_state *in = &e->inst[s->inst];
    o->event_id = ++e->event_id;
    o->time_ns = e->now;
    o->kind = (uint8_t)kind;
    o->reason = (uint8_t)reason;
    const char *t = sim_match_reason_text(reason);
    size_t n = strlen(t);
    if (n >= SIM_MATCH_REASON_LEN) n = SIM_MATCH_REASON_LEN - 1;
    memcpy(o->reason_text, t, n);
    o->reason_text[n] = '\0';
    o->last_price = last_qty > 0 ? last_price : QT_PRICE_NONE;
    o->last_qty = last_qty;
    o->last_price_f = last_qty > 0 ? to_real(in, last_price) : 0.0;
    o->price_f = o->price == QT_PRICE_NONE ? -1.0 : to_real(in, o->price);
    o->stop_price_f = o->stop_price == QT_PRICE_NONE ? -1.0 : to_real(in, o->stop_price);
    if (o->cum_qty == 0) o->avg_price = 0.0;
    else if (s->value_units % o->cum_qty == 0) o->avg_price = to_real(in, s->value_units / o->cum_qty);
    else o->avg_price = (double)s->value_units / (double)o->cum_qty * in->cfg.price_unit;
    e->c.updates++;
    if (e->cfg.on_update) {
        e->in_callback++;
        e->cfg.on_update(e->cfg.user, o);
        e->in_callback--;
    }
}

/* The order leaves the book for good with `status`. */
static void finish(sim_match *e, order_slot *s, uint8_t status, int kind, int reason) {
    list_remove(e, s);
    s->o.leaves_qty = 0;
    s->o.status = status;
    if (!s->finished) {
        s->finished = 1;
        e->working--;
    }
    sim_engine_emit(e, s, kind, reason, QT_PRICE_NONE, 0);
}

static void cancel_order(sim_match *e, order_slot *s, int reason) {
    finish(e, s,
           s->o.cum_qty > 0 ? SIM_MATCH_ST_PARTIALLY_FILLED_CANCELED : SIM_MATCH_ST_CANCELED,
           SIM_MATCH_UPD_CANCELED, reason);
}

void sim_engine_expire(sim_match *e, order_slot *s) {
    finish(e, s, s->o.cum_qty > 0 ? SIM_MATCH_ST_PARTIALLY_FILLED_EXPIRED : SIM_MATCH_ST_EXPIRED,
           SIM_MATCH_UPD_EXPIRED, SIM_MATCH_R_EXPIRED);
}

void sim_engine_reject(sim_match *e, order_slot *s, int reason) {
    e->c.rejected++;
    finish(e, s, SIM_MATCH_ST_REJECTED, SIM_MATCH_UPD_REJECTED, reason);
}

/* Average-cost position: a fill in the position's direction adds to its
 * cost; one against it realizes P&L on the closed part at the average
 * price, and any excess opens the other way at the fill price. */
static void position_fill(pos_state *ps, int64_t signed_qty, int64_t price, double fee) {
    ps->fees += fee;
    ps->fills++;
    if (signed_qty > 0) ps->buy_qty += signed_qty;
    else ps->sell_qty -= signed_qty;
    if (ps->net == 0 || (ps->net > 0) == (signed_qty > 0)) {
        ps->open_cost += (double)signed_qty * (double)price;
        ps->net += signed_qty;
        return;
    }
    int64_t aq = signed_qty > 0 ? signed_qty : -signed_qty;
    int64_t an = ps->net > 0 ? ps->net : -ps->net;
    int64_t closed = min64(aq, an);
    double avg = ps->open_cost / (double)ps->net;
    ps->realized_units += (double)closed * ((double)price - avg) * (ps->net > 0 ? 1.0 : -1.0);
    int64_t net = ps->net + (signed_qty > 0 ? closed : -closed);
    ps->open_cost = net == 0 ? 0.0 : avg * (double)net;
    if (aq > closed) {
        int64_t rest = signed_qty > 0 ? aq - closed : closed - aq;
        net = rest;
        ps->open_cost = (double)rest * (double)price;
    }
    ps->net = net;
}

void sim_engine_fill(sim_match *e, order_slot *s, int64_t price, int64_t qty) {
    sim_match_order *o = &s->o;
    const inst_state *in = &e->inst[s->inst];
    double fee = sim_fee_for_fill(&in->cfg, qty);
    o->cum_qty += qty;
    o->leaves_qty -= qty;
    s->value_units += price * qty;
    o->fees += fee;
    position_fill(&e->pos[(size_t)s->inst * e->max_accounts + o->account],
                  o->side == SIM_MATCH_BUY ? qty : -qty, price, fee);
    e->c.fills++;
    e->c.filled_qty += (uint64_t)qty;
    if (o->leaves_qty == 0) {
        list_remove(e, s);
        o->status = SIM_MATCH_ST_FILLED;
        s->finished = 1;
        e->working--;
    } else {
        o->status = SIM_MATCH_ST_PARTIALLY_FILLED;
    }
    sim_engine_emit(e, s, SIM_MATCH_UPD_FILL, SIM_MATCH_R_NONE, price, qty);
}

/* Walk the other side best first, taking what is displayed and not already
 * taken by us, up to the limit price. */
void sim_engine_take_liquidity(sim_match *e, order_slot *s) {
    inst_state *in = &e->inst[s->inst];
    int opp = 1 - qside(&s->o);
    int is_buy = s->o.side == SIM_MATCH_BUY;
    int limited = s->o.order_type != SIM_MATCH_MARKET;
    uint32_t n = sim_engine_copy_side(e, in, opp);
    for (uint32_t i = 0; i < n && s->o.leaves_qty > 0; i++) {
        int64_t p = e->lv_price[i];
        if (limited && (is_buy ? p > s->o.price : p < s->o.price)) break;
        if (!sane_price(p)) continue;
        int64_t avail = e->lv_qty[i] - taken_at(in, opp, p);
        if (avail <= 0) continue;
        int64_t q = min64(avail, s->o.leaves_qty);
        record_take(e, in, opp, p, q);
        sim_engine_fill(e, s, p, q);
    }
}

/* Rest at the back of the queue at the order's price. */
static void join_queue(sim_match *e, order_slot *s) {
    const inst_state *in = &e->inst[s->inst];
    list_push_back(e, s);
    sim_queue_join(&s->queue, level_qty_at(e, in, qside(&s->o), s->o.price));
}

static int stop_reached(const inst_state *in, const order_slot *s) {
    if (in->last_price == QT_PRICE_NONE) return 0;
    return s->o.side == SIM_MATCH_BUY ? in->last_price >= s->o.stop_price : in->last_price <= s->o.stop_price;
}

static void trigger(sim_match *e, order_slot *s) {
    inst_state *in = &e->inst[s->inst];
    s->o.triggered = 1;
    join_queue(e, s);
    sim_engine_emit(e, s, SIM_MATCH_UPD_TRIGGERED, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    if (phase_class(in->phase) == PC_OPEN) sim_engine_take_liquidity(e, s);
}

/* Collect the instrument's working orders passing `want` into e->pick, in
 * time priority (list order).  Returns the count. */
uint32_t sim_engine_collect(sim_match *e, const inst_state *in, int (*want)(const order_slot *, const void *),
                        const void *arg) {
    uint32_t n = 0;
    for (int32_t i = in->head; i >= 0; i = e->slots[i].next)
        if (want(&e->slots[i], arg)) e->pick[n++] = i;
    return n;
}

static int want_untriggered(const order_slot *s, const void *arg) {
    const inst_state *in = arg;
    return s->in_list && !s->o.triggered && stop_reached(in, s);
}

int sim_engine_want_resting(const order_slot *s, const void *arg) {
    (void)arg;
    return is_resting(s);
}

void sim_engine_check_triggers(sim_match *e, inst_state *in) {
    if (in->last_price == QT_PRICE_NONE) return;
    uint32_t n = sim_engine_collect(e, in, want_untriggered, in);
    /* trigger() may run sim_engine_take_liquidity, which does not touch e->pick */
    for (uint32_t k = 0; k < n; k++) {
        order_slot *s = &e->slots[e->pick[k]];
        if (s->in_list && !s->o.triggered) trigger(e, s);
    }
}

/* ---- exchange-side checks and command execution ---------------------------- */

static int exchange_check(const inst_state *in, int order_type, int64_t price, int64_t stop) {
    switch (phase_class(in->phase)) {
    case PC_CLOSED: return SIM_MATCH_R_CLOSED;
    case PC_HALT: return SIM_MATCH_R_HALTED;
    case PC_AUCTION:
        if (order_type == SIM_MATCH_MARKET) return SIM_MATCH_R_AUCTION;
        break;
    default: break;
    }
    if (order_type != SIM_MATCH_MARKET && outside_limits(in, price)) return SIM_MATCH_R_LIMITS;
    if (order_type == SIM_MATCH_STOP_LIMIT && outside_limits(in, stop)) return SIM_MATCH_R_LIMITS;
    return SIM_MATCH_R_NONE;
}

static void exec_new(sim_match *e, order_slot *s) {
    inst_state *in = &e->inst[s->inst];
    if (s->finished) return; /* canceled before it arrived cannot happen, but be safe */
    int r = exchange_check(in, s->o.order_type, s->o.price, s->o.stop_price);
    if (r) {
        sim_engine_reject(e, s, r);
        return;
    }
    s->accepted = 1;
    s->o.status = SIM_MATCH_ST_NEW;
    sim_engine_emit(e, s, SIM_MATCH_UPD_ACCEPTED, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    int open = phase_class(in->phase) == PC_OPEN;
    switch (s->o.order_type) {
    case SIM_MATCH_MARKET:
        sim_engine_take_liquidity(e, s); /* exchange_check let it through: the phase is open */
        if (!s->finished) cancel_order(e, s, SIM_MATCH_R_NO_LIQUIDITY);
        break;
    case SIM_MATCH_LIMIT:
        if (open) sim_engine_take_liquidity(e, s);
        if (!s->finished) join_queue(e, s);
        break;
    default: /* stop-limit: wait in the list for its trigger */
        list_push_back(e, s);
        if (stop_reached(in, s)) trigger(e, s);
        break;
    }
}

static void exec_cancel(sim_match *e, order_slot *s) {
    if (s->finished || !s->accepted) {
        /* too late, or (latency lowered in between) before the order itself */
        if (!s->finished) s->o.status = working_status(s);
        sim_engine_emit(e, s, SIM_MATCH_UPD_CANCEL_REJECTED, SIM_MATCH_R_NOT_WORKING, QT_PRICE_NONE, 0);
        return;
    }
    cancel_order(e, s, SIM_MATCH_R_USER);
}

void sim_engine_change_rejected(sim_match *e, order_slot *s, int reason) {
    if (!s->finished) s->o.status = working_status(s);
    sim_engine_emit(e, s, SIM_MATCH_UPD_CHANGE_REJECTED, reason, QT_PRICE_NONE, 0);
}

static void exec_change(sim_match *e, order_slot *s, const sim_command *c) {
    inst_state *in = &e->inst[s->inst];
    sim_match_order *o = &s->o;
    if (s->finished || !s->accepted) {
        sim_engine_change_rejected(e, s, SIM_MATCH_R_NOT_WORKING);
        return;
    }
    int pc = phase_class(in->phase);
    if (pc == PC_CLOSED || pc == PC_HALT) {
        sim_engine_change_rejected(e, s, pc == PC_CLOSED ? SIM_MATCH_R_CLOSED : SIM_MATCH_R_HALTED);
        return;
    }
    int waiting_stop = o->order_type == SIM_MATCH_STOP_LIMIT && !o->triggered;
    int64_t np = c->price == SIM_MATCH_KEEP ? o->price : c->price;
    int64_t ns = (c->stop == SIM_MATCH_KEEP || !waiting_stop) ? o->stop_price : c->stop;
    int64_t nq = c->qty == SIM_MATCH_KEEP ? o->quantity : c->qty;
    if (nq <= o->cum_qty) {
        sim_engine_change_rejected(e, s, SIM_MATCH_R_QTY);
        return;
    }
    if (outside_limits(in, np) || (waiting_stop && outside_limits(in, ns))) {
        sim_engine_change_rejected(e, s, SIM_MATCH_R_LIMITS);
        return;
    }
    int price_moved = np != o->price;
    int lose = price_moved || nq > o->quantity || ns != o->stop_price;
    o->price = np;
    o->stop_price = ns;
    o->quantity = nq;
    o->leaves_qty = nq - o->cum_qty;
    o->status = SIM_MATCH_ST_REPLACED;
    if (waiting_stop) {
        if (lose) list_push_back(e, s);
    } else if (lose) {
        join_queue(e, s);
    }
    sim_engine_emit(e, s, SIM_MATCH_UPD_REPLACED, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    if (waiting_stop) {
        if (stop_reached(in, s)) trigger(e, s);
    } else if (price_moved && pc == PC_OPEN) {
        sim_engine_take_liquidity(e, s);
    }
}

/* Each command at its own due time, in (due, send order). */
void sim_engine_run_due(sim_match *e, int64_t t) {
    sim_command c;
    while (sim_latency_pop_due(&e->lat, t, &c)) {
        if (c.due > e->now) e->now = c.due;
        order_slot *s = slot_of(e, c.local_id);
        if (!s) continue; /* forgotten: its slot was reused */
        switch (c.kind) {
        case SIM_CMD_NEW: exec_new(e, s); break;
        case SIM_CMD_CHANGE: exec_change(e, s, &c); break;
        default: exec_cancel(e, s); break;
        }
    }
    if (t > e->now) e->now = t;
}
