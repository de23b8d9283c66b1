/* ProfitDLL callback entry points (qt_profitdll_feed.h).
 *
 * Runs on the DLL's ConnectorThread, which also delivers every other piece
 * of market data: each entry point copies, converts a few numbers and
 * returns.  No Python, no allocation, no system call on the common path
 * (the thread id is cached per thread; the monotonic clock is a vDSO read). */
#include <math.h>
#include <string.h>

#include "platform/qt_atomic.h"
#include "profitdll/qt_profitdll_consumer.h"
#include "profitdll/qt_profitdll_decode.h"
#include "profitdll/qt_profitdll_feed.h"
#include "market/qt_ring.h"

typedef struct feed_instrument {
    qt_profitdll_wchar ticker[QT_PROFITDLL_TICKER_MAX + 1];
    uint32_t len;
    uint16_t id;
    double price_unit;
} feed_instrument;

/* Full-book progress of one instrument's price book. */
typedef struct feed_snapshot {
    uint8_t open; /* sides of the full book being received (bit 0 buy, bit 1 sell) */
    uint8_t done; /* sides whose OB_LAST_PACKET has arrived */
} feed_snapshot;

typedef _Atomic(qt_profitdll_TranslateTrade_fn) atomic_translate_fn;
typedef _Atomic(qt_profitdll_FreePointer_fn) atomic_free_fn;
typedef _Atomic(qt_profitdll_GetOrderDetails_fn) atomic_details_fn;
typedef _Atomic(qt_profitdll_GetServerClock_fn) atomic_clock_fn;

static struct feed {
    _Atomic(qt_ring *) market;
    _Atomic(qt_ring *) orders;
    qt_atomic_u32 lock; /* producer lock: serialises pushes of concurrent callers */
    qt_atomic_u64 callback_thread;
    qt_atomic_u64 foreign_calls;

    qt_atomic_u32 n_instruments; /* published with release after the entry is written */
    feed_instrument inst[QT_PROFITDLL_MAX_INSTRUMENTS];
    feed_snapshot snap[QT_PROFITDLL_MAX_INSTRUMENTS];
    uint32_t last_hit;

    atomic_translate_fn translate;
    atomic_free_fn free_pointer;
    atomic_details_fn get_details;
    atomic_clock_fn server_clock;
    qt_atomic_i32 utc_offset_min;
    qt_atomic_u32 order_out_version; /* 1 until the DLL says VERSION_NOT_SUPPORTED */

    /* under the lock */
    uint64_t seq;
    uint64_t order_seq;
    uint64_t pending_lost; /* records lost to a full ring, not yet reported */
    int market_up, routing_up;
    uint32_t staged;

    /* counters: written under the lock with relaxed stores, read anywhere */
    qt_atomic_u64 calls[QT_PROFITDLL_CB__COUNT];
    qt_atomic_u64 records, records_dropped, gaps_reported, invalid, unknown_instrument,
        detached_calls, bad_arrays, arrays_freed, free_errors, levels_truncated, translate_errors,
        history_trades, history_done, order_updates, order_detail_errors, order_ring_lost,
        venue_lost, clock_errors;
    _Atomic int64_t history_progress;
    qt_atomic_i32 conn_state[4];

    /* scratch: slot 0 is kept for a FEED_GAP in front of the staged records */
    qt_event scratch[1 + QT_PROFITDLL_BOOK_SCRATCH + 8];
} g = {
    .order_out_version = QT_PROFITDLL_ORDER_OUT_VERSION,
    .utc_offset_min = -180,
    .history_progress = -1,
    .conn_state = {-1, -1, -1, -1},
};

#define STAGE_CAP (QT_PROFITDLL_BOOK_SCRATCH + 8)

static inline void bump(qt_atomic_u64 *c, uint64_t n) {
    qt_store_relaxed(c, qt_load_relaxed(c) + n);
}

/* ------------------------------------------------------------------ */
/* entry / exit                                                       */

static _Thread_local uint64_t tl_thread_id;

static inline void lock(void) {
    while (atomic_exchange_explicit(&g.lock, 1u, memory_order_acquire))
        while (qt_load_relaxed(&g.lock)) qt_cpu_relax();
}
static inline void unlock(void) { qt_store_release(&g.lock, 0u); }

/* Count the call, check the thread, take the lock.  Returns the market
 * ring, or NULL (lock released) when none is attached. */
static void check_thread(void) {
    uint64_t tid = tl_thread_id;
    if (QT_UNLIKELY(tid == 0)) tid = tl_thread_id = qt_thread_id();
    uint64_t first = qt_load_relaxed(&g.callback_thread);
    if (QT_LIKELY(first == tid)) return;
    if (first == 0) {
        uint64_t expected = 0;
        if (atomic_compare_exchange_strong(&g.callback_thread, &expected, tid) || expected == tid)
            return;
    }
    qt_fetch_add_relaxed(&g.foreign_calls, 1);
}

static qt_ring *enter(int cb) {
    check_thread();
    lock();
    bump(&g.calls[cb], 1);
    qt_ring *r = atomic_load_explicit(&g.market, memory_order_acquire);
    if (QT_UNLIKELY(!r)) {
        bump(&g.detached_calls, 1);
        unlock();
        return NULL;
    }
    g.staged = 0;
    return r;
}

/* A fresh record in the staging area (never NULL: callers check room). */
static inline qt_event *stage(uint8_t type, uint16_t instrument) {
    qt_event *e = &g.scratch[1 + g.staged++];
    memset(e, 0, sizeof(*e));
    e->type = type;
    e->instrument = instrument;
    e->exch_ns = QT_TIME_NONE;
    e->price = QT_PRICE_NONE;
    return e;
}

