/* Stand-in implementation of sim_orders.h until the order-matching engine
 * (sim_matching.c) is built in its place: every order is recorded and
 * rejected at once with the text "matching engine not built".  Ids,
 * ClOrdIDs, timestamps, notifications and GetOrderDetails are real, so a
 * client's order path (journal, callbacks, details) can be exercised; no
 * order ever works or fills, so there is never a position. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_orders.h"

struct sim_orders {
    sim_orders_config cfg;
    sim_orders_host host;
    sim_order_view *orders;
    size_t n, cap;
    int64_t event_id;
};

sim_orders *sim_orders_create(const sim_orders_config *cfg, const sim_orders_host *host) {
    sim_orders *o = (sim_orders *)calloc(1, sizeof(*o));
    if (!o) return NULL;
    o->cfg = *cfg;
    o->host = *host;
    return o;
}

void sim_orders_destroy(sim_orders *o) {
    if (!o) return;
    free(o->orders);
    free(o);
}

int64_t sim_orders_send(sim_orders *o, const sim_order_request *req) {
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        sim_order_view *p = (sim_order_view *)realloc(o->orders, cap * sizeof(*p));
        if (!p) return NL_INTERNAL_ERROR;
        o->orders = p;
        o->cap = cap;
    }
    sim_order_view *v = &o->orders[o->n];
    memset(v, 0, sizeof(*v));
    v->local_id = (int64_t)o->n + 1;
    snprintf(v->cl_ord_id, sizeof(v->cl_ord_id), "SIMR%08lld", (long long)v->local_id);
    v->account = req->account;
    memcpy(v->ticker, req->ticker, sizeof(v->ticker));
    memcpy(v->exchange, req->exchange, sizeof(v->exchange));
    v->quantity = req->quantity;
    v->traded_quantity = 0;
    v->leaves_quantity = 0;
    v->price = req->price;
    v->stop_price = req->stop_price;
    v->side = req->side;
    v->order_type = req->order_type;
    v->status = QT_PDLL_ST_REJECTED;
    int64_t now = o->host.now_ns(o->host.ctx);
    v->created_ns = v->updated_ns = v->closed_ns = now;
    v->event_id = ++o->event_id;
    snprintf(v->text, sizeof(v->text), "matching engine not built");
    o->n++;
    o->host.order_changed(o->host.ctx, v->local_id);
    return v->local_id;
}

static const sim_order_view *lookup(const sim_orders *o, const sim_order_ref *ref) {
    if (ref->local_id > 0) {
        if ((size_t)ref->local_id > o->n) return NULL;
        return &o->orders[ref->local_id - 1];
    }
    if (!ref->cl_ord_id[0]) return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->orders[i].cl_ord_id, ref->cl_ord_id) == 0) return &o->orders[i];
    return NULL;
}

/* Every order here is final (rejected): there is nothing to change or cancel. */
int sim_orders_change(sim_orders *o, const sim_change_request *req) {
    (void)lookup(o, &req->order);
    return NL_NOT_FOUND;
}

int sim_orders_cancel(sim_orders *o, const sim_cancel_request *req) {
    (void)lookup(o, &req->order);
    return NL_NOT_FOUND;
}

int sim_orders_cancel_many(sim_orders *o, const sim_cancel_filter *filter) {
    (void)o;
    (void)filter;
    return NL_OK; /* no working orders: nothing to cancel */
}

int64_t sim_orders_zero_position(sim_orders *o, const sim_zero_request *req) {
    (void)o;
    (void)req;
    return NL_NO_POSITION;
}

int sim_orders_find(const sim_orders *o, const sim_order_ref *ref, sim_order_view *out) {
    const sim_order_view *v = lookup(o, ref);
    if (!v) return NL_NOT_FOUND;
    *out = *v;
    return NL_OK;
}

size_t sim_orders_count(const sim_orders *o) { return o->n; }

int sim_orders_at(const sim_orders *o, size_t index, sim_order_view *out) {
    if (index >= o->n) return NL_NOT_FOUND;
    *out = o->orders[index];
    return NL_OK;
}

int sim_orders_position(const sim_orders *o, const sim_account *account, const char *ticker,
                        const char *exchange, uint8_t position_type, sim_position_view *out) {
    (void)o;
    (void)account;
    (void)ticker;
    (void)exchange;
    (void)position_type;
    memset(out, 0, sizeof(*out));
    return NL_NO_POSITION;
}

void sim_orders_on_market(sim_orders *o, const qt_event *ev) {
    (void)o;
    (void)ev;
}
