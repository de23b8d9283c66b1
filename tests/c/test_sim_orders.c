/* The simulator's order side through its exports, in C (CI runs it under
 * ASan+UBSan and under TSan):
 *  1. a hand-written log (price unit 0.25, tick 0.5, so an off-tick price
 *     reaches the matching engine's own tick check), the DLL's thread held
 *     in chosen trade callbacks while the test acts: off tick, outside the
 *     daily limits, limit with a partial fill from the queue, change,
 *     cancel, market, stop-limit, cancel-all, zero position, GetPositionV2
 *     and SimGetPositionStats against the fills;
 *  2. three client threads sending, changing and cancelling orders while a
 *     paced replay runs, with early callbacks at probability 0.5 and the
 *     latency changed live: every order ends final, every order had its
 *     callbacks, the position equals the fills, no early wait timed out. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profitdll_sim.h"
#include "platform/qt_atomic.h"
#include "market/qt_evlog.h"
#include "profitdll/qt_profitdll.h"

#include "qt_check.h"

#define DECL(name) extern __typeof__(*(qt_profitdll_##name##_fn)0) name
DECL(DLLInitializeLogin);
DECL(DLLFinalize);
DECL(SubscribeTicker);
DECL(SetOrderCallback);
DECL(SendOrder);
DECL(SendChangeOrderV2);
DECL(SendCancelOrderV2);
DECL(SendCancelAllOrdersV2);
DECL(SendZeroPositionV2);
DECL(GetOrderDetails);
DECL(GetPositionV2);

#define UNIT 0.25
#define MS 1000000LL
#define T0 1793707200000000000LL /* 2026-11-03 09:00 -03:00 */
#define WDO_FEE 1.10

/* ---------------------------------------------------------------- log */

typedef struct log_writer {
    qt_evlog_writer *w;
    uint64_t seq;
} log_writer;

static void put(log_writer *lw, int type, int flags, int64_t t_ms, int64_t price, int32_t qty, int code, int side,
                int64_t ref) {
    qt_event e;
    memset(&e, 0, sizeof(e));
    e.type = (uint8_t)type;
    e.flags = (uint8_t)flags;
    e.seq = ++lw->seq;
    e.exch_ns = e.recv_ns = T0 + t_ms * MS;
    e.price = price;
    e.qty = qty;
    e.code = (uint8_t)code;
    e.side = (uint8_t)side;
    e.ref = ref;
    e.b = qty > 0 ? 1 : 0;
    CHECK(qt_evlog_append(lw->w, &e, 1) == 0);
}

static void open_log(log_writer *lw, const char *path) {
    qt_evlog_header h;
    memset(&h, 0, sizeof(h));
    h.price_unit = UNIT;
    h.tick_size = 0.5;
    h.qty_scale = 1.0;
    snprintf(h.instrument, sizeof(h.instrument), "WDOFUT");
    snprintf(h.source, sizeof(h.source), "test_sim_orders");
    qt_evlog_error err;
    lw->w = qt_evlog_open_write(path, &h, &err);
    lw->seq = 0;
    CHECK(lw->w);
}

/* session, open, limits 5000.0-6000.0, bids 5499.5 x10 5499.0 x20, asks 5500.5 x10 5501.0 x20 */
static void opening(log_writer *lw) {
    put(lw, QT_EV_SESSION, 0, 0, QT_PRICE_NONE, 0, 0, 0, 20261103);
    put(lw, QT_EV_PHASE, 0, 0, QT_PRICE_NONE, 0, QT_PHASE_OPEN, 0, 0);
    put(lw, QT_EV_DAILY_LIMITS, 0, 0, 24000, 0, 0, 0, 20000);
    put(lw, QT_EV_SNAPSHOT_BEGIN, 0, 0, QT_PRICE_NONE, 0, 0, 2, 0);
    put(lw, QT_EV_L2_LEVEL, 0, 0, 21998, 10, 0, 0, 0);
    put(lw, QT_EV_L2_LEVEL, 0, 0, 21996, 20, 0, 0, 0);
    put(lw, QT_EV_L2_LEVEL, 0, 0, 22002, 10, 0, 1, 0);
    put(lw, QT_EV_L2_LEVEL, 0, 0, 22004, 20, 0, 1, 0);
    put(lw, QT_EV_SNAPSHOT_END, QT_F_LAST, 0, QT_PRICE_NONE, 0, 0, 2, 0);
}

