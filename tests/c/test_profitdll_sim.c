/* The ProfitDLL simulator through its exports, as a DLL client sees it:
 *  1. a generated event log (two sessions: snapshot, L2 messages, trades)
 *     replayed at full speed: the state sequence of a market login, every
 *     trade in order with the right date text, number, price, agents (V1 and
 *     V2 + TranslateTrade), the book rebuilt from positional PriceBook
 *     actions and multi-packet full books (V1 and V2 arrays) equal to the
 *     log's L2 book at every trade and at the end, every array freed;
 *  2. error codes: not initialized, bad arguments, market-only login,
 *     TranslateTrade outside its callback, FreePointer of a foreign pointer;
 *  3. a routing login: orders through SendOrder Version 1 and Version 0 (the
 *     enum mapping), the order callback, GetOrderDetails' two calls (the
 *     order round trips against a replay: test_sim_orders.c);
 *  4. DLLFinalize: no callback after it returns.
 * Runs under ASan+UBSan in CI. */
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

/* Declare each export from its ABI pointer type: the test then also checks
 * that the library's symbols exist with those names. */
#define DECL(name) extern __typeof__(*(qt_profitdll_##name##_fn)0) name
DECL(DLLInitializeLogin);
DECL(DLLInitializeMarketLogin);
DECL(DLLFinalize);
DECL(SubscribeTicker);
DECL(SubscribePriceBook);
DECL(SetTradeCallbackV2);
DECL(SetPriceBookCallbackV2);
DECL(SetOrderCallback);
DECL(SetChangeStateTickerCallback);
DECL(TranslateTrade);
DECL(FreePointer);
DECL(GetServerClock);
DECL(GetAgentNameByID);
DECL(SendOrder);
DECL(GetOrderDetails);
DECL(GetPositionV2);
DECL(SendCancelOrderV2);

/* ---------------------------------------------------------------- log */

#define UNIT 0.5
#define LEVELS 6
#define MAX_TRADES 4096

typedef struct lvl {
    int64_t price, qty;
} lvl;

/* Reference book of the generator: sorted arrays, best last (as the DLL). */
typedef struct ref_side {
    lvl l[256];
    int n;
} ref_side;

static int64_t keyp(int side, int64_t p) { return side == 0 ? p : -p; }

static void ref_set(ref_side *s, int side, int64_t price, int64_t qty) {
    int i = 0;
    while (i < s->n && keyp(side, s->l[i].price) < keyp(side, price)) i++;
    if (i < s->n && s->l[i].price == price) {
        if (qty == 0) {
            memmove(&s->l[i], &s->l[i + 1], (size_t)(s->n - i - 1) * sizeof(lvl));
            s->n--;
        } else {
            s->l[i].qty = qty;
        }
        return;
    }
    if (qty == 0) return;
    CHECK(s->n < 256);
    memmove(&s->l[i + 1], &s->l[i], (size_t)(s->n - i) * sizeof(lvl));
    s->l[i].price = price;
    s->l[i].qty = qty;
    s->n++;
}

typedef struct expect_trade {
    uint32_t number;
    double price;
    int32_t qty, buy, sell, type;
    int64_t exch_ns;
    double bid, ask; /* book tops at the trade */
} expect_trade;

static expect_trade g_expect[MAX_TRADES];
static int g_n_expect;
static ref_side g_ref[2];

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static qt_event mk(int type, int flags, int64_t t, int64_t price, int32_t qty, int code, int side) {
    static uint64_t seq = 0;
    qt_event e;
    memset(&e, 0, sizeof(e));
    e.type = (uint8_t)type;
    e.flags = (uint8_t)flags;
    e.seq = ++seq;
    e.exch_ns = t;
    e.recv_ns = t + 1000000;
    e.price = price;
    e.qty = qty;
    e.code = (uint8_t)code;
    e.side = (uint8_t)side;
    return e;
}

/* 2026-11-03 09:00:00 -03:00 in UTC ns */
#define DAY0_OPEN 1793707200000000000LL

