/* Shared state of the simulator's modules: configuration, the session
 * created at login (connector thread, callbacks, lock, queues) and the
 * helpers the exports and the replay thread both use.  Not installed. */
#ifndef SIM_SESSION_H
#define SIM_SESSION_H

#include <stdatomic.h>
#include <stdint.h>

#include "matching/sim_orders.h"
#include "platform/qt_atomic.h"
#include "profitdll/qt_profitdll.h"
#include "profitdll_sim.h"
#include "sim_log.h"
#include "sim_state_file.h"

/* ---- a small futex mutex over qt_wait_u32 / qt_wake_all_u32 ---- */
typedef qt_atomic_u32 sim_mutex;
void sim_mutex_lock(sim_mutex *m);
void sim_mutex_unlock(sim_mutex *m);

/* ---- configuration (Sim* setters, environment) ---- */
#define SIM_MAX_SCHEDULE 32
#define SIM_PATH_LEN 4096
#define SIM_MAX_LOGS 8 /* logs replayed at once, one ticker each */

typedef struct sim_phase_entry {
    int minute_of_day; /* local */
    int state;         /* QT_PROFITDLL_TS_* */
} sim_phase_entry;

/* A further log of SimAddReplayLog, served under its own ticker. */
typedef struct sim_log_source {
    char path[SIM_PATH_LEN];
    char ticker[SIM_ID_LEN];     /* "": the log's instrument */
    char exchange[SIM_EXCH_LEN]; /* "": "F" */
} sim_log_source;

typedef struct sim_config {
    char log_path[SIM_PATH_LEN]; /* the first log (SimSetReplayLog), served under ticker */
    int log_set;
    sim_log_source more_logs[SIM_MAX_LOGS - 1];
    int n_more_logs;
    double speed;
    int speed_set;
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
    int ticker_set;
    int utc_offset_min;
    int utc_offset_set;
    double multiplier; /* 0: by root */
    int book_packet_levels;
    int packet_set;
    int max_gap_ms;
    int auto_start;
    int login_result;
    sim_account account;
    char broker_name[SIM_ID_LEN];
    char owner_name[SIM_ID_LEN];
    sim_phase_entry schedule[SIM_MAX_SCHEDULE];
    int n_schedule;
    int schedule_set;
    double daily_limit_pct;
    int callback_delay_us;
    /* orders (SimSetOrderLatencyUs, SimSetEarlyOrderCallback, SimRejectOrders,
     * SimSetOrderFees, SimSetSeed) */
    int64_t order_latency_us;
    double early_callback_probability;
    int64_t reject_count;
    double reject_probability;
    char reject_reason[SIM_REASON_LEN];
    double fee_per_contract; /* < 0: by root */
    uint64_t seed;
    char state_path[SIM_PATH_LEN]; /* SimSetStateFile / QT_SIM_STATE_FILE; "" none */
    int state_set;
} sim_config;

extern sim_config g_config;
extern sim_mutex g_config_lock;
void sim_set_error(const char *fmt, ...);
int sim_parse_schedule(const char *spec, sim_phase_entry *out, int *n);

