/* ProfitDLL simulator matching engine, C level:
 *  1. market orders walking the book, partial fill + canceled remainder,
 *     remembered takes;
 *  2. marketable limit orders (take, then rest);
 *  3. the queue model: volume ahead, aggressor filter, trade-through,
 *     level shrink (with and without credit), our own orders in one queue,
 *     one trade never fills more than its quantity;
 *  4. stop-limit triggers (on a trade, at acceptance, sell side);
 *  5. change (priority kept / lost, marketable, refused) and cancel,
 *     cancel-all;
 *  6. rejects: bad quantity, off tick, outside the day's limits, halted,
 *     closed, market order in an auction; auction does not match until open;
 *     close and session end expire orders; argument errors;
 *  7. latency in market time, advance();
 *  8. fees, positions (average cost, realized P&L), zero position;
 *  9. every update checked inside the callback: get_order() equals it,
 *     commands are refused (reentrancy), event ids increase;
 * 10. a random run of orders and market events checking invariants (position
 *     == sum of fills, fees, P&L identity, no fill beyond the limit, cum/leaves
 *     bookkeeping, working count) and that two runs give the same updates.
 * Usage: test_sim_matching [random_steps] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matching/sim_matching.h"

#include "qt_check.h"

#define WDO 1   /* tick 1 unit = 0.5 point, BRL 10 per point, fee 1.10 */
#define TICK5 2 /* tick 5 units of 1 point, BRL 1 per point, fee 0.5 */
#define MS 1000000LL
#define T0 1700000000000000000LL

/* ---- recorder: every update, checked inside the callback ------------------ */

#define REC_CAP 4096
#define MAX_IDS 200000

typedef struct recorder {
    sim_match *e;
    sim_match_order log[REC_CAP]; /* ring of the latest updates */
    uint64_t n;                   /* updates seen */
    int64_t last_event_id;
    uint64_t hash; /* FNV-1a over the updates' fields (determinism) */
    /* per local id: sum of fills, number of fills, last status */
    int64_t fill_qty[MAX_IDS];
    int64_t fill_value[MAX_IDS]; /* price units * qty */
    uint8_t finished[MAX_IDS];
    /* per instrument (index 0 WDO, 1 TICK5), account 0: cash flow of fills */
    int64_t signed_qty[2];
    int64_t cash_units[2]; /* -sum(signed qty * price) */
    int64_t contracts[2];
    int violations; /* a fill beyond the limit, a bad sequence ... */
} recorder;

static recorder R;

static void hash_bytes(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) R.hash = (R.hash ^ b[i]) * 1099511628211ull;
}

static int is_terminal(int st) { return st == 2 || st == 4 || st == 8 || st == 12 || st == 15 || st == 17; }

static void on_update(void *user, const sim_match_order *u) {
    recorder *r = user;
    CHECK(r == &R);
    /* the getter sees exactly this update */
    sim_match_order g;
    CHECK(sim_match_get_order(r->e, u->local_id, &g) == SIM_MATCH_OK);
    CHECK(memcmp(&g, u, sizeof g) == 0);
    sim_match_order f;
    CHECK(sim_match_find_order(r->e, u->cl_ord_id, &f) == SIM_MATCH_OK && f.local_id == u->local_id);
    /* commands are refused from inside the callback */
    CHECK(sim_match_send(r->e, 0, WDO, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 100, 0, 1) == SIM_MATCH_E_REENTRANT);
    CHECK(sim_match_cancel(r->e, u->local_id) == SIM_MATCH_E_REENTRANT);
    CHECK(sim_match_advance(r->e, 0) == SIM_MATCH_E_REENTRANT);
    CHECK(u->event_id == r->last_event_id + 1);
    r->last_event_id = u->event_id;
    CHECK(u->cum_qty >= 0 && u->leaves_qty >= 0);
    if (is_terminal(u->status)) CHECK(u->leaves_qty == 0);
    else CHECK(u->cum_qty + u->leaves_qty == u->quantity);
    CHECK((u->reason != 0) == (u->reason_text[0] != 0));
    int64_t id = u->local_id;
    CHECK(id > 0 && id < MAX_IDS);
    CHECK(!r->finished[id] || u->kind == SIM_MATCH_UPD_CANCEL_REJECTED || u->kind == SIM_MATCH_UPD_CHANGE_REJECTED);
    if (u->kind == SIM_MATCH_UPD_FILL) {
        CHECK(u->last_qty > 0 && u->last_price != QT_PRICE_NONE);
        if (u->order_type != SIM_MATCH_MARKET) {
            if (u->side == SIM_MATCH_BUY ? u->last_price > u->price : u->last_price < u->price) r->violations++;
        }
        r->fill_qty[id] += u->last_qty;
        r->fill_value[id] += u->last_qty * u->last_price;
        CHECK(r->fill_qty[id] == u->cum_qty);
        int k = u->instrument == WDO ? 0 : 1;
        if (u->account == 0) {
            int64_t sq = u->side == SIM_MATCH_BUY ? u->last_qty : -u->last_qty;
            r->signed_qty[k] += sq;
            r->cash_units[k] -= sq * u->last_price;
            r->contracts[k] += u->last_qty;
            sim_match_position p;
            CHECK(sim_match_get_position(r->e, 0, u->instrument, &p) == SIM_MATCH_OK);
            CHECK(p.net_qty == r->signed_qty[k]); /* the position already has the fill */
        }
    } else {
        CHECK(u->last_qty == 0 && u->last_price == QT_PRICE_NONE);
    }
    if (is_terminal(u->status)) r->finished[id] = 1;
    r->log[r->n % REC_CAP] = *u;
    r->n++;
    hash_bytes(&u->local_id, sizeof u->local_id);
    hash_bytes(&u->event_id, sizeof u->event_id);
    hash_bytes(&u->time_ns, sizeof u->time_ns);
    hash_bytes(&u->status, 1);
    hash_bytes(&u->kind, 1);
    hash_bytes(&u->cum_qty, sizeof u->cum_qty);
    hash_bytes(&u->last_price, sizeof u->last_price);
    hash_bytes(&u->last_qty, sizeof u->last_qty);
    hash_bytes(&u->price, sizeof u->price);
}

/* The k-th latest update (0 = latest). */
static const sim_match_order *last_upd(uint64_t k) {
    CHECK(k < R.n && k < REC_CAP);
    return &R.log[(R.n - 1 - k) % REC_CAP];
}

/* ---- engine and events -------------------------------------------------- */

static sim_match *make_engine(int64_t latency, int64_t window, int queue_any) {
    sim_match_instrument ins[2];
    CHECK(sim_match_instrument_defaults("WDOZ26", WDO, &ins[0]) == SIM_MATCH_OK);
    ins[1] = (sim_match_instrument){TICK5, 5, 1.0, 1.0, 0.5};
    sim_match_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.instruments = ins;
    cfg.n_instruments = 2;
    cfg.max_accounts = 2;
    cfg.max_orders = 1024;
    cfg.max_pending = 256;
    cfg.book_capacity = 64;
    cfg.latency_ns = latency;
    cfg.clamp_window_ns = window;
    cfg.queue_any_trade = queue_any;
    cfg.clordid_prefix = "T-";
    cfg.on_update = on_update;
    cfg.user = &R;
    memset(&R, 0, sizeof R);
    R.hash = 1469598103934665603ull;
    sim_match *e = sim_match_create(&cfg);
    CHECK(e);
    R.e = e;
    return e;
}

static int64_t now_t = T0;

