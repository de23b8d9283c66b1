/* The simulator's connector thread: the one thread every callback runs on,
 * as ProfitDLL's ConnectorThread.  It logs in (state callbacks), loads the
 * event log, then replays it for the subscribed ticker and serves the
 * commands client threads queue (subscriptions, history, faults).
 *
 * Conventions of the replay (what a client of the real DLL would see):
 * - Trades go to NewTrade (V1) and the V2 trade callback (TranslateTrade
 *   reads the opaque record, valid only during the call).  Trades flagged
 *   QT_F_HISTORY in the log (history answers recorded live) are not replayed.
 * - Dates are local time "DD/MM/YYYY HH:mm:SS.ZZZ" of the record's exchange
 *   time, shifted by the configured UTC offset (default -3 h).
 * - L2 level updates become positional PriceBook actions (sim_book.h).
 *   PriceBook field validity follows the spec: price only in add, qty and
 *   count in add/edit, 0 elsewhere.  Full books (a log snapshot, a new
 *   price-book subscription, a reconnection) are sent as action 4 with
 *   arrays ordered worst-to-best (the order of the side lists, so appending
 *   packets rebuilds the list), split into packets of N levels per side,
 *   each array ending with the flags trailer, OB_LAST_PACKET on a side's
 *   last packet; a side with nothing left in a packet gets a NULL array.
 *   Arrays are allocated per call and released by the client with
 *   FreePointer (whatever is left is freed at DLLFinalize).
 * - Offer-book, tiny-book, daily and phase records of the log are passed
 *   through.  When the log has none, tiny book, daily and phases are
 *   synthesized: tiny book from the book's best levels after each complete
 *   book message; daily from the session's trades (limits = reference price
 *   +- SimSetDailyLimitPercent, the reference being the previous session's
 *   close, else the session's first trade); phases from the log's own
 *   session structure: pre-opening (13) at each session start, open (0)
 *   before the session's first trade that is not an auction print, closed (6)
 *   after its last record, plus the states of SimSetPhaseSchedule at their
 *   local times.  Synthesized phases are labels: they do not alter the
 *   replayed data (trades recorded during a scheduled "halt" still flow).
 * - Pacing: at speed > 0 records are released at their recorded receive
 *   times (recv_ns deltas / speed), pauses capped at SimSetMaxGapMs; at
 *   speed 0 as fast as the callbacks return.
 * - A market-data drop suppresses every market callback for its span (the
 *   book model and the order engine keep following the log, as the exchange
 *   keeps trading), then reconnects and resends full books, tiny book, daily
 *   and phase of the subscriptions.
 * - Orders: the order engine gets each market record before the client's
 *   callbacks do, synthesized phases and daily limits included (limits
 *   rounded inwards to whole price units); at speed > 0 its clock also runs
 *   between records so an order is acknowledged when its latency has passed;
 *   at the end of the log the market closes for it (sim_orders_on_end). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qt_events.h"
#include "sim_internal.h"
#include "sim_text.h"

#define SIM_MAX_SUBS 64

typedef struct sim_sub {
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
    unsigned kinds;
} sim_sub;

typedef struct sim_daily {
    int have; /* a trade or a recorded daily this session */
    double open, high, low, close, volume, adjust, max_limit, min_limit, vol_buyer, vol_seller;
    int64_t qty, trades, open_contracts, qty_buyer, qty_seller, trades_buyer, trades_seller;
    double prev_close; /* last session's close (0 if none) */
    int64_t time_ns;
} sim_daily;

typedef struct replay {
    sim_session *s;
    sim_log_cursor cur;
    int cursor_open, started, finished;
    sim_book book;

    char ticker[SIM_ID_LEN], exchange[SIM_EXCH_LEN];
    uint16_t wticker[SIM_ID_LEN], wexch[SIM_EXCH_LEN];
    double price_unit, qty_scale, multiplier;
    int utc_off, packet_levels;
    int synth_phases, synth_daily, synth_tiny;

    sim_sub subs[SIM_MAX_SUBS];
    int n_subs;
    unsigned served; /* sim_sub_kind bits subscribed on the served ticker */

    double speed;
    int64_t anchor_wall, anchor_log, prev_log, max_gap_ns;
    int anchored;
    int delay_us;

    int64_t clock; /* exchange time of the last record, UTC ns */

    int in_session, session_open, phase;
    int sched_fired[SIM_MAX_SCHEDULE];

    sim_daily daily;
    int daily_pending;

    int tiny_have[2];
    int64_t tiny_price[2], tiny_qty[2];

    int dropping;
    int64_t drop_until_log, drop_until_wall;
} replay;

/* ------------------------------------------------------------------------ */
/* small helpers                                                             */

static double to_price(const replay *r, int64_t p) {
    if (p == QT_PRICE_NONE) return NAN;
    return qt_price_to_double(p, r->price_unit);
}

static int64_t to_qty(const replay *r, int64_t q) {
    if (r->qty_scale == 1.0) return q;
    return (int64_t)llround((double)q / r->qty_scale);
}

