/* The simulator's exports, market side: start-up and shutdown, callback
 * setters, subscriptions, history, accessors (TranslateTrade, FreePointer,
 * GetServerClock, agent names), the functions the simulator has nothing
 * for (they answer the DLL's error code), and the Sim* configuration and
 * fault-injection functions.  Order exports are in sim_order_exports.c.
 *
 * Request functions (subscribe, history, orders, initialize, finalize)
 * called from inside a callback are refused with NL_INTERNAL_ERROR and
 * counted (SimCounters.forbidden_calls): the real DLL forbids them and a
 * client that does it has a bug the simulator should make visible. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_session.h"
#include "sim_text.h"

#define EXPORT QT_PROFITDLL_EXPORT

/* Every export is checked against the ABI's pointer type here: a signature
 * that drifts from qt_profitdll.h fails to compile. */
#define CHECK_SIGNATURE(name) \
    _Static_assert(_Generic(&name, qt_profitdll_##name##_fn: 1, default: 0), #name " signature differs from qt_profitdll.h")

/* ------------------------------------------------------------------------ */
/* start-up and shutdown                                                    */

static int env_config(sim_config *c) {
    const char *v;
    if (!c->state_set && (v = getenv("QT_SIM_STATE_FILE")) != NULL && *v) {
        if (strlen(v) >= SIM_PATH_LEN) {
            sim_set_error("QT_SIM_STATE_FILE: path too long");
            return -1;
        }
        snprintf(c->state_path, sizeof(c->state_path), "%s", v);
    }
    if (!c->log_set && (v = getenv("QT_SIM_LOG")) != NULL && *v) {
        if (strlen(v) >= sizeof(c->log_path)) {
            sim_set_error("QT_SIM_LOG: path too long");
            return -1;
        }
        snprintf(c->log_path, sizeof(c->log_path), "%s", v);
    }
    if (!c->speed_set && (v = getenv("QT_SIM_SPEED")) != NULL && *v) {
        char *end;
        double x = strtod(v, &end);
        if (*end || !(x >= 0) || !isfinite(x)) {
            sim_set_error("QT_SIM_SPEED: not a speed >= 0: %s", v);
            return -1;
        }
        c->speed = x;
    }
    if (!c->ticker_set && (v = getenv("QT_SIM_TICKER")) != NULL && *v) {
        const char *colon = strchr(v, ':');
        size_t n = colon ? (size_t)(colon - v) : strlen(v);
        if (n == 0 || n >= sizeof(c->ticker) || (colon && (!colon[1] || strlen(colon + 1) >= sizeof(c->exchange)))) {
            sim_set_error("QT_SIM_TICKER: expected TICKER or TICKER:EXCHANGE, got %s", v);
            return -1;
        }
        memcpy(c->ticker, v, n);
        c->ticker[n] = 0;
        if (colon) snprintf(c->exchange, sizeof(c->exchange), "%s", colon + 1);
    }
    if (!c->utc_offset_set && (v = getenv("QT_SIM_UTC_OFFSET")) != NULL && *v) {
        char *end;
        long m = strtol(v, &end, 10);
        if (*end || m < -14 * 60 || m > 14 * 60) {
            sim_set_error("QT_SIM_UTC_OFFSET: minutes east of UTC expected, got %s", v);
            return -1;
        }
        c->utc_offset_min = (int)m;
    }
    if (!c->schedule_set && (v = getenv("QT_SIM_PHASES")) != NULL) {
        if (sim_parse_schedule(v, c->schedule, &c->n_schedule)) {
            sim_set_error("QT_SIM_PHASES: expected HH:MM=state,...; got %s", v);
            return -1;
        }
    }
    if (!c->packet_set && (v = getenv("QT_SIM_BOOK_PACKET")) != NULL && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 100000) {
            sim_set_error("QT_SIM_BOOK_PACKET: levels 1..100000 expected, got %s", v);
            return -1;
        }
        c->book_packet_levels = (int)n;
    }
    return 0;
}

static int refuse_in_callback(sim_session *s) {
    if (s && sim_in_callback(s)) {
        SIM_COUNT(s, forbidden_calls, 1);
        return 1;
    }
    return 0;
}

static int initialize(int routing, const uint16_t *key, const uint16_t *user, const uint16_t *password,
                      const sim_callbacks *cbs) {
    sim_session *cur = sim_current();
    if (refuse_in_callback(cur)) return NL_INTERNAL_ERROR;
    if (!key || !user || !password) return NL_INVALID_ARGS;
    if (!user[0]) return NL_NO_USER;
    if (!password[0]) return NL_NO_PASSWORD;
    if (cur) return NL_DUPLICATE_RESOURCE; /* already initialized: DLLFinalize first */
    sim_session *s = (sim_session *)calloc(1, sizeof(sim_session));
    if (!s) return NL_INTERNAL_ERROR;
    sim_mutex_lock(&g_config_lock);
    s->cfg = g_config;
    sim_mutex_unlock(&g_config_lock);
    if (env_config(&s->cfg)) {
        free(s);
        return NL_INVALID_ARGS;
    }
    s->routing = routing;
    if (sim_state_open(s)) { /* a state file that is not this replay's refuses the login */
        sim_state_close(s);
        free(s);
        return NL_INVALID_ARGS;
    }
    memcpy(&s->cb, cbs, sizeof(*cbs));
    uint64_t bits;
    memcpy(&bits, &s->cfg.speed, sizeof(bits));
    atomic_store(&s->speed_bits, bits);
    sim_session *expect = NULL;
    if (!atomic_compare_exchange_strong(&g_session, &expect, s)) {
        sim_state_close(s);
        free(s);
        return NL_DUPLICATE_RESOURCE;
    }
    if (qt_thread_start(&s->thread, sim_connector_main, s)) {
        atomic_store(&g_session, NULL);
        sim_state_close(s);
        free(s);
        return NL_INTERNAL_ERROR;
    }
    return NL_OK;
}

EXPORT int32_t QT_PROFITDLL_CALL DLLInitializeLogin(qt_profitdll_cstr activation_key, qt_profitdll_cstr user,
                                               qt_profitdll_cstr password, TStateCallback state,
                                               THistoryCallback history, TOrderChangeCallback order_change,
                                               TAccountCallback account, TNewTradeCallback new_trade,
                                               TNewDailyCallback new_daily, TPriceBookCallback price_book,
                                               TOfferBookCallback offer_book,
                                               THistoryTradeCallback history_trade,
                                               TProgressCallback progress, TTinyBookCallback tiny_book) {
    sim_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    atomic_init(&cb.state, state);
    atomic_init(&cb.history, history);
    atomic_init(&cb.order_change, order_change);
    atomic_init(&cb.account, account);
    atomic_init(&cb.trade, new_trade);
    atomic_init(&cb.daily, new_daily);
    atomic_init(&cb.price_book, price_book);
    atomic_init(&cb.offer_book, offer_book);
    atomic_init(&cb.history_trade, history_trade);
    atomic_init(&cb.progress, progress);
    atomic_init(&cb.tiny_book, tiny_book);
    return initialize(1, activation_key, user, password, &cb);
}
CHECK_SIGNATURE(DLLInitializeLogin);

EXPORT int32_t QT_PROFITDLL_CALL DLLInitializeMarketLogin(qt_profitdll_cstr activation_key, qt_profitdll_cstr user,
                                                     qt_profitdll_cstr password, TStateCallback state,
                                                     TNewTradeCallback new_trade, TNewDailyCallback new_daily,
                                                     TPriceBookCallback price_book,
                                                     TOfferBookCallback offer_book,
                                                     THistoryTradeCallback history_trade,
                                                     TProgressCallback progress, TTinyBookCallback tiny_book) {
    sim_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    atomic_init(&cb.state, state);
    atomic_init(&cb.trade, new_trade);
    atomic_init(&cb.daily, new_daily);
    atomic_init(&cb.price_book, price_book);
    atomic_init(&cb.offer_book, offer_book);
    atomic_init(&cb.history_trade, history_trade);
    atomic_init(&cb.progress, progress);
    atomic_init(&cb.tiny_book, tiny_book);
    return initialize(0, activation_key, user, password, &cb);
}
CHECK_SIGNATURE(DLLInitializeMarketLogin);

/* Returns once the connector thread has ended: no callback can fire after.
 * The session stays current until then, so a callback in flight can still
 * return its arrays with FreePointer (and read with TranslateTrade). */
EXPORT int32_t QT_PROFITDLL_CALL DLLFinalize(void) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (refuse_in_callback(s)) return NL_INTERNAL_ERROR;
    if (atomic_exchange(&s->finalizing, 1)) return NL_NOT_INITIALIZED; /* another thread finalizes it */
    atomic_store(&s->stop, 1);
    sim_wake(s);
    qt_thread_join(&s->thread);
    atomic_store(&g_session, NULL);
    sim_orders_destroy(s->orders);
    sim_state_close(s);
    for (int i = 0; i < s->n_logs; i++) {
        sim_log_close(&s->logs[i]);
        free(s->agent_maps[i]);
    }
    free(s->agents);
    sim_free_all_arrays(s);
    free(s);
    return NL_OK;
}
CHECK_SIGNATURE(DLLFinalize);

