/* The simulator's broker state file (SimSetStateFile), in C (CI runs it
 * under the sanitizers and, cross-built, under wine):
 *  1. a paced session (speed 1: the market clock runs with the wall clock
 *     between records) takes orders, changes and cancels from the test
 *     while it replays; a second login on its state file rebuilds, before
 *     any callback and without subscribing, exactly the orders (statuses,
 *     quantities, prices, fills, LastUpdate, EventID, text), their
 *     ClOrdIDs (GetOrderDetails by ClOrdID with LocalOrderID -1), the
 *     positions and the stats the first session ended with, including the
 *     random rejections of SimRejectOrders (seeded) and a halt injected
 *     with SimInjectPhase;
 *  2. a torn last line is ignored and cut off; a torn header (killed while
 *     the file was created) starts a new file;
 *  3. a file of another configuration, a damaged line before the end and a
 *     file that is not a state file refuse the login (NL_INVALID_ARGS, a
 *     SimGetLastError text) and are left as they were. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/qt_evlog.h"
#include "platform/qt_atomic.h"
#include "profitdll/qt_profitdll.h"
#include "profitdll_sim.h"

#include "qt_check.h"

#define DECL(name) extern __typeof__(*(qt_profitdll_##name##_fn)0) name
DECL(DLLInitializeLogin);
DECL(DLLFinalize);
DECL(SubscribeTicker);
DECL(SetOrderCallback);
DECL(SendOrder);
DECL(SendChangeOrderV2);
DECL(SendCancelOrderV2);
DECL(GetOrderDetails);
DECL(GetPositionV2);

#define MS 1000000LL
#define T0 1793707200000000000LL /* 2026-11-03 09:00 -03:00 */
#define N_TRADES 400
#define MAX_ORDERS 256

static void put(qt_evlog_writer *w, uint64_t *seq, int type, int flags, int64_t t_ms, int64_t price, int32_t qty,
                int code, int side, int64_t ref) {
    qt_event e;
    memset(&e, 0, sizeof(e));
    e.type = (uint8_t)type;
    e.flags = (uint8_t)flags;
    e.seq = ++*seq;
    e.exch_ns = e.recv_ns = T0 + t_ms * MS;
    e.price = price;
    e.qty = qty;
    e.code = (uint8_t)code;
    e.side = (uint8_t)side;
    e.ref = ref;
    e.b = qty > 0 ? 1 : 0;
    CHECK(qt_evlog_append(w, &e, 1) == 0);
}

/* WDO, unit = tick = 0.5: touch 10999 / 11001, a trade every 2 ms at the
 * touch (several records per timestamp), trade-throughs now and then. */
static void write_log(const char *path) {
    qt_evlog_header h;
    memset(&h, 0, sizeof(h));
    h.price_unit = 0.5;
    h.tick_size = 0.5;
    h.qty_scale = 1.0;
    snprintf(h.instrument, sizeof(h.instrument), "WDOFUT");
    snprintf(h.source, sizeof(h.source), "test_sim_state_file");
    qt_evlog_error err;
    qt_evlog_writer *w = qt_evlog_open_write(path, &h, &err);
    CHECK(w);
    uint64_t seq = 0;
    put(w, &seq, QT_EV_SESSION, 0, 0, QT_PRICE_NONE, 0, 0, 0, 20261103);
    put(w, &seq, QT_EV_PHASE, 0, 0, QT_PRICE_NONE, 0, QT_PHASE_OPEN, 0, 0);
    put(w, &seq, QT_EV_DAILY_LIMITS, 0, 0, 12000, 0, 0, 0, 10000);
    put(w, &seq, QT_EV_SNAPSHOT_BEGIN, 0, 0, QT_PRICE_NONE, 0, 0, 2, 0);
    for (int i = 0; i < 5; i++) put(w, &seq, QT_EV_L2_LEVEL, 0, 0, 10999 - i, 30, 0, 0, 0);
    for (int i = 0; i < 5; i++) put(w, &seq, QT_EV_L2_LEVEL, 0, 0, 11001 + i, 30, 0, 1, 0);
    put(w, &seq, QT_EV_SNAPSHOT_END, QT_F_LAST, 0, QT_PRICE_NONE, 0, 0, 2, 0);
    for (int n = 1; n <= N_TRADES; n++) {
        int64_t t = 2LL * n, price = n % 2 ? 10999 : 11001;
        int code = n % 2 ? QT_PROFITDLL_TT_SELL_AGGRESSION : QT_PROFITDLL_TT_BUY_AGGRESSION;
        if (n % 25 == 0) price = n % 50 ? 11005 : 10995;
        put(w, &seq, QT_EV_TRADE, 0, t, price, 3, code, 0, n);
        put(w, &seq, QT_EV_L2_LEVEL, QT_F_LAST, t, n % 2 ? 10999 : 11001, 30, 0, n % 2 ? 0 : 1, 0);
    }
    CHECK(qt_evlog_close(w) == 0);
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
    if (type == QT_PROFITDLL_CONN_ROUTING && result == QT_PROFITDLL_ROUTING_BROKER_CONNECTED)
        atomic_store(&g_routing_ready, 1);
}