static qt_event base_ev(int type, int inst) {
    qt_event e;
    memset(&e, 0, sizeof e);
    e.type = (uint8_t)type;
    e.instrument = (uint16_t)inst;
    e.exch_ns = now_t;
    e.recv_ns = now_t;
    e.price = QT_PRICE_NONE;
    return e;
}

static void feed(sim_match *e, qt_event ev) { CHECK(sim_match_on_event(e, &ev) == SIM_MATCH_OK); }

static void trade(sim_match *e, int inst, int64_t price, int32_t qty, int code) {
    qt_event ev = base_ev(QT_EV_TRADE, inst);
    ev.price = price;
    ev.qty = qty;
    ev.code = (uint8_t)code;
    feed(e, ev);
}

static void level(sim_match *e, int inst, int side, int64_t price, int32_t qty) {
    qt_event ev = base_ev(QT_EV_L2_LEVEL, inst);
    ev.side = (uint8_t)side;
    ev.price = price;
    ev.qty = qty;
    ev.flags = QT_F_LAST;
    feed(e, ev);
}

/* Full book: n_b bids best first, n_a asks best first, as (price, qty). */
static void book(sim_match *e, int inst, const int64_t *bids, int n_b, const int64_t *asks, int n_a) {
    qt_event ev = base_ev(QT_EV_SNAPSHOT_BEGIN, inst);
    ev.side = 2;
    ev.a = -1;
    feed(e, ev);
    for (int i = 0; i < n_b; i++) {
        qt_event l = base_ev(QT_EV_L2_LEVEL, inst);
        l.side = 0;
        l.price = bids[2 * i];
        l.qty = (int32_t)bids[2 * i + 1];
        feed(e, l);
    }
    for (int i = 0; i < n_a; i++) {
        qt_event l = base_ev(QT_EV_L2_LEVEL, inst);
        l.side = 1;
        l.price = asks[2 * i];
        l.qty = (int32_t)asks[2 * i + 1];
        feed(e, l);
    }
    ev = base_ev(QT_EV_SNAPSHOT_END, inst);
    ev.side = 2;
    ev.flags = QT_F_LAST;
    feed(e, ev);
}

static void phase(sim_match *e, int inst, int code) {
    qt_event ev = base_ev(QT_EV_PHASE, inst);
    ev.code = (uint8_t)code;
    feed(e, ev);
}

static void limits(sim_match *e, int inst, int64_t hi, int64_t lo) {
    qt_event ev = base_ev(QT_EV_DAILY_LIMITS, inst);
    ev.price = hi;
    ev.ref = lo;
    feed(e, ev);
}

static sim_match_order order(sim_match *e, int64_t id) {
    sim_match_order o;
    CHECK(sim_match_get_order(e, id, &o) == SIM_MATCH_OK);
    return o;
}

static sim_match_position position(sim_match *e, int inst) {
    sim_match_position p;
    CHECK(sim_match_get_position(e, 0, (uint16_t)inst, &p) == SIM_MATCH_OK);
    return p;
}

static int64_t buy(sim_match *e, int type, int64_t price, int64_t qty) {
    return sim_match_send(e, 0, WDO, type, SIM_MATCH_BUY, price, QT_PRICE_NONE, qty);
}

static int64_t sell(sim_match *e, int type, int64_t price, int64_t qty) {
    return sim_match_send(e, 0, WDO, type, SIM_MATCH_SELL, price, QT_PRICE_NONE, qty);
}

#define SELL_AG 3
#define BUY_AG 2
#define CROSS 1
#define AUCTION 4

static const int64_t BIDS[] = {100, 10, 99, 20, 98, 30};
static const int64_t ASKS[] = {101, 5, 102, 3, 103, 10};

/* ---- 1. market orders ------------------------------------------------------------ */

static void test_market(void) {
    sim_match *e = make_engine(0, -1, 0);
    book(e, WDO, BIDS, 3, ASKS, 3);
    int64_t id = buy(e, SIM_MATCH_MARKET, 0, 7);
    CHECK(id == 1);
    /* pending new, new, fill 5@101, fill 2@102 */
    CHECK(R.n == 4);
    CHECK(last_upd(3)->kind == SIM_MATCH_UPD_PENDING_NEW && last_upd(3)->status == SIM_MATCH_ST_PENDING_NEW);
    CHECK(last_upd(2)->kind == SIM_MATCH_UPD_ACCEPTED && last_upd(2)->status == SIM_MATCH_ST_NEW);
    CHECK(last_upd(1)->status == SIM_MATCH_ST_PARTIALLY_FILLED && last_upd(1)->last_price == 101 &&
          last_upd(1)->last_qty == 5);
    CHECK(last_upd(0)->status == SIM_MATCH_ST_FILLED && last_upd(0)->last_price == 102 &&
          last_upd(0)->last_qty == 2 && last_upd(0)->leaves_qty == 0);
    sim_match_order o = order(e, id);
    CHECK(o.cum_qty == 7 && fabs(o.avg_price - (5 * 50.5 + 2 * 51.0) / 7) < 1e-9);
    CHECK(o.price == QT_PRICE_NONE && o.price_f == -1.0 && o.stop_price_f == -1.0);
    CHECK(strcmp(o.cl_ord_id, "T-1") == 0);
    CHECK(o.last_price_f == 51.0);
    /* what we took stays taken: 1 left at 102, 10 at 103; remainder canceled, partially filled */
    id = buy(e, SIM_MATCH_MARKET, 0, 20);
    o = order(e, id);
    CHECK(o.cum_qty == 11 && o.leaves_qty == 0);
    CHECK(o.status == SIM_MATCH_ST_PARTIALLY_FILLED_CANCELED && o.reason == SIM_MATCH_R_NO_LIQUIDITY);
    CHECK(strcmp(o.reason_text, "no liquidity for the remainder") == 0);
    /* nothing left: canceled with nothing filled */
    id = buy(e, SIM_MATCH_MARKET, 0, 1);
    o = order(e, id);
    CHECK(o.cum_qty == 0 && o.status == SIM_MATCH_ST_CANCELED && o.reason == SIM_MATCH_R_NO_LIQUIDITY);
    /* the feed refreshes 101 to 8: still 5 of it were ours, 3 are free */
    level(e, WDO, 1, 101, 8);
    id = buy(e, SIM_MATCH_MARKET, 0, 5);
    o = order(e, id);
    CHECK(o.cum_qty == 3 && o.status == SIM_MATCH_ST_PARTIALLY_FILLED_CANCELED);
    /* the level drops to 2 (others took it): the take is forgotten beyond what shows */
    level(e, WDO, 1, 101, 2);
    level(e, WDO, 1, 101, 6);
    id = buy(e, SIM_MATCH_MARKET, 0, 10);
    CHECK(order(e, id).cum_qty == 4); /* 6 shown, 2 still ours */
    /* a market sell walks the bids */
    id = sell(e, SIM_MATCH_MARKET, 0, 35);
    o = order(e, id);
    CHECK(o.cum_qty == 35 && o.status == SIM_MATCH_ST_FILLED && fabs(o.avg_price - (10 * 50 + 20 * 49.5 + 5 * 49) / 35.0) < 1e-9);
    CHECK(position(e, WDO).net_qty == 7 + 11 + 3 + 4 - 35);
    CHECK(sim_match_working_count(e) == 0);
    sim_match_destroy(e);
}

/* ---- 2. marketable limit ------------------------------------------------------------ */