/* ------------------------------------------------------------------------ */
/* callback setters                                                         */

#define SETTER(Name, slot, Type)                                              \
    EXPORT int32_t QT_PROFITDLL_CALL Name(Type callback) {                         \
        sim_session *s = sim_current();                                       \
        if (!s) return NL_NOT_INITIALIZED;                                    \
        atomic_store_explicit(&s->cb.slot, callback, memory_order_release);   \
        return NL_OK;                                                         \
    }                                                                         \
    CHECK_SIGNATURE(Name)

SETTER(SetStateCallback, state, TStateCallback);
SETTER(SetTradeCallback, trade, TNewTradeCallback);
SETTER(SetTradeCallbackV2, trade_v2, TConnectorTradeCallback);
SETTER(SetHistoryTradeCallback, history_trade, THistoryTradeCallback);
SETTER(SetHistoryTradeCallbackV2, history_trade_v2, TConnectorTradeCallback);
SETTER(SetDailyCallback, daily, TNewDailyCallback);
SETTER(SetTinyBookCallback, tiny_book, TTinyBookCallback);
SETTER(SetPriceBookCallback, price_book, TPriceBookCallback);
SETTER(SetPriceBookCallbackV2, price_book_v2, TPriceBookCallbackV2);
SETTER(SetOfferBookCallback, offer_book, TOfferBookCallback);
SETTER(SetOfferBookCallbackV2, offer_book_v2, TOfferBookCallbackV2);
SETTER(SetSerieProgressCallback, progress, TProgressCallback);
SETTER(SetChangeStateTickerCallback, change_state_ticker, TChangeStateTicker);
SETTER(SetChangeCotationCallback, change_cotation, TChangeCotation);
SETTER(SetTheoreticalPriceCallback, theoretical_price, TTheoreticalPriceCallback);
SETTER(SetAssetListCallback, asset_list, TAssetListCallback);
SETTER(SetAssetListInfoCallback, asset_list_info, TAssetListInfoCallback);
SETTER(SetAssetListInfoCallbackV2, asset_list_info_v2, TAssetListInfoCallbackV2);
SETTER(SetInvalidTickerCallback, invalid_ticker, TInvalidTickerCallback);
SETTER(SetAdjustHistoryCallback, adjust_history, TAdjustHistoryCallback);
SETTER(SetAdjustHistoryCallbackV2, adjust_history_v2, TAdjustHistoryCallbackV2);
SETTER(SetPriceDepthCallback, price_depth, TConnectorPriceDepthCallback);
SETTER(SetAccountCallback, account, TAccountCallback);
SETTER(SetHistoryCallback, history, THistoryCallback);
SETTER(SetHistoryCallbackV2, history_v2, THistoryCallbackV2);
SETTER(SetOrderChangeCallback, order_change, TOrderChangeCallback);
SETTER(SetOrderChangeCallbackV2, order_change_v2, TOrderChangeCallbackV2);
SETTER(SetOrderCallback, order, TConnectorOrderCallback);
SETTER(SetAssetPositionListCallback, asset_position_list, TConnectorAssetPositionListCallback);
SETTER(SetBrokerAccountListChangedCallback, broker_account_list, TConnectorBrokerAccountListCallback);
SETTER(SetBrokerSubAccountListChangedCallback, broker_sub_account_list, TConnectorBrokerSubAccountListCallback);