static inline uint32_t stage_room(void) { return STAGE_CAP - g.staged; }

/* Raw UTF-16 date after its parent. */
static void stage_date(qt_event *parent, const qt_profitdll_wchar *date) {
    if (!date) return;
    parent->flags |= QT_F_RAW_DATE;
    qt_event *x = stage(QT_EV_EXT, parent->instrument);
    uint16_t units[QT_PROFITDLL_EXT_UNITS];
    memset(units, 0, sizeof(units));
    for (int i = 0; i < QT_PROFITDLL_EXT_UNITS && date[i]; i++) units[i] = date[i];
    memcpy((uint8_t *)x + 8, units, sizeof(units));
}

static inline void flag_invalid(qt_event *e) {
    if (!(e->flags & QT_F_INVALID)) {
        e->flags |= QT_F_INVALID;
        bump(&g.invalid, 1);
    }
}

/* Push the staged records (and a pending gap report in front), unlock, and
 * tell the consumer.  Records refused by a full ring keep their sequence
 * numbers: the hole in seq is part of the evidence. */
static void commit(qt_ring *r, int64_t recv_ns) {
    uint32_t n = g.staged;
    if (n == 0) {
        unlock();
        return;
    }
    qt_event *from = &g.scratch[1];
    uint32_t count = n;
    if (g.pending_lost) {
        qt_event *gap = &g.scratch[0];
        memset(gap, 0, sizeof(*gap));
        gap->type = QT_EV_FEED_GAP;
        gap->instrument = QT_PROFITDLL_ALL_INSTRUMENTS;
        gap->seq = ++g.seq;
        gap->recv_ns = recv_ns;
        gap->exch_ns = QT_TIME_NONE;
        gap->price = QT_PRICE_NONE;
        gap->ref = -1;
        gap->qty = g.pending_lost > INT32_MAX ? INT32_MAX : (int32_t)g.pending_lost;
        gap->a = QT_GAP_RING_FULL;
        from = gap;
        count = n + 1;
    }
    uint32_t logical = 0;
    for (uint32_t i = 1; i <= n; i++) {
        qt_event *e = &g.scratch[i];
        if (e->type == QT_EV_EXT) continue; /* bytes 8.. are raw text */
        e->seq = ++g.seq;
        e->recv_ns = recv_ns;
        logical++;
    }
    if (qt_ring_push_n(r, from, count)) {
        bump(&g.records, logical);
        if (from != &g.scratch[1]) {
            bump(&g.gaps_reported, 1);
            g.pending_lost = 0;
        }
    } else {
        bump(&g.records_dropped, logical);
        g.pending_lost += logical;
    }
    unlock();
    qt_profitdll_after_market_();
}

/* ------------------------------------------------------------------ */
/* instruments and values                                             */

static size_t wlen(const qt_profitdll_wchar *s, size_t max) {
    size_t n = 0;
    if (!s) return 0;
    while (n <= max && s[n]) n++;
    return n;
}

/* Table slot of a ticker, or -1 (counted). */
static int find_instrument(const qt_profitdll_wchar *ticker) {
    uint32_t n = qt_load_acquire(&g.n_instruments);
    if (!ticker) goto unknown;
    size_t len = wlen(ticker, QT_PROFITDLL_TICKER_MAX);
    if (len > QT_PROFITDLL_TICKER_MAX) goto unknown;
    uint32_t h = g.last_hit;
    if (h < n && g.inst[h].len == len && memcmp(g.inst[h].ticker, ticker, len * 2) == 0)
        return (int)h;
    for (uint32_t i = 0; i < n; i++) {
        if (g.inst[i].len == len && memcmp(g.inst[i].ticker, ticker, len * 2) == 0) {
            g.last_hit = i;
            return (int)i;
        }
    }
unknown:
    bump(&g.unknown_instrument, 1);
    return -1;
}

/* price: 1 if a valid positive on-grid price was stored, 0 otherwise. */
static inline int set_price(int64_t *out, double price, double unit) {
    if (!(price > 0.0) || !isfinite(price)) {
        *out = QT_PRICE_NONE;
        return 0;
    }
    if (!qt_price_from_double(price, unit, out)) {
        *out = QT_PRICE_NONE;
        return 0;
    }
    return 1;
}

/* A price that may be absent (0 = none, as the DLL sends for empty sides
 * and daily fields not yet known) but never negative or NaN. */
static inline void set_optional_price(qt_event *e, int64_t *out, double price, double unit) {
    if (price == 0.0) {
        *out = QT_PRICE_NONE;
        return;
    }
    if (!set_price(out, price, unit)) flag_invalid(e);
}

/* The DLL's server clock as UTC ns (millisecond resolution: the clock's
 * finest field), or QT_TIME_NONE when there is none (counted).  Book
 * callbacks carry no time of their own; this one makes their records' time
 * windows mean the same live as in a recording. */
static int64_t server_time_ns(void) {
    qt_profitdll_GetServerClock_fn clock = atomic_load_explicit(&g.server_clock, memory_order_acquire);
    double tdatetime;
    int32_t y, mo, d, h, mi, s, ms;
    int64_t t = QT_TIME_NONE;
    if (clock && clock(&tdatetime, &y, &mo, &d, &h, &mi, &s, &ms) == NL_OK)
        t = qt_profitdll_local_to_utc_ns(y, mo, d, h, mi, s, ms, qt_load_relaxed(&g.utc_offset_min));
    if (t == QT_TIME_NONE) bump(&g.clock_errors, 1);
    return t;
}

/* Stamp the staged records that have no time of their own (not the EXT
 * continuations, not a parent whose date string follows). */