static void test_limit_marketable(void) {
    sim_match *e = make_engine(0, -1, 0);
    book(e, WDO, BIDS, 3, ASKS, 3);
    int64_t id = buy(e, SIM_MATCH_LIMIT, 102, 10);
    sim_match_order o = order(e, id);
    CHECK(o.cum_qty == 8 && o.leaves_qty == 2 && o.status == SIM_MATCH_ST_PARTIALLY_FILLED);
    CHECK(o.avg_price == (5 * 50.5 + 3 * 51.0) / 8);
    CHECK(sim_match_working_count(e) == 1);
    /* it rests at 102 with nothing ahead: the next sale there fills it */
    trade(e, WDO, 102, 1, SELL_AG);
    o = order(e, id);
    CHECK(o.cum_qty == 9 && o.last_price == 102);
    trade(e, WDO, 102, 4, SELL_AG);
    o = order(e, id);
    CHECK(o.cum_qty == 10 && o.status == SIM_MATCH_ST_FILLED);
    /* a sell limit below the bid takes bids down to its price only */
    id = sell(e, SIM_MATCH_LIMIT, 99, 40);
    o = order(e, id);
    CHECK(o.cum_qty == 30 && o.leaves_qty == 10 && fabs(o.avg_price - (10 * 50 + 20 * 49.5) / 30) < 1e-9);
    sim_match_destroy(e);
}

/* ---- 3. queue model ------------------------------------------------------------------ */

static void test_queue(void) {
    /* no credit window: a shrink cuts the volume ahead at once */
    sim_match *e = make_engine(0, 0, 0);
    book(e, WDO, BIDS, 3, ASKS, 3);
    int64_t id = buy(e, SIM_MATCH_LIMIT, 100, 3); /* joins behind 10 */
    CHECK(order(e, id).status == SIM_MATCH_ST_NEW);
    trade(e, WDO, 100, 6, SELL_AG); /* 4 ahead */
    CHECK(order(e, id).cum_qty == 0);
    trade(e, WDO, 100, 50, BUY_AG); /* buyers lifting at 100 do not move our queue */
    trade(e, WDO, 100, 50, CROSS);  /* nor does a cross */
    CHECK(order(e, id).cum_qty == 0);
    level(e, WDO, 0, 100, 4); /* the book follows the sale: no cut */
    level(e, WDO, 0, 100, 9); /* orders join behind us */
    trade(e, WDO, 100, 4, SELL_AG);
    CHECK(order(e, id).cum_qty == 0); /* exactly the volume ahead traded */
    trade(e, WDO, 100, 1, SELL_AG);
    CHECK(order(e, id).cum_qty == 1 && order(e, id).last_price == 100);
    /* trade-through fills at our price, no more than the trade's quantity */
    trade(e, WDO, 99, 1, SELL_AG);
    CHECK(order(e, id).cum_qty == 2 && order(e, id).last_price == 100);
    trade(e, WDO, 98, 10, BUY_AG);
    CHECK(order(e, id).cum_qty == 3 && order(e, id).status == SIM_MATCH_ST_FILLED);

    /* cancellations ahead: the level shrinks below the volume ahead */
    level(e, WDO, 0, 100, 10);
    id = buy(e, SIM_MATCH_LIMIT, 100, 2); /* 10 ahead */
    level(e, WDO, 0, 100, 15);            /* 5 behind */
    level(e, WDO, 0, 100, 7);             /* 7 left: at least 3 of those ahead went */
    trade(e, WDO, 100, 7, SELL_AG);
    CHECK(order(e, id).cum_qty == 0);
    trade(e, WDO, 100, 1, SELL_AG);
    CHECK(order(e, id).cum_qty == 1);
    sim_match_destroy(e);

    /* with a credit window: the book shows the sale before the trade */
    e = make_engine(0, 1000 * MS, 0);
    book(e, WDO, BIDS, 3, ASKS, 3);
    id = buy(e, SIM_MATCH_LIMIT, 100, 2); /* 10 ahead */
    level(e, WDO, 0, 100, 6);             /* cut to 6, credit 4 */
    trade(e, WDO, 100, 4, SELL_AG);       /* the same 4: no double count */
    CHECK(order(e, id).cum_qty == 0);
    trade(e, WDO, 100, 7, SELL_AG); /* 6 ahead, 1 for us */
    CHECK(order(e, id).cum_qty == 1);
    /* credit lapses after the window */
    level(e, WDO, 0, 100, 10);
    int64_t id2 = buy(e, SIM_MATCH_LIMIT, 100, 1); /* 10 ahead (+1 of ours) */
    level(e, WDO, 0, 100, 5);                      /* cut to 5, credit 5 */
    now_t += 2000 * MS;
    /* credit gone: the 5 ahead of id2 trade; id (at the front) fills its last 1 */
    trade(e, WDO, 100, 5, SELL_AG);
    CHECK(order(e, id).cum_qty == 2 && order(e, id2).cum_qty == 0);
    trade(e, WDO, 100, 1, SELL_AG); /* with the credit still on, this would not reach id2 */
    CHECK(order(e, id2).cum_qty == 1);
    sim_match_destroy(e);

    /* two of our orders in one queue, and a shared trade */
    e = make_engine(0, 0, 0);
    book(e, WDO, BIDS, 3, ASKS, 3);
    int64_t a = buy(e, SIM_MATCH_LIMIT, 100, 2); /* 10 ahead */
    int64_t b = buy(e, SIM_MATCH_LIMIT, 100, 2); /* 10 ahead + a */
    trade(e, WDO, 100, 11, SELL_AG);
    CHECK(order(e, a).cum_qty == 1 && order(e, b).cum_qty == 0);
    trade(e, WDO, 100, 2, SELL_AG);
    CHECK(order(e, a).cum_qty == 2 && order(e, b).cum_qty == 1);
    /* a trade-through shared by price then time priority, capped by its size */
    int64_t c = buy(e, SIM_MATCH_LIMIT, 99, 5);
    int64_t d = sell(e, SIM_MATCH_LIMIT, 104, 5);
    trade(e, WDO, 98, 3, SELL_AG);
    CHECK(order(e, b).cum_qty == 2 && order(e, c).cum_qty == 2); /* 1 to b (better price), 2 to c */
    trade(e, WDO, 105, 2, BUY_AG);
    CHECK(order(e, d).cum_qty == 2 && order(e, d).last_price == 104);
    sim_match_destroy(e);

    /* queue_any_trade: every trade at our price counts */
    e = make_engine(0, 0, 1);
    book(e, WDO, BIDS, 3, ASKS, 3);
    id = buy(e, SIM_MATCH_LIMIT, 100, 1);
    trade(e, WDO, 100, 11, CROSS);
    CHECK(order(e, id).cum_qty == 1);
    sim_match_destroy(e);
}

/* ---- 4. stop-limit ------------------------------------------------------------------- */

