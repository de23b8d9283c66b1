/* ProfitDLL callback entry points, called directly as the DLL would:
 *  1. trades V1 (raw date -> EXT -> decoded exch_ns), V2 (TranslateTrade,
 *     SYSTEMTIME), history flags, price conversion;
 *  2. malformed values (NaN, negative, off-grid, bad side/action) are
 *     flagged invalid and counted, unknown tickers counted and dropped;
 *  3. price-book actions and a two-packet full book (arrays freed with
 *     FreePointer, SNAPSHOT_END flagged last only after both sides' last
 *     packet), applied to a qt_book; book records stamped with the DLL's
 *     server clock (milliseconds), untimed and counted when it fails;
 *  4. a full market ring drops and counts, and the next push is preceded by
 *     a FEED_GAP with the number lost;
 *  5. a market-data disconnect after connected emits a DISCONNECT gap; a
 *     routing drop pushes VENUE_LOST into the order ring;
 *  6. the order callback calls GetOrderDetails twice and pushes an update;
 *  7. calls from a second thread are counted; detached callbacks count only;
 *  8. the date decoder across batch boundaries. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/qt_book.h"
#include "market/qt_events.h"
#include "profitdll/qt_profitdll_decode.h"
#include "profitdll/qt_profitdll_feed.h"
#include "market/qt_ring.h"

#include "qt_check.h"

static uint16_t *u16(const char *s, uint16_t *buf) {
    size_t i = 0;
    for (; s[i]; i++) buf[i] = (uint16_t)(unsigned char)s[i];
    buf[i] = 0;
    return buf;
}

static uint16_t W_WDO[16], W_WIN[16], W_F[4], W_OTHER[16];

static TAssetID asset(uint16_t *ticker) {
    TAssetID a;
    a.ticker = ticker;
    a.exchange = W_F;
    a.feed = 0;
    return a;
}

/* ---- DLL-side accessors the callbacks call (test doubles of the DLL) ---- */
typedef struct fake_trade {
    TConnectorTrade t;
} fake_trade;

static int32_t QT_PROFITDLL_CALL fake_translate(const void *trade, TConnectorTrade *out) {
    if (!trade) return NL_INVALID_ARGS;
    uint8_t v = out->Version;
    *out = ((const fake_trade *)trade)->t;
    out->Version = v;
    return NL_OK;
}

static int freed_arrays;
static int32_t QT_PROFITDLL_CALL fake_free(void *p, int32_t size) {
    int32_t header_size;
    memcpy(&header_size, (char *)p + 4, 4);
    CHECK(size == header_size);
    free(p);
    freed_arrays++;
    return NL_OK;
}

static int details_calls;
static int32_t QT_PROFITDLL_CALL fake_details(TConnectorOrderOut *o) {
    details_calls++;
    if (o->OrderID.LocalOrderID == 999) return NL_NOT_FOUND;
    o->AssetID.TickerLength = 6;
    o->AssetID.ExchangeLength = 1;
    o->TextMessageLength = 2;
    o->Quantity = 5;
    o->TradedQuantity = 2;
    o->LeavesQuantity = 3;
    o->Price = 5123.5;
    o->StopPrice = -1;
    o->AveragePrice = 5123.0;
    o->OrderSide = QT_PROFITDLL_OS_BUY;
    o->OrderType = QT_PROFITDLL_OT_LIMIT;
    o->OrderStatus = QT_PROFITDLL_ST_PARTIALLY_FILLED;
    o->LastUpdate.wYear = 2025;
    o->LastUpdate.wMonth = 11;
    o->LastUpdate.wDay = 24;
    o->LastUpdate.wHour = 10;
    o->EventID = 77;
    if (o->AssetID.Ticker) {
        u16("WDOZ25", o->AssetID.Ticker);
        u16("F", o->AssetID.Exchange);
        u16("ok", o->TextMessage);
    }
    return NL_OK;
}

