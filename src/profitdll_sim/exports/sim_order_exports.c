/* The simulator's order and account exports: they check the DLL's records
 * and strings, convert them to the plain requests of sim_orders.h (Version 1
 * enum numbering, UTF-8), call the order implementation under the orders
 * lock, and turn its plain views back into the DLL's records and callbacks.
 *
 * Conventions chosen where the DLL's documentation is silent:
 * - GetOrderDetails: with Ticker/Exchange/TextMessage NULL it fills the
 *   numbers and the *Length fields (UTF-16 units, NUL excluded); with
 *   buffers, each must hold Length + 1 units (the text is NUL-terminated,
 *   longer text is cut at Length), and Length is set to the text's length.
 * - Legacy order callbacks (TOrderChangeCallback ...) carry the side as
 *   1 buy / 2 sell and the order type and status as English words
 *   ("Limit", "Rejected"); ProfitID is the local order id.
 * - One simulated account (SimSetAccount); orders for another account are
 *   refused with NL_NOT_FOUND.
 * - Order callbacks: every change of an order queues its id; the connector
 *   thread fires TConnectorOrderCallback and the legacy order callbacks,
 *   one per change, and the client reads the order as it is by then.  As
 *   with the DLL they may run before SendOrder returns: by chance (the
 *   connector thread is another thread), or on purpose with
 *   SimSetEarlyOrderCallback, where the request waits for them (at most 1 s).
 * - Order requests for no working order (a finished one) are taken and
 *   answered by an order change; see sim_orders_match.c for what an order
 *   and a position report.
 * - Every command reaches the engine through run_command: at one market
 *   time fixed there, and recorded in the broker state file (SimSetStateFile,
 *   sim_state_file.h) before the lock is released.
 * The callbacks themselves are fired by the connector thread
 * (sim_order_callbacks.c); the Sim* order setters are with the other
 * simulator controls in sim_exports.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_order_callbacks.h"

#define EXPORT QT_PROFITDLL_EXPORT
#define CHECK_SIGNATURE(name) \
    _Static_assert(_Generic(&name, qt_profitdll_##name##_fn: 1, default: 0), #name " signature differs from qt_profitdll.h")

/* ------------------------------------------------------------------------ */
/* requests: the orders lock, and early callbacks                           */

#define SIM_EARLY_WAIT_NS 1000000000LL

