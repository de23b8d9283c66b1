/* One replayed event log served under one ticker: what the connector thread
 * (sim_replay.c) hands each of the log's records to, and everything that
 * turns a record into the DLL's callbacks for that ticker (sim_feed.c):
 * trades, positional price-book actions, full books, offer book, and the
 * tiny book, daily and phases synthesized when the log has none.
 *
 * A session replays one or more logs at once (SimSetReplayLog,
 * SimAddReplayLog), one feed per log, each under its own ticker; the
 * connector merges them by exchange time.  What the feeds share, the market
 * data connection, is a sim_connector: pacing, the callback delay, a
 * market-data drop and the client's subscriptions.  Feed 0 is the order
 * engine's instrument: only its records reach the matching engine.
 *
 * Everything here runs on the connector thread. */
#ifndef SIM_FEED_H
#define SIM_FEED_H

#include <stdint.h>

#include "market/qt_events.h"
#include "replay/sim_book.h"
#include "sim_session.h"
#include "sim_log.h"

#define SIM_MAX_SUBS 64

typedef struct sim_sub {
    char ticker[SIM_ID_LEN];
    char exchange[SIM_EXCH_LEN];
    unsigned kinds; /* sim_sub_kind bits */
} sim_sub;

/* The market-data connection every feed of the session shares. */
typedef struct sim_connector {
    sim_session *s;
    int started; /* the replay runs (SimStartReplay or the first subscription) */
    sim_sub subs[SIM_MAX_SUBS];
    int n_subs;
    double speed;
    int64_t anchor_wall, anchor_log, prev_log, max_gap_ns;
    int anchored;
    int delay_us;
    int utc_off, packet_levels;
    int dropping;
    int64_t drop_until_log, drop_until_wall;
} sim_connector;

typedef struct sim_daily {
    int have; /* a trade or a recorded daily this session */
    double open, high, low, close, volume, adjust, max_limit, min_limit, vol_buyer, vol_seller;
    int64_t qty, trades, open_contracts, qty_buyer, qty_seller, trades_buyer, trades_seller;
    double prev_close; /* last session's close (0 if none) */
    int64_t time_ns;
} sim_daily;

typedef struct sim_feed {
    sim_connector *c;
    sim_session *s;
    int index; /* 0: the order engine's instrument */
    const sim_log *log;
    const int32_t *agent_map; /* the log's agent id -> the session's (GetAgentNameByID) */
    sim_log_cursor cur;
    int cursor_open, finished;
    sim_book book;

    char ticker[SIM_ID_LEN], exchange[SIM_EXCH_LEN];
    uint16_t wticker[SIM_ID_LEN], wexch[SIM_EXCH_LEN];
    double price_unit, qty_scale, multiplier;
    int64_t tick_units; /* price units per tick (>= 1) */
    int synth_phases, synth_daily, synth_tiny;
    unsigned served; /* sim_sub_kind bits subscribed on this ticker */

    int64_t clock; /* exchange time of this log's last record, UTC ns */

    int in_session, session_open, phase;
    int sched_fired[SIM_MAX_SCHEDULE];

    sim_daily daily;
    int daily_pending;

    int tiny_have[2];
    int64_t tiny_price[2], tiny_qty[2];
} sim_feed;

/* Set up a feed of `log` served under ticker:exchange and open its cursor.
 * 0, or -1 with the error set (sim_set_error). */
int sim_feed_open(sim_feed *f, sim_connector *c, int index, const sim_log *log, const int32_t *agent_map,
                  const char *ticker, const char *exchange);
void sim_feed_close(sim_feed *f);

/* The next record's exchange time for the merge (its own, or the feed's
 * clock when it has none); 0 and *next NULL at the end of the log. */
int sim_feed_peek(sim_feed *f, const qt_event **next, int64_t *t);
/* Take the next record and deliver what it means. */
void sim_feed_step(sim_feed *f);
/* End of the log: the session closes (phase, daily). */
void sim_feed_finish(sim_feed *f);

/* Subscriptions of this ticker added (what a new subscription gets at once:
 * the full book, phase, daily, tiny book) or removed. */
void sim_feed_subscribe(sim_feed *f, unsigned kinds);
void sim_feed_unsubscribe(sim_feed *f, unsigned kinds);
/* After a reconnection: full book and ticker state of the subscriptions. */
void sim_feed_resume(sim_feed *f);

/* GetHistoryTrades of this ticker: trades of the replayed part in [a, b]. */
void sim_feed_history(sim_feed *f, int64_t start_ns, int64_t end_ns);
void sim_feed_inject_malformed(sim_feed *f, int kind);
void sim_feed_set_phase(sim_feed *f, int state);

/* Market callbacks are delivered only while the feed is up. */
int sim_connector_live(const sim_connector *c);
void sim_state_callback(sim_session *s, int type, int result);

#endif