/* the ClOrdID of each order, from its callbacks */
static uint16_t g_cl[MAX_ORDERS][64];
static atomic_int g_callbacks;
static void QT_PROFITDLL_CALL on_order(TConnectorOrderIdentifier id) {
    atomic_fetch_add(&g_callbacks, 1);
    if (id.LocalOrderID <= 0 || id.LocalOrderID >= MAX_ORDERS || !id.ClOrderID) return;
    for (int i = 0; i < 63 && id.ClOrderID[i]; i++) g_cl[id.LocalOrderID][i] = id.ClOrderID[i];
}

static TConnectorAccountIdentifier account(void) {
    TConnectorAccountIdentifier a;
    memset(&a, 0, sizeof(a));
    a.BrokerID = 1;
    a.AccountID = W_ACC;
    a.SubAccountID = W_EMPTY;
    return a;
}

static int64_t send(int type, int side, double price, int64_t qty) {
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
    o.StopPrice = -1;
    o.Quantity = qty;
    return SendOrder(&o);
}

static int login(int subscribe) {
    atomic_store(&g_routing_ready, 0);
    int rc = DLLInitializeLogin(W_KEY, W_USER, W_PASS, on_state, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                NULL, NULL);
    if (rc != NL_OK) return rc;
    CHECK(SetOrderCallback(on_order) == NL_OK);
    for (int k = 0; k < 5000 && !atomic_load(&g_routing_ready); k++) qt_sleep_ns(1000000);
    CHECK(atomic_load(&g_routing_ready));
    if (subscribe) CHECK(SubscribeTicker(W_WDO, W_F) == NL_OK);
    return NL_OK;
}

/* Everything a reconciling client reads about the account. */
typedef struct order_state {
    TConnectorOrderOut o; /* strings pointed into text */
    uint16_t ticker[16], exch[8], text[128];
} order_state;

typedef struct account_state {
    int n;
    order_state orders[MAX_ORDERS];
    TConnectorTradingAccountPosition day, cons;
    SimPositionStats stats;
} account_state;

static int read_order(int64_t local_id, const uint16_t *cl, order_state *s) {
    memset(s, 0, sizeof(*s));
    s->o.Version = 1;
    s->o.OrderID.LocalOrderID = local_id;
    s->o.OrderID.ClOrderID = (uint16_t *)cl;
    int rc = GetOrderDetails(&s->o);
    if (rc != NL_OK) return rc;
    CHECK(s->o.AssetID.TickerLength < 16 && s->o.TextMessageLength < 128);
    s->o.AssetID.Ticker = s->ticker;
    s->o.AssetID.Exchange = s->exch;
    s->o.TextMessage = s->text;
    CHECK(GetOrderDetails(&s->o) == NL_OK);
    s->o.AssetID.Ticker = s->o.AssetID.Exchange = s->o.TextMessage = NULL; /* comparable with memcmp */
    s->o.OrderID.ClOrderID = NULL;
    return NL_OK;
}

static void read_position(uint8_t type, TConnectorTradingAccountPosition *p) {
    memset(p, 0, sizeof(*p));
    p->Version = 2;
    p->AccountID = account();
    p->AssetID.Ticker = W_WDO;
    p->AssetID.Exchange = W_F;
    p->PositionType = type;
    CHECK(GetPositionV2(p) == NL_OK);
    p->AccountID.AccountID = p->AccountID.SubAccountID = NULL;
    p->AssetID.Ticker = p->AssetID.Exchange = NULL;
}