static double draw(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static void request_begin(sim_session *s) { sim_mutex_lock(&s->lock); }

/* End of an order request: unlock; then, with the probability of
 * SimSetEarlyOrderCallback, wait until the connector thread has fired the
 * notifications queued so far (this request's among them), so that their
 * callbacks run before the request returns. */
static void request_end(sim_session *s) {
    uint64_t target = s->notes_queued;
    double p = s->early_probability;
    int early = p > 0 && target > atomic_load(&s->notes_done) && (p >= 1 || draw(&s->rng) < p);
    sim_mutex_unlock(&s->lock);
    if (!early) return;
    int64_t until = qt_monotonic_ns() + SIM_EARLY_WAIT_NS;
    for (;;) {
        uint32_t gen = atomic_load_explicit(&s->notes_gen, memory_order_acquire);
        if (atomic_load_explicit(&s->notes_done, memory_order_acquire) >= target) {
            SIM_COUNT(s, early_order_callbacks, 1);
            return;
        }
        int64_t left = until - qt_monotonic_ns();
        if (left <= 0 || atomic_load(&s->stop)) {
            SIM_COUNT(s, early_callback_timeouts, 1);
            return;
        }
        qt_wait_u32(&s->notes_gen, gen, left);
    }
}

/* One order command on the engine, the way a restore repeats it: at one
 * market time fixed here, and appended to the state file (if any) before
 * the lock is released, so before the request returns and before any
 * callback it causes fires. */
static int64_t run_command(sim_session *s, const sim_command *c) {
    request_begin(s);
    int64_t rc = NL_WAITING_SERVER;
    if (s->orders) {
        s->command_now = sim_clock_now(s);
        rc = sim_command_exec(s->orders, c);
        sim_state_command(s, c, s->command_now, rc);
        s->command_now = 0;
    }
    request_end(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* argument conversion                                                      */

/* Session checks of an order export; *out set on NL_OK. */
static int order_session(sim_session **out) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (sim_in_callback(s)) {
        SIM_COUNT(s, forbidden_calls, 1);
        return NL_INTERNAL_ERROR;
    }
    if (s->cfg.login_result != QT_PROFITDLL_LOGIN_CONNECTED) return NL_NO_LOGIN;
    if (!s->routing) return NL_MARKET_ONLY;
    if (!atomic_load(&s->routing_ready)) return NL_WAITING_SERVER;
    *out = s;
    return NL_OK;
}

static int text_arg(const uint16_t *in, char *out, size_t cap, int allow_empty) {
    if (!in) return NL_INVALID_ARGS;
    if (sim_u16_to_utf8(in, out, cap) < 0) return NL_INVALID_ARGS;
    return (!allow_empty && !out[0]) ? NL_INVALID_ARGS : NL_OK;
}

static int account_arg(const TConnectorAccountIdentifier *a, sim_account *out) {
    memset(out, 0, sizeof(*out));
    out->broker_id = a->BrokerID;
    int rc = text_arg(a->AccountID, out->account_id, SIM_ID_LEN, 0);
    if (rc) return rc;
    if (a->SubAccountID && text_arg(a->SubAccountID, out->sub_account_id, SIM_ID_LEN, 1)) return NL_INVALID_ARGS;
    return NL_OK;
}

static int known_account(const sim_session *s, const sim_account *a) {
    return a->broker_id == s->cfg.account.broker_id && strcmp(a->account_id, s->cfg.account.account_id) == 0 &&
           strcmp(a->sub_account_id, s->cfg.account.sub_account_id) == 0;
}

static int exchange_ok(const char *e) { return (e[0] == 'F' || e[0] == 'B' || e[0] == 'f' || e[0] == 'b') && !e[1]; }

static int asset_arg(const uint16_t *ticker, const uint16_t *exchange, char *t, char *e) {
    if (text_arg(ticker, t, SIM_ID_LEN, 0)) return NL_INVALID_ARGS;
    if (text_arg(exchange, e, SIM_EXCH_LEN, 0)) return NL_INVALID_ARGS;
    return exchange_ok(e) ? NL_OK : NL_EXCHANGE_UNKNOWN;
}

static int password_arg(const uint16_t *p) { return p && p[0] ? NL_OK : NL_NO_PASSWORD; }

static int price_ok(double p) { return isfinite(p) && p > 0; }

/* Version 0 and Version 1 number the order enums differently: map to V1. */
static int map_order_enums(uint8_t version, uint8_t type_in, uint8_t side_in, uint8_t *type, uint8_t *side) {
    if (version == 0) {
        switch (type_in) {
        case QT_PROFITDLL_OT_V0_LIMIT: *type = QT_PROFITDLL_OT_LIMIT; break;
        case QT_PROFITDLL_OT_V0_STOP: *type = QT_PROFITDLL_OT_STOP_LIMIT; break;
        case QT_PROFITDLL_OT_V0_MARKET: *type = QT_PROFITDLL_OT_MARKET; break;
        default: return NL_INVALID_ARGS;
        }
        if (side_in == QT_PROFITDLL_OS_V0_BUY)
            *side = QT_PROFITDLL_OS_BUY;
        else if (side_in == QT_PROFITDLL_OS_V0_SELL)
            *side = QT_PROFITDLL_OS_SELL;
        else
            return NL_INVALID_ARGS;
        return NL_OK;
    }
    if (type_in != QT_PROFITDLL_OT_MARKET && type_in != QT_PROFITDLL_OT_LIMIT && type_in != QT_PROFITDLL_OT_STOP_LIMIT)
        return NL_INVALID_ARGS;
    if (side_in != QT_PROFITDLL_OS_BUY && side_in != QT_PROFITDLL_OS_SELL) return NL_INVALID_ARGS;
    *type = type_in;
    *side = side_in;
    return NL_OK;
}

/* Prices of a new order by type; normalises the unused ones to -1. */
static int order_prices(sim_order_request *r) {
    if (r->quantity <= 0) return NL_INVALID_ARGS;
    switch (r->order_type) {
    case QT_PROFITDLL_OT_MARKET:
        r->price = -1;
        r->stop_price = -1;
        return NL_OK;
    case QT_PROFITDLL_OT_LIMIT:
        r->stop_price = -1;
        return price_ok(r->price) ? NL_OK : NL_INVALID_ARGS;
    default:
        return price_ok(r->price) && price_ok(r->stop_price) ? NL_OK : NL_INVALID_ARGS;
    }
}

static int64_t submit(sim_session *s, sim_order_request *req) {
    int rc = order_prices(req);
    if (rc) return rc;
    if (!known_account(s, &req->account)) return NL_NOT_FOUND;
    sim_command c = {.kind = SIM_COMMAND_SEND, .u.send = *req};
    return run_command(s, &c);
}

/* ------------------------------------------------------------------------ */
/* V2 order entry                                                           */

EXPORT int64_t QT_PROFITDLL_CALL SendOrder(const TConnectorSendOrder *o) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    if (!o) return NL_INVALID_ARGS;
    if (o->Version > QT_PROFITDLL_SEND_ORDER_VERSION) return NL_VERSION_NOT_SUPPORTED;
    sim_order_request req;
    memset(&req, 0, sizeof(req));
    if ((rc = map_order_enums(o->Version, o->OrderType, o->OrderSide, &req.order_type, &req.side)) != NL_OK) return rc;
    if ((rc = account_arg(&o->AccountID, &req.account)) != NL_OK) return rc;
    if ((rc = asset_arg(o->AssetID.Ticker, o->AssetID.Exchange, req.ticker, req.exchange)) != NL_OK) return rc;
    if ((rc = password_arg(o->Password)) != NL_OK) return rc;
    req.price = o->Price;
    req.stop_price = o->StopPrice;
    req.quantity = o->Quantity;
    req.source = o->Version == 0 ? SIM_SRC_SEND_ORDER_V0 : SIM_SRC_SEND_ORDER_V1;
    return submit(s, &req);
}
CHECK_SIGNATURE(SendOrder);

static int order_ref_arg(const TConnectorOrderIdentifier *id, sim_order_ref *ref) {
    memset(ref, 0, sizeof(*ref));
    ref->local_id = id->LocalOrderID;
    if (id->ClOrderID && sim_u16_to_utf8(id->ClOrderID, ref->cl_ord_id, SIM_ID_LEN) < 0) return NL_INVALID_ARGS;
    return ref->local_id > 0 || ref->cl_ord_id[0] ? NL_OK : NL_INVALID_ARGS;
}

EXPORT int32_t QT_PROFITDLL_CALL SendChangeOrderV2(const TConnectorChangeOrder *c) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    if (!c) return NL_INVALID_ARGS;
    if (c->Version > 0) return NL_VERSION_NOT_SUPPORTED;
    sim_change_request req;
    memset(&req, 0, sizeof(req));
    if ((rc = account_arg(&c->AccountID, &req.account)) != NL_OK) return rc;
    if ((rc = order_ref_arg(&c->OrderID, &req.order)) != NL_OK) return rc;
    if ((rc = password_arg(c->Password)) != NL_OK) return rc;
    if (c->Quantity <= 0 || !isfinite(c->Price) || !isfinite(c->StopPrice)) return NL_INVALID_ARGS;
    if (!known_account(s, &req.account)) return NL_NOT_FOUND;
    req.price = c->Price;
    req.stop_price = c->StopPrice;
    req.quantity = c->Quantity;
    sim_command cmd = {.kind = SIM_COMMAND_CHANGE, .u.change = req};
    return (int32_t)run_command(s, &cmd);
}
CHECK_SIGNATURE(SendChangeOrderV2);

