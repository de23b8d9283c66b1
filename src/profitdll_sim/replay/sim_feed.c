/* One replayed log served under one ticker (sim_feed.h): each record of the
 * log becomes what ProfitDLL would deliver for it.
 *
 * Conventions (what a client of the real DLL sees):
 * - Trades go to NewTrade (V1) and the V2 trade callback (TranslateTrade
 *   reads the opaque record, valid only during the call).  Trades flagged
 *   QT_F_HISTORY in the log (history answers recorded live) are not replayed.
 *   Broker ids are the session's (logs with different dictionaries are
 *   renumbered into one, which GetAgentNameByID serves).
 * - Dates are local time "DD/MM/YYYY HH:mm:SS.ZZZ" of the record's exchange
 *   time, shifted by the configured UTC offset (default -3 h).
 * - L2 level updates become positional PriceBook actions (sim_book.h), one
 *   callback per action.  PriceBook field validity follows the spec: price
 *   only in add, qty and count in add/edit, 0 elsewhere.  Full books (a log
 *   snapshot, a new price-book subscription, a reconnection) are sent as
 *   action 4 with arrays ordered worst-to-best (the order of the side lists,
 *   so appending packets rebuilds the list), split into packets of N levels
 *   per side, each array ending with the flags trailer, OB_LAST_PACKET on a
 *   side's last packet; a side with nothing left in a packet gets a NULL
 *   array.  Arrays are allocated per call and released by the client with
 *   FreePointer (whatever is left is freed at DLLFinalize).  During every
 *   callback GetServerClock answers the exchange time of the record being
 *   delivered (the book callbacks carry no time of their own).
 * - Offer-book, tiny-book, daily and phase records of the log are passed
 *   through.  When the log has none, tiny book, daily and phases are
 *   synthesized: tiny book from the book's best levels after each complete
 *   book message; daily from the session's trades (limits = reference price
 *   +- SimSetDailyLimitPercent rounded inwards to whole ticks, the reference
 *   being the previous session's close, else the session's first trade);
 *   phases from the log's own session structure: pre-opening (13) at each
 *   session start, open (0) before the session's first trade that is not an
 *   auction print, closed (6) after its last record, plus the states of
 *   SimSetPhaseSchedule at their local times.  Synthesized phases are
 *   labels: they do not alter the replayed data (trades recorded during a
 *   scheduled "halt" still flow).
 * - During a market-data drop no market callback is delivered (the book
 *   model and the order engine keep following the log, as the exchange
 *   keeps trading); sim_feed_resume sends the current state afterwards.
 * - Feed 0's records reach the order engine before the client's callbacks
 *   (what a client has seen has happened at the exchange, so an order it
 *   sends from what it saw cannot trade against that record again),
 *   synthesized phases and daily limits included. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/qt_events.h"
#include "replay/sim_feed.h"
#include "sim_text.h"

/* ------------------------------------------------------------------------ */
/* small helpers                                                             */

static double to_price(const sim_feed *f, int64_t p) {
    if (p == QT_PRICE_NONE) return NAN;
    return qt_price_to_double(p, f->price_unit);
}

static int64_t to_qty(const sim_feed *f, int64_t q) {
    if (f->qty_scale == 1.0) return q;
    return (int64_t)llround((double)q / f->qty_scale);
}