static int write_log(const char *path, int n_updates) {
    qt_evlog_header h;
    memset(&h, 0, sizeof(h));
    h.price_unit = UNIT;
    h.tick_size = UNIT;
    h.qty_scale = 1.0;
    snprintf(h.instrument, sizeof(h.instrument), "WDOFUT");
    snprintf(h.source, sizeof(h.source), "test_profitdll_sim");
    qt_evlog_error err;
    qt_evlog_writer *w = qt_evlog_open_write(path, &h, &err);
    CHECK(w);
    const char *agents[] = {"XP", "BTG Pactual", "Itau BBA"};
    CHECK(qt_evlog_set_agents(w, 3, agents, NULL) == QT_EVLOG_OK);
    uint32_t trade_no = 0;
    for (int day = 0; day < 2; day++) {
        int64_t t = DAY0_OPEN + (int64_t)day * 86400LL * 1000000000LL;
        qt_event e = mk(QT_EV_SESSION, 0, t, QT_PRICE_NONE, 0, 0, 0);
        e.ref = 20261103 + day;
        CHECK(qt_evlog_append(w, &e, 1) == 0);
        /* opening snapshot: LEVELS per side around 11000 units (5500.0) */
        int64_t mid = 11000 + day * 10;
        e = mk(QT_EV_SNAPSHOT_BEGIN, 0, t, QT_PRICE_NONE, 0, 0, 2);
        CHECK(qt_evlog_append(w, &e, 1) == 0);
        g_ref[0].n = g_ref[1].n = 0;
        for (int sd = 0; sd < 2; sd++)
            for (int k = 0; k < LEVELS; k++) {
                int64_t p = sd == 0 ? mid - 1 - k : mid + 1 + k;
                int32_t q = 10 + (int32_t)(rng() % 50);
                e = mk(QT_EV_L2_LEVEL, 0, t, p, q, 0, sd);
                e.b = 1 + k;
                CHECK(qt_evlog_append(w, &e, 1) == 0);
                ref_set(&g_ref[sd], sd, p, q);
            }
        e = mk(QT_EV_SNAPSHOT_END, QT_F_LAST, t, QT_PRICE_NONE, 0, 0, 2);
        CHECK(qt_evlog_append(w, &e, 1) == 0);
        /* an opening auction print, then updates and trades */
        for (int i = 0; i < n_updates; i++) {
            t += 1000000 * (int64_t)(1 + rng() % 20);
            int kind = (int)(rng() % 4);
            if (kind == 0 && g_ref[0].n && g_ref[1].n) {
                int buy = (int)(rng() % 2);
                ref_side *opp = &g_ref[buy ? 1 : 0];
                int64_t p = opp->l[opp->n - 1].price;
                int32_t q = 1 + (int32_t)(rng() % 5);
                CHECK(g_n_expect < MAX_TRADES);
                expect_trade *x = &g_expect[g_n_expect++];
                int type = (day == 0 && i == 0) ? QT_PROFITDLL_TT_AUCTION : buy ? QT_PROFITDLL_TT_BUY_AGGRESSION : QT_PROFITDLL_TT_SELL_AGGRESSION;
                x->number = ++trade_no;
                x->price = (double)p * UNIT;
                x->qty = q;
                x->buy = (int32_t)(rng() % 3);
                x->sell = (int32_t)(rng() % 3);
                x->type = type;
                x->exch_ns = t;
                x->bid = (double)g_ref[0].l[g_ref[0].n - 1].price * UNIT;
                x->ask = (double)g_ref[1].l[g_ref[1].n - 1].price * UNIT;
                e = mk(QT_EV_TRADE, 0, t, p, q, type, 0);
                e.ref = x->number;
                e.a = x->buy;
                e.b = x->sell;
                CHECK(qt_evlog_append(w, &e, 1) == 0);
            } else {
                /* one message of 1-3 level updates */
                int n = 1 + (int)(rng() % 3);
                for (int k = 0; k < n; k++) {
                    int sd = (int)(rng() % 2);
                    int64_t off = (int64_t)(rng() % (LEVELS + 2));
                    int64_t p = sd == 0 ? mid - 1 - off : mid + 1 + off;
                    int32_t q = (rng() % 5 == 0) ? 0 : 1 + (int32_t)(rng() % 80);
                    if (q == 0 && g_ref[sd].n <= 1) q = 7; /* keep both sides non-empty */
                    e = mk(QT_EV_L2_LEVEL, k == n - 1 ? QT_F_LAST : 0, t, p, q, 0, sd);
                    e.b = q ? 1 + (int32_t)(rng() % 9) : 0;
                    CHECK(qt_evlog_append(w, &e, 1) == 0);
                    ref_set(&g_ref[sd], sd, p, q);
                }
            }
        }
    }
    CHECK(qt_evlog_close(w) == 0);
    return 0;
}