EXPORT int32_t QT_PROFITDLL_CALL SendCancelOrderV2(const TConnectorCancelOrder *c) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    if (!c) return NL_INVALID_ARGS;
    if (c->Version > 0) return NL_VERSION_NOT_SUPPORTED;
    sim_cancel_request req;
    memset(&req, 0, sizeof(req));
    if ((rc = account_arg(&c->AccountID, &req.account)) != NL_OK) return rc;
    if ((rc = order_ref_arg(&c->OrderID, &req.order)) != NL_OK) return rc;
    if ((rc = password_arg(c->Password)) != NL_OK) return rc;
    if (!known_account(s, &req.account)) return NL_NOT_FOUND;
    sim_command cmd = {.kind = SIM_COMMAND_CANCEL, .u.cancel = req};
    return (int32_t)run_command(s, &cmd);
}
CHECK_SIGNATURE(SendCancelOrderV2);

static int cancel_many(sim_session *s, sim_cancel_filter *f) {
    if (!known_account(s, &f->account)) return NL_NOT_FOUND;
    sim_command c = {.kind = SIM_COMMAND_CANCEL_MANY, .u.filter = *f};
    return (int)run_command(s, &c);
}

EXPORT int32_t QT_PROFITDLL_CALL SendCancelOrdersV2(const TConnectorCancelOrders *c) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    if (!c) return NL_INVALID_ARGS;
    if (c->Version > 0) return NL_VERSION_NOT_SUPPORTED;
    sim_cancel_filter f;
    memset(&f, 0, sizeof(f));
    if ((rc = account_arg(&c->AccountID, &f.account)) != NL_OK) return rc;
    if ((rc = asset_arg(c->AssetID.Ticker, c->AssetID.Exchange, f.ticker, f.exchange)) != NL_OK) return rc;
    if ((rc = password_arg(c->Password)) != NL_OK) return rc;
    return cancel_many(s, &f);
}
CHECK_SIGNATURE(SendCancelOrdersV2);

EXPORT int32_t QT_PROFITDLL_CALL SendCancelAllOrdersV2(const TConnectorCancelAllOrders *c) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    if (!c) return NL_INVALID_ARGS;
    if (c->Version > 0) return NL_VERSION_NOT_SUPPORTED;
    sim_cancel_filter f;
    memset(&f, 0, sizeof(f));
    if ((rc = account_arg(&c->AccountID, &f.account)) != NL_OK) return rc;
    if ((rc = password_arg(c->Password)) != NL_OK) return rc;
    return cancel_many(s, &f);
}
CHECK_SIGNATURE(SendCancelAllOrdersV2);

static int64_t zero_position(sim_session *s, sim_zero_request *z) {
    if (!(z->price == -1 || price_ok(z->price))) return NL_INVALID_ARGS;
    if (!known_account(s, &z->account)) return NL_NOT_FOUND;
    sim_command c = {.kind = SIM_COMMAND_ZERO, .u.zero = *z};
    return run_command(s, &c);
}

EXPORT int64_t QT_PROFITDLL_CALL SendZeroPositionV2(const TConnectorZeroPosition *c) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    if (!c) return NL_INVALID_ARGS;
    if (c->Version > QT_PROFITDLL_ZERO_POSITION_VERSION) return NL_VERSION_NOT_SUPPORTED;
    sim_zero_request z;
    memset(&z, 0, sizeof(z));
    if ((rc = account_arg(&c->AccountID, &z.account)) != NL_OK) return rc;
    if ((rc = asset_arg(c->AssetID.Ticker, c->AssetID.Exchange, z.ticker, z.exchange)) != NL_OK) return rc;
    if ((rc = password_arg(c->Password)) != NL_OK) return rc;
    z.price = c->Price;
    z.position_type = c->Version >= 1 ? c->PositionType : QT_PROFITDLL_POS_DAY_TRADE;
    if (z.position_type != QT_PROFITDLL_POS_DAY_TRADE && z.position_type != QT_PROFITDLL_POS_CONSOLIDATED)
        return NL_INVALID_ARGS;
    return zero_position(s, &z);
}
CHECK_SIGNATURE(SendZeroPositionV2);

/* ------------------------------------------------------------------------ */
/* queries                                                                  */

/* Copy text into a client buffer of *len + 1 units, or only report *len. */
static void out_text(const char *utf8, qt_profitdll_wchar *buf, int32_t *len) {
    uint16_t tmp[SIM_TEXT_LEN];
    int n = sim_utf8_to_u16(utf8, tmp, SIM_TEXT_LEN);
    if (n < 0) n = 0;
    if (buf) {
        int32_t cap = *len < 0 ? 0 : *len;
        int32_t k = n < cap ? n : cap;
        memcpy(buf, tmp, (size_t)k * sizeof(uint16_t));
        buf[k] = 0;
    }
    *len = n;
}

static void fixed_text(const char *utf8, qt_profitdll_wchar *buf, int32_t *len) {
    int n = sim_utf8_to_u16(utf8, buf, QT_PROFITDLL_STRING0_LEN);
    *len = n < 0 ? 0 : n;
}