static void stamp_staged(int64_t t) {
    for (uint32_t i = 1; i <= g.staged; i++) {
        qt_event *e = &g.scratch[i];
        if (e->type != QT_EV_EXT && !(e->flags & QT_F_RAW_DATE) && e->exch_ns == QT_TIME_NONE)
            e->exch_ns = t;
    }
}

static int64_t systemtime_ns(const TSystemTime *t) {
    return qt_profitdll_local_to_utc_ns(t->wYear, t->wMonth, t->wDay, t->wHour, t->wMinute, t->wSecond,
                                   t->wMilliseconds, qt_load_relaxed(&g.utc_offset_min));
}

/* ------------------------------------------------------------------ */
/* connection state                                                   */

/* 1 if pushed (the consumer is told once the lock is released). */
static int push_order_update(const qt_order_update *u) {
    qt_ring *o = atomic_load_explicit(&g.orders, memory_order_acquire);
    if (!o) return 0;
    if (qt_ring_push(o, u)) {
        bump(&g.order_updates, 1);
        return 1;
    }
    bump(&g.order_ring_lost, 1); /* the ring is now marked overflowed for good */
    return 0;
}

void QT_PROFITDLL_CALL qt_profitdll_on_state(int32_t conn_type, int32_t result) {
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(QT_PROFITDLL_CB_STATE);
    if (!r) return;
    int order_pushed = 0;
    if (conn_type >= 0 && conn_type < 4) qt_store_relaxed(&g.conn_state[conn_type], result);
    qt_event *e = stage(QT_EV_CONN_STATE, QT_PROFITDLL_ALL_INSTRUMENTS);
    e->a = conn_type;
    e->b = result;
    if (conn_type < 0 || conn_type > 3) flag_invalid(e);
    if (conn_type == QT_PROFITDLL_CONN_MARKET_DATA) {
        if (result == QT_PROFITDLL_MARKET_CONNECTED) {
            g.market_up = 1;
        } else if (g.market_up) {
            g.market_up = 0;
            qt_event *gap = stage(QT_EV_FEED_GAP, QT_PROFITDLL_ALL_INSTRUMENTS);
            gap->a = QT_GAP_DISCONNECT;
            gap->ref = -1;
            gap->qty = -1;
            /* a full book cut by the drop is resent whole after reconnecting */
            memset(g.snap, 0, sizeof(g.snap));
        }
    } else if (conn_type == QT_PROFITDLL_CONN_ROUTING) {
        if (result == QT_PROFITDLL_ROUTING_BROKER_CONNECTED) {
            g.routing_up = 1;
        } else if (g.routing_up) {
            g.routing_up = 0;
            qt_order_update u;
            memset(&u, 0, sizeof(u));
            u.type = QT_OU_VENUE_LOST;
            u.instrument = QT_PROFITDLL_ALL_INSTRUMENTS;
            u.seq = ++g.order_seq;
            u.recv_ns = now;
            u.exch_ns = QT_TIME_NONE;
            u.error_code = result;
            bump(&g.venue_lost, 1);
            order_pushed = push_order_update(&u);
        }
    }
    commit(r, now);
    if (order_pushed) qt_profitdll_after_order_();
}

/* ------------------------------------------------------------------ */
/* trades                                                             */

static void stage_trade_v1(int slot, const qt_profitdll_wchar *date, uint32_t trade_number,
                           double price, int32_t qty, int32_t buy_agent, int32_t sell_agent,
                           int32_t trade_type, uint8_t flags) {
    const feed_instrument *in = &g.inst[slot];
    qt_event *e = stage(QT_EV_TRADE, in->id);
    e->flags = flags;
    e->ref = trade_number;
    e->qty = qty;
    e->a = buy_agent;
    e->b = sell_agent;
    e->code = (uint8_t)trade_type;
    if (!set_price(&e->price, price, in->price_unit) || qty <= 0 || trade_type < 0 ||
        trade_type > 255)
        flag_invalid(e);
    stage_date(e, date);
}

void QT_PROFITDLL_CALL qt_profitdll_on_trade(TAssetID asset, qt_profitdll_str date, uint32_t trade_number,
                                   double price, double volume, int32_t qty, int32_t buy_agent,
                                   int32_t sell_agent, int32_t trade_type,
                                   qt_profitdll_wchar is_edit) {
    (void)volume; /* price * qty * multiplier: derived, not stored */
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(QT_PROFITDLL_CB_TRADE);
    if (!r) return;
    int slot = find_instrument(asset.ticker);
    if (slot >= 0)
        stage_trade_v1(slot, date, trade_number, price, qty, buy_agent, sell_agent, trade_type,
                       is_edit ? QT_F_EDIT : 0);
    commit(r, now);
}

void QT_PROFITDLL_CALL qt_profitdll_on_history_trade(TAssetID asset, qt_profitdll_str date,
                                           uint32_t trade_number, double price, double volume,
                                           int32_t qty, int32_t buy_agent, int32_t sell_agent,
                                           int32_t trade_type) {
    (void)volume;
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(QT_PROFITDLL_CB_HISTORY_TRADE);
    if (!r) return;
    int slot = find_instrument(asset.ticker);
    if (slot >= 0) {
        stage_trade_v1(slot, date, trade_number, price, qty, buy_agent, sell_agent, trade_type,
                       QT_F_HISTORY);
        bump(&g.history_trades, 1);
    }
    commit(r, now);
}