static int32_t clamp32(int64_t v) {
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

static TAssetID asset_v1(sim_feed *f) {
    TAssetID a;
    a.ticker = f->wticker;
    a.exchange = f->wexch;
    a.feed = 0;
    return a;
}

static TConnectorAssetIdentifier asset_v2(sim_feed *f) {
    TConnectorAssetIdentifier a;
    memset(&a, 0, sizeof(a));
    a.Version = 0;
    a.Ticker = f->wticker;
    a.Exchange = f->wexch;
    a.FeedType = 0;
    return a;
}

/* The session's clock (GetServerClock, the order engine) is the exchange
 * time of the record being delivered: its own, or its log's last. */
static void set_clock(sim_feed *f, int64_t t) {
    if (t != QT_TIME_NONE) f->clock = t;
    if (f->clock == QT_TIME_NONE) return;
    atomic_store(&f->s->clock_ns, f->clock);
    atomic_store(&f->s->callback_clock_ns, f->clock);
    atomic_store(&f->s->clock_wall_ns, qt_monotonic_ns());
}

/* Callbacks of this feed outside its records (a subscription's current
 * state, a reconnection, a history answer, an injected event) are dated by
 * its log's time, not by another log's: GetServerClock follows. */
static void deliver_as(sim_feed *f) {
    if (f->clock != QT_TIME_NONE) atomic_store(&f->s->callback_clock_ns, f->clock);
}

/* Market callbacks are delivered only while the feed is up. */
int sim_connector_live(const sim_connector *c) { return !c->dropping && atomic_load(&c->s->market_ready); }

static int live(const sim_feed *f) { return sim_connector_live(f->c); }

/* The session's id of an agent of this log (logs may number brokers differently). */
static int32_t agent(const sim_feed *f, int64_t id) {
    if (!f->agent_map || id < 0 || (uint64_t)id >= f->log->n_agents) return (int32_t)id;
    return f->agent_map[id];
}

static void before_callback(sim_feed *f) {
    if (f->c->delay_us > 0) qt_sleep_ns((int64_t)f->c->delay_us * 1000);
}

/* ------------------------------------------------------------------------ */
/* the order engine sees every market record, before the client does: what  */
/* a client has seen has happened at the exchange, so an order it sends     */
/* from what it saw cannot trade against that record again                  */

static void engine_market(sim_feed *f, const qt_event *ev) {
    if (f->index != 0) return; /* the engine trades feed 0's instrument */
    sim_session *s = f->s;
    sim_mutex_lock(&s->lock);
    if (s->orders) {
        if (s->injecting_phase && ev->type == QT_EV_PHASE) sim_state_phase(s, ev->code);
        sim_orders_on_market(s->orders, ev);
        s->engine_events++; /* the replay position of the state file */
        if (atomic_load(&s->restoring)) sim_state_restore_due(s);
    }
    sim_mutex_unlock(&s->lock);
}

/* Synthesized daily limits (price units, on the tick grid), as the record
 * a recorded NewDaily would give. */
static void engine_limits(sim_feed *f, int64_t max_limit, int64_t min_limit) {
    qt_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = QT_EV_DAILY_LIMITS;
    ev.exch_ns = ev.recv_ns = f->clock;
    ev.price = max_limit;
    ev.ref = min_limit;
    engine_market(f, &ev);
}

static void engine_phase(sim_feed *f, int state) {
    qt_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = QT_EV_PHASE;
    ev.code = (uint8_t)state;
    ev.exch_ns = f->clock;
    ev.recv_ns = f->clock;
    ev.price = QT_PRICE_NONE;
    engine_market(f, &ev);
}

/* ------------------------------------------------------------------------ */
/* deliveries                                                               */

static void deliver_trade_values(sim_feed *f, int64_t t_ns, uint32_t number, double price, int64_t qty,
                                 int32_t buy, int32_t sell, int code, int edit) {
    sim_session *s = f->s;
    TNewTradeCallback v1 = SIM_CB(s, trade);
    TConnectorTradeCallback v2 = SIM_CB(s, trade_v2);
    if (!v1 && !v2) return;
    uint16_t date[SIM_DATE_LEN + 1];
    sim_format_date_u16(t_ns, f->c->utc_off, date);
    double volume = price * (double)qty * f->multiplier;
    before_callback(f);
    if (v1) v1(asset_v1(f), date, number, price, volume, clamp32(qty), buy, sell, code, (qt_profitdll_wchar)(edit ? 1 : 0));
    if (v2) {
        sim_trade_obj obj;
        memset(&obj, 0, sizeof(obj));
        obj.magic = SIM_TRADE_MAGIC;
        sim_systemtime_from_ns(t_ns, f->c->utc_off, &obj.t.TradeDate);
        obj.t.TradeNumber = number;
        obj.t.Price = price;
        obj.t.Quantity = qty;
        obj.t.Volume = volume;
        obj.t.BuyAgent = buy;
        obj.t.SellAgent = sell;
        obj.t.TradeType = (uint8_t)code;
        v2(asset_v2(f), &obj, edit ? TC_IS_EDIT : 0u);
        obj.magic = 0; /* valid only during the call */
    }
}

static void deliver_trade(sim_feed *f, const qt_event *ev) {
    int64_t t = ev->exch_ns == QT_TIME_NONE ? f->clock : ev->exch_ns;
    double price = to_price(f, ev->price);
    deliver_trade_values(f, t, (uint32_t)ev->ref, price, to_qty(f, ev->qty), agent(f, ev->a), agent(f, ev->b), ev->code,
                         (ev->flags & QT_F_EDIT) != 0);
    SIM_COUNT(f->s, trades_delivered, 1);
    TChangeCotation cot = SIM_CB(f->s, change_cotation); /* the last price moved with this trade */
    if (cot) {
        uint16_t date[SIM_DATE_LEN + 1];
        sim_format_date_u16(t, f->c->utc_off, date);
        cot(asset_v1(f), date, (uint32_t)ev->ref, price);
    }
}

static void deliver_book_action(sim_feed *f, const sim_book_action *a) {
    sim_session *s = f->s;
    TPriceBookCallback v1 = SIM_CB(s, price_book);
    TPriceBookCallbackV2 v2 = SIM_CB(s, price_book_v2);
    if (!v1 && !v2) return;
    int has_qty = a->action == QT_PROFITDLL_BA_ADD || a->action == QT_PROFITDLL_BA_EDIT;
    double price = a->action == QT_PROFITDLL_BA_ADD ? to_price(f, a->price) : 0.0;
    int64_t qty = has_qty ? to_qty(f, a->qty) : 0;
    int32_t count = has_qty ? a->count : 0;
    before_callback(f);
    if (v1) v1(asset_v1(f), a->action, a->position, a->side, clamp32(qty), count, price, NULL, NULL);
    if (v2) v2(asset_v1(f), a->action, a->position, a->side, qty, count, price, NULL, NULL);
    SIM_COUNT(s, book_actions_delivered, 1);
}

/* One packet's array of one side: levels [from, from+n) of the worst-to-best
 * list, header + entries + trailer.  NULL on allocation failure. */
static void *price_array(sim_feed *f, const sim_side *sd, uint32_t from, uint32_t n, int v2, int last) {
    size_t entry = v2 ? sizeof(qt_profitdll_price_book_entry_v2) : sizeof(qt_profitdll_price_book_entry);
    size_t bytes = sizeof(qt_profitdll_book_array_header) + (size_t)n * entry + QT_PROFITDLL_BOOK_TRAILER_SIZE;
    uint8_t *p = (uint8_t *)sim_alloc_array(f->s, bytes);
    if (!p) return NULL;
    qt_profitdll_book_array_header h = {(int32_t)n, (int32_t)bytes};
    memcpy(p, &h, sizeof(h));
    uint8_t *at = p + sizeof(h);
    for (uint32_t i = 0; i < n; i++) {
        const sim_level *l = &sd->lv[from + i];
        if (v2) {
            qt_profitdll_price_book_entry_v2 e = {to_price(f, l->price), to_qty(f, l->qty), l->count};
            memcpy(at, &e, sizeof(e));
        } else {
            qt_profitdll_price_book_entry e = {to_price(f, l->price), clamp32(to_qty(f, l->qty)), l->count};
            memcpy(at, &e, sizeof(e));
        }
        at += entry;
    }
    uint32_t flags = last ? OB_LAST_PACKET : 0u;
    memcpy(at, &flags, sizeof(flags));
    return p;
}

/* A full book of the sides in mask (bit 0 buy, bit 1 sell) as packets. */
static void deliver_full_book(sim_feed *f, unsigned mask) {
    sim_session *s = f->s;
    if (!(SIM_CB(s, price_book) || SIM_CB(s, price_book_v2))) return;
    uint32_t per = (uint32_t)f->c->packet_levels;
    uint32_t packets = 1;
    for (int sd = 0; sd < 2; sd++) {
        if (!(mask & (1u << sd))) continue;
        uint32_t k = (f->book.side[sd].size + per - 1) / per;
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
                const sim_side *side = &f->book.side[sd];
                uint32_t from = p * per;
                if (from > side->size || (from == side->size && p > 0)) continue; /* side done */
                uint32_t n = side->size - from < per ? side->size - from : per;
                int last = from + n >= side->size;
                arr[sd] = price_array(f, side, from, n, v, last);
            }
            if (!arr[0] && !arr[1]) continue;
            before_callback(f);
            if (v == 0)
                v1(asset_v1(f), QT_PROFITDLL_BA_FULL_BOOK, 0, 0, 0, 0, 0.0, arr[1], arr[0]);
            else
                v2(asset_v1(f), QT_PROFITDLL_BA_FULL_BOOK, 0, 0, 0, 0, 0.0, arr[1], arr[0]);
            SIM_COUNT(s, full_book_packets, 1);
        }
    }
}