EXPORT int32_t QT_PROFITDLL_CALL GetOrderDetails(TConnectorOrderOut *o) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!s->routing) return NL_MARKET_ONLY;
    if (!o) return NL_INVALID_ARGS;
    if (o->Version > QT_PROFITDLL_ORDER_OUT_VERSION) return NL_VERSION_NOT_SUPPORTED;
    sim_order_ref ref;
    int rc = order_ref_arg(&o->OrderID, &ref);
    if (rc) return rc;
    sim_order_view v;
    sim_mutex_lock(&s->lock);
    rc = s->orders ? sim_orders_find(s->orders, &ref, &v) : NL_WAITING_SERVER;
    sim_mutex_unlock(&s->lock);
    if (rc != NL_OK) return rc;
    int off = s->cfg.utc_offset_min;
    o->OrderID.LocalOrderID = v.local_id;
    o->AccountID.Version = 0;
    o->AccountID.BrokerID = v.account.broker_id;
    fixed_text(v.account.account_id, o->AccountID.AccountID, &o->AccountID.AccountIDLength);
    fixed_text(v.account.sub_account_id, o->AccountID.SubAccountID, &o->AccountID.SubAccountIDLength);
    o->AccountID.Reserved = 0;
    o->AssetID.Version = 0;
    out_text(v.ticker, o->AssetID.Ticker, &o->AssetID.TickerLength);
    out_text(v.exchange, o->AssetID.Exchange, &o->AssetID.ExchangeLength);
    o->AssetID.FeedType = 0;
    o->Quantity = v.quantity;
    o->TradedQuantity = v.traded_quantity;
    o->LeavesQuantity = v.leaves_quantity;
    o->Price = v.price;
    o->StopPrice = v.stop_price;
    o->AveragePrice = v.average_price;
    o->OrderSide = v.side;
    o->OrderType = v.order_type;
    o->OrderStatus = v.status;
    o->ValidityType = v.validity_type;
    memset(&o->Date, 0, 4 * sizeof(TSystemTime));
    if (v.created_ns) sim_systemtime_from_ns(v.created_ns, off, &o->Date);
    if (v.updated_ns) sim_systemtime_from_ns(v.updated_ns, off, &o->LastUpdate);
    if (v.closed_ns) sim_systemtime_from_ns(v.closed_ns, off, &o->CloseDate);
    if (v.validity_ns) sim_systemtime_from_ns(v.validity_ns, off, &o->ValidityDate);
    out_text(v.text, o->TextMessage, &o->TextMessageLength);
    if (o->Version >= 1) o->EventID = v.event_id;
    return NL_OK;
}
CHECK_SIGNATURE(GetOrderDetails);

EXPORT int32_t QT_PROFITDLL_CALL GetPositionV2(TConnectorTradingAccountPosition *p) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!s->routing) return NL_MARKET_ONLY;
    if (!p) return NL_INVALID_ARGS;
    if (p->Version > 2) return NL_VERSION_NOT_SUPPORTED;
    sim_account acc;
    char ticker[SIM_ID_LEN], exch[SIM_EXCH_LEN];
    int rc = account_arg(&p->AccountID, &acc);
    if (rc) return rc;
    if ((rc = asset_arg(p->AssetID.Ticker, p->AssetID.Exchange, ticker, exch)) != NL_OK) return rc;
    uint8_t type = p->Version >= 1 ? p->PositionType : QT_PROFITDLL_POS_DAY_TRADE;
    if (type != QT_PROFITDLL_POS_DAY_TRADE && type != QT_PROFITDLL_POS_CONSOLIDATED) return NL_INVALID_ARGS;
    if (!known_account(s, &acc)) return NL_NOT_FOUND;
    sim_position_view v;
    sim_mutex_lock(&s->lock);
    rc = s->orders ? sim_orders_position(s->orders, &acc, ticker, exch, type, &v) : NL_WAITING_SERVER;
    sim_mutex_unlock(&s->lock);
    if (rc != NL_OK) return rc;
    p->OpenQuantity = v.open_quantity;
    p->OpenAveragePrice = v.open_average_price;
    p->OpenSide = v.open_side;
    p->DailyAverageSellPrice = v.daily_average_sell_price;
    p->DailySellQuantity = v.daily_sell_quantity;
    p->DailyAverageBuyPrice = v.daily_average_buy_price;
    p->DailyBuyQuantity = v.daily_buy_quantity;
    p->DailyQuantityD1 = p->DailyQuantityD2 = p->DailyQuantityD3 = 0;
    p->DailyQuantityBlocked = p->DailyQuantityPending = p->DailyQuantityAlloc = p->DailyQuantityProvision = 0;
    p->DailyQuantity = v.daily_quantity;
    p->DailyQuantityAvailable = v.daily_quantity;
    if (p->Version >= 2) p->EventID = v.event_id;
    return NL_OK;
}
CHECK_SIGNATURE(GetPositionV2);

/* An order as TConnectorOrder with its strings in t (valid during the call). */
static void connector_order(const sim_session *s, const sim_order_view *v, uint8_t version, sim_order_text *t,
                            TConnectorOrder *o) {
    int off = s->cfg.utc_offset_min;
    sim_order_text_of(s, v, t);
    memset(o, 0, sizeof(*o));
    o->Version = version;
    o->OrderID.LocalOrderID = v->local_id;
    o->OrderID.ClOrderID = t->cl_ord_id;
    o->AccountID.BrokerID = v->account.broker_id;
    o->AccountID.AccountID = t->account;
    o->AccountID.SubAccountID = t->sub_account;
    o->AssetID.Ticker = t->ticker;
    o->AssetID.Exchange = t->exchange;
    o->Quantity = v->quantity;
    o->TradedQuantity = v->traded_quantity;
    o->LeavesQuantity = v->leaves_quantity;
    o->Price = v->price;
    o->StopPrice = v->stop_price;
    o->AveragePrice = v->average_price;
    o->OrderSide = v->side;
    o->OrderType = v->order_type;
    o->OrderStatus = v->status;
    o->ValidityType = v->validity_type;
    if (v->created_ns) sim_systemtime_from_ns(v->created_ns, off, &o->Date);
    if (v->updated_ns) sim_systemtime_from_ns(v->updated_ns, off, &o->LastUpdate);
    if (v->closed_ns) sim_systemtime_from_ns(v->closed_ns, off, &o->CloseDate);
    if (v->validity_ns) sim_systemtime_from_ns(v->validity_ns, off, &o->ValidityDate);
    o->TextMessage = t->text;
    if (version >= 1) o->EventID = v->event_id;
}