static void trade_v2(int cb, TConnectorAssetIdentifier asset, const void *trade, uint32_t flags,
                     int history) {
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(cb);
    if (!r) return;
    if (history && (flags & TC_LAST_PACKET)) bump(&g.history_done, 1);
    int slot = find_instrument(asset.Ticker);
    if (slot < 0) {
        commit(r, now);
        return;
    }
    qt_profitdll_TranslateTrade_fn translate = atomic_load_explicit(&g.translate, memory_order_acquire);
    TConnectorTrade t;
    memset(&t, 0, sizeof(t));
    t.Version = QT_PROFITDLL_TRADE_VERSION;
    if (!trade || !translate || translate(trade, &t) != NL_OK) {
        /* the last packet of a history answer may carry no trade */
        if (trade || !(flags & TC_LAST_PACKET)) bump(&g.translate_errors, 1);
        commit(r, now);
        return;
    }
    const feed_instrument *in = &g.inst[slot];
    qt_event *e = stage(QT_EV_TRADE, in->id);
    if (flags & TC_IS_EDIT) e->flags |= QT_F_EDIT;
    if (history) {
        e->flags |= QT_F_HISTORY;
        if (flags & TC_LAST_PACKET) e->flags |= QT_F_LAST;
        bump(&g.history_trades, 1);
    }
    e->exch_ns = systemtime_ns(&t.TradeDate);
    e->ref = t.TradeNumber;
    e->qty = t.Quantity > INT32_MAX || t.Quantity < INT32_MIN ? -1 : (int32_t)t.Quantity;
    e->a = t.BuyAgent;
    e->b = t.SellAgent;
    e->code = t.TradeType;
    if (!set_price(&e->price, t.Price, in->price_unit) || t.Quantity <= 0 ||
        t.Quantity > INT32_MAX)
        flag_invalid(e);
    commit(r, now);
}

void QT_PROFITDLL_CALL qt_profitdll_on_trade_v2(TConnectorAssetIdentifier asset, const void *trade,
                                      uint32_t flags) {
    trade_v2(QT_PROFITDLL_CB_TRADE_V2, asset, trade, flags, 0);
}

void QT_PROFITDLL_CALL qt_profitdll_on_history_trade_v2(TConnectorAssetIdentifier asset,
                                              const void *trade, uint32_t flags) {
    trade_v2(QT_PROFITDLL_CB_HISTORY_TRADE_V2, asset, trade, flags, 1);
}

/* ------------------------------------------------------------------ */
/* daily, tiny book, phase, progress                                  */

void QT_PROFITDLL_CALL qt_profitdll_on_daily(TAssetID asset, qt_profitdll_str date, double open, double high,
                                   double low, double close, double volume, double adjust,
                                   double max_limit, double min_limit, double volume_buyer,
                                   double volume_seller, int32_t qty, int32_t trades,
                                   int32_t open_contracts, int32_t qty_buyer, int32_t qty_seller,
                                   int32_t trades_buyer, int32_t trades_seller) {
    /* volumes, adjustment and the buyer/seller split are not part of the
     * event record: the features derive them from the trades */
    (void)volume, (void)adjust, (void)volume_buyer, (void)volume_seller, (void)qty_buyer;
    (void)qty_seller, (void)trades_buyer, (void)trades_seller;
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(QT_PROFITDLL_CB_DAILY);
    if (!r) return;
    int slot = find_instrument(asset.ticker);
    if (slot >= 0) {
        const feed_instrument *in = &g.inst[slot];
        qt_event *d = stage(QT_EV_DAILY, in->id);
        set_optional_price(d, &d->price, close, in->price_unit);
        set_optional_price(d, &d->ref, open, in->price_unit);
        d->qty = qty;
        d->a = trades;
        d->b = open_contracts;
        if (qty < 0 || trades < 0 || open_contracts < 0) flag_invalid(d);
        stage_date(d, date);
        qt_event *rg = stage(QT_EV_DAILY_RANGE, in->id);
        set_optional_price(rg, &rg->price, high, in->price_unit);
        set_optional_price(rg, &rg->ref, low, in->price_unit);
        qt_event *lm = stage(QT_EV_DAILY_LIMITS, in->id);
        set_optional_price(lm, &lm->price, max_limit, in->price_unit);
        set_optional_price(lm, &lm->ref, min_limit, in->price_unit);
    }
    commit(r, now);
}

void QT_PROFITDLL_CALL qt_profitdll_on_tiny_book(TAssetID asset, double price, int32_t qty, int32_t side) {
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(QT_PROFITDLL_CB_TINY_BOOK);
    if (!r) return;
    int slot = find_instrument(asset.ticker);
    if (slot >= 0) {
        const feed_instrument *in = &g.inst[slot];
        qt_event *e = stage(QT_EV_TINY_BOOK, in->id);
        e->side = (uint8_t)side;
        e->qty = qty;
        set_optional_price(e, &e->price, price, in->price_unit);
        if (side < 0 || side > 1 || qty < 0) flag_invalid(e);
        stamp_staged(server_time_ns());
    }
    commit(r, now);
}

void QT_PROFITDLL_CALL qt_profitdll_on_ticker_state(TAssetID asset, qt_profitdll_str date, int32_t state) {
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(QT_PROFITDLL_CB_TICKER_STATE);
    if (!r) return;
    int slot = find_instrument(asset.ticker);
    if (slot >= 0) {
        qt_event *e = stage(QT_EV_PHASE, g.inst[slot].id);
        e->code = (uint8_t)state;
        if (state < 0 || state > 255) flag_invalid(e);
        stage_date(e, date);
    }
    commit(r, now);
}

void QT_PROFITDLL_CALL qt_profitdll_on_progress(TAssetID asset, int32_t progress) {
    (void)asset;
    qt_ring *r = enter(QT_PROFITDLL_CB_PROGRESS);
    if (!r) return;
    atomic_store_explicit(&g.history_progress, (int64_t)progress, memory_order_release);
    unlock();
}

/* ------------------------------------------------------------------ */
/* books                                                              */

/* Read an array's header; 1 if count and size agree with `min_bytes`
 * (the size of `count` entries plus header and trailer). */