static void test_stop_limit(void) {
    sim_match *e = make_engine(0, -1, 0);
    book(e, WDO, BIDS, 3, ASKS, 3);
    trade(e, WDO, 100, 1, SELL_AG);
    int64_t id = sim_match_send(e, 0, WDO, SIM_MATCH_STOP_LIMIT, SIM_MATCH_BUY, 104, 102, 4);
    sim_match_order o = order(e, id);
    CHECK(o.status == SIM_MATCH_ST_NEW && !o.triggered && o.stop_price == 102 && o.stop_price_f == 51.0);
    trade(e, WDO, 101, 5, BUY_AG); /* below the stop */
    CHECK(!order(e, id).triggered && order(e, id).cum_qty == 0);
    /* reaching the stop triggers; it takes asks up to 104 (5@101, 3@102, then 103) */
    uint64_t before = R.n;
    trade(e, WDO, 102, 1, BUY_AG);
    o = order(e, id);
    CHECK(o.triggered && o.cum_qty == 4 && o.status == SIM_MATCH_ST_FILLED);
    CHECK(R.log[before % REC_CAP].kind == SIM_MATCH_UPD_TRIGGERED);
    CHECK(o.avg_price == (4 * 50.5) / 4);
    /* sell stop below the market; triggered it rests as a limit */
    id = sim_match_send(e, 0, WDO, SIM_MATCH_STOP_LIMIT, SIM_MATCH_SELL, 97, 98, 2);
    trade(e, WDO, 99, 1, SELL_AG);
    CHECK(!order(e, id).triggered);
    trade(e, WDO, 98, 1, SELL_AG);
    o = order(e, id);
    CHECK(o.triggered && o.cum_qty == 2); /* bids 100, 99, 98 are all >= 97 */
    /* a stop already reached at acceptance triggers at once */
    id = sim_match_send(e, 0, WDO, SIM_MATCH_STOP_LIMIT, SIM_MATCH_SELL, 90, 120, 1);
    CHECK(order(e, id).triggered && order(e, id).cum_qty == 1);
    /* a triggered stop-limit whose limit is not marketable rests and queues */
    book(e, WDO, BIDS, 3, ASKS, 3);
    id = sim_match_send(e, 0, WDO, SIM_MATCH_STOP_LIMIT, SIM_MATCH_BUY, 100, 97, 1); /* last 98 */
    CHECK(order(e, id).triggered && order(e, id).cum_qty == 0 && order(e, id).leaves_qty == 1);
    trade(e, WDO, 100, 10, SELL_AG);
    CHECK(order(e, id).cum_qty == 0);
    trade(e, WDO, 100, 1, SELL_AG);
    CHECK(order(e, id).cum_qty == 1);
    sim_match_destroy(e);
}

/* ---- 5. change and cancel ------------------------------------------------------------ */

static void test_change_cancel(void) {
    sim_match *e = make_engine(0, 0, 0);
    book(e, WDO, BIDS, 3, ASKS, 3);
    int64_t id = buy(e, SIM_MATCH_LIMIT, 100, 5); /* 10 ahead */
    trade(e, WDO, 100, 8, SELL_AG);               /* 2 ahead */
    /* smaller quantity keeps the place */
    CHECK(sim_match_change(e, id, SIM_MATCH_KEEP, SIM_MATCH_KEEP, 4) == SIM_MATCH_OK);
    sim_match_order o = order(e, id);
    CHECK(o.status == SIM_MATCH_ST_REPLACED && o.kind == SIM_MATCH_UPD_REPLACED && o.quantity == 4 && o.leaves_qty == 4);
    CHECK(last_upd(1)->status == SIM_MATCH_ST_PENDING_REPLACE);
    trade(e, WDO, 100, 3, SELL_AG);
    CHECK(order(e, id).cum_qty == 1 && order(e, id).status == SIM_MATCH_ST_PARTIALLY_FILLED);
    /* larger quantity goes to the back: behind the 10 - 8 - 3 -> level now shows 10 */
    level(e, WDO, 0, 100, 10);
    CHECK(sim_match_change(e, id, SIM_MATCH_KEEP, SIM_MATCH_KEEP, 6) == SIM_MATCH_OK);
    CHECK(order(e, id).leaves_qty == 5);
    trade(e, WDO, 100, 10, SELL_AG);
    CHECK(order(e, id).cum_qty == 1);
    trade(e, WDO, 100, 1, SELL_AG);
    CHECK(order(e, id).cum_qty == 2);
    /* a new price that reaches the asks takes them */
    CHECK(sim_match_change(e, id, 101, SIM_MATCH_KEEP, SIM_MATCH_KEEP) == SIM_MATCH_OK);
    o = order(e, id);
    CHECK(o.price == 101 && o.cum_qty == 6 && o.status == SIM_MATCH_ST_FILLED);
    /* refused at once: quantity, tick; after the end: not working */
    CHECK(sim_match_change(e, id, 102, SIM_MATCH_KEEP, SIM_MATCH_KEEP) == SIM_MATCH_E_NOT_WORKING);
    CHECK(sim_match_cancel(e, id) == SIM_MATCH_E_NOT_WORKING);
    CHECK(sim_match_change(e, 999, 102, SIM_MATCH_KEEP, SIM_MATCH_KEEP) == SIM_MATCH_E_NOT_FOUND);
    CHECK(sim_match_cancel(e, 999) == SIM_MATCH_E_NOT_FOUND);
    CHECK(sim_match_cancel(e, 0) == SIM_MATCH_E_NOT_FOUND);
    id = buy(e, SIM_MATCH_LIMIT, 99, 3);
    trade(e, WDO, 99, 21, SELL_AG); /* 20 ahead, 1 for us */
    CHECK(order(e, id).cum_qty == 1);
    CHECK(sim_match_change(e, id, SIM_MATCH_KEEP, SIM_MATCH_KEEP, 1) == SIM_MATCH_REFUSED);
    o = order(e, id);
    CHECK(o.kind == SIM_MATCH_UPD_CHANGE_REJECTED && o.reason == SIM_MATCH_R_QTY &&
          o.status == SIM_MATCH_ST_PARTIALLY_FILLED && o.quantity == 3);
    CHECK(sim_match_change(e, id, SIM_MATCH_KEEP, SIM_MATCH_KEEP, 0) == SIM_MATCH_REFUSED);
    sim_match_destroy(e);

    e = make_engine(0, 0, 0);
    int64_t bids5[] = {1000, 10}, asks5[] = {1010, 10};
    book(e, TICK5, bids5, 1, asks5, 1);
    id = sim_match_send(e, 0, TICK5, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 995, 0, 1);
    CHECK(sim_match_change(e, id, 996, SIM_MATCH_KEEP, SIM_MATCH_KEEP) == SIM_MATCH_REFUSED);
    CHECK(order(e, id).reason == SIM_MATCH_R_TICK && order(e, id).price == 995 &&
          order(e, id).status == SIM_MATCH_ST_NEW);
    /* cancel: pending cancel then canceled; partially filled -> 15 */
    CHECK(sim_match_cancel(e, id) == SIM_MATCH_OK);
    CHECK(last_upd(1)->status == SIM_MATCH_ST_PENDING_CANCEL && last_upd(1)->kind == SIM_MATCH_UPD_PENDING_CANCEL);
    CHECK(order(e, id).status == SIM_MATCH_ST_CANCELED && order(e, id).reason == SIM_MATCH_R_USER);
    id = sim_match_send(e, 0, TICK5, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 1010, 0, 15);
    CHECK(order(e, id).cum_qty == 10);
    CHECK(sim_match_cancel(e, id) == SIM_MATCH_OK);
    CHECK(order(e, id).status == SIM_MATCH_ST_PARTIALLY_FILLED_CANCELED && order(e, id).leaves_qty == 0);
    /* cancel-all: only the account's (and instrument's) working orders */
    int64_t x1 = sim_match_send(e, 0, TICK5, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 990, 0, 1);
    int64_t x2 = sim_match_send(e, 0, WDO, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 90, 0, 1);
    int64_t x3 = sim_match_send(e, 1, TICK5, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 990, 0, 1);
    int64_t x4 = sim_match_send(e, 0, TICK5, SIM_MATCH_STOP_LIMIT, SIM_MATCH_BUY, 1100, 1100, 1);
    CHECK(sim_match_working_count(e) == 4);
    CHECK(sim_match_cancel_all(e, 0, TICK5) == 2);
    CHECK(order(e, x1).status == SIM_MATCH_ST_CANCELED && order(e, x4).status == SIM_MATCH_ST_CANCELED);
    CHECK(order(e, x2).status == SIM_MATCH_ST_NEW && order(e, x3).status == SIM_MATCH_ST_NEW);
    CHECK(sim_match_cancel_all(e, 0, -1) == 1);
    CHECK(sim_match_cancel_all(e, 1, -1) == 1 && sim_match_working_count(e) == 0);
    CHECK(sim_match_cancel_all(e, 5, -1) == SIM_MATCH_E_ACCOUNT);
    CHECK(sim_match_cancel_all(e, 0, 77) == SIM_MATCH_E_INSTRUMENT);
    sim_match_destroy(e);
}

