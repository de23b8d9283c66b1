/* libprofitdll_sim: a stand-in for Nelogica's ProfitDLL64.dll that replays
 * our event logs through the DLL's own exports and callbacks: one log, or
 * several at once (one ticker each, merged by exchange time).
 *
 * It exports the DLL's functions under the DLL's names with the DLL's ABI
 * (qt_profitdll.h), so a client written for the real DLL loads it unchanged.
 * Its own configuration and fault injection are the Sim* functions below,
 * or, for an unmodified client, environment variables read at
 * DLLInitializeLogin / DLLInitializeMarketLogin:
 *
 *   QT_SIM_LOG          event log to replay (UTF-8 path; further logs: SimAddReplayLog)
 *   QT_SIM_SPEED        0 = as fast as the callbacks return, 1 = real time, N = N x
 *   QT_SIM_TICKER       name the (first) log is served under, "TICKER" or
 *                       "TICKER:EXCHANGE" (default: the log's instrument, "F")
 *   QT_SIM_UTC_OFFSET   minutes east of UTC of the dates the DLL prints (default
 *                       -180: Sao Paulo, which has had no daylight saving since 2019)
 *   QT_SIM_PHASES       intraday phase schedule, e.g. "11:30=4,11:35=0,15:00=2,15:10=0"
 *   QT_SIM_BOOK_PACKET  levels per full-book packet (default 32)
 *   QT_SIM_STATE_FILE   the broker state file (SimSetStateFile)
 *
 * Everything a Sim* setter changes applies at the next DLLInitialize*;
 * SimSetSpeed, SimSetCallbackDelayUs, SimSetOrderLatencyUs,
 * SimSetEarlyOrderCallback and SimRejectOrders also apply live.
 * Every function returns an NResult (NL_OK = 0). */
#ifndef PROFITDLL_SIM_H
#define PROFITDLL_SIM_H

#include <stdint.h>

#include "profitdll/qt_profitdll.h"

#define SIM_API QT_PROFITDLL_EXPORT

/* Configuration */
/* The log to replay (NULL: none); it also removes the logs SimAddReplayLog
 * added.  Served under SimSetTicker's name (default: the log's instrument). */
SIM_API int QT_PROFITDLL_CALL SimSetReplayLog(const char *path_utf8);
/* One more log replayed in the same session, served under its own ticker
 * (NULL or "": the log's instrument) and exchange (NULL or "": "F"): the
 * logs are merged by exchange time and each ticker gets its log's records
 * through the same callbacks (e.g. WDO and WIN at once).  At most 8 logs;
 * SimSetReplayLog first.  Two logs under one ticker fail the login's
 * market-data connection (SimGetLastError says why).  The order engine
 * trades the first log's instrument. */
SIM_API int QT_PROFITDLL_CALL SimAddReplayLog(const char *path_utf8, const char *ticker, const char *exchange);
SIM_API int QT_PROFITDLL_CALL SimSetSpeed(double speed);              /* >= 0 */
SIM_API int QT_PROFITDLL_CALL SimSetTicker(const char *ticker, const char *exchange);
SIM_API int QT_PROFITDLL_CALL SimSetUtcOffsetMinutes(int minutes);
SIM_API int QT_PROFITDLL_CALL SimSetContractMultiplier(double brl_per_point); /* 0: by root (WDO 10, WIN 0.2) */
SIM_API int QT_PROFITDLL_CALL SimSetBookPacketLevels(int levels);             /* 1..100000 */
/* At speed > 0, the longest wall-clock pause between two records (a night
 * between sessions is not waited out).  Default 2000 ms. */
SIM_API int QT_PROFITDLL_CALL SimSetMaxGapMs(int ms);
/* 1 (default): the replay starts at the first subscription to the served
 * ticker.  0: it starts at SimStartReplay(), so a test can subscribe first. */
SIM_API int QT_PROFITDLL_CALL SimSetAutoStart(int on);
SIM_API int QT_PROFITDLL_CALL SimStartReplay(void);
/* Make the next login answer this login result (QT_PROFITDLL_LOGIN_*): 0 logs in. */
SIM_API int QT_PROFITDLL_CALL SimSetLoginResult(int result);
SIM_API int QT_PROFITDLL_CALL SimSetAccount(int broker_id, const char *account_id, const char *sub_account_id,
                                       const char *broker_name, const char *owner_name);
/* "HH:MM=state,..." local times of synthesized ticker states inside each
 * session (e.g. an intraday auction 4 and back to 0, a halt 2 and back).
 * NULL or "" clears.  See sim_replay.c for how phases are synthesized. */
SIM_API int QT_PROFITDLL_CALL SimSetPhaseSchedule(const char *spec);
/* Synthesized daily price limits: reference price +- percent (default 10),
 * rounded inwards to whole ticks of the log (limits are prices). */
SIM_API int QT_PROFITDLL_CALL SimSetDailyLimitPercent(double percent);