/* The server clock: a local civil time the test sets; fails when year 0. */
static TSystemTime clock_now = {2025, 11, 1, 24, 10, 16, 0, 125};
static int clock_calls;
static int32_t QT_PROFITDLL_CALL fake_clock(double *dt, int32_t *y, int32_t *mo, int32_t *d, int32_t *h,
                                       int32_t *mi, int32_t *s, int32_t *ms) {
    clock_calls++;
    if (clock_now.wYear == 0) return NL_INTERNAL_ERROR;
    *dt = 0;
    *y = clock_now.wYear;
    *mo = clock_now.wMonth;
    *d = clock_now.wDay;
    *h = clock_now.wHour;
    *mi = clock_now.wMinute;
    *s = clock_now.wSecond;
    *ms = clock_now.wMilliseconds;
    return NL_OK;
}

/* ---- helpers ---- */
static qt_ring *market, *orders;
static qt_event got[70000];
static uint64_t n_got;

/* Drain and decode everything in the market ring into got[]. */
static void drain(void) {
    static qt_event raw[70000];
    static qt_event out[70001];
    static qt_profitdll_decoder dec;
    static int init;
    if (!init) {
        qt_profitdll_decoder_init(&dec, -180);
        init = 1;
    }
    n_got = 0;
    uint64_t n = qt_ring_pop(market, raw, 70000);
    /* decode in two slices to exercise the batch boundary */
    uint64_t half = n / 2;
    n_got += qt_profitdll_decode(&dec, raw, half, out + n_got);
    n_got += qt_profitdll_decode(&dec, raw + half, n - half, out + n_got);
    memcpy(got, out, n_got * sizeof(qt_event));
}

static qt_profitdll_feed_counters counters(void) {
    qt_profitdll_feed_counters c;
    qt_profitdll_feed_get_counters(&c);
    return c;
}

/* A V1 price-book array of n levels, last-packet flag as given. */
static void *price_array(int n, double first_price, double step, int last) {
    int32_t size = 8 + n * 16 + 4;
    uint8_t *p = malloc((size_t)size);
    memcpy(p, &n, 4);
    memcpy(p + 4, &size, 4);
    for (int i = 0; i < n; i++) {
        qt_profitdll_price_book_entry e = {first_price + step * i, 10 + i, 1 + i};
        memcpy(p + 8 + i * 16, &e, 16);
    }
    uint32_t fl = last ? OB_LAST_PACKET : 0;
    memcpy(p + 8 + n * 16, &fl, 4);
    return p;
}

/* A V1 offer-book array: n offers with an 8-bit date each (variable length). */
static void *offer_array(int n, double price, int last, int lie_date_len) {
    const char *date = "24/11/2025 10:00:00.000";
    int16_t dl = (int16_t)strlen(date);
    int32_t size = 8 + n * (26 + dl) + 4;
    uint8_t *p = malloc((size_t)size);
    memcpy(p, &n, 4);
    memcpy(p + 4, &size, 4);
    uint8_t *at = p + 8;
    for (int i = 0; i < n; i++) {
        qt_profitdll_offer_book_entry e = {price, 5 + i, 100 + i, 9000 + i, lie_date_len ? 30000 : dl};
        memcpy(at, &e, 26);
        memcpy(at + 26, date, (size_t)dl);
        at += 26 + dl;
    }
    uint32_t fl = last ? OB_LAST_PACKET : 0;
    memcpy(at, &fl, 4);
    return p;
}

static void foreign_caller(void *arg) {
    (void)arg;
    qt_profitdll_on_tiny_book(asset(W_WDO), 5123.0, 4, 0);
}