static void deliver_tiny(sim_feed *f, int side, double price, int64_t qty) {
    TTinyBookCallback cb = SIM_CB(f->s, tiny_book);
    if (!cb) return;
    before_callback(f);
    cb(asset_v1(f), price, clamp32(qty), side);
    SIM_COUNT(f->s, tiny_book_delivered, 1);
}

/* Synthesized tiny book: the sides whose best level changed (force: all). */
static void update_tiny(sim_feed *f, int force) {
    if (!f->synth_tiny) return;
    for (int sd = 0; sd < 2; sd++) {
        const sim_level *b = sim_book_best(&f->book, sd);
        if (!b) {
            f->tiny_have[sd] = 0;
            continue;
        }
        if (!force && f->tiny_have[sd] && f->tiny_price[sd] == b->price && f->tiny_qty[sd] == b->qty)
            continue;
        f->tiny_have[sd] = 1;
        f->tiny_price[sd] = b->price;
        f->tiny_qty[sd] = b->qty;
        if ((f->served & SIM_SUB_TICKER) && live(f)) deliver_tiny(f, sd, to_price(f, b->price), to_qty(f, b->qty));
    }
}

static void deliver_daily(sim_feed *f) {
    sim_daily *d = &f->daily;
    TNewDailyCallback cb = SIM_CB(f->s, daily);
    if (!cb || !d->have) return;
    uint16_t date[SIM_DATE_LEN + 1];
    sim_format_date_u16(d->time_ns, f->c->utc_off, date);
    before_callback(f);
    cb(asset_v1(f), date, d->open, d->high, d->low, d->close, d->volume, d->adjust, d->max_limit, d->min_limit,
       d->vol_buyer, d->vol_seller, clamp32(d->qty), clamp32(d->trades), clamp32(d->open_contracts),
       clamp32(d->qty_buyer), clamp32(d->qty_seller), clamp32(d->trades_buyer), clamp32(d->trades_seller));
    SIM_COUNT(f->s, daily_delivered, 1);
}