static void read_account(account_state *a) {
    memset(a, 0, sizeof(*a));
    while (a->n + 1 < MAX_ORDERS && read_order(a->n + 1, NULL, &a->orders[a->n]) == NL_OK) a->n++;
    read_position(QT_PROFITDLL_POS_DAY_TRADE, &a->day);
    read_position(QT_PROFITDLL_POS_CONSOLIDATED, &a->cons);
    CHECK(SimGetPositionStats(&a->stats, (int)sizeof(a->stats)) == NL_OK);
}

static SimCounters counters(void) {
    SimCounters c;
    CHECK(SimGetCounters(&c, (int)sizeof(c)) == NL_OK);
    return c;
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

static char *read_file(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    CHECK(f);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    *len = ftell(f);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    char *b = (char *)malloc((size_t)*len + 1);
    CHECK(b && fread(b, 1, (size_t)*len, f) == (size_t)*len);
    b[*len] = 0;
    fclose(f);
    return b;
}

static void write_file(const char *path, const char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, n, f) == n);
    fclose(f);
}

static void refused(const char *state, const char *why) {
    long before_len, after_len;
    char *before = read_file(state, &before_len);
    CHECK(SimSetStateFile(state) == NL_OK);
    CHECK(login(0) == NL_INVALID_ARGS);
    char err[512];
    CHECK(SimGetLastError(err, sizeof(err)) == NL_OK);
    if (!contains(err, why)) fprintf(stderr, "unexpected error text: %s\n", err);
    CHECK(contains(err, why));
    char *after = read_file(state, &after_len);
    CHECK(before_len == after_len && memcmp(before, after, (size_t)before_len) == 0); /* left as it was */
    free(before);
    free(after);
}