/* ---- callbacks: each slot atomic, replaced by Set*Callback at any time ---- */
typedef struct sim_callbacks {
    _Atomic(TStateCallback) state;
    _Atomic(THistoryCallback) history;
    _Atomic(THistoryCallbackV2) history_v2;
    _Atomic(TOrderChangeCallback) order_change;
    _Atomic(TOrderChangeCallbackV2) order_change_v2;
    _Atomic(TAccountCallback) account;
    _Atomic(TNewTradeCallback) trade;
    _Atomic(TConnectorTradeCallback) trade_v2;
    _Atomic(TNewDailyCallback) daily;
    _Atomic(TPriceBookCallback) price_book;
    _Atomic(TPriceBookCallbackV2) price_book_v2;
    _Atomic(TOfferBookCallback) offer_book;
    _Atomic(TOfferBookCallbackV2) offer_book_v2;
    _Atomic(THistoryTradeCallback) history_trade;
    _Atomic(TConnectorTradeCallback) history_trade_v2;
    _Atomic(TProgressCallback) progress;
    _Atomic(TTinyBookCallback) tiny_book;
    _Atomic(TChangeStateTicker) change_state_ticker;
    _Atomic(TChangeCotation) change_cotation;
    _Atomic(TTheoreticalPriceCallback) theoretical_price;
    _Atomic(TInvalidTickerCallback) invalid_ticker;
    _Atomic(TAssetListCallback) asset_list;
    _Atomic(TAssetListInfoCallback) asset_list_info;
    _Atomic(TAssetListInfoCallbackV2) asset_list_info_v2;
    _Atomic(TAdjustHistoryCallback) adjust_history;
    _Atomic(TAdjustHistoryCallbackV2) adjust_history_v2;
    _Atomic(TConnectorPriceDepthCallback) price_depth;
    _Atomic(TConnectorOrderCallback) order;
    _Atomic(TConnectorAccountCallback) order_history;
    _Atomic(TConnectorAssetPositionListCallback) asset_position_list;
    _Atomic(TConnectorBrokerAccountListCallback) broker_account_list;
    _Atomic(TConnectorBrokerSubAccountListCallback) broker_sub_account_list;
} sim_callbacks;

#define SIM_CB(s, name) atomic_load_explicit(&(s)->cb.name, memory_order_acquire)

/* ---- commands from client threads to the connector thread ---- */
enum sim_cmd_kind {
    SIM_CMD_SUBSCRIBE = 1,
    SIM_CMD_UNSUBSCRIBE,
    SIM_CMD_HISTORY,
    SIM_CMD_START,
    SIM_CMD_DROP,
    SIM_CMD_STALL,
    SIM_CMD_MALFORMED,
    SIM_CMD_PHASE,
    SIM_CMD_SPEED,
    SIM_CMD_DELAY,
    SIM_CMD_ACCOUNTS,
    SIM_CMD_ORDER_HISTORY, /* SetOrderHistoryCallback / GetOrders: report the orders */
};

enum sim_sub_kind {
    SIM_SUB_TICKER = 1,
    SIM_SUB_PRICE_BOOK = 2,
    SIM_SUB_OFFER_BOOK = 4,
    SIM_SUB_ADJUST = 8,
    SIM_SUB_PRICE_DEPTH = 16,
};

typedef struct sim_cmd {
    int kind;
    int sub; /* sim_sub_kind */
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
    int64_t a, b; /* history start/end ns, drop/stall ms, malformed kind, phase ... */
    double x;     /* speed */
} sim_cmd;

#define SIM_CMD_CAP 1024
#define SIM_NOTE_CAP 65536

typedef struct sim_alloc_set {
    void **slots; /* open addressing; NULL empty, (void*)1 tombstone */
    size_t cap, used;
} sim_alloc_set;

