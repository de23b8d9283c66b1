/* The order side of the ProfitDLL simulator (sim_orders.h) on the
 * order-matching engine (sim_matching.h): the engine decides what happens
 * to an order; this adapter translates between the DLL's view (tickers,
 * double prices, UTF-8 ids, statuses per order) and the engine's (instrument
 * numbers, integer price units, local ids, one update per change).
 *
 * The caller (the simulator) holds its one lock around every function here;
 * the engine's update callback runs inside those calls and only records the
 * update and queues the order's id through host->order_changed.
 *
 * INSTRUMENT.  A replay serves one instrument: it is engine instrument 0 and
 * every market record goes to the engine as instrument 0, whatever number
 * the log gave it.  Orders name it by the served ticker and exchange
 * (compared case-insensitively, as subscriptions are); an order for any
 * other instrument is rejected with an order status.  Price unit and tick
 * come from the log header (the tick must be a whole number of units; a
 * header without a tick takes the WDO / WIN tick of
 * sim_match_instrument_defaults, else one unit); point value = the
 * contract multiplier; fees per contract per fill = the configured figure,
 * else the B3 approximations of sim_match_instrument_defaults (WDO BRL 1.10,
 * WIN BRL 0.26), else 0.
 *
 * IDS.  The adapter numbers the orders (local id 1, 2, ... per session),
 * because some are refused before they reach the engine: an injected fault
 * (SimRejectOrders), a price that is not a whole number of price units (so
 * cannot be on the tick), an unknown instrument, no market loaded.  Those
 * are rejected here (status 8) with a text; the rest is the engine's
 * business, including its own rejections (tick, daily limits, halt, closed,
 * market order in an auction, quantity).  ClOrdID = "SIM" + the session's
 * start in base-36 microseconds + "-" + local id: unique across sessions,
 * as the DLL's permanent ClOrdIDs are (a session restored from a state
 * file keeps the prefix of the session it restores).
 *
 * WHAT AN ORDER REPORTS (GetOrderDetails, order callbacks).  Status codes,
 * quantities, prices and the average fill price are the engine's (ProfitDLL
 * numbering already).  Date = when sent, LastUpdate = market time of the last
 * change, CloseDate = when it became final, all in market (replay) time.
 * EventID: one counter over every change of every order.  TextMessage: the
 * reason given with the last change ("" for fills and acknowledgements).  A
 * change or cancel of an order that is no longer working is taken (NL_OK)
 * and answered, like a broker's cancel-reject, by an order change that
 * keeps the status and says "order no longer working".
 *
 * POSITIONS (GetPositionV2).  PositionType 2, consolidated: the engine's
 * net position since the login, carried across the log's sessions, with its
 * average-cost price.  PositionType 1, day trade: the same method over the
 * current session's fills only (reset at each QT_EV_SESSION).  Both report
 * the current session's buys and sells in the Daily* fields, DailyQuantity
 * = buys - sells of the session, EventID = the order event of the last
 * fill.  NL_NO_POSITION when the position has no fill at all (day trade:
 * none this session).  SendZeroPositionV2 uses the same split: it cancels
 * the working orders of the instrument, then sends the opposite of the
 * day-trade or consolidated net (market, or limit at the given price);
 * NL_NO_POSITION when that net is flat (the cancels stand).
 *
 * CLOCK.  Market time is the replay's: the engine moves with the records'
 * exchange times; before each command it is brought up to host->now_ns
 * (the replay clock, which runs between records at speed > 0; the host
 * fixes one value per command, so a restore from the state file can
 * repeat it), and the replay calls sim_orders_on_clock when paced against
 * the wall clock and a command falls due.
 * Before the first phase record the instrument is in pre-opening (limit
 * orders wait, market orders are rejected).  Once the replay has ended
 * (sim_orders_on_end) the market is closed and every command is decided
 * after its latency without waiting for data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_atomic.h"
#include "matching/sim_matching.h"
#include "matching/sim_orders.h"
#include "sim_text.h"

#define ORDER_CAP 65536u /* orders remembered (a ring, as the engine's) */
#define MAX_PENDING 4096u
#define INST 0 /* the replayed instrument's engine number */
#define ACCOUNT 0