/* The order-history callback also asks for the history (the DLL reports an
 * account's orders once it has them). */
EXPORT int32_t QT_PROFITDLL_CALL SetOrderHistoryCallback(TConnectorAccountCallback callback) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    atomic_store_explicit(&s->cb.order_history, callback, memory_order_release);
    if (callback && s->routing) {
        sim_cmd c = {.kind = SIM_CMD_ORDER_HISTORY};
        return sim_push_cmd(s, &c);
    }
    return NL_OK;
}
CHECK_SIGNATURE(SetOrderHistoryCallback);

/* ------------------------------------------------------------------------ */
/* market data requests                                                     */

/* Common checks of a request export; *s set on NL_OK. */
static int request_session(sim_session **out) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (refuse_in_callback(s)) return NL_INTERNAL_ERROR;
    if (s->cfg.login_result != QT_PROFITDLL_LOGIN_CONNECTED) return NL_NO_LOGIN;
    *out = s;
    return NL_OK;
}

static int ticker_args(const uint16_t *ticker, const uint16_t *exchange, sim_cmd *c) {
    if (!ticker || !exchange || !ticker[0] || !exchange[0]) return NL_INVALID_ARGS;
    if (sim_u16_to_utf8(ticker, c->ticker, sizeof(c->ticker)) < 0) return NL_INVALID_TICKER;
    if (sim_u16_to_utf8(exchange, c->exchange, sizeof(c->exchange)) < 0) return NL_EXCHANGE_UNKNOWN;
    return NL_OK;
}

static int subscription(const uint16_t *ticker, const uint16_t *exchange, int kind, int sub) {
    sim_session *s = NULL;
    int rc = request_session(&s);
    if (rc) return rc;
    sim_cmd c;
    memset(&c, 0, sizeof(c));
    c.kind = kind;
    c.sub = sub;
    if ((rc = ticker_args(ticker, exchange, &c)) != NL_OK) return rc;
    return sim_push_cmd(s, &c);
}