static int64_t ns_of_systemtime(const TSystemTime *t, int off) {
    sim_civil c = {t->wYear, t->wMonth, t->wDay, t->wHour, t->wMinute, t->wSecond, t->wMilliseconds, 0};
    return sim_ns_from_civil(&c, off);
}

static int enumerate(const TConnectorAccountIdentifier *account, uint8_t version, int64_t from, int64_t to,
                     intptr_t param, TConnectorEnumerateOrdersProc cb) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!s->routing) return NL_MARKET_ONLY;
    if (!account || !cb) return NL_INVALID_ARGS;
    if (version > 1) return NL_VERSION_NOT_SUPPORTED;
    sim_account acc;
    int rc = account_arg(account, &acc);
    if (rc) return rc;
    if (!known_account(s, &acc)) return NL_NOT_FOUND;
    for (size_t i = 0;; i++) {
        sim_order_view v;
        sim_mutex_lock(&s->lock);
        rc = s->orders ? sim_orders_at(s->orders, i, &v) : NL_NOT_FOUND;
        sim_mutex_unlock(&s->lock);
        if (rc != NL_OK) break;
        if (v.created_ns < from || v.created_ns > to) continue;
        sim_order_text t;
        TConnectorOrder o;
        connector_order(s, &v, version, &t, &o);
        if (!cb(&o, param)) break;
    }
    return NL_OK;
}

EXPORT int32_t QT_PROFITDLL_CALL EnumerateAllOrders(const TConnectorAccountIdentifier *account, uint8_t order_version,
                                               intptr_t param, TConnectorEnumerateOrdersProc callback) {
    return enumerate(account, order_version, INT64_MIN, INT64_MAX, param, callback);
}
CHECK_SIGNATURE(EnumerateAllOrders);

EXPORT int32_t QT_PROFITDLL_CALL EnumerateOrdersByInterval(const TConnectorAccountIdentifier *account,
                                                      uint8_t order_version, TSystemTime start, TSystemTime end,
                                                      intptr_t param, TConnectorEnumerateOrdersProc callback) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    int off = s->cfg.utc_offset_min;
    return enumerate(account, order_version, ns_of_systemtime(&start, off), ns_of_systemtime(&end, off), param,
                     callback);
}
CHECK_SIGNATURE(EnumerateOrdersByInterval);

/* The simulated history is complete at once: nothing to wait for. */
EXPORT int32_t QT_PROFITDLL_CALL HasOrdersInInterval(const TConnectorAccountIdentifier *account, TSystemTime start,
                                                TSystemTime end) {
    (void)start;
    (void)end;
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!s->routing) return NL_MARKET_ONLY;
    return account ? NL_OK : NL_INVALID_ARGS;
}
CHECK_SIGNATURE(HasOrdersInInterval);

/* The name the replayed instrument is served under; 0 when none. */
static int served_asset(sim_session *s, char *ticker, char *exch) {
    ticker[0] = exch[0] = 0;
    if (!atomic_load(&s->market_ready) || !s->have_log) return 0;
    snprintf(ticker, SIM_ID_LEN, "%s", s->cfg.ticker[0] ? s->cfg.ticker : s->logs[0].header.instrument);
    snprintf(exch, SIM_EXCH_LEN, "%s", s->cfg.exchange[0] ? s->cfg.exchange : "F");
    return ticker[0] != 0;
}

EXPORT int32_t QT_PROFITDLL_CALL EnumerateAllPositionAssets(const TConnectorAccountIdentifier *account,
                                                       uint8_t asset_version, intptr_t param,
                                                       TConnectorEnumerateAssetProc callback) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!s->routing) return NL_MARKET_ONLY;
    if (!account || !callback) return NL_INVALID_ARGS;
    if (asset_version > 0) return NL_VERSION_NOT_SUPPORTED;
    sim_account acc;
    int rc = account_arg(account, &acc);
    if (rc) return rc;
    if (!known_account(s, &acc)) return NL_NOT_FOUND;
    /* one instrument is replayed: at most one asset has a position */
    sim_position_view v;
    char ticker[SIM_ID_LEN], exch[SIM_EXCH_LEN];
    if (!served_asset(s, ticker, exch)) return NL_OK;
    sim_mutex_lock(&s->lock);
    rc = s->orders ? sim_orders_position(s->orders, &acc, ticker, exch, QT_PROFITDLL_POS_CONSOLIDATED, &v)
                   : NL_NO_POSITION;
    sim_mutex_unlock(&s->lock);
    if (rc == NL_OK) {
        uint16_t wt[SIM_ID_LEN], we[SIM_EXCH_LEN];
        sim_u16_or_empty(ticker, wt, SIM_ID_LEN);
        sim_u16_or_empty(exch, we, SIM_EXCH_LEN);
        TConnectorAssetIdentifier a;
        memset(&a, 0, sizeof(a));
        a.Ticker = wt;
        a.Exchange = we;
        callback(a, param);
    }
    return NL_OK;
}
CHECK_SIGNATURE(EnumerateAllPositionAssets);

/* ------------------------------------------------------------------------ */
/* accounts                                                                 */

static int account_session(sim_session **out) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!s->routing) return NL_MARKET_ONLY;
    if (!atomic_load(&s->routing_ready)) return NL_WAITING_SERVER;
    *out = s;
    return NL_OK;
}

EXPORT int32_t QT_PROFITDLL_CALL GetAccount(void) {
    sim_session *s = NULL;
    int rc = account_session(&s);
    if (rc) return rc;
    if (sim_in_callback(s)) {
        SIM_COUNT(s, forbidden_calls, 1);
        return NL_INTERNAL_ERROR;
    }
    sim_cmd c = {.kind = SIM_CMD_ACCOUNTS};
    return sim_push_cmd(s, &c);
}
CHECK_SIGNATURE(GetAccount);