typedef struct order_rec {
    int64_t local_id; /* 0: free slot */
    int64_t engine_id; /* 0: refused before the engine */
    int64_t event_id, created_ns, updated_ns, closed_ns;
    sim_match_order m; /* state after the last change (cl_ord_id is ours) */
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
} order_rec;

/* Average-cost position over the current session's fills. */
typedef struct day_position {
    int64_t buy_qty, sell_qty, net, fills;
    double buy_value, sell_value; /* units x contracts */
    double open_cost;             /* signed units x contracts of the open day position */
} day_position;

struct sim_orders {
    sim_orders_config cfg;
    sim_orders_host host;
    sim_match *engine; /* NULL: nothing trades (no log, or an unusable header) */
    char no_engine_text[SIM_MATCH_REASON_LEN];
    double price_unit;
    order_rec *recs;     /* ring by local id */
    int64_t *by_engine;  /* ring: engine id -> local id */
    int64_t next_local, next_engine, event_id, pos_event_id;
    int64_t latency_ns, max_latency_ns;
    int ended;
    char prefix[24];
    int64_t reject_count;
    double reject_probability;
    char reject_reason[SIM_MATCH_REASON_LEN];
    uint64_t rng;
    day_position day;
};

/* ---- small helpers ------------------------------------------------------- */

static void copy_text(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static int64_t sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/* splitmix64: the fault injection's random numbers, reproducible by seed */
static double uniform(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static int final_status(int st) {
    return st == QT_PROFITDLL_ST_FILLED || st == QT_PROFITDLL_ST_DONE_FOR_DAY || st == QT_PROFITDLL_ST_CANCELED ||
           st == QT_PROFITDLL_ST_REJECTED || st == QT_PROFITDLL_ST_EXPIRED || st == QT_PROFITDLL_ST_PARTIALLY_FILLED_CANCELED ||
           st == QT_PROFITDLL_ST_PARTIALLY_FILLED_EXPIRED || st == QT_PROFITDLL_ST_PARTIALLY_FILLED_REJECTED;
}

static int working(const order_rec *r) { return r->engine_id && !final_status(r->m.status); }

static int served(const sim_orders *o, const char *ticker, const char *exchange) {
    return sim_ascii_ieq(ticker, o->cfg.ticker) && sim_ascii_ieq(exchange, o->cfg.exchange);
}

static int nresult_of(int64_t rc) {
    switch (rc) {
    case SIM_MATCH_E_ARGS: return NL_INVALID_ARGS;
    case SIM_MATCH_E_INSTRUMENT: return NL_INVALID_TICKER;
    case SIM_MATCH_E_ACCOUNT:
    case SIM_MATCH_E_NOT_FOUND: return NL_NOT_FOUND;
    default: return NL_INTERNAL_ERROR; /* E_FULL: 65536 orders working or 4096 commands in flight */
    }
}

/* ---- order records ---------------------------------------------------------- */

static order_rec *rec_of(const sim_orders *o, int64_t id) {
    if (id <= 0 || id >= o->next_local) return NULL;
    order_rec *r = &o->recs[(uint64_t)(id - 1) % ORDER_CAP];
    return r->local_id == id ? r : NULL;
}

static order_rec *rec_of_engine(const sim_orders *o, int64_t engine_id) {
    if (engine_id <= 0) return NULL;
    order_rec *r = rec_of(o, o->by_engine[(uint64_t)(engine_id - 1) % ORDER_CAP]);
    return r && r->engine_id == engine_id ? r : NULL;
}

static order_rec *find_rec(const sim_orders *o, const sim_order_ref *ref) {
    if (ref->local_id > 0) return rec_of(o, ref->local_id);
    size_t n = strlen(o->prefix);
    if (strncmp(ref->cl_ord_id, o->prefix, n) != 0) return NULL;
    const char *d = ref->cl_ord_id + n;
    int64_t id = 0;
    if (*d < '1' || *d > '9') return NULL;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || id > (INT64_MAX - 9) / 10) return NULL;
        id = id * 10 + (*d - '0');
    }
    return rec_of(o, id);
}

/* A new record for the next local id, or NULL when its ring slot still
 * holds a working order (65536 orders ago). */