/* ---------------------------------------------------------------- client */

typedef struct client_side {
    double price[512];
    int64_t qty[512];
    int n;
} client_side;

typedef struct client_book {
    client_side s[2];
    client_side pending[2]; /* full book being received */
    int pending_open[2];
} client_book;

static client_book g_book1, g_book2; /* from V1 and V2 price-book callbacks */
static int g_states[64][2];
static atomic_int g_n_states;
static int g_trades1, g_trades2, g_mismatch, g_book_errors, g_phases[16], g_n_phases, g_after_finalize;
static atomic_int g_finalized;
static int g_dailies, g_tiny;
static uint64_t g_thread;

static void apply(client_book *b, int action, int position, int side, int64_t qty, double price, void *sell,
                  void *buy, int v2) {
    if (atomic_load(&g_finalized)) g_after_finalize++;
    if (action == QT_PROFITDLL_BA_FULL_BOOK) {
        void *arr[2] = {buy, sell};
        for (int sd = 0; sd < 2; sd++) {
            if (!arr[sd]) continue;
            qt_profitdll_book_array_header h;
            memcpy(&h, arr[sd], sizeof(h));
            if (!b->pending_open[sd]) {
                b->pending[sd].n = 0;
                b->pending_open[sd] = 1;
            }
            const uint8_t *at = (const uint8_t *)arr[sd] + sizeof(h);
            for (int i = 0; i < h.count; i++) {
                client_side *p = &b->pending[sd];
                if (v2) {
                    qt_profitdll_price_book_entry_v2 e;
                    memcpy(&e, at, sizeof(e));
                    at += sizeof(e);
                    p->price[p->n] = e.price;
                    p->qty[p->n++] = e.qty;
                } else {
                    qt_profitdll_price_book_entry e;
                    memcpy(&e, at, sizeof(e));
                    at += sizeof(e);
                    p->price[p->n] = e.price;
                    p->qty[p->n++] = e.qty;
                }
            }
            uint32_t flags;
            memcpy(&flags, at, sizeof(flags));
            if ((int32_t)(at + 4 - (const uint8_t *)arr[sd]) != h.size_bytes) g_book_errors++;
            if (flags & OB_LAST_PACKET) {
                b->s[sd] = b->pending[sd];
                b->pending_open[sd] = 0;
            }
            if (FreePointer(arr[sd], h.size_bytes) != NL_OK) g_book_errors++;
        }
        return;
    }
    client_side *s = &b->s[side];
    switch (action) {
    case QT_PROFITDLL_BA_ADD: {
        if (position < 0 || position > s->n) {
            g_book_errors++;
            return;
        }
        int idx = s->n - position;
        memmove(&s->price[idx + 1], &s->price[idx], (size_t)(s->n - idx) * sizeof(double));
        memmove(&s->qty[idx + 1], &s->qty[idx], (size_t)(s->n - idx) * sizeof(int64_t));
        s->price[idx] = price;
        s->qty[idx] = qty;
        s->n++;
        break;
    }
    case QT_PROFITDLL_BA_EDIT:
        if (position < 0 || position >= s->n) {
            g_book_errors++;
            return;
        }
        s->qty[s->n - position - 1] = qty;
        break;
    case QT_PROFITDLL_BA_DELETE: {
        if (position < 0 || position >= s->n) {
            g_book_errors++;
            return;
        }
        int idx = s->n - position - 1;
        memmove(&s->price[idx], &s->price[idx + 1], (size_t)(s->n - idx - 1) * sizeof(double));
        memmove(&s->qty[idx], &s->qty[idx + 1], (size_t)(s->n - idx - 1) * sizeof(int64_t));
        s->n--;
        break;
    }
    case QT_PROFITDLL_BA_DELETE_FROM:
        if (position < 0 || position >= s->n) {
            g_book_errors++;
            return;
        }
        s->n = s->n - position - 1;
        break;
    default:
        g_book_errors++;
    }
}