EXPORT int32_t QT_PROFITDLL_CALL GetAccountCount(void) {
    sim_session *s = NULL;
    int rc = account_session(&s);
    return rc ? rc : 1;
}
CHECK_SIGNATURE(GetAccountCount);

static int fill_accounts(sim_session *s, int32_t start_source, int32_t start_dest, int32_t count,
                         TConnectorAccountIdentifierOut *out) {
    if (!out || start_source < 0 || start_dest < 0 || count < 0) return NL_INVALID_ARGS;
    int filled = 0;
    for (int32_t i = start_source; i < 1 && filled < count; i++, filled++) {
        TConnectorAccountIdentifierOut *a = &out[start_dest + filled];
        memset(a, 0, sizeof(*a));
        a->BrokerID = s->cfg.account.broker_id;
        fixed_text(s->cfg.account.account_id, a->AccountID, &a->AccountIDLength);
        fixed_text(s->cfg.account.sub_account_id, a->SubAccountID, &a->SubAccountIDLength);
    }
    return filled;
}

EXPORT int32_t QT_PROFITDLL_CALL GetAccounts(int32_t start_source, int32_t start_dest, int32_t count,
                                        TConnectorAccountIdentifierOut *out) {
    sim_session *s = NULL;
    int rc = account_session(&s);
    if (rc) return rc;
    return fill_accounts(s, start_source, start_dest, count, out);
}
CHECK_SIGNATURE(GetAccounts);

EXPORT int32_t QT_PROFITDLL_CALL GetAccountCountByBroker(int32_t broker_id) {
    sim_session *s = NULL;
    int rc = account_session(&s);
    if (rc) return rc;
    return broker_id == s->cfg.account.broker_id ? 1 : 0;
}
CHECK_SIGNATURE(GetAccountCountByBroker);

EXPORT int32_t QT_PROFITDLL_CALL GetAccountsByBroker(int32_t broker_id, int32_t start_source, int32_t start_dest,
                                                int32_t count, TConnectorAccountIdentifierOut *out) {
    sim_session *s = NULL;
    int rc = account_session(&s);
    if (rc) return rc;
    if (broker_id != s->cfg.account.broker_id) return 0;
    return fill_accounts(s, start_source, start_dest, count, out);
}
CHECK_SIGNATURE(GetAccountsByBroker);

EXPORT int32_t QT_PROFITDLL_CALL GetAccountDetails(TConnectorTradingAccountOut *a) {
    sim_session *s = NULL;
    int rc = account_session(&s);
    if (rc) return rc;
    if (!a) return NL_INVALID_ARGS;
    sim_account acc;
    if ((rc = account_arg(&a->AccountID, &acc)) != NL_OK) return rc;
    if (!known_account(s, &acc)) return NL_NOT_FOUND;
    out_text(s->cfg.broker_name, a->BrokerName, &a->BrokerNameLength);
    out_text(s->cfg.owner_name, a->OwnerName, &a->OwnerNameLength);
    out_text("", a->SubOwnerName, &a->SubOwnerNameLength);
    a->AccountFlags = CA_IS_ENABLED;
    a->AccountType = 0;
    return NL_OK;
}
CHECK_SIGNATURE(GetAccountDetails);

EXPORT int32_t QT_PROFITDLL_CALL GetSubAccountCount(const TConnectorAccountIdentifier *master) {
    sim_session *s = NULL;
    int rc = account_session(&s);
    if (rc) return rc;
    return master ? 0 : NL_INVALID_ARGS;
}
CHECK_SIGNATURE(GetSubAccountCount);

EXPORT int32_t QT_PROFITDLL_CALL GetSubAccounts(const TConnectorAccountIdentifier *master, int32_t start_source,
                                           int32_t start_dest, int32_t count, TConnectorAccountIdentifierOut *out) {
    (void)start_source;
    (void)start_dest;
    (void)count;
    sim_session *s = NULL;
    int rc = account_session(&s);
    if (rc) return rc;
    return master && out ? 0 : NL_INVALID_ARGS;
}
CHECK_SIGNATURE(GetSubAccounts);

/* ------------------------------------------------------------------------ */
/* legacy order entry (strings; Version 0 semantics)                        */

static int legacy_account(const uint16_t *account_id, const uint16_t *broker_id, sim_account *a) {
    memset(a, 0, sizeof(*a));
    char b[32];
    if (text_arg(account_id, a->account_id, SIM_ID_LEN, 0)) return NL_INVALID_ARGS;
    if (text_arg(broker_id, b, sizeof(b), 0)) return NL_INVALID_ARGS;
    char *end;
    long v = strtol(b, &end, 10);
    if (*end || v < INT32_MIN || v > INT32_MAX) return NL_INVALID_ARGS;
    a->broker_id = (int32_t)v;
    return NL_OK;
}

static int64_t legacy_send(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr password,
                           qt_profitdll_cstr ticker, qt_profitdll_cstr exchange, uint8_t type, uint8_t side, double price,
                           double stop, int32_t qty) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    sim_order_request req;
    memset(&req, 0, sizeof(req));
    if ((rc = legacy_account(account_id, broker_id, &req.account)) != NL_OK) return rc;
    if ((rc = password_arg(password)) != NL_OK) return rc;
    if ((rc = asset_arg(ticker, exchange, req.ticker, req.exchange)) != NL_OK) return rc;
    req.order_type = type;
    req.side = side;
    req.price = price;
    req.stop_price = stop;
    req.quantity = qty;
    req.source = SIM_SRC_LEGACY;
    return submit(s, &req);
}