int main(int argc, char **argv) {
    const char *log = argc > 1 ? argv[1] : "test_sim_state_file.tmp.qtlog";
    char state[1024];
    snprintf(state, sizeof(state), "%s.state", log);
    remove(state);
    write_log(log);
    CHECK(SimSetReplayLog(log) == NL_OK);
    CHECK(SimSetAutoStart(0) == NL_OK);
    CHECK(SimSetOrderLatencyUs(3000) == NL_OK);
    CHECK(SimSetSeed(99) == NL_OK);
    CHECK(SimRejectOrders(1, 0.25, "risk desk says no") == NL_OK); /* seeded draws: restored alike */
    CHECK(SimSetStateFile(state) == NL_OK);

    /* 1. a paced session taking orders while it replays */
    CHECK(SimSetSpeed(1.0) == NL_OK);
    CHECK(login(1) == NL_OK);
    CHECK(SimStartReplay() == NL_OK);
    uint64_t rng = 0x2545F4914F6CDD1Dull;
    int64_t sent[MAX_ORDERS];
    int n_sent = 0;
    while (SimWaitReplayDone(0) != NL_OK && n_sent < 60) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int r = (int)(rng % 10), side = (int)(rng >> 8) % 2 ? QT_PROFITDLL_OS_BUY : QT_PROFITDLL_OS_SELL;
        if (r < 3) {
            sent[n_sent++] = send(QT_PROFITDLL_OT_MARKET, side, -1, 1);
        } else if (r < 8) {
            double px = side == QT_PROFITDLL_OS_BUY ? 5499.5 - 0.5 * (double)(rng >> 16 & 3)
                                                    : 5500.5 + 0.5 * (double)(rng >> 16 & 3);
            sent[n_sent++] = send(QT_PROFITDLL_OT_LIMIT, side, px, 1 + (int64_t)(rng >> 20 & 1));
        } else if (n_sent) {
            TConnectorCancelOrder c;
            memset(&c, 0, sizeof(c));
            c.AccountID = account();
            c.OrderID.LocalOrderID = sent[(rng >> 24) % (uint64_t)n_sent];
            c.Password = W_PASS;
            CHECK(SendCancelOrderV2(&c) == NL_OK);
        }
        CHECK(n_sent == 0 || sent[n_sent - 1] > 0);
        if (n_sent == 20) CHECK(SimInjectPhase(QT_PROFITDLL_TS_FROZEN) == NL_OK); /* a halt the engine sees */
        if (n_sent == 26) CHECK(SimInjectPhase(QT_PROFITDLL_TS_OPEN) == NL_OK);
        qt_sleep_ns(8 * MS);
    }
    CHECK(n_sent >= 10);
    CHECK(SimWaitReplayDone(20000) == NL_OK);
    qt_sleep_ns(50 * MS); /* the last order callbacks */
    static account_state live, restored;
    read_account(&live);
    CHECK(live.n == n_sent && live.stats.fills > 0);
    int rejected = 0;
    for (int i = 0; i < live.n; i++) rejected += live.orders[i].o.OrderStatus == QT_PROFITDLL_ST_REJECTED;
    CHECK(rejected >= 2 && rejected < live.n);
    SimCounters c = counters();
    CHECK(c.state_entries_written > (uint64_t)n_sent && c.state_write_errors == 0);
    CHECK(DLLFinalize() == NL_OK);

    /* the restored broker: no subscription, no callback, the same account */
    CHECK(SimSetSpeed(0) == NL_OK); /* the speed is not part of the replay's identity */
    atomic_store(&g_callbacks, 0);
    CHECK(login(0) == NL_OK);
    read_account(&restored);
    c = counters();
    CHECK(c.state_entries_restored > (uint64_t)n_sent && c.state_restore_errors == 0);
    CHECK(atomic_load(&g_callbacks) == 0);
    CHECK(restored.n == live.n);
    for (int i = 0; i < live.n; i++) {
        CHECK(memcmp(&live.orders[i].o, &restored.orders[i].o, sizeof(TConnectorOrderOut)) == 0);
        CHECK(memcmp(live.orders[i].text, restored.orders[i].text, sizeof(live.orders[i].text)) == 0);
        order_state by_cl;
        CHECK(g_cl[i + 1][0] == 'S');
        CHECK(read_order(-1, g_cl[i + 1], &by_cl) == NL_OK); /* the ClOrdID the killed client was told */
        CHECK(memcmp(&by_cl.o, &live.orders[i].o, sizeof(TConnectorOrderOut)) == 0);
    }
    CHECK(memcmp(&live.day, &restored.day, sizeof(live.day)) == 0);
    CHECK(memcmp(&live.cons, &restored.cons, sizeof(live.cons)) == 0);
    CHECK(memcmp(&live.stats, &restored.stats, sizeof(live.stats)) == 0);
    CHECK(DLLFinalize() == NL_OK);

    /* 2. a torn last line: ignored, then cut off */
    long len;
    char *text = read_file(state, &len);
    CHECK(contains(text, "\nP ") && contains(text, "\nA ")); /* the injected halt, reached points */
    FILE *f = fopen(state, "ab");
    CHECK(f && fputs("C 12 34 5678 send", f) >= 0);
    fclose(f);
    CHECK(login(0) == NL_OK);
    read_account(&restored);
    CHECK(restored.n == live.n && memcmp(&live.stats, &restored.stats, sizeof(live.stats)) == 0);
    CHECK(DLLFinalize() == NL_OK);
    long len2;
    char *cut = read_file(state, &len2);
    CHECK(len2 == len && memcmp(cut, text, (size_t)len) == 0);
    free(cut);

    /* a header torn by a kill while the file was created: a new file */
    char torn[1100];
    snprintf(torn, sizeof(torn), "%s.torn", log);
    write_file(torn, text, 40); /* the magic line and part of the prefix line */
    CHECK(SimSetStateFile(torn) == NL_OK);
    CHECK(login(0) == NL_OK);
    order_state none;
    CHECK(read_order(1, NULL, &none) == NL_NOT_FOUND && counters().state_entries_restored == 0);
    CHECK(DLLFinalize() == NL_OK);
    long tlen;
    char *fresh = read_file(torn, &tlen);
    CHECK(tlen > 40 && memcmp(fresh, "QTSIMSTATE 1 *", 14) == 0 && contains(fresh, "\nbegin *"));
    free(fresh);
    remove(torn);
    CHECK(SimSetStateFile(state) == NL_OK);

    /* 3. refusals */
    CHECK(SimSetOrderLatencyUs(4000) == NL_OK);
    refused(state, "order_latency_us");
    CHECK(SimSetOrderLatencyUs(3000) == NL_OK);
    char *mid = strstr(text, "\nC ");
    CHECK(mid);
    mid[3] = mid[3] == '9' ? '8' : '9'; /* a digit of an entry before the end */
    write_file(state, text, (size_t)len);
    refused(state, "damaged line");
    write_file(state, "my notes\n", 9);
    refused(state, "not a simulator state file");
    free(text);
    CHECK(SimSetStateFile(NULL) == NL_OK);
    CHECK(SimRejectOrders(0, 0, NULL) == NL_OK);
    remove(state);
    remove(log);
    printf("sim_state_file: paced restore, torn tail and refusals ok (%d orders)\n", n_sent);
    return 0;
}