static void QT_PROFITDLL_CALL on_state(int32_t type, int32_t result) {
    /* one writer (the connector thread): fill the slot, then publish it */
    int i = atomic_load(&g_n_states);
    if (i < 64) {
        g_states[i][0] = type;
        g_states[i][1] = result;
    }
    g_thread = qt_thread_id();
    atomic_store(&g_n_states, i + 1);
}

static int g_trade_index;
static void QT_PROFITDLL_CALL on_trade(TAssetID a, qt_profitdll_str date, uint32_t number, double price, double volume,
                                  int32_t qty, int32_t buy, int32_t sell, int32_t type, qt_profitdll_wchar edit) {
    if (atomic_load(&g_finalized)) g_after_finalize++;
    char d[32];
    int i;
    for (i = 0; i < 31 && date[i]; i++) d[i] = (char)date[i];
    d[i] = 0;
    expect_trade *x = &g_expect[g_trade_index++];
    char want[64];
    int64_t local_ms = x->exch_ns / 1000000 - 3 * 3600 * 1000;
    int64_t sec = local_ms / 1000;
    int64_t day_s = sec % 86400;
    /* both test days are in November 2026 */
    int dd = 3 + (int)((x->exch_ns - DAY0_OPEN) / 86400000000000LL);
    snprintf(want, sizeof(want), "%02d/11/2026 %02d:%02d:%02d.%03d", dd, (int)(day_s / 3600), (int)(day_s / 60 % 60),
             (int)(day_s % 60), (int)(local_ms % 1000));
    if (strcmp(d, want) || number != x->number || price != x->price || qty != x->qty || buy != x->buy ||
        sell != x->sell || type != x->type || edit != 0 || a.ticker[0] != 'W' || a.exchange[0] != 'F' ||
        fabs(volume - price * qty * 10.0) > 1e-6) {
        fprintf(stderr, "trade %d: got %s #%u %.1f x%d, want %s #%u %.1f x%d\n", g_trade_index, d, number, price, qty,
                want, x->number, x->price, x->qty);
        g_mismatch++;
    }
    /* the book the client has at this trade equals the log's */
    client_book *b = &g_book1;
    if (!b->s[0].n || !b->s[1].n || b->s[0].price[b->s[0].n - 1] != x->bid || b->s[1].price[b->s[1].n - 1] != x->ask) {
        fprintf(stderr, "trade %d: client top %g/%g, log %g/%g\n", g_trade_index, b->s[0].n ? b->s[0].price[b->s[0].n - 1] : 0,
                b->s[1].n ? b->s[1].price[b->s[1].n - 1] : 0, x->bid, x->ask);
        g_mismatch++;
    }
    g_trades1++;
}

static void QT_PROFITDLL_CALL on_trade_v2(TConnectorAssetIdentifier a, const void *trade, uint32_t flags) {
    TConnectorTrade t;
    memset(&t, 0, sizeof(t));
    CHECK(TranslateTrade(trade, &t) == NL_OK);
    expect_trade *x = &g_expect[g_trade_index - 1]; /* V1 fired first for the same trade */
    if (t.TradeNumber != x->number || t.Price != x->price || t.Quantity != x->qty || t.BuyAgent != x->buy ||
        t.TradeType != x->type || flags != 0 || a.Ticker[0] != 'W' || t.TradeDate.wYear != 2026 ||
        t.TradeDate.wMonth != 11)
        g_mismatch++;
    g_trades2++;
}