#define SUBSCRIPTION(Name, kind, sub)                                                \
    EXPORT int32_t QT_PROFITDLL_CALL Name(qt_profitdll_cstr ticker, qt_profitdll_cstr exchange) {   \
        return subscription(ticker, exchange, kind, sub);                            \
    }                                                                                \
    CHECK_SIGNATURE(Name)

SUBSCRIPTION(SubscribeTicker, SIM_CMD_SUBSCRIBE, SIM_SUB_TICKER);
SUBSCRIPTION(UnsubscribeTicker, SIM_CMD_UNSUBSCRIBE, SIM_SUB_TICKER);
SUBSCRIPTION(SubscribePriceBook, SIM_CMD_SUBSCRIBE, SIM_SUB_PRICE_BOOK);
SUBSCRIPTION(UnsubscribePriceBook, SIM_CMD_UNSUBSCRIBE, SIM_SUB_PRICE_BOOK);
SUBSCRIPTION(SubscribeOfferBook, SIM_CMD_SUBSCRIBE, SIM_SUB_OFFER_BOOK);
SUBSCRIPTION(UnsubscribeOfferBook, SIM_CMD_UNSUBSCRIBE, SIM_SUB_OFFER_BOOK);
/* Futures have no corporate-action adjustments: the subscription is taken
 * and, truthfully, nothing ever arrives. */
SUBSCRIPTION(SubscribeAdjustHistory, SIM_CMD_SUBSCRIBE, SIM_SUB_ADJUST);
SUBSCRIPTION(UnsubscribeAdjustHistory, SIM_CMD_UNSUBSCRIBE, SIM_SUB_ADJUST);

/* Trades of the already replayed part of the log in [start, end], through
 * HistoryTrade (V1), the V2 history callback (TC_LAST_PACKET on the last)
 * and Progress 0..100.  A date-only end means the end of that day. */
EXPORT int32_t QT_PROFITDLL_CALL GetHistoryTrades(qt_profitdll_cstr ticker, qt_profitdll_cstr exchange, qt_profitdll_cstr date_start,
                                             qt_profitdll_cstr date_end) {
    sim_session *s = NULL;
    int rc = request_session(&s);
    if (rc) return rc;
    sim_cmd c;
    memset(&c, 0, sizeof(c));
    c.kind = SIM_CMD_HISTORY;
    if ((rc = ticker_args(ticker, exchange, &c)) != NL_OK) return rc;
    int d0, d1;
    if (sim_parse_date_u16(date_start, s->cfg.utc_offset_min, &c.a, &d0) ||
        sim_parse_date_u16(date_end, s->cfg.utc_offset_min, &c.b, &d1))
        return NL_INVALID_ARGS;
    if (d1) c.b += 86400LL * 1000000000LL - 1;
    if (c.b < c.a) return NL_INVALID_ARGS;
    return sim_push_cmd(s, &c);
}
CHECK_SIGNATURE(GetHistoryTrades);

EXPORT int32_t QT_PROFITDLL_CALL GetSerieHistory(qt_profitdll_cstr ticker, qt_profitdll_cstr exchange, qt_profitdll_cstr date_start,
                                            qt_profitdll_cstr date_end, uint32_t quote_number_start,
                                            uint32_t quote_number_end) {
    (void)date_start;
    (void)date_end;
    (void)quote_number_start;
    (void)quote_number_end;
    sim_session *s = NULL;
    int rc = request_session(&s);
    if (rc) return rc;
    sim_cmd c;
    if ((rc = ticker_args(ticker, exchange, &c)) != NL_OK) return rc;
    return NL_SERIE_NO_HISTORY; /* the simulator keeps no candle series */
}
CHECK_SIGNATURE(GetSerieHistory);

/* ------------------------------------------------------------------------ */
/* accessors                                                                */

EXPORT int32_t QT_PROFITDLL_CALL TranslateTrade(const void *trade, TConnectorTrade *out) {
    if (!trade || !out) return NL_INVALID_ARGS;
    if (out->Version != QT_PROFITDLL_TRADE_VERSION) return NL_VERSION_NOT_SUPPORTED;
    const sim_trade_obj *obj = (const sim_trade_obj *)trade;
    if (obj->magic != SIM_TRADE_MAGIC) return NL_INVALID_ARGS; /* not the record of a running callback */
    uint8_t version = out->Version;
    *out = obj->t;
    out->Version = version;
    return NL_OK;
}
CHECK_SIGNATURE(TranslateTrade);

EXPORT int32_t QT_PROFITDLL_CALL FreePointer(void *pointer, int32_t size) {
    (void)size; /* the Nelogica examples pass sizes with and without the trailer */
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!pointer) return NL_INVALID_ARGS;
    return sim_free_array(s, pointer);
}
CHECK_SIGNATURE(FreePointer);

/* The replay's clock: the exchange time of the data being replayed.
 * Inside a callback (on the connector thread) it is exactly the exchange
 * time of the record being delivered, so a client that stamps a book
 * callback with it gets the time the recording holds; elsewhere it runs
 * on between records at the replay's speed. */
