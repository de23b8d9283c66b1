/* The order side of the ProfitDLL simulator, behind the DLL's order exports.
 *
 * The exports (sim_exports.c) validate the ABI records (TConnectorSendOrder
 * Version 0 or 1, legacy Send*Order strings ...), convert them to the plain
 * requests below (UTF-8 strings, Version 1 enum numbering) and call these
 * functions; they turn the plain views back into TConnectorOrderOut,
 * TConnectorOrder, the legacy order callbacks and so on.  An implementation
 * (an order-matching engine) therefore sees no UTF-16, no record versions and
 * no callbacks of the client.
 *
 * Threads and locking: the simulator holds ONE lock (the orders lock) around
 * every call into this interface, from whichever thread it comes (client
 * threads for requests and queries, the replay thread for market data), so
 * an implementation needs no locking of its own and must not block.
 *
 * Notifications: whenever an order changes (accepted, filled, cancelled,
 * rejected ...) the implementation calls host->order_changed(ctx, local_id).
 * That only queues the id (the lock is held); the simulator's connector
 * thread then fires the client's order callbacks (TConnectorOrderCallback
 * with the identifier, legacy TOrderChangeCallback) outside the lock, and
 * the client reads the details with GetOrderDetails -> sim_orders_find.  As
 * with the real DLL the callback may run before SendOrder has returned.
 *
 * Market data: the replay thread passes every market record of the log, in
 * order, to sim_orders_on_market (trades, L2 level updates, price-book
 * actions, full-book snapshots, phases - including phases the simulator
 * synthesises -, daily limits, session markers), whether or not the client
 * is subscribed and also while a market-data drop is being simulated (the
 * exchange keeps trading when the client's feed is down).  Prices there are
 * integer price units (qt_event), as in the log; `price_unit` converts.
 *
 * Return codes are ProfitDLL NResults (NL_* in qt_profitdll.h): order ids
 * are > 0, errors < 0. */
#ifndef SIM_ORDERS_H
#define SIM_ORDERS_H

#include <stddef.h>
#include <stdint.h>

#include "market/qt_events.h"
#include "profitdll/qt_profitdll.h"

#define SIM_ID_LEN 64    /* UTF-8 bytes, NUL included: account ids, tickers, ClOrdIDs */
#define SIM_EXCH_LEN 8
#define SIM_TEXT_LEN 256 /* order text message */
#define SIM_REASON_LEN 64 /* an injected rejection's text, NUL included */

typedef struct sim_account {
    int32_t broker_id;
    char account_id[SIM_ID_LEN];
    char sub_account_id[SIM_ID_LEN]; /* "" when none */
} sim_account;

/* The instrument being replayed and the simulated account. */
typedef struct sim_orders_config {
    char ticker[SIM_ID_LEN]; /* as the client names it (SubscribeTicker / order AssetID) */
    char exchange[SIM_EXCH_LEN];
    double price_unit;  /* float price = qt_price_to_double(price, price_unit) */
    double tick_size;   /* order prices must be multiples of it */
    double contract_multiplier; /* BRL per point (WDO 10, WIN 0.2) */
    sim_account account;
    int have_market;    /* 0 when no log is loaded: no instrument trades */
    int64_t latency_ns; /* order / change / cancel to the exchange, market time */
    double fee_per_contract; /* BRL per contract per fill; < 0: B3 default of the root (WDO, WIN), else 0 */
    uint64_t seed;      /* of the random fault injection */
    /* fault injection: reject the next reject_count orders, then each with
     * reject_probability, with the text reject_reason ("" for a default) */
    int64_t reject_count;
    double reject_probability;
    char reject_reason[SIM_REASON_LEN];
    /* ClOrdID = this prefix + local id; "" makes a new one
     * (sim_orders_make_prefix).  A restored session passes the prefix of
     * the session it restores, so the ClOrdIDs the client knows still name
     * its orders. */
    char clordid_prefix[24];
} sim_orders_config;

typedef struct sim_orders_host {
    void *ctx;
    /* An order changed: queue its notification (called with the lock held). */
    void (*order_changed)(void *ctx, int64_t local_id);
    /* The simulated exchange clock, UTC ns: the time of the market data
     * being replayed (the log's exchange time), for order timestamps. */
    int64_t (*now_ns)(void *ctx);
} sim_orders_host;

/* New order.  The exports have checked: Version, enum values, quantity > 0,
 * prices finite (limit > 0 for limit and stop-limit, stop > 0 for
 * stop-limit), non-empty account/ticker, known exchange.  Tick, limits,
 * account identity and the market state are the implementation's to judge
 * (reject with an order status, not an error code, as a broker would). */
typedef struct sim_order_request {
    sim_account account;
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
    uint8_t order_type; /* QT_PROFITDLL_OT_MARKET / LIMIT / STOP_LIMIT (Version 1 numbering) */
    uint8_t side;       /* QT_PROFITDLL_OS_BUY / SELL (Version 1 numbering) */
    double price;       /* limit price; -1 for market */
    double stop_price;  /* stop trigger; -1 if none */
    int64_t quantity;
    uint8_t source;     /* SIM_SRC_* : which export sent it */
} sim_order_request;

enum sim_order_source {
    SIM_SRC_SEND_ORDER_V1 = 1, /* SendOrder, Version 1 record */
    SIM_SRC_SEND_ORDER_V0 = 2, /* SendOrder, Version 0 record (enums mapped) */
    SIM_SRC_LEGACY = 3,        /* SendBuyOrder, SendStopSellOrder, ... */
    SIM_SRC_ZERO_POSITION = 4, /* the order a zeroing creates */
};

