/* The order side for the connector thread and the order exports: the
 * engine's host hooks, the order / account / order-history callbacks, and
 * the UTF-16 text of an order both sides hand to the client. */
#ifndef SIM_ORDER_CALLBACKS_H
#define SIM_ORDER_CALLBACKS_H

#include "sim_session.h"
#include "sim_text.h"

/* sim_orders_host: queue an order id for its callbacks (orders lock held);
 * the market clock. */
void sim_host_order_changed(void *ctx, int64_t local_id);
int64_t sim_host_now_ns(void *ctx);

/* Create the order engine at login (routing sessions). */
void sim_orders_start(sim_session *s, const char *ticker, const char *exchange, double price_unit, double tick_size,
                      double multiplier, int have_market);

/* Connector thread: fire the queued order notifications; the account
 * callback; the order-history answer (SetOrderHistoryCallback / GetOrders). */
void sim_fire_order_notifications(sim_session *s);
void sim_fire_accounts(sim_session *s);
void sim_fire_order_history(sim_session *s);

/* UTF-16 copies of an order view's strings, for one callback or query. */
typedef struct sim_order_text {
    uint16_t cl_ord_id[SIM_ID_LEN], account[SIM_ID_LEN], sub_account[SIM_ID_LEN], ticker[SIM_ID_LEN];
    uint16_t exchange[SIM_EXCH_LEN], owner[SIM_ID_LEN], type[32], status[32], text[SIM_TEXT_LEN];
    uint16_t date[SIM_DATE_LEN + 1], last_update[SIM_DATE_LEN + 1], close_date[SIM_DATE_LEN + 1];
    uint16_t validity[SIM_DATE_LEN + 1];
} sim_order_text;

void sim_order_text_of(const sim_session *s, const sim_order_view *v, sim_order_text *t);
void sim_account_identifier(const sim_session *s, TConnectorAccountIdentifier *a, uint16_t *acc, uint16_t *sub);

static inline void sim_u16_or_empty(const char *in, uint16_t *out, size_t cap) {
    if (sim_utf8_to_u16(in, out, cap) < 0) out[0] = 0;
}

#endif