static void flush_daily(sim_feed *f) {
    if (!f->daily_pending) return;
    f->daily_pending = 0;
    if ((f->served & SIM_SUB_TICKER) && live(f)) deliver_daily(f);
}

static void deliver_phase(sim_feed *f, int state) {
    TChangeStateTicker cb = SIM_CB(f->s, change_state_ticker);
    if (!cb) return;
    uint16_t date[SIM_DATE_LEN + 1];
    sim_format_date_u16(f->clock, f->c->utc_off, date);
    before_callback(f);
    cb(asset_v1(f), date, state);
    SIM_COUNT(f->s, phases_delivered, 1);
}

void sim_feed_set_phase(sim_feed *f, int state) {
    deliver_as(f);
    f->phase = state;
    engine_phase(f, state);
    if ((f->served & SIM_SUB_TICKER) && live(f)) deliver_phase(f, state);
}

/* What a new ticker subscription (or a reconnection) receives at once. */
static void send_ticker_state(sim_feed *f) {
    if (f->phase >= 0) deliver_phase(f, f->phase);
    if (f->daily.have) deliver_daily(f);
    for (int sd = 0; sd < 2; sd++)
        if (f->synth_tiny && f->tiny_have[sd]) deliver_tiny(f, sd, to_price(f, f->tiny_price[sd]), to_qty(f, f->tiny_qty[sd]));
}

/* ------------------------------------------------------------------------ */
/* sessions, phases, daily                                                  */

static void end_session(sim_feed *f) {
    if (!f->in_session) return;
    flush_daily(f);
    if (f->synth_phases) sim_feed_set_phase(f, QT_PROFITDLL_TS_CLOSED);
    if (f->daily.have) f->daily.prev_close = f->daily.close;
    f->in_session = 0;
    f->session_open = 0;
}

static void begin_session(sim_feed *f) {
    end_session(f);
    double prev = f->daily.prev_close;
    memset(&f->daily, 0, sizeof(f->daily));
    f->daily.prev_close = prev;
    f->daily_pending = 0;
    f->in_session = 1;
    f->session_open = 0;
    memset(f->sched_fired, 0, sizeof(f->sched_fired));
    if (f->synth_phases) sim_feed_set_phase(f, QT_PROFITDLL_TS_PRE_OPENING);
}

/* Scheduled states whose local time the clock has reached (open session). */
static void run_schedule(sim_feed *f) {
    const sim_config *c = &f->s->cfg;
    if (!c->n_schedule || !f->in_session || !f->session_open) return;
    sim_civil cv;
    sim_civil_from_ns(f->clock, f->c->utc_off, &cv);
    int minute = cv.hour * 60 + cv.minute;
    for (int i = 0; i < c->n_schedule; i++) {
        if (f->sched_fired[i] || c->schedule[i].minute_of_day > minute) continue;
        f->sched_fired[i] = 1;
        sim_feed_set_phase(f, c->schedule[i].state);
    }
}