/* An order is named by local id (> 0) or, when local_id is 0, by ClOrdID. */
typedef struct sim_order_ref {
    int64_t local_id;
    char cl_ord_id[SIM_ID_LEN];
} sim_order_ref;

typedef struct sim_change_request {
    sim_account account;
    sim_order_ref order;
    double price;      /* new limit price (-1 market / unchanged per type) */
    double stop_price; /* new stop price, -1 if none */
    int64_t quantity;  /* new total quantity */
} sim_change_request;

typedef struct sim_cancel_request {
    sim_account account;
    sim_order_ref order;
} sim_cancel_request;

/* Cancel every working order of the account, of one instrument when ticker
 * is not empty (SendCancelOrdersV2) or of all (SendCancelAllOrdersV2). */
typedef struct sim_cancel_filter {
    sim_account account;
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
} sim_cancel_filter;

typedef struct sim_zero_request {
    sim_account account;
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
    double price;         /* -1: at market */
    uint8_t position_type; /* QT_PROFITDLL_POS_DAY_TRADE / CONSOLIDATED */
} sim_zero_request;

/* Everything GetOrderDetails / the order callbacks report about an order. */
typedef struct sim_order_view {
    int64_t local_id;
    char cl_ord_id[SIM_ID_LEN];
    sim_account account;
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
    int64_t quantity, traded_quantity, leaves_quantity;
    double price, stop_price, average_price;
    uint8_t side;          /* Version 1 numbering */
    uint8_t order_type;    /* Version 1 numbering */
    uint8_t status;        /* QT_PROFITDLL_ST_* */
    uint8_t validity_type; /* 0 = day */
    int64_t created_ns, updated_ns; /* UTC ns */
    int64_t closed_ns;     /* UTC ns, 0 while working */
    int64_t validity_ns;   /* UTC ns, 0 for none */
    int64_t event_id;      /* rises with every change of any order */
    double fees;           /* BRL charged for this order's fills so far */
    char text[SIM_TEXT_LEN]; /* reason / exchange message, "" if none */
} sim_order_view;

typedef struct sim_position_view {
    int64_t open_quantity;    /* >= 0 */
    double open_average_price;
    uint8_t open_side;        /* QT_PROFITDLL_OS_BUY / SELL, 0 when flat */
    double daily_average_buy_price, daily_average_sell_price;
    int64_t daily_buy_quantity, daily_sell_quantity;
    int64_t daily_quantity;   /* net, signed: buys - sells */
    int64_t event_id;
    /* since the session began, whatever position_type (not in the DLL's record) */
    double realized_pnl;      /* BRL, before fees (average-cost method) */
    double fees;              /* BRL */
    int64_t fills;
} sim_position_view;

typedef struct sim_orders sim_orders;

/* A ClOrdID prefix unique across sessions: "SIM" + the time in base-36
 * microseconds + "-". */
void sim_orders_make_prefix(char *out, size_t cap);

/* Created at a routing login (DLLInitializeLogin), destroyed at DLLFinalize. */
sim_orders *sim_orders_create(const sim_orders_config *cfg, const sim_orders_host *host);
void sim_orders_destroy(sim_orders *o);

/* A new order: its local id (> 0) - also when the order is rejected at once,
 * which is then reported through the order callback - or an NResult < 0 when
 * the request cannot become an order at all. */
int64_t sim_orders_send(sim_orders *o, const sim_order_request *req);
/* NL_OK when the request was taken (its outcome comes as order changes),
 * NL_NOT_FOUND for an unknown order, or another NResult. */
int sim_orders_change(sim_orders *o, const sim_change_request *req);
int sim_orders_cancel(sim_orders *o, const sim_cancel_request *req);
int sim_orders_cancel_many(sim_orders *o, const sim_cancel_filter *filter);
/* The zeroing order's local id, NL_NO_POSITION when flat, or an NResult. */
int64_t sim_orders_zero_position(sim_orders *o, const sim_zero_request *req);

/* NL_OK and *out filled, or NL_NOT_FOUND. */
int sim_orders_find(const sim_orders *o, const sim_order_ref *ref, sim_order_view *out);
/* Orders in creation order: count, then each by index (NL_OK / NL_NOT_FOUND). */
size_t sim_orders_count(const sim_orders *o);
int sim_orders_at(const sim_orders *o, size_t index, sim_order_view *out);
/* NL_OK and *out filled, or NL_NO_POSITION (nothing traded, flat). */
int sim_orders_position(const sim_orders *o, const sim_account *account, const char *ticker,
                        const char *exchange, uint8_t position_type, sim_position_view *out);

/* One market record of the replay (see above). */
void sim_orders_on_market(sim_orders *o, const qt_event *ev);

/* Market time (UTC ns) moved without a record: the replay is paced against
 * the wall clock (speed > 0) and this much time has passed.  Commands whose
 * latency has run out by then reach the exchange. */
void sim_orders_on_clock(sim_orders *o, int64_t now_ns);
/* Market time at which the next command in flight reaches the exchange
 * (INT64_MAX when none): when to call sim_orders_on_clock. */
int64_t sim_orders_next_due(const sim_orders *o);
/* The replay has ended: no market data will come any more.  The market is
 * closed from now on; commands in flight and later ones are decided at once
 * (after their latency, in market time) instead of waiting for records. */
void sim_orders_on_end(sim_orders *o);

/* Live settings (Sim* exports). */
void sim_orders_set_latency(sim_orders *o, int64_t latency_ns); /* >= 0 */
void sim_orders_set_rejects(sim_orders *o, int64_t count, double probability, const char *reason);

#endif