static void QT_PROFITDLL_CALL on_book(TAssetID a, int32_t action, int32_t position, int32_t side, int32_t qty,
                                 int32_t count, double price, void *sell, void *buy) {
    (void)a;
    (void)count;
    apply(&g_book1, action, position, side, qty, price, sell, buy, 0);
}

static void QT_PROFITDLL_CALL on_book_v2(TAssetID a, int32_t action, int32_t position, int32_t side, int64_t qty,
                                    int64_t count, double price, void *sell, void *buy) {
    (void)a;
    (void)count;
    apply(&g_book2, action, position, side, qty, price, sell, buy, 1);
}

static void QT_PROFITDLL_CALL on_phase(TAssetID a, qt_profitdll_str date, int32_t state) {
    (void)a;
    (void)date;
    if (g_n_phases < 16) g_phases[g_n_phases++] = state;
}

static void QT_PROFITDLL_CALL on_daily(TAssetID a, qt_profitdll_str date, double open, double high, double low,
                                  double close, double volume, double adjust, double max_limit, double min_limit,
                                  double vb, double vs, int32_t qty, int32_t trades, int32_t oc, int32_t qb,
                                  int32_t qs, int32_t tb, int32_t ts) {
    (void)a, (void)date, (void)volume, (void)adjust, (void)vb, (void)vs, (void)oc, (void)qb, (void)qs, (void)tb,
        (void)ts, (void)qty, (void)trades;
    if (!(low <= open && open <= high && low <= close && close <= high && min_limit < low && max_limit > high))
        g_mismatch++;
    g_dailies++;
}

static void QT_PROFITDLL_CALL on_tiny(TAssetID a, double price, int32_t qty, int32_t side) {
    (void)a;
    if (!(price > 0 && qty > 0 && (side == 0 || side == 1))) g_mismatch++;
    g_tiny++;
}

static void wait_state(int type, int result) {
    for (int k = 0; k < 5000; k++) {
        int n = atomic_load(&g_n_states);
        for (int i = 0; i < n && i < 64; i++)
            if (g_states[i][0] == type && g_states[i][1] == result) return;
        qt_sleep_ns(1000000);
    }
    CHECK(!"state never arrived");
}

static void check_books_equal(const client_book *b) {
    for (int sd = 0; sd < 2; sd++) {
        CHECK(b->s[sd].n == g_ref[sd].n);
        for (int i = 0; i < g_ref[sd].n; i++) {
            CHECK(b->s[sd].price[i] == (double)g_ref[sd].l[i].price * UNIT);
            CHECK(b->s[sd].qty[i] == g_ref[sd].l[i].qty);
        }
    }
}

static uint16_t W_WDO[] = {'W', 'D', 'O', 'F', 'U', 'T', 0};
static uint16_t W_F[] = {'F', 0};
static uint16_t W_KEY[] = {'k', 0};
static uint16_t W_USER[] = {'u', 0};
static uint16_t W_PASS[] = {'p', 0};
static uint16_t W_EMPTY[] = {0};