static void write_round_trip(const char *path) {
    log_writer lw;
    open_log(&lw, path);
    opening(&lw);
    put(&lw, QT_EV_TRADE, 0, 10, 22002, 1, QT_PROFITDLL_TT_BUY_AGGRESSION, 0, 1);
    put(&lw, QT_EV_TRADE, 0, 20, 21998, 12, QT_PROFITDLL_TT_SELL_AGGRESSION, 0, 2);
    put(&lw, QT_EV_TRADE, 0, 30, 21998, 1, QT_PROFITDLL_TT_SELL_AGGRESSION, 0, 3);
    CHECK(qt_evlog_close(lw.w) == 0);
}

/* A paced market: a trade every 2 ms, the touch wandering a tick at a time. */
static void write_busy(const char *path, int n_trades) {
    log_writer lw;
    open_log(&lw, path);
    opening(&lw);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int64_t bid = 21998;
    for (int i = 1; i <= n_trades; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int64_t t = 2LL * i;
        if (rng % 8 == 0 && bid > 21900) {
            put(&lw, QT_EV_L2_LEVEL, 0, t, bid, 0, 0, 0, 0); /* the bid goes: the touch moves down */
            bid -= 2;
            put(&lw, QT_EV_L2_LEVEL, 0, t, bid + 4, 15, 0, 1, 0);
            put(&lw, QT_EV_L2_LEVEL, QT_F_LAST, t, bid, 12, 0, 0, 0);
        } else if (rng % 8 == 1 && bid < 22100) {
            put(&lw, QT_EV_L2_LEVEL, 0, t, bid + 4, 0, 0, 1, 0); /* the ask goes: up */
            bid += 2;
            put(&lw, QT_EV_L2_LEVEL, 0, t, bid, 15, 0, 0, 0);
            put(&lw, QT_EV_L2_LEVEL, QT_F_LAST, t, bid + 4, 12, 0, 1, 0);
        }
        int buy = (int)(rng >> 20) & 1;
        put(&lw, QT_EV_TRADE, 0, t, buy ? bid + 4 : bid, 1 + (int32_t)((rng >> 24) % 6),
            buy ? QT_PROFITDLL_TT_BUY_AGGRESSION : QT_PROFITDLL_TT_SELL_AGGRESSION, 0, i);
    }
    CHECK(qt_evlog_close(lw.w) == 0);
}

/* ---------------------------------------------------------------- client */

static uint16_t W_WDO[] = {'W', 'D', 'O', 'F', 'U', 'T', 0};
static uint16_t W_F[] = {'F', 0};
static uint16_t W_KEY[] = {'k', 0};
static uint16_t W_USER[] = {'u', 0};
static uint16_t W_PASS[] = {'p', 0};
static uint16_t W_ACC[] = {'S', 'I', 'M', '0', '0', '0', '1', 0};
static uint16_t W_EMPTY[] = {0};

static atomic_int g_routing_ready;
static void QT_PROFITDLL_CALL on_state(int32_t type, int32_t result) {
    if (type == QT_PROFITDLL_CONN_ROUTING && result == QT_PROFITDLL_ROUTING_BROKER_CONNECTED) atomic_store(&g_routing_ready, 1);
}

/* held trades: the connector thread waits in the callback of trade g_hold[k] */
static int g_hold[8];
static atomic_int g_held, g_release;
static void QT_PROFITDLL_CALL on_trade(TAssetID a, qt_profitdll_str date, uint32_t number, double price, double volume,
                                  int32_t qty, int32_t buy, int32_t sell, int32_t type, qt_profitdll_wchar edit) {
    (void)a, (void)date, (void)price, (void)volume, (void)qty, (void)buy, (void)sell, (void)type, (void)edit;
    for (int k = 0; k < 8 && g_hold[k]; k++) {
        if (g_hold[k] != (int)number) continue;
        atomic_store(&g_held, (int)number);
        while (!atomic_exchange(&g_release, 0)) qt_sleep_ns(100000);
        atomic_store(&g_held, 0);
    }
}

static void held_at(int number) {
    for (int k = 0; k < 10000 && atomic_load(&g_held) != number; k++) qt_sleep_ns(1000000);
    CHECK(atomic_load(&g_held) == number);
}

static void release(void) {
    atomic_store(&g_release, 1);
    for (int k = 0; k < 10000 && atomic_load(&g_held); k++) qt_sleep_ns(100000);
}

