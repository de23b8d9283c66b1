/* The order side as the connector thread sees it (sim_order_callbacks.h):
 * the host of the order engine (its change notifications queue order ids,
 * its clock is the session's market clock), the order callbacks fired from
 * that queue (TConnectorOrderCallback and the legacy order-change
 * callbacks, one per change, outside the orders lock so the client can call
 * GetOrderDetails inside), the account and order-history callbacks, and the
 * engine's creation at login.  The client-side exports are in
 * sim_order_exports.c; neither calls into the replay. */
#include "sim_order_callbacks.h"

#include <stdio.h>
#include <string.h>

#include "sim_text.h"

/* ------------------------------------------------------------------------ */
/* host side of sim_orders.h                                                */

void sim_host_order_changed(void *ctx, int64_t local_id) {
    sim_session *s = (sim_session *)ctx; /* the orders lock is held */
    if (atomic_load(&s->restoring)) return; /* a fast-forward fires no callbacks */
    if (s->note_n == SIM_NOTE_CAP) {
        s->notes_overflow++;
        return;
    }
    s->notes[(s->note_head + s->note_n) % SIM_NOTE_CAP] = local_id;
    s->note_n++;
    s->notes_queued++;
    atomic_store_explicit(&s->cmd_pending, 1, memory_order_release);
    sim_wake(s);
}

/* A command runs at one market time, fixed when it began (and recorded in
 * the state file): the replay clock, which runs on with the wall clock,
 * would give a command that asks twice two answers no restore could repeat. */
int64_t sim_host_now_ns(void *ctx) {
    sim_session *s = (sim_session *)ctx;
    return s->command_now ? s->command_now : sim_clock_now(s);
}

static const char *type_word(int t) {
    switch (t) {
    case QT_PROFITDLL_OT_MARKET: return "Market";
    case QT_PROFITDLL_OT_LIMIT: return "Limit";
    case QT_PROFITDLL_OT_STOP_LIMIT: return "StopLimit";
    default: return "Unknown";
    }
}

static const char *status_word(int st) {
    static const char *const w[] = {
        "New", "PartiallyFilled", "Filled", "DoneForDay", "Canceled", "Replaced", "PendingCancel",
        "Stopped", "Rejected", "Suspended", "PendingNew", "Calculated", "Expired", "AcceptedForBidding",
        "PendingReplace", "PartiallyFilledCanceled", "Received", "PartiallyFilledExpired",
        "PartiallyFilledRejected",
    };
    return st >= 0 && st <= 18 ? w[st] : "Unknown";
}

static void date_or_empty(int64_t ns, int off, uint16_t *out) {
    if (ns)
        sim_format_date_u16(ns, off, out);
    else
        out[0] = 0;
}

void sim_order_text_of(const sim_session *s, const sim_order_view *v, sim_order_text *t) {
    int off = s->cfg.utc_offset_min;
    sim_u16_or_empty(v->cl_ord_id, t->cl_ord_id, SIM_ID_LEN);
    sim_u16_or_empty(v->account.account_id, t->account, SIM_ID_LEN);
    sim_u16_or_empty(v->account.sub_account_id, t->sub_account, SIM_ID_LEN);
    sim_u16_or_empty(v->ticker, t->ticker, SIM_ID_LEN);
    sim_u16_or_empty(v->exchange, t->exchange, SIM_EXCH_LEN);
    sim_u16_or_empty(s->cfg.owner_name, t->owner, SIM_ID_LEN);
    sim_u16_or_empty(type_word(v->order_type), t->type, 32);
    sim_u16_or_empty(status_word(v->status), t->status, 32);
    sim_u16_or_empty(v->text, t->text, SIM_TEXT_LEN);
    date_or_empty(v->created_ns, off, t->date);
    date_or_empty(v->updated_ns, off, t->last_update);
    date_or_empty(v->closed_ns, off, t->close_date);
    date_or_empty(v->validity_ns, off, t->validity);
}

static void fire_legacy(sim_session *s, const sim_order_view *v, int history) {
    THistoryCallback h1 = SIM_CB(s, history);
    THistoryCallbackV2 h2 = SIM_CB(s, history_v2);
    TOrderChangeCallback c1 = SIM_CB(s, order_change);
    TOrderChangeCallbackV2 c2 = SIM_CB(s, order_change_v2);
    if (history ? !(h1 || h2) : !(c1 || c2)) return;
    sim_order_text t;
    sim_order_text_of(s, v, &t);
    TAssetID a = {t.ticker, t.exchange, 0};
    int32_t q = (int32_t)v->quantity, tq = (int32_t)v->traded_quantity, lq = (int32_t)v->leaves_quantity;
    int32_t b = v->account.broker_id;
    if (history) {
        if (h1)
            h1(a, b, q, tq, lq, v->side, v->price, v->stop_price, v->average_price, v->local_id, t.type, t.account,
               t.owner, t.cl_ord_id, t.status, t.date);
        if (h2)
            h2(a, b, q, tq, lq, v->side, v->validity_type, v->price, v->stop_price, v->average_price, v->local_id,
               t.type, t.account, t.owner, t.cl_ord_id, t.status, t.date, t.last_update, t.close_date, t.validity);
    } else {
        if (c1)
            c1(a, b, q, tq, lq, v->side, v->price, v->stop_price, v->average_price, v->local_id, t.type, t.account,
               t.owner, t.cl_ord_id, t.status, t.date, t.text);
        if (c2)
            c2(a, b, q, tq, lq, v->side, v->validity_type, v->price, v->stop_price, v->average_price, v->local_id,
               t.type, t.account, t.owner, t.cl_ord_id, t.status, t.date, t.last_update, t.close_date, t.validity,
               t.text);
    }
}