EXPORT int64_t QT_PROFITDLL_CALL SendBuyOrder(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr password,
                                         qt_profitdll_cstr ticker, qt_profitdll_cstr exchange, double price, int32_t qty) {
    return legacy_send(account_id, broker_id, password, ticker, exchange, QT_PROFITDLL_OT_LIMIT, QT_PROFITDLL_OS_BUY, price, -1,
                       qty);
}
CHECK_SIGNATURE(SendBuyOrder);

EXPORT int64_t QT_PROFITDLL_CALL SendSellOrder(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr password,
                                          qt_profitdll_cstr ticker, qt_profitdll_cstr exchange, double price, int32_t qty) {
    return legacy_send(account_id, broker_id, password, ticker, exchange, QT_PROFITDLL_OT_LIMIT, QT_PROFITDLL_OS_SELL, price,
                       -1, qty);
}
CHECK_SIGNATURE(SendSellOrder);

EXPORT int64_t QT_PROFITDLL_CALL SendStopBuyOrder(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id,
                                             qt_profitdll_cstr password, qt_profitdll_cstr ticker, qt_profitdll_cstr exchange,
                                             double price, double stop_price, int32_t qty) {
    return legacy_send(account_id, broker_id, password, ticker, exchange, QT_PROFITDLL_OT_STOP_LIMIT, QT_PROFITDLL_OS_BUY,
                       price, stop_price, qty);
}
CHECK_SIGNATURE(SendStopBuyOrder);

EXPORT int64_t QT_PROFITDLL_CALL SendStopSellOrder(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id,
                                              qt_profitdll_cstr password, qt_profitdll_cstr ticker, qt_profitdll_cstr exchange,
                                              double price, double stop_price, int32_t qty) {
    return legacy_send(account_id, broker_id, password, ticker, exchange, QT_PROFITDLL_OT_STOP_LIMIT, QT_PROFITDLL_OS_SELL,
                       price, stop_price, qty);
}
CHECK_SIGNATURE(SendStopSellOrder);

EXPORT int64_t QT_PROFITDLL_CALL SendMarketBuyOrder(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id,
                                               qt_profitdll_cstr password, qt_profitdll_cstr ticker, qt_profitdll_cstr exchange,
                                               int32_t qty) {
    return legacy_send(account_id, broker_id, password, ticker, exchange, QT_PROFITDLL_OT_MARKET, QT_PROFITDLL_OS_BUY, -1, -1,
                       qty);
}
CHECK_SIGNATURE(SendMarketBuyOrder);

EXPORT int64_t QT_PROFITDLL_CALL SendMarketSellOrder(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id,
                                                qt_profitdll_cstr password, qt_profitdll_cstr ticker, qt_profitdll_cstr exchange,
                                                int32_t qty) {
    return legacy_send(account_id, broker_id, password, ticker, exchange, QT_PROFITDLL_OT_MARKET, QT_PROFITDLL_OS_SELL, -1, -1,
                       qty);
}
CHECK_SIGNATURE(SendMarketSellOrder);

EXPORT int32_t QT_PROFITDLL_CALL SendChangeOrder(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr password,
                                            qt_profitdll_cstr cl_ord_id, double price, int32_t qty) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    sim_change_request req;
    memset(&req, 0, sizeof(req));
    if ((rc = legacy_account(account_id, broker_id, &req.account)) != NL_OK) return rc;
    if ((rc = password_arg(password)) != NL_OK) return rc;
    if (text_arg(cl_ord_id, req.order.cl_ord_id, SIM_ID_LEN, 0)) return NL_INVALID_ARGS;
    if (qty <= 0 || !isfinite(price)) return NL_INVALID_ARGS;
    if (!known_account(s, &req.account)) return NL_NOT_FOUND;
    req.price = price;
    req.stop_price = -1;
    req.quantity = qty;
    sim_command cmd = {.kind = SIM_COMMAND_CHANGE, .u.change = req};
    return (int32_t)run_command(s, &cmd);
}
CHECK_SIGNATURE(SendChangeOrder);

/* Note the argument order of the DLL: the password comes last. */
EXPORT int32_t QT_PROFITDLL_CALL SendCancelOrder(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr cl_ord_id,
                                            qt_profitdll_cstr password) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    sim_cancel_request req;
    memset(&req, 0, sizeof(req));
    if ((rc = legacy_account(account_id, broker_id, &req.account)) != NL_OK) return rc;
    if (text_arg(cl_ord_id, req.order.cl_ord_id, SIM_ID_LEN, 0)) return NL_INVALID_ARGS;
    if ((rc = password_arg(password)) != NL_OK) return rc;
    if (!known_account(s, &req.account)) return NL_NOT_FOUND;
    sim_command cmd = {.kind = SIM_COMMAND_CANCEL, .u.cancel = req};
    return (int32_t)run_command(s, &cmd);
}
CHECK_SIGNATURE(SendCancelOrder);

EXPORT int32_t QT_PROFITDLL_CALL SendCancelOrders(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr password,
                                             qt_profitdll_cstr ticker, qt_profitdll_cstr exchange) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    sim_cancel_filter f;
    memset(&f, 0, sizeof(f));
    if ((rc = legacy_account(account_id, broker_id, &f.account)) != NL_OK) return rc;
    if ((rc = password_arg(password)) != NL_OK) return rc;
    if ((rc = asset_arg(ticker, exchange, f.ticker, f.exchange)) != NL_OK) return rc;
    return cancel_many(s, &f);
}
CHECK_SIGNATURE(SendCancelOrders);

EXPORT int32_t QT_PROFITDLL_CALL SendCancelAllOrders(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id,
                                                qt_profitdll_cstr password) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    sim_cancel_filter f;
    memset(&f, 0, sizeof(f));
    if ((rc = legacy_account(account_id, broker_id, &f.account)) != NL_OK) return rc;
    if ((rc = password_arg(password)) != NL_OK) return rc;
    return cancel_many(s, &f);
}
CHECK_SIGNATURE(SendCancelAllOrders);