static void daily_trade(sim_feed *f, double price, int64_t qty, int code, int64_t t) {
    sim_daily *d = &f->daily;
    if (!(price == price) || qty <= 0 || !f->synth_daily) return; /* a recorded daily speaks for itself */
    double vol = price * (double)qty * f->multiplier;
    if (!d->have) {
        d->open = d->high = d->low = price;
        double ref = d->prev_close > 0 ? d->prev_close : price;
        double pct = f->s->cfg.daily_limit_pct / 100.0;
        d->adjust = d->prev_close;
        /* B3's limits are prices: whole ticks, rounded inwards (ref * (1 +- pct)
         * itself is mostly off the grid, and a client rightly flags an
         * off-grid price as invalid) */
        double tu = (double)f->tick_units;
        int64_t hi = (int64_t)floor(ref * (1.0 + pct) / f->price_unit / tu + 1e-9) * f->tick_units;
        int64_t lo = (int64_t)ceil(ref * (1.0 - pct) / f->price_unit / tu - 1e-9) * f->tick_units;
        d->max_limit = to_price(f, hi);
        d->min_limit = to_price(f, lo);
        engine_limits(f, hi, lo);
    }
    if (price > d->high) d->high = price;
    if (price < d->low) d->low = price;
    d->close = price;
    d->have = 1;
    d->time_ns = t;
    d->volume += vol;
    d->qty += qty;
    d->trades++;
    if (code == QT_PROFITDLL_TT_BUY_AGGRESSION) {
        d->vol_buyer += vol;
        d->qty_buyer += qty;
        d->trades_buyer++;
    } else if (code == QT_PROFITDLL_TT_SELL_AGGRESSION) {
        d->vol_seller += vol;
        d->qty_seller += qty;
        d->trades_seller++;
    }
    f->daily_pending = 1;
}

/* ------------------------------------------------------------------------ */
/* records                                                                  */

static int is_market_type(int t) {
    return t == QT_EV_TRADE || t == QT_EV_PRICE_BOOK || t == QT_EV_L2_LEVEL || t == QT_EV_OFFER_BOOK ||
           t == QT_EV_TINY_BOOK || t == QT_EV_DAILY || t == QT_EV_DAILY_RANGE || t == QT_EV_DAILY_LIMITS ||
           t == QT_EV_PHASE || t == QT_EV_SNAPSHOT_BEGIN || t == QT_EV_SNAPSHOT_END;
}

static void deliver_offer(sim_feed *f, const qt_event *ev) {
    sim_session *s = f->s;
    TOfferBookCallback v1 = SIM_CB(s, offer_book);
    TOfferBookCallbackV2 v2 = SIM_CB(s, offer_book_v2);
    if (!v1 && !v2) return;
    uint16_t date[SIM_DATE_LEN + 1];
    sim_format_date_u16(ev->exch_ns == QT_TIME_NONE ? f->clock : ev->exch_ns, f->c->utc_off, date);
    unsigned h = ev->aux;
    double price = (h & QT_OB_HAS_PRICE) ? to_price(f, ev->price) : 0.0;
    int64_t qty = to_qty(f, ev->qty);
    before_callback(f);
    if (v1)
        v1(asset_v1(f), ev->code, ev->a, ev->side, clamp32(qty), agent(f, ev->b), ev->ref, price, (h & QT_OB_HAS_PRICE) != 0,
           (h & QT_OB_HAS_QTY) != 0, (h & QT_OB_HAS_DATE) != 0, (h & QT_OB_HAS_OFFER_ID) != 0,
           (h & QT_OB_HAS_AGENT) != 0, date, NULL, NULL);
    if (v2)
        v2(asset_v1(f), ev->code, ev->a, ev->side, qty, agent(f, ev->b), ev->ref, price, (h & QT_OB_HAS_PRICE) != 0,
           (h & QT_OB_HAS_QTY) != 0, (h & QT_OB_HAS_DATE) != 0, (h & QT_OB_HAS_OFFER_ID) != 0,
           (h & QT_OB_HAS_AGENT) != 0, date, NULL, NULL);
    SIM_COUNT(s, offer_book_delivered, 1);
}