static int32_t clamp32(int64_t v) {
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

static TAssetID asset_v1(replay *r) {
    TAssetID a;
    a.ticker = r->wticker;
    a.exchange = r->wexch;
    a.feed = 0;
    return a;
}

static TConnectorAssetIdentifier asset_v2(replay *r) {
    TConnectorAssetIdentifier a;
    memset(&a, 0, sizeof(a));
    a.Version = 0;
    a.Ticker = r->wticker;
    a.Exchange = r->wexch;
    a.FeedType = 0;
    return a;
}

static int64_t wall_now(void) { return qt_monotonic_ns(); }

static void set_clock(replay *r, int64_t t) {
    if (t == QT_TIME_NONE) return;
    r->clock = t;
    atomic_store(&r->s->clock_ns, t);
    atomic_store(&r->s->clock_wall_ns, wall_now());
}

/* Market callbacks are delivered only while the feed is up. */
static int live(const replay *r) { return !r->dropping && atomic_load(&r->s->market_ready); }

static void before_callback(replay *r) {
    if (r->delay_us > 0) qt_sleep_ns((int64_t)r->delay_us * 1000);
}

static void state_cb(sim_session *s, int type, int result) {
    TStateCallback cb = SIM_CB(s, state);
    SIM_COUNT(s, state_callbacks, 1);
    if (cb) cb(type, result);
}

/* ------------------------------------------------------------------------ */
/* the order engine sees every market record, before the client does: what  */
/* a client has seen has happened at the exchange, so an order it sends     */
/* from what it saw cannot trade against that record again                  */

static void engine_market(replay *r, const qt_event *ev) {
    sim_session *s = r->s;
    sim_mutex_lock(&s->lock);
    if (s->orders) sim_orders_on_market(s->orders, ev);
    sim_mutex_unlock(&s->lock);
}

/* Synthesized daily limits, as the record a recorded NewDaily would give:
 * the limits rounded inwards to whole price units. */
static void engine_limits(replay *r, double max_limit, double min_limit) {
    qt_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = QT_EV_DAILY_LIMITS;
    ev.exch_ns = ev.recv_ns = r->clock;
    ev.price = (int64_t)floor(max_limit / r->price_unit + 1e-9);
    ev.ref = (int64_t)ceil(min_limit / r->price_unit - 1e-9);
    engine_market(r, &ev);
}

static void engine_phase(replay *r, int state) {
    qt_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = QT_EV_PHASE;
    ev.code = (uint8_t)state;
    ev.exch_ns = r->clock;
    ev.recv_ns = r->clock;
    ev.price = QT_PRICE_NONE;
    engine_market(r, &ev);
}

/* ------------------------------------------------------------------------ */
/* deliveries                                                               */

static void deliver_trade_values(replay *r, int64_t t_ns, uint32_t number, double price, int64_t qty,
                                 int32_t buy, int32_t sell, int code, int edit) {
    sim_session *s = r->s;
    TNewTradeCallback v1 = SIM_CB(s, trade);
    TConnectorTradeCallback v2 = SIM_CB(s, trade_v2);
    if (!v1 && !v2) return;
    uint16_t date[SIM_DATE_LEN + 1];
    sim_format_date_u16(t_ns, r->utc_off, date);
    double volume = price * (double)qty * r->multiplier;
    before_callback(r);
    if (v1) v1(asset_v1(r), date, number, price, volume, clamp32(qty), buy, sell, code, (qt_pdll_wchar)(edit ? 1 : 0));
    if (v2) {
        sim_trade_obj obj;
        memset(&obj, 0, sizeof(obj));
        obj.magic = SIM_TRADE_MAGIC;
        sim_systemtime_from_ns(t_ns, r->utc_off, &obj.t.TradeDate);
        obj.t.TradeNumber = number;
        obj.t.Price = price;
        obj.t.Quantity = qty;
        obj.t.Volume = volume;
        obj.t.BuyAgent = buy;
        obj.t.SellAgent = sell;
        obj.t.TradeType = (uint8_t)code;
        v2(asset_v2(r), &obj, edit ? TC_IS_EDIT : 0u);
        obj.magic = 0; /* valid only during the call */
    }
}

static void deliver_trade(replay *r, const qt_event *ev) {
    int64_t t = ev->exch_ns == QT_TIME_NONE ? r->clock : ev->exch_ns;
    double price = to_price(r, ev->price);
    deliver_trade_values(r, t, (uint32_t)ev->ref, price, to_qty(r, ev->qty), ev->a, ev->b, ev->code,
                         (ev->flags & QT_F_EDIT) != 0);
    SIM_COUNT(r->s, trades_delivered, 1);
    TChangeCotation cot = SIM_CB(r->s, change_cotation); /* the last price moved with this trade */
    if (cot) {
        uint16_t date[SIM_DATE_LEN + 1];
        sim_format_date_u16(t, r->utc_off, date);
        cot(asset_v1(r), date, (uint32_t)ev->ref, price);
    }
}

static void deliver_book_action(replay *r, const sim_book_action *a) {
    sim_session *s = r->s;
    TPriceBookCallback v1 = SIM_CB(s, price_book);
    TPriceBookCallbackV2 v2 = SIM_CB(s, price_book_v2);
    if (!v1 && !v2) return;
    int has_qty = a->action == QT_PDLL_BA_ADD || a->action == QT_PDLL_BA_EDIT;
    double price = a->action == QT_PDLL_BA_ADD ? to_price(r, a->price) : 0.0;
    int64_t qty = has_qty ? to_qty(r, a->qty) : 0;
    int32_t count = has_qty ? a->count : 0;
    before_callback(r);
    if (v1) v1(asset_v1(r), a->action, a->position, a->side, clamp32(qty), count, price, NULL, NULL);
    if (v2) v2(asset_v1(r), a->action, a->position, a->side, qty, count, price, NULL, NULL);
    SIM_COUNT(s, book_actions_delivered, 1);
}

/* One packet's array of one side: levels [from, from+n) of the worst-to-best
 * list, header + entries + trailer.  NULL on allocation failure. */
static void *price_array(replay *r, const sim_side *sd, uint32_t from, uint32_t n, int v2, int last) {
    size_t entry = v2 ? sizeof(qt_pdll_price_book_entry_v2) : sizeof(qt_pdll_price_book_entry);
    size_t bytes = sizeof(qt_pdll_book_array_header) + (size_t)n * entry + QT_PDLL_BOOK_TRAILER_SIZE;
    uint8_t *p = (uint8_t *)sim_alloc_array(r->s, bytes);
    if (!p) return NULL;
    qt_pdll_book_array_header h = {(int32_t)n, (int32_t)bytes};
    memcpy(p, &h, sizeof(h));
    uint8_t *at = p + sizeof(h);
    for (uint32_t i = 0; i < n; i++) {
        const sim_level *l = &sd->lv[from + i];
        if (v2) {
            qt_pdll_price_book_entry_v2 e = {to_price(r, l->price), to_qty(r, l->qty), l->count};
            memcpy(at, &e, sizeof(e));
        } else {
            qt_pdll_price_book_entry e = {to_price(r, l->price), clamp32(to_qty(r, l->qty)), l->count};
            memcpy(at, &e, sizeof(e));
        }
        at += entry;
    }
    uint32_t flags = last ? OB_LAST_PACKET : 0u;
    memcpy(at, &flags, sizeof(flags));
    return p;
}

/* A full book of the sides in mask (bit 0 buy, bit 1 sell) as packets. */
static void deliver_full_book(replay *r, unsigned mask) {
    sim_session *s = r->s;
    if (!(SIM_CB(s, price_book) || SIM_CB(s, price_book_v2))) return;
    uint32_t per = (uint32_t)r->packet_levels;
    uint32_t packets = 1;
    for (int sd = 0; sd < 2; sd++) {
        if (!(mask & (1u << sd))) continue;
        uint32_t k = (r->book.side[sd].size + per - 1) / per;
        if (k > packets) packets = k;
    }
    for (uint32_t p = 0; p < packets; p++) {
        for (int v = 0; v < 2; v++) {
            TPriceBookCallback v1 = SIM_CB(s, price_book);
            TPriceBookCallbackV2 v2 = SIM_CB(s, price_book_v2);
            if ((v == 0 && !v1) || (v == 1 && !v2)) continue;
            void *arr[2] = {NULL, NULL};
            for (int sd = 0; sd < 2; sd++) {
                if (!(mask & (1u << sd))) continue;
                const sim_side *side = &r->book.side[sd];
                uint32_t from = p * per;
                if (from > side->size || (from == side->size && p > 0)) continue; /* side done */
                uint32_t n = side->size - from < per ? side->size - from : per;
                int last = from + n >= side->size;
                arr[sd] = price_array(r, side, from, n, v, last);
            }
            if (!arr[0] && !arr[1]) continue;
            before_callback(r);
            if (v == 0)
                v1(asset_v1(r), QT_PDLL_BA_FULL_BOOK, 0, 0, 0, 0, 0.0, arr[1], arr[0]);
            else
                v2(asset_v1(r), QT_PDLL_BA_FULL_BOOK, 0, 0, 0, 0, 0.0, arr[1], arr[0]);
            SIM_COUNT(s, full_book_packets, 1);
        }
    }
}

static void deliver_tiny(replay *r, int side, double price, int64_t qty) {
    TTinyBookCallback cb = SIM_CB(r->s, tiny_book);
    if (!cb) return;
    before_callback(r);
    cb(asset_v1(r), price, clamp32(qty), side);
    SIM_COUNT(r->s, tiny_book_delivered, 1);
}

/* Synthesized tiny book: the sides whose best level changed (force: all). */
static void update_tiny(replay *r, int force) {
    if (!r->synth_tiny) return;
    for (int sd = 0; sd < 2; sd++) {
        const sim_level *b = sim_book_best(&r->book, sd);
        if (!b) {
            r->tiny_have[sd] = 0;
            continue;
        }
        if (!force && r->tiny_have[sd] && r->tiny_price[sd] == b->price && r->tiny_qty[sd] == b->qty)
            continue;
        r->tiny_have[sd] = 1;
        r->tiny_price[sd] = b->price;
        r->tiny_qty[sd] = b->qty;
        if ((r->served & SIM_SUB_TICKER) && live(r)) deliver_tiny(r, sd, to_price(r, b->price), to_qty(r, b->qty));
    }
}

static void deliver_daily(replay *r) {
    sim_daily *d = &r->daily;
    TNewDailyCallback cb = SIM_CB(r->s, daily);
    if (!cb || !d->have) return;
    uint16_t date[SIM_DATE_LEN + 1];
    sim_format_date_u16(d->time_ns, r->utc_off, date);
    before_callback(r);
    cb(asset_v1(r), date, d->open, d->high, d->low, d->close, d->volume, d->adjust, d->max_limit, d->min_limit,
       d->vol_buyer, d->vol_seller, clamp32(d->qty), clamp32(d->trades), clamp32(d->open_contracts),
       clamp32(d->qty_buyer), clamp32(d->qty_seller), clamp32(d->trades_buyer), clamp32(d->trades_seller));
    SIM_COUNT(r->s, daily_delivered, 1);
}

static void flush_daily(replay *r) {
    if (!r->daily_pending) return;
    r->daily_pending = 0;
    if ((r->served & SIM_SUB_TICKER) && live(r)) deliver_daily(r);
}

static void deliver_phase(replay *r, int state) {
    TChangeStateTicker cb = SIM_CB(r->s, change_state_ticker);
    if (!cb) return;
    uint16_t date[SIM_DATE_LEN + 1];
    sim_format_date_u16(r->clock, r->utc_off, date);
    before_callback(r);
    cb(asset_v1(r), date, state);
    SIM_COUNT(r->s, phases_delivered, 1);
}

static void set_phase(replay *r, int state) {
    r->phase = state;
    engine_phase(r, state);
    if ((r->served & SIM_SUB_TICKER) && live(r)) deliver_phase(r, state);
}

/* What a new ticker subscription (or a reconnection) receives at once. */
static void send_ticker_state(replay *r) {
    if (r->phase >= 0) deliver_phase(r, r->phase);
    if (r->daily.have) deliver_daily(r);
    for (int sd = 0; sd < 2; sd++)
        if (r->synth_tiny && r->tiny_have[sd]) deliver_tiny(r, sd, to_price(r, r->tiny_price[sd]), to_qty(r, r->tiny_qty[sd]));
}

/* ------------------------------------------------------------------------ */
/* sessions, phases, daily                                                  */

static void end_session(replay *r) {
    if (!r->in_session) return;
    flush_daily(r);
    if (r->synth_phases) set_phase(r, QT_PDLL_TS_CLOSED);
    if (r->daily.have) r->daily.prev_close = r->daily.close;
    r->in_session = 0;
    r->session_open = 0;
}

static void begin_session(replay *r) {
    end_session(r);
    double prev = r->daily.prev_close;
    memset(&r->daily, 0, sizeof(r->daily));
    r->daily.prev_close = prev;
    r->daily_pending = 0;
    r->in_session = 1;
    r->session_open = 0;
    memset(r->sched_fired, 0, sizeof(r->sched_fired));
    if (r->synth_phases) set_phase(r, QT_PDLL_TS_PRE_OPENING);
}

/* Scheduled states whose local time the clock has reached (open session). */
static void run_schedule(replay *r) {
    const sim_config *c = &r->s->cfg;
    if (!c->n_schedule || !r->in_session || !r->session_open) return;
    sim_civil cv;
    sim_civil_from_ns(r->clock, r->utc_off, &cv);
    int minute = cv.hour * 60 + cv.minute;
    for (int i = 0; i < c->n_schedule; i++) {
        if (r->sched_fired[i] || c->schedule[i].minute_of_day > minute) continue;
        r->sched_fired[i] = 1;
        set_phase(r, c->schedule[i].state);
    }
}

static void daily_trade(replay *r, double price, int64_t qty, int code, int64_t t) {
    sim_daily *d = &r->daily;
    if (!(price == price) || qty <= 0 || !r->synth_daily) return; /* a recorded daily speaks for itself */
    double vol = price * (double)qty * r->multiplier;
    if (!d->have) {
        d->open = d->high = d->low = price;
        double ref = d->prev_close > 0 ? d->prev_close : price;
        double pct = r->s->cfg.daily_limit_pct / 100.0;
        d->adjust = d->prev_close;
        d->max_limit = ref * (1.0 + pct);
        d->min_limit = ref * (1.0 - pct);
        engine_limits(r, d->max_limit, d->min_limit);
    }
    if (price > d->high) d->high = price;
    if (price < d->low) d->low = price;
    d->close = price;
    d->have = 1;
    d->time_ns = t;
    d->volume += vol;
    d->qty += qty;
    d->trades++;
    if (code == QT_PDLL_TT_BUY_AGGRESSION) {
        d->vol_buyer += vol;
        d->qty_buyer += qty;
        d->trades_buyer++;
    } else if (code == QT_PDLL_TT_SELL_AGGRESSION) {
        d->vol_seller += vol;
        d->qty_seller += qty;
        d->trades_seller++;
    }
    r->daily_pending = 1;
}

/* ------------------------------------------------------------------------ */
/* market-data drops                                                        */

static void begin_drop(replay *r, int64_t ms) {
    if (ms < 0) ms = 0;
    if (!r->dropping) state_cb(r->s, QT_PDLL_CONN_MARKET_DATA, QT_PDLL_MARKET_DISCONNECTED);
    r->dropping = 1;
    r->drop_until_log = r->clock + ms * 1000000;
    r->drop_until_wall = wall_now() + ms * 1000000;
    SIM_COUNT(r->s, drops, 1);
}

static void end_drop(replay *r) {
    r->dropping = 0;
    state_cb(r->s, QT_PDLL_CONN_MARKET_DATA, QT_PDLL_MARKET_CONNECTING);
    state_cb(r->s, QT_PDLL_CONN_MARKET_DATA, QT_PDLL_MARKET_CONNECTED);
    /* a reconnected feed starts with the current state */
    if (r->served & SIM_SUB_PRICE_BOOK) deliver_full_book(r, 3u);
    if (r->served & SIM_SUB_TICKER) send_ticker_state(r);
}

static int replaying(const replay *r) { return r->started && !r->finished && r->cursor_open; }

/* A drop ends before the first record at or past its end (replay time),
 * or, while nothing replays, when its span has passed on the wall clock. */
static void check_drop_end(replay *r, const qt_event *next) {
    if (!r->dropping) return;
    if (next ? (next->exch_ns != QT_TIME_NONE && next->exch_ns >= r->drop_until_log)
             : wall_now() >= r->drop_until_wall)
        end_drop(r);
}

/* ------------------------------------------------------------------------ */
/* records                                                                  */

static int is_market_type(int t) {
    return t == QT_EV_TRADE || t == QT_EV_PRICE_BOOK || t == QT_EV_L2_LEVEL || t == QT_EV_OFFER_BOOK ||
           t == QT_EV_TINY_BOOK || t == QT_EV_DAILY || t == QT_EV_DAILY_RANGE || t == QT_EV_DAILY_LIMITS ||
           t == QT_EV_PHASE || t == QT_EV_SNAPSHOT_BEGIN || t == QT_EV_SNAPSHOT_END;
}

static void deliver_offer(replay *r, const qt_event *ev) {
    sim_session *s = r->s;
    TOfferBookCallback v1 = SIM_CB(s, offer_book);
    TOfferBookCallbackV2 v2 = SIM_CB(s, offer_book_v2);
    if (!v1 && !v2) return;
    uint16_t date[SIM_DATE_LEN + 1];
    sim_format_date_u16(ev->exch_ns == QT_TIME_NONE ? r->clock : ev->exch_ns, r->utc_off, date);
    unsigned h = ev->aux;
    double price = (h & QT_OB_HAS_PRICE) ? to_price(r, ev->price) : 0.0;
    int64_t qty = to_qty(r, ev->qty);
    before_callback(r);
    if (v1)
        v1(asset_v1(r), ev->code, ev->a, ev->side, clamp32(qty), ev->b, ev->ref, price, (h & QT_OB_HAS_PRICE) != 0,
           (h & QT_OB_HAS_QTY) != 0, (h & QT_OB_HAS_DATE) != 0, (h & QT_OB_HAS_OFFER_ID) != 0,
           (h & QT_OB_HAS_AGENT) != 0, date, NULL, NULL);
    if (v2)
        v2(asset_v1(r), ev->code, ev->a, ev->side, qty, ev->b, ev->ref, price, (h & QT_OB_HAS_PRICE) != 0,
           (h & QT_OB_HAS_QTY) != 0, (h & QT_OB_HAS_DATE) != 0, (h & QT_OB_HAS_OFFER_ID) != 0,
           (h & QT_OB_HAS_AGENT) != 0, date, NULL, NULL);
    SIM_COUNT(s, offer_book_delivered, 1);
}

static void process_record(replay *r, const qt_event *ev) {
    sim_session *s = r->s;
    int t = ev->type;
    set_clock(r, ev->exch_ns);
    SIM_COUNT(s, records_replayed, 1);
    if (t != QT_EV_TRADE && t != QT_EV_DAILY && t != QT_EV_DAILY_RANGE && t != QT_EV_DAILY_LIMITS) flush_daily(r);
    if (!r->in_session && t != QT_EV_SESSION && is_market_type(t)) begin_session(r);
    run_schedule(r);
    if (ev->flags & QT_F_INVALID) {
        SIM_COUNT(s, records_invalid, 1);
        return;
    }
    int deliver = live(r);
    int lost = 0;
    switch (t) {
    case QT_EV_SESSION:
        begin_session(r);
        engine_market(r, ev);
        return;
    case QT_EV_TRADE: {
        if (ev->flags & QT_F_HISTORY) {
            SIM_COUNT(s, records_skipped, 1);
            return;
        }
        if (ev->price == QT_PRICE_NONE || ev->qty <= 0) {
            SIM_COUNT(s, records_invalid, 1);
            return;
        }
        if (r->synth_phases && !r->session_open && ev->code != QT_PDLL_TT_AUCTION) {
            r->session_open = 1;
            set_phase(r, QT_PDLL_TS_OPEN);
            run_schedule(r);
        }
        daily_trade(r, to_price(r, ev->price), to_qty(r, ev->qty), ev->code, r->clock);
        engine_market(r, ev);
        if (r->served & SIM_SUB_TICKER) {
            if (deliver)
                deliver_trade(r, ev);
            else {
                lost = 1;
                SIM_COUNT(s, trades_lost_in_drops, 1);
            }
        }
        /* the day's figures after the last trade of this instant */
        const qt_event *nx = sim_log_cursor_peek(&r->cur);
        if (!nx || nx->type != QT_EV_TRADE || nx->exch_ns != ev->exch_ns) flush_daily(r);
        break;
    }
    case QT_EV_L2_LEVEL: {
        int side = ev->side;
        if (ev->price == QT_PRICE_NONE || ev->qty < 0 || side > 1) {
            SIM_COUNT(s, records_invalid, 1);
            return;
        }
        engine_market(r, ev);
        if (r->book.staging_mask) {
            if (sim_book_snapshot_level(&r->book, side, ev->price, ev->qty, ev->b)) SIM_COUNT(s, records_invalid, 1);
        } else {
            sim_book_action a;
            int rc = sim_book_update_level(&r->book, side, ev->price, ev->qty, ev->b, &a);
            if (rc < 0) SIM_COUNT(s, records_invalid, 1);
            if (rc == 1 && (r->served & SIM_SUB_PRICE_BOOK)) {
                if (deliver)
                    deliver_book_action(r, &a);
                else
                    lost = 1;
            }
            if (ev->flags & QT_F_LAST) update_tiny(r, 0);
        }
        break;
    }
    case QT_EV_PRICE_BOOK: {
        sim_book_action a = {ev->code, ev->side, ev->a, ev->price, ev->qty, ev->b};
        if (ev->code > QT_PDLL_BA_DELETE_FROM || sim_book_apply_action(&r->book, &a)) {
            SIM_COUNT(s, records_invalid, 1);
            return;
        }
        engine_market(r, ev);
        if (r->served & SIM_SUB_PRICE_BOOK) {
            if (deliver)
                deliver_book_action(r, &a);
            else
                lost = 1;
        }
        update_tiny(r, 0);
        break;
    }
    case QT_EV_SNAPSHOT_BEGIN:
        sim_book_snapshot_begin(&r->book, ev->side == 2 ? 3u : ev->side <= 1 ? 1u << ev->side : 0u);
        engine_market(r, ev);
        break;
    case QT_EV_SNAPSHOT_END:
        engine_market(r, ev);
        if (ev->flags & QT_F_LAST) {
            unsigned m = sim_book_snapshot_end(&r->book);
            if (m && (r->served & SIM_SUB_PRICE_BOOK)) {
                if (deliver)
                    deliver_full_book(r, m);
                else
                    lost = 1;
            }
            update_tiny(r, 0);
        }
        break;
    case QT_EV_OFFER_BOOK:
        if (r->served & SIM_SUB_OFFER_BOOK) {
            if (deliver)
                deliver_offer(r, ev);
            else
                lost = 1;
        }
        engine_market(r, ev);
        break;
    case QT_EV_TINY_BOOK:
        engine_market(r, ev);
        if (r->served & SIM_SUB_TICKER) {
            if (deliver)
                deliver_tiny(r, ev->side, to_price(r, ev->price), to_qty(r, ev->qty));
            else
                lost = 1;
        }
        break;
    case QT_EV_DAILY:
    case QT_EV_DAILY_RANGE:
    case QT_EV_DAILY_LIMITS: {
        sim_daily *d = &r->daily;
        if (t == QT_EV_DAILY) {
            d->close = to_price(r, ev->price);
            d->open = to_price(r, ev->ref);
            d->qty = ev->qty;
            d->trades = ev->a;
            d->open_contracts = ev->b;
        } else if (t == QT_EV_DAILY_RANGE) {
            d->high = to_price(r, ev->price);
            d->low = to_price(r, ev->ref);
        } else {
            d->max_limit = to_price(r, ev->price);
            d->min_limit = to_price(r, ev->ref);
        }
        d->have = 1;
        d->time_ns = r->clock;
        r->daily_pending = 1;
        engine_market(r, ev);
        const qt_event *nx = sim_log_cursor_peek(&r->cur);
        if (!nx || (nx->type != QT_EV_DAILY_RANGE && nx->type != QT_EV_DAILY_LIMITS)) {
            if ((r->served & SIM_SUB_TICKER) && !deliver) lost = 1;
            flush_daily(r);
        }
        break;
    }
    case QT_EV_PHASE:
        if (ev->code == QT_PDLL_TS_OPEN) r->session_open = 1;
        if ((r->served & SIM_SUB_TICKER) && !deliver) lost = 1;
        set_phase(r, ev->code);
        break;
    default: /* connection states, gaps, raw continuations: not market data */
        SIM_COUNT(s, records_skipped, 1);
        return;
    }
    if (lost) SIM_COUNT(s, records_lost_in_drops, 1);
}

/* ------------------------------------------------------------------------ */
/* malformed events, history                                                */

static void inject_malformed(replay *r, int kind) {
    if (!live(r)) return;
    int64_t t = r->clock;
    switch (kind) {
    case SIM_MALFORMED_NAN_PRICE:
        if (!(r->served & SIM_SUB_TICKER)) return;
        deliver_trade_values(r, t, 0xFFFFFFFFu, NAN, 1, 0, 0, QT_PDLL_TT_BUY_AGGRESSION, 0);
        break;
    case SIM_MALFORMED_NEGATIVE_QTY: {
        if (!(r->served & SIM_SUB_TICKER)) return;
        const sim_level *b = sim_book_best(&r->book, 1);
        deliver_trade_values(r, t, 0xFFFFFFFEu, b ? to_price(r, b->price) : 1.0, -5, 0, 0,
                             QT_PDLL_TT_BUY_AGGRESSION, 0);
        break;
    }
    case SIM_MALFORMED_BOOK_POSITION: {
        if (!(r->served & SIM_SUB_PRICE_BOOK)) return;
        sim_book_action a = {QT_PDLL_BA_EDIT, 0, (int)r->book.side[0].size + 7, 0, 1, 1};
        deliver_book_action(r, &a);
        break;
    }
    default:
        return;
    }
    SIM_COUNT(r->s, malformed_injected, 1);
}

static void history_trade(replay *r, const qt_event *ev, int last) {
    sim_session *s = r->s;
    THistoryTradeCallback v1 = SIM_CB(s, history_trade);
    TConnectorTradeCallback v2 = SIM_CB(s, history_trade_v2);
    int64_t t_ns = ev->exch_ns == QT_TIME_NONE ? r->clock : ev->exch_ns;
    double price = to_price(r, ev->price);
    int64_t qty = to_qty(r, ev->qty);
    double volume = price * (double)qty * r->multiplier;
    if (v1) {
        uint16_t date[SIM_DATE_LEN + 1];
        sim_format_date_u16(t_ns, r->utc_off, date);
        v1(asset_v1(r), date, (uint32_t)ev->ref, price, volume, clamp32(qty), ev->a, ev->b, ev->code);
    }
    if (v2) {
        sim_trade_obj obj;
        memset(&obj, 0, sizeof(obj));
        obj.magic = SIM_TRADE_MAGIC;
        sim_systemtime_from_ns(t_ns, r->utc_off, &obj.t.TradeDate);
        obj.t.TradeNumber = (uint32_t)ev->ref;
        obj.t.Price = price;
        obj.t.Quantity = qty;
        obj.t.Volume = volume;
        obj.t.BuyAgent = ev->a;
        obj.t.SellAgent = ev->b;
        obj.t.TradeType = ev->code;
        v2(asset_v2(r), &obj, (last ? TC_LAST_PACKET : 0u) | ((ev->flags & QT_F_EDIT) ? TC_IS_EDIT : 0u));
        obj.magic = 0;
    }
    SIM_COUNT(s, history_trades_delivered, 1);
}

static void progress(replay *r, int pct) {
    TProgressCallback cb = SIM_CB(r->s, progress);
    if (cb) cb(asset_v1(r), pct);
}

static void invalid_ticker(replay *r, const char *ticker, const char *exchange) {
    TInvalidTickerCallback cb = SIM_CB(r->s, invalid_ticker);
    if (!cb) return;
    uint16_t wt[SIM_ID_LEN], we[SIM_EXCH_LEN];
    if (sim_utf8_to_u16(ticker, wt, SIM_ID_LEN) < 0 || sim_utf8_to_u16(exchange, we, SIM_EXCH_LEN) < 0) return;
    TConnectorAssetIdentifier a;
    memset(&a, 0, sizeof(a));
    a.Ticker = wt;
    a.Exchange = we;
    cb(a);
}

static int served_name(const replay *r, const char *ticker, const char *exchange) {
    return r->s->have_log && sim_ascii_ieq(ticker, r->ticker) && sim_ascii_ieq(exchange, r->exchange);
}

/* Trades of the already-replayed part of the log within [start, end]. */
static void serve_history(replay *r, const sim_cmd *c) {
    if (!served_name(r, c->ticker, c->exchange)) {
        invalid_ticker(r, c->ticker, c->exchange);
        return;
    }
    uint64_t limit = r->cursor_open ? r->cur.index : 0;
    sim_log_cursor hc;
    if (limit == 0 || sim_log_cursor_open(&hc, &r->s->log)) {
        progress(r, 100);
        return;
    }
    int reported = 0;
    const qt_event *ev;
    qt_event pending;
    int have_pending = 0;
    progress(r, 0);
    while (hc.index < limit && !atomic_load(&r->s->stop) && (ev = sim_log_cursor_next(&hc)) != NULL) {
        int pct = (int)(hc.index * 100 / limit);
        if (pct / 10 > reported / 10 && pct < 100) {
            reported = pct;
            progress(r, pct);
        }
        if (ev->type != QT_EV_TRADE || (ev->flags & (QT_F_HISTORY | QT_F_INVALID)) ||
            ev->price == QT_PRICE_NONE || ev->qty <= 0 || ev->exch_ns == QT_TIME_NONE ||
            ev->exch_ns < c->a || ev->exch_ns > c->b)
            continue;
        if (have_pending) history_trade(r, &pending, 0);
        pending = *ev;
        have_pending = 1;
    }
    if (have_pending) history_trade(r, &pending, 1);
    sim_log_cursor_close(&hc);
    progress(r, 100);
}

/* ------------------------------------------------------------------------ */
/* commands                                                                 */

static sim_sub *find_sub(replay *r, const char *ticker, const char *exchange, int create) {
    for (int i = 0; i < r->n_subs; i++)
        if (sim_ascii_ieq(r->subs[i].ticker, ticker) && sim_ascii_ieq(r->subs[i].exchange, exchange))
            return &r->subs[i];
    if (!create || r->n_subs == SIM_MAX_SUBS) return NULL;
    sim_sub *x = &r->subs[r->n_subs++];
    memset(x, 0, sizeof(*x));
    memcpy(x->ticker, ticker, SIM_ID_LEN);
    memcpy(x->exchange, exchange, SIM_EXCH_LEN);
    return x;
}

static void start_replay(replay *r) {
    if (r->started || !r->cursor_open) return;
    r->started = 1;
    r->anchored = 0;
}

static void do_subscribe(replay *r, const sim_cmd *c) {
    sim_sub *x = find_sub(r, c->ticker, c->exchange, 1);
    if (!x) return;
    unsigned before = x->kinds;
    x->kinds |= (unsigned)c->sub;
    if (!served_name(r, c->ticker, c->exchange)) {
        if (!before) invalid_ticker(r, c->ticker, c->exchange);
        return;
    }
    unsigned added = (unsigned)c->sub & ~r->served;
    r->served |= (unsigned)c->sub;
    if (live(r)) {
        if (added & SIM_SUB_PRICE_BOOK) deliver_full_book(r, 3u);
        if (added & SIM_SUB_TICKER) send_ticker_state(r);
    }
    if (r->s->cfg.auto_start) start_replay(r);
}

static void do_unsubscribe(replay *r, const sim_cmd *c) {
    sim_sub *x = find_sub(r, c->ticker, c->exchange, 0);
    if (!x) return;
    x->kinds &= ~(unsigned)c->sub;
    if (served_name(r, c->ticker, c->exchange)) r->served &= ~(unsigned)c->sub;
}

static void stall(replay *r, int64_t ms) {
    if (ms > 60000) ms = 60000;
    int64_t until = wall_now() + ms * 1000000;
    while (!atomic_load(&r->s->stop)) {
        int64_t left = until - wall_now();
        if (left <= 0) break;
        qt_sleep_ns(left < 10000000 ? left : 10000000);
    }
}

static void run_command(replay *r, const sim_cmd *c) {
    switch (c->kind) {
    case SIM_CMD_SUBSCRIBE:
        do_subscribe(r, c);
        break;
    case SIM_CMD_UNSUBSCRIBE:
        do_unsubscribe(r, c);
        break;
    case SIM_CMD_HISTORY:
        serve_history(r, c);
        break;
    case SIM_CMD_START:
        start_replay(r);
        break;
    case SIM_CMD_DROP:
        begin_drop(r, c->a);
        break;
    case SIM_CMD_STALL:
        stall(r, c->a);
        break;
    case SIM_CMD_MALFORMED:
        inject_malformed(r, (int)c->a);
        break;
    case SIM_CMD_PHASE:
        set_phase(r, (int)c->a);
        break;
    case SIM_CMD_SPEED:
        r->speed = c->x;
        r->anchored = 0;
        break;
    case SIM_CMD_DELAY:
        r->delay_us = (int)c->a;
        break;
    case SIM_CMD_ACCOUNTS:
        sim_fire_accounts(r->s);
        break;
    case SIM_CMD_ORDER_HISTORY:
        sim_fire_order_history(r->s);
        break;
    default:
        break;
    }
}

static void drain(replay *r) {
    sim_session *s = r->s;
    if (atomic_load_explicit(&s->cmd_pending, memory_order_acquire) == 0) return;
    for (;;) {
        sim_cmd c;
        int have = 0;
        sim_mutex_lock(&s->lock);
        if (s->cmd_n) {
            c = s->cmds[s->cmd_head];
            s->cmd_head = (s->cmd_head + 1) % SIM_CMD_CAP;
            s->cmd_n--;
            have = 1;
        } else if (s->note_n == 0) {
            atomic_store_explicit(&s->cmd_pending, 0, memory_order_release);
        }
        sim_mutex_unlock(&s->lock);
        sim_fire_order_notifications(s);
        if (!have) break;
        run_command(r, &c);
    }
}

/* ------------------------------------------------------------------------ */
/* set-up and the loop                                                      */

static double default_multiplier(const char *instrument) {
    if (!strncmp(instrument, "WDO", 3)) return 10.0;
    if (!strncmp(instrument, "DOL", 3)) return 50.0;
    if (!strncmp(instrument, "WIN", 3)) return 0.2;
    if (!strncmp(instrument, "IND", 3)) return 1.0;
    return 1.0;
}

static int load_log(replay *r) {
    sim_session *s = r->s;
    const sim_config *c = &s->cfg;
    if (!c->log_path[0]) return 0;
    char err[512];
    if (sim_log_open(&s->log, c->log_path, err, sizeof(err))) {
        sim_set_error("%s", err);
        return -1;
    }
    s->have_log = 1;
    const qt_evlog_header *h = &s->log.header;
    snprintf(r->ticker, sizeof(r->ticker), "%s", c->ticker[0] ? c->ticker : h->instrument);
    snprintf(r->exchange, sizeof(r->exchange), "%s", c->exchange[0] ? c->exchange : "F");
    if (sim_utf8_to_u16(r->ticker, r->wticker, SIM_ID_LEN) < 0 ||
        sim_utf8_to_u16(r->exchange, r->wexch, SIM_EXCH_LEN) < 0) {
        sim_set_error("ticker name not representable");
        return -1;
    }
    r->price_unit = h->price_unit;
    r->qty_scale = h->qty_scale > 0 ? h->qty_scale : 1.0;
    r->multiplier = c->multiplier > 0 ? c->multiplier : default_multiplier(h->instrument);
    r->synth_phases = s->log.type_count[QT_EV_PHASE] == 0;
    r->synth_daily = s->log.type_count[QT_EV_DAILY] == 0;
    r->synth_tiny = s->log.type_count[QT_EV_TINY_BOOK] == 0;
    if (s->log.first_exch_ns != QT_TIME_NONE) set_clock(r, s->log.first_exch_ns);
    if (sim_log_cursor_open(&r->cur, &s->log)) {
        sim_set_error("cannot read %s", c->log_path);
        return -1;
    }
    r->cursor_open = 1;
    return 0;
}

static void create_orders(replay *r) {
    sim_session *s = r->s;
    sim_orders_config oc;
    memset(&oc, 0, sizeof(oc));
    oc.account = s->cfg.account;
    oc.latency_ns = s->cfg.order_latency_us * 1000;
    oc.fee_per_contract = s->cfg.fee_per_contract;
    oc.seed = s->cfg.seed;
    oc.reject_count = s->cfg.reject_count;
    oc.reject_probability = s->cfg.reject_probability;
    snprintf(oc.reject_reason, sizeof(oc.reject_reason), "%s", s->cfg.reject_reason);
    if (s->have_log) {
        snprintf(oc.ticker, sizeof(oc.ticker), "%s", r->ticker);
        snprintf(oc.exchange, sizeof(oc.exchange), "%s", r->exchange);
        oc.price_unit = r->price_unit;
        oc.tick_size = s->log.header.tick_size;
        oc.contract_multiplier = r->multiplier;
        oc.have_market = 1;
    }
    sim_orders_host host = {s, sim_host_order_changed, sim_host_now_ns};
    sim_orders *o = sim_orders_create(&oc, &host);
    if (!o) sim_set_error("the order engine could not be created (out of memory)");
    sim_mutex_lock(&s->lock);
    s->orders = o;
    s->early_probability = s->cfg.early_callback_probability;
    s->rng = s->cfg.seed ^ 0xEA71CA11BAC4ull;
    sim_mutex_unlock(&s->lock);
}

/* Paced replay between records: market time runs with the wall clock, so
 * orders whose latency has passed reach the exchange now, not at the next
 * record.  Returns the wall time (ns) until the next one is due. */
static int64_t engine_clock(replay *r) {
    sim_session *s = r->s;
    sim_mutex_lock(&s->lock);
    int64_t next = INT64_MAX;
    if (s->orders) {
        sim_orders_on_clock(s->orders, sim_clock_now(s));
        next = sim_orders_next_due(s->orders);
    }
    sim_mutex_unlock(&s->lock);
    if (next == INT64_MAX) return INT64_MAX;
    double wall = (double)(next - sim_clock_now(s)) / r->speed;
    return wall < 0 ? 0 : wall > 1e17 ? INT64_MAX : (int64_t)wall + 1;
}

/* When the next record is due on the wall clock (speed > 0). */
static int64_t due_time(replay *r, const qt_event *ev) {
    int64_t t = ev->recv_ns;
    if (t < r->prev_log || t == 0) t = r->prev_log;
    if (!r->anchored) {
        r->anchor_wall = wall_now();
        r->anchor_log = t;
        r->prev_log = t;
        r->anchored = 1;
    }
    int64_t gap = t - r->prev_log;
    double max_log = (double)r->max_gap_ns * r->speed;
    if ((double)gap > max_log) r->anchor_log += gap - (int64_t)max_log; /* skip nights */
    r->prev_log = t;
    return r->anchor_wall + (int64_t)((double)(t - r->anchor_log) / r->speed);
}

static void finish(replay *r) {
    end_session(r);
    sim_session *s = r->s;
    sim_mutex_lock(&s->lock);
    if (s->orders) sim_orders_on_end(s->orders); /* the market is over: nothing waits for data any more */
    sim_mutex_unlock(&s->lock);
    r->finished = 1;
    atomic_store(&r->s->replay_done, 1);
    SIM_COUNT(r->s, replay_done, 1);
}

void sim_connector_main(void *arg) {
    sim_session *s = (sim_session *)arg;
    replay *r = (replay *)calloc(1, sizeof(replay));
    atomic_store(&s->thread_tid, qt_thread_id());
    if (!r) return;
    r->s = s;
    r->phase = -1;
    r->speed = s->cfg.speed;
    r->delay_us = s->cfg.callback_delay_us;
    r->max_gap_ns = (int64_t)s->cfg.max_gap_ms * 1000000;
    r->utc_off = s->cfg.utc_offset_min;
    r->packet_levels = s->cfg.book_packet_levels;
    sim_book_init(&r->book);

    /* login */
    state_cb(s, QT_PDLL_CONN_LOGIN, s->cfg.login_result);
    if (s->cfg.login_result != QT_PDLL_LOGIN_CONNECTED) goto idle;
    atomic_store(&s->logged_in, 1);
    if (s->routing) {
        state_cb(s, QT_PDLL_CONN_ROUTING, QT_PDLL_ROUTING_CONNECTING);
        state_cb(s, QT_PDLL_CONN_ROUTING, QT_PDLL_ROUTING_CONNECTED);
    }
    state_cb(s, QT_PDLL_CONN_MARKET_DATA, QT_PDLL_MARKET_CONNECTING);
    if (load_log(r)) {
        state_cb(s, QT_PDLL_CONN_MARKET_DATA, QT_PDLL_MARKET_DISCONNECTED);
    } else {
        state_cb(s, QT_PDLL_CONN_MARKET_DATA, QT_PDLL_MARKET_WAITING);
        atomic_store(&s->market_ready, 1);
        state_cb(s, QT_PDLL_CONN_MARKET_DATA, QT_PDLL_MARKET_CONNECTED);
    }
    state_cb(s, QT_PDLL_CONN_MARKET_LOGIN, QT_PDLL_MARKET_LOGIN_VALID);
    if (s->routing) {
        create_orders(r);
        state_cb(s, QT_PDLL_CONN_ROUTING, QT_PDLL_ROUTING_BROKER_CONNECTING);
        atomic_store(&s->routing_ready, 1);
        state_cb(s, QT_PDLL_CONN_ROUTING, QT_PDLL_ROUTING_BROKER_CONNECTED);
        sim_fire_accounts(s);
    }
    if (!r->cursor_open) {
        r->finished = 1;
        atomic_store(&s->replay_done, 1);
    }

idle:
    while (!atomic_load(&s->stop)) {
        uint32_t seen = atomic_load(&s->wake);
        drain(r);
        if (atomic_load(&s->stop)) break;
        int64_t wait_ns = 100000000; /* re-check drops / stop at least every 100 ms */
        if (replaying(r)) {
            const qt_event *ev = sim_log_cursor_peek(&r->cur);
            if (!ev) {
                finish(r);
                continue;
            }
            check_drop_end(r, ev);
            if (r->speed > 0) {
                /* due_time is idempotent for the same record: after an early
                 * wake (a command) the record keeps its due time */
                int64_t due = due_time(r, ev);
                int64_t now = wall_now();
                if (due > now) {
                    int64_t w = due - now;
                    int64_t order_w = engine_clock(r);
                    if (order_w < w) w = order_w;
                    if (w > 0) qt_wait_u32(&s->wake, seen, w < 100000000 ? w : 100000000);
                    continue;
                }
            }
            ev = sim_log_cursor_next(&r->cur);
            process_record(r, ev);
            continue;
        }
        check_drop_end(r, NULL);
        if (r->dropping) {
            int64_t left = r->drop_until_wall - wall_now();
            if (left < wait_ns) wait_ns = left > 0 ? left : 0;
        }
        if (wait_ns > 0) qt_wait_u32(&s->wake, seen, wait_ns);
    }

    if (r->cursor_open) sim_log_cursor_close(&r->cur);
    sim_book_free(&r->book);
    free(r);
}

int64_t sim_clock_now(sim_session *s) {
    int64_t c = atomic_load(&s->clock_ns);
    if (c == 0) return qt_utc_ns();
    double speed;
    uint64_t bits = atomic_load(&s->speed_bits);
    memcpy(&speed, &bits, sizeof(speed));
    if (speed > 0 && !atomic_load(&s->replay_done))
        c += (int64_t)((double)(qt_monotonic_ns() - atomic_load(&s->clock_wall_ns)) * speed);
    return c;
}