static order_rec *new_rec(sim_orders *o, const sim_order_request *req) {
    int64_t id = o->next_local;
    order_rec *r = &o->recs[(uint64_t)(id - 1) % ORDER_CAP];
    if (r->local_id && working(r)) return NULL;
    memset(r, 0, sizeof(*r));
    r->local_id = id;
    o->next_local++;
    snprintf(r->m.cl_ord_id, sizeof(r->m.cl_ord_id), "%s%lld", o->prefix, (long long)id);
    copy_text(r->ticker, sizeof(r->ticker), req->ticker);
    copy_text(r->exchange, sizeof(r->exchange), req->exchange);
    return r;
}

/* Undo new_rec (the engine refused to form the order). */
static void drop_rec(sim_orders *o, order_rec *r) {
    memset(r, 0, sizeof(*r));
    o->next_local--;
}

static void notify(sim_orders *o, order_rec *r) {
    r->event_id = ++o->event_id;
    o->host.order_changed(o->host.ctx, r->local_id);
}

/* ---- clock -------------------------------------------------------------- */

/* Market time now: the engine's, brought up to the replay clock. */
static int64_t market_now(sim_orders *o) {
    int64_t host = o->host.now_ns(o->host.ctx);
    if (!o->engine) return host;
    if (!o->ended) sim_match_advance(o->engine, host);
    return sim_match_now(o->engine);
}

/* After a command: once the replay has ended nothing else moves the clock,
 * so decide what is in flight now. */
static void after_command(sim_orders *o) {
    if (o->engine && o->ended)
        sim_match_advance(o->engine, sat_add(sim_match_now(o->engine), o->max_latency_ns));
}

/* ---- engine updates ----------------------------------------------------------- */

static void day_fill(sim_orders *o, const sim_match_order *u) {
    day_position *d = &o->day;
    int64_t q = u->last_qty, sq = u->side == SIM_MATCH_BUY ? q : -q;
    double px = (double)u->last_price;
    if (sq > 0) {
        d->buy_qty += q;
        d->buy_value += px * (double)q;
    } else {
        d->sell_qty += q;
        d->sell_value += px * (double)q;
    }
    d->fills++;
    int64_t n = d->net;
    if (n == 0 || (n > 0) == (sq > 0)) {
        d->open_cost += (double)sq * px;
    } else if (llabs(sq) < llabs(n)) {
        d->open_cost = d->open_cost / (double)n * (double)(n + sq); /* a partial close keeps the average */
    } else {
        d->open_cost = (double)(n + sq) * px; /* closed, and what is left opens at the fill */
    }
    d->net = n + sq;
}

static void on_engine_update(void *user, const sim_match_order *u) {
    sim_orders *o = (sim_orders *)user;
    order_rec *r = rec_of_engine(o, u->local_id);
    if (!r) return; /* every engine order is registered before it is sent */
    char cl[SIM_MATCH_CLORDID_LEN];
    memcpy(cl, r->m.cl_ord_id, sizeof(cl));
    r->m = *u;
    memcpy(r->m.cl_ord_id, cl, sizeof(cl));
    r->updated_ns = u->time_ns;
    if (final_status(u->status) && !r->closed_ns) r->closed_ns = u->time_ns;
    notify(o, r);
    if (u->kind == SIM_MATCH_UPD_FILL && u->last_qty > 0) {
        day_fill(o, u);
        o->pos_event_id = r->event_id;
    }
}

/* An order refused before the engine: rejected at once with `text`. */
static void reject_here(sim_orders *o, order_rec *r, const sim_order_request *req, const char *text) {
    sim_match_order *m = &r->m;
    int64_t now = market_now(o);
    m->time_ns = m->sent_ns = now;
    m->order_type = req->order_type;
    m->side = req->side;
    m->status = QT_PROFITDLL_ST_REJECTED;
    m->kind = SIM_MATCH_UPD_REJECTED;
    m->quantity = req->quantity;
    m->price = m->stop_price = m->last_price = QT_PRICE_NONE;
    m->price_f = req->order_type == QT_PROFITDLL_OT_MARKET ? -1.0 : req->price;
    m->stop_price_f = req->order_type == QT_PROFITDLL_OT_STOP_LIMIT ? req->stop_price : -1.0;
    copy_text(m->reason_text, sizeof(m->reason_text), text);
    r->created_ns = r->updated_ns = r->closed_ns = now;
    notify(o, r);
}