static void process_record(sim_feed *f, const qt_event *ev) {
    sim_session *s = f->s;
    int t = ev->type;
    set_clock(f, ev->exch_ns);
    SIM_COUNT(s, records_replayed, 1);
    if (t != QT_EV_TRADE && t != QT_EV_DAILY && t != QT_EV_DAILY_RANGE && t != QT_EV_DAILY_LIMITS) flush_daily(f);
    if (!f->in_session && t != QT_EV_SESSION && is_market_type(t)) begin_session(f);
    run_schedule(f);
    if (ev->flags & QT_F_INVALID) {
        SIM_COUNT(s, records_invalid, 1);
        return;
    }
    int deliver = live(f);
    int lost = 0;
    switch (t) {
    case QT_EV_SESSION:
        begin_session(f);
        engine_market(f, ev);
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
        if (f->synth_phases && !f->session_open && ev->code != QT_PROFITDLL_TT_AUCTION) {
            f->session_open = 1;
            sim_feed_set_phase(f, QT_PROFITDLL_TS_OPEN);
            run_schedule(f);
        }
        daily_trade(f, to_price(f, ev->price), to_qty(f, ev->qty), ev->code, f->clock);
        engine_market(f, ev);
        if (f->served & SIM_SUB_TICKER) {
            if (deliver)
                deliver_trade(f, ev);
            else {
                lost = 1;
                SIM_COUNT(s, trades_lost_in_drops, 1);
            }
        }
        /* the day's figures after the last trade of this instant */
        const qt_event *nx = sim_log_cursor_peek(&f->cur);
        if (!nx || nx->type != QT_EV_TRADE || nx->exch_ns != ev->exch_ns) flush_daily(f);
        break;
    }
    case QT_EV_L2_LEVEL: {
        int side = ev->side;
        if (ev->price == QT_PRICE_NONE || ev->qty < 0 || side > 1) {
            SIM_COUNT(s, records_invalid, 1);
            return;
        }
        engine_market(f, ev);
        if (f->book.staging_mask) {
            if (sim_book_snapshot_level(&f->book, side, ev->price, ev->qty, ev->b)) SIM_COUNT(s, records_invalid, 1);
        } else {
            sim_book_action a;
            int rc = sim_book_update_level(&f->book, side, ev->price, ev->qty, ev->b, &a);
            if (rc < 0) SIM_COUNT(s, records_invalid, 1);
            if (rc == 1 && (f->served & SIM_SUB_PRICE_BOOK)) {
                if (deliver)
                    deliver_book_action(f, &a);
                else
                    lost = 1;
            }
            if (ev->flags & QT_F_LAST) update_tiny(f, 0);
        }
        break;
    }
    case QT_EV_PRICE_BOOK: {
        sim_book_action a = {ev->code, ev->side, ev->a, ev->price, ev->qty, ev->b};
        if (ev->code > QT_PROFITDLL_BA_DELETE_FROM || sim_book_apply_action(&f->book, &a)) {
            SIM_COUNT(s, records_invalid, 1);
            return;
        }
        engine_market(f, ev);
        if (f->served & SIM_SUB_PRICE_BOOK) {
            if (deliver)
                deliver_book_action(f, &a);
            else
                lost = 1;
        }
        update_tiny(f, 0);
        break;
    }
    case QT_EV_SNAPSHOT_BEGIN:
        sim_book_snapshot_begin(&f->book, ev->side == 2 ? 3u : ev->side <= 1 ? 1u << ev->side : 0u);
        engine_market(f, ev);
        break;
    case QT_EV_SNAPSHOT_END:
        engine_market(f, ev);
        if (ev->flags & QT_F_LAST) {
            unsigned m = sim_book_snapshot_end(&f->book);
            if (m && (f->served & SIM_SUB_PRICE_BOOK)) {
                if (deliver)
                    deliver_full_book(f, m);
                else
                    lost = 1;
            }
            update_tiny(f, 0);
        }
        break;
    case QT_EV_OFFER_BOOK:
        if (f->served & SIM_SUB_OFFER_BOOK) {
            if (deliver)
                deliver_offer(f, ev);
            else
                lost = 1;
        }
        engine_market(f, ev);
        break;
    case QT_EV_TINY_BOOK:
        engine_market(f, ev);
        if (f->served & SIM_SUB_TICKER) {
            if (deliver)
                deliver_tiny(f, ev->side, to_price(f, ev->price), to_qty(f, ev->qty));
            else
                lost = 1;
        }
        break;
    case QT_EV_DAILY:
    case QT_EV_DAILY_RANGE:
    case QT_EV_DAILY_LIMITS: {
        sim_daily *d = &f->daily;
        if (t == QT_EV_DAILY) {
            d->close = to_price(f, ev->price);
            d->open = to_price(f, ev->ref);
            d->qty = ev->qty;
            d->trades = ev->a;
            d->open_contracts = ev->b;
        } else if (t == QT_EV_DAILY_RANGE) {
            d->high = to_price(f, ev->price);
            d->low = to_price(f, ev->ref);
        } else {
            d->max_limit = to_price(f, ev->price);
            d->min_limit = to_price(f, ev->ref);
        }
        d->have = 1;
        d->time_ns = f->clock;
        f->daily_pending = 1;
        engine_market(f, ev);
        const qt_event *nx = sim_log_cursor_peek(&f->cur);
        if (!nx || (nx->type != QT_EV_DAILY_RANGE && nx->type != QT_EV_DAILY_LIMITS)) {
            if ((f->served & SIM_SUB_TICKER) && !deliver) lost = 1;
            flush_daily(f);
        }
        break;
    }
    case QT_EV_PHASE:
        if (ev->code == QT_PROFITDLL_TS_OPEN) f->session_open = 1;
        if ((f->served & SIM_SUB_TICKER) && !deliver) lost = 1;
        sim_feed_set_phase(f, ev->code);
        break;
    default: /* connection states, gaps, raw continuations: not market data */
        SIM_COUNT(s, records_skipped, 1);
        return;
    }
    if (lost) SIM_COUNT(s, records_lost_in_drops, 1);
}