/* One queued notification handled: wake requests waiting for it. */
static void note_done(sim_session *s) {
    atomic_fetch_add_explicit(&s->notes_done, 1, memory_order_release);
    atomic_fetch_add_explicit(&s->notes_gen, 1, memory_order_release);
    qt_wake_all_u32(&s->notes_gen);
}

/* Connector thread: fire the queued order notifications, outside the lock
 * (the client reads details with GetOrderDetails inside the callback). */
void sim_fire_order_notifications(sim_session *s) {
    for (;;) {
        sim_order_view v;
        int have = 0, popped = 0;
        sim_mutex_lock(&s->lock);
        if (s->note_n) {
            int64_t id = s->notes[s->note_head];
            s->note_head = (s->note_head + 1) % SIM_NOTE_CAP;
            s->note_n--;
            popped = 1;
            sim_order_ref ref = {id, ""};
            have = s->orders && sim_orders_find(s->orders, &ref, &v) == NL_OK;
            if (have) sim_state_reached(s); /* before the client can see it */
        }
        sim_mutex_unlock(&s->lock);
        if (!popped) return;
        if (!have) {
            note_done(s);
            continue;
        }
        TConnectorOrderCallback cb = SIM_CB(s, order);
        if (cb) {
            uint16_t cl[SIM_ID_LEN];
            sim_u16_or_empty(v.cl_ord_id, cl, SIM_ID_LEN);
            TConnectorOrderIdentifier id;
            memset(&id, 0, sizeof(id));
            id.Version = 0;
            id.LocalOrderID = v.local_id;
            id.ClOrderID = cl;
            cb(id);
        }
        fire_legacy(s, &v, 0);
        SIM_COUNT(s, order_notifications, 1);
        note_done(s);
    }
}

void sim_account_identifier(const sim_session *s, TConnectorAccountIdentifier *a, uint16_t *acc,
                            uint16_t *sub) {
    sim_u16_or_empty(s->cfg.account.account_id, acc, SIM_ID_LEN);
    sim_u16_or_empty(s->cfg.account.sub_account_id, sub, SIM_ID_LEN);
    memset(a, 0, sizeof(*a));
    a->Version = 0;
    a->BrokerID = s->cfg.account.broker_id;
    a->AccountID = acc;
    a->SubAccountID = sub;
}

void sim_fire_accounts(sim_session *s) {
    TAccountCallback cb = SIM_CB(s, account);
    if (!cb || !s->routing || !atomic_load(&s->routing_ready)) return;
    uint16_t broker[SIM_ID_LEN], acc[SIM_ID_LEN], owner[SIM_ID_LEN];
    sim_u16_or_empty(s->cfg.broker_name, broker, SIM_ID_LEN);
    sim_u16_or_empty(s->cfg.account.account_id, acc, SIM_ID_LEN);
    sim_u16_or_empty(s->cfg.owner_name, owner, SIM_ID_LEN);
    cb(s->cfg.account.broker_id, broker, acc, owner);
}

void sim_fire_order_history(sim_session *s) {
    if (!atomic_load(&s->routing_ready)) return;
    TConnectorAccountCallback cb = SIM_CB(s, order_history);
    if (cb) {
        uint16_t acc[SIM_ID_LEN], sub[SIM_ID_LEN];
        TConnectorAccountIdentifier a;
        sim_account_identifier(s, &a, acc, sub);
        cb(a);
    }
    if (!SIM_CB(s, history) && !SIM_CB(s, history_v2)) return;
    for (size_t i = 0;; i++) {
        sim_order_view v;
        sim_mutex_lock(&s->lock);
        int rc = s->orders ? sim_orders_at(s->orders, i, &v) : NL_NOT_FOUND;
        sim_mutex_unlock(&s->lock);
        if (rc != NL_OK) break;
        fire_legacy(s, &v, 1);
    }
}

/* The engine for the first log's instrument (have_market 0: no log). */
void sim_orders_start(sim_session *s, const char *ticker, const char *exchange, double price_unit, double tick_size,
                      double multiplier, int have_market) {
    sim_orders_config oc;
    memset(&oc, 0, sizeof(oc));
    oc.account = s->cfg.account;
    oc.latency_ns = s->cfg.order_latency_us * 1000;
    oc.fee_per_contract = s->cfg.fee_per_contract;
    oc.seed = s->cfg.seed;
    oc.reject_count = s->cfg.reject_count;
    oc.reject_probability = s->cfg.reject_probability;
    snprintf(oc.reject_reason, sizeof(oc.reject_reason), "%s", s->cfg.reject_reason);
    snprintf(oc.clordid_prefix, sizeof(oc.clordid_prefix), "%s", sim_state_prefix(s));
    if (have_market) {
        snprintf(oc.ticker, sizeof(oc.ticker), "%s", ticker);
        snprintf(oc.exchange, sizeof(oc.exchange), "%s", exchange);
        oc.price_unit = price_unit;
        oc.tick_size = tick_size;
        oc.contract_multiplier = multiplier;
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