static void test_replay(const char *path) {
    CHECK(SubscribeTicker(W_WDO, W_F) == NL_NOT_INITIALIZED);
    CHECK(DLLFinalize() == NL_NOT_INITIALIZED);
    CHECK(SimSetReplayLog(path) == NL_OK);
    CHECK(SimSetSpeed(0) == NL_OK);
    CHECK(SimSetAutoStart(0) == NL_OK);
    CHECK(SimSetBookPacketLevels(4) == NL_OK); /* 6 levels a side: two packets */
    CHECK(SimSetSpeed(-1) == NL_INVALID_ARGS);
    CHECK(DLLInitializeMarketLogin(W_KEY, W_EMPTY, W_PASS, on_state, NULL, NULL, NULL, NULL, NULL, NULL, NULL) ==
          NL_NO_USER);
    CHECK(DLLInitializeMarketLogin(W_KEY, W_USER, W_PASS, on_state, on_trade, on_daily, on_book, NULL, NULL, NULL,
                                   on_tiny) == NL_OK);
    CHECK(DLLInitializeMarketLogin(W_KEY, W_USER, W_PASS, on_state, NULL, NULL, NULL, NULL, NULL, NULL, NULL) ==
          NL_DUPLICATE_RESOURCE);
    CHECK(SetTradeCallbackV2(on_trade_v2) == NL_OK);
    CHECK(SetPriceBookCallbackV2(on_book_v2) == NL_OK);
    CHECK(SetChangeStateTickerCallback(on_phase) == NL_OK);
    wait_state(QT_PROFITDLL_CONN_MARKET_LOGIN, QT_PROFITDLL_MARKET_LOGIN_VALID);
    /* market login: login, market connecting -> waiting -> connected, market login valid */
    int want[][2] = {{0, 0}, {2, 1}, {2, 2}, {2, 4}, {3, 0}};
    CHECK(atomic_load(&g_n_states) == 5);
    for (int i = 0; i < 5; i++) CHECK(g_states[i][0] == want[i][0] && g_states[i][1] == want[i][1]);
    CHECK(g_thread != qt_thread_id());

    CHECK(SubscribeTicker(NULL, W_F) == NL_INVALID_ARGS);
    CHECK(SubscribeTicker(W_WDO, W_EMPTY) == NL_INVALID_ARGS);
    CHECK(SubscribeTicker(W_WDO, W_F) == NL_OK);
    CHECK(SubscribePriceBook(W_WDO, W_F) == NL_OK);
    CHECK(SimStartReplay() == NL_OK);
    CHECK(SimWaitReplayDone(20000) == NL_OK);

    CHECK(g_mismatch == 0);
    CHECK(g_book_errors == 0);
    CHECK(g_trades1 == g_n_expect && g_trades2 == g_n_expect);
    check_books_equal(&g_book1);
    check_books_equal(&g_book2);
    /* synthesized phases: per session pre-opening, open, closed */
    CHECK(g_n_phases == 6);
    int phases[] = {13, 0, 6, 13, 0, 6};
    for (int i = 0; i < 6; i++) CHECK(g_phases[i] == phases[i]);
    CHECK(g_dailies > 0 && g_tiny > 0);

    SimCounters c;
    CHECK(SimGetCounters(&c, (int)sizeof(c)) == NL_OK);
    CHECK(c.trades_delivered == (uint64_t)g_n_expect);
    CHECK(c.arrays_allocated > 0 && c.arrays_allocated == c.arrays_freed);
    CHECK(c.full_book_packets >= 4); /* initial + 2 sessions, V1 and V2, 2 packets */
    CHECK(c.replay_done == 1 && c.free_pointer_errors == 0 && c.records_invalid == 0);

    /* accessors and error codes */
    int dummy = 0;
    CHECK(FreePointer(&dummy, 4) == NL_INVALID_ARGS);
    TConnectorTrade t;
    memset(&t, 0, sizeof(t));
    uint32_t stale[32] = {0};
    CHECK(TranslateTrade(stale, &t) == NL_INVALID_ARGS); /* not inside a trade callback */
    CHECK(TranslateTrade(NULL, &t) == NL_INVALID_ARGS);
    double dt;
    int y, mo, d, h, mi, s, ms;
    CHECK(GetServerClock(&dt, &y, &mo, &d, &h, &mi, &s, &ms) == NL_OK);
    CHECK(y == 2026 && mo == 11 && d == 4 && dt > 46000);
    CHECK(GetServerClock(NULL, &y, &mo, &d, &h, &mi, &s, &ms) == NL_INVALID_ARGS);
    qt_profitdll_wchar *name = GetAgentNameByID(1);
    CHECK(name && name[0] == 'B' && name[1] == 'T' && name[2] == 'G');
    CHECK(GetAgentNameByID(99) == NULL);
    TConnectorSendOrder so;
    memset(&so, 0, sizeof(so));
    CHECK(SendOrder(&so) == NL_MARKET_ONLY);

    atomic_store(&g_finalized, 1);
    CHECK(DLLFinalize() == NL_OK);
    qt_sleep_ns(20000000);
    CHECK(g_after_finalize == 0);
    CHECK(SubscribeTicker(W_WDO, W_F) == NL_NOT_INITIALIZED);
}