static int array_header(const void *arr, int32_t *count, int32_t *size) {
    qt_profitdll_book_array_header h;
    memcpy(&h, arr, sizeof(h));
    *count = h.count;
    *size = h.size_bytes;
    return h.count >= 0 && h.size_bytes >= (int32_t)(sizeof(h) + QT_PROFITDLL_BOOK_TRAILER_SIZE);
}

static int32_t array_size(const void *arr) {
    qt_profitdll_book_array_header h;
    memcpy(&h, arr, sizeof(h));
    return h.size_bytes;
}

static void free_array(void *arr, int32_t size) {
    qt_profitdll_FreePointer_fn fp = atomic_load_explicit(&g.free_pointer, memory_order_acquire);
    if (!fp) return;
    if (fp(arr, size) != NL_OK) bump(&g.free_errors, 1);
    bump(&g.arrays_freed, 1);
}

/* The arrays of a book callback that are not read (or no longer needed):
 * the callback owns them and must hand them back. */
static void free_arrays(void *sell_array, void *buy_array) {
    if (sell_array) free_array(sell_array, array_size(sell_array));
    if (buy_array) free_array(buy_array, array_size(buy_array));
}

/* An incremental book action the DLL's rules cannot produce. */
static int bad_book_action(int32_t action, int32_t side, int32_t position) {
    return action < 0 || action > QT_PROFITDLL_BA_DELETE_FROM || side < 0 || side > 1 || position < 0;
}

/* One side of a price-book full book: L2 levels staged; returns the
 * trailer flags, or -1 if the array is malformed (nothing staged). */
static int64_t stage_price_array(const feed_instrument *in, int side, const void *arr,
                                 int *truncated) {
    int32_t count, size;
    if (!array_header(arr, &count, &size) ||
        (int64_t)count * (int64_t)sizeof(qt_profitdll_price_book_entry) >
            (int64_t)size - (int64_t)sizeof(qt_profitdll_book_array_header) - QT_PROFITDLL_BOOK_TRAILER_SIZE) {
        bump(&g.bad_arrays, 1);
        return -1;
    }
    const uint8_t *p = (const uint8_t *)arr + sizeof(qt_profitdll_book_array_header);
    for (int32_t i = 0; i < count; i++, p += sizeof(qt_profitdll_price_book_entry)) {
        if (stage_room() < 2) { /* keep one for SNAPSHOT_END */
            bump(&g.levels_truncated, (uint64_t)(count - i));
            *truncated = 1;
            break;
        }
        qt_profitdll_price_book_entry en;
        memcpy(&en, p, sizeof(en));
        qt_event *e = stage(QT_EV_L2_LEVEL, in->id);
        e->side = (uint8_t)side;
        e->qty = en.qty;
        e->b = en.count;
        if (!set_price(&e->price, en.price, in->price_unit) || en.qty <= 0 || en.count < 0)
            flag_invalid(e);
    }
    uint32_t flags;
    memcpy(&flags, (const uint8_t *)arr + sizeof(qt_profitdll_book_array_header) +
                       (size_t)count * sizeof(qt_profitdll_price_book_entry),
           sizeof(flags));
    return flags;
}

static void price_full_book(int slot, void *sell_array, void *buy_array) {
    const feed_instrument *in = &g.inst[slot];
    feed_snapshot *sn = &g.snap[slot];
    void *arr[2] = {buy_array, sell_array};
    int32_t sizes[2] = {0, 0};
    unsigned present = 0;
    for (int s = 0; s < 2; s++) {
        int32_t c;
        if (!arr[s]) continue;
        if (array_header(arr[s], &c, &sizes[s]))
            present |= 1u << s;
        else
            bump(&g.bad_arrays, 1);
    }
    if (present) {
        if (!sn->open || (present & sn->done) || (present & ~sn->open)) {
            /* a new full book (a side already complete shows up again) */
            qt_event *b = stage(QT_EV_SNAPSHOT_BEGIN, in->id);
            b->side = present == 3 ? 2 : (present == 1 ? 0 : 1);
            b->a = -1; /* the total arrives over several packets */
            sn->open = (uint8_t)present;
            sn->done = 0;
        }
        int truncated = 0;
        for (int s = 0; s < 2; s++) {
            if (!(present & (1u << s))) continue;
            int64_t fl = stage_price_array(in, s, arr[s], &truncated);
            if (fl < 0) {
                truncated = 1;
                continue;
            }
            if (fl & OB_LAST_PACKET) sn->done |= (uint8_t)(1u << s);
        }
        qt_event *end = stage(QT_EV_SNAPSHOT_END, in->id);
        end->side = present == 3 ? 2 : (present == 1 ? 0 : 1);
        if (truncated) {
            flag_invalid(end); /* the book keeps its old state, a new full book resets it */
            sn->open = sn->done = 0;
        } else if ((sn->done & sn->open) == sn->open) {
            end->flags |= QT_F_LAST;
            sn->open = sn->done = 0;
        }
    }
    for (int s = 0; s < 2; s++)
        if (arr[s]) free_array(arr[s], sizes[s]);
}