/* ---- 6. rejects, phases -------------------------------------------------------------- */

static void test_rejects(void) {
    sim_match *e = make_engine(0, -1, 0);
    book(e, WDO, BIDS, 3, ASKS, 3);
    int64_t bids5[] = {1000, 10}, asks5[] = {1010, 10};
    book(e, TICK5, bids5, 1, asks5, 1);
    /* argument errors form no order */
    CHECK(sim_match_send(e, 0, WDO, SIM_MATCH_LIMIT, 0, 100, 0, 1) == SIM_MATCH_E_ARGS);
    CHECK(sim_match_send(e, 0, WDO, 3, SIM_MATCH_BUY, 100, 0, 1) == SIM_MATCH_E_ARGS);
    CHECK(sim_match_send(e, 0, 9, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 100, 0, 1) == SIM_MATCH_E_INSTRUMENT);
    CHECK(sim_match_send(e, 2, WDO, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 100, 0, 1) == SIM_MATCH_E_ACCOUNT);
    CHECK(sim_match_send(NULL, 0, WDO, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 100, 0, 1) == SIM_MATCH_E_ARGS);
    CHECK(R.n == 0);
    /* bad quantity, off tick, missing price: rejected at once, no pending new */
    int64_t id = buy(e, SIM_MATCH_LIMIT, 100, 0);
    CHECK(id > 0 && R.n == 1 && order(e, id).status == SIM_MATCH_ST_REJECTED && order(e, id).reason == SIM_MATCH_R_QTY);
    id = sell(e, SIM_MATCH_MARKET, 0, -3);
    CHECK(order(e, id).status == SIM_MATCH_ST_REJECTED && order(e, id).reason == SIM_MATCH_R_QTY);
    id = sim_match_send(e, 0, TICK5, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 1003, 0, 1);
    CHECK(order(e, id).status == SIM_MATCH_ST_REJECTED && order(e, id).reason == SIM_MATCH_R_TICK);
    CHECK(strcmp(order(e, id).reason_text, "price not a multiple of the tick") == 0);
    id = sim_match_send(e, 0, TICK5, SIM_MATCH_STOP_LIMIT, SIM_MATCH_BUY, 1005, 1002, 1);
    CHECK(order(e, id).reason == SIM_MATCH_R_TICK);
    id = buy(e, SIM_MATCH_LIMIT, QT_PRICE_NONE, 1);
    CHECK(order(e, id).reason == SIM_MATCH_R_PRICE);
    id = buy(e, SIM_MATCH_LIMIT, SIM_MATCH_MAX_PRICE + 1, 1);
    CHECK(order(e, id).reason == SIM_MATCH_R_PRICE);
    id = buy(e, SIM_MATCH_LIMIT, 100, SIM_MATCH_MAX_QTY + 1);
    CHECK(order(e, id).reason == SIM_MATCH_R_QTY);
    id = buy(e, SIM_MATCH_LIMIT, 90, SIM_MATCH_MAX_QTY); /* the bound itself is fine */
    CHECK(order(e, id).status == SIM_MATCH_ST_NEW);
    CHECK(sim_match_change(e, id, SIM_MATCH_KEEP, SIM_MATCH_KEEP, SIM_MATCH_MAX_QTY + 1) == SIM_MATCH_REFUSED);
    CHECK(sim_match_change(e, id, -SIM_MATCH_MAX_PRICE - 1, SIM_MATCH_KEEP, SIM_MATCH_KEEP) == SIM_MATCH_REFUSED);
    CHECK(order(e, id).reason == SIM_MATCH_R_PRICE);
    CHECK(sim_match_cancel(e, id) == SIM_MATCH_OK);
    id = sim_match_send(e, 0, TICK5, SIM_MATCH_LIMIT, SIM_MATCH_SELL, 1015, 0, 1); /* on tick: fine */
    CHECK(order(e, id).status == SIM_MATCH_ST_NEW);
    /* daily limits */
    limits(e, WDO, 110, 90);
    id = buy(e, SIM_MATCH_LIMIT, 111, 1);
    CHECK(order(e, id).status == SIM_MATCH_ST_REJECTED && order(e, id).reason == SIM_MATCH_R_LIMITS);
    id = sell(e, SIM_MATCH_LIMIT, 89, 1);
    CHECK(order(e, id).reason == SIM_MATCH_R_LIMITS);
    id = sim_match_send(e, 0, WDO, SIM_MATCH_STOP_LIMIT, SIM_MATCH_BUY, 110, 111, 1);
    CHECK(order(e, id).reason == SIM_MATCH_R_LIMITS);
    id = buy(e, SIM_MATCH_LIMIT, 90, 1); /* the limits themselves are allowed */
    CHECK(order(e, id).status == SIM_MATCH_ST_NEW);
    CHECK(sim_match_change(e, id, 80, SIM_MATCH_KEEP, SIM_MATCH_KEEP) == SIM_MATCH_OK);
    CHECK(order(e, id).kind == SIM_MATCH_UPD_CHANGE_REJECTED && order(e, id).reason == SIM_MATCH_R_LIMITS &&
          order(e, id).price == 90 && order(e, id).status == SIM_MATCH_ST_NEW);
    limits(e, WDO, 0, 0); /* 0 = none (ProfitDLL) */
    id = buy(e, SIM_MATCH_LIMIT, 80, 1);
    CHECK(order(e, id).status == SIM_MATCH_ST_NEW);
    int64_t m1, m2;
    CHECK(sim_match_get_market(e, WDO, NULL, &m1, &m2, NULL) == SIM_MATCH_OK && m1 == QT_PRICE_NONE &&
          m2 == QT_PRICE_NONE);
    /* halt: new orders and changes rejected, cancels accepted, nothing matches */
    int64_t resting = buy(e, SIM_MATCH_LIMIT, 100, 1); /* 10 ahead */
    phase(e, WDO, QT_PHASE_FROZEN);
    id = buy(e, SIM_MATCH_LIMIT, 100, 1);
    CHECK(order(e, id).status == SIM_MATCH_ST_REJECTED && order(e, id).reason == SIM_MATCH_R_HALTED);
    CHECK(sim_match_change(e, resting, 99, SIM_MATCH_KEEP, SIM_MATCH_KEEP) == SIM_MATCH_OK);
    CHECK(order(e, resting).kind == SIM_MATCH_UPD_CHANGE_REJECTED && order(e, resting).reason == SIM_MATCH_R_HALTED);
    trade(e, WDO, 99, 100, SELL_AG); /* no fills in a halt */
    CHECK(order(e, resting).cum_qty == 0);
    phase(e, WDO, 77); /* unknown phase: a halt too */
    id = sell(e, SIM_MATCH_MARKET, 0, 1);
    CHECK(order(e, id).reason == SIM_MATCH_R_HALTED);
    /* auction: limit accepted, market rejected, no matching until open */
    phase(e, WDO, QT_PHASE_AUCTION);
    id = sell(e, SIM_MATCH_MARKET, 0, 1);
    CHECK(order(e, id).status == SIM_MATCH_ST_REJECTED && order(e, id).reason == SIM_MATCH_R_AUCTION);
    int64_t auc = sell(e, SIM_MATCH_LIMIT, 99, 15); /* crosses the bids, but waits */
    CHECK(order(e, auc).status == SIM_MATCH_ST_NEW && order(e, auc).cum_qty == 0);
    trade(e, WDO, 100, 5, BUY_AG); /* a non-auction print in an auction fills nothing */
    CHECK(order(e, auc).cum_qty == 0);
    trade(e, WDO, 100, 3, AUCTION); /* the auction print fills through our 99 offer */
    CHECK(order(e, auc).cum_qty == 3 && order(e, auc).last_price == 99);
    phase(e, WDO, QT_PHASE_OPEN); /* now it meets the bids: 10@100 + 2@99 */
    CHECK(order(e, auc).cum_qty == 15 && order(e, auc).status == SIM_MATCH_ST_FILLED);
    /* close: working orders expire, new ones are rejected */
    CHECK(order(e, resting).status == SIM_MATCH_ST_NEW);
    phase(e, WDO, QT_PHASE_CLOSED);
    CHECK(order(e, resting).status == SIM_MATCH_ST_EXPIRED && order(e, resting).reason == SIM_MATCH_R_EXPIRED);
    id = buy(e, SIM_MATCH_LIMIT, 100, 1);
    CHECK(order(e, id).reason == SIM_MATCH_R_CLOSED);
    /* a new session: TICK5's orders expire; book, limits, phase reset */
    id = sim_match_send(e, 0, TICK5, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 1010, 0, 12);
    CHECK(order(e, id).cum_qty == 10);
    qt_event s = base_ev(QT_EV_SESSION, TICK5);
    s.ref = 20261116;
    feed(e, s);
    CHECK(order(e, id).status == SIM_MATCH_ST_PARTIALLY_FILLED_EXPIRED);
    CHECK(qt_book_size(sim_match_book(e, TICK5), 0) == 0);
    int ph = -1;
    CHECK(sim_match_get_market(e, TICK5, &ph, NULL, NULL, NULL) == SIM_MATCH_OK && ph == QT_PHASE_OPEN);
    CHECK(sim_match_working_count(e) == 0);
    sim_match_destroy(e);
}

