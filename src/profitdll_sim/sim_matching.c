/* Order-matching engine of the ProfitDLL simulator: see sim_matching.h for
 * the model, the update protocol and the threading rule.
 *
 * FEES (sim_match_instrument_defaults).  B3 charges emolumentos + registration
 * as one "tarifa unica" per contract traded, by monthly volume tier, with a
 * day-trade reduction; brokers add their own fees (not modelled).  Figures
 * from B3's public tariff pages (b3.com.br, "Tarifas > Listados a vista e
 * derivativos"), read in 2025, first volume tier, day trade:
 *   WIN: BRL 1.97 (Ibovespa futures, 1-50 contracts ADV) x contract factor
 *        0.2 x (1 - 35% day-trade reduction, 1-5 contracts ADV)
 *        = BRL 0.256 -> 0.26 per contract per side.
 *   WDO: USD 0.97 (dollar futures, 1-250 ADV) x contract factor 0.25 x
 *        (1 - 16% day-trade reduction, 1-20 ADV) = USD 0.2037, at an assumed
 *        BRL 5.40 per USD = BRL 1.10 per contract per side.
 * These are APPROXIMATIONS: the real fee depends on the tier reached, the
 * exchange rate B3 uses, whether the trade is day trade, and changes when B3
 * revises its tables.  Configure fee_per_contract per instrument when the
 * exact figure matters. */
#include "sim_matching.h"

#include <stdlib.h>
#include <string.h>

#define TAKE_CAP 256 /* remembered takes per instrument */
#define MAX_INSTRUMENTS 256

enum { PC_OPEN = 0, PC_AUCTION = 1, PC_HALT = 2, PC_CLOSED = 3 };
enum { CMD_NEW = 1, CMD_CHANGE = 2, CMD_CANCEL = 3 };

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
    int64_t ahead;        /* market volume ahead of us at our price */
    int64_t credit;       /* cut from `ahead` by a level shrink, not yet matched by trades */
    int64_t credit_until; /* market time the credit lapses */
    int64_t value_units;  /* sum of fill price * qty, units */
    int32_t prev, next;   /* working list links */
    uint32_t inst;        /* index into e->inst */
    uint8_t used;
    uint8_t in_list;
    uint8_t accepted; /* the exchange has it (ACCEPTED sent) */
    uint8_t finished; /* terminal status */
} order_slot;

typedef struct command {
    int64_t due;
    uint64_t seq;
    int64_t local_id;
    int64_t price, stop, qty;
    int kind;
} command;

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
    command *heap;
    uint32_t n_heap, max_pending;
    uint64_t cmd_seq;
    pos_state *pos;
    uint32_t max_accounts;
    int64_t *lv_price, *lv_qty; /* level scratch, one book side */
    uint32_t lv_cap;
    int32_t *pick; /* order scratch, max_orders */
    int64_t now, latency, window;
    int64_t next_id, event_id, prio_seq;
    uint32_t working;
    int in_callback;
    sim_match_counters c;
};

static const char *const REASON_TEXT[SIM_MATCH_R__COUNT] = {
    "",
    "quantity must be positive (and above the filled quantity)",
    "price missing",
    "price not a multiple of the tick",
    "price outside the day's limits",
    "instrument halted",
    "instrument closed",
    "market order during an auction",
    "order no longer working",
    "no liquidity for the remainder",
    "canceled on request",
    "expired at the end of the session",
};

const char *sim_match_reason_text(int reason) {
    if (reason < 0 || reason >= SIM_MATCH_R__COUNT) return "";
    return REASON_TEXT[reason];
}

const char *sim_match_rc_name(int rc) {
    switch (rc) {
    case SIM_MATCH_OK: return "ok";
    case SIM_MATCH_REFUSED: return "refused";
    case SIM_MATCH_E_ARGS: return "args";
    case SIM_MATCH_E_INSTRUMENT: return "instrument";
    case SIM_MATCH_E_ACCOUNT: return "account";
    case SIM_MATCH_E_NOT_FOUND: return "not_found";
    case SIM_MATCH_E_NOT_WORKING: return "not_working";
    case SIM_MATCH_E_FULL: return "full";
    case SIM_MATCH_E_REENTRANT: return "reentrant";
    default: return "";
    }
}

/* ---- small helpers ------------------------------------------------------ */