/* A change or cancel answered here: the status stays, the text says why. */
static void refuse_here(sim_orders *o, order_rec *r, int kind, int reason) {
    r->m.kind = (uint8_t)kind;
    r->m.reason = (uint8_t)reason;
    copy_text(r->m.reason_text, sizeof(r->m.reason_text), sim_match_reason_text(reason));
    r->m.last_qty = 0;
    r->m.last_price = QT_PRICE_NONE;
    r->m.last_price_f = 0.0;
    r->updated_ns = r->m.time_ns = market_now(o);
    notify(o, r);
}

/* ---- create / destroy ------------------------------------------------------- */

static const char *instrument_of(const sim_orders_config *cfg, sim_match_instrument *in) {
    memset(in, 0, sizeof(*in));
    in->instrument = INST;
    if (!(cfg->price_unit > 0) || !isfinite(cfg->price_unit)) return "the log has no price unit";
    in->price_unit = cfg->price_unit;
    sim_match_instrument d;
    int have_default = sim_match_instrument_defaults(cfg->ticker, INST, &d) == SIM_MATCH_OK;
    double tick = cfg->tick_size > 0 && isfinite(cfg->tick_size) ? cfg->tick_size
                  : have_default                                 ? d.price_unit * (double)d.tick_units
                                                                 : cfg->price_unit;
    double units = tick / cfg->price_unit;
    if (!(units >= 0.5 && units < 1e9)) return "the tick is not a whole number of price units";
    int64_t k = llround(units);
    if (k < 1 || fabs(units - (double)k) > 1e-6) return "the tick is not a whole number of price units";
    in->tick_units = k;
    in->point_value = cfg->contract_multiplier > 0 && isfinite(cfg->contract_multiplier) ? cfg->contract_multiplier : 1.0;
    in->fee_per_contract = cfg->fee_per_contract >= 0 && isfinite(cfg->fee_per_contract) ? cfg->fee_per_contract
                           : have_default                                              ? d.fee_per_contract
                                                                                       : 0.0;
    return NULL;
}

void sim_orders_make_prefix(char *out, size_t cap) {
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char tmp[16];
    int n = 0;
    int64_t t = qt_utc_ns() / 1000;
    uint64_t v = t > 0 ? (uint64_t)t : 0;
    do {
        tmp[n++] = digits[v % 36];
        v /= 36;
    } while (v && n < (int)sizeof(tmp));
    size_t k = 0;
    out[k++] = 'S';
    out[k++] = 'I';
    out[k++] = 'M';
    while (n > 0 && k + 2 < cap) out[k++] = tmp[--n];
    out[k++] = '-';
    out[k] = 0;
}

sim_orders *sim_orders_create(const sim_orders_config *cfg, const sim_orders_host *host) {
    sim_orders *o = (sim_orders *)calloc(1, sizeof(*o));
    if (!o) return NULL;
    o->cfg = *cfg;
    o->host = *host;
    o->recs = (order_rec *)calloc(ORDER_CAP, sizeof(*o->recs));
    o->by_engine = (int64_t *)calloc(ORDER_CAP, sizeof(*o->by_engine));
    if (!o->recs || !o->by_engine) {
        sim_orders_destroy(o);
        return NULL;
    }
    o->next_local = o->next_engine = 1;
    o->latency_ns = o->max_latency_ns = cfg->latency_ns > 0 ? cfg->latency_ns : 0;
    o->rng = cfg->seed;
    sim_orders_set_rejects(o, cfg->reject_count, cfg->reject_probability, cfg->reject_reason);
    if (cfg->clordid_prefix[0])
        copy_text(o->prefix, sizeof(o->prefix), cfg->clordid_prefix);
    else
        sim_orders_make_prefix(o->prefix, sizeof(o->prefix));
    copy_text(o->no_engine_text, sizeof(o->no_engine_text), "no market data loaded: nothing trades");
    if (!cfg->have_market) return o;
    sim_match_instrument in;
    const char *why = instrument_of(cfg, &in);
    if (why) {
        snprintf(o->no_engine_text, sizeof(o->no_engine_text), "no trading: %s", why);
        return o;
    }
    sim_match_config mc;
    memset(&mc, 0, sizeof(mc));
    mc.instruments = &in;
    mc.n_instruments = 1;
    mc.max_accounts = 1;
    mc.max_orders = ORDER_CAP;
    mc.max_pending = MAX_PENDING;
    mc.latency_ns = o->latency_ns;
    mc.clock = SIM_MATCH_CLOCK_EXCH;
    mc.initial_phase = QT_PHASE_PRE_OPENING;
    mc.queue_any_trade = 0;
    mc.clamp_window_ns = -1;
    mc.on_update = on_engine_update;
    mc.user = o;
    o->engine = sim_match_create(&mc);
    if (!o->engine) {
        sim_orders_destroy(o);
        return NULL;
    }
    o->price_unit = in.price_unit;
    return o;
}