/* ---- the session: from DLLInitialize* to DLLFinalize ---- */
typedef struct sim_session {
    int routing; /* DLLInitializeLogin (1) or DLLInitializeMarketLogin (0) */
    sim_config cfg; /* snapshot taken at login */
    sim_callbacks cb;

    qt_thread thread;
    _Atomic uint64_t thread_tid;
    qt_atomic_u32 wake; /* bumped on every command / notification */
    atomic_int stop;
    atomic_int finalizing; /* DLLFinalize under way: the session serves its last callbacks */
    atomic_int logged_in;    /* login result 0 delivered */
    atomic_int market_ready; /* (2,4) delivered */
    atomic_int routing_ready;

    /* guarded by lock */
    sim_mutex lock;
    sim_cmd cmds[SIM_CMD_CAP];
    uint32_t cmd_head, cmd_n;
    atomic_uint cmd_pending;
    int64_t notes[SIM_NOTE_CAP];
    uint32_t note_head, note_n;
    uint64_t notes_overflow;
    uint64_t notes_queued; /* notifications queued so far */
    sim_orders *orders; /* NULL until the broker is connected (routing login) */
    double early_probability; /* SimSetEarlyOrderCallback */
    uint64_t rng;             /* its draws */

    /* notifications the connector thread has handled (fired or found stale),
     * and a futex word bumped with each, for requests that wait for their
     * callbacks (SimSetEarlyOrderCallback) */
    _Atomic uint64_t notes_done;
    qt_atomic_u32 notes_gen;
    sim_alloc_set allocs;

    /* replay clock, read by GetServerClock / the order engine */
    _Atomic int64_t clock_ns;
    /* exchange time of what the connector thread delivers now (its log's
     * time, which with several logs may trail clock_ns): GetServerClock
     * inside a callback */
    _Atomic int64_t callback_clock_ns;
    _Atomic int64_t clock_wall_ns;
    _Atomic uint64_t speed_bits; /* double */

    /* counters (atomics: read by SimGetCounters from any thread) */
    _Atomic uint64_t n[sizeof(SimCounters) / sizeof(uint64_t)];

    /* the logs (loaded by the connector thread at login, closed at
     * DLLFinalize): logs[0] is SimSetReplayLog's, served under cfg.ticker
     * and traded by the order engine; the agent dictionary is the union
     * of the logs' (agent_maps[i]: log i's ids -> these, NULL = same) */
    sim_log logs[SIM_MAX_LOGS];
    int n_logs;
    int have_log; /* n_logs > 0 */
    uint16_t **agents; /* names, owned by the logs */
    uint32_t n_agents;
    int32_t *agent_maps[SIM_MAX_LOGS];
    _Atomic int replay_done;

    /* the broker state file (sim_state_file.h): NULL without one */
    struct sim_state *state;
    /* replay position: log records taken (connector thread, read by any),
     * market events given to the order engine (orders lock) */
    _Atomic uint64_t replay_records;
    uint64_t engine_events;
    /* orders lock: the market time an order command runs at (0: the
     * replay clock), one value per command so it can be replayed exactly */
    int64_t command_now;
    /* fast-forward under way: the engine's changes queue no callbacks */
    atomic_int restoring;
    /* connector thread: a SimInjectPhase is being handed to the feeds (the
     * engine's phase event is recorded in the state file) */
    int injecting_phase;
} sim_session;

#define SIM_COUNT(s, field, k) \
    atomic_fetch_add_explicit(&(s)->n[offsetof(SimCounters, field) / sizeof(uint64_t)], (k), memory_order_relaxed)

extern _Atomic(sim_session *) g_session;

/* Exports' helpers */
sim_session *sim_current(void);
int sim_in_callback(const sim_session *s);
int sim_push_cmd(sim_session *s, const sim_cmd *c);
void sim_wake(sim_session *s);
/* Register a callback-array allocation / release one (FreePointer). */
void *sim_alloc_array(sim_session *s, size_t bytes);
int sim_free_array(sim_session *s, void *p);
void sim_free_all_arrays(sim_session *s);

/* The market clock: the exchange time of the record being replayed, run
 * on with the wall clock at the replay's speed between records (the
 * session's own UTC time before any record). */
int64_t sim_clock_now(sim_session *s);

/* The connector thread (sim_replay.c), started at DLLInitialize*.  The
 * replay and the order side (sim_order_callbacks.h, sim_order_exports.c)
 * share only this session state: the replay calls the order side's
 * callbacks, never the other way round. */
void sim_connector_main(void *arg);

/* The opaque trade handed to V2 trade callbacks (read with TranslateTrade);
 * its magic is cleared when the callback returns. */
#define SIM_TRADE_MAGIC 0x51545244u
typedef struct sim_trade_obj {
    uint32_t magic;
    TConnectorTrade t;
} sim_trade_obj;

/* Text of the served instrument */
typedef struct sim_ticker_names {
    uint16_t ticker[SIM_ID_LEN];
    uint16_t exchange[SIM_EXCH_LEN];
} sim_ticker_names;

#endif