void QT_PROFITDLL_CALL qt_profitdll_on_price_book(TAssetID asset, int32_t action, int32_t position,
                                        int32_t side, int32_t qty, int32_t count, double price,
                                        void *sell_array, void *buy_array) {
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(QT_PROFITDLL_CB_PRICE_BOOK);
    if (!r) {
        /* the arrays are ours to free even when nobody listens */
        lock();
        free_arrays(sell_array, buy_array);
        unlock();
        return;
    }
    int slot = find_instrument(asset.ticker);
    if (slot < 0) {
        free_arrays(sell_array, buy_array);
    } else if (action == QT_PROFITDLL_BA_FULL_BOOK) {
        price_full_book(slot, sell_array, buy_array);
    } else {
        const feed_instrument *in = &g.inst[slot];
        qt_event *e = stage(QT_EV_PRICE_BOOK, in->id);
        e->code = (uint8_t)action;
        e->side = (uint8_t)side;
        e->a = position;
        int bad = bad_book_action(action, side, position);
        if (action == QT_PROFITDLL_BA_ADD || action == QT_PROFITDLL_BA_EDIT) {
            e->qty = qty;
            e->b = count;
            bad |= qty <= 0 || count < 0;
        }
        if (action == QT_PROFITDLL_BA_ADD && !set_price(&e->price, price, in->price_unit)) bad = 1;
        if (bad) flag_invalid(e);
        /* arrays come with full books only; free strays all the same */
        free_arrays(sell_array, buy_array);
    }
    if (g.staged) stamp_staged(server_time_ns());
    commit(r, now);
}

/* One side of an offer-book full book: entries are variable-length. */
static void stage_offer_array(const feed_instrument *in, int side, const void *arr) {
    int32_t count, size;
    if (!array_header(arr, &count, &size)) {
        bump(&g.bad_arrays, 1);
        return;
    }
    const uint8_t *base = (const uint8_t *)arr;
    size_t at = sizeof(qt_profitdll_book_array_header);
    size_t end = (size_t)size - QT_PROFITDLL_BOOK_TRAILER_SIZE;
    qt_event *last = NULL;
    for (int32_t i = 0; i < count; i++) {
        qt_profitdll_offer_book_entry en;
        if (at + sizeof(en) > end) {
            bump(&g.bad_arrays, 1);
            return;
        }
        memcpy(&en, base + at, sizeof(en));
        if (en.date_len < 0 || at + sizeof(en) + (size_t)en.date_len > end) {
            bump(&g.bad_arrays, 1);
            return;
        }
        at += sizeof(en) + (size_t)en.date_len;
        if (stage_room() < 1) {
            bump(&g.levels_truncated, (uint64_t)(count - i));
            break;
        }
        qt_event *e = stage(QT_EV_OFFER_BOOK, in->id);
        e->code = QT_BA_FULL_BOOK;
        e->side = (uint8_t)side;
        e->a = i;
        e->b = en.agent;
        e->ref = en.offer_id;
        e->qty = en.qty;
        e->aux = QT_OB_HAS_PRICE | QT_OB_HAS_QTY | QT_OB_HAS_OFFER_ID | QT_OB_HAS_AGENT;
        if (!set_price(&e->price, en.price, in->price_unit) || en.qty <= 0) flag_invalid(e);
        last = e;
    }
    uint32_t flags = 0;
    if (at + sizeof(flags) <= (size_t)size) memcpy(&flags, base + at, sizeof(flags));
    if (last && (flags & OB_LAST_PACKET)) last->flags |= QT_F_LAST;
}

void QT_PROFITDLL_CALL qt_profitdll_on_offer_book(TAssetID asset, int32_t action, int32_t position,
                                        int32_t side, int32_t qty, int32_t agent,
                                        int64_t offer_id, double price, qt_profitdll_wchar has_price,
                                        qt_profitdll_wchar has_qty, qt_profitdll_wchar has_date,
                                        qt_profitdll_wchar has_offer_id, qt_profitdll_wchar has_agent,
                                        qt_profitdll_str date, void *sell_array, void *buy_array) {
    int64_t now = qt_monotonic_ns();
    qt_ring *r = enter(QT_PROFITDLL_CB_OFFER_BOOK);
    if (!r) {
        lock();
        free_arrays(sell_array, buy_array);
        unlock();
        return;
    }
    int slot = find_instrument(asset.ticker);
    if (slot >= 0 && action == QT_PROFITDLL_BA_FULL_BOOK) {
        const feed_instrument *in = &g.inst[slot];
        if (buy_array) stage_offer_array(in, QT_SIDE_BUY, buy_array);
        if (sell_array) stage_offer_array(in, QT_SIDE_SELL, sell_array);
    } else if (slot >= 0) {
        const feed_instrument *in = &g.inst[slot];
        qt_event *e = stage(QT_EV_OFFER_BOOK, in->id);
        e->code = (uint8_t)action;
        e->side = (uint8_t)side;
        e->a = position;
        e->b = agent;
        e->ref = offer_id;
        e->qty = qty;
        uint16_t has = 0;
        if (has_price) has |= QT_OB_HAS_PRICE;
        if (has_qty) has |= QT_OB_HAS_QTY;
        if (has_date) has |= QT_OB_HAS_DATE;
        if (has_offer_id) has |= QT_OB_HAS_OFFER_ID;
        if (has_agent) has |= QT_OB_HAS_AGENT;
        e->aux = has;
        int bad = bad_book_action(action, side, position);
        /* an edit's qty is a delta and may be negative */
        if (has_qty && action == QT_PROFITDLL_BA_ADD && qty <= 0) bad = 1;
        if (has_price && !set_price(&e->price, price, in->price_unit)) bad = 1;
        if (bad) flag_invalid(e);
        if (has_date) stage_date(e, date);
    }
    free_arrays(sell_array, buy_array);
    if (g.staged) stamp_staged(server_time_ns());
    commit(r, now);
}

/* ------------------------------------------------------------------ */
/* orders                                                             */