void sim_orders_destroy(sim_orders *o) {
    if (!o) return;
    sim_match_destroy(o->engine);
    free(o->recs);
    free(o->by_engine);
    free(o);
}

/* ---- commands --------------------------------------------------------------- */

/* Why the order cannot go to the engine (NULL: it can; prices set). */
static const char *refusal(sim_orders *o, const sim_order_request *req, int64_t *price, int64_t *stop) {
    if (!o->engine) return o->no_engine_text;
    if (!served(o, req->ticker, req->exchange)) return "instrument not traded in this simulation";
    if (o->reject_count > 0) {
        o->reject_count--;
        return o->reject_reason;
    }
    if (o->reject_probability > 0 && uniform(&o->rng) < o->reject_probability) return o->reject_reason;
    *price = *stop = QT_PRICE_NONE;
    if (req->order_type != QT_PROFITDLL_OT_MARKET && !qt_price_from_double(req->price, o->price_unit, price))
        return sim_match_reason_text(SIM_MATCH_R_TICK);
    if (req->order_type == QT_PROFITDLL_OT_STOP_LIMIT && !qt_price_from_double(req->stop_price, o->price_unit, stop))
        return sim_match_reason_text(SIM_MATCH_R_TICK);
    return NULL;
}

static int64_t send_order(sim_orders *o, const sim_order_request *req) {
    order_rec *r = new_rec(o, req);
    if (!r) return NL_INTERNAL_ERROR;
    int64_t price, stop;
    const char *why = refusal(o, req, &price, &stop);
    if (why) {
        reject_here(o, r, req, why);
        return r->local_id;
    }
    r->created_ns = market_now(o);
    /* register the engine's id first: with no latency its updates come
     * from inside sim_match_send */
    int64_t eid = o->next_engine;
    r->engine_id = eid;
    o->by_engine[(uint64_t)(eid - 1) % ORDER_CAP] = r->local_id;
    int64_t rc = sim_match_send(o->engine, ACCOUNT, INST, req->order_type, req->side, price, stop, req->quantity);
    if (rc < 0) {
        drop_rec(o, r);
        return nresult_of(rc);
    }
    o->next_engine = rc + 1;
    after_command(o);
    return r->local_id;
}

int64_t sim_orders_send(sim_orders *o, const sim_order_request *req) { return send_order(o, req); }

int sim_orders_change(sim_orders *o, const sim_change_request *req) {
    order_rec *r = find_rec(o, &req->order);
    if (!r) return NL_NOT_FOUND;
    if (!working(r)) {
        refuse_here(o, r, SIM_MATCH_UPD_CHANGE_REJECTED, SIM_MATCH_R_NOT_WORKING);
        return NL_OK;
    }
    int64_t price = SIM_MATCH_KEEP, stop = SIM_MATCH_KEEP, qty = req->quantity > 0 ? req->quantity : SIM_MATCH_KEEP;
    if (req->price != -1 && (!(req->price > 0) || !qt_price_from_double(req->price, o->price_unit, &price))) {
        refuse_here(o, r, SIM_MATCH_UPD_CHANGE_REJECTED, req->price > 0 ? SIM_MATCH_R_TICK : SIM_MATCH_R_PRICE);
        return NL_OK;
    }
    if (req->stop_price != -1 &&
        (!(req->stop_price > 0) || !qt_price_from_double(req->stop_price, o->price_unit, &stop))) {
        refuse_here(o, r, SIM_MATCH_UPD_CHANGE_REJECTED, req->stop_price > 0 ? SIM_MATCH_R_TICK : SIM_MATCH_R_PRICE);
        return NL_OK;
    }
    (void)market_now(o);
    int rc = sim_match_change(o->engine, r->engine_id, price, stop, qty);
    after_command(o);
    if (rc == SIM_MATCH_OK || rc == SIM_MATCH_REFUSED) return NL_OK;
    if (rc == SIM_MATCH_E_NOT_WORKING || rc == SIM_MATCH_E_NOT_FOUND) {
        refuse_here(o, r, SIM_MATCH_UPD_CHANGE_REJECTED, SIM_MATCH_R_NOT_WORKING);
        return NL_OK;
    }
    return nresult_of(rc);
}