EXPORT int32_t QT_PROFITDLL_CALL GetServerClock(double *server_clock, int32_t *year, int32_t *month, int32_t *day,
                                           int32_t *hour, int32_t *minute, int32_t *second,
                                           int32_t *millisecond) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!server_clock || !year || !month || !day || !hour || !minute || !second || !millisecond)
        return NL_INVALID_ARGS;
    int64_t in_cb = sim_in_callback(s) ? atomic_load(&s->callback_clock_ns) : 0;
    int64_t t = in_cb != 0 ? in_cb : sim_clock_now(s);
    sim_civil c;
    sim_civil_from_ns(t, s->cfg.utc_offset_min, &c);
    *server_clock = sim_delphi_datetime(t, s->cfg.utc_offset_min);
    *year = c.year;
    *month = c.month;
    *day = c.day;
    *hour = c.hour;
    *minute = c.minute;
    *second = c.second;
    *millisecond = c.millisecond;
    return NL_OK;
}
CHECK_SIGNATURE(GetServerClock);

/* Agent ids are the log's dictionary indexes; the names are the log's. */
static uint16_t *agent_name(int32_t id) {
    sim_session *s = sim_current();
    if (!s || !atomic_load(&s->market_ready) || !s->have_log) return NULL;
    if (id < 0 || (uint32_t)id >= s->n_agents) return NULL;
    return s->agents[id];
}

EXPORT qt_profitdll_wchar *QT_PROFITDLL_CALL GetAgentNameByID(int32_t agent_id) { return agent_name(agent_id); }
CHECK_SIGNATURE(GetAgentNameByID);
EXPORT qt_profitdll_wchar *QT_PROFITDLL_CALL GetAgentShortNameByID(int32_t agent_id) { return agent_name(agent_id); }
CHECK_SIGNATURE(GetAgentShortNameByID);

/* Length in UTF-16 units including the terminating NUL: the size of the
 * buffer GetAgentName needs. */
EXPORT int32_t QT_PROFITDLL_CALL GetAgentNameLength(int32_t agent_id, uint32_t short_name) {
    (void)short_name;
    if (!sim_current()) return NL_NOT_INITIALIZED;
    const uint16_t *n = agent_name(agent_id);
    if (!n) return NL_NOT_FOUND;
    return (int32_t)sim_u16_len(n, 65536) + 1;
}
CHECK_SIGNATURE(GetAgentNameLength);

EXPORT int32_t QT_PROFITDLL_CALL GetAgentName(int32_t length, int32_t agent_id, qt_profitdll_wchar *out, uint32_t short_name) {
    (void)short_name;
    if (!sim_current()) return NL_NOT_INITIALIZED;
    if (!out || length <= 0) return NL_INVALID_ARGS;
    const uint16_t *n = agent_name(agent_id);
    if (!n) return NL_NOT_FOUND;
    size_t len = sim_u16_len(n, 65536);
    if ((size_t)length < len + 1) return NL_OUT_OF_RANGE;
    memcpy(out, n, (len + 1) * sizeof(uint16_t));
    return NL_OK;
}
CHECK_SIGNATURE(GetAgentName);

/* ------------------------------------------------------------------------ */
/* what the simulator has nothing for                                       */

static int simple_session_check(void) { return sim_current() ? NL_OK : NL_NOT_INITIALIZED; }

EXPORT int32_t QT_PROFITDLL_CALL SetServerAndPort(qt_profitdll_cstr server, qt_profitdll_cstr port) {
    if (!server || !port) return NL_INVALID_ARGS;
    return NL_OK; /* there is no server to choose */
}
CHECK_SIGNATURE(SetServerAndPort);

EXPORT int32_t QT_PROFITDLL_CALL SetEnabledLogToDebug(int32_t enabled) {
    (void)enabled;
    return NL_OK;
}
CHECK_SIGNATURE(SetEnabledLogToDebug);

EXPORT int32_t QT_PROFITDLL_CALL SetEnabledHistOrder(int32_t enabled) {
    (void)enabled; /* the simulated order history is always kept */
    return simple_session_check();
}
CHECK_SIGNATURE(SetEnabledHistOrder);

EXPORT int32_t QT_PROFITDLL_CALL SetDayTrade(int32_t use_day_trade) {
    (void)use_day_trade;
    return simple_session_check();
}
CHECK_SIGNATURE(SetDayTrade);

EXPORT int32_t QT_PROFITDLL_CALL RequestTickerInfo(qt_profitdll_cstr ticker, qt_profitdll_cstr exchange) {
    sim_session *s = NULL;
    int rc = request_session(&s);
    if (rc) return rc;
    sim_cmd c;
    if ((rc = ticker_args(ticker, exchange, &c)) != NL_OK) return rc;
    return NL_NOT_FOUND; /* no instrument registry in the simulator */
}
CHECK_SIGNATURE(RequestTickerInfo);