void QT_PROFITDLL_CALL qt_profitdll_on_order(TConnectorOrderIdentifier order) {
    int64_t now = qt_monotonic_ns();
    check_thread();
    lock();
    bump(&g.calls[QT_PROFITDLL_CB_ORDER], 1);
    int attached = atomic_load_explicit(&g.orders, memory_order_acquire) != NULL;
    if (!attached) bump(&g.detached_calls, 1);
    unlock();
    if (!attached) return;
    /* GetOrderDetails runs inside the DLL, which may take its own locks:
     * call it outside ours. */
    qt_order_update u;
    memset(&u, 0, sizeof(u));
    u.type = QT_OU_ORDER;
    u.instrument = QT_PROFITDLL_ALL_INSTRUMENTS;
    u.recv_ns = now;
    u.exch_ns = QT_TIME_NONE;
    u.local_id = order.LocalOrderID;
    size_t cl = wlen(order.ClOrderID, QT_CLORDID_LEN);
    if (cl > QT_CLORDID_LEN) {
        cl = QT_CLORDID_LEN;
        u.flags |= QT_OU_F_CLORDID_TRUNCATED;
    }
    if (cl) memcpy(u.cl_ord_id, order.ClOrderID, cl * 2);
    u.cl_ord_id_len = (uint8_t)cl;

    qt_profitdll_GetOrderDetails_fn details =
        atomic_load_explicit(&g.get_details, memory_order_acquire);
    TConnectorOrderOut o;
    memset(&o, 0, sizeof(o));
    o.Version = (uint8_t)qt_load_relaxed(&g.order_out_version);
    o.OrderID = order;
    int32_t rc = details ? details(&o) : NL_NOT_INITIALIZED;
    if (rc == NL_VERSION_NOT_SUPPORTED && o.Version > 0) {
        qt_store_relaxed(&g.order_out_version, 0u); /* an older DLL: no EventID */
        memset(&o, 0, sizeof(o));
        o.OrderID = order;
        rc = details(&o);
    }
    /* second call with buffers for the strings whose lengths the first
     * reported; a string longer than our buffer is not asked for */
    qt_profitdll_wchar ticker[64], exchange[16], text[512];
    if (rc == NL_OK) {
        o.AssetID.Ticker = o.AssetID.TickerLength >= 0 && o.AssetID.TickerLength < 64 ? ticker : NULL;
        if (!o.AssetID.Ticker) o.AssetID.TickerLength = 0;
        o.AssetID.Exchange =
            o.AssetID.ExchangeLength >= 0 && o.AssetID.ExchangeLength < 16 ? exchange : NULL;
        if (!o.AssetID.Exchange) o.AssetID.ExchangeLength = 0;
        o.TextMessage = o.TextMessageLength >= 0 && o.TextMessageLength < 512 ? text : NULL;
        if (!o.TextMessage) o.TextMessageLength = 0;
        memset(ticker, 0, sizeof(ticker));
        rc = details(&o);
    }
    if (rc != NL_OK) {
        u.flags |= QT_OU_F_NO_DETAILS;
        u.error_code = rc;
    } else {
        u.local_id = o.OrderID.LocalOrderID ? o.OrderID.LocalOrderID : order.LocalOrderID;
        u.event_id = o.Version >= 1 ? o.EventID : 0;
        u.quantity = o.Quantity;
        u.cum_qty = o.TradedQuantity;
        u.leaves_qty = o.LeavesQuantity;
        u.avg_price = o.AveragePrice;
        u.price = o.Price;
        u.stop_price = o.StopPrice;
        u.status = o.OrderStatus;
        u.side = o.OrderSide;
        u.order_type = o.OrderType;
        u.exch_ns = systemtime_ns(&o.LastUpdate);
        if (o.AssetID.Ticker) {
            ticker[63] = 0;
            uint32_t n = qt_load_acquire(&g.n_instruments);
            size_t len = wlen(ticker, QT_PROFITDLL_TICKER_MAX);
            for (uint32_t i = 0; i < n; i++)
                if (g.inst[i].len == len && memcmp(g.inst[i].ticker, ticker, len * 2) == 0)
                    u.instrument = g.inst[i].id;
        }
    }
    lock();
    if (rc != NL_OK) bump(&g.order_detail_errors, 1);
    u.seq = ++g.order_seq;
    int pushed = push_order_update(&u);
    unlock();
    if (pushed) qt_profitdll_after_order_();
}

/* ------------------------------------------------------------------ */
/* configuration and counters                                         */

void qt_profitdll_feed_set_accessors(qt_profitdll_TranslateTrade_fn translate_trade,
                                qt_profitdll_FreePointer_fn free_pointer,
                                qt_profitdll_GetOrderDetails_fn get_order_details,
                                qt_profitdll_GetServerClock_fn get_server_clock) {
    atomic_store_explicit(&g.translate, translate_trade, memory_order_release);
    atomic_store_explicit(&g.free_pointer, free_pointer, memory_order_release);
    atomic_store_explicit(&g.get_details, get_order_details, memory_order_release);
    atomic_store_explicit(&g.server_clock, get_server_clock, memory_order_release);
}

int qt_profitdll_feed_attach(qt_ring *market, qt_ring *orders) {
    if (!market || market->slot_size != QT_EVENT_SIZE) return -1;
    if (orders && orders->slot_size != QT_ORDER_UPDATE_SIZE) return -1;
    lock();
    atomic_store_explicit(&g.orders, orders, memory_order_release);
    atomic_store_explicit(&g.market, market, memory_order_release);
    unlock();
    return 0;
}

void qt_profitdll_feed_detach(void) {
    lock(); /* a callback in flight holds it until it has pushed */
    atomic_store_explicit(&g.market, NULL, memory_order_release);
    atomic_store_explicit(&g.orders, NULL, memory_order_release);
    /* the session is over and its library may be unloaded next: a callback
     * must never call into it (GetServerClock runs in every book callback) */
    atomic_store_explicit(&g.translate, NULL, memory_order_release);
    atomic_store_explicit(&g.free_pointer, NULL, memory_order_release);
    atomic_store_explicit(&g.get_details, NULL, memory_order_release);
    atomic_store_explicit(&g.server_clock, NULL, memory_order_release);
    unlock();
}