/* ---- 7. latency --------------------------------------------------------------------------- */

static void test_latency(void) {
    sim_match *e = make_engine(5 * MS, -1, 0);
    CHECK(sim_match_latency(e) == 5 * MS);
    book(e, WDO, BIDS, 3, ASKS, 3);
    int64_t t_send = now_t;
    int64_t id = buy(e, SIM_MATCH_MARKET, 0, 5);
    CHECK(order(e, id).status == SIM_MATCH_ST_PENDING_NEW && R.n == 1 && order(e, id).sent_ns == t_send);
    CHECK(sim_match_next_due(e) == t_send + 5 * MS);
    now_t += 2 * MS;
    level(e, WDO, 1, 101, 2); /* before the order arrives */
    CHECK(order(e, id).status == SIM_MATCH_ST_PENDING_NEW);
    now_t += 3 * MS;
    level(e, WDO, 1, 101, 0); /* same instant as the arrival: the order goes first */
    sim_match_order o = order(e, id);
    CHECK(o.status == SIM_MATCH_ST_FILLED && o.time_ns == t_send + 5 * MS);
    CHECK(sim_match_next_due(e) == INT64_MAX);
    CHECK(fabs(o.avg_price - (2 * 50.5 + 3 * 51.0) / 5) < 1e-9);
    /* a cancel also travels: a fill can beat it */
    id = buy(e, SIM_MATCH_LIMIT, 100, 2); /* arrives at +5 ms */
    CHECK(sim_match_advance(e, now_t + 5 * MS) == SIM_MATCH_OK);
    CHECK(order(e, id).status == SIM_MATCH_ST_NEW && sim_match_now(e) == now_t + 5 * MS);
    now_t += 5 * MS;
    CHECK(sim_match_cancel(e, id) == SIM_MATCH_OK);
    CHECK(order(e, id).status == SIM_MATCH_ST_PENDING_CANCEL);
    now_t += 1 * MS;
    trade(e, WDO, 99, 10, SELL_AG); /* trade-through before the cancel lands */
    CHECK(order(e, id).status == SIM_MATCH_ST_FILLED);
    now_t += 10 * MS;
    trade(e, WDO, 99, 1, SELL_AG);
    o = order(e, id);
    CHECK(o.status == SIM_MATCH_ST_FILLED && o.kind == SIM_MATCH_UPD_CANCEL_REJECTED &&
          o.reason == SIM_MATCH_R_NOT_WORKING);
    /* events without exchange time do not move the clock */
    int64_t before = sim_match_now(e);
    qt_event ev = base_ev(QT_EV_TRADE, WDO);
    ev.exch_ns = QT_TIME_NONE;
    ev.price = 99;
    ev.qty = 1;
    ev.code = SELL_AG;
    feed(e, ev);
    CHECK(sim_match_now(e) == before);
    /* a lower latency set later lets a cancel overtake its order */
    CHECK(sim_match_set_latency(e, -1) == SIM_MATCH_E_ARGS);
    id = buy(e, SIM_MATCH_LIMIT, 95, 1);
    CHECK(sim_match_set_latency(e, 0) == SIM_MATCH_OK);
    CHECK(sim_match_cancel(e, id) == SIM_MATCH_OK);
    o = order(e, id);
    CHECK(o.kind == SIM_MATCH_UPD_CANCEL_REJECTED && o.reason == SIM_MATCH_R_NOT_WORKING &&
          o.status == SIM_MATCH_ST_PENDING_NEW);
    CHECK(sim_match_advance(e, now_t + 100 * MS) == SIM_MATCH_OK);
    CHECK(order(e, id).status == SIM_MATCH_ST_NEW);
    sim_match_destroy(e);
}

/* ---- 8. fees, positions, zero position -------------------------------------------- */