/* ------------------------------------------------------------------------ */
/* malformed events, history                                                */

void sim_feed_inject_malformed(sim_feed *f, int kind) {
    deliver_as(f);
    if (!live(f)) return;
    int64_t t = f->clock;
    switch (kind) {
    case SIM_MALFORMED_NAN_PRICE:
        if (!(f->served & SIM_SUB_TICKER)) return;
        deliver_trade_values(f, t, 0xFFFFFFFFu, NAN, 1, 0, 0, QT_PROFITDLL_TT_BUY_AGGRESSION, 0);
        break;
    case SIM_MALFORMED_NEGATIVE_QTY: {
        if (!(f->served & SIM_SUB_TICKER)) return;
        const sim_level *b = sim_book_best(&f->book, 1);
        deliver_trade_values(f, t, 0xFFFFFFFEu, b ? to_price(f, b->price) : 1.0, -5, 0, 0,
                             QT_PROFITDLL_TT_BUY_AGGRESSION, 0);
        break;
    }
    case SIM_MALFORMED_BOOK_POSITION: {
        if (!(f->served & SIM_SUB_PRICE_BOOK)) return;
        sim_book_action a = {QT_PROFITDLL_BA_EDIT, 0, (int)f->book.side[0].size + 7, 0, 1, 1};
        deliver_book_action(f, &a);
        break;
    }
    default:
        return;
    }
    SIM_COUNT(f->s, malformed_injected, 1);
}

static void history_trade(sim_feed *f, const qt_event *ev, int last) {
    sim_session *s = f->s;
    THistoryTradeCallback v1 = SIM_CB(s, history_trade);
    TConnectorTradeCallback v2 = SIM_CB(s, history_trade_v2);
    int64_t t_ns = ev->exch_ns == QT_TIME_NONE ? f->clock : ev->exch_ns;
    double price = to_price(f, ev->price);
    int64_t qty = to_qty(f, ev->qty);
    double volume = price * (double)qty * f->multiplier;
    if (v1) {
        uint16_t date[SIM_DATE_LEN + 1];
        sim_format_date_u16(t_ns, f->c->utc_off, date);
        v1(asset_v1(f), date, (uint32_t)ev->ref, price, volume, clamp32(qty), agent(f, ev->a), agent(f, ev->b),
           ev->code);
    }
    if (v2) {
        sim_trade_obj obj;
        memset(&obj, 0, sizeof(obj));
        obj.magic = SIM_TRADE_MAGIC;
        sim_systemtime_from_ns(t_ns, f->c->utc_off, &obj.t.TradeDate);
        obj.t.TradeNumber = (uint32_t)ev->ref;
        obj.t.Price = price;
        obj.t.Quantity = qty;
        obj.t.Volume = volume;
        obj.t.BuyAgent = agent(f, ev->a);
        obj.t.SellAgent = agent(f, ev->b);
        obj.t.TradeType = ev->code;
        v2(asset_v2(f), &obj, (last ? TC_LAST_PACKET : 0u) | ((ev->flags & QT_F_EDIT) ? TC_IS_EDIT : 0u));
        obj.magic = 0;
    }
    SIM_COUNT(s, history_trades_delivered, 1);
}

static void progress(sim_feed *f, int pct) {
    TProgressCallback cb = SIM_CB(f->s, progress);
    if (cb) cb(asset_v1(f), pct);
}

/* Trades of the already-replayed part of the log within [start, end]. */
void sim_feed_history(sim_feed *f, int64_t start_ns, int64_t end_ns) {
    deliver_as(f);
    uint64_t limit = f->cursor_open ? f->cur.index : 0;
    sim_log_cursor hc;
    if (limit == 0 || sim_log_cursor_open(&hc, f->log)) {
        progress(f, 100);
        return;
    }
    int reported = 0;
    const qt_event *ev;
    qt_event pending;
    int have_pending = 0;
    progress(f, 0);
    while (hc.index < limit && !atomic_load(&f->s->stop) && (ev = sim_log_cursor_next(&hc)) != NULL) {
        int pct = (int)(hc.index * 100 / limit);
        if (pct / 10 > reported / 10 && pct < 100) {
            reported = pct;
            progress(f, pct);
        }
        if (ev->type != QT_EV_TRADE || (ev->flags & (QT_F_HISTORY | QT_F_INVALID)) ||
            ev->price == QT_PRICE_NONE || ev->qty <= 0 || ev->exch_ns == QT_TIME_NONE ||
            ev->exch_ns < start_ns || ev->exch_ns > end_ns)
            continue;
        if (have_pending) history_trade(f, &pending, 0);
        pending = *ev;
        have_pending = 1;
    }
    if (have_pending) history_trade(f, &pending, 1);
    sim_log_cursor_close(&hc);
    progress(f, 100);
}