int sim_orders_cancel(sim_orders *o, const sim_cancel_request *req) {
    order_rec *r = find_rec(o, &req->order);
    if (!r) return NL_NOT_FOUND;
    if (!working(r)) {
        refuse_here(o, r, SIM_MATCH_UPD_CANCEL_REJECTED, SIM_MATCH_R_NOT_WORKING);
        return NL_OK;
    }
    (void)market_now(o);
    int rc = sim_match_cancel(o->engine, r->engine_id);
    after_command(o);
    if (rc == SIM_MATCH_OK) return NL_OK;
    if (rc == SIM_MATCH_E_NOT_WORKING || rc == SIM_MATCH_E_NOT_FOUND) {
        refuse_here(o, r, SIM_MATCH_UPD_CANCEL_REJECTED, SIM_MATCH_R_NOT_WORKING);
        return NL_OK;
    }
    return nresult_of(rc);
}

int sim_orders_cancel_many(sim_orders *o, const sim_cancel_filter *filter) {
    if (!o->engine || (filter->ticker[0] && !served(o, filter->ticker, filter->exchange))) return NL_OK;
    (void)market_now(o);
    int rc = sim_match_cancel_all(o->engine, ACCOUNT, INST);
    after_command(o);
    return rc < 0 ? nresult_of(rc) : NL_OK;
}

int64_t sim_orders_zero_position(sim_orders *o, const sim_zero_request *req) {
    if (!o->engine || !served(o, req->ticker, req->exchange)) return NL_NO_POSITION;
    (void)market_now(o);
    int rc = sim_match_cancel_all(o->engine, ACCOUNT, INST);
    after_command(o);
    if (rc < 0) return nresult_of(rc);
    int64_t net = o->day.net;
    if (req->position_type != QT_PROFITDLL_POS_DAY_TRADE) {
        sim_match_position p;
        sim_match_get_position(o->engine, ACCOUNT, INST, &p);
        net = p.net_qty;
    }
    if (net == 0) return NL_NO_POSITION;
    sim_order_request q;
    memset(&q, 0, sizeof(q));
    q.account = req->account;
    copy_text(q.ticker, sizeof(q.ticker), req->ticker);
    copy_text(q.exchange, sizeof(q.exchange), req->exchange);
    q.order_type = req->price == -1 ? QT_PROFITDLL_OT_MARKET : QT_PROFITDLL_OT_LIMIT;
    q.side = net > 0 ? QT_PROFITDLL_OS_SELL : QT_PROFITDLL_OS_BUY;
    q.price = req->price;
    q.stop_price = -1;
    q.quantity = net > 0 ? net : -net;
    q.source = SIM_SRC_ZERO_POSITION;
    return send_order(o, &q);
}

/* ---- queries ------------------------------------------------------------------ */

static void view_of(const sim_orders *o, const order_rec *r, sim_order_view *v) {
    const sim_match_order *m = &r->m;
    memset(v, 0, sizeof(*v));
    v->local_id = r->local_id;
    copy_text(v->cl_ord_id, sizeof(v->cl_ord_id), m->cl_ord_id);
    v->account = o->cfg.account;
    copy_text(v->ticker, sizeof(v->ticker), r->ticker);
    copy_text(v->exchange, sizeof(v->exchange), r->exchange);
    v->quantity = m->quantity;
    v->traded_quantity = m->cum_qty;
    v->leaves_quantity = m->leaves_qty;
    v->price = m->price_f;
    v->stop_price = m->stop_price_f;
    v->average_price = m->avg_price;
    v->side = m->side;
    v->order_type = m->order_type;
    v->status = m->status;
    v->validity_type = 0; /* day */
    v->created_ns = r->created_ns;
    v->updated_ns = r->updated_ns;
    v->closed_ns = r->closed_ns;
    v->validity_ns = 0;
    v->event_id = r->event_id;
    v->fees = m->fees;
    copy_text(v->text, sizeof(v->text), m->reason_text);
}