static void test_positions(void) {
    sim_match *e = make_engine(0, -1, 0);
    int64_t asks[] = {10000, 3, 10008, 10};
    int64_t bids[] = {9996, 10, 9990, 10};
    book(e, WDO, bids, 2, asks, 2);
    buy(e, SIM_MATCH_MARKET, 0, 3); /* 3 @ 10000 (5000.0) */
    sim_match_position p = position(e, WDO);
    CHECK(p.net_qty == 3 && p.avg_price == 5000.0 && p.realized_pnl == 0.0);
    CHECK(fabs(p.fees - 3 * 1.10) < 1e-9 && p.buy_qty == 3 && p.fills == 1);
    sell(e, SIM_MATCH_MARKET, 0, 1); /* 1 @ 9996 (4998.0): -2 points * BRL 10 */
    p = position(e, WDO);
    CHECK(p.net_qty == 2 && p.avg_price == 5000.0 && fabs(p.realized_pnl - (-20.0)) < 1e-9);
    sell(e, SIM_MATCH_MARKET, 0, 15); /* 9 @ 9996, 6 @ 9990: closes 2, opens 13 short */
    p = position(e, WDO);
    CHECK(p.net_qty == -13);
    /* closed 2: 2@9996 -> -2 points each */
    CHECK(fabs(p.realized_pnl - (-20.0 - 40.0)) < 1e-9);
    CHECK(fabs(p.avg_price - (7 * 4998.0 + 6 * 4995.0) / 13) < 1e-9);
    CHECK(fabs(p.fees - 19 * 1.10) < 1e-9 && p.sell_qty == 16);
    /* zero position: cancels working orders, buys 13 at market */
    int64_t w1 = sell(e, SIM_MATCH_LIMIT, 10010, 2);
    int64_t w2 = sim_match_send(e, 0, WDO, SIM_MATCH_STOP_LIMIT, SIM_MATCH_BUY, 10020, 10020, 2);
    int64_t other = sim_match_send(e, 1, WDO, SIM_MATCH_LIMIT, SIM_MATCH_SELL, 10010, 0, 1);
    int64_t z = sim_match_zero_position(e, 0, WDO);
    CHECK(z > 0);
    CHECK(order(e, w1).status == SIM_MATCH_ST_CANCELED && order(e, w2).status == SIM_MATCH_ST_CANCELED);
    CHECK(order(e, other).status == SIM_MATCH_ST_NEW);
    sim_match_order o = order(e, z);
    CHECK(o.order_type == SIM_MATCH_MARKET && o.side == SIM_MATCH_BUY && o.quantity == 13 && o.cum_qty == 10);
    /* only 10 @ 10008 were left on the asks: the rest is canceled; 3 still short */
    p = position(e, WDO);
    CHECK(p.net_qty == -3);
    level(e, WDO, 1, 10010, 5);
    z = sim_match_zero_position(e, 0, WDO);
    p = position(e, WDO);
    CHECK(p.net_qty == 0 && p.avg_price == 0.0);
    /* realized: short 7 @4998 and 6 @4995 bought back 10 @5004 (7 of the 4998 lot at avg) and 3 @5005 */
    double avg_short = (7 * 4998.0 + 6 * 4995.0) / 13;
    double want = -60.0 + (avg_short - 5004.0) * 10 * 10.0 + (avg_short - 5005.0) * 3 * 10.0;
    CHECK(fabs(p.realized_pnl - want) < 1e-6);
    CHECK(sim_match_zero_position(e, 0, WDO) == 0); /* flat: nothing to send */
    CHECK(sim_match_zero_position(e, 0, 55) == SIM_MATCH_E_INSTRUMENT);
    /* WIN defaults */
    sim_match_instrument w;
    CHECK(sim_match_instrument_defaults("winz26", 3, &w) == SIM_MATCH_OK);
    CHECK(w.price_unit == 5.0 && w.point_value == 0.2 && w.fee_per_contract == 0.26 && w.tick_units == 1);
    CHECK(sim_match_instrument_defaults("PETR4", 3, &w) == SIM_MATCH_E_INSTRUMENT);
    CHECK(sim_match_instrument_defaults("WD", 3, &w) == SIM_MATCH_E_INSTRUMENT);
    sim_match_counters c;
    sim_match_get_counters(e, &c);
    CHECK(c.updates == R.n && c.fills > 0 && c.filled_qty == (uint64_t)(R.contracts[0] + R.contracts[1]));
    sim_match_destroy(e);
}

/* ---- misc: configuration, ring of orders, tiny book, bad events ----------------- */

static void test_misc(void) {
    sim_match_instrument ins[2];
    CHECK(sim_match_instrument_defaults("WDO", 1, &ins[0]) == SIM_MATCH_OK);
    ins[1] = ins[0];
    sim_match_config cfg;
    memset(&cfg, 0, sizeof cfg);
    CHECK(sim_match_create(NULL) == NULL);
    CHECK(sim_match_create(&cfg) == NULL); /* no instruments */
    cfg.instruments = ins;
    cfg.n_instruments = 2;
    CHECK(sim_match_create(&cfg) == NULL); /* duplicate id */
    cfg.n_instruments = 1;
    cfg.latency_ns = -1;
    CHECK(sim_match_create(&cfg) == NULL);
    cfg.latency_ns = 0;
    cfg.clordid_prefix = "X1"; /* digits would make ClOrdIDs ambiguous */
    CHECK(sim_match_create(&cfg) == NULL);
    cfg.clordid_prefix = NULL;
    cfg.max_orders = 4;
    sim_match *e = sim_match_create(&cfg); /* no callback: state readable only */
    CHECK(e);
    /* tiny book before any depth */
    qt_event t = base_ev(QT_EV_TINY_BOOK, 1);
    t.side = 1;
    t.price = 105;
    t.qty = 4;
    feed(e, t);
    CHECK(qt_book_best_price(sim_match_book(e, 1), 1) == 105);
    int64_t ids[4];
    for (int i = 0; i < 4; i++) ids[i] = sim_match_send(e, 0, 1, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 90, 0, 1);
    sim_match_order o;
    CHECK(sim_match_get_order(e, ids[0], &o) == SIM_MATCH_OK && strcmp(o.cl_ord_id, "SIM1") == 0);
    CHECK(sim_match_find_order(e, "SIM4", &o) == SIM_MATCH_OK && o.local_id == 4);
    CHECK(sim_match_find_order(e, "SIM04", &o) == SIM_MATCH_E_NOT_FOUND);
    CHECK(sim_match_find_order(e, "XIM4", &o) == SIM_MATCH_E_NOT_FOUND);
    CHECK(sim_match_find_order(e, "SIM5", &o) == SIM_MATCH_E_NOT_FOUND);
    /* the ring is full of working orders */
    CHECK(sim_match_send(e, 0, 1, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 90, 0, 1) == SIM_MATCH_E_FULL);
    CHECK(sim_match_cancel(e, ids[0]) == SIM_MATCH_OK);
    int64_t id5 = sim_match_send(e, 0, 1, SIM_MATCH_LIMIT, SIM_MATCH_BUY, 90, 0, 1);
    CHECK(id5 == 5);
    CHECK(sim_match_get_order(e, ids[0], &o) == SIM_MATCH_E_NOT_FOUND); /* forgotten */
    /* a market buy on the tiny book */
    int64_t m = sim_match_send(e, 0, 1, SIM_MATCH_MARKET, SIM_MATCH_BUY, 0, 0, 10);
    CHECK(m == SIM_MATCH_E_FULL); /* slot of id 2 still working */
    CHECK(sim_match_cancel_all(e, 0, -1) == 4);
    m = sim_match_send(e, 0, 1, SIM_MATCH_MARKET, SIM_MATCH_BUY, 0, 0, 10);
    CHECK(sim_match_get_order(e, m, &o) == SIM_MATCH_OK && o.cum_qty == 4);
    /* once depth arrives, tiny books are ignored */
    qt_event l = base_ev(QT_EV_L2_LEVEL, 1);
    l.side = 0;
    l.price = 100;
    l.qty = 3;
    l.flags = QT_F_LAST;
    feed(e, l);
    t.price = 120;
    feed(e, t);
    CHECK(qt_book_best_price(sim_match_book(e, 1), 1) == 105);
    /* bad and foreign events are counted, not fatal */
    qt_event bad = base_ev(QT_EV_TRADE, 1);
    bad.qty = 5; /* no price */
    feed(e, bad);
    bad.price = 100;
    bad.flags = QT_F_EDIT;
    feed(e, bad);
    bad.flags = 0;
    bad.price = INT64_MAX; /* absurd price */
    feed(e, bad);
    bad = base_ev(QT_EV_L2_LEVEL, 1);
    bad.side = 7;
    bad.price = 100;
    feed(e, bad);
    bad = base_ev(QT_EV_TRADE, 42);
    feed(e, bad);
    bad = base_ev(QT_EV_DAILY_LIMITS, 1);
    bad.price = 90;
    bad.ref = 100; /* max < min */
    feed(e, bad);
    CHECK(sim_match_on_event(e, NULL) == SIM_MATCH_E_ARGS);
    sim_match_counters c;
    sim_match_get_counters(e, &c);
    CHECK(c.events_bad == 3 && c.book_rejected == 1 && c.events_ignored >= 3);
    CHECK(strcmp(sim_match_rc_name(SIM_MATCH_E_FULL), "full") == 0 && sim_match_reason_text(99)[0] == 0);
    sim_match_destroy(e);
    sim_match_destroy(NULL);
}