/* order callbacks: per local id, how many and the last status read */
#define MAX_IDS 4096
static atomic_int g_cb_count[MAX_IDS];
static atomic_int g_cb_status[MAX_IDS];
static atomic_int g_cb_errors;
static void QT_PROFITDLL_CALL on_order(TConnectorOrderIdentifier id) {
    TConnectorOrderOut o;
    memset(&o, 0, sizeof(o));
    o.Version = 1;
    o.OrderID = id;
    if (GetOrderDetails(&o) != NL_OK || id.LocalOrderID <= 0 || id.LocalOrderID >= MAX_IDS || !id.ClOrderID ||
        id.ClOrderID[0] != 'S') {
        atomic_fetch_add(&g_cb_errors, 1);
        return;
    }
    atomic_store(&g_cb_status[id.LocalOrderID], o.OrderStatus);
    atomic_fetch_add(&g_cb_count[id.LocalOrderID], 1);
}

static TConnectorAccountIdentifier account(void) {
    TConnectorAccountIdentifier a;
    memset(&a, 0, sizeof(a));
    a.BrokerID = 1;
    a.AccountID = W_ACC;
    a.SubAccountID = W_EMPTY;
    return a;
}

static int64_t send(int type, int side, double price, double stop, int64_t qty) {
    TConnectorSendOrder o;
    memset(&o, 0, sizeof(o));
    o.Version = 1;
    o.AccountID = account();
    o.AssetID.Ticker = W_WDO;
    o.AssetID.Exchange = W_F;
    o.Password = W_PASS;
    o.OrderType = (uint8_t)type;
    o.OrderSide = (uint8_t)side;
    o.Price = price;
    o.StopPrice = stop;
    o.Quantity = qty;
    return SendOrder(&o);
}

static int change(int64_t id, double price, int64_t qty) {
    TConnectorChangeOrder c;
    memset(&c, 0, sizeof(c));
    c.AccountID = account();
    c.OrderID.LocalOrderID = id;
    c.Password = W_PASS;
    c.Price = price;
    c.StopPrice = -1;
    c.Quantity = qty;
    return SendChangeOrderV2(&c);
}

static int cancel(int64_t id) {
    TConnectorCancelOrder c;
    memset(&c, 0, sizeof(c));
    c.AccountID = account();
    c.OrderID.LocalOrderID = id;
    c.Password = W_PASS;
    return SendCancelOrderV2(&c);
}

typedef struct details {
    int status, side, type;
    int64_t qty, traded, leaves;
    double price, avg;
    char text[128];
} details;

static details get(int64_t id) {
    TConnectorOrderOut o;
    memset(&o, 0, sizeof(o));
    o.Version = 1;
    o.OrderID.LocalOrderID = id;
    CHECK(GetOrderDetails(&o) == NL_OK);
    uint16_t ticker[16], exch[8], text[128];
    CHECK(o.AssetID.TickerLength < 16 && o.TextMessageLength < 128);
    o.AssetID.Ticker = ticker;
    o.AssetID.Exchange = exch;
    o.TextMessage = text;
    CHECK(GetOrderDetails(&o) == NL_OK);
    details d;
    memset(&d, 0, sizeof(d));
    d.status = o.OrderStatus;
    d.side = o.OrderSide;
    d.type = o.OrderType;
    d.qty = o.Quantity;
    d.traded = o.TradedQuantity;
    d.leaves = o.LeavesQuantity;
    d.price = o.Price;
    d.avg = o.AveragePrice;
    for (int i = 0; i < 127 && text[i]; i++) d.text[i] = (char)text[i];
    return d;
}

static int position(uint8_t type, TConnectorTradingAccountPosition *p) {
    memset(p, 0, sizeof(*p));
    p->Version = 2;
    p->AccountID = account();
    p->AssetID.Ticker = W_WDO;
    p->AssetID.Exchange = W_F;
    p->PositionType = type;
    return GetPositionV2(p);
}

static void login(const char *path) {
    atomic_store(&g_routing_ready, 0);
    CHECK(SimSetReplayLog(path) == NL_OK);
    CHECK(SimSetAutoStart(0) == NL_OK);
    CHECK(DLLInitializeLogin(W_KEY, W_USER, W_PASS, on_state, NULL, NULL, NULL, on_trade, NULL, NULL, NULL, NULL,
                             NULL, NULL) == NL_OK);
    CHECK(SetOrderCallback(on_order) == NL_OK);
    for (int k = 0; k < 5000 && !atomic_load(&g_routing_ready); k++) qt_sleep_ns(1000000);
    CHECK(atomic_load(&g_routing_ready));
    CHECK(SubscribeTicker(W_WDO, W_F) == NL_OK);
}