EXPORT int32_t QT_PROFITDLL_CALL GetLastDailyClose(qt_profitdll_cstr ticker, qt_profitdll_cstr exchange, double *close,
                                              int32_t adjusted) {
    (void)adjusted;
    if (!sim_current()) return NL_NOT_INITIALIZED;
    if (!ticker || !exchange || !close) return NL_INVALID_ARGS;
    return NL_ASSET_NO_DATA; /* a replay has no sessions before its log */
}
CHECK_SIGNATURE(GetLastDailyClose);

EXPORT int32_t QT_PROFITDLL_CALL GetTheoreticalValues(const TConnectorAssetIdentifier *asset, double *price,
                                                 int64_t *qty) {
    if (!sim_current()) return NL_NOT_INITIALIZED;
    if (!asset || !price || !qty) return NL_INVALID_ARGS;
    return NL_NOT_FOUND; /* auctions are not modelled: no theoretical price */
}
CHECK_SIGNATURE(GetTheoreticalValues);

/* The price-depth interface is not simulated; the price book is. */
EXPORT int32_t QT_PROFITDLL_CALL SubscribePriceDepth(const TConnectorAssetIdentifier *asset) {
    if (!sim_current()) return NL_NOT_INITIALIZED;
    return asset ? NL_LICENSE_NOT_ALLOWED : NL_INVALID_ARGS;
}
CHECK_SIGNATURE(SubscribePriceDepth);
EXPORT int32_t QT_PROFITDLL_CALL UnsubscribePriceDepth(const TConnectorAssetIdentifier *asset) {
    if (!sim_current()) return NL_NOT_INITIALIZED;
    return asset ? NL_LICENSE_NOT_ALLOWED : NL_INVALID_ARGS;
}
CHECK_SIGNATURE(UnsubscribePriceDepth);
EXPORT int32_t QT_PROFITDLL_CALL GetPriceDepthSideCount(const TConnectorAssetIdentifier *asset, uint8_t side) {
    if (!sim_current()) return NL_NOT_INITIALIZED;
    return asset && side <= 1 ? NL_LICENSE_NOT_ALLOWED : NL_INVALID_ARGS;
}
CHECK_SIGNATURE(GetPriceDepthSideCount);
EXPORT int32_t QT_PROFITDLL_CALL GetPriceGroup(const TConnectorAssetIdentifier *asset, uint8_t side, int32_t position,
                                          TConnectorPriceGroup *out) {
    if (!sim_current()) return NL_NOT_INITIALIZED;
    return asset && out && side <= 1 && position >= 0 ? NL_LICENSE_NOT_ALLOWED : NL_INVALID_ARGS;
}
CHECK_SIGNATURE(GetPriceGroup);

/* ------------------------------------------------------------------------ */
/* Sim*: configuration                                                      */

#define CONFIG_BEGIN sim_mutex_lock(&g_config_lock)
#define CONFIG_END sim_mutex_unlock(&g_config_lock)