int qt_profitdll_feed_add_instrument(const qt_profitdll_wchar *ticker, uint16_t id, double price_unit) {
    size_t len = wlen(ticker, QT_PROFITDLL_TICKER_MAX);
    if (!ticker || len == 0 || len > QT_PROFITDLL_TICKER_MAX || !(price_unit > 0.0) ||
        !isfinite(price_unit) || id == QT_PROFITDLL_ALL_INSTRUMENTS)
        return -1;
    lock(); /* registrations are serialised; readers need no lock */
    uint32_t n = qt_load_relaxed(&g.n_instruments);
    for (uint32_t i = 0; i < n; i++) {
        if (g.inst[i].len == len && memcmp(g.inst[i].ticker, ticker, len * 2) == 0) {
            int same = g.inst[i].id == id && g.inst[i].price_unit == price_unit;
            unlock();
            return same ? 0 : -3;
        }
    }
    if (n >= QT_PROFITDLL_MAX_INSTRUMENTS) {
        unlock();
        return -2;
    }
    feed_instrument *in = &g.inst[n];
    memset(in, 0, sizeof(*in));
    memcpy(in->ticker, ticker, len * 2);
    in->len = (uint32_t)len;
    in->id = id;
    in->price_unit = price_unit;
    g.snap[n].open = g.snap[n].done = 0;
    qt_store_release(&g.n_instruments, n + 1);
    unlock();
    return 0;
}

uint32_t qt_profitdll_feed_instruments(void) { return qt_load_acquire(&g.n_instruments); }

void qt_profitdll_feed_set_utc_offset(int32_t minutes) { qt_store_relaxed(&g.utc_offset_min, minutes); }
int32_t qt_profitdll_feed_utc_offset(void) { return qt_load_relaxed(&g.utc_offset_min); }

void qt_profitdll_feed_get_counters(qt_profitdll_feed_counters *out) {
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < QT_PROFITDLL_CB__COUNT; i++) out->calls[i] = qt_load_relaxed(&g.calls[i]);
    out->records = qt_load_relaxed(&g.records);
    out->records_dropped = qt_load_relaxed(&g.records_dropped);
    out->gaps_reported = qt_load_relaxed(&g.gaps_reported);
    out->invalid = qt_load_relaxed(&g.invalid);
    out->unknown_instrument = qt_load_relaxed(&g.unknown_instrument);
    out->foreign_thread_calls = qt_load_relaxed(&g.foreign_calls);
    out->detached_calls = qt_load_relaxed(&g.detached_calls);
    out->bad_arrays = qt_load_relaxed(&g.bad_arrays);
    out->arrays_freed = qt_load_relaxed(&g.arrays_freed);
    out->free_errors = qt_load_relaxed(&g.free_errors);
    out->levels_truncated = qt_load_relaxed(&g.levels_truncated);
    out->translate_errors = qt_load_relaxed(&g.translate_errors);
    out->history_trades = qt_load_relaxed(&g.history_trades);
    out->history_done = qt_load_relaxed(&g.history_done);
    out->order_updates = qt_load_relaxed(&g.order_updates);
    out->order_detail_errors = qt_load_relaxed(&g.order_detail_errors);
    out->order_ring_lost = qt_load_relaxed(&g.order_ring_lost);
    out->venue_lost = qt_load_relaxed(&g.venue_lost);
    out->clock_errors = qt_load_relaxed(&g.clock_errors);
    out->history_progress = atomic_load_explicit(&g.history_progress, memory_order_acquire);
    out->callback_thread = qt_load_relaxed(&g.callback_thread);
    for (int i = 0; i < 4; i++) out->conn_state[i] = qt_load_relaxed(&g.conn_state[i]);
}

void qt_profitdll_feed_clear_progress(void) {
    atomic_store_explicit(&g.history_progress, (int64_t)-1, memory_order_release);
}

int qt_profitdll_feed_reset(void) {
    lock();
    if (atomic_load_explicit(&g.market, memory_order_acquire)) {
        unlock();
        return -1;
    }
    qt_store_relaxed(&g.n_instruments, 0u);
    memset(g.snap, 0, sizeof(g.snap));
    g.last_hit = 0;
    g.seq = g.order_seq = g.pending_lost = 0;
    g.market_up = g.routing_up = 0;
    qt_store_relaxed(&g.order_out_version, (uint32_t)QT_PROFITDLL_ORDER_OUT_VERSION);
    qt_store_relaxed(&g.callback_thread, 0u);
    qt_store_relaxed(&g.foreign_calls, 0u);
    for (int i = 0; i < QT_PROFITDLL_CB__COUNT; i++) qt_store_relaxed(&g.calls[i], 0u);
    qt_atomic_u64 *cs[] = {&g.records, &g.records_dropped, &g.gaps_reported, &g.invalid,
                           &g.unknown_instrument, &g.detached_calls, &g.bad_arrays,
                           &g.arrays_freed, &g.free_errors, &g.levels_truncated, &g.translate_errors,
                           &g.history_trades, &g.history_done, &g.order_updates,
                           &g.order_detail_errors, &g.order_ring_lost, &g.venue_lost,
                           &g.clock_errors};
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) qt_store_relaxed(cs[i], 0u);
    atomic_store_explicit(&g.history_progress, (int64_t)-1, memory_order_relaxed);
    for (int i = 0; i < 4; i++) qt_store_relaxed(&g.conn_state[i], -1);
    unlock();
    return 0;
}