int sim_orders_find(const sim_orders *o, const sim_order_ref *ref, sim_order_view *out) {
    const order_rec *r = find_rec(o, ref);
    if (!r) return NL_NOT_FOUND;
    view_of(o, r, out);
    return NL_OK;
}

size_t sim_orders_count(const sim_orders *o) {
    int64_t n = o->next_local - 1;
    return n < (int64_t)ORDER_CAP ? (size_t)n : ORDER_CAP;
}

int sim_orders_at(const sim_orders *o, size_t index, sim_order_view *out) {
    size_t n = sim_orders_count(o);
    if (index >= n) return NL_NOT_FOUND;
    const order_rec *r = rec_of(o, o->next_local - (int64_t)n + (int64_t)index);
    if (!r) return NL_NOT_FOUND;
    view_of(o, r, out);
    return NL_OK;
}

int sim_orders_position(const sim_orders *o, const sim_account *account, const char *ticker,
                        const char *exchange, uint8_t position_type, sim_position_view *out) {
    (void)account; /* one account: the exports have checked it */
    memset(out, 0, sizeof(*out));
    if (!o->engine || !served(o, ticker, exchange)) return NL_NO_POSITION;
    sim_match_position p;
    if (sim_match_get_position(o->engine, ACCOUNT, INST, &p) != SIM_MATCH_OK) return NL_NO_POSITION;
    const day_position *d = &o->day;
    int day = position_type == QT_PROFITDLL_POS_DAY_TRADE;
    if (day ? d->fills == 0 : p.fills == 0) return NL_NO_POSITION;
    int64_t net = day ? d->net : p.net_qty;
    out->open_quantity = net >= 0 ? net : -net;
    out->open_side = net > 0 ? QT_PROFITDLL_OS_BUY : net < 0 ? QT_PROFITDLL_OS_SELL : 0;
    if (net != 0) out->open_average_price = day ? d->open_cost / (double)net * o->price_unit : p.avg_price;
    if (d->buy_qty) out->daily_average_buy_price = d->buy_value / (double)d->buy_qty * o->price_unit;
    if (d->sell_qty) out->daily_average_sell_price = d->sell_value / (double)d->sell_qty * o->price_unit;
    out->daily_buy_quantity = d->buy_qty;
    out->daily_sell_quantity = d->sell_qty;
    out->daily_quantity = d->buy_qty - d->sell_qty;
    out->event_id = o->pos_event_id;
    out->realized_pnl = p.realized_pnl;
    out->fees = p.fees;
    out->fills = p.fills;
    return NL_OK;
}

/* ---- market and clock ---------------------------------------------------------- */

void sim_orders_on_market(sim_orders *o, const qt_event *ev) {
    if (!o->engine) return;
    qt_event x = *ev;
    x.instrument = INST;
    if (x.type == QT_EV_SESSION) memset(&o->day, 0, sizeof(o->day));
    sim_match_on_event(o->engine, &x);
}

void sim_orders_on_clock(sim_orders *o, int64_t now_ns) {
    if (o->engine && !o->ended) sim_match_advance(o->engine, now_ns);
}

int64_t sim_orders_next_due(const sim_orders *o) { return o->engine ? sim_match_next_due(o->engine) : INT64_MAX; }

void sim_orders_on_end(sim_orders *o) {
    if (!o->engine || o->ended) return;
    qt_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = QT_EV_PHASE;
    ev.code = QT_PHASE_CLOSED;
    ev.instrument = INST;
    ev.exch_ns = ev.recv_ns = QT_TIME_NONE;
    ev.price = QT_PRICE_NONE;
    sim_match_on_event(o->engine, &ev);
    o->ended = 1;
    after_command(o);
}

void sim_orders_set_latency(sim_orders *o, int64_t latency_ns) {
    if (latency_ns < 0) latency_ns = 0;
    o->latency_ns = latency_ns;
    if (latency_ns > o->max_latency_ns) o->max_latency_ns = latency_ns;
    if (o->engine) sim_match_set_latency(o->engine, latency_ns);
}

void sim_orders_set_rejects(sim_orders *o, int64_t count, double probability, const char *reason) {
    o->reject_count = count > 0 ? count : 0;
    o->reject_probability = probability > 0 && probability <= 1 ? probability : probability > 1 ? 1.0 : 0.0;
    copy_text(o->reject_reason, sizeof(o->reject_reason),
              reason && reason[0] ? reason : "rejected by the simulator (fault injection)");
}