/* ------------------------------------------------------------------------ */
/* set-up and the connector's view                                          */

static double default_multiplier(const char *instrument) {
    if (!strncmp(instrument, "WDO", 3)) return 10.0;
    if (!strncmp(instrument, "DOL", 3)) return 50.0;
    if (!strncmp(instrument, "WIN", 3)) return 0.2;
    if (!strncmp(instrument, "IND", 3)) return 1.0;
    return 1.0;
}

int sim_feed_open(sim_feed *f, sim_connector *c, int index, const sim_log *log, const int32_t *agent_map,
                  const char *ticker, const char *exchange) {
    sim_session *s = c->s;
    memset(f, 0, sizeof(*f));
    f->c = c;
    f->s = s;
    f->index = index;
    f->log = log;
    f->agent_map = agent_map;
    f->phase = -1;
    sim_book_init(&f->book);
    const qt_evlog_header *h = &log->header;
    snprintf(f->ticker, sizeof(f->ticker), "%s", ticker && ticker[0] ? ticker : h->instrument);
    snprintf(f->exchange, sizeof(f->exchange), "%s", exchange && exchange[0] ? exchange : "F");
    if (sim_utf8_to_u16(f->ticker, f->wticker, SIM_ID_LEN) < 0 ||
        sim_utf8_to_u16(f->exchange, f->wexch, SIM_EXCH_LEN) < 0) {
        sim_set_error("ticker name not representable");
        return -1;
    }
    f->price_unit = h->price_unit;
    f->tick_units = h->tick_size > 0 ? llround(h->tick_size / h->price_unit) : 1;
    if (f->tick_units < 1) f->tick_units = 1;
    f->qty_scale = h->qty_scale > 0 ? h->qty_scale : 1.0;
    f->multiplier = s->cfg.multiplier > 0 ? s->cfg.multiplier : default_multiplier(h->instrument);
    f->synth_phases = log->type_count[QT_EV_PHASE] == 0;
    f->synth_daily = log->type_count[QT_EV_DAILY] == 0;
    f->synth_tiny = log->type_count[QT_EV_TINY_BOOK] == 0;
    f->clock = log->first_exch_ns;
    if (sim_log_cursor_open(&f->cur, log)) {
        sim_set_error("cannot read %s", log->path);
        return -1;
    }
    f->cursor_open = 1;
    return 0;
}

void sim_feed_close(sim_feed *f) {
    if (f->cursor_open) sim_log_cursor_close(&f->cur);
    f->cursor_open = 0;
    sim_book_free(&f->book);
}

int sim_feed_peek(sim_feed *f, const qt_event **next, int64_t *t) {
    const qt_event *ev = f->cursor_open && !f->finished ? sim_log_cursor_peek(&f->cur) : NULL;
    *next = ev;
    if (!ev) return 0;
    *t = ev->exch_ns != QT_TIME_NONE ? ev->exch_ns : f->clock;
    return 1;
}

void sim_feed_step(sim_feed *f) {
    const qt_event *ev = sim_log_cursor_next(&f->cur);
    if (ev) process_record(f, ev);
}

void sim_feed_finish(sim_feed *f) {
    if (f->finished) return;
    deliver_as(f);
    end_session(f);
    f->finished = 1;
}

void sim_feed_subscribe(sim_feed *f, unsigned kinds) {
    unsigned added = kinds & ~f->served;
    f->served |= kinds;
    if (!live(f)) return;
    deliver_as(f);
    if (added & SIM_SUB_PRICE_BOOK) deliver_full_book(f, 3u);
    if (added & SIM_SUB_TICKER) send_ticker_state(f);
}

void sim_feed_unsubscribe(sim_feed *f, unsigned kinds) { f->served &= ~kinds; }

void sim_feed_resume(sim_feed *f) {
    deliver_as(f);
    if (f->served & SIM_SUB_PRICE_BOOK) deliver_full_book(f, 3u);
    if (f->served & SIM_SUB_TICKER) send_ticker_state(f);
}