static int64_t legacy_zero(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr ticker,
                           qt_profitdll_cstr exchange, qt_profitdll_cstr password, double price) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    sim_zero_request z;
    memset(&z, 0, sizeof(z));
    if ((rc = legacy_account(account_id, broker_id, &z.account)) != NL_OK) return rc;
    if ((rc = asset_arg(ticker, exchange, z.ticker, z.exchange)) != NL_OK) return rc;
    if ((rc = password_arg(password)) != NL_OK) return rc;
    z.price = price;
    z.position_type = QT_PROFITDLL_POS_DAY_TRADE;
    return zero_position(s, &z);
}

EXPORT int64_t QT_PROFITDLL_CALL SendZeroPosition(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr ticker,
                                             qt_profitdll_cstr exchange, qt_profitdll_cstr password, double price) {
    return legacy_zero(account_id, broker_id, ticker, exchange, password, price);
}
CHECK_SIGNATURE(SendZeroPosition);

EXPORT int64_t QT_PROFITDLL_CALL SendZeroPositionAtMarket(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id,
                                                     qt_profitdll_cstr ticker, qt_profitdll_cstr exchange,
                                                     qt_profitdll_cstr password) {
    return legacy_zero(account_id, broker_id, ticker, exchange, password, -1);
}
CHECK_SIGNATURE(SendZeroPositionAtMarket);

/* Legacy queries answer through the legacy callbacks. */
EXPORT int32_t QT_PROFITDLL_CALL GetOrders(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr date_start,
                                      qt_profitdll_cstr date_end) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    sim_account a;
    if ((rc = legacy_account(account_id, broker_id, &a)) != NL_OK) return rc;
    int64_t t0, t1;
    int d0, d1;
    if (sim_parse_date_u16(date_start, s->cfg.utc_offset_min, &t0, &d0) ||
        sim_parse_date_u16(date_end, s->cfg.utc_offset_min, &t1, &d1))
        return NL_INVALID_ARGS;
    if (!known_account(s, &a)) return NL_NOT_FOUND;
    sim_cmd c = {.kind = SIM_CMD_ORDER_HISTORY};
    return sim_push_cmd(s, &c);
}
CHECK_SIGNATURE(GetOrders);

static int renotify(const sim_order_ref *ref) {
    sim_session *s = NULL;
    int rc = order_session(&s);
    if (rc) return rc;
    sim_order_view v;
    request_begin(s);
    rc = s->orders ? sim_orders_find(s->orders, ref, &v) : NL_WAITING_SERVER;
    if (rc == NL_OK) sim_host_order_changed(s, v.local_id);
    request_end(s);
    return rc;
}

EXPORT int32_t QT_PROFITDLL_CALL GetOrder(qt_profitdll_cstr cl_ord_id) {
    sim_order_ref ref;
    memset(&ref, 0, sizeof(ref));
    if (text_arg(cl_ord_id, ref.cl_ord_id, SIM_ID_LEN, 0)) return sim_current() ? NL_INVALID_ARGS : NL_NOT_INITIALIZED;
    return renotify(&ref);
}
CHECK_SIGNATURE(GetOrder);

EXPORT int32_t QT_PROFITDLL_CALL GetOrderProfitID(int64_t profit_id) {
    sim_order_ref ref;
    memset(&ref, 0, sizeof(ref));
    if (profit_id <= 0) return sim_current() ? NL_INVALID_ARGS : NL_NOT_INITIALIZED;
    ref.local_id = profit_id;
    return renotify(&ref);
}
CHECK_SIGNATURE(GetOrderProfitID);

/* The legacy position buffer is not produced: NULL means "no position";
 * GetPositionV2 is the supported query. */
EXPORT void *QT_PROFITDLL_CALL GetPosition(qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr ticker,
                                      qt_profitdll_cstr exchange) {
    (void)account_id;
    (void)broker_id;
    (void)ticker;
    (void)exchange;
    return NULL;
}
CHECK_SIGNATURE(GetPosition);

/* ------------------------------------------------------------------------ */
/* Sim*: the order side's observations (its setters are in sim_exports.c)  */

EXPORT int QT_PROFITDLL_CALL SimGetPositionStats(SimPositionStats *out, int size) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!s->routing) return NL_MARKET_ONLY;
    if (!out || size <= 0) return NL_INVALID_ARGS;
    char ticker[SIM_ID_LEN], exch[SIM_EXCH_LEN];
    if (!served_asset(s, ticker, exch)) return NL_NO_POSITION;
    sim_position_view v;
    sim_mutex_lock(&s->lock);
    int rc = s->orders ? sim_orders_position(s->orders, &s->cfg.account, ticker, exch, QT_PROFITDLL_POS_CONSOLIDATED, &v)
                       : NL_NO_POSITION;
    sim_mutex_unlock(&s->lock);
    if (rc != NL_OK) return rc;
    SimPositionStats p;
    memset(&p, 0, sizeof(p));
    p.net_qty = v.open_side == QT_PROFITDLL_OS_SELL ? -v.open_quantity : v.open_quantity;
    p.average_price = v.open_average_price;
    p.realized_pnl = v.realized_pnl;
    p.fees = v.fees;
    p.fills = v.fills;
    memcpy(out, &p, (size_t)size < sizeof(p) ? (size_t)size : sizeof(p));
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimGetOrderFees(int64_t local_id, double *fees) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!s->routing) return NL_MARKET_ONLY;
    if (!fees || local_id <= 0) return NL_INVALID_ARGS;
    sim_order_ref ref;
    memset(&ref, 0, sizeof(ref));
    ref.local_id = local_id;
    sim_order_view v;
    sim_mutex_lock(&s->lock);
    int rc = s->orders ? sim_orders_find(s->orders, &ref, &v) : NL_NOT_FOUND;
    sim_mutex_unlock(&s->lock);
    if (rc == NL_OK) *fees = v.fees;
    return rc;
}