/* ---------------------------------------------------------------- orders */

static atomic_int g_order_cbs;
static int g_order_status[8], g_order_side[8];
static int64_t g_order_ids[8];

static void QT_PROFITDLL_CALL on_order(TConnectorOrderIdentifier id) {
    TConnectorOrderOut o;
    memset(&o, 0, sizeof(o));
    o.Version = 1;
    o.OrderID = id;
    CHECK(GetOrderDetails(&o) == NL_OK); /* first call: lengths */
    CHECK(o.AssetID.TickerLength == 6 && o.TextMessageLength == 0); /* acknowledged: no message */
    uint16_t ticker[16], exch[4], text[300];
    o.AssetID.Ticker = ticker;
    o.AssetID.Exchange = exch;
    o.TextMessage = text;
    CHECK(GetOrderDetails(&o) == NL_OK);
    CHECK(ticker[0] == 'W' && ticker[6] == 0 && exch[0] == 'F' && text[0] == 0);
    CHECK(o.AccountID.AccountIDLength == 7 && o.AccountID.AccountID[0] == 'S');
    int i = atomic_load(&g_order_cbs);
    if (i < 8) {
        g_order_status[i] = o.OrderStatus;
        g_order_side[i] = o.OrderSide;
        g_order_ids[i] = o.OrderID.LocalOrderID;
    }
    atomic_store(&g_order_cbs, i + 1);
}

static atomic_int g_accounts;
static void QT_PROFITDLL_CALL on_account(int32_t broker, qt_profitdll_str broker_name, qt_profitdll_str account, qt_profitdll_str owner) {
    (void)broker_name;
    (void)owner;
    if (broker == 1 && account[0] == 'S') atomic_fetch_add(&g_accounts, 1);
}

