/* Order-matching engine of the ProfitDLL simulator, its public API:
 * create / destroy, the commands (each goes through the latency model) and
 * the getters.  See sim_matching.h for the model, the update protocol and
 * the threading rule; sim_match_internal.h for how the engine is split. */
#include "matching/sim_matching.h"

#include <stdlib.h>
#include <string.h>

#include "matching/sim_match_internal.h"

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

/* ---- public API ------------------------------------------------------------ */

void sim_match_destroy(sim_match *e) {
    if (!e) return;
    if (e->inst)
        for (uint32_t i = 0; i < e->n_inst; i++) qt_book_destroy(e->inst[i].book);
    free(e->inst);
    free(e->slots);
    sim_latency_free(&e->lat);
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
    uint32_t max_pending = cfg->max_pending ? cfg->max_pending : 4096;
    e->lv_cap = cfg->book_capacity ? cfg->book_capacity : QT_BOOK_DEFAULT_CAPACITY;
    e->window = cfg->clamp_window_ns < 0 ? 1000000000 : cfg->clamp_window_ns;
    e->next_id = 1;
    if (e->max_orders > (1u << 30) || max_pending > (1u << 30) || e->lv_cap > QT_BOOK_MAX_CAPACITY ||
        (uint64_t)e->max_accounts * e->n_inst > (1u << 24))
        goto fail;
    e->inst = calloc(e->n_inst, sizeof *e->inst);
    e->slots = calloc(e->max_orders, sizeof *e->slots);
    e->pos = calloc((size_t)e->n_inst * e->max_accounts, sizeof *e->pos);
    e->lv_price = calloc(e->lv_cap, sizeof *e->lv_price);
    e->lv_qty = calloc(e->lv_cap, sizeof *e->lv_qty);
    e->pick = calloc(e->max_orders, sizeof *e->pick);
    if (!e->inst || !e->slots || !e->pos || !e->lv_price || !e->lv_qty || !e->pick ||
        sim_latency_init(&e->lat, cfg->latency_ns, max_pending) != 0)
        goto fail;
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
    if ((s->used && !s->finished) || sim_latency_full(&e->lat)) return SIM_MATCH_E_FULL;
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
        sim_engine_reject(e, s, r);
        return id;
    }
    o->status = SIM_MATCH_ST_PENDING_NEW;
    sim_engine_emit(e, s, SIM_MATCH_UPD_PENDING_NEW, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    sim_latency_send(&e->lat, e->now, (sim_command){0, 0, id, 0, 0, 0, SIM_CMD_NEW});
    sim_engine_run_due(e, e->now);
    return id;
}

/* The order behind a command: found, working, room in the queue. */
static int command_target(sim_match *e, int64_t local_id, order_slot **out) {
    if (!e) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    order_slot *s = slot_of(e, local_id);
    if (!s) return SIM_MATCH_E_NOT_FOUND;
    if (s->finished) return SIM_MATCH_E_NOT_WORKING;
    if (sim_latency_full(&e->lat)) return SIM_MATCH_E_FULL;
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
        sim_engine_change_rejected(e, s, r);
        return SIM_MATCH_REFUSED;
    }
    s->o.status = SIM_MATCH_ST_PENDING_REPLACE;
    sim_engine_emit(e, s, SIM_MATCH_UPD_PENDING_REPLACE, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    sim_latency_send(&e->lat, e->now, (sim_command){0, 0, local_id, price, stop_price, quantity, SIM_CMD_CHANGE});
    sim_engine_run_due(e, e->now);
    return SIM_MATCH_OK;
}

int sim_match_cancel(sim_match *e, int64_t local_id) {
    order_slot *s;
    int rc = command_target(e, local_id, &s);
    if (rc) return rc;
    s->o.status = SIM_MATCH_ST_PENDING_CANCEL;
    sim_engine_emit(e, s, SIM_MATCH_UPD_PENDING_CANCEL, SIM_MATCH_R_NONE, QT_PRICE_NONE, 0);
    sim_latency_send(&e->lat, e->now, (sim_command){0, 0, local_id, 0, 0, 0, SIM_CMD_CANCEL});
    sim_engine_run_due(e, e->now);
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
    e->lat.latency = latency_ns;
    return SIM_MATCH_OK;
}

int sim_match_advance(sim_match *e, int64_t t_ns) {
    if (!e) return SIM_MATCH_E_ARGS;
    if (e->in_callback) return SIM_MATCH_E_REENTRANT;
    sim_engine_run_due(e, t_ns > e->now ? t_ns : e->now);
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
int64_t sim_match_latency(const sim_match *e) { return e ? e->lat.latency : 0; }
int64_t sim_match_next_due(const sim_match *e) { return e ? sim_latency_next_due(&e->lat) : INT64_MAX; }

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