/* Fault injection (asynchronous: acted on by the connector thread) */
/* Drop the market-data connection for `ms` of replay time (wall time while
 * nothing replays): state (2,0), every market record of that span is lost to
 * the client, then (2,1), (2,4) and fresh full books for subscribed books. */
SIM_API int QT_PROFITDLL_CALL SimDropMarketData(int ms);
/* Sleep this long before every market-data callback (0 = off). */
SIM_API int QT_PROFITDLL_CALL SimSetCallbackDelayUs(int us);
/* Stall the connector thread once for `ms`: data queues up, then bursts. */
SIM_API int QT_PROFITDLL_CALL SimStallCallbacks(int ms);
/* Send one malformed event for the (first) served ticker (SIM_MALFORMED_*). */
SIM_API int QT_PROFITDLL_CALL SimInjectMalformed(int kind);
/* Send a ticker state now (QT_PROFITDLL_TS_*) for every served ticker, e.g. a halt. */
SIM_API int QT_PROFITDLL_CALL SimInjectPhase(int state);

/* Orders (a routing login, DLLInitializeLogin): every order export, V2 and
 * legacy, goes to one matching engine that fills orders against the
 * replayed book and trades (sim_matching.h: queue model, phases, limits;
 * sim_orders_match.c: what GetOrderDetails and GetPositionV2 report). */
/* Latency of an order, change or cancel to the exchange, in market (replay)
 * time; default 5000 us.  Live: applies to what is sent from then on. */
SIM_API int QT_PROFITDLL_CALL SimSetOrderLatencyUs(int us); /* 0..60000000 */
/* With this probability (0..1, default 0) an order request (SendOrder and
 * the legacy Send*Order, change, cancel, cancel-all, zero position) returns
 * only after the connector thread has fired the order callbacks it caused,
 * as the real DLL may: the client then sees a callback for a local id
 * SendOrder has not returned yet.  The wait gives up after 1 s (the
 * connector thread may be held in a callback of the client's). */
SIM_API int QT_PROFITDLL_CALL SimSetEarlyOrderCallback(double probability);
/* Fault injection: reject the next `count` new orders, then each later one
 * with `probability` (0..1), with the text `reason` (UTF-8, under 64 bytes;
 * NULL or "": a default text).  (0, 0, NULL) turns it off.  Applies to the
 * session running now and to each later login (starting with the full
 * count). */
SIM_API int QT_PROFITDLL_CALL SimRejectOrders(int count, double probability, const char *reason);
/* Fees, BRL per contract per fill.  < 0 (default): B3's fee approximations
 * of sim_matching.c for WDO and WIN, 0 for other instruments. */
SIM_API int QT_PROFITDLL_CALL SimSetOrderFees(double brl_per_contract);
/* Seed of the random choices (early callbacks, random rejections). */
SIM_API int QT_PROFITDLL_CALL SimSetSeed(uint64_t seed);

/* Broker state that survives the client process (a kill -9), as a real
 * broker's does: the file (UTF-8 path; NULL or "": none) a routing login
 * (DLLInitializeLogin) writes its order commands to and restores them from.
 * Set before the login.  Format and contract: sim_state_file.h.
 * - Recording: a header identifying the replay (each log's path, size and
 *   CRC-32C of its first and last 64 KiB, tickers, account, order latency,
 *   seed, fees, fault injection, multiplier, limits, UTC offset, phase
 *   schedule; not the speed), then one line per order command the exports
 *   accept (SendOrder V0/V1 and the legacy Send*Order, change, cancel,
 *   cancel-all / cancel by asset, zero position, and SimSetOrderLatencyUs /
 *   SimRejectOrders during the session) with its exact parameters, the
 *   market time it ran at and the replay position it reached the engine at;
 *   a "reached" line with the replay position before each order callback
 *   fires (unless the file's last line already names that position); a line when the paced clock (speed > 0) runs commands between
 *   two records; a line when SimInjectPhase reaches the engine.  The replay position is (records taken from the logs,
 *   market events given to the order engine): records share timestamps, so
 *   a time would not place a command.  Every line is one unbuffered
 *   write(2) / WriteFile made before the request returns and before any
 *   callback it causes: the OS page cache keeps it when the process is
 *   killed, so nothing is fsync'ed (a power cut may lose the tail).
 * - Restoring: at a login with a file that matches the configured replay,
 *   the simulator replays the logs from the start WITHOUT market-data or
 *   order callbacks, feeding the matching engine exactly as a live replay
 *   does and running each recorded command at its recorded position and
 *   market time, up to the last position the file records; the engine is
 *   deterministic, so the orders, local ids, ClOrdIDs (the file keeps the
 *   first session's ClOrdID prefix), event ids, fills, fees and positions
 *   are those the killed session had.  Then the session goes on live from
 *   there (the replay resumes at the first subscription or SimStartReplay,
 *   as usual: market time does not run while no process is logged in) and
 *   keeps appending.  The fast-forward costs a replay without callbacks
 *   (about 0.2 s for a synthetic day of 421k records on a loaded 2-core box).  GetOrderDetails (by local id, or by
 *   ClOrdID with LocalOrderID 0 or -1), EnumerateAllOrders, GetPositionV2
 *   and SimGetPositionStats answer for the restored orders.
 * - A file written for another replay or configuration, a file that is not
 *   a state file, or a damaged line before its end fails DLLInitializeLogin
 *   with NL_INVALID_ARGS and a one-line SimGetLastError naming the cause; it
 *   is never overwritten.  A torn last line (killed mid-write) is ignored
 *   and cut off; a torn header starts a new file.  Should the replay not
 *   reproduce the file (it cannot, unless the simulator changed), routing
 *   goes to broker-disconnected (state 3) and SimGetLastError says why.
 * - SimSetOrderLatencyUs and SimRejectOrders called while a restore runs
 *   (from DLLInitializeLogin to the broker-connected state) do not reach
 *   that session's engine (it is rebuilding what the file says); they apply
 *   from the next login, whose configuration then differs from the file's.
 * - One session at a time: the file is locked while a session runs (the OS
 *   drops the lock when the process dies); a login on a file another
 *   process holds is refused.  With a state file set, a replay log that
 *   cannot be read fails the login itself (the file must name the log).
 * - A market-data login (DLLInitializeMarketLogin) has no broker: it
 *   neither reads nor writes the file. */