static int qside(const sim_match_order *o) { return o->side == SIM_MATCH_BUY ? QT_SIDE_BUY : QT_SIDE_SELL; }

static int phase_class(int phase) {
    switch (phase) {
    case QT_PHASE_OPEN: return PC_OPEN;
    case QT_PHASE_AUCTION:
    case QT_PHASE_PRE_OPENING:
    case QT_PHASE_PRE_CLOSING: return PC_AUCTION;
    case QT_PHASE_CLOSED: return PC_CLOSED;
    default: return PC_HALT;
    }
}

static int64_t sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static double to_real(const inst_state *in, int64_t units) {
    return qt_price_to_double(units, in->cfg.price_unit);
}

static int find_inst(const sim_match *e, uint16_t id) {
    for (uint32_t i = 0; i < e->n_inst; i++)
        if (e->inst[i].cfg.instrument == id) return (int)i;
    return -1;
}

static order_slot *slot_of(const sim_match *e, int64_t id) {
    if (id <= 0 || id >= e->next_id) return NULL;
    order_slot *s = &e->slots[(uint64_t)(id - 1) % e->max_orders];
    return s->used && s->o.local_id == id ? s : NULL;
}

/* A stop-limit not yet triggered waits; everything else in the list rests. */
static int is_resting(const order_slot *s) { return s->in_list && s->o.triggered; }

static uint8_t working_status(const order_slot *s) {
    if (!s->accepted) return SIM_MATCH_ST_PENDING_NEW;
    return s->o.cum_qty > 0 ? SIM_MATCH_ST_PARTIALLY_FILLED : SIM_MATCH_ST_NEW;
}

static int on_tick(const inst_state *in, int64_t p) { return p % in->cfg.tick_units == 0; }

/* Also rejects QT_PRICE_NONE (INT64_MIN). */
static int sane_price(int64_t p) { return p >= -SIM_MATCH_MAX_PRICE && p <= SIM_MATCH_MAX_PRICE; }

static int outside_limits(const inst_state *in, int64_t p) {
    return (in->max_limit != QT_PRICE_NONE && p > in->max_limit) ||
           (in->min_limit != QT_PRICE_NONE && p < in->min_limit);
}

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
static uint32_t copy_side(sim_match *e, const inst_state *in, int side) {
    return qt_book_levels(in->book, side, e->lv_cap, e->lv_price, e->lv_qty, NULL);
}