/* ---------------------------------------------------------------- 1. round trip */

static void test_round_trip(const char *path) {
    write_round_trip(path);
    CHECK(SimSetSpeed(0) == NL_OK);
    CHECK(SimSetOrderLatencyUs(0) == NL_OK);
    CHECK(SimSetEarlyOrderCallback(0) == NL_OK);
    g_hold[0] = 1;
    g_hold[1] = 2;
    login(path);
    CHECK(SimStartReplay() == NL_OK);

    held_at(1);
    int64_t off = send(QT_PROFITDLL_OT_LIMIT, QT_PROFITDLL_OS_BUY, 5499.75, -1, 1); /* whole units, not a whole tick */
    details d = get(off);
    CHECK(d.status == QT_PROFITDLL_ST_REJECTED && strcmp(d.text, "price not a multiple of the tick") == 0);
    int64_t high = send(QT_PROFITDLL_OT_LIMIT, QT_PROFITDLL_OS_BUY, 7000.0, -1, 1);
    d = get(high);
    CHECK(d.status == QT_PROFITDLL_ST_REJECTED && strcmp(d.text, "price outside the day's limits") == 0);
    int64_t a = send(QT_PROFITDLL_OT_LIMIT, QT_PROFITDLL_OS_BUY, 5499.5, -1, 5); /* behind 10 */
    CHECK(get(a).status == QT_PROFITDLL_ST_NEW);
    int64_t m = send(QT_PROFITDLL_OT_MARKET, QT_PROFITDLL_OS_BUY, -1, -1, 3);
    d = get(m);
    CHECK(d.status == QT_PROFITDLL_ST_FILLED && d.traded == 3 && d.avg == 5500.5 && d.text[0] == 0);
    int64_t stop = send(QT_PROFITDLL_OT_STOP_LIMIT, QT_PROFITDLL_OS_SELL, 5498.0, 5499.0, 1);
    CHECK(get(stop).status == QT_PROFITDLL_ST_NEW);
    release();

    held_at(2); /* 12 sold at 5499.5: 10 ahead, 2 of ours */
    d = get(a);
    CHECK(d.status == QT_PROFITDLL_ST_PARTIALLY_FILLED && d.traded == 2 && d.leaves == 3);
    CHECK(change(a, 5499.0, 4) == NL_OK);
    d = get(a);
    CHECK(d.status == QT_PROFITDLL_ST_REPLACED && d.qty == 4 && d.leaves == 2 && d.price == 5499.0);
    CHECK(change(a, 5499.25, 4) == NL_OK); /* off tick: refused, the order stays */
    d = get(a);
    CHECK(d.status == QT_PROFITDLL_ST_PARTIALLY_FILLED && d.price == 5499.0 &&
          strcmp(d.text, "price not a multiple of the tick") == 0);
    CHECK(cancel(a) == NL_OK);
    CHECK(get(a).status == QT_PROFITDLL_ST_PARTIALLY_FILLED_CANCELED);
    CHECK(get(stop).status == QT_PROFITDLL_ST_NEW); /* last 5499.5: not triggered */
    TConnectorCancelAllOrders ca;
    memset(&ca, 0, sizeof(ca));
    ca.AccountID = account();
    ca.Password = W_PASS;
    CHECK(SendCancelAllOrdersV2(&ca) == NL_OK);
    CHECK(get(stop).status == QT_PROFITDLL_ST_CANCELED);
    TConnectorTradingAccountPosition p;
    CHECK(position(QT_PROFITDLL_POS_CONSOLIDATED, &p) == NL_OK);
    CHECK(p.OpenQuantity == 5 && p.OpenSide == QT_PROFITDLL_OS_BUY && p.DailyBuyQuantity == 5 && p.EventID > 0);
    CHECK(fabs(p.OpenAveragePrice - (3 * 5500.5 + 2 * 5499.5) / 5) < 1e-9);
    TConnectorZeroPosition z;
    memset(&z, 0, sizeof(z));
    z.Version = 1;
    z.AccountID = account();
    z.AssetID.Ticker = W_WDO;
    z.AssetID.Exchange = W_F;
    z.Password = W_PASS;
    z.Price = -1;
    z.PositionType = QT_PROFITDLL_POS_DAY_TRADE;
    int64_t zid = SendZeroPositionV2(&z);
    CHECK(zid > stop);
    d = get(zid);
    CHECK(d.status == QT_PROFITDLL_ST_FILLED && d.side == QT_PROFITDLL_OS_SELL && d.type == QT_PROFITDLL_OT_MARKET &&
          d.traded == 5 && d.avg == 5499.5);
    CHECK(SendZeroPositionV2(&z) == NL_NO_POSITION);
    for (uint8_t type = 1; type <= 2; type++) {
        CHECK(position(type, &p) == NL_OK);
        CHECK(p.OpenQuantity == 0 && p.OpenSide == 0 && p.DailyBuyQuantity == 5 && p.DailySellQuantity == 5 &&
              p.DailyQuantity == 0);
        CHECK(fabs(p.DailyAverageSellPrice - 5499.5) < 1e-9);
    }
    SimPositionStats st;
    CHECK(SimGetPositionStats(&st, (int)sizeof(st)) == NL_OK);
    CHECK(st.net_qty == 0 && st.fills == 3 && fabs(st.fees - 10 * WDO_FEE) < 1e-9);
    CHECK(fabs(st.realized_pnl - (5 * 5499.5 - (3 * 5500.5 + 2 * 5499.5)) * 10.0) < 1e-6);
    double fees = 0;
    CHECK(SimGetOrderFees(m, &fees) == NL_OK && fabs(fees - 3 * WDO_FEE) < 1e-9);
    CHECK(SimGetOrderFees(999, &fees) == NL_NOT_FOUND);
    release();
    CHECK(SimWaitReplayDone(10000) == NL_OK);
    for (int k = 0; k < 2000 && atomic_load(&g_cb_status[zid]) != QT_PROFITDLL_ST_FILLED; k++) qt_sleep_ns(1000000);
    for (int64_t id = off; id <= zid; id++) CHECK(atomic_load(&g_cb_count[id]) >= 1);
    CHECK(atomic_load(&g_cb_status[zid]) == QT_PROFITDLL_ST_FILLED && atomic_load(&g_cb_errors) == 0);
    memset(g_hold, 0, sizeof(g_hold));
    CHECK(DLLFinalize() == NL_OK);
}