SIM_API int QT_PROFITDLL_CALL SimSetStateFile(const char *path_utf8);

/* What the DLL's position record lacks, for the (first) served instrument and the
 * simulated account: consolidated, since the login. */
typedef struct SimPositionStats {
    int64_t net_qty;      /* > 0 long, < 0 short */
    double average_price; /* of the open position; 0 when flat */
    double realized_pnl;  /* BRL, before fees (average-cost method) */
    double fees;          /* BRL */
    int64_t fills;
} SimPositionStats;
/* NL_OK, or NL_NO_POSITION before the first fill.  Copies min(size, sizeof). */
SIM_API int QT_PROFITDLL_CALL SimGetPositionStats(SimPositionStats *out, int size);
/* BRL charged for one order's fills so far. */
SIM_API int QT_PROFITDLL_CALL SimGetOrderFees(int64_t local_id, double *fees);

enum sim_malformed_kind {
    SIM_MALFORMED_NAN_PRICE = 1,     /* a trade whose price is NaN */
    SIM_MALFORMED_NEGATIVE_QTY = 2,  /* a trade of quantity -5 */
    SIM_MALFORMED_BOOK_POSITION = 3, /* a price-book edit at a position past the side's end */
};

/* Observation */
typedef struct SimCounters {
    uint64_t records_replayed;        /* log records the replay has processed */
    uint64_t records_skipped;         /* not replayable: history-flagged trades, gaps, raw, unknown */
    uint64_t records_invalid;         /* flagged invalid, or refused by the book model */
    uint64_t trades_delivered;        /* live trades given to the client (V1 and/or V2 count once) */
    uint64_t book_actions_delivered;  /* incremental price-book actions (add/edit/delete) */
    uint64_t full_book_packets;       /* price-book full-book callbacks */
    uint64_t offer_book_delivered;
    uint64_t tiny_book_delivered;
    uint64_t daily_delivered;
    uint64_t phases_delivered;
    uint64_t history_trades_delivered;
    uint64_t drops;                   /* market-data drops simulated */
    uint64_t records_lost_in_drops;   /* market records the client missed */
    uint64_t trades_lost_in_drops;
    uint64_t malformed_injected;
    uint64_t arrays_allocated;        /* book arrays handed to callbacks */
    uint64_t arrays_freed;            /* ... returned through FreePointer */
    uint64_t free_pointer_errors;     /* FreePointer of a pointer the DLL never gave */
    uint64_t forbidden_calls;         /* request functions called inside a callback */
    uint64_t order_notifications;     /* order callbacks fired */
    uint64_t replay_done;             /* 1 once the whole log has been replayed */
    uint64_t state_callbacks;
    uint64_t early_order_callbacks;   /* requests that returned after their order callbacks */
    uint64_t early_callback_timeouts; /* ... that gave up waiting (connector thread busy) */
    uint64_t state_entries_written;   /* lines appended to the state file (SimSetStateFile) */
    uint64_t state_entries_restored;  /* its entries replayed by the fast-forward at login */
    uint64_t state_write_errors;      /* appends that failed (SimGetLastError says why) */
    uint64_t state_restore_errors;    /* fast-forwards that did not reproduce the file */
} SimCounters;

/* Copies min(size, sizeof(SimCounters)) bytes. */
SIM_API int QT_PROFITDLL_CALL SimGetCounters(SimCounters *out, int size);
/* NL_OK once the log has been replayed to its end and its callbacks have
 * returned; NL_WAITING_SERVER when timeout_ms passes first; NL_NOT_INITIALIZED. */
SIM_API int QT_PROFITDLL_CALL SimWaitReplayDone(int timeout_ms);
/* The last configuration or log error as UTF-8 text ("" if none). */
SIM_API int QT_PROFITDLL_CALL SimGetLastError(char *buf, int size);

#endif