static void test_orders(const char *path) {
    atomic_store(&g_n_states, 0);
    atomic_store(&g_finalized, 0);
    CHECK(SimSetReplayLog(path) == NL_OK);
    CHECK(DLLInitializeLogin(W_KEY, W_USER, W_PASS, on_state, NULL, NULL, on_account, NULL, NULL, NULL, NULL, NULL,
                             NULL, NULL) == NL_OK);
    CHECK(SetOrderCallback(on_order) == NL_OK);
    wait_state(QT_PROFITDLL_CONN_ROUTING, QT_PROFITDLL_ROUTING_BROKER_CONNECTED);
    /* routing login: login, routing connecting/connected, market ..., broker connecting/connected */
    int want[][2] = {{0, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}, {2, 4}, {3, 0}, {1, 4}, {1, 5}};
    CHECK(atomic_load(&g_n_states) == 9);
    for (int i = 0; i < 9; i++) CHECK(g_states[i][0] == want[i][0] && g_states[i][1] == want[i][1]);
    for (int k = 0; k < 1000 && !atomic_load(&g_accounts); k++) qt_sleep_ns(1000000);
    CHECK(atomic_load(&g_accounts) == 1);

    uint16_t acc[] = {'S', 'I', 'M', '0', '0', '0', '1', 0}, sub[] = {0};
    TConnectorSendOrder o;
    memset(&o, 0, sizeof(o));
    o.Version = 1;
    o.AccountID.BrokerID = 1;
    o.AccountID.AccountID = acc;
    o.AccountID.SubAccountID = sub;
    o.AssetID.Ticker = W_WDO;
    o.AssetID.Exchange = W_F;
    o.Password = W_PASS;
    o.OrderType = QT_PROFITDLL_OT_LIMIT;
    o.OrderSide = QT_PROFITDLL_OS_BUY;
    o.Price = 5500.0;
    o.StopPrice = -1;
    o.Quantity = 1;
    CHECK(SendOrder(NULL) == NL_INVALID_ARGS);
    int64_t id1 = SendOrder(&o);
    CHECK(id1 > 0);
    /* Version 0: side 1 is a SELL (Version 1's 1 would be a buy) */
    o.Version = 0;
    o.OrderType = QT_PROFITDLL_OT_V0_LIMIT;
    o.OrderSide = QT_PROFITDLL_OS_V0_SELL;
    int64_t id2 = SendOrder(&o);
    CHECK(id2 > id1);
    o.OrderSide = 7;
    CHECK(SendOrder(&o) == NL_INVALID_ARGS);
    o.Version = 2;
    CHECK(SendOrder(&o) == NL_VERSION_NOT_SUPPORTED);
    o.Version = 1;
    o.OrderType = QT_PROFITDLL_OT_LIMIT;
    o.OrderSide = QT_PROFITDLL_OS_SELL;
    CHECK(SendOrder(&o) > id2); /* a valid Version 1 sell */
    o.Quantity = 0;
    CHECK(SendOrder(&o) == NL_INVALID_ARGS);
    o.Quantity = 1;
    o.Price = NAN;
    CHECK(SendOrder(&o) == NL_INVALID_ARGS);
    o.Price = 5500.0;
    o.Password = NULL;
    CHECK(SendOrder(&o) == NL_NO_PASSWORD);
    o.Password = W_PASS;
    o.AccountID.BrokerID = 2;
    CHECK(SendOrder(&o) == NL_NOT_FOUND);
    o.AccountID.BrokerID = 1;
    uint16_t bad_exch[] = {'Z', 0};
    o.AssetID.Exchange = bad_exch;
    CHECK(SendOrder(&o) == NL_EXCHANGE_UNKNOWN);
    for (int k = 0; k < 2000 && atomic_load(&g_order_cbs) < 3; k++) qt_sleep_ns(1000000);
    CHECK(atomic_load(&g_order_cbs) == 3);
    /* the replay has not started: the orders travel (latency) and wait */
    CHECK(g_order_ids[0] == id1 && g_order_side[0] == QT_PROFITDLL_OS_BUY && g_order_status[0] == QT_PROFITDLL_ST_PENDING_NEW);
    CHECK(g_order_ids[1] == id2 && g_order_side[1] == QT_PROFITDLL_OS_SELL && g_order_status[1] == QT_PROFITDLL_ST_PENDING_NEW);
    CHECK(g_order_side[2] == QT_PROFITDLL_OS_SELL);

    TConnectorCancelOrder c;
    memset(&c, 0, sizeof(c));
    c.AccountID = o.AccountID;
    c.OrderID.LocalOrderID = 999;
    c.Password = W_PASS;
    CHECK(SendCancelOrderV2(&c) == NL_NOT_FOUND);
    TConnectorTradingAccountPosition p;
    memset(&p, 0, sizeof(p));
    p.Version = 1;
    p.AccountID = o.AccountID;
    p.AssetID.Ticker = W_WDO;
    p.AssetID.Exchange = W_F;
    p.PositionType = QT_PROFITDLL_POS_DAY_TRADE;
    CHECK(GetPositionV2(&p) == NL_NO_POSITION);
    CHECK(DLLFinalize() == NL_OK);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "test_profitdll_sim.tmp.qtlog";
    write_log(path, 1500);
    test_replay(path);
    test_orders(path);
    remove(path);
    printf("profitdll_sim: %d trades replayed, books equal, orders ok\n", g_n_expect);
    return 0;
}
