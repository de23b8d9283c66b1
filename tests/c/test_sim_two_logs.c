/* The ProfitDLL simulator replaying two logs at once (SimAddReplayLog):
 *  1. trades of both logs arrive merged by exchange time, each under its own
 *     ticker, with its log's prices;
 *  2. the logs' broker dictionaries differ: the second log's ids are
 *     renumbered into one dictionary, which GetAgentNameByID serves;
 *  3. inside a PriceBook callback GetServerClock gives the exchange time of
 *     the record being delivered (the stamp of the book records), and for a
 *     subscription's full book its own log's time;
 *  4. refusals: SimAddReplayLog before SimSetReplayLog, two logs under one
 *     ticker (the market data does not connect; SimGetLastError says why),
 *     SimSetReplayLog removing the added logs;
 *  5. DLLFinalize while a full-book callback is in flight: the callback can
 *     still return its arrays with FreePointer.
 * Runs under ASan+UBSan in CI. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "profitdll_sim.h"
#include "platform/qt_atomic.h"
#include "market/qt_evlog.h"
#include "profitdll/qt_profitdll_decode.h"
#include "profitdll/qt_profitdll.h"

#include "qt_check.h"

#define DECL(name) extern __typeof__(*(qt_profitdll_##name##_fn)0) name
DECL(DLLInitializeMarketLogin);
DECL(DLLFinalize);
DECL(SubscribeTicker);
DECL(SubscribePriceBook);
DECL(GetServerClock);
DECL(GetAgentNameByID);
DECL(FreePointer);

/* 2026-11-03 09:00:00 -03:00 in UTC ns */
#define OPEN 1793707200000000000LL
#define SEC 1000000000LL
#define N_TRADES 5

static qt_event mk(uint64_t seq, int type, int flags, int64_t t, int64_t price, int32_t qty, int side) {
    qt_event e;
    memset(&e, 0, sizeof(e));
    e.type = (uint8_t)type;
    e.flags = (uint8_t)flags;
    e.seq = seq;
    e.exch_ns = t;
    e.recv_ns = t + 1000000;
    e.price = price;
    e.qty = qty;
    e.side = (uint8_t)side;
    return e;
}

/* A session: snapshot (one level a side), then per second k an L2 update
 * and a trade at `first + 2k` seconds, buyer `buy`, seller `sell`. */
static void write_log(const char *path, const char *instrument, double unit, int64_t open, int64_t mid,
                      int first_sec, const char **agents, int n_agents, int buy, int sell) {
    qt_evlog_header h;
    memset(&h, 0, sizeof(h));
    h.price_unit = unit;
    h.tick_size = unit;
    h.qty_scale = 1.0;
    snprintf(h.instrument, sizeof(h.instrument), "%s", instrument);
    snprintf(h.source, sizeof(h.source), "test_sim_two_logs");
    qt_evlog_error err;
    qt_evlog_writer *w = qt_evlog_open_write(path, &h, &err);
    CHECK(w);
    CHECK(qt_evlog_set_agents(w, (uint32_t)n_agents, agents, NULL) == QT_EVLOG_OK);
    uint64_t seq = 0;
    qt_event e[8];
    e[0] = mk(++seq, QT_EV_SESSION, 0, open, QT_PRICE_NONE, 0, 0);
    e[0].ref = 20261103;
    e[1] = mk(++seq, QT_EV_SNAPSHOT_BEGIN, 0, open, QT_PRICE_NONE, 0, 2);
    e[2] = mk(++seq, QT_EV_L2_LEVEL, 0, open, mid - 1, 10, 0);
    e[3] = mk(++seq, QT_EV_L2_LEVEL, 0, open, mid + 1, 10, 1);
    e[4] = mk(++seq, QT_EV_SNAPSHOT_END, QT_F_LAST, open, QT_PRICE_NONE, 0, 2);
    CHECK(qt_evlog_append(w, e, 5) == 0);
    for (int k = 0; k < N_TRADES; k++) {
        int64_t t = OPEN + (first_sec + 2 * k) * SEC + 250 * 1000000LL;
        e[0] = mk(++seq, QT_EV_L2_LEVEL, QT_F_LAST, t, mid - 1, 20 + k, 0);
        e[1] = mk(++seq, QT_EV_TRADE, 0, t, mid + 1, 1, 0);
        e[1].code = QT_PROFITDLL_TT_BUY_AGGRESSION;
        e[1].ref = k + 1;
        e[1].a = buy;
        e[1].b = sell;
        CHECK(qt_evlog_append(w, e, 2) == 0);
    }
    CHECK(qt_evlog_close(w) == 0);
}

/* ---------------------------------------------------------------- client */