/* ---------------------------------------------------------------- 2. threads */

#define THREADS 3
#define PER_THREAD 120

typedef struct worker {
    qt_thread t;
    uint64_t rng;
    int64_t ids[PER_THREAD];
    int index, n, failures;
} worker;

static atomic_int g_go;

static uint64_t next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void work(void *arg) {
    worker *w = (worker *)arg;
    while (!atomic_load(&g_go)) qt_sleep_ns(100000);
    for (int i = 0; i < PER_THREAD; i++) {
        uint64_t r = next(&w->rng);
        int side = (r & 1) ? QT_PROFITDLL_OS_BUY : QT_PROFITDLL_OS_SELL;
        double px = 5495.0 + 0.5 * (double)((r >> 8) % 21); /* 5495.0 .. 5505.0 */
        int64_t id = (r >> 16) % 10 == 0 ? send(QT_PROFITDLL_OT_MARKET, side, -1, -1, 1)
                                         : send(QT_PROFITDLL_OT_LIMIT, side, px, -1, 1 + (int64_t)((r >> 20) % 3));
        if (id <= 0 || id >= MAX_IDS) {
            w->failures++;
            continue;
        }
        w->ids[w->n++] = id;
        if (w->n >= 2 && (r >> 28) % 4 == 0 && cancel(w->ids[w->n - 2]) != NL_OK) w->failures++;
        if ((r >> 30) % 5 == 0 && change(id, px, 4) != NL_OK) w->failures++;
        if (i == PER_THREAD / 2 && w->index == 0) SimSetOrderLatencyUs((int)((r >> 32) % 3000)); /* live */
        qt_sleep_ns((int64_t)((r >> 40) % 1500) * 1000);
    }
}