/* Quantity at `price` in the copied side (bids descending, asks ascending). */
static int64_t scratch_qty_at(const sim_match *e, uint32_t n, int side, int64_t price) {
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
    return scratch_qty_at(e, copy_side(e, in, side), side, price);
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

static void emit(sim_match *e, order_slot *s, int kind, int reason, int64_t last_price, int64_t last_qty) {
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
    emit(e, s, kind, reason, QT_PRICE_NONE, 0);
}

static void cancel_order(sim_match *e, order_slot *s, int reason) {
    finish(e, s,
           s->o.cum_qty > 0 ? SIM_MATCH_ST_PARTIALLY_FILLED_CANCELED : SIM_MATCH_ST_CANCELED,
           SIM_MATCH_UPD_CANCELED, reason);
}

static void expire_order(sim_match *e, order_slot *s) {
    finish(e, s, s->o.cum_qty > 0 ? SIM_MATCH_ST_PARTIALLY_FILLED_EXPIRED : SIM_MATCH_ST_EXPIRED,
           SIM_MATCH_UPD_EXPIRED, SIM_MATCH_R_EXPIRED);
}

static void reject_order(sim_match *e, order_slot *s, int reason) {
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

static void do_fill(sim_match *e, order_slot *s, int64_t price, int64_t qty) {
    sim_match_order *o = &s->o;
    const inst_state *in = &e->inst[s->inst];
    double fee = (double)qty * in->cfg.fee_per_contract;
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
    emit(e, s, SIM_MATCH_UPD_FILL, SIM_MATCH_R_NONE, price, qty);
}

/* Walk the other side best first, taking what is displayed and not already
 * taken by us, up to the limit price. */
static void take_liquidity(sim_match *e, order_slot *s) {
    inst_state *in = &e->inst[s->inst];
    int opp = 1 - qside(&s->o);
    int is_buy = s->o.side == SIM_MATCH_BUY;
    int limited = s->o.order_type != SIM_MATCH_MARKET;
    uint32_t n = copy_side(e, in, opp);
    for (uint32_t i = 0; i < n && s->o.leaves_qty > 0; i++) {
        int64_t p = e->lv_price[i];
        if (limited && (is_buy ? p > s->o.price : p < s->o.price)) break;
        if (!sane_price(p)) continue;
        int64_t avail = e->lv_qty[i] - taken_at(in, opp, p);
        if (avail <= 0) continue;
        int64_t q = min64(avail, s->o.leaves_qty);
        record_take(e, in, opp, p, q);
        do_fill(e, s, p, q);
    }
}

/* Rest at the back of the queue at the order's price. */
static void join_queue(sim_match *e, order_slot *s) {
    const inst_state *in = &e->inst[s->inst];
    list_push_back(e, s);
    s->ahead = level_qty_at(e, in, qside(&s->o), s->o.price);
    s->credit = 0;
}

static int stop_reached(const inst_state *in, const order_slot *s) {
    if (in->last_price == QT_PRICE_NONE) return 0;
    return s->o.side == SIM_MATCH_BUY ? in->last_price >= s->o.stop_price : in->last_price <= s->o.stop_price;
}

static void trigger(sim_match *e, order_slot *s) {
    inst_state *in = &e->inst[s->inst];
    s->o.triggered = 1;
    join_queue(e, s);
    emit(e, s, SIM_MATCH_UPD_TRIGGERED, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    if (phase_class(in->phase) == PC_OPEN) take_liquidity(e, s);
}

/* Collect the instrument's working orders passing `want` into e->pick, in
 * time priority (list order).  Returns the count. */
static uint32_t collect(sim_match *e, const inst_state *in, int (*want)(const order_slot *, const void *),
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

static int want_resting(const order_slot *s, const void *arg) {
    (void)arg;
    return is_resting(s);
}

static void check_triggers(sim_match *e, inst_state *in) {
    if (in->last_price == QT_PRICE_NONE) return;
    uint32_t n = collect(e, in, want_untriggered, in);
    /* trigger() may run take_liquidity, which does not touch e->pick */
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
        reject_order(e, s, r);
        return;
    }
    s->accepted = 1;
    s->o.status = SIM_MATCH_ST_NEW;
    emit(e, s, SIM_MATCH_UPD_ACCEPTED, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    int open = phase_class(in->phase) == PC_OPEN;
    switch (s->o.order_type) {
    case SIM_MATCH_MARKET:
        take_liquidity(e, s); /* exchange_check let it through: the phase is open */
        if (!s->finished) cancel_order(e, s, SIM_MATCH_R_NO_LIQUIDITY);
        break;
    case SIM_MATCH_LIMIT:
        if (open) take_liquidity(e, s);
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
        emit(e, s, SIM_MATCH_UPD_CANCEL_REJECTED, SIM_MATCH_R_NOT_WORKING, QT_PRICE_NONE, 0);
        return;
    }
    cancel_order(e, s, SIM_MATCH_R_USER);
}

static void change_rejected(sim_match *e, order_slot *s, int reason) {
    if (!s->finished) s->o.status = working_status(s);
    emit(e, s, SIM_MATCH_UPD_CHANGE_REJECTED, reason, QT_PRICE_NONE, 0);
}

static void exec_change(sim_match *e, order_slot *s, const command *c) {
    inst_state *in = &e->inst[s->inst];
    sim_match_order *o = &s->o;
    if (s->finished || !s->accepted) {
        change_rejected(e, s, SIM_MATCH_R_NOT_WORKING);
        return;
    }
    int pc = phase_class(in->phase);
    if (pc == PC_CLOSED || pc == PC_HALT) {
        change_rejected(e, s, pc == PC_CLOSED ? SIM_MATCH_R_CLOSED : SIM_MATCH_R_HALTED);
        return;
    }
    int waiting_stop = o->order_type == SIM_MATCH_STOP_LIMIT && !o->triggered;
    int64_t np = c->price == SIM_MATCH_KEEP ? o->price : c->price;
    int64_t ns = (c->stop == SIM_MATCH_KEEP || !waiting_stop) ? o->stop_price : c->stop;
    int64_t nq = c->qty == SIM_MATCH_KEEP ? o->quantity : c->qty;
    if (nq <= o->cum_qty) {
        change_rejected(e, s, SIM_MATCH_R_QTY);
        return;
    }
    if (outside_limits(in, np) || (waiting_stop && outside_limits(in, ns))) {
        change_rejected(e, s, SIM_MATCH_R_LIMITS);
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
    emit(e, s, SIM_MATCH_UPD_REPLACED, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    if (waiting_stop) {
        if (stop_reached(in, s)) trigger(e, s);
    } else if (price_moved && pc == PC_OPEN) {
        take_liquidity(e, s);
    }
}

static void heap_swap(command *h, uint32_t a, uint32_t b) {
    command t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static int cmd_before(const command *a, const command *b) {
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(sim_match *e, command c) {
    c.seq = ++e->cmd_seq;
    uint32_t i = e->n_heap++;
    e->heap[i] = c;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!cmd_before(&e->heap[i], &e->heap[p])) break;
        heap_swap(e->heap, i, p);
        i = p;
    }
}

static command heap_pop(sim_match *e) {
    command top = e->heap[0];
    e->heap[0] = e->heap[--e->n_heap];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->n_heap && cmd_before(&e->heap[l], &e->heap[m])) m = l;
        if (r < e->n_heap && cmd_before(&e->heap[r], &e->heap[m])) m = r;
        if (m == i) break;
        heap_swap(e->heap, i, m);
        i = m;
    }
    return top;
}

/* Run every command due by t, each at its own due time; then now = t. */
static void run_due(sim_match *e, int64_t t) {
    while (e->n_heap > 0 && e->heap[0].due <= t) {
        command c = heap_pop(e);
        if (c.due > e->now) e->now = c.due;
        order_slot *s = slot_of(e, c.local_id);
        if (!s) continue; /* forgotten: its slot was reused */
        switch (c.kind) {
        case CMD_NEW: exec_new(e, s); break;
        case CMD_CHANGE: exec_change(e, s, &c); break;
        default: exec_cancel(e, s); break;
        }
    }
    if (t > e->now) e->now = t;
}

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
        uint32_t n = copy_side(e, in, side);
        for (int32_t i = in->head; i >= 0; i = e->slots[i].next) {
            order_slot *s = &e->slots[i];
            if (!is_resting(s) || qside(&s->o) != side) continue;
            int64_t lvl = scratch_qty_at(e, n, side, s->o.price);
            if (lvl < s->ahead) {
                if (e->window > 0) {
                    if (e->now > s->credit_until) s->credit = 0;
                    s->credit += s->ahead - lvl;
                    s->credit_until = sat_add(e->now, e->window);
                }
                s->ahead = lvl;
            }
        }
        for (uint32_t k = 0; k < in->n_take;) {
            take_entry *t = &in->take[k];
            if (t->side == side) {
                int64_t lvl = scratch_qty_at(e, n, side, t->price);
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

static int trade_hits(int qs, int code, int any) {
    if (any || code == 4 /* auction */) return 1;
    return qs == QT_SIDE_BUY ? code == 3 /* sell aggression */ : code == 2 /* buy aggression */;
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
    uint32_t n = collect(e, in, want_in_trade, &arg);
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
    int counts = trade_hits(qs, ev->code, e->cfg.queue_any_trade);
    int64_t q = ev->qty, budget = ev->qty, own_ahead = 0;
    for (uint32_t k = 0; k < n; k++) {
        order_slot *s = &e->slots[e->pick[k]];
        int64_t leaves = s->o.leaves_qty, f = 0;
        if (s->o.price != ev->price) { /* traded through: the whole level went first */
            s->ahead = 0;
            s->credit = 0;
            f = min64(leaves, budget);
        } else {
            if (counts) {
                if (e->now > s->credit_until) s->credit = 0;
                int64_t used = min64(q, s->credit);
                s->credit -= used;
                int64_t eff = q - used, pos = s->ahead + own_ahead;
                if (eff > pos) f = min64(min64(eff - pos, leaves), budget);
                s->ahead = s->ahead > eff ? s->ahead - eff : 0;
            }
            own_ahead += leaves;
        }
        if (f > 0) {
            budget -= f;
            do_fill(e, s, s->o.price, f);
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
    check_triggers(e, in);
}

static void expire_all(sim_match *e, inst_state *in) {
    while (in->head >= 0) expire_order(e, &e->slots[in->head]);
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
        uint32_t n = collect(e, in, want_resting, NULL);
        for (uint32_t k = 0; k < n; k++) {
            order_slot *s = &e->slots[e->pick[k]];
            if (is_resting(s)) take_liquidity(e, s);
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

/* ---- public API ------------------------------------------------------------ */

int sim_match_instrument_defaults(const char *ticker, uint16_t instrument, sim_match_instrument *out) {
    if (!ticker || !out) return SIM_MATCH_E_ARGS;
    char root[4] = {0};
    for (int i = 0; i < 3; i++) {
        char ch = ticker[i];
        if (!ch) return SIM_MATCH_E_INSTRUMENT;
        root[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
    }
    sim_match_instrument d;
    memset(&d, 0, sizeof d);
    d.instrument = instrument;
    d.tick_units = 1;
    if (strcmp(root, "WDO") == 0) {
        d.price_unit = 0.5;
        d.point_value = 10.0;
        d.fee_per_contract = 1.10;
    } else if (strcmp(root, "WIN") == 0) {
        d.price_unit = 5.0;
        d.point_value = 0.2;
        d.fee_per_contract = 0.26;
    } else {
        return SIM_MATCH_E_INSTRUMENT;
    }
    *out = d;
    return SIM_MATCH_OK;
}

void sim_match_destroy(sim_match *e) {
    if (!e) return;
    if (e->inst)
        for (uint32_t i = 0; i < e->n_inst; i++) qt_book_destroy(e->inst[i].book);
    free(e->inst);
    free(e->slots);
    free(e->heap);
    free(e->pos);
    free(e->lv_price);
    free(e->lv_qty);
    free(e->pick);
    free(e);
}

sim_match *sim_match_create(const sim_match_config *cfg) {
    if (!cfg || !cfg->instruments || cfg->n_instruments == 0 || cfg->n_instruments > MAX_INSTRUMENTS ||
        cfg->latency_ns < 0 || (cfg->clock != SIM_MATCH_CLOCK_EXCH && cfg->clock != SIM_MATCH_CLOCK_RECV))
        return NULL;
    const char *prefix = cfg->clordid_prefix ? cfg->clordid_prefix : "SIM";
    size_t plen = strlen(prefix);
    if (plen > SIM_MATCH_PREFIX_MAX) return NULL;
    for (size_t i = 0; i < plen; i++)
        if (prefix[i] < 0x21 || prefix[i] > 0x7e || (prefix[i] >= '0' && prefix[i] <= '9')) return NULL;
    for (uint32_t i = 0; i < cfg->n_instruments; i++) {
        const sim_match_instrument *d = &cfg->instruments[i];
        if (d->tick_units < 1 || !(d->price_unit > 0) || !(d->point_value > 0) || !(d->fee_per_contract >= 0))
            return NULL;
        for (uint32_t j = 0; j < i; j++)
            if (cfg->instruments[j].instrument == d->instrument) return NULL;
    }
    sim_match *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->cfg = *cfg;
    e->cfg.instruments = NULL;
    memcpy(e->prefix, prefix, plen);
    e->prefix_len = plen;
    e->n_inst = cfg->n_instruments;
    e->max_accounts = cfg->max_accounts ? cfg->max_accounts : 1;
    e->max_orders = cfg->max_orders ? cfg->max_orders : 65536;
    e->max_pending = cfg->max_pending ? cfg->max_pending : 4096;
    e->lv_cap = cfg->book_capacity ? cfg->book_capacity : QT_BOOK_DEFAULT_CAPACITY;
    e->latency = cfg->latency_ns;
    e->window = cfg->clamp_window_ns < 0 ? 1000000000 : cfg->clamp_window_ns;
    e->next_id = 1;
    if (e->max_orders > (1u << 30) || e->max_pending > (1u << 30) || e->lv_cap > QT_BOOK_MAX_CAPACITY ||
        (uint64_t)e->max_accounts * e->n_inst > (1u << 24))
        goto fail;
    e->inst = calloc(e->n_inst, sizeof *e->inst);
    e->slots = calloc(e->max_orders, sizeof *e->slots);
    e->heap = calloc(e->max_pending, sizeof *e->heap);
    e->pos = calloc((size_t)e->n_inst * e->max_accounts, sizeof *e->pos);
    e->lv_price = calloc(e->lv_cap, sizeof *e->lv_price);
    e->lv_qty = calloc(e->lv_cap, sizeof *e->lv_qty);
    e->pick = calloc(e->max_orders, sizeof *e->pick);
    if (!e->inst || !e->slots || !e->heap || !e->pos || !e->lv_price || !e->lv_qty || !e->pick) goto fail;
    for (uint32_t i = 0; i < e->n_inst; i++) {
        inst_state *in = &e->inst[i];
        in->cfg = cfg->instruments[i];
        in->book = qt_book_create(1, e->lv_cap); /* the replay is the truth: no tick check on it */
        if (!in->book) goto fail;
        in->head = in->tail = -1;
        in->phase = cfg->initial_phase;
        in->max_limit = in->min_limit = in->last_price = QT_PRICE_NONE;
    }
    return e;
fail:
    sim_match_destroy(e);
    return NULL;
}

/* Write prefix + decimal id. */
static void make_clordid(const sim_match *e, int64_t id, char *out) {
    char digits[24];
    int n = 0;
    uint64_t v = (uint64_t)id;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, e->prefix, e->prefix_len);
    size_t k = e->prefix_len;
    while (n > 0) out[k++] = digits[--n];
    out[k] = '\0';
}

static int static_reason(const inst_state *in, int type, int64_t price, int64_t stop, int64_t qty) {
    if (qty <= 0 || qty > SIM_MATCH_MAX_QTY) return SIM_MATCH_R_QTY;
    if (type == SIM_MATCH_MARKET) return SIM_MATCH_R_NONE;
    if (!sane_price(price)) return SIM_MATCH_R_PRICE;
    if (!on_tick(in, price)) return SIM_MATCH_R_TICK;
    if (type == SIM_MATCH_STOP_LIMIT) {
        if (!sane_price(stop)) return SIM_MATCH_R_PRICE;
        if (!on_tick(in, stop)) return SIM_MATCH_R_TICK;
    }
    return SIM_MATCH_R_NONE;
}

int64_t sim_match_send(sim_match *e, uint32_t account, uint16_t instrument, int order_type, int side,
                       int64_t price, int64_t stop_price, int64_t quantity) {
    if (!e) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    if ((side != SIM_MATCH_BUY && side != SIM_MATCH_SELL) ||
        (order_type != SIM_MATCH_MARKET && order_type != SIM_MATCH_LIMIT && order_type != SIM_MATCH_STOP_LIMIT))
        return SIM_MATCH_E_ARGS;
    int ix = find_inst(e, instrument);
    if (ix < 0) return SIM_MATCH_E_INSTRUMENT;
    if (account >= e->max_accounts) return SIM_MATCH_E_ACCOUNT;
    int64_t id = e->next_id;
    order_slot *s = &e->slots[(uint64_t)(id - 1) % e->max_orders];
    if ((s->used && !s->finished) || e->n_heap == e->max_pending) return SIM_MATCH_E_FULL;
    inst_state *in = &e->inst[ix];
    memset(s, 0, sizeof *s);
    s->used = 1;
    s->inst = (uint32_t)ix;
    s->prev = s->next = -1;
    sim_match_order *o = &s->o;
    o->local_id = id;
    o->sent_ns = e->now;
    o->account = account;
    o->instrument = instrument;
    o->order_type = (uint8_t)order_type;
    o->side = (uint8_t)side;
    o->triggered = order_type == SIM_MATCH_LIMIT;
    o->price = order_type == SIM_MATCH_MARKET ? QT_PRICE_NONE : price;
    o->stop_price = order_type == SIM_MATCH_STOP_LIMIT ? stop_price : QT_PRICE_NONE;
    o->quantity = quantity;
    o->leaves_qty = quantity > 0 ? quantity : 0;
    make_clordid(e, id, o->cl_ord_id);
    e->next_id++;
    e->c.orders++;
    e->working++;
    int r = static_reason(in, order_type, price, stop_price, quantity);
    if (r) {
        reject_order(e, s, r);
        return id;
    }
    o->status = SIM_MATCH_ST_PENDING_NEW;
    emit(e, s, SIM_MATCH_UPD_PENDING_NEW, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    heap_push(e, (command){sat_add(e->now, e->latency), 0, id, 0, 0, 0, CMD_NEW});
    run_due(e, e->now);
    return id;
}

/* The order behind a command: found, working, room in the queue. */
static int command_target(sim_match *e, int64_t local_id, order_slot **out) {
    if (!e) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    order_slot *s = slot_of(e, local_id);
    if (!s) return SIM_MATCH_E_NOT_FOUND;
    if (s->finished) return SIM_MATCH_E_NOT_WORKING;
    if (e->n_heap == e->max_pending) return SIM_MATCH_E_FULL;
    *out = s;
    return SIM_MATCH_OK;
}

int sim_match_change(sim_match *e, int64_t local_id, int64_t price, int64_t stop_price, int64_t quantity) {
    order_slot *s;
    int rc = command_target(e, local_id, &s);
    if (rc) return rc;
    const inst_state *in = &e->inst[s->inst];
    int r = SIM_MATCH_R_NONE;
    if (quantity != SIM_MATCH_KEEP && (quantity <= 0 || quantity > SIM_MATCH_MAX_QTY || quantity <= s->o.cum_qty))
        r = SIM_MATCH_R_QTY;
    else if ((price != SIM_MATCH_KEEP && !sane_price(price)) || (stop_price != SIM_MATCH_KEEP && !sane_price(stop_price)))
        r = SIM_MATCH_R_PRICE;
    else if ((price != SIM_MATCH_KEEP && !on_tick(in, price)) ||
             (stop_price != SIM_MATCH_KEEP && !on_tick(in, stop_price)))
        r = SIM_MATCH_R_TICK;
    else if (s->o.order_type == SIM_MATCH_MARKET && price != SIM_MATCH_KEEP)
        r = SIM_MATCH_R_PRICE; /* a market order has no price to change */
    if (r) {
        change_rejected(e, s, r);
        return SIM_MATCH_REFUSED;
    }
    s->o.status = SIM_MATCH_ST_PENDING_REPLACE;
    emit(e, s, SIM_MATCH_UPD_PENDING_REPLACE, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    heap_push(e, (command){sat_add(e->now, e->latency), 0, local_id, price, stop_price, quantity, CMD_CHANGE});
    run_due(e, e->now);
    return SIM_MATCH_OK;
}

int sim_match_cancel(sim_match *e, int64_t local_id) {
    order_slot *s;
    int rc = command_target(e, local_id, &s);
    if (rc) return rc;
    s->o.status = SIM_MATCH_ST_PENDING_CANCEL;
    emit(e, s, SIM_MATCH_UPD_PENDING_CANCEL, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    heap_push(e, (command){sat_add(e->now, e->latency), 0, local_id, 0, 0, 0, CMD_CANCEL});
    run_due(e, e->now);
    return SIM_MATCH_OK;
}

int sim_match_cancel_all(sim_match *e, uint32_t account, int instrument) {
    if (!e) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    if (account >= e->max_accounts) return SIM_MATCH_E_ACCOUNT;
    if (instrument >= 0 && (instrument > UINT16_MAX || find_inst(e, (uint16_t)instrument) < 0))
        return SIM_MATCH_E_INSTRUMENT;
    int64_t first = e->next_id - (int64_t)e->max_orders;
    if (first < 1) first = 1;
    /* snapshot the ids first: with zero latency each cancel runs at once */
    int count = 0;
    for (int64_t id = first; id < e->next_id; id++) {
        order_slot *s = slot_of(e, id);
        if (!s || s->finished || s->o.account != account) continue;
        if (instrument >= 0 && s->o.instrument != (uint16_t)instrument) continue;
        int rc = sim_match_cancel(e, id);
        if (rc == SIM_MATCH_E_FULL) return rc;
        if (rc == SIM_MATCH_OK) count++;
    }
    return count;
}

int64_t sim_match_zero_position(sim_match *e, uint32_t account, uint16_t instrument) {
    if (!e) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    int ix = find_inst(e, instrument);
    if (ix < 0) return SIM_MATCH_E_INSTRUMENT;
    if (account >= e->max_accounts) return SIM_MATCH_E_ACCOUNT;
    int rc = sim_match_cancel_all(e, account, instrument);
    if (rc < 0) return rc;
    int64_t net = e->pos[(size_t)ix * e->max_accounts + account].net;
    if (net == 0) return 0;
    return sim_match_send(e, account, instrument, SIM_MATCH_MARKET, net > 0 ? SIM_MATCH_SELL : SIM_MATCH_BUY,
                          QT_PRICE_NONE, QT_PRICE_NONE, net > 0 ? net : -net);
}

int sim_match_set_latency(sim_match *e, int64_t latency_ns) {
    if (!e || latency_ns < 0) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    e->latency = latency_ns;
    return SIM_MATCH_OK;
}

int sim_match_advance(sim_match *e, int64_t t_ns) {
    if (!e) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    run_due(e, t_ns > e->now ? t_ns : e->now);
    return SIM_MATCH_OK;
}

int sim_match_on_event(sim_match *e, const qt_event *ev) {
    if (!e || !ev) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    e->c.events++;
    int64_t t = e->cfg.clock == SIM_MATCH_CLOCK_RECV ? ev->recv_ns : ev->exch_ns;
    if (t != QT_TIME_NONE) run_due(e, t > e->now ? t : e->now);
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

int sim_match_get_order(const sim_match *e, int64_t local_id, sim_match_order *out) {
    if (!e || !out) return SIM_MATCH_E_ARGS;
    const order_slot *s = slot_of(e, local_id);
    if (!s) return SIM_MATCH_E_NOT_FOUND;
    *out = s->o;
    return SIM_MATCH_OK;
}

int sim_match_find_order(const sim_match *e, const char *cl_ord_id, sim_match_order *out) {
    if (!e || !cl_ord_id || !out) return SIM_MATCH_E_ARGS;
    if (strncmp(cl_ord_id, e->prefix, e->prefix_len) != 0) return SIM_MATCH_E_NOT_FOUND;
    const char *d = cl_ord_id + e->prefix_len;
    int64_t id = 0;
    if (*d < '1' || *d > '9') return SIM_MATCH_E_NOT_FOUND;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || id > (INT64_MAX - 9) / 10) return SIM_MATCH_E_NOT_FOUND;
        id = id * 10 + (*d - '0');
    }
    return sim_match_get_order(e, id, out);
}

int sim_match_get_position(const sim_match *e, uint32_t account, uint16_t instrument, sim_match_position *out) {
    if (!e || !out) return SIM_MATCH_E_ARGS;
    int ix = find_inst(e, instrument);
    if (ix < 0) return SIM_MATCH_E_INSTRUMENT;
    if (account >= e->max_accounts) return SIM_MATCH_E_ACCOUNT;
    const pos_state *ps = &e->pos[(size_t)ix * e->max_accounts + account];
    const sim_match_instrument *c = &e->inst[ix].cfg;
    memset(out, 0, sizeof *out);
    out->account = account;
    out->instrument = instrument;
    out->net_qty = ps->net;
    out->avg_price = ps->net ? ps->open_cost / (double)ps->net * c->price_unit : 0.0;
    out->realized_pnl = ps->realized_units * c->price_unit * c->point_value;
    out->fees = ps->fees;
    out->buy_qty = ps->buy_qty;
    out->sell_qty = ps->sell_qty;
    out->fills = ps->fills;
    return SIM_MATCH_OK;
}

int64_t sim_match_now(const sim_match *e) { return e ? e->now : 0; }
int64_t sim_match_latency(const sim_match *e) { return e ? e->latency : 0; }
int64_t sim_match_next_due(const sim_match *e) { return e && e->n_heap ? e->heap[0].due : INT64_MAX; }

const qt_book *sim_match_book(const sim_match *e, uint16_t instrument) {
    if (!e) return NULL;
    int ix = find_inst(e, instrument);
    return ix < 0 ? NULL : e->inst[ix].book;
}

int sim_match_get_market(const sim_match *e, uint16_t instrument, int *phase, int64_t *max_limit,
                         int64_t *min_limit, int64_t *last_price) {
    if (!e) return SIM_MATCH_E_ARGS;
    int ix = find_inst(e, instrument);
    if (ix < 0) return SIM_MATCH_E_INSTRUMENT;
    const inst_state *in = &e->inst[ix];
    if (phase) *phase = in->phase;
    if (max_limit) *max_limit = in->max_limit;
    if (min_limit) *min_limit = in->min_limit;
    if (last_price) *last_price = in->last_price;
    return SIM_MATCH_OK;
}

uint32_t sim_match_working_count(const sim_match *e) { return e ? e->working : 0; }

void sim_match_get_counters(const sim_match *e, sim_match_counters *out) {
    if (!e || !out) return;
    *out = e->c;
}