static uint16_t W_WDO[] = {'W', 'D', 'O', 'Z', '2', '6', 0};
static uint16_t W_WIN[] = {'W', 'I', 'N', 'Z', '2', '6', 0};
static uint16_t W_F[] = {'F', 0};
static uint16_t W_KEY[] = {'k', 0}, W_USER[] = {'u', 0}, W_PASS[] = {'p', 0};

typedef struct seen_trade {
    int win;
    double price;
    int32_t buy, sell;
} seen_trade;

static seen_trade g_trades[4 * N_TRADES];
static int g_n_trades, g_books, g_clock_bad;
static atomic_int g_market; /* last market-data state */
static atomic_int g_slow_free, g_in_book; /* part 5 */
static atomic_int g_free_rc = 1;
static int64_t g_full_book_t[2][2]; /* [WIN][first, second full book]: GetServerClock inside */
static int g_full_books[2];

static int is(const uint16_t *a, const uint16_t *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static void QT_PROFITDLL_CALL on_state(int32_t type, int32_t result) {
    if (type == QT_PROFITDLL_CONN_MARKET_DATA) atomic_store(&g_market, result);
}

static void QT_PROFITDLL_CALL on_trade(TAssetID a, qt_profitdll_str date, uint32_t number, double price, double volume,
                                  int32_t qty, int32_t buy, int32_t sell, int32_t type, qt_profitdll_wchar edit) {
    (void)date, (void)number, (void)volume, (void)qty, (void)type, (void)edit;
    CHECK(g_n_trades < 4 * N_TRADES);
    seen_trade *t = &g_trades[g_n_trades++];
    t->win = is(a.ticker, W_WIN);
    CHECK(t->win || is(a.ticker, W_WDO));
    t->price = price;
    t->buy = buy;
    t->sell = sell;
}

/* Every incremental action of these logs is the L2 update at hh:mm:ss.250
 * of an odd (WDO) or even (WIN) second: the server clock must say so. */
static void QT_PROFITDLL_CALL on_book(TAssetID a, int32_t action, int32_t position, int32_t side, int32_t qty,
                                 int32_t count, double price, void *sell, void *buy) {
    (void)action, (void)position, (void)side, (void)qty, (void)count, (void)price, (void)sell, (void)buy;
    if (action == QT_PROFITDLL_BA_FULL_BOOK) {
        if (!atomic_load(&g_slow_free)) { /* arrays left to DLLFinalize */
            double dt;
            int32_t y, mo, d, h, mi, s, ms;
            CHECK(GetServerClock(&dt, &y, &mo, &d, &h, &mi, &s, &ms) == NL_OK);
            int w = is(a.ticker, W_WIN);
            if (g_full_books[w] < 2) g_full_book_t[w][g_full_books[w]] = qt_profitdll_local_to_utc_ns(y, mo, d, h, mi, s, ms, -180);
            g_full_books[w]++;
            return;
        }
        atomic_store(&g_in_book, 1);
        qt_sleep_ns(50 * 1000000LL); /* DLLFinalize is called meanwhile */
        int rc = NL_OK;
        void *arr[2] = {sell, buy};
        for (int i = 0; i < 2; i++) {
            if (!arr[i]) continue;
            int32_t size;
            memcpy(&size, (char *)arr[i] + 4, 4);
            if (FreePointer(arr[i], size) != NL_OK) rc = -1;
        }
        atomic_store(&g_free_rc, rc);
        return;
    }
    double dt;
    int32_t y, mo, d, h, mi, s, ms;
    CHECK(GetServerClock(&dt, &y, &mo, &d, &h, &mi, &s, &ms) == NL_OK);
    int64_t t = qt_profitdll_local_to_utc_ns(y, mo, d, h, mi, s, ms, -180);
    int64_t off = (t - OPEN) / SEC;
    int win = is(a.ticker, W_WIN);
    if (ms != 250 || (off % 2 == 1) == win) g_clock_bad++;
    g_books++;
}

static void login(void) {
    atomic_store(&g_market, -1);
    CHECK(DLLInitializeMarketLogin(W_KEY, W_USER, W_PASS, on_state, on_trade, NULL, on_book, NULL, NULL, NULL,
                                   NULL) == NL_OK);
    for (int i = 0; i < 2000 && atomic_load(&g_market) != QT_PROFITDLL_MARKET_CONNECTED &&
                    atomic_load(&g_market) != QT_PROFITDLL_MARKET_DISCONNECTED;
         i++)
        qt_sleep_ns(1000000);
}

int main(int argc, char **argv) {
    char a_path[512], b_path[512];
    const char *base = argc > 1 ? argv[1] : "test_sim_two_logs.tmp";
    snprintf(a_path, sizeof(a_path), "%s.wdo.qtlog", base);
    snprintf(b_path, sizeof(b_path), "%s.win.qtlog", base);
    const char *wdo_agents[] = {"XP", "BTG Pactual", "Itau BBA"};
    const char *win_agents[] = {"Itau BBA", "Genial"}; /* ids 0, 1 here; 2, 3 in the session */
    /* WIN's log opens a second later than WDO's */
    write_log(a_path, "WDOFUT", 0.5, OPEN, 11000, 1, wdo_agents, 3, 0, 1);      /* trades at 1, 3, 5 ... s */
    write_log(b_path, "WINFUT", 5.0, OPEN + SEC, 25000, 2, win_agents, 2, 0, 1); /* trades at 2, 4, 6 ... s */

    /* 4. refusals first */
    CHECK(SimSetReplayLog(NULL) == NL_OK);
    CHECK(SimAddReplayLog(b_path, "WINZ26", "F") == NL_INVALID_ARGS); /* no first log */
    CHECK(SimSetReplayLog(a_path) == NL_OK);
    CHECK(SimSetTicker("WDOZ26", "F") == NL_OK);
    CHECK(SimSetSpeed(0) == NL_OK);
    CHECK(SimSetAutoStart(0) == NL_OK);
    CHECK(SimSetUtcOffsetMinutes(-180) == NL_OK);
    CHECK(SimAddReplayLog(b_path, "wdoz26", "F") == NL_OK); /* the first log's ticker (any case) */
    login();
    CHECK(atomic_load(&g_market) == QT_PROFITDLL_MARKET_DISCONNECTED);
    char err[256];
    SimGetLastError(err, sizeof(err));
    CHECK(strstr(err, "two logs served under wdoz26:F") != NULL);
    CHECK(DLLFinalize() == NL_OK);

    /* 1-3. WDO and WIN together */
    CHECK(SimSetReplayLog(a_path) == NL_OK); /* removes the added log */
    CHECK(SimAddReplayLog(b_path, "WINZ26", "F") == NL_OK);
    login();
    CHECK(atomic_load(&g_market) == QT_PROFITDLL_MARKET_CONNECTED);
    CHECK(SubscribeTicker(W_WDO, W_F) == NL_OK && SubscribePriceBook(W_WDO, W_F) == NL_OK);
    CHECK(SubscribeTicker(W_WIN, W_F) == NL_OK && SubscribePriceBook(W_WIN, W_F) == NL_OK);
    CHECK(SimStartReplay() == NL_OK);
    CHECK(SimWaitReplayDone(20000) == NL_OK);
    CHECK(g_n_trades == 2 * N_TRADES);
    for (int i = 0; i < g_n_trades; i++) {
        const seen_trade *t = &g_trades[i];
        CHECK(t->win == (i % 2 == 1)); /* merged by time: WDO, WIN, WDO, ... */
        if (t->win) {
            CHECK(t->price == 25001 * 5.0);
            CHECK(t->buy == 2 && t->sell == 3); /* Itau BBA, Genial in the session's numbering */
        } else {
            CHECK(t->price == 11001 * 0.5);
            CHECK(t->buy == 0 && t->sell == 1);
        }
    }
    CHECK(g_books == 2 * N_TRADES && g_clock_bad == 0);
    /* full books (at subscription: the empty book; then each log's snapshot) carry their own
     * log's time, not the other log's */
    CHECK(g_full_books[0] == 2 && g_full_books[1] == 2);
    for (int k = 0; k < 2; k++) CHECK(g_full_book_t[0][k] == OPEN && g_full_book_t[1][k] == OPEN + SEC);
    const char *names[] = {"XP", "BTG Pactual", "Itau BBA", "Genial"};
    for (int i = 0; i < 4; i++) {
        const qt_profitdll_wchar *n = GetAgentNameByID(i);
        CHECK(n != NULL);
        for (size_t k = 0; k <= strlen(names[i]); k++) CHECK(n[k] == (qt_profitdll_wchar)(unsigned char)names[i][k]);
    }
    CHECK(GetAgentNameByID(4) == NULL);
    SimCounters c;
    CHECK(SimGetCounters(&c, sizeof(c)) == NL_OK);
    CHECK(c.records_invalid == 0 && c.trades_delivered == 2 * N_TRADES);
    CHECK(DLLFinalize() == NL_OK);

    /* 5. finalize during a callback that still has arrays to return */
    atomic_store(&g_slow_free, 1);
    login();
    CHECK(SubscribePriceBook(W_WDO, W_F) == NL_OK); /* the current full book at once */
    for (int i = 0; i < 2000 && !atomic_load(&g_in_book); i++) qt_sleep_ns(1000000);
    CHECK(atomic_load(&g_in_book));
    CHECK(DLLFinalize() == NL_OK);
    CHECK(atomic_load(&g_free_rc) == NL_OK);
    CHECK(SimSetReplayLog(NULL) == NL_OK);
    remove(a_path);
    remove(b_path);
    printf("test_sim_two_logs: ok\n");
    return 0;
}