EXPORT int QT_PROFITDLL_CALL SimSetReplayLog(const char *path) {
    if (path && strlen(path) >= SIM_PATH_LEN) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    snprintf(g_config.log_path, sizeof(g_config.log_path), "%s", path ? path : "");
    g_config.log_set = 1;
    g_config.n_more_logs = 0; /* the logs SimAddReplayLog added went with the old one */
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetStateFile(const char *path) {
    if (path && strlen(path) >= SIM_PATH_LEN) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    snprintf(g_config.state_path, sizeof(g_config.state_path), "%s", path ? path : "");
    g_config.state_set = 1;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimAddReplayLog(const char *path, const char *ticker, const char *exchange) {
    if (!path || !path[0] || strlen(path) >= SIM_PATH_LEN) return NL_INVALID_ARGS;
    if ((ticker && strlen(ticker) >= SIM_ID_LEN) || (exchange && strlen(exchange) >= SIM_EXCH_LEN))
        return NL_INVALID_ARGS;
    int rc = NL_OK;
    CONFIG_BEGIN;
    if (!g_config.log_path[0]) {
        sim_set_error("SimAddReplayLog: set the first log with SimSetReplayLog");
        rc = NL_INVALID_ARGS;
    } else if (g_config.n_more_logs >= SIM_MAX_LOGS - 1) {
        sim_set_error("SimAddReplayLog: at most %d logs at once", SIM_MAX_LOGS);
        rc = NL_OUT_OF_RANGE;
    } else {
        sim_log_source *src = &g_config.more_logs[g_config.n_more_logs++];
        snprintf(src->path, sizeof(src->path), "%s", path);
        snprintf(src->ticker, sizeof(src->ticker), "%s", ticker ? ticker : "");
        snprintf(src->exchange, sizeof(src->exchange), "%s", exchange ? exchange : "");
    }
    CONFIG_END;
    return rc;
}

EXPORT int QT_PROFITDLL_CALL SimSetSpeed(double speed) {
    if (!(speed >= 0) || !isfinite(speed)) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.speed = speed;
    g_config.speed_set = 1;
    CONFIG_END;
    sim_session *s = sim_current();
    if (s) {
        uint64_t bits;
        memcpy(&bits, &speed, sizeof(bits));
        atomic_store(&s->speed_bits, bits);
        sim_cmd c = {.kind = SIM_CMD_SPEED, .x = speed};
        return sim_push_cmd(s, &c);
    }
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetTicker(const char *ticker, const char *exchange) {
    if ((ticker && strlen(ticker) >= SIM_ID_LEN) || (exchange && strlen(exchange) >= SIM_EXCH_LEN))
        return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    snprintf(g_config.ticker, sizeof(g_config.ticker), "%s", ticker ? ticker : "");
    snprintf(g_config.exchange, sizeof(g_config.exchange), "%s", exchange ? exchange : "");
    g_config.ticker_set = 1;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetUtcOffsetMinutes(int minutes) {
    if (minutes < -14 * 60 || minutes > 14 * 60) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.utc_offset_min = minutes;
    g_config.utc_offset_set = 1;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetContractMultiplier(double brl_per_point) {
    if (!(brl_per_point >= 0) || !isfinite(brl_per_point)) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.multiplier = brl_per_point;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetBookPacketLevels(int levels) {
    if (levels < 1 || levels > 100000) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.book_packet_levels = levels;
    g_config.packet_set = 1;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetMaxGapMs(int ms) {
    if (ms < 0) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.max_gap_ms = ms;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetAutoStart(int on) {
    CONFIG_BEGIN;
    g_config.auto_start = on != 0;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetLoginResult(int result) {
    if (result != QT_PROFITDLL_LOGIN_CONNECTED && result != QT_PROFITDLL_LOGIN_INVALID &&
        result != QT_PROFITDLL_LOGIN_INVALID_PASSWORD && result != QT_PROFITDLL_LOGIN_PASSWORD_BLOCKED &&
        result != QT_PROFITDLL_LOGIN_PASSWORD_EXPIRED && result != QT_PROFITDLL_LOGIN_INTERNAL_ERROR)
        return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.login_result = result;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetAccount(int broker_id, const char *account_id, const char *sub_account_id,
                                      const char *broker_name, const char *owner_name) {
    if (!account_id || !account_id[0] || strlen(account_id) >= SIM_ID_LEN ||
        (sub_account_id && strlen(sub_account_id) >= SIM_ID_LEN) ||
        (broker_name && strlen(broker_name) >= SIM_ID_LEN) || (owner_name && strlen(owner_name) >= SIM_ID_LEN))
        return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.account.broker_id = broker_id;
    snprintf(g_config.account.account_id, SIM_ID_LEN, "%s", account_id);
    snprintf(g_config.account.sub_account_id, SIM_ID_LEN, "%s", sub_account_id ? sub_account_id : "");
    snprintf(g_config.broker_name, SIM_ID_LEN, "%s", broker_name ? broker_name : "");
    snprintf(g_config.owner_name, SIM_ID_LEN, "%s", owner_name ? owner_name : "");
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetPhaseSchedule(const char *spec) {
    sim_phase_entry e[SIM_MAX_SCHEDULE];
    int n;
    if (sim_parse_schedule(spec, e, &n)) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    memcpy(g_config.schedule, e, sizeof(e));
    g_config.n_schedule = n;
    g_config.schedule_set = 1;
    CONFIG_END;
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetDailyLimitPercent(double percent) {
    if (!(percent > 0) || percent >= 100 || !isfinite(percent)) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.daily_limit_pct = percent;
    CONFIG_END;
    return NL_OK;
}

/* ------------------------------------------------------------------------ */
/* Sim*: live control and fault injection                                   */

static int live_cmd(int kind, int64_t a) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    sim_cmd c;
    memset(&c, 0, sizeof(c));
    c.kind = kind;
    c.a = a;
    return sim_push_cmd(s, &c);
}

EXPORT int QT_PROFITDLL_CALL SimStartReplay(void) { return live_cmd(SIM_CMD_START, 0); }

EXPORT int QT_PROFITDLL_CALL SimDropMarketData(int ms) {
    if (ms < 0) return NL_INVALID_ARGS;
    return live_cmd(SIM_CMD_DROP, ms);
}

EXPORT int QT_PROFITDLL_CALL SimSetCallbackDelayUs(int us) {
    if (us < 0 || us > 10000000) return NL_INVALID_ARGS;
    CONFIG_BEGIN;
    g_config.callback_delay_us = us;
    CONFIG_END;
    return sim_current() ? live_cmd(SIM_CMD_DELAY, us) : NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimStallCallbacks(int ms) {
    if (ms < 0 || ms > 60000) return NL_INVALID_ARGS;
    return live_cmd(SIM_CMD_STALL, ms);
}

EXPORT int QT_PROFITDLL_CALL SimInjectMalformed(int kind) {
    if (kind < SIM_MALFORMED_NAN_PRICE || kind > SIM_MALFORMED_BOOK_POSITION) return NL_INVALID_ARGS;
    return live_cmd(SIM_CMD_MALFORMED, kind);
}

EXPORT int QT_PROFITDLL_CALL SimInjectPhase(int state) {
    if (state < 0 || state > 255) return NL_INVALID_ARGS;
    return live_cmd(SIM_CMD_PHASE, state);
}

EXPORT int QT_PROFITDLL_CALL SimGetCounters(SimCounters *out, int size) {
    sim_session *s = sim_current();
    if (!s) return NL_NOT_INITIALIZED;
    if (!out || size <= 0) return NL_INVALID_ARGS;
    SimCounters c;
    uint64_t *dst = (uint64_t *)&c;
    for (size_t i = 0; i < sizeof(SimCounters) / sizeof(uint64_t); i++) dst[i] = atomic_load(&s->n[i]);
    memcpy(out, &c, (size_t)size < sizeof(c) ? (size_t)size : sizeof(c));
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimWaitReplayDone(int timeout_ms) {
    int64_t until = qt_monotonic_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        sim_session *s = sim_current();
        if (!s) return NL_NOT_INITIALIZED;
        if (atomic_load(&s->replay_done)) return NL_OK;
        if (qt_monotonic_ns() >= until) return NL_WAITING_SERVER;
        qt_sleep_ns(1000000);
    }
}

/* ------------------------------------------------------------------------ */
/* Sim*: orders (latency, early callbacks, rejects, fees, seed)            */

EXPORT int QT_PROFITDLL_CALL SimSetOrderLatencyUs(int us) {
    if (us < 0 || us > 60000000) return NL_INVALID_ARGS;
    sim_mutex_lock(&g_config_lock);
    g_config.order_latency_us = us;
    sim_mutex_unlock(&g_config_lock);
    sim_session *s = sim_current();
    if (s) {
        sim_mutex_lock(&s->lock);
        if (s->orders && !atomic_load(&s->restoring)) { /* during a restore: the next login only */
            sim_command c = {.kind = SIM_COMMAND_LATENCY, .u.latency_ns = (int64_t)us * 1000};
            sim_command_exec(s->orders, &c);
            sim_state_command(s, &c, 0, NL_OK);
        }
        sim_mutex_unlock(&s->lock);
    }
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetEarlyOrderCallback(double probability) {
    if (!(probability >= 0 && probability <= 1)) return NL_INVALID_ARGS;
    sim_mutex_lock(&g_config_lock);
    g_config.early_callback_probability = probability;
    sim_mutex_unlock(&g_config_lock);
    sim_session *s = sim_current();
    if (s) {
        sim_mutex_lock(&s->lock);
        s->early_probability = probability;
        sim_mutex_unlock(&s->lock);
    }
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimRejectOrders(int count, double probability, const char *reason) {
    uint16_t check[SIM_REASON_LEN];
    if (count < 0 || !(probability >= 0 && probability <= 1)) return NL_INVALID_ARGS;
    if (reason && (strlen(reason) >= SIM_REASON_LEN || sim_utf8_to_u16(reason, check, SIM_REASON_LEN) < 0))
        return NL_INVALID_ARGS;
    sim_mutex_lock(&g_config_lock);
    g_config.reject_count = count;
    g_config.reject_probability = probability;
    snprintf(g_config.reject_reason, sizeof(g_config.reject_reason), "%s", reason ? reason : "");
    sim_mutex_unlock(&g_config_lock);
    sim_session *s = sim_current();
    if (s) {
        sim_mutex_lock(&s->lock);
        if (s->orders && !atomic_load(&s->restoring)) { /* during a restore: the next login only */
            sim_command c = {.kind = SIM_COMMAND_REJECTS};
            c.u.rejects.count = count;
            c.u.rejects.probability = probability;
            snprintf(c.u.rejects.reason, sizeof(c.u.rejects.reason), "%s", reason ? reason : "");
            sim_command_exec(s->orders, &c);
            sim_state_command(s, &c, 0, NL_OK);
        }
        sim_mutex_unlock(&s->lock);
    }
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetOrderFees(double brl_per_contract) {
    if (!isfinite(brl_per_contract)) return NL_INVALID_ARGS;
    sim_mutex_lock(&g_config_lock);
    g_config.fee_per_contract = brl_per_contract < 0 ? -1.0 : brl_per_contract;
    sim_mutex_unlock(&g_config_lock);
    return NL_OK;
}

EXPORT int QT_PROFITDLL_CALL SimSetSeed(uint64_t seed) {
    sim_mutex_lock(&g_config_lock);
    g_config.seed = seed;
    sim_mutex_unlock(&g_config_lock);
    return NL_OK;
}