static void test_threads(const char *path) {
    write_busy(path, 400);
    memset(g_cb_count, 0, sizeof(g_cb_count));
    memset(g_cb_status, 0, sizeof(g_cb_status));
    CHECK(SimSetSpeed(1.0) == NL_OK); /* 400 trades 2 ms apart: 0.8 s of paced market */
    CHECK(SimSetOrderLatencyUs(1000) == NL_OK);
    CHECK(SimSetEarlyOrderCallback(0.5) == NL_OK);
    CHECK(SimSetSeed(7) == NL_OK);
    login(path);
    worker w[THREADS];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < THREADS; i++) {
        w[i].rng = 0x1234567ull * (uint64_t)(i + 1);
        w[i].index = i;
        CHECK(qt_thread_start(&w[i].t, work, &w[i]) == 0);
    }
    CHECK(SimStartReplay() == NL_OK);
    atomic_store(&g_go, 1);
    for (int i = 0; i < THREADS; i++) qt_thread_join(&w[i].t);
    CHECK(SimWaitReplayDone(30000) == NL_OK);

    /* after the replay the market is closed: every order is final */
    int total = 0;
    int64_t bought = 0, sold = 0;
    double buy_value = 0, sell_value = 0;
    for (int i = 0; i < THREADS; i++) {
        CHECK(w[i].failures == 0);
        for (int k = 0; k < w[i].n; k++) {
            details d = get(w[i].ids[k]);
            CHECK(d.status == QT_PROFITDLL_ST_FILLED || d.status == QT_PROFITDLL_ST_CANCELED || d.status == QT_PROFITDLL_ST_REJECTED ||
                  d.status == QT_PROFITDLL_ST_EXPIRED || d.status == QT_PROFITDLL_ST_PARTIALLY_FILLED_CANCELED ||
                  d.status == QT_PROFITDLL_ST_PARTIALLY_FILLED_EXPIRED);
            CHECK(d.traded + d.leaves <= d.qty && d.leaves == 0);
            if (d.side == QT_PROFITDLL_OS_BUY) {
                bought += d.traded;
                buy_value += (double)d.traded * d.avg;
            } else {
                sold += d.traded;
                sell_value += (double)d.traded * d.avg;
            }
            total++;
        }
    }
    CHECK(total == THREADS * PER_THREAD);
    CHECK(bought > 0 && sold > 0);
    /* every order's callbacks fired, the last one reading the final status */
    int64_t max_id = 0;
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < w[i].n; k++) max_id = w[i].ids[k] > max_id ? w[i].ids[k] : max_id;
    for (int k = 0; k < 5000; k++) {
        int pending = 0;
        for (int i = 0; i < THREADS && !pending; i++)
            for (int j = 0; j < w[i].n && !pending; j++)
                pending = atomic_load(&g_cb_status[w[i].ids[j]]) != get(w[i].ids[j]).status;
        if (!pending) break;
        qt_sleep_ns(1000000);
    }
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < w[i].n; k++) {
            int64_t id = w[i].ids[k];
            CHECK(atomic_load(&g_cb_count[id]) >= 1 && atomic_load(&g_cb_status[id]) == get(id).status);
        }
    CHECK(atomic_load(&g_cb_errors) == 0);
    TConnectorTradingAccountPosition p;
    CHECK(position(QT_PROFITDLL_POS_CONSOLIDATED, &p) == NL_OK);
    CHECK(p.DailyBuyQuantity == bought && p.DailySellQuantity == sold && p.DailyQuantity == bought - sold);
    CHECK(p.OpenQuantity == (bought > sold ? bought - sold : sold - bought));
    CHECK(fabs(p.DailyAverageBuyPrice - buy_value / (double)bought) < 1e-6);
    CHECK(fabs(p.DailyAverageSellPrice - sell_value / (double)sold) < 1e-6);
    SimCounters c;
    CHECK(SimGetCounters(&c, (int)sizeof(c)) == NL_OK);
    CHECK(c.early_order_callbacks > 0 && c.early_callback_timeouts == 0);
    CHECK(c.forbidden_calls == 0);
    printf("threads: %d orders (max id %lld), %lld bought, %lld sold, %llu early callbacks\n", total,
           (long long)max_id, (long long)bought, (long long)sold, (unsigned long long)c.early_order_callbacks);
    CHECK(DLLFinalize() == NL_OK);
    CHECK(SimSetEarlyOrderCallback(0) == NL_OK);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "test_sim_orders.tmp.qtlog";
    test_round_trip(path);
    test_threads(path);
    remove(path);
    printf("sim_orders: round trip and threads ok\n");
    return 0;
}