int main(void) {
    u16("WDOZ25", W_WDO);
    u16("WINZ25", W_WIN);
    u16("F", W_F);
    u16("PETR4", W_OTHER);
    market = qt_ring_create(1 << 16, QT_EVENT_SIZE, QT_RING_DROP);
    orders = qt_ring_create(64, QT_ORDER_UPDATE_SIZE, QT_RING_LOSSLESS);
    CHECK(market && orders);

    /* detached: counted, nothing pushed, arrays still freed */
    qt_profitdll_feed_set_accessors(fake_translate, fake_free, fake_details, fake_clock);
    qt_profitdll_on_tiny_book(asset(W_WDO), 5000.0, 1, 0);
    qt_profitdll_on_price_book(asset(W_WDO), 4, 0, 0, 0, 0, 0.0, NULL, price_array(2, 5000, 0.5, 1));
    CHECK(counters().detached_calls == 2);
    CHECK(freed_arrays == 1);

    CHECK(qt_profitdll_feed_add_instrument(W_WDO, 1, 0.5) == 0);
    CHECK(qt_profitdll_feed_add_instrument(W_WIN, 2, 5.0) == 0);
    CHECK(qt_profitdll_feed_add_instrument(W_WDO, 1, 0.5) == 0);  /* same again: fine */
    CHECK(qt_profitdll_feed_add_instrument(W_WDO, 3, 0.5) == -3); /* other id: refused */
    CHECK(qt_profitdll_feed_add_instrument(W_OTHER, 4, -1.0) == -1);
    CHECK(qt_profitdll_feed_attach(market, orders) == 0);
    CHECK(qt_profitdll_feed_reset() == -1); /* not while attached */

    /* 1. trades */
    uint16_t date[32];
    qt_profitdll_on_state(QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTED);
    qt_profitdll_on_trade(asset(W_WDO), u16("24/11/2025 10:15:30.250", date), 1001, 5123.5, 51235.0,
                     1, 3, 72, QT_PROFITDLL_TT_BUY_AGGRESSION, 0);
    qt_profitdll_on_trade(asset(W_WIN), u16("24/11/2025 10:15:31.000", date), 7, 155005.0, 0, 2, 1, 2,
                     QT_PROFITDLL_TT_SELL_AGGRESSION, 0x10001 & 0xFFFF);
    fake_trade ft;
    memset(&ft, 0, sizeof(ft));
    ft.t.TradeDate = (TSystemTime){2025, 11, 1, 24, 10, 15, 32, 500};
    ft.t.TradeNumber = 1002;
    ft.t.Price = 5124.0;
    ft.t.Quantity = 3;
    ft.t.BuyAgent = 8;
    ft.t.SellAgent = 9;
    ft.t.TradeType = QT_PROFITDLL_TT_CROSS;
    TConnectorAssetIdentifier a2 = {0, W_WDO, W_F, 0};
    qt_profitdll_on_trade_v2(a2, &ft, TC_IS_EDIT);
    qt_profitdll_on_history_trade_v2(a2, &ft, TC_LAST_PACKET);
    qt_profitdll_on_history_trade_v2(a2, NULL, TC_LAST_PACKET); /* end marker without a trade */
    drain();
    CHECK(n_got == 5);
    CHECK(got[0].type == QT_EV_CONN_STATE && got[0].a == 2 && got[0].b == 4);
    CHECK(got[0].instrument == QT_PROFITDLL_ALL_INSTRUMENTS);
    int64_t t0 = qt_profitdll_local_to_utc_ns(2025, 11, 24, 13, 15, 30, 250, 0); /* 10:15 at -3h */
    CHECK(got[1].type == QT_EV_TRADE && got[1].instrument == 1 && got[1].price == 10247);
    CHECK(got[1].exch_ns == t0 && !(got[1].flags & QT_F_RAW_DATE));
    CHECK(got[1].ref == 1001 && got[1].qty == 1 && got[1].a == 3 && got[1].b == 72);
    CHECK(got[1].code == QT_PROFITDLL_TT_BUY_AGGRESSION && got[1].flags == 0);
    CHECK(got[2].instrument == 2 && got[2].price == 31001 && (got[2].flags & QT_F_EDIT));
    CHECK(got[3].price == 10248 && got[3].qty == 3 && got[3].flags == QT_F_EDIT);
    CHECK(got[3].exch_ns == qt_profitdll_local_to_utc_ns(2025, 11, 24, 13, 15, 32, 500, 0));
    CHECK(got[4].flags == (QT_F_HISTORY | QT_F_LAST));
    for (uint64_t i = 1; i < n_got; i++) CHECK(got[i].seq == got[i - 1].seq + 1);
    qt_profitdll_feed_counters c = counters();
    CHECK(c.history_done == 2 && c.history_trades == 1 && c.translate_errors == 0);
    CHECK(c.invalid == 0 && c.records == 5);

    /* 2. malformed */
    qt_profitdll_on_trade(asset(W_WDO), NULL, 1, NAN, 0, 1, 0, 0, 2, 0);
    qt_profitdll_on_trade(asset(W_WDO), NULL, 2, -5123.0, 0, 1, 0, 0, 2, 0);
    qt_profitdll_on_trade(asset(W_WDO), NULL, 3, 5123.3, 0, 1, 0, 0, 2, 0); /* off the 0.5 grid */
    qt_profitdll_on_trade(asset(W_WDO), NULL, 4, 5123.0, 0, -5, 0, 0, 2, 0);
    qt_profitdll_on_trade(asset(W_WDO), NULL, 5, INFINITY, 0, 1, 0, 0, 2, 0);
    qt_profitdll_on_price_book(asset(W_WDO), 9, 0, 0, 1, 1, 5000.0, NULL, NULL);
    qt_profitdll_on_tiny_book(asset(W_WDO), 5000.0, 1, 7);
    qt_profitdll_on_trade(asset(W_OTHER), NULL, 6, 10.0, 0, 1, 0, 0, 2, 0);
    qt_profitdll_on_trade((TAssetID){NULL, NULL, 0}, NULL, 6, 10.0, 0, 1, 0, 0, 2, 0);
    drain();
    CHECK(n_got == 7);
    for (uint64_t i = 0; i < n_got; i++) CHECK(got[i].flags & QT_F_INVALID);
    CHECK(got[0].price == QT_PRICE_NONE);
    c = counters();
    CHECK(c.invalid == 7 && c.unknown_instrument == 2);

    /* 3. price book: full book in two packets, then actions */
    int freed_before = freed_arrays;
    /* packet 1: buy side complete (3 levels), sell side first 2 of 3 */
    qt_profitdll_on_price_book(asset(W_WDO), 4, 0, 0, 0, 0, 0.0, price_array(2, 5130.0, -0.5, 0),
                          price_array(3, 5120.0, 0.5, 1));
    /* packet 2: the rest of the sell side */
    qt_profitdll_on_price_book(asset(W_WDO), 4, 0, 0, 0, 0, 0.0, price_array(1, 5129.0, -0.5, 1), NULL);
    qt_profitdll_on_price_book(asset(W_WDO), QT_PROFITDLL_BA_ADD, 0, 0, 7, 2, 5121.5, NULL, NULL);
    qt_profitdll_on_price_book(asset(W_WDO), QT_PROFITDLL_BA_DELETE, 0, 1, 0, 0, 0.0, NULL, NULL);
    CHECK(freed_arrays == freed_before + 3);
    drain();
    /* BEGIN(2) + 3 buy + 2 sell + END, then 1 sell + END(last), then 2 actions */
    CHECK(n_got == 7 + 2 + 2);
    CHECK(got[0].type == QT_EV_SNAPSHOT_BEGIN && got[0].side == 2);
    CHECK(got[6].type == QT_EV_SNAPSHOT_END && !(got[6].flags & QT_F_LAST));
    CHECK(got[8].type == QT_EV_SNAPSHOT_END && (got[8].flags & QT_F_LAST));
    CHECK(got[9].type == QT_EV_PRICE_BOOK && got[9].price == 10243 && got[9].qty == 7);
    CHECK(got[10].code == QT_PROFITDLL_BA_DELETE && got[10].price == QT_PRICE_NONE);
    /* every book record carries the server clock of its callback (10:16:00.125 at -3h) */
    int64_t t_book = qt_profitdll_local_to_utc_ns(2025, 11, 24, 13, 16, 0, 125, 0);
    for (uint64_t i = 0; i < n_got; i++) CHECK(got[i].exch_ns == t_book);
    CHECK(counters().clock_errors == 0);
    qt_book *book = qt_book_create(1, 0);
    qt_book_apply_n(book, got, n_got);
    qt_book_counters bc;
    qt_book_get_counters(book, &bc);
    CHECK(bc.rejected == 0 && bc.snapshots == 1);
    CHECK(qt_book_size(book, 0) == 4 && qt_book_size(book, 1) == 2);
    CHECK(qt_book_best_price(book, 0) == 10243); /* 5121.5 */
    CHECK(qt_book_best_price(book, 1) == 10259); /* 5129.0 deleted: best ask 5129.5 */
    CHECK(qt_book_check(book) == 0);
    qt_book_destroy(book);

    /* one clock reading per callback; a failing clock leaves the record untimed, counted */
    clock_calls = 0;
    clock_now.wMilliseconds = 126;
    qt_profitdll_on_price_book(asset(W_WDO), QT_PROFITDLL_BA_EDIT, 0, 0, 9, 3, 0.0, NULL, NULL);
    clock_now.wYear = 0;
    qt_profitdll_on_price_book(asset(W_WDO), QT_PROFITDLL_BA_EDIT, 0, 0, 8, 3, 0.0, NULL, NULL);
    clock_now.wYear = 2025;
    qt_profitdll_on_tiny_book(asset(W_WDO), 5121.5, 8, 0);
    drain();
    CHECK(n_got == 3 && clock_calls == 3);
    CHECK(got[0].exch_ns == qt_profitdll_local_to_utc_ns(2025, 11, 24, 13, 16, 0, 126, 0));
    CHECK(got[1].exch_ns == QT_TIME_NONE && counters().clock_errors == 1);
    CHECK(got[2].type == QT_EV_TINY_BOOK && got[2].exch_ns == got[0].exch_ns);

    /* malformed array: header size smaller than its count needs */
    uint8_t *bad = price_array(4, 5000, 0.5, 1);
    int32_t lie = 20;
    memcpy(bad + 4, &lie, 4);
    int32_t freed0 = freed_arrays;
    uint64_t bad0 = counters().bad_arrays;
    /* fake_free checks the size it is given equals the header's */
    qt_profitdll_on_price_book(asset(W_WDO), 4, 0, 0, 0, 0, 0.0, NULL, bad);
    CHECK(freed_arrays == freed0 + 1 && counters().bad_arrays == bad0 + 1);
    drain();

    /* daily: DAILY + RANGE + LIMITS share the date */
    qt_profitdll_on_daily(asset(W_WDO), u16("24/11/2025 10:20:00.000", date), 5100.0, 5150.0, 5090.0,
                     5123.5, 1e9, 0, 5600.0, 4600.0, 0, 0, 1000, 500, 300000, 0, 0, 0, 0);
    qt_profitdll_on_ticker_state(asset(W_WDO), u16("24/11/2025 11:30:00.000", date), QT_PROFITDLL_TS_AUCTION);
    drain();
    CHECK(n_got == 4);
    CHECK(got[0].type == QT_EV_DAILY && got[0].price == 10247 && got[0].ref == 10200);
    CHECK(got[1].type == QT_EV_DAILY_RANGE && got[1].price == 10300 && got[1].ref == 10180);
    CHECK(got[2].type == QT_EV_DAILY_LIMITS && got[2].price == 11200 && got[2].ref == 9200);
    CHECK(got[1].exch_ns == got[0].exch_ns && got[2].exch_ns == got[0].exch_ns);
    CHECK(got[0].exch_ns == qt_profitdll_local_to_utc_ns(2025, 11, 24, 13, 20, 0, 0, 0));
    CHECK(got[3].type == QT_EV_PHASE && got[3].code == QT_PROFITDLL_TS_AUCTION);

    /* offer book: an action with its raw date, then a full book of variable-length entries */
    freed0 = freed_arrays;
    bad0 = counters().bad_arrays;
    qt_profitdll_on_offer_book(asset(W_WDO), QT_PROFITDLL_BA_ADD, 0, 1, 10, 72, 123456789LL, 5124.0, 1, 1, 1, 1,
                          1, u16("24/11/2025 10:21:00.500", date), NULL, NULL);
    qt_profitdll_on_offer_book(asset(W_WDO), QT_PROFITDLL_BA_EDIT, 0, 1, -3, 72, 123456789LL, 0.0, 0, 1, 0, 1,
                          0, NULL, NULL, NULL); /* qty delta -3: valid on an edit */
    qt_profitdll_on_offer_book(asset(W_WDO), QT_PROFITDLL_BA_FULL_BOOK, 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, NULL,
                          offer_array(2, 5125.0, 1, 0), offer_array(3, 5120.0, 0, 0));
    qt_profitdll_on_offer_book(asset(W_WDO), QT_PROFITDLL_BA_FULL_BOOK, 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, NULL,
                          NULL, offer_array(1, 5119.0, 1, 1)); /* date_len runs past the array */
    CHECK(freed_arrays == freed0 + 3 && counters().bad_arrays == bad0 + 1);
    drain();
    CHECK(n_got == 2 + 5);
    CHECK(got[0].type == QT_EV_OFFER_BOOK && got[0].code == QT_PROFITDLL_BA_ADD && got[0].side == 1);
    CHECK(got[0].price == 10248 && got[0].qty == 10 && got[0].b == 72 && got[0].ref == 123456789LL);
    CHECK(got[0].aux == 0x1f && got[0].exch_ns == qt_profitdll_local_to_utc_ns(2025, 11, 24, 13, 21, 0, 500, 0));
    /* an offer without its own date takes the server clock */
    CHECK(got[1].exch_ns == qt_profitdll_local_to_utc_ns(2025, 11, 24, 13, 16, 0, 126, 0));
    CHECK(got[1].qty == -3 && got[1].price == QT_PRICE_NONE && !(got[1].flags & QT_F_INVALID));
    CHECK(got[1].aux == (QT_OB_HAS_QTY | QT_OB_HAS_OFFER_ID));
    /* buy side first: 3 offers, no last flag; then the sell side's 2, last flagged */
    CHECK(got[2].code == QT_BA_FULL_BOOK && got[2].side == 0 && got[2].ref == 9000 && got[2].b == 100);
    CHECK(!(got[4].flags & QT_F_LAST) && got[4].a == 2);
    CHECK(got[5].side == 1 && got[6].side == 1 && (got[6].flags & QT_F_LAST) && got[6].qty == 6);

    /* 4. ring full: drops counted, then a gap in front of the next push */
    uint64_t pushed_ok = 0;
    for (int i = 0; i < (1 << 16) + 100; i++) qt_profitdll_on_tiny_book(asset(W_WDO), 5000.0, 1, 0);
    c = counters();
    CHECK(c.records_dropped == 100);
    pushed_ok = (1 << 16);
    while (qt_ring_pop(market, got, 65536)) {
    }
    qt_profitdll_on_tiny_book(asset(W_WDO), 5000.5, 1, 1);
    drain();
    CHECK(n_got == 2);
    CHECK(got[0].type == QT_EV_FEED_GAP && got[0].a == QT_GAP_RING_FULL && got[0].qty == 100);
    CHECK(got[1].type == QT_EV_TINY_BOOK && got[1].seq == got[0].seq + 1);
    CHECK(counters().gaps_reported == 1);
    (void)pushed_ok;

    /* 5. disconnects */
    qt_profitdll_on_state(QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTING); /* was up: gap */
    qt_profitdll_on_state(QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_DISCONNECTED); /* already down */
    qt_profitdll_on_state(QT_PROFITDLL_CONN_ROUTING, QT_PROFITDLL_ROUTING_BROKER_CONNECTED);
    qt_profitdll_on_state(QT_PROFITDLL_CONN_ROUTING, QT_PROFITDLL_ROUTING_BROKER_DISCONNECTED);
    drain();
    CHECK(n_got == 5);
    CHECK(got[1].type == QT_EV_FEED_GAP && got[1].a == QT_GAP_DISCONNECT);
    CHECK(got[2].type == QT_EV_CONN_STATE);
    qt_order_update ou[4];
    CHECK(qt_ring_pop(orders, ou, 4) == 1 && ou[0].type == QT_OU_VENUE_LOST);

    /* 6. orders */
    uint16_t cl[64];
    TConnectorOrderIdentifier oid = {0, 42, u16("CLORD-0001", cl)};
    details_calls = 0;
    qt_profitdll_on_order(oid);
    CHECK(details_calls == 2);
    oid.LocalOrderID = 999;
    qt_profitdll_on_order(oid);
    CHECK(qt_ring_pop(orders, ou, 4) == 2);
    CHECK(ou[0].type == QT_OU_ORDER && ou[0].local_id == 42 && ou[0].instrument == 1);
    CHECK(ou[0].quantity == 5 && ou[0].cum_qty == 2 && ou[0].leaves_qty == 3);
    CHECK(ou[0].status == QT_PROFITDLL_ST_PARTIALLY_FILLED && ou[0].side == 1 && ou[0].event_id == 77);
    CHECK(ou[0].cl_ord_id_len == 10 && ou[0].cl_ord_id[0] == 'C' && ou[0].cl_ord_id[9] == '1');
    CHECK(ou[1].flags & QT_OU_F_NO_DETAILS && ou[1].error_code == NL_NOT_FOUND);
    CHECK(counters().order_detail_errors == 1);
    /* the lossless ring refuses when full and says so for good */
    for (int i = 0; i < 70; i++) qt_profitdll_on_order(oid);
    CHECK(qt_ring_overflowed(orders) && counters().order_ring_lost == 6);

    /* 7. another thread */
    qt_thread th;
    CHECK(qt_thread_start(&th, foreign_caller, NULL) == 0);
    qt_thread_join(&th);
    CHECK(counters().foreign_thread_calls == 1);
    drain();
    CHECK(n_got == 1 && got[0].type == QT_EV_TINY_BOOK);

    /* 8. decoder edge cases */
    qt_profitdll_decoder d;
    qt_profitdll_decoder_init(&d, -180);
    uint16_t s1[32];
    CHECK(qt_profitdll_parse_date(u16("31/12/2025 23:59:59.999", s1), 32, 0) ==
          qt_profitdll_local_to_utc_ns(2025, 12, 31, 23, 59, 59, 999, 0));
    CHECK(qt_profitdll_parse_date(u16("01/02/2024", s1), 32, -180) ==
          qt_profitdll_local_to_utc_ns(2024, 2, 1, 3, 0, 0, 0, 0));
    CHECK(qt_profitdll_parse_date(u16("29/02/2023 10:00:00", s1), 32, 0) == QT_TIME_NONE);
    CHECK(qt_profitdll_parse_date(u16("24/11/2025 10:00", s1), 32, 0) == QT_TIME_NONE);
    CHECK(qt_profitdll_parse_date(u16("24/11/2025 10:00:00.", s1), 32, 0) == QT_TIME_NONE);
    CHECK(qt_profitdll_parse_date(u16("24/11/2025 10:00:00.5", s1), 32, 0) ==
          qt_profitdll_local_to_utc_ns(2025, 11, 24, 10, 0, 0, 500, 0));
    CHECK(qt_profitdll_parse_date(u16("garbage", s1), 32, 0) == QT_TIME_NONE);
    qt_event in[3], out[4];
    memset(in, 0, sizeof(in));
    in[0].type = QT_EV_TRADE;
    in[0].flags = QT_F_RAW_DATE;
    in[1].type = QT_EV_EXT;
    memcpy((uint8_t *)&in[1] + 8, u16("not a date", s1), 20);
    in[2].type = QT_EV_EXT; /* orphan */
    CHECK(qt_profitdll_decode(&d, in, 1, out) == 0); /* held back */
    CHECK(qt_profitdll_decode(&d, in + 1, 2, out) == 1);
    CHECK(out[0].exch_ns == QT_TIME_NONE && out[0].flags == 0);
    CHECK(d.bad_dates == 1 && d.orphan_ext == 1);
    CHECK(qt_profitdll_decode(&d, in, 1, out) == 0);
    CHECK(qt_profitdll_decode_flush(&d, out) == 1 && d.missing_ext == 1);

    qt_profitdll_feed_detach();
    qt_profitdll_on_tiny_book(asset(W_WDO), 5000.0, 1, 0);
    CHECK(qt_ring_available(market) == 0);
    CHECK(qt_profitdll_feed_reset() == 0);
    CHECK(counters().records == 0 && qt_profitdll_feed_instruments() == 0);

    /* detach ends the session: its library may be unloaded next, so a later
     * callback (rings attached again without a login) never calls into it */
    CHECK(qt_profitdll_feed_add_instrument(W_WDO, 1, 0.5) == 0);
    CHECK(qt_profitdll_feed_attach(market, orders) == 0);
    clock_calls = 0;
    qt_profitdll_on_price_book(asset(W_WDO), QT_PROFITDLL_BA_EDIT, 0, 0, 9, 3, 0.0, NULL, NULL);
    drain();
    CHECK(clock_calls == 0 && n_got == 1 && got[0].exch_ns == QT_TIME_NONE);
    CHECK(counters().clock_errors == 1);
    qt_profitdll_feed_detach();
    qt_ring_destroy(market);
    qt_ring_destroy(orders);
    printf("test_profitdll_callbacks: ok\n");
    return 0;
}