/* ---- 10. random run --------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static uint64_t random_run(long steps, uint64_t seed, int check) {
    sim_match *e = make_engine((int64_t)(seed % 3) * MS, -1, (int)(seed & 1));
    rng_state = seed * 2654435761u + 1;
    now_t = T0;
    int64_t mid = 1000;
    int64_t ids[64];
    int n_ids = 0;
    for (long step = 0; step < steps; step++) {
        now_t += rnd_in(0, 2) * MS / 2;
        int inst = rnd() % 4 == 0 ? TICK5 : WDO;
        int64_t tick = inst == TICK5 ? 5 : 1;
        int64_t base = (mid / tick) * tick;
        uint64_t r = rnd() % 100;
        if (r < 3) { /* a fresh full book around the mid */
            int64_t b[10], a[10];
            for (int i = 0; i < 5; i++) {
                b[2 * i] = base - (i + 1) * tick;
                b[2 * i + 1] = rnd_in(1, 20);
                a[2 * i] = base + i * tick;
                a[2 * i + 1] = rnd_in(1, 20);
            }
            book(e, inst, b, 5, a, 5);
        } else if (r < 40) { /* a level changes */
            int side = (int)(rnd() & 1);
            int64_t p = side == 0 ? base - rnd_in(1, 5) * tick : base + rnd_in(0, 4) * tick;
            level(e, inst, side, p, (int32_t)rnd_in(0, 25));
        } else if (r < 65) { /* a trade near the mid */
            static const int codes[] = {SELL_AG, BUY_AG, CROSS, AUCTION, 32};
            trade(e, inst, base + rnd_in(-3, 3) * tick, (int32_t)rnd_in(1, 15), codes[rnd() % 5]);
            if (rnd() % 8 == 0) mid += rnd_in(-1, 1) * tick;
        } else if (r < 67) {
            static const int phases[] = {QT_PHASE_OPEN, QT_PHASE_OPEN, QT_PHASE_OPEN, QT_PHASE_AUCTION,
                                         QT_PHASE_FROZEN, QT_PHASE_PRE_CLOSING};
            phase(e, inst, phases[rnd() % 6]);
        } else if (r < 68) {
            limits(e, inst, base + 20 * tick, base - 20 * tick);
        } else if (r < 85) { /* a new order */
            int type = (int)(rnd() % 3);
            type = type == 0 ? SIM_MATCH_MARKET : type == 1 ? SIM_MATCH_LIMIT : SIM_MATCH_STOP_LIMIT;
            int side = rnd() & 1 ? SIM_MATCH_BUY : SIM_MATCH_SELL;
            int64_t price = base + rnd_in(-4, 4) * tick;
            if (rnd() % 50 == 0) price += 1; /* sometimes off tick (TICK5) */
            int64_t stop = base + rnd_in(-4, 4) * tick;
            int64_t qty = rnd() % 40 == 0 ? 0 : rnd_in(1, 8);
            uint32_t account = rnd() % 5 == 0 ? 1u : 0u;
            int64_t id = sim_match_send(e, account, (uint16_t)inst, type, side, price, stop, qty);
            CHECK(id > 0);
            ids[n_ids++ % 64] = id;
        } else if (r < 93 && n_ids > 0) { /* change */
            int64_t id = ids[rnd() % (uint64_t)(n_ids < 64 ? n_ids : 64)];
            sim_match_order o = order(e, id);
            int64_t t5 = o.instrument == TICK5 ? 5 : 1;
            int64_t p = rnd() % 2 ? SIM_MATCH_KEEP : base + rnd_in(-4, 4) * t5;
            int64_t q = rnd() % 2 ? SIM_MATCH_KEEP : rnd_in(1, 10);
            int rc = sim_match_change(e, id, p, SIM_MATCH_KEEP, q);
            CHECK(rc == SIM_MATCH_OK || rc == SIM_MATCH_REFUSED || rc == SIM_MATCH_E_NOT_WORKING);
        } else if (r < 98 && n_ids > 0) { /* cancel */
            int64_t id = ids[rnd() % (uint64_t)(n_ids < 64 ? n_ids : 64)];
            int rc = sim_match_cancel(e, id);
            CHECK(rc == SIM_MATCH_OK || rc == SIM_MATCH_E_NOT_WORKING);
        } else if (r < 99) {
            CHECK(sim_match_zero_position(e, 0, (uint16_t)inst) >= 0);
        } else {
            CHECK(sim_match_cancel_all(e, (uint32_t)(rnd() & 1), -1) >= 0);
        }
        if (check && step % 97 == 0) {
            uint32_t working = 0;
            sim_match_counters c;
            sim_match_get_counters(e, &c);
            for (int64_t id = 1; id <= (int64_t)c.orders; id++) {
                sim_match_order o;
                if (sim_match_get_order(e, id, &o) != SIM_MATCH_OK) continue;
                if (!is_terminal(o.status)) working++;
                CHECK(o.cum_qty == R.fill_qty[id]);
                CHECK(!o.cum_qty || fabs(o.avg_price - (double)R.fill_value[id] / (double)o.cum_qty *
                                                           (o.instrument == WDO ? 0.5 : 1.0)) < 1e-6);
            }
            CHECK(working == sim_match_working_count(e));
        }
    }
    if (check) {
        CHECK(R.violations == 0);
        /* position == sum of fills, fees, and the P&L identity at a mark */
        for (int k = 0; k < 2; k++) {
            int inst = k == 0 ? WDO : TICK5;
            double unit = k == 0 ? 0.5 : 1.0, pv = k == 0 ? 10.0 : 1.0, fee = k == 0 ? 1.10 : 0.5;
            sim_match_position p = position(e, inst);
            CHECK(p.net_qty == R.signed_qty[k]);
            CHECK(p.buy_qty + p.sell_qty == R.contracts[k]);
            CHECK(fabs(p.fees - (double)R.contracts[k] * fee) < 1e-6);
            double mark = 1234.0;
            double lhs = p.realized_pnl + (mark - p.avg_price) * (double)p.net_qty * pv;
            double rhs = ((double)R.cash_units[k] * unit + (double)R.signed_qty[k] * mark) * pv;
            CHECK(fabs(lhs - rhs) < 1e-6 * (1 + fabs(rhs)));
        }
        sim_match_counters c;
        sim_match_get_counters(e, &c);
        CHECK(c.updates == R.n && c.fills > 100 && c.rejected > 0);
        printf("random run: %ld steps, %llu orders, %llu updates, %llu fills (%llu contracts), %llu rejected\n",
               steps, (unsigned long long)c.orders, (unsigned long long)c.updates, (unsigned long long)c.fills,
               (unsigned long long)c.filled_qty, (unsigned long long)c.rejected);
    }
    sim_match_destroy(e);
    return R.hash;
}

int main(int argc, char **argv) {
    long steps = argc > 1 ? atol(argv[1]) : 20000;
    test_market();
    test_limit_marketable();
    test_queue();
    test_stop_limit();
    test_change_cancel();
    test_rejects();
    test_latency();
    test_positions();
    test_misc();
    for (uint64_t seed = 1; seed <= 4; seed++) {
        uint64_t h1 = random_run(steps, seed, 1);
        uint64_t h2 = random_run(steps, seed, 0);
        CHECK(h1 == h2); /* deterministic */
    }
    printf("sim_matching: all tests passed\n");
    return 0;
}
